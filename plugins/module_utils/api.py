# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one client of ZEGO's RTC server API used by every zego.rtc module.

It owns signing, transport (one ``requests`` Session with keep-alive), the classification of
ZEGO's return codes, retries with exponential backoff and jitter, and pacing of every action by
ACTION_PACE (the limiters of ``ratelimit``: a shared store if ``rate_limit_backend`` is set, otherwise
an adaptive limiter shared by every process on the controller). Modules never build URLs or sign.

Nothing here ever puts the ServerSecret, a signature or a signed URL into an exception, a
warning or a result.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import hashlib
import random
import re
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

from ansible_collections.zego.rtc.plugins.module_utils.ratelimit import (  # noqa: F401  (RateLimiter, RATE_SAFETY: re-exported)
    RATE_SAFETY,
    PacingError,
    RateLimiter,
    RedisLimiter,
    private_state_dir as _private_state_dir,
    state_file,
    update_locked_file,
)


DEFAULT_API_URL = 'https://rtc-api.zego.im'
SIGNATURE_VERSION = '2.0'
DEFAULT_USER_ID = 'Server-Administrator'

# Documented per-AppID limits (requests per second); test environment in brackets.
DELETE_STREAM_RATE = 10.0       # (1)
DELETE_STREAM_RATE_TEST = 1.0
LIST_RATE = 50.0
LIST_ROOM_INTERVAL = 10.0       # DescribeSimpleStreamList: one call per room per 10 s


class Pace(object):
    """ZEGO's documented limits of one action: ``rate`` requests per second per AppID (``test_rate`` in
    the test environment), at most one call per ``room_interval`` seconds for one room (if set), and
    whether the action changes something (``write``: the ``rate_limit`` option replaces its rate)."""

    __slots__ = ('rate', 'test_rate', 'room_interval', 'write')

    def __init__(self, rate, test_rate=None, room_interval=None, write=False):
        self.rate = float(rate)
        self.test_rate = float(rate if test_rate is None else test_rate)
        self.room_interval = room_interval
        self.write = write


# Every action the client sends, with its limits: ``ZegoClient.call`` paces each request by this table.
ACTION_PACE = {
    'DeleteStream': Pace(DELETE_STREAM_RATE, DELETE_STREAM_RATE_TEST, write=True),
    'DescribeSimpleStreamList': Pace(LIST_RATE, room_interval=LIST_ROOM_INTERVAL),
    # media-service ban (zego-api.md section 9.1): 20/s per AppID each, 5/s in the test environment
    'ForbidRTCStream': Pace(20, 5, write=True),
    'ForbidRTCStreams': Pace(20, 5, write=True),
    'ResumeRTCStream': Pace(20, 5, write=True),
    'ResumeRTCStreams': Pace(20, 5, write=True),
    # room prohibition rules (section 9.2): 10/s per AppID; no separate test-environment limit is documented
    'SetForbidStreamRule': Pace(10, write=True),
    'DelForbidStreamRule': Pace(10, write=True),
    'DescribeForbidStreamRules': Pace(10),
    # room moderation (zego-api.md 3.4-3.6)
    'CloseRoom': Pace(1, 1, write=True),
    'KickoutUser': Pace(50, write=True),
    'DescribeUserNum': Pace(10, 1),
    'DescribeUsers': Pace(10),
    'DescribeUserList': Pace(200, room_interval=1.0),
}

# ZEGO's documented batch limits: IDs per request
KICKOUT_MAX_USERS = 5           # KickoutUser: more gives code 50011
DESCRIBE_USERS_MAX = 10         # DescribeUsers: UserId[]
DESCRIBE_USER_NUM_MAX_ROOMS = 10  # DescribeUserNum: RoomId[]
USER_LIST_MAX_LIMIT = 200       # DescribeUserList: Limit
BAN_BATCH_MAX = 20              # ForbidRTCStreams / ResumeRTCStreams: StreamId[]
RULE_DESCRIBE_MAX = 10          # DescribeForbidStreamRules: StreamId[]
RULE_MAX_DURATION = 86400       # SetForbidStreamRule EffectiveTime: 1 s to 24 h
RULE_DEFAULT_DURATION = 21600

# How a list-valued parameter goes on the wire: ZEGO's documented form is ``UserId[]=a&UserId[]=b``
# (zego-api.md section 7 lists the spelling as an open question; it lives here only).
ARRAY_PARAM = '%s[]'


