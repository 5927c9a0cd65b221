# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Several jobs pacing against ZEGO's window, on a virtual clock.

Every job runs the collection's own RateLimiter (adaptive, its own state, as jobs without rate_limit_backend
do) against the simulator's rule: every request counts in a sliding one-second window, and one that finds the
limit there already is rejected. Answers come after the answer time; a rejected request is retried after
ZegoClient's back-off; requests in flight follow zego_stream's target (ratelimit.InFlight's formula).

``run(ratelimit, work)`` takes the ratelimit module (the collection's, or a copy of a checkout's) and returns
a Fleet: what every request met, and every job's shares over time. Nothing here depends on how fast the
machine is. tests/unit uses it for the pacing properties; hacking/pacing_model.py prints its figures.
"""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import collections
import heapq
import math
import random

START = 1700000000.0
IN_FLIGHT_CAP = 32      # zego_stream's concurrency when it is not set
IN_FLIGHT_MARGIN = 1.5  # ratelimit.InFlight.MARGIN
BACKOFF_CAP = 8.0       # ZegoClient's back-off after rate-limit answers: uniform in [c/2, c], c = min(8, 2**n)

Send = collections.namedtuple('Send', 'time job item rejected kind')


class World(object):
    """The event queue, the virtual clock and ZEGO's window."""

    def __init__(self, ratelimit, limit, horizon):
        self.zego_window = ratelimit.ZEGO_WINDOW
        self.now = START
        self.horizon = START + horizon
        self.queue = []
        self.seq = 0
        self.limit = limit
        self.window = collections.deque()
        self.sends = []  # Send, in the order ZEGO received them

    def time(self):
        return self.now

    @staticmethod
    def sleep(seconds):
        raise RuntimeError('the fleet never sleeps (%s s)' % seconds)

    def at(self, when, action):
        self.seq += 1
        heapq.heappush(self.queue, (when, self.seq, action))

    def run(self):
        while self.queue and self.queue[0][0] <= self.horizon:
            self.now, dummy, action = heapq.heappop(self.queue)
            action()

    def arrive(self, job, item, kind):
        """ZEGO's rule: True if the request is rejected. Rejected requests count too."""
        while self.window and self.window[0] <= self.now - self.zego_window:
            self.window.popleft()
        over = len(self.window) >= self.limit
        self.window.append(self.now)
        self.sends.append(Send(self.now, job, item, over, kind))
        return over


class Job(object):
    """One job: ``items`` requests through its own limiter, with workers that follow the in-flight target."""

    def __init__(self, ratelimit, world, number, rate, items, latency, start, rng):
        self.world = world
        self.number = number
        self.limiter = ratelimit.RateLimiter(rate * ratelimit.RATE_SAFETY, clock=world.time, sleep=world.sleep,
                                             adaptive=True, rng=rng)
        self.items = items
        self.latency = latency
        self.rng = rng
        self.start = start
        self.next_item = 0
        self.done = collections.Counter()  # item: accepted answers
        self.workers = 0
        self.seen_latency = None
        self.end = None
        world.at(start, self.begin)

    def target(self):
        latency = 1.0 if self.seen_latency is None else self.seen_latency
        need = int(math.ceil(self.limiter.current_rate() * latency * IN_FLIGHT_MARGIN - 1e-9)) + 1
        return max(1, min(IN_FLIGHT_CAP, need))

    def begin(self):
        while self.workers < min(self.target(), self.items):
            self.take()

    def take(self):
        self.workers += 1
        self.next_item += 1
        self.attempt(self.next_item - 1, 0)

    def attempt(self, item, throttled):
        state = self.limiter._state  # pylint: disable=protected-access
        (slot, probe), dummy = self.limiter._reserve(state, self.world.now)  # pylint: disable=protected-access
        self.world.at(max(slot, self.world.now) + self.rng.uniform(0, 0.003),
                      lambda: self.send(item, throttled, slot, probe))

    def send(self, item, throttled, slot, probe):
        state = self.limiter._state  # pylint: disable=protected-access
        (wait, probed), dummy = self.limiter._record(state, self.world.now, probe)  # pylint: disable=protected-access
        if wait > 0:
            self.world.at(self.world.now + wait + self.rng.uniform(0, 0.003),
                          lambda: self.send(item, throttled, slot, probe))
            return
        ticket = self.world.now if probed else slot
        kind = ('slow start' if not state['phase'] else 'edge probe' if probed else 'retry' if throttled
                else 'regular')
        rejected = self.world.arrive(self.number, item, kind)
        self.world.at(self.world.now + self.latency, lambda: self.answer(item, throttled, ticket, rejected))

    def answer(self, item, throttled, ticket, rejected):
        self.seen_latency = self.latency
        if rejected:
            self.limiter.congestion(ticket)
            ceiling = min(BACKOFF_CAP, 2.0 ** throttled)
            self.world.at(self.world.now + ceiling / 2 + self.rng.uniform(0, ceiling / 2),
                          lambda: self.attempt(item, throttled + 1))
            return
        self.limiter.accepted(ticket)
        self.done[item] += 1
        if len(self.done) == self.items:
            self.end = self.world.now
        if self.next_item >= self.items or self.workers > self.target():
            self.workers -= 1
            return
        self.next_item += 1
        self.attempt(self.next_item - 1, 0)
        while self.next_item < self.items and self.workers < self.target():
            self.take()

    def shares(self):
        return self.limiter._shares(self.limiter._state, self.world.now)  # pylint: disable=protected-access


class Fleet(object):
    """The result of one run: ``jobs``, ``sends`` (every request ZEGO received), ``samples`` (time, every running
    job's shares or None) every ``step`` seconds, ``cap`` (the shares of ZEGO's window) and ``floor`` (all the
    work at the full rate, seconds)."""

    def __init__(self, jobs, world, samples, cap, rate, step):
        self.jobs = jobs
        self.sends = world.sends
        self.samples = samples
        self.cap = cap
        self.step = step
        self.horizon = world.horizon
        self.floor = sum(job.items for job in jobs) / float(rate)

    @property
    def first(self):
        return self.sends[0].time if self.sends else START

    @property
    def unfinished(self):
        return sum(1 for job in self.jobs if job.end is None)

    @property
    def span(self):
        """First request to last answer, over the floor."""
        end = max(job.end or self.horizon for job in self.jobs)
        return (end - self.first) / self.floor

    @property
    def rejected(self):
        """The share of requests ZEGO rejected."""
        return sum(s.rejected for s in self.sends) / float(max(len(self.sends), 1))

    def rejected_by(self):
        return collections.Counter(s.kind for s in self.sends if s.rejected)

    def unused(self):
        """Shares of ZEGO's window no job used (share-seconds): while every job ran, and after the first one ended."""
        out = collections.Counter()
        for dummy, shares in self.samples:
            running = [k for k in shares if k is not None]
            if running:
                key = 'unused while all run' if len(running) == len(shares) else 'unused after the first finished'
                out[key] += max(0.0, self.cap - sum(running)) * self.step
        return out


def run(ratelimit, work, rate=10, latency=0.15, stagger=0.3, starts=None, seed=0, horizon=3600.0, step=0.05):
    """Jobs with ``work`` requests each (one count per job), starting at ``starts`` (seconds, default all at 0)
    plus up to ``stagger`` seconds, against ZEGO's window at ``rate`` per second; a Fleet. Every job's shares
    are sampled every ``step`` seconds while all have started (None: not at all)."""
    rng = random.Random(seed)
    world = World(ratelimit, rate, horizon)
    starts = starts or [0.0] * len(work)
    jobs = [Job(ratelimit, world, n, rate, items, latency, START + offset + rng.uniform(0, stagger),
                random.Random(rng.random())) for n, (items, offset) in enumerate(zip(work, starts))]
    samples = []

    def sample():
        if all(job.end is not None for job in jobs):
            return
        started = [job.start <= world.now for job in jobs]
        if all(started):
            samples.append((world.now, [None if job.end is not None else job.shares() for job in jobs]))
        world.at(world.now + step, sample)
    if step:
        world.at(START, sample)
    world.run()
    return Fleet(jobs, world, samples, ratelimit.window_of(rate)[0], rate, step)
