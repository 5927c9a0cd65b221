# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Properties of adaptive pacing (no shared store): several jobs on one AppID, on a virtual clock.

fleet.py drives the collection's own RateLimiter (one per job, adaptive) against the simulator's window rule
(every request counts in a sliding second, rejected ones too). What must hold for every run is checked over
random seeds and fleets drawn by hypothesis; what holds for a fleet as a distribution (how even the shares are,
how long the fleet takes) over a sweep of seeds, against the project's goals. Nothing here depends on how fast
the machine is."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import math
import statistics

import pytest

from ansible_collections.zego.rtc.plugins.module_utils import ratelimit
from ansible_collections.zego.rtc.tests.unit.plugins.module_utils import fleet

hypothesis = pytest.importorskip('hypothesis')  # tests/unit/requirements.txt and requirements-dev.txt
from hypothesis import given, settings, strategies as st  # noqa: E402  pylint: disable=wrong-import-position

JITTER = 0.003  # fleet.py: a send leaves up to 3 ms after its slot

seeds = st.integers(min_value=0, max_value=2 ** 32 - 1)


@settings(max_examples=40, deadline=None)
@given(seed=seeds, work=st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=8),
       rate=st.sampled_from([1, 2, 10]), latency=st.sampled_from([0.05, 0.15, 0.8]),
       stagger=st.floats(min_value=0.0, max_value=3.0))
def test_every_job_finishes_and_every_request_is_applied_exactly_once(seed, work, rate, latency, stagger):
    """Whatever the fleet (more jobs than shares of ZEGO's window too, and ZEGO's test environment at 1/s):
    every job ends, and each of its requests was rejected some times and then accepted once, never lost, never
    applied twice."""
    run = fleet.run(ratelimit, work, rate=rate, latency=latency, stagger=stagger, seed=seed, horizon=1e6, step=None)
    assert run.unfinished == 0
    for job in run.jobs:
        assert dict(job.done) == dict((item, 1) for item in range(job.items))
        for item in range(job.items):
            answers = [s.rejected for s in run.sends if s.job == job.number and s.item == item]
            assert answers[-1] is False and all(answers[:-1])


@settings(max_examples=40, deadline=None)
@given(seed=seeds, items=st.integers(min_value=2, max_value=300), rate=st.sampled_from([1, 2, 10, 20]),
       latency=st.sampled_from([0.05, 0.15, 0.5]))
def test_one_job_alone_converges_to_the_rate_and_is_never_rejected(seed, items, rate, latency):
    """Alone, a job never meets a rate-limit answer (so it never leaves slow start, whose shares stop at the
    whole window), and it loses at most slow start's ramp to the rate: from SLOW_START of the window, doubling
    every ZEGO window, plus one request's gap at that first pace (plus the jitter of the sends, and one answer
    time). It never sends more than the rate; after the ramp, at the rate."""
    run = fleet.run(ratelimit, [items], rate=rate, latency=latency, seed=seed, step=None)
    assert run.unfinished == 0
    assert not [s for s in run.sends if s.rejected]
    cap, window = ratelimit.window_of(rate * ratelimit.RATE_SAFETY)
    interval = window / cap
    ramp = ratelimit.ZEGO_WINDOW * math.log(1 / ratelimit.SLOW_START, 2) + interval / ratelimit.SLOW_START
    floor = (items - 1) * interval
    took = run.jobs[0].end - run.first
    assert floor <= took <= floor + ramp + latency + JITTER * (items / float(cap) + 2)
    sent = [s.time for s in run.sends]
    # the limiter's own rule, to within the tolerance it compares times with
    edge = window - ratelimit.TIME_TOLERANCE
    assert all(len([t for t in sent if when - edge < t <= when]) <= cap for when in sent)
    after = [t for t in sent if t > run.first + ramp]
    if len(after) > cap:
        assert (after[-1] - after[0]) / (len(after) - 1) <= interval + JITTER


