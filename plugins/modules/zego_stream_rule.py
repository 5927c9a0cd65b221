#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: zego_stream_rule
short_description: Mute the audio and/or video of stream IDs in a ZEGO RTC room for a while (prohibition rules)
version_added: 1.1.0
description:
  - Sets or deletes ZEGO room prohibition rules with the C(SetForbidStreamRule), C(DescribeForbidStreamRules)
    and C(DelForbidStreamRule) server APIs. A rule mutes the audio, the video, or both of a stream ID in one room,
    for 1 second to 24 hours.
  - Idempotent. The rules of the stream IDs are read first (10 per request). With O(state=present), a rule that is
    still in force with the same O(disable_audio) and O(disable_video) is left as it is (C(ok)); a missing,
    expired or different rule is set (C(changed)). With O(state=absent), only a rule that ZEGO lists is deleted.
  - Takes one stream ID (O(stream_id)) or a list (O(stream_ids)) of one room. A list is validated as a whole before
    the first request, duplicates are handled once, and every stream ID is attempted even if some fail.
  - ZEGO support must enable prohibition rules for an AppID before these APIs can be used; until then ZEGO
    refuses them (the module reports code 9, no permission).
author:
  - zego.rtc maintainers (@zego-rtc)
extends_documentation_fragment:
  - zego.rtc.api
  - zego.rtc.batch
options:
  room_id:
    description:
      - The room the rules apply to. At most 128 bytes.
    type: str
    required: true
  stream_id:
    description:
      - The stream ID to mute or unmute. At most 256 bytes of letters, digits, C(-) and C(_).
      - Mutually exclusive with O(stream_ids).
    type: str
  stream_ids:
    description:
      - Many stream IDs of the room in one task. Mutually exclusive with O(stream_id). An empty list does nothing.
    type: list
    elements: str
  disable_audio:
    description:
      - Mute the audio of the stream IDs. With O(state=present), at least one of O(disable_audio) and
        O(disable_video) must be V(true).
    type: bool
    default: false
  disable_video:
    description:
      - Mute the video of the stream IDs.
    type: bool
    default: false
  duration:
    description:
      - How long a rule that is set stays in force, in seconds, from 1 to 86400 (24 hours). ZEGO's default is
        21600 (6 hours).
      - A rule that is still in force with the same settings is not set again, so this does not extend it; delete
        the rule first (O(state=absent)) to start a new period.
    type: int
    default: 21600
  state:
    description:
      - V(present) makes sure a rule with these settings is in force; V(absent) deletes the rules of the stream IDs.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    details:
      - Reads the rules with C(DescribeForbidStreamRules) and predicts every stream ID; never sends Set or Del.
  diff_mode:
    support: full
    details:
      - Shows each stream ID's rule before and after (V(absent) when there is none).
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
  - ZEGO allows 10 requests per second per AppID for each of the three actions; requests are paced to that across
    all tasks and forks of this controller (O(rate_limit) replaces it for Set and Del).
  - "ZEGO documents the C(EffectiveTime) it lists as a timestamp, but its example shows a duration. The module
    accepts both: a value that looks like a Unix time (from 10^9) is when the rule ends; a smaller one is a
    duration after C(CreateTime). A rule whose end cannot be worked out counts as not in force, so
    O(state=present) sets it again; O(state=absent) deletes every rule ZEGO lists, in force or expired."
  - The last rule set for a stream ID wins. Deleting a rule that does not exist (ZEGO code 50124, or 0) is reported
    as already absent.
seealso:
  - module: zego.rtc.zego_stream_ban
  - name: SetForbidStreamRule (ZEGO documentation)
    description: ZEGO's reference for setting a prohibition rule.
    link: https://www.zegocloud.com/docs/real-time-video-server/api-reference/room/forbid-stream-rule/set-forbid-stream-rule
  - name: DescribeForbidStreamRules (ZEGO documentation)
    description: ZEGO's reference for reading prohibition rules.
    link: https://www.zegocloud.com/docs/real-time-video-server/api-reference/room/forbid-stream-rule/describe-forbid-stream-rules
