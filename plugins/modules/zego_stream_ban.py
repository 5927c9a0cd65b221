#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: zego_stream_ban
short_description: Ban or allow again stream IDs in ZEGO's media service (ForbidRTCStream)
version_added: 1.1.0
description:
  - Bans stream IDs with ZEGO's media-service C(ForbidRTCStream) / C(ForbidRTCStreams) server API, or allows them
    again with C(ResumeRTCStream) / C(ResumeRTCStreams).
  - A banned stream ID cannot be published or played until it is allowed again; the publisher's SDK reports error
    1003025 and players 1004025. Unlike M(zego.rtc.zego_stream) (C(DeleteStream)), this stops a client that
    would publish the same stream ID again. The ban has no expiry.
  - Takes one stream ID (O(stream_id)) or a list (O(stream_ids)). A list is validated as a whole before the first
    request, duplicates are sent once, and IDs are sent 20 per request (ZEGO's maximum) with the batch actions;
    a single ID uses the single action.
  - ZEGO has no API that lists banned stream IDs, so the module cannot tell whether an ID was already banned.
    It reports C(changed) for every stream ID ZEGO accepted (banning a banned ID, or allowing an allowed one,
    is accepted and leaves it as it is).
author:
  - zego.rtc maintainers (@zego-rtc)
extends_documentation_fragment:
  - zego.rtc.api
  - zego.rtc.batch
options:
  stream_id:
    description:
      - The stream ID to ban or allow. At most 256 bytes of letters, digits, C(-) and C(_).
      - With O(is_test=true) it must start with C(zegotest-<app_id>-), as ZEGO's test environment requires.
      - Mutually exclusive with O(stream_ids).
    type: str
  stream_ids:
    description:
      - Many stream IDs in one task. Mutually exclusive with O(stream_id). An empty list does nothing.
    type: list
    elements: str
  state:
    description:
      - V(present) bans the stream IDs; V(absent) allows them again.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    details:
      - Sends nothing (ZEGO has no call that reads bans) and reports the requests it would send in RV(requests).
  diff_mode:
    support: none
    details:
      - The state before is unknown; ZEGO does not list banned stream IDs.
  idempotent:
    support: partial
    details:
      - Repeating a task leaves ZEGO in the same state, but it sends the requests again and reports C(changed)
        again, since ZEGO gives no way to read the ban list.
  action_group:
    support: full
    membership:
      - zego.rtc.zego
  platform:
    support: full
    platforms: posix
notes:
  - ZEGO allows 20 requests per second for each of the four actions per AppID (5 per second in the test
    environment). Requests are paced to that across all tasks and forks of this controller; O(rate_limit)
    replaces it.
  - Each request carries a C(Sequence), which ZEGO requires to increase strictly for a stream ID within any
    10 seconds. The module sends milliseconds since the epoch that never repeat on this controller (across
    retries, tasks, forks and runs; kept in the private state directory, see E(ZEGO_RTC_STATE_DIR)).
  - A ban does not remove a stream that is live in a room from the room's stream list; use
    M(zego.rtc.zego_stream) for that, and this module so that the publisher cannot publish it again.
  - The media-service rate-limit codes 30002, 1010 and 5007 are retried like 206; the internal-error codes
    3001, 5000, 5001, 5002, 5006 and 30003 are retried like 1. If a batch request fails as a whole (codes 30006,
    30009, 42003, 42004), each of its stream IDs is sent again on its own, so every ID gets its own result.
seealso:
  - module: zego.rtc.zego_stream
  - module: zego.rtc.zego_stream_rule
  - name: ForbidRTCStreams (ZEGO documentation)
    description: ZEGO's reference for the batch ban.
    link: https://www.zegocloud.com/docs/real-time-video-server/api-reference/media-service/forbid-rtc-streams
  - name: ResumeRTCStreams (ZEGO documentation)
    description: ZEGO's reference for allowing stream IDs again.
    link: https://www.zegocloud.com/docs/real-time-video-server/api-reference/media-service/resume-rtc-streams
'''

EXAMPLES = r'''
- name: Stop a publisher for good - remove the stream from the room and ban its ID
  delegate_to: localhost
  block:
    - name: Remove the stream from the room
      zego.rtc.zego_stream:
        room_id: room1
        stream_id: stream1

    - name: Refuse any new publish of the same stream ID
      zego.rtc.zego_stream_ban:
        stream_id: stream1

- name: Ban many stream IDs (sent 20 per request)
  zego.rtc.zego_stream_ban:
    app_id: 1234567890
    server_secret: "{{ zego_server_secret }}"
    stream_ids: "{{ offending_streams }}"
  register: ban

- name: Show what was done
  ansible.builtin.debug:
    var: ban.summary

- name: Allow a stream ID again
  zego.rtc.zego_stream_ban:
    stream_id: stream1
    state: absent

- name: Test environment - IDs carry ZEGO's prefix
  zego.rtc.zego_stream_ban:
    is_test: true
    app_id: 1234567890
    stream_ids: [zegotest-1234567890-s1, zegotest-1234567890-s2]
'''

RETURN = r'''
stream:
  description: The outcome for the one stream ID, when O(stream_id) is used.
  returned: when O(stream_id) is used
  type: dict
  contains:
    stream_id:
      description: The stream ID.
      type: str
      sample: stream1
    outcome:
      description:
        - V(banned) or V(resumed) (ZEGO accepted the request; in check mode, it would be sent), or V(failed).
      type: str
      sample: banned
    action:
      description: The ZEGO action that carried this stream ID (in check mode, that would carry it).
      type: str
      sample: ForbidRTCStream
    code:
      description: ZEGO's return code (V(null) in check mode or when no answer came).
      type: int
      sample: 0
    message:
      description: ZEGO's message, or what happened.
      type: str
      sample: success
    request_id:
      description: ZEGO's RequestId, for ZEGO support.
      type: str
      sample: "5885338326725063742"
    attempts:
      description: Requests sent for this stream ID, retries and a single-ID fallback included (0 in check mode).
      type: int
      sample: 1
    response_lost:
      description: An earlier attempt got no answer (harmless here; the request is repeated with a new Sequence).
      type: bool
      sample: false
    stopped_batch:
      description:
        - V(true) when this stream ID's failure stopped the batch (an error every further request would get, such as
          rejected credentials or an API that cannot be reached); the stream IDs after it were not attempted and
          report so in their message.
      type: bool
      sample: false
    error:
      description: Why the stream ID failed; only when RV(stream.outcome=failed).
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
streams:
  description: One outcome per distinct stream ID, in input order, each shaped like RV(stream).
  returned: when O(stream_ids) is used
  type: list
  elements: dict
  sample:
    - stream_id: s1
      outcome: banned
      action: ForbidRTCStreams
      code: 0
      message: success
      request_id: "5885338326725063742"
      attempts: 1
      response_lost: false
      stopped_batch: false
