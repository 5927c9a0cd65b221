# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""zego.rtc.batch_report: the report, the summary shown and the failure message of every playbook."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.zego.rtc.plugins.filter.banned_streams import banned_streams
from ansible_collections.zego.rtc.plugins.filter.batch_report import batch_report, moderation_report, utc_now

NOW = '2026-01-02T03:04:05.123456Z'


def kick_result(outcomes):
    """A zego_room_user result: users in room r with the given outcomes (failed ones with code 5)."""
    users = [{'room_id': 'r', 'user_id': 'u%d' % i, 'outcome': o, 'code': 5 if o == 'failed' else 0,
              'message': 'boom' if o == 'failed' else 'success', 'request_id': 'q%d' % i, 'stopped_batch': False}
             for i, o in enumerate(outcomes)]
    summary = {'total': len(users), 'kicked': outcomes.count('kicked'), 'already_absent': outcomes.count('already_absent'),
               'failed': outcomes.count('failed'), 'duplicates': 1}
    result = {'changed': 'kicked' in outcomes, 'users': users, 'summary': summary}
    if 'failed' in outcomes:
        result['msg'] = '%d of %d users failed: r/u0: boom' % (outcomes.count('failed'), len(users))
    return result


def test_kick_users_report_show_and_failure():
    run = batch_report(kick_result(['kicked', 'failed', 'already_absent']), 'users', check_mode=False,
                       started='2026-01-02T03:04:00Z', verb='kick', changed='kicked', now=NOW)
    report = run['report']
    assert report['check_mode'] is False
    assert (report['started'], report['finished']) == ('2026-01-02T03:04:00Z', NOW)
    assert [u['time'] for u in report['users']] == [NOW] * 3
    assert [u['outcome'] for u in report['users']] == ['kicked', 'failed', 'already_absent']
    assert report['summary'] == {'total': 3, 'kicked': 1, 'already_absent': 1, 'failed': 1, 'duplicates': 1,
                                 'failed_items': [{'room_id': 'r', 'user_id': 'u1', 'code': 5, 'message': 'boom'}]}
    # the module's own message says why
    assert report['error'] == '1 of 3 users failed: r/u0: boom'
    assert run['failure'] == '1 of 3 users failed: r u1 5'
    show = run['show']
    assert show['check_mode'] is False and show['kicked'] == 1 and show['failed'] == 1
    assert show['failed_items'] == report['summary']['failed_items']
    assert show['would_kick'] == []  # only in check mode


def test_check_mode_lists_what_would_change():
    run = batch_report(kick_result(['kicked', 'already_absent', 'kicked']), 'users', check_mode=True,
                       verb='kick', changed='kicked', now=NOW)
    assert run['show']['would_kick'] == ['r/u0', 'r/u2']
    assert run['report']['check_mode'] is True
    assert run['failure'] == '' and run['report']['error'] == ''
    assert 'started' not in run['report']
    # a template may give the flag as a text
    assert batch_report(kick_result(['kicked']), 'users', check_mode='False', verb='kick', changed='kicked',
                        now=NOW)['show'] == {'check_mode': False, 'total': 1, 'kicked': 1, 'already_absent': 0, 'failed': 0,
                                             'duplicates': 1, 'failed_items': [], 'would_kick': []}


def test_rooms_are_named_by_their_id_alone():
    rooms = [{'room_id': 'a', 'outcome': 'closed'}, {'room_id': 'b', 'outcome': 'failed', 'code': 100000005,
                                                     'message': 'auth', 'stopped_batch': True}]
    run = batch_report({'rooms': rooms, 'summary': {'total': 2, 'closed': 1, 'already_absent': 0, 'failed': 1}},
                       'rooms', check_mode=True, verb='close', changed='closed', now=NOW)
    assert run['show']['would_close'] == ['a']
    assert run['failure'] == '1 of 2 rooms failed: b 100000005'
    assert run['report']['summary']['failed_items'] == [{'room_id': 'b', 'code': 100000005, 'message': 'auth'}]


