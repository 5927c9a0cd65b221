# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Several jobs pacing against ZEGO's window, on a virtual clock: `make bench` P6 in a fraction of a second.

Every job runs the collection's own RateLimiter (adaptive, its own state, as jobs without
rate_limit_backend do) against the simulator's rule: every request counts in a sliding one-second window,
and one that finds the limit there already is rejected. Answers come after the answer time; a rejected
request is retried after ZegoClient's back-off; requests in flight follow zego_stream's target. Prints the
span (first request to last answer, over the floor) and the share of rejected requests, median and worst
over several seeds, and in how many runs both stay within P6's goal.

For choosing pacing constants, not a test: `make bench` measures real ansible-playbook runs. The fleet runner
itself is tests/unit/plugins/module_utils/fleet.py (the unit tests state the pacing's properties with it); this
is only its command line.

Usage: python hacking/pacing_model.py [--jobs 4] [--items 100 | --items 300,30] [--latency 0.15] [--stagger 0.3]
           [--starts 0,20]                        (when each job starts, seconds: a short job beside a long batch)
           [--runs 20] [--set NAME=VALUE ...]     (a ratelimit constant, e.g. --set PROBE_WAIT=1.5)
           [--explain]                            (where the time goes: rejected requests by kind, unused shares)
--items takes one count for every job, or one count per job (jobs with unequal work: a constant that helps equal
jobs can leave a big job alone with a long wait after a small one finishes). --starts lets jobs start later than the
first, e.g. short event-driven jobs beside a long batch (the floor is still all the work at the full rate).
"""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import argparse
import collections
import os
import statistics
import sys
import tempfile


def _collection_root():
    """A directory holding ansible_collections/zego/rtc for this checkout (the checkout's own, or a link in a
    temporary directory), so that the limiter is imported as the modules import it."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parts = repo.split(os.sep)
    if parts[-3:-2] == ['ansible_collections'] and parts[-2:] == ['zego', 'rtc']:
        return os.sep.join(parts[:-3])
    root = tempfile.mkdtemp(prefix='zego-pacing-model-')
    os.makedirs(os.path.join(root, 'ansible_collections', 'zego'))
    os.symlink(repo, os.path.join(root, 'ansible_collections', 'zego', 'rtc'))
    return root


sys.path.insert(0, _collection_root())
from ansible_collections.zego.rtc.plugins.module_utils import ratelimit  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.zego.rtc.tests.unit.plugins.module_utils import fleet  # noqa: E402  pylint: disable=wrong-import-position

# P6's goal without a store (span at most 1.25x the floor, at most 10 % of requests rejected)
GOAL_SPAN = 1.25
GOAL_REJECTED = 0.10


def run(args, seed):
    return fleet.run(ratelimit, args.work, rate=args.rate, latency=args.latency, stagger=args.stagger,
                     starts=args.starts, seed=seed, horizon=args.horizon)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--jobs', type=int, default=None, help='4, or as many as --items has counts')
    parser.add_argument('--items', default='100', help='requests of each job: one count, or one per job (300,30)')
    parser.add_argument('--rate', type=int, default=10, help="ZEGO's limit and rate_limit")
    parser.add_argument('--latency', type=float, default=0.15, help='answer time, seconds')
    parser.add_argument('--stagger', type=float, default=0.3,
                        help="jobs start within this many seconds (P6's four ansible-playbook runs: about 0.3 s)")
    parser.add_argument('--starts', default=None,
                        help='seconds after the first job at which each job starts, one per job (0,20), plus --stagger')
    parser.add_argument('--runs', type=int, default=20)
    parser.add_argument('--horizon', type=float, default=3600.0, help='virtual seconds a run may take at most')
    parser.add_argument('--set', action='append', default=[], metavar='NAME=VALUE')
    parser.add_argument('--explain', action='store_true', help='where the time goes, averaged over the runs')
    args = parser.parse_args(argv)

    def numbers(text, kind, lowest, usage):
        """The comma-separated numbers of ``text`` (each ``kind``, at least ``lowest``), or a usage error."""
        try:
            values = [kind(v) for v in text.split(',')]
        except ValueError:
            values = []
        if not values or any(v < lowest for v in values):
            parser.error(usage)
        return values
    counts = numbers(args.items, int, 1, '--items takes a positive count or one per job, e.g. 100 or 300,30')
    if len(counts) == 1:
        counts *= 4 if args.jobs is None else args.jobs
    elif args.jobs is not None and args.jobs != len(counts):
        parser.error('--items has %d counts for %d jobs' % (len(counts), args.jobs))
    args.work = counts  # the requests of each job
    usage = '--starts takes one time (0 or more seconds) for each of the %d jobs, e.g. 0,20' % len(counts)
    args.starts = [0.0] * len(counts) if args.starts is None else numbers(args.starts, float, 0.0, usage)
    if len(args.starts) != len(counts):
        parser.error(usage)
    for item in args.set:
        name, dummy, value = item.partition('=')
        if not hasattr(ratelimit, name):
            parser.error('ratelimit has no constant %s' % name)
        values = [float(v) for v in value.split(',')]
        setattr(ratelimit, name, tuple(values) if len(values) > 1 else type(getattr(ratelimit, name))(values[0]))
    return args


def main(argv=None):
    args = parse_args(argv)
    stats = collections.Counter()
    results = []
    for seed in range(args.runs):
        result = run(args, seed)
        results.append((result.span, result.rejected, result.unfinished))
        if args.explain:
            stats.update({'rejected: %s' % kind: n for kind, n in result.rejected_by().items()})
            stats.update(result.unused())
            stats['requests'] += len(result.sends)
            ends = [job.end for job in result.jobs if job.end is not None]
            if len(ends) > 1:
                stats['first job finished (s)'] += min(ends) - result.first
    spans = [r[0] for r in results]
    rejected = [r[1] for r in results]
    met = sum(1 for span, share, unfinished in results
              if span <= GOAL_SPAN and share <= GOAL_REJECTED and not unfinished)
    work = '+'.join(str(n) for n in args.work) if len(set(args.work)) > 1 else str(args.work[0])
    start = 'start within %.2f s' % args.stagger
    if any(args.starts):
        start = 'start at %s s (each within %.2f s)' % (', '.join('%g' % t for t in args.starts), args.stagger)
    print('%d jobs x %s requests, %d/s, %.0f ms answers, %s, %d runs: span %.3fx floor (median), '
          '%.3fx (worst); rejected %.1f %% (median), %.1f %% (worst); unfinished jobs %d; within %.2fx and %.0f %% '
          'in %d of %d runs'
          % (len(args.work), work, args.rate, args.latency * 1000, start, args.runs, statistics.median(spans),
             max(spans), 100 * statistics.median(rejected), 100 * max(rejected), sum(r[2] for r in results),
             GOAL_SPAN, 100 * GOAL_REJECTED, met, args.runs))
    if args.explain:
        print('per run (mean): ' + '; '.join('%s %.1f' % (name, stats[name] / float(args.runs)) for name in sorted(stats)))
        print('(a rejected request also holds a place in ZEGO\'s window for a second; an unused share for a second is '
              'one request less)')


if __name__ == '__main__':
    main()
