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


def _id_count(request):
    """How many IDs one request carried (its list of IDs, such as stream_ids)."""
    lists = [v for v in request.values() if is_sequence(v)]
    return len(lists[0]) if lists else 0


class FilterModule(object):

    def filters(self):
        return {'batch_report': batch_report}
