# -*- coding: utf-8 -*-
# Copyright: Contributors to the zego.rtc collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The zego.rtc.callbacks event source over real loopback HTTP(S): verification, every refusal,
redeliveries, the bounded memory, the official test vector."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import asyncio
import json
import logging
import os
import secrets
import socket
import ssl
import sys
import time

from urllib.parse import urlencode

import aiohttp
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'extensions', 'eda', 'plugins', 'event_source'))

import callbacks  # noqa: E402  pylint: disable=wrong-import-position

SECRET = 'cb-' + secrets.token_hex(16)
APP_ID = 1234567890


def signed(fields, secret=SECRET, timestamp=None, nonce=None):
    """A ZEGO-shaped callback body with a correct signature (computed independently of the source)."""
    import hashlib
    body = dict(fields)
    ts = body.get('timestamp', '%d' % int(time.time())) if timestamp is None else timestamp
    body['timestamp'] = ts
    body['nonce'] = nonce if nonce is not None else body.get('nonce', secrets.token_hex(4))
    parts = sorted([secret, str(ts), str(body['nonce'])])
    body['signature'] = hashlib.sha1(''.join(parts).encode()).hexdigest()
    return body


def signed_capitalised(fields, secret=SECRET, timestamp=None, nonce=None):
    """A ZEGO moderation callback: Event, AppId, Timestamp (JSON numbers), Nonce, Signature."""
    import hashlib
    body = dict(fields)
    ts = body.get('Timestamp', int(time.time())) if timestamp is None else timestamp
    body['Timestamp'] = ts
    body['Nonce'] = nonce if nonce is not None else body.get('Nonce', secrets.token_hex(4))
    body['Signature'] = hashlib.sha1(''.join(sorted([secret, str(ts), str(body['Nonce'])])).encode()).hexdigest()
    return body


def censor(level='REJECT', event='censor_audio_v2_result', **extra):
    fields = {'Event': event, 'AppId': APP_ID, 'Code': 0, 'Message': 'success', 'TaskId': 't1',
              'ResultTaskId': 't1_s1_3', 'Detail': {'RiskLevel': level, 'AudioText': 'x', 'AudioUrl': 'https://a/s1.mp3',
                                                    'RiskDescription': 'Abuse'}}
    fields.update(extra)
    return fields


def stream_create(**extra):
    fields = {
        'event': 'stream_create', 'appid': str(APP_ID), 'room_id': 'room1', 'room_session_id': '858861968172269569',
        'user_id': 'u1', 'user_name': 'Ann', 'channel_id': '0', 'stream_id': 's1', 'stream_alias': 's1',
        'stream_sid': 's-1234', 'title': '', 'stream_attr': '{"cid":0}', 'stream_seq': '2', 'create_time': '1700000000',
        'create_time_ms': '1700000000123', 'extra_info': '', 'recreate': '0', 'publish_id': 'u1',
        'publish_name': 'Ann', 'rtmp_url': ['rtmp://x/live/s1'], 'hls_url': [], 'hdl_url': [], 'pic_url': [],
    }
    fields.update(extra)
    return fields


class Endpoint:
    """The source running on a free loopback port, with the queue ansible-rulebook would give it (and with
    feedback=True, its feedback queue: tests play the rule engine with take())."""

    def __init__(self, **args):
        self.queue = asyncio.Queue(maxsize=args.pop('queue_size', 0))
        self.args = dict({'port': 0, 'callback_secret': SECRET}, **args)
        self.feedback = None
        if args.get('feedback'):
            # as ansible-rulebook 1.3 makes it: one item
            self.feedback = self.args['eda_feedback_queue'] = asyncio.Queue(1)
        self.task = None
        self.port = None
        self.receiver = None
        self.session = None

    async def __aenter__(self):
        ready = asyncio.get_running_loop().create_future()
        self.task = asyncio.ensure_future(callbacks.serve(self.queue, self.args, ready))
        done, dummy = await asyncio.wait([ready, self.task], timeout=30, return_when=asyncio.FIRST_COMPLETED)
        assert ready in done, 'the source did not start: %r' % (self.task.exception() if self.task.done() else None)
        self.port, self.receiver = ready.result()
        self.session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc):
        await self.session.close()
        self.task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self.task

    @property
    def url(self):
        return '%s://127.0.0.1:%d/zego/callback' % ('https' if self.args.get('certfile') else 'http', self.port)

    async def post(self, body, content_type='application/json', **kw):
        if isinstance(body, dict):
            body = json.dumps(body)
        async with self.session.post(self.url, data=body, headers={'Content-Type': content_type}, **kw) as resp:
            return resp.status, await resp.text()

    async def take(self):
        """What ansible-rulebook does: take the next event, post it to the engine, then report it."""
        data = await asyncio.wait_for(self.queue.get(), 30)
        await self.feedback.put(data)
        return data

    def queued(self):
        items = []
        while not self.queue.empty():
            items.append(self.queue.get_nowait())
        return items