requests:
  description: The requests sent, in the order of the stream IDs (in check mode, that would be sent).
  returned: always
  type: list
  elements: dict
  contains:
    action:
      description: The ZEGO action.
      type: str
    stream_ids:
      description: The stream IDs of the request.
      type: list
      elements: str
    code:
      description: ZEGO's return code (V(null) in check mode or when no answer came).
      type: int
  sample:
    - {action: ForbidRTCStreams, stream_ids: [s1, s2], code: 0}
summary:
  description: Counts over the distinct stream IDs.
  returned: always
  type: dict
  contains:
    total:
      description: Distinct stream IDs.
      type: int
    banned:
      description: Stream IDs banned (in check mode, that would be).
      type: int
    resumed:
      description: Stream IDs allowed again (in check mode, that would be).
      type: int
    failed:
      description: Stream IDs that could not be handled.
      type: int
    duplicates:
      description: Input items that repeated an earlier stream ID and were not sent again.
      type: int
    requests:
      description: Requests in RV(requests).
      type: int
  sample: {total: 2, banned: 2, resumed: 0, failed: 0, duplicates: 0, requests: 1}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.zego.rtc.plugins.module_utils.actions import FORBID_STREAMS, RESUME_STREAMS
from ansible_collections.zego.rtc.plugins.module_utils.base import batch_argument_spec, check_id, collect_ids
from ansible_collections.zego.rtc.plugins.module_utils.batch import BatchModule


def required_prefix(app_id):
    """The prefix ZEGO's test environment requires of media-service stream IDs."""
    return 'zegotest-%s-' % app_id


class ZegoStreamBan(BatchModule):
    ITEM, ITEMS, NOUN = 'stream', 'streams', 'stream IDs'
    OUTCOMES = ('banned', 'resumed', 'failed')
    FIELDS = {'action': None, 'attempts': 0, 'response_lost': False}
    DIFF = None

    def single(self):
        return self.params['stream_ids'] is None

    def collect(self):
        p = self.params
        if self.single():
            raw, where = [p['stream_id']], ['stream_id']
            err = check_id('stream_id', p['stream_id'])
            ids, duplicates, errors = ([], 0, [err]) if err else (raw, 0, [])
        else:
            raw, where = p['stream_ids'], ['stream_ids[%d]' % i for i in range(len(p['stream_ids']))]
            ids, duplicates, errors = collect_ids('stream_id', raw, 'stream_ids')
        if p['is_test']:
            prefix = required_prefix(p['app_id'])
            for loc, value in zip(where, raw):
                if value is not None and check_id('stream_id', value) is None and not value.startswith(prefix):
                    errors.append('%s %r must start with %r: ZEGO\'s test environment (is_test) only accepts stream '
                                  'IDs with this prefix for bans' % (loc, value, prefix))
        outcome = 'banned' if p['state'] == 'present' else 'resumed'
        return [{'stream_id': sid, 'outcome': outcome} for sid in ids], duplicates, errors

    def requests(self, todo):
        return self.group(FORBID_STREAMS if self.params['state'] == 'present' else RESUME_STREAMS, todo)

    def predict(self, todo):
        self.sent = self.requests(todo)
        for request in self.sent:
            request.sent, n = True, len(request.records)
            for item in request.records:
                item.update(action=request.action.name, message='check mode: would send %s with %d stream ID%s' % (
                    request.action.name, n, '' if n == 1 else 's'))

    def report(self, summary):
        # ZEGO has no call that reads bans: the requests sent (or, in check mode, that would be) are the record
        log = [r for request in self.sent for r in request.log()]
        summary['requests'] = len(log)
        self.result['requests'] = [dict(action=r.action.name, stream_ids=[i['stream_id'] for i in r.records],
                                        code=r.code) for r in log]


def main():
    module = AnsibleModule(
        argument_spec=batch_argument_spec(
            stream_id=dict(type='str'),
            stream_ids=dict(type='list', elements='str'),
            state=dict(type='str', default='present', choices=['present', 'absent']),
        ),
        mutually_exclusive=[('stream_id', 'stream_ids')],
        required_one_of=[('stream_id', 'stream_ids')],
        supports_check_mode=True,
    )
    ZegoStreamBan(module).execute()


if __name__ == '__main__':
    main()
