#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: zego_stream_info
short_description: List the streams of ZEGO RTC rooms (DescribeSimpleStreamList)
version_added: 1.0.0
description:
  - Lists the streams of one room (O(room_id)) or of many rooms (O(room_ids)) with ZEGO's
    C(DescribeSimpleStreamList) server API.
  - Read-only. A room that does not exist has no streams.
  - Every room ID is validated before the first request, and a room given more than once is listed once.
  - ZEGO allows one list call per room every 10 seconds. Calls are paced to that limit across all tasks and
    forks of this controller (the module waits rather than exceed it), and rate-limit answers (code 207) and
    code 154 are retried with back-off within O(retries).
author:
  - zego.rtc maintainers (@zego-rtc)
extends_documentation_fragment:
  - zego.rtc.api
options:
  room_id:
    description:
      - The room to list. At most 128 bytes.
      - Mutually exclusive with O(room_ids).
    type: str
  room_ids:
    description:
      - Rooms to list, in this order. Repeated IDs are listed once.
      - Mutually exclusive with O(room_id). An empty list lists nothing.
    type: list
    elements: str
attributes:
  check_mode:
    support: full
    details:
      - The module only reads, so it lists the rooms in check mode too.
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
  - ZEGO allows 50 DescribeSimpleStreamList requests per second per AppID and one per room every 10 seconds.
    Listing the same room again within 10 seconds (for example in the next task) waits for the rest of the
    10 seconds.
  - O(rate_limit) paces DeleteStream and does not apply to this module.
seealso:
  - module: zego.rtc.zego_stream
  - name: DescribeSimpleStreamList (ZEGO documentation)
    description: ZEGO's reference for the API this module calls.
    link: https://www.zegocloud.com/docs/real-time-video-server/api-reference/room/describe-simple-streamlist
'''

EXAMPLES = r'''
- name: List the streams of one room
  zego.rtc.zego_stream_info:
    app_id: 1234567890
    server_secret: "{{ zego_server_secret }}"
    room_id: room1
  delegate_to: localhost
  register: room1

- name: Show the stream IDs
  ansible.builtin.debug:
    msg: "{{ room1.rooms[0].streams | map(attribute='stream_id') | list }}"

- name: List several rooms; credentials from ZEGO_APP_ID / ZEGO_SERVER_SECRET
  zego.rtc.zego_stream_info:
    room_ids:
      - room1
      - room2
  register: listing

- name: Every stream of those rooms as one flat list of room_id / stream_id pairs
  ansible.builtin.set_fact:
    all_streams: "{{ listing.rooms | subelements('streams') | map('last') | list }}"
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
    request_id:
      description: ZEGO's RequestId of the list call, for ZEGO support.
      type: str
      sample: "5885338326725063742"
    streams:
      description: The streams in the room; empty if the room has none or does not exist.
      type: list
      elements: dict
      contains:
        stream_id:
          description: The stream.
          type: str
          sample: stream_demo
        user_id:
          description: The user that publishes the stream.
          type: str
          sample: user_demo
        user_name:
          description: That user's name.
          type: str
          sample: user_name_demo
        create_time:
          description: When the stream was created, in milliseconds since the epoch.
          type: int
          sample: 1642045110123
        stream_number_id:
          description: The stream's sequence number in the room.
          type: int
          sample: 10
  sample:
    - room_id: room1
      request_id: "5885338326725063742"
      streams:
        - stream_id: stream_demo
          user_id: user_demo
          user_name: user_name_demo
          create_time: 1642045110123
          stream_number_id: 10
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.zego.rtc.plugins.module_utils.actions import LIST_STREAMS
from ansible_collections.zego.rtc.plugins.module_utils.base import ZegoModule, check_id, zego_argument_spec
from ansible_collections.zego.rtc.plugins.module_utils.errors import ZegoError


class ZegoStreamInfo(ZegoModule):

    def collect(self):
        """Validate every room ID and return the distinct ones, before any API call."""
        p = self.params
        if p['room_ids'] is None:
            raw = [p['room_id']]
            where = [None]
        else:
            raw = p['room_ids']
            where = ['room_ids[%d]' % i for i in range(len(raw))]
        errors = []
        rooms = []
        seen = set()
        for loc, room in zip(where, raw):
            err = check_id('room_id', room) if room is not None else 'room_id must not be empty'
            if err:
                errors.append(loc + err[len('room_id'):] if loc else err)
                continue
            if room not in seen:
                seen.add(room)
                rooms.append(room)
        self.validate(errors)
        return rooms

    def run(self):
        rooms = self.collect()
        self.result['rooms'] = []
        for room in rooms:
            try:
                streams, reply = LIST_STREAMS.read(self.client, {'room_id': room})
            except ZegoError as exc:
                self.fail('could not list room %s: %s' % (room, exc.message), error=exc.to_dict())
            self.result['rooms'].append({'room_id': room, 'request_id': reply.request_id, 'streams': streams})
        self.exit()


def main():
    module = AnsibleModule(
        argument_spec=zego_argument_spec(
            room_id=dict(type='str'),
            room_ids=dict(type='list', elements='str'),
        ),
        mutually_exclusive=[('room_id', 'room_ids')],
        required_one_of=[('room_id', 'room_ids')],
        supports_check_mode=True,
    )
    ZegoStreamInfo(module).execute()


if __name__ == '__main__':
    main()
