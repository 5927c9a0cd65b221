# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The soak check behind `make soak`: state that outlives a run, in real time.

One ZEGO simulator (10 requests/s, signed callbacks), one ansible-rulebook running zego.rtc.moderate_streams and
one private state directory (ZEGO_RTC_STATE_DIR) shared by everything, for --seconds of real time:
- every 40-90 s a banned publisher starts (one stream_create callback): the rulebook must ban and delete it;
- every 3-5 min a small batch: three streams published, then playbooks/delete_streams.yml and
  playbooks/ban_streams.yml run by hand against them.
Sparse use is the case that once failed about ten minutes after the first call (slow start never ended, its growth
overflowed). Every run's result is printed and written to --report; the exit status is 1 if any run failed.
"""

from __future__ import (absolute_import, division, print_function)

import argparse
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BIN = os.path.dirname(sys.executable)
APP_ID = '1234567890'
BANNED_USER = 'troll_42'
# A banned publisher still on air after this long counts as a failed event: the rule's two playbook runs take a few
# seconds on an idle machine; this bound only separates 'slow' (a loaded machine) from 'never'.
REMOVE_WITHIN = 300.0


def free_port():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


class Soak(object):
    def __init__(self, args):
        self.args = args
        self.dir = tempfile.mkdtemp(prefix='zego-soak-')
        self.state_dir = os.path.join(self.dir, 'state')
        os.mkdir(self.state_dir, 0o700)
        self.secret = secrets.token_hex(16)
        self.callback_secret = secrets.token_hex(16)
        self.port = free_port()
        self.procs = []
        self.rows = []
        self.started = time.monotonic()
        self.sim_url = None
        self.rulebook_out = os.path.join(self.dir, 'rulebook.out')

    # -- processes ------------------------------------------------------------------------------------
    def env(self):
        env = dict((k, v) for k, v in os.environ.items() if not k.startswith(('ANSIBLE_', 'ZEGO_')))
        env.update({'PATH': BIN + os.pathsep + env.get('PATH', ''), 'ANSIBLE_COLLECTIONS_PATH': self.args.collections_path,
                    'ZEGO_RTC_STATE_DIR': self.state_dir, 'ZEGO_APP_ID': APP_ID, 'ZEGO_SERVER_SECRET': self.secret,
                    'ZEGO_CALLBACK_SECRET': self.callback_secret, 'ANSIBLE_NOCOLOR': '1',
                    'ANSIBLE_LOCALHOST_WARNING': '0', 'ANSIBLE_INVENTORY_UNPARSED_WARNING': '0'})
        if self.sim_url:
            env['ZEGO_API_URL'] = self.sim_url
        return env

    def start(self):
        out = os.path.join(self.dir, 'sim.out')
        with open(out, 'w') as handle:
            self.procs.append(subprocess.Popen(  # pylint: disable=consider-using-with
                [sys.executable, os.path.join(REPO, 'tests', 'simulator', 'zego_sim.py'), '--port', '0',
                 '--app-id', APP_ID, '--secret', self.secret, '--rate', '10',
                 '--callback-url', 'http://127.0.0.1:%d/zego/callbacks' % self.port,
                 '--callback-secret', self.callback_secret], stdout=handle, stderr=subprocess.STDOUT))
        for dummy in range(200):
            with open(out) as handle:
                line = handle.readline()
            if line.endswith('\n'):
                self.sim_url = line.strip()
                break
            time.sleep(0.05)
        else:
            raise SystemExit('the simulator did not start')
        with open(os.path.join(self.dir, 'inventory.yml'), 'w') as handle:
            handle.write('all:\n  hosts:\n    localhost:\n      ansible_connection: local\n'
                         '      ansible_python_interpreter: %s\n' % sys.executable)
        with open(os.path.join(self.dir, 'vars.yml'), 'w') as handle:
            json.dump({'zego_callback_port': self.port, 'zego_app_id': int(APP_ID),
                       'zego_banned_user_ids': [BANNED_USER]}, handle)
        with open(self.rulebook_out, 'w') as handle:
            self.procs.append(subprocess.Popen(  # pylint: disable=consider-using-with
                [os.path.join(BIN, 'ansible-rulebook'), '-i', 'inventory.yml', '-r', 'zego.rtc.moderate_streams',
                 '--vars', 'vars.yml', '--env-vars', 'ZEGO_CALLBACK_SECRET'],
                cwd=self.dir, env=self.env(), stdout=handle, stderr=subprocess.STDOUT, start_new_session=True))
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                socket.create_connection(('127.0.0.1', self.port), 1).close()
                return
            except OSError:
                if self.procs[-1].poll() is not None:
                    break
                time.sleep(0.2)
        with open(self.rulebook_out) as handle:
            raise SystemExit('ansible-rulebook did not start listening:\n' + handle.read()[-3000:])

    def stop(self):
        for proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM) if proc is self.procs[-1] else proc.terminate()
                except OSError:
                    pass
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- the simulator ---------------------------------------------------------------------------------
    def sim(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode('utf-8')
        req = urllib.request.Request(self.sim_url + '/_sim/' + path, data=data, method=method,
                                     headers={'Content-Type': 'application/json'})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.load(resp)

    def on_air(self, room, stream):
        return any(s['stream_id'] == stream for s in self.sim('GET', 'state')['rooms'].get(room, []))

    # -- what happens ------------------------------------------------------------------------------------
    def record(self, kind, what, ok, detail):
        at = time.monotonic() - self.started
        self.rows.append((at, kind, what, ok, detail))
        line = '%7.0f s  %-8s %-34s %-6s %s' % (at, kind, what, 'ok' if ok else 'FAILED', detail)
        print(line)
        sys.stdout.flush()

    def banned_publisher(self, n):
        room, stream = 'soak-room', 'troll_cam_%d' % n
        began = time.monotonic()
        self.sim('POST', 'publish', {'room_id': room, 'stream_id': stream, 'user_id': BANNED_USER})
        while time.monotonic() - began < REMOVE_WITHIN:
            if not self.on_air(room, stream):
                self.record('event', '%s/%s' % (room, stream), True, 'removed in %.1f s' % (time.monotonic() - began))
                return
            time.sleep(0.25)
        deliveries = [d for d in self.sim('GET', 'callbacks')['deliveries'] if d['stream_id'] == stream]
        self.record('event', '%s/%s' % (room, stream), False, 'still on air after %.0f s; its callbacks: %s' % (
            REMOVE_WITHIN, ', '.join('%s attempt %d: %s' % (d['event'], d['attempt'], d['status'] or d['error'])
                                     for d in deliveries) or 'none sent'))

    def batch(self, n):
        room = 'batch-room-%d' % n
        streams = ['cam_%d_%d' % (n, i) for i in range(3)]
        for stream in streams:
            self.sim('POST', 'publish', {'room_id': room, 'stream_id': stream, 'user_id': 'guest_%s' % stream})
        items = [{'room_id': room, 'stream_id': s} for s in streams]
        for playbook, extra in (('delete_streams.yml', {'streams': items}),
                                ('ban_streams.yml', {'stream_ids': streams})):
            path = os.path.join(self.dir, 'extra-%d.json' % n)
            with open(path, 'w') as handle:
                json.dump(extra, handle)
            began = time.monotonic()
            proc = subprocess.run(
                [os.path.join(BIN, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
                 '-e', 'ansible_python_interpreter=%s' % sys.executable, '-e', '@' + path,
                 os.path.join(REPO, 'playbooks', playbook)],
                cwd=self.dir, env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600,
                check=False)
            output = proc.stdout.decode('utf-8', 'replace')
            recap = [l for l in output.splitlines() if l.startswith('localhost')]
            detail = '%.1f s, %s' % (time.monotonic() - began, ' '.join((recap or ['no recap'])[-1].split()[2:6]))
            if proc.returncode != 0:
                fatal = [l for l in output.splitlines() if 'FAILED!' in l or 'msg' in l][:2]
                detail += ' | ' + ' | '.join(fatal)[:400]
            self.record('playbook', '%s (%s)' % (playbook, room), proc.returncode == 0, detail)

    def rulebook_failures(self):
        with open(self.rulebook_out) as handle:
            text = handle.read()
        return [l for l in text.splitlines() if l.startswith('fatal:') or 'Module failed' in l]

    def run(self):
        rng = random.Random(self.args.seed)
        end = self.started + self.args.seconds
        next_event = time.monotonic() + 5
        next_batch = time.monotonic() + 20
        events = batches = 0
        while True:
            now = time.monotonic()
            if now >= end:
                break
            if now >= next_event:
                events += 1
                self.banned_publisher(events)
                next_event = time.monotonic() + rng.uniform(40, 90)
            elif now >= next_batch:
                batches += 1
                self.batch(batches)
                next_batch = time.monotonic() + rng.uniform(180, 300)
            else:
                time.sleep(min(1.0, max(0.0, min(next_event, next_batch, end) - now)))
        failures = self.rulebook_failures()
        for line in failures[:10]:
            self.record('rulebook', 'a playbook run by the rule', False, line[:300])
        failed = [r for r in self.rows if not r[3]]
        summary = ('soak: %.0f s of real time, one state directory: %d events, %d playbook runs; %d failed '
                   '(load average at the end: %s)'
                   % (time.monotonic() - self.started, events, len([r for r in self.rows if r[1] == 'playbook']),
                      len(failed), ' '.join('%.1f' % v for v in os.getloadavg())))
        print(summary)
        if self.args.report:
            with open(self.args.report, 'w') as handle:
                for at, kind, what, ok, detail in self.rows:
                    handle.write('%7.0f s  %-8s %-34s %-6s %s\n' % (at, kind, what, 'ok' if ok else 'FAILED', detail))
                handle.write(summary + '\n')
            print('report: %s' % self.args.report)
        return 1 if failed else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--collections-path', required=True)
    parser.add_argument('--seconds', type=float, default=900.0)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--report')
    args = parser.parse_args()
    soak = Soak(args)
    try:
        soak.start()
        print('soak: %.0f s against %s, state directory %s' % (args.seconds, soak.sim_url, soak.state_dir))
        return soak.run()
    finally:
        soak.stop()


if __name__ == '__main__':
    sys.exit(main())
