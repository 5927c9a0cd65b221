# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""zego_stream against scripted ZEGO conversations (see conftest.py): every request the module
sends must be the next one in the script, so a stray DeleteStream fails the test."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest
import requests

from ansible_collections.zego.rtc.plugins.modules import zego_stream


def listing(*stream_ids):
    return {'StreamList': [{'StreamId': s, 'UserId': 'u', 'UserName': 'n', 'CreateTime': 1, 'StreamNumberId': i}
                           for i, s in enumerate(stream_ids)]}


def test_present_stream_is_deleted(zego_http, run_module):
    zego_http.expect('DeleteStream', {'RoomId': 'room1', 'StreamId': 's1', 'UserId': 'Server-Administrator'})
    result, failed = run_module(zego_stream, {'room_id': 'room1', 'stream_id': 's1'})
    assert not failed and result['changed']
    assert result['stream']['outcome'] == 'deleted' and result['stream']['code'] == 0
    assert result['stream']['attempts'] == 1


@pytest.mark.parametrize('code', [138, 104, 5024, 50001])
def test_absent_stream_or_room_is_ok(zego_http, run_module, code):
    zego_http.expect('DeleteStream', code=code)
    result, failed = run_module(zego_stream, {'room_id': 'room1', 'stream_id': 's1'})
    assert not failed and not result['changed']
    assert result['stream']['outcome'] == 'already_absent' and result['stream']['code'] == code


def test_124_then_success_is_changed_with_a_warning(zego_http, run_module):
    zego_http.expect('DeleteStream', code=124).expect('DeleteStream', code=0)
    result, failed = run_module(zego_stream, {'room_id': 'room1', 'stream_id': 's1'})
    assert not failed and result['changed'] and result['stream']['attempts'] == 2
    assert len(result['warnings']) == 1 and 'retrying' in result['warnings'][0]


def test_lost_response_then_138_counts_as_deleted(zego_http, run_module):
    zego_http.expect('DeleteStream', exc=requests.exceptions.ConnectionError('connection reset'))
    zego_http.expect('DeleteStream', code=138)
    result, failed = run_module(zego_stream, {'room_id': 'room1', 'stream_id': 's1'})
    assert not failed and result['changed']
    assert result['stream']['outcome'] == 'deleted' and result['stream']['response_lost'] is True


def test_206_then_success_after_backing_off(zego_http, run_module):
    zego_http.expect('DeleteStream', code=206).expect('DeleteStream', code=0)
    result, failed = run_module(zego_stream, {'room_id': 'room1', 'stream_id': 's1'})
    assert not failed and result['changed']
    assert any(s >= 0.5 for s in zego_http.sleeps)


def test_retries_exhausted_fail_and_report_the_stream(zego_http, run_module):
    zego_http.expect('DeleteStream', code=124).expect('DeleteStream', code=124)
    result, failed = run_module(zego_stream, {'room_id': 'room1', 'stream_id': 's1', 'retries': 1})
    assert failed and not result['changed']
    assert result['stream']['outcome'] == 'failed' and result['stream']['error']['code'] == 124
    assert 'room1/s1' in result['msg']


def test_bad_signature_fails_at_once_naming_the_secret(zego_http, run_module):
    zego_http.expect('DeleteStream', code=100000005, message='signature error')
    result, failed = run_module(zego_stream, {'room_id': 'room1', 'stream_id': 's1'})
    assert failed and result['stream']['attempts'] == 1
    assert 'server_secret' in result['msg']
    assert zego_http.secret not in str(result)


def test_clock_skew_names_the_clock(zego_http, run_module):
    zego_http.expect('DeleteStream', code=100000004)
    result, failed = run_module(zego_stream, {'room_id': 'room1', 'stream_id': 's1'})
    assert failed and "controller's clock" in result['msg']


def test_502_then_non_json_then_success(zego_http, run_module):
    zego_http.expect('DeleteStream', status=502, body='<html>502</html>')
    zego_http.expect('DeleteStream', status=200, body='not json')
    zego_http.expect('DeleteStream', code=0)
    result, failed = run_module(zego_stream, {'room_id': 'room1', 'stream_id': 's1'})
    assert not failed and result['stream']['attempts'] == 3


