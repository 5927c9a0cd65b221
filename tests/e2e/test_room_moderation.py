# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Room moderation end to end: zego_room, zego_room_user, zego_room_info and the close_rooms and
kick_users playbooks. Bad input stops before any API call with a message that names the field; the
ServerSecret, signatures and signed URLs never show up, at -vvvv, on success and on failure."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os

import pytest

from e2e_lib import (assert_modules_refuse, assert_playbook_refuses, collection_path, module_task as task, play,
                     save_results)
from test_leaks import SIGNED_URL, WRONG_SECRET, leaks

ROOMS = {
    'live': {'streams': [{'stream_id': 's1', 'user_id': 'troll'}], 'users': ['troll', 'fan1', 'fan2', 'host']},
    'spare': {'users': ['x1']},
    'flaky': {'users': ['f1']},
}


# (case, module, parameters besides the connection options, the field the message must name)
MODULE_CASES = [
    ('room: illegal room_id', 'zego_room', {'room_id': 'room 1'}, 'room_id'),
    ('room: empty room_id', 'zego_room', {'room_id': ''}, 'room_id'),
    ('room: over-long room in room_ids', 'zego_room', {'room_ids': ['ok', 'r' * 129]}, r'room_ids\[1\]'),
    ('room: over-long custom_reason', 'zego_room', {'room_id': 'live', 'custom_reason': 'x' * 257}, 'custom_reason'),
    ('room: multibyte custom_reason over 256 bytes', 'zego_room', {'room_id': 'live', 'custom_reason': u'\u00e9' * 129},
     'custom_reason'),
    ('room: room_id and room_ids', 'zego_room', {'room_id': 'live', 'room_ids': ['live']}, 'room_ids'),
    ('room: state present', 'zego_room', {'room_id': 'live', 'state': 'present'}, 'state'),
    ('room: room_close_callback not a boolean', 'zego_room', {'room_id': 'live', 'room_close_callback': 'perhaps'},
     'room_close_callback'),
    ('user: illegal user id', 'zego_room_user', {'room_id': 'live', 'user_ids': ['troll', 'bad user']}, r'user_ids\[1\]'),
    ('user: over-long user id', 'zego_room_user', {'room_id': 'live', 'user_ids': ['u' * 65]}, r'user_ids\[0\]'),
    ('user: illegal room_id', 'zego_room_user', {'room_id': 'live room', 'user_ids': ['troll']}, 'room_id'),
    ('user: user_ids without room_id', 'zego_room_user', {'user_ids': ['troll']}, 'room_id'),
    ('user: users item without user_id', 'zego_room_user', {'users': [{'room_id': 'live'}]}, 'user_id'),
    ('user: users item with a bad room', 'zego_room_user', {'users': [{'room_id': 'a b', 'user_id': 'troll'}]},
     r'users\[0\]\.room_id'),
    ('user: over-long custom_reason', 'zego_room_user', {'room_id': 'live', 'user_ids': ['troll'], 'custom_reason': 'x' * 300},
     'custom_reason'),
    ('user: unknown key in users', 'zego_room_user', {'users': [{'room_id': 'live', 'user_id': 'troll', 'colour': 'red'}]},
     'colour'),
    ('info: bad room in room_ids', 'zego_room_info', {'room_ids': ['live', 'a|b']}, r'room_ids\[1\]'),
    ('info: negative max_users', 'zego_room_info', {'room_ids': ['live'], 'max_users': -1}, 'max_users'),
    ('info: zero app_id', 'zego_room_info', {'room_ids': ['live'], 'app_id': 0}, 'app_id'),
    ('room: http:// to a non-loopback host', 'zego_room', {'room_id': 'live', 'api_url': 'http://rtc-api.zego.im'}, 'api_url'),
]

# (case, playbook, extra vars, the field the message must name)
PLAYBOOK_CASES = [
    ('empty room_ids survey text', 'close_rooms.yml', {'room_ids': ' \n , '}, 'room_ids'),
    ('bad room in room_ids survey text', 'close_rooms.yml', {'room_ids': 'live\nbad|room'}, r'rooms\[1\]'),
    ('over-long custom_reason', 'close_rooms.yml', {'room_ids': 'live', 'custom_reason': 'x' * 257}, 'custom_reason'),
    ('room_close_callback not a boolean', 'close_rooms.yml', {'room_ids': 'live', 'room_close_callback': 'sometimes'},
     'room_close_callback'),
    ('relative report_path', 'close_rooms.yml', {'room_ids': 'live', 'report_path': 'r.json'}, 'report_path'),
    ('user_ids without room_id', 'kick_users.yml', {'user_ids': 'troll'}, 'room_id'),
    ('empty user_ids survey text', 'kick_users.yml', {'room_id': 'live', 'user_ids': ''}, 'user_ids'),
    ('bad user in user_ids survey text', 'kick_users.yml', {'room_id': 'live', 'user_ids': 'troll\nbad|user'},
     r'user_ids\[1\]\.user_id'),
    ('users is not a list', 'kick_users.yml', {'users': 'live/troll'}, 'users'),
    ('fail_on_error not a boolean', 'kick_users.yml', {'room_id': 'live', 'user_ids': 'troll', 'fail_on_error': 'often'},
     'fail_on_error'),
]


def test_bad_input_modules(sim, ansible):
    sim.reset(ROOMS)
    assert_modules_refuse(sim, ansible, MODULE_CASES)
    assert sim.admin('GET', '/_sim/users?room_id=live')['users'][0]['user_id'] == 'troll'


