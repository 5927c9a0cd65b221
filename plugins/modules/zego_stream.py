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
  - zego.rtc.batch
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

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.zego.rtc.plugins.module_utils.actions import (
    ADD_STREAM,
    COUNT_USERS,
    DEFAULT_USER_ID,
    DELETE_STREAM,
    LIST_STREAMS,
)
from ansible_collections.zego.rtc.plugins.module_utils.base import batch_argument_spec, check_id
from ansible_collections.zego.rtc.plugins.module_utils.batch import BatchModule
from ansible_collections.zego.rtc.plugins.module_utils.codes import ROOM_MISSING_CODES
from ansible_collections.zego.rtc.plugins.module_utils.text_limits import check_text

# what state=present sends besides the IDs: options, and fields of O(streams) items
ADD_FIELDS = ('title', 'extra_info', 'moderation_opt_out')
# AddStream's answer when another request works on the same stream; after a lost answer, the lost attempt
# most likely added it
SAME_STREAM_BUSY = 1012
NO_ROOM = 'room %s does not exist (it has no users): AddStream cannot create a room'


class ZegoStream(BatchModule):
    ITEM, ITEMS, NOUN = 'stream', 'streams', 'streams'
    OUTCOMES = ('deleted', 'already_absent', 'failed')
    FIELDS = {'attempts': 0, 'response_lost': False}
    PRIVATE = ('user_name',)
    SINGLE_SUMMARY = False

    def __init__(self, module):
        super(ZegoStream, self).__init__(module)
        self.present = self.params['state'] == 'present'
        if self.present:
            self.OUTCOMES, self.UNCHANGED = ('added', 'already_present', 'failed'), ('already_present', 'failed')
            self.DIFF, self.PRIVATE = ('absent', 'present'), ('user_name',) + ADD_FIELDS

    def single(self):
        return self.params['streams'] is None

    def label(self, item):
        return '%s/%s' % (item['room_id'], item['stream_id'])

    def collect(self):
        p = self.params
        if self.single():
            raw, where = [{'room_id': p['room_id'], 'stream_id': p['stream_id']}], [None]
        else:
            raw, where = p['streams'], ['streams[%d]' % i for i in range(len(p['streams']))]
        errors = [e for e in (check_id(f, p[f]) for f in ('user_id', 'user_name')) if e]
        errors += [e for e in (check_text(f, p[f]) for f in ('title', 'extra_info')) if e]
        extra = self.present and ADD_FIELDS or ()
        errors += ['%s applies only with state=present (state is absent)' % f for f in ADD_FIELDS
                   if not self.present and any(v.get(f) is not None for v in [p] + list(raw))]
        items, seen, duplicates = [], set(), 0
        for loc, item in zip(where, raw):
            fields = ('room_id', 'stream_id', 'user_id', 'user_name')
            bad = [e for e in (check_id(f, item.get(f), loc) for f in fields) if e]
            bad += [e for e in (check_text(f, item.get(f), '%s.%s' % (loc, f)) for f in extra[:2] if loc) if e]
            bad += ['%s is required' % ('%s.%s' % (loc, f) if loc else f) for f in fields[:2] if item.get(f) is None]
            if bad:
                errors.extend(bad)
                continue
            key = (item['room_id'], item['stream_id'])
            if key in seen:
                duplicates += 1
                continue
            seen.add(key)
            entry = dict((f, item.get(f) if item.get(f) is not None else p[f]) for f in fields[2:] + extra)
            entry.update(room_id=item['room_id'], stream_id=item['stream_id'], user_id=item.get('user_id') or p['user_id'])
            items.append(entry)
        return items, duplicates, errors

    def plan(self, items):
        """state=present: list each room once; a listed stream is already present, the others are to add. In check
        mode, the rooms whose list is empty are asked whether they exist (have users), as AddStream would say."""
        if not self.present:
            return items
        todo, rooms = [], {}
        for request, streams, reply in self.read(LIST_STREAMS, items, 'list the room'):
            listed = set(s['stream_id'] for s in streams)
            for item in request.records:
                item['request_id'] = reply.request_id
                if item['stream_id'] in listed:
                    item.update(outcome='already_present', message='the stream is in the room already')
                elif reply.code in ROOM_MISSING_CODES:
                    self.no_room([item], reply.code, reply.request_id)
                else:
                    todo.append(item)
                    if not listed and self.module.check_mode:
                        rooms.setdefault(item['room_id'], {'room_id': item['room_id']})
        for request, counts, reply in self.read(COUNT_USERS, list(rooms.values()), 'count the users'):
            for room in request.records:
                room['user_count'] = counts[room['room_id']]['user_count']
        for item in todo:
            room = rooms.get(item['room_id'], {})
            if room.get('outcome') == 'failed':
                self.fail_items([item], room['error'], message=room['message'])
            elif room.get('user_count') == 0:
                self.no_room([item], None, room.get('request_id'))
        return [item for item in todo if item['outcome'] != 'failed']

    def no_room(self, items, code, request_id):
        for item in items:
            error = {'code': code, 'message': NO_ROOM % item['room_id'], 'request_id': request_id, 'action': 'AddStream'}
            self.fail_items([item], error)

    def predict(self, todo):
        if not self.present:
            return self.predict_absent(todo)
        for item in todo:
            item['message'] = 'check mode: the stream is not in the room and would be added'

    def predict_absent(self, todo):
        for request, streams, reply in self.read(LIST_STREAMS, todo, 'list the room'):
            present = set(s['stream_id'] for s in streams)
            for item in request.records:
                item['request_id'] = reply.request_id
                if item['stream_id'] in present:
                    item['message'] = 'check mode: the stream is present and would be deleted'
                else:
                    item.update(outcome='already_absent', message='check mode: the stream is not in the room')

    def requests(self, todo):
        return self.group(ADD_STREAM if self.present else DELETE_STREAM, todo)

    def send(self, request):
        super(ZegoStream, self).send(request)
        for item in request.records:
            if item['code'] == SAME_STREAM_BUSY and item['response_lost'] and self.present:
                # the answer to an earlier attempt was lost: that attempt most likely added the stream
                item.pop('error', None)
                item.update(outcome='added', message='added (an earlier attempt whose answer was lost added it)')


def main():
    module = AnsibleModule(
        argument_spec=batch_argument_spec(
            room_id=dict(type='str'),
            stream_id=dict(type='str'),
            user_id=dict(type='str', default=DEFAULT_USER_ID),
            user_name=dict(type='str'),
            title=dict(type='str'),
            extra_info=dict(type='str'),
            moderation_opt_out=dict(type='bool'),
            streams=dict(type='list', elements='dict', options=dict(
                room_id=dict(type='str', required=True),
                stream_id=dict(type='str', required=True),
                user_id=dict(type='str'),
                user_name=dict(type='str'),
                title=dict(type='str'),
                extra_info=dict(type='str'),
                moderation_opt_out=dict(type='bool'),
            )),
            state=dict(type='str', default='absent', choices=['absent', 'present']),
        ),
        mutually_exclusive=[('room_id', 'streams'), ('stream_id', 'streams')],
        required_together=[('room_id', 'stream_id')],
        required_one_of=[('stream_id', 'streams')],
        supports_check_mode=True,
    )
    ZegoStream(module).execute()


if __name__ == '__main__':
    main()
