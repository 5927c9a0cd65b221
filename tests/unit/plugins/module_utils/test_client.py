# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest
import requests

from ansible_collections.zego.rtc.plugins.module_utils import codes, state
from ansible_collections.zego.rtc.plugins.module_utils.actions import (
    DEFAULT_USER_ID,
    DELETE_STREAM,
    LIST_STREAMS,
    Action,
    Pace,
)
from ansible_collections.zego.rtc.plugins.module_utils.base import check_api_url
from ansible_collections.zego.rtc.plugins.module_utils.client import Settings, ZegoClient
from ansible_collections.zego.rtc.plugins.module_utils.errors import InternalError, NotSent, ZegoError
from ansible_collections.zego.rtc.plugins.module_utils.signing import new_nonce, sign

COLLABORATORS = ('warn', 'store', 'session', 'clock', 'sleep')


def make_client(conv, **kwargs):
    warnings = []
    kwargs.setdefault('retries', 3)
    extra = dict((k, kwargs.pop(k)) for k in COLLABORATORS if k in kwargs)
    settings = Settings(app_id=conv.app_id, secret=conv.secret, api_url=conv.api_url, **kwargs)
    client = ZegoClient(settings, warn=warnings.append, **extra)
    return client, warnings


def delete(client, room_id='r1', stream_id='s1', user_name=None):
    return DELETE_STREAM.send(client, {'room_id': room_id, 'stream_id': stream_id, 'user_id': DEFAULT_USER_ID,
                                       'user_name': user_name})


def list_streams(client, room_id):
    return LIST_STREAMS.read(client, {'room_id': room_id})


def test_signature_matches_zegos_published_test_vector():
    assert sign(12345, '4fd24687296dd9f3', '9193cc662a4c0ec135ec71fb57194b38', 1615186943) == \
        '43e5cfcca828314675f91b001390566a'


def test_signature_changes_with_any_input():
    ref = sign(12345, '4fd24687296dd9f3', '9193cc662a4c0ec135ec71fb57194b38', 1615186943)
    assert sign(12345, '4fd24687296dd9f4', '9193cc662a4c0ec135ec71fb57194b38', 1615186943) != ref
    assert sign(12345, '4fd24687296dd9f3', '9193cc662a4c0ec135ec71fb57194b39', 1615186943) != ref
    assert sign(12345, '4fd24687296dd9f3', '9193cc662a4c0ec135ec71fb57194b38', 1615186944) != ref


def test_nonce_is_16_hex_characters_and_fresh():
    nonces = set(new_nonce() for dummy in range(50))
    assert len(nonces) == 50
    assert all(len(n) == 16 and int(n, 16) >= 0 for n in nonces)


@pytest.mark.parametrize('url, ok', [
    ('https://rtc-api.zego.im', True),
    ('https://rtc-api-fra.zego.im/', True),
    ('http://127.0.0.1:8080', True),
    ('http://localhost:1', True),
    ('http://[::1]:8080', True),
    ('http://rtc-api.zego.im', False),
    ('http://10.0.0.1', False),
    ('ftp://rtc-api.zego.im', False),
    ('rtc-api.zego.im', False),
    ('https://rtc-api.zego.im/v1', False),
    ('https://rtc-api.zego.im/?Action=x', False),
    ('https://user:pw@rtc-api.zego.im', False),
    ('https://rtc-api.zego.im:99999', False),
    ('', False),
])
def test_api_url_rules(url, ok):
    assert (check_api_url(url) is None) == ok


@pytest.mark.parametrize('code, retried', [
    (1, True), (122, True), (124, True), (206, True), (207, True), (7, True), (100000015, True),
    (0, False), (138, False), (104, False), (2, False), (3, False), (9, False), (100000004, False),
    (100000005, False), (100000010, False),
])
def test_code_classification(code, retried):
    assert (code in codes.RETRY_CODES) == retried


def test_hints_name_the_likely_cause():
    assert "controller's clock" in codes.describe_code(100000004)
    assert 'server_secret' in codes.describe_code(100000005)
    assert 'app_id' in codes.describe_code(100000010)


