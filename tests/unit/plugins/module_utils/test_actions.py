# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action entries: ZEGO's documented limits, batch limits enforced before sending, array parameters on the
wire, what codes mean for the items, and the parsing of ZEGO's answers."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible_collections.zego.rtc.plugins.module_utils import actions
from ansible_collections.zego.rtc.plugins.module_utils.client import Settings, ZegoClient
from ansible_collections.zego.rtc.plugins.module_utils.errors import ZegoError
from ansible_collections.zego.rtc.plugins.module_utils.codes import describe_code


def make_client(conv):
    return ZegoClient(Settings(app_id=conv.app_id, secret=conv.secret, api_url=conv.api_url, retries=1))


def test_every_action_has_a_documented_pace_and_a_unique_name():
    entries = [v for v in vars(actions).values() if isinstance(v, actions.Action)]
    assert len(entries) == 14 and len(set(a.name for a in entries)) == 14
    assert all(isinstance(a.pace, actions.Pace) and a.pace.rate > 0 for a in entries)


@pytest.mark.parametrize('action, rate, test_rate, room_interval, write', [
    (actions.CLOSE_ROOM, 1, 1, None, True),
    (actions.KICKOUT_USERS, 50, 50, None, True),
    (actions.COUNT_USERS, 10, 1, None, False),
    (actions.DESCRIBE_USERS, 10, 10, None, False),
    (actions.LIST_USERS, 200, 200, 1.0, False),
    (actions.DELETE_STREAM, 10, 1, None, True),
    (actions.LIST_STREAMS, 50, 50, 10.0, False),
    (actions.FORBID_STREAMS, 20, 5, None, True),
    (actions.SET_RULE, 10, 10, None, True),
])
def test_documented_limits_are_in_the_entries(action, rate, test_rate, room_interval, write):
    pace = action.pace
    assert (pace.rate, pace.test_rate, pace.room_interval, pace.write) == (rate, test_rate, room_interval, write)


def test_user_list_is_paced_per_room_then_per_appid(zego_http):
    client = make_client(zego_http)
    room, app = client.pacers(actions.LIST_USERS, [('RoomId', 'r1')])
    assert room is client.limiter('DescribeUserList', 1.0, room_id='r1')
    assert app is client.limiter('DescribeUserList', 200.0)


@pytest.mark.parametrize('action, fields', [
    (actions.KICKOUT_USERS, {'room_id': 'r1', 'user_id': ['u%d' % i for i in range(6)]}),
    (actions.KICKOUT_USERS, {'room_id': 'r1', 'user_id': []}),
    (actions.DESCRIBE_USERS, {'room_id': 'r1', 'user_id': ['u%d' % i for i in range(11)]}),
    (actions.COUNT_USERS, {'room_id': ['r%d' % i for i in range(11)]}),
    (actions.FORBID_STREAMS, {'stream_id': ['s%d' % i for i in range(21)]}),
])
def test_batch_limits_are_enforced_before_sending(zego_http, action, fields):
    with pytest.raises(ValueError):
        action.send(make_client(zego_http), fields)
    assert zego_http.seen == []


def test_close_room_sends_the_callback_flag_as_text(zego_http):
    zego_http.expect('CloseRoom', {'RoomId': 'r1', 'RoomCloseCallback': 'false', 'CustomReason': 'a b&c'})
    reply = actions.CLOSE_ROOM.send(make_client(zego_http), {'room_id': 'r1', 'custom_reason': 'a b&c',
                                                             'room_close_callback': False})
    assert reply.code == 0 and reply.request_id


def test_describe_users_parses_statuses_and_missing_room(zego_http):
    zego_http.expect('DescribeUsers', {'RoomId': 'r1', 'UserId[]': ['a', 'b']}, data={'UserStatusList': [
        {'UserId': 'a', 'Status': 1, 'LoginTime': 5, 'UserRole': 2}, {'UserId': 'b', 'Status': 0}]})
    zego_http.expect('DescribeUsers', code=50001)
    client = make_client(zego_http)
    statuses, dummy = actions.DESCRIBE_USERS.read(client, {'room_id': 'r1', 'user_id': ['a', 'b']})
    assert statuses == {'a': {'in_room': True, 'login_time': 5, 'user_role': 2},
                        'b': {'in_room': False, 'login_time': None, 'user_role': None}}
    statuses, reply = actions.DESCRIBE_USERS.read(client, {'room_id': 'gone', 'user_id': ['a']})
    assert statuses == {} and reply.code == 50001


def test_describe_user_num_counts_missing_rooms_as_zero(zego_http):
    zego_http.expect('DescribeUserNum', {'RoomId[]': ['a', 'b']}, data={'UserCountList': [
        {'RoomId': 'a', 'UserCount': '3', 'AdminUserCount': 1}]})
    counts, dummy = actions.COUNT_USERS.read(make_client(zego_http), {'room_id': ['a', 'b']})
    assert counts == {'a': {'user_count': 3, 'admin_user_count': 1}, 'b': {'user_count': 0, 'admin_user_count': 0}}


def test_other_codes_raise_with_the_code(zego_http):
    zego_http.expect('DescribeUserNum', code=2)
    with pytest.raises(ZegoError) as info:
        actions.COUNT_USERS.read(make_client(zego_http), {'room_id': ['a']})
    assert info.value.code == 2 and info.value.action == 'DescribeUserNum' and not info.value.retryable


def test_user_list_page_and_marker(zego_http):
    zego_http.expect('DescribeUserList', {'RoomId': 'r1', 'Marker': 'm1', 'Limit': '50', 'Mode': '1'},
                     data={'Marker': 'm2', 'UserList': [{'UserId': 'u', 'UserName': 'U', 'UserRole': 1}]})
    fields = {'room_id': 'r1', 'marker': 'm1', 'limit': 50, 'mode': 1}
    (users, marker), dummy = actions.LIST_USERS.read(make_client(zego_http), fields)
    assert users == [{'user_id': 'u', 'user_name': 'U', 'user_role': 1}] and marker == 'm2'


@pytest.mark.parametrize('action, code, count, outcome', [
    (actions.DELETE_STREAM, 0, 1, 'applied'),
    (actions.DELETE_STREAM, 138, 1, 'absent'),
    (actions.DELETE_STREAM, 50001, 1, 'absent'),
    (actions.DELETE_STREAM, 2, 1, None),
    (actions.KICKOUT_USERS, 105, 2, 'split'),
    (actions.KICKOUT_USERS, 105, 1, 'absent'),
    (actions.KICKOUT_USERS, 50001, 3, 'absent'),
    (actions.FORBID_STREAMS, 42003, 3, 'split'),
    (actions.FORBID_STREAM, 42003, 1, None),
    (actions.DELETE_RULE, 50124, 1, 'absent'),
    (actions.CLOSE_ROOM, 5018, 1, 'absent'),
])
def test_what_an_answer_means_for_the_items(action, code, count, outcome):
    assert action.outcome(code, count) == outcome


def test_a_batch_action_of_one_id_is_sent_in_its_single_form():
    assert actions.FORBID_STREAMS.for_count(1) is actions.FORBID_STREAM
    assert actions.FORBID_STREAMS.for_count(2) is actions.FORBID_STREAMS
    assert actions.KICKOUT_USERS.for_count(1) is actions.KICKOUT_USERS


def test_rule_actions_say_that_rules_must_be_enabled():
    assert 'ZEGO support' in actions.SET_RULE.describe(9) and 'ZEGO support' in actions.DESCRIBE_RULES.describe(9)
    assert actions.DELETE_STREAM.describe(9) == describe_code(9)
