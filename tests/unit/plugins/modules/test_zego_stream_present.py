# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""zego_stream state=present (AddStream) against scripted ZEGO conversations (see conftest.py): every request
the module sends must be the next one in the script, so a stray AddStream fails the test."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest
import requests

from ansible_collections.zego.rtc.plugins.modules import zego_stream


def listing(*stream_ids):
    return {'StreamList': [{'StreamId': s, 'UserId': 'u', 'UserName': 'n', 'CreateTime': 1, 'StreamNumberId': i}
                           for i, s in enumerate(stream_ids)]}


def present(**args):
    return dict(args, state='present')


def test_a_stream_not_in_its_room_is_added_with_every_field(zego_http, run_module):
    zego_http.expect('DescribeSimpleStreamList', {'RoomId': 'party'}, data=listing('cam'))
    zego_http.expect('AddStream', {'RoomId': 'party', 'StreamId': 'cdn', 'UserId': 'Server-Administrator',
                                   'StreamTitle': 'Movie night', 'ExtraInfo': '{"a": 1}', 'CensorFlag': '1'})
    result, failed = run_module(zego_stream, present(room_id='party', stream_id='cdn', title='Movie night',
                                                     extra_info='{"a": 1}', moderation_opt_out=True), diff=True)
    assert not failed and result['changed']
    assert result['stream']['outcome'] == 'added' and result['stream']['code'] == 0
    assert result['stream']['attempts'] == 1 and result['stream']['user_id'] == 'Server-Administrator'
    assert result['diff'] == {'before': {'party/cdn': 'absent'}, 'after': {'party/cdn': 'present'}}
    # the result carries the IDs and the answer, not what was sent besides them
    assert 'title' not in result['stream'] and 'user_name' not in result['stream']


def test_optional_fields_are_not_sent_unless_set(zego_http, run_module):
    zego_http.expect('DescribeSimpleStreamList', data=listing())
    zego_http.expect('AddStream', {'RoomId': 'party', 'StreamId': 'cdn'})
    run_module(zego_stream, present(room_id='party', stream_id='cdn'))
    sent = zego_http.seen[-1]
    assert not set(sent) & set(['StreamTitle', 'ExtraInfo', 'CensorFlag', 'UserName'])


def test_moderation_opt_out_false_sends_censor_flag_0(zego_http, run_module):
    zego_http.expect('DescribeSimpleStreamList', data=listing())
    zego_http.expect('AddStream', {'CensorFlag': '0'})
    result, failed = run_module(zego_stream, present(room_id='party', stream_id='cdn', moderation_opt_out=False))
    assert not failed and result['changed']


def test_a_listed_stream_is_already_present_and_not_sent(zego_http, run_module):
    zego_http.expect('DescribeSimpleStreamList', data=listing('cam', 'cdn'))
    result, failed = run_module(zego_stream, present(room_id='party', stream_id='cdn'), diff=True)
    assert not failed and not result['changed']
    assert result['stream']['outcome'] == 'already_present' and result['stream']['attempts'] == 0
    assert result['diff'] == {'before': {'party/cdn': 'present'}, 'after': {'party/cdn': 'present'}}
    assert zego_http.actions() == ['DescribeSimpleStreamList']


def test_bulk_lists_each_room_once_and_adds_what_is_missing(zego_http, run_module):
    zego_http.expect('DescribeSimpleStreamList', {'RoomId': 'r1'}, data=listing('a'))
    zego_http.expect('DescribeSimpleStreamList', {'RoomId': 'r2'}, data=listing())
    zego_http.expect('AddStream', {'RoomId': 'r1', 'StreamId': 'b', 'StreamTitle': 'own', 'UserId': 'relay'})
    zego_http.expect('AddStream', {'RoomId': 'r2', 'StreamId': 'c', 'StreamTitle': 'shared', 'UserId': 'bot'})
    result, failed = run_module(zego_stream, present(concurrency=1, title='shared', user_id='relay', streams=[
        {'room_id': 'r1', 'stream_id': 'a'},
        {'room_id': 'r1', 'stream_id': 'b', 'title': 'own'},
        {'room_id': 'r1', 'stream_id': 'a', 'title': 'ignored: a duplicate'},
        {'room_id': 'r2', 'stream_id': 'c', 'user_id': 'bot'},
    ]))
    assert not failed and result['changed']
    assert [s['outcome'] for s in result['streams']] == ['already_present', 'added', 'added']
    assert result['summary'] == {'total': 3, 'added': 2, 'already_present': 1, 'failed': 0, 'duplicates': 1}


@pytest.mark.parametrize('code', [104, 5024, 50001])
def test_a_room_that_does_not_exist_fails_that_stream_with_a_clear_message(zego_http, run_module, code):
    zego_http.expect('DescribeSimpleStreamList', {'RoomId': 'gone'}, data=listing())
    zego_http.expect('DescribeSimpleStreamList', {'RoomId': 'party'}, data=listing())
    zego_http.expect('AddStream', {'RoomId': 'gone'}, code=code)
    zego_http.expect('AddStream', {'RoomId': 'party'}, code=0)
    result, failed = run_module(zego_stream, present(concurrency=1, streams=[
        {'room_id': 'gone', 'stream_id': 'x'}, {'room_id': 'party', 'stream_id': 'y'}]))
    assert failed and result['changed']
    gone = result['streams'][0]
    assert gone['outcome'] == 'failed' and gone['code'] == code and gone['error']['action'] == 'AddStream'
    assert 'does not exist' in gone['message'] and 'AddStream cannot create a room' in gone['message']
    assert result['msg'].startswith('1 of 2 streams failed: gone/x: code %d' % code)


