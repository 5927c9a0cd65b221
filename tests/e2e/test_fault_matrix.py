# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A 500-stream batch against 20 % random faults: every target ends absent, nothing else is
touched, and every reported outcome is checked against the simulator's request log."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import collections

import pytest

from e2e_lib import conn, play, save_results, stream_task

# 20 % of DeleteStream requests fail, spread over every fault kind the simulator has.
FAULTS = ('code124=0.04,http502=0.02,http503=0.02,drop_before=0.03,drop_after=0.03,'
          'slow=0.02,garbage=0.02,code206=0.02')
SLOW_MS = 60000         # the 'slow' fault answers once the client gave up (at most after this) ...
TIMEOUT = 1.0           # ... which it does after the module's timeout, however loaded the machine
VISIBLE_FAULTS = ('code124', 'code206')   # answered with a Code: the client knows nothing was applied
# The module's code for a stream whose last attempt hit each fault (negative: the client's own codes)
LAST_CODE = {'code124': 124, 'code206': 206, 'http502': -2, 'http503': -2, 'drop_before': -1,
             'drop_after': -1, 'slow': -1, 'garbage': -3}


def build_batch():
    """5 rooms x 110 streams present; targets: 450 of them, 40 never-present streams in those
    rooms and 10 in a room that does not exist (500 distinct), plus 3 duplicate items."""
    rooms = {}
    for r in range(5):
        rooms['room%d' % r] = [{'stream_id': 'st%d_%03d' % (r, i), 'user_id': 'u%d' % i} for i in range(110)]
    targets = []
    for r in range(5):
        targets += [('room%d' % r, 'st%d_%03d' % (r, i)) for i in range(90)]
        targets += [('room%d' % r, 'gone%d_%03d' % (r, i)) for i in range(8)]
    targets += [('noroom', 'x%02d' % i) for i in range(10)]
    present = set((room, s['stream_id']) for room, streams in rooms.items() for s in streams)
    return rooms, targets, present


def by_stream(entries):
    """Log entries per stream in the order the requests arrived (a 'slow' entry is logged late)."""
    out = collections.defaultdict(list)
    for e in sorted(entries, key=lambda e: (e['time'], e['seq'])):
        out[(e['room_id'], e['stream_id'])].append(e)
    return out


def run_batch(sim, ansible, targets, **params):
    items = [{'room_id': r, 'stream_id': s} for r, s in targets] + [{'room_id': r, 'stream_id': s} for r, s in targets[:3]]
    args = conn(sim, streams=items, rate_limit=100000, timeout=TIMEOUT, concurrency=16)
    args.update(params)
    run = ansible.run([play([stream_task('batch', args), save_results(['batch'])])])
    sim.settle()  # requests the client gave up on (the 'slow' fault) are logged when answered
    assert run.results is not None, run.output[-5000:]
    return run, run.results['batch']


@pytest.mark.parametrize('seed', [7, 2024])
def test_fault_matrix_exact(sim_factory, ansible, seed):
    sim = sim_factory('--rate', '0', '--faults', '%s;seed=%d' % (FAULTS, seed), '--slow-ms', str(SLOW_MS))
    rooms, targets, present = build_batch()
    sim.reset(rooms)
    run, res = run_batch(sim, ansible, targets, retries=10)
    assert not res.get('failed'), res.get('msg')
    assert run.rc == 0

    # end state: every target absent, every other stream untouched
    state = set((room, s) for room, streams in sim.state().items() for s in streams)
    target_set = set(targets)
    assert not state & target_set
    assert state == present - target_set

    log = sim.deletes()
    faults = collections.Counter(e['fault'] for e in log if e['fault'])
    assert sum(faults.values()) >= 50, faults           # the faults really happened ...
    assert set(faults) == set(LAST_CODE), faults          # ... of every kind
    streams = by_stream(log)
    assert set(streams) == target_set                     # no request for any untargeted stream
    by_rid = dict((e['request_id'], e) for e in log)

    summary = res['summary']
    assert summary['total'] == len(res['streams']) == 500
    assert summary['duplicates'] == 3
    unflagged, flagged, absent = set(), set(), set()
    finals = {}
    for item in res['streams']:
        key = (item['room_id'], item['stream_id'])
        entries = streams[key]
        # the answer the module reports is the simulator's last, and it was seen (no fault)
        last = by_rid[item['request_id']]
        assert (last['room_id'], last['stream_id']) == key
        assert last['fault'] is None and last['code'] == item['code'], (item, last)
        assert item['attempts'] == len(entries), (item, entries)
        assert entries[-1] is last or all(e['code'] != 0 for e in entries[entries.index(last) + 1:])
        finals[key] = last
        if item['outcome'] == 'deleted' and not item['response_lost']:
            unflagged.add(key)
        elif item['outcome'] == 'deleted':
            flagged.add(key)
        else:
            assert item['outcome'] == 'already_absent' and not item['response_lost'], item
            absent.add(key)

    final_zero = set(k for k, e in finals.items() if e['code'] == 0)
    # ambiguous: the last answer was 138 and an earlier attempt's answer was lost (anything but a
    # Code the client read; a fault-free entry before the last one means the client timed out on it)
    ambiguous = set(k for k, last in finals.items() if last['code'] != 0 and any(
        e['fault'] not in VISIBLE_FAULTS for e in streams[k] if e is not last))
    deleted_by_log = set(k for k, es in streams.items() if any(e['code'] == 0 for e in es))
    # unflagged 'deleted' = exactly the streams whose deletion the module saw
    assert unflagged == final_zero
    # flagged = exactly the ambiguous ones: an answer was lost, then ZEGO said 138
    assert flagged == ambiguous
    assert absent == target_set - final_zero - ambiguous
    # the truth: what some request deleted is what was present, and the report covers it
    assert deleted_by_log == target_set & present
    assert deleted_by_log <= unflagged | flagged
    assert absent.isdisjoint(deleted_by_log)
    assert summary['deleted'] == len(unflagged) + len(flagged)
    assert summary['already_absent'] == len(absent)
    assert summary['failed'] == 0
    # a lost answer does not hide a deletion: flagged streams the log shows as deleted by a lost attempt
    lost_deleted = set(k for k in flagged if any(e['code'] == 0 and e['fault'] for e in streams[k]))
    assert lost_deleted == flagged & deleted_by_log
    print('FIGURES seed=%d requests=%d faults=%s deleted=%d (unflagged %d, flagged %d of which %d deleted by a '
          'lost attempt) already_absent=%d' % (seed, len(log), dict(faults), summary['deleted'], len(unflagged),
                                               len(flagged), len(lost_deleted), len(absent)))


