# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for unit tests: a scripted HTTP conversation with ZEGO and a module runner.

``zego_http`` replaces the network with a script: each expected request (action and parameters)
with its answer, in order. A request that is not next in the script fails the test, so a test that
scripts only list calls proves that no DeleteStream is sent. Requests of one stage (consecutive entries
for the same action) may come in any order, as the worker pool sends them; each takes the first of
those entries whose parameters it matches. Every request's signature is checked
independently against the test secret.
"""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import contextlib
import hashlib
import json
import os
import threading

import pytest
import responses

from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes

try:  # ansible-core >= 2.19
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # 2.16 - 2.18
    @contextlib.contextmanager
    def patch_module_args(args=None):
        payload = to_bytes(json.dumps({'ANSIBLE_MODULE_ARGS': args or {}}))
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(basic, '_ANSIBLE_ARGS', payload)
            yield

try:
    from hypothesis import settings
except ImportError:  # tests/unit/requirements.txt has it; the tests that need it skip without it
    settings = None

try:
    from urllib.parse import parse_qs, urlsplit
except ImportError:  # pragma: no cover
    from urlparse import parse_qs, urlsplit  # type: ignore

if settings is not None:
    # Every run explores new examples, except under CI, where the examples are the same every time (a failure
    # there must be one a developer can reproduce: `CI=true` runs the same ones); no example database is written
    # into the tree. One profile for every test module, whichever of them a worker imports first.
    settings.register_profile('zego', database=None, derandomize=os.environ.get('CI') == 'true')
    settings.load_profile('zego')

APP_ID = 1234567890
SECRET = '5f4dcc3b5aa765d61d8327deb882cf99'
API_URL = 'https://rtc-api.example.test'


class Expect(object):
    def __init__(self, action, params, code, message, data, status, body, exc):
        self.action = action
        self.params = params or {}
        self.code = code
        self.message = message
        self.data = data
        self.status = status
        self.body = body
        self.exc = exc


class Conversation(object):
    """The scripted server side."""

    app_id = APP_ID
    secret = SECRET
    api_url = API_URL

    def __init__(self):
        self.script = []
        self.seen = []
        self.request_id = 1000
        self.lock = threading.Lock()

    def expect(self, action, params=None, code=0, message=None, data=None, status=200, body=None, exc=None):
        self.script.append(Expect(action, params, code, message, data, status, body, exc))
        return self

    def _take(self, query):
        """The script's entry for this request: the next one, or, when the next few expect the same action (one
        stage of a batch, whose requests the worker pool may send in any order), the first of them whose
        parameters match. A request that matches none fails the test with the next entry's expectation."""
        if not self.script:
            raise AssertionError('unexpected request: %s %s' % (query.get('Action'), _plain(query)))
        first = self.script[0]
        if query.get('Action') != first.action:
            raise AssertionError('expected %s, got %s %s' % (first.action, query.get('Action'), _plain(query)))
        for index, exp in enumerate(self.script):
            if exp.action != first.action:
                break
            if all(query.get(key) == value for key, value in exp.params.items()):
                return self.script.pop(index)
        for key, value in first.params.items():
            if query.get(key) != value:
                raise AssertionError('%s: expected %s=%r, got %r' % (first.action, key, value, query.get(key)))
        raise AssertionError('unreachable')  # pragma: no cover

    def actions(self):
        return [q['Action'] for q in self.seen]

    def callback(self, request):
        # a plain name: its value; an array name such as UserId[]: the list of its values, in order
        query = dict((k, v if k.endswith('[]') else v[0])
                     for k, v in parse_qs(urlsplit(request.url).query, keep_blank_values=True).items())
        self.seen.append(query)
        expected_sig = hashlib.md5(('%s%s%s%s' % (query['AppId'], query['SignatureNonce'], SECRET,
                                                  query['Timestamp'])).encode('utf-8')).hexdigest()
        if query.get('Signature') != expected_sig or query.get('SignatureVersion') != '2.0':
            raise AssertionError('badly signed request')
        with self.lock:
            exp = self._take(query)
            self.request_id += 1
            request_id = self.request_id
        if exp.exc is not None:
            raise exp.exc
        if exp.body is not None:
            return exp.status, {'Content-Type': 'text/html'}, exp.body
        answer = {'Code': exp.code, 'Message': exp.message or ('success' if exp.code == 0 else 'error %s' % exp.code),
                  'RequestId': str(request_id)}
        if exp.data is not None:
            answer['Data'] = exp.data
        return exp.status, {'Content-Type': 'application/json'}, json.dumps(answer)


def _plain(query):
    return dict((k, v) for k, v in query.items() if k not in ('Signature', 'SignatureNonce', 'Timestamp'))


@pytest.fixture
def zego_http(monkeypatch, tmp_path):
    """A Conversation wired into requests; sleeps are recorded, not slept."""
    conv = Conversation()
    conv.sleeps = []
    monkeypatch.setenv('ZEGO_RTC_STATE_DIR', str(tmp_path / 'state'))
    (tmp_path / 'state').mkdir(mode=0o700)
    from ansible_collections.zego.rtc.plugins.module_utils import client
    monkeypatch.setattr(client.time, 'sleep', conv.sleeps.append)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_callback(responses.GET, API_URL + '/', callback=conv.callback)
        yield conv
    assert not conv.script, 'expected requests that were never sent: %s' % [e.action for e in conv.script]


class ModuleExit(Exception):
    def __init__(self, result, failed):
        super(ModuleExit, self).__init__(result.get('msg'))
        self.result = result
        self.failed = failed


@pytest.fixture
def run_module(monkeypatch):
    """run_module(module, args) -> (result dict, failed bool)."""
    def exit_json(self, **kwargs):
        kwargs.setdefault('changed', False)
        raise ModuleExit(kwargs, False)

    def fail_json(self, msg, **kwargs):
        kwargs['msg'] = msg
        raise ModuleExit(kwargs, True)

    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)
    warnings = []
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, msg: warnings.append(msg))

    def run(module, args, check_mode=False, diff=False, connection=True):
        del warnings[:]
        full = {'app_id': APP_ID, 'server_secret': SECRET, 'api_url': API_URL} if connection else {}
        full.update(args)
        if check_mode:
            full['_ansible_check_mode'] = True
        if diff:
            full['_ansible_diff'] = True
        with patch_module_args(full):
            with pytest.raises(ModuleExit) as info:
                module.main()
        result = dict(info.value.result, warnings=list(warnings))
        return result, info.value.failed

    return run