def test_a_list_answer_that_the_room_does_not_exist_fails_without_adding(zego_http, run_module):
    zego_http.expect('DescribeSimpleStreamList', code=50001)
    result, failed = run_module(zego_stream, present(room_id='gone', stream_id='x'))
    assert failed and result['stream']['outcome'] == 'failed'
    assert 'does not exist' in result['msg']
    assert zego_http.actions() == ['DescribeSimpleStreamList']


def test_lost_answer_then_1012_counts_as_added(zego_http, run_module):
    zego_http.expect('DescribeSimpleStreamList', data=listing())
    zego_http.expect('AddStream', exc=requests.exceptions.ConnectionError('connection reset'))
    zego_http.expect('AddStream', code=1012)
    result, failed = run_module(zego_stream, present(room_id='party', stream_id='cdn'))
    assert not failed and result['changed']
    assert result['stream']['outcome'] == 'added' and result['stream']['response_lost'] is True
    assert result['stream']['attempts'] == 2


def test_1012_without_a_lost_answer_fails(zego_http, run_module):
    zego_http.expect('DescribeSimpleStreamList', data=listing())
    zego_http.expect('AddStream', code=1012)
    result, failed = run_module(zego_stream, present(room_id='party', stream_id='cdn'))
    assert failed and result['stream']['outcome'] == 'failed' and result['stream']['code'] == 1012


def test_123_is_retried(zego_http, run_module):
    zego_http.expect('DescribeSimpleStreamList', data=listing())
    zego_http.expect('AddStream', code=123).expect('AddStream', code=0)
    result, failed = run_module(zego_stream, present(room_id='party', stream_id='cdn'))
    assert not failed and result['stream']['attempts'] == 2


def test_fatal_error_stops_the_batch(zego_http, run_module):
    zego_http.expect('DescribeSimpleStreamList', data=listing())
    zego_http.expect('AddStream', code=9)
    result, failed = run_module(zego_stream, present(concurrency=1, streams=[
        {'room_id': 'r', 'stream_id': 'a'}, {'room_id': 'r', 'stream_id': 'b'}]))
    assert failed and zego_http.actions() == ['DescribeSimpleStreamList', 'AddStream']
    assert result['streams'][0]['stopped_batch'] is True
    assert result['streams'][1]['message'].startswith('not attempted')


def test_check_mode_lists_counts_the_users_of_empty_rooms_and_adds_nothing(zego_http, run_module):
    zego_http.expect('DescribeSimpleStreamList', {'RoomId': 'party'}, data=listing('cam'))
    zego_http.expect('DescribeSimpleStreamList', {'RoomId': 'lobby'}, data=listing())
    zego_http.expect('DescribeSimpleStreamList', {'RoomId': 'gone'}, data=listing())
    zego_http.expect('DescribeUserNum', {'RoomId[]': ['lobby', 'gone']}, data={'UserCountList': [
        {'RoomId': 'lobby', 'UserCount': 3, 'AdminUserCount': 0}, {'RoomId': 'gone', 'UserCount': 0}]})
    result, failed = run_module(zego_stream, present(concurrency=1, streams=[
        {'room_id': 'party', 'stream_id': 'cam'}, {'room_id': 'party', 'stream_id': 'cdn'},
        {'room_id': 'lobby', 'stream_id': 'cdn'}, {'room_id': 'gone', 'stream_id': 'cdn'}]), check_mode=True, diff=True)
    assert failed and result['changed']
    assert [s['outcome'] for s in result['streams']] == ['already_present', 'added', 'added', 'failed']
    assert all(s['attempts'] == 0 for s in result['streams'])
    assert 'room gone does not exist' in result['streams'][3]['message']
    assert result['diff']['before'] == {'party/cam': 'present', 'party/cdn': 'absent', 'lobby/cdn': 'absent'}


def test_absent_is_unchanged_by_the_new_state(zego_http, run_module):
    zego_http.expect('DeleteStream', {'RoomId': 'room1', 'StreamId': 's1'})
    result, failed = run_module(zego_stream, {'room_id': 'room1', 'stream_id': 's1'})
    assert not failed and result['stream']['outcome'] == 'deleted'
    assert set(result['stream']) == set(['room_id', 'stream_id', 'user_id', 'outcome', 'code', 'message', 'request_id',
                                         'attempts', 'response_lost', 'stopped_batch'])


@pytest.mark.parametrize('args, field', [
    (present(room_id='r', stream_id='s', title='t' * 128), 'title is 128 bytes long'),
    (present(room_id='r', stream_id='s', title=u'\u00e9' * 64), 'title is 128 bytes long'),
    (present(room_id='r', stream_id='s', extra_info='e' * 1025), 'extra_info is 1025 bytes long'),
    (present(streams=[{'room_id': 'r', 'stream_id': 's', 'extra_info': 'e' * 2000}]), 'streams[0].extra_info'),
    (present(room_id='r', stream_id='bad id'), "stream_id 'bad id'"),
    (present(room_id='r' * 129, stream_id='s'), 'room_id is 129 bytes long'),
    (present(room_id='r', stream_id='s', user_id='u' * 65), 'user_id is 65 bytes long'),
    ({'room_id': 'r', 'stream_id': 's', 'title': 'x'}, 'title applies only with state=present'),
    ({'streams': [{'room_id': 'r', 'stream_id': 's', 'moderation_opt_out': True}]},
     'moderation_opt_out applies only with state=present'),
])
def test_bad_input_is_refused_before_any_request(zego_http, run_module, args, field):
    result, failed = run_module(zego_stream, args)
    assert failed and field in result['msg'] and 'nothing was changed' in result['msg']
    assert zego_http.seen == []
