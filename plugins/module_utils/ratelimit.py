# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pacing of ZEGO requests: one budget per (API host, AppID, action[, room]).

Two kinds of limiter, with the same promise (at most the rate in any sliding one-second window,
paced at RATE_SAFETY of it):

- ``RateLimiter``: the state lives in a ``flock``ed file of a private directory, shared by every
  process of this machine that uses that directory (forks, tasks, ``delegate_to: localhost``). Without
  a shared store it is *adaptive*: ZEGO's rate-limit answers lower its rate multiplicatively and it
  recovers linearly in time (AIMD), so jobs that cannot see each other's file share ZEGO's budget.
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

# Adaptive pacing (no shared store), see docs/performance.md "Several jobs on one AppID". Shares of the
# configured rate:
# - slow start: a job starts at ADAPT_START and doubles every ADAPT_DOUBLING seconds up to the full rate,
#   until its first rate-limit answer (jobs that start together then meet ZEGO's limit at a few requests
#   per second over it, not at four times it; a job alone loses about 0.2 s);
# - a rate-limit answer to a request sent at least ADAPT_HOLD seconds after the last cut multiplies the
#   rate by ADAPT_DECREASE (answers to requests sent before the cut took effect are the same congestion
#   and do not cut again: ZEGO's window is one second wide);
# - after a cut nothing new is sent for ADAPT_PAUSE seconds, so ZEGO's sliding window (where rejected
#   requests count too) empties instead of rejecting the requests that follow;
# - the rate then grows back linearly, by ADAPT_INCREASE of the configured rate per second, up to the
#   configured rate; it never goes below ADAPT_MIN of it.
ADAPT_START = 0.5
ADAPT_DOUBLING = 0.6
ADAPT_DECREASE = 0.5
ADAPT_INCREASE = 0.02
ADAPT_HOLD = 1.0
ADAPT_PAUSE = 1.0
ADAPT_MIN = 0.05

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
    ``change(content) -> (result, new_content)`` returns (bytes); return the result."""
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

    - slots: callers reserve evenly spaced slots ``1/rate`` apart and sleep until theirs;
    - send log: just before sending, a caller records the actual time; if the last ``cap`` sends
      (``cap`` = the rate, rounded up, at most LOG_CAP) all fall within ``cap/rate`` seconds, it waits.
      This keeps the promise when a caller wakes up late from its slot (a loaded machine): a late send
      cannot crowd the sends that follow it on time.

    The state lives in a file locked with ``flock``, so every process on this controller that uses the
    same key (API host, AppID, action[, room]) shares one budget: parallel forks, several tasks, and
    ``delegate_to: localhost`` across many hosts. Without a file (``path=None``) the limiter is shared by
    the threads of one process only.

    ``adaptive=True``: the rate starts at half and doubles quickly until the first rate-limit answer (slow
    start); ``congestion(sent_at)`` (a rate-limit answer) lowers it, and it recovers in time (the ADAPT_*
    constants). That state is in the same file, so the forks of one job share it.
    """

    MAX_AHEAD = 3600.0  # a time further away than this is stale (the clock jumped back): start afresh
    LOG_CAP = 50        # sends remembered; beyond 50/s the window shrinks in proportion

    def __init__(self, rate, path=None, clock=None, sleep=None, adaptive=False):
        if rate <= 0:
            raise ValueError('rate must be positive')
        self.rate = float(rate)
        self.interval = 1.0 / rate
        self.cap, self.window = window_of(rate)
        self.path = path
        self.adaptive = adaptive
        self.clock = clock or _now
        self.sleep = sleep or _sleep
        self._lock = threading.Lock()
        self._state = self._parse(b'')

    @classmethod
    def for_key(cls, rate, key, clock=None, sleep=None, adaptive=False):
        return cls(rate, path=state_file('rate', key), clock=clock, sleep=sleep, adaptive=adaptive)

    # -- the shared state: "next_slot send1 send2 ... | base cut phase" ----------------------------------
    # base, cut: the share of the rate at the time ``cut``; phase 0: slow start (from the first send at
    # ``cut``), 1: additive increase after the cut. No adaptive part (a new file): slow start from now.
    @staticmethod
    def _parse(raw):
        try:
            text = raw.decode('ascii')
            pacing, dummy, adapt = text.partition('|')
            values = [float(v) for v in pacing.split()]
            base, cut, phase = [float(v) for v in adapt.split()] if adapt.strip() else (ADAPT_START, 0.0, 0.0)
        except (UnicodeDecodeError, ValueError):
            values, base, cut, phase = [], ADAPT_START, 0.0, 0.0
        if not 0 < base <= 1:
            base = 1.0
        adapt = (base, cut, int(phase))
        return ((values[0], values[1:]) if values else (0.0, [])) + adapt

    @staticmethod
    def _format(state):
        next_slot, sends, base, cut, phase = state
        return ('%s | %.6f %.6f %d' % (' '.join('%.6f' % v for v in [next_slot] + sends), base, cut, phase)
                ).encode('ascii')

    def _transact(self, change):
        """Run ``change(state) -> (result, new_state)`` under the lock; return the result."""
        if self.path is None:
            with self._lock:
                result, self._state = change(self._state)
            return result

        def apply(content):
            result, state = change(self._parse(content))
            return result, self._format(state)
        return update_locked_file(self.path, apply)

    # -- adaptive share of the rate ------------------------------------------------------------------
    def _share(self, state, now):
        dummy, dummy, base, cut, phase = state
        if not self.adaptive or base >= 1.0:
            return 1.0
        if cut <= 0 or cut > now + self.MAX_AHEAD:  # slow start not begun, or stale (the clock jumped back)
            return base if phase == 0 and cut <= 0 else 1.0
        elapsed = max(0.0, now - cut)
        if phase == 0:
            return min(1.0, base * 2 ** (elapsed / ADAPT_DOUBLING))
        return min(1.0, base + ADAPT_INCREASE * elapsed)

    def _started(self, state, now):
        """The state with slow start begun at ``now`` if this is the first send."""
        next_slot, sends, base, cut, phase = state
        if self.adaptive and phase == 0 and cut <= 0:
            return (next_slot, sends, base, now, phase)
        return state

    def current_rate(self):
        """The rate this limiter paces at now (lower than ``rate`` in slow start and after congestion)."""
        now = self.clock()
        state = self._transact(lambda s: (s, s))
        return self.rate * self._share(state, now)

    def congestion(self, sent_at):
        """ZEGO answered a request sent at ``sent_at`` (this clock) with a rate-limit code.

        Returns True if that cut the rate (False: not adaptive, or the same congestion as the last cut)."""
        if not self.adaptive:
            return False
        now = self.clock()

        def change(state):
            next_slot, sends, base, cut, phase = state
            hold = ADAPT_HOLD if phase else 0.0  # in slow start, any answer to a request sent since it began
            if cut <= now + self.MAX_AHEAD and sent_at < cut + hold:
                return False, state
            share = max(ADAPT_MIN, self._share(state, now) * ADAPT_DECREASE)
            return True, (max(next_slot, now + ADAPT_PAUSE), sends, share, now, 1)
        return self._transact(change)

    # -- pacing ----------------------------------------------------------------------------------------
    def _reserve(self, state, now):
        state = self._started(state, now)
        next_slot, sends, base, cut, phase = state
        if next_slot > now + self.MAX_AHEAD:
            next_slot, sends = 0.0, []
        slot = max(now, next_slot)
        # the pace at the slot itself: slots reserved ahead during slow start or a recovery are not held back
        # by the lower share of the moment they were reserved
        interval = self.interval / self._share(state, slot)
        return slot, (slot + interval, sends, base, cut, phase)

    def _record(self, state, when):
        next_slot, sends, base, cut, phase = state
        sends = [t for t in sends if t <= when + self.MAX_AHEAD]
        if len(sends) >= self.cap:
            # the configured rate's window: it is the ceiling; a lower adaptive rate is kept by the slots
            wait = sends[-self.cap] + self.window - when
            if wait > 1e-6:
                return wait, state
        bisect.insort(sends, when)
        return 0.0, (next_slot, sends[-self.cap:], base, cut, phase)

    def acquire(self):
        """Block until this caller may send; return its slot (the send itself may be later, if the
        caller woke up late or the send log made it wait)."""
        now = self.clock()
        slot = self._transact(lambda state: self._reserve(state, now))
        wait = slot - self.clock()
        if wait > 0:
            self.sleep(wait)
        when = max(self.clock(), slot)
        while True:
            wait = self._transact(lambda state: self._record(state, when))
            if wait <= 0:
                return slot
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
# Numbers are formatted with %.0f: Lua's tostring keeps only 14 digits, server times in us have 16.
LIMITER_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local cap = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local interval = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now - window))
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

    def congestion(self, sent_at):
        if self._is_lost():
            return self._local().congestion(sent_at)
        return False

    def current_rate(self):
        if self._is_lost():
            return self._local().current_rate()
        return self.rate


def missing_redis_message():
    return ('rate_limit_backend needs the Python package "redis" (redis-py) on the host that runs the module: '
            'pip install redis')
