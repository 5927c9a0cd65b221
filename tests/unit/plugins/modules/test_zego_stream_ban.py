# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""zego_stream_ban against scripted ZEGO conversations (see conftest.py): every request the module
sends must be the next one in the script, so a check-mode test with an empty script proves that
nothing is sent."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest
import requests

from ansible_collections.zego.rtc.plugins.modules import zego_stream_ban

PREFIX = 'zegotest-1234567890-'


def sequences(conv):
    return [int(q['Sequence']) for q in conv.seen]


def test_one_stream_id_is_banned_with_the_single_action(zego_http, run_module):
    zego_http.expect('ForbidRTCStream', {'StreamId': 's1'})
    result, failed = run_module(zego_stream_ban, {'stream_id': 's1'})
    assert not failed and result['changed']
    assert result['stream'] == {'stream_id': 's1', 'outcome': 'banned', 'action': 'ForbidRTCStream', 'code': 0,
                                'message': 'success', 'request_id': result['stream']['request_id'], 'attempts': 1,
                                'response_lost': False, 'stopped_batch': False}
    assert result['summary'] == {'total': 1, 'banned': 1, 'resumed': 0, 'failed': 0, 'duplicates': 0, 'requests': 1}
    assert result['requests'] == [{'action': 'ForbidRTCStream', 'stream_ids': ['s1'], 'code': 0}]
    assert sequences(zego_http)[0] > 1600000000000  # milliseconds since the epoch


def test_absent_resumes(zego_http, run_module):
    zego_http.expect('ResumeRTCStream', {'StreamId': 's1'})
    result, failed = run_module(zego_stream_ban, {'stream_id': 's1', 'state': 'absent'})
    assert not failed and result['changed'] and result['stream']['outcome'] == 'resumed'


def test_45_ids_go_20_per_request_with_duplicates_sent_once(zego_http, run_module):
    ids = ['s%02d' % i for i in range(45)]
    zego_http.expect('ForbidRTCStreams', {'StreamId[]': ids[:20]})
    zego_http.expect('ForbidRTCStreams', {'StreamId[]': ids[20:40]})
    zego_http.expect('ForbidRTCStreams', {'StreamId[]': ids[40:]})
    result, failed = run_module(zego_stream_ban, {'stream_ids': ids + ['s03', 's44'], 'concurrency': 1})
    assert not failed and result['changed']
    assert [s['stream_id'] for s in result['streams']] == ids
    assert set(s['outcome'] for s in result['streams']) == set(['banned'])
    assert result['summary'] == {'total': 45, 'banned': 45, 'resumed': 0, 'failed': 0, 'duplicates': 2, 'requests': 3}
    seqs = sequences(zego_http)
    assert seqs == sorted(seqs) and len(set(seqs)) == 3


def test_a_chunk_of_one_uses_the_single_action(zego_http, run_module):
    ids = ['s%02d' % i for i in range(21)]
    zego_http.expect('ResumeRTCStreams', {'StreamId[]': ids[:20]})
    zego_http.expect('ResumeRTCStream', {'StreamId': 's20'})
    result, failed = run_module(zego_stream_ban, {'stream_ids': ids, 'state': 'absent', 'concurrency': 1})
    assert not failed and result['summary']['resumed'] == 21
    assert result['streams'][-1]['action'] == 'ResumeRTCStream'


def test_check_mode_sends_nothing_and_says_what_it_would_send(zego_http, run_module):
    ids = ['s%02d' % i for i in range(25)]
    result, failed = run_module(zego_stream_ban, {'stream_ids': ids}, check_mode=True)
    assert not failed and result['changed'] and zego_http.seen == []
    assert result['requests'] == [{'action': 'ForbidRTCStreams', 'stream_ids': ids[:20], 'code': None},
                                  {'action': 'ForbidRTCStreams', 'stream_ids': ids[20:], 'code': None}]
    assert result['streams'][0]['attempts'] == 0 and 'would send ForbidRTCStreams' in result['streams'][0]['message']
    assert result['summary']['banned'] == 25


def test_empty_list_does_nothing(zego_http, run_module):
    result, failed = run_module(zego_stream_ban, {'stream_ids': []})
    assert not failed and not result['changed'] and result['streams'] == []
    assert result['summary']['total'] == 0 and result['requests'] == []


