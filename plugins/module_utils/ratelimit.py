# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pacing of ZEGO requests: one budget per (API host, AppID, action[, room]).

Two kinds of limiter, with the same promise (at most the rate in any sliding one-second window,
paced at RATE_SAFETY of it):

- ``RateLimiter``: the state lives in a ``flock``ed file of a private directory, shared by every
  process of this machine that uses that directory (forks, tasks, ``delegate_to: localhost``). Without
  a shared store it is *adaptive*: a job holds whole shares of ZEGO's window, found from ZEGO's answers
  (slow start, edge probes, cuts), so jobs that cannot see each other's file share ZEGO's budget.
- ``RedisLimiter``: a sliding log in Redis (or Valkey), one Lua script per attempt that checks and
  inserts atomically with the server's clock, shared by every process on every host that uses the
  same store (``rate_limit_backend``).

``redis`` (redis-py) is imported only when a store is configured. No password ever appears in a
message of this module: stores are named by ``StoreURL.display`` (scheme, host, port, database).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import bisect
import errno
import hashlib
import json
import math
import os
import random
import stat
import tempfile
import threading
import time

try:
    import fcntl
except ImportError:  # not on a POSIX controller: pacing falls back to one process
    fcntl = None

try:
    from urllib.parse import parse_qs, unquote, urlsplit
except ImportError:  # pragma: no cover  (Python 2)
    from urllib import unquote  # type: ignore
    from urlparse import parse_qs, urlsplit  # type: ignore


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

STORE_KEY_PREFIX = 'zego.rtc:rate:'
STORE_TIMEOUT = 5.0     # seconds for one store command or connection
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


def private_state_dir():
    """A directory only this user can use, for the cross-process rate-limit files.

    ``$ZEGO_RTC_STATE_DIR`` overrides the location; otherwise ``<tmp>/zego-rtc-<uid>``. A directory of
    this user's that others can read is made private; one that belongs to someone else, or a
    symbolic link, is refused."""
    uid = os.getuid() if hasattr(os, 'getuid') else None
    path = os.environ.get('ZEGO_RTC_STATE_DIR') or os.path.join(
        tempfile.gettempdir(), 'zego-rtc-%s' % ('user' if uid is None else uid))
    try:
        os.mkdir(path, 0o700)
    except OSError as exc:
        if exc.errno != errno.EEXIST:
            raise PacingError('cannot create the rate-limit state directory %s: %s' % (path, exc.strerror))
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or (uid is not None and st.st_uid != uid):
        raise PacingError('the rate-limit state directory %s is not a directory of this user '
                          '(set ZEGO_RTC_STATE_DIR to a directory only you can write)' % path)
    if st.st_mode & 0o077:
        os.chmod(path, 0o700)
    return path


def state_file(prefix, key):
    """The path of the cross-process state file for ``key`` in the private state directory, or None where
    there is no ``fcntl`` (then the state is shared by the threads of one process only)."""
    if fcntl is None:
        return None
    name = hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]
    return os.path.join(private_state_dir(), '%s-%s' % (prefix, name))


def update_locked_file(path, change):
    """Read ``path`` under an exclusive ``flock`` and replace its content with what
    ``change(content) -> (result, new_content)`` returns (bytes; None leaves the file as it is); return the
    result."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, 'O_NOFOLLOW', 0), 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        chunks = []
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
        result, content = change(b''.join(chunks))
        if content is not None:
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.write(fd, content)
    finally:
        os.close(fd)  # also releases the lock
    return result


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


class InFlight(object):
    """How many requests one batch keeps in flight: what the rate needs at the observed answer time.

    ``target()`` = ceil(rate x latency x IN_FLIGHT_MARGIN) + 1 (the one waiting for its slot), between 1 and
    ``cap``; ``initial`` until the first answer time is known. ``rate()`` and ``latency()`` are callables, so
    the target follows the adaptive rate and the moving average of ZEGO's answer times."""

    MARGIN = 1.5

    def __init__(self, cap, rate, latency, initial=4):
        self.cap = max(1, int(cap))
        self.rate = rate
        self.latency = latency
        self.initial = max(1, min(self.cap, int(initial)))

    def target(self):
        latency = self.latency()
        if latency is None:
            return self.initial
        need = int(math.ceil(self.rate() * latency * self.MARGIN - 1e-9)) + 1
        return max(1, min(self.cap, need))