def run(coro):
    return asyncio.run(coro)


def refusals(caplog):
    return [r for r in caplog.records if r.name == 'zego.rtc.callbacks' and r.levelno == logging.WARNING]


def test_official_test_vector():
    assert callbacks.signature('secret', '1470820198', '123412') == '5bd59fd62953a8059fb7eaba95720f66d19e4517'


def test_valid_callback_is_queued_with_fields_as_sent(caplog):
    async def scenario():
        async with Endpoint(app_id=APP_ID) as ep:
            body = signed(stream_create())
            status, dummy = await ep.post(body)
            return status, body, ep.queued()
    caplog.set_level(logging.INFO)
    status, body, queued = run(scenario())
    assert status == 200
    assert len(queued) == 1
    payload, meta = queued[0]['payload'], queued[0]['meta']
    expected = dict(body)
    del expected['signature']
    assert payload == expected
    assert payload['stream_seq'] == '2' and payload['appid'] == str(APP_ID)
    assert meta == {'endpoint': '/zego/callback', 'event': 'stream_create', 'app_id': str(APP_ID),
                    'timestamp': int(body['timestamp']), 'remote_addr': '127.0.0.1'}
    assert not refusals(caplog)
    assert SECRET not in caplog.text


def test_room_callback_with_numeric_timestamp_and_appid():
    async def scenario():
        async with Endpoint(app_id=str(APP_ID)) as ep:
            body = signed({'event': 'room_create', 'appid': APP_ID, 'room_id': 'r', 'room_session_id': 858861968172269569,
                           'room_create_time': 1700000000123, 'id_name': 'u1'}, timestamp=int(time.time()))
            return await ep.post(body), body, ep.queued()
    (status, dummy), body, queued = run(scenario())
    assert status == 200
    assert queued[0]['payload']['room_session_id'] == 858861968172269569
    assert queued[0]['meta']['app_id'] == str(APP_ID)
    assert queued[0]['meta']['timestamp'] == body['timestamp']


def test_url_encoded_form_body():
    async def scenario():
        async with Endpoint(app_id=APP_ID) as ep:
            body = signed(stream_create(rtmp_url='rtmp://x/live/s1'))
            return await ep.post(urlencode(body), 'application/x-www-form-urlencoded'), ep.queued()
    (status, dummy), queued = run(scenario())
    assert status == 200
    assert queued[0]['payload']['stream_id'] == 's1'
    assert queued[0]['payload']['user_name'] == 'Ann'


def _fresh():
    return '%d' % int(time.time())