def test_bulk_mixed_results_in_input_order_with_duplicates_collapsed(zego_http, run_module):
    zego_http.expect('DeleteStream', {'RoomId': 'r1', 'StreamId': 'a'}, code=0)
    zego_http.expect('DeleteStream', {'RoomId': 'r1', 'StreamId': 'b', 'UserId': 'bot', 'UserName': 'Mod'}, code=138)
    zego_http.expect('DeleteStream', {'RoomId': 'r2', 'StreamId': 'c'}, code=2)
    zego_http.expect('DeleteStream', {'RoomId': 'r3', 'StreamId': 'd'}, code=0)
    result, failed = run_module(zego_stream, {'concurrency': 1, 'streams': [
        {'room_id': 'r1', 'stream_id': 'a'},
        {'room_id': 'r1', 'stream_id': 'b', 'user_id': 'bot', 'user_name': 'Mod'},
        {'room_id': 'r1', 'stream_id': 'a'},
        {'room_id': 'r2', 'stream_id': 'c'},
        {'room_id': 'r3', 'stream_id': 'd'},
    ]})
    assert failed and result['changed']
    assert [s['outcome'] for s in result['streams']] == ['deleted', 'already_absent', 'failed', 'deleted']
    assert result['summary'] == {'total': 4, 'deleted': 2, 'already_absent': 1, 'failed': 1, 'duplicates': 1}
    assert result['msg'].startswith('1 of 4 streams failed: r2/c')


def test_bulk_stops_after_an_error_every_request_would_get(zego_http, run_module):
    zego_http.expect('DeleteStream', code=100000010)
    result, failed = run_module(zego_stream, {'concurrency': 1, 'streams': [
        {'room_id': 'r1', 'stream_id': 'a'}, {'room_id': 'r1', 'stream_id': 'b'}]})
    assert failed and len(zego_http.seen) == 1
    assert result['streams'][1]['outcome'] == 'failed' and 'not attempted' in result['streams'][1]['message']


def test_bulk_in_parallel_handles_every_stream_once(zego_http, run_module):
    for dummy in range(20):
        zego_http.expect('DeleteStream', code=0)
    result, failed = run_module(zego_stream, {'concurrency': 4, 'rate_limit': 1000, 'streams': [
        {'room_id': 'r', 'stream_id': 's%d' % i} for i in range(20)]})
    assert not failed and result['summary']['deleted'] == 20
    assert sorted(q['StreamId'] for q in zego_http.seen) == sorted('s%d' % i for i in range(20))
    assert [s['stream_id'] for s in result['streams']] == ['s%d' % i for i in range(20)]


def test_check_mode_lists_each_room_once_and_never_deletes(zego_http, run_module):
    zego_http.expect('DescribeSimpleStreamList', {'RoomId': 'r1'}, data=listing('a', 'x'))
    zego_http.expect('DescribeSimpleStreamList', {'RoomId': 'r2'}, code=0, data={'StreamList': []})
    result, failed = run_module(zego_stream, {'concurrency': 1, 'streams': [
        {'room_id': 'r1', 'stream_id': 'a'}, {'room_id': 'r1', 'stream_id': 'b'}, {'room_id': 'r2', 'stream_id': 'c'},
    ]}, check_mode=True, diff=True)
    assert not failed and result['changed']
    assert zego_http.actions() == ['DescribeSimpleStreamList', 'DescribeSimpleStreamList']
    assert [s['outcome'] for s in result['streams']] == ['deleted', 'already_absent', 'already_absent']
    assert result['diff'] == {'before': {'r1/a': 'present', 'r1/b': 'absent', 'r2/c': 'absent'},
                              'after': {'r1/a': 'absent', 'r1/b': 'absent', 'r2/c': 'absent'}}


def test_check_mode_with_nothing_present_is_unchanged(zego_http, run_module):
    zego_http.expect('DescribeSimpleStreamList', {'RoomId': 'r1'}, data=listing('other'))
    result, failed = run_module(zego_stream, {'room_id': 'r1', 'stream_id': 's1'}, check_mode=True)
    assert not failed and not result['changed'] and result['stream']['outcome'] == 'already_absent'


