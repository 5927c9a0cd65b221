# -*- coding: utf-8 -*-
# Copyright: Contributors to the zego.rtc collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The EDA controller variant zego.rtc.moderate_streams_controller end to end: the simulator's signed callbacks ->
a real ansible-rulebook -> run_job_template against a stand-in for automation controller's job-launch API
(controller_standin.py) -> the launched job runs zego.rtc.remove_banned_streams -> the simulator."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os
import secrets
import subprocess
import sys

import pytest

from controller_standin import Controller
from test_rulebook import APP_ID, HERE, collections_root, free_port, interrupt, java_home, wait_for  # noqa: F401  pylint: disable=unused-import

sys.path.insert(0, os.path.join(HERE, '..', 'simulator'))
from zego_sim import Simulator  # noqa: E402  pylint: disable=wrong-import-position

TEMPLATE = 'Remove banned ZEGO RTC streams'


@pytest.fixture
def setup(tmp_path, collections_root):
    server_secret, callback_secret, token = secrets.token_hex(16), 'cb-' + secrets.token_hex(12), secrets.token_hex(20)
    port = free_port()
    base = dict((k, v) for k, v in os.environ.items() if not k.startswith(('ZEGO_', 'ANSIBLE_', 'EDA_')))
    base.update({'ANSIBLE_COLLECTIONS_PATH': collections_root, 'ANSIBLE_NOCOLOR': '1',
                 'ANSIBLE_LOCAL_TEMP': str(tmp_path / 'ansible-tmp'),
                 'PATH': os.path.dirname(sys.executable) + os.pathsep + base.get('PATH', '')})
    procs = []
    with Simulator(app_id=int(APP_ID), secret=server_secret, rate=10, list_room_interval=10,
                   callback_url='http://127.0.0.1:%d/zego/callbacks' % port, callback_secret=callback_secret,
                   callback_retry_scale=0.1) as sim:
        # the job's environment: what the "ZEGO RTC" credential injects into a controller job
        job_env = dict(base, ZEGO_APP_ID=APP_ID, ZEGO_SERVER_SECRET=server_secret, ZEGO_API_URL=sim.base_url,
                       ZEGO_RTC_STATE_DIR=str(tmp_path / 'job-state'))
        os.mkdir(job_env['ZEGO_RTC_STATE_DIR'], 0o700)
        controller = Controller(token, job_env, [
            os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
            '-e', 'ansible_python_interpreter=%s' % sys.executable]).start()
        controller.add_template(TEMPLATE, 'zego.rtc.remove_banned_streams')

        def start(variables):
            (tmp_path / 'inventory.yml').write_text('all:\n  hosts:\n    localhost:\n      ansible_connection: local\n')
            (tmp_path / 'vars.yml').write_text(json.dumps(dict({'zego_callback_host': '127.0.0.1',
                                                                'zego_callback_port': port,
                                                                'zego_app_id': int(APP_ID)}, **variables)))
            # the activation's environment: no ZEGO API credentials, only the CallbackSecret (an EDA credential)
            env = dict(base, JAVA_HOME=java_home(), ZEGO_CALLBACK_SECRET=callback_secret,
                       EDA_JOB_TEMPLATE_REFRESH_DELAY='1')
            out = open(str(tmp_path / 'rulebook.out'), 'w')  # pylint: disable=consider-using-with
            proc = subprocess.Popen(  # pylint: disable=consider-using-with
                ['ansible-rulebook', '-i', 'inventory.yml', '-r', 'zego.rtc.moderate_streams_controller',
                 '--vars', 'vars.yml', '--env-vars', 'ZEGO_CALLBACK_SECRET', '--persistence-id', '11',
                 '--controller-url', controller.url, '--controller-token', token, '-vv'],
                cwd=str(tmp_path), stdout=out, stderr=subprocess.STDOUT, env=env)
            procs.append((proc, out))

            def listening():
                import socket  # pylint: disable=import-outside-toplevel
                with socket.socket() as sock:
                    return sock.connect_ex(('127.0.0.1', port)) == 0
            wait_for(listening, 'the source to listen', proc)
            return proc

        yield {'sim': sim, 'controller': controller, 'start': start, 'token': token, 'secret': server_secret,
               'output': (tmp_path / 'rulebook.out').read_text}
        for proc, out in procs:
            interrupt(proc)
            out.close()
        controller.stop()


