# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""State that outlives a run: the rate-limit state files and the Sequence counter keep working after any time
gap (0 s to years, clocks stepping back or forward) and with any content of their file.

Everything runs on an injected clock: nothing here waits, and nothing asserts on how long anything took."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import math
import os
import shutil
import tempfile

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.zego.rtc.plugins.module_utils import ratelimit
from ansible_collections.zego.rtc.plugins.module_utils.state import SequenceCounter
from ansible_collections.zego.rtc.plugins.module_utils.ratelimit import RATE_SAFETY, RateLimiter

START = 1700000000.0
YEAR = 365 * 86400.0


class JumpClock(object):
    """An injected clock: ``sleep`` advances it (and records the wait), ``jump`` moves it any way."""

    def __init__(self, now=START):
        self.now = now
        self.sleeps = []

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        assert math.isfinite(seconds), 'asked to sleep %r' % seconds
        self.now += max(0.0, seconds)

    def jump(self, seconds):
        self.now = max(0.0, self.now + seconds)


@pytest.fixture
def state_dir():
    path = tempfile.mkdtemp()
    yield path
    shutil.rmtree(path)


def _limiter(clock, path, adaptive=True, rate=10.0, warnings=None):
    return RateLimiter(rate * RATE_SAFETY, path=path, clock=clock.time, sleep=clock.sleep, adaptive=adaptive,
                       warn=(warnings.append if warnings is not None else None))


def _read(path):
    with open(path, 'rb') as f:
        return f.read()


def _well_formed(lim, path, now=None):
    """The file holds a state this release reads as it is at ``now`` (default: its own last change), with no
    problem found and every number finite."""
    raw = _read(path)
    data = json.loads(raw.decode('ascii'))
    assert data['v'] == RateLimiter.VERSION
    for value in data.values():
        for v in (value if isinstance(value, list) else [value]):
            assert isinstance(v, (int, float)) and math.isfinite(v)
    dummy, problem = lim._parse(raw, data['t'] if now is None else now)
    assert problem is None


# -- the failure of issue 27: slow start's start time outlived the run -------------------------------------
@pytest.mark.parametrize('gap', [630.0, 3600.0, 86400.0, 10 * YEAR])
@pytest.mark.parametrize('on_file', [True, False])
def test_a_job_in_slow_start_works_again_after_a_long_gap(state_dir, gap, on_file):
    """A run, then another one ``gap`` seconds later with the same state: slow start's growth once overflowed
    after about 614 s (first * 2 ** (gap / doubling))."""
    clock = JumpClock()
    path = os.path.join(state_dir, 'rate') if on_file else None
    lim = _limiter(clock, path)
    for dummy in range(3):
        lim.accepted(lim.acquire())
    clock.jump(gap)
    later = _limiter(clock, path) if on_file else lim  # a new process, or the same one kept alive
    for dummy in range(3):
        later.accepted(later.acquire())
    assert 0 < later.current_rate() <= later.rate
    assert all(0 <= s < 1.0 for s in clock.sleeps)


def test_a_job_that_never_hears_a_rate_limit_answer_keeps_the_full_rate_for_hours(state_dir):
    """Slow start only ends at a rate-limit answer: a job alone never gets one, and its growth stops at the
    full rate however long it runs."""
    clock = JumpClock()
    path = os.path.join(state_dir, 'rate')
    lim = _limiter(clock, path)
    for dummy in range(200):
        lim.accepted(lim.acquire())
        clock.jump(30.0)  # a request every half minute for more than an hour and a half
    assert lim.current_rate() == pytest.approx(lim.rate)
    assert lim.shares() == (lim.cap, lim.cap)


def test_a_state_left_alone_longer_than_the_idle_limit_starts_afresh_silently(state_dir):
    clock = JumpClock()
    path = os.path.join(state_dir, 'rate')
    warnings = []
    lim = _limiter(clock, path, warnings=warnings)
    tickets = [lim.acquire() for dummy in range(4)]
    for ticket in tickets[:-1]:
        lim.accepted(ticket)
    lim.congestion(tickets[-1])  # end of slow start: 3 shares
    assert lim.shares() == (3, lim.cap)
    clock.jump(lim.idle_limit / 2)
    assert lim.shares() == (3, lim.cap)  # a pause within the limit keeps what the job learned
    clock.jump(lim.idle_limit + 1)
    fresh = _limiter(clock, path, warnings=warnings)
    assert fresh.shares() == (ratelimit.SLOW_START * fresh.cap, fresh.cap)  # slow start again
    assert warnings == []