@pytest.mark.parametrize('args, field', [
    ({'room_id': 'r1', 'stream_id': 'bad id'}, 'stream_id'),
    ({'room_id': 'r1', 'stream_id': ''}, 'stream_id'),
    ({'room_id': 'r' * 129, 'stream_id': 's'}, 'room_id'),
    ({'room_id': 'r1', 'stream_id': 's' * 257}, 'stream_id'),
    ({'room_id': 'r1', 'stream_id': 's', 'user_id': 'u' * 65}, 'user_id'),
    ({'room_id': 'r1', 'stream_id': 's', 'user_name': 'n' * 257}, 'user_name'),
    ({'room_id': '  ', 'stream_id': 's'}, 'room_id'),
    ({'streams': [{'room_id': 'r', 'stream_id': 'ok'}, {'room_id': 'r', 'stream_id': 'no/slash'}]}, 'streams[1].stream_id'),
    ({'room_id': 'r1', 'stream_id': 's', 'app_id': 0}, 'app_id'),
    ({'room_id': 'r1', 'stream_id': 's', 'server_secret': ''}, 'server_secret'),
    ({'room_id': 'r1', 'stream_id': 's', 'api_url': 'http://rtc-api.zego.im'}, 'api_url'),
    ({'room_id': 'r1', 'stream_id': 's', 'rate_limit': 0}, 'rate_limit'),
    ({'room_id': 'r1', 'stream_id': 's', 'retries': -1}, 'retries'),
    ({'room_id': 'r1', 'stream_id': 's', 'timeout': 0}, 'timeout'),
    ({'room_id': 'r1', 'stream_id': 's', 'concurrency': 0}, 'concurrency'),
    ({'room_id': 'r1', 'stream_id': 's', 'streams': []}, 'streams'),
    ({'room_id': 'r1'}, 'stream_id'),
])
def test_bad_input_fails_before_any_request(zego_http, run_module, args, field):
    result, failed = run_module(zego_stream, args)
    assert failed and field in result['msg']
    assert zego_http.seen == []


def test_empty_list_does_nothing(zego_http, run_module):
    result, failed = run_module(zego_stream, {'streams': []})
    assert not failed and not result['changed'] and result['summary']['total'] == 0


def test_connection_options_come_from_the_environment(zego_http, run_module, monkeypatch):
    monkeypatch.setenv('ZEGO_APP_ID', str(zego_http.app_id))
    monkeypatch.setenv('ZEGO_SERVER_SECRET', zego_http.secret)
    monkeypatch.setenv('ZEGO_API_URL', zego_http.api_url)
    monkeypatch.setenv('ZEGO_IS_TEST', 'true')
    zego_http.expect('DeleteStream', {'IsTest': 'true', 'AppId': str(zego_http.app_id)})
    result, failed = run_module(zego_stream, {'room_id': 'r1', 'stream_id': 's1'}, connection=False)
    assert not failed and result['changed']


def test_missing_credentials_name_the_options_and_variables(zego_http, run_module, monkeypatch):
    for var in ('ZEGO_APP_ID', 'ZEGO_SERVER_SECRET', 'ZEGO_API_URL'):
        monkeypatch.delenv(var, raising=False)
    result, failed = run_module(zego_stream, {'room_id': 'r1', 'stream_id': 's1'}, connection=False)
    assert failed and 'app_id' in result['msg'] and 'server_secret' in result['msg']
    assert zego_http.seen == []


def test_validate_certs_false_warns(zego_http, run_module):
    zego_http.expect('DeleteStream')
    result, failed = run_module(zego_stream, {'room_id': 'r1', 'stream_id': 's1', 'validate_certs': False})
    assert not failed and any('validate_certs' in w for w in result['warnings'])


