# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The end of every zego.rtc playbook and of the stream_cleanup role, worked out once: the JSON report, the
summary shown to the operator and the message the run fails with. The zego.rtc.batch_report role writes,
shows and fails with them. Documented in batch_report.yml."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import datetime

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence
from ansible.module_utils.parsing.convert_bool import boolean

# Failed items the failure message names; the summary counts them all and the report lists them all.
NAMED_IN_FAILURE = 10


def utc_now():
    """Now, in UTC, as the reports give times: ISO 8601 with a Z."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None).isoformat() + 'Z'


def key_fields(items, records):
    """The fields that name one item: its room when the records have one, then its own ID (users: user_id)."""
    own = (items[:-1] if items.endswith('s') else items) + '_id'
    fields = ['room_id'] if own != 'room_id' and any('room_id' in r for r in records) else []
    return fields + [own]


def label(record, fields, sep):
    return sep.join('%s' % record.get(f) for f in fields)


def batch_report(result, items=None, check_mode=None, started=None, verb=None, changed=None, noun=None,
                 summary=None, extra=None, show=None, now=None):
    """The report, the summary to show and the failure message of one batch run; see batch_report.yml."""
    if not isinstance(result, dict):
        raise AnsibleFilterError('batch_report: expected a module result (a dictionary), got %s' % type(result).__name__)
    if not isinstance(items, str) or not items:
        raise AnsibleFilterError("batch_report: items is required: the key of the result's per-item list, such as 'users'")
    if check_mode is None:
        raise AnsibleFilterError('batch_report: check_mode is required (check_mode=ansible_check_mode)')
    # (a text such as 'False' when a template gave it)
    check_mode = boolean(check_mode, strict=False)
    if verb and not changed:
        raise AnsibleFilterError("batch_report: verb needs changed, the outcomes that would_%s lists (such as 'kicked')" % verb)
    records = result.get(items)
    if records is None:
        records = []
    if not is_sequence(records) or not all(isinstance(r, dict) for r in records):
        raise AnsibleFilterError('batch_report: %s must be a list of per-item dictionaries' % items)
    finished = now or utc_now()
    # records that already have a time (the role stamps each chunk) keep it
    records = [r if r.get('time') else dict(r, time=finished) for r in records]
    fields = key_fields(items, records)
    failed = [r for r in records if r.get('outcome') == 'failed']

    summary = dict(result.get('summary') or {}) if summary is None else dict(summary)
    summary['failed_items'] = [dict((f, r.get(f)) for f in fields + ['code', 'message']) for r in failed]
    if failed:
        count = summary.get('failed', len(failed))
        failure = '%s of %s %s failed: %s%s' % (
            count, summary.get('total', len(records)), noun or items,
            '; '.join(label(r, fields + ['code'], ' ') for r in failed[:NAMED_IN_FAILURE]),
            ' ...' if count > NAMED_IN_FAILURE else '')
    else:
        # the module failed before it had any per-item result (failed_when kept the play going)
        failure = result.get('msg') or ''

    report = {
        'check_mode': check_mode,
        'finished': finished,
        # why the run failed: the module's own message if it gave one
        'error': result.get('msg') or failure,
        'summary': summary,
        items: records,
    }
    if started:
        report['started'] = started
    shown = {'check_mode': check_mode}
    shown.update((k, v) for k, v in summary.items())
    if result.get('requests') is not None:
        report['requests'] = result['requests']
        shown['requests'] = ['%s with %s: %d' % (req.get('action'), noun or items, _id_count(req)) for req in result['requests']]
    if verb:
        wanted = [changed] if isinstance(changed, str) else list(changed)
        shown['would_' + verb] = [label(r, fields, '/') for r in records if r.get('outcome') in wanted] if check_mode else []
    report.update(extra or {})
    shown.update(show or {})
    return {'report': report, 'show': shown, 'failure': failure}


def moderation_report(plan, ban=None, delete=None, check_mode=None, started=None, now=None):
    """The end of the moderation playbooks (remove_banned_streams, sweep_banned_streams): one run of two modules,
    the ban of the stream IDs and the deletion of the streams, over the plan of zego.rtc.banned_streams."""
    if not isinstance(plan, dict) or not isinstance(plan.get('matched'), list):
        raise AnsibleFilterError('moderation_report: expected the plan of zego.rtc.banned_streams')
    finished = now or utc_now()
    # a task that did not run (nothing to ban, or check mode over a listing made just now) registered no records
    results = dict((name, r if isinstance(r, dict) else {}) for name, r in (('ban', ban), ('delete', delete)))
    parts = dict((name, batch_report(results[name], 'streams', check_mode=check_mode, noun=noun, now=finished))
                 for name, noun in (('ban', 'stream IDs to ban'), ('delete', 'streams to delete')))
    rejected = plan.get('rejected') or []
    failure = '; '.join(['%s: %s' % (name, parts[name]['failure']) for name in ('ban', 'delete') if parts[name]['failure']]
                        + ['%s/%s: %s' % (r.get('room_id'), r.get('stream_id'), r.get('message')) for r in rejected])
    check_mode = parts['ban']['report']['check_mode']
    report = {'check_mode': check_mode, 'finished': finished, 'error': failure, 'seen': plan.get('seen', 0),
              'matched': plan['matched'], 'rejected': rejected}
    if started:
        report['started'] = started
    for name in ('ban', 'delete'):
        report[name] = dict((k, v) for k, v in parts[name]['report'].items() if k not in ('check_mode', 'finished', 'error'))
    show = {'check_mode': check_mode,
            'matched': ['%s %s %s' % (r.get('room_id'), r.get('stream_id'), r.get('reason')) for r in plan['matched']],
            'banned': results['ban'].get('summary') or {}, 'deleted': results['delete'].get('summary') or {},
            'rejected': rejected}
    return {'report': report, 'show': show, 'failure': failure}


def _id_count(request):
    """How many IDs one request carried (its list of IDs, such as stream_ids)."""
    lists = [v for v in request.values() if is_sequence(v)]
    return len(lists[0]) if lists else 0


class FilterModule(object):

    def filters(self):
        return {'batch_report': batch_report, 'moderation_report': moderation_report}
