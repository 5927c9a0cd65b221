# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""zego_room_message against scripted ZEGO conversations (see conftest.py): every request the module sends must
be the next one in the script, so a message sent in check mode fails the test."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest
import requests

from ansible_collections.zego.rtc.plugins.modules import zego_room_message


def counts(**rooms):
    return {'UserCountList': [{'RoomId': r, 'UserCount': n, 'AdminUserCount': 0} for r, n in rooms.items()]}


def test_broadcast_is_a_system_message_from_the_server_identity(zego_http, run_module):
    zego_http.expect('SendBroadcastMessage', {'RoomId': 'r1', 'UserId': 'Server-Administrator', 'MessageCategory': '1',
                                              'MessageContent': u'Closing in 5 minutes \u2013 sorry'},
                     data={'MessageId': 7})
    result, failed = run_module(zego_room_message, {'room_id': 'r1', 'text': u'Closing in 5 minutes \u2013 sorry'})
    assert not failed and result['changed']
    room = result['rooms'][0]
    assert (room['outcome'], room['message_id'], room['code'], room['requests'], room['attempts']) == ('sent', 7, 0, 1, 1)
    assert result['summary'] == {'total': 1, 'sent': 1, 'failed': 0, 'duplicates': 0}
    assert result['outgoing'] == {'action': 'SendBroadcastMessage', 'kind': 'broadcast', 'category': 'system',
                                  'text': u'Closing in 5 minutes \u2013 sorry', 'user_id': 'Server-Administrator',
                                  'user_name': None, 'to_user_ids': None}
    assert 'UserName' not in zego_http.seen[0]


def test_barrage_chat_with_a_sender_name_keeps_the_string_message_id(zego_http, run_module):
    zego_http.expect('SendBarrageMessage', {'RoomId': 'r1', 'UserId': 'bot', 'UserName': 'Host', 'MessageCategory': '2'},
                     data={'MessageId': '1_1611647493487_29'})
    zego_http.expect('SendBarrageMessage', {'RoomId': 'r2'}, data={'MessageId': '1_1611647493488_30'})
    result, failed = run_module(zego_room_message, {'room_ids': ['r1', 'r2', 'r1'], 'text': 'hi', 'kind': 'barrage',
                                                    'category': 'chat', 'user_id': 'bot', 'user_name': 'Host',
                                                    'concurrency': 1})
    assert not failed
    assert [r['message_id'] for r in result['rooms']] == ['1_1611647493487_29', '1_1611647493488_30']
    assert result['summary']['duplicates'] == 1


def test_command_to_many_users_is_split_by_ten(zego_http, run_module):
    users = ['u%02d' % i for i in range(23)]
    zego_http.expect('SendCustomCommand', {'RoomId': 'r1', 'FromUserId': 'Server-Administrator', 'ToUserId[]': users[:10]})
    zego_http.expect('SendCustomCommand', {'ToUserId[]': users[10:20]})
    zego_http.expect('SendCustomCommand', {'ToUserId[]': users[20:]})
    result, failed = run_module(zego_room_message, {'room_id': 'r1', 'text': '{"mute": 1}', 'kind': 'command',
                                                    'to_user_ids': users + ['u00']})
    assert not failed and result['changed']
    room = result['rooms'][0]
    assert (room['requests'], room['attempts'], room['message_id']) == (3, 3, None)
    assert result['outgoing']['to_user_ids'] == users and result['outgoing']['category'] is None
    assert not set(['UserId', 'MessageCategory', 'UserName']) & set(zego_http.seen[0])


def test_command_without_targets_goes_to_the_whole_room(zego_http, run_module):
    zego_http.expect('SendCustomCommand', {'RoomId': 'r1', 'MessageContent': 'refresh'})
    result, failed = run_module(zego_room_message, {'room_id': 'r1', 'text': 'refresh', 'kind': 'command'})
    assert not failed and 'ToUserId[]' not in zego_http.seen[0]
    assert result['outgoing']['to_user_ids'] == []


def test_a_failed_part_of_a_command_fails_the_room_and_stops_its_other_parts(zego_http, run_module):
    users = ['u%02d' % i for i in range(25)]
    zego_http.expect('SendCustomCommand', code=0)
    zego_http.expect('SendCustomCommand', code=50013)
    result, failed = run_module(zego_room_message, {'room_id': 'r1', 'text': 'x', 'kind': 'command',
                                                    'to_user_ids': users})
    assert failed and result['rooms'][0]['outcome'] == 'failed' and result['rooms'][0]['code'] == 50013
    assert len(zego_http.seen) == 2


