#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: zego_room_user
short_description: Kick users out of ZEGO RTC rooms (KickoutUser), only those who are in the room
version_added: 1.1.0
description:
  - Removes users from a ZEGO RTC room with ZEGO's C(KickoutUser) server API.
  - Idempotent. The module first asks ZEGO which of the users are in the room (C(DescribeUsers), up to 10 users
    per request) and kicks only those (C(KickoutUser), up to 5 users per request, ZEGO's limit). A user who is
    not in the room, or whose room does not exist, is reported as C(already_absent) and nothing is sent for
    them, so a rerun sends no C(KickoutUser) and reports C(ok).
  - Takes one room with its users (O(room_id) and O(user_ids)) or pairs from several rooms (O(users)). The
    whole input is validated before the first request; a user given twice for the same room is handled once.
    Every user is attempted even if some fail; the task then fails at the end and still reports every user.
  - Requests are paced to ZEGO's documented limits (KickoutUser 50 per second, DescribeUsers 10 per second per
    AppID) across all tasks and forks of this controller, and retryable failures are retried with back-off.
author:
  - zego.rtc maintainers (@zego-rtc)
extends_documentation_fragment:
  - zego.rtc.api
  - zego.rtc.batch
options:
  room_id:
    description:
      - The room to remove the users from. At most 128 bytes.
      - Required with O(user_ids); mutually exclusive with O(users).
    type: str
  user_ids:
    description:
      - The users to remove from O(room_id). Each at most 64 bytes of letters, digits and
        C(~!@#$%^&*()_+=-`;',.<>/\\).
      - An empty list does nothing.
    type: list
    elements: str
  users:
    description:
      - Users of several rooms in one task. Mutually exclusive with O(room_id) and O(user_ids).
      - An empty list does nothing.
    type: list
    elements: dict
    suboptions:
      room_id:
        description: The room.
        type: str
        required: true
      user_id:
        description: The user to remove from it.
        type: str
        required: true
  custom_reason:
    description:
      - The reason ZEGO passes to the kicked users' clients. At most 256 bytes.
    type: str
  state:
    description:
      - V(absent) removes the users from their rooms. It is the only state; users join rooms themselves.
    type: str
    choices: [absent]
    default: absent
attributes:
  check_mode:
    support: full
    details:
      - Never sends KickoutUser. Asks ZEGO which users are in their rooms (DescribeUsers) and predicts every
        user exactly.
  diff_mode:
    support: full
    details:
      - Shows each C(room/user) as V(present) before and V(absent) after.
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
  - ZEGO tells the kicked users' clients that they were removed (with O(custom_reason)); nothing stops a user from
    logging in again. Combine with your application's own ban if that matters.
  - ZEGO allows 50 KickoutUser and 10 DescribeUsers requests per second per AppID. O(rate_limit) replaces the
    KickoutUser rate.
  - If an answer is lost (time-out, connection dropped) and the retry then says the room does not exist, the
    lost attempt most likely removed the users; they are reported as V(kicked).
seealso:
  - module: zego.rtc.zego_room
  - module: zego.rtc.zego_room_info
  - name: KickoutUser (ZEGO documentation)
    description: ZEGO's reference for the API this module calls.
    link: https://www.zegocloud.com/docs/real-time-video-server/api-reference/room/kick-out-user
  - name: DescribeUsers (ZEGO documentation)
    description: How the module finds out who is in a room.
    link: https://www.zegocloud.com/docs/real-time-video-server/api-reference/room/describe-users
'''

EXAMPLES = r'''
- name: Kick two users out of a room
  zego.rtc.zego_room_user:
    app_id: 1234567890
    server_secret: "{{ zego_server_secret }}"
    room_id: room1
    user_ids: [troll1, troll2]
    custom_reason: Removed by a moderator
    state: absent
  delegate_to: localhost

- name: Users of several rooms in one task; credentials from ZEGO_APP_ID / ZEGO_SERVER_SECRET
  zego.rtc.zego_room_user:
    users:
      - {room_id: room1, user_id: troll1}
      - {room_id: room7, user_id: troll1}
  register: kicked

- name: Show what was done
  ansible.builtin.debug:
    var: kicked.summary

- name: Dry run - asks ZEGO who is in the room and reports exactly who would be kicked
  zego.rtc.zego_room_user:
    room_id: room1
    user_ids: "{{ abusive_users }}"
  check_mode: true
  diff: true
'''

RETURN = r'''
users:
  description: One outcome per distinct room and user, in input order.
  returned: always
  type: list
  elements: dict
  contains:
    room_id:
      description: The room.
      type: str
      sample: room1
    user_id:
      description: The user.
      type: str
      sample: troll1
    outcome:
      description:
        - V(kicked) (the user was removed; in check mode, would be removed), V(already_absent) (the user is not
          in the room, or the room does not exist), or V(failed).
      type: str
      sample: kicked
    code:
      description: ZEGO's return code of the last answer about this user (V(null) when no answer came).
      type: int
      sample: 0
    message:
      description: ZEGO's message, or what happened.
      type: str
      sample: success
    request_id:
      description: ZEGO's RequestId of that answer, for ZEGO support.
      type: str
      sample: "5885338326725063742"
    stopped_batch:
      description:
        - V(true) when this user's failure stopped the batch (an error every further request would get, such as
          rejected credentials or an unreachable API); the users after it were not attempted.
      type: bool
      sample: false
    error:
      description: Why the user failed; only when RV(users[].outcome=failed).
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
      user_id: troll1
      outcome: kicked
      code: 0
      message: success
      request_id: "5885338326725063742"
      stopped_batch: false
