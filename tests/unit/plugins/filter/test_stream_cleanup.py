# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filters behind the stream_cleanup role and the playbooks."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.zego.rtc.plugins.module_utils.batch import NOT_ATTEMPTED
from ansible_collections.zego.rtc.plugins.filter.stream_cleanup import (
    split_ids,
    stream_cleanup_chunk,
    stream_cleanup_errors,
    stream_cleanup_plan,
    stream_cleanup_summary,
)


@pytest.mark.parametrize('text, ids', [
    ('s1\ns2,s3 s4;s5', ['s1', 's2', 's3', 's4', 's5']),
    ('  s1 ,, \n\n s2  ', ['s1', 's2']),
    ('', []),
    (None, []),
    (['a b', 'c'], ['a', 'b', 'c']),
    (42, ['42']),
])
def test_split_ids(text, ids):
    assert split_ids(text) == ids


def test_split_ids_with_a_room_builds_items():
    assert split_ids('a,b', room_id=7) == [{'room_id': '7', 'stream_id': 'a'}, {'room_id': '7', 'stream_id': 'b'}]


def test_split_ids_refuses_a_mapping():
    with pytest.raises(AnsibleFilterError):
        split_ids({'a': 1})


def test_errors_name_every_bad_item():
    errors = stream_cleanup_errors(
        [{'room_id': 'r', 'stream_id': 'ok'}, {'room_id': 'r', 'stream_id': 'bad id'}, {'room_id': 'r'},
         {'room_id': 'r', 'stream_id': 's', 'colour': 'red'}, 'r/s'],
        rooms=['fine', 'x' * 129], keep_regex='([', chunk_size=0, report_path='relative.json')
    text = '\n'.join(errors)
    for needle in ('stream_cleanup_streams[1].stream_id', 'stream_cleanup_streams[2].stream_id is required',
                   'stream_cleanup_streams[3] has unsupported keys: colour', 'stream_cleanup_streams[4] must be a dictionary',
                   'stream_cleanup_rooms[1]', 'stream_cleanup_keep_regex', 'stream_cleanup_chunk_size',
                   'stream_cleanup_report_path'):
        assert needle in text
    assert 'stream_cleanup_streams[0]' not in text and 'stream_cleanup_rooms[0]' not in text


def test_no_errors_for_good_input():
    assert stream_cleanup_errors([{'room_id': 'r', 'stream_id': 's', 'user_id': 'bot'}], rooms=['r2'],
                                 keep_regex='^host_', chunk_size=10, report_path='/var/tmp/r.json') == []


LISTING = [
    {'room_id': 'p1', 'request_id': '11', 'streams': [{'stream_id': 'host_1'}, {'stream_id': 'a'}, {'stream_id': 'old#1'}]},
    {'room_id': 'r', 'request_id': '12', 'streams': [{'stream_id': 's1'}]},
]


def test_plan_dedupes_keeps_and_rejects():
    plan = stream_cleanup_plan([{'room_id': 'r', 'stream_id': 's1'}, {'room_id': 'r', 'stream_id': 's2'},
                                {'room_id': 'r', 'stream_id': 's1'}, {'room_id': 'p1', 'stream_id': 'a'}],
                               listing=LISTING, rooms=['p1', 'p1'], keep_regex='^host_')
    assert [(s['room_id'], s['stream_id']) for s in plan['streams']] == [('r', 's1'), ('r', 's2'), ('p1', 'a')]
    assert plan['kept'] == [{'room_id': 'p1', 'stream_id': 'host_1'}]
    assert [(r['stream_id'], r['outcome']) for r in plan['rejected']] == [('old#1', 'failed')]
    assert 'not sent' in plan['rejected'][0]['message']
    assert [(p['stream_id'], p['outcome']) for p in plan['predicted']] == [
        ('s1', 'deleted'), ('s2', 'already_absent'), ('a', 'deleted')]


