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
  - zego.rtc.batch
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

from ansible_collections.zego.rtc.plugins.module_utils.actions import CLOSE_ROOM, COUNT_USERS
from ansible_collections.zego.rtc.plugins.module_utils.base import batch_argument_spec, check_id, check_reason, collect_ids
from ansible_collections.zego.rtc.plugins.module_utils.batch import BatchModule


class ZegoRoom(BatchModule):
    ITEMS, NOUN = 'rooms', 'rooms'
    OUTCOMES = ('closed', 'already_absent', 'failed')
    DIFF = ('open', 'absent')

    def collect(self):
        p = self.params
        if p['room_ids'] is None:
            err = check_id('room_id', p['room_id']) if p['room_id'] is not None else 'room_id must not be empty'
            rooms, duplicates, errors = ([p['room_id']], 0, []) if not err else ([], 0, [err])
        else:
            rooms, duplicates, errors = collect_ids('room_id', p['room_ids'], 'room_ids')
        errors += [e for e in [check_reason(p['custom_reason'])] if e]
        return [{'room_id': r} for r in rooms], duplicates, errors

    def requests(self, todo):
        return self.group(CLOSE_ROOM, todo)

    def predict(self, todo):
        for request, counts, reply in self.read(COUNT_USERS, todo, 'count the users'):
            for item in request.records:
                count = item['user_count'] = counts[item['room_id']]['user_count']
                item['request_id'] = reply.request_id
                if count > 0:
                    item['message'] = 'check mode: the room has %d users and would be closed' % count
                else:
                    item.update(outcome='already_absent', message='check mode: the room has no users (it does not exist)')


def main():
    module = AnsibleModule(
        argument_spec=batch_argument_spec(
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