summary:
  description: Counts over the distinct users.
  returned: always
  type: dict
  contains:
    total:
      description: Distinct room and user pairs.
      type: int
    kicked:
      description: Users removed (in check mode, that would be removed).
      type: int
    already_absent:
      description: Users that were not in their room.
      type: int
    failed:
      description: Users that could not be handled.
      type: int
    duplicates:
      description: Input items that repeated an earlier room and user and were not sent again.
      type: int
  sample: {total: 3, kicked: 2, already_absent: 1, failed: 0, duplicates: 0}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.zego.rtc.plugins.module_utils.actions import DESCRIBE_USERS, KICKOUT_USERS
from ansible_collections.zego.rtc.plugins.module_utils.base import batch_argument_spec, check_id, check_reason, located
from ansible_collections.zego.rtc.plugins.module_utils.batch import BatchModule


class ZegoRoomUser(BatchModule):
    ITEMS, NOUN = 'users', 'users'
    OUTCOMES = ('kicked', 'already_absent', 'failed')

    def label(self, item):
        return '%s/%s' % (item['room_id'], item['user_id'])

    def collect(self):
        """Validate every input; the distinct (room, user) pairs, grouped by room in input order."""
        p = self.params
        errors = [e for e in [check_reason(p['custom_reason'])] if e]
        if p['users'] is None:
            err = check_id('room_id', p['room_id']) if p['room_id'] is not None else 'room_id is required with user_ids'
            errors += [err] if err else []
            pairs = [('user_ids[%d]' % i, p['room_id'], u, False) for i, u in enumerate(p['user_ids'] or [])]
        else:
            pairs = [('users[%d]' % i, item['room_id'], item['user_id'], True) for i, item in enumerate(p['users'])]
        rooms, duplicates = {}, 0
        for loc, room_id, user_id, with_room in pairs:
            if with_room:
                bad = [located(loc + '.room_id', 'room_id', e) for e in [check_id('room_id', room_id)] if e]
                bad += [located(loc + '.user_id', 'user_id', e) for e in [check_id('user_id', user_id)] if e]
            else:
                bad = [located(loc, 'user_id', e) for e in [check_id('user_id', user_id)] if e]
            bad += ['%s must not be empty' % loc] if user_id is None else []
            errors.extend(bad)
            users = rooms.setdefault(room_id, [])
            if bad or user_id in users:
                duplicates += 0 if bad else 1
                continue
            users.append(user_id)
        return [{'room_id': r, 'user_id': u} for r, users in rooms.items() for u in users], duplicates, errors

    def plan(self, items):
        """Ask who is in the room: the users who are not are already absent."""
        inside = []
        for request, statuses, reply in self.read(DESCRIBE_USERS, items):
            for item in request.records:
                status = statuses.get(item['user_id'])
                item['request_id'] = reply.request_id
                if status and status['in_room']:
                    inside.append(item)
                else:
                    item.update(outcome='already_absent', code=reply.code,
                                message='not in the room (or the room does not exist)')
        return inside

    def predict(self, todo):
        for item in todo:
            item['message'] = 'check mode: the user is in the room and would be kicked'

    def requests(self, todo):
        return self.group(KICKOUT_USERS, todo)


def main():
    module = AnsibleModule(
        argument_spec=batch_argument_spec(
            room_id=dict(type='str'),
            user_ids=dict(type='list', elements='str'),
            users=dict(type='list', elements='dict', options=dict(
                room_id=dict(type='str', required=True),
                user_id=dict(type='str', required=True),
            )),
            custom_reason=dict(type='str'),
            state=dict(type='str', default='absent', choices=['absent']),
        ),
        mutually_exclusive=[('room_id', 'users'), ('user_ids', 'users')],
        required_together=[('room_id', 'user_ids')],
        required_one_of=[('user_ids', 'users')],
        supports_check_mode=True,
    )
    ZegoRoomUser(module).execute()


if __name__ == '__main__':
    main()
