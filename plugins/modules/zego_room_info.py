#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: zego_room_info
short_description: Count (and list) the users of ZEGO RTC rooms (DescribeUserNum, DescribeUserList)
version_added: 1.1.0
description:
  - Counts the users of rooms with ZEGO's C(DescribeUserNum) server API, up to 10 rooms per request. A room
    that does not exist has no users.
  - With O(list_users=true), also lists each room's users with C(DescribeUserList), page by page (ZEGO's
    marker, up to 200 users per page). ZEGO allows one list call per room per second; calls are paced to that.
  - Read-only. Every room ID is validated before the first request, and a room given more than once is
    handled once.
author:
  - zego.rtc maintainers (@zego-rtc)
extends_documentation_fragment:
  - zego.rtc.api
options:
  room_ids:
    description:
      - The rooms, in this order. Each at most 128 bytes. Repeated IDs are handled once.
      - An empty list does nothing.
    type: list
    elements: str
    required: true
  list_users:
    description:
      - Also list the users of every room that has users (DescribeUserList), in RV(rooms[].users).
    type: bool
    default: false
  max_users:
    description:
      - With O(list_users), list at most this many users per room (the oldest logins first). V(0) lists all.
    type: int
    default: 0
attributes:
  check_mode:
    support: full
    details:
      - The module only reads, so it counts and lists in check mode too.
  diff_mode:
    support: none
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
  - ZEGO allows 10 DescribeUserNum requests per second per AppID (1 in the test environment), and 200
    DescribeUserList requests per second per AppID but only one per room per second; a large room takes a
    second per 200 users.
  - O(rate_limit) paces write actions and does not apply to this module.
seealso:
  - module: zego.rtc.zego_room
  - module: zego.rtc.zego_room_user
  - name: DescribeUserNum (ZEGO documentation)
    description: ZEGO's reference for the count.
    link: https://www.zegocloud.com/docs/real-time-video-server/api-reference/room/describe-user-num
  - name: DescribeUserList (ZEGO documentation)
    description: ZEGO's reference for the user list.
    link: https://www.zegocloud.com/docs/real-time-video-server/api-reference/room/describe-user-list
'''

EXAMPLES = r'''
- name: Count the users of two rooms
  zego.rtc.zego_room_info:
    app_id: 1234567890
    server_secret: "{{ zego_server_secret }}"
    room_ids: [room1, room2]
  delegate_to: localhost
  register: counts

- name: Rooms that have users
  ansible.builtin.debug:
    msg: "{{ counts.rooms | selectattr('user_count', 'gt', 0) | map(attribute='room_id') | list }}"

- name: List who is in a room; credentials from ZEGO_APP_ID / ZEGO_SERVER_SECRET
  zego.rtc.zego_room_info:
    room_ids: [room1]
    list_users: true
  register: room1

- name: Kick everyone but the host
  zego.rtc.zego_room_user:
    room_id: room1
    user_ids: "{{ room1.rooms[0].users | map(attribute='user_id') | reject('equalto', 'host') | list }}"
'''

RETURN = r'''
rooms:
  description: One entry per distinct room, in input order.
  returned: always
  type: list
  elements: dict
  contains:
    room_id:
      description: The room.
      type: str
      sample: room1
    user_count:
      description: Users in the room (admin users included); 0 if the room does not exist.
      type: int
      sample: 3
    admin_user_count:
      description: Admin users in the room.
      type: int
      sample: 1
    request_id:
      description: ZEGO's RequestId of the count, for ZEGO support.
      type: str
      sample: "5885338326725063742"
    users:
      description: The users in the room, oldest login first.
      returned: with O(list_users=true)
      type: list
      elements: dict
      contains:
        user_id:
          description: The user.
          type: str
          sample: user_demo
        user_name:
          description: The user's name.
          type: str
          sample: Ann
        user_role:
          description: The user's role (LiveRoom only).
          type: int
          sample: 1
    users_truncated:
      description: More users were in the room than O(max_users).
      returned: with O(list_users=true)
      type: bool
      sample: false
  sample:
    - room_id: room1
      user_count: 2
      admin_user_count: 0
      request_id: "5885338326725063742"
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.zego.rtc.plugins.module_utils.actions import COUNT_USERS, LIST_USERS, USER_LIST_MAX_LIMIT
from ansible_collections.zego.rtc.plugins.module_utils.base import ZegoModule, collect_ids, zego_argument_spec
from ansible_collections.zego.rtc.plugins.module_utils.batch import chunks
from ansible_collections.zego.rtc.plugins.module_utils.errors import ZegoError

# a room's listing stops after this many pages whatever the markers say (200 users a page)
MAX_PAGES = 10000


class ZegoRoomInfo(ZegoModule):

    def collect(self):
        p = self.params
        rooms, dummy, errors = collect_ids('room_id', p['room_ids'], 'room_ids')
        if p['max_users'] < 0:
            errors.append('max_users must be 0 (all) or more, got %s' % p['max_users'])
        self.validate(errors)
        return rooms

    def list_users(self, room_id):
        """Every user of a room (at most max_users), following ZEGO's marker."""
        cap = self.params['max_users']
        users, marker, seen = [], None, set()
        for dummy in range(MAX_PAGES):
            limit = USER_LIST_MAX_LIMIT if not cap else min(USER_LIST_MAX_LIMIT, cap - len(users))
            (page, marker), dummy = LIST_USERS.read(self.client, {'room_id': room_id, 'marker': marker, 'limit': limit,
                                                                  'mode': 0})
            users.extend(page)
            if not marker or not page or marker in seen or (cap and len(users) >= cap):
                break
            seen.add(marker)
        truncated = bool(cap) and (len(users) > cap or (len(users) == cap and bool(marker)))
        return users[:cap] if cap else users, truncated

    def run(self):
        rooms = self.collect()
        results = []
        for part in chunks(rooms, COUNT_USERS.batch[1]):
            try:
                counts, reply = COUNT_USERS.read(self.client, {'room_id': part})
            except ZegoError as exc:
                self.fail('could not count the users of %s: %s' % (', '.join(part), exc.message), error=exc.to_dict(),
                          rooms=results)
            for room_id in part:
                results.append(dict(counts[room_id], room_id=room_id, request_id=reply.request_id))
        if self.params['list_users']:
            for res in results:
                if res['user_count'] == 0:
                    res.update(users=[], users_truncated=False)
                    continue
                try:
                    res['users'], res['users_truncated'] = self.list_users(res['room_id'])
                except ZegoError as exc:
                    self.fail('could not list the users of %s: %s' % (res['room_id'], exc.message), error=exc.to_dict(),
                              rooms=results)
        self.result['rooms'] = results
        self.exit()


def main():
    module = AnsibleModule(
        argument_spec=zego_argument_spec(
            room_ids=dict(type='list', elements='str', required=True),
            list_users=dict(type='bool', default=False),
            max_users=dict(type='int', default=0),
        ),
        supports_check_mode=True,
    )
    ZegoRoomInfo(module).execute()


if __name__ == '__main__':
    main()