def test_fault_matrix_retries_exhausted(sim_factory, ansible):
    sim = sim_factory('--rate', '0', '--faults', '%s;seed=%d' % (FAULTS, 11), '--slow-ms', str(SLOW_MS))
    rooms, targets, present = build_batch()
    sim.reset(rooms)
    run, res = run_batch(sim, ansible, targets, retries=1)
    assert res["failed"] and run.recap()["ignored"] == 1

    log = sim.deletes()
    streams = by_stream(log)
    target_set = set(targets)
    assert set(streams) == target_set
    # rate-limit answers (code206) do not use up retries: a stream fails exactly when two of its attempts hit
    # another fault (retries=1) and none got through; its code is the last one's, which is never the 206
    expect_failed = {}
    for key, entries in streams.items():
        errors = [e for e in entries if e['fault'] and e['fault'] != 'code206']
        if all(e['fault'] for e in entries):
            assert len(errors) == 2 and entries[-1]['fault'] != 'code206', entries
            expect_failed[key] = LAST_CODE[entries[-1]['fault']]
        else:
            assert len(errors) <= 1, entries
    assert expect_failed, 'the faults did not exhaust any retries'
    got_failed = dict(((r['room_id'], r['stream_id']), r['code']) for r in res['streams'] if r['outcome'] == 'failed')
    assert got_failed == expect_failed
    for item in res['streams']:
        key = (item['room_id'], item['stream_id'])
        entries = streams[key]
        assert item['attempts'] == len(entries)
        if item['outcome'] == 'failed':
            assert item['error']['code'] == item['code']
            lost = any(e['fault'] not in VISIBLE_FAULTS for e in entries)
            assert item['response_lost'] == lost, (item, entries)
        else:
            last = [e for e in entries if e['fault'] is None]
            assert len(last) == 1 and last[0]['request_id'] == item['request_id'] and last[0]['code'] == item['code']
    summary = res['summary']
    assert summary['failed'] == len(expect_failed)
    assert summary['deleted'] + summary['already_absent'] + summary['failed'] == 500
    assert res['msg'].startswith('%d of 500 streams failed: ' % len(expect_failed)), res['msg']
    first = [r for r in res['streams'] if r['outcome'] == 'failed'][0]
    assert '%s/%s: ' % (first['room_id'], first['stream_id']) in res['msg']
    # everything else was done: all other targets are absent, failed ones are present unless a lost
    # attempt deleted them, and untargeted streams are untouched
    state = set((room, s) for room, streams_ in sim.state().items() for s in streams_)
    deleted_by_log = set(k for k, es in streams.items() if any(e['code'] == 0 for e in es))
    assert state == present - deleted_by_log
    assert set(k for k in expect_failed if k in present) - deleted_by_log == set(expect_failed) & state
    assert (target_set - set(expect_failed)).isdisjoint(state)
    print('FIGURES retries=1 seed=11 failed=%d deleted=%d already_absent=%d codes=%s' % (
        len(expect_failed), summary['deleted'], summary['already_absent'],
        dict(collections.Counter(expect_failed.values()))))
