# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pacing of ZEGO requests: one budget per (API host, AppID, action[, room]).

Two kinds of limiter, with the same promise (at most the rate in any sliding one-second window,
paced at RATE_SAFETY of it):

- ``RateLimiter``: the state lives in a ``flock``ed file of the private state directory (``state``), shared by
  every process of this machine that uses that directory (forks, tasks, ``delegate_to: localhost``). Without
  a shared store it is *adaptive*: a job holds whole shares of ZEGO's window, found from ZEGO's answers
  (slow start, edge probes, cuts), so jobs that cannot see each other's file share ZEGO's budget.
- ``RedisLimiter``: a sliding log in the shared store (``store``), one Lua script per attempt that checks and
  inserts atomically with the server's clock, shared by every process on every host that uses the
  same store (``rate_limit_backend``).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import bisect
import json
import math
import random
import threading
import time

from ansible_collections.zego.rtc.plugins.module_utils.state import state_file, update_locked_file


# Pace at this share of a documented limit, so requests that leave evenly spaced still fit in
# every sliding one-second window when they arrive a few milliseconds apart from their slot.
RATE_SAFETY = 0.98

# ZEGO counts the requests of an AppID in a sliding window of this many seconds.
ZEGO_WINDOW = 1.0

# Adaptive pacing (no shared store), see docs/performance.md "Several jobs on one AppID". A job holds a whole
# number of *shares* of ZEGO's window (the rate rounded up, e.g. 10 at 10/s): with k shares it sends at most k
# requests in any window of cap/rate seconds (a little longer than ZEGO's second), evenly spaced, so jobs that
# cannot see each other never put more than the sum of their shares into any second of ZEGO's, whatever their
# phases. Only that sum has to be found, from ZEGO's answers, by four rules:
# 1. slow start: a job starts at SLOW_START of the window and doubles its shares every ZEGO window up to all of
#    it; its first rate-limit answer ends slow start, keeping the shares ZEGO accepted of the job in the window
#    before the rejected request;
# 2. an edge probe (the job's next request sent PROBE_EARLY seconds before the oldest of its last k sends leaves
#    ZEGO's window) that ZEGO accepts adds a share, and the job probes again at once;
# 3. after a rejected probe (which keeps the share), the end of slow start or a share given back, the next probe
#    waits a random time proportional to the shares held, PROBE_WAIT to twice that per share: jobs with few
#    shares probe more often;
# 4. any other rate-limit answer gives one share back, at most once per give-back (answers to requests sent
#    before the last one are the same congestion); at one share or less, only if ZEGO accepted none of the
#    job's requests in its last span (one share is what a job needs to be paced at all).
# A probe costs one rejected request: if the window is full it alone is rejected, and the oldest send leaves
# right after it. Rule 4 evens shares out: another job's probe or a new job overlaps the sends of every job in
# proportion to its rate, so big jobs give back more often than small ones.
# Below one share the same rules halve and double the share instead of taking or adding one, down to
# SHARE_MIN, and a probe is the next request one window after the last: more jobs than shares, or ZEGO's test
# environment at 1/s, still find a pace ZEGO accepts (one share each would keep ZEGO's window full for good, as
# rejected requests count in it too).
SLOW_START = 0.5
PROBE_EARLY = 0.03
PROBE_WAIT = 2.0
SHARE_MIN = 1.0 / 32

# Two times closer than this are the same time: a wait shorter than this is not waited (float rounding of
# ``when + wait`` could otherwise keep a caller waiting for nothing), so every window rule holds to within it.
TIME_TOLERANCE = 1e-6

STORE_MAX_SLEEP = 1.0   # one wait for a store slot never exceeds this (then it asks again)


class PacingError(Exception):
    """Pacing cannot work as configured. ``message`` never holds a password."""

    def __init__(self, message):
        super(PacingError, self).__init__(message)
        self.message = message


class StoreLost(PacingError):
    """The shared store stopped answering (or refused a command) during a batch."""


def _now():
    return time.time()


