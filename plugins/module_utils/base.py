# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every zego.rtc module shares: the connection options (one argument spec, documented by the
``zego.rtc.api`` doc fragment), input validation that runs before any API call, and ``ZegoModule``,
the one class that owns a module's result and turns it into ``exit_json`` / ``fail_json``."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re
import threading
import traceback

from ansible.module_utils.basic import env_fallback, missing_required_lib

from ansible_collections.zego.rtc.plugins.module_utils.api import (
    DEFAULT_API_URL,
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    ZegoClient,
    ZegoError,
    DEFAULT_RATE_LIMIT_WAIT,
    InternalError,
    check_api_url,
    describe_exception,
)
from ansible_collections.zego.rtc.plugins.module_utils.ratelimit import (
    PacingError,
    RedisStore,
    parse_store_url,
)

MAX_UINT32 = 4294967295
MAX_CONCURRENCY = 32

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
        retries=dict(type='int', default=5),
        timeout=dict(type='float', default=10.0),
        validate_certs=dict(type='bool', default=True),
        ca_path=dict(type='path'),
        rate_limit_backend=dict(type='str', no_log=True, fallback=(env_fallback, ['ZEGO_RATE_LIMIT_BACKEND'])),
        rate_limit_backend_ca_path=dict(type='path'),
        rate_limit_wait=dict(type='float', default=DEFAULT_RATE_LIMIT_WAIT),
    )
    spec.update(extra)
    return spec


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
            self._client = ZegoClient(
                app_id=p['app_id'], secret=p['server_secret'], api_url=p['api_url'], is_test=p['is_test'],
                timeout=p['timeout'], retries=p['retries'], validate_certs=p['validate_certs'],
                ca_path=p['ca_path'], rate_limit=p['rate_limit'], concurrency=self.max_in_flight(),
                warn=self.module.warn, store=self.connect_store(), rate_limit_wait=p['rate_limit_wait'])
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
        secret = self.params.get('server_secret')
        if secret and text:
            text = text.replace(secret, '********')
        for secret in self._store_secrets:
            if text:
                text = text.replace(secret, '********')
        return text

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
