# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one home of playbook input parsing: survey-style texts and lists of IDs are split, combined and
validated (with the modules' own ID rules) and the common playbook options are checked and normalised.
Every playbook of the collection calls it once; it returns the parsed items and every error at once.
Documented in parse_input.yml next to this file."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.zego.rtc.plugins.filter.stream_cleanup import split_ids
from ansible_collections.zego.rtc.plugins.module_utils.base import check_id
from ansible_collections.zego.rtc.plugins.module_utils.text_limits import check_text

CUSTOM_REASON_MAX = 256  # CloseRoom / KickoutUser CustomReason, UTF-8 bytes
NOTICE_DELAY_MAX = 3600  # seconds a playbook waits between its notice and its action, at most
MESSAGE_KINDS = ('broadcast', 'barrage', 'command')
MESSAGE_CATEGORIES = ('system', 'chat')

# The kinds of items a playbook acts on:
#   list      the option that takes a list of items (dicts with `fields`, or plain IDs)
#   text      the option that takes IDs as survey text (or a list), of field `id`
#   room      True if `text` needs a room_id next to it
#   fields    the keys of a list item (required ones first, `required` of them)
ITEM_KINDS = {
    'streams': {'list': 'streams', 'text': 'stream_ids', 'id': 'stream_id', 'room': True, 'noun': 'streams',
                'fields': ('room_id', 'stream_id', 'user_id', 'user_name'), 'required': 2},
    'users': {'list': 'users', 'text': 'user_ids', 'id': 'user_id', 'room': True, 'noun': 'users',
              'fields': ('room_id', 'user_id'), 'required': 2},
    'rooms': {'list': 'rooms', 'text': 'room_ids', 'id': 'room_id', 'room': False, 'noun': 'rooms'},
    'stream_ids': {'list': None, 'text': 'stream_ids', 'id': 'stream_id', 'room': False, 'noun': 'streams'},
}

# Options every playbook may take, with their defaults (None: unset)
OPTIONS = {
    'report_path': '',
    'chunk_size': 100,
    'fail_on_error': True,
    'keep_regex': '',
    'custom_reason': None,
    'user_id': None,
    'user_name': None,
    'room_close_callback': None,
    # add_streams
    'title': None,
    'extra_info': None,
    'moderation_opt_out': None,
    # notify_rooms
    'message': None,
    'kind': 'broadcast',
    'category': None,
    'to_user_ids': [],
    # a notice broadcast to the rooms before kick_users / close_rooms act, and the seconds to wait after it
    'notice': '',
    'notice_delay': 0,
}


def _text(value):
    """IDs given as YAML numbers are IDs too."""
    if isinstance(value, int) and not isinstance(value, bool):
        return '%d' % value
    return value


def _given(value):
    return value is not None and not (isinstance(value, str) and not value.strip())


def _at(loc, field, err):
    # check_id names the field first; put the full location in its place
    return loc + err[len(field):]


def _list_items(kind, value, errors):
    """Items of the list option (``streams``, ``users``, ``rooms``); None if it is not a list."""
    name = kind['list']
    if not is_sequence(value) or isinstance(value, dict):
        if 'fields' in kind:
            errors.append('%s must be a list of {%s} items, got: %s' % (name, ', '.join(kind['fields'][:kind['required']]),
                                                                        ('%s' % (value,))[:80]))
        else:
            errors.append('%s must be a list of %s, got: %s' % (name, 'room IDs' if kind['id'] == 'room_id' else 'IDs',
                                                                ('%s' % (value,))[:80]))
        return None
    if 'fields' not in kind:
        return [_text(v) for v in value]
    items = []
    for i, item in enumerate(value):
        loc = '%s[%d]' % (name, i)
        if not isinstance(item, dict):
            errors.append('%s must be a dictionary with %s, got %r' % (loc, ' and '.join(kind['fields'][:kind['required']]), item))
            continue
        unknown = sorted(set(item) - set(kind['fields']))
        if unknown:
            allowed = ', '.join(kind['fields'])
            errors.append('%s has unsupported keys: %s (allowed: %s)' % (loc, ', '.join('%s' % k for k in unknown), allowed))
        entry = {}
        for n, field in enumerate(kind['fields']):
            value = _text(item.get(field))
            if value is None:
                if n < kind['required']:
                    errors.append('%s.%s is required' % (loc, field))
                continue
            err = check_id(field, value)
            if err:
                errors.append(_at('%s.%s' % (loc, field), field, err))
            entry[field] = value
        items.append(entry)
    return items


def _items(kind_name, data, verb, errors):
    kind = ITEM_KINDS[kind_name]
    text_name, id_field, noun = kind['text'], kind['id'], kind['noun']
    listed = []
    list_ok = True
    if kind['list'] and _given(data.get(kind['list'])):
        listed = _list_items(kind, data[kind['list']], errors)
        list_ok = listed is not None
        listed = listed or []
    try:
        ids = split_ids(data.get(text_name))
    except AnsibleFilterError:
        errors.append('%s must be a text of IDs separated by newlines, commas or spaces, or a list' % text_name)
        ids = []
    if not kind['room']:
        combined = []
        for value in listed + ids:
            if value not in combined:
                combined.append(value)
        # the location names the list option when there is one: rooms[1] is the second room, wherever it came from
        where = kind['list'] or text_name
        for i, value in enumerate(combined):
            err = check_id(id_field, value) if value is not None else '%s must not be empty' % id_field
            if err:
                errors.append(_at('%s[%d]' % (where, i), id_field, err))
        if list_ok and not combined:
            how = ('%s (a list) or %s (%s separated by newlines, commas or spaces)' % (kind['list'], text_name, _plural(id_field))
                   if kind['list'] else '%s (%s separated by newlines, commas or spaces)' % (text_name, _plural(id_field)))
            errors.append('nothing to %s: set %s' % (verb, how))
        return combined
    room = data.get('room_id')
    room = _text(room).strip() if isinstance(_text(room), str) else room
    if ids and not room:
        errors.append('%s needs room_id: give the room that holds these %s' % (text_name, noun))
    if room and not ids:
        errors.append('%s is empty: give the %s of room %s to %s' % (text_name, noun, room, verb))
    if room:
        err = check_id('room_id', room)
        if err:
            errors.append(err)
    for i, value in enumerate(ids):
        err = check_id(id_field, value)
        if err:
            errors.append(_at('%s[%d].%s' % (text_name, i, id_field), id_field, err))
    if list_ok and not listed and not room and not ids:
        errors.append('nothing to %s: set %s (a list of {room_id, %s}) or room_id and %s' % (verb, kind['list'], id_field, text_name))
    return listed + ([{'room_id': room, id_field: i} for i in ids] if room else [])


def _plural(id_field):
    return {'room_id': 'room IDs', 'stream_id': 'stream IDs', 'user_id': 'user IDs'}[id_field]


def _option(name, value, errors):
    """The normalised value of a common option (its default when not given)."""
    if not _given(value):
        return OPTIONS[name]
    if name == 'report_path':
        if not isinstance(value, str) or not value.startswith('/'):
            errors.append('report_path must be an absolute path on the controller, got %r' % (value,))
        return value
    if name == 'chunk_size':
        try:
            size = int(value)
        except (TypeError, ValueError):
            size = 0
        if isinstance(value, bool) or size < 1 or (isinstance(value, float) and value != size):
            errors.append('chunk_size must be a whole number of at least 1, got %r' % (value,))
        return size
    if name in ('fail_on_error', 'room_close_callback', 'moderation_opt_out'):
        try:
            return boolean(value, strict=True)
        except TypeError:
            errors.append('%s must be true or false, got %r' % (name, value))
            return OPTIONS[name]
    if name == 'keep_regex':
        if not isinstance(value, str):
            errors.append('keep_regex must be a string, got %s' % type(value).__name__)
            return value
        try:
            re.compile(value)
        except re.error as exc:
            errors.append('keep_regex %r is not a valid regular expression: %s' % (value, exc))
        return value
    if name == 'custom_reason':
        value = '%s' % (value,)
        size = len(value.encode('utf-8'))
        if size > CUSTOM_REASON_MAX:
            errors.append('custom_reason is %d bytes long; ZEGO allows at most %d' % (size, CUSTOM_REASON_MAX))
        return value
    if name in ('title', 'extra_info', 'message', 'notice'):
        value = '%s' % (value,)
        err = check_text('message' if name == 'notice' else name, value, name=name)
        if err:
            errors.append(err)
        return value
    if name in ('kind', 'category'):
        choices = MESSAGE_KINDS if name == 'kind' else MESSAGE_CATEGORIES
        if value not in choices:
            errors.append('%s must be one of %s, got %r' % (name, ', '.join(choices), value))
        return value
    if name == 'to_user_ids':
        try:
            ids = split_ids(value)
        except AnsibleFilterError:
            errors.append('to_user_ids must be a text of user IDs separated by newlines, commas or spaces, or a list')
            return []
        ids = [user for i, user in enumerate(ids) if user not in ids[:i]]
        for i, user in enumerate(ids):
            err = check_id('user_id', user)
            if err:
                errors.append(_at('to_user_ids[%d]' % i, 'user_id', err))
        return ids
    if name == 'notice_delay':
        try:
            delay = float(value)
        except (TypeError, ValueError):
            delay = -1
        if isinstance(value, bool) or not 0 <= delay <= NOTICE_DELAY_MAX:
            errors.append('notice_delay must be a number of seconds from 0 to %d, got %r' % (NOTICE_DELAY_MAX, value))
            return 0
        return int(delay) if delay == int(delay) else delay
    # user_id, user_name: the modules' rules
    value = _text(value)
    err = check_id(name, value)
    if err:
        errors.append(err)
    return value


def _message_rules(result, required, errors):
    """What only makes sense together: a message's kind with its category and targets; a notice's delay."""
    kind = result.get('kind', OPTIONS['kind'])
    if result.get('category') == 'chat' and kind == 'command':
        errors.append('category applies to broadcast and barrage messages, not to kind=command')
    if result.get('to_user_ids') and kind != 'command':
        errors.append('to_user_ids applies to kind=command only (kind is %s)' % kind)
    if result.get('notice_delay') and not result.get('notice'):
        errors.append('notice_delay needs a notice: the text to broadcast before acting')
    for name in required:
        if not _given(result.get(name)):
            errors.append('%s is required' % name)


def parse_input(data, items, verb='handle', required=()):
    """Parse and validate a playbook's input.

    ``data`` maps the playbook's input names to what the user gave (unset ones may be left out or be
    None or empty); ``items`` is the kind of items the playbook acts on (``streams``, ``users``,
    ``rooms`` or ``stream_ids``); ``verb`` is what it does to them, for messages. Returns a dict with
    ``errors`` (every problem, each naming its field), the items under their kind's name, ``count``, and
    every common option in ``data``, normalised (``chunk_size`` an int, ``fail_on_error`` a bool, ...).
    ``required`` names options that must be given (e.g. ``['message']``)."""
    if not isinstance(data, dict):
        raise AnsibleFilterError('parse_input: expected a dictionary of inputs, got %s' % type(data).__name__)
    if items not in ITEM_KINDS:
        raise AnsibleFilterError('parse_input: items must be one of %s, got %r' % (', '.join(sorted(ITEM_KINDS)), items))
    kind = ITEM_KINDS[items]
    known = set(OPTIONS) | set([kind['text']]) | set([kind['list']] if kind['list'] else []) | \
        (set(['room_id']) if kind['room'] else set())
    unknown = sorted(set(data) - known)
    if unknown:
        raise AnsibleFilterError('parse_input: unknown inputs for %s: %s (known: %s)' % (
            items, ', '.join(unknown), ', '.join(sorted(known))))
    errors = []
    result = {}
    result[items] = _items(items, data, verb, errors)
    for name in OPTIONS:
        if name in data:
            result[name] = _option(name, data[name], errors)
    _message_rules(result, required, errors)
    result['count'] = len(result[items])
    result['errors'] = errors
    return result


class FilterModule(object):

    def filters(self):
        return {'parse_input': parse_input}
