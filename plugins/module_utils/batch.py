# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small helpers for modules that handle many IDs per task: distinct IDs in input order, chunks of the
size an action accepts, a worker pool, and the shared "stop the batch" flag."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from concurrent.futures import ThreadPoolExecutor

# Codes that say no request can succeed (credentials, AppID, permissions, service not enabled): stop
# sending the rest of a batch. Gateway codes 100000000-100000017, room-signalling 9, media-service
# 3000 (invalid App), 3003 (no token configured), 30004 (bad isTest), 30005 (invalid AppId), 40005 and
# 5003 (authentication failed).
FATAL_CODES = frozenset([9, 3000, 3003, 5003, 30004, 30005, 40005] + list(range(100000000, 100000018)))


def distinct(values):
    """(values without repeats, in first-seen order; how many repeats were dropped)."""
    seen = set()
    out = []
    for value in values:
        if value in seen:
            continue
        seen.add(value)
        out.append(value)
    return out, len(values) - len(out)


def chunks(values, size):
    """Consecutive slices of at most ``size`` items."""
    if size < 1:
        raise ValueError('size must be at least 1')
    return [values[i:i + size] for i in range(0, len(values), size)]


class Abort(object):
    """Shared by the workers of one batch: set once a request fails in a way every request would."""

    def __init__(self):
        self.error = None

    def note(self, error, code=None, unreachable=False):
        """Remember ``error`` (a ZegoError.to_dict()) if it affects every request."""
        if self.error is None and (unreachable or code in FATAL_CODES):
            self.error = error


def parallel_map(func, items, workers):
    """``[func(item) for item in items]`` on up to ``workers`` threads, results in input order."""
    workers = min(int(workers or 1), max(len(items), 1))
    if workers <= 1:
        return [func(item) for item in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(func, items))