def test_bulk_stops_when_the_api_cannot_be_reached(zego_http, run_module):
    for dummy in range(3):
        zego_http.expect('DeleteStream', exc=requests.exceptions.ConnectionError(
            'HTTPSConnectionPool: Max retries exceeded (Caused by NewConnectionError: [Errno 111] Connection refused)'))
    result, failed = run_module(zego_stream, {'concurrency': 1, 'retries': 2, 'streams': [
        {'room_id': 'r1', 'stream_id': 'a'}, {'room_id': 'r1', 'stream_id': 'b'}, {'room_id': 'r1', 'stream_id': 'c'}]})
    assert failed and len(zego_http.seen) == 3  # the first stream's three attempts, nothing for b and c
    assert result['streams'][0]['error']['code'] == -1 and 'could not connect' in result['streams'][0]['message']
    assert all('not attempted' in s['message'] for s in result['streams'][1:])


def test_bulk_goes_on_after_one_stream_times_out(zego_http, run_module):
    zego_http.expect('DeleteStream', exc=requests.exceptions.ReadTimeout('read timed out'))
    zego_http.expect('DeleteStream', exc=requests.exceptions.ReadTimeout('read timed out'))
    zego_http.expect('DeleteStream', {'StreamId': 'b'}, code=0)
    result, failed = run_module(zego_stream, {'concurrency': 1, 'retries': 1, 'streams': [
        {'room_id': 'r1', 'stream_id': 'a'}, {'room_id': 'r1', 'stream_id': 'b'}]})
    assert failed and result['summary']['deleted'] == 1 and result['summary']['failed'] == 1
    assert result['streams'][0]['response_lost'] is True


def test_stopped_batch_marks_the_stream_whose_failure_stopped_the_batch(zego_http, run_module):
    zego_http.expect('DeleteStream', code=0)
    zego_http.expect('DeleteStream', code=9)
    result, failed = run_module(zego_stream, {'concurrency': 1, 'streams': [
        {'room_id': 'r1', 'stream_id': 'a'}, {'room_id': 'r1', 'stream_id': 'b'}, {'room_id': 'r1', 'stream_id': 'c'}]})
    assert failed
    assert [s['stopped_batch'] for s in result['streams']] == [False, True, False]
    assert result['streams'][2]['message'].startswith('not attempted')


def test_a_failure_that_concerns_one_stream_does_not_stop_the_batch(zego_http, run_module):
    zego_http.expect('DeleteStream', code=2).expect('DeleteStream', code=0)
    result, failed = run_module(zego_stream, {'concurrency': 1, 'streams': [
        {'room_id': 'r1', 'stream_id': 'a'}, {'room_id': 'r1', 'stream_id': 'b'}]})
    assert failed and [s['stopped_batch'] for s in result['streams']] == [False, False]
    assert result['streams'][1]['outcome'] == 'deleted'


def test_an_unexpected_exception_names_the_action_the_item_and_the_error(zego_http, run_module, monkeypatch):
    """A bug inside the collection (here: the pacing failing as slow start's overflow once did) fails the task with
    what it was doing and what went wrong in words, the traceback for -vvv, and no secret anywhere."""
    from ansible_collections.zego.rtc.plugins.module_utils import ratelimit

    def broken(self):
        raise OverflowError(34, 'Numerical result out of range')
    monkeypatch.setattr(ratelimit.RateLimiter, 'acquire', broken)
    result, failed = run_module(zego_stream, {'room_id': 'room1', 'stream_id': 's1'})
    assert failed
    msg = result['msg']
    assert 'while calling DeleteStream for room1/s1' in msg
    assert 'OverflowError: Numerical result out of range (errno 34)' in msg
    assert msg != "(34, 'Numerical result out of range')"
    assert 'Traceback' in result['exception'] and 'OverflowError' in result['exception']
    assert zego_http.secret not in msg + result['exception']
    assert zego_http.seen == []


def test_an_unexpected_exception_outside_a_request_is_named_too(zego_http, run_module, monkeypatch):
    monkeypatch.setattr(zego_stream.ZegoStream, 'run', lambda self: {}['no such key'])
    result, failed = run_module(zego_stream, {'room_id': 'room1', 'stream_id': 's1'})
    assert failed
    assert result['msg'].startswith("unexpected error: KeyError: 'no such key'")
    assert 'Traceback' in result['exception']