@pytest.mark.parametrize('code', [104, 5024, 50001])
def test_a_room_that_does_not_exist_fails_with_a_clear_message(zego_http, run_module, code):
    zego_http.expect('SendBroadcastMessage', {'RoomId': 'gone'}, code=code)
    zego_http.expect('SendBroadcastMessage', {'RoomId': 'live'}, data={'MessageId': 1})
    result, failed = run_module(zego_room_message, {'room_ids': ['gone', 'live'], 'text': 'x', 'concurrency': 1})
    assert failed and result['changed']
    assert [r['outcome'] for r in result['rooms']] == ['failed', 'sent']
    assert 'the room does not exist' in result['rooms'][0]['message']
    assert result['msg'].startswith('1 of 2 rooms failed: gone: code %d' % code)


def test_206_is_paced_and_retried(zego_http, run_module):
    zego_http.expect('SendBroadcastMessage', code=206).expect('SendBroadcastMessage', data={'MessageId': 2})
    result, failed = run_module(zego_room_message, {'room_id': 'r1', 'text': 'x'})
    assert not failed and result['rooms'][0]['attempts'] == 2
    assert any(s >= 0.5 for s in zego_http.sleeps)


def test_a_lost_answer_is_sent_again_and_reported(zego_http, run_module):
    zego_http.expect('SendBroadcastMessage', exc=requests.exceptions.ConnectionError('connection reset'))
    zego_http.expect('SendBroadcastMessage', data={'MessageId': 4})
    result, failed = run_module(zego_room_message, {'room_id': 'r1', 'text': 'x'})
    assert not failed and result['rooms'][0]['response_lost'] is True and result['rooms'][0]['message_id'] == 4


def test_fatal_error_stops_the_batch(zego_http, run_module):
    zego_http.expect('SendBroadcastMessage', code=100000005)
    result, failed = run_module(zego_room_message, {'room_ids': ['a', 'b'], 'text': 'x', 'concurrency': 1})
    assert failed and len(zego_http.seen) == 1
    assert result['rooms'][0]['stopped_batch'] and result['rooms'][1]['message'].startswith('not attempted')
    assert 'server_secret' in result['msg']


def test_check_mode_counts_users_and_sends_nothing(zego_http, run_module):
    rooms = ['r%02d' % i for i in range(12)]
    zego_http.expect('DescribeUserNum', {'RoomId[]': rooms[:10]}, data=counts(**dict((r, 2) for r in rooms[:10])))
    zego_http.expect('DescribeUserNum', {'RoomId[]': rooms[10:]}, data=counts(r10=5, r11=0))
    result, failed = run_module(zego_room_message, {'room_ids': rooms, 'text': 'x', 'concurrency': 1}, check_mode=True)
    assert failed and result['changed']
    assert [r['outcome'] for r in result['rooms']] == ['sent'] * 11 + ['failed']
    assert [r['user_count'] for r in result['rooms']][-2:] == [5, 0]
    assert 'room r11 does not exist' in result['rooms'][-1]['message']
    assert all(r['attempts'] == 0 and r['message_id'] is None for r in result['rooms'])
    assert result['outgoing']['text'] == 'x'


@pytest.mark.parametrize('args, words', [
    ({'room_id': 'r', 'text': 'm' * 1025}, 'text is 1025 bytes long'),
    ({'room_id': 'r', 'text': u'\u00e9' * 513}, 'text is 1026 bytes long'),
    ({'room_id': 'r', 'text': '  '}, 'text must not be empty'),
    ({'room_id': 'r', 'text': 'x', 'kind': 'command', 'category': 'system'}, 'category does not apply to kind=command'),
    ({'room_id': 'r', 'text': 'x', 'kind': 'command', 'user_name': 'n'}, 'user_name does not apply to kind=command'),
    ({'room_id': 'r', 'text': 'x', 'to_user_ids': ['a']}, 'to_user_ids applies to kind=command only'),
    ({'room_id': 'r', 'text': 'x', 'kind': 'command', 'to_user_ids': ['a', 'b c']}, "to_user_ids[1] 'b c'"),
    ({'room_ids': ['ok', 'r' * 129], 'text': 'x'}, 'room_ids[1] is 129 bytes long'),
    ({'room_id': '', 'text': 'x'}, 'room_id must not be empty'),
    ({'room_id': 'r', 'text': 'x', 'user_id': 'bad user'}, "user_id 'bad user'"),
    ({'room_id': 'r', 'text': 'x', 'concurrency': 0}, 'concurrency must be between 1 and 32'),
])
def test_bad_input_is_refused_before_any_request(zego_http, run_module, args, words):
    result, failed = run_module(zego_room_message, args)
    assert failed and words in result['msg'] and 'nothing was changed' in result['msg']
    assert zego_http.seen == []


def test_an_unknown_kind_is_refused(zego_http, run_module):
    result, failed = run_module(zego_room_message, {'room_id': 'r', 'text': 'x', 'kind': 'shout'})
    assert failed and 'kind' in result['msg'] and zego_http.seen == []
