# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The client's room-moderation actions: ZEGO's documented limits in the action table, batch limits
enforced before sending, array parameters on the wire and the parsing of ZEGO's answers."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible_collections.zego.rtc.plugins.module_utils import api


def make_client(conv, **kwargs):
    return api.ZegoClient(conv.app_id, conv.secret, conv.api_url, retries=1, **kwargs)


@pytest.mark.parametrize('action, rate, test_rate, room_interval, write', [
    ('CloseRoom', 1, 1, None, True),
    ('KickoutUser', 50, 50, None, True),
    ('DescribeUserNum', 10, 1, None, False),
    ('DescribeUsers', 10, 10, None, False),
    ('DescribeUserList', 200, 200, 1.0, False),
])
def test_documented_limits_are_in_the_table(action, rate, test_rate, room_interval, write):
    pace = api.ACTION_PACE[action]
    assert (pace.rate, pace.test_rate, pace.room_interval, pace.write) == (rate, test_rate, room_interval, write)


def test_user_list_is_paced_per_room_then_per_appid(zego_http):
    client = make_client(zego_http)
    room, app = client.pacers('DescribeUserList', [('RoomId', 'r1')])
    assert room is client.limiter('DescribeUserList', 1.0, room_id='r1')
    assert app is client.limiter('DescribeUserList', 200.0)


@pytest.mark.parametrize('call', [
    lambda c: c.kickout_users('r1', ['u%d' % i for i in range(6)]),
    lambda c: c.kickout_users('r1', []),
    lambda c: c.describe_users('r1', ['u%d' % i for i in range(11)]),
    lambda c: c.describe_user_num(['r%d' % i for i in range(11)]),
])
def test_batch_limits_are_enforced_before_sending(zego_http, call):
    with pytest.raises(ValueError):
        call(make_client(zego_http))
    assert zego_http.seen == []


def test_close_room_sends_the_callback_flag_as_text(zego_http):
    zego_http.expect('CloseRoom', {'RoomId': 'r1', 'RoomCloseCallback': 'false', 'CustomReason': 'a b&c'})
    reply = make_client(zego_http).close_room('r1', 'a b&c', False)
    assert reply.code == 0 and reply.request_id


def test_describe_users_parses_statuses_and_missing_room(zego_http):
    zego_http.expect('DescribeUsers', {'RoomId': 'r1', 'UserId[]': ['a', 'b']}, data={'UserStatusList': [
        {'UserId': 'a', 'Status': 1, 'LoginTime': 5, 'UserRole': 2}, {'UserId': 'b', 'Status': 0}]})
    zego_http.expect('DescribeUsers', code=50001)
    client = make_client(zego_http)
    statuses, dummy = client.describe_users('r1', ['a', 'b'])
    assert statuses == {'a': {'in_room': True, 'login_time': 5, 'user_role': 2},
                        'b': {'in_room': False, 'login_time': None, 'user_role': None}}
    statuses, reply = client.describe_users('gone', ['a'])
    assert statuses == {} and reply.code == 50001


def test_describe_user_num_counts_missing_rooms_as_zero(zego_http):
    zego_http.expect('DescribeUserNum', {'RoomId[]': ['a', 'b']}, data={'UserCountList': [
        {'RoomId': 'a', 'UserCount': '3', 'AdminUserCount': 1}]})
    counts, dummy = make_client(zego_http).describe_user_num(['a', 'b'])
    assert counts == {'a': {'user_count': 3, 'admin_user_count': 1}, 'b': {'user_count': 0, 'admin_user_count': 0}}


def test_other_codes_raise_with_the_code(zego_http):
    zego_http.expect('DescribeUserNum', code=2)
    with pytest.raises(api.ZegoError) as info:
        make_client(zego_http).describe_user_num(['a'])
    assert info.value.code == 2 and info.value.action == 'DescribeUserNum' and not info.value.retryable


def test_user_list_page_and_marker(zego_http):
    zego_http.expect('DescribeUserList', {'RoomId': 'r1', 'Marker': 'm1', 'Limit': '50', 'Mode': '1'},
                     data={'Marker': 'm2', 'UserList': [{'UserId': 'u', 'UserName': 'U', 'UserRole': 1}]})
    users, marker, dummy = make_client(zego_http).describe_user_list('r1', marker='m1', limit=50, mode=1)
    assert users == [{'user_id': 'u', 'user_name': 'U', 'user_role': 1}] and marker == 'm2'