REJECTS = [
    ('wrong signature', lambda: dict(signed(stream_create()), signature='0' * 40), 'application/json', 401),
    ('signed with another secret', lambda: signed(stream_create(), secret='other'), 'application/json', 401),
    ('signature missing', lambda: dict((k, v) for k, v in signed(stream_create()).items() if k != 'signature'),
     'application/json', 401),
    ('signature empty', lambda: dict(signed(stream_create()), signature=''), 'application/json', 401),
    ('nonce missing', lambda: dict((k, v) for k, v in signed(stream_create()).items() if k != 'nonce'),
     'application/json', 401),
    ('stale timestamp', lambda: signed(stream_create(), timestamp='%d' % (time.time() - 121)), 'application/json', 401),
    ('future timestamp', lambda: signed(stream_create(), timestamp='%d' % (time.time() + 121)), 'application/json', 401),
    ('non-numeric timestamp', lambda: signed(stream_create(), timestamp='now'), 'application/json', 401),
    ('fractional timestamp', lambda: signed(stream_create(), timestamp='%d.5' % time.time()), 'application/json', 401),
    ('timestamp missing', lambda: dict((k, v) for k, v in signed(stream_create()).items() if k != 'timestamp'),
     'application/json', 401),
    ('foreign AppID', lambda: signed(stream_create(appid='987654321')), 'application/json', 403),
    ('AppID missing', lambda: signed(dict((k, v) for k, v in stream_create().items() if k != 'appid')),
     'application/json', 403),
    ('not JSON', lambda: '{"event": "stream_create", ', 'application/json', 400),
    ('JSON array', lambda: json.dumps([signed(stream_create())]), 'application/json', 400),
    ('plain text', lambda: 'hello', 'text/plain', 400),
    ('event missing', lambda: signed(dict((k, v) for k, v in stream_create().items() if k != 'event')),
     'application/json', 400),
    ('too large', lambda: signed(stream_create(extra_info='x' * 70000)), 'application/json', 413),
]


@pytest.mark.parametrize('make_body,content_type,status', [r[1:] for r in REJECTS], ids=[r[0] for r in REJECTS])
def test_refused_callbacks_are_not_queued_and_logged_once(caplog, make_body, content_type, status):
    async def scenario():
        async with Endpoint(app_id=APP_ID) as ep:
            answer = await ep.post(make_body(), content_type)
            return answer, ep.queued()
    caplog.set_level(logging.DEBUG)
    (got, text), queued = run(scenario())
    assert got == status, text
    assert queued == []
    logged = refusals(caplog)
    assert len(logged) == 1
    assert 'HTTP %d' % status in logged[0].getMessage()
    assert SECRET not in caplog.text


def test_chunked_body_over_the_limit_is_refused():
    async def chunks():
        for dummy in range(20):
            yield b'x' * 4096

    async def scenario():
        async with Endpoint(max_body_size=16384) as ep:
            async with ep.session.post(ep.url, data=chunks(), headers={'Content-Type': 'application/json'}) as resp:
                return resp.status, ep.queued()
    status, queued = run(scenario())
    assert status == 413
    assert queued == []


def test_redelivery_is_answered_and_not_queued_again(caplog):
    async def scenario():
        async with Endpoint(app_id=APP_ID) as ep:
            body = signed(stream_create())
            answers = [await ep.post(body) for dummy in range(3)]
            # the same signed triple with another body: a replay, not a new callback
            answers.append(await ep.post(dict(body, stream_id='other')))
            # a new nonce is a new callback
            answers.append(await ep.post(signed(stream_create(stream_id='s2'))))
            return answers, ep.queued()
    caplog.set_level(logging.INFO)
    answers, queued = run(scenario())
    assert [a[0] for a in answers] == [200] * 5
    assert [q['payload']['stream_id'] for q in queued] == ['s1', 's2']
    assert not refusals(caplog)


def test_remembered_callbacks_are_bounded():
    async def scenario():
        async with Endpoint(remember=3) as ep:
            bodies = [signed(stream_create(stream_id='s%d' % i)) for i in range(6)]
            for body in bodies:
                assert (await ep.post(body))[0] == 200
            size = len(ep.receiver.replays)
            # the newest three are still recognised
            for body in bodies[3:]:
                assert (await ep.post(body))[0] == 200
            return size, ep.queued()
    size, queued = run(scenario())
    assert size == 3
    assert [q['payload']['stream_id'] for q in queued] == ['s%d' % i for i in range(6)]


def test_remembered_callbacks_expire_after_twice_max_age():
    now = [1000.0]
    replays = callbacks.Replays(max_age=60, capacity=100, clock=lambda: now[0])
    replays.add(('1', 'a', 'sig'))
    now[0] += 100
    replays.add(('2', 'b', 'sig'))
    assert replays.seen(('1', 'a', 'sig'))
    now[0] += 21
    assert not replays.seen(('1', 'a', 'sig'))
    assert replays.seen(('2', 'b', 'sig'))
    assert len(replays) == 1


