# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the end-to-end tests: the ZEGO simulator as a subprocess on 127.0.0.1, the
collection tree, and real ``ansible-playbook`` runs with private temp and state directories.

Playbooks are written as JSON (valid YAML), so values never need quoting by hand.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import hashlib
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time

try:
    from urllib.request import Request, urlopen
except ImportError:  # pragma: no cover
    Request = urlopen = None


HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SIM_PY = os.path.join(REPO, 'tests', 'simulator', 'zego_sim.py')
APP_ID = 1234567890
BIN = os.path.dirname(sys.executable)


def sign(app_id, nonce, secret, timestamp):
    return hashlib.md5(('%s%s%s%s' % (app_id, nonce, secret, timestamp)).encode('utf-8')).hexdigest()


# -- the simulator ----------------------------------------------------------------------------------
class Sim(object):
    """The simulator as a subprocess, driven through its admin API."""

    def __init__(self, workdir, secret, args):
        self.secret = secret
        self.app_id = APP_ID
        self.args = list(args)
        self.tls = '--tls-cert' in self.args
        self.out_path = os.path.join(workdir, 'sim-%s.out' % secrets.token_hex(4))
        self.proc = None
        self.url = None

    def start(self):
        cmd = [sys.executable, SIM_PY, '--port', '0', '--host', '127.0.0.1', '--app-id', str(self.app_id),
               '--secret', self.secret] + self.args
        with open(self.out_path, 'w') as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)  # pylint: disable=consider-using-with
        deadline = time.time() + 20
        while time.time() < deadline:
            with open(self.out_path) as f:
                line = f.readline()
            if line.endswith('\n'):
                self.url = line.strip()
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        with open(self.out_path) as f:
            raise RuntimeError('the simulator did not start: %s' % f.read())

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    # admin API: always plain loopback requests; with TLS, skip verification for the admin calls only
    def admin(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode('utf-8')
        req = Request(self.url + path, data=data, method=method, headers={'Content-Type': 'application/json'})
        kwargs = {'timeout': 30}
        if self.tls:
            import ssl
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            kwargs['context'] = ctx
        with urlopen(req, **kwargs) as resp:  # nosec - loopback simulator
            return json.loads(resp.read().decode('utf-8'))

    def reset(self, rooms=None):
        return self.admin('POST', '/_sim/reset', {'rooms': rooms or {}})

    def state(self):
        return dict((room, set(s['stream_id'] for s in streams))
                    for room, streams in self.admin('GET', '/_sim/state')['rooms'].items())

    def log(self, since=0):
        return self.admin('GET', '/_sim/log?since=%d' % since)['entries']

    def deletes(self, since=0):
        return [e for e in self.log(since) if e['action'] == 'DeleteStream']

    def settle(self, timeout=60.0):
        """Wait until every API request the simulator received is in its log: a request the client gave up on
        (a 'slow' fault) is logged when the simulator answers it."""
        deadline = time.monotonic() + timeout
        while self.admin('GET', '/_sim/log?since=%d' % 2 ** 62)['pending']:
            assert time.monotonic() < deadline, 'the simulator still answers requests after %s s' % timeout
            time.sleep(0.1)

    def signatures(self, entries=None):
        """Every signature the simulator was sent, recomputed from nonce and timestamp."""
        entries = self.log() if entries is None else entries
        return set(sign(e['app_id'], e['nonce'], self.secret, e['timestamp'])
                   for e in entries if e.get('nonce') and e.get('timestamp') and e.get('app_id'))


# -- the collection tree ------------------------------------------------------------------------------
def collection_path(root, *parts):
    return os.path.join(root, 'ansible_collections', 'zego', 'rtc', *parts)


# -- ansible-playbook ---------------------------------------------------------------------------------
class Run(object):
    """One finished ansible-playbook run."""

    def __init__(self, cmd, rc, stdout, stderr, workdir, results):
        self.cmd = cmd
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.workdir = workdir
        self.results = results

    @property
    def output(self):
        return self.stdout + '\n' + self.stderr

    def recap(self):
        """{'changed': n, 'failed': n, ...} for localhost from PLAY RECAP."""
        m = re.search(r'^localhost\s*:\s*(.*)$', self.stdout, re.M)
        assert m, 'no PLAY RECAP in output:\n' + self.output[-3000:]
        return dict((k, int(v)) for k, v in re.findall(r'(\w+)=(\d+)', m.group(1)))


class Ansible(object):
    """Runs playbooks with ansible-playbook in a private directory per run."""

    def __init__(self, root, base):
        self.root = root
        self.base = base
        self.count = 0

    def workdir(self):
        self.count += 1
        path = os.path.join(self.base, 'run%d' % self.count)
        for sub in ('local_tmp', 'remote_tmp', 'state', 'home', 'out'):
            os.makedirs(os.path.join(path, sub))
        os.chmod(os.path.join(path, 'state'), 0o700)
        return path

    def env(self, workdir, extra=None, debug=False):
        env = dict((k, v) for k, v in os.environ.items()
                   if not k.startswith(('ANSIBLE_', 'ZEGO_')) and k not in ('PYTHONPATH',))
        env.update({
            'PATH': BIN + os.pathsep + env.get('PATH', ''),
            'ANSIBLE_COLLECTIONS_PATH': self.root,
            'ANSIBLE_HOME': os.path.join(workdir, 'home'),
            'ANSIBLE_LOCAL_TEMP': os.path.join(workdir, 'local_tmp'),
            'ANSIBLE_REMOTE_TEMP': os.path.join(workdir, 'remote_tmp'),
            'ZEGO_RTC_STATE_DIR': os.path.join(workdir, 'state'),
            'ANSIBLE_NOCOLOR': '1',
            'ANSIBLE_FORCE_COLOR': '0',
            'ANSIBLE_RETRY_FILES_ENABLED': '0',
            'ANSIBLE_HOST_KEY_CHECKING': '0',
            'ANSIBLE_DEPRECATION_WARNINGS': '0',
            'ANSIBLE_LOCALHOST_WARNING': '0',
            'ANSIBLE_INVENTORY_UNPARSED_WARNING': '0',
        })
        if debug:
            env['ANSIBLE_DEBUG'] = '1'
        env.update(extra or {})
        return env

    def command(self, playbook, verbosity=0, args=()):
        cmd = [os.path.join(BIN, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
               '-e', 'ansible_python_interpreter=%s' % sys.executable]
        if verbosity:
            cmd.append('-' + 'v' * verbosity)
        return cmd + list(args) + [playbook]

    def write_playbook(self, workdir, plays):
        path = os.path.join(workdir, 'playbook.json.yml')
        with open(path, 'w') as f:
            json.dump(plays, f, indent=1)
        return path

    def run(self, plays=None, playbook=None, env=None, verbosity=0, debug=False, args=(), timeout=300, check=False):
        """Run ``plays`` (a list of play dicts) or an existing ``playbook`` file."""
        workdir = self.workdir()
        if playbook is None:
            playbook = self.write_playbook(workdir, plays)
        cmd = self.command(playbook, verbosity, args)
        proc = subprocess.run(cmd, cwd=workdir, env=self.env(workdir, env, debug), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=timeout, check=False)
        results = None
        res_path = os.path.join(workdir, 'out', 'results.json')
        if os.path.exists(res_path):
            with open(res_path) as f:
                results = json.load(f)
        run = Run(cmd, proc.returncode, proc.stdout.decode('utf-8', 'replace'),
                  proc.stderr.decode('utf-8', 'replace'), workdir, results)
        for name, text in (('stdout.txt', run.stdout), ('stderr.txt', run.stderr)):
            with open(os.path.join(workdir, name), 'w') as f:
                f.write(text)
        if check:
            assert run.rc == 0, run.output[-5000:]
        return run

    def start(self, plays, env=None, verbosity=0):
        """Start a playbook in the background (its own process group); returns (Popen, workdir)."""
        workdir = self.workdir()
        playbook = self.write_playbook(workdir, plays)
        out = open(os.path.join(workdir, 'stdout.txt'), 'w')  # pylint: disable=consider-using-with
        err = open(os.path.join(workdir, 'stderr.txt'), 'w')  # pylint: disable=consider-using-with
        proc = subprocess.Popen(self.command(playbook, verbosity), cwd=workdir, env=self.env(workdir, env),  # pylint: disable=consider-using-with
                                stdout=out, stderr=err, start_new_session=True)
        out.close()
        err.close()
        return proc, workdir


# -- playbook building helpers ------------------------------------------------------------------------
def conn(sim, **extra):
    """Connection options as module parameters."""
    opts = {'app_id': sim.app_id, 'server_secret': sim.secret, 'api_url': sim.url}
    opts.update(extra)
    return opts


def play(tasks, **extra):
    p = {'name': 'e2e', 'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks}
    p.update(extra)
    return p


def save_results(names):
    """A task that writes the registered variables ``names`` to out/results.json."""
    content = '{{ {%s} | to_json }}' % ', '.join("'%s': %s | default(None)" % (n, n) for n in names)
    return {'name': 'save results', 'ansible.builtin.copy': {'content': content, 'dest': 'out/results.json',
                                                             'mode': '0600'}}


def module_task(module, register, params, **extra):
    """A task of the module zego.rtc.``module`` whose result is registered as ``register``; a failure does not stop
    the play."""
    task = {'name': '%s %s' % (module, register), 'zego.rtc.%s' % module: params, 'register': register,
            'ignore_errors': True}
    task.update(extra)
    return task


def stream_task(register, params, **extra):
    task = {'name': 'zego_stream %s' % register, 'zego.rtc.zego_stream': params, 'register': register,
            'ignore_errors': True}
    task.update(extra)
    return task


def rooms_of(n, rooms=5, prefix='s'):
    """n streams spread over ``rooms`` rooms: {room: [{'stream_id', 'user_id'}]}."""
    out = {}
    for i in range(n):
        out.setdefault('room%d' % (i % rooms), []).append({'stream_id': '%s%04d' % (prefix, i), 'user_id': 'u%d' % i})
    return out


def pairs(rooms):
    return [(room, s['stream_id']) for room, streams in sorted(rooms.items()) for s in streams]


def message_names(msg, field):
    """The message names the field (ignoring Ansible's list of every supported option)."""
    if field is None:
        return bool(msg)
    head = re.split(r'Supported parameters include', msg or '')[0]
    return re.search(r'(?<![A-Za-z_])%s(?![A-Za-z_])' % field, head) is not None


def assert_refused_before_any_request(run, sim, field, case):
    """A playbook run failed on bad input: its message names ``field``, says nothing was changed, and the
    simulator received no request at all."""
    assert run.rc != 0, run.output[-3000:]
    fatal = re.findall(r'^fatal: \[localhost\]: FAILED! => (.*)$', run.stdout, re.M)
    assert fatal, run.output[-3000:]
    assert message_names(fatal[0], field), (case, fatal[0])
    assert 'nothing was changed' in fatal[0]
    assert sim.log() == []


def assert_modules_refuse(sim, ansible, cases):
    """Every case (case, module, parameters besides the connection options, the field the message must name) as one
    task of one play: each task fails with a message naming its field, and the simulator received no request."""
    names = ['case%02d' % i for i in range(len(cases))]
    tasks = [module_task(module, name, dict(conn(sim), **params)) for name, (case, module, params, field) in zip(names, cases)]
    run = ansible.run([play(tasks + [save_results(names)])], verbosity=1)
    assert run.results is not None, run.output[-4000:]
    assert sim.log() == []
    bad = []
    for name, (case, module, params, field) in zip(names, cases):
        res = run.results[name] or {}
        if not (res.get('failed') and message_names(res.get('msg'), field)):
            bad.append('%s: failed=%s msg=%r' % (case, res.get('failed'), (res.get('msg') or '')[:300]))
    assert not bad, '\n'.join(bad)


def assert_playbook_refuses(sim, ansible, playbook, extra, field, case):
    """The collection's ``playbook`` run with the extra vars ``extra`` (each given as JSON) and the connection in the
    environment is refused before any request, naming ``field`` (assert_refused_before_any_request)."""
    args = []
    for key, value in extra.items():
        args += ['-e', json.dumps({key: value})]
    run = ansible.run(playbook=collection_path(ansible.root, 'playbooks', playbook), args=args,
                      env={'ZEGO_APP_ID': str(sim.app_id), 'ZEGO_SERVER_SECRET': sim.secret, 'ZEGO_API_URL': sim.url})
    assert_refused_before_any_request(run, sim, field, case)
