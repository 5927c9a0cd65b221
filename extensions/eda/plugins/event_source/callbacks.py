# -*- coding: utf-8 -*-
# Copyright: Contributors to the zego.rtc collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Event-Driven Ansible event source: ZEGO RTC server callbacks, verified before they become events."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
---
module: callbacks
author: zego.rtc maintainers
version_added: 1.1.0
short_description: Receive ZEGO RTC server callbacks, verified, as events.
description:
  - An HTTP(S) endpoint for the server callbacks ZEGO sends (C(stream_create), C(stream_close),
    C(room_create), C(room_close), C(room_login), C(room_logout)), and for the content-moderation
    verdicts (C(censor_audio_v2_result), C(censor_video_v2_audio_result), ...). Point the callback
    URLs in the ZEGO console at it.
  - Every callback is verified before it is queued. ZEGO signs with SHA-1 over the sorted
    concatenation of the CallbackSecret and the C(timestamp) and C(nonce) of the body; the source
    recomputes it and compares in constant time. The moderation callbacks name their common fields
    with capitals (C(Event), C(AppId), C(Timestamp), C(Nonce), C(Signature)); they are verified the
    same way (signature, age, AppID, redeliveries). The shape is the one of the signature field. A wrong or missing signature, or a timestamp older
    or newer than O(max_age) seconds, is answered HTTP 401; a callback for another AppID (when
    O(app_id) is set) 403; a body that is neither a JSON object nor a URL-encoded form 400; a body
    larger than O(max_body_size) 413. None of them is queued; each is logged once, without the
    secret.
  - The signature does not cover the body, so the source remembers the (timestamp, nonce,
    signature) of every accepted callback for O(max_age) seconds (at most O(remember) of them). A
    redelivery of an accepted callback (ZEGO retries when an answer got lost) is answered 200 and
    not queued again.
  - "Each accepted callback is queued as C({\"payload\": {...}, \"meta\": {...}}) and answered 200 at
    once, or with O(feedback) once the rule engine has taken it."
  - With O(batch_window), a batch event holds the payloads of its callbacks, each as below, in C(batch)
    (a list, in the order received) instead of C(payload); its C(meta) has C(event), C(app_id), the
    newest C(timestamp), C(endpoint) and C(remote_addr) of the first callback, C(batch_size), and
    C(risk_level) (the gravest) for verdicts.
  - C(payload) holds the callback's fields as ZEGO sent them (numeric strings stay strings, field
    names keep their case) except the signature. C(meta) holds, for both shapes, C(endpoint) (the URL
    path), C(event), C(app_id) (a string), C(timestamp) (an integer) and C(remote_addr); for a
    moderation verdict also C(risk_level), the gravest C(RiskLevel) it carries (C(REJECT), C(REVIEW),
    C(PASS)).
  - Requires the Python package C(aiohttp) where ansible-rulebook runs (it is installed with
    ansible-rulebook).
