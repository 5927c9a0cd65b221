# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input stops before any API call: every case fails with a message that names the field,
and the simulator's request log shows no request at all."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


import pytest

from e2e_lib import assert_refused_before_any_request, collection_path, conn, message_names, play, save_results, stream_task

ONE = {'room_id': 'room1', 'stream_id': 's1'}

# (case, module parameters (besides the connection options), the field the message must name)
MODULE_CASES = [
    ('empty stream_id', {'room_id': 'room1', 'stream_id': ''}, 'stream_id'),
    ('whitespace stream_id', {'room_id': 'room1', 'stream_id': '   '}, 'stream_id'),
    ('over-long stream_id', {'room_id': 'room1', 'stream_id': 'a' * 257}, 'stream_id'),
    ('illegal character in stream_id', {'room_id': 'room1', 'stream_id': 's/1'}, 'stream_id'),
    ('empty room_id', {'room_id': '', 'stream_id': 's1'}, 'room_id'),
    ('over-long room_id', {'room_id': 'r' * 129, 'stream_id': 's1'}, 'room_id'),
    ('illegal character in room_id', {'room_id': 'room 1', 'stream_id': 's1'}, 'room_id'),
    ('over-long user_id', dict(ONE, user_id='u' * 65), 'user_id'),
    ('illegal character in user_id', dict(ONE, user_id='bad user'), 'user_id'),
    ('over-long user_name', dict(ONE, user_name='n' * 257), 'user_name'),
    ('streams is a mapping, not a list', {'streams': ONE}, 'streams'),
    # ansible-core reports the element conversion of a sub-spec list without the option name first;
    # this case only has to fail before any request (documented in docs/reliability.md)
    ('streams is a string', {'streams': 'room1/s1'}, None),
    ('streams item is a number', {'streams': [5]}, 'streams'),
    ('streams item missing stream_id', {'streams': [{'room_id': 'room1'}]}, 'stream_id'),
    ('streams item with an empty stream_id', {'streams': [{'room_id': 'room1', 'stream_id': ''}]}, r'streams\[0\]\.stream_id'),
    ('second streams item invalid', {'streams': [ONE, {'room_id': 'room1', 'stream_id': 'x y'}]}, r'streams\[1\]\.stream_id'),
    ('unknown module option', dict(ONE, colour='red'), 'colour'),
    ('unknown key in a streams item', {'streams': [dict(ONE, colour='red')]}, 'colour'),
    ('both room_id/stream_id and streams', dict(ONE, streams=[ONE]), 'streams'),
    ('stream_id without room_id', {'stream_id': 's1'}, 'room_id'),
    ('unknown state', dict(ONE, state='paused'), 'state'),  # (present adds streams since 1.2.0)
    ('non-numeric app_id', dict(ONE, app_id='abc'), 'app_id'),
    ('zero app_id', dict(ONE, app_id=0), 'app_id'),
    ('negative app_id', dict(ONE, app_id=-5), 'app_id'),
    ('app_id above 2^32-1', dict(ONE, app_id=4294967296), 'app_id'),
    ('missing server_secret', dict(ONE, server_secret=None), 'server_secret'),
    ('empty server_secret', dict(ONE, server_secret=''), 'server_secret'),
    ('server_secret with trailing white space', dict(ONE, server_secret='SECRET '), 'server_secret'),
    ('malformed api_url', dict(ONE, api_url='not a url'), 'api_url'),
    ('api_url with a path', dict(ONE, api_url='https://rtc-api.zego.im/v1'), 'api_url'),
    ('api_url with a bad port', dict(ONE, api_url='https://rtc-api.zego.im:99999'), 'api_url'),
    ('http:// to a non-loopback host', dict(ONE, api_url='http://rtc-api.zego.im'), 'api_url'),
    ('http:// to a private address', dict(ONE, api_url='http://10.1.2.3:8080'), 'api_url'),
    ('negative rate_limit', dict(ONE, rate_limit=-1), 'rate_limit'),
    ('zero rate_limit', dict(ONE, rate_limit=0), 'rate_limit'),
    ('non-numeric rate_limit', dict(ONE, rate_limit='fast'), 'rate_limit'),
    ('negative retries', dict(ONE, retries=-1), 'retries'),
    ('zero timeout', dict(ONE, timeout=0), 'timeout'),
    ('negative timeout', dict(ONE, timeout=-3), 'timeout'),
    ('zero concurrency', dict(ONE, concurrency=0), 'concurrency'),
]

# (case, role variables, the field the message must name)
ROLE_CASES = [
    ('bad keep regex', {'stream_cleanup_rooms': ['room1'], 'stream_cleanup_keep_regex': '(['}, 'stream_cleanup_keep_regex'),
    ('role streams item missing stream_id', {'stream_cleanup_streams': [{'room_id': 'room1'}]}, 'stream_id'),
    ('role illegal stream id', {'stream_cleanup_streams': [{'room_id': 'room1', 'stream_id': 'a b'}]}, 'stream_id'),
    ('role over-long room id', {'stream_cleanup_rooms': ['r' * 129]}, r'stream_cleanup_rooms\[0\]'),
    ('role zero chunk_size', {'stream_cleanup_streams': [ONE], 'stream_cleanup_chunk_size': 0}, 'stream_cleanup_chunk_size'),
]

