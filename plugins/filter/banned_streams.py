# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which streams belong to banned publishers: the one home of that decision for the event-driven
playbook (stream_create callbacks, one batch at a time) and the sweep (room listings). Documented in
banned_streams.yml next to this file."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.zego.rtc.plugins.filter.stream_cleanup import split_ids
from ansible_collections.zego.rtc.plugins.module_utils.base import check_id


def _text(value):
    if isinstance(value, int) and not isinstance(value, bool):
        return '%d' % value
    return value


def _streams_of(items):
    """(room_id, stream_id, user_id) of every stream: items are streams ({room_id, stream_id, user_id}, as
    in a stream_create callback) or room listings ({room_id, streams: [...]}, as zego_stream_info returns)."""
    for item in items:
        if not isinstance(item, dict):
            raise AnsibleFilterError('banned_streams: expected streams or room listings (dictionaries), got %s'
                                     % type(item).__name__)
        if isinstance(item.get('streams'), list) and 'stream_id' not in item:
            for stream in item['streams']:
                if isinstance(stream, dict):
                    yield _text(item.get('room_id')), _text(stream.get('stream_id')), _text(stream.get('user_id'))
        else:
            yield _text(item.get('room_id')), _text(item.get('stream_id')), _text(item.get('user_id'))


def banned_streams(items, user_ids=None, stream_id_regex=None, ban=True, report_path=None):
    """The streams of ``items`` whose publisher is in ``user_ids`` or whose ID matches ``stream_id_regex``
    (Python's re.search), each once, and what to send for them; ``report_path`` (the run's report) checked too."""
    errors = []
    if report_path in (None, ''):
        report_path = ''
    elif not isinstance(report_path, str) or not os.path.isabs(report_path):
        errors.append('zego_report_path must be an absolute path on the controller, got %r' % (report_path,))
    if items is None:
        items = []
    elif isinstance(items, dict):
        items = [items]
    if not is_sequence(items):
        errors.append('the streams must be a list, got %s' % type(items).__name__)
        items = []
    try:
        users = set(split_ids(user_ids))
    except AnsibleFilterError:
        errors.append('zego_banned_user_ids must be a list of user IDs, got %s' % type(user_ids).__name__)
        users = set()
    pattern = None
    if stream_id_regex not in (None, ''):
        try:
            pattern = re.compile('%s' % stream_id_regex)
        except re.error as exc:
            errors.append('zego_banned_stream_id_regex %r is not a valid regular expression: %s'
                          % (stream_id_regex, exc))
    try:
        ban = boolean(ban, strict=True)
    except TypeError:
        errors.append('zego_ban_banned_streams must be a boolean, got %r' % (ban,))
        ban = False
    plan = {'errors': errors, 'streams': [], 'stream_ids': [], 'matched': [], 'rejected': [], 'seen': 0,
            'report_path': report_path}
    if errors:
        return plan
    seen = set()
    for room_id, stream_id, user_id in _streams_of(items):
        plan['seen'] += 1
        reasons = []
        if user_id is not None and user_id in users:
            reasons.append('banned user %s' % user_id)
        if pattern is not None and isinstance(stream_id, str) and pattern.search(stream_id):
            reasons.append('stream ID matches %s' % stream_id_regex)
        if not reasons or (room_id, stream_id) in seen:
            continue
        seen.add((room_id, stream_id))
        record = {'room_id': room_id, 'stream_id': stream_id, 'user_id': user_id, 'reason': ', '.join(reasons)}
        problems = [e for e in (check_id('room_id', room_id), check_id('stream_id', stream_id)) if e]
        if room_id is None or stream_id is None:
            problems.append('room_id and stream_id are required')
        if problems:
            # sent on its own it would fail; in the list it would stop the others: reported instead
            plan['rejected'].append(dict(record, message='; '.join(problems)))
            continue
        plan['matched'].append(record)
        plan['streams'].append({'room_id': room_id, 'stream_id': stream_id})
        if ban and stream_id not in plan['stream_ids']:
            plan['stream_ids'].append(stream_id)
    return plan


class FilterModule(object):

    def filters(self):
        return {'banned_streams': banned_streams}