options:
  host:
    description:
      - The address to listen on. Use V(0.0.0.0) to accept callbacks from other hosts (ZEGO's
        servers, or a reverse proxy on another host).
    type: str
    default: 127.0.0.1
  port:
    description:
      - The TCP port to listen on. Any URL path is accepted, so one port can take every event type.
    type: int
    required: true
  callback_secret:
    description:
      - The CallbackSecret of the ZEGO project (console, project configuration, server callbacks).
      - Do not write it into the rulebook. Pass it from an environment variable with
        C(ansible-rulebook --env-vars ZEGO_CALLBACK_SECRET) and refer to it as
        C("{{ ZEGO_CALLBACK_SECRET }}"); in EDA controller use a credential that injects it.
    type: str
    required: true
  app_id:
    description:
      - When set, callbacks whose C(appid) is not this AppID are refused with HTTP 403.
    type: int
  max_age:
    description:
      - How many seconds a callback's C(timestamp) may be older (or, for clock skew, newer) than this
        host's clock. ZEGO retries a failed delivery 5 times within about a minute (2, 4, 8, 16 and
        32 seconds apart) and keeps the original timestamp, so the default covers every retry with
        room for clock skew.
    type: int
    default: 120
  events:
    description:
      - The event names to pass on, for example V(stream_create). Callbacks of other events are
        verified and answered 200 but not queued. Default all.
    type: list
    elements: str
  batch_window:
    description:
      - >-
        Seconds. When above 0, accepted callbacks are queued in batches instead of one event each;
        callbacks of the same event (and AppID) are collected until none has come for a while (this long
        after a lone callback; after a burst of n callbacks, min(n, 4) times this long, so that a burst
        slowed down on the way is not cut in two), or O(batch_max_wait) after the first, or
        O(batch_max_size) of them, then queued as one event
        C({"batch": [payload, ...], "meta": {...}}). A rule then runs one action for a whole raid
        instead of one per callback. V(0) (the default) queues every callback at once, on its own.
      - The answer to ZEGO does not wait for the batch (see O(feedback) for when it does).
    type: float
    default: 0
  batch_max_wait:
    description:
      - Seconds after its first callback that a batch is queued at the latest, however many callbacks
        keep coming.
    type: float
    default: 2
  batch_max_size:
    description:
      - A batch with this many callbacks is queued at once.
    type: int
    default: 500
  feedback:
    description:
      - Answer ZEGO only once the rule engine has taken the event (ansible-rulebook's feedback; it needs
        C(--persistence-id), which EDA controller sets, and the source needs a unique C(name) in the
        rulebook). A callback is answered 200 when ansible-rulebook reports its event (or its batch) posted to
        the rule engine, and 503 if that has not happened within O(feedback_timeout), so that ZEGO delivers
        it again (a redelivery of a callback whose event is still on its way waits for the same event; it is
        not queued twice).
      - Without it (the default) every accepted callback is answered at once.
      - ansible-rulebook decides on the raw value, before templating, so write V(true), not a variable.
    type: bool
    default: false
  feedback_timeout:
    description:
      - With O(feedback), seconds a callback waits for the rule engine before it is answered 503. With
        O(batch_window) it must be longer than O(batch_max_wait).
    type: float
    default: 5
  risk_levels:
    description:
      - Moderation verdicts to pass on, for example V([REVIEW, REJECT]). A callback that carries a
        C(RiskLevel) (at its top or in C(Detail)) none of which is in this list is verified, answered
        200 and not queued, so that the PASS verdicts ZEGO sends for every 10 seconds of every
        moderated stream never reach the rule engine. Callbacks without a C(RiskLevel) are not
        affected. Default all.
    type: list
    elements: str
  certfile:
    description:
      - A PEM certificate (chain) file; with it the source serves HTTPS. ZEGO recommends HTTPS.
    type: path
  keyfile:
    description:
      - The PEM private key of O(certfile), if it is not in that file.
    type: path
  max_body_size:
    description:
      - Larger bodies are refused with HTTP 413. ZEGO's callbacks are well under 8 KiB.
    type: int
    default: 65536
  remember:
    description:
      - How many accepted callbacks are remembered to recognise redeliveries (each for O(max_age)
        seconds). When it is full the oldest is forgotten first.
    type: int
    default: 10000
notes:
  - Callbacks are not guaranteed to arrive, nor to arrive in order (ZEGO drops a callback after its
    last retry). Rules should not depend on seeing every event.
"""

EXAMPLES = r"""
- name: React to ZEGO callbacks
  hosts: localhost
  sources:
    - zego.rtc.callbacks:
        host: 0.0.0.0
        port: 8443
        callback_secret: "{{ ZEGO_CALLBACK_SECRET }}"
        app_id: 1234567890
        events: [stream_create]
        certfile: /etc/eda/tls/cert.pem
        keyfile: /etc/eda/tls/key.pem
  rules:
    - name: A stream appeared
      condition: event.payload.event == "stream_create"
      action:
        debug:
          msg: "{{ event.payload.user_id }} publishes {{ event.payload.stream_id }} in {{ event.payload.room_id }}"