def test_the_failure_names_ten_and_says_there_are_more():
    records = [{'room_id': 'r', 'stream_id': 's%02d' % i, 'outcome': 'failed', 'code': 124} for i in range(12)]
    run = batch_report({'streams': records}, 'streams', check_mode=False, now=NOW)
    assert run['failure'].startswith('12 of 12 streams failed: r s00 124; r s01 124; ')
    assert run['failure'].endswith('r s09 124 ...')
    assert 's10' not in run['failure']
    assert len(run['report']['summary']['failed_items']) == 12


def test_a_given_summary_and_extra_fields_win_and_stamped_records_keep_their_time():
    records = [{'room_id': 'r', 'stream_id': 'a', 'outcome': 'deleted', 'time': 'chunk 1'},
               {'room_id': 'r', 'stream_id': 'b', 'outcome': 'deleted', 'user_id': 'bot'}]
    kept = [{'room_id': 'r', 'stream_id': 'host_1'}]
    summary = {'total': 2, 'deleted': 2, 'already_absent': 0, 'failed': 0, 'kept': 1}
    run = batch_report({'streams': records}, 'streams', check_mode=True, verb='delete', changed=['deleted'],
                       summary=summary, extra={'kept': kept}, now=NOW)
    assert [s['time'] for s in run['report']['streams']] == ['chunk 1', NOW]
    assert run['report']['summary'] == dict(summary, failed_items=[])
    assert run['report']['kept'] == kept
    assert run['show']['kept'] == 1  # the count; the list is in the report only
    # room and stream name a stream; the deleting UserId does not
    assert run['show']['would_delete'] == ['r/a', 'r/b']
    assert summary == {'total': 2, 'deleted': 2, 'already_absent': 0, 'failed': 0, 'kept': 1}  # not changed in place


def test_ban_streams_requests_state_and_noun():
    streams = [{'stream_id': 's1', 'outcome': 'banned', 'action': 'ForbidRTCStreams', 'code': None},
               {'stream_id': 's2', 'outcome': 'banned', 'action': 'ForbidRTCStreams', 'code': None},
               {'stream_id': 's3', 'outcome': 'failed', 'action': 'ForbidRTCStream', 'code': 1, 'message': 'x'}]
    result = {'streams': streams, 'requests': [{'action': 'ForbidRTCStreams', 'stream_ids': ['s1', 's2'], 'code': None},
                                               {'action': 'ForbidRTCStream', 'stream_ids': ['s3'], 'code': 1}],
              'summary': {'total': 3, 'banned': 2, 'resumed': 0, 'failed': 1, 'duplicates': 0, 'requests': 2},
              'msg': '1 of 3 stream IDs failed: s3: x'}
    run = batch_report(result, 'streams', check_mode=True, noun='stream IDs', verb='ban', changed=['banned', 'resumed'],
                       extra={'state': 'present'}, show={'state': 'present'}, now=NOW)
    assert run['show']['requests'] == ['ForbidRTCStreams with stream IDs: 2', 'ForbidRTCStream with stream IDs: 1']
    assert run['show']['would_ban'] == ['s1', 's2']
    assert run['show']['state'] == run['report']['state'] == 'present'
    assert run['report']['requests'] == result['requests']
    assert run['report']['error'] == '1 of 3 stream IDs failed: s3: x'
    assert run['failure'] == '1 of 3 stream IDs failed: s3 1'
    assert run['report']['summary']['failed_items'] == [{'stream_id': 's3', 'code': 1, 'message': 'x'}]


def test_a_module_that_failed_before_any_item_fails_with_its_message():
    # failed_when: false kept the play going; the module refused its input
    result = {'failed': False, 'msg': "invalid input, nothing was changed: stream_ids[0] 'plain' must start with"}
    run = batch_report(result, 'streams', check_mode=False, noun='stream IDs', now=NOW)
    assert run['failure'] == result['msg'] and run['report']['error'] == result['msg']
    assert run['report']['streams'] == [] and run['report']['summary'] == {'failed_items': []}
    assert 'requests' not in run['report']


def test_nothing_to_report_is_a_success():
    run = batch_report({'users': [], 'summary': {'total': 0, 'kicked': 0}}, 'users', check_mode=False, now=NOW)
    assert run['failure'] == '' and run['report']['users'] == []