@pytest.mark.parametrize('code', [30002, 1010, 5007, 206])
def test_media_service_rate_limit_codes_are_retried_with_back_off(zego_http, run_module, code):
    zego_http.expect('ForbidRTCStream', code=code).expect('ForbidRTCStream', code=0)
    result, failed = run_module(zego_stream_ban, {'stream_id': 's1'})
    assert not failed and result['stream']['attempts'] == 2
    assert any(s >= 0.5 for s in zego_http.sleeps)  # the rate-limit back-off starts at 1 s (equal jitter)
    assert 'attempt 1 was rate limited' in result['warnings'][0] and 's1' in result['warnings'][0]


def test_rate_limit_answers_do_not_use_up_retries(zego_http, run_module):
    # a rate-limit answer proves nothing was applied: retried until rate_limit_wait, even with retries 0
    zego_http.expect('ForbidRTCStreams', code=30002).expect('ForbidRTCStreams', code=30002)
    zego_http.expect('ForbidRTCStreams', code=0)
    result, failed = run_module(zego_stream_ban, {'stream_ids': ['a', 'b'], 'retries': 0})
    assert not failed and result['summary']['banned'] == 2
    assert [s['attempts'] for s in result['streams']] == [3, 3]


@pytest.mark.parametrize('code', [3001, 5000, 5006, 30003])
def test_internal_errors_are_retried(zego_http, run_module, code):
    zego_http.expect('ForbidRTCStream', code=code).expect('ForbidRTCStream', code=0)
    result, failed = run_module(zego_stream_ban, {'stream_id': 's1'})
    assert not failed and result['stream']['attempts'] == 2


def test_every_attempt_carries_a_new_larger_sequence(zego_http, run_module):
    zego_http.expect('ForbidRTCStreams', exc=requests.exceptions.ConnectionError('connection reset'))
    zego_http.expect('ForbidRTCStreams', code=30002)
    zego_http.expect('ForbidRTCStreams', code=0)
    result, failed = run_module(zego_stream_ban, {'stream_ids': ['a', 'b']})
    assert not failed and result['streams'][0]['attempts'] == 3 and result['streams'][0]['response_lost']
    seqs = sequences(zego_http)
    assert seqs[0] < seqs[1] < seqs[2]


def test_sequence_keeps_increasing_across_tasks(zego_http, run_module):
    zego_http.expect('ForbidRTCStream').expect('ResumeRTCStream').expect('ForbidRTCStream')
    run_module(zego_stream_ban, {'stream_id': 's1'})
    run_module(zego_stream_ban, {'stream_id': 's1', 'state': 'absent'})
    run_module(zego_stream_ban, {'stream_id': 's1'})
    seqs = sequences(zego_http)
    assert seqs[0] < seqs[1] < seqs[2]


def test_a_failed_batch_is_retried_one_id_at_a_time(zego_http, run_module):
    zego_http.expect('ForbidRTCStreams', {'StreamId[]': ['a', 'b', 'c']}, code=42003)
    zego_http.expect('ForbidRTCStream', {'StreamId': 'a'}, code=0)
    zego_http.expect('ForbidRTCStream', {'StreamId': 'b'}, code=30009)
    zego_http.expect('ForbidRTCStream', {'StreamId': 'c'}, code=0)
    result, failed = run_module(zego_stream_ban, {'stream_ids': ['a', 'b', 'c']})
    assert failed and result['changed']
    assert [s['outcome'] for s in result['streams']] == ['banned', 'failed', 'banned']
    assert result['streams'][1]['error']['code'] == 30009 and result['streams'][1]['attempts'] == 2
    assert result['summary'] == {'total': 3, 'banned': 2, 'resumed': 0, 'failed': 1, 'duplicates': 0, 'requests': 4}
    assert result['msg'].startswith('1 of 3 stream IDs failed: b:') and 'zegotest-' in result['msg']