# ansible-rulebook -i inventory.yml -r this.yml --env-vars ZEGO_CALLBACK_SECRET
"""

import asyncio
import collections
import hashlib
import hmac
import json
import logging
import ssl
import time
import uuid

from urllib.parse import parse_qs

from aiohttp import web

LOG = logging.getLogger('zego.rtc.callbacks')

DEFAULTS = {
    'host': '127.0.0.1',
    'max_age': 120,
    'max_body_size': 65536,
    'remember': 10000,
    'batch_window': 0.0,
    'batch_max_wait': 2.0,
    'batch_max_size': 500,
    'feedback_timeout': 5.0,
}
# A batch of n callbacks is queued after min(n, BURST_QUIET) * batch_window without a new one.
BURST_QUIET = 4
# How long the source keeps waiting for the rule engine's feedback on an event it never acknowledged
# (an error in the engine sends none); the callbacks' answers gave up long before.
FEEDBACK_FORGET = 600.0


# The common fields of a callback, in its two shapes: most callbacks use lower-case names, ZEGO's
# content-moderation callbacks (censor_audio_v2_result, censor_video_v2_audio_result, ...) capitalised ones.
COMMON_FIELDS = {
    False: {'signature': 'signature', 'timestamp': 'timestamp', 'nonce': 'nonce', 'appid': 'appid',
            'event': 'event'},
    True: {'signature': 'Signature', 'timestamp': 'Timestamp', 'nonce': 'Nonce', 'appid': 'AppId',
           'event': 'Event'},
}
# Moderation verdicts, mildest first; meta.risk_level is the gravest one a callback carries.
RISK_ORDER = {'PASS': 0, 'REVIEW': 1, 'REJECT': 2}


def risk_levels(payload):
    """The moderation verdicts (RiskLevel, upper case) a callback carries, as a set; empty for callbacks
    without one. ZEGO documents RiskLevel inside Detail without pinning its form, so a RiskLevel is looked
    for at the top, in Detail as an object, a list of objects, or either of them as JSON text."""
    found = set()
    todo = [payload]
    while todo:
        item = todo.pop()
        if isinstance(item, str):
            text = item.strip()
            if text[:1] in ('{', '['):
                try:
                    todo.append(json.loads(text))
                except ValueError:
                    pass
            continue
        if isinstance(item, list):
            todo.extend(item)
            continue
        if not isinstance(item, dict):
            continue
        for key, value in item.items():
            if key in ('RiskLevel', 'riskLevel', 'risk_level') and isinstance(value, str) and value.strip():
                found.add(value.strip().upper())
            elif key in ('Detail', 'detail', 'Details', 'Result', 'Results') and item is not value:
                todo.append(value)
    return found


class Reject(Exception):
    """A callback that is answered with an HTTP error and not queued."""

    def __init__(self, status, reason):
        super(Reject, self).__init__(reason)
        self.status = status
        self.reason = reason


def signature(secret, timestamp, nonce):
    """ZEGO's callback signature: SHA-1 (lowercase hex) of the sorted, concatenated three strings."""
    return hashlib.sha1(''.join(sorted([secret, timestamp, nonce])).encode('utf-8')).hexdigest()


