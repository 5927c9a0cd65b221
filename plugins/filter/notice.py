# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The notice a playbook broadcasts to rooms before acting on them (kick_users, close_rooms), as it goes into
the playbook's report. Documented in notice_report.yml next to this file."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.errors import AnsibleFilterError

# what the report keeps of each room's outcome (zego.rtc.zego_room_message's rooms)
ROOM_FIELDS = ('room_id', 'outcome', 'code', 'message', 'message_id', 'request_id')


def notice_report(outcome, notice, delay=0):
    """The report entry of a notice: None when no notice was given; otherwise the text, the delay, and the
    summary and per-room outcomes of the zego_room_message task registered as ``outcome``."""
    if not notice:
        return None
    if not isinstance(outcome, dict):
        raise AnsibleFilterError('notice_report: expected the registered result of the notice task, got %s'
                                 % type(outcome).__name__)
    rooms = outcome.get('rooms')
    if not isinstance(rooms, list):
        # the task did not run or could not run at all (its msg says why)
        return {'message': notice, 'delay': delay, 'summary': None, 'rooms': [],
                'error': outcome.get('msg') or 'the notice was not sent'}
    return {
        'message': notice,
        'delay': delay,
        'summary': outcome.get('summary'),
        'rooms': [dict((k, room.get(k)) for k in ROOM_FIELDS) for room in rooms if isinstance(room, dict)],
    }


class FilterModule(object):

    def filters(self):
        return {'notice_report': notice_report}