def _written(**change):
    """The file content of a state of this release as a job in slow start leaves it, with ``change``."""
    clock = JumpClock()
    lim = _limiter(clock, None)
    lim.accepted(lim.acquire())
    text = lim._format(lim._state).decode('ascii')
    for name, value in change.items():
        data = json.loads(text)
        data[name] = 'VALUE'
        text = json.dumps(data).replace('"VALUE"', value)
    return text.encode('ascii')


@pytest.mark.parametrize('content, why', [
    (_written()[:-9], 'truncated'),
    (b'\x00\xff garbage', 'truncated or overwritten'),
    (b'[1, 2, 3]', 'another release'),
    (b'{"v": 2, "next": 1700000000.0}', 'another release'),
    (_written().replace(b'"next_probe"', b'"nxt"'), "'next_probe' is missing"),
    (_written(next='NaN'), "'next' does not hold a finite number"),
    (_written(k='Infinity'), "'k' does not hold a finite number"),
    (_written(sends='[1e999]'), "'sends' does not hold a finite number"),
    (_written(sends='"x"'), "'sends' is not a list"),
    (_written(start='-5'), "'start' does not hold a finite number"),
    (_written(start='true'), "'start' does not hold a finite number"),
    (_written(next='1' + '0' * 400), "'next' does not hold a finite number"),
    (_written(next_probe='1e15'), "'next_probe' lies more than 3600 s after"),
    (_written(t='1700003600.0'), 'in the future'),
])
def test_a_file_that_cannot_be_used_starts_afresh_with_one_warning(state_dir, content, why):
    clock = JumpClock()
    path = os.path.join(state_dir, 'rate')
    with open(path, 'wb') as f:
        f.write(content)
    warnings = []
    lim = _limiter(clock, path, warnings=warnings)
    for dummy in range(5):
        lim.accepted(lim.acquire())
    assert len(warnings) == 1, warnings
    assert why in warnings[0] and path in warnings[0] and 'starts afresh' in warnings[0]
    assert all(0 <= s < 1.0 for s in clock.sleeps)
    _well_formed(lim, path, clock.now)


def test_a_clock_that_stepped_back_between_runs_does_not_make_a_job_wait(state_dir):
    clock = JumpClock()
    path = os.path.join(state_dir, 'rate')
    lim = _limiter(clock, path)
    for dummy in range(20):
        lim.accepted(lim.acquire())
    clock.jump(-3600)  # NTP stepped the clock back an hour
    warnings = []
    later = _limiter(clock, path, warnings=warnings)
    del clock.sleeps[:]
    later.accepted(later.acquire())
    assert clock.sleeps == [] or max(clock.sleeps) < 1.0
    assert len(warnings) == 1 and 'the clock stepped back' in warnings[0]


# -- properties over arbitrary gaps and arbitrary files ---------------------------------------------------
FIELD_NAMES = [name for name, dummy in RateLimiter._FIELDS]
JSON_LEAVES = (st.none() | st.booleans() | st.integers(min_value=-10 ** 30, max_value=10 ** 30)
               | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=4)
               | st.floats(min_value=START - 10 * YEAR, max_value=START + 10 * YEAR))
JSON_VALUES = st.recursive(JSON_LEAVES, lambda inner: st.lists(inner, max_size=6), max_leaves=12)
STATES = st.dictionaries(st.sampled_from(FIELD_NAMES + ['v']), JSON_VALUES, max_size=len(FIELD_NAMES) + 1)


def _content(state, version):
    if version:
        state = dict(state, v=RateLimiter.VERSION)
    return json.dumps(state, allow_nan=True).encode('ascii')


