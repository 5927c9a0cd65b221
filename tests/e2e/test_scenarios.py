# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TLS rules, clock skew, an interrupted batch that a second run finishes, and idempotence."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import signal
import time

from e2e_lib import collection_path, conn, play, save_results, stream_task
from test_leaks import tls_files


def wait_for(predicate, timeout=120, what='condition'):
    """Poll ``predicate`` until it returns something true; fail after ``timeout`` seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError('timed out waiting for %s' % what)


def test_tls_verified_by_default(sim_factory, ansible, tmp_path):
    pem, ca_pem = tls_files(tmp_path)
    sim = sim_factory('--rate', '0', '--tls-cert', pem, '--tls-key', pem)
    assert sim.url.startswith('https://127.0.0.1:')
    sim.reset({'r': [{'stream_id': s, 'user_id': 'u'} for s in ('a', 'b', 'c')]})
    run = ansible.run([play([
        stream_task('default', conn(sim, streams=[{'room_id': 'r', 'stream_id': 'a'}, {'room_id': 'r', 'stream_id': 'c'}])),
        stream_task('with_ca', conn(sim, room_id='r', stream_id='a', ca_path=ca_pem)),
        stream_task('insecure', conn(sim, room_id='r', stream_id='b', validate_certs=False)),
        save_results(['default', 'with_ca', 'insecure'])])])
    res = run.results
    # default: verification fails with a clear message, once: the batch stops instead of trying every stream
    assert res['default']['failed']
    assert 'TLS certificate verification failed' in res['default']['msg'] and 'ca_path' in res['default']['msg']
    assert [s['outcome'] for s in res['default']['streams']] == ['failed', 'failed']
    # the handshake failed before any request reached the simulator
    assert [(e['stream_id'], e['code']) for e in sim.deletes()] == [('a', 0), ('b', 0)]
    assert not res['with_ca'].get('failed') and res['with_ca']['stream']['outcome'] == 'deleted'
    assert not res['insecure'].get('failed') and res['insecure']['stream']['outcome'] == 'deleted'
    assert any('validate_certs is false' in w for w in res['insecure']['warnings'])
    assert not any('validate_certs' in w for w in res['with_ca'].get('warnings', []))
    assert '[WARNING]: validate_certs is false' in run.stderr
    assert sim.state() == {'r': {'c'}}


def test_clock_skew_says_check_the_clock(sim_factory, ansible):
    sim = sim_factory('--rate', '0', '--clock-offset', '660')
    sim.reset({'r': [{'stream_id': s, 'user_id': 'u'} for s in ('a', 'b', 'c')]})
    run = ansible.run([play([
        stream_task('one', conn(sim, room_id='r', stream_id='a')),
        stream_task('many', conn(sim, streams=[{'room_id': 'r', 'stream_id': s} for s in ('a', 'b', 'c')])),
        save_results(['one', 'many'])])])
    one, many = run.results['one'], run.results['many']
    assert one['failed'] and one['stream']['code'] == 100000004
    assert "check the controller's clock" in one['msg'] and '100000004' in one['msg']
    assert many['failed'] and "check the controller's clock" in many['msg']
    log = sim.log()
    assert log and set(e['code'] for e in log) == {100000004}
    # the signature errors are not retried, and the batch stops after the first: every request would fail alike
    assert len(log) <= 1 + 4
    assert sim.state() == {'r': {'a', 'b', 'c'}}


def test_interrupted_batch_is_finished_by_a_second_run(sim_factory, ansible):
    sim = sim_factory('--rate', '5', '--list-room-interval', '0')
    rooms = {'r': [{'stream_id': 's%02d' % i, 'user_id': 'u'} for i in range(40)] + [{'stream_id': 'other', 'user_id': 'u'}]}
    sim.reset(rooms)
    targets = set(('r', 's%02d' % i) for i in range(40))
    task = stream_task('batch', conn(sim, streams=[{'room_id': r, 'stream_id': s} for r, s in sorted(targets)], rate_limit=4))
    plays = [play([task, save_results(['batch'])])]
    proc, workdir = ansible.start(plays)
    try:
        # poll the log (never guess timing): interrupt once some deletions went through
        wait_for(lambda: len([e for e in sim.deletes() if e['code'] == 0]) >= 5, what='the first deletions')
        proc.send_signal(signal.SIGTERM)
        at_kill = len([e for e in sim.deletes() if e['code'] == 0])
        rc = proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert rc != 0
    assert not os.path.exists(os.path.join(workdir, 'out', 'results.json'))  # the run did not finish

    # the module process must not outlive ansible-playbook and keep deleting: wait until the
    # process group is gone, then take the first run's deletions from the log
    def group_gone():
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return True
        return False
    wait_for(group_gone, timeout=60, what='the interrupted run to exit')
    first = set((e['room_id'], e['stream_id']) for e in sim.deletes() if e['code'] == 0)
    assert 5 <= len(first) < len(targets), len(first)

    run = ansible.run(plays)
    res = run.results['batch']
    assert not res.get('failed') and res['changed']
    second = set((s['room_id'], s['stream_id']) for s in res['streams'] if s['outcome'] == 'deleted')
    assert res['summary']['deleted'] == len(second)
    assert first.isdisjoint(second)
    assert first | second == targets
    assert set((s['room_id'], s['stream_id']) for s in res['streams'] if s['outcome'] == 'already_absent') == first
    assert sim.state() == {'r': {'other'}}
    print('FIGURES interrupted: first run deleted %d (%d when SIGTERM was sent), second run deleted %d, '
          'already_absent %d' % (len(first), at_kill, len(second), res['summary']['already_absent']))


def test_rerun_after_success_changes_nothing(sim, ansible):
    rooms = {'r%d' % i: [{'stream_id': 's%d' % j, 'user_id': 'u'} for j in range(10)] for i in range(3)}
    sim.reset(rooms)
    items = [{'room_id': r, 'stream_id': 's%d' % j} for r in sorted(rooms) for j in range(0, 10, 2)]
    plays = [play([stream_task('batch', conn(sim, streams=items)), save_results(['batch'])])]
    first = ansible.run(plays, check=True)
    assert first.results['batch']['changed'] and first.results['batch']['summary']['deleted'] == 15
    mark = sim.log()[-1]['seq']
    again = ansible.run(plays, check=True)
    res = again.results['batch']
    assert not res['changed'] and res['summary']['deleted'] == 0 and res['summary']['already_absent'] == 15
    assert again.recap()['changed'] == 1  # only the task that saves the results
    second = sim.deletes(since=mark)
    assert len(second) == 15 and not [e for e in second if e['code'] == 0]
    # the delete_streams playbook: a second run reports no change either
    env = {'ZEGO_APP_ID': str(sim.app_id), 'ZEGO_SERVER_SECRET': sim.secret, 'ZEGO_API_URL': sim.url}
    path = collection_path(ansible.root, 'playbooks', 'delete_streams.yml')
    args = ['-e', 'room_id=r0', '-e', '{"stream_ids": "s1 s3\\ns5"}']
    pb1 = ansible.run(playbook=path, env=env, args=args, check=True)
    assert pb1.recap()['changed'] >= 1
    mark = sim.log()[-1]['seq']
    pb2 = ansible.run(playbook=path, env=env, args=args, check=True)
    assert pb2.recap()['changed'] == 0, pb2.stdout[-3000:]
    assert not [e for e in sim.deletes(since=mark) if e['code'] == 0]
    assert sim.state()['r0'] == {'s7', 's9'}