def test_delete_stream_sends_the_documented_parameters(zego_http):
    zego_http.expect('DeleteStream', {'RoomId': 'r1', 'StreamId': 's1', 'UserId': 'Server-Administrator'})
    client, warnings = make_client(zego_http)
    reply = delete(client)
    assert (reply.code, reply.attempts, reply.response_lost) == (0, 1, False)
    assert reply.request_id
    assert 'UserName' not in zego_http.seen[0] and 'IsTest' not in zego_http.seen[0]
    assert warnings == []


def test_is_test_sends_istest_and_lowers_the_rate(zego_http):
    zego_http.expect('DeleteStream', {'IsTest': 'true', 'UserName': 'ops'})
    client, dummy = make_client(zego_http, is_test=True)
    assert client.rate_for(DELETE_STREAM) == 1.0
    assert client.rate_for(LIST_STREAMS) == LIST_STREAMS.pace.rate
    assert delete(client, user_name='ops').code == 0


def test_retryable_code_is_retried_and_resigned(zego_http):
    zego_http.expect('DeleteStream', code=124).expect('DeleteStream', code=0)
    client, warnings = make_client(zego_http)
    reply = delete(client)
    assert (reply.code, reply.attempts) == (0, 2)
    assert zego_http.seen[0]['SignatureNonce'] != zego_http.seen[1]['SignatureNonce']
    assert len(warnings) == 1 and '124' in warnings[0] and 'r1/s1' in warnings[0]
    assert len(zego_http.sleeps) >= 1 and 0 < zego_http.sleeps[-1] <= ZegoClient.BACKOFF_CAP


def test_rate_limit_code_backs_off_longer(zego_http):
    zego_http.expect('DeleteStream', code=206).expect('DeleteStream', code=0)
    client, dummy = make_client(zego_http, shared_limits=False)
    assert delete(client).code == 0
    assert max(zego_http.sleeps) >= ZegoClient.RATE_LIMIT_BASE / 2


def test_backoff_grows_and_is_bounded():
    client = ZegoClient(Settings(app_id=1, secret='x' * 32))
    waits = [client._backoff(n) for n in range(1, 10)]
    assert waits[0] <= ZegoClient.BACKOFF_BASE
    assert all(w <= ZegoClient.BACKOFF_CAP for w in waits)
    assert waits[5] >= ZegoClient.BACKOFF_CAP / 2


def test_retries_exhausted_raise_with_the_last_code(zego_http):
    for dummy in range(3):
        zego_http.expect('DeleteStream', code=124)
    client, warnings = make_client(zego_http, retries=2)
    with pytest.raises(ZegoError) as info:
        delete(client)
    assert info.value.code == 124 and info.value.attempts == 3
    assert 'gave up after 3 attempts' in info.value.message
    assert len(warnings) == 2


def test_configuration_errors_are_never_retried(zego_http):
    zego_http.expect('DeleteStream', code=100000005, message='signature error')
    client, warnings = make_client(zego_http)
    reply = delete(client)
    assert (reply.code, reply.attempts) == (100000005, 1)
    assert warnings == []


def test_lost_response_then_138_is_flagged(zego_http):
    zego_http.expect('DeleteStream', exc=requests.exceptions.ConnectionError('Remote end closed connection'))
    zego_http.expect('DeleteStream', code=138)
    client, warnings = make_client(zego_http)
    reply = delete(client)
    assert (reply.code, reply.attempts, reply.response_lost) == (138, 2, True)


def test_read_timeout_is_retried_and_flagged(zego_http):
    zego_http.expect('DeleteStream', exc=requests.exceptions.ReadTimeout('read timed out'))
    zego_http.expect('DeleteStream', code=0)
    client, warnings = make_client(zego_http, timeout=2)
    reply = delete(client)
    assert (reply.code, reply.response_lost) == (0, True)
    assert 'no answer within timeout (2s)' in warnings[0]


def test_http_5xx_and_non_json_are_retried(zego_http):
    zego_http.expect('DeleteStream', status=502, body='<html>Bad Gateway</html>')
    zego_http.expect('DeleteStream', status=200, body='<html>oops</html>')
    zego_http.expect('DeleteStream', code=0)
    client, warnings = make_client(zego_http)
    reply = delete(client)
    assert (reply.code, reply.attempts) == (0, 3)
    assert 'HTTP 502' in warnings[0] and 'not ZEGO JSON' in warnings[1]


