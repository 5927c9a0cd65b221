# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The batch engine under every module that changes something: collect and validate every item → plan (read what
is there, if the module needs to) → predict (check mode) or apply → one outcome per item → summary, diff, result
and failure. A module declares its items, its actions and its words; this file does the rest, once.

Requests go out on one worker pool whose size follows the rate and ZEGO's answer time (``InFlight``). An error
that every request would get (``codes.FATAL_CODES``, an API that cannot be reached) stops the batch (``Abort``):
a request still waiting for its slot is not sent, and the items after it are reported as not attempted."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import math
import threading
from collections import OrderedDict

from ansible_collections.zego.rtc.plugins.module_utils.base import MAX_CONCURRENCY, ZegoModule
from ansible_collections.zego.rtc.plugins.module_utils.codes import FATAL_CODES, OK
from ansible_collections.zego.rtc.plugins.module_utils.errors import NotSent, ZegoError

NOT_ATTEMPTED = 'not attempted: an earlier request failed with an error that affects every request (%s)'
# Requests in flight before ZEGO's answer time is known: what the rate needs if answers took this long
# (then: what it needs at the measured answer time). Extra workers only wait for their slots.
INITIAL_LATENCY = 1.0
# Failures named in a batch's message; the rest are counted.
FAILURES_SHOWN = 5


def stops_batch(exc_or_code):
    """True if a failure (a ZegoError, or a ZEGO code) means every further request would fail too."""
    if isinstance(exc_or_code, int):
        return exc_or_code in FATAL_CODES
    return bool(getattr(exc_or_code, 'unreachable', False)) or getattr(exc_or_code, 'code', None) in FATAL_CODES


def chunks(items, size):
    """``items`` in consecutive lists of at most ``size``."""
    items = list(items)
    return [items[i:i + size] for i in range(0, len(items), size)]


class Abort(object):
    """Shared by the workers of one batch: holds the first failure that every further request would get, and
    the items whose failure stopped the batch (``note``)."""

    def __init__(self):
        self.error = None
        self.stoppers = []
        self._lock = threading.Lock()

    def note(self, error, exc_or_code, items):
        """If ``exc_or_code`` stops the batch (stops_batch): remember ``error`` (a ZegoError.to_dict()) unless
        an earlier failure was remembered, and ``items`` as failed by it."""
        if stops_batch(exc_or_code):
            with self._lock:
                self.error = self.error or error
                self.stoppers.append(items)

    def mark(self, order):
        """Set ``stopped_batch`` on the items that stopped the batch: of several requests in flight that got
        such an error, those that come first in ``order`` (the items in input order)."""
        if self.stoppers:
            position = dict((id(item), n) for n, item in enumerate(order))
            for item in min(self.stoppers, key=lambda items: position[id(items[0])]):
                item['stopped_batch'] = True

    def not_attempted(self):
        """The error dict for an item that was not sent because of the remembered failure."""
        msg = NOT_ATTEMPTED % self.error['message']
        return dict(self.error, message=msg, request_id=None)


class InFlight(object):
    """How many requests one batch keeps in flight: what the rate needs at the observed answer time.

    ``target()`` = ceil(rate x latency x MARGIN) + 1 (the one waiting for its slot), between 1 and ``cap``;
    ``initial`` until the first answer time is known. ``rate()`` and ``latency()`` are callables, so the target
    follows the moving average of ZEGO's answer times."""

    MARGIN = 1.5

    def __init__(self, cap, rate, latency, initial=4):
        self.cap = max(1, int(cap))
        self.rate = rate
        self.latency = latency
        self.initial = max(1, min(self.cap, int(initial)))

    def target(self):
        latency = self.latency()
        if latency is None:
            return self.initial
        need = int(math.ceil(self.rate() * latency * self.MARGIN - 1e-9)) + 1
        return max(1, min(self.cap, need))


def run_in_flight(items, work, in_flight):
    """``work(item)`` for every item, on worker threads whose number follows ``in_flight.target()``; return
    the results in the order of ``items``. A worker that finds more workers than the target retires after
    its item; one that finds fewer starts another."""
    items = list(items)
    results = [None] * len(items)
    state = {'next': 0, 'workers': 0}
    lock = threading.Lock()
    threads = []
    errors = []

    def spawn():  # with lock held
        state['workers'] += 1
        thread = threading.Thread(target=worker)
        thread.daemon = True
        threads.append(thread)
        thread.start()

    def worker():
        while True:
            with lock:
                if state['next'] >= len(items):
                    state['workers'] -= 1
                    return
                index = state['next']
                state['next'] += 1
            try:
                results[index] = work(items[index])
            except BaseException as exc:  # pylint: disable=broad-except
                # raised again in the caller's thread
                with lock:
                    errors.append(exc)
                    state['next'] = len(items)
                    state['workers'] -= 1
                return
            with lock:
                target = in_flight.target()
                if state['workers'] > target:
                    state['workers'] -= 1
                    return
                # more workers only for items nobody has taken yet (a worker with nothing left stops at once)
                while state['workers'] < min(target, state['workers'] + len(items) - state['next']):
                    spawn()

    with lock:
        for dummy in range(min(in_flight.target(), len(items))):
            spawn()
    while True:
        with lock:
            pending = [t for t in threads if t.is_alive()]
        if not pending:
            break
        for thread in pending:
            thread.join()
    if errors:
        raise errors[0]
    return results


