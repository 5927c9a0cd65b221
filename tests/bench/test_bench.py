# -*- coding: utf-8 -*-
# Copyright: Contributors to the zego.rtc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How `make bench` judges P6: the span on the median run, jobs, streams left and rejected requests on every
run, and the runs within every goal counted in the row."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import types

import pytest

import bench

ARGS = types.SimpleNamespace(p6_jobs=4, p6_per_job=100, p6b_jobs=8, p6b_per_job=50, p7_latencies=[], only=None)
FLOOR = 40.0


def fleet_run(span, rejected, requests=440, rcs=(0, 0, 0, 0), left=0):
    """One P6 run as the simulator reports it: ``span`` in floors (the row adds one answer time)."""
    return dict(span=span * FLOOR - bench.LATENCY_MS / 1000.0, rate_limited=rejected, requests=requests,
                rcs=list(rcs), left=left, max_per_1s=18)


def judge(key, runs):
    rows = bench.fleet_rows(ARGS, {'floor6': FLOOR, 'floor6_eight': FLOOR, 'floor7': 10.0, key: runs})
    assert len(rows) == 1
    label, approach, text, goal, met = rows[0]
    return text, goal, met


@pytest.mark.parametrize('runs, met, within', [
    ([fleet_run(1.20, 30), fleet_run(1.18, 35), fleet_run(1.22, 40)], True, 3),
    # one slow run of three: the median run is within 1.25x
    ([fleet_run(1.30, 30), fleet_run(1.20, 30), fleet_run(1.20, 30)], True, 2),
    # two slow runs: the median run is not
    ([fleet_run(1.30, 30), fleet_run(1.26, 30), fleet_run(1.20, 30)], False, 1),
    # more than 10 % rejected in one run
    ([fleet_run(1.20, 45), fleet_run(1.20, 30), fleet_run(1.20, 30)], False, 2),
    # a job failed in one run, or a stream was left
    ([fleet_run(1.20, 30), fleet_run(1.20, 30, rcs=(0, 0, 2, 0)), fleet_run(1.20, 30)], False, 2),
    ([fleet_run(1.20, 30), fleet_run(1.20, 30, left=1), fleet_run(1.20, 30)], False, 2),
])
def test_no_store_row_judges_the_span_on_the_median_run_and_the_rest_on_every_run(runs, met, within):
    text, goal, verdict = judge('p6_adaptive', runs)
    assert verdict is met
    assert text.endswith('; within every goal in %d of 3 runs' % within)
    assert goal == 'every job ok and <= 10 % rejected in every run; median span <= 1.25x floor (40 s)'


def test_store_row_allows_no_rejected_request_in_any_run():
    runs = [fleet_run(1.03, 0, 400), fleet_run(1.03, 0, 400), fleet_run(1.03, 0, 400)]
    assert judge('p6_redis', runs)[2] is True
    runs[1] = fleet_run(1.03, 1, 401)
    text, goal, met = judge('p6_redis', runs)
    assert met is False
    assert text.endswith('within every goal in 2 of 3 runs')
    assert goal.startswith('every job ok and 0 rejected in every run; median span <= 1.05x')


def test_release_reference_row_has_no_verdict():
    text, goal, met = judge('p6_today', [fleet_run(2.1, 500, 880, rcs=(2, 2, 2, 2), left=22)])
    assert (goal, met) == ('(reference)', None)
    assert 'within every goal' not in text


def test_eight_job_row_judges_every_job_on_every_run_and_the_span_on_the_median_run():
    """8 jobs x 50 streams without a store: every job ok and no stream left in every run, median span <= 1.4x; its
    rejected requests are reported, with no goal."""
    eight = (0, ) * 8
    runs = [fleet_run(1.35, 90, 490, rcs=eight), fleet_run(1.45, 100, 500, rcs=eight), fleet_run(1.30, 80, 480, rcs=eight)]
    text, goal, met = judge('p6_eight', runs)
    assert met is True
    assert 'jobs ok 8/8' in text and text.endswith('; within every goal in 2 of 3 runs')
    assert goal == 'every job ok in every run; median span <= 1.40x floor (40 s)'
    runs[2] = fleet_run(1.30, 80, 480, rcs=(0, ) * 7 + (2, ))
    text, goal, met = judge('p6_eight', runs)
    assert met is False and 'jobs ok 7/8' in text
    assert judge('p6_eight', [fleet_run(1.45, 90, 490, rcs=eight)] * 2 + [fleet_run(1.3, 90, 490, rcs=eight)])[2] is False
