# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""zego_room_user against scripted ZEGO conversations (see conftest.py): every request must be the next
one in the script, so a check-mode test or a rerun that scripts only DescribeUsers proves no KickoutUser."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest
import requests

from ansible_collections.zego.rtc.plugins.modules import zego_room_user


def statuses(present, absent=()):
    return {'UserStatusList': [{'UserId': u, 'Status': 1, 'LoginTime': 1, 'UserRole': 1} for u in present]
            + [{'UserId': u, 'Status': 0, 'LoginTime': 0, 'UserRole': 0} for u in absent]}


def test_kicks_only_the_users_in_the_room(zego_http, run_module):
    zego_http.expect('DescribeUsers', {'RoomId': 'r1', 'UserId[]': ['a', 'b', 'c']}, data=statuses(['a', 'c'], ['b']))
    zego_http.expect('KickoutUser', {'RoomId': 'r1', 'UserId[]': ['a', 'c'], 'CustomReason': 'spam'})
    result, failed = run_module(zego_room_user, {'room_id': 'r1', 'user_ids': ['a', 'b', 'c', 'a'], 'custom_reason': 'spam'})
    assert not failed and result['changed']
    assert [(u['user_id'], u['outcome']) for u in result['users']] == [('a', 'kicked'), ('b', 'already_absent'), ('c', 'kicked')]
    assert result['summary'] == {'total': 3, 'kicked': 2, 'already_absent': 1, 'failed': 0, 'duplicates': 1}
    assert result['users'][0]['request_id'] and result['users'][0]['stopped_batch'] is False


def test_rerun_sends_no_kickout_and_is_ok(zego_http, run_module):
    zego_http.expect('DescribeUsers', data=statuses([], ['a', 'c']))
    result, failed = run_module(zego_room_user, {'room_id': 'r1', 'user_ids': ['a', 'c']})
    assert not failed and not result['changed']
    assert result['summary']['already_absent'] == 2 and zego_http.actions() == ['DescribeUsers']


def test_check_mode_sends_no_kickout_and_predicts(zego_http, run_module):
    zego_http.expect('DescribeUsers', data=statuses(['a'], ['b']))
    result, failed = run_module(zego_room_user, {'room_id': 'r1', 'user_ids': ['a', 'b']}, check_mode=True, diff=True)
    assert not failed and result['changed']
    assert [u['outcome'] for u in result['users']] == ['kicked', 'already_absent']
    assert result['diff'] == {'before': {'r1/a': 'present', 'r1/b': 'absent'}, 'after': {'r1/a': 'absent', 'r1/b': 'absent'}}


def test_batches_of_ten_to_describe_and_five_to_kick(zego_http, run_module):
    users = ['u%02d' % i for i in range(12)]
    zego_http.expect('DescribeUsers', {'UserId[]': users[:10]}, data=statuses(users[:10]))
    zego_http.expect('DescribeUsers', {'UserId[]': users[10:]}, data=statuses(users[10:]))
    zego_http.expect('KickoutUser', {'UserId[]': users[:5]})
    zego_http.expect('KickoutUser', {'UserId[]': users[5:10]})
    zego_http.expect('KickoutUser', {'UserId[]': users[10:]})
    result, failed = run_module(zego_room_user, {'room_id': 'r1', 'user_ids': users, 'concurrency': 1})
    assert not failed and result['summary']['kicked'] == 12


@pytest.mark.parametrize('code', [50001, 104, 5024])
def test_missing_room_means_every_user_is_absent(zego_http, run_module, code):
    zego_http.expect('DescribeUsers', code=code)
    result, failed = run_module(zego_room_user, {'room_id': 'gone', 'user_ids': ['a', 'b']})
    assert not failed and not result['changed']
    assert [u['outcome'] for u in result['users']] == ['already_absent'] * 2


def test_room_gone_between_describe_and_kick_is_absent(zego_http, run_module):
    zego_http.expect('DescribeUsers', data=statuses(['a']))
    zego_http.expect('KickoutUser', code=50001)
    result, failed = run_module(zego_room_user, {'room_id': 'r1', 'user_ids': ['a']})
    assert not failed and not result['changed'] and result['users'][0]['outcome'] == 'already_absent'


def test_user_gone_in_a_batch_is_asked_again_alone(zego_http, run_module):
    zego_http.expect('DescribeUsers', data=statuses(['a', 'b']))
    zego_http.expect('KickoutUser', {'UserId[]': ['a', 'b']}, code=105)
    zego_http.expect('KickoutUser', {'UserId[]': ['a']}, code=0)
    zego_http.expect('KickoutUser', {'UserId[]': ['b']}, code=105)
    result, failed = run_module(zego_room_user, {'room_id': 'r1', 'user_ids': ['a', 'b']})
    assert not failed and result['changed']
    assert [u['outcome'] for u in result['users']] == ['kicked', 'already_absent']


