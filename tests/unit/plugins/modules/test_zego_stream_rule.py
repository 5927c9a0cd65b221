# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""zego_stream_rule against scripted ZEGO conversations (see conftest.py): check-mode tests script only
DescribeForbidStreamRules, so a Set or Del would fail them."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import time

import pytest

from ansible_collections.zego.rtc.plugins.modules import zego_stream_rule

NOW = int(time.time())


def rule(sid, audio=0, video=0, create=0, effective=0):
    return {'StreamId': sid, 'DisableAudio': audio, 'DisableVideo': video, 'CreateTime': create, 'EffectiveTime': effective}


def listing(room, *rules):
    return {'RoomId': room, 'ForbidStreamRuleList': list(rules)}


def test_missing_rule_is_set(zego_http, run_module):
    zego_http.expect('DescribeForbidStreamRules', {'RoomId': 'room1', 'StreamId[]': ['s1']}, data=listing('room1', rule('s1')))
    zego_http.expect('SetForbidStreamRule', {'RoomId': 'room1', 'StreamId': 's1', 'DisableAudio': '0', 'DisableVideo': '1',
                                             'EffectiveTime': '3600'})
    result, failed = run_module(zego_stream_rule, {'room_id': 'room1', 'stream_id': 's1', 'disable_video': True,
                                                   'duration': 3600})
    assert not failed and result['changed']
    assert result['stream']['outcome'] == 'set' and result['stream']['before'] is None
    assert result['stream']['code'] == 0 and result['stream']['attempts'] == 1
    assert result['summary'] == {'total': 1, 'set': 1, 'unchanged': 0, 'deleted': 0, 'already_absent': 0, 'failed': 0,
                                 'duplicates': 0}


def test_default_duration_is_zegos_21600(zego_http, run_module):
    zego_http.expect('DescribeForbidStreamRules', data=listing('room1', rule('s1')))
    zego_http.expect('SetForbidStreamRule', {'EffectiveTime': '21600', 'DisableAudio': '1', 'DisableVideo': '0'})
    result, failed = run_module(zego_stream_rule, {'room_id': 'room1', 'stream_id': 's1', 'disable_audio': True})
    assert not failed and result['changed']


@pytest.mark.parametrize('effective', [3600, NOW + 3000, (NOW + 3000) * 1000], ids=['duration', 'timestamp', 'ms'])
def test_same_rule_in_force_is_ok_whichever_way_effective_time_reads(zego_http, run_module, effective):
    zego_http.expect('DescribeForbidStreamRules', data=listing('room1', rule('s1', 1, 1, NOW - 600, effective)))
    result, failed = run_module(zego_stream_rule, {'room_id': 'room1', 'stream_id': 's1', 'disable_audio': True,
                                                   'disable_video': True, 'duration': 60})
    assert not failed and not result['changed']
    assert result['stream']['outcome'] == 'unchanged' and result['stream']['before']['active']
    assert result['stream']['attempts'] == 0


@pytest.mark.parametrize('effective', [3600, NOW - 3600 + 100 - 7200], ids=['duration', 'timestamp'])
def test_expired_rule_is_set_again(zego_http, run_module, effective):
    zego_http.expect('DescribeForbidStreamRules', data=listing('room1', rule('s1', 1, 0, NOW - 7200, effective)))
    zego_http.expect('SetForbidStreamRule')
    result, failed = run_module(zego_stream_rule, {'room_id': 'room1', 'stream_id': 's1', 'disable_audio': True})
    assert not failed and result['changed']
    assert result['stream']['outcome'] == 'set' and result['stream']['before']['active'] is False


def test_different_flags_are_set(zego_http, run_module):
    zego_http.expect('DescribeForbidStreamRules', data=listing('room1', rule('s1', 1, 0, NOW, 3600)))
    zego_http.expect('SetForbidStreamRule', {'DisableAudio': '1', 'DisableVideo': '1'})
    result, failed = run_module(zego_stream_rule, {'room_id': 'room1', 'stream_id': 's1', 'disable_audio': True,
                                                   'disable_video': True}, diff=True)
    assert not failed and result['changed']
    assert result['diff']['before']['room1/s1']['disable_video'] is False
    assert result['diff']['after']['room1/s1'] == {'disable_audio': True, 'disable_video': True, 'duration': 21600}


def test_check_mode_reads_only_and_predicts(zego_http, run_module):
    ids = ['s%02d' % i for i in range(12)]
    zego_http.expect('DescribeForbidStreamRules', {'StreamId[]': ids[:10]},
                     data=listing('room1', *[rule(s, 1, 0, NOW, 3600) if s == 's03' else rule(s) for s in ids[:10]]))
    zego_http.expect('DescribeForbidStreamRules', {'StreamId[]': ids[10:]}, data=listing('room1', rule('s10'), rule('s11')))
    result, failed = run_module(zego_stream_rule, {'room_id': 'room1', 'stream_ids': ids + ['s01'], 'disable_audio': True,
                                                   'concurrency': 1}, check_mode=True, diff=True)
    assert not failed and result['changed']
    assert result['summary'] == {'total': 12, 'set': 11, 'unchanged': 1, 'deleted': 0, 'already_absent': 0, 'failed': 0,
                                 'duplicates': 1}
    assert result['streams'][3]['outcome'] == 'unchanged'
    assert result['streams'][0]['message'].startswith('check mode')
    assert result['diff']['before']['room1/s00'] == 'absent'
    assert zego_http.actions() == ['DescribeForbidStreamRules'] * 2