'''

EXAMPLES = r'''
- name: Mute the video of a stream for one hour
  zego.rtc.zego_stream_rule:
    app_id: 1234567890
    server_secret: "{{ zego_server_secret }}"
    room_id: room1
    stream_id: stream1
    disable_video: true
    duration: 3600
  delegate_to: localhost

- name: Mute audio and video of several streams for ZEGO's default 6 hours
  zego.rtc.zego_stream_rule:
    room_id: room1
    stream_ids: [s1, s2, s3]
    disable_audio: true
    disable_video: true
  register: muted

- name: Show what was done
  ansible.builtin.debug:
    var: muted.summary

- name: Lift the rules
  zego.rtc.zego_stream_rule:
    room_id: room1
    stream_ids: [s1, s2, s3]
    state: absent

- name: Preview (reads the rules only)
  zego.rtc.zego_stream_rule:
    room_id: room1
    stream_id: s1
    disable_audio: true
  check_mode: true
  diff: true
'''

RETURN = r'''
stream:
  description: The outcome for the one stream ID, when O(stream_id) is used.
  returned: when O(stream_id) is used
  type: dict
  contains:
    room_id:
      description: The room.
      type: str
      sample: room1
    stream_id:
      description: The stream ID.
      type: str
      sample: stream1
    outcome:
      description:
        - V(set) (a rule was set; in check mode, would be), V(unchanged) (the same rule is in force),
          V(deleted) (the rule was deleted; in check mode, would be), V(already_absent) (no rule to delete),
          or V(failed).
      type: str
      sample: set
    before:
      description:
        - The rule ZEGO listed before the task, or V(null) if there was none.
        - C(active) says whether it was still in force; C(expires_at) is when it ends (Unix seconds, V(null) if
          unknown).
      type: dict
      sample: {disable_audio: false, disable_video: true, create_time: 1700000000, effective_time: 3600,
               expires_at: 1700003600, active: true}
    code:
      description: ZEGO's return code of the Set or Del request (V(null) if none was sent).
      type: int
      sample: 0
    message:
      description: ZEGO's message, or what happened.
      type: str
      sample: success
    request_id:
      description: ZEGO's RequestId of the last request for this stream ID.
      type: str
      sample: "5885338326725063742"
    attempts:
      description: Set or Del requests sent for this stream ID (0 in check mode or when nothing was to do).
      type: int
      sample: 1
    stopped_batch:
      description:
        - V(true) when this stream ID's failure stopped the batch (an error every further request would get, such as
          no permission or rejected credentials); the stream IDs after it were not attempted and say so.
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
    - room_id: room1
      stream_id: s1
      outcome: set
      before: null
      code: 0
      message: success
      request_id: "5885338326725063742"
      attempts: 1
      stopped_batch: false
summary:
  description: Counts over the distinct stream IDs.
  returned: always
  type: dict
  contains:
    total:
      description: Distinct stream IDs.
      type: int
    set:
      description: Rules set (in check mode, that would be).
      type: int
    unchanged:
      description: Rules already in force with the same settings.
      type: int
    deleted:
      description: Rules deleted (in check mode, that would be).
      type: int
    already_absent:
      description: Stream IDs without a rule to delete.
      type: int
    failed:
      description: Stream IDs that could not be handled.
      type: int
    duplicates:
      description: Input items that repeated an earlier stream ID.
      type: int
  sample: {total: 2, set: 1, unchanged: 1, deleted: 0, already_absent: 0, failed: 0, duplicates: 0}
