# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""RateLimiter correctness: no sliding one-second window ever holds more than the rate.

Everything runs on a fake clock except one cross-process test, which uses real time but only
checks the order and spacing of the slots the processes got, never how long anything took."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import math
import multiprocessing
import os
import threading
import time

import pytest

from ansible_collections.zego.rtc.plugins.module_utils.api import RATE_SAFETY, RateLimiter, ZegoClient

EPS = 1e-6  # the shared file stores slots with microsecond precision


class FakeClock(object):
    """time.time / time.sleep stand-ins: sleeping advances the clock, nothing really waits."""

    def __init__(self, start=1700000000.0):
        self.now = start
        self.lock = threading.Lock()

    def time(self):
        with self.lock:
            return self.now

    def sleep(self, seconds):
        with self.lock:
            self.now += max(seconds, 0)


class FrozenClock(object):
    """A clock that never moves: every caller arrives at the same instant (the worst burst)."""

    def __init__(self, start=1700000000.0):
        self.now = start
        self.sleeps = []

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)


def max_in_window(times, width=1.0, eps=0.0):
    """Most slots in any half-open window (t - width, t]; slots closer than eps to the edge are tolerated."""
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while times[lo] <= t - width + eps:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def assert_paced(slots, rate, eps=EPS):
    slots = sorted(slots)
    gaps = [b - a for a, b in zip(slots, slots[1:])]
    assert min(gaps) >= 1.0 / rate - eps
    # a window of one second never holds more than the rate (a fractional rate rounds up)
    assert max_in_window(slots, eps=eps) <= max(math.ceil(rate - eps), 1)


def test_max_in_window_helper():
    assert max_in_window([0.0, 0.5, 0.99, 1.0, 1.5]) == 3
    assert max_in_window([0.0, 0.1, 0.2]) == 3
    assert max_in_window([]) == 0


@pytest.mark.parametrize('rate', [10.0, 10.0 * RATE_SAFETY, 1.0, 50.0, 0.1, 3.5])
def test_single_caller_is_evenly_spaced(rate):
    clock = FakeClock()
    lim = RateLimiter(rate, clock=clock.time, sleep=clock.sleep)
    slots = [lim.acquire() for dummy in range(200)]
    assert_paced(slots, rate)
    assert clock.now >= slots[-1]  # each caller waited for its slot


@pytest.mark.parametrize('shared_file', [False, True])
def test_simultaneous_arrivals_get_distinct_slots(tmp_path, shared_file):
    clock = FrozenClock()
    path = str(tmp_path / 'rate') if shared_file else None
    lim = RateLimiter(10.0, path=path, clock=clock.time, sleep=clock.sleep)
    slots = [lim.acquire() for dummy in range(50)]
    assert slots == sorted(slots)
    assert slots[0] == clock.now
    assert_paced(slots, 10.0)
    # the n-th caller is told to wait n intervals
    assert clock.sleeps == pytest.approx([0.1 * n for n in range(1, 50)], abs=1e-4)


def test_idle_limiter_does_not_save_up_a_burst():
    clock = FakeClock()
    lim = RateLimiter(10.0, clock=clock.time, sleep=clock.sleep)
    slots = [lim.acquire() for dummy in range(5)]
    clock.sleep(30)  # idle for a long time
    slots += [lim.acquire() for dummy in range(30)]
    assert_paced(slots, 10.0)


def test_client_limiter_stays_under_the_documented_rate_with_jitter():
    """ZegoClient paces at RATE_SAFETY of the limit: requests that leave a little late still fit."""
    clock = FakeClock()
    client = ZegoClient(1234567890, 'secret', api_url='http://127.0.0.1:1', clock=clock.time, sleep=clock.sleep,
                        shared_limits=False)
    lim = client.limiter('DeleteStream', 10.0)
    sent = []
    for n in range(300):
        slot = lim.acquire()
        # arrival jitter: up to 15 ms late, differently for each request
        sent.append(slot + (0.015 if n % 7 == 0 else 0.0))
    assert max_in_window(sent) <= 10
    assert max_in_window([t + 0.001 * (n % 3) for n, t in enumerate(sent)]) <= 10