@pytest.mark.parametrize('args, kwargs, needle', [
    (('not a result', 'users'), {'check_mode': False}, 'a module result'),
    (({'users': []},), {'check_mode': False}, 'items is required'),
    (({'users': []}, 'users'), {}, 'check_mode is required'),
    (({'users': 'u1'}, 'users'), {'check_mode': False}, 'must be a list'),
    (({'users': ['u1']}, 'users'), {'check_mode': False}, 'must be a list'),
    (({'users': []}, 'users'), {'check_mode': True, 'verb': 'kick'}, 'verb needs changed'),
])
def test_bad_arguments_are_named(args, kwargs, needle):
    with pytest.raises(AnsibleFilterError, match=needle):
        batch_report(*args, **kwargs)


def test_utc_now_is_iso_with_a_z():
    assert re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$', utc_now())


def _moderation_plan():
    return banned_streams([{'room_id': 'r', 'stream_id': 'troll_cam', 'user_id': 'troll'},
                           {'room_id': 'r', 'stream_id': 'bad id!', 'user_id': 'troll'},
                           {'room_id': 'r', 'stream_id': 'fine', 'user_id': 'ann'}], user_ids=['troll'])


def test_a_moderation_run_is_one_report_of_its_ban_and_its_deletion():
    plan = _moderation_plan()
    ban = {'changed': True, 'streams': [{'stream_id': 'troll_cam', 'outcome': 'banned', 'code': 0}],
           'summary': {'total': 1, 'banned': 1, 'failed': 0}}
    delete = {'changed': False, 'streams': [{'room_id': 'r', 'stream_id': 'troll_cam', 'outcome': 'failed', 'code': 5,
                                             'message': 'boom'}],
              'summary': {'total': 1, 'deleted': 0, 'failed': 1}, 'msg': '1 of 1 streams failed: r/troll_cam: boom'}
    run = moderation_report(plan, ban=ban, delete=delete, check_mode=False, started='2026-01-02T03:04:00Z', now=NOW)
    # the deletion's failure and the stream ZEGO would refuse, each named
    assert run['failure'] == ('delete: 1 of 1 streams to delete failed: r troll_cam 5; r/bad id!: '
                              + plan['rejected'][0]['message'])
    report = run['report']
    assert (report['started'], report['finished'], report['seen']) == ('2026-01-02T03:04:00Z', NOW, 3)
    assert report['error'] == run['failure']
    assert [m['stream_id'] for m in report['matched']] == ['troll_cam']
    assert [r['stream_id'] for r in report['rejected']] == ['bad id!']
    assert [s['outcome'] for s in report['ban']['streams']] == ['banned']
    assert report['delete']['summary']['failed_items'] == [{'room_id': 'r', 'stream_id': 'troll_cam', 'code': 5,
                                                            'message': 'boom'}]
    assert run['show'] == {'check_mode': False, 'matched': ['r troll_cam banned user troll'],
                           'banned': ban['summary'], 'deleted': delete['summary'], 'rejected': plan['rejected']}


def test_a_moderation_run_whose_tasks_did_not_run_fails_for_nothing():
    plan = banned_streams([{'room_id': 'r', 'stream_id': 'fine', 'user_id': 'ann'}], user_ids=['troll'])
    skipped = {'changed': False, 'skipped': True, 'skip_reason': 'Conditional result was False'}
    run = moderation_report(plan, ban=skipped, delete=skipped, check_mode='True', now=NOW)
    assert run['failure'] == '' and run['report']['error'] == ''
    assert run['show'] == {'check_mode': True, 'matched': [], 'banned': {}, 'deleted': {}, 'rejected': []}
    assert run['report']['ban']['streams'] == [] and 'started' not in run['report']


def test_a_moderation_task_that_could_not_run_at_all_fails_the_run_with_its_message():
    run = moderation_report(_moderation_plan(), ban={'failed': True, 'msg': 'authentication failed (code 100000005)'},
                            delete=None, check_mode=False, now=NOW)
    assert run['failure'].startswith('ban: authentication failed (code 100000005); r/bad id!: ')


def test_moderation_report_needs_a_plan():
    with pytest.raises(AnsibleFilterError, match='banned_streams'):
        moderation_report({'streams': []}, check_mode=False)
