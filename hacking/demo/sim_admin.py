# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small client of the simulator's admin API for `make demo-eda`.

Usage: python sim_admin.py BASE_URL state
       python sim_admin.py BASE_URL publish ROOM STREAM USER
       python sim_admin.py BASE_URL wait-gone ROOM/STREAM...   (then waits for pending callbacks)
       python sim_admin.py BASE_URL callbacks
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