FILE_CONTENTS = st.one_of(
    st.binary(max_size=80),
    st.builds(_content, STATES, st.booleans()),
)
GAPS = st.one_of(
    st.floats(min_value=0.0, max_value=2.0),                 # within a run
    st.floats(min_value=-2 * YEAR, max_value=10 * YEAR),     # between runs, the clock stepping either way
    st.sampled_from([0.0, 614.0, 630.0, -0.5, 1e-9, 3600.0]),
)
OPERATIONS = st.lists(st.tuples(GAPS, st.sampled_from(['acquire', 'accepted', 'congestion', 'rate'])),
                      min_size=1, max_size=25)


@settings(max_examples=300, deadline=None)
@given(content=FILE_CONTENTS, operations=OPERATIONS, adaptive=st.booleans(),
       rate=st.sampled_from([1.0, 10.0, 50.0, 0.1]))
def test_any_file_and_any_gaps_give_finite_bounded_waits_and_a_well_formed_state(
        content, operations, adaptive, rate):
    directory = tempfile.mkdtemp()
    try:
        path = os.path.join(directory, 'rate')
        with open(path, 'wb') as f:
            f.write(content)
        clock = JumpClock()
        warnings = []
        lim = _limiter(clock, path, adaptive=adaptive, rate=rate, warnings=warnings)
        ticket = clock.now
        for gap, operation in operations:
            clock.jump(gap)
            if operation == 'acquire':
                ticket = lim.acquire()
                assert math.isfinite(ticket)
            elif operation == 'accepted':
                lim.accepted(ticket)
            elif operation == 'congestion':
                lim.congestion(ticket)
            else:
                current = lim.current_rate()
                assert math.isfinite(current) and 0 < current <= lim.rate
        assert all(math.isfinite(s) and s <= lim.MAX_AHEAD for s in clock.sleeps)
        assert len(warnings) <= 2  # the file as found, and at most one clock step back
        if os.path.getsize(path) and _read(path) != content:
            _well_formed(lim, path)
    finally:
        shutil.rmtree(directory)


# -- the Sequence counter ---------------------------------------------------------------------------------
class StuckClock(object):
    def __init__(self, now=START):
        self.now = now

    def __call__(self):
        return self.now


@pytest.mark.parametrize('content', [b'garbage', b'-5', b'1' * 40, b'17000000000001.5', b'\xff\xfe'])
def test_a_sequence_file_that_holds_no_number_starts_from_the_clock_with_a_warning(tmp_path, content):
    path = tmp_path / 'seq'
    path.write_bytes(content)
    warnings = []
    counter = SequenceCounter(path=str(path), clock=StuckClock(), warn=warnings.append)
    assert counter.next() == '1700000000000'
    assert counter.next() == '1700000000001'
    assert len(warnings) == 1 and 'does not hold a number' in warnings[0]


def test_a_sequence_far_ahead_of_the_clock_starts_from_the_clock_with_a_warning(tmp_path):
    path = tmp_path / 'seq'
    path.write_text(u'%d' % ((START + 2 * SequenceCounter.AHEAD_LIMIT) * 1000))
    warnings = []
    counter = SequenceCounter(path=str(path), clock=StuckClock(), warn=warnings.append)
    assert counter.next() == '1700000000000'
    assert len(warnings) == 1 and 'ahead of the clock' in warnings[0]


@settings(max_examples=200, deadline=None)
@given(content=st.binary(max_size=30) | st.integers(min_value=0, max_value=10 ** 25).map(lambda n: b'%d' % n),
       gaps=st.lists(st.floats(min_value=-YEAR, max_value=10 * YEAR), min_size=1, max_size=10))
def test_sequence_numbers_always_increase_and_stay_within_a_day_of_the_clock(content, gaps):
    directory = tempfile.mkdtemp()
    try:
        path = os.path.join(directory, 'seq')
        with open(path, 'wb') as f:
            f.write(content)
        clock = StuckClock()
        counter = SequenceCounter(path=path, clock=clock)
        last = int(counter.next())
        for gap in gaps:
            clock.now = max(0.0, clock.now + gap)
            value = int(counter.next())
            assert value > last or value >= int(clock.now * 1000)
            assert value <= (clock.now + SequenceCounter.AHEAD_LIMIT) * 1000 + len(gaps) + 1
            assert value < 2 ** 63
            last = value
    finally:
        shutil.rmtree(directory)
