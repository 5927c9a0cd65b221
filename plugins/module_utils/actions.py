# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every ZEGO action the collection sends, one declarative entry each: its parameters (which field of an item
or option fills which of ZEGO's parameters, and how it is written), how many IDs one request takes, ZEGO's
documented pace, and what its codes mean for the items (applied, already as wanted, or: send each ID alone).
Read actions also say how ZEGO's ``Data`` becomes a value. The client sends an entry; modules and the batch
engine never spell an action's parameters themselves.

To add an action: one ``Action(...)`` here with its documented limits (zego-api.md), a reader if it returns
data, and a unit test of its parameters on the wire."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.zego.rtc.plugins.module_utils.codes import (
    OK,
    ROOM_MISSING_CODES,
    STREAM_MISSING,
    describe_code,
)
from ansible_collections.zego.rtc.plugins.module_utils.errors import ZegoError

DEFAULT_USER_ID = 'Server-Administrator'
RULE_MAX_DURATION = 86400       # SetForbidStreamRule EffectiveTime: 1 s to 24 h
RULE_DEFAULT_DURATION = 21600
USER_LIST_MAX_LIMIT = 200       # DescribeUserList: Limit


class Pace(object):
    """ZEGO's documented limits of one action: ``rate`` requests per second per AppID (``test_rate`` in
    the test environment), at most one call per ``room_interval`` seconds for one room (if set), and
    whether the action changes something (``write``: the ``rate_limit`` option replaces its rate)."""

    __slots__ = ('rate', 'test_rate', 'room_interval', 'write')

    def __init__(self, rate, test_rate=None, room_interval=None, write=False):
        self.rate = float(rate)
        self.test_rate = float(rate if test_rate is None else test_rate)
        self.room_interval = room_interval
        self.write = write


def _flag(value):
    return '1' if value else '0'


def _true_false(value):
    return None if value is None else ('true' if value else 'false')


def _whole(value):
    return None if value is None else str(int(value))


class Action(object):
    """One ZEGO action.

    ``params``: (ZEGO's name, field, form) in the order sent; the value is ``fields[field]`` (an item's field or
    a module option), written by ``form`` (None: as it is; a None value is left out). ``batch``: (field, most)
    for an action that takes a list of IDs, sent as an array. ``single``: the action to send for one ID instead.
    ``sequence``: every attempt carries a fresh ``Sequence``. ``absent``: codes that say the wanted state already
    holds (nothing was applied). ``split``: codes that, for a request of several IDs, say ZEGO refused the
    request as a whole: the engine sends each ID alone. ``empty``: codes a read action reads as an answer with
    no data (a room that does not exist). ``read(data, fields)``: the value of a read action's answer.
    ``hints``: text added to the description of a code for this action."""

    def __init__(self, name, pace, params, batch=None, single=None, sequence=False, absent=(), split=(),
                 empty=(), read=None, hints=None):
        self.name = name
        self.pace = pace
        self.params = params
        self.batch = batch
        self.single = single
        self.sequence = sequence
        self.absent = frozenset(absent)
        self.split = frozenset(split)
        self.empty = frozenset(empty)
        self.reader = read
        self.hints = hints or {}

    def __repr__(self):
        return 'Action(%s)' % self.name

    def for_count(self, count):
        """The action to send for ``count`` IDs."""
        return self.single if count == 1 and self.single is not None else self

    def query(self, fields, sequence=None):
        """(name, value) pairs for ZEGO: a list value goes as an array, a callable is called for every attempt."""
        pairs = []
        for name, field, form in self.params:
            value = fields.get(field)
            if self.batch and field == self.batch[0]:
                value = list(value)
                if not 0 < len(value) <= self.batch[1]:
                    raise ValueError('%s takes 1 to %d of %s, got %d' % (self.name, self.batch[1], field, len(value)))
            elif form is not None:
                value = form(value)
            pairs.append((name, value))
        if self.sequence:
            pairs.append(('Sequence', sequence))
        return pairs

    def send(self, client, fields, proceed=None):
        """Send this action for ``fields``; the client's Reply (any code that is not retried). ``proceed``: see
        ZegoClient.call."""
        return client.call(self, self.query(fields, client.next_sequence if self.sequence else None), proceed)

    def outcome(self, code, count=1):
        """What ZEGO's answer ``code`` to a request for ``count`` IDs means: 'applied', 'absent', 'split' or
        None (a failure)."""
        if count > 1 and code in self.split:
            return 'split'
        if code == OK:
            return 'applied'
        return 'absent' if code in self.absent else None

    def describe(self, code, message=None):
        text = describe_code(code, message)
        return text + self.hints[code] if code in self.hints else text

    def error(self, reply):
        """The ZegoError of an answer that failed."""
        return ZegoError(self.describe(reply.code, reply.message), code=reply.code, zego_message=reply.message,
                         request_id=reply.request_id, action=self.name, attempts=reply.attempts, retryable=False)

    def read(self, client, fields, proceed=None):
        """(value, reply) of a read action; raises ZegoError for any code but OK and ``empty``."""
        reply = self.send(client, fields, proceed)
        if reply.code in self.empty:
            return self.reader({}, fields), reply
        if reply.code != OK:
            raise self.error(reply)
        return self.reader(reply.data if isinstance(reply.data, dict) else {}, fields), reply


