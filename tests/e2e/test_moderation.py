# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""zego_stream_ban, zego_stream_rule and the ban_streams playbook end to end: bad input stops before any
API call with a message naming the field; the ServerSecret, signatures and signed URLs never show up at
-vvvv, on success and on every failure path; and a ban really refuses a republish."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os

import pytest

from e2e_lib import (APP_ID, assert_modules_refuse, assert_playbook_refuses, collection_path, conn,
                     module_task as task, play, save_results)
from test_leaks import SIGNED_URL, WRONG_SECRET, leaks

PREFIX = 'zegotest-%d-' % APP_ID


# (case, module, parameters besides the connection options, the field the message must name)
CASES = [
    ('ban: empty stream_id', 'zego_stream_ban', {'stream_id': ''}, 'stream_id'),
    ('ban: illegal character', 'zego_stream_ban', {'stream_id': 's 1'}, 'stream_id'),
    ('ban: over-long stream_id', 'zego_stream_ban', {'stream_id': 'a' * 257}, 'stream_id'),
    ('ban: bad item in a list', 'zego_stream_ban', {'stream_ids': ['ok', 'x/y']}, r'stream_ids\[1\]'),
    ('ban: empty item in a list', 'zego_stream_ban', {'stream_ids': ['ok', '']}, r'stream_ids\[1\]'),
    ('ban: stream_ids is a mapping', 'zego_stream_ban', {'stream_ids': {'a': 1}}, 'stream_ids'),
    ('ban: both stream_id and stream_ids', 'zego_stream_ban', {'stream_id': 'a', 'stream_ids': ['b']}, 'stream_ids'),
    ('ban: neither', 'zego_stream_ban', {}, 'stream_id'),
    ('ban: unknown state', 'zego_stream_ban', {'stream_id': 'a', 'state': 'banned'}, 'state'),
    ('ban: test environment without the prefix', 'zego_stream_ban', {'stream_ids': [PREFIX + 'a', 'b'], 'is_test': True},
     r'stream_ids\[1\]'),
    ('ban: zero concurrency', 'zego_stream_ban', {'stream_id': 'a', 'concurrency': 0}, 'concurrency'),
    ('ban: zero rate_limit', 'zego_stream_ban', {'stream_id': 'a', 'rate_limit': 0}, 'rate_limit'),
    ('ban: api_url with a path', 'zego_stream_ban', {'stream_id': 'a', 'api_url': 'https://rtc-api.zego.im/v1'}, 'api_url'),
    ('rule: nothing disabled', 'zego_stream_rule', {'room_id': 'room1', 'stream_id': 's1'}, 'disable_audio'),
    ('rule: duration 0', 'zego_stream_rule', {'room_id': 'room1', 'stream_id': 's1', 'disable_audio': True, 'duration': 0},
     'duration'),
    ('rule: duration over 24 h', 'zego_stream_rule',
     {'room_id': 'room1', 'stream_id': 's1', 'disable_video': True, 'duration': 86401}, 'duration'),
    ('rule: missing room_id', 'zego_stream_rule', {'stream_id': 's1', 'disable_audio': True}, 'room_id'),
    ('rule: over-long room_id', 'zego_stream_rule', {'room_id': 'r' * 129, 'stream_id': 's1', 'disable_audio': True},
     'room_id'),
    ('rule: bad item in a list', 'zego_stream_rule',
     {'room_id': 'room1', 'stream_ids': ['s1', 'a b'], 'disable_audio': True}, r'stream_ids\[1\]'),
    ('rule: non-numeric duration', 'zego_stream_rule',
     {'room_id': 'room1', 'stream_id': 's1', 'disable_audio': True, 'duration': 'long'}, 'duration'),
    ('rule: unknown option', 'zego_stream_rule', {'room_id': 'room1', 'stream_id': 's1', 'mute': True}, 'mute'),
]


def test_bad_input_fails_before_any_request(sim, ansible):
    sim.reset({'room1': [{'stream_id': 's1', 'user_id': 'u1'}]})
    assert_modules_refuse(sim, ansible, CASES)
    assert sim.admin('GET', '/_sim/bans')['banned'] == [] and sim.admin('GET', '/_sim/rules')['rules'] == []


