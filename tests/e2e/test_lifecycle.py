# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A room's whole lifecycle end to end: a notice to the room, a CDN stream added for a watch party (ZEGO's
stream_create callback carries its title), listed, then deleted; zego_stream state=present, zego_room_message,
the add_streams and notify_rooms playbooks, and the notice of kick_users and close_rooms. Bad input stops
before any request with a message that names the field; the ServerSecret and signatures never show up."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os
import threading

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from e2e_lib import (assert_modules_refuse, assert_playbook_refuses, collection_path, conn, module_task as task, play,
                     save_results)
from test_leaks import leaks

ROOMS = {
    'party': {'streams': [{'stream_id': 'cam_host', 'user_id': 'host'}], 'users': ['host', 'guest1', 'guest2']},
    'lobby': {'users': ['x']},
}


class Receiver(object):
    """The HTTP endpoint ZEGO's callbacks go to: records every body."""

    def __init__(self):
        self.bodies = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                receiver.bodies.append(json.loads(self.rfile.read(int(self.headers['Content-Length']))))
                self.send_response(200)
                self.send_header('Content-Length', '0')
                self.end_headers()

            def log_message(self, *args):  # pylint: disable=arguments-differ
                pass

        self.server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = 'http://127.0.0.1:%d/zego' % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    rec = Receiver()
    yield rec
    rec.close()


def test_watch_party_lifecycle(sim_factory, ansible, receiver, secret):
    sim = sim_factory('--rate', '0', '--list-room-interval', '0', '--callback-url', receiver.url,
                      '--callback-secret', 'cb-secret', '--callback-retry-scale', '0.01')
    sim.reset(ROOMS)
    add = conn(sim, room_id='party', stream_id='cdn_movie', title='Movie night', extra_info='{"src": "cdn"}',
               moderation_opt_out=True, state='present')
    tasks = [
        task('zego_room_message', 'notice', conn(sim, room_id='party', text='The movie starts in 1 minute')),
        task('zego_stream', 'add_check', add, check_mode=True, diff=True),
        task('zego_stream', 'add', add),
        task('zego_stream', 'add_again', add),
        task('zego_stream_info', 'listing', conn(sim, room_ids=['party'])),
        task('zego_room_message', 'command', conn(sim, room_id='party', kind='command', text='{"play": "cdn_movie"}',
                                                  to_user_ids=['guest1', 'guest2'])),
        task('zego_stream', 'remove', conn(sim, room_id='party', stream_id='cdn_movie')),
        task('zego_stream', 'remove_again', conn(sim, room_id='party', stream_id='cdn_movie')),
    ]
    names = ['notice', 'add_check', 'add', 'add_again', 'listing', 'command', 'remove', 'remove_again']
    run = ansible.run([play(tasks + [save_results(names)])], verbosity=4)
    res = run.results
    assert res is not None, run.output[-4000:]
    assert not [n for n in names if res[n].get('failed')], run.output[-4000:]
    assert res['notice']['changed'] and isinstance(res['notice']['rooms'][0]['message_id'], int)
    assert res['add_check']['changed'] and res['add_check']['stream']['attempts'] == 0
    assert res['add_check']['diff'] == {'before': {'party/cdn_movie': 'absent'}, 'after': {'party/cdn_movie': 'present'}}
    assert res['add']['changed'] and res['add']['stream']['outcome'] == 'added'
    assert not res['add_again']['changed'] and res['add_again']['stream']['outcome'] == 'already_present'
    listed = [s['stream_id'] for s in res['listing']['rooms'][0]['streams']]
    assert listed == ['cam_host', 'cdn_movie']
    assert res['command']['changed'] and res['command']['rooms'][0]['requests'] == 1
    assert res['remove']['changed'] and not res['remove_again']['changed']
    # the room: the notice and the command reached the users; the CDN stream came and went
    messages = sim.admin('GET', '/_sim/messages?room_id=party')['messages']
    assert [(m['kind'], m['content'], m['recipients']) for m in messages] == [
        ('broadcast', 'The movie starts in 1 minute', ['host', 'guest1', 'guest2']),
        ('command', '{"play": "cdn_movie"}', ['guest1', 'guest2'])]
    assert sim.state() == {'party': set(['cam_host']), 'lobby': set()}
    adds = [e for e in sim.log() if e['action'] == 'AddStream']
    assert len(adds) == 1 and (adds[0]['stream_title'], adds[0]['censor_flag']) == ('Movie night', '1')
    # ZEGO's callbacks: stream_create with the title and extra info, then stream_close by the server API (type 100)
    deadline = 50
    while deadline and len(receiver.bodies) < 2:
        threading.Event().wait(0.1)
        deadline -= 1
    events = [(b['event'], b['stream_id']) for b in receiver.bodies]
    assert events == [('stream_create', 'cdn_movie'), ('stream_close', 'cdn_movie')], receiver.bodies
    created, closed = receiver.bodies
    assert (created['title'], created['extra_info'], created['user_id']) == \
        ('Movie night', '{"src": "cdn"}', 'Server-Administrator')
    assert closed['type'] == '100'
    found, files = leaks(run, secret, [sim])
    assert files > 0 and not found, found


