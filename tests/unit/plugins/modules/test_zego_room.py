# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""zego_room against scripted ZEGO conversations (see conftest.py): check-mode tests script only
DescribeUserNum, so a CloseRoom would fail them."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible_collections.zego.rtc.plugins.module_utils.actions import CLOSE_ROOM
from ansible_collections.zego.rtc.plugins.module_utils.client import Settings, ZegoClient
from ansible_collections.zego.rtc.plugins.modules import zego_room


def counts(**rooms):
    return {'UserCountList': [{'RoomId': r, 'UserCount': n, 'AdminUserCount': 0} for r, n in rooms.items()]}


def test_close_one_room(zego_http, run_module):
    zego_http.expect('CloseRoom', {'RoomId': 'r1', 'CustomReason': 'bye', 'RoomCloseCallback': 'true'})
    result, failed = run_module(zego_room, {'room_id': 'r1', 'custom_reason': 'bye', 'room_close_callback': True})
    assert not failed and result['changed']
    assert result['rooms'] == [{'room_id': 'r1', 'outcome': 'closed', 'code': 0, 'message': 'success',
                                'request_id': result['rooms'][0]['request_id'], 'stopped_batch': False}]
    assert result['summary'] == {'total': 1, 'closed': 1, 'already_absent': 0, 'failed': 0, 'duplicates': 0}


def test_optional_parameters_are_not_sent_unless_set(zego_http, run_module):
    zego_http.expect('CloseRoom', {'RoomId': 'r1'})
    run_module(zego_room, {'room_id': 'r1'})
    assert 'RoomCloseCallback' not in zego_http.seen[0] and 'CustomReason' not in zego_http.seen[0]


@pytest.mark.parametrize('code', [5018, 5024, 104, 50001])
def test_missing_room_is_already_absent(zego_http, run_module, code):
    zego_http.expect('CloseRoom', code=code)
    result, failed = run_module(zego_room, {'room_id': 'r1'})
    assert not failed and not result['changed'] and result['rooms'][0]['outcome'] == 'already_absent'


def test_rooms_in_input_order_with_duplicates_and_a_failure(zego_http, run_module):
    zego_http.expect('CloseRoom', {'RoomId': 'a'}, code=0)
    zego_http.expect('CloseRoom', {'RoomId': 'b'}, code=5018)
    zego_http.expect('CloseRoom', {'RoomId': 'c'}, code=2)
    zego_http.expect('CloseRoom', {'RoomId': 'd'}, code=0)
    result, failed = run_module(zego_room, {'room_ids': ['a', 'b', 'a', 'c', 'd'], 'concurrency': 1})
    assert failed and result['changed']
    assert [r['outcome'] for r in result['rooms']] == ['closed', 'already_absent', 'failed', 'closed']
    assert result['summary'] == {'total': 4, 'closed': 2, 'already_absent': 1, 'failed': 1, 'duplicates': 1}
    assert result['msg'].startswith('1 of 4 rooms failed: c')


def test_check_mode_counts_users_and_sends_no_close(zego_http, run_module):
    zego_http.expect('DescribeUserNum', {'RoomId[]': ['a', 'b']}, data=counts(a=3, b=0))
    result, failed = run_module(zego_room, {'room_ids': ['a', 'b']}, check_mode=True, diff=True)
    assert not failed and result['changed']
    assert [(r['outcome'], r['user_count']) for r in result['rooms']] == [('closed', 3), ('already_absent', 0)]
    assert result['diff'] == {'before': {'a': 'open', 'b': 'absent'}, 'after': {'a': 'absent', 'b': 'absent'}}


def test_check_mode_counts_ten_rooms_per_request(zego_http, run_module):
    rooms = ['r%02d' % i for i in range(13)]
    zego_http.expect('DescribeUserNum', {'RoomId[]': rooms[:10]}, data=counts())
    zego_http.expect('DescribeUserNum', {'RoomId[]': rooms[10:]}, data=counts(r12=1))
    result, failed = run_module(zego_room, {'room_ids': rooms, 'concurrency': 1}, check_mode=True)
    assert not failed and result['summary']['closed'] == 1 and result['summary']['already_absent'] == 12


def test_fatal_error_stops_the_batch(zego_http, run_module):
    zego_http.expect('CloseRoom', code=100000010)
    result, failed = run_module(zego_room, {'room_ids': ['a', 'b', 'c'], 'concurrency': 1})
    assert failed and len(zego_http.seen) == 1
    assert result['rooms'][0]['stopped_batch'] is True
    assert all(r['message'].startswith('not attempted') for r in result['rooms'][1:])


def test_close_room_is_paced_to_one_per_second():
    client = ZegoClient(Settings(app_id=1, secret='s', shared_limits=False))
    assert client.rate_for(CLOSE_ROOM) == 1.0
    assert ZegoClient(Settings(app_id=1, secret='s', is_test=True, shared_limits=False)).rate_for(CLOSE_ROOM) == 1.0
    assert [p.interval for p in client.pacers(CLOSE_ROOM, [('RoomId', 'r')])] == [pytest.approx(1 / 0.98)]


def test_bad_input_sends_nothing(zego_http, run_module):
    result, failed = run_module(zego_room, {'room_ids': ['ok', 'bad room', 'r' * 129], 'custom_reason': u'\u00e9' * 129})
    assert failed and zego_http.seen == []
    for field in ('room_ids[1]', 'room_ids[2]', 'custom_reason'):
        assert field in result['msg'], field


def test_check_mode_stops_counting_after_an_error_every_request_would_get(zego_http, run_module):
    zego_http.expect('DescribeUserNum', code=100000005)
    result, failed = run_module(zego_room, {'room_ids': ['r%02d' % i for i in range(12)], 'concurrency': 1}, check_mode=True)
    assert failed and len(zego_http.seen) == 1
    assert result['rooms'][0]['stopped_batch'] and 'server_secret' in result['rooms'][0]['message']
    assert result['rooms'][10]['message'].startswith('not attempted') and result['summary']['failed'] == 12
