# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""zego.rtc.parse_input: the one parser of playbook input (survey texts, lists, options)."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.zego.rtc.plugins.filter.parse_input import parse_input


def errors(data, items, verb='delete'):
    return parse_input(data, items, verb)['errors']


# -- streams (delete_streams) ----------------------------------------------------------------------
def test_streams_from_a_list_and_from_survey_text():
    res = parse_input({'streams': [{'room_id': 7, 'stream_id': 's0', 'user_id': 'bot'}], 'room_id': ' d3 ',
                       'stream_ids': 's1\ns2, s3 s4,,\n'}, 'streams', 'delete')
    assert res['errors'] == []
    assert res['streams'] == [{'room_id': '7', 'stream_id': 's0', 'user_id': 'bot'}] + [
        {'room_id': 'd3', 'stream_id': s} for s in ('s1', 's2', 's3', 's4')]
    assert res['count'] == 5


@pytest.mark.parametrize('data, message', [
    ({}, 'nothing to delete: set streams (a list of {room_id, stream_id}) or room_id and stream_ids'),
    ({'room_id': '', 'stream_ids': ''}, 'nothing to delete'),
    ({'room_id': 'd1', 'stream_ids': ' , \n'}, 'stream_ids is empty: give the streams of room d1 to delete'),
    ({'stream_ids': 's1 s2'}, 'stream_ids needs room_id: give the room that holds these streams'),
    ({'streams': 'd1/s3'}, 'streams must be a list of {room_id, stream_id} items, got: d1/s3'),
    ({'room_id': 'd1', 'stream_ids': 's3\nbad!id'}, "stream_ids[1].stream_id 'bad!id' contains characters"),
    ({'room_id': 'room 1', 'stream_ids': 's1 s2'}, "room_id 'room 1' contains characters"),
    ({'streams': [{'room_id': 'd1'}]}, 'streams[0].stream_id is required'),
    ({'streams': [{'room_id': 'd1', 'stream_id': 's', 'colour': 'red'}]}, 'streams[0] has unsupported keys: colour'),
    ({'streams': [5]}, 'streams[0] must be a dictionary'),
])
def test_stream_errors_name_the_field(data, message):
    found = errors(data, 'streams')
    assert any(e.startswith(message) for e in found), found


def test_every_error_at_once():
    found = errors({'room_id': 'r 1', 'stream_ids': 'a b!c d#e', 'report_path': 'rel.json', 'chunk_size': 0,
                    'fail_on_error': 'maybe', 'user_id': 'u' * 65}, 'streams')
    assert len(found) == 7, found
    for part in ('room_id', 'stream_ids[1]', 'stream_ids[2]', 'report_path', 'chunk_size', 'fail_on_error', 'user_id'):
        assert any(e.startswith(part) for e in found), part


# -- rooms (purge_rooms, close_rooms) --------------------------------------------------------------
def test_rooms_from_list_and_text_are_distinct_in_order():
    res = parse_input({'rooms': ['p3', 42], 'room_ids': 'p1\np2, p3;p1'}, 'rooms', 'purge')
    assert res['errors'] == [] and res['rooms'] == ['p3', '42', 'p1', 'p2']


@pytest.mark.parametrize('data, message', [
    ({'room_ids': ''}, 'nothing to purge: set rooms (a list) or room_ids (room IDs separated by newlines, commas or spaces)'),
    ({'room_ids': 'p1, bad|room'}, "rooms[1] 'bad|room' contains characters"),
    ({'rooms': 'p1'}, 'rooms must be a list of room IDs'),
    ({'rooms': ['r' * 129]}, 'rooms[0] is 129 bytes long'),
    ({'room_ids': 'p1', 'keep_regex': '(['}, "keep_regex '([' is not a valid regular expression"),
])
def test_room_errors(data, message):
    found = errors(data, 'rooms', 'purge')
    assert any(e.startswith(message) for e in found), found


# -- users (kick_users) ------------------------------------------------------------------------------
def test_users_from_text_and_list():
    res = parse_input({'room_id': 'r1', 'user_ids': 'a, b\nc', 'users': [{'room_id': 'r2', 'user_id': 'z'}],
                       'custom_reason': 'spam'}, 'users', 'kick')
    assert res['errors'] == [] and res['custom_reason'] == 'spam'
    assert res['users'] == [{'room_id': 'r2', 'user_id': 'z'}] + [{'room_id': 'r1', 'user_id': u} for u in 'abc']


@pytest.mark.parametrize('data, message', [
    ({}, 'nothing to kick: set users (a list of {room_id, user_id}) or room_id and user_ids'),
    ({'user_ids': 'a'}, 'user_ids needs room_id: give the room that holds these users'),
    ({'room_id': 'r1', 'user_ids': ''}, 'user_ids is empty: give the users of room r1 to kick'),
    ({'room_id': 'r1', 'user_ids': 'a ' + 'u' * 65}, 'user_ids[1].user_id is 65 bytes long'),
    ({'room_id': 'r1', 'user_ids': 'a', 'custom_reason': 'x' * 257}, 'custom_reason is 257 bytes long'),
    ({'users': [{'room_id': 'r1', 'user_id': 'a', 'stream_id': 's'}]}, 'users[0] has unsupported keys: stream_id'),
])
def test_user_errors(data, message):
    found = errors(data, 'users', 'kick')
    assert any(e.startswith(message) for e in found), found


# -- stream IDs without a room --------------------------------------------------------------------------
def test_stream_ids_without_room():
    res = parse_input({'stream_ids': 'a b a'}, 'stream_ids', 'ban')
    assert res['errors'] == [] and res['stream_ids'] == ['a', 'b']
    assert errors({'stream_ids': ''}, 'stream_ids', 'ban') == [
        'nothing to ban: set stream_ids (stream IDs separated by newlines, commas or spaces)']
    assert errors({'stream_ids': 'ok s/1'}, 'stream_ids', 'ban')[0].startswith("stream_ids[1] 's/1' contains characters")


# -- options -----------------------------------------------------------------------------------------
@pytest.mark.parametrize('given, expected', [
    ({}, {}),
    ({'chunk_size': None, 'fail_on_error': None, 'report_path': ''}, {'chunk_size': 100, 'fail_on_error': True, 'report_path': ''}),
    ({'chunk_size': '25', 'fail_on_error': 'false', 'report_path': '/tmp/r.json'},
     {'chunk_size': 25, 'fail_on_error': False, 'report_path': '/tmp/r.json'}),
    ({'fail_on_error': 'true', 'room_close_callback': 'yes'}, {'fail_on_error': True, 'room_close_callback': True}),
])
def test_options_are_normalised(given, expected):
    res = parse_input(dict(given, room_ids='r1'), 'rooms', 'close')
    assert res['errors'] == []
    assert dict((k, res[k]) for k in given) == expected


@pytest.mark.parametrize('name, value', [('chunk_size', 'ten'), ('chunk_size', True), ('chunk_size', 2.5),
                                         ('fail_on_error', 'perhaps'), ('report_path', 'out/r.json'), ('keep_regex', 5)])
def test_bad_options(name, value):
    found = errors({'room_ids': 'r1', name: value}, 'rooms')
    assert len(found) == 1 and found[0].startswith(name), found


def test_misuse_by_a_playbook_raises():
    with pytest.raises(AnsibleFilterError, match='unknown inputs'):
        parse_input({'room_ids': 'r', 'colour': 'red'}, 'rooms')
    with pytest.raises(AnsibleFilterError, match='items must be one of'):
        parse_input({}, 'cats')
    with pytest.raises(AnsibleFilterError, match='dictionary'):
        parse_input('r1', 'rooms')