def run_in_flight(items, work, in_flight):
    """``work(item)`` for every item, on worker threads whose number follows ``in_flight.target()``; return
    the results in the order of ``items``. A worker that finds more workers than the target retires after
    its item; one that finds fewer starts another."""
    items = list(items)
    results = [None] * len(items)
    state = {'next': 0, 'workers': 0}
    lock = threading.Lock()
    threads = []
    errors = []

    def spawn():  # with lock held
        state['workers'] += 1
        thread = threading.Thread(target=worker)
        thread.daemon = True
        threads.append(thread)
        thread.start()

    def worker():
        while True:
            with lock:
                if state['next'] >= len(items):
                    state['workers'] -= 1
                    return
                index = state['next']
                state['next'] += 1
            try:
                results[index] = work(items[index])
            except BaseException as exc:  # pylint: disable=broad-except
                # raised again in the caller's thread
                with lock:
                    errors.append(exc)
                    state['next'] = len(items)
                    state['workers'] -= 1
                return
            with lock:
                target = in_flight.target()
                if state['workers'] > target:
                    state['workers'] -= 1
                    return
                # more workers only for items nobody has taken yet (a worker with nothing left stops at once)
                while state['workers'] < min(target, state['workers'] + len(items) - state['next']):
                    spawn()

    with lock:
        for dummy in range(min(in_flight.target(), len(items))):
            spawn()
    while True:
        with lock:
            pending = [t for t in threads if t.is_alive()]
        if not pending:
            break
        for thread in pending:
            thread.join()
    if errors:
        raise errors[0]
    return results


# -- the shared store ------------------------------------------------------------------------------------
class StoreURL(object):
    """A parsed ``rate_limit_backend``: ``redis://[[user]:password@]host[:port][/db]``, ``rediss://...``
    (TLS) or ``unix:///path/to/redis.sock[?db=N]``. ``display`` names it without credentials."""

    SCHEMES = ('redis', 'rediss', 'unix')

    def __init__(self, scheme, host=None, port=None, path=None, db=0, username=None, password=None):
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path
        self.db = db
        self.username = username
        self.password = password
        self.tls = scheme == 'rediss'
        if scheme == 'unix':
            self.display = 'unix socket %s (db %d)' % (path, db)
        else:
            shown = '[%s]' % host if ':' in host else host
            self.display = '%s:%d (db %d%s)' % (shown, port, db, ', TLS' if self.tls else '')

    def secrets(self):
        return [s for s in (self.password,) if s]


def parse_store_url(url):
    """Return a StoreURL, or raise PacingError with a message that never repeats the URL (it may hold a
    password)."""
    what = 'rate_limit_backend (ZEGO_RATE_LIMIT_BACKEND)'
    if not isinstance(url, str) or not url.strip():
        raise PacingError('%s must be a redis://, rediss:// or unix:// URL' % what)
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        port = parts.port
        host = parts.hostname
        username = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password is not None else None
    except ValueError:
        raise PacingError('%s is not a valid URL (check the port)' % what)
    if scheme not in StoreURL.SCHEMES:
        raise PacingError('%s must start with redis://, rediss:// (TLS) or unix://, not %s://'
                          % (what, scheme or '(nothing)'))
    if parts.fragment:
        raise PacingError('%s must not contain a #fragment' % what)
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(k for k in query if k not in ('db', 'password'))
    if unknown:
        raise PacingError('%s has unsupported query parameters: %s (only db)' % (what, ', '.join(unknown)))
    if 'password' in query:
        password = query['password'][-1]
    db = 0
    db_text = None
    if scheme == 'unix':
        if parts.netloc and not (parts.username or parts.password):
            raise PacingError('%s: a unix socket URL has three slashes: unix:///path/to/redis.sock' % what)
        path = unquote(parts.path)
        if not path.startswith('/') or path == '/':
            raise PacingError('%s: a unix socket URL needs an absolute socket path, '
                              'e.g. unix:///run/redis/redis.sock?db=0' % what)
        if 'db' in query:
            db_text = query['db'][-1]
    else:
        path = None
        if not host:
            raise PacingError('%s must name a host, e.g. redis://redis.example.com:6379/0' % what)
        if parts.path not in ('', '/'):
            db_text = parts.path.lstrip('/')
        elif 'db' in query:
            db_text = query['db'][-1]
    if db_text is not None:
        if not db_text.isdigit():
            raise PacingError('%s: the database must be a number (/0, /1, ... or ?db=N)' % what)
        db = int(db_text)
    if scheme != 'unix' and port is None:
        port = 6379
    return StoreURL(scheme, host=host, port=port, path=path, db=db, username=username or None, password=password)


# KEYS[1]: the log of one budget (a sorted set of send times, microseconds of the server's clock).
# ARGV: cap, window (us), interval (us), expiry (ms), member. At most ``cap`` entries in any ``window``,
# and none closer than ``interval`` to the previous one. Returns {1, 0, now} after inserting ``now``, or
# {0, wait (us), now} when the caller must wait that long before asking again.
# What the log may hold from before is bounded first: a key of another type (not written by this script) is
# dropped, and so are entries later than ``now`` (the server's clock stepped back), so every wait is at most
# one window, whatever the store held.
# Numbers are formatted with %.0f: Lua's tostring keeps only 14 digits, server times in us have 16.
LIMITER_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local cap = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local interval = tonumber(ARGV[3])
local kind = redis.call('TYPE', KEYS[1])['ok']
if kind ~= 'zset' and kind ~= 'none' then
  redis.call('DEL', KEYS[1])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now - window))
