#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: zego_room_message
short_description: Send a message to ZEGO RTC rooms (broadcast, barrage or custom command)
version_added: 1.2.0
description:
  - Sends a message to every user of ZEGO RTC rooms with ZEGO's C(SendBroadcastMessage) (O(kind=broadcast), the
    default), C(SendBarrageMessage) (O(kind=barrage)), or a custom command to chosen users with
    C(SendCustomCommand) (O(kind=command)). For example, a system message before a moderator kicks a user or
    closes a room.
  - Not idempotent by nature, since every run sends the message again and reports C(changed).
  - Takes one room (O(room_id)) or a list (O(room_ids)). Every input is checked before the first request (the
    text at most 1024 bytes, ZEGO's ID rules); a room given twice gets the message once; every room is
    attempted even if some fail, and the task then fails at the end and still reports every room.
  - A room that does not exist (it has no users; ZEGO codes 104, 5024, 50001) fails with a message that says so.
  - Requests are paced to ZEGO's 100 per second per AppID for each kind (10 in the test environment) across all
    tasks and forks of this controller; rate-limit answers (206) are paced and retried.
author:
  - zego.rtc maintainers (@zego-rtc)
extends_documentation_fragment:
  - zego.rtc.api
  - zego.rtc.batch
options:
  room_id:
    description:
      - The room to send the message to. At most 128 bytes. Mutually exclusive with O(room_ids).
    type: str
  room_ids:
    description:
      - Rooms to send the message to, in this order. Repeated IDs get the message once.
      - Mutually exclusive with O(room_id). An empty list does nothing.
    type: list
    elements: str
  text:
    description:
      - The message to send (ZEGO's C(MessageContent)). At most 1024 bytes; not empty.
      - For O(kind=command), often a JSON text that the client application interprets.
      - (C(message) cannot be the name of a module option in Ansible.)
    type: str
    required: true
  kind:
    description:
      - V(broadcast) a message every user of the room receives (C(SendBroadcastMessage)).
      - V(barrage) a barrage ("danmaku") message (C(SendBarrageMessage)); ZEGO does not guarantee its delivery.
      - V(command) a custom command (C(SendCustomCommand)) to O(to_user_ids), or to everyone in the room when
        that is empty.
    type: str
    choices: [broadcast, barrage, command]
    default: broadcast
  category:
    description:
      - For V(broadcast) and V(barrage), ZEGO's C(MessageCategory), V(system) (a system message, the default) or
        V(chat). Refused with O(kind=command).
    type: str
    choices: [system, chat]
  to_user_ids:
    description:
      - For O(kind=command), the users to send the command to (each at most 64 bytes). ZEGO takes 10 per request,
        so more are sent in several requests to the room, in this order; repeated IDs are sent once.
      - Empty or unset, the command goes to everyone in the room. Refused with the other kinds.
    type: list
    elements: str
  user_id:
    description:
      - The sender (C(UserId), or C(FromUserId) for a command). It need not be in the room.
      - Use a server identity, since a client logged in with the sender's ID does not receive the message. At
        most 64 bytes.
    type: str
    default: Server-Administrator
  user_name:
    description:
      - The sender's name (C(UserName)) for V(broadcast) and V(barrage). At most 256 bytes. Refused with
        O(kind=command) (ZEGO's command has no sender name).
    type: str
attributes:
  check_mode:
    support: full
    details:
      - Sends no message. Counts the users of up to 10 rooms per request (C(DescribeUserNum)) and predicts that a
        room with users would get the message and a room without users fails (it does not exist). RV(outgoing)
        says what would be sent.
  diff_mode:
    support: none
  idempotent:
    support: none
    details:
      - A message is an event, not a state; every run sends it again.
  action_group:
    support: full
    membership:
      - zego.rtc.zego
  platform:
    support: full
    platforms: posix
notes:
  - If ZEGO's answer is lost (time-out, connection dropped), the request is sent again, so the room may get the
    message twice; the room's result then has RV(rooms[].response_lost=true).
  - In rooms with more than 500 users ZEGO does not guarantee the delivery of broadcast messages.
seealso:
  - module: zego.rtc.zego_room
  - module: zego.rtc.zego_room_user
  - name: SendBroadcastMessage (ZEGO documentation)
    description: ZEGO's reference for a broadcast message.
    link: https://www.zegocloud.com/docs/real-time-video-server/api-reference/room/send-broadcast-message
  - name: SendBarrageMessage (ZEGO documentation)
    description: ZEGO's reference for a barrage message.
    link: https://www.zegocloud.com/docs/real-time-video-server/api-reference/room/send-barrage-message
  - name: SendCustomCommand (ZEGO documentation)
    description: ZEGO's reference for a custom command.
    link: https://www.zegocloud.com/docs/real-time-voice-server/api-reference/room/send-custom-command
'''

EXAMPLES = r'''
- name: Tell the room it closes in five minutes
  zego.rtc.zego_room_message:
    app_id: 1234567890
    server_secret: "{{ zego_server_secret }}"
    room_id: room1
    text: This room closes in 5 minutes
  delegate_to: localhost

- name: A chat barrage to several rooms from a named sender; credentials from ZEGO_APP_ID / ZEGO_SERVER_SECRET
  zego.rtc.zego_room_message:
    room_ids: [party-1, party-2]
    text: The movie starts now
    kind: barrage
    category: chat
    user_id: host-bot
    user_name: Host

- name: A custom command to chosen users (ten per request)
  zego.rtc.zego_room_message:
    room_id: room1
    kind: command
    text: '{"action": "mute_mic"}'
    to_user_ids: "{{ noisy_users }}"
  register: muted

- name: Dry run - counts the users of each room and shows what would be sent
  zego.rtc.zego_room_message:
    room_ids: "{{ rooms }}"
    text: Maintenance in 10 minutes
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
      description: V(sent) (in check mode, would be sent) or V(failed).
      type: str
      sample: sent
    message_id:
      description:
        - ZEGO's MessageId of the message in this room, where ZEGO gives one; a number for a broadcast, a text for
          a barrage, V(null) for a command and in check mode.
      type: raw
      sample: 3
    code:
      description: ZEGO's code of the last answer (V(null) in check mode or when no answer came).
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
    requests:
      description: Requests sent (in check mode, that would be sent) to this room; a command to more than 10 users
        takes several.
      type: int
      sample: 1
    attempts:
      description: Attempts of all those requests (0 in check mode).
      type: int
      sample: 1
    response_lost:
      description: An attempt got no answer and the request was sent again; the room may have got the message twice.
      type: bool
      sample: false
    user_count:
      description: Check mode only, the users in the room (C(DescribeUserNum)).
      type: int
      returned: in check mode
      sample: 12
    stopped_batch:
      description:
        - V(true) when this room's failure stopped the batch (an error every further request would get, such as
          rejected credentials); the rooms after it were not attempted and say so in their message.
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
summary:
  description: Counts over the distinct rooms.
  returned: always
  type: dict
  contains:
    total:
      description: Distinct rooms.
      type: int
    sent:
      description: Rooms that got the message (in check mode, that would).
      type: int
    failed:
      description: Rooms that did not.
      type: int
    duplicates:
      description: Room IDs given more than once.
      type: int
  sample: {total: 2, sent: 2, failed: 0, duplicates: 0}
outgoing:
  description: What is sent to every room (in check mode, what would be sent).
  returned: always
  type: dict
  contains:
    action:
      description: The ZEGO action.
      type: str
      sample: SendBroadcastMessage
    kind:
      description: O(kind).
      type: str
      sample: broadcast
    category:
      description: O(category) for a broadcast or barrage (V(system) unless set), V(null) for a command.
      type: str
      sample: system
    text:
      description: O(text).
      type: str
      sample: This room closes in 5 minutes
    user_id:
      description: The sender.
      type: str
      sample: Server-Administrator
    user_name:
      description: The sender's name, if set.
      type: str
    to_user_ids:
      description: For a command, the distinct target users (empty for the whole room); V(null) otherwise.
      type: list
      elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.zego.rtc.plugins.module_utils.actions import (
    COMMAND_MAX_USERS,
    COUNT_USERS,
    DEFAULT_USER_ID,
    MESSAGE_ACTIONS,
)
from ansible_collections.zego.rtc.plugins.module_utils.base import batch_argument_spec, check_id, collect_ids
from ansible_collections.zego.rtc.plugins.module_utils.batch import BatchModule, Request, chunks
from ansible_collections.zego.rtc.plugins.module_utils.text_limits import check_text

NO_ROOM = 'room %s does not exist (it has no users): nobody to send the message to'


class ZegoRoomMessage(BatchModule):
    ITEMS, NOUN = 'rooms', 'rooms'
    OUTCOMES = ('sent', 'failed')
    UNCHANGED = ('failed',)
    DIFF = None
    FIELDS = {'message_id': None, 'attempts': 0, 'response_lost': False}

    def collect(self):
        p = self.params
        if p['room_ids'] is None:
            err = check_id('room_id', p['room_id'])
            rooms, duplicates, errors = ([p['room_id']], 0, []) if not err else ([], 0, [err])
        else:
            rooms, duplicates, errors = collect_ids('room_id', p['room_ids'], 'room_ids')
        errors += [e for e in (check_text('message', p['text'], name='text', required=True), check_id('user_id', p['user_id']),
                               check_id('user_name', p['user_name'])) if e]
        self.targets = []
        if p['kind'] == 'command':
            self.targets, dummy, bad = collect_ids('user_id', p['to_user_ids'], 'to_user_ids')
            errors += bad
            errors += ['%s does not apply to kind=command' % f for f in ('category', 'user_name') if p[f] is not None]
        elif p['to_user_ids']:
            errors.append('to_user_ids applies to kind=command only (kind is %s)' % p['kind'])
        # a command to chosen users: ZEGO takes COMMAND_MAX_USERS a request; None sends to the whole room
        self.parts = chunks(self.targets, COMMAND_MAX_USERS) if self.targets else [None]
        return [{'room_id': r, 'requests': len(self.parts)} for r in rooms], duplicates, errors

    def predict(self, todo):
        for request, counts, reply in self.read(COUNT_USERS, todo, 'count the users'):
            for item in request.records:
                count = item['user_count'] = counts[item['room_id']]['user_count']
                item['request_id'] = reply.request_id
                if count:
                    item['message'] = 'check mode: the room has %d users; not sent' % count
                else:
                    self.fail_items([item], {'code': None, 'message': NO_ROOM % item['room_id'],
                                             'request_id': reply.request_id, 'action': COUNT_USERS.name},
                                    message='check mode: ' + NO_ROOM % item['room_id'])

    def requests(self, todo):
        return self.group(MESSAGE_ACTIONS[self.params['kind']], todo)

    def send(self, request):
        """A room's message: one request per part of the users (a command to more than COMMAND_MAX_USERS), in
        order; the room's first failure ends it."""
        item = request.records[0]
        attempts, lost = 0, False
        for part in self.parts:
            item['attempts'] = 0
            super(ZegoRoomMessage, self).send(Request(request.action, dict(request.fields, to_user_ids=part), [item]))
            attempts += item['attempts']
            lost = lost or item['response_lost']
            item.update(attempts=attempts, response_lost=lost)
            if item['outcome'] == 'failed':
                break

    def answered(self, request, reply):
        """ZEGO's MessageId: a number for a broadcast, a text for a barrage, none for a command."""
        item = request.records[0]
        # a lost answer means the room may have got the message twice
        item['response_lost'] = reply.response_lost
        if isinstance(reply.data, dict):
            item['message_id'] = reply.data.get('MessageId')

    def report(self, summary):
        p = self.params
        command = p['kind'] == 'command'
        self.result['outgoing'] = {
            'action': MESSAGE_ACTIONS[p['kind']].name, 'kind': p['kind'],
            'category': None if command else (p['category'] or 'system'), 'text': p['text'], 'user_id': p['user_id'],
            'user_name': p['user_name'], 'to_user_ids': self.targets if command else None}


def main():
    module = AnsibleModule(
        argument_spec=batch_argument_spec(
            room_id=dict(type='str'),
            room_ids=dict(type='list', elements='str'),
            text=dict(type='str', required=True),
            kind=dict(type='str', default='broadcast', choices=['broadcast', 'barrage', 'command']),
            category=dict(type='str', choices=['system', 'chat']),
            to_user_ids=dict(type='list', elements='str'),
            user_id=dict(type='str', default=DEFAULT_USER_ID),
            user_name=dict(type='str'),
        ),
        mutually_exclusive=[('room_id', 'room_ids')],
        required_one_of=[('room_id', 'room_ids')],
        supports_check_mode=True,
    )
    ZegoRoomMessage(module).execute()


if __name__ == '__main__':
    main()