# (case, module, parameters besides the connection options, the field the message must name)
MODULE_CASES = [
    ('add: over-long title', 'zego_stream', {'room_id': 'party', 'stream_id': 's', 'state': 'present', 'title': 't' * 128},
     'title'),
    ('add: multibyte title over 127 bytes', 'zego_stream',
     {'room_id': 'party', 'stream_id': 's', 'state': 'present', 'title': u'\u4e2d' * 43}, 'title'),
    ('add: over-long extra_info', 'zego_stream',
     {'room_id': 'party', 'stream_id': 's', 'state': 'present', 'extra_info': 'e' * 1025}, 'extra_info'),
    ('add: over-long extra_info in a list', 'zego_stream', {'state': 'present', 'streams': [
        {'room_id': 'party', 'stream_id': 'a'}, {'room_id': 'party', 'stream_id': 'b', 'extra_info': 'e' * 1025}]},
     r'streams\[1\]\.extra_info'),
    ('add: illegal stream_id', 'zego_stream', {'room_id': 'party', 'stream_id': 'cdn feed', 'state': 'present'},
     'stream_id'),
    ('add: over-long stream_id', 'zego_stream', {'room_id': 'party', 'stream_id': 's' * 257, 'state': 'present'},
     'stream_id'),
    ('add: over-long room_id', 'zego_stream', {'room_id': 'r' * 129, 'stream_id': 's', 'state': 'present'}, 'room_id'),
    ('add: over-long user_id', 'zego_stream', {'room_id': 'party', 'stream_id': 's', 'state': 'present',
                                               'user_id': 'u' * 65}, 'user_id'),
    ('add: moderation_opt_out not a boolean', 'zego_stream',
     {'room_id': 'party', 'stream_id': 's', 'state': 'present', 'moderation_opt_out': 'perhaps'}, 'moderation_opt_out'),
    ('delete: title with state absent', 'zego_stream', {'room_id': 'party', 'stream_id': 's', 'title': 'x'}, 'title'),
    ('add: unknown state', 'zego_stream', {'room_id': 'party', 'stream_id': 's', 'state': 'live'}, 'state'),
    ('message: over-long', 'zego_room_message', {'room_id': 'party', 'text': 'm' * 1025}, 'text'),
    ('message: multibyte over 1024 bytes', 'zego_room_message', {'room_id': 'party', 'text': u'\u00e9' * 513},
     'text'),
    ('message: empty', 'zego_room_message', {'room_id': 'party', 'text': ''}, 'text'),
    ('message: unknown kind', 'zego_room_message', {'room_id': 'party', 'text': 'x', 'kind': 'shout'}, 'kind'),
    ('message: unknown category', 'zego_room_message', {'room_id': 'party', 'text': 'x', 'category': 'loud'},
     'category'),
    ('message: targets for a broadcast', 'zego_room_message', {'room_id': 'party', 'text': 'x', 'to_user_ids': ['a']},
     'to_user_ids'),
    ('message: illegal target', 'zego_room_message',
     {'room_id': 'party', 'text': 'x', 'kind': 'command', 'to_user_ids': ['ok', 'bad user']}, r'to_user_ids\[1\]'),
    ('message: over-long target', 'zego_room_message',
     {'room_id': 'party', 'text': 'x', 'kind': 'command', 'to_user_ids': ['u' * 65]}, r'to_user_ids\[0\]'),
    ('message: illegal room', 'zego_room_message', {'room_ids': ['party', 'a|b'], 'text': 'x'}, r'room_ids\[1\]'),
    ('message: over-long sender', 'zego_room_message', {'room_id': 'party', 'text': 'x', 'user_id': 'u' * 65},
     'user_id'),
    ('message: no room', 'zego_room_message', {'text': 'x'}, 'room_id'),
]

