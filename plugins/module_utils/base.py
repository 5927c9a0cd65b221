# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every zego.rtc module shares: the connection options (one argument spec, documented by the
``zego.rtc.api`` doc fragment), input validation that runs before any API call (options, IDs, lists of IDs),
and ``ZegoModule``, the one class that owns a module's result and turns it into ``exit_json`` / ``fail_json``."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re
import threading
import traceback

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover  (Python 2)
    from urlparse import urlsplit  # type: ignore

from ansible.module_utils.basic import env_fallback, missing_required_lib

from ansible_collections.zego.rtc.plugins.module_utils.client import (
    DEFAULT_API_URL,
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    Settings,
    ZegoClient,
)
from ansible_collections.zego.rtc.plugins.module_utils.errors import InternalError, ZegoError, describe_exception
from ansible_collections.zego.rtc.plugins.module_utils.ratelimit import PacingError
from ansible_collections.zego.rtc.plugins.module_utils.signing import mask
from ansible_collections.zego.rtc.plugins.module_utils.store import RedisStore, parse_store_url

MAX_UINT32 = 4294967295
MAX_CONCURRENCY = 32
# CloseRoom / KickoutUser CustomReason: at most this many UTF-8 bytes
CUSTOM_REASON_MAX = 256

# ZEGO's identifier limits (UTF-8 bytes) and character sets. StreamId: the current documented set.
# RoomId/UserId: the set ZEGO's SDKs accept.
ID_RULES = {
    'room_id': (128, re.compile(r"^[A-Za-z0-9~!@#$%^&*()_+=`;',.<>/\\-]+$"),
                "letters, digits and ~!@#$%^&*()_+=-`;',.<>/\\"),
    'user_id': (64, re.compile(r"^[A-Za-z0-9~!@#$%^&*()_+=`;',.<>/\\-]+$"),
                "letters, digits and ~!@#$%^&*()_+=-`;',.<>/\\"),
    'stream_id': (256, re.compile(r'^[A-Za-z0-9_-]+$'), "letters, digits, '-' and '_'"),
    'user_name': (256, None, None),
}


def zego_argument_spec(**extra):
    """The connection options every module takes, plus the module's own."""
    spec = dict(
        app_id=dict(type='int', required=True, fallback=(env_fallback, ['ZEGO_APP_ID'])),
        server_secret=dict(type='str', required=True, no_log=True, fallback=(env_fallback, ['ZEGO_SERVER_SECRET'])),
        api_url=dict(type='str', default=DEFAULT_API_URL, fallback=(env_fallback, ['ZEGO_API_URL'])),
        is_test=dict(type='bool', default=False, fallback=(env_fallback, ['ZEGO_IS_TEST'])),
        rate_limit=dict(type='float'),
        retries=dict(type='int', default=Settings.retries),
        timeout=dict(type='float', default=Settings.timeout),
        validate_certs=dict(type='bool', default=True),
        ca_path=dict(type='path'),
        rate_limit_backend=dict(type='str', no_log=True, fallback=(env_fallback, ['ZEGO_RATE_LIMIT_BACKEND'])),
        rate_limit_backend_ca_path=dict(type='path'),
        rate_limit_wait=dict(type='float', default=Settings.rate_limit_wait),
    )
    spec.update(extra)
    return spec


def batch_argument_spec(**extra):
    """The options of every module that changes a list of items (the ``zego.rtc.batch`` doc fragment), plus the
    connection options and the module's own."""
    return zego_argument_spec(concurrency=dict(type='int'), **extra)


_LOOPBACK_HOSTS = ('localhost', '::1')


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


def check_id(field, value, where=None):
    """Return an error message if ``value`` is not a valid ZEGO ``field`` (room_id, ...), else None."""
    name = '%s.%s' % (where, field) if where else field
    max_bytes, pattern, allowed = ID_RULES[field]
    if value is None:
        return None
    if not isinstance(value, str):
        return '%s must be a string, got %s' % (name, type(value).__name__)
    if not value.strip():
        return '%s must not be empty' % name
    size = len(value.encode('utf-8'))
    if size > max_bytes:
        return '%s is %d bytes long; ZEGO allows at most %d' % (name, size, max_bytes)
    if pattern is not None and not pattern.match(value):
        bad = sorted(set(c for c in value if not pattern.match(c)))
        return '%s %r contains characters ZEGO does not allow (%s); allowed: %s' % (
            name, value, ''.join(bad), allowed)
    return None


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