def _int_text(value, field):
    """A decimal integer given as a JSON string or number, as its canonical text (never via float)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError('%s is not an integer' % field)
    text = value.strip() if isinstance(value, str) else '%d' % value
    if not text.isdigit() or not text.isascii():
        raise ValueError('%s is not an integer' % field)
    return str(int(text))


def _opt_int(args, name, minimum):
    value = args.get(name, DEFAULTS.get(name))
    if isinstance(value, bool):
        raise ValueError('%s must be an integer' % name)
    try:
        value = int(value)
    except (TypeError, ValueError):
        raise ValueError('%s must be an integer, got %r' % (name, value))
    if value < minimum:
        raise ValueError('%s must be at least %d, got %d' % (name, minimum, value))
    return value


def _opt_float(args, name, minimum):
    value = args.get(name, DEFAULTS.get(name))
    if value in (None, ''):
        value = DEFAULTS.get(name)
    if isinstance(value, bool):
        raise ValueError('%s must be a number of seconds' % name)
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError('%s must be a number of seconds, got %r' % (name, value))
    if not value >= minimum or value > 3600:
        raise ValueError('%s must be between %s and 3600 seconds, got %s' % (name, minimum, value))
    return value


class Settings:
    """The source's arguments, checked."""

    def __init__(self, args):
        errors = []
        self.host = str(args.get('host') or DEFAULTS['host'])
        self.port = self.max_age = self.max_body_size = self.remember = None
        for name, minimum in (('port', 0), ('max_age', 1), ('max_body_size', 1024), ('remember', 1)):
            if name == 'port' and args.get('port') is None:
                errors.append('port is required')
                continue
            try:
                setattr(self, name, _opt_int(args, name, minimum))
            except ValueError as exc:
                errors.append(str(exc))
        self.batch_window = self.batch_max_wait = None
        for name, minimum in (('batch_window', 0.0), ('batch_max_wait', 0.01)):
            try:
                setattr(self, name, _opt_float(args, name, minimum))
            except ValueError as exc:
                errors.append(str(exc))
        try:
            self.batch_max_size = _opt_int(args, 'batch_max_size', 1)
        except ValueError as exc:
            errors.append(str(exc))
        self.feedback = args.get('feedback', False)
        words = ('true', 'yes', 'on', '1', 'false', 'no', 'off', '0', '')
        if isinstance(self.feedback, str) and self.feedback.strip().lower() in words:
            self.feedback = self.feedback.strip().lower() in words[:4]
        if not isinstance(self.feedback, bool):
            errors.append('feedback must be true or false, got %r' % (self.feedback,))
        self.feedback_timeout = None
        try:
            self.feedback_timeout = _opt_float(args, 'feedback_timeout', 0.1)
        except ValueError as exc:
            errors.append(str(exc))
        if (self.feedback is True and self.batch_window and self.batch_max_wait is not None
                and self.feedback_timeout is not None and self.feedback_timeout <= self.batch_max_wait):
            errors.append('feedback_timeout (%s s) must be longer than batch_max_wait (%s s): a callback waits for '
                          'its batch before the rule engine can take it' % (self.feedback_timeout, self.batch_max_wait))
        if self.port is not None and self.port > 65535:
            errors.append('port must be at most 65535, got %d' % self.port)
        secret = args.get('callback_secret')
        if isinstance(secret, int) and not isinstance(secret, bool):
            # a secret of digits only may arrive as a number after templating
            secret = '%d' % secret
        if not isinstance(secret, str) or not secret:
            errors.append('callback_secret is required (the CallbackSecret from the ZEGO console)')
            secret = ''
        self.secret = secret
        self.app_id = None
        if args.get('app_id') not in (None, ''):
            try:
                self.app_id = _int_text(args['app_id'], 'app_id')
            except ValueError:
                errors.append('app_id must be a ZEGO AppID (digits), got %r' % (args['app_id'],))
        events = args.get('events')
        if events in (None, '', []):
            self.events = None
        elif isinstance(events, str):
            self.events = frozenset(e for e in events.replace(',', ' ').split())
        elif isinstance(events, (list, tuple)) and all(isinstance(e, str) and e for e in events):
            self.events = frozenset(events)
        else:
            errors.append('events must be a list of event names, got %r' % (events,))
        levels = args.get('risk_levels')
        if levels in (None, '', []):
            self.risk_levels = None
        elif isinstance(levels, str):
            self.risk_levels = frozenset(e.upper() for e in levels.replace(',', ' ').split())
        elif isinstance(levels, (list, tuple)) and all(isinstance(e, str) and e.strip() for e in levels):
            self.risk_levels = frozenset(e.strip().upper() for e in levels)
        else:
            errors.append('risk_levels must be a list of RiskLevel values such as REVIEW and REJECT, got %r'
                          % (levels,))
        self.certfile = args.get('certfile') or None
        self.keyfile = args.get('keyfile') or None
        if self.keyfile and not self.certfile:
            errors.append('keyfile needs certfile')
        if errors:
            raise ValueError('zego.rtc.callbacks: ' + '; '.join(errors))

    def ssl_context(self):
        if not self.certfile:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.certfile, self.keyfile)
        return context