# (case, playbook, extra vars, the field the message must name)
PLAYBOOK_CASES = [
    ('empty stream_ids survey text', 'delete_streams.yml', {'room_id': 'room1', 'stream_ids': ''}, 'stream_ids'),
    ('white-space stream_ids survey text', 'delete_streams.yml', {'room_id': 'room1', 'stream_ids': ' \n , '}, 'stream_ids'),
    ('stream_ids without room_id', 'delete_streams.yml', {'stream_ids': 's1,s2'}, 'room_id'),
    ('illegal id in stream_ids', 'delete_streams.yml', {'room_id': 'room1', 'stream_ids': 's1\ns/2'}, r'stream_ids\[1\]\.stream_id'),
    ('illegal room_id with stream_ids', 'delete_streams.yml', {'room_id': 'room 1', 'stream_ids': 's1 s2'}, 'room_id'),
    ('relative report_path', 'delete_streams.yml', {'room_id': 'room1', 'stream_ids': 's1', 'report_path': 'r.json'},
     'report_path'),
    ('empty room_ids survey text', 'purge_rooms.yml', {'room_ids': ''}, 'room'),
    ('bad keep_regex survey text', 'purge_rooms.yml', {'room_ids': 'room1', 'keep_regex': '(['}, 'keep_regex'),
    ('relative report_path for a purge', 'purge_rooms.yml', {'room_ids': 'room1', 'report_path': 'out/r.json'}, 'report_path'),
]


def _names(cases):
    return ['case%02d' % i for i in range(len(cases))]


def test_bad_input_module_and_role(sim, ansible):
    sim.reset({'room1': [{'stream_id': 's1', 'user_id': 'u1'}, {'stream_id': 'dup', 'user_id': 'u1'}]})
    tasks = []
    for name, (case, params, field) in zip(_names(MODULE_CASES), MODULE_CASES):
        args = conn(sim)
        args.update(params)
        args = dict((k, v) for k, v in args.items() if v is not None)
        tasks.append(stream_task(name, args, name='module: %s' % case))
    role_names = ['role%02d' % i for i in range(len(ROLE_CASES))]
    for name, (case, role_vars, field) in zip(role_names, ROLE_CASES):
        tasks.append({'name': 'role: %s' % case, 'block': [
            {'ansible.builtin.include_role': {'name': 'zego.rtc.stream_cleanup'}, 'vars': role_vars}],
            'rescue': [{'ansible.builtin.set_fact': {name: '{{ ansible_failed_result }}'}}]})
    run = ansible.run([play(tasks + [save_results(_names(MODULE_CASES) + role_names)])], verbosity=1)
    assert run.results is not None, run.output[-4000:]
    # not a single request reached the simulator (the role's listing task included)
    assert [(e['action'], e['room_id'], e['stream_id']) for e in sim.log()] == []
    bad = []
    for name, (case, params, field) in list(zip(_names(MODULE_CASES), MODULE_CASES)) + list(zip(role_names, ROLE_CASES)):
        res = run.results[name]
        msg = (res or {}).get('msg', '')
        if not (res and res.get('failed') and message_names(msg, field)):
            bad.append('%s: failed=%s msg=%r' % (case, (res or {}).get('failed'), msg[:300]))
    assert not bad, '\n'.join(bad)
    assert len(MODULE_CASES) + len(ROLE_CASES) + len(PLAYBOOK_CASES) >= 25


def test_duplicates_collapse_to_one_request(sim, ansible):
    sim.reset({'room1': [{'stream_id': 'dup', 'user_id': 'u1'}, {'stream_id': 'keep', 'user_id': 'u1'}]})
    dup = {'room_id': 'room1', 'stream_id': 'dup'}
    run = ansible.run([play([stream_task('d', conn(sim, streams=[dup, dup, dict(dup, user_id='other')])),
                             save_results(['d'])])])
    res = run.results['d']
    assert not res.get('failed'), res
    assert res['summary'] == {'total': 1, 'deleted': 1, 'already_absent': 0, 'failed': 0, 'duplicates': 2}
    log = sim.log()
    assert [(e['action'], e['room_id'], e['stream_id'], e['code']) for e in log] == [('DeleteStream', 'room1', 'dup', 0)]
    assert sim.state() == {'room1': {'keep'}}


@pytest.mark.parametrize('case,playbook,extra,field', PLAYBOOK_CASES, ids=[c[0].replace(' ', '_') for c in PLAYBOOK_CASES])
def test_bad_input_playbooks(sim, ansible, case, playbook, extra, field):
    sim.reset({'room1': [{'stream_id': 's1', 'user_id': 'u1'}]})
    path = collection_path(ansible.root, 'playbooks', playbook)
    args = []
    for key, value in extra.items():
        args += ['-e', '{"%s": %s}' % (key, _json(value))]
    run = ansible.run(playbook=path, args=args, env={'ZEGO_APP_ID': str(sim.app_id), 'ZEGO_SERVER_SECRET': sim.secret,
                                                     'ZEGO_API_URL': sim.url})
    assert_refused_before_any_request(run, sim, field, case)


def _json(value):
    import json
    return json.dumps(value)