def test_events_filter():
    async def scenario():
        async with Endpoint(events=['stream_create']) as ep:
            close = signed({'event': 'stream_close', 'appid': str(APP_ID), 'room_id': 'room1', 'stream_id': 's1',
                            'type': '100'})
            answers = [await ep.post(close), await ep.post(signed(stream_create()))]
            return answers, ep.queued()
    answers, queued = run(scenario())
    assert [a[0] for a in answers] == [200, 200]
    assert [q['payload']['event'] for q in queued] == ['stream_create']


def test_full_queue_does_not_block_the_answer():
    async def scenario():
        async with Endpoint(queue_size=1) as ep:
            first = await ep.post(signed(stream_create(stream_id='s1')))
            second = await asyncio.wait_for(ep.post(signed(stream_create(stream_id='s2'))), 30)
            got = [ep.queue.get_nowait()['payload']['stream_id']]
            got.append((await asyncio.wait_for(ep.queue.get(), 30))['payload']['stream_id'])
            return first[0], second[0], got
    assert run(scenario()) == (200, 200, ['s1', 's2'])


def test_only_post():
    async def scenario():
        async with Endpoint() as ep:
            async with ep.session.get(ep.url) as resp:
                return resp.status, ep.queued()
    assert run(scenario()) == (405, [])


def test_tls(tmp_path):
    import trustme
    ca = trustme.CA()
    cert = ca.issue_cert('127.0.0.1')
    certfile, keyfile = str(tmp_path / 'cert.pem'), str(tmp_path / 'key.pem')
    cert.cert_chain_pems[0].write_to_path(certfile)
    cert.private_key_pem.write_to_path(keyfile)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)

    async def scenario():
        async with Endpoint(certfile=certfile, keyfile=keyfile) as ep:
            assert ep.url.startswith('https://')
            return await ep.post(signed(stream_create()), ssl=client_ctx), ep.queued()
    (status, dummy), queued = run(scenario())
    assert status == 200
    assert len(queued) == 1


def test_main_as_ansible_rulebook_calls_it():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]

    async def scenario():
        queue = asyncio.Queue()
        task = asyncio.ensure_future(callbacks.main(queue, {'host': '127.0.0.1', 'port': port,
                                                            'callback_secret': SECRET}))
        async with aiohttp.ClientSession() as session:
            for dummy in range(300):
                try:
                    async with session.post('http://127.0.0.1:%d/' % port, json=signed(stream_create())) as resp:
                        status = resp.status
                    break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
        item = await asyncio.wait_for(queue.get(), 30)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return status, item
    status, item = run(scenario())
    assert status == 200
    assert item['payload']['stream_id'] == 's1'


@pytest.mark.parametrize('args,messages', [
    ({}, ['port is required', 'callback_secret is required']),
    ({'port': 'x', 'callback_secret': ''}, ['port must be an integer', 'callback_secret is required']),
    ({'port': 70000, 'callback_secret': 's', 'app_id': 'abc', 'max_age': 0},
     ['port must be at most 65535', 'app_id must be a ZEGO AppID', 'max_age must be at least 1']),
    ({'port': 1, 'callback_secret': 's', 'events': [1], 'keyfile': '/k'}, ['events must be a list', 'keyfile needs certfile']),
])
def test_bad_arguments_name_every_problem(args, messages):
    with pytest.raises(ValueError) as err:
        callbacks.Settings(args)
    for message in messages:
        assert message in str(err.value)


def test_secret_of_digits_templated_to_a_number():
    assert callbacks.Settings({'port': 1, 'callback_secret': 1234567}).secret == '1234567'
    assert callbacks.Settings({'port': '5000', 'callback_secret': 's', 'app_id': '1234567890'}).app_id == '1234567890'