class Replays:
    """The (timestamp, nonce, signature) of recently accepted callbacks: bounded in age and number."""

    def __init__(self, max_age, capacity, clock=time.monotonic):
        self.max_age = max_age
        self.capacity = capacity
        self.clock = clock
        self._seen = collections.OrderedDict()

    def __len__(self):
        return len(self._seen)

    def _expire(self, now):
        while self._seen:
            key, (added, dummy) = next(iter(self._seen.items()))
            # a timestamp accepted now is refused as stale 2 * max_age later at the latest
            if now - added <= 2 * self.max_age:
                break
            del self._seen[key]

    def seen(self, key):
        self._expire(self.clock())
        return key in self._seen

    def get(self, key):
        """What was stored with ``key`` (None if nothing, or if it is not remembered)."""
        self._expire(self.clock())
        entry = self._seen.get(key)
        return None if entry is None else entry[1]

    def add(self, key, value=None):
        now = self.clock()
        self._expire(now)
        self._seen[key] = (now, value)
        while len(self._seen) > self.capacity:
            self._seen.popitem(last=False)


def _parse(body, content_type):
    """The callback's fields: a JSON object, or a URL-encoded form (when ZEGO support enabled it)."""
    try:
        text = body.decode('utf-8')
    except UnicodeDecodeError:
        raise Reject(400, 'body is not UTF-8')
    stripped = text.strip()
    if stripped.startswith('{') or 'json' in content_type:
        try:
            fields = json.loads(stripped)
        except ValueError:
            raise Reject(400, 'body is not valid JSON')
        if not isinstance(fields, dict):
            raise Reject(400, 'body is JSON but not an object')
        return fields
    if content_type == 'application/x-www-form-urlencoded' and stripped:
        try:
            form = parse_qs(stripped, keep_blank_values=True, strict_parsing=True)
        except ValueError:
            raise Reject(400, 'body is not a valid URL-encoded form')
        return dict((k, v[0] if len(v) == 1 else v) for k, v in form.items())
    raise Reject(400, 'body is neither a JSON object nor a URL-encoded form')


def _done(futures):
    for future in futures:
        if not future.done():
            future.set_result(True)


