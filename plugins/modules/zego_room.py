#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: zego_room
short_description: Close ZEGO RTC rooms for everyone in them (CloseRoom)
version_added: 1.1.0
description:
  - Closes ZEGO RTC rooms with ZEGO's C(CloseRoom) server API. Every user in the room is removed and its
    streams end.
  - Idempotent. A room that is closed reports C(changed); a room that does not exist (ZEGO codes 5018 and
    5024, also 104 and 50001) reports C(ok) as C(already_absent). ZEGO destroys a room by itself once its last
    user has left.
  - Takes one room (O(room_id)) or a list (O(room_ids)). A list is validated as a whole before the first
    request, a room given twice is closed once, and every room is attempted even if some fail; the task then
    fails at the end and still reports every room.
  - ZEGO allows one CloseRoom request per second per AppID. Requests are paced to that across all tasks and
    forks of this controller (the module waits rather than exceed it), and retryable failures are retried with
    back-off.
author:
  - zego.rtc maintainers (@zego-rtc)
extends_documentation_fragment:
  - zego.rtc.api
options:
  room_id:
    description:
      - The room to close. At most 128 bytes. Mutually exclusive with O(room_ids).
    type: str
  room_ids:
    description:
      - Rooms to close, in this order. Repeated IDs are closed once.
      - Mutually exclusive with O(room_id). An empty list does nothing.
    type: list
    elements: str
  custom_reason:
    description:
      - The reason ZEGO passes to the clients in the room. At most 256 bytes.
    type: str
  room_close_callback:
    description:
      - Whether ZEGO sends its C(room_close) callback for rooms closed this way.
      - When not set, the parameter is not sent and ZEGO's default applies (no callback).
    type: bool
  state:
    description:
      - V(absent) closes the rooms. It is the only state; rooms are created when users log in.
    type: str
    choices: [absent]
    default: absent
attributes:
  check_mode:
    support: full
    details:
      - Never sends CloseRoom. Counts the users of up to 10 rooms per request (DescribeUserNum) and predicts
        that a room with users would be closed and a room without users is already absent.
  diff_mode:
    support: full
    details:
      - Shows each room as V(open) before and V(absent) after.
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
  - ZEGO allows 1 CloseRoom request per second per AppID (also in the test environment), so closing many rooms
    takes about a second per room. O(rate_limit) replaces that rate; set it only if ZEGO raised your limit.
  - Closing a room does not stop users from logging in again, which opens the room again.
seealso:
  - module: zego.rtc.zego_room_user
  - module: zego.rtc.zego_room_info
  - name: CloseRoom (ZEGO documentation)
    description: ZEGO's reference for the API this module calls.
    link: https://www.zegocloud.com/docs/real-time-video-server/api-reference/room/close
'''

EXAMPLES = r'''
- name: Close a room for everyone
  zego.rtc.zego_room:
    app_id: 1234567890
    server_secret: "{{ zego_server_secret }}"
    room_id: room1
    custom_reason: Closed by a moderator
    room_close_callback: true
    state: absent
  delegate_to: localhost

- name: Close several rooms; credentials from ZEGO_APP_ID / ZEGO_SERVER_SECRET
  zego.rtc.zego_room:
    room_ids: [room1, room2, room3]
  register: closing

- name: Show what was done
  ansible.builtin.debug:
    var: closing.summary

- name: Dry run - counts the users of each room and reports which rooms would be closed
  zego.rtc.zego_room:
    room_ids: "{{ rooms_to_close }}"
  check_mode: true
'''

RETURN = r'''
rooms:
  description: One outcome per distinct room, in input order.
  returned: always
  type: list
  elements: dict
  contains:
    room_id:
      description: The room.
      type: str
      sample: room1
    outcome:
      description:
        - V(closed) (the room was closed; in check mode, has users and would be closed), V(already_absent) (the
          room does not exist), or V(failed).
      type: str
      sample: closed
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
    user_count:
      description: Users in the room, as counted in check mode.
      type: int
      returned: check mode
      sample: 12
    stopped_batch:
      description:
        - V(true) when this room's failure stopped the batch (an error every further request would get, such as
          rejected credentials or an unreachable API); the rooms after it were not attempted.
      type: bool
      sample: false
    error:
      description: Why the room failed; only when RV(rooms[].outcome=failed).
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
    - room_id: room1
      outcome: closed
      code: 0
      message: success
      request_id: "5885338326725063742"
      stopped_batch: false
summary:
  description: Counts over the distinct rooms.
  returned: always
  type: dict
  contains:
    total:
      description: Distinct rooms.
      type: int
    closed:
      description: Rooms closed (in check mode, that would be closed).
      type: int
    already_absent:
      description: Rooms that did not exist.
      type: int
    failed:
      description: Rooms that could not be handled.
      type: int
    duplicates:
      description: Input items that repeated an earlier room and were not sent again.
      type: int
  sample: {total: 2, closed: 1, already_absent: 1, failed: 0, duplicates: 0}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.zego.rtc.plugins.module_utils.api import (
    DESCRIBE_USER_NUM_MAX_ROOMS,
    OK,
    ROOM_MISSING_CODES,
    ZegoError,
    describe_code,
)
from ansible_collections.zego.rtc.plugins.module_utils.base import (
    ZegoModule,
    check_id,
    zego_argument_spec,
)
from ansible_collections.zego.rtc.plugins.module_utils.batch import (
    NOT_ATTEMPTED,
    check_reason,
    chunks,
    collect_ids,
    failure_text,
    stops_batch,
    summarize,
)