@pytest.mark.parametrize('event', ['censor_audio_v2_result', 'censor_video_v2_audio_result'])
def test_capitalised_callback_is_verified_and_normalised_in_meta(event):
    async def scenario():
        async with Endpoint(app_id=APP_ID) as ep:
            body = signed_capitalised(censor(event=event))
            return await ep.post(body), body, ep.queued()
    (status, text), body, queued = run(scenario())
    assert status == 200, text
    (item,) = queued
    expected = dict(body)
    del expected['Signature']
    assert item['payload'] == expected  # ZEGO's names, JSON numbers as sent
    assert item['meta'] == {'endpoint': '/zego/callback', 'event': event, 'app_id': str(APP_ID),
                            'timestamp': body['Timestamp'], 'remote_addr': '127.0.0.1', 'risk_level': 'REJECT'}


CAPITAL_REJECTS = [
    ('wrong signature', lambda: dict(signed_capitalised(censor()), Signature='0' * 40), 401),
    ('signature missing', lambda: dict((k, v) for k, v in signed_capitalised(censor()).items() if k != 'Signature'),
     401),
    ('signed with another secret', lambda: signed_capitalised(censor(), secret='other'), 401),
    ('stale timestamp', lambda: signed_capitalised(censor(), timestamp=int(time.time()) - 121), 401),
    ('future timestamp', lambda: signed_capitalised(censor(), timestamp=int(time.time()) + 121), 401),
    ('fractional timestamp', lambda: signed_capitalised(censor(), timestamp=time.time()), 401),
    ('nonce missing', lambda: dict((k, v) for k, v in signed_capitalised(censor()).items() if k != 'Nonce'), 401),
    ('foreign AppId', lambda: signed_capitalised(censor(AppId=987654321)), 403),
    # a body in the capitalised shape is read in that shape only: a lower-case appid does not stand in
    ('lower-case appid in a capitalised body', lambda: signed_capitalised(
        dict((k, v) for k, v in censor(appid=APP_ID).items() if k != 'AppId')), 403),
    ('Event missing', lambda: signed_capitalised(dict((k, v) for k, v in censor().items() if k != 'Event')), 400),
]


@pytest.mark.parametrize('make_body,status', [r[1:] for r in CAPITAL_REJECTS], ids=[r[0] for r in CAPITAL_REJECTS])
def test_capitalised_callbacks_are_refused_as_the_lower_case_ones(caplog, make_body, status):
    async def scenario():
        async with Endpoint(app_id=APP_ID) as ep:
            return await ep.post(make_body()), ep.queued()
    caplog.set_level(logging.DEBUG)
    (got, text), queued = run(scenario())
    assert got == status, text
    assert queued == []
    assert len(refusals(caplog)) == 1
    assert SECRET not in caplog.text


def test_capitalised_redelivery_is_not_queued_again():
    async def scenario():
        async with Endpoint(app_id=APP_ID) as ep:
            body = signed_capitalised(censor())
            answers = [(await ep.post(body))[0] for dummy in range(3)]
            answers.append((await ep.post(dict(body, TaskId='other')))[0])
            return answers, ep.queued()
    answers, queued = run(scenario())
    assert answers == [200] * 4
    assert len(queued) == 1


@pytest.mark.parametrize('detail,level', [
    ({'RiskLevel': 'review'}, 'REVIEW'),
    ([{'RiskLevel': 'PASS'}, {'RiskLevel': 'REJECT'}], 'REJECT'),
    (json.dumps({'RiskLevel': 'REVIEW'}), 'REVIEW'),
    (json.dumps([{'RiskLevel': 'PASS'}]), 'PASS'),
])
def test_risk_level_is_found_in_every_form_of_detail(detail, level):
    assert max(callbacks.risk_levels({'Detail': detail}), key=callbacks.RISK_ORDER.get) == level