def test_plan_leaves_the_rooms_it_did_not_list_to_zego_stream():
    streams = [{'room_id': 'x', 'stream_id': 'a'}, {'room_id': 'p1', 'stream_id': 'a'}, {'room_id': 'x', 'stream_id': 'b'},
               {'room_id': 'y', 'stream_id': 'c', 'user_id': 'bot'}]
    plan = stream_cleanup_plan(streams, listing=LISTING[:1], rooms=['p1'], keep_regex='^host_')
    assert plan['unlisted'] == [{'room_id': 'x', 'stream_id': 'a'}, {'room_id': 'x', 'stream_id': 'b'},
                                {'room_id': 'y', 'stream_id': 'c', 'user_id': 'bot'}]
    # without zego_stream's answers only the listed room is predicted
    assert [(p['room_id'], p['stream_id']) for p in plan['predicted']] == [('p1', 'a')]
    checked = [{'room_id': 'y', 'stream_id': 'c', 'outcome': 'already_absent', 'message': 'from zego_stream'},
               {'room_id': 'x', 'stream_id': 'a', 'outcome': 'deleted', 'message': 'from zego_stream'},
               {'room_id': 'x', 'stream_id': 'b', 'outcome': 'failed', 'message': 'could not list the room'}]
    plan = stream_cleanup_plan(streams, listing=LISTING[:1], rooms=['p1'], keep_regex='^host_', checked=checked)
    # every stream in plan order: zego_stream's own records, and the listed room's streams from its listing
    assert [(p['room_id'], p['stream_id'], p['outcome']) for p in plan['predicted']] == [
        ('x', 'a', 'deleted'), ('p1', 'a', 'deleted'), ('x', 'b', 'failed'), ('y', 'c', 'already_absent')]
    assert plan['predicted'][0] is checked[1]


def test_chunk_records_go_on_until_a_stream_stops_the_batch():
    chunk = [{'room_id': 'r', 'stream_id': 'a'}, {'room_id': 'r', 'stream_id': 'b'}]
    ok = {'streams': [{'room_id': 'r', 'stream_id': 'a', 'outcome': 'deleted', 'stopped_batch': False},
                      {'room_id': 'r', 'stream_id': 'b', 'outcome': 'failed', 'code': 124, 'stopped_batch': False}]}
    assert stream_cleanup_chunk(chunk, result=ok, stopped=None) == {'records': ok['streams'], 'stopped': None}
    # ansible-core before 2.19 keeps none as an empty text
    assert stream_cleanup_chunk(chunk, result=ok, stopped='')['stopped'] is None
    stopper = {'room_id': 'r', 'stream_id': 'a', 'outcome': 'failed', 'code': 100000005, 'message': 'auth failed',
               'stopped_batch': True}
    bad = {'streams': [stopper, {'room_id': 'r', 'stream_id': 'b', 'outcome': 'failed', 'code': 100000005,
                                 'message': NOT_ATTEMPTED % 'auth failed', 'stopped_batch': False}]}
    assert stream_cleanup_chunk(chunk, result=bad, stopped=None)['stopped'] is stopper


def test_chunks_after_the_stop_are_not_attempted():
    stopper = {'room_id': 'r', 'stream_id': 'a', 'outcome': 'failed', 'code': 100000005, 'message': 'auth failed',
               'stopped_batch': True}
    later = [{'room_id': 'r', 'stream_id': 'c', 'user_id': 'bot'}]
    out = stream_cleanup_chunk(later, result={'skipped': True}, stopped=stopper)
    assert out['stopped'] is stopper
    assert out['records'] == [{'room_id': 'r', 'stream_id': 'c', 'user_id': 'bot', 'outcome': 'failed', 'code': 100000005,
                               'request_id': None, 'attempts': 0, 'message': NOT_ATTEMPTED % 'auth failed'}]
    # worded as zego_stream words the streams its own batch did not send
    assert out['records'][0]['message'].startswith('not attempted: ') and 'auth failed' in out['records'][0]['message']


def test_plan_refuses_a_purge_room_that_was_not_listed():
    with pytest.raises(AnsibleFilterError):
        stream_cleanup_plan([], listing=LISTING, rooms=['never-listed'])


def test_summary_counts_and_lists_failures():
    summary = stream_cleanup_summary([
        {'room_id': 'r', 'stream_id': 'a', 'outcome': 'deleted'},
        {'room_id': 'r', 'stream_id': 'b', 'outcome': 'already_absent'},
        {'room_id': 'r', 'stream_id': 'c', 'outcome': 'failed', 'code': 124, 'message': 'm'},
        {'room_id': 'r', 'stream_id': 'd', 'outcome': 'weird'},
    ], kept=[{}])
    assert (summary['total'], summary['deleted'], summary['already_absent'], summary['failed'], summary['kept']) == (4, 1, 1, 2, 1)
    assert [(f['stream_id'], f['code']) for f in summary['failed_items']] == [('c', 124), ('d', None)]