@pytest.mark.parametrize('case,playbook,extra,field', PLAYBOOK_CASES, ids=[c[0].replace(' ', '_') for c in PLAYBOOK_CASES])
def test_bad_input_playbooks(sim, ansible, case, playbook, extra, field):
    sim.reset(ROOMS)
    assert_playbook_refuses(sim, ansible, playbook, extra, field, case)


@pytest.mark.parametrize('mode,debug', [('params', False), ('environment', True)])
def test_no_leaks_modules(sim, ansible, secret, mode, debug):
    sim.reset(ROOMS)
    sim.admin('POST', '/_sim/faults', {'kind': 'http502', 'count': 10, 'action': 'KickoutUser', 'room_id': 'flaky'})
    sim.admin('POST', '/_sim/faults', {'kind': 'code1', 'count': 1, 'action': 'CloseRoom', 'room_id': 'spare'})
    creds = {'app_id': sim.app_id, 'server_secret': secret} if mode == 'params' else {}

    def args(**params):
        out = dict(creds, api_url=sim.url, timeout=2)
        out.update(params)
        return out

    tasks = [
        task('zego_room_info', 'info', args(room_ids=['live', 'spare'], list_users=True)),
        task('zego_room_user', 'kick_check', args(room_id='live', user_ids=['troll', 'nobody'])),
        task('zego_room_user', 'kick', args(room_id='live', user_ids=['troll', 'nobody'], custom_reason='abuse')),
        task('zego_room_user', 'kick_fail', args(room_id='flaky', user_ids=['f1'], retries=2)),
        task('zego_room', 'close', args(room_ids=['spare', 'gone'])),
        task('zego_room', 'bad_secret', args(room_id='live', server_secret=WRONG_SECRET, app_id=sim.app_id)),
        task('zego_room_user', 'bad_secret_kick',
             args(room_id='live', user_ids=['fan1'], server_secret=WRONG_SECRET, app_id=sim.app_id)),
        task('zego_room', 'bad_input', args(room_id='a b')),
    ]
    tasks[1]['check_mode'] = True
    names = ['info', 'kick_check', 'kick', 'kick_fail', 'close', 'bad_secret', 'bad_secret_kick', 'bad_input']
    env = {'ZEGO_APP_ID': str(sim.app_id), 'ZEGO_SERVER_SECRET': secret} if mode == 'environment' else {}
    run = ansible.run([play(tasks + [save_results(names)])], env=env, verbosity=4, debug=debug)
    res = run.results
    assert res is not None, run.output[-4000:]
    # every path was really taken
    assert [r['user_count'] for r in res['info']['rooms']] == [4, 1] and len(res['info']['rooms'][0]['users']) == 4
    assert res['kick_check']['changed'] and res['kick']['summary']['kicked'] == 1
    assert res['kick_fail']['failed'] and res['kick_fail']['users'][0]['code'] == -2
    assert not res['close'].get('failed') and res['close']['summary'] == {
        'total': 2, 'closed': 1, 'already_absent': 1, 'failed': 0, 'duplicates': 0}
    assert res['bad_secret']['failed'] and '100000005' in res['bad_secret']['msg']
    assert res['bad_secret_kick']['failed'] and res['bad_secret_kick']['users'][0]['stopped_batch']
    assert res['bad_input']['failed'] and 'room_id' in res['bad_input']['msg']
    assert 'retrying' in run.stderr
    found, files = leaks(run, secret, [sim])
    assert files > 0 and not found, found


def test_no_leaks_playbooks(sim, ansible, secret):
    sim.reset(ROOMS)
    env = {'ZEGO_APP_ID': str(sim.app_id), 'ZEGO_SERVER_SECRET': secret, 'ZEGO_API_URL': sim.url}
    report = os.path.join(ansible.base, 'kick.json')
    run = ansible.run(playbook=collection_path(ansible.root, 'playbooks', 'kick_users.yml'), verbosity=4, env=env,
                      args=['-e', 'room_id=live', '-e', 'user_ids=troll,fan1,nobody', '-e', 'report_path=%s' % report])
    assert run.rc == 0, run.output[-3000:]
    assert [u['user_id'] for u in sim.admin('GET', '/_sim/users?room_id=live')['users']] == ['fan2', 'host']
    found, files = leaks(run, secret, [sim])
    assert files > 0 and not found, found
    # close_rooms.yml with the credentials as extra vars (a file), one room failing with a wrong secret
    varfile = os.path.join(ansible.base, 'creds.json')
    with open(varfile, 'w') as f:
        json.dump({'zego_app_id': sim.app_id, 'zego_server_secret': WRONG_SECRET, 'zego_api_url': sim.url}, f)
    close_report = os.path.join(ansible.base, 'close.json')
    run = ansible.run(playbook=collection_path(ansible.root, 'playbooks', 'close_rooms.yml'), verbosity=4,
                      args=['-e', '@' + varfile, '-e', json.dumps({'room_ids': 'live spare', 'report_path': close_report})])
    assert run.rc != 0 and '2 of 2 rooms failed' in run.stdout, run.output[-3000:]
    found, files = leaks(run, secret, [sim])
    assert not found, found
    for path in (report, close_report):
        with open(path) as f:
            text = f.read()
        assert secret not in text and not any(sig in text for sig in sim.signatures()) and not SIGNED_URL.search(text)
    with open(close_report) as f:
        data = json.load(f)
    # the two CloseRoom go out at once: whichever ZEGO answered first stopped the batch, the other was not sent
    # or failed alike
    assert data['summary']['failed'] == 2 and [r['stopped_batch'] for r in data['rooms']].count(True) == 1
    assert set(r['code'] for r in data['rooms']) == {100000005}
