# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The input of add_streams, notify_rooms and the notice of kick_users / close_rooms (zego.rtc.parse_input), and
the notice's entry in their report (zego.rtc.notice_report)."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.zego.rtc.plugins.filter.notice import notice_report
from ansible_collections.zego.rtc.plugins.filter.parse_input import parse_input
from ansible_collections.zego.rtc.plugins.module_utils.text_limits import TEXT_LIMITS, check_text


# -- add_streams -------------------------------------------------------------------------------------
def test_added_streams_take_title_extra_info_and_the_moderation_opt_out():
    res = parse_input({'room_id': 'party', 'stream_ids': 'cdn1\ncdn2', 'title': 'Movie night', 'extra_info': 7,
                       'moderation_opt_out': 'yes'}, 'streams', 'add')
    assert res['errors'] == []
    assert res['streams'] == [{'room_id': 'party', 'stream_id': 'cdn1'}, {'room_id': 'party', 'stream_id': 'cdn2'}]
    assert (res['title'], res['extra_info'], res['moderation_opt_out']) == ('Movie night', '7', True)


def test_unset_add_options_keep_their_defaults():
    res = parse_input({'room_id': 'party', 'stream_ids': 'cdn1', 'title': '', 'extra_info': None,
                       'moderation_opt_out': None}, 'streams', 'add')
    assert res['errors'] == [] and (res['title'], res['extra_info'], res['moderation_opt_out']) == (None, None, None)


@pytest.mark.parametrize('data, message', [
    ({'title': 't' * 128}, 'title is 128 bytes long; ZEGO allows at most 127'),
    ({'title': u'\u00e9' * 64}, 'title is 128 bytes long'),
    ({'extra_info': 'e' * 1025}, 'extra_info is 1025 bytes long; ZEGO allows at most 1024'),
    ({'moderation_opt_out': 'sometimes'}, 'moderation_opt_out must be true or false'),
])
def test_bad_add_options(data, message):
    res = parse_input(dict(data, room_id='party', stream_ids='s'), 'streams', 'add')
    assert len(res['errors']) == 1 and res['errors'][0].startswith(message), res['errors']


# -- notify_rooms -----------------------------------------------------------------------------------
def test_a_command_to_users_from_survey_text():
    res = parse_input({'room_ids': 'r1, r2', 'message': '{"mute": 1}', 'kind': 'command',
                       'to_user_ids': 'u1\nu2, u1 u3', 'category': None}, 'rooms', 'notify', required=['message'])
    assert res['errors'] == []
    assert (res['rooms'], res['kind'], res['to_user_ids'], res['category']) == (['r1', 'r2'], 'command', ['u1', 'u2', 'u3'], None)


def test_message_defaults():
    res = parse_input({'room_ids': 'r1', 'message': 'hi', 'kind': None, 'to_user_ids': None}, 'rooms', 'notify',
                      required=['message'])
    assert res['errors'] == [] and (res['kind'], res['to_user_ids']) == ('broadcast', [])


@pytest.mark.parametrize('data, message', [
    ({}, 'message is required'),
    ({'message': ' \n'}, 'message is required'),
    ({'message': 'm' * 1025}, 'message is 1025 bytes long; ZEGO allows at most 1024'),
    ({'message': 'x', 'kind': 'shout'}, "kind must be one of broadcast, barrage, command, got 'shout'"),
    ({'message': 'x', 'category': 'loud'}, "category must be one of system, chat, got 'loud'"),
    ({'message': 'x', 'kind': 'command', 'category': 'chat'}, 'category applies to broadcast and barrage messages'),
    ({'message': 'x', 'to_user_ids': 'u1'}, 'to_user_ids applies to kind=command only (kind is broadcast)'),
    ({'message': 'x', 'kind': 'command', 'to_user_ids': 'u1 bad|user'}, "to_user_ids[1] 'bad|user' contains characters"),
    ({'message': 'x', 'kind': 'command', 'to_user_ids': {'a': 1}}, 'to_user_ids must be a text of user IDs'),
])
def test_bad_message_input(data, message):
    res = parse_input(dict(data, room_ids='r1'), 'rooms', 'notify', required=['message'])
    assert len(res['errors']) == 1 and res['errors'][0].startswith(message), res['errors']