def test_risk_levels_filter_keeps_pass_verdicts_out_of_the_rule_engine(caplog):
    async def scenario():
        async with Endpoint(app_id=APP_ID, risk_levels=['REVIEW', 'reject']) as ep:
            answers = []
            for level in ('PASS', 'REVIEW', 'PASS', 'REJECT'):
                answers.append((await ep.post(signed_capitalised(censor(level))))[0])
            # a verdict without RiskLevel (an unknown form) and other callbacks are not filtered
            answers.append((await ep.post(signed_capitalised(censor(Detail={'Other': 1}))))[0])
            answers.append((await ep.post(signed(stream_create())))[0])
            return answers, ep.queued(), ep.receiver.counts['filtered']
    caplog.set_level(logging.DEBUG)
    answers, queued, filtered = run(scenario())
    assert answers == [200] * 6
    assert [q['meta'].get('risk_level') for q in queued] == ['REVIEW', 'REJECT', None, None]
    assert [q['meta']['event'] for q in queued] == ['censor_audio_v2_result'] * 3 + ['stream_create']
    assert filtered == 2
    assert not refusals(caplog)


def test_risk_levels_must_be_names():
    with pytest.raises(ValueError, match='risk_levels must be a list'):
        callbacks.Settings({'port': 1, 'callback_secret': 's', 'risk_levels': [1]})
    assert callbacks.Settings({'port': 1, 'callback_secret': 's', 'risk_levels': 'review, REJECT'}).risk_levels == \
        frozenset(['REVIEW', 'REJECT'])


def test_simulator_capitalised_callback_reaches_the_source():
    sys.path.insert(0, os.path.join(HERE, '..', 'simulator'))
    import zego_sim  # pylint: disable=import-outside-toplevel

    async def scenario():
        async with Endpoint(app_id=APP_ID, risk_levels=['REJECT']) as ep:
            with zego_sim.Simulator(app_id=APP_ID, secret='x' * 32, callback_url=ep.url, callback_secret=SECRET,
                                    callback_retry_scale=0.01) as sim:
                sim.callbacks.censor_result('censor_video_v2_audio_result', 'r1', 's1', 'PASS')
                sim.callbacks.censor_result('censor_video_v2_audio_result', 'r1', 's1', 'REJECT')
                await asyncio.get_running_loop().run_in_executor(None, sim.callbacks.wait_idle, 30)
                return sim.callbacks.log(), ep.queued()
    log, queued = run(scenario())
    assert [d['status'] for d in log] == [200, 200]
    (item,) = queued
    assert item['meta']['event'] == 'censor_video_v2_audio_result' and item['meta']['risk_level'] == 'REJECT'
    assert 's1' in item['payload']['ResultTaskId']


def test_batch_window_queues_a_raid_as_one_event_per_event_name():
    async def scenario():
        async with Endpoint(app_id=APP_ID, batch_window=0.3, batch_max_wait=5) as ep:
            answers = []
            for i in range(30):
                answers.append((await ep.post(signed(stream_create(stream_id='s%d' % i, user_id='u%d' % i))))[0])
                if i == 9:
                    answers.append((await ep.post(signed({'event': 'stream_close', 'appid': str(APP_ID),
                                                          'room_id': 'room1', 'stream_id': 'x', 'type': '100'})))[0])
            # answered at once, nothing queued yet: the windows are still open
            early = ep.queue.qsize()
            # the lone stream_close leaves 0.3 s after it came; the burst of stream_create waits longer
            # (4 x 0.3 s after its last callback) for stragglers
            await asyncio.sleep(0.7)
            lone = ep.queued()
            await asyncio.sleep(1.3)
            return answers, early, lone, ep.queued()
    answers, early, lone, burst = run(scenario())
    assert answers == [200] * 31
    assert early == 0
    (close,) = lone
    assert close['meta']['event'] == 'stream_close' and [p['type'] for p in close['batch']] == ['100']
    (creates,) = burst
    assert 'payload' not in creates
    assert [p['stream_id'] for p in creates['batch']] == ['s%d' % i for i in range(30)]
    assert creates['meta']['batch_size'] == 30 and creates['meta']['app_id'] == str(APP_ID)
    assert creates['meta']['endpoint'] == '/zego/callback'
    assert creates['meta']['timestamp'] == max(int(p['timestamp']) for p in creates['batch'])
    assert all('signature' not in p for p in creates['batch'])


