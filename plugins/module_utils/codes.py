# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ZEGO's return codes, each class of them defined once: what is retried, what is a rate limit, what stops a
batch, and a hint for humans. The codes that one action gives a meaning of its own (a stream that is gone, a
rule that does not exist) belong to that action's entry in ``actions``."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

OK = 0
STREAM_MISSING = 138
ROOM_MISSING_CODES = frozenset([104, 5024, 50001])
ROOM_RATE_LIMITED = 207

# Room signalling (7, 206, 207) and the media service (ForbidRTCStream(s), ResumeRTCStream(s), zego-api.md
# sections 2.3 and 9.1: 30002, 1010 and 5007 all mean "call frequency too high"): rate-limit answers, which prove
# the request was not applied. None of these numbers has another meaning in the other table, so one set serves
# every action.
RATE_LIMIT_CODES = frozenset([7, 206, ROOM_RATE_LIMITED, 30002, 1010, 5007])

# Answers worth another attempt: room signalling 1, 122-124, 151, 154, 5201, 5202, 100000015; the media
# service's "internal error" codes 3001, 5000, 5001, 5002, 5006 and 30003 (safe to repeat: a ban or resume can be
# repeated, each attempt carries a new Sequence); and every rate-limit answer.
RETRY_CODES = frozenset([1, 122, 123, 124, 151, 154, 5201, 5202, 100000015,
                         3001, 5000, 5001, 5002, 5006, 30003]) | RATE_LIMIT_CODES

# Answers that say no request can succeed for any item (credentials, configuration, permission): a batch stops
# instead of sending the rest. Media service: 3000 invalid App, 3003 no token configured, 30004 bad isTest,
# 30005 invalid AppId, 5003 and 40005 authentication failed; 100000000-100000017 are the signature and AppID
# checks of every action.
FATAL_CODES = frozenset([9, 3000, 3003, 5003, 30004, 30005, 40005] + list(range(100000000, 100000018)))

# Codes raised by the client itself (not ZEGO's), for results and callers.
TRANSPORT_ERROR = -1      # connection failed, timed out or was dropped
HTTP_ERROR = -2           # HTTP status other than 2xx
BAD_RESPONSE = -3         # not the JSON object ZEGO answers with

CODE_HINTS = {
    100000001: 'check app_id (ZEGO_APP_ID): it must be the numeric AppID from the ZEGO console',
    100000004: "the signature expired: the controller's clock differs from ZEGO's by more than 10 minutes; "
               "check the controller's clock (NTP)",
    100000005: 'the signature was rejected: check server_secret (ZEGO_SERVER_SECRET); it must be the '
               'ServerSecret of this app_id',
    100000010: 'ZEGO has no ServerSecret for this AppID: check app_id (ZEGO_APP_ID) and server_secret',
    100000011: 'ZEGO could not load the configuration of this AppID: check app_id or contact ZEGO support',
    100000014: 'unsupported SignatureVersion',
    100000016: 'this AppID is not enabled for the production environment: set is_test (ZEGO_IS_TEST) '
               'for a test-environment AppID, or enable production in the ZEGO console',
    100000017: 'this AppID has not enabled the server API service: contact ZEGO support',
    2: 'ZEGO rejected a parameter: check room_id, user_id and stream_id',
    3: 'a parameter is longer than ZEGO allows',
    9: 'this AppID has no permission for this API: contact ZEGO support',
    206: 'rate limited by ZEGO (AppID request rate): lower rate_limit or ask ZEGO to raise the limit',
    207: 'rate limited by ZEGO (room request rate)',
    30002: 'rate limited by ZEGO (media service call frequency): lower rate_limit or ask ZEGO to raise the limit',
    1010: 'rate limited by ZEGO (media service call frequency)',
    5007: 'rate limited by ZEGO (media service call frequency)',
    3000: 'ZEGO does not know this App for the media service: check app_id',
    3003: 'ZEGO has no token configured for this AppID: contact ZEGO support',
    30004: 'ZEGO rejected IsTest: check is_test (ZEGO_IS_TEST) for this AppID',
    30005: 'ZEGO rejected the AppID: check app_id (ZEGO_APP_ID)',
    30006: 'ZEGO rejected the list of stream IDs',
    30009: 'ZEGO rejected the stream ID (in the test environment it must start with zegotest-<AppID>-)',
    40005: 'authentication failed: check app_id and server_secret',
    50123: 'too many active prohibition rules for this AppID: delete some first',
}


def describe_code(code, message=None):
    """A one-line explanation of a ZEGO return code for humans."""
    text = 'code %s' % code
    if message:
        text += ' (%s)' % message
    hint = CODE_HINTS.get(code)
    if hint:
        text += ': ' + hint
    return text
