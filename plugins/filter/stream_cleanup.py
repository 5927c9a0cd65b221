# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters behind the zego.rtc.stream_cleanup role and the zego.rtc playbooks: input validation that
runs before any API call (with the same ID rules as the modules), the deletion plan, the summary, and
the parsing of survey-style ID lists. Documented in the .yml files next to this one."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence

from ansible_collections.zego.rtc.plugins.module_utils.base import check_id
# the message of an item a stopped batch did not send, as zego_stream words it
from ansible_collections.zego.rtc.plugins.module_utils.batch import NOT_ATTEMPTED

STREAM_FIELDS = ('room_id', 'stream_id', 'user_id', 'user_name')
_SEPARATORS = re.compile(r'[\s,;]+')


def _text(value):
    """IDs given as YAML numbers are IDs too; everything else is checked as it is."""
    if isinstance(value, int) and not isinstance(value, bool):
        return '%d' % value
    return value


def _at(loc, field, err):
    # check_id names the field first; put the full location in its place
    return '%s.%s%s' % (loc, field, err[len(field):])


def stream_cleanup_errors(streams, rooms=None, keep_regex=None, chunk_size=100, report_path=None):
    """Every problem with the role's inputs, as messages; an empty list when all is well."""
    errors = []
    if streams is None:
        streams = []
    if not is_sequence(streams):
        errors.append('stream_cleanup_streams must be a list of {room_id, stream_id} items, got %s'
                      % type(streams).__name__)
        streams = []
    for i, item in enumerate(streams):
        loc = 'stream_cleanup_streams[%d]' % i
        if not isinstance(item, dict):
            errors.append('%s must be a dictionary with room_id and stream_id, got %r' % (loc, item))
            continue
        unknown = sorted(set(item) - set(STREAM_FIELDS))
        if unknown:
            errors.append('%s has unsupported keys: %s (allowed: %s)' % (loc, ', '.join(unknown), ', '.join(STREAM_FIELDS)))
        for field in STREAM_FIELDS:
            value = _text(item.get(field))
            if value is None:
                if field in ('room_id', 'stream_id'):
                    errors.append('%s.%s is required' % (loc, field))
                continue
            err = check_id(field, value)
            if err:
                errors.append(_at(loc, field, err))
    if rooms is None:
        rooms = []
    if not is_sequence(rooms):
        errors.append('stream_cleanup_rooms must be a list of room IDs, got %s' % type(rooms).__name__)
        rooms = []
    for i, room in enumerate(rooms):
        room = _text(room)
        err = check_id('room_id', room) if room is not None else 'room_id must not be empty'
        if err:
            errors.append('stream_cleanup_rooms[%d]%s' % (i, err[len('room_id'):]))
    if keep_regex not in (None, ''):
        if not isinstance(keep_regex, str):
            errors.append('stream_cleanup_keep_regex must be a string, got %s' % type(keep_regex).__name__)
        else:
            try:
                re.compile(keep_regex)
            except re.error as exc:
                errors.append('stream_cleanup_keep_regex %r is not a valid regular expression: %s' % (keep_regex, exc))
    try:
        size = int(chunk_size)
    except (TypeError, ValueError):
        size = 0
    if isinstance(chunk_size, bool) or size < 1:
        errors.append('stream_cleanup_chunk_size must be a whole number of at least 1, got %r' % (chunk_size,))
    if report_path not in (None, ''):
        if not isinstance(report_path, str) or not report_path.startswith('/'):
            errors.append('stream_cleanup_report_path must be an absolute path on the controller, got %r' % (report_path,))
    return errors


def _key(item):
    return (item['room_id'], item['stream_id'])