redis.call('ZREMRANGEBYSCORE', KEYS[1], '(' .. string.format('%.0f', now), '+inf')
local wait = 0
local n = redis.call('ZCARD', KEYS[1])
if n >= cap then
  local e = redis.call('ZRANGE', KEYS[1], n - cap, n - cap, 'WITHSCORES')
  wait = tonumber(e[2]) + window - now
end
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then
  local w = tonumber(last[2]) + interval - now
  if w > wait then wait = w end
end
if wait > 0 then
  return {0, math.ceil(wait), now}
end
redis.call('ZADD', KEYS[1], string.format('%.0f', now), ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {1, 0, now}
"""


class RedisStore(object):
    """One connection (pool) to the shared store, and the limiter script registered on it."""

    def __init__(self, url, ca_path=None, timeout=STORE_TIMEOUT):
        self.url = parse_store_url(url)
        self.ca_path = ca_path
        self.timeout = timeout
        self.display = self.url.display
        self._client = None
        self._script = None
        self._redis = None
        self._member = '%x.%x' % (os.getpid(), random.SystemRandom().getrandbits(48))
        self._counter = 0
        self._counter_lock = threading.Lock()

    def scrub(self, text):
        text = '%s' % (text,)
        for secret in self.url.secrets():
            text = text.replace(secret, '********')
        return text

    def _describe(self, exc):
        """A short reason for a redis-py exception, without any credential."""
        name = type(exc).__name__
        text = self.scrub(exc).strip()
        if len(text) > 300:
            text = text[:300] + '...'
        return '%s: %s' % (name, text) if text else name

    def connect(self):
        """Import redis-py, connect, authenticate and load the script. Raises PacingError (naming the
        store, never its password) if any of that fails; ImportError if redis-py is missing."""
        # optional: imported only with rate_limit_backend
        import redis  # pylint: disable=import-outside-toplevel
        from redis.backoff import NoBackoff  # pylint: disable=import-outside-toplevel
        from redis.retry import Retry  # pylint: disable=import-outside-toplevel
        self._redis = redis
        u = self.url
        kwargs = dict(db=u.db, username=u.username, password=u.password, socket_timeout=self.timeout,
                      socket_connect_timeout=self.timeout, retry=Retry(NoBackoff(), 1), health_check_interval=0)
        if u.scheme == 'unix':
            kwargs['unix_socket_path'] = u.path
        else:
            kwargs.update(host=u.host, port=u.port)
            if u.tls:
                kwargs.update(ssl=True, ssl_cert_reqs='required', ssl_check_hostname=True, ssl_ca_certs=self.ca_path)
        try:
            client = redis.Redis(**kwargs)
            client.ping()
            self._script = client.register_script(LIMITER_LUA)
            client.script_load(LIMITER_LUA)
            client.time()
        except redis.exceptions.AuthenticationError as exc:
            raise PacingError('the rate-limit store %s refused the credentials in rate_limit_backend (%s)'
                              % (self.display, self._describe(exc)))
        except redis.exceptions.RedisError as exc:
            raise PacingError('cannot use the rate-limit store %s: %s' % (self.display, self._describe(exc)))
        except (OSError, ValueError) as exc:
            raise PacingError('cannot use the rate-limit store %s: %s' % (self.display, self._describe(exc)))
        self._client = client

    def _next_member(self):
        with self._counter_lock:
            self._counter += 1
            return '%s.%d' % (self._member, self._counter)

    def try_acquire(self, key, rate):
        """One attempt: (True, 0.0, server_time) if a send is allowed now, else (False, wait seconds, server_time).
        Raises StoreLost if the store does not answer."""
        cap, window = window_of(rate)
        window_us = int(math.ceil(window * 1e6))
        interval_us = int(math.ceil(1e6 / rate))
        expiry_ms = int(math.ceil(window_us / 1000.0)) + 1000
        try:
            granted, wait_us, now_us = self._script(keys=[STORE_KEY_PREFIX + key],
                                                    args=[cap, window_us, interval_us, expiry_ms, self._next_member()])
        except self._redis.exceptions.RedisError as exc:
            raise StoreLost('the rate-limit store %s stopped answering (%s)' % (self.display, self._describe(exc)))
        except (OSError, ValueError) as exc:
            raise StoreLost('the rate-limit store %s stopped answering (%s)' % (self.display, self._describe(exc)))
        return bool(int(granted)), int(wait_us) / 1e6, int(now_us) / 1e6

    def close(self):
        if self._client is not None:
            try:
                self._client.close()
            except Exception:  # pylint: disable=broad-except
                pass
            self._client = None


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


def missing_redis_message():
    return ('rate_limit_backend needs the Python package "redis" (redis-py) on the host that runs the module: '
            'pip install redis')
