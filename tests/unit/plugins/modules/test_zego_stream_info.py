# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""zego_stream_info against scripted ZEGO conversations (see ../conftest.py): every request the module
sends must be the next one in the script, so a repeated or stray request fails the test."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.zego.rtc.plugins.modules import zego_stream_info


def listing(*stream_ids):
    return {'StreamList': [{'StreamId': s, 'UserId': 'u%d' % i, 'UserName': 'n%d' % i, 'CreateTime': 1642045110123 + i,
                            'StreamNumberId': 10 + i} for i, s in enumerate(stream_ids)]}


def test_one_room(zego_http, run_module):
    zego_http.expect('DescribeSimpleStreamList', {'RoomId': 'room1'}, data=listing('s1', 's2'))
    result, failed = run_module(zego_stream_info, {'room_id': 'room1'})
    assert not failed and not result['changed']
    assert len(result['rooms']) == 1
    room = result['rooms'][0]
    assert room['room_id'] == 'room1' and room['request_id'] == '1001'
    assert room['streams'] == [
        {'stream_id': 's1', 'user_id': 'u0', 'user_name': 'n0', 'create_time': 1642045110123, 'stream_number_id': 10},
        {'stream_id': 's2', 'user_id': 'u1', 'user_name': 'n1', 'create_time': 1642045110124, 'stream_number_id': 11},
    ]


def test_many_rooms_each_listed_once_in_order(zego_http, run_module):
    zego_http.expect('DescribeSimpleStreamList', {'RoomId': 'room2'}, data=listing('a'))
    zego_http.expect('DescribeSimpleStreamList', {'RoomId': 'room1'}, data=listing('b', 'c'))
    zego_http.expect('DescribeSimpleStreamList', {'RoomId': 'empty'}, data={'StreamList': []})
    result, failed = run_module(zego_stream_info, {'room_ids': ['room2', 'room1', 'room2', 'empty', 'room1']})
    assert not failed and not result['changed']
    assert [r['room_id'] for r in result['rooms']] == ['room2', 'room1', 'empty']
    assert [[s['stream_id'] for s in r['streams']] for r in result['rooms']] == [['a'], ['b', 'c'], []]
    assert zego_http.actions() == ['DescribeSimpleStreamList'] * 3
    # three different rooms: nobody waited for a room's 10-second budget
    assert not [s for s in zego_http.sleeps if s >= 1]


def test_empty_list_of_rooms_sends_nothing(zego_http, run_module):
    result, failed = run_module(zego_stream_info, {'room_ids': []})
    assert not failed and result['rooms'] == []


def test_missing_room_is_empty(zego_http, run_module):
    zego_http.expect('DescribeSimpleStreamList', {'RoomId': 'gone'}, code=50001)
    result, failed = run_module(zego_stream_info, {'room_id': 'gone'})
    assert not failed and result['rooms'][0]['streams'] == []


def test_room_rate_limit_207_waits_a_room_interval_and_retries(zego_http, run_module):
    zego_http.expect('DescribeSimpleStreamList', code=207).expect('DescribeSimpleStreamList', data=listing('s1'))
    result, failed = run_module(zego_stream_info, {'room_id': 'room1'})
    assert not failed and [s['stream_id'] for s in result['rooms'][0]['streams']] == ['s1']
    assert any(s >= 10 for s in zego_http.sleeps)
    assert len(result['warnings']) == 1 and '207' in result['warnings'][0]


def test_154_is_retried(zego_http, run_module):
    zego_http.expect('DescribeSimpleStreamList', code=154).expect('DescribeSimpleStreamList', data=listing('s1'))
    result, failed = run_module(zego_stream_info, {'room_id': 'room1'})
    assert not failed and len(result['rooms'][0]['streams']) == 1


def test_check_mode_lists_too(zego_http, run_module):
    zego_http.expect('DescribeSimpleStreamList', {'RoomId': 'room1'}, data=listing('s1'))
    result, failed = run_module(zego_stream_info, {'room_id': 'room1'}, check_mode=True)
    assert not failed and not result['changed'] and len(result['rooms'][0]['streams']) == 1


def test_bad_room_ids_fail_before_any_request(zego_http, run_module):
    result, failed = run_module(zego_stream_info, {'room_ids': ['ok', 'bad room', 'r' * 129, '']})
    assert failed
    assert 'nothing was changed' in result['msg']
    assert 'room_ids[1]' in result['msg'] and 'room_ids[2]' in result['msg'] and 'room_ids[3]' in result['msg']
    assert 'room_ids[0]' not in result['msg']
    assert zego_http.seen == []


def test_bad_connection_options_fail_before_any_request(zego_http, run_module):
    result, failed = run_module(zego_stream_info, {'room_id': 'room1', 'api_url': 'http://rtc-api.zego.im'})
    assert failed and 'api_url' in result['msg'] and zego_http.seen == []


def test_error_names_the_room_and_keeps_the_rooms_listed_so_far(zego_http, run_module):
    zego_http.expect('DescribeSimpleStreamList', {'RoomId': 'room1'}, data=listing('s1'))
    zego_http.expect('DescribeSimpleStreamList', {'RoomId': 'room2'}, code=100000005, message='signature error')
    result, failed = run_module(zego_stream_info, {'room_ids': ['room1', 'room2', 'room3']})
    assert failed
    assert 'room2' in result['msg'] and 'server_secret' in result['msg']
    assert result['error']['code'] == 100000005
    assert [r['room_id'] for r in result['rooms']] == ['room1']
    assert zego_http.secret not in str(result)


def test_retries_exhausted_fail(zego_http, run_module):
    zego_http.expect('DescribeSimpleStreamList', code=154).expect('DescribeSimpleStreamList', code=154)
    result, failed = run_module(zego_stream_info, {'room_id': 'room1', 'retries': 1})
    assert failed and result['error']['code'] == 154 and 'room1' in result['msg']
