# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the batch modules share: collecting and validating lists of IDs before any API call, splitting
them into ZEGO's per-request limits, the codes that stop a batch, a worker pool, and per-item summaries."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import threading
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.zego.rtc.plugins.module_utils.base import check_id

# Codes that say the request can never succeed for any item (credentials, configuration, permission):
# a batch stops instead of sending the rest. An API that cannot be reached stops it too.
# Media service (ForbidRTCStream(s), ResumeRTCStream(s)): 3000 invalid App, 3003 no token configured,
# 30004 bad isTest, 30005 invalid AppId, 5003 and 40005 authentication failed.
FATAL_CODES = frozenset([9, 3000, 3003, 5003, 30004, 30005, 40005] + list(range(100000000, 100000018)))

# CloseRoom / KickoutUser CustomReason: at most this many UTF-8 bytes
CUSTOM_REASON_MAX = 256

NOT_ATTEMPTED = 'not attempted: an earlier request failed with an error that affects every request (%s)'


def stops_batch(exc_or_code):
    """True if a failure (a ZegoError, or a ZEGO code) means every further request would fail too."""
    if isinstance(exc_or_code, int):
        return exc_or_code in FATAL_CODES
    return bool(getattr(exc_or_code, 'unreachable', False)) or getattr(exc_or_code, 'code', None) in FATAL_CODES


def chunks(items, size):
    """``items`` in consecutive lists of at most ``size``."""
    items = list(items)
    return [items[i:i + size] for i in range(0, len(items), size)]


def located(loc, field, err):
    """check_id names the field first; put the location (``room_ids[2]``) in its place."""
    if loc is None:
        return err
    return loc + err[len(field):]


def collect_ids(field, values, option):
    """Validate a list option of IDs (``option``, e.g. room_ids) against ZEGO's ``field`` rules.

    Returns ``(distinct, duplicates, errors)``: the distinct valid IDs in input order, how many
    repeated an earlier one, and one message per bad element naming ``option[i]``."""
    distinct, seen, errors, duplicates = [], set(), [], 0
    for i, value in enumerate(values or []):
        loc = '%s[%d]' % (option, i)
        err = check_id(field, value) if value is not None else '%s must not be empty' % field
        if err:
            errors.append(located(loc, field, err))
            continue
        if value in seen:
            duplicates += 1
            continue
        seen.add(value)
        distinct.append(value)
    return distinct, duplicates, errors


def check_reason(value, name='custom_reason'):
    """An error message if a CustomReason is too long, else None."""
    if value is None:
        return None
    size = len(value.encode('utf-8'))
    if size > CUSTOM_REASON_MAX:
        return '%s is %d bytes long; ZEGO allows at most %d' % (name, size, CUSTOM_REASON_MAX)
    return None


def summarize(results, outcomes, **extra):
    """Counts of ``results`` by outcome: ``{total, <each outcome>: n, ...extra}``."""
    summary = dict((o, 0) for o in outcomes)
    summary['total'] = len(results)
    for res in results:
        summary[res['outcome']] = summary.get(res['outcome'], 0) + 1
    summary.update(extra)
    return summary


def failure_text(failed, total, noun, label):
    """``2 of 5 rooms failed: r1: ...; r2: ...`` with at most five named."""
    shown = '; '.join('%s: %s' % (label(r), r['message']) for r in failed[:5])
    more = ' (and %d more)' % (len(failed) - 5) if len(failed) > 5 else ''
    return '%d of %d %s failed: %s%s' % (len(failed), total, noun, shown, more)


class Abort(object):
    """Shared by the workers of one batch: holds the first failure that every further request would get."""

    def __init__(self):
        self.error = None
        self._lock = threading.Lock()

    def note(self, error, exc_or_code):
        """Remember ``error`` (a ZegoError.to_dict()) if ``exc_or_code`` stops the batch (stops_batch);
        True if this call stopped it (only the first of several workers does)."""
        if not stops_batch(exc_or_code):
            return False
        with self._lock:
            if self.error is not None:
                return False
            self.error = error
            return True

    def not_attempted(self):
        """The error dict for an item that was not sent because of the remembered failure."""
        msg = NOT_ATTEMPTED % self.error['message']
        return dict(self.error, message=msg, request_id=None)


def parallel_map(func, items, workers):
    """``[func(item) for item in items]`` on up to ``workers`` threads, results in input order."""
    items = list(items)
    workers = min(int(workers or 1), max(len(items), 1))
    if workers <= 1:
        return [func(item) for item in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(func, items))