def test_tls_failure_is_not_retried_and_explained(zego_http):
    zego_http.expect('DeleteStream', exc=requests.exceptions.SSLError(
        "HTTPSConnectionPool(host='h', port=443): Max retries exceeded with url: /?Action=DeleteStream&"
        "Signature=0123456789abcdef0123456789abcdef (Caused by SSLError(CERTIFICATE_VERIFY_FAILED))"))
    client, warnings = make_client(zego_http)
    with pytest.raises(ZegoError) as info:
        delete(client)
    assert info.value.retryable is False and info.value.attempts == 1
    assert 'ca_path' in info.value.message
    assert 'Signature' not in info.value.message and '/?' not in info.value.message


def test_scrub_removes_secret_signatures_and_urls(zego_http):
    zego_http.expect('DeleteStream', code=0)
    client, dummy = make_client(zego_http)
    delete(client)
    sig = zego_http.seen[0]['Signature']
    text = 'x %s y %s z https://h/?Action=a&Signature=%s' % (zego_http.secret, sig, sig)
    cleaned = client.scrub(text)
    assert zego_http.secret not in cleaned and sig not in cleaned and 'https://' not in cleaned
    # only signatures this client made are masked; other 32-hex values (e.g. ids in a message) stay
    other = 'ab' * 16
    assert client.scrub('stream %s gone, %s' % (other, sig)) == 'stream %s gone, ********' % other


def test_list_returns_streams_and_empty_for_missing_room(zego_http):
    zego_http.expect('DescribeSimpleStreamList', {'RoomId': 'r1'}, data={'StreamList': [
        {'StreamId': 's1', 'UserId': 'u1', 'UserName': 'Ann', 'CreateTime': 1642045110123, 'StreamNumberId': 10}]})
    zego_http.expect('DescribeSimpleStreamList', {'RoomId': 'r2'}, code=50001)
    client, dummy = make_client(zego_http)
    streams, reply = list_streams(client, 'r1')
    assert streams == [{'stream_id': 's1', 'user_id': 'u1', 'user_name': 'Ann', 'create_time': 1642045110123,
                        'stream_number_id': 10}]
    assert list_streams(client, 'r2')[0] == []


def test_list_rate_limit_waits_a_room_interval(zego_http):
    zego_http.expect('DescribeSimpleStreamList', code=207).expect('DescribeSimpleStreamList', data={'StreamList': []})
    client, dummy = make_client(zego_http)
    assert list_streams(client, 'r1')[0] == []
    assert max(zego_http.sleeps) >= LIST_STREAMS.pace.room_interval


def test_state_dir_of_this_user_is_made_private(tmp_path, monkeypatch):
    shared = tmp_path / 'shared'
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv('ZEGO_RTC_STATE_DIR', str(shared))
    assert state.private_state_dir() == str(shared)
    assert shared.stat().st_mode & 0o777 == 0o700


def test_state_dir_that_is_a_symlink_is_refused(tmp_path, monkeypatch):
    target = tmp_path / 'elsewhere'
    target.mkdir(mode=0o700)
    link = tmp_path / 'link'
    link.symlink_to(target)
    monkeypatch.setenv('ZEGO_RTC_STATE_DIR', str(link))
    with pytest.raises(state.StateError) as info:
        state.private_state_dir()
    assert 'ZEGO_RTC_STATE_DIR' in info.value.message


def test_every_action_is_paced_by_the_table(zego_http):
    client, dummy = make_client(zego_http)
    assert client.rate_for(DELETE_STREAM) == DELETE_STREAM.pace.rate
    room, app = client.pacers(LIST_STREAMS, [('RoomId', 'r1')])
    assert app is client.limiter('DescribeSimpleStreamList', LIST_STREAMS.pace.rate)
    assert room is client.limiter('DescribeSimpleStreamList', 1.0 / LIST_STREAMS.pace.room_interval, room_id='r1')
    assert client.pacers(DELETE_STREAM, [('RoomId', 'r1')]) == [client.limiter('DeleteStream', 10.0)]
    assert zego_http.seen == []


