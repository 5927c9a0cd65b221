# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared rate-limit store (rate_limit_backend) with real playbooks and a real redis-server: its
password never shows up at -vvvv, in results or in files; a store that refuses the password fails the
task before any request to ZEGO."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import secrets
import shutil
import signal
import socket
import subprocess
import time

import pytest

from e2e_lib import conn, play, save_results, stream_task


def _die_with_parent():
    """In the child before exec: stop redis-server when this process ends, however it ends (Linux)."""
    try:
        import ctypes  # pylint: disable=import-outside-toplevel
        ctypes.CDLL('libc.so.6', use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


@pytest.fixture
def redis_url(tmp_path):
    binary = shutil.which('redis-server') or '/usr/bin/redis-server'
    if not os.access(binary, os.X_OK):
        pytest.fail('redis-server is not installed (make test installs it as root: apt-get install redis-server)')
    password = 'storepw-' + secrets.token_hex(10)
    import redis
    # a port the kernel hands out can be taken by an outgoing connection before redis-server binds it: another one
    for attempt in range(5):
        sock = socket.socket()
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
        sock.close()
        proc = subprocess.Popen([binary, '--port', str(port), '--bind', '127.0.0.1', '--requirepass', password,  # pylint: disable=consider-using-with
                                 '--save', '', '--appendonly', 'no', '--dir', str(tmp_path)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        client = redis.Redis(host='127.0.0.1', port=port, password=password)
        for dummy in range(200):
            if proc.poll() is not None:
                break
            try:
                client.ping()
                break
            except redis.exceptions.RedisError:
                time.sleep(0.05)
        if proc.poll() is None:
            break
    assert proc.poll() is None, 'redis-server exited at start (rc=%s)' % proc.returncode
    yield {'url': 'redis://:%s@127.0.0.1:%d/0' % (password, port), 'password': password, 'port': port,
           'client': client}
    proc.terminate()
    proc.wait(10)


def _scan(run, needle):
    found = []
    if needle in run.stdout:
        found.append('stdout')
    if needle in run.stderr:
        found.append('stderr')
    for base, _dirs, names in os.walk(run.workdir):
        for name in names:
            if name in ('playbook.json.yml', 'stdout.txt', 'stderr.txt'):
                continue
            with open(os.path.join(base, name), 'rb') as f:
                if needle.encode('utf-8') in f.read():
                    found.append(name)
    return found


@pytest.mark.parametrize('how', ['environment', 'parameter'])
def test_store_password_never_shows_at_vvvv(sim, ansible, redis_url, how):
    sim.reset({'r1': [{'stream_id': 's%d' % i, 'user_id': 'u'} for i in range(6)]})
    args = conn(sim, streams=[{'room_id': 'r1', 'stream_id': 's%d' % i} for i in range(6)])
    env = {}
    if how == 'environment':
        env['ZEGO_RATE_LIMIT_BACKEND'] = redis_url['url']
    else:
        args['rate_limit_backend'] = redis_url['url']
    run = ansible.run([play([stream_task('batch', args), save_results(['batch'])])], env=env, verbosity=4)
    assert run.rc == 0, run.output[-3000:]
    assert run.results['batch']['summary']['deleted'] == 6
    assert _scan(run, redis_url['password']) == []
    # the budget really was kept in the store (its keys expire a second after use: count the script's runs)
    stats = redis_url['client'].info('commandstats')
    assert stats.get('cmdstat_evalsha', {}).get('calls', 0) + stats.get('cmdstat_eval', {}).get('calls', 0) >= 6


def test_store_refusing_the_password_fails_before_any_request(sim, ansible, redis_url):
    sim.reset({'r1': [{'stream_id': 's1', 'user_id': 'u'}]})
    wrong = redis_url['url'].replace(redis_url['password'], 'not-' + redis_url['password'])
    args = conn(sim, room_id='r1', stream_id='s1', rate_limit_backend=wrong)
    run = ansible.run([play([stream_task('one', args, ignore_errors=True), save_results(['one'])])], verbosity=4)
    assert run.results['one']['failed']
    assert '127.0.0.1:%d' % redis_url['port'] in run.results['one']['msg']
    assert 'nothing was sent to ZEGO' in run.results['one']['msg']
    assert sim.deletes() == [] and sim.log() == []
    assert _scan(run, redis_url['password']) == []