def test_batch_is_queued_after_max_wait_while_callbacks_keep_coming_and_at_max_size():
    async def scenario():
        async with Endpoint(batch_window=0.5, batch_max_wait=0.8, batch_max_size=25) as ep:
            loop = asyncio.get_running_loop()
            start = loop.time()
            sizes = []
            # a callback every 0.1 s for 2 s: never quiet for 0.5 s
            for i in range(20):
                await ep.post(signed(stream_create(stream_id='t%d' % i)))
                await asyncio.sleep(0.1)
                while not ep.queue.empty():
                    sizes.append((round(loop.time() - start, 1), ep.queue.get_nowait()['meta']['batch_size']))
            await asyncio.sleep(1.0)
            sizes.extend((None, q['meta']['batch_size']) for q in ep.queued())
            # 30 at once with batch_max_size 25: one batch of 25 at once, then the rest
            for i in range(30):
                await ep.post(signed(stream_create(stream_id='m%d' % i)))
            full = ep.queue.qsize()
            await asyncio.sleep(1.0)
            return sizes, full, [q['meta']['batch_size'] for q in ep.queued()]
    sizes, full, rest = run(scenario())
    assert sum(n for dummy, n in sizes) == 20
    # the first batch left after batch_max_wait (0.8 s), not at the end of the stream of callbacks
    assert len(sizes) >= 2 and sizes[0][0] is not None and sizes[0][0] < 1.6
    assert full == 1 and rest == [25, 5]


def test_a_single_callback_leaves_after_the_quiet_window():
    async def scenario():
        async with Endpoint(batch_window=0.2, batch_max_wait=3) as ep:
            loop = asyncio.get_running_loop()
            await ep.post(signed(stream_create()))
            start = loop.time()
            item = await asyncio.wait_for(ep.queue.get(), 5)
            return loop.time() - start, item
    waited, item = run(scenario())
    assert 0.1 <= waited < 1.5
    assert [p['stream_id'] for p in item['batch']] == ['s1']


def test_open_batch_is_queued_when_the_source_stops():
    async def scenario():
        ep = Endpoint(batch_window=30, batch_max_wait=60)
        async with ep:
            await ep.post(signed(stream_create()))
            assert ep.queue.empty()
        return ep.queued()
    (item,) = run(scenario())
    assert item['meta']['batch_size'] == 1


@pytest.mark.parametrize('args,message', [
    ({'batch_window': -1}, 'batch_window must be between 0.0 and 3600'),
    ({'batch_window': 'soon'}, 'batch_window must be a number of seconds'),
    ({'batch_max_wait': 0}, 'batch_max_wait must be between 0.01 and 3600'),
    ({'batch_max_size': 0}, 'batch_max_size must be at least 1'),
])
def test_bad_batch_arguments(args, message):
    with pytest.raises(ValueError, match=message):
        callbacks.Settings(dict({'port': 1, 'callback_secret': 's'}, **args))


def test_feedback_answers_only_once_the_rule_engine_has_taken_the_event():
    async def scenario():
        async with Endpoint(feedback=True, feedback_timeout=10) as ep:
            answer = asyncio.ensure_future(ep.post(signed(stream_create())))
            await asyncio.sleep(0.5)
            held = not answer.done()
            event = await ep.take()
            status, text = await asyncio.wait_for(answer, 30)
            return held, status, event, ep.receiver.outbox.waiting()
    held, status, event, waiting = run(scenario())
    assert held and status == 200
    assert event['payload']['stream_id'] == 's1' and event['meta']['delivery_id']
    assert waiting == 0


def test_feedback_not_given_in_time_is_503_and_the_redelivery_is_not_queued_twice(caplog):
    async def scenario():
        async with Endpoint(feedback=True, feedback_timeout=0.5) as ep:
            body = signed(stream_create())
            first = await ep.post(body)
            # ZEGO delivers it again: the event is still on its way, so nothing new is queued, and the
            # answer waits for that same event
            second = asyncio.ensure_future(ep.post(body))
            await asyncio.sleep(0.1)
            event = await ep.take()
            second = await asyncio.wait_for(second, 30)
            third = await ep.post(body)  # taken: answered at once
            return first, second, third, event, ep.queued(), ep.receiver.counts
    caplog.set_level(logging.INFO)
    first, second, third, event, rest, counts = run(scenario())
    assert first[0] == 503 and 'deliver again' in first[1]
    assert second[0] == 200 and third[0] == 200
    assert event['payload']['stream_id'] == 's1' and rest == []
    assert counts['queued'] == 1 and counts['not_taken'] == 1
    assert 'answered HTTP 503' in caplog.text and SECRET not in caplog.text