class Request(object):
    """One request of a batch: an action, the values it is sent with, and the records it is for. ``sent``: it
    went out (in check mode: it would); ``code``: ZEGO's answer, if any; ``parts``: the requests sent instead, one
    per ID, when ZEGO refused it as a whole."""

    def __init__(self, action, fields, records):
        self.action = action
        self.fields = fields
        self.records = records
        self.sent = False
        self.code = None
        self.parts = []

    def log(self):
        """This request, if it was sent, and the ones sent in its place, in the order they went out."""
        return ([self] if self.sent else []) + [r for part in self.parts for r in part.log()]


class BatchModule(ZegoModule):
    """A module that applies one change to a list of items. Declares:

    - ``ITEMS``/``ITEM``: the result keys of the list and of the one item of the single form (ITEM None: the
      list always); ``SINGLE_SUMMARY``: the single form returns the summary too;
    - ``NOUN``: what the failure text counts ("2 of 5 streams failed"); ``OUTCOMES``: the outcomes in the summary;
      ``FIELDS``: result fields of every item beyond outcome, code, message, request_id and stopped_batch, with
      their value before a request; ``PRIVATE``: item fields sent but not returned; ``DIFF``: (before, after) of
      an item the change applies to, or None for no diff;
    - ``collect()`` -> (items, duplicates, errors); ``single()``; ``label(item)``; ``requests(todo)``;
      optionally ``plan(items)`` (reads; returns the items to change) and ``predict(todo)`` (check mode)."""

    ITEM = None
    SINGLE_SUMMARY = True
    FIELDS = {}
    PRIVATE = ()
    DIFF = ('present', 'absent')
    UNCHANGED = ('already_absent', 'unchanged', 'failed')

    # -- declared by the module ------------------------------------------------------------------------
    def collect(self):  # pragma: no cover - every module declares it
        raise NotImplementedError

    def requests(self, todo):  # pragma: no cover - every module declares it
        raise NotImplementedError

    def single(self):
        return False

    def plan(self, items):
        return items

    def predict(self, todo):
        pass

    def label(self, item):
        return item[self.ITEMS[:-1] + '_id']

    # -- the run ---------------------------------------------------------------------------------------
    def run(self):
        items, duplicates, errors = self.collect()
        self.validate(errors)
        self.abort = Abort()
        self.sent = []
        common = dict(outcome=self.OUTCOMES[0], code=None, message=None, request_id=None, stopped_batch=False)
        common.update(self.FIELDS)
        for item in items:  # an item's outcome is the change until something says otherwise
            for name, value in common.items():
                item.setdefault(name, value)
        todo = self.plan(items) if items else []
        if self.module.check_mode:
            self.predict(todo)
        elif todo:
            self.apply(self.requests(todo))
        self.finish(items, duplicates)

    def group(self, action, items, size=None, **fields):
        """Requests of ``action`` for ``items``: one per distinct value of the item fields it sends, the IDs of
        a batch action in lists of at most ``size`` (its batch size); ``fields`` (or the module's options) fill
        the rest."""
        batch = action.batch[0] if action.batch else None
        keys = [f for dummy, f, dummy in action.params if f != batch and items and f in items[0]]
        groups = OrderedDict()
        for item in items:
            groups.setdefault(tuple(item[f] for f in keys), []).append(item)
        requests = []
        for key, members in groups.items():
            values = dict(self.params, **fields)
            values.update(zip(keys, key))
            for part in chunks(members, size or action.batch[1]) if batch else [members]:
                sent = action.for_count(len(part))
                if batch:  # a list for a batch action, the one ID for its single form
                    ids = [item[batch] for item in part]
                    values = dict(values, **{batch: ids if sent.batch else ids[0]})
                requests.append(Request(sent, values, part))
        return requests

    def pool(self, requests, work):
        """``work(request)`` for every request on the one worker pool; results in order."""
        if not requests:
            return []
        client = self.client  # built (and the shared store connected) in this thread, before any request
        action = requests[0].action
        cap = min(self.params.get('concurrency') or MAX_CONCURRENCY, len(requests))
        rate = client.send_rate(action)
        initial = int(math.ceil(rate * INITIAL_LATENCY)) + 1
        return run_in_flight(requests, work, InFlight(cap, rate=lambda: rate, latency=lambda: client.latency,
                                                      initial=initial))

    def read(self, action, items, what=None, **fields):
        """Send the read ``action`` for ``items``; [(request, value, reply)] of the answers. The items of a read
        that failed fail (``could not <what>: ...``); its first item stops the batch if every request would fail."""
        def one(request):
            if self.abort.error is not None:
                return self.fail_items(request.records, self.abort.not_attempted())
            try:
                return [request] + list(request.action.read(self.client, request.fields, self.proceed))
            except NotSent:
                return self.fail_items(request.records, self.abort.not_attempted())
            except ZegoError as exc:
                err = exc.to_dict()
                msg = 'could not %s: %s' % (what, err['message']) if what else err['message']
                self.abort.note(err, exc, request.records[:1])
                self.fail_items(request.records, err, message=msg)
        return [r for r in self.pool(self.group(action, items, **fields), one) if r]

    def apply(self, requests):
        self.sent = requests
        self.pool(requests, self.send)

    def send(self, request):
        """Send one write request and set the outcome of its items."""
        action, items = request.action, request.records
        for item in items:
            if 'action' in self.FIELDS:
                item['action'] = action.name
        if self.abort.error is not None:
            return self.fail_items(items, self.abort.not_attempted())
        try:
            reply = action.send(self.client, request.fields, self.proceed)
        except NotSent:
            return self.fail_items(items, self.abort.not_attempted())
        except ZegoError as exc:
            request.sent, request.code = True, exc.code
            self.abort.note(exc.to_dict(), exc, items)
            return self.fail_items(items, exc.to_dict(), attempts=exc.attempts,
                                   response_lost=exc.response_lost)
        request.sent, request.code = True, reply.code
        outcome = action.outcome(reply.code, len(items))
        if outcome is None or (outcome == 'split' and self.abort.error is not None):
            err = action.error(reply).to_dict()
            self.abort.note(err, reply.code, items)
            return self.fail_items(items, err, attempts=reply.attempts,
                                   response_lost=reply.response_lost, request_id=reply.request_id)
        if outcome == 'split':
            request.parts = self.group(action, items, size=1, **request.fields)
            for part in request.parts:
                self.send(part)
            for item in items:
                if 'attempts' in item:
                    item['attempts'] += reply.attempts
            return None
        for item in items:
            # an earlier lost answer only matters when this answer does not prove who applied the change: after
            # 0 this request did; after an "already so" code the lost attempt probably did. An action with a
            # Sequence reports every lost answer (repeating it is harmless; the answer does not say which applied)
            lost = reply.response_lost and (reply.code != OK or action.sequence)
            item.update(code=reply.code, message=reply.message, request_id=reply.request_id)
            self._set(item, attempts=reply.attempts, response_lost=lost)
            if outcome == 'absent' and not reply.response_lost:
                item['outcome'] = 'already_absent'
        return None

    def proceed(self):
        """Called when a request's slot has come: it is not sent if the batch stopped while it waited."""
        if self.abort.error is not None:
            raise NotSent()

    def _set(self, item, **fields):
        item.update((k, v) for k, v in fields.items() if k in item)

    def fail_items(self, items, error, message=None, **fields):
        """Mark ``items`` failed with ``error`` (a ZegoError.to_dict())."""
        for item in items:
            item.update(outcome='failed', code=error['code'], message=message or error['message'],
                        request_id=error['request_id'], error=dict(error))
            self._set(item, **fields)

    # -- the end of the batch ----------------------------------------------------------------------------
    def diff(self, items):
        before, after = {}, {}
        for item in items:
            if item['outcome'] != 'failed':
                key = self.label(item)
                before[key] = self.DIFF[0] if item['outcome'] not in self.UNCHANGED else self.DIFF[1]
                after[key] = self.DIFF[1]
        return {'before': before, 'after': after}

    def single_label(self, item):
        return self.label(item)

    def finish(self, items, duplicates):
        self.abort.mark(items)
        summary = dict((o, 0) for o in self.OUTCOMES)
        summary['total'] = len(items)
        for item in items:
            summary[item['outcome']] = summary.get(item['outcome'], 0) + 1
            for name in self.PRIVATE:
                item.pop(name, None)
        summary['duplicates'] = duplicates
        self.result['changed'] = any(n for o, n in summary.items() if o in self.OUTCOMES and o not in self.UNCHANGED)
        if self.module._diff and self.DIFF is not None:
            self.result['diff'] = self.diff(items)
        self.report(summary)
        single = self.single()
        if single:
            self.result[self.ITEM] = items[0]
        else:
            self.result[self.ITEMS] = items
        if self.SINGLE_SUMMARY or not single:
            self.result['summary'] = summary
        failed = [item for item in items if item['outcome'] == 'failed']
        if failed and single:
            self.fail('%s: %s' % (self.single_label(failed[0]), failed[0]['message']))
        if failed:
            shown = '; '.join('%s: %s' % (self.label(r), r['message']) for r in failed[:FAILURES_SHOWN])
            more = ' (and %d more)' % (len(failed) - FAILURES_SHOWN) if len(failed) > FAILURES_SHOWN else ''
            self.fail('%d of %d %s failed: %s%s' % (len(failed), len(items), self.NOUN, shown, more))
        self.exit()

    def report(self, summary):
        """Add what this module returns beyond its items and summary."""