PLAYBOOK_CASES = [
    ('empty survey text', {'stream_ids': ''}, 'stream_ids'),
    ('white-space survey text', {'stream_ids': ' \n , '}, 'stream_ids'),
    ('illegal id in the survey text', {'stream_ids': 's1\ns/2'}, r'stream_ids\[1\]'),
    ('unknown state', {'stream_ids': 's1', 'state': 'ban'}, 'state'),
    ('relative report_path', {'stream_ids': 's1', 'report_path': 'r.json'}, 'report_path'),
    ('fail_on_error not a boolean', {'stream_ids': 's1', 'fail_on_error': 'maybe'}, 'fail_on_error'),
]


@pytest.mark.parametrize('case,extra,field', PLAYBOOK_CASES, ids=[c[0].replace(' ', '_') for c in PLAYBOOK_CASES])
def test_bad_input_ban_streams_playbook(sim, ansible, case, extra, field):
    sim.reset({})
    assert_playbook_refuses(sim, ansible, 'ban_streams.yml', extra, field, case)


def queue(sim, kind, action, stream_id, count):
    sim.admin('POST', '/_sim/faults', {'kind': kind, 'count': count, 'action': action, 'stream_id': stream_id})


@pytest.mark.parametrize('mode,debug', [('params', False), ('module_defaults', False), ('environment', True)])
def test_no_leaks_ban_and_rule(sim_factory, ansible, secret, mode, debug):
    main = sim_factory('--rate', '0', '--list-room-interval', '0')
    skew = sim_factory('--rate', '0', '--clock-offset', '660')
    off = sim_factory('--rate', '0', '--rules-disabled')
    main.reset({'r': [{'stream_id': 's1', 'user_id': 'u'}]})
    queue(main, 'http502', 'ForbidRTCStream', 'f1', 10)
    queue(main, 'drop_before', 'ForbidRTCStreams', 'f2', 10)
    queue(main, 'code1', 'SetForbidStreamRule', 'f3', 10)
    creds = {'app_id': main.app_id, 'server_secret': secret} if mode == 'params' else {}

    def mod(module, register, url, check_mode=False, **params):
        args = dict(creds, api_url=url, timeout=2)
        args.update(params)
        return task(module, register, args, **({'check_mode': True} if check_mode else {}))

    tasks = [
        mod('zego_stream_ban', 'ban_ok', main.url, stream_ids=['s1', 's2']),
        mod('zego_stream_ban', 'ban_check', main.url, stream_ids=['s3'], check_mode=True),
        mod('zego_stream_ban', 'ban_resume', main.url, stream_id='s2', state='absent'),
        mod('zego_stream_ban', 'ban_bad_secret', main.url, stream_id='s4', server_secret=WRONG_SECRET, app_id=main.app_id),
        mod('zego_stream_ban', 'ban_skew', skew.url, stream_id='s4'),
        mod('zego_stream_ban', 'ban_exhausted', main.url, stream_id='f1', retries=1),
        mod('zego_stream_ban', 'ban_lost', main.url, stream_ids=['f2', 'f2b'], retries=1),
        mod('zego_stream_ban', 'ban_bad_input', main.url, stream_id='a b'),
        mod('zego_stream_rule', 'rule_ok', main.url, room_id='r', stream_ids=['s1', 's2'], disable_video=True),
        mod('zego_stream_rule', 'rule_again', main.url, room_id='r', stream_ids=['s1', 's2'], disable_video=True),
        mod('zego_stream_rule', 'rule_absent', main.url, room_id='r', stream_id='s2', state='absent'),
        mod('zego_stream_rule', 'rule_exhausted', main.url, room_id='r', stream_id='f3', disable_audio=True, retries=1),
        mod('zego_stream_rule', 'rule_off', off.url, room_id='r', stream_id='s1', disable_audio=True),
        mod('zego_stream_rule', 'rule_bad_secret', main.url, room_id='r', stream_id='s1', disable_audio=True,
            server_secret=WRONG_SECRET, app_id=main.app_id),
    ]
    names = [t['register'] for t in tasks]
    extra = {}
    if mode == 'module_defaults':
        extra['module_defaults'] = {'group/zego.rtc.zego': {'app_id': main.app_id, 'server_secret': secret}}
    env = {'ZEGO_APP_ID': str(main.app_id), 'ZEGO_SERVER_SECRET': secret} if mode == 'environment' else {}
    run = ansible.run([play(tasks + [save_results(names)], **extra)], env=env, verbosity=4, debug=debug)
    res = run.results
    assert res is not None, run.output[-4000:]

    # every path was really taken
    assert not res['ban_ok'].get('failed') and res['ban_ok']['summary']['banned'] == 2, res['ban_ok']
    assert res['ban_check']['changed'] and res['ban_check']['summary']['requests'] == 1
    assert res['ban_resume']['stream']['outcome'] == 'resumed'
    assert res['ban_bad_secret']['failed'] and '100000005' in res['ban_bad_secret']['msg']
    assert res['ban_skew']['failed'] and '100000004' in res['ban_skew']['msg']
    assert res['ban_exhausted']['failed'] and res['ban_exhausted']['stream']['error']['code'] == -2
    assert res['ban_lost']['failed'] and res['ban_lost']['summary']['failed'] == 2
    assert res['ban_bad_input']['failed'] and 'stream_id' in res['ban_bad_input']['msg']
    assert res['rule_ok']['summary']['set'] == 2 and res['rule_again']['summary']['unchanged'] == 2
    assert res['rule_absent']['stream']['outcome'] == 'deleted'
    assert res['rule_exhausted']['failed'] and res['rule_exhausted']['stream']['error']['code'] == 1
    assert res['rule_off']['failed'] and 'ZEGO support' in res['rule_off']['msg']
    assert res['rule_bad_secret']['failed'] and '100000005' in res['rule_bad_secret']['msg']
    assert 'retrying' in run.stderr
    assert [b['stream_id'] for b in main.admin('GET', '/_sim/bans')['banned']] == ['s1']
    assert len(main.signatures()) >= 15 and skew.signatures() and off.signatures()

    found, files = leaks(run, secret, [main, skew, off], debug_args=debug and mode != 'environment')
    assert files > 0
    assert not found, found


