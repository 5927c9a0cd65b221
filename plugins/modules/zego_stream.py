#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: zego_stream
short_description: Remove streams from ZEGO RTC rooms (DeleteStream) or add them (AddStream), one or thousands per task
version_added: 1.0.0
description:
  - With O(state=absent) (the default), removes a stream from a ZEGO RTC room with ZEGO's C(DeleteStream) server
    API. This forces a user "off mic", or drops a CDN stream that was added to the room.
  - Idempotent. A stream that is deleted reports C(changed); a stream that is already gone (ZEGO code 138)
    or whose room no longer exists (codes 104, 5024, 50001) reports C(ok).
  - With O(state=present), adds the streams that are not in their room with ZEGO's C(AddStream), for example a
    CDN stream for a watch-together party. Each distinct room is listed once first (C(DescribeSimpleStreamList));
    a listed stream reports V(already_present) (C(ok)) and is not sent; an added one reports V(added)
    (C(changed)). The room must exist (have users), as C(AddStream) cannot create one; a stream for a room that
    does not exist fails with a message that says so. ZEGO's list does not return title or extra info, so a
    listed stream whose title differs is not changed.
  - Takes one stream (O(room_id) and O(stream_id)) or a list (O(streams)). A list is validated as a whole
    before the first request, duplicates are sent once, and every stream is attempted even if some fail;
    the task then fails at the end and still reports every stream.
  - Requests are paced to O(rate_limit) across all tasks and forks of this controller (with
    O(rate_limit_backend), across every host that uses the same store), as many are kept in flight as the
    rate needs at ZEGO's answer time (at most O(concurrency)), and retryable failures are retried with back-off.
author:
  - zego.rtc maintainers (@zego-rtc)
extends_documentation_fragment:
  - zego.rtc.api