def test_batches_launch_jobs_whose_extra_vars_carry_the_batch_and_the_jobs_remove_the_banned_streams(setup):
    sim, controller = setup['sim'], setup['controller']
    setup['start']({'zego_banned_user_ids': ['raider'], 'zego_banned_stream_id_regex': '^spam_'})
    banned = ['raid_%02d' % i for i in range(12)] + ['spam_1', 'spam_2']
    allowed = ['fan_%d' % i for i in range(5)]
    for i, stream_id in enumerate(banned):
        sim.publish('arena', stream_id, 'raider' if stream_id.startswith('raid') else 'u%d' % i)
        if i < len(allowed):
            sim.publish('arena', allowed[i], 'fan%d' % i)
    # a later, second raid in another room: a batch of its own
    wait_for(lambda: controller.launches, 'a job to be launched')
    late = ['late_%d' % i for i in range(3)]
    for stream_id in late:
        sim.publish('lobby', stream_id, 'raider')
    wait_for(lambda: sorted(s['stream_id'] for s in sim.state()['rooms']['arena']) == sorted(allowed)
             and sim.state()['rooms']['lobby'] == [], 'the jobs to remove every banned stream')
    wait_for(lambda: all(j['status'] != 'running' and j['status'] != 'pending' for j in controller.jobs.values())
             and 'job results url' in setup['output'](), 'the jobs to end and the rule engine to see it')

    launches = controller.launches
    assert len(launches) >= 2 and all(l['template'] == TEMPLATE for l in launches)
    seen = []
    for launch in launches:
        extra = launch['body']['extra_vars']
        # what the job needs, and not the whole event a second time
        assert sorted(extra) == ['zego_ban_banned_streams', 'zego_banned_stream_id_regex', 'zego_banned_user_ids',
                                 'zego_callbacks']
        assert extra['zego_banned_user_ids'] == ['raider'] and extra['zego_banned_stream_id_regex'] == '^spam_'
        assert extra['zego_ban_banned_streams'] in (True, 'True', 'true')
        assert all(c['event'] == 'stream_create' and 'signature' not in c for c in extra['zego_callbacks'])
        seen.extend((c['room_id'], c['stream_id']) for c in extra['zego_callbacks'])
        # the batch's label, so that a restarted activation finds this job
        assert launch['body']['labels']
    # every stream_create reached exactly one job, the late raid in a job of its own
    assert sorted(seen) == sorted([('arena', s) for s in banned + allowed] + [('lobby', s) for s in late])
    assert any(set(c['stream_id'] for c in l['body']['extra_vars']['zego_callbacks']) == set(late) for l in launches)
    assert all(j['status'] == 'successful' for j in controller.jobs.values())
    assert any(label.startswith('eda-event-uuid-') for label in controller.labels)

    # the jobs banned and deleted each banned stream once and touched nothing else
    entries = sim.log()
    removed = sorted(e['stream_id'] for e in entries if e['action'] == 'DeleteStream' and e['code'] == 0)
    assert removed == sorted(banned + late)
    banned_ids = sorted(sid for e in entries if e['action'].startswith('ForbidRTCStream')
                        for sid in (e.get('arrays') or {}).get('StreamId') or [e['stream_id']])
    assert banned_ids == sorted(banned + late)
    named = set(sid for e in entries for sid in (e.get('arrays') or {}).get('StreamId') or [e['stream_id']])
    assert named == set(banned + late)
    assert set(e['action'] for e in entries) <= {'ForbidRTCStream', 'ForbidRTCStreams', 'DeleteStream'}
    out = setup['output']()
    assert setup['token'] not in out and setup['secret'] not in out
    # every callback was answered 2xx once the rule engine had it (feedback)
    assert all(d['status'] == 200 for d in sim.callbacks.log() if d['outcome'] == 'delivered')


def test_a_missing_job_template_is_reported_and_nothing_is_deleted(setup):
    sim, controller = setup['sim'], setup['controller']
    setup['start']({'zego_banned_user_ids': ['raider'], 'zego_job_template': 'No such template'})
    sim.publish('arena', 'raid_1', 'raider')
    wait_for(lambda: 'No such template' in setup['output']() and 'does not exist' in setup['output'](),
             'the missing job template to be reported')
    assert controller.launches == []
    assert [s['stream_id'] for s in sim.state()['rooms']['arena']] == ['raid_1']
    assert [e for e in sim.log() if e['action'] != 'DescribeSimpleStreamList'] == []