class Outbox:
    """Puts accepted callbacks on ansible-rulebook's queue: one event per callback, or (with a batch
    window) one event per batch of callbacks of the same event and AppID. Each callback gets a future
    that is done once its event is on the queue."""

    def __init__(self, queue, settings, feedback=None, clock=time.monotonic):
        self.queue = queue
        self.settings = settings
        # ansible-rulebook's feedback queue: the futures are done once the rule engine has taken the event
        # (it puts the event there right after posting it to the engine), not when it is queued
        self.feedback = feedback
        self.clock = clock
        self._open = {}  # (event, app_id) -> the batch being collected
        self._waiting = collections.OrderedDict()  # delivery_id -> (queued at, futures), oldest first
        self._tasks = set()

    def add(self, payload, meta):
        """Queue one accepted callback (now, or with its batch); its future."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        if not self.settings.batch_window:
            self._emit({'payload': payload, 'meta': meta}, [future])
            return future
        key = (meta['event'], meta['app_id'])
        now = loop.time()
        batch = self._open.get(key)
        if batch is None:
            batch = self._open[key] = {'items': [], 'metas': [], 'futures': [], 'first': now, 'timer': None}
        batch['items'].append(payload)
        batch['metas'].append(meta)
        batch['futures'].append(future)
        if batch['timer'] is not None:
            batch['timer'].cancel()
            batch['timer'] = None
        if len(batch['items']) >= self.settings.batch_max_size:
            self.flush(key)
        else:
            # queued once no further callback came for a while, batch_max_wait after the first at the latest. A
            # lone callback waits batch_window; a burst waits longer for its stragglers (up to BURST_QUIET times),
            # as a burst cut in two costs a second playbook run that waits for the first
            quiet = self.settings.batch_window * min(len(batch['items']), BURST_QUIET)
            delay = min(quiet, batch['first'] + self.settings.batch_max_wait - now)
            batch['timer'] = loop.call_later(max(delay, 0.0), self.flush, key)
        return future

    def flush(self, key=None):
        """Queue the batch of ``key`` now (every open batch without a key)."""
        for one in ([key] if key is not None else list(self._open)):
            batch = self._open.pop(one, None)
            if batch is None:
                continue
            if batch['timer'] is not None:
                batch['timer'].cancel()
            metas = batch['metas']
            meta = {
                'endpoint': metas[0]['endpoint'],
                'event': one[0],
                'app_id': one[1],
                'timestamp': max(m['timestamp'] for m in metas),
                'remote_addr': metas[0]['remote_addr'],
                'batch_size': len(metas),
            }
            levels = [m['risk_level'] for m in metas if 'risk_level' in m]
            if levels:
                meta['risk_level'] = max(levels, key=lambda level: RISK_ORDER.get(level, len(RISK_ORDER)))
            self._emit({'batch': batch['items'], 'meta': meta}, batch['futures'])

    def _emit(self, data, futures):
        if self.feedback is not None:
            now = self.clock()
            while self._waiting and now - next(iter(self._waiting.values()))[0] > FEEDBACK_FORGET:
                self._waiting.popitem(last=False)
            delivery = uuid.uuid4().hex
            data['meta']['delivery_id'] = delivery
            self._waiting[delivery] = (now, futures)
            futures = []  # done by the feedback, not by the queue
        try:
            self.queue.put_nowait(data)
        except asyncio.QueueFull:
            # a bounded queue that is full: put it in the background
            task = asyncio.ensure_future(self.queue.put(data))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            task.add_done_callback(lambda dummy: _done(futures))
            return
        _done(futures)

    async def read_feedback(self):
        """Mark the callbacks of every event the rule engine reports taken (runs until cancelled). The
        queue holds one item, so it is drained continuously."""
        while True:
            data = await self.feedback.get()
            meta = data.get('meta') if isinstance(data, dict) else None
            entry = self._waiting.pop(meta.get('delivery_id'), None) if isinstance(meta, dict) else None
            if entry is None:
                LOG.debug('zego.rtc.callbacks: feedback for an event this source no longer waits for')
                continue
            _done(entry[1])

    def waiting(self):
        return len(self._waiting)


class CallbackReceiver:
    """Verifies ZEGO callbacks and queues the accepted ones. Usable without aiohttp's server (tests)."""

    def __init__(self, queue, settings, clock=time.time, feedback=None):
        self.queue = queue
        self.settings = settings
        self.clock = clock
        self.replays = Replays(settings.max_age, settings.remember)
        self.outbox = Outbox(queue, settings, feedback)
        self.counts = collections.Counter()

    def verify(self, fields):
        """The checked (event, app_id, timestamp, key) of a callback, or Reject. The common fields are
        read in the callback's own shape: lower-case (``signature``, ``timestamp``, ...) or capitalised
        (``Signature``, ``Timestamp``, ``Nonce``, ``AppId``, ``Event``, as ZEGO's moderation callbacks send
        them); the shape is the one of the signature field, so the two are never mixed."""
        names = COMMON_FIELDS['Signature' in fields and 'signature' not in fields]
        given = fields.get(names['signature'])
        if not isinstance(given, str) or not given:
            raise Reject(401, 'signature missing')
        raw_ts = fields.get(names['timestamp'])
        try:
            timestamp = _int_text(raw_ts, names['timestamp'])
        except ValueError:
            raise Reject(401, 'timestamp missing or not numeric')
        nonce = fields.get(names['nonce'])
        if isinstance(nonce, int) and not isinstance(nonce, bool):
            nonce = '%d' % nonce
        if not isinstance(nonce, str) or not nonce:
            raise Reject(401, 'nonce missing')
        # ZEGO signs the text it sent: a string as it is, a JSON number as its digits
        raw_ts = raw_ts if isinstance(raw_ts, str) else timestamp
        expected = signature(self.settings.secret, raw_ts, nonce)
        if not hmac.compare_digest(expected.encode('ascii'), given.strip().lower().encode('utf-8')):
            raise Reject(401, 'signature mismatch')
        age = self.clock() - int(timestamp)
        if abs(age) > self.settings.max_age:
            raise Reject(401, 'timestamp %s is %d s %s (max_age %d)' % (
                timestamp, abs(age), 'old' if age > 0 else 'ahead', self.settings.max_age))
        app_id = fields.get(names['appid'])
        try:
            app_id = _int_text(app_id, 'appid')
        except ValueError:
            app_id = None if app_id is None else str(app_id)
        if self.settings.app_id is not None and app_id != self.settings.app_id:
            raise Reject(403, 'callback for AppID %s, expected %s' % (app_id, self.settings.app_id))
        event = fields.get(names['event'])
        if not isinstance(event, str) or not event:
            raise Reject(400, 'event missing')
        return event, app_id, int(timestamp), (raw_ts, nonce, given.strip().lower())

    def accept(self, body, content_type='application/json', endpoint='/', remote_addr=None):
        """Handle one callback body: (HTTP status, answer text). Queues it when it is new and wanted."""
        return self.receive(body, content_type, endpoint, remote_addr)[:2]

    def receive(self, body, content_type='application/json', endpoint='/', remote_addr=None):
        """Handle one callback body: (HTTP status, answer text, future or None). The future (of a queued
        callback, or of the one a redelivery repeats) is done once its event is on the queue."""
        try:
            if len(body) > self.settings.max_body_size:
                raise Reject(413, 'body of %d bytes is over max_body_size' % len(body))
            fields = _parse(body, content_type)
            event, app_id, timestamp, key = self.verify(fields)
        except Reject as exc:
            self.counts[exc.status] += 1
            LOG.warning('zego.rtc.callbacks: refused a callback from %s to %s with HTTP %d: %s',
                        remote_addr, endpoint, exc.status, exc.reason)
            return exc.status, exc.reason, None
        if self.replays.seen(key):
            self.counts['redelivery'] += 1
            LOG.info('zego.rtc.callbacks: %s callback (nonce %s) redelivered; already accepted, not queued again',
                     event, key[1])
            return 200, 'already received', self.replays.get(key)
        if self.settings.events is not None and event not in self.settings.events:
            self.replays.add(key)
            self.counts['ignored'] += 1
            LOG.debug('zego.rtc.callbacks: %s callback not in events, not queued', event)
            return 200, 'ignored', None
        payload = dict((k, v) for k, v in fields.items() if k not in ('signature', 'Signature'))
        meta = {
            'endpoint': endpoint,
            'event': event,
            'app_id': app_id,
            'timestamp': timestamp,
            'remote_addr': remote_addr,
        }
        levels = risk_levels(payload)
        if levels:
            meta['risk_level'] = max(levels, key=lambda level: RISK_ORDER.get(level, len(RISK_ORDER)))
            if self.settings.risk_levels is not None and not levels & self.settings.risk_levels:
                self.replays.add(key)
                self.counts['filtered'] += 1
                LOG.debug('zego.rtc.callbacks: %s verdict %s not in risk_levels, not queued', event,
                          meta['risk_level'])
                return 200, 'filtered', None
        self.counts['queued'] += 1
        future = self.outbox.add(payload, meta)
        self.replays.add(key, future)
        return 200, 'ok', future

    async def handle(self, request):
        if request.method != 'POST':
            return web.Response(status=405, text='POST only', headers={'Allow': 'POST'})
        length = request.content_length
        if length is not None and length > self.settings.max_body_size:
            self.counts[413] += 1
            LOG.warning('zego.rtc.callbacks: refused a callback from %s to %s with HTTP 413: '
                        'Content-Length %d is over max_body_size', request.remote, request.path, length)
            return web.Response(status=413, text='body over max_body_size')
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            self.counts[413] += 1
            LOG.warning('zego.rtc.callbacks: refused a callback from %s to %s with HTTP 413: '
                        'body over max_body_size', request.remote, request.path)
            return web.Response(status=413, text='body over max_body_size')
        status, text, taken = self.receive(body, request.content_type, request.path, request.remote)
        if taken is not None and self.outbox.feedback is not None and not taken.done():
            # answer 2xx only once the rule engine has the event; else a non-2xx, and ZEGO delivers it again
            try:
                await asyncio.wait_for(asyncio.shield(taken), self.settings.feedback_timeout)
            except asyncio.TimeoutError:
                self.counts['not_taken'] += 1
                LOG.warning('zego.rtc.callbacks: the rule engine did not take a callback from %s to %s within '
                            '%s s: answered HTTP 503 so that ZEGO delivers it again', request.remote, request.path,
                            self.settings.feedback_timeout)
                return web.Response(status=503, text='not taken by the rule engine yet; deliver again',
                                    headers={'Retry-After': '2'})
        return web.Response(status=status, text=text)