def stream_cleanup_plan(streams, listing=None, rooms=None, keep_regex=None, checked=None):
    """What the role deletes.

    ``streams`` the explicit streams; ``listing`` the ``rooms`` result of zego_stream_info; ``rooms``
    the rooms to purge (each must be in ``listing``); ``keep_regex`` spares matching stream IDs of
    purged rooms; ``checked`` the ``streams`` result of zego_stream in check mode for ``unlisted``.
    Returns ``{streams, kept, unlisted, predicted, rejected}``: the distinct streams to delete
    (explicit ones first, in input order, then each purged room's streams), the spared ones, the
    streams to delete whose room is not in ``listing`` (zego_stream's check mode answers for those),
    the check-mode outcome of every stream to delete whose room is in ``listing`` or that is in
    ``checked``, in plan order, and failed records for listed streams whose ID the modules would
    refuse (they are not sent)."""
    listed = {}
    request_ids = {}
    for room in listing or []:
        listed[room['room_id']] = [s['stream_id'] for s in room.get('streams') or []]
        request_ids[room['room_id']] = room.get('request_id')
    keep = re.compile(keep_regex) if keep_regex not in (None, '') else None
    plan, kept, rejected, seen = [], [], [], set()
    for item in streams or []:
        entry = {'room_id': _text(item['room_id']), 'stream_id': _text(item['stream_id'])}
        for field in ('user_id', 'user_name'):
            if item.get(field) is not None:
                entry[field] = _text(item[field])
        if _key(entry) not in seen:
            seen.add(_key(entry))
            plan.append(entry)
    purge_seen = set()
    for room in rooms or []:
        room = _text(room)
        if room in purge_seen:
            continue
        purge_seen.add(room)
        if room not in listed:
            raise AnsibleFilterError('stream_cleanup_plan: room %r to purge was not listed' % room)
        for stream_id in listed[room]:
            entry = {'room_id': room, 'stream_id': stream_id}
            if keep is not None and keep.search(stream_id):
                kept.append(entry)
                continue
            if _key(entry) in seen:
                continue
            seen.add(_key(entry))
            problem = check_id('stream_id', stream_id)
            if problem:
                # listed by ZEGO but outside the rules the modules enforce: report it, send nothing
                rejected.append(dict(entry, user_id=None, outcome='failed', code=None, request_id=request_ids.get(room),
                                     attempts=0, message='not sent: the listed %s' % problem))
                continue
            plan.append(entry)
    # zego_stream's own check-mode records, for the streams whose room the role did not list
    by_key = dict((_key(rec), rec) for rec in checked or [])
    predicted = []
    for entry in plan:
        if entry['room_id'] not in listed:
            if _key(entry) in by_key:
                predicted.append(by_key[_key(entry)])
            continue
        # a room the role listed itself (to purge it): that listing answers, and the room is not listed twice
        present = entry['stream_id'] in listed[entry['room_id']]
        predicted.append({
            'room_id': entry['room_id'],
            'stream_id': entry['stream_id'],
            'user_id': entry.get('user_id'),
            'outcome': 'deleted' if present else 'already_absent',
            'code': None,
            'request_id': request_ids.get(entry['room_id']),
            'message': 'check mode: the stream is present and would be deleted' if present
                       else 'check mode: the stream is not in the room',
        })
    unlisted = [entry for entry in plan if entry['room_id'] not in listed]
    return {'streams': plan, 'kept': kept, 'unlisted': unlisted, 'predicted': predicted, 'rejected': rejected}


def stream_cleanup_chunk(chunk, result=None, stopped=None):
    """The records of one chunk of the role, and what stops the run.

    ``chunk`` the chunk's streams; ``result`` the zego_stream result for it; ``stopped`` the record of
    the stream whose failure stopped an earlier chunk (anything else: the run goes on). Returns
    ``{records, stopped}``: zego_stream's records, or, once the run is stopped, a failed record per
    stream that says it was not attempted; and the record that stops the run from now on, if any."""
    if isinstance(stopped, dict):
        return {'records': [dict(item, outcome='failed', code=stopped.get('code'), request_id=None, attempts=0,
                                 message=NOT_ATTEMPTED % stopped.get('message')) for item in chunk or []],
                'stopped': stopped}
    records = (result or {}).get('streams') or []
    # zego_stream marks the stream whose failure stopped its batch: every further request would fail too
    first = [rec for rec in records if rec.get('stopped_batch') is True]
    return {'records': records, 'stopped': first[0] if first else None}


def stream_cleanup_summary(records, kept=None):
    """Counts over the per-stream records, and the failed streams with their codes."""
    summary = {'total': 0, 'deleted': 0, 'already_absent': 0, 'failed': 0, 'kept': len(kept or []), 'failed_items': []}
    for rec in records or []:
        summary['total'] += 1
        outcome = rec.get('outcome')
        if outcome not in ('deleted', 'already_absent'):
            outcome = 'failed'
        summary[outcome] += 1
        if outcome == 'failed':
            summary['failed_items'].append({
                'room_id': rec.get('room_id'),
                'stream_id': rec.get('stream_id'),
                'code': rec.get('code'),
                'message': rec.get('message'),
            })
    return summary


def split_ids(value, room_id=None):
    """IDs from a list, or from one text separated by newlines, commas, semicolons or spaces.

    With ``room_id``, returns ``{room_id, stream_id}`` items instead."""
    if value is None:
        parts = []
    elif isinstance(value, (str, int)):
        parts = _SEPARATORS.split('%s' % value)
    elif is_sequence(value):
        parts = []
        for element in value:
            parts.extend(split_ids(element))
    else:
        raise AnsibleFilterError('split_ids: expected a text or a list of IDs, got %s' % type(value).__name__)
    ids = [p for p in (x.strip() for x in parts) if p]
    if room_id is None:
        return ids
    return [{'room_id': _text(room_id), 'stream_id': i} for i in ids]


class FilterModule(object):

    def filters(self):
        return {
            'stream_cleanup_errors': stream_cleanup_errors,
            'stream_cleanup_plan': stream_cleanup_plan,
            'stream_cleanup_summary': stream_cleanup_summary,
            'stream_cleanup_chunk': stream_cleanup_chunk,
            'split_ids': split_ids,
        }