'''

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.zego.rtc.plugins.module_utils.actions import (
    DELETE_RULE,
    DESCRIBE_RULES,
    RULE_DEFAULT_DURATION,
    RULE_MAX_DURATION,
    SET_RULE,
)
from ansible_collections.zego.rtc.plugins.module_utils.base import batch_argument_spec, check_id, collect_ids
from ansible_collections.zego.rtc.plugins.module_utils.batch import BatchModule

MESSAGES = {'set': 'a rule would be set', 'deleted': 'the rule would be deleted',
            'unchanged': 'the same rule is in force', 'already_absent': 'there is no rule'}


class ZegoStreamRule(BatchModule):
    ITEM, ITEMS = 'stream', 'streams'
    OUTCOMES = ('set', 'unchanged', 'deleted', 'already_absent', 'failed')
    FIELDS = {'attempts': 0}

    @property
    def NOUN(self):
        return 'stream IDs of room %s' % self.params['room_id']

    def single(self):
        return self.params['stream_ids'] is None

    def single_label(self, item):
        return '%s/%s' % (item['room_id'], item['stream_id'])

    def collect(self):
        p = self.params
        errors = [e for e in [check_id('room_id', p['room_id'])] if e]
        if self.single():
            err = check_id('stream_id', p['stream_id'])
            ids, duplicates = ([], 0) if err else ([p['stream_id']], 0)
            errors += [err] if err else []
        else:
            ids, duplicates, bad = collect_ids('stream_id', p['stream_ids'], 'stream_ids')
            errors += bad
        if p['state'] == 'present':
            if not (p['disable_audio'] or p['disable_video']):
                errors.append('disable_audio and disable_video are both false: a rule must mute the audio, the '
                              'video or both (to lift a rule, use state=absent)')
            if not 1 <= p['duration'] <= RULE_MAX_DURATION:
                errors.append('duration must be from 1 to %d seconds (24 hours), got %s' % (RULE_MAX_DURATION, p['duration']))
        return [{'room_id': p['room_id'], 'stream_id': sid, 'before': None} for sid in ids], duplicates, errors

    def plan(self, items):
        """Read the rules in force and decide: set, unchanged, deleted or already_absent."""
        p, now = self.params, time.time()
        for request, rules, dummy in self.read(DESCRIBE_RULES, items, 'read the rules'):
            for item in request.records:
                rule = rules.get(item['stream_id'])
                if rule is not None:
                    rule = item['before'] = dict(rule, active=rule['expires_at'] is not None and rule['expires_at'] > now)
                if p['state'] == 'absent':
                    item['outcome'] = 'deleted' if rule is not None else 'already_absent'
                elif rule is not None and rule['active'] and rule['disable_audio'] == p['disable_audio'] \
                        and rule['disable_video'] == p['disable_video']:
                    item['outcome'] = 'unchanged'
                item['message'] = MESSAGES[item['outcome']]
        return [item for item in items if item['outcome'] in ('set', 'deleted')]

    def predict(self, todo):
        for item in todo:
            item['message'] = 'check mode: ' + item['message']

    def requests(self, todo):
        return (self.group(SET_RULE, [i for i in todo if i['outcome'] == 'set'])
                + self.group(DELETE_RULE, [i for i in todo if i['outcome'] == 'deleted']))

    def diff(self, items):
        p = self.params
        before, after = {}, {}
        wanted = {'disable_audio': p['disable_audio'], 'disable_video': p['disable_video'], 'duration': p['duration']}
        for item in items:
            if item['outcome'] == 'failed':
                continue
            rule, key = item['before'], '%s/%s' % (p['room_id'], item['stream_id'])
            before[key] = 'absent' if rule is None else dict(
                (k, rule[k]) for k in ('disable_audio', 'disable_video', 'active', 'expires_at'))
            after[key] = {'set': wanted, 'deleted': 'absent', 'already_absent': 'absent'}.get(item['outcome'], before[key])
        return {'before': before, 'after': after}


def main():
    module = AnsibleModule(
        argument_spec=batch_argument_spec(
            room_id=dict(type='str', required=True),
            stream_id=dict(type='str'),
            stream_ids=dict(type='list', elements='str'),
            disable_audio=dict(type='bool', default=False),
            disable_video=dict(type='bool', default=False),
            duration=dict(type='int', default=RULE_DEFAULT_DURATION),
            state=dict(type='str', default='present', choices=['present', 'absent']),
        ),
        mutually_exclusive=[('stream_id', 'stream_ids')],
        required_one_of=[('stream_id', 'stream_ids')],
        supports_check_mode=True,
    )
    ZegoStreamRule(module).execute()


if __name__ == '__main__':
    main()