def _text(value):
    return None if value is None else '%s' % (value,)


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def rule_expires_at(create_time, effective_time):
    """When a prohibition rule from DescribeForbidStreamRules ends (Unix seconds), or None if unknown.

    ZEGO documents ``EffectiveTime`` as a timestamp, but its example shows ``3600`` (a duration), so both
    readings are accepted: a value that looks like a Unix time (seconds, or milliseconds) is the end
    itself; a smaller one is a duration in seconds after ``CreateTime`` (cut to 24 h, as ZEGO cuts it)."""
    try:
        created = int(create_time or 0)
        effective = int(effective_time or 0)
    except (TypeError, ValueError):
        return None
    if effective >= 100000000000:       # milliseconds since the epoch
        return effective // 1000
    if effective >= 1000000000:         # seconds since the epoch (after 2001)
        return effective
    if effective > 0 and created > 0:
        return created + min(effective, RULE_MAX_DURATION)
    return None


def _streams(data, fields):
    return [{'stream_id': _text(item.get('StreamId')), 'user_id': _text(item.get('UserId')),
             'user_name': _text(item.get('UserName')), 'create_time': item.get('CreateTime'),
             'stream_number_id': item.get('StreamNumberId')}
            for item in data.get('StreamList') or [] if isinstance(item, dict)]


def _rules(data, fields):
    """{stream_id: rule or None}: an ID that ZEGO answers with all zeros, or leaves out, has no rule."""
    rules = dict((sid, None) for sid in fields['stream_id'])
    for item in data.get('ForbidStreamRuleList') or []:
        if not isinstance(item, dict) or _text(item.get('StreamId')) not in rules:
            continue
        audio, video = _int(item.get('DisableAudio')) or 0, _int(item.get('DisableVideo')) or 0
        created, effective = _int(item.get('CreateTime')) or 0, _int(item.get('EffectiveTime')) or 0
        if audio or video or created or effective:
            rules[_text(item['StreamId'])] = {
                'disable_audio': bool(audio), 'disable_video': bool(video), 'create_time': created,
                'effective_time': effective, 'expires_at': rule_expires_at(created, effective)}
    return rules


def _statuses(data, fields):
    """{user_id: {in_room, login_time, user_role}} for the users ZEGO answered for."""
    return dict((_text(item['UserId']), {'in_room': _int(item.get('Status')) == 1, 'login_time': item.get('LoginTime'),
                                         'user_role': item.get('UserRole')})
                for item in data.get('UserStatusList') or [] if isinstance(item, dict) and item.get('UserId') is not None)


def _counts(data, fields):
    """{room_id: {user_count, admin_user_count}}; a room ZEGO leaves out counts 0."""
    counts = dict((r, {'user_count': 0, 'admin_user_count': 0}) for r in fields['room_id'])
    for item in data.get('UserCountList') or []:
        if isinstance(item, dict) and _text(item.get('RoomId')) in counts:
            counts[_text(item['RoomId'])] = {'user_count': _int(item.get('UserCount')) or 0,
                                             'admin_user_count': _int(item.get('AdminUserCount')) or 0}
    return counts


def _user_page(data, fields):
    """(users, next marker): the marker is empty on the last page."""
    users = [{'user_id': _text(item.get('UserId')), 'user_name': _text(item.get('UserName')),
              'user_role': item.get('UserRole')} for item in data.get('UserList') or [] if isinstance(item, dict)]
    return users, _text(data.get('Marker')) or ''


