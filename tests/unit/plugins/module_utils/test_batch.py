# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The batch engine's worker pool: how many requests are in flight, their order, and the first request alone."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import threading

import pytest

from ansible_collections.zego.rtc.plugins.module_utils.batch import Abort, InFlight, run_in_flight


# -- requests in flight follow the answer time ----------------------------------------------------------
@pytest.mark.parametrize('latency, cap, expect', [
    (None, 32, 4), (0.15, 32, 4), (0.5, 32, 9), (0.8, 32, 13), (0.8, 6, 6), (5.0, 32, 32), (0.0, 32, 1),
])
def test_in_flight_target(latency, cap, expect):
    assert InFlight(cap, rate=lambda: 9.8, latency=lambda: latency).target() == expect


def test_in_flight_follows_a_lower_rate():
    rate = [9.8]
    flight = InFlight(32, rate=lambda: rate[0], latency=lambda: 0.8)
    high = flight.target()
    rate[0] = 2.45
    assert flight.target() < high


def test_run_in_flight_keeps_order_and_follows_the_target():
    target = [2]
    flight = InFlight(16, rate=lambda: 1.0, latency=lambda: None, initial=2)
    flight.target = lambda: target[0]
    active = [0]
    peak = []
    lock = threading.Lock()
    gate = threading.Event()

    def work(n):
        with lock:
            active[0] += 1
            peak.append(active[0])
        if n == 3:
            target[0] = 6  # the answer time grew: more workers
        if n < 20:
            gate.wait(0.01)
        with lock:
            active[0] -= 1
        return n * n

    assert run_in_flight(range(60), work, flight) == [n * n for n in range(60)]
    assert max(peak) <= 6
    assert max(peak) > 2  # it grew beyond the first target


def test_run_in_flight_raises_a_workers_exception():
    flight = InFlight(4, rate=lambda: 1.0, latency=lambda: None)

    def work(n):
        if n == 5:
            raise RuntimeError('boom')
        return n
    with pytest.raises(RuntimeError):
        run_in_flight(range(20), work, flight)


def test_of_several_failures_that_stop_the_batch_the_first_in_input_order_is_marked():
    """Requests in flight at once can all get an error every request would get, their answers in any order: the
    item marked is the first of them in the input, the others report their own error."""
    items = [{'id': n, 'stopped_batch': False} for n in range(4)]
    abort = Abort()
    abort.note({'code': 100000005, 'message': 'second answer', 'request_id': 'b'}, 100000005, items[2:3])
    abort.note({'code': 2, 'message': 'not fatal', 'request_id': 'x'}, 2, items[3:])
    abort.note({'code': 100000005, 'message': 'first item', 'request_id': 'a'}, 100000005, items[1:2])
    abort.mark(items)
    assert [i['stopped_batch'] for i in items] == [False, True, False, False]
    assert abort.error['request_id'] == 'b'  # the first answer stopped the batch; the not attempted cite it
    assert abort.not_attempted()['message'].startswith('not attempted')
