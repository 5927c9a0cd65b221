# -*- coding: utf-8 -*-
# Copyright: Contributors to the zego.rtc collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rulebook zego.rtc.moderate_streams, end to end with a real ansible-rulebook (Java 17):
simulator -> signed stream_create callback -> zego.rtc.callbacks -> rule -> playbook zego.rtc.delete_streams
-> DeleteStream on the simulator (-> stream_close type 100, which must trigger nothing)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SIM = os.path.join(REPO, 'tests', 'simulator', 'zego_sim.py')
APP_ID = '1234567890'
JAVA_HOMES = ('/usr/lib/jvm/java-17-openjdk-amd64', '/usr/lib/jvm/java-1.17.0-openjdk-amd64')
# generous limits for a failure to show up as one; the run normally takes a few seconds per playbook
WAIT = 180


def java_home():
    for home in [os.environ.get('JAVA_HOME')] + list(JAVA_HOMES):
        if home and os.path.exists(os.path.join(home, 'bin', 'java')):
            return home
    pytest.fail('ansible-rulebook needs Java 17: set JAVA_HOME (looked in %s)' % ', '.join(JAVA_HOMES))
    return None


def free_port():
    """A free 127.0.0.1 port below the kernel's ephemeral range: a port from that range (what binding port 0
    gives) can be taken by any outgoing connection between this choice and the server's bind, which the test
    lanes' many HTTP connections make likely; below it only another listener can."""
    try:
        with open('/proc/sys/net/ipv4/ip_local_port_range') as f:
            ephemeral = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral = 32768
    rng = random.SystemRandom()
    for dummy in range(200):
        port = rng.randint(10000, ephemeral - 1)
        with socket.socket() as sock:
            try:
                sock.bind(('127.0.0.1', port))
            except OSError:
                continue
        return port
    raise RuntimeError('no free port below %d on 127.0.0.1' % ephemeral)