async def serve(queue, args, ready=None):
    """Run the endpoint until cancelled. ``ready`` (a future) receives the bound port."""
    settings = Settings(args)
    feedback = args.get('eda_feedback_queue') if settings.feedback else None
    if settings.feedback and feedback is None:
        raise ValueError('zego.rtc.callbacks: feedback needs ansible-rulebook 1.3 or later, which gives the source '
                         'its feedback queue (and --persistence-id)')
    receiver = CallbackReceiver(queue, settings, feedback=feedback)
    reader = asyncio.ensure_future(receiver.outbox.read_feedback()) if feedback is not None else None
    app = web.Application(client_max_size=settings.max_body_size)
    app.router.add_route('*', '/{tail:.*}', receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.host, settings.port, ssl_context=settings.ssl_context())
        await site.start()
        sockets = getattr(site._server, 'sockets', None) or []  # pylint: disable=protected-access
        port = sockets[0].getsockname()[1] if sockets else settings.port
        LOG.info('zego.rtc.callbacks: listening on %s://%s:%d%s', 'https' if settings.certfile else 'http',
                 settings.host, port, ' for %s' % ', '.join(sorted(settings.events)) if settings.events else '')
        if ready is not None and not ready.done():
            ready.set_result((port, receiver))
        await asyncio.Future()
    finally:
        # a batch still being collected is queued rather than lost (ansible-rulebook may still take it)
        receiver.outbox.flush()
        if reader is not None:
            reader.cancel()
        await runner.cleanup()


async def main(queue, args):
    """ansible-rulebook's entry point."""
    await serve(queue, args)


if __name__ == '__main__':
    class _PrintQueue(asyncio.Queue):
        def put_nowait(self, item):
            print(json.dumps(item))

    import os
    import sys
    logging.basicConfig(level=logging.INFO)
    asyncio.run(main(_PrintQueue(), {'port': int(sys.argv[1]) if len(sys.argv) > 1 else 5000,
                                     'callback_secret': os.environ.get('ZEGO_CALLBACK_SECRET', '')}))
