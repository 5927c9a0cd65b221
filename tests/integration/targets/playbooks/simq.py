# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drive and inspect the ZEGO simulator from runme.sh: simq.py URL ACTION [ARG].

reset '{"room": ["stream", ...]}'   replace every room (and clear the log)
clear-log                           clear the request log
requests                            print how many API requests are in the log
streams ROOM                        print the stream IDs of ROOM, space separated
add-users '{"room": ["user", ...]}'  log users into rooms
users ROOM                          print the user IDs in ROOM, space separated
count ACTION                        print how many requests of ACTION are in the log
"""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import http.client
import json
import sys


def call(base, path, method='GET', body=None):
    conn = http.client.HTTPConnection(base.split('://', 1)[1], timeout=10)
    try:
        conn.request(method, '/_sim/' + path, body=None if body is None else json.dumps(body),
                     headers={'Content-Type': 'application/json'})
        resp = conn.getresponse()
        data = resp.read().decode('utf-8')
        if resp.status >= 300:
            raise SystemExit('%s /_sim/%s: HTTP %s %s' % (method, path, resp.status, data))
        return json.loads(data or 'null')
    finally:
        conn.close()


def main(base, action, arg=None):
    if action == 'reset':
        rooms = dict((room, [{'stream_id': s, 'user_id': 'u'} for s in streams])
                     for room, streams in json.loads(arg).items())
        call(base, 'reset', 'POST', {'rooms': rooms})
    elif action == 'clear-log':
        call(base, 'log', 'DELETE')
    elif action == 'requests':
        print(len(call(base, 'log')['entries']))
    elif action == 'streams':
        print(' '.join(s['stream_id'] for s in call(base, 'state')['rooms'].get(arg, [])))
    elif action == 'add-users':
        for room, users in json.loads(arg).items():
            call(base, 'users', 'POST', {'room_id': room, 'users': users})
    elif action == 'users':
        print(' '.join(u['user_id'] for u in call(base, 'users?room_id=' + arg)['users']))
    elif action == 'count':
        print(len([e for e in call(base, 'log')['entries'] if e['action'] == arg]))
    else:
        raise SystemExit('unknown action %s' % action)


if __name__ == '__main__':
    main(*sys.argv[1:])