# (case, playbook, extra vars, the field the message must name)
PLAYBOOK_CASES = [
    ('add: nothing to add', 'add_streams.yml', {'room_id': '', 'stream_ids': ''}, 'stream_ids'),
    ('add: over-long title', 'add_streams.yml', {'room_id': 'party', 'stream_ids': 's', 'title': 't' * 128}, 'title'),
    ('add: over-long extra_info', 'add_streams.yml', {'room_id': 'party', 'stream_ids': 's', 'extra_info': 'e' * 1025},
     'extra_info'),
    ('add: bad stream in survey text', 'add_streams.yml', {'room_id': 'party', 'stream_ids': 'ok\nbad|id'},
     r'stream_ids\[1\]\.stream_id'),
    ('add: moderation_opt_out not a boolean', 'add_streams.yml',
     {'room_id': 'party', 'stream_ids': 's', 'moderation_opt_out': 'maybe'}, 'moderation_opt_out'),
    ('notify: no message', 'notify_rooms.yml', {'room_ids': 'party'}, 'message'),
    ('notify: over-long message', 'notify_rooms.yml', {'room_ids': 'party', 'message': 'm' * 1025}, 'message'),
    ('notify: unknown kind', 'notify_rooms.yml', {'room_ids': 'party', 'message': 'x', 'kind': 'shout'}, 'kind'),
    ('notify: targets for a broadcast', 'notify_rooms.yml', {'room_ids': 'party', 'message': 'x', 'to_user_ids': 'a'},
     'to_user_ids'),
    ('notify: bad room', 'notify_rooms.yml', {'room_ids': 'party\nbad|room', 'message': 'x'}, r'rooms\[1\]'),
    ('kick: over-long notice', 'kick_users.yml', {'room_id': 'party', 'user_ids': 'guest1', 'notice': 'n' * 1025},
     'notice'),
    ('close: notice_delay not a number', 'close_rooms.yml', {'room_ids': 'party', 'notice': 'x', 'notice_delay': 'soon'},
     'notice_delay'),
    ('close: notice_delay without a notice', 'close_rooms.yml', {'room_ids': 'party', 'notice_delay': 30},
     'notice_delay'),
]


def test_bad_input_modules(sim, ansible):
    sim.reset(ROOMS)
    assert_modules_refuse(sim, ansible, MODULE_CASES)
    assert sim.state()['party'] == set(['cam_host'])
    assert sim.admin('GET', '/_sim/messages')['messages'] == []


@pytest.mark.parametrize('case,playbook,extra,field', PLAYBOOK_CASES, ids=[c[0].replace(' ', '_') for c in PLAYBOOK_CASES])
def test_bad_input_playbooks(sim, ansible, case, playbook, extra, field):
    sim.reset(ROOMS)
    assert_playbook_refuses(sim, ansible, playbook, extra, field, case)


def test_close_rooms_with_a_notice_no_leaks(sim, ansible, secret):
    sim.reset(ROOMS)
    env = {'ZEGO_APP_ID': str(sim.app_id), 'ZEGO_SERVER_SECRET': secret, 'ZEGO_API_URL': sim.url}
    report = os.path.join(ansible.base, 'close.json')
    run = ansible.run(playbook=collection_path(ansible.root, 'playbooks', 'close_rooms.yml'), verbosity=4, env=env,
                      args=['-e', json.dumps({'room_ids': 'party lobby gone', 'notice': 'Closing for maintenance',
                                              'notice_delay': 1, 'report_path': report})])
    assert run.rc == 0, run.output[-3000:]
    # every notice before the first closing; a 206 that scheduling jitter can still cause at exactly CloseRoom's
    # 1/s is retried, so rate-limit answers are not counted
    actions = [e['action'] for e in sim.log() if e['action'] in ('SendBroadcastMessage', 'CloseRoom') and e['code'] != 206]
    assert actions == ['SendBroadcastMessage'] * 3 + ['CloseRoom'] * 3
    with open(report) as f:
        data = json.load(f)
    assert data['notice']['summary'] == {'total': 3, 'sent': 2, 'failed': 1, 'duplicates': 0}
    assert [r['outcome'] for r in data['notice']['rooms']] == ['sent', 'sent', 'failed']
    assert (data['summary']['closed'], data['summary']['already_absent']) == (2, 1)
    found, files = leaks(run, secret, [sim])
    assert files > 0 and not found, found
