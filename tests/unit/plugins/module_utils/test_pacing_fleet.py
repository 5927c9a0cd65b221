# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Several jobs on one AppID without a shared store, on a virtual clock.

hacking/pacing_model.py drives the collection's own RateLimiter (one per job, adaptive) against the
simulator's window rule (every request counts in a sliding second, rejected ones too). Seeded, so every run
is the same; nothing here depends on how fast the machine is."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import collections
import importlib.util
import os
import re
import statistics

import pytest

MODEL_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..', 'hacking',
                          'pacing_model.py')


@pytest.fixture(scope='module')
def model():
    spec = importlib.util.spec_from_file_location('zego_pacing_model', MODEL_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _runs(model, seeds, *argv):
    args = model.parse_args(list(argv) + ['--horizon', '1200'])
    return [model.run(args, seed) for seed in range(seeds)]


def test_one_job_alone_keeps_to_the_rate_with_no_rejection(model):
    for span, rejected, unfinished in _runs(model, 2, '--jobs', '1', '--items', '300'):
        assert unfinished == 0
        assert rejected == 0
        assert span < 1.05


def test_four_jobs_at_once_share_zegos_window(model):
    """P6 of make bench: the halve-and-pause pacing rejected 16 % and took 1.45x the floor here; whole shares with
    edge probes alone (no yield) 9 % and 1.25x."""
    runs = _runs(model, 8, '--jobs', '4', '--items', '100')
    assert all(unfinished == 0 for dummy, dummy, unfinished in runs)
    assert statistics.median(rejected for dummy, rejected, dummy in runs) < 0.085
    assert statistics.median(span for span, dummy, dummy in runs) < 1.22


@pytest.mark.parametrize('argv', [
    ('--jobs', '20', '--items', '20'),                 # more jobs than shares of ZEGO's window
    ('--jobs', '3', '--items', '20', '--rate', '1'),   # ZEGO's test environment: one request per second
], ids=['20-jobs', 'test-environment'])
def test_more_jobs_than_the_window_holds_still_all_finish(model, argv):
    runs = _runs(model, 3, *argv)
    assert all(unfinished == 0 for dummy, dummy, unfinished in runs)
    assert all(rejected < 0.8 for dummy, rejected, dummy in runs)


def test_where_the_time_goes_accounts_for_every_rejected_request(model):
    """--explain: the rejected requests by kind add up to the rejected share; a job alone leaves only slow start's
    shares unused."""
    args = model.parse_args(['--jobs', '4', '--items', '100', '--horizon', '1200'])
    stats = collections.Counter()
    dummy, rejected, dummy = model.run(args, 3, stats)
    kinds = {name: n for name, n in stats.items() if name.startswith('rejected: ')}
    assert set(kinds) <= {'rejected: slow start', 'rejected: edge probe', 'rejected: regular', 'rejected: retry'}
    assert sum(kinds.values()) == round(rejected * stats['requests']) > 0
    assert 0 < stats['first job finished (s)'] < 60
    assert stats['unused after the first finished'] > 0

    alone = collections.Counter()
    model.run(model.parse_args(['--jobs', '1', '--items', '300']), 0, alone)
    assert alone['requests'] == 300
    assert not [name for name in alone if name.startswith('rejected: ')]
    assert 0 < alone['unused while all run'] < 2.0
    assert alone['unused after the first finished'] == 0


def test_the_summary_counts_the_runs_within_p6s_goal(model, capsys):
    """The default is P6 as the bench runs it (four jobs starting within 0.3 s); the summary says in how many
    runs both the span and the rejected share stay within the goal."""
    model.main(['--runs', '6'])
    out = capsys.readouterr().out
    assert '4 jobs x 100 requests' in out and 'start within 0.30 s' in out
    met = int(re.search(r'within 1\.25x and 10 % in (\d+) of 6 runs', out).group(1))
    args = model.parse_args(['--runs', '6'])
    runs = [model.run(args, seed) for seed in range(6)]
    assert met == sum(1 for span, rejected, unfinished in runs
                      if span <= model.GOAL_SPAN and rejected <= model.GOAL_REJECTED and not unfinished)


def test_jobs_with_unequal_work(model, capsys):
    """--items takes one count per job: the floor is all their work at the full rate, every job finishes, and a count
    list that does not match --jobs is refused."""
    args = model.parse_args(['--items', '300,30'])
    assert args.work == [300, 30]  # two jobs
    for seed in range(2):
        span, rejected, unfinished = model.run(args, seed)
        assert unfinished == 0
        assert 1.0 <= span < 2.0  # over 33 s: ZEGO's window lets nobody finish sooner
        assert rejected < 0.10
    model.main(['--items', '300,30', '--runs', '1'])
    assert '2 jobs x 300+30 requests' in capsys.readouterr().out
    assert model.parse_args(['--jobs', '3', '--items', '20']).work == [20, 20, 20]
    for bad in (['--jobs', '3', '--items', '300,30'], ['--items', '100,x'], ['--items', '0']):
        with pytest.raises(SystemExit):
            model.parse_args(bad)


def test_a_big_job_takes_the_window_back_after_a_short_one_beside_it_ends(model):
    """300 and 30 streams at once: the big job had the window nearly alone in slow start and gives shares to the short
    one as it settles. It must not then wait a yield's quiet at its big share (half a minute) before it probes for
    them again: with that quiet only 12 of these 20 runs stayed within 1.25x the floor."""
    runs = _runs(model, 20, '--items', '300,30')
    assert all(unfinished == 0 for dummy, dummy, unfinished in runs)
    assert sum(1 for span, dummy, dummy in runs if span <= model.GOAL_SPAN) >= 16


def test_a_big_job_beside_small_ones_is_not_left_alone_in_a_long_quiet(model):
    """50, 50 and 300 streams at once: the big job yields shares to the small ones while they run. With the whole
    quiet of a yield (three probe waits at its share) it was still waiting when they ended, and finished alone with
    half the window unused: 13 of these 20 runs stayed within 1.25x the floor. Its big share and work left
    (ratelimit.QUIET_WORK_SHARE, QUIET_WORK) shorten that quiet."""
    runs = _runs(model, 20, '--items', '50,50,300')
    assert all(unfinished == 0 for dummy, dummy, unfinished in runs)
    assert sum(1 for span, dummy, dummy in runs if span <= model.GOAL_SPAN) >= 16


def test_a_batch_that_had_the_window_alone_gives_short_jobs_beside_it_a_share_without_a_quiet(model):
    """600 streams, and one-stream jobs (event-driven runs) at 5 and 35 s: the batch had taken the whole window back
    when the second came. With a yield's quiet at the whole window (36-72 s) it finished alone with a share unused:
    9 of these 10 runs took more than 1.14x the floor (median 1.157x)."""
    spans = sorted(span for span, dummy, dummy in _runs(model, 10, '--items', '600,1,1', '--starts', '0,5,35'))
    assert spans[5] <= 1.14 and spans[-1] <= 1.15


def test_jobs_that_start_later(model, capsys):
    """--starts: when each job starts (a short job beside a long batch); the floor stays all the work at the full
    rate, and a time list that does not match the jobs is refused."""
    args = model.parse_args(['--items', '100,100', '--starts', '0,100'])
    assert args.starts == [0.0, 100.0]
    span, rejected, unfinished = model.run(args, 0)
    # the second job starts long after the first has finished (about 10 s): first request to last answer is over
    # 110 s against a floor of 20 s, and with nobody beside it neither job is ever rejected
    assert unfinished == 0 and rejected == 0
    assert 110 / 20.0 <= span < 112 / 20.0
    model.main(['--items', '300,1,1', '--starts', '0,5,15', '--runs', '2'])
    out = capsys.readouterr().out
    assert 'start at 0, 5, 15 s (each within 0.30 s)' in out and 'unfinished jobs 0' in out
    for bad in (['--items', '300,1', '--starts', '0'], ['--items', '300,1', '--starts', '0,x'],
                ['--items', '300,1', '--starts', '0,-1']):
        with pytest.raises(SystemExit):
            model.parse_args(bad)
