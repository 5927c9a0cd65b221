# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""State that outlives a run, with real playbooks: a second run after the times in the private state files moved
an hour back (a run long ago), an hour forward (a clock that stepped back), or with garbage in them, succeeds;
so does a run whose shared store holds entries from a server clock that stepped back."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os
import re

import pytest

from e2e_lib import conn, play, save_results, stream_task
# the store fixture of test_store.py
from test_store import redis_url  # noqa: F401 pylint: disable=unused-import

COUNTS = ('v', 'phase', 'k', 'passed')  # every other field of a rate-limit state file holds times


def _batch(sim, first, count, **extra):
    return conn(sim, streams=[{'room_id': 'r1', 'stream_id': 's%d' % n} for n in range(first, first + count)],
                **extra)


def _state_files(state_dir):
    return sorted(os.path.join(state_dir, n) for n in os.listdir(state_dir) if n.startswith('rate-'))


def _shift(path, seconds):
    with open(path) as f:
        data = json.load(f)
    for name, value in data.items():
        if name in COUNTS:
            continue
        # 0 stands for 'none' (no probe out, ...): only times move
        data[name] = [v + seconds for v in value] if isinstance(value, list) else (value and value + seconds)
    with open(path, 'w') as f:
        json.dump(data, f)


def _garbage(path, seconds):
    del seconds
    with open(path, 'wb') as f:
        f.write(b'{"v": 3, "t": 17\x00\xff garbage')


def _run(ansible, sim, state_dir, first, count, **extra):
    run = ansible.run([play([stream_task('batch', _batch(sim, first, count, **extra)), save_results(['batch'])])],
                      env={'ZEGO_RTC_STATE_DIR': state_dir})
    assert run.rc == 0, run.output[-3000:]
    assert run.results['batch']['summary']['deleted'] == count, run.results['batch']
    return run


@pytest.mark.parametrize('change, seconds, warning', [
    (_shift, -3600, None),                      # an hour ago: the job it describes has ended, start afresh
    (_shift, -630, None),                       # the gap after which slow start's growth once overflowed
    (_shift, 3600, 'the clock stepped back'),   # an hour in the future
    (_garbage, 0, 'truncated or overwritten'),
], ids=['an-hour-ago', '630-s-ago', 'an-hour-ahead', 'garbage'])
def test_a_second_run_after_the_state_files_changed_succeeds(sim_factory, ansible, tmp_path, change, seconds,
                                                             warning):
    sim = sim_factory('--rate', '10', '--list-room-interval', '0')
    sim.reset({'r1': [{'stream_id': 's%d' % n, 'user_id': 'u%d' % n} for n in range(12)]})
    state_dir = str(tmp_path / 'state')
    os.mkdir(state_dir, 0o700)
    _run(ansible, sim, state_dir, 0, 6)
    files = _state_files(state_dir)
    assert files, os.listdir(state_dir)
    for path in files:
        change(path, seconds)
    run = _run(ansible, sim, state_dir, 6, 6)
    warnings = re.findall(r'^\[WARNING\]: (.*)$', run.stdout + run.stderr, re.M)
    if warning is None:
        assert not any('state file' in w for w in warnings), warnings
    else:
        assert any(warning in w and 'starts afresh' in w for w in warnings), run.output[-3000:]
    assert sorted(sim.deletes(), key=str) and len(sim.deletes()) == 12
    # the files are well-formed again
    for path in _state_files(state_dir):
        with open(path) as f:
            assert json.load(f)['v'] == 3


def test_a_store_with_entries_from_a_clock_that_stepped_back_still_paces(sim_factory, ansible, tmp_path,
                                                                        redis_url):  # noqa: F811
    sim = sim_factory('--rate', '10', '--list-room-interval', '0')
    sim.reset({'r1': [{'stream_id': 's%d' % n, 'user_id': 'u%d' % n} for n in range(6)]})
    client = redis_url['client']
    host = sim.url.split('://', 1)[1].rstrip('/').lower()
    key = 'zego.rtc:rate:%s|%s|DeleteStream|' % (host, sim.app_id)
    now_us = int(client.time()[0]) * 1000000
    client.zadd(key, dict(('stale%d' % n, now_us + 3600 * 1000000 + n) for n in range(20)))  # an hour ahead
    client.persist(key)
    state_dir = str(tmp_path / 'state')
    os.mkdir(state_dir, 0o700)
    run = _run(ansible, sim, state_dir, 0, 6, rate_limit_backend=redis_url['url'])
    assert 'pacing locally' not in run.output  # the store kept the budget, it was not given up on
    assert not any(m.startswith(b'stale') for m in client.zrange(key, 0, -1))