def interrupt(proc):
    """Stop ``proc`` as a user would (SIGINT), killing it if it has not ended within 30 s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(30)


def http(method, url, body=None):
    data = None if body is None else json.dumps(body).encode('utf-8')
    request = urllib.request.Request(url, data=data, method=method, headers={'Content-Type': 'application/json'})
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b'null')
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode('utf-8', 'replace')


def wait_for(predicate, what, proc=None, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            pytest.fail('%s: the process ended (rc=%s) first' % (what, proc.returncode))
        time.sleep(0.2)
    pytest.fail('timed out waiting for: %s' % what)
    return None


@pytest.fixture
def collections_root(tmp_path):
    root = os.environ.get('ZEGO_COLLECTIONS_ROOT')
    if root:
        assert os.path.isdir(os.path.join(root, 'ansible_collections', 'zego', 'rtc')), root
        return root
    root = str(tmp_path / 'collections')
    dest = os.path.join(root, 'ansible_collections', 'zego', 'rtc')
    files = subprocess.check_output(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
                                    cwd=REPO).decode('utf-8').split('\0')
    for rel in files:
        src = os.path.join(REPO, rel)
        if rel and os.path.isfile(src):
            os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
            with open(src, 'rb') as fin, open(os.path.join(dest, rel), 'wb') as fout:
                fout.write(fin.read())
    return root


class Stack:
    """The simulator (calling back) and ansible-rulebook running the moderation rulebook."""

    def __init__(self, work, collections_root):
        self.work = work
        self.server_secret = secrets.token_hex(16)
        self.callback_secret = 'cb-' + secrets.token_hex(12)
        self.port = free_port()
        self.procs = []
        self.sim_url = None
        self.env = dict(os.environ)
        for key in list(self.env):
            if key.startswith(('ZEGO_', 'ANSIBLE_')):
                del self.env[key]
        self.env.update({
            'JAVA_HOME': java_home(),
            'PATH': os.path.dirname(sys.executable) + os.pathsep + self.env.get('PATH', ''),
            'ANSIBLE_COLLECTIONS_PATH': collections_root,
            'ANSIBLE_NOCOLOR': '1',
            'ANSIBLE_LOCAL_TEMP': str(work / 'ansible-tmp'),
            'ZEGO_RTC_STATE_DIR': str(work / 'rate-state'),
            'ZEGO_APP_ID': APP_ID,
            'ZEGO_SERVER_SECRET': self.server_secret,
            'ZEGO_CALLBACK_SECRET': self.callback_secret,
        })
        os.mkdir(self.env['ZEGO_RTC_STATE_DIR'], 0o700)

    def start(self, banned_users, regex=None, ban=None, rulebook='zego.rtc.moderate_streams', extra=None, args=(),
              retry_scale=0.05):
        sim_out = open(str(self.work / 'sim.out'), 'w')  # pylint: disable=consider-using-with
        sim = subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable, SIM, '--port', '0', '--app-id', APP_ID, '--secret', self.server_secret, '--rate', '0',
             '--callback-url', 'http://127.0.0.1:%d/zego/callbacks' % self.port,
             '--callback-secret', self.callback_secret, '--callback-retry-scale', str(retry_scale)],
            stdout=sim_out, stderr=subprocess.STDOUT, env=self.env)
        self.procs.append((sim, sim_out))
        self.sim_url = wait_for(lambda: open(str(self.work / 'sim.out')).readline().strip(), 'the simulator', sim)
        self.env['ZEGO_API_URL'] = self.sim_url

        (self.work / 'inventory.yml').write_text(
            'all:\n  hosts:\n    localhost:\n      ansible_connection: local\n'
            '      ansible_python_interpreter: %s\n' % sys.executable)
        variables = {'zego_callback_port': self.port, 'zego_app_id': int(APP_ID), 'zego_banned_user_ids': banned_users}
        if regex is not None:
            variables['zego_banned_stream_id_regex'] = regex
        if ban is not None:
            variables['zego_ban_banned_streams'] = ban
        variables.update(extra or {})
        (self.work / 'vars.yml').write_text(json.dumps(variables))
        self.rulebook_cmd = ['ansible-rulebook', '-i', 'inventory.yml', '-r', rulebook, '--vars', 'vars.yml',
                             '--env-vars', 'ZEGO_CALLBACK_SECRET', '-vv'] + list(args)
        return self.start_rulebook()

    def start_rulebook(self):
        rb_out = open(str(self.work / 'rulebook.out'), 'a')  # pylint: disable=consider-using-with
        # its own process group, so that kill_rulebook() takes its playbook runs with it, as a crash would
        rulebook = subprocess.Popen(  # pylint: disable=consider-using-with
            self.rulebook_cmd, cwd=str(self.work), stdout=rb_out, stderr=subprocess.STDOUT, env=self.env,
            start_new_session=True)
        self.procs.append((rulebook, rb_out))
        self.rulebook = rulebook
        wait_for(self._listening, 'the zego.rtc.callbacks source to listen', rulebook)
        return self

    def kill_rulebook(self):
        """SIGKILL ansible-rulebook and everything it started (a crash, an OOM kill, a node lost)."""
        os.killpg(self.rulebook.pid, signal.SIGKILL)
        self.rulebook.wait(30)
        wait_for(lambda: not self._listening(), 'the port to be free')

    def _listening(self):
        with socket.socket() as sock:
            return sock.connect_ex(('127.0.0.1', self.port)) == 0

    def stop(self):
        for proc, out in reversed(self.procs):
            interrupt(proc)
            out.close()

    def admin(self, method, path, body=None):
        return http(method, self.sim_url + '/_sim/' + path, body)

    def streams(self):
        status, state = self.admin('GET', 'state')
        assert status == 200
        return dict((room, sorted(s['stream_id'] for s in items)) for room, items in state['rooms'].items())

    def deletes(self):
        status, log = self.admin('GET', 'log')
        assert status == 200
        return [(e['room_id'], e['stream_id'], e['code'])
                for e in log['entries'] if e['action'] == 'DeleteStream']

    def banned(self):
        status, bans = self.admin('GET', 'bans')
        assert status == 200
        return sorted(b['stream_id'] for b in bans['banned'])

    def deliveries(self):
        return self.admin('GET', 'callbacks')[1]

    def output(self):
        return (self.work / 'rulebook.out').read_text()

    def runs(self, since=0):
        """The playbook runs that ended (their output), once none is running; None while one is. ``since``:
        only the output after that offset (a run cut off by kill_rulebook() never ends)."""
        out = self.output()[since:]
        started, ended = out.count('PLAY [Remove the streams of banned publishers]'), out.count('PLAY RECAP')
        return (ended, out) if started == ended else None

    def publish(self, room_id, stream_id, user_id):
        status, answer = self.admin('POST', 'publish', {'room_id': room_id, 'stream_id': stream_id, 'user_id': user_id})
        assert status == 200, answer

    def actions(self):
        """(action, stream ID) of every request the simulator saw, batch bans once per stream ID."""
        status, log = self.admin('GET', 'log')
        assert status == 200
        out = []
        for e in log['entries']:
            ids = (e.get('arrays') or {}).get('StreamId') or [e['stream_id']]
            out.extend((e['action'], sid, e['code']) for sid in ids)
        return out


@pytest.fixture
def stack(tmp_path, collections_root):
    running = Stack(tmp_path, collections_root)
    yield running
    running.stop()


def test_banned_publisher_is_deleted_and_nothing_else(stack):
    # banning off: only DeleteStream (test_banned_stream_id_is_banned_too covers the default)
    stack.start(banned_users=['troll', 'spammer'], regex='^ad_', ban=False)
    assert stack.admin('POST', 'reset', {'rooms': {'town-hall': [{'stream_id': 'host_main', 'user_id': 'host'}]}})[0] == 200

    # a forged callback straight to the source: refused, nothing runs
    forged = {'event': 'stream_create', 'appid': APP_ID, 'timestamp': str(int(time.time())), 'nonce': '1',
              'signature': '0' * 40, 'room_id': 'town-hall', 'user_id': 'troll', 'stream_id': 'host_main'}
    assert http('POST', 'http://127.0.0.1:%d/zego/callbacks' % stack.port, forged)[0] == 401

    for stream_id, user_id in (('guest_ann', 'ann'), ('troll_cam', 'troll'), ('ad_banner', 'ben')):
        status, answer = stack.admin('POST', 'publish', {'room_id': 'town-hall', 'stream_id': stream_id,
                                                         'user_id': user_id})
        assert status == 200, answer

    wait_for(lambda: stack.streams()['town-hall'] == ['guest_ann', 'host_main'], 'the banned streams to be deleted')
    # every callback (3 x stream_create, 2 x stream_close type 100) reached the source and was accepted
    wait_for(lambda: len([d for d in stack.deliveries()['deliveries'] if d['outcome'] == 'delivered']) == 5,
             'five delivered callbacks')
    closes = [d for d in stack.deliveries()['deliveries'] if d['event'] == 'stream_close']
    assert sorted((d['stream_id'], d['type']) for d in closes) == [('ad_banner', '100'), ('troll_cam', '100')]

    # The rule engine handles events in order: once a later banned stream is gone, the two stream_close
    # events before it were handled too, and must not have run anything.
    assert stack.admin('POST', 'publish', {'room_id': 'lobby', 'stream_id': 'late', 'user_id': 'spammer'})[0] == 200
    wait_for(lambda: stack.streams().get('lobby') == [], 'the late banned stream to be deleted')
    wait_for(lambda: len([d for d in stack.deliveries()['deliveries'] if d['outcome'] == 'delivered']) == 7,
             'seven delivered callbacks')

    assert sorted(stack.deletes()) == [('lobby', 'late', 0), ('town-hall', 'ad_banner', 0), ('town-hall', 'troll_cam', 0)]
    assert stack.streams() == {'town-hall': ['guest_ann', 'host_main'], 'lobby': []}
    assert all(d['status'] == 200 for d in stack.deliveries()['deliveries'])

    # one playbook run per batch with a banned stream: troll_cam and ad_banner arrive together (one batch, or
    # two if the machine is slow), late alone; the stream_close batches run nothing
    runs, out = wait_for(stack.runs, 'the playbook runs to end')
    assert runs in (2, 3)
    assert out.count('failed=0') == runs
    assert stack.server_secret not in out
    assert stack.callback_secret not in out
    assert 'HTTP 401' in out  # the forged callback was logged as refused
    assert stack.banned() == []


def test_without_a_regex_only_banned_users_count(stack):
    stack.start(banned_users=['troll'], ban='false')
    for stream_id, user_id in (('a', 'u1'), ('ad_b', 'u2'), ('troll_1', 'troll')):
        assert stack.admin('POST', 'publish', {'room_id': 'r', 'stream_id': stream_id, 'user_id': user_id})[0] == 200
    # events are handled in order: once the troll's stream (published last) is gone, the others were judged
    wait_for(lambda: stack.streams() == {'r': ['a', 'ad_b']}, "the troll's stream to be deleted")
    assert stack.deletes() == [('r', 'troll_1', 0)]
    assert wait_for(lambda: 'PLAY RECAP' in stack.output() and stack.runs(), 'the playbook run to end')[0] == 1


def test_banned_stream_id_is_banned_too_so_a_republish_is_refused(stack):
    # zego_ban_banned_streams is not set: banning is on by default
    stack.start(banned_users=['troll'])
    for stream_id, user_id in (('fine', 'ann'), ('troll_cam', 'troll')):
        assert stack.admin('POST', 'publish', {'room_id': 'r', 'stream_id': stream_id, 'user_id': user_id})[0] == 200
    wait_for(lambda: stack.streams() == {'r': ['fine']}, "the troll's stream to be deleted")
    # ban_streams ran before delete_streams, so by now the stream ID is banned
    assert stack.banned() == ['troll_cam']
    status, log = stack.admin('GET', 'log')
    actions = [(e['action'], e['stream_id']) for e in log['entries']]
    assert actions == [('ForbidRTCStream', 'troll_cam'), ('DeleteStream', 'troll_cam')]
    # the troll's client publishes the same stream ID again: refused, and nothing new reaches the rulebook
    status, answer = stack.admin('POST', 'publish', {'room_id': 'r', 'stream_id': 'troll_cam', 'user_id': 'troll'})
    assert status == 403 and json.loads(answer)['code'] == 1003025  # http() gives an error's body as text
    assert stack.streams() == {'r': ['fine']}
    # one playbook run banned and deleted it
    runs, out = wait_for(lambda: 'PLAY RECAP' in stack.output() and stack.runs(), 'the playbook run to end')
    assert runs == 1 and out.count('failed=0') == 1
    assert stack.server_secret not in out and stack.callback_secret not in out


def test_a_raid_is_removed_in_few_runs_each_stream_once_and_nothing_else(stack):
    # 30 banned publishers and 10 allowed ones start together in one room, then a second wave of 10 banned
    # ones arrives while the first is being handled
    stack.start(banned_users=['raider'], regex='^spam_')
    allowed = ['guest_%02d' % i for i in range(10)]
    first = ['raid_%02d' % i for i in range(25)] + ['spam_%02d' % i for i in range(5)]
    for i, stream_id in enumerate(first):
        stack.publish('arena', stream_id, 'raider' if stream_id.startswith('raid_') else 'u%d' % i)
        if i % 3 == 0:
            stack.publish('arena', allowed[i // 3], 'fan%d' % i)
    wait_for(lambda: 'PLAY [Remove the streams of banned publishers]' in stack.output(), 'the first run to start')
    second = ['wave2_%02d' % i for i in range(10)]
    for stream_id in second:
        stack.publish('arena', stream_id, 'raider')
    wait_for(lambda: stack.streams() == {'arena': sorted(allowed)}, 'every banned stream to be deleted')
    runs, out = wait_for(stack.runs, 'the playbook runs to end')
    banned = sorted(first + second)
    actions = stack.actions()
    # each banned stream banned once and deleted once, no allowed stream touched
    assert sorted(sid for a, sid, code in actions if a.startswith('ForbidRTCStream') and code == 0) == banned
    assert sorted(sid for a, sid, code in actions if a == 'DeleteStream' and code == 0) == banned
    assert len(actions) == 2 * len(banned)
    assert not [sid for a, sid, code in actions if sid in allowed]
    assert stack.banned() == banned
    # a handful of runs for 40 banned streams (one per batch), not one per stream
    assert 2 <= runs <= 6, runs
    assert out.count('failed=0') == runs


def test_persistent_rulebook_killed_with_events_in_flight_loses_none_and_deletes_none_twice(stack):
    # drools HA mode on an H2 file, the source's feedback: ZEGO gets a 2xx only for callbacks the engine took
    persist = ['--persistence-id', '7']
    stack.start(banned_users=['raider'], rulebook='zego.rtc.moderate_streams_persistent', args=persist,
                extra={'drools_db_file_path': str(stack.work / 'drools'), 'zego_feedback_timeout': 3},
                retry_scale=0.5)  # ZEGO's retries 1, 2, 4, 8, 16 s apart: 31 s to come back
    wait_for(lambda: 'Initializing drools HA mode' in stack.output(), 'the rule engine to persist its state')
    allowed = ['fan_%d' % i for i in range(3)]
    for i, stream_id in enumerate(allowed):
        stack.publish('arena', stream_id, 'fan%d' % i)
    first = ['raid_a%02d' % i for i in range(10)]
    for stream_id in first:
        stack.publish('arena', stream_id, 'raider')
    wait_for(lambda: 'PLAY [Remove the streams of banned publishers]' in stack.output(), 'the first run to start')
    second = ['raid_b%02d' % i for i in range(10)]
    for stream_id in second:
        stack.publish('arena', stream_id, 'raider')
    # the first batch is being handled, the second is in the source or the engine: crash
    time.sleep(0.2)
    stack.kill_rulebook()
    restart = len(stack.output())
    stack.start_rulebook()
    banned = sorted(first + second)
    wait_for(lambda: stack.streams() == {'arena': sorted(allowed)}, 'every banned stream to be deleted')
    wait_for(lambda: not stack.deliveries()['pending'], "ZEGO's retries to end")
    wait_for(lambda: stack.runs(restart), 'the playbook runs to end')
    actions = stack.actions()
    # every banned stream deleted exactly once: a batch the crash interrupted runs again after the restart
    # and finds its streams gone (138), it does not delete anything twice
    deleted = sorted(sid for a, sid, code in actions if a == 'DeleteStream' and code == 0)
    assert deleted == banned
    assert set(code for a, sid, code in actions if a == 'DeleteStream') <= {0, 138}
    assert stack.banned() == banned
    assert not [sid for a, sid, code in actions if sid in allowed]
    deliveries = stack.deliveries()['deliveries']
    # every callback of a banned stream was answered 2xx in the end; none was dropped
    creates = [d for d in deliveries if d['event'] == 'stream_create' and d['stream_id'] in banned]
    assert sorted(d['stream_id'] for d in creates if d['outcome'] == 'delivered') == banned
    assert not [d for d in deliveries if d['outcome'] == 'dropped']
    # the crash cut some of them off (no answer, or a 503): ZEGO's retries brought them back
    assert [d for d in creates if d['outcome'] == 'retry']
    out = stack.output()
    assert stack.server_secret not in out and stack.callback_secret not in out


def test_persistent_rulebook_needs_a_persistence_id(stack):
    with pytest.raises(BaseException):
        stack.start(banned_users=['raider'], rulebook='zego.rtc.moderate_streams_persistent')
    assert 'persistence' in stack.output()