def test_an_error_every_request_would_get_stops_the_batch(zego_http, run_module):
    zego_http.expect('ForbidRTCStreams', code=100000005)
    ids = ['s%02d' % i for i in range(30)]
    result, failed = run_module(zego_stream_ban, {'stream_ids': ids, 'concurrency': 1})
    assert failed and not result['changed'] and len(zego_http.seen) == 1
    assert result['summary']['failed'] == 30
    assert 'not attempted' in result['streams'][25]['message']
    assert [s['stopped_batch'] for s in result['streams']] == [True] * 20 + [False] * 10
    assert 'server_secret' in result['msg'] and zego_http.secret not in str(result)


def test_retries_exhausted_fail_and_report_every_id(zego_http, run_module):
    zego_http.expect('ForbidRTCStreams', code=3001).expect('ForbidRTCStreams', code=3001)
    result, failed = run_module(zego_stream_ban, {'stream_ids': ['a', 'b'], 'retries': 1})
    assert failed and not result['changed']
    assert [s['error']['code'] for s in result['streams']] == [3001, 3001]
    assert 'gave up after 2 attempts' in result['msg']


def test_test_environment_checks_the_prefix_before_any_request(zego_http, run_module):
    result, failed = run_module(zego_stream_ban, {'is_test': True, 'stream_ids': [PREFIX + 'a', 'b', 'zegotest-999-c']})
    assert failed and zego_http.seen == []
    assert 'stream_ids[1]' in result['msg'] and 'stream_ids[2]' in result['msg'] and 'stream_ids[0]' not in result['msg']
    assert PREFIX in result['msg'] and 'nothing was changed' in result['msg']


def test_test_environment_sends_is_test_and_prefixed_ids(zego_http, run_module):
    zego_http.expect('ForbidRTCStreams', {'IsTest': 'true', 'StreamId[]': [PREFIX + 'a', PREFIX + 'b']})
    result, failed = run_module(zego_stream_ban, {'is_test': True, 'stream_ids': [PREFIX + 'a', PREFIX + 'b']})
    assert not failed and result['summary']['banned'] == 2


@pytest.mark.parametrize('args,field', [
    ({'stream_id': ''}, 'stream_id'),
    ({'stream_id': 'a b'}, 'stream_id'),
    ({'stream_id': 'x' * 257}, 'stream_id'),
    ({'stream_ids': ['ok', 'bad/id', '']}, 'stream_ids[1]'),
    ({'stream_ids': ['ok', '']}, 'stream_ids[1]'),
    ({'stream_id': 's1', 'concurrency': 0}, 'concurrency'),
    ({'stream_id': 's1', 'rate_limit': 0}, 'rate_limit'),
])
def test_bad_input_fails_before_any_request(zego_http, run_module, args, field):
    result, failed = run_module(zego_stream_ban, args)
    assert failed and zego_http.seen == []
    assert field in result['msg']


def test_every_bad_field_is_named(zego_http, run_module):
    result, failed = run_module(zego_stream_ban, {'stream_ids': ['a b', 'ok', 'c/d'], 'timeout': 0})
    assert failed and zego_http.seen == []
    for field in ('stream_ids[0]', 'stream_ids[2]', 'timeout'):
        assert field in result['msg']


def test_stream_id_and_stream_ids_are_exclusive(zego_http, run_module):
    result, failed = run_module(zego_stream_ban, {'stream_id': 'a', 'stream_ids': ['b']})
    assert failed and 'mutually exclusive' in result['msg'] and zego_http.seen == []


def test_parallel_chunks_cover_every_id_once(zego_http, run_module):
    ids = ['s%03d' % i for i in range(200)]
    for dummy in range(10):
        zego_http.expect('ForbidRTCStreams')
    result, failed = run_module(zego_stream_ban, {'stream_ids': ids, 'concurrency': 4})
    assert not failed and result['summary']['banned'] == 200 and result['summary']['requests'] == 10
    sent = [sid for q in zego_http.seen for sid in q['StreamId[]']]
    assert sorted(sent) == ids and all(len(q['StreamId[]']) == 20 for q in zego_http.seen)
    # whatever order the requests went out in, the result lists them in the order of the IDs
    assert [r['stream_ids'] for r in result['requests']] == [ids[i:i + 20] for i in range(0, 200, 20)]
    assert len(set(sequences(zego_http))) == 10
