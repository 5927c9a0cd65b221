# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small client of the simulator's admin API for `make demo-eda`.

Usage: python sim_admin.py BASE_URL state
       python sim_admin.py BASE_URL publish ROOM STREAM USER
       python sim_admin.py BASE_URL wait-gone ROOM/STREAM...   (then waits for pending callbacks)
       python sim_admin.py BASE_URL callbacks
       python sim_admin.py BASE_URL raid ROOM USER COUNT ALLOWED
           (COUNT streams of USER and ALLOWED of other users start within a second; waits until USER's
           are gone and says how long that took after the last callback)
"""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import sys
import time
import urllib.request

WAIT = 180


def call(base, method, path, body=None):
    data = None if body is None else json.dumps(body).encode('utf-8')
    req = urllib.request.Request(base + '/_sim/' + path, data=data, method=method,
                                 headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.load(resp)


def rooms(base):
    return dict((r, [s['stream_id'] for s in streams]) for r, streams in call(base, 'GET', 'state')['rooms'].items())


def raid(base, room, user, count, allowed):
    banned = ['%s_%02d' % (user, i) for i in range(count)]
    others = ['fan_%02d' % i for i in range(allowed)]
    order = []
    every = max(count // max(allowed, 1), 1)
    for i, stream in enumerate(banned):
        order.append((stream, user))
        if i % every == 0 and others:
            order.append((others.pop(0), 'fan%d' % i))
    order.extend((other, 'fan') for other in others)
    start = time.monotonic()
    for i, (stream, who) in enumerate(order):
        time.sleep(max(0.0, start + 0.9 * i / max(len(order) - 1, 1) - time.monotonic()))
        call(base, 'POST', 'publish', {'room_id': room, 'stream_id': stream, 'user_id': who})
    print('  %d streams of %s and %d of other users started in %.1f s' % (
        count, user, len(order) - count, time.monotonic() - start))
    deadline = time.monotonic() + WAIT
    while [s for s in rooms(base).get(room, []) if s in banned]:
        if time.monotonic() > deadline:
            print('  still there after %d s' % WAIT)
            return 1
        time.sleep(0.1)
    deliveries = [d for d in call(base, 'GET', 'callbacks')['deliveries']
                  if d['event'] == 'stream_create' and d['stream_id'] in banned and d['outcome'] == 'delivered']
    done = [e['time'] for e in call(base, 'GET', 'log')['entries']
            if e['action'].startswith('ForbidRTCStream') or e['action'] == 'DeleteStream']
    left = rooms(base).get(room, [])
    print('  all %d banned and deleted %.1f s after the last callback; still on air in %s: %s' % (
        count, max(done) - max(d['at'] for d in deliveries), room, ', '.join(sorted(left)) or '-'))
    return 0


def main():
    base, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    if cmd == 'state':
        for room, streams in sorted(rooms(base).items()):
            print('  %-16s %s' % (room, ', '.join(streams) or '(no streams)'))
    elif cmd == 'publish':
        call(base, 'POST', 'publish', {'room_id': args[0], 'stream_id': args[1], 'user_id': args[2]})
    elif cmd == 'wait-gone':
        deadline = time.monotonic() + WAIT
        wanted = [a.split('/', 1) for a in args]
        while True:
            now = rooms(base)
            left = [r + '/' + s for r, s in wanted if s in now.get(r, [])]
            pending = call(base, 'GET', 'callbacks')['pending']
            if not left and not pending:
                return 0
            if time.monotonic() > deadline:
                print('still there after %d s: %s' % (WAIT, ', '.join(left) or '(callbacks pending)'))
                return 1
            time.sleep(0.2)
    elif cmd == 'raid':
        return raid(base, args[0], args[1], int(args[2]), int(args[3]))
    elif cmd == 'callbacks':
        for d in call(base, 'GET', 'callbacks')['deliveries']:
            print('  %-13s %-16s %-12s %-9s attempt %d -> HTTP %s' % (
                d['event'], d['room_id'], d['stream_id'], 'type ' + d['type'] if d['type'] else '',
                d['attempt'], d['status'] if d['status'] is not None else d['error']))
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