options:
  room_id:
    description:
      - The room that holds the stream. At most 128 bytes.
      - Required with O(stream_id); mutually exclusive with O(streams).
    type: str
  stream_id:
    description:
      - The stream to remove. At most 256 bytes of letters, digits, C(-) and C(_).
      - Required with O(room_id); mutually exclusive with O(streams).
    type: str
  user_id:
    description:
      - The UserId that ZEGO records as performing the deletion (O(state=absent)) or that an added stream belongs
        to (O(state=present)), and the default for items of O(streams) that set none.
      - Use a server identity, never the ID of a user who is in the room. With O(state=absent) that user's client
        would not be notified; with O(state=present), ZEGO deletes the added stream when that user stops
        publishing or leaves the room. At most 64 bytes.
    type: str
    default: Server-Administrator
  user_name:
    description:
      - Optional UserName sent with O(user_id). At most 256 bytes.
    type: str
  title:
    description:
      - With O(state=present), the title (C(StreamTitle)) of the added streams, and the default for items of
        O(streams) that set none. At most 127 bytes.
    type: str
    version_added: 1.2.0
  extra_info:
    description:
      - With O(state=present), the extra info (C(ExtraInfo)) of the added streams, and the default for items of
        O(streams) that set none. At most 1024 bytes.
    type: str
    version_added: 1.2.0
  moderation_opt_out:
    description:
      - With O(state=present), V(true) keeps the added streams out of ZEGO's content moderation (C(CensorFlag=1));
        V(false) lets ZEGO moderate them (C(CensorFlag=0), ZEGO's default). Unset, no C(CensorFlag) is sent.
        The default for items of O(streams) that set none.
    type: bool
    version_added: 1.2.0
  streams:
    description:
      - Many streams in one task. Mutually exclusive with O(room_id) and O(stream_id).
      - An empty list does nothing.
    type: list
    elements: dict
    suboptions:
      room_id:
        description: The room that holds the stream.
        type: str
        required: true
      stream_id:
        description: The stream to remove.
        type: str
        required: true
      user_id:
        description: Overrides O(user_id) for this stream.
        type: str
      user_name:
        description: Overrides O(user_name) for this stream.
        type: str
      title:
        description: Overrides O(title) for this stream (O(state=present)).
        type: str
        version_added: 1.2.0
      extra_info:
        description: Overrides O(extra_info) for this stream (O(state=present)).
        type: str
        version_added: 1.2.0
      moderation_opt_out:
        description: Overrides O(moderation_opt_out) for this stream (O(state=present)).
        type: bool
        version_added: 1.2.0
  state:
    description:
      - V(absent) removes the streams (C(DeleteStream)); V(present) adds those not in their room (C(AddStream)).
      - O(title), O(extra_info) and O(moderation_opt_out) apply to V(present) only; with V(absent) they are refused.
    type: str
    choices: [absent, present]
    default: absent
  concurrency:
    description:
      - The most DeleteStream (or AddStream) requests in flight at once (worker threads sharing keep-alive connections).
        Pacing to O(rate_limit) applies regardless.
      - Keeping the rate up needs about the rate times ZEGO's answer time in flight. Until the first answer the
        module keeps what the rate needs at a 1 s answer time (11 at 10 per second), then what the configured
        rate needs at the observed answer time, with a margin of half as much
        again plus one (10 per second at 800 ms answers, 13). This option caps that number; without it the
        cap is 32. Between 1 and 32.
    type: int
attributes:
  check_mode:
    support: full
    details:
      - Never sends DeleteStream or AddStream. Lists each distinct room once with DescribeSimpleStreamList (ZEGO
        allows one list call per room every 10 seconds; the module waits rather than exceed it) and predicts every
        stream exactly. With O(state=present) it also counts the users of the rooms whose list is empty
        (C(DescribeUserNum), ten rooms per request), so a stream for a room that does not exist fails in check
        mode as it would for real.
  diff_mode:
    support: full
    details:
      - Shows each stream as V(present) before and V(absent) after (O(state=absent)), or V(absent) before and
        V(present) after (O(state=present)); a stream that is already as wanted shows the same before and after.
  idempotent:
    support: full
  action_group:
    support: full
    membership:
      - zego.rtc.zego
  platform:
    support: full
    platforms: posix
notes:
  - DeleteStream only signals the room; the publisher's client must stop publishing on its own
    (C(stopPublishingStream)), and viewers stop playing on their own.
  - ZEGO allows 10 DeleteStream requests per second per AppID (1 per second in the test environment), as many
    AddStream requests, and one DescribeSimpleStreamList call per room every 10 seconds.
  - C(AddStream) only tells the room that a stream exists; it publishes no media. Remove the stream with
    O(state=absent) when it is no longer wanted.
  - If an answer is lost (time-out, connection dropped) and the retry then says the stream does not exist, the
    lost attempt most likely deleted it; the stream is reported as V(deleted) with RV(stream.response_lost=true).
seealso:
  - name: DeleteStream (ZEGO documentation)
    description: ZEGO's reference for the API this module calls with O(state=absent).
    link: https://www.zegocloud.com/docs/real-time-video-server/api-reference/room/delete-stream
  - name: AddStream (ZEGO documentation)
    description: ZEGO's reference for the API this module calls with O(state=present).
    link: https://www.zegocloud.com/docs/real-time-video-server/api-reference/room/add-stream
  - name: Calling ZEGO server APIs
    description: Signing, common parameters and regional hosts.
    link: https://www.zegocloud.com/docs/real-time-video-server/api-reference/accessing-server-apis
  - name: ZEGO return codes
    description: The meaning of every code a result can carry.
    link: https://www.zegocloud.com/docs/real-time-video-server/api-reference/return-codes
'''

EXAMPLES = r'''
- name: Force a user off mic
  zego.rtc.zego_stream:
    app_id: 1234567890
    server_secret: "{{ zego_server_secret }}"
    room_id: room1
    stream_id: stream1
    state: absent
  delegate_to: localhost

- name: Many streams in one task (validated as a whole before the first request)
  zego.rtc.zego_stream:
    streams:
      - {room_id: room1, stream_id: s1}
      - {room_id: room2, stream_id: s9, user_id: moderation-bot}
    state: absent
  register: cleanup

- name: Show what was done
  ansible.builtin.debug:
    var: cleanup.summary

- name: Connection options once for every zego.rtc task; credentials from ZEGO_APP_ID / ZEGO_SERVER_SECRET
  module_defaults:
    group/zego.rtc.zego:
      api_url: https://rtc-api-fra.zego.im
      rate_limit: 5
  block:
    - name: Drop the CDN stream from the watch-party room
      zego.rtc.zego_stream:
        room_id: watch-party-42
        stream_id: cdn_feed_1

- name: Add a CDN stream to the watch party (nothing is sent if it is there already)
  zego.rtc.zego_stream:
    room_id: watch-party-42
    stream_id: cdn_feed_1
    title: Movie night
    extra_info: '{"source": "cdn"}'
    state: present

- name: Dry run - lists each room once and reports exactly what would be deleted
  zego.rtc.zego_stream:
    streams: "{{ streams_to_remove }}"
  check_mode: true
  diff: true
'''

RETURN = r'''
stream:
  description: The outcome for the one stream, when O(room_id) and O(stream_id) are used.
  returned: single stream
  type: dict
  contains:
    room_id:
      description: The room.
      type: str
      sample: room1
    stream_id:
      description: The stream.
      type: str
      sample: stream1
    user_id:
      description: The UserId sent to ZEGO.
      type: str
      sample: Server-Administrator
    outcome:
      description:
        - V(deleted) (the stream was removed; in check mode, would be removed), V(already_absent) (nothing
          to do), or V(failed).
        - With O(state=present), V(added) (in check mode, would be added), V(already_present) (nothing to do),
          or V(failed).
      type: str
      sample: deleted
    code:
      description: ZEGO's return code of the last answer (V(null) in check mode or when no answer came).
      type: int
      sample: 0
    message:
      description: ZEGO's message, or what happened.
      type: str
      sample: success
    request_id:
      description: ZEGO's RequestId of the last answer, for ZEGO support.
      type: str
      sample: "5885338326725063742"
    attempts:
      description: Requests sent for this stream (0 in check mode).
      type: int
      sample: 1
    response_lost:
      description: An earlier attempt got no answer and may have been the one that deleted (or added) the stream.
      type: bool
      sample: false
    stopped_batch:
      description:
        - V(true) when this stream's failure stopped the batch (an error every further request would get, such as
          rejected credentials, no permission, or an API that cannot be reached); the streams after it were not
          attempted and report so in their message.
      type: bool
      sample: false
      version_added: 1.1.0
    error:
      description: Why the stream failed; only when RV(stream.outcome=failed).
      type: dict
      returned: on failure
      contains:
        code:
          description: ZEGO's code, or V(-1) no connection or answer, V(-2) HTTP error, V(-3) not ZEGO JSON.
          type: int
        message:
          description: What went wrong and what to check.
          type: str
        request_id:
          description: ZEGO's RequestId, if any.
          type: str
        action:
          description: The ZEGO action that failed.
          type: str
  sample:
    room_id: room1
    stream_id: stream1
    user_id: Server-Administrator
    outcome: deleted
    code: 0
    message: success
    request_id: "5885338326725063742"
    attempts: 1
    response_lost: false
    stopped_batch: false