# Return codes
OK = 0
STREAM_MISSING = 138
ROOM_MISSING_CODES = frozenset([104, 5024, 50001])
ROOM_RATE_LIMITED = 207
RATE_LIMIT_CODES = frozenset([7, 206, ROOM_RATE_LIMITED])
# Weight of the newest answer time in the moving average ZegoClient.latency.
LATENCY_EWMA = 0.2
# Seconds a request may keep being retried after rate-limit answers (rate_limit_wait) before it fails.
DEFAULT_RATE_LIMIT_WAIT = 180.0
RETRY_CODES = frozenset([1, 122, 123, 124, 151, 154, 5201, 5202, 100000015]) | RATE_LIMIT_CODES

# Media service (ForbidRTCStream(s), ResumeRTCStream(s), zego-api.md sections 2.3 and 9.1): 30002, 1010 and
# 5007 all mean "call frequency too high" and are rate limits like 206. 3001, 5000, 5001, 5002, 5006 and 30003
# are "internal error": retried like room-signalling code 1, which is safe because a ban or resume can be
# repeated (each attempt carries a new Sequence). None of these numbers has another meaning in the
# room-signalling table, so one set serves every action.
MEDIA_RATE_LIMIT_CODES = frozenset([30002, 1010, 5007])
MEDIA_RETRY_CODES = frozenset([3001, 5000, 5001, 5002, 5006, 30003])
RATE_LIMIT_CODES = RATE_LIMIT_CODES | MEDIA_RATE_LIMIT_CODES
RETRY_CODES = RETRY_CODES | MEDIA_RATE_LIMIT_CODES | MEDIA_RETRY_CODES

# Codes raised by this client itself (not ZEGO's), for results and callers.
TRANSPORT_ERROR = -1      # connection failed, timed out or was dropped
HTTP_ERROR = -2           # HTTP status other than 2xx
BAD_RESPONSE = -3         # not the JSON object ZEGO answers with

CODE_HINTS = {
    100000001: 'check app_id (ZEGO_APP_ID): it must be the numeric AppID from the ZEGO console',
    100000004: "the signature expired: the controller's clock differs from ZEGO's by more than 10 minutes; "
               "check the controller's clock (NTP)",
    100000005: 'the signature was rejected: check server_secret (ZEGO_SERVER_SECRET); it must be the '
               'ServerSecret of this app_id',
    100000010: 'ZEGO has no ServerSecret for this AppID: check app_id (ZEGO_APP_ID) and server_secret',
    100000011: 'ZEGO could not load the configuration of this AppID: check app_id or contact ZEGO support',
    100000014: 'unsupported SignatureVersion',
    100000016: 'this AppID is not enabled for the production environment: set is_test (ZEGO_IS_TEST) '
               'for a test-environment AppID, or enable production in the ZEGO console',
    100000017: 'this AppID has not enabled the server API service: contact ZEGO support',
    2: 'ZEGO rejected a parameter: check room_id, user_id and stream_id',
    3: 'a parameter is longer than ZEGO allows',
    9: 'this AppID has no permission for this API: contact ZEGO support',
    206: 'rate limited by ZEGO (AppID request rate): lower rate_limit or ask ZEGO to raise the limit',
    207: 'rate limited by ZEGO (room request rate)',
}

CODE_HINTS.update({
    30002: 'rate limited by ZEGO (media service call frequency): lower rate_limit or ask ZEGO to raise the limit',
    1010: 'rate limited by ZEGO (media service call frequency)',
    5007: 'rate limited by ZEGO (media service call frequency)',
    3000: 'ZEGO does not know this App for the media service: check app_id',
    3003: 'ZEGO has no token configured for this AppID: contact ZEGO support',
    30004: 'ZEGO rejected IsTest: check is_test (ZEGO_IS_TEST) for this AppID',
    30005: 'ZEGO rejected the AppID: check app_id (ZEGO_APP_ID)',
    30006: 'ZEGO rejected the list of stream IDs',
    30009: 'ZEGO rejected the stream ID (in the test environment it must start with zegotest-<AppID>-)',
    40005: 'authentication failed: check app_id and server_secret',
    50123: 'too many active prohibition rules for this AppID: delete some first',
})