# CloseRoom answers for a room that does not exist (5018: destroyed or not existing; 5024: not existing)
CLOSED_CODES = frozenset([5018, 5024]) | ROOM_MISSING_CODES
OUTCOMES = ('closed', 'already_absent', 'failed')


class ZegoRoom(ZegoModule):

    def collect(self):
        p = self.params
        if p['room_ids'] is None:
            err = check_id('room_id', p['room_id']) if p['room_id'] is not None else 'room_id must not be empty'
            rooms, duplicates, errors = ([p['room_id']], 0, []) if not err else ([], 0, [err])
        else:
            rooms, duplicates, errors = collect_ids('room_id', p['room_ids'], 'room_ids')
        err = check_reason(p['custom_reason'])
        if err:
            errors.append(err)
        self.validate(errors)
        return rooms, duplicates

    @staticmethod
    def record(room_id, outcome, code=None, message=None, request_id=None, error=None, stopped=False):
        res = {'room_id': room_id, 'outcome': outcome, 'code': code, 'message': message, 'request_id': request_id,
               'stopped_batch': stopped}
        if error is not None:
            res['error'] = error
        return res

    # -- real run ---------------------------------------------------------------------------------
    def close_one(self, room_id):
        if self.abort is not None:
            msg = NOT_ATTEMPTED % self.abort['message']
            return self.record(room_id, 'failed', self.abort['code'], msg, None, dict(self.abort, message=msg, request_id=None))
        p = self.params
        try:
            reply = self.client.close_room(room_id, p['custom_reason'], p['room_close_callback'])
        except ZegoError as exc:
            stopped = stops_batch(exc)
            if stopped:
                self.abort = exc.to_dict()
            return self.record(room_id, 'failed', exc.code, exc.message, exc.request_id, exc.to_dict(), stopped)
        if reply.code == OK:
            return self.record(room_id, 'closed', reply.code, reply.message, reply.request_id)
        if reply.code in CLOSED_CODES:
            # after a lost answer, the lost attempt most likely closed the room
            outcome = 'closed' if reply.response_lost else 'already_absent'
            return self.record(room_id, outcome, reply.code, reply.message, reply.request_id)
        err = ZegoError(describe_code(reply.code, reply.message), code=reply.code, request_id=reply.request_id,
                        action='CloseRoom', retryable=False)
        stopped = stops_batch(reply.code)
        if stopped:
            self.abort = err.to_dict()
        return self.record(room_id, 'failed', reply.code, err.message, reply.request_id, err.to_dict(), stopped)

    # -- check mode -------------------------------------------------------------------------------
    def predict(self, rooms):
        results = []
        for part in chunks(rooms, DESCRIBE_USER_NUM_MAX_ROOMS):
            if self.abort is not None:
                msg = NOT_ATTEMPTED % self.abort['message']
                results.extend(self.record(r, 'failed', self.abort['code'], msg, None, dict(self.abort, message=msg, request_id=None))
                               for r in part)
                continue
            try:
                counts, reply = self.client.describe_user_num(part)
            except ZegoError as exc:
                stopped = stops_batch(exc)
                if stopped:
                    self.abort = exc.to_dict()
                results.extend(self.record(r, 'failed', exc.code, 'could not count the users: %s' % exc.message,
                                           exc.request_id, exc.to_dict(), stopped) for r in part)
                continue
            for room_id in part:
                count = counts[room_id]['user_count']
                if count > 0:
                    res = self.record(room_id, 'closed', None, 'check mode: the room has %d users and would be closed' % count,
                                      reply.request_id)
                else:
                    res = self.record(room_id, 'already_absent', None, 'check mode: the room has no users (it does not exist)',
                                      reply.request_id)
                res['user_count'] = count
                results.append(res)
        return results

    def run(self):
        rooms, duplicates = self.collect()
        self.abort = None
        if self.module.check_mode:
            results = self.predict(rooms)
        else:
            results = [self.close_one(r) for r in rooms]
        summary = summarize(results, OUTCOMES, duplicates=duplicates)
        self.result['changed'] = summary['closed'] > 0
        if self.module._diff:
            ok = [r for r in results if r['outcome'] != 'failed']
            self.result['diff'] = {
                'before': dict((r['room_id'], 'open' if r['outcome'] == 'closed' else 'absent') for r in ok),
                'after': dict((r['room_id'], 'absent') for r in ok),
            }
        self.result['rooms'] = results
        self.result['summary'] = summary
        failed = [r for r in results if r['outcome'] == 'failed']
        if failed:
            self.fail(failure_text(failed, len(results), 'rooms', lambda r: r['room_id']))
        self.exit()


def main():
    module = AnsibleModule(
        argument_spec=zego_argument_spec(
            room_id=dict(type='str'),
            room_ids=dict(type='list', elements='str'),
            custom_reason=dict(type='str'),
            room_close_callback=dict(type='bool'),
            state=dict(type='str', default='absent', choices=['absent']),
        ),
        mutually_exclusive=[('room_id', 'room_ids')],
        required_one_of=[('room_id', 'room_ids')],
        supports_check_mode=True,
    )
    ZegoRoom(module).execute()


if __name__ == '__main__':
    main()
