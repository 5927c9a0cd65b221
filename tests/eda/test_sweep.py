# -*- coding: utf-8 -*-
# Copyright: Contributors to the zego.rtc collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sweep playbook zego.rtc.sweep_banned_streams (what callbacks miss), run by ansible-playbook against the
simulator with the rulebook's variables: exactly the banned streams of the given rooms go, each once."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os
import secrets
import subprocess
import sys

import pytest

from test_rulebook import APP_ID, HERE, collections_root  # noqa: F401  pylint: disable=unused-import

sys.path.insert(0, os.path.join(HERE, '..', 'simulator'))
from zego_sim import Simulator  # noqa: E402  pylint: disable=wrong-import-position

SEED = {
    'town-hall': [{'stream_id': 'host_main', 'user_id': 'host'}, {'stream_id': 'troll_cam', 'user_id': 'troll'},
                  {'stream_id': 'ad_banner', 'user_id': 'ben'}, {'stream_id': 'guest_1', 'user_id': 'ann'}],
    'lobby': [{'stream_id': 'troll_2', 'user_id': 'troll'}],
    'elsewhere': [{'stream_id': 'troll_far', 'user_id': 'troll'}],
}


SERVER_SECRET = secrets.token_hex(16)


@pytest.fixture
def sim():
    with Simulator(app_id=int(APP_ID), secret=SERVER_SECRET, rate=0, list_room_interval=10, rooms=SEED) as running:
        yield running


def sweep(sim, root, tmp_path, variables, *args):
    (tmp_path / 'vars.json').write_text(json.dumps(variables))
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith(('ZEGO_', 'ANSIBLE_')))
    env.update({'ANSIBLE_COLLECTIONS_PATH': root, 'ANSIBLE_NOCOLOR': '1', 'ANSIBLE_LOCAL_TEMP': str(tmp_path / 'tmp'),
                'ZEGO_RTC_STATE_DIR': str(tmp_path / 'state'), 'ZEGO_APP_ID': APP_ID,
                'ZEGO_SERVER_SECRET': SERVER_SECRET, 'ZEGO_API_URL': sim.base_url})
    os.makedirs(env['ZEGO_RTC_STATE_DIR'], mode=0o700, exist_ok=True)
    return subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
         '-e', 'ansible_python_interpreter=%s' % sys.executable, '-e', '@%s' % (tmp_path / 'vars.json'),
         'zego.rtc.sweep_banned_streams'] + list(args),
        env=env, capture_output=True, text=True, timeout=300, check=False)


def requests(sim):
    out = []
    for e in sim.log():
        for sid in (e.get('arrays') or {}).get('StreamId') or [e['stream_id']]:
            out.append((e['action'], e['room_id'], sid, e['code']))
    return out


def test_sweep_bans_and_deletes_the_banned_streams_of_the_given_rooms_only(sim, collections_root, tmp_path):
    # the rulebook's variables as they are, plus the rooms
    proc = sweep(sim, collections_root, tmp_path, {
        'zego_callback_port': 8080, 'zego_app_id': int(APP_ID), 'zego_banned_user_ids': ['troll', 'spam'],
        'zego_banned_stream_id_regex': '^ad_', 'room_ids': 'town-hall, lobby',
        'zego_report_path': str(tmp_path / 'sweep.json')})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # the run's report (the zego.rtc.batch_report role, as every playbook ends)
    with open(str(tmp_path / 'sweep.json')) as f:
        report = json.load(f)
    assert report['error'] == '' and report['check_mode'] is False
    assert sorted((m['room_id'], m['stream_id']) for m in report['matched']) == [
        ('lobby', 'troll_2'), ('town-hall', 'ad_banner'), ('town-hall', 'troll_cam')]
    assert sorted(s['outcome'] for s in report['delete']['streams']) == ['deleted'] * 3
    assert sorted(s['stream_id'] for s in report['ban']['streams']) == ['ad_banner', 'troll_2', 'troll_cam']
    streams = dict((room, sorted(s['stream_id'] for s in items)) for room, items in sim.state()['rooms'].items())
    assert streams == {'town-hall': ['guest_1', 'host_main'], 'lobby': [], 'elsewhere': ['troll_far']}
    sent = requests(sim)
    assert sorted(r for r in sent if r[0] == 'DescribeSimpleStreamList') == [
        ('DescribeSimpleStreamList', 'lobby', None, 0), ('DescribeSimpleStreamList', 'town-hall', None, 0)]
    assert sorted(r[2] for r in sent if r[0].startswith('ForbidRTCStream')) == ['ad_banner', 'troll_2', 'troll_cam']
    assert sorted((r[1], r[2], r[3]) for r in sent if r[0] == 'DeleteStream') == [
        ('lobby', 'troll_2', 0), ('town-hall', 'ad_banner', 0), ('town-hall', 'troll_cam', 0)]
    assert SERVER_SECRET not in proc.stdout + proc.stderr
    # a second sweep finds nothing left to do
    sim.configure(list_room_interval=0)
    again = sweep(sim, collections_root, tmp_path, {'zego_banned_user_ids': ['troll'], 'rooms': ['lobby']})
    assert again.returncode == 0, again.stdout
    assert [r for r in requests(sim)[len(sent):] if r[0] != 'DescribeSimpleStreamList'] == []


def test_check_mode_lists_and_changes_nothing(sim, collections_root, tmp_path):
    proc = sweep(sim, collections_root, tmp_path, {'zego_banned_user_ids': ['troll'], 'rooms': ['town-hall']},
                 '--check')
    assert proc.returncode == 0, proc.stdout
    assert [r[0] for r in requests(sim)] == ['DescribeSimpleStreamList']
    assert 'town-hall troll_cam banned user troll' in proc.stdout
    assert len(sim.state()['rooms']['town-hall']) == 4


@pytest.mark.parametrize('variables, message', [
    ({'zego_banned_user_ids': ['troll'], 'zego_banned_stream_id_regex': '(['}, 'zego_banned_stream_id_regex'),
    ({'zego_banned_user_ids': ['troll']}, 'rooms'),
    ({'zego_banned_user_ids': ['troll'], 'rooms': ['bad room!']}, 'not allow'),
    ({'zego_banned_user_ids': ['troll'], 'rooms': ['lobby'], 'zego_report_path': 'sweep.json'}, 'zego_report_path'),
])
def test_bad_input_fails_before_any_api_call(sim, collections_root, tmp_path, variables, message):
    variables.setdefault('rooms', None)
    if variables['rooms'] is None:
        del variables['rooms']
    proc = sweep(sim, collections_root, tmp_path, variables)
    assert proc.returncode != 0
    assert 'Invalid input, nothing was changed' in proc.stdout and message in proc.stdout
    assert sim.log() == []
