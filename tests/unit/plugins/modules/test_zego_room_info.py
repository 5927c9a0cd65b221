# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""zego_room_info against scripted ZEGO conversations (see conftest.py)."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.zego.rtc.plugins.modules import zego_room_info


def counts(**rooms):
    return {'UserCountList': [{'RoomId': r, 'UserCount': n, 'AdminUserCount': n // 2} for r, n in rooms.items()]}


def page(marker, *users):
    return {'Marker': marker, 'UserList': [{'UserId': u, 'UserName': u.upper(), 'UserRole': 1} for u in users]}


def test_counts_rooms(zego_http, run_module):
    zego_http.expect('DescribeUserNum', {'RoomId[]': ['a', 'b']}, data=counts(a=4))
    result, failed = run_module(zego_room_info, {'room_ids': ['a', 'b', 'a']}, check_mode=True)
    assert not failed and not result['changed']
    assert [(r['room_id'], r['user_count'], r['admin_user_count']) for r in result['rooms']] == [('a', 4, 2), ('b', 0, 0)]
    assert 'users' not in result['rooms'][0]


def test_lists_users_page_by_page(zego_http, run_module):
    zego_http.expect('DescribeUserNum', data=counts(a=3, b=0))
    zego_http.expect('DescribeUserList', {'RoomId': 'a', 'Limit': '200', 'Mode': '0'}, data=page('m2', 'u1', 'u2'))
    zego_http.expect('DescribeUserList', {'RoomId': 'a', 'Marker': 'm2'}, data=page('', 'u3'))
    result, failed = run_module(zego_room_info, {'room_ids': ['a', 'b'], 'list_users': True})
    assert not failed
    assert [u['user_id'] for u in result['rooms'][0]['users']] == ['u1', 'u2', 'u3']
    assert result['rooms'][0]['users'][0] == {'user_id': 'u1', 'user_name': 'U1', 'user_role': 1}
    assert result['rooms'][1]['users'] == [] and not result['rooms'][0]['users_truncated']
    assert 'Marker' not in zego_http.seen[1]


def test_max_users_caps_the_listing(zego_http, run_module):
    zego_http.expect('DescribeUserNum', data=counts(a=5))
    zego_http.expect('DescribeUserList', {'Limit': '2'}, data=page('m2', 'u1', 'u2'))
    result, failed = run_module(zego_room_info, {'room_ids': ['a'], 'list_users': True, 'max_users': 2})
    assert not failed and len(result['rooms'][0]['users']) == 2 and result['rooms'][0]['users_truncated']


def test_a_repeated_marker_ends_the_listing(zego_http, run_module):
    zego_http.expect('DescribeUserNum', data=counts(a=5))
    zego_http.expect('DescribeUserList', data=page('m1', 'u1'))
    zego_http.expect('DescribeUserList', data=page('m1', 'u2'))
    result, failed = run_module(zego_room_info, {'room_ids': ['a'], 'list_users': True})
    assert not failed and [u['user_id'] for u in result['rooms'][0]['users']] == ['u1', 'u2']


def test_failure_names_the_rooms(zego_http, run_module):
    zego_http.expect('DescribeUserNum', code=2)
    result, failed = run_module(zego_room_info, {'room_ids': ['a']})
    assert failed and 'a' in result['msg'] and result['error']['code'] == 2


def test_bad_input_sends_nothing(zego_http, run_module):
    result, failed = run_module(zego_room_info, {'room_ids': ['ok', '', 'a b'], 'max_users': -1})
    assert failed and zego_http.seen == []
    for field in ('room_ids[1]', 'room_ids[2]', 'max_users'):
        assert field in result['msg'], field