_LOOPBACK_HOSTS = ('localhost', '::1')
_SIGNATURE_RE = re.compile(r'(?i)(signature=)[^&\s\'"]*')
_HEX32_RE = re.compile(r'(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])')
_URL_RE = re.compile(r'(?i)\b(?:https?://|/\?)\S*')


def sign(app_id, nonce, secret, timestamp):
    """ZEGO signature 2.0: lowercase hex md5 of AppId + SignatureNonce + ServerSecret + Timestamp."""
    data = '%s%s%s%s' % (app_id, nonce, secret, timestamp)
    return hashlib.md5(data.encode('utf-8')).hexdigest()  # nosec - MD5 is what ZEGO specifies


def new_nonce():
    """16 hex characters from 8 random bytes, as in all of ZEGO's samples."""
    return '%016x' % random.SystemRandom().getrandbits(64)


def is_loopback_host(host):
    host = (host or '').lower().strip('[]')
    return host in _LOOPBACK_HOSTS or host.startswith('127.')


def check_api_url(url):
    """Return an error message for an unusable api_url, or None.

    https is required; plain http only to a loopback host (a local simulator)."""
    if not url or not isinstance(url, str):
        return 'api_url must be a URL such as %s' % DEFAULT_API_URL
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return 'api_url %r is not a valid URL (%s)' % (url, exc)
    del port
    if parts.scheme not in ('https', 'http') or not parts.hostname:
        return 'api_url %r must start with https:// and name a host, e.g. %s' % (url, DEFAULT_API_URL)
    if parts.username or parts.password:
        return 'api_url must not contain credentials'
    if parts.query or parts.fragment:
        return 'api_url %r must not contain a query or fragment' % url
    if parts.path not in ('', '/'):
        return 'api_url %r must not contain a path (ZEGO hosts answer at /)' % url
    if parts.scheme == 'http' and not is_loopback_host(parts.hostname):
        return ('api_url %r uses plain http: only https is allowed, except http to a loopback '
                'address (127.0.0.1, ::1, localhost)' % url)
    return None


def describe_code(code, message=None):
    """A one-line explanation of a ZEGO return code for humans."""
    text = 'code %s' % code
    if message:
        text += ' (%s)' % message
    hint = CODE_HINTS.get(code)
    if hint:
        text += ': ' + hint
    return text


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


class InternalError(Exception):
    """An unexpected exception inside the collection, with what it was doing (``doing``) and the traceback
    of where it happened. Not a ZegoError: it fails the task, not one item."""

    def __init__(self, doing, exc):
        self.message = 'unexpected error %s: %s' % (doing, describe_exception(exc))
        super(InternalError, self).__init__(self.message)
        self.traceback = ''.join(traceback.format_exception(type(exc), exc, exc.__traceback__))


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


def private_state_dir():
    """The private directory of the cross-process rate-limit files (see ratelimit.private_state_dir)."""
    try:
        return _private_state_dir()
    except PacingError as exc:
        raise ZegoError(exc.message)


class SequenceCounter(object):
    """Numbers for ZEGO's ``Sequence`` parameter (ForbidRTCStream(s), ResumeRTCStream(s)), which must strictly
    increase per stream ID within any 10 seconds: milliseconds since the epoch, but never a number
    handed out before, i.e. ``max(now_ms, last + 1)``.

    ``last`` lives in a file locked with ``flock`` in the private state directory, so every process on
    this controller continues above the numbers of the others: parallel forks, later tasks and later
    runs. A clock that steps back cannot make the numbers go back either. Several controllers do not
    share the file; their numbers are millisecond timestamps and only collide if two of them ban the
    same stream ID within the same few milliseconds. Without ``fcntl`` (``path=None``) the numbers are
    shared by the threads of one process only."""

    # After the clock steps back the numbers stay above those handed out before; a number more than a day ahead
    # of the clock is not one a clock step explains (the file was overwritten), so the counter starts again from
    # the clock, with a warning.
    AHEAD_LIMIT = 86400.0

    def __init__(self, path=None, clock=None, warn=None):
        self.path = path
        self.clock = clock or _now
        self.warn = warn or (lambda msg: None)
        self._lock = threading.Lock()
        self._last = 0

    @classmethod
    def for_key(cls, key, clock=None, warn=None):
        try:
            return cls(path=state_file('sequence', key), clock=clock, warn=warn)
        except PacingError as exc:
            raise ZegoError(exc.message)

    def _step(self, last, problems):
        now_ms = int(self.clock() * 1000)
        if last > now_ms + self.AHEAD_LIMIT * 1000:
            problems.append('it holds a number %.0f s ahead of the clock' % ((last - now_ms) / 1000.0))
            last = 0
        return max(now_ms, last + 1)

    def next(self):
        """The next number, as the decimal string ZEGO expects."""
        problems = []
        with self._lock:
            if self.path is None:
                self._last = self._step(self._last, problems)
            else:
                def step(content):
                    text = content.strip()
                    last = 0
                    if text:
                        if text.isdigit() and len(text) <= 19:
                            last = int(text)
                        else:
                            problems.append('it does not hold a number')
                    value = self._step(max(last, self._last), problems)
                    return value, str(value).encode('ascii')
                self._last = update_locked_file(self.path, step)
        if problems:
            self.warn('the Sequence state file %s could not be used as it was (%s): numbers start again from '
                      'the clock' % (self.path or '(memory)', problems[0]))
        return str(self._last)