def test_an_unexpected_exception_names_the_action_and_the_item(zego_http):
    def broken():
        raise ValueError('no value')
    action = Action('Broken', Pace(100), [('RoomId', 'room_id', None), ('StreamId', 'stream_id', None)])
    client, dummy = make_client(zego_http)
    with pytest.raises(InternalError, match='Broken.*ValueError: no value'):
        action.send(client, {'room_id': 'r1', 'stream_id': broken})
    assert zego_http.seen == []


def test_a_request_its_caller_withdraws_when_its_slot_comes_is_not_sent(zego_http):
    client, dummy = make_client(zego_http)

    def stopped():
        raise NotSent()
    with pytest.raises(NotSent):
        DELETE_STREAM.send(client, {'room_id': 'r1', 'stream_id': 's1'}, proceed=stopped)
    assert zego_http.seen == []


def test_rate_limit_overrides_only_write_actions(zego_http):
    client, dummy = make_client(zego_http, rate_limit=3)
    assert client.rate_for(DELETE_STREAM) == 3.0
    assert client.rate_for(LIST_STREAMS) == LIST_STREAMS.pace.rate


def test_list_values_are_sent_as_repeated_array_parameters(zego_http):
    action = Action('TestArrays', Pace(100), [('RoomId', 'room_id', None), ('UserId', 'user_id', None),
                                              ('Skip', 'skip', None)], batch=('user_id', 5))
    zego_http.expect('TestArrays', {'RoomId': 'r1', 'UserId[]': ['a', 'b c']})
    client, dummy = make_client(zego_http)
    assert action.send(client, {'room_id': 'r1', 'user_id': ['a', 'b c']}).code == 0
    assert 'Skip' not in zego_http.seen[0]


# -- rate-limit answers are not errors -------------------------------------------------------------------
def test_rate_limit_answers_do_not_use_up_the_retries(zego_http):
    for dummy in range(6):
        zego_http.expect('DeleteStream', code=206)
    zego_http.expect('DeleteStream', code=0)
    client, warnings = make_client(zego_http, retries=0)
    reply = delete(client)
    assert (reply.code, reply.attempts) == (0, 7)
    assert len(warnings) == 6 and all('rate limited' in w for w in warnings)


def test_http_429_is_a_rate_limit_answer(zego_http):
    zego_http.expect('DeleteStream', status=429, body='slow down').expect('DeleteStream', code=0)
    client, dummy = make_client(zego_http, retries=0)
    assert delete(client).attempts == 2


def test_a_stream_fails_for_rate_limiting_only_after_rate_limit_wait(zego_http):
    clock = [1700000000.0]

    def sleep(seconds):
        clock[0] += seconds
    for dummy in range(40):
        zego_http.expect('DeleteStream', code=206)
    client, warnings = make_client(zego_http, retries=0, rate_limit_wait=60, clock=lambda: clock[0], sleep=sleep,
                                   rate_limit=1000)
    start = clock[0]
    with pytest.raises(ZegoError) as info:
        delete(client)
    sent = len(zego_http.seen)
    del zego_http.script[:]
    assert clock[0] - start >= 60
    assert info.value.code == 206 and info.value.attempts == sent
    assert 'still rate limited after' in info.value.message and 'rate_limit_wait' in info.value.message
    assert 'nothing was applied' in info.value.message


def test_other_errors_still_use_up_the_retries_between_rate_limit_answers(zego_http):
    zego_http.expect('DeleteStream', code=206).expect('DeleteStream', code=124).expect('DeleteStream', code=206) \
        .expect('DeleteStream', code=124)
    client, dummy = make_client(zego_http, retries=1)
    with pytest.raises(ZegoError) as info:
        delete(client)
    assert info.value.code == 124 and info.value.attempts == 4


def test_rate_limit_answers_lower_the_pace_of_the_next_requests(zego_http):
    zego_http.expect('DeleteStream', code=206).expect('DeleteStream', code=0)
    client, dummy = make_client(zego_http)
    before = client.current_rate(DELETE_STREAM)
    delete(client)
    assert client.current_rate(DELETE_STREAM) < before


def test_client_records_the_answer_time(zego_http):
    zego_http.expect('DeleteStream', code=0)
    client, dummy = make_client(zego_http)
    assert client.latency is None
    delete(client)
    assert client.latency is not None and client.latency >= 0