# -- the notice of kick_users / close_rooms -------------------------------------------------------------
@pytest.mark.parametrize('delay, expected', [(None, 0), ('', 0), ('5', 5), (2.5, 2.5), ('3600', 3600), (0, 0)])
def test_notice_delay(delay, expected):
    res = parse_input({'room_ids': 'r1', 'notice': 'Closing now', 'notice_delay': delay}, 'rooms', 'close')
    assert res['errors'] == [] and res['notice_delay'] == expected and res['notice'] == 'Closing now'


@pytest.mark.parametrize('data, message', [
    ({'notice': 'x', 'notice_delay': 'soon'}, 'notice_delay must be a number of seconds from 0 to 3600'),
    ({'notice': 'x', 'notice_delay': -1}, 'notice_delay must be a number of seconds'),
    ({'notice': 'x', 'notice_delay': 3601}, 'notice_delay must be a number of seconds'),
    ({'notice': 'x', 'notice_delay': True}, 'notice_delay must be a number of seconds'),
    ({'notice': None, 'notice_delay': 5}, 'notice_delay needs a notice'),
    ({'notice': 'n' * 1025}, 'notice is 1025 bytes long; ZEGO allows at most 1024'),
])
def test_bad_notice(data, message):
    res = parse_input(dict(data, room_id='k1', user_ids='u1'), 'users', 'kick')
    assert len(res['errors']) == 1 and res['errors'][0].startswith(message), res['errors']


def test_no_notice_is_an_empty_text():
    res = parse_input({'room_ids': 'r1', 'notice': None, 'notice_delay': None}, 'rooms', 'close')
    assert res['errors'] == [] and res['notice'] == '' and res['notice_delay'] == 0


# -- the notice in the report --------------------------------------------------------------------------
def test_notice_report_keeps_each_rooms_outcome():
    outcome = {'changed': True, 'summary': {'total': 2, 'sent': 1, 'failed': 1, 'duplicates': 0}, 'rooms': [
        {'room_id': 'r1', 'outcome': 'sent', 'code': 0, 'message': 'success', 'message_id': 3, 'request_id': '9',
         'attempts': 1, 'requests': 1},
        {'room_id': 'r2', 'outcome': 'failed', 'code': 104, 'message': 'room r2 does not exist', 'message_id': None,
         'request_id': '10', 'error': {'code': 104}}]}
    report = notice_report(outcome, 'Closing now', 5)
    assert report == {'message': 'Closing now', 'delay': 5, 'summary': outcome['summary'], 'rooms': [
        {'room_id': 'r1', 'outcome': 'sent', 'code': 0, 'message': 'success', 'message_id': 3, 'request_id': '9'},
        {'room_id': 'r2', 'outcome': 'failed', 'code': 104, 'message': 'room r2 does not exist', 'message_id': None,
         'request_id': '10'}]}


def test_notice_report_without_a_notice_is_none():
    assert notice_report({'skipped': True, 'changed': False}, '') is None
    assert notice_report({'skipped': True}, None, 0) is None


def test_notice_report_of_a_task_that_could_not_run():
    report = notice_report({'failed': True, 'msg': 'missing required arguments: app_id'}, 'x')
    assert report['rooms'] == [] and report['summary'] is None and 'app_id' in report['error']


def test_notice_report_needs_the_registered_result():
    with pytest.raises(AnsibleFilterError, match='registered result'):
        notice_report('sent', 'x')


# -- the text limits themselves ---------------------------------------------------------------------
def test_check_text_limits_are_bytes_and_exact():
    for field, most in TEXT_LIMITS.items():
        assert check_text(field, 'x' * most) is None
        assert check_text(field, 'x' * (most + 1)) == '%s is %d bytes long; ZEGO allows at most %d' % (field, most + 1, most)
    assert check_text('title', u'\u00e9' * 63) is None and check_text('title', u'\u00e9' * 64) is not None
    assert check_text('message', None) is None and check_text('message', None, required=True) == 'message is required'
    assert check_text('message', '', required=True) == 'message must not be empty'
    assert check_text('message', '') is None
    assert check_text('title', 5) == 'title must be a text, got int'
    assert check_text('title', 't' * 200, name='streams[3].title').startswith('streams[3].title is 200 bytes')
