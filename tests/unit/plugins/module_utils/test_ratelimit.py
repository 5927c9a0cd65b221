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

from ansible_collections.zego.rtc.plugins.module_utils.client import Settings, ZegoClient
from ansible_collections.zego.rtc.plugins.module_utils.ratelimit import RATE_SAFETY, TIME_TOLERANCE, RateLimiter

EPS = TIME_TOLERANCE  # two times closer than this are the same time to the limiter


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
    client = ZegoClient(Settings(app_id=1234567890, secret='secret', api_url='http://127.0.0.1:1', shared_limits=False),
                        clock=clock.time, sleep=clock.sleep)
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
    limiter._transact(lambda state: (None, dict(state, next=clock.now + 0.01)))  # the next slot is 10 ms away
    sent = []
    for dummy in range(40):
        limiter.acquire()
        sent.append(clock.time())
    assert sent[1] - sent[0] < 0.1  # the late send really was late: the next slot came sooner
    assert max_in_window(sent, eps=EPS) <= 10


# -- adaptive pacing (no shared store) -------------------------------------------------------------------
from ansible_collections.zego.rtc.plugins.module_utils import ratelimit  # noqa: E402


def test_slow_start_begins_at_slow_start_of_the_rate_and_doubles_every_window_to_the_full_rate():
    clock = FakeClock()
    lim = RateLimiter(10.0, clock=clock.time, sleep=clock.sleep, adaptive=True)
    assert lim.current_rate() == pytest.approx(10.0 * ratelimit.SLOW_START)
    start = lim.acquire()
    clock.now = start + ratelimit.ZEGO_WINDOW / 2
    assert lim.current_rate() == pytest.approx(10.0 * ratelimit.SLOW_START * 2 ** 0.5)
    # a job alone never leaves slow start: its growth stops at the full rate, however long it runs
    for later in (ratelimit.ZEGO_WINDOW * 10, lim.idle_limit - 1):
        clock.now = start + later
        assert lim.current_rate() == pytest.approx(10.0)


def _steady(lim, shares):
    """End slow start as ZEGO would: ``shares`` requests accepted, then the next one rejected."""
    tickets = [lim.acquire() for dummy in range(shares + 1)]
    for ticket in tickets[:-1]:
        lim.accepted(ticket)
    assert lim.congestion(tickets[-1]) is True
    assert lim.shares() == (shares, lim.cap)
    return tickets


def _job(shares, rate=10.0 * RATE_SAFETY, path=None):
    """(limiter, clock, tickets) of an adaptive job that ended slow start with ``shares``."""
    clock = FakeClock()
    lim = RateLimiter(rate, path=path, clock=clock.time, sleep=clock.sleep, adaptive=True)
    return lim, clock, _steady(lim, shares)


def _sends(lim, clock, count):
    """``count`` acquires; (tickets, the times the sends really left)."""
    tickets, sent = [], []
    for dummy in range(count):
        tickets.append(lim.acquire())
        sent.append(clock.time())
    return tickets, sent


def _state(lim, name):
    return lim._transact(lambda state: (state[name], state))


def _probe_now(lim):
    lim._transact(lambda state: (None, dict(state, next_probe=0.0)))


def _no_probe(lim):
    # not within the test (a time far beyond the test's minutes, yet one a state file may hold)
    lim._transact(lambda state: (None, dict(state, next_probe=lim.clock() + lim.MAX_AHEAD / 2)))


def _probe(lim, clock, now=True):
    """Acquire until the edge probe leaves (``now``: without waiting for the probe wait); (its ticket, the sends
    before it)."""
    if now:
        _probe_now(lim)
    sent = []
    for dummy in range(200):
        ticket = lim.acquire()
        probe = _state(lim, 'probe')
        if probe:
            assert ticket == probe
            return ticket, sent
        sent.append(clock.time())
    raise AssertionError('no edge probe left')


def _assert_probe_wait(lim, clock, shares):
    """Rule 3: the next probe is PROBE_WAIT to twice that per share held (at least one) away."""
    due = _state(lim, 'next_probe') - clock.now
    wait = ratelimit.PROBE_WAIT * max(1.0, shares)
    assert wait - EPS <= due <= 2 * wait + EPS


@pytest.mark.parametrize('shared_file', [False, True])
def test_rule_1_the_first_rate_limit_answer_ends_slow_start_with_the_share_zego_accepted(tmp_path, shared_file):
    lim, clock, tickets = _job(3, path=str(tmp_path / 'rate') if shared_file else None)
    assert lim.current_rate() == pytest.approx(3 * lim.rate / lim.cap)
    # the first probe waits as after a failed one
    _assert_probe_wait(lim, clock, 3)
    # answers to requests sent before that change are the same congestion
    assert lim.congestion(tickets[0]) is False
    assert lim.shares() == (3, lim.cap)


