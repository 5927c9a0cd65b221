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
  concurrency:
    description:
      - The most requests in flight at once. Pacing applies regardless. Between 1 and 32; without it, as many as
        the rate needs at ZEGO's answer time, at most 32.
    type: int
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

from ansible_collections.zego.rtc.plugins.module_utils.api import (
    COMMAND_MAX_USERS,
    DEFAULT_USER_ID,
    DESCRIBE_USER_NUM_MAX_ROOMS,
    MESSAGE_ACTIONS,
    OK,
    ROOM_MISSING_CODES,
    ZegoError,
    describe_code,
)
from ansible_collections.zego.rtc.plugins.module_utils.base import ZegoModule, check_id, zego_argument_spec
from ansible_collections.zego.rtc.plugins.module_utils.batch import (
    Abort,
    chunks,
    collect_ids,
    failure_text,
    parallel_map,
    summarize,
)
from ansible_collections.zego.rtc.plugins.module_utils.text_limits import check_text

OUTCOMES = ('sent', 'failed')
NO_ROOM = 'room %s does not exist (it has no users): nobody to send the message to'


class ZegoRoomMessage(ZegoModule):

    def collect(self):
        p = self.params
        if p['room_ids'] is None:
            err = check_id('room_id', p['room_id'])
            rooms, duplicates, errors = ([p['room_id']], 0, []) if not err else ([], 0, [err])
        else:
            rooms, duplicates, errors = collect_ids('room_id', p['room_ids'], 'room_ids')
        errors += [e for e in (check_text('message', p['text'], name='text', required=True), check_id('user_id', p['user_id']),
                               check_id('user_name', p['user_name'])) if e]
        targets = []
        if p['kind'] == 'command':
            targets, dummy, bad = collect_ids('user_id', p['to_user_ids'], 'to_user_ids')
            errors += bad
            errors += ['%s does not apply to kind=command' % f for f in ('category', 'user_name') if p[f] is not None]
        elif p['to_user_ids']:
            errors.append('to_user_ids applies to kind=command only (kind is %s)' % p['kind'])
        self.validate(errors)
        return rooms, duplicates, targets

    def outgoing(self, targets):
        p = self.params
        command = p['kind'] == 'command'
        return {'action': MESSAGE_ACTIONS[p['kind']], 'kind': p['kind'],
                'category': None if command else (p['category'] or 'system'), 'text': p['text'],
                'user_id': p['user_id'], 'user_name': p['user_name'], 'to_user_ids': targets if command else None}

    @staticmethod
    def record(room_id, parts, **fields):
        res = {'room_id': room_id, 'outcome': 'failed', 'message_id': None, 'code': None, 'message': None,
               'request_id': None, 'requests': len(parts), 'attempts': 0, 'response_lost': False,
               'stopped_batch': False}
        res.update(fields)
        return res

    def failed(self, res, exc_or_error, message=None):
        error = exc_or_error.to_dict() if isinstance(exc_or_error, ZegoError) else exc_or_error
        res.update(outcome='failed', code=error['code'], message=message or error['message'],
                   request_id=error['request_id'], error=dict(error, message=message or error['message']))
        res['stopped_batch'] = self.abort.note(error, exc_or_error if isinstance(exc_or_error, ZegoError) else error['code'])
        return res

    # -- real run -----------------------------------------------------------------------------------
    def send_one(self, room_id, parts):
        p = self.params
        res = self.record(room_id, parts)
        for part in parts:
            if self.abort.error is not None:
                error = self.abort.not_attempted()
                res.update(code=error['code'], message=error['message'], error=error)
                return res
            try:
                reply = self.client.send_message(p['kind'], room_id, p['text'], p['user_id'], p['user_name'],
                                                 p['category'] or 'system', part)
            except ZegoError as exc:
                res['attempts'] += exc.attempts
                res['response_lost'] = res['response_lost'] or exc.response_lost
                return self.failed(res, exc)
            res['attempts'] += reply.attempts
            res.update(code=reply.code, message=reply.message, request_id=reply.request_id,
                       response_lost=res['response_lost'] or reply.response_lost)
            if reply.code != OK:
                text = describe_code(reply.code, reply.message)
                if reply.code in ROOM_MISSING_CODES:
                    text = '%s (%s)' % (NO_ROOM % room_id, text)
                error = ZegoError(text, code=reply.code, request_id=reply.request_id, action=MESSAGE_ACTIONS[p['kind']])
                return self.failed(res, error.to_dict())
            if isinstance(reply.data, dict):
                res['message_id'] = reply.data.get('MessageId')
        res['outcome'] = 'sent'
        return res

    # -- check mode ---------------------------------------------------------------------------------
    def predict(self, rooms, parts):
        results = []
        for chunk in chunks(rooms, DESCRIBE_USER_NUM_MAX_ROOMS):
            if self.abort.error is not None:
                results.extend(self.failed(self.record(r, parts), self.abort.not_attempted()) for r in chunk)
                continue
            try:
                counts, reply = self.client.describe_user_num(chunk)
            except ZegoError as exc:
                results.extend(self.failed(self.record(r, parts), exc, 'could not count the users: %s' % exc.message)
                               for r in chunk)
                continue
            for room_id in chunk:
                count = counts[room_id]['user_count']
                res = self.record(room_id, parts, request_id=reply.request_id, user_count=count)
                if count:
                    res.update(outcome='sent', message='check mode: the room has %d users; not sent' % count)
                else:
                    res.update(message='check mode: ' + NO_ROOM % room_id, error={
                        'code': None, 'message': NO_ROOM % room_id, 'request_id': reply.request_id,
                        'action': 'DescribeUserNum'})
                results.append(res)
        return results

    def run(self):
        rooms, duplicates, targets = self.collect()
        self.abort = Abort()
        # a command to chosen users: ZEGO takes COMMAND_MAX_USERS per request; None sends to the whole room
        parts = chunks(targets, COMMAND_MAX_USERS) if targets else [None]
        if self.module.check_mode:
            results = self.predict(rooms, parts)
        elif rooms:
            self.client.expect(MESSAGE_ACTIONS[self.params['kind']], len(rooms) * len(parts))
            results = parallel_map(lambda r: self.send_one(r, parts), rooms, self.params['concurrency'] or 4)
        else:
            results = []
        summary = summarize(results, OUTCOMES, duplicates=duplicates)
        self.result.update(changed=summary['sent'] > 0, rooms=results, summary=summary, outgoing=self.outgoing(targets))
        failed = [r for r in results if r['outcome'] == 'failed']
        if failed:
            self.fail(failure_text(failed, len(results), 'rooms', lambda r: r['room_id']))
        self.exit()


def main():
    module = AnsibleModule(
        argument_spec=zego_argument_spec(
            room_id=dict(type='str'),
            room_ids=dict(type='list', elements='str'),
            text=dict(type='str', required=True),
            kind=dict(type='str', default='broadcast', choices=['broadcast', 'barrage', 'command']),
            category=dict(type='str', choices=['system', 'chat']),
            to_user_ids=dict(type='list', elements='str'),
            user_id=dict(type='str', default=DEFAULT_USER_ID),
            user_name=dict(type='str'),
            concurrency=dict(type='int'),
        ),
        mutually_exclusive=[('room_id', 'room_ids')],
        required_one_of=[('room_id', 'room_ids')],
        supports_check_mode=True,
    )
    ZegoRoomMessage(module).execute()


if __name__ == '__main__':
    main()
