# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ZEGO's limits on the free text a request carries (a stream's title and extra info, a room message), and
the one check of them that the modules and the playbooks' input parsing share, run before any request."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

# UTF-8 bytes ZEGO accepts (zego-api.md sections 3.3 and 10)
TEXT_LIMITS = {
    'title': 127,        # AddStream StreamTitle
    'extra_info': 1024,  # AddStream ExtraInfo
    'message': 1024,     # SendBroadcastMessage / SendBarrageMessage / SendCustomCommand MessageContent
}


def check_text(field, value, name=None, required=False):
    """An error message if ``value`` is not a text ZEGO accepts as ``field`` (a key of TEXT_LIMITS), else None.

    ``name`` is how the message calls it (default ``field``, e.g. ``streams[2].title``); an empty text is
    refused when ``required``."""
    name = name or field
    if value is None:
        return '%s is required' % name if required else None
    if not isinstance(value, str):
        return '%s must be a text, got %s' % (name, type(value).__name__)
    if required and not value.strip():
        return '%s must not be empty' % name
    size = len(value.encode('utf-8'))
    if size > TEXT_LIMITS[field]:
        return '%s is %d bytes long; ZEGO allows at most %d' % (name, size, TEXT_LIMITS[field])
    return None