def test_lost_answer_then_room_missing_counts_as_kicked(zego_http, run_module):
    zego_http.expect('DescribeUsers', data=statuses(['a']))
    zego_http.expect('KickoutUser', exc=requests.exceptions.ConnectionError('connection reset'))
    zego_http.expect('KickoutUser', code=50001)
    result, failed = run_module(zego_room_user, {'room_id': 'r1', 'user_ids': ['a']})
    assert not failed and result['changed'] and result['users'][0]['outcome'] == 'kicked'


def test_users_of_several_rooms_in_input_order(zego_http, run_module):
    zego_http.expect('DescribeUsers', {'RoomId': 'r1', 'UserId[]': ['a', 'b']}, data=statuses(['a', 'b']))
    zego_http.expect('DescribeUsers', {'RoomId': 'r2', 'UserId[]': ['a']}, data=statuses([], ['a']))
    zego_http.expect('KickoutUser', {'RoomId': 'r1', 'UserId[]': ['a', 'b']})
    result, failed = run_module(zego_room_user, {'concurrency': 1, 'users': [
        {'room_id': 'r1', 'user_id': 'a'}, {'room_id': 'r2', 'user_id': 'a'}, {'room_id': 'r1', 'user_id': 'b'},
        {'room_id': 'r1', 'user_id': 'a'}]})
    assert not failed and result['changed']
    assert [(u['room_id'], u['user_id'], u['outcome']) for u in result['users']] == [
        ('r1', 'a', 'kicked'), ('r1', 'b', 'kicked'), ('r2', 'a', 'already_absent')]
    assert result['summary']['duplicates'] == 1


def test_kick_failure_is_reported_and_fails_the_task(zego_http, run_module):
    zego_http.expect('DescribeUsers', {'RoomId': 'r1'}, data=statuses(['a']))
    zego_http.expect('DescribeUsers', {'RoomId': 'r2'}, data=statuses(['b']))
    zego_http.expect('KickoutUser', {'RoomId': 'r1'}, code=2)
    zego_http.expect('KickoutUser', {'RoomId': 'r2'}, code=0)
    result, failed = run_module(zego_room_user, {'concurrency': 1, 'users': [{'room_id': 'r1', 'user_id': 'a'},
                                                                             {'room_id': 'r2', 'user_id': 'b'}]})
    assert failed and result['changed']
    assert result['users'][0]['outcome'] == 'failed' and result['users'][0]['error']['code'] == 2
    assert result['users'][0]['stopped_batch'] is False
    assert result['msg'].startswith('1 of 2 users failed: r1/a')


def test_bad_secret_stops_the_batch(zego_http, run_module):
    zego_http.expect('DescribeUsers', code=100000005)
    result, failed = run_module(zego_room_user, {'concurrency': 1, 'users': [{'room_id': 'r1', 'user_id': 'a'},
                                                                             {'room_id': 'r2', 'user_id': 'b'}]})
    assert failed and len(zego_http.seen) == 1
    assert result['users'][0]['stopped_batch'] is True and 'server_secret' in result['users'][0]['message']
    assert result['users'][1]['message'].startswith('not attempted') and result['users'][1]['code'] == 100000005
    assert zego_http.secret not in str(result)


def test_bad_input_names_every_field_and_sends_nothing(zego_http, run_module):
    result, failed = run_module(zego_room_user, {'room_id': 'r' * 129, 'user_ids': ['ok', 'bad user', 'u' * 65],
                                                 'custom_reason': 'x' * 257})
    assert failed and zego_http.seen == []
    for field in ('room_id', 'user_ids[1]', 'user_ids[2]', 'custom_reason', 'nothing was changed'):
        assert field in result['msg'], field


def test_bad_input_in_users_names_the_item(zego_http, run_module):
    result, failed = run_module(zego_room_user, {'users': [{'room_id': 'r1', 'user_id': 'a'}, {'room_id': 'r 2', 'user_id': ''}]})
    assert failed and zego_http.seen == []
    assert 'users[1].room_id' in result['msg'] and 'users[1].user_id' in result['msg']


def test_empty_list_does_nothing(zego_http, run_module):
    result, failed = run_module(zego_room_user, {'room_id': 'r1', 'user_ids': []})
    assert not failed and not result['changed'] and result['users'] == [] and result['summary']['total'] == 0
