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
# phases. Only that sum has to be found:
# - slow start: a job starts at ADAPT_START of its rate and doubles every ADAPT_DOUBLING seconds up to the full
#   rate (a job alone loses about 0.2 s); its first rate-limit answer ends slow start, and the job keeps as many
#   shares as it had requests accepted in the window before the rejected one (its part of ZEGO's last second),
#   and waits FIRST_PROBE_WAIT seconds per share before its first edge probe: jobs that started together have
#   just filled the window between them, and a probe sent while their send logs still hold slow start's bunches
#   passes by luck, overloads the window and makes every job give a share back; a job that joined a busy window
#   with few shares still probes early;
# - edge probes: a job asks for one more share by sending its next request PROBE_EARLY seconds before the oldest
#   of its last k sends leaves ZEGO's window. If the window is full that request alone is rejected, and as the
#   oldest send leaves right after it, nobody else's request is: a failed probe costs one rejected request.
#   PROBE_CONFIRM accepted probes in a row raise the share by one. After a failed probe the next one waits
#   PROBE_WAIT seconds per share held (uniform in that range), so jobs with few shares probe more often and take
#   the capacity that other jobs free when they finish;
# - a raise that is followed within RAISE_WATCH seconds by a rate-limit answer is undone (a probe can pass by
#   luck when another job's send is in the last PROBE_EARLY of its own window);
# - yield: any other rate-limit answer means another job asked for more (its edge probe or a raise that passed by
#   luck overlapped this send). Such answers reach jobs in proportion to their rate, so they are the signal that
#   evens shares out: a job with at least YIELD_MIN_SHARES gives one share back at once and waits YIELD_QUIET
#   times its probe wait before it probes again, so a smaller job takes the share. Big jobs shrink, small ones
#   grow, and jobs with equal work finish together instead of leaving the last one alone with half of its work;
# - smaller jobs treat rate-limit answers that no probe explains as an overload (a job that started later,
#   another client) only when they are spread over more than CUT_AFTER seconds (within CUT_MEMORY): the share
#   drops by CUT_SHARE of it (at least one). (CUT_MEMORY grows by two of the job's own intervals, so a job that
#   sends rarely still sees two answers.) A lasting overload makes big jobs yield one share per answer.
# - work left: a job that holds QUIET_WORK_SHARE of the window or more when it yields, knows how many requests it
#   still has to send (``expect``) and would need more than QUIET_WORK seconds for them at that share shortens the
#   yield's quiet by the square of that ratio (to a quarter with twice that time left). Such a job takes a big
#   part of the window and has much work left, and the job with the most work left decides when the fleet is
#   done: a big job beside small ones is not left alone in a long quiet after they end. Four jobs with P6's work
#   keep the quiet that evens them out (they share 10 shares as 3, 3, 2, 2, and 100 requests at 4 shares take
#   26 s); equal jobs with much more work at 4 shares or more yield a little more often (in the model three jobs
#   of 1000 requests: 1.106x the floor instead of 1.097x, 5.0 % rejected instead of 4.2 %).
ADAPT_START = 0.5
ADAPT_DOUBLING = 0.6
PROBE_EARLY = 0.03
PROBE_LATE = 0.004
FIRST_PROBE_WAIT = (0.3, 0.6)
PROBE_CONFIRM = 1
PROBE_WAIT = (1.2, 2.4)
PROBE_RESERVE_TTL = 2.0
RAISE_WATCH = 1.5
CUT_AFTER = 1.0
CUT_MEMORY = 4.0
CUT_SHARE = 0.25
YIELD_MIN_SHARES = 3
YIELD_QUIET = 3.0
QUIET_WORK = 35.0
QUIET_WORK_SHARE = 0.4
# - settle: for SETTLE_TIME seconds after the end of its slow start, a job that kept SETTLE_MIN shares or more (it
#   had the window nearly alone when the others started) yields to every rate-limit answer, also to those of
#   requests it sent before its share was set, so the newcomers get their part at once instead of over 10-15 s;
#   it probes again after one probe wait at the share it keeps, not a yield's quiet at the share it had (half a
#   minute at 8 shares: a short job started beside it would long have ended, leaving the window half empty).
#   A job that holds the whole window (it took it back after others ended) yields the same way: it has nobody
#   to even out with, so the answer is a newcomer's, often a short event-driven job.
SETTLE_TIME = 1.0
SETTLE_MIN = 6
# Below one share a job sends one request per 1/k windows; each cut halves that, down to SHARE_MIN (so that
# more jobs than shares, or ZEGO's test environment at 1/s, still find a pace ZEGO accepts). Its probe is the
# next request one window after the last one instead of 1/k windows, and a raise doubles k, up to one share.
# The constants were chosen with hacking/pacing_model.py (the real limiter of several jobs on a virtual clock
# against the simulator's window rule).
SHARE_MIN = 1.0 / 32

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

    ``adaptive=True``: the job holds shares of ZEGO's window, found by slow start, edge probes and cuts (the
    ADAPT_*, PROBE_*, RAISE_* and CUT_* constants). ``acquire()`` returns a ticket (the send time it recorded);
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
        self.left = None  # requests this process still has to send through this limiter, if known (expect)
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
    # start (begun at ``start``, not yet if 0), 1: ``k`` shares; acc: send times of accepted requests (for the
    # share at the end of slow start); probe: the send time of the edge probe waiting for its answer; reserved:
    # when a caller took the next probe; next_probe, passed (accepted probes in a row), raised (time of the last
    # raise), unexplained (rate-limit answers no probe explains), changed (time of the last change of the share),
    # settle (until when a big share yields to every rate-limit answer).
    _FIELDS = (('t', float), ('next', float), ('sends', list), ('phase', int), ('start', float), ('k', float),
               ('acc', list), ('probe', float), ('reserved', float), ('next_probe', float), ('passed', int),
               ('raised', float), ('unexplained', list), ('changed', float), ('settle', float))
    _COUNTS = ('phase', 'k', 'passed')  # every other field holds times (seconds since the epoch)

    def _fresh(self):
        return {'t': 0.0, 'next': 0.0, 'sends': [], 'phase': 0 if self.adaptive else 1, 'start': 0.0,
                'k': float(self.cap), 'acc': [], 'probe': 0.0, 'reserved': 0.0, 'next_probe': 0.0, 'passed': 0,
                'raised': 0.0, 'unexplained': [], 'changed': 0.0, 'settle': 0.0}

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
        state['passed'] = min(state['passed'], PROBE_CONFIRM)
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
                # the same checks as a file's content: an idle state, or a clock that stepped back, start afresh
                now = self.clock()
                state, problem = self._parse(self._format(self._state), now)
                result, state = change(state)
                state['t'] = now
                self._state = self._bounded(state, now)
            self._problem(problem)
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
        first = ADAPT_START * self.cap
        if state['start'] <= 0:
            return first
        # the doublings that reach the full rate, and no more: growth stops at its bound for any gap
        doublings = min(max(0.0, when - state['start']) / ADAPT_DOUBLING, math.log(self.cap / first, 2))
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

    @staticmethod
    def _lower(k, step):
        """``k`` less ``step`` shares; below one share, half of it (not below SHARE_MIN)."""
        if k > 1:
            return float(max(1, int(k) - step))
        return max(SHARE_MIN, k / 2.0)

    def expect(self, count):
        """This process has ``count`` requests to send through this limiter (a batch); every answer that is not
        a rate-limit answer counts one off. Only this process's own work: forks of one job each tell theirs."""
        self.left = max(0, int(count))

    def _quiet_share(self, k):
        """The part of a yield's quiet a job holding ``k`` shares waits: less than all of it when it holds
        QUIET_WORK_SHARE of the window or more and its work left would take longer than QUIET_WORK seconds at
        that share."""
        if not self.left or k < QUIET_WORK_SHARE * self.cap:
            return 1.0
        return min(1.0, (QUIET_WORK / (self.left * self.window / k)) ** 2)  # k: at least YIELD_MIN_SHARES here

    def _probe_wait(self, k):
        """The wait before the next edge probe of a job that holds ``k`` shares."""
        low, high = PROBE_WAIT
        return self.random.uniform(low, high) * max(1.0, k)

    def congestion(self, ticket):
        """ZEGO answered the request of ``ticket`` (what ``acquire`` returned) with a rate-limit code.

        Returns True if that lowered this job's share (False: not adaptive, a failed probe, or the same
        congestion as the last change)."""
        if not self.adaptive:
            return False
        now = self.clock()

        def change(state):
            if state['phase'] == 0:
                # end of slow start: keep what ZEGO accepted of this job in the window before the rejection
                low = ticket - self.window
                accepted = len([t for t in state['acc'] if low <= t < ticket])
                k = float(max(1, min(self.cap, accepted)))
                state.update(phase=1, k=k, changed=now, unexplained=[], passed=0, settle=now + SETTLE_TIME,
                             next_probe=now + self.random.uniform(*FIRST_PROBE_WAIT) * k)
                return True, state
            if state['probe'] and abs(ticket - state['probe']) < 1e-6:
                # the window is full: keep the share, probe again later
                state.update(probe=0.0, passed=0, next_probe=now + self._probe_wait(state['k']))
                return False, state
            settling = now < state['settle'] and state['k'] >= SETTLE_MIN
            if ticket <= state['changed'] and not settling:
                return False, state  # sent before the last change: the same congestion
            if state['raised'] and ticket >= state['raised'] - 0.2 and now - state['raised'] < RAISE_WATCH:
                # the last raise passed by luck: undo it
                state['k'] = self._lower(state['k'], 1)
                state.update(raised=0.0, changed=now, unexplained=[], next_probe=now + self._probe_wait(state['k']))
                return True, state
            if state['k'] >= YIELD_MIN_SHARES:
                # another job asked for more: give it a share (a probe of ours still out no longer counts)
                k = self._lower(state['k'], 1)
                if settling or state['k'] >= self.cap:
                    # newcomers take their part now: no quiet (at the big share held alone it would last half a
                    # minute, long after a short job that started beside this one has ended). A job that holds the
                    # whole window has nobody to even out with either: the answer is a newcomer's
                    next_probe = now + self._probe_wait(k)
                else:
                    quiet = YIELD_QUIET * self._probe_wait(state['k']) * self._quiet_share(state['k'])
                    next_probe = max(state['next_probe'], now + quiet)
                state.update(k=k, changed=now, unexplained=[], probe=0.0, passed=0, next_probe=next_probe)
                return True, state
            low, high = PROBE_WAIT
            state['next_probe'] = max(state['next_probe'], now + self.random.uniform(low, high))
            memory = CUT_MEMORY + 2 * self.window / state['k']  # a slow job sees fewer answers
            seen = [t for t in state['unexplained'] if t > state['changed'] and t > ticket - memory] + [ticket]
            if max(seen) - min(seen) >= CUT_AFTER:
                k = state['k']
                state.update(k=self._lower(k, max(1, int(round(k * CUT_SHARE)))), changed=now, unexplained=[])
                return True, state
            state['unexplained'] = seen[-self.LOG_CAP:]
            return False, state
        return self._transact(change)

    def accepted(self, ticket):
        """ZEGO answered the request of ``ticket`` with anything but a rate-limit code."""
        if not self.adaptive:
            return
        now = self.clock()

        def change(state):
            if self.left:
                self.left -= 1  # under the state's lock, as every answer's thread counts here
            if state['phase'] == 0:
                state['acc'] = (state['acc'] + [ticket])[-(self.cap + 2):]
            elif state['probe'] and abs(ticket - state['probe']) < 1e-6:
                state.update(probe=0.0, passed=state['passed'] + 1, next_probe=now)
                if state['passed'] >= PROBE_CONFIRM:
                    state.update(passed=0, k=min(float(self.cap), state['k'] + 1 if state['k'] >= 1 else state['k'] * 2), raised=now)
            return None, state
        self._transact(change)

    # -- pacing ----------------------------------------------------------------------------------------
    def _reserve(self, state, now):
        """((slot, probe), state): probe is True for the one caller that tries the next edge probe."""
        if self.adaptive and state['phase'] == 0 and state['start'] <= 0:
            state['start'] = now
        if state['next'] > now + self.MAX_AHEAD:
            state.update(next=0.0, sends=[])
        held = state['reserved'] > 0 and state['reserved'] - 1.0 <= now < state['reserved'] + PROBE_RESERVE_TTL
        if self._probe_due(state, now) and not held:
            state['reserved'] = now
            return (now, True), state
        slot = max(now, state['next'])
        # the pace at the slot itself: slots reserved ahead during slow start are not held back by the lower
        # share of the moment they were reserved
        state['next'] = slot + self.window / self._shares(state, slot)
        return (slot, False), state

    def _probe_sent(self, state, sends, when):
        state.update(probe=when, reserved=0.0, sends=(sends + [when])[-(self.cap + 1):])
        return (0.0, True), state

    def _record(self, state, when, probe=False):
        """((wait, probed), state): wait 0 when the caller may send at ``when`` (recorded; probed: as an edge
        probe), else how long to wait first."""
        sends = [t for t in state['sends'] if t <= when + self.MAX_AHEAD]
        limit, span = self._log_rule(state)
        if probe and not self._probe_due(state, when):
            probe = False
            state['reserved'] = 0.0
        recent = len(sends) - bisect.bisect_right(sends, when - span)
        if probe and state['k'] < 1 and sends:
            # below one share: try the next request one window after the last instead of 1/k windows
            edge = sends[-1] + self.window
            if when < edge - 1e-6:
                return (edge - when, False), state
            return self._probe_sent(state, sends, when)
        if recent >= limit:
            oldest = sends[-limit]
            if probe and recent == limit:
                edge = oldest + ZEGO_WINDOW - PROBE_EARLY
                if when < edge - 1e-6:
                    return (edge - when, False), state
                if when <= oldest + ZEGO_WINDOW - PROBE_LATE:
                    return self._probe_sent(state, sends, when)
            wait = oldest + span - when
            if wait > 1e-6:
                return (wait, False), state
        if self.adaptive and state['phase'] and sends:
            # evenly spaced at the share (a send log filled faster in slow start would otherwise repeat its
            # bunches every window)
            wait = sends[-1] + self.window / state['k'] - when
            if wait > 1e-6:
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
        now = self.clock()
        slot, probe = self._transact(lambda state: self._reserve(state, now))
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
        self.left = None  # as RateLimiter.left, until the store is lost (then the local pacing counts)

    def _local(self):
        with self._lock:
            if self._fallback is None:
                self._fallback = self._fallback_factory()
                if self.left is not None:
                    self._fallback.expect(self.left)
            return self._fallback

    def expect(self, count):
        """As RateLimiter.expect; counted here while the store paces, for the local pacing if it is lost."""
        with self._lock:
            self.left = max(0, int(count))

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
            return
        with self._lock:
            if self.left:
                self.left -= 1

    def current_rate(self):
        if self._is_lost():
            return self._local().current_rate()
        return self.rate
