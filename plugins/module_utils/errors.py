# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a failure is told: ``ZegoError`` for a request that did not succeed (an item fails, or the batch stops),
``InternalError`` for an exception nobody foresaw (the task fails, naming what it was doing)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import traceback


class ZegoError(Exception):
    """A call that did not succeed. ``code`` is ZEGO's Code, or one of this module's negative codes."""

    def __init__(self, message, code=None, zego_message=None, request_id=None, action=None, http_status=None,
                 attempts=0, response_lost=False, retryable=True, unreachable=False):
        super(ZegoError, self).__init__(message)
        self.retryable = retryable
        # the last attempt never reached the API (connection refused, host not found, connect time-out,
        # TLS failure): every other request would fail the same way
        self.unreachable = unreachable
        self.attempts = attempts
        self.response_lost = response_lost
        self.message = message
        self.code = code
        self.zego_message = zego_message
        self.request_id = request_id
        self.action = action
        self.http_status = http_status

    def to_dict(self):
        return {
            'code': self.code,
            'message': self.message,
            'request_id': self.request_id,
            'action': self.action,
        }


def describe_exception(exc):
    """An exception in words, its type first: ``OverflowError: (34, 'Numerical result out of range')``,
    ``PermissionError: Permission denied: '/tmp/x'``."""
    name = type(exc).__name__
    if isinstance(exc, EnvironmentError) and getattr(exc, 'strerror', None):
        where = getattr(exc, 'filename', None)
        return '%s: %s%s' % (name, exc.strerror, ": '%s'" % where if where else '')
    args = getattr(exc, 'args', ())
    if len(args) == 2 and isinstance(args[0], int) and isinstance(args[1], str):  # (errno, text), as math raises
        return '%s: %s (errno %d)' % (name, args[1], args[0])
    text = ('%s' % (exc,)).strip()
    return '%s: %s' % (name, text) if text else name


class NotSent(ZegoError):
    """A request its caller withdrew when its slot came: the batch it belongs to stopped while it waited."""

    def __init__(self):
        super(NotSent, self).__init__('not sent: the batch stopped')


class InternalError(Exception):
    """An unexpected exception inside the collection, with what it was doing (``doing``) and the traceback
    of where it happened. Not a ZegoError: it fails the task, not one item."""

    def __init__(self, doing, exc):
        self.message = 'unexpected error %s: %s' % (doing, describe_exception(exc))
        super(InternalError, self).__init__(self.message)
        self.traceback = ''.join(traceback.format_exception(type(exc), exc, exc.__traceback__))