class ZegoModule(object):
    """Owns one module run: validates the connection options, builds the client, collects the
    result and ends the run. Subclasses implement ``run()``."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.result = {'changed': False}
        self._client = None
        self._store_secrets = []
        self._client_lock = threading.Lock()
        self._ending = False  # exit() or fail() was called: what they raise is not an unexpected error

    # -- validation (before any API call) ------------------------------------------------------
    def connection_errors(self):
        p = self.params
        errors = []
        if p['app_id'] is not None and not 0 < p['app_id'] <= MAX_UINT32:
            errors.append('app_id must be the positive numeric AppID from the ZEGO console, got %s' % p['app_id'])
        secret = p['server_secret']
        if not secret or not secret.strip():
            errors.append('server_secret (ZEGO_SERVER_SECRET) must not be empty')
        elif secret != secret.strip():
            errors.append('server_secret (ZEGO_SERVER_SECRET) has leading or trailing white space')
        url_error = check_api_url(p['api_url'])
        if url_error:
            errors.append(url_error)
        if p['rate_limit'] is not None and not p['rate_limit'] > 0:
            errors.append('rate_limit must be greater than 0, got %s' % p['rate_limit'])
        if p['rate_limit_wait'] is not None and p['rate_limit_wait'] < 0:
            errors.append('rate_limit_wait must be 0 or more seconds, got %s' % p['rate_limit_wait'])
        if p.get('rate_limit_backend'):
            try:
                parse_store_url(p['rate_limit_backend'])
            except PacingError as exc:
                errors.append(exc.message)
        if p['retries'] < 0:
            errors.append('retries must be 0 or more, got %s' % p['retries'])
        if not p['timeout'] > 0:
            errors.append('timeout must be greater than 0, got %s' % p['timeout'])
        if p.get('concurrency') is not None and not 1 <= p['concurrency'] <= MAX_CONCURRENCY:
            errors.append('concurrency must be between 1 and %d, got %s' % (MAX_CONCURRENCY, p['concurrency']))
        return errors

    def validate(self, errors):
        """Fail before any API call if there are errors."""
        errors = self.connection_errors() + list(errors)
        if errors:
            msg = 'invalid input, nothing was changed: ' + '; '.join(errors[:20])
            if len(errors) > 20:
                msg += '; ... and %d more' % (len(errors) - 20)
            self.result['errors'] = errors
            self.fail(msg)

    # -- client ----------------------------------------------------------------------------------
    @property
    def client(self):
        with self._client_lock:  # worker threads may ask first: build one client, once
            return self._make_client()

    def _make_client(self):
        if self._client is None:
            if not HAS_REQUESTS:
                self.module.fail_json(msg=missing_required_lib('requests'), exception=REQUESTS_IMPORT_ERROR)
            p = self.params
            if not p['validate_certs']:
                self.module.warn('validate_certs is false: the TLS certificate of %s is not checked, so the '
                                 'ServerSecret-signed requests could go to an impostor' % p['api_url'])
            settings = Settings(app_id=p['app_id'], secret=p['server_secret'], api_url=p['api_url'],
                                is_test=p['is_test'], timeout=p['timeout'], retries=p['retries'],
                                validate_certs=p['validate_certs'], ca_path=p['ca_path'], rate_limit=p['rate_limit'],
                                rate_limit_wait=p['rate_limit_wait'], pool_size=self.max_in_flight())
            self._client = ZegoClient(settings, warn=self.module.warn, store=self.connect_store())
        return self._client

    def max_in_flight(self):
        """Most requests this module keeps in flight (the HTTP connection pool is this large)."""
        return self.params.get('concurrency') or 1

    def connect_store(self):
        """The shared rate-limit store of ``rate_limit_backend``, connected, or None. Fails the task before
        any ZEGO request if redis-py is missing or the store cannot be used (naming it, never its password)."""
        url = self.params.get('rate_limit_backend')
        if not url:
            return None
        store = RedisStore(url, ca_path=self.params.get('rate_limit_backend_ca_path'))
        self._store_secrets = store.url.secrets()
        try:
            store.connect()
        except ImportError:
            self.module.fail_json(msg=missing_required_lib(
                'redis', reason='for rate_limit_backend (ZEGO_RATE_LIMIT_BACKEND): pip install redis'), **self.result)
        except PacingError as exc:
            self.result['errors'] = [exc.message]
            self.module.fail_json(msg='%s; nothing was sent to ZEGO' % exc.message, **self.result)
        return store

    # -- ending the run ---------------------------------------------------------------------------
    def scrub(self, text):
        if self._client is not None:
            return self._client.scrub(text)
        return mask(text, [self.params.get('server_secret')] + self._store_secrets)

    def fail(self, msg, **extra):
        self._ending = True
        self.result.update(extra)
        self.close()
        self.module.fail_json(msg=self.scrub(msg), **self.result)

    def exit(self, **extra):
        self._ending = True
        self.result.update(extra)
        self.close()
        self.module.exit_json(**self.result)

    def close(self):
        if self._client is not None:
            self._client.close()

    def run(self):  # pragma: no cover - implemented by subclasses
        raise NotImplementedError

    def execute(self):
        try:
            self.run()
        except ZegoError as exc:
            self.fail(exc.message, error=exc.to_dict())
        except InternalError as exc:
            self.fail_unexpected(exc.message, exc.traceback)
        except Exception as exc:  # pylint: disable=broad-except
            if self._ending:
                raise  # exit_json/fail_json themselves (a test harness may raise from them)
            self.fail_unexpected('unexpected error: %s' % describe_exception(exc), traceback.format_exc())

    def fail_unexpected(self, message, trace):
        """Fail the task for an exception nobody foresaw: what it was doing and what went wrong in words, the
        traceback (shown at -vvv) with every secret scrubbed."""
        self.fail('%s (a bug in zego.rtc: please report it with the traceback that -vvv shows)' % message,
                  exception=self.scrub(trace))