def test_feedback_holds_every_callback_of_a_batch_until_the_batch_is_taken():
    async def scenario():
        async with Endpoint(feedback=True, feedback_timeout=10, batch_window=0.2, batch_max_wait=1) as ep:
            answers = [asyncio.ensure_future(ep.post(signed(stream_create(stream_id='s%d' % i)))) for i in range(5)]
            await asyncio.sleep(0.6)
            held = sum(1 for a in answers if not a.done())
            event = await ep.take()
            statuses = [(await asyncio.wait_for(a, 30))[0] for a in answers]
            return held, event, statuses
    held, event, statuses = run(scenario())
    assert held == 5
    assert sorted(p['stream_id'] for p in event['batch']) == ['s%d' % i for i in range(5)]
    assert statuses == [200] * 5


def test_without_feedback_the_answer_does_not_wait_for_the_engine():
    async def scenario():
        async with Endpoint(batch_window=5, batch_max_wait=10) as ep:
            return await asyncio.wait_for(ep.post(signed(stream_create())), 3)
    assert run(scenario())[0] == 200


def test_feedback_for_unknown_events_is_drained_and_ignored():
    async def scenario():
        async with Endpoint(feedback=True) as ep:
            for dummy in range(3):
                await asyncio.wait_for(ep.feedback.put({'meta': {'delivery_id': 'nobody'}}), 5)
            await ep.feedback.put({'not': 'an event'})
            answer = asyncio.ensure_future(ep.post(signed(stream_create())))
            await ep.take()
            return (await asyncio.wait_for(answer, 30))[0]
    assert run(scenario()) == 200


@pytest.mark.parametrize('args,message', [
    ({'feedback': 'sometimes'}, 'feedback must be true or false'),
    ({'feedback': True, 'batch_window': 0.5, 'batch_max_wait': 5, 'feedback_timeout': 5},
     'feedback_timeout (5.0 s) must be longer than batch_max_wait'),
    ({'feedback_timeout': 0}, 'feedback_timeout must be between 0.1 and 3600'),
])
def test_bad_feedback_arguments(args, message):
    with pytest.raises(ValueError) as err:
        callbacks.Settings(dict({'port': 1, 'callback_secret': 's'}, **args))
    assert message in str(err.value)


def test_feedback_without_the_queue_ansible_rulebook_gives_is_an_error():
    async def scenario():
        await callbacks.serve(asyncio.Queue(), {'port': 0, 'callback_secret': 's', 'feedback': True})
    with pytest.raises(ValueError, match='feedback needs ansible-rulebook'):
        run(scenario())


def test_events_the_engine_never_acknowledged_are_forgotten_after_a_bound_whatever_the_gap():
    now = [1000.0]

    async def scenario():
        settings = callbacks.Settings({'port': 1, 'callback_secret': 's', 'feedback': True})
        outbox = callbacks.Outbox(asyncio.Queue(), settings, feedback=asyncio.Queue(1), clock=lambda: now[0])
        first = outbox.add({'stream_id': 'a'}, {'event': 'stream_create', 'app_id': '1'})
        now[0] += callbacks.FEEDBACK_FORGET - 1
        outbox.add({'stream_id': 'b'}, {'event': 'stream_create', 'app_id': '1'})
        kept = outbox.waiting()
        # hours later (a suspended host, a clock that the monotonic clock does not follow back): bounded
        now[0] += 6 * 3600
        last = outbox.add({'stream_id': 'c'}, {'event': 'stream_create', 'app_id': '1'})
        return kept, outbox.waiting(), first.done(), last.done()
    kept, after, first_done, last_done = run(scenario())
    assert kept == 2
    # only the newest is waited for; the forgotten ones were never answered 2xx (their callbacks got 503)
    assert after == 1 and not first_done and not last_done