def _finite(value):
    """``value`` as a float if it is a finite number of 0 or more (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        return None
    return number if math.isfinite(number) and number >= 0 else None


def _sleep(seconds):
    time.sleep(seconds)


def window_of(rate):
    """(cap, window seconds) of the sliding-log rule for ``rate`` per second: at most ``cap`` sends in
    any ``window`` (``cap`` = the rate rounded up, at most RateLimiter.LOG_CAP)."""
    cap = max(1, min(RateLimiter.LOG_CAP, int(math.ceil(rate - 1e-9))))
    return cap, cap / float(rate)


class RateLimiter(object):
    """At most ``rate`` calls in any one-second window (``rate`` < 1: one call per ``1/rate`` seconds).

    Two rules, kept in one small state protected by a lock:

    - slots: callers reserve evenly spaced slots and sleep until theirs;
    - send log: just before sending, a caller records the actual time; if the last ``k`` sends all fall within
      ``cap/rate`` seconds (``cap`` = the rate rounded up, at most LOG_CAP; ``k`` = ``cap``, or the job's
      shares when adaptive), it waits. This keeps the promise when a caller wakes up late from its slot (a
      loaded machine): a late send cannot crowd the sends that follow it on time.

    The state lives in a file locked with ``flock``, so every process on this controller that uses the
    same key (API host, AppID, action[, room]) shares one budget: parallel forks, several tasks, and
    ``delegate_to: localhost`` across many hosts. Without a file (``path=None``) the limiter is shared by
    the threads of one process only.

    ``adaptive=True``: the job holds shares of ZEGO's window, found by the four rules above (slow start, edge
    probes, give-backs). ``acquire()`` returns a ticket (the send time it recorded);
    the caller reports ZEGO's answer to that request with ``congestion(ticket)`` (a rate-limit answer) or
    ``accepted(ticket)`` (any other answer). That state is in the same file, so the forks of one job share it.
    """

    MAX_AHEAD = 3600.0  # a time further away than this is stale (the clock jumped back): start afresh
    LOG_CAP = 50        # sends remembered; beyond 50/s the window shrinks in proportion
    VERSION = 3

    def __init__(self, rate, path=None, clock=None, sleep=None, adaptive=False, rng=None, warn=None):
        if rate <= 0:
            raise ValueError('rate must be positive')
        self.rate = float(rate)
        self.interval = 1.0 / rate
        self.cap, self.window = window_of(rate)
        self.path = path
        self.adaptive = adaptive
        self.clock = clock or _now
        self.sleep = sleep or _sleep
        self.random = rng or random.Random()
        self._lock = threading.Lock()
        self._state = self._fresh()
        self.warn = warn or (lambda msg: None)
        self._warned = False
        # The longest gap the pacing itself puts between two sends of a job (one send per window at the
        # smallest share): a state left alone for longer describes a job that has ended, so it starts afresh.
        self.idle_limit = self.window / SHARE_MIN

    @classmethod
    def for_key(cls, rate, key, clock=None, sleep=None, adaptive=False, warn=None):
        return cls(rate, path=state_file('rate', key), clock=clock, sleep=sleep, adaptive=adaptive, warn=warn)

    # -- the shared state (JSON) -----------------------------------------------------------------------
    # t: when the state last changed; next: the next free slot; sends: the last send times; phase 0: slow
    # start (begun at ``start``, not yet if 0), 1: ``k`` shares; acc: the tickets of the last accepted requests
    # (rule 1's share, rule 4 at one share); probe: the send time of the edge probe waiting for its answer;
    # reserved: when a caller took the next probe; next_probe: when the next probe is due; changed: when the
    # share was last lowered (the end of slow start, or rule 4).
    _FIELDS = (('t', float), ('next', float), ('sends', list), ('phase', int), ('start', float), ('k', float),
               ('acc', list), ('probe', float), ('reserved', float), ('next_probe', float), ('changed', float))
    _COUNTS = ('phase', 'k')  # every other field holds times (seconds since the epoch)

    def _fresh(self):
        return {'t': 0.0, 'next': 0.0, 'sends': [], 'phase': 0 if self.adaptive else 1, 'start': 0.0,
                'k': float(self.cap), 'acc': [], 'probe': 0.0, 'reserved': 0.0, 'next_probe': 0.0, 'changed': 0.0}

    def _parse(self, raw, now):
        """(state, problem): the state in ``raw`` (a file's content), or a fresh one where ``raw`` is empty, was
        left alone longer than ``idle_limit`` (problem None), or cannot be used as it is (problem says why).

        Every value is checked before it is used: a number that is not finite, a time from before the epoch or
        more than MAX_AHEAD after the file's own ``t``, a ``t`` in the future (the clock stepped back) or a
        value of the wrong type makes the whole file start afresh, so no later arithmetic sees it."""
        if not raw.strip():
            return self._fresh(), None
        try:
            data = json.loads(raw.decode('ascii'))
        except (UnicodeDecodeError, ValueError):
            return self._fresh(), 'it is not a state this release can read (truncated or overwritten)'
        if not isinstance(data, dict) or data.get('v') != self.VERSION:
            return self._fresh(), 'it was written by another release of zego.rtc'
        state = {}
        for name, kind in self._FIELDS:
            if name not in data:
                return self._fresh(), 'its field %r is missing' % name
            value = data[name]
            values = value if kind is list else [value]
            if kind is list and not isinstance(value, list):
                return self._fresh(), 'its field %r is not a list' % name
            numbers = [_finite(v) for v in values[-(self.LOG_CAP + 2):]]
            if None in numbers:
                return self._fresh(), 'its field %r does not hold a finite number of 0 or more' % name
            state[name] = numbers if kind is list else kind(numbers[0])
        if state['t'] > now + ZEGO_WINDOW:
            return self._fresh(), 'it was last changed %.0f s in the future (the clock stepped back)' % (
                state['t'] - now)
        limit = state['t'] + self.MAX_AHEAD
        for name, kind in self._FIELDS:
            if name not in self._COUNTS and any(v > limit for v in (state[name] if kind is list else [state[name]])):
                return self._fresh(), 'its field %r lies more than %.0f s after its last change' % (name, self.MAX_AHEAD)
        if now - state['t'] > self.idle_limit:
            return self._fresh(), None  # the job it describes has ended
        if not self.adaptive or state['phase'] not in (0, 1):
            state['phase'] = 0 if self.adaptive else 1
        if not self.adaptive:
            state['k'] = float(self.cap)
        state['k'] = max(SHARE_MIN, min(float(self.cap), state['k']))
        return state, None

    def _format(self, state):
        data = dict(state, v=self.VERSION)
        return json.dumps(data, separators=(',', ':'), sort_keys=True, allow_nan=False).encode('ascii')

    def _bounded(self, state, now):
        """``state`` with every time within what a file may hold (0 to MAX_AHEAD after ``now``): an answer to a
        request sent before the clock stepped back carries a time from that clock, which is dropped here."""
        limit = now + self.MAX_AHEAD
        for name, kind in self._FIELDS:
            if name in self._COUNTS:
                continue
            if kind is list:
                state[name] = [v for v in state[name] if 0 <= v <= limit]
            elif not 0 <= state[name] <= limit:
                state[name] = 0.0
        return state

    def _problem(self, problem):
        """Say once per limiter that the state file could not be used as it was."""
        if problem and not self._warned:
            self._warned = True
            self.warn('the rate-limit state file %s could not be used as it was (%s): pacing for this AppID '
                      'and action starts afresh, nothing else is affected' % (self.path, problem))

    def _transact(self, change):
        """Run ``change(state) -> (result, new_state)`` under the lock; return the result. ``change`` may
        change the state in place."""
        if self.path is None:
            with self._lock:
                # the state of one process lives as long as the process and no one else writes it: nothing to check
                # but the times an answer from before a clock step may carry
                now = self.clock()
                result, state = change(self._state)
                state['t'] = now
                self._state = self._bounded(state, now)
            return result

        problems = []

        def apply(content):
            now = self.clock()  # under the lock: a caller that waited for it must not judge the file by an old time
            state, problem = self._parse(content, now)
            problems.append(problem)
            before = self._format(state)
            result, state = change(state)
            new = self._format(state)
            if new == before and content.strip() and problem is None:
                return result, None  # reads (most answers, the rate) write nothing
            state['t'] = now
            return result, self._format(self._bounded(state, now))
        result = update_locked_file(self.path, apply)
        self._problem(problems[0])
        return result

    # -- shares ----------------------------------------------------------------------------------------
    def _shares(self, state, when):
        """The shares of ZEGO's window this job uses at ``when`` (a float during slow start)."""
        if state['phase']:
            return state['k'] if self.adaptive else self.cap
        first = SLOW_START * self.cap
        if state['start'] <= 0:
            return first
        # the doublings that reach the full rate, and no more: growth stops at its bound for any gap
        doublings = min(max(0.0, when - state['start']) / ZEGO_WINDOW, math.log(self.cap / first, 2))
        return min(float(self.cap), first * 2 ** doublings)

    def _log_rule(self, state):
        """(n, span): at most ``n`` sends in any ``span`` seconds (``window``, or longer below one share)."""
        if not (self.adaptive and state['phase']):
            return self.cap, self.window
        k = state['k']
        return (int(k), self.window) if k >= 1 else (1, self.window / k)

    def _probe_due(self, state, when):
        return (self.adaptive and state['phase'] == 1 and not state['probe'] and state['k'] < self.cap
                and when >= state['next_probe'])

    def current_rate(self):
        """The rate this limiter paces at now (lower than ``rate`` in slow start and with fewer shares)."""
        now = self.clock()
        state = self._transact(lambda s: (s, s))
        return self.rate * self._shares(state, now) / self.cap

    def shares(self):
        """(shares held, of ``cap``): the part of ZEGO's window this job uses."""
        state = self._transact(lambda s: (s, s))
        return self._shares(state, self.clock()), self.cap

    def _probe_wait(self, k):
        """Rule 3: the wait before the next edge probe of a job that holds ``k`` shares."""
        return self.random.uniform(PROBE_WAIT, 2 * PROBE_WAIT) * max(1.0, k)

    def congestion(self, ticket):
        """ZEGO answered the request of ``ticket`` (what ``acquire`` returned) with a rate-limit code.

        Returns True if that lowered this job's share (False: not adaptive, a failed probe, the same
        congestion as the last give-back, or one share that still gets through)."""
        if not self.adaptive:
            return False
        now = self.clock()

        def change(state):
            if state['phase'] == 0:
                # rule 1: keep what ZEGO accepted of this job in the window before the rejection
                low = ticket - self.window
                k = float(max(1, min(self.cap, len([t for t in state['acc'] if low <= t < ticket]))))
                state.update(phase=1, k=k, changed=now, next_probe=now + self._probe_wait(k))
                return True, state
            if state['probe'] and abs(ticket - state['probe']) < TIME_TOLERANCE:
                # rule 3: the window is full; keep the share, probe again later
                state.update(probe=0.0, next_probe=now + self._probe_wait(state['k']))
                return False, state
            if ticket <= state['changed']:
                return False, state  # rule 4: sent before the last give-back, the same congestion
            k = state['k']
            span = self._log_rule(state)[1]
            if k <= 1 and any(ticket - span - TIME_TOLERANCE <= t < ticket for t in state['acc']):
                return False, state  # rule 4: the job's one share (or less) still got through
            k = float(k - 1) if k >= 2 else max(SHARE_MIN, k / 2.0)
            state.update(k=k, changed=now, next_probe=max(state['next_probe'], now + self._probe_wait(k)))
            return True, state
        return self._transact(change)

    def accepted(self, ticket):
        """ZEGO answered the request of ``ticket`` with anything but a rate-limit code."""
        if not self.adaptive:
            return
        now = self.clock()

        def change(state):
            state['acc'] = (state['acc'] + [ticket])[-(self.cap + 2):]
            if state['phase'] and state['probe'] and abs(ticket - state['probe']) < TIME_TOLERANCE:
                # rule 2: one share more (below one share, twice as much), and probe again
                k = state['k']
                state.update(probe=0.0, next_probe=now, k=min(float(self.cap), k + 1 if k >= 1 else k * 2))
            return None, state
        self._transact(change)

    # -- pacing ----------------------------------------------------------------------------------------
    def _reserve(self, state, now):
        """((slot, probe), state): probe is True for the one caller that tries the next edge probe."""
        if self.adaptive and state['phase'] == 0 and state['start'] <= 0:
            state['start'] = now
        if state['next'] > now + self.MAX_AHEAD:
            state.update(next=0.0, sends=[])
        # a caller that took the probe sends it within a window of its own sends (twice that: it may wake late);
        # one that never did (its process ended) does not hold the probe longer
        held = state['reserved'] > 0 and state['reserved'] - self.window <= now < state['reserved'] + 2 * self.window
        if self._probe_due(state, now) and not held:
            state['reserved'] = now
            return (now, True), state
        slot = max(now, state['next'])
        # the pace at the slot itself: slots reserved ahead during slow start are not held back by the lower
        # share of the moment they were reserved
        state['next'] = slot + self.window / self._shares(state, slot)
        return (slot, False), state

    def _record(self, state, when, probe=False):
        """((wait, probed), state): wait 0 when the caller may send at ``when`` (recorded; probed: as an edge
        probe), else how long to wait first."""
        sends = [t for t in state['sends'] if t <= when + self.MAX_AHEAD]
        limit, span = self._log_rule(state)
        if probe and not self._probe_due(state, when):
            probe = False
            state['reserved'] = 0.0
        recent = len(sends) - bisect.bisect_right(sends, when - span)
        edge = None
        if probe and state['k'] < 1 and sends:
            edge, last = sends[-1] + self.window, float('inf')  # below one share: one window after the last send
        elif probe and recent == limit:
            edge, last = sends[-limit] + ZEGO_WINDOW - PROBE_EARLY, sends[-limit] + ZEGO_WINDOW
        if edge is not None and when < last:
            if when < edge - TIME_TOLERANCE:
                return (edge - when, False), state
            state.update(probe=when, reserved=0.0, sends=(sends + [when])[-(self.cap + 1):])
            return (0.0, True), state
        if recent >= limit:
            wait = sends[-limit] + span - when
            if wait > TIME_TOLERANCE:
                return (wait, False), state
        if self.adaptive and state['phase'] and sends:
            # evenly spaced at the share (a send log filled faster in slow start would otherwise repeat its
            # bunches every window)
            wait = sends[-1] + self.window / state['k'] - when
            if wait > TIME_TOLERANCE:
                return (wait, False), state
        if probe:
            state['reserved'] = 0.0
        bisect.insort(sends, when)
        state['sends'] = sends[-(self.cap + 1):]
        return (0.0, False), state

    def acquire(self):
        """Block until this caller may send; return its ticket, which ``congestion``/``accepted`` take back:
        its slot (the send itself may be later, if the caller woke up late or the send log made it wait), or
        for an edge probe the send time recorded."""
        # the clock is read under the state's lock: a caller that waited for the lock reserves from the time it got
        # it, as the state it reads (perhaps just started afresh) is of that time
        slot, probe = self._transact(lambda state: self._reserve(state, self.clock()))
        wait = slot - self.clock()
        if wait > 0:
            self.sleep(wait)
        when = max(self.clock(), slot)
        while True:
            wait, probed = self._transact(lambda state: self._record(state, when, probe))
            if wait <= 0:
                return when if probed else slot
            self.sleep(wait)
            when = max(self.clock(), when + wait)


class RedisLimiter(object):
    """``rate`` per second for ``key`` in the shared store; if the store is lost, ``on_lost(exc)`` is told
    once per limiter and pacing continues with ``fallback()`` (a local limiter for the same key)."""

    adaptive = False

    def __init__(self, store, key, rate, fallback, on_lost, sleep=None, is_lost=None):
        self.store = store
        self.key = key
        self.rate = float(rate)
        self._fallback_factory = fallback
        self._fallback = None
        self._on_lost = on_lost
        self._is_lost = is_lost or (lambda: False)
        self.sleep = sleep or _sleep
        self._random = random.Random()
        self.granted = []  # server times of this limiter's sends (tests, diagnostics); bounded
        self._lock = threading.Lock()

    def _local(self):
        with self._lock:
            if self._fallback is None:
                self._fallback = self._fallback_factory()
            return self._fallback

    def acquire(self):
        while not self._is_lost():
            try:
                granted, wait, server_now = self.store.try_acquire(self.key, self.rate)
            except StoreLost as exc:
                self._on_lost(exc)
                break
            if granted:
                with self._lock:
                    self.granted.append(server_now)
                    del self.granted[:-1000]
                return server_now
            # a bounded sleep until the slot frees, with a little jitter so waiting processes do not ask
            # all at the same instant
            self.sleep(min(wait, STORE_MAX_SLEEP) + self._random.uniform(0, 0.002))
        return self._local().acquire()

    def congestion(self, ticket):
        if self._is_lost():
            return self._local().congestion(ticket)
        return False

    def accepted(self, ticket):
        if self._is_lost():
            self._local().accepted(ticket)

    def current_rate(self):
        if self._is_lost():
            return self._local().current_rate()
        return self.rate
