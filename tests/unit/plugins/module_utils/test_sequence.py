# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SequenceCounter: ZEGO's Sequence never repeats and never goes back, across threads, processes
(parallel forks) and runs, and survives a clock that steps back. Also the DescribeForbidStreamRules
reading helper of the actions."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import multiprocessing
import os
import threading

import pytest

from ansible_collections.zego.rtc.plugins.module_utils import state
from ansible_collections.zego.rtc.plugins.module_utils.actions import rule_expires_at
from ansible_collections.zego.rtc.plugins.module_utils.client import Settings, ZegoClient
from ansible_collections.zego.rtc.plugins.module_utils.state import SequenceCounter


class StuckClock(object):
    def __init__(self, now=1700000000.0):
        self.now = now

    def __call__(self):
        return self.now


def _take(path, count, queue):
    counter = SequenceCounter(path=path, clock=StuckClock())
    queue.put((os.getpid(), [int(counter.next()) for dummy in range(count)]))


def test_milliseconds_when_the_clock_moves(tmp_path):
    clock = StuckClock(1700000000.5)
    counter = SequenceCounter(path=str(tmp_path / 'seq'), clock=clock)
    assert counter.next() == '1700000000500'
    clock.now += 2
    assert counter.next() == '1700000002500'


def test_a_stuck_clock_still_gives_increasing_numbers(tmp_path):
    counter = SequenceCounter(path=str(tmp_path / 'seq'), clock=StuckClock())
    values = [int(counter.next()) for dummy in range(100)]
    assert values == list(range(1700000000000, 1700000000100))


def test_a_clock_that_steps_back_does_not_make_the_numbers_go_back(tmp_path):
    clock = StuckClock()
    counter = SequenceCounter(path=str(tmp_path / 'seq'), clock=clock)
    first = int(counter.next())
    clock.now -= 3600
    assert int(counter.next()) == first + 1
    # a new process (a later run) reads the file and continues above it
    later = SequenceCounter(path=str(tmp_path / 'seq'), clock=clock)
    assert int(later.next()) == first + 2


def test_a_damaged_file_starts_from_the_clock(tmp_path):
    path = tmp_path / 'seq'
    path.write_text(u'garbage')
    assert SequenceCounter(path=str(path), clock=StuckClock()).next() == '1700000000000'


def test_threads_never_get_the_same_number(tmp_path):
    counter = SequenceCounter(path=str(tmp_path / 'seq'), clock=StuckClock())
    got = []
    lock = threading.Lock()

    def work():
        mine = [int(counter.next()) for dummy in range(200)]
        with lock:
            got.extend(mine)

    threads = [threading.Thread(target=work) for dummy in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == len(set(got)) == 800


@pytest.mark.skipif(state.fcntl is None, reason='needs flock')
def test_processes_never_get_the_same_number_and_each_sees_its_own_increase(tmp_path):
    path = str(tmp_path / 'seq')
    ctx = multiprocessing.get_context('fork')
    queue = ctx.Queue()
    procs = [ctx.Process(target=_take, args=(path, 300, queue)) for dummy in range(4)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for dummy in procs]
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    every = []
    for dummy, values in results:
        assert values == sorted(values) and len(set(values)) == len(values)
        every.extend(values)
    # the clock never moved, so only the shared file kept the four processes apart
    assert len(set(every)) == 1200
    assert sorted(every) == list(range(1700000000000, 1700000001200))
    with open(path) as f:
        assert int(f.read()) == 1700000001199


def test_for_key_uses_the_private_state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv('ZEGO_RTC_STATE_DIR', str(tmp_path / 'state'))
    counter = SequenceCounter.for_key('host|1', clock=StuckClock())
    counter.next()
    names = os.listdir(str(tmp_path / 'state'))
    assert len(names) == 1 and names[0].startswith('sequence-')
    assert oct(os.stat(str(tmp_path / 'state' / names[0])).st_mode & 0o777) == oct(0o600)


def test_client_sequence_is_shared_by_clients_of_one_app(tmp_path, monkeypatch):
    monkeypatch.setenv('ZEGO_RTC_STATE_DIR', str(tmp_path / 'state'))
    one = ZegoClient(Settings(app_id=1, secret='s', api_url='https://h.example'), clock=StuckClock())
    two = ZegoClient(Settings(app_id=1, secret='s', api_url='https://h.example'), clock=StuckClock())
    assert [one.next_sequence(), two.next_sequence(), one.next_sequence()] == [
        '1700000000000', '1700000000001', '1700000000002']


@pytest.mark.parametrize('create,effective,expected', [
    (1700000000, 3600, 1700003600),            # a duration, as in ZEGO's example
    (1700000000, 86400, 1700086400),
    (1700000000, 500000, 1700086400),          # a duration beyond 24 h is cut, as ZEGO cuts it
    (1700000000, 1700003600, 1700003600),      # a Unix time, as ZEGO's text says
    (1700000000, 1700003600000, 1700003600),   # in milliseconds
    (0, 3600, None),                           # a duration without a creation time: unknown
    (1700000000, 0, None),
    ('1700000000', '3600', 1700003600),        # numbers as strings
    ('x', 3600, None),
])
def test_rule_expires_at_reads_both_meanings(create, effective, expected):
    assert rule_expires_at(create, effective) == expected