def rule_expires_at(create_time, effective_time):
    """When a prohibition rule from DescribeForbidStreamRules ends (Unix seconds), or None if unknown.

    ZEGO documents ``EffectiveTime`` as a timestamp, but its example shows ``3600`` (a duration), so both
    readings are accepted: a value that looks like a Unix time (seconds, or milliseconds) is the end
    itself; a smaller one is a duration in seconds after ``CreateTime`` (cut to 24 h, as ZEGO cuts it)."""
    try:
        created = int(create_time or 0)
        effective = int(effective_time or 0)
    except (TypeError, ValueError):
        return None
    if effective >= 100000000000:       # milliseconds since the epoch
        return effective // 1000
    if effective >= 1000000000:         # seconds since the epoch (after 2001)
        return effective
    if effective > 0 and created > 0:
        return created + min(effective, RULE_MAX_DURATION)
    return None


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


class ZegoClient(object):
    """Calls ZEGO's RTC server API.

    :param warn: callable(str) that receives one warning per retry.
    :param retries: attempts after the first one for retryable failures.
    """

    BACKOFF_BASE = 0.5      # seconds; doubles per retry
    BACKOFF_CAP = 8.0       # one wait never exceeds this
    RATE_LIMIT_BASE = 1.0   # first wait after a rate-limit code
    MAX_TOTAL_WAIT = 60.0   # retry waits of one call never add up to more than this

    def __init__(self, app_id, secret, api_url=DEFAULT_API_URL, is_test=False, timeout=10.0, retries=5,
                 validate_certs=True, ca_path=None, rate_limit=None, concurrency=4, warn=None,
                 session=None, clock=None, sleep=None, shared_limits=True, store=None,
                 rate_limit_wait=DEFAULT_RATE_LIMIT_WAIT, adaptive=True):
        if not HAS_REQUESTS and session is None:
            raise ZegoError('the requests library is required')
        self.app_id = int(app_id)
        self._secret = secret
        self.api_url = api_url.rstrip('/') + '/'
        self.host = urlsplit(self.api_url).netloc.lower()
        self.is_test = bool(is_test)
        self.timeout = timeout
        self.retries = retries
        self.warn = warn or (lambda msg: None)
        self.clock = clock or _now
        self.sleep = sleep or _sleep
        self._random = random.Random()
        # ``rate_limit`` replaces the documented rate of the write actions (ACTION_PACE)
        self.rate_limit_override = None if rate_limit is None else float(rate_limit)
        self._shared = shared_limits
        # a connected ratelimit.RedisStore (rate_limit_backend), or None: then the limiters are local and
        # adaptive (ZEGO's rate-limit answers lower their rate)
        self.store = store
        self.store_lost = False
        self.adaptive = adaptive
        self.rate_limit_wait = float(rate_limit_wait)
        # answer time of ZEGO (seconds, moving average over the attempts so far; None before the first)
        self.latency = None
        self._limiters = {}
        self._limiters_lock = threading.Lock()
        self._signatures = set()
        self._sig_lock = threading.Lock()
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=1, pool_maxsize=max(int(concurrency), 1), max_retries=0)
            session.mount('https://', adapter)
            session.mount('http://', adapter)
            session.headers['User-Agent'] = 'zego.rtc-ansible'
            session.trust_env = False
        session.verify = (ca_path or True) if validate_certs else False
        self.session = session

    # -- pacing ---------------------------------------------------------------------------------
    def rate_for(self, action):
        """Requests per second this client allows itself for ``action`` per AppID."""
        pace = ACTION_PACE[action]
        if pace.write and self.rate_limit_override is not None:
            return self.rate_limit_override
        return pace.test_rate if self.is_test else pace.rate

    def pacers(self, action, params):
        """The limiters one request of ``action`` must pass, in order: the room's, then the AppID's."""
        pace = ACTION_PACE.get(action)
        if pace is None:
            raise ValueError('no documented rate limit for action %r: add it to ACTION_PACE' % action)
        pacers = []
        room_id = dict(params).get('RoomId') if pace.room_interval else None
        if room_id is not None:
            pacers.append(self.limiter(action, 1.0 / pace.room_interval, room_id=room_id))
        pacers.append(self.limiter(action, self.rate_for(action)))
        return pacers

    def limiter(self, action, rate, room_id=None):
        """THE one place limiters are made: one per (API host, AppID, action[, room]) and client, at
        RATE_SAFETY of ``rate``. In the shared store if there is one (falling back to a local limiter if the
        store is lost), otherwise in the controller's state directory (adaptive), or in memory."""
        key = '%s|%s|%s|%s' % (self.host, self.app_id, action, '' if room_id is None else room_id)
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
        adaptive = self.adaptive and adaptive
        try:
            if self._shared:
                return RateLimiter.for_key(rate * RATE_SAFETY, key, clock=self.clock, sleep=self.sleep,
                                           adaptive=adaptive, warn=self.warn)
            return RateLimiter(rate * RATE_SAFETY, clock=self.clock, sleep=self.sleep, adaptive=adaptive,
                               warn=self.warn)
        except PacingError as exc:
            raise ZegoError(exc.message)

    def _on_store_lost(self, exc):
        """The shared store stopped answering: warn once, then pace locally (adaptive) for the rest of the run."""
        with self._limiters_lock:
            if self.store_lost:
                return
            self.store_lost = True
        self.warn(self.scrub('%s; pacing locally for the rest of this task (adaptive: ZEGO\'s rate-limit '
                             'answers lower the rate)' % exc.message))

    def expect(self, action, count):
        """This process is about to send ``count`` requests of ``action`` (one batch). Adaptive pacing uses the
        work left to decide how long a job that yielded a share waits before it asks for one again."""
        self.limiter(action, self.rate_for(action)).expect(count)

    def current_rate(self, action):
        """The AppID rate ``action`` is paced at now (below the configured rate after rate-limit answers)."""
        return self.limiter(action, self.rate_for(action)).current_rate() / RATE_SAFETY

    def _observe_latency(self, seconds):
        with self._limiters_lock:
            if self.latency is None:
                self.latency = seconds
            else:
                self.latency += LATENCY_EWMA * (seconds - self.latency)

    # -- secrets hygiene -------------------------------------------------------------------------
    def scrub(self, text):
        """Remove the secret, every signature this client made, and URLs from a text."""
        if text is None:
            return text
        text = '%s' % (text,)
        if self._secret:
            text = text.replace(self._secret, '********')
        if self.store is not None:
            text = self.store.scrub(text)
        # signatures are 32 lowercase hex characters: look up each such token instead of searching the
        # text for every signature made so far (a large batch makes thousands)
        text = _HEX32_RE.sub(self._mask_signature, text)
        text = _SIGNATURE_RE.sub(r'\1********', text)
        return _URL_RE.sub('<url>', text)

    def _mask_signature(self, match):
        with self._sig_lock:
            known = match.group(0) in self._signatures
        return '********' if known else match.group(0)

    # -- one request ---------------------------------------------------------------------------
    def _signed_params(self, action, params):
        nonce = new_nonce()
        timestamp = int(self.clock())
        signature = sign(self.app_id, nonce, self._secret, timestamp)
        with self._sig_lock:
            if len(self._signatures) > 100000:
                self._signatures.clear()
            self._signatures.add(signature)
        query = [('Action', action), ('AppId', str(self.app_id)), ('SignatureNonce', nonce),
                 ('Timestamp', str(timestamp)), ('Signature', signature), ('SignatureVersion', SIGNATURE_VERSION)]
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

    def call(self, action, params):
        """``_call`` (below); an exception that is not a ZegoError (a bug, or something the collection did not
        foresee) becomes an InternalError that names the action and the item it was for."""
        try:
            return self._call(action, params)
        except ZegoError:
            raise
        except Exception as exc:  # pylint: disable=broad-except
            raise InternalError('while calling %s for %s' % (action, _describe_params(params)), exc)

    def _call(self, action, params):
        """Call ``action`` with retries, each attempt paced by ACTION_PACE; return a Reply for any code
        that is not retryable. ``params`` is a list of (name, value) pairs; a list value is sent as an
        array (ARRAY_PARAM), a None value is left out, and a callable is called for every attempt
        (a value that must change between attempts, such as Sequence).

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
        while True:
            attempts += 1
            tickets = [pacer.acquire() for pacer in pacers]
            result = self._attempt(action, params)
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
                    return Reply(action, code, zego_message, request_id, data, attempts, lost)
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
                        action, _describe_params(params), attempts, detail, delay)))
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
                        action, _describe_params(params), attempts, detail, delay)))
                    self.sleep(delay)
                    continue
                detail += ' (gave up after %d attempts: retry waits would exceed %ss)' % (attempts, self.MAX_TOTAL_WAIT)
            elif retry:
                detail += ' (gave up after %d attempts)' % attempts
            raise ZegoError(self.scrub(detail), code=code, zego_message=zego_message, request_id=request_id,
                            action=action, http_status=http_status, attempts=attempts, response_lost=lost,
                            retryable=retry, unreachable=unreachable)

    def _backoff(self, attempts, rate_limited=False, action=None):
        room_interval = ACTION_PACE[action].room_interval if action in ACTION_PACE else None
        if rate_limited and room_interval:
            # a room's budget is one call per room_interval (DescribeSimpleStreamList: 10 s)
            return room_interval + self._random.uniform(0, 1.0)
        base = self.RATE_LIMIT_BASE if rate_limited else self.BACKOFF_BASE
        ceiling = min(self.BACKOFF_CAP, base * (2 ** (attempts - 1)))
        return ceiling / 2.0 + self._random.uniform(0, ceiling / 2.0)  # "equal jitter"

    # -- actions -------------------------------------------------------------------------------
    def delete_stream(self, room_id, stream_id, user_id=DEFAULT_USER_ID, user_name=None):
        """DeleteStream. Returns a Reply (code 0, 138 or a room-missing code); raises ZegoError."""
        params = [('RoomId', room_id), ('UserId', user_id), ('UserName', user_name), ('StreamId', stream_id)]
        return self.call('DeleteStream', params)

    def describe_stream_list(self, room_id):
        """DescribeSimpleStreamList for one room: a list of dicts (empty if the room does not exist).

        Paced to ZEGO's 50/s per AppID and one call per 10 s per room, across processes."""
        reply = self.call('DescribeSimpleStreamList', [('RoomId', room_id)])
        if reply.code in ROOM_MISSING_CODES:
            return [], reply
        if reply.code != OK:
            raise ZegoError(describe_code(reply.code, reply.message), code=reply.code, zego_message=reply.message,
                            request_id=reply.request_id, action=reply.action)
        data = reply.data if isinstance(reply.data, dict) else {}
        streams = []
        for item in data.get('StreamList') or []:
            if not isinstance(item, dict):
                continue
            streams.append({
                'stream_id': _text(item.get('StreamId')),
                'user_id': _text(item.get('UserId')),
                'user_name': _text(item.get('UserName')),
                'create_time': item.get('CreateTime'),
                'stream_number_id': item.get('StreamNumberId'),
            })
        return streams, reply

    # -- stream bans (media service) and prohibition rules (room) ---------------------------------
    def next_sequence(self):
        """A fresh ``Sequence`` (see SequenceCounter); the client calls it again for every attempt."""
        with _SEQUENCE_LOCK:
            if getattr(self, '_sequence', None) is None:
                key = '%s|%s' % (self.host, self.app_id)
                self._sequence = (SequenceCounter.for_key(key, self.clock, warn=self.warn) if self._shared
                                  else SequenceCounter(clock=self.clock, warn=self.warn))
        return self._sequence.next()

    def ban_streams(self, stream_ids, banned=True):
        """ForbidRTCStream (one ID) or ForbidRTCStreams (2-20 IDs); ResumeRTCStream(s) with ``banned=False``.

        Every attempt carries a new Sequence. Returns the Reply (ZEGO documents no Data); raises ZegoError."""
        ids = list(stream_ids)
        if not 1 <= len(ids) <= BAN_BATCH_MAX:
            raise ValueError('ban_streams takes 1 to %d stream IDs, got %d' % (BAN_BATCH_MAX, len(ids)))
        verb = 'Forbid' if banned else 'Resume'
        if len(ids) == 1:
            return self.call(verb + 'RTCStream', [('StreamId', ids[0]), ('Sequence', self.next_sequence)])
        return self.call(verb + 'RTCStreams', [('StreamId', ids), ('Sequence', self.next_sequence)])

    def set_stream_rule(self, room_id, stream_id, disable_audio, disable_video, duration):
        """SetForbidStreamRule: mute audio and/or video of ``stream_id`` in ``room_id`` for ``duration`` s."""
        params = [('RoomId', room_id), ('StreamId', stream_id), ('DisableAudio', '1' if disable_audio else '0'),
                  ('DisableVideo', '1' if disable_video else '0'), ('EffectiveTime', str(int(duration)))]
        return self.call('SetForbidStreamRule', params)

    def delete_stream_rule(self, room_id, stream_id):
        """DelForbidStreamRule. Returns the Reply (0, or 50124 for a rule that does not exist)."""
        return self.call('DelForbidStreamRule', [('RoomId', room_id), ('StreamId', stream_id)])

    def describe_stream_rules(self, room_id, stream_ids):
        """DescribeForbidStreamRules for 1-10 stream IDs of one room.

        Returns ({stream_id: rule or None}, Reply); a rule is a dict with ``disable_audio``,
        ``disable_video`` (bools), ``create_time``, ``effective_time`` (ZEGO's numbers) and ``expires_at``
        (rule_expires_at). An ID that ZEGO answers with all zeros, or leaves out, has no rule (None).
        Raises ZegoError for any code but 0."""
        ids = list(stream_ids)
        if not 1 <= len(ids) <= RULE_DESCRIBE_MAX:
            raise ValueError('describe_stream_rules takes 1 to %d stream IDs, got %d' % (RULE_DESCRIBE_MAX, len(ids)))
        reply = self.call('DescribeForbidStreamRules', [('RoomId', room_id), ('StreamId', ids)])
        _raise_unless_ok(reply)
        data = reply.data if isinstance(reply.data, dict) else {}
        rules = dict((sid, None) for sid in ids)
        for item in data.get('ForbidStreamRuleList') or []:
            if not isinstance(item, dict) or _text(item.get('StreamId')) not in rules:
                continue
            audio, video = _int(item.get('DisableAudio')) or 0, _int(item.get('DisableVideo')) or 0
            created, effective = _int(item.get('CreateTime')) or 0, _int(item.get('EffectiveTime')) or 0
            if not (audio or video or created or effective):
                continue  # every field 0: no rule
            rules[_text(item['StreamId'])] = {
                'disable_audio': bool(audio), 'disable_video': bool(video),
                'create_time': created, 'effective_time': effective,
                'expires_at': rule_expires_at(created, effective),
            }
        return rules, reply

    def close_room(self, room_id, custom_reason=None, room_close_callback=None):
        """CloseRoom. Returns a Reply (0, or 5018/5024 and the other room-missing codes); raises ZegoError.

        Paced to ZEGO's 1 request per second per AppID."""
        callback = None if room_close_callback is None else ('true' if room_close_callback else 'false')
        params = [('RoomId', room_id), ('CustomReason', custom_reason), ('RoomCloseCallback', callback)]
        return self.call('CloseRoom', params)

    def kickout_users(self, room_id, user_ids, custom_reason=None):
        """KickoutUser for at most KICKOUT_MAX_USERS users of one room (sent as UserId[]). Returns a Reply."""
        user_ids = list(user_ids)
        if not 0 < len(user_ids) <= KICKOUT_MAX_USERS:
            raise ValueError('KickoutUser takes 1 to %d users, got %d' % (KICKOUT_MAX_USERS, len(user_ids)))
        return self.call('KickoutUser', [('RoomId', room_id), ('UserId', user_ids), ('CustomReason', custom_reason)])

    def describe_users(self, room_id, user_ids):
        """DescribeUsers for at most DESCRIBE_USERS_MAX users of one room.

        Returns ``(statuses, reply)``: ``statuses`` maps each user ID ZEGO answered for to a dict
        (``in_room``, ``login_time``, ``user_role``); a room that does not exist gives ``{}``. Other codes
        raise ZegoError."""
        user_ids = list(user_ids)
        if not 0 < len(user_ids) <= DESCRIBE_USERS_MAX:
            raise ValueError('DescribeUsers takes 1 to %d users, got %d' % (DESCRIBE_USERS_MAX, len(user_ids)))
        reply = self.call('DescribeUsers', [('RoomId', room_id), ('UserId', user_ids)])
        if reply.code in ROOM_MISSING_CODES:
            return {}, reply
        _raise_unless_ok(reply)
        data = reply.data if isinstance(reply.data, dict) else {}
        statuses = {}
        for item in data.get('UserStatusList') or []:
            if isinstance(item, dict) and item.get('UserId') is not None:
                statuses[_text(item['UserId'])] = {
                    'in_room': _int(item.get('Status')) == 1,
                    'login_time': item.get('LoginTime'),
                    'user_role': item.get('UserRole'),
                }
        return statuses, reply

    def describe_user_num(self, room_ids):
        """DescribeUserNum for at most DESCRIBE_USER_NUM_MAX_ROOMS rooms (sent as RoomId[]).

        Returns ``(counts, reply)``: ``counts`` maps room ID to ``{user_count, admin_user_count}``; a room
        that does not exist counts 0 (also when ZEGO leaves it out of the answer)."""
        room_ids = list(room_ids)
        if not 0 < len(room_ids) <= DESCRIBE_USER_NUM_MAX_ROOMS:
            raise ValueError('DescribeUserNum takes 1 to %d rooms, got %d' % (DESCRIBE_USER_NUM_MAX_ROOMS, len(room_ids)))
        reply = self.call('DescribeUserNum', [('RoomId', room_ids)])
        _raise_unless_ok(reply)
        data = reply.data if isinstance(reply.data, dict) else {}
        counts = dict((r, {'user_count': 0, 'admin_user_count': 0}) for r in room_ids)
        for item in data.get('UserCountList') or []:
            if isinstance(item, dict) and _text(item.get('RoomId')) in counts:
                counts[_text(item['RoomId'])] = {'user_count': _int(item.get('UserCount')) or 0,
                                                 'admin_user_count': _int(item.get('AdminUserCount')) or 0}
        return counts, reply

    def describe_user_list(self, room_id, marker=None, limit=USER_LIST_MAX_LIMIT, mode=0):
        """One page of DescribeUserList. Returns ``(users, next_marker, reply)``; ``next_marker`` is empty
        on the last page. A room that does not exist has no users. Paced to 1 call per room per second."""
        reply = self.call('DescribeUserList', [('RoomId', room_id), ('Mode', str(int(mode))),
                                               ('Limit', str(int(limit))), ('Marker', marker or None)])
        if reply.code in ROOM_MISSING_CODES:
            return [], '', reply
        _raise_unless_ok(reply)
        data = reply.data if isinstance(reply.data, dict) else {}
        users = []
        for item in data.get('UserList') or []:
            if isinstance(item, dict):
                users.append({'user_id': _text(item.get('UserId')), 'user_name': _text(item.get('UserName')),
                              'user_role': item.get('UserRole')})
        return users, _text(data.get('Marker')) or '', reply

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


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _raise_unless_ok(reply):
    if reply.code != OK:
        raise ZegoError(describe_code(reply.code, reply.message), code=reply.code, zego_message=reply.message,
                        request_id=reply.request_id, action=reply.action, attempts=reply.attempts, retryable=False)


def _describe_params(params):
    d = dict((k, ','.join('%s' % x for x in v) if isinstance(v, (list, tuple)) else v) for k, v in params)
    if 'StreamId' in d and 'RoomId' not in d:  # media-service actions name streams only
        return '%s' % d['StreamId']
    if 'StreamId' in d:
        return '%s/%s' % (d.get('RoomId'), d.get('StreamId'))
    return '%s' % d.get('RoomId', '')
