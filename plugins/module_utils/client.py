# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one client of ZEGO's RTC server API used by every zego.rtc module.

It owns signing, transport (one ``requests`` Session with keep-alive), retries with exponential backoff and
jitter (by the code classes of ``codes``), pacing of every request by its action's documented pace (the limiters
of ``ratelimit``: in the shared store if ``rate_limit_backend`` is set, otherwise adaptive and shared by every
process on the controller), and scrubbing. It sends the entries of ``actions``; modules never build URLs or sign.

Nothing here ever puts the ServerSecret, a signature or a signed URL into an exception, a
warning or a result.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import random
import threading
import time
import traceback

REQUESTS_IMPORT_ERROR = None
try:
    import requests
    from requests.adapters import HTTPAdapter
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_REQUESTS = True

try:
    from urllib.parse import urlencode, urlsplit
except ImportError:  # pragma: no cover  (Python 2)
    from urllib import urlencode  # type: ignore
    from urlparse import urlsplit  # type: ignore

from ansible_collections.zego.rtc.plugins.module_utils.codes import (
    BAD_RESPONSE,
    HTTP_ERROR,
    RATE_LIMIT_CODES,
    RETRY_CODES,
    ROOM_RATE_LIMITED,
    TRANSPORT_ERROR,
    describe_code,
)
from ansible_collections.zego.rtc.plugins.module_utils.errors import InternalError, ZegoError
from ansible_collections.zego.rtc.plugins.module_utils.ratelimit import (
    RATE_SAFETY,
    PacingError,
    RateLimiter,
    RedisLimiter,
)
from ansible_collections.zego.rtc.plugins.module_utils.signing import Signer
from ansible_collections.zego.rtc.plugins.module_utils.state import SequenceCounter, StateError

DEFAULT_API_URL = 'https://rtc-api.zego.im'

# How a list-valued parameter goes on the wire: ZEGO's documented form is ``UserId[]=a&UserId[]=b``
# (zego-api.md section 7 lists the spelling as an open question; it lives here only).
ARRAY_PARAM = '%s[]'

# Weight of the newest answer time in the moving average ZegoClient.latency.
LATENCY_EWMA = 0.2


class Reply(object):
    """A ZEGO answer: ``code``, ``message``, ``request_id``, ``data``, ``attempts`` and whether an
    earlier attempt's answer was lost (the request may have been applied without us seeing it)."""

    __slots__ = ('action', 'code', 'message', 'request_id', 'data', 'attempts', 'response_lost')

    def __init__(self, action, code, message, request_id, data, attempts, response_lost):
        self.action = action
        self.code = code
        self.message = message
        self.request_id = request_id
        self.data = data
        self.attempts = attempts
        self.response_lost = response_lost


def _transport_message(exc, timeout):
    """Describe a requests exception without its text: that text can contain the signed URL."""
    if isinstance(exc, requests.exceptions.SSLError):
        reason = 'TLS error'
        text = str(exc)
        if 'CERTIFICATE_VERIFY_FAILED' in text or 'certificate verify failed' in text:
            reason = ('TLS certificate verification failed: the server certificate is not trusted '
                      '(set ca_path to the CA bundle that signed it; validate_certs: false only for tests)')
        elif 'hostname' in text.lower() and 'match' in text.lower():
            reason = 'TLS error: the server certificate does not match the host name'
        return reason, False
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return 'connection timed out after %ss' % timeout, False
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return 'no answer within timeout (%ss)' % timeout, True
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = str(exc)
        if 'Connection refused' in text or 'NewConnectionError' in text or 'Failed to resolve' in text \
                or 'Name or service not known' in text:
            return 'could not connect (connection refused or host not found)', False
        return 'connection closed without a complete answer', True
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return 'connection closed while reading the answer', True
    return 'request failed (%s)' % type(exc).__name__, True


class Settings(object):
    """How a client talks to ZEGO: the connection options every module takes (``base.zego_argument_spec``, whose
    defaults are these) and two switches for tests. Give only what differs: ``Settings(app_id=1, secret='s')``.

    ``pool_size``: the most requests in flight (the HTTP connection pool is this large). ``shared_limits``: the
    limiters live in the controller's state directory (False: in memory, for tests). ``adaptive``: without a shared
    store, ZEGO's rate-limit answers set this job's part of the rate."""

    app_id = None
    secret = None
    api_url = DEFAULT_API_URL
    is_test = False
    timeout = 10.0
    retries = 5
    validate_certs = True
    ca_path = None
    rate_limit = None           # replaces the documented rate of the write actions
    rate_limit_wait = 180.0     # seconds a request may keep being retried after rate-limit answers
    pool_size = 4
    shared_limits = True
    adaptive = True

    def __init__(self, **values):
        for name, value in values.items():
            if name.startswith('_') or not hasattr(Settings, name):
                raise TypeError('unknown client setting %r' % name)
            setattr(self, name, value)