def test_a_job_never_sends_more_than_its_shares_in_any_window():
    lim, clock, dummy = _job(3)
    _no_probe(lim)
    dummy, sent = _sends(lim, clock, 40)
    assert max_in_window(sent, width=lim.window, eps=EPS) <= 3
    gaps = [y - x for x, y in zip(sent[1:], sent[2:])]
    assert min(gaps) == pytest.approx(lim.window / 3, abs=1e-3)


def test_jobs_whose_shares_add_up_to_the_cap_never_overfill_zegos_second():
    """Four jobs that cannot see each other, at 3 + 3 + 2 + 2 shares and arbitrary phases: merged, no
    sliding second of ZEGO's holds more than 10 of their sends."""
    merged = []
    for shares, offset in ((3, 0.0), (3, 0.137), (2, 0.291), (2, 0.803)):
        clock = FakeClock(1700000000.0 + offset)
        lim = RateLimiter(10.0 * RATE_SAFETY, clock=clock.time, sleep=clock.sleep, adaptive=True)
        _steady(lim, shares)
        _no_probe(lim)
        merged += _sends(lim, clock, 60)[1]
    assert max_in_window(merged, width=ratelimit.ZEGO_WINDOW, eps=EPS) <= 10


def test_an_edge_probe_leaves_just_before_the_oldest_send_leaves_zegos_second():
    lim, clock, dummy = _job(3)
    _no_probe(lim)
    _sends(lim, clock, 5)
    ticket, dummy = _probe(lim, clock)
    with_probe = sorted(_state(lim, 'sends'))
    before = [t for t in with_probe if t < ticket]
    # the oldest of the last three sends leaves ZEGO's window PROBE_EARLY after the probe: until then the
    # probe is a fourth send in one second, so a full window rejects exactly this one request
    assert ticket == pytest.approx(before[-3] + ratelimit.ZEGO_WINDOW - ratelimit.PROBE_EARLY, abs=EPS)
    assert max_in_window(with_probe, width=ratelimit.ZEGO_WINDOW, eps=EPS) == 4


def test_rule_2_an_accepted_probe_adds_a_share_and_probes_again():
    lim, clock, dummy = _job(3)
    lim.accepted(_probe(lim, clock, now=False)[0])
    assert lim.shares() == (4, lim.cap)
    # the next probe is due at once: the one after it leaves at the next edge of the four shares
    ticket, before = _probe(lim, clock, now=False)
    assert len(before) <= 4
    lim.accepted(ticket)
    assert lim.shares() == (5, lim.cap)
    _no_probe(lim)
    dummy, sent = _sends(lim, clock, 12)
    assert max_in_window(sent[-8:], width=lim.window, eps=EPS) == 5


def test_rule_3_a_rejected_probe_keeps_the_share_and_waits_in_proportion_to_it():
    lim, clock, dummy = _job(3)
    ticket, dummy = _probe(lim, clock)
    assert lim.congestion(ticket) is False
    assert lim.shares() == (3, lim.cap)
    _assert_probe_wait(lim, clock, 3)
    # until then no send is a probe, and the job keeps to its three shares
    tickets, sent = _sends(lim, clock, 6)
    assert _state(lim, 'probe') == 0.0
    assert max_in_window(sent, width=lim.window, eps=EPS) <= 3


def test_rule_4_any_other_rate_limit_answer_gives_one_share_back_once_per_change():
    lim, clock, dummy = _job(6)
    _no_probe(lim)
    first, second = lim.acquire(), lim.acquire()
    _probe_now(lim)
    assert lim.congestion(first) is True
    assert lim.shares() == (5, lim.cap)
    _assert_probe_wait(lim, clock, 5)  # and waits as after a failed probe before it probes again
    assert lim.congestion(second) is False  # sent before the change: the same congestion
    assert lim.shares() == (5, lim.cap)
    # a lasting overload (another client) takes one share per rate-limit answer to a request sent after it
    for expected in (4, 3, 2, 1):
        clock.sleep(0.2)
        assert lim.congestion(lim.acquire()) is True
        assert lim.shares() == (expected, lim.cap)
    _no_probe(lim)
    dummy, sent = _sends(lim, clock, 10)
    assert max_in_window(sent, width=lim.window, eps=EPS) <= 1