streams:
  description: One outcome per distinct stream, in input order, each shaped like RV(stream).
  returned: when O(streams) is used
  type: list
  elements: dict
  sample:
    - room_id: room1
      stream_id: s1
      user_id: Server-Administrator
      outcome: deleted
      code: 0
      message: success
      request_id: "5885338326725063742"
      attempts: 1
      response_lost: false
      stopped_batch: false
summary:
  description: Counts over the distinct streams.
  returned: when O(streams) is used
  type: dict
  contains:
    total:
      description: Distinct streams.
      type: int
    deleted:
      description: Streams removed (in check mode, that would be removed). O(state=absent) only.
      type: int
    already_absent:
      description: Streams that were already gone. O(state=absent) only.
      type: int
    added:
      description: Streams added (in check mode, that would be added). O(state=present) only.
      type: int
      version_added: 1.2.0
    already_present:
      description: Streams that were already in their room. O(state=present) only.
      type: int
      version_added: 1.2.0
    failed:
      description: Streams that could not be handled.
      type: int
    duplicates:
      description: Input items that repeated an earlier room and stream and were not sent again.
      type: int
  sample: {total: 3, deleted: 2, already_absent: 1, failed: 0, duplicates: 0}
'''

import math

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.zego.rtc.plugins.module_utils.api import (
    DEFAULT_USER_ID,
    DESCRIBE_USER_NUM_MAX_ROOMS,
    OK,
    RATE_SAFETY,
    ROOM_MISSING_CODES,
    STREAM_MISSING,
    ZegoError,
    describe_code,
)
from ansible_collections.zego.rtc.plugins.module_utils.ratelimit import InFlight, run_in_flight
from ansible_collections.zego.rtc.plugins.module_utils.base import (
    MAX_CONCURRENCY,
    ZegoModule,
    check_id,
    zego_argument_spec,
)
# a failure every further request would get (batch.FATAL_CODES, an unreachable API) stops the batch
from ansible_collections.zego.rtc.plugins.module_utils.batch import Abort, chunks
from ansible_collections.zego.rtc.plugins.module_utils.text_limits import check_text

# what state=present sends besides the IDs, each an option and a field of O(streams) items
ADD_FIELDS = ('title', 'extra_info', 'moderation_opt_out')
# AddStream's answer when another request works on the same stream; after a lost answer, the lost attempt
# most likely added it
SAME_STREAM_BUSY = 1012
ROOM_GONE = ('room %s does not exist (it has no users): AddStream cannot create a room')

# Requests in flight before ZEGO's answer time is known: what the rate needs if answers took this long
# (then: what it needs at the measured answer time). Extra workers only wait for their slots.
INITIAL_LATENCY = 1.0


class ZegoStream(ZegoModule):

    def collect(self):
        """Validate every input and return the distinct streams, before any API call."""
        p = self.params
        errors = []
        if p['streams'] is None:
            raw = [{'room_id': p['room_id'], 'stream_id': p['stream_id'], 'user_id': None, 'user_name': None}]
            where = [None]
        else:
            raw = p['streams']
            where = ['streams[%d]' % i for i in range(len(raw))]
        for field in ('user_id', 'user_name'):
            err = check_id(field, p[field])
            if err:
                errors.append(err)
        present = p['state'] == 'present'
        for field in ADD_FIELDS:
            given = [p[field]] + [item.get(field) for item in raw if p['streams'] is not None]
            if not present and any(v is not None for v in given):
                errors.append('%s applies only with state=present (state is absent)' % field)
        for field in ('title', 'extra_info'):
            err = check_text(field, p[field])
            if err:
                errors.append(err)
        items = []
        seen = set()
        duplicates = 0
        for loc, item in zip(where, raw):
            entry = {
                'room_id': item['room_id'],
                'stream_id': item['stream_id'],
                'user_id': item.get('user_id') or p['user_id'],
                'user_name': item.get('user_name') if item.get('user_name') is not None else p['user_name'],
            }
            bad = [e for e in (check_id(f, item.get(f), loc) for f in ('room_id', 'stream_id', 'user_id', 'user_name')) if e]
            if present:
                for f in ADD_FIELDS:
                    entry[f] = item.get(f) if item.get(f) is not None else p[f]
                bad += [e for e in (check_text(f, item.get(f), '%s.%s' % (loc, f) if loc else f)
                                    for f in ('title', 'extra_info')) if e]
            for f in ('room_id', 'stream_id'):
                if item.get(f) is None:
                    bad.append('%s is required' % ('%s.%s' % (loc, f) if loc else f))
            if bad:
                errors.extend(bad)
                continue
            key = (entry['room_id'], entry['stream_id'])
            if key in seen:
                duplicates += 1
                continue
            seen.add(key)
            items.append(entry)
        self.validate(errors)
        return items, duplicates

    # -- real run --------------------------------------------------------------------------------
    def delete_one(self, item, abort):
        res = self.result_of(item)
        if abort.error is not None:
            error = abort.not_attempted()
            res.update(code=error['code'], message=error['message'], error=error)
            return res
        try:
            reply = self.client.delete_stream(item['room_id'], item['stream_id'], item['user_id'], item['user_name'])
        except ZegoError as exc:
            res.update(code=exc.code, message=exc.message, request_id=exc.request_id, attempts=exc.attempts,
                       response_lost=exc.response_lost, error=exc.to_dict())
            # the API cannot be reached (or its certificate is not trusted): stop the batch
            res['stopped_batch'] = abort.note(exc.to_dict(), exc)
            return res
        # An earlier lost answer only matters when this answer does not prove who deleted the stream:
        # after code 0, this request did it; after 138, the lost attempt probably did.
        res.update(code=reply.code, message=reply.message, request_id=reply.request_id, attempts=reply.attempts,
                   response_lost=reply.response_lost and reply.code != OK)
        if reply.code == OK:
            res['outcome'] = 'deleted'
        elif reply.code == STREAM_MISSING or reply.code in ROOM_MISSING_CODES:
            res['outcome'] = 'deleted' if reply.response_lost else 'already_absent'
        else:
            err = ZegoError(describe_code(reply.code, reply.message), code=reply.code, request_id=reply.request_id, action='DeleteStream')
            res['error'] = err.to_dict()
            res['message'] = err.message
            res['stopped_batch'] = abort.note(err.to_dict(), reply.code)
        return res

    @staticmethod
    def result_of(item, **fields):
        """The result of one stream: its IDs and user, before any answer (ZEGO's inputs beyond those stay out)."""
        res = dict((k, item[k]) for k in ('room_id', 'stream_id', 'user_id'))
        res.update(outcome='failed', code=None, message=None, request_id=None, attempts=0, response_lost=False,
                   stopped_batch=False)
        res.update(fields)
        return res

    def add_one(self, item, abort):
        res = self.result_of(item)
        if abort.error is not None:
            error = abort.not_attempted()
            res.update(code=error['code'], message=error['message'], error=error)
            return res
        try:
            reply = self.client.add_stream(item['room_id'], item['stream_id'], item['user_id'], item['user_name'],
                                           item['title'], item['extra_info'], item['moderation_opt_out'])
        except ZegoError as exc:
            res.update(code=exc.code, message=exc.message, request_id=exc.request_id, attempts=exc.attempts,
                       response_lost=exc.response_lost, error=exc.to_dict())
            res['stopped_batch'] = abort.note(exc.to_dict(), exc)
            return res
        res.update(code=reply.code, message=reply.message, request_id=reply.request_id, attempts=reply.attempts,
                   response_lost=reply.response_lost and reply.code != OK)
        if reply.code == OK or (reply.code == SAME_STREAM_BUSY and reply.response_lost):
            res['outcome'] = 'added'
            return res
        text = describe_code(reply.code, reply.message)
        if reply.code in ROOM_MISSING_CODES:
            text = '%s (%s)' % (ROOM_GONE % item['room_id'], text)
        err = ZegoError(text, code=reply.code, request_id=reply.request_id, action='AddStream')
        res.update(error=err.to_dict(), message=err.message, stopped_batch=abort.note(err.to_dict(), reply.code))
        return res

    def max_in_flight(self):
        return self.params['concurrency'] or MAX_CONCURRENCY

    def send_all(self, action, items, one):
        """``one(item, abort)`` for every item on as many threads as ``action``'s rate needs."""
        abort = Abort()
        client = self.client  # built (and the shared store connected) before the first request
        client.expect(action, len(items))
        cap = min(self.max_in_flight(), max(len(items), 1))
        if cap <= 1:
            return [one(item, abort) for item in items]
        # what the configured rate needs: while the pace is lower (slow start, after rate-limit answers) the
        # extra workers only wait for their slots, and the rate can come back without waiting for them
        rate = client.rate_for(action) * RATE_SAFETY
        initial = int(math.ceil(rate * INITIAL_LATENCY)) + 1
        in_flight = InFlight(cap, rate=lambda: rate, latency=lambda: client.latency, initial=initial)
        return run_in_flight(items, lambda item: one(item, abort), in_flight)

    def delete_all(self, items):
        return self.send_all('DeleteStream', items, self.delete_one)

    # -- state=present -----------------------------------------------------------------------------
    def list_rooms(self, items):
        """{room: (stream IDs, request_id, ZegoError or None, exists)} from one list call per distinct room;
        ``exists`` is False when ZEGO said the room does not exist, None when the list could not tell."""
        rooms = {}
        for item in items:
            rooms.setdefault(item['room_id'], None)
        for room in rooms:
            try:
                streams, reply = self.client.describe_stream_list(room)
                ids = set(s['stream_id'] for s in streams)
                exists = False if reply.code in ROOM_MISSING_CODES else (True if ids else None)
                rooms[room] = (ids, reply.request_id, None, exists)
            except ZegoError as exc:
                rooms[room] = (None, exc.request_id, exc, None)
        return rooms

    def count_users(self, rooms):
        """Check mode: whether each room whose list could not tell exists (it has users), by DescribeUserNum."""
        unknown = [room for room, (ids, dummy, exc, exists) in rooms.items() if exc is None and exists is None]
        for part in chunks(unknown, DESCRIBE_USER_NUM_MAX_ROOMS):
            try:
                counts, dummy = self.client.describe_user_num(part)
            except ZegoError as exc:
                for room in part:
                    rooms[room] = rooms[room][:2] + (exc, None)
                continue
            for room in part:
                rooms[room] = rooms[room][:3] + (counts[room]['user_count'] > 0,)

    def present(self, items):
        rooms = self.list_rooms(items)
        if self.module.check_mode:
            self.count_users(rooms)
        results, todo = [], []
        for item in items:
            ids, request_id, exc, exists = rooms[item['room_id']]
            res = self.result_of(item, request_id=request_id)
            if exc is not None:
                res.update(message='could not list the room: %s' % exc.message, error=exc.to_dict())
            elif item['stream_id'] in ids:
                res.update(outcome='already_present', message='the stream is in the room already')
            elif exists is False:
                res.update(message=ROOM_GONE % item['room_id'], error={
                    'code': None, 'message': ROOM_GONE % item['room_id'], 'request_id': request_id, 'action': 'AddStream'})
            elif self.module.check_mode:
                res.update(outcome='added', message='check mode: the stream is not in the room and would be added')
            else:
                res = None
                todo.append(item)
            results.append(res)
        added = iter(self.send_all('AddStream', todo, self.add_one) if todo else [])
        return [res if res is not None else next(added) for res in results]

    # -- check mode ------------------------------------------------------------------------------
    def predict_all(self, items):
        rooms = {}
        for item in items:
            rooms.setdefault(item['room_id'], None)
        for room in rooms:
            try:
                streams, reply = self.client.describe_stream_list(room)
                rooms[room] = (set(s['stream_id'] for s in streams), reply.request_id, None)
            except ZegoError as exc:
                rooms[room] = (None, exc.request_id, exc)
        results = []
        for item in items:
            present, request_id, exc = rooms[item['room_id']]
            res = self.result_of(item, code=None, request_id=request_id)
            if exc is not None:
                res.update(outcome='failed', message='could not list the room: %s' % exc.message, error=exc.to_dict())
            elif item['stream_id'] in present:
                res.update(outcome='deleted', message='check mode: the stream is present and would be deleted')
            else:
                res.update(outcome='already_absent', message='check mode: the stream is not in the room')
            results.append(res)
        return results

    # -- the run ---------------------------------------------------------------------------------
    def run(self):
        items, duplicates = self.collect()
        state = self.params['state']
        changed, unchanged = ('added', 'already_present') if state == 'present' else ('deleted', 'already_absent')
        if not items:
            results = []
        elif state == 'present':
            results = self.present(items)
        elif self.module.check_mode:
            results = self.predict_all(items)
        else:
            results = self.delete_all(items)
        summary = {'total': len(results), changed: 0, unchanged: 0, 'failed': 0, 'duplicates': duplicates}
        for res in results:
            summary[res['outcome']] += 1
        self.result['changed'] = summary[changed] > 0
        if self.module._diff:
            before, after = {}, {}
            other = 'absent' if state == 'present' else 'present'
            for res in results:
                if res['outcome'] == 'failed':
                    continue
                key = '%s/%s' % (res['room_id'], res['stream_id'])
                before[key] = other if res['outcome'] == changed else state
                after[key] = state
            self.result['diff'] = {'before': before, 'after': after}
        if self.params['streams'] is None:
            self.result['stream'] = results[0]
        else:
            self.result['streams'] = results
            self.result['summary'] = summary
        failed = [r for r in results if r['outcome'] == 'failed']
        if failed and self.params['streams'] is None:
            self.fail('%s/%s: %s' % (failed[0]['room_id'], failed[0]['stream_id'], failed[0]['message']))
        if failed:
            shown = '; '.join('%s/%s: %s' % (r['room_id'], r['stream_id'], r['message']) for r in failed[:5])
            more = ' (and %d more)' % (len(failed) - 5) if len(failed) > 5 else ''
            self.fail('%d of %d streams failed: %s%s' % (len(failed), len(results), shown, more))
        self.exit()


def main():
    module = AnsibleModule(
        argument_spec=zego_argument_spec(
            room_id=dict(type='str'),
            stream_id=dict(type='str'),
            user_id=dict(type='str', default=DEFAULT_USER_ID),
            user_name=dict(type='str'),
            streams=dict(type='list', elements='dict', options=dict(
                room_id=dict(type='str', required=True),
                stream_id=dict(type='str', required=True),
                user_id=dict(type='str'),
                user_name=dict(type='str'),
                title=dict(type='str'),
                extra_info=dict(type='str'),
                moderation_opt_out=dict(type='bool'),
            )),
            title=dict(type='str'),
            extra_info=dict(type='str'),
            moderation_opt_out=dict(type='bool'),
            state=dict(type='str', default='absent', choices=['absent', 'present']),
            concurrency=dict(type='int'),
        ),
        mutually_exclusive=[('room_id', 'streams'), ('stream_id', 'streams')],
        required_together=[('room_id', 'stream_id')],
        required_one_of=[('stream_id', 'streams')],
        supports_check_mode=True,
    )
    ZegoStream(module).execute()


if __name__ == '__main__':
    main()
