# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared rate-limit store (``rate_limit_backend``): its URL, one connection to it, and the Lua script that
checks and inserts a send in one budget's sliding log atomically, with the server's clock.

``redis`` (redis-py) is imported only when a store is configured. No password ever appears in a message of this
module: stores are named by ``StoreURL.display`` (scheme, host, port, database)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import math
import os
import random
import threading

try:
    from urllib.parse import parse_qs, unquote, urlsplit
except ImportError:  # pragma: no cover  (Python 2)
    from urllib import unquote  # type: ignore
    from urlparse import parse_qs, urlsplit  # type: ignore

from ansible_collections.zego.rtc.plugins.module_utils.ratelimit import PacingError, StoreLost, window_of

STORE_KEY_PREFIX = 'zego.rtc:rate:'
STORE_TIMEOUT = 5.0     # seconds for one store command or connection


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