def test_rule_4_at_one_share_halves_it_only_when_none_of_the_job_got_through():
    """One share is what a job needs to be paced at all: a rate-limit answer halves it only when ZEGO accepted
    none of the job's requests in the span before the rejected one (more jobs than shares, or ZEGO's test
    environment at 1/s, where every request of the job is rejected), down to SHARE_MIN."""
    lim, clock, dummy = _job(1, rate=10.0)
    _no_probe(lim)
    accepted = lim.acquire()
    lim.accepted(accepted)
    assert lim.congestion(lim.acquire()) is False  # the request before it got through
    assert lim.shares() == (1, lim.cap)
    seen = []
    for dummy in range(8):
        assert lim.congestion(lim.acquire()) is True
        seen.append(lim.shares()[0])
    assert seen == [0.5, 0.25, 0.125, 0.0625, ratelimit.SHARE_MIN, ratelimit.SHARE_MIN, ratelimit.SHARE_MIN,
                    ratelimit.SHARE_MIN]
    assert lim.current_rate() == pytest.approx(10.0 * ratelimit.SHARE_MIN / lim.cap)
    dummy, sent = _sends(lim, clock, 4)
    gaps = [y - x for x, y in zip(sent, sent[1:])]
    assert min(gaps) >= lim.window / ratelimit.SHARE_MIN - EPS  # one request per 1/SHARE_MIN windows


def test_below_one_share_a_probe_is_the_next_request_one_window_after_the_last_and_doubles_the_share():
    lim, clock, dummy = _job(1, rate=10.0)
    _no_probe(lim)
    clock.sleep(2 * lim.window)  # nothing of the job got through since
    assert lim.congestion(lim.acquire()) is True
    assert lim.congestion(lim.acquire()) is True
    assert lim.shares() == (0.25, lim.cap)
    dummy, sent = _sends(lim, clock, 1)
    for expected in (0.5, 1.0):
        ticket, before = _probe(lim, clock)
        assert ticket == pytest.approx((before or sent)[-1] + lim.window, abs=EPS)
        sent = [ticket]
        lim.accepted(ticket)
        assert lim.shares() == (expected, lim.cap)


def test_forks_of_one_job_share_the_adaptive_state_through_the_file(tmp_path):
    clock = FakeClock()
    path = str(tmp_path / 'rate')
    a = RateLimiter(10.0, path=path, clock=clock.time, sleep=clock.sleep, adaptive=True)
    b = RateLimiter(10.0, path=path, clock=clock.time, sleep=clock.sleep, adaptive=True)
    _steady(a, 3)
    assert b.shares() == (3, b.cap)  # b sees the share a found
    ticket, dummy = _probe(a, clock)
    b.accepted(ticket)  # the answer to a's probe, seen by the other fork
    with open(path) as handle:
        state = json.load(handle)
    assert state['probe'] == 0.0
    assert state['k'] == 4 and a.shares() == (4, a.cap)


def test_a_limiter_that_is_not_adaptive_ignores_answers():
    clock = FakeClock()
    lim = RateLimiter(10.0, clock=clock.time, sleep=clock.sleep)
    ticket = lim.acquire()
    before = lim._transact(lambda state: (dict(state), state))
    assert lim.congestion(ticket) is False
    lim.accepted(ticket)
    assert lim._transact(lambda state: (dict(state), state)) == before
    assert lim.current_rate() == pytest.approx(10.0)
    assert lim.shares() == (10, 10)


def test_reading_the_shared_state_does_not_rewrite_the_file(tmp_path):
    path = tmp_path / 'rate'
    lim, clock, dummy = _job(3, path=str(path))
    before = os.stat(str(path)).st_mtime_ns, path.read_bytes()
    lim.current_rate()
    lim.shares()
    assert (os.stat(str(path)).st_mtime_ns, path.read_bytes()) == before


def test_state_files_of_the_previous_release_start_afresh(tmp_path):
    path = tmp_path / 'rate'
    clock = FrozenClock()
    path.write_text('%.6f %.6f | 0.500000 %.6f 1' % (clock.now - 5, clock.now - 5, clock.now - 5))
    lim = RateLimiter(10.0, path=str(path), clock=clock.time, sleep=clock.sleep, adaptive=True)
    assert lim.acquire() == clock.now
    assert lim.current_rate() == pytest.approx(10.0 * ratelimit.SLOW_START)  # slow start begins
    with open(str(path)) as handle:
        assert json.load(handle)['v'] == RateLimiter.VERSION


def test_without_congestion_adaptive_pacing_is_todays_pacing_after_slow_start():
    """One job alone: no rate-limit answer; after slow start the slots are a plain limiter's, and slow start
    costs less than half a second in all."""
    c1, c2 = FakeClock(), FakeClock()
    plain = RateLimiter(10.0 * RATE_SAFETY, clock=c1.time, sleep=c1.sleep)
    adaptive = RateLimiter(10.0 * RATE_SAFETY, clock=c2.time, sleep=c2.sleep, adaptive=True)
    a = [plain.acquire() for dummy in range(300)]
    b = [adaptive.acquire() for dummy in range(300)]
    late = [y - x for x, y in zip(a, b)]
    assert 0 < late[-1] < 0.5
    assert late[-1] == pytest.approx(late[100], abs=1e-6)  # after slow start, the same spacing
    assert_paced(b, 10.0 * RATE_SAFETY)