@settings(max_examples=30, deadline=None)
@given(seed=seeds, jobs=st.integers(min_value=2, max_value=8), items=st.integers(min_value=20, max_value=60),
       stagger=st.floats(min_value=0.0, max_value=3.0))
def test_a_job_sends_at_most_one_failed_edge_probe_per_probe_wait(seed, jobs, items, stagger):
    """Rule 3 bounds the rejections a job causes to find its share: after a failed probe the next one waits at
    least PROBE_WAIT (a failed probe costs one rejected request: no other request of anybody's)."""
    run = fleet.run(ratelimit, [items] * jobs, stagger=stagger, seed=seed, step=None)
    assert run.unfinished == 0
    for job in run.jobs:
        failed = [s.time for s in run.sends if s.job == job.number and s.rejected and s.kind == 'edge probe']
        assert all(b - a >= ratelimit.PROBE_WAIT - ratelimit.TIME_TOLERANCE for a, b in zip(failed, failed[1:]))


def _sweep(work, seeds, **kwargs):
    return [fleet.run(ratelimit, work, seed=seed, **kwargs) for seed in range(seeds)]


@pytest.fixture(scope='module')
def p6():
    """make bench's P6: four jobs of 100 requests each, started within 0.3 s, 10/s, 150 ms answers."""
    return _sweep([100] * 4, 40)


def test_p6_meets_its_goals_as_a_distribution(p6):
    """The issue's goals for P6 without a store: every job ends, no run rejects more than 10 % of its requests,
    and the median run takes at most 1.25x the floor."""
    assert all(run.unfinished == 0 for run in p6)
    assert max(run.rejected for run in p6) <= 0.10
    assert statistics.median(run.span for run in p6) <= 1.25


def test_eight_jobs_meet_the_goal_of_their_bench_row():
    """8 jobs x 50 requests: every job ends, and the median run takes at most 1.4x the floor."""
    runs = _sweep([50] * 8, 20)
    assert all(run.unfinished == 0 for run in runs)
    assert statistics.median(run.span for run in runs) <= 1.4


def _evened(run, settle=5.0):
    """True if every job's share, averaged over the time every job ran (from ``settle`` seconds after the first
    request), is within one share of the fair one (the window over the jobs)."""
    fair = run.cap / float(len(run.jobs))
    samples = [shares for when, shares in run.samples
               if when >= run.first + settle and all(k is not None for k in shares)]
    assert samples, 'the jobs never ran all together'
    return all(abs(sum(s[n] for s in samples) / len(samples) - fair) <= 1.0 for n in range(len(run.jobs)))


@pytest.mark.parametrize('work', [[100] * 4, [200] * 3, [50] * 8], ids=['4x100', '3x200', '8x50'])
def test_shares_even_out(p6, work):
    """Rule 4 evens shares out (rate-limit answers reach jobs in proportion to their rate, and each gives a share
    back): in most runs every job holds within one share of its fair part while they all run."""
    runs = p6 if work == [100] * 4 else _sweep(work, 20)
    evened = [_evened(run) for run in runs]
    assert sum(evened) > len(evened) / 2.0


def test_more_jobs_than_shares_go_below_one_share_and_all_finish():
    """20 jobs on a window of 10: one share each would overfill ZEGO's window for good (rejected requests count
    there too, so nothing would get through); jobs go below one share and all finish."""
    for run in _sweep([20] * 20, 2):
        assert run.unfinished == 0
        assert min(k for dummy, shares in run.samples for k in shares if k is not None) < 1


def test_a_job_left_alone_takes_the_whole_window_back():
    """300 and 30 requests: once the short job has ended, the other one probes its way back to the whole window
    (an accepted probe adds a share and probes again at once)."""
    for run in _sweep([300, 30], 5):
        big, small = run.jobs
        assert small.end < big.end
        after = [shares[0] for when, shares in run.samples if when > small.end]
        assert after[-1] == run.cap