def test_no_leaks_ban_streams_playbook(sim, ansible, secret):
    sim.reset({})
    queue(sim, 'http503', 'ForbidRTCStreams', 'f1', 20)
    env = {'ZEGO_APP_ID': str(sim.app_id), 'ZEGO_SERVER_SECRET': secret, 'ZEGO_API_URL': sim.url}
    report = os.path.join(str(ansible.base), 'ban-report.json')
    path = collection_path(ansible.root, 'playbooks', 'ban_streams.yml')
    run = ansible.run(playbook=path, verbosity=4, env=env,
                      args=['-e', 'stream_ids=s1,s2,f1', '-e', 'report_path=%s' % report])
    assert run.rc != 0 and 'f1' in run.stdout, run.output[-3000:]
    with open(report) as f:
        text = f.read()
    assert json.loads(text)['summary']['failed'] == 3  # one batch request carried all three IDs
    found, files = leaks(run, secret, [sim])
    assert files > 0 and not found, found
    assert secret not in text and not any(sig in text for sig in sim.signatures()) and not SIGNED_URL.search(text)
    # success, then a wrong secret
    run = ansible.run(playbook=path, verbosity=4, env=env, args=['-e', 'stream_ids=s1 s2'])
    assert run.rc == 0, run.output[-3000:]
    env['ZEGO_SERVER_SECRET'] = WRONG_SECRET
    run = ansible.run(playbook=path, verbosity=4, env=env, args=['-e', 'stream_ids=s3'])
    assert run.rc != 0 and '100000005' in run.stdout, run.output[-3000:]
    found, files = leaks(run, secret, [sim])
    assert not found, found


def test_a_ban_stops_a_republish_that_delete_alone_does_not(sim, ansible):
    sim.reset({'room1': [{'stream_id': 'troll', 'user_id': 'u1'}, {'stream_id': 'again', 'user_id': 'u2'}]})
    tasks = [
        task('zego_stream', 'deleted', conn(sim, streams=[{'room_id': 'room1', 'stream_id': 'troll'},
                                                          {'room_id': 'room1', 'stream_id': 'again'}])),
        task('zego_stream_ban', 'banned', conn(sim, stream_id='troll')),
    ]
    run = ansible.run([play(tasks + [save_results(['deleted', 'banned'])])])
    assert run.results['deleted']['summary']['deleted'] == 2 and run.results['banned']['changed'], run.output[-3000:]
    # "again" was only deleted: its client publishes it again at once; "troll" was banned: refused
    assert sim.admin('POST', '/_sim/publish', {'room_id': 'room1', 'stream_id': 'again', 'user_id': 'u2'})['stream']
    from urllib.error import HTTPError
    with pytest.raises(HTTPError) as info:
        sim.admin('POST', '/_sim/publish', {'room_id': 'room1', 'stream_id': 'troll', 'user_id': 'u1'})
    assert info.value.code == 403 and json.loads(info.value.read().decode())['code'] == 1003025
    assert sim.state() == {'room1': {'again'}}