@pytest.mark.parametrize('shared_file', [False, True])
def test_threads_share_one_budget(tmp_path, shared_file):
    clock = FakeClock()
    path = str(tmp_path / 'rate') if shared_file else None
    lim = RateLimiter(10.0 * RATE_SAFETY, path=path, clock=clock.time, sleep=clock.sleep)
    slots = []
    slots_lock = threading.Lock()
    barrier = threading.Barrier(8)

    def worker():
        barrier.wait()
        for dummy in range(25):
            slot = lim.acquire()
            with slots_lock:
                slots.append(slot)

    threads = [threading.Thread(target=worker) for dummy in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(slots) == 200
    assert len(set(round(s, 6) for s in slots)) == 200
    assert_paced(slots, 10.0 * RATE_SAFETY)
    assert max_in_window(slots) <= 10


def test_two_limiters_on_one_file_share_the_budget(tmp_path):
    """Two limiter objects (as in two processes) on one file, interleaved: one sequence of slots."""
    clock = FrozenClock()
    path = str(tmp_path / 'rate')
    a = RateLimiter(10.0, path=path, clock=clock.time, sleep=clock.sleep)
    b = RateLimiter(10.0, path=path, clock=clock.time, sleep=clock.sleep)
    slots = []
    for n in range(40):
        slots.append((a if n % 3 else b).acquire())
    assert slots == sorted(slots)
    assert_paced(slots, 10.0)


def test_stale_slot_far_in_the_future_is_ignored(tmp_path):
    """A slot file written before the clock jumped back by hours does not block for hours."""
    path = tmp_path / 'rate'
    clock = FrozenClock()
    path.write_text('%.6f' % (clock.now + 10 * RateLimiter.MAX_AHEAD))
    lim = RateLimiter(10.0, path=str(path), clock=clock.time, sleep=clock.sleep)
    assert lim.acquire() == clock.now
    assert not clock.sleeps


def test_for_key_uses_the_private_state_dir(tmp_path, monkeypatch):
    state = tmp_path / 'state'
    monkeypatch.setenv('ZEGO_RTC_STATE_DIR', str(state))
    a = RateLimiter.for_key(10.0, 'rtc-api.zego.im|1|DeleteStream|')
    b = RateLimiter.for_key(10.0, 'rtc-api.zego.im|1|DeleteStream|')
    c = RateLimiter.for_key(10.0, 'rtc-api.zego.im|2|DeleteStream|')
    assert a.path == b.path != c.path
    assert os.path.dirname(a.path) == str(state)
    assert os.stat(str(state)).st_mode & 0o077 == 0


def _frozen_child(path, out, count):
    clock = FrozenClock()
    lim = RateLimiter(10.0, path=path, clock=clock.time, sleep=clock.sleep)
    slots = [lim.acquire() for dummy in range(count)]
    with open(out, 'w') as handle:
        json.dump(slots, handle)


def _real_child(path, out, count, rate, start_at):
    while time.time() < start_at:  # start together, to collide on the file
        time.sleep(0.001)
    lim = RateLimiter(rate, path=path)
    slots = [lim.acquire() for dummy in range(count)]
    with open(out, 'w') as handle:
        json.dump(slots, handle)


def _run_processes(target, args_for):
    try:
        ctx = multiprocessing.get_context('fork')
    except ValueError:  # pragma: no cover
        pytest.skip('needs fork')
    procs = [ctx.Process(target=target, args=args_for(i)) for i in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0


def test_processes_share_one_budget_fake_clock(tmp_path):
    """Four processes on one slot file, all at the same frozen instant: 80 distinct, evenly spaced slots."""
    path = str(tmp_path / 'rate')
    outs = [str(tmp_path / ('out%d.json' % i)) for i in range(4)]
    _run_processes(_frozen_child, lambda i: (path, outs[i], 20))
    slots = []
    for out in outs:
        with open(out) as handle:
            mine = json.load(handle)
        assert mine == sorted(mine)
        slots.extend(mine)
    assert len(slots) == 80
    assert_paced(slots, 10.0)
    base = min(slots)
    assert sorted(round((s - base) * 10) for s in slots) == list(range(80))


def test_processes_share_one_budget_real_time(tmp_path):
    """Four processes with the real clock: the slots they were given never crowd a window."""
    path = str(tmp_path / 'rate')
    outs = [str(tmp_path / ('out%d.json' % i)) for i in range(4)]
    start_at = time.time() + 0.3
    _run_processes(_real_child, lambda i: (path, outs[i], 15, 200.0, start_at))
    slots = []
    for out in outs:
        with open(out) as handle:
            slots.extend(json.load(handle))
    assert len(slots) == 60
    assert len(set(round(s, 6) for s in slots)) == 60
    assert_paced(slots, 200.0)
    assert max_in_window(slots, width=0.1, eps=EPS) <= 20


class OversleepClock(FakeClock):
    """A fake clock on which chosen sleeps wake up late, as threads do on a loaded machine."""

    def __init__(self, late, start=1700000000.0):
        super(OversleepClock, self).__init__(start)
        self.late = late  # {sleep call number: seconds late}
        self.calls = 0

    def sleep(self, seconds):
        self.calls += 1
        super(OversleepClock, self).sleep(max(seconds, 0) + self.late.get(self.calls, 0.0))


@pytest.mark.parametrize('shared_file', [False, True])
def test_a_late_sender_does_not_crowd_the_next_window(tmp_path, shared_file):
    # The first caller wakes 60 ms after its slot; the ten after it are on time. Evenly spaced slots
    # alone would then put 11 sends into one second; the send log makes the eleventh wait.
    clock = OversleepClock({1: 0.06})
    path = str(tmp_path / 'rate') if shared_file else None
    limiter = RateLimiter(10 * RATE_SAFETY, path=path, clock=clock.time, sleep=clock.sleep)
    clock.now += 0.5
    limiter._transact(lambda state: (None, (clock.now + 0.01, [], 1.0, 0.0)))  # the next slot is 10 ms away
    sent = []
    for dummy in range(40):
        limiter.acquire()
        sent.append(clock.time())
    assert sent[1] - sent[0] < 0.1  # the late send really was late: the next slot came sooner
    assert max_in_window(sent, eps=EPS) <= 10
