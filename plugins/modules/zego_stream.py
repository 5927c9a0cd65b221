#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: zego_stream
short_description: Remove streams from ZEGO RTC rooms (DeleteStream), one or thousands per task
version_added: 1.0.0
description:
  - Removes a stream from a ZEGO RTC room with ZEGO's C(DeleteStream) server API. This forces a user
    "off mic", or drops a CDN stream that was added to the room.
  - Idempotent. A stream that is deleted reports C(changed); a stream that is already gone (ZEGO code 138)
    or whose room no longer exists (codes 104, 5024, 50001) reports C(ok).
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
      - The UserId that ZEGO records as performing the deletion, and the default for items of O(streams)
        that set none.
      - Use a server identity, never the ID of a user who is in the room; that user's client would not be
        notified. At most 64 bytes.
    type: str
    default: Server-Administrator
  user_name:
    description:
      - Optional UserName sent with O(user_id). At most 256 bytes.
    type: str
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
  state:
    description:
      - V(absent) removes the streams. It is the only state; streams are created by publishers, not by this module.
    type: str
    choices: [absent]
    default: absent
attributes:
  check_mode:
    support: full
    details:
      - Never sends DeleteStream. Lists each distinct room once with DescribeSimpleStreamList (ZEGO allows one
        list call per room every 10 seconds; the module waits rather than exceed it) and predicts every
        stream exactly.
  diff_mode:
    support: full
    details:
      - Shows each stream as V(present) before and V(absent) after.
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
  - ZEGO allows 10 DeleteStream requests per second per AppID (1 per second in the test environment), and
    one DescribeSimpleStreamList call per room every 10 seconds.
  - If an answer is lost (time-out, connection dropped) and the retry then says the stream does not exist, the
    lost attempt most likely deleted it; the stream is reported as V(deleted) with RV(stream.response_lost=true).
seealso:
  - name: DeleteStream (ZEGO documentation)
    description: ZEGO's reference for the API this module calls.
    link: https://www.zegocloud.com/docs/real-time-video-server/api-reference/room/delete-stream
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
      description: An earlier attempt got no answer and may have been the one that deleted the stream.
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
      description: Streams removed (in check mode, that would be removed).
      type: int
    already_absent:
      description: Streams that were already gone.
      type: int
    failed:
      description: Streams that could not be handled.
      type: int
    duplicates:
      description: Input items that repeated an earlier room and stream and were not sent again.
      type: int
  sample: {total: 3, deleted: 2, already_absent: 1, failed: 0, duplicates: 0}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.zego.rtc.plugins.module_utils.actions import DEFAULT_USER_ID, DELETE_STREAM, LIST_STREAMS
from ansible_collections.zego.rtc.plugins.module_utils.base import batch_argument_spec, check_id
from ansible_collections.zego.rtc.plugins.module_utils.batch import BatchModule


class ZegoStream(BatchModule):
    ITEM, ITEMS, NOUN = 'stream', 'streams', 'streams'
    OUTCOMES = ('deleted', 'already_absent', 'failed')
    FIELDS = {'attempts': 0, 'response_lost': False}
    PRIVATE = ('user_name',)
    SINGLE_SUMMARY = False

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
        items, seen, duplicates = [], set(), 0
        for loc, item in zip(where, raw):
            fields = ('room_id', 'stream_id', 'user_id', 'user_name')
            bad = [e for e in (check_id(f, item.get(f), loc) for f in fields) if e]
            bad += ['%s is required' % ('%s.%s' % (loc, f) if loc else f) for f in fields[:2] if item.get(f) is None]
            if bad:
                errors.extend(bad)
                continue
            key = (item['room_id'], item['stream_id'])
            if key in seen:
                duplicates += 1
                continue
            seen.add(key)
            items.append({'room_id': item['room_id'], 'stream_id': item['stream_id'],
                          'user_id': item.get('user_id') or p['user_id'],
                          'user_name': item.get('user_name') if item.get('user_name') is not None else p['user_name']})
        return items, duplicates, errors

    def requests(self, todo):
        return self.group(DELETE_STREAM, todo)

    def predict(self, todo):
        for request, streams, reply in self.read(LIST_STREAMS, todo, 'list the room'):
            present = set(s['stream_id'] for s in streams)
            for item in request.records:
                item['request_id'] = reply.request_id
                if item['stream_id'] in present:
                    item['message'] = 'check mode: the stream is present and would be deleted'
                else:
                    item.update(outcome='already_absent', message='check mode: the stream is not in the room')


def main():
    module = AnsibleModule(
        argument_spec=batch_argument_spec(
            room_id=dict(type='str'),
            stream_id=dict(type='str'),
            user_id=dict(type='str', default=DEFAULT_USER_ID),
            user_name=dict(type='str'),
            streams=dict(type='list', elements='dict', options=dict(
                room_id=dict(type='str', required=True),
                stream_id=dict(type='str', required=True),
                user_id=dict(type='str'),
                user_name=dict(type='str'),
            )),
            state=dict(type='str', default='absent', choices=['absent']),
        ),
        mutually_exclusive=[('room_id', 'streams'), ('stream_id', 'streams')],
        required_together=[('room_id', 'stream_id')],
        required_one_of=[('stream_id', 'streams')],
        supports_check_mode=True,
    )
    ZegoStream(module).execute()


if __name__ == '__main__':
    main()