class ZegoClient(object):
    """Calls ZEGO's RTC server API with ``settings`` (Settings).

    :param warn: callable(str) that receives one warning per retry.
    :param store: a connected ``store.RedisStore`` (rate_limit_backend), or None: then the limiters are local and
        adaptive (ZEGO's rate-limit answers lower their rate).
    :param session, clock, sleep: a ``requests`` Session, ``time.time`` and ``time.sleep`` stand-ins for tests.
    """

    BACKOFF_BASE = 0.5      # seconds; doubles per retry
    BACKOFF_CAP = 8.0       # one wait never exceeds this
    RATE_LIMIT_BASE = 1.0   # first wait after a rate-limit code
    MAX_TOTAL_WAIT = 60.0   # retry waits of one call never add up to more than this

    def __init__(self, settings, warn=None, store=None, session=None, clock=None, sleep=None):
        if not HAS_REQUESTS and session is None:
            raise ZegoError('the requests library is required')
        self.settings = settings
        self.app_id = int(settings.app_id)
        self.api_url = settings.api_url.rstrip('/') + '/'
        self.host = urlsplit(self.api_url).netloc.lower()
        self.is_test = bool(settings.is_test)
        self.timeout = settings.timeout
        self.retries = settings.retries
        self.warn = warn or (lambda msg: None)
        self.clock = clock or _now
        self.sleep = sleep or _sleep
        self._random = random.Random()
        self.rate_limit_override = None if settings.rate_limit is None else float(settings.rate_limit)
        self.store = store
        self.store_lost = False
        self.rate_limit_wait = float(settings.rate_limit_wait)
        # answer time of ZEGO (seconds, moving average over the attempts so far; None before the first)
        self.latency = None
        self._limiters = {}
        self._limiters_lock = threading.Lock()
        self.signer = Signer(self.app_id, settings.secret, self.clock)
        self._sequence = None
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=1, pool_maxsize=max(int(settings.pool_size), 1), max_retries=0)
            session.mount('https://', adapter)
            session.mount('http://', adapter)
            session.headers['User-Agent'] = 'zego.rtc-ansible'
            session.trust_env = False
        session.verify = (settings.ca_path or True) if settings.validate_certs else False
        self.session = session

    # -- pacing ---------------------------------------------------------------------------------
    def rate_for(self, action):
        """Requests per second this client allows itself for ``action`` (an ``actions.Action``) per AppID."""
        pace = action.pace
        if pace.write and self.rate_limit_override is not None:
            return self.rate_limit_override
        return pace.test_rate if self.is_test else pace.rate

    def send_rate(self, action):
        """Requests per second this client sends of ``action`` at most: its rate at RATE_SAFETY."""
        return self.rate_for(action) * RATE_SAFETY

    def pacers(self, action, params):
        """The limiters one request of ``action`` must pass, in order: the room's, then the AppID's."""
        pacers = []
        room_id = dict(params).get('RoomId') if action.pace.room_interval else None
        if room_id is not None:
            pacers.append(self.limiter(action.name, 1.0 / action.pace.room_interval, room_id=room_id))
        pacers.append(self.limiter(action.name, self.rate_for(action)))
        return pacers

    def limiter(self, name, rate, room_id=None):
        """THE one place limiters are made: one per (API host, AppID, action name[, room]) and client, at
        RATE_SAFETY of ``rate``. In the shared store if there is one (falling back to a local limiter if the
        store is lost), otherwise in the controller's state directory (adaptive), or in memory."""
        key = '%s|%s|%s|%s' % (self.host, self.app_id, name, '' if room_id is None else room_id)
        with self._limiters_lock:
            lim = self._limiters.get(key)
            if lim is None:
                if self.store is not None:
                    lim = RedisLimiter(self.store, key, rate * RATE_SAFETY,
                                       fallback=lambda: self._local_limiter(key, rate, adaptive=room_id is None),
                                       on_lost=self._on_store_lost,
                                       sleep=self.sleep, is_lost=lambda: self.store_lost)
                else:
                    lim = self._local_limiter(key, rate, adaptive=room_id is None)
                self._limiters[key] = lim
        return lim

    def _local_limiter(self, key, rate, adaptive=True):
        # a room's limiter is not adaptive: a room's rate-limit answer (207) waits a whole room interval
        adaptive = self.settings.adaptive and adaptive
        try:
            if self.settings.shared_limits:
                return RateLimiter.for_key(rate * RATE_SAFETY, key, clock=self.clock, sleep=self.sleep,
                                           adaptive=adaptive, warn=self.warn)
            return RateLimiter(rate * RATE_SAFETY, clock=self.clock, sleep=self.sleep, adaptive=adaptive,
                               warn=self.warn)
        except (PacingError, StateError) as exc:
            raise ZegoError(exc.message)

    def _on_store_lost(self, exc):
        """The shared store stopped answering: warn once, then pace locally (adaptive) for the rest of the run."""
        with self._limiters_lock:
            if self.store_lost:
                return
            self.store_lost = True
        self.warn(self.scrub('%s; pacing locally for the rest of this task (adaptive: ZEGO\'s rate-limit '
                             'answers lower the rate)' % exc.message))

    def current_rate(self, action):
        """The AppID rate ``action`` is paced at now (below the configured rate after rate-limit answers)."""
        return self.limiter(action.name, self.rate_for(action)).current_rate() / RATE_SAFETY

    def _observe_latency(self, seconds):
        with self._limiters_lock:
            if self.latency is None:
                self.latency = seconds
            else:
                self.latency += LATENCY_EWMA * (seconds - self.latency)

    def scrub(self, text):
        """Remove the secret, the store's password, every signature this client made, and URLs from a text."""
        return self.signer.scrub(text, self.store.url.secrets() if self.store is not None else ())

    # -- one request ---------------------------------------------------------------------------
    def _signed_params(self, action, params):
        query = self.signer.signed(action)
        if self.is_test:
            query.append(('IsTest', 'true'))
        for key, value in params:
            if callable(value):  # a value that must be fresh for every attempt (Sequence)
                value = value()
            if isinstance(value, (list, tuple)):
                query.extend((ARRAY_PARAM % key, v) for v in value)
            elif value is not None:
                query.append((key, value))
        return urlencode(query)

    def _attempt(self, action, params):
        """One signed GET. Returns (code, message, request_id, data) or a _Failure; never raises."""
        failure = None
        began = time.monotonic()
        try:
            resp = self.session.get(self.api_url + '?' + self._signed_params(action, params),
                                    timeout=self.timeout, allow_redirects=False)
        except requests.exceptions.RequestException as exc:
            reason, maybe_sent = _transport_message(exc, self.timeout)
            failure = _Failure(TRANSPORT_ERROR, '%s: %s' % (self.host, reason), lost=maybe_sent,
                               retry=not isinstance(exc, requests.exceptions.SSLError))
        if failure is not None:
            return failure
        self._observe_latency(time.monotonic() - began)
        status = resp.status_code
        if status >= 300:
            return _Failure(HTTP_ERROR, 'HTTP %s from %s' % (status, self.host), lost=status >= 500,
                            retry=status >= 500 or status == 429, http_status=status, rate_limited=status == 429)
        code = None
        try:
            body = resp.json()
            if isinstance(body, dict) and 'Code' in body:
                code = int(body['Code'])
        except ValueError:
            code = None
        if code is None:
            return _Failure(BAD_RESPONSE, 'the answer from %s is not ZEGO JSON (HTTP %s, %s bytes)'
                            % (self.host, status, len(resp.content)), lost=True, retry=True, http_status=status)
        return code, self.scrub(body.get('Message', '')), _text(body.get('RequestId')), body.get('Data')

    def call(self, action, params, proceed=None):
        """``_call`` (below); an exception that is not a ZegoError (a bug, or something the collection did not
        foresee) becomes an InternalError that names the action and the item it was for."""
        try:
            return self._call(action, params, proceed)
        except ZegoError:
            raise
        except Exception as exc:  # pylint: disable=broad-except
            raise InternalError('while calling %s for %s' % (action.name, _describe_params(params)), exc)

    def _call(self, action, params, proceed=None):
        """Send ``action`` (an ``actions.Action``) with retries, each attempt paced by the action's pace; return a
        Reply for any code that is not retryable. ``proceed()``, if given, is called when the first attempt's slot
        has come, just before it goes out: it may raise errors.NotSent (its batch stopped meanwhile).

        ``params`` is a list of (name, value) pairs; a list value is sent as an array (ARRAY_PARAM), a None value
        is left out, and a callable is called for every attempt (a value that must change between attempts, such
        as Sequence).

        ZEGO business codes come back in the Reply (the caller decides what 138 means). A failure
        that remains after the retry budget, or one that is not worth retrying, raises ZegoError.

        Rate-limit answers (RATE_LIMIT_CODES, HTTP 429) prove the request was not applied: they lower the
        pace (adaptive limiters) and are retried with back-off until ``rate_limit_wait`` seconds have passed
        since the first attempt, without using up ``retries``, which counts the other failures."""
        attempts = 0
        errors = 0
        throttled = 0
        waited = 0.0
        lost = False
        started = self.clock()
        pacers = self.pacers(action, params)
        name = action.name
        while True:
            attempts += 1
            tickets = [pacer.acquire() for pacer in pacers]
            if proceed is not None and attempts == 1:
                proceed()
            result = self._attempt(name, params)
            if isinstance(result, _Failure):
                lost = lost or result.lost
                code, detail, request_id, zego_message = result.code, result.message, None, None
                retry, rate_limited, http_status = result.retry, result.rate_limited, result.http_status
                unreachable = result.code == TRANSPORT_ERROR and not result.lost
            else:
                code, zego_message, request_id, data = result
                if code not in RATE_LIMIT_CODES:
                    pacers[-1].accepted(tickets[-1])  # ZEGO's AppID budget let it through
                if code not in RETRY_CODES:
                    return Reply(name, code, zego_message, request_id, data, attempts, lost)
                detail = describe_code(code, zego_message)
                retry, rate_limited, http_status, unreachable = True, code in RATE_LIMIT_CODES, None, False
            if rate_limited:
                throttled += 1
                # a room's rate-limit code (207) is about the room's budget, the others about the AppID's
                which = 0 if code == ROOM_RATE_LIMITED and len(pacers) > 1 else -1
                pacers[which].congestion(tickets[which])
                spent = self.clock() - started
                if spent < self.rate_limit_wait:
                    delay = min(self._backoff(throttled, True, action), max(self.rate_limit_wait - spent, 0.0))
                    self.warn(self.scrub('%s %s: attempt %d was rate limited (%s); retrying in %.1fs' % (
                        name, _describe_params(params), attempts, detail, delay)))
                    self.sleep(delay)
                    continue
                detail += (' (still rate limited after %.0f s and %d attempts: rate_limit_wait is %.0f s; '
                           'nothing was applied)' % (spent, attempts, self.rate_limit_wait))
            elif retry and errors < self.retries:
                errors += 1
                delay = self._backoff(errors, False, action)
                if waited + delay <= self.MAX_TOTAL_WAIT:
                    waited += delay
                    self.warn(self.scrub('%s %s: attempt %d failed: %s; retrying in %.1fs' % (
                        name, _describe_params(params), attempts, detail, delay)))
                    self.sleep(delay)
                    continue
                detail += ' (gave up after %d attempts: retry waits would exceed %ss)' % (attempts, self.MAX_TOTAL_WAIT)
            elif retry:
                detail += ' (gave up after %d attempts)' % attempts
            raise ZegoError(self.scrub(detail), code=code, zego_message=zego_message, request_id=request_id,
                            action=name, http_status=http_status, attempts=attempts, response_lost=lost,
                            retryable=retry, unreachable=unreachable)

    def _backoff(self, attempts, rate_limited=False, action=None):
        room_interval = action.pace.room_interval if action is not None else None
        if rate_limited and room_interval:
            # a room's budget is one call per room_interval (DescribeSimpleStreamList: 10 s)
            return room_interval + self._random.uniform(0, 1.0)
        base = self.RATE_LIMIT_BASE if rate_limited else self.BACKOFF_BASE
        ceiling = min(self.BACKOFF_CAP, base * (2 ** (attempts - 1)))
        return ceiling / 2.0 + self._random.uniform(0, ceiling / 2.0)  # "equal jitter"

    def next_sequence(self):
        """A fresh ``Sequence`` (see state.SequenceCounter); the client calls it again for every attempt."""
        with _SEQUENCE_LOCK:
            if self._sequence is None:
                key = '%s|%s' % (self.host, self.app_id)
                try:
                    shared = self.settings.shared_limits
                    self._sequence = (SequenceCounter.for_key(key, self.clock, warn=self.warn) if shared
                                      else SequenceCounter(clock=self.clock, warn=self.warn))
                except StateError as exc:
                    raise ZegoError(exc.message)
        return self._sequence.next()

    def close(self):
        try:
            self.session.close()
        except Exception:  # pylint: disable=broad-except
            pass
        if self.store is not None:
            self.store.close()


class _Failure(object):
    """An attempt that got no usable ZEGO answer."""

    __slots__ = ('code', 'message', 'lost', 'retry', 'http_status', 'rate_limited')

    def __init__(self, code, message, lost=False, retry=True, http_status=None, rate_limited=False):
        self.code = code
        self.message = message
        self.lost = lost
        self.retry = retry
        self.http_status = http_status
        self.rate_limited = rate_limited


def _now():
    return time.time()


def _sleep(seconds):
    time.sleep(seconds)


def _text(value):
    return None if value is None else '%s' % (value,)


_SEQUENCE_LOCK = threading.Lock()


def _describe_params(params):
    d = dict((k, ','.join('%s' % x for x in v) if isinstance(v, (list, tuple)) else v) for k, v in params)
    if 'StreamId' in d and 'RoomId' not in d:  # media-service actions name streams only
        return '%s' % d['StreamId']
    if 'StreamId' in d:
        return '%s/%s' % (d.get('RoomId'), d.get('StreamId'))
    return '%s' % d.get('RoomId', '')