def test_absent_deletes_only_a_listed_rule(zego_http, run_module):
    rules = listing('room1', rule('a', 1, 0, NOW, 3600), rule('b'), rule('c', 0, 1, NOW - 90000, 3600))
    zego_http.expect('DescribeForbidStreamRules', data=rules)
    zego_http.expect('DelForbidStreamRule', {'RoomId': 'room1', 'StreamId': 'a'})
    zego_http.expect('DelForbidStreamRule', {'RoomId': 'room1', 'StreamId': 'c'})
    result, failed = run_module(zego_stream_rule, {'room_id': 'room1', 'stream_ids': ['a', 'b', 'c'], 'state': 'absent',
                                                   'concurrency': 1})
    assert not failed and result['changed']
    assert [s['outcome'] for s in result['streams']] == ['deleted', 'already_absent', 'deleted']


def test_absent_with_no_rules_is_ok_and_sends_no_del(zego_http, run_module):
    zego_http.expect('DescribeForbidStreamRules', data=listing('room1', rule('a')))
    result, failed = run_module(zego_stream_rule, {'room_id': 'room1', 'stream_id': 'a', 'state': 'absent'})
    assert not failed and not result['changed'] and result['stream']['outcome'] == 'already_absent'


def test_an_id_left_out_of_the_answer_has_no_rule(zego_http, run_module):
    zego_http.expect('DescribeForbidStreamRules', data=listing('room1'))
    result, failed = run_module(zego_stream_rule, {'room_id': 'room1', 'stream_id': 'a', 'state': 'absent'})
    assert not failed and result['stream']['outcome'] == 'already_absent'


def test_del_50124_counts_as_already_absent(zego_http, run_module):
    zego_http.expect('DescribeForbidStreamRules', data=listing('room1', rule('a', 1, 0, NOW, 3600)))
    zego_http.expect('DelForbidStreamRule', code=50124)
    result, failed = run_module(zego_stream_rule, {'room_id': 'room1', 'stream_id': 'a', 'state': 'absent'})
    assert not failed and not result['changed'] and result['stream']['outcome'] == 'already_absent'


def test_feature_not_enabled_says_so_and_stops(zego_http, run_module):
    zego_http.expect('DescribeForbidStreamRules', code=9)
    ids = ['s%02d' % i for i in range(15)]
    result, failed = run_module(zego_stream_rule, {'room_id': 'room1', 'stream_ids': ids, 'disable_audio': True,
                                                   'concurrency': 1})
    assert failed and len(zego_http.seen) == 1
    assert 'ZEGO support' in result['msg'] and result['summary']['failed'] == 15
    assert 'not attempted' in result['streams'][12]['message']
    assert [s['stopped_batch'] for s in result['streams']] == [True] + [False] * 14


def test_too_many_rules_fails_that_stream(zego_http, run_module):
    zego_http.expect('DescribeForbidStreamRules', data=listing('room1', rule('a'), rule('b')))
    zego_http.expect('SetForbidStreamRule', {'StreamId': 'a'}, code=50123)
    zego_http.expect('SetForbidStreamRule', {'StreamId': 'b'}, code=0)
    result, failed = run_module(zego_stream_rule, {'room_id': 'room1', 'stream_ids': ['a', 'b'], 'disable_video': True,
                                                   'concurrency': 1})
    assert failed and result['changed']
    assert [s['outcome'] for s in result['streams']] == ['failed', 'set']
    assert '50123' in result['msg'] and 'too many' in result['msg']


def test_206_on_set_is_retried(zego_http, run_module):
    zego_http.expect('DescribeForbidStreamRules', data=listing('room1', rule('a')))
    zego_http.expect('SetForbidStreamRule', code=206).expect('SetForbidStreamRule', code=0)
    result, failed = run_module(zego_stream_rule, {'room_id': 'room1', 'stream_id': 'a', 'disable_video': True})
    assert not failed and result['stream']['attempts'] == 2


@pytest.mark.parametrize('args,fields', [
    ({'stream_id': 's1'}, ['disable_audio and disable_video']),
    ({'stream_id': 's1', 'disable_audio': True, 'duration': 0}, ['duration']),
    ({'stream_id': 's1', 'disable_audio': True, 'duration': 86401}, ['duration']),
    ({'stream_id': 's1', 'duration': -1}, ['duration', 'disable_audio and disable_video']),
    ({'stream_id': 'a b', 'disable_audio': True}, ['stream_id']),
    ({'stream_ids': ['ok', 'x/y', ''], 'disable_audio': True}, ['stream_ids[1]', 'stream_ids[2]']),
    ({'room_id': 'r' * 129, 'stream_id': 's1', 'disable_audio': True}, ['room_id']),
    ({'room_id': '', 'stream_id': 's1', 'disable_audio': True}, ['room_id']),
])
def test_bad_input_fails_before_any_request(zego_http, run_module, args, fields):
    full = dict({'room_id': 'room1'}, **args)
    result, failed = run_module(zego_stream_rule, full)
    assert failed and zego_http.seen == []
    assert 'nothing was changed' in result['msg']
    for field in fields:
        assert field in result['msg']


def test_absent_ignores_the_rule_settings(zego_http, run_module):
    zego_http.expect('DescribeForbidStreamRules', data=listing('room1', rule('a')))
    result, failed = run_module(zego_stream_rule, {'room_id': 'room1', 'stream_id': 'a', 'state': 'absent', 'duration': 0})
    assert not failed