_ROOM = ('RoomId', 'room_id', None)
_STREAM = ('StreamId', 'stream_id', None)
# prohibition rules must be enabled for the AppID by ZEGO support
_RULE_HINTS = {9: ' (prohibition rules must be enabled for this AppID by ZEGO support)'}
# ForbidRTCStreams / ResumeRTCStreams refused as a whole (a bad ID among them, zego-api.md 9.1)
_BAN_BATCH_FAILED = (30006, 30009, 42003, 42004)

# Streams (zego-api.md 3.1-3.2): DeleteStream 10/s per AppID (1/s in the test environment); the list 50/s per
# AppID and one call per room per 10 s.
DELETE_STREAM = Action('DeleteStream', Pace(10, 1, write=True),
                       [_ROOM, ('UserId', 'user_id', None), ('UserName', 'user_name', None), _STREAM],
                       absent=[STREAM_MISSING] + list(ROOM_MISSING_CODES))
LIST_STREAMS = Action('DescribeSimpleStreamList', Pace(50, room_interval=10.0), [_ROOM],
                      empty=ROOM_MISSING_CODES, read=_streams)

# Media-service bans (section 9.1): 20/s per AppID each, 5/s in the test environment; 1-20 IDs a request.
_BAN_PACE = Pace(20, 5, write=True)
FORBID_STREAM = Action('ForbidRTCStream', _BAN_PACE, [_STREAM], sequence=True)
FORBID_STREAMS = Action('ForbidRTCStreams', _BAN_PACE, [_STREAM], batch=('stream_id', 20), single=FORBID_STREAM,
                        sequence=True, split=_BAN_BATCH_FAILED)
RESUME_STREAM = Action('ResumeRTCStream', _BAN_PACE, [_STREAM], sequence=True)
RESUME_STREAMS = Action('ResumeRTCStreams', _BAN_PACE, [_STREAM], batch=('stream_id', 20), single=RESUME_STREAM,
                        sequence=True, split=_BAN_BATCH_FAILED)

# Room prohibition rules (section 9.2): 10/s per AppID; no separate test-environment limit is documented.
SET_RULE = Action('SetForbidStreamRule', Pace(10, write=True),
                  [_ROOM, _STREAM, ('DisableAudio', 'disable_audio', _flag), ('DisableVideo', 'disable_video', _flag),
                   ('EffectiveTime', 'duration', _whole)], hints=_RULE_HINTS)
DELETE_RULE = Action('DelForbidStreamRule', Pace(10, write=True), [_ROOM, _STREAM], absent=[50124],
                     hints=_RULE_HINTS)
DESCRIBE_RULES = Action('DescribeForbidStreamRules', Pace(10), [_ROOM, _STREAM], batch=('stream_id', 10),
                        read=_rules, hints=_RULE_HINTS)

# Room moderation (sections 3.4-3.6). CloseRoom of a room that does not exist: 5018 (destroyed or not existing),
# 5024. KickoutUser: 1-5 users a request (more gives 50011); 105, 50002 and 50003 say a user is not (or no longer)
# in the room, and which of several is not said: each is asked again alone.
CLOSE_ROOM = Action('CloseRoom', Pace(1, 1, write=True),
                    [_ROOM, ('CustomReason', 'custom_reason', None), ('RoomCloseCallback', 'room_close_callback', _true_false)],
                    absent=[5018, 5024] + list(ROOM_MISSING_CODES))
KICKOUT_USERS = Action('KickoutUser', Pace(50, write=True),
                       [_ROOM, ('UserId', 'user_id', None), ('CustomReason', 'custom_reason', None)],
                       batch=('user_id', 5), absent=[105, 50002, 50003] + list(ROOM_MISSING_CODES),
                       split=[105, 50002, 50003])
DESCRIBE_USERS = Action('DescribeUsers', Pace(10), [_ROOM, ('UserId', 'user_id', None)], batch=('user_id', 10),
                        empty=ROOM_MISSING_CODES, read=_statuses)
COUNT_USERS = Action('DescribeUserNum', Pace(10, 1), [('RoomId', 'room_id', None)], batch=('room_id', 10),
                     read=_counts)
LIST_USERS = Action('DescribeUserList', Pace(200, room_interval=1.0),
                    [_ROOM, ('Mode', 'mode', _whole), ('Limit', 'limit', _whole), ('Marker', 'marker', None)],
                    empty=ROOM_MISSING_CODES, read=_user_page)
