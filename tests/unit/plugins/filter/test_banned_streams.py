# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""banned_streams: the decision behind the event-driven playbook and the sweep."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.zego.rtc.plugins.filter.banned_streams import banned_streams


def create(room, stream, user, **extra):
    """A stream_create payload as the callbacks source queues it (the fields that matter here)."""
    return dict({'event': 'stream_create', 'appid': '1', 'room_id': room, 'stream_id': stream, 'user_id': user,
                 'stream_seq': '3'}, **extra)


def test_callbacks_of_banned_users_and_matching_stream_ids_once_each():
    batch = [create('r1', 'fine', 'ann'), create('r1', 'troll_cam', 'troll'), create('r2', 'ad_1', 'ben'),
             create('r1', 'troll_cam', 'troll'), create('r2', 'ad_troll', 'troll'), create('r3', 'troll_cam', 'troll')]
    plan = banned_streams(batch, user_ids=['troll', 'spam'], stream_id_regex='^ad_')
    assert plan['errors'] == []
    assert plan['streams'] == [{'room_id': 'r1', 'stream_id': 'troll_cam'}, {'room_id': 'r2', 'stream_id': 'ad_1'},
                               {'room_id': 'r2', 'stream_id': 'ad_troll'}, {'room_id': 'r3', 'stream_id': 'troll_cam'}]
    # a stream ID is banned once, whatever rooms it was seen in
    assert plan['stream_ids'] == ['troll_cam', 'ad_1', 'ad_troll']
    assert [m['reason'] for m in plan['matched']] == [
        'banned user troll', 'stream ID matches ^ad_', 'banned user troll, stream ID matches ^ad_', 'banned user troll']
    assert plan['seen'] == 6 and plan['rejected'] == []


def test_room_listings_as_zego_stream_info_returns_them():
    listing = [{'room_id': 'r1', 'request_id': 'x', 'streams': [
        {'stream_id': 'a', 'user_id': 'troll', 'user_name': '', 'create_time': 1, 'stream_number_id': 1},
        {'stream_id': 'b', 'user_id': 'ann'}]}, {'room_id': 'r2', 'streams': []}]
    plan = banned_streams(listing, user_ids='troll\nspam', stream_id_regex='', ban=False)
    assert plan['streams'] == [{'room_id': 'r1', 'stream_id': 'a'}]
    assert plan['stream_ids'] == []  # ban off
    assert plan['seen'] == 2


def test_nothing_banned_and_a_single_event_payload():
    assert banned_streams([create('r', 's', 'u')], user_ids=[])['streams'] == []
    assert banned_streams(create('r', 's', 'u'), user_ids=['u'])['streams'] == [{'room_id': 'r', 'stream_id': 's'}]
    assert banned_streams(None, user_ids=['u'])['streams'] == []
    # numeric IDs from YAML are IDs
    assert banned_streams([{'room_id': 7, 'stream_id': 8, 'user_id': 9}], user_ids=[9])['stream_ids'] == ['8']


def test_an_id_zego_would_refuse_is_reported_and_does_not_stop_the_others():
    plan = banned_streams([create('r', 'bad id!', 'troll'), create('r', 'ok', 'troll')], user_ids=['troll'])
    assert plan['streams'] == [{'room_id': 'r', 'stream_id': 'ok'}]
    (rejected,) = plan['rejected']
    assert rejected['stream_id'] == 'bad id!' and 'not allow' in rejected['message']


@pytest.mark.parametrize('kwargs, message', [
    ({'user_ids': ['u'], 'stream_id_regex': '(['}, 'zego_banned_stream_id_regex'),
    ({'user_ids': {'u': 1}}, 'zego_banned_user_ids must be a list'),
    ({'user_ids': ['u'], 'ban': 'maybe'}, 'zego_ban_banned_streams must be a boolean'),
    ({'user_ids': ['u'], 'report_path': 'relative/report.json'}, 'zego_report_path must be an absolute path'),
    ({'user_ids': ['u'], 'report_path': 7}, 'zego_report_path must be an absolute path'),
])
def test_bad_variables_are_errors_and_nothing_is_planned(kwargs, message):
    plan = banned_streams([create('r', 's', 'u')], **kwargs)
    assert any(message in e for e in plan['errors'])
    assert plan['streams'] == [] and plan['stream_ids'] == []


def test_not_a_list_of_dictionaries():
    assert banned_streams('text', user_ids=['u'])['errors'] == ['the streams must be a list, got str']
    with pytest.raises(AnsibleFilterError):
        banned_streams(['s1'], user_ids=['u'])


def test_the_report_path_is_kept_in_the_plan():
    assert banned_streams([], user_ids=['u'], report_path='/var/tmp/r.json')['report_path'] == '/var/tmp/r.json'
    assert banned_streams([], user_ids=['u'], report_path=None)['report_path'] == ''
