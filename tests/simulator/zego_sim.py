# -*- coding: utf-8 -*-
# Copyright: Contributors to the zego.rtc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Local simulator of ZEGO's RTC server API (rtc-api.zego.im).

It implements the public-parameter and signature checks, DeleteStream,
DescribeSimpleStreamList and AddStream on an in-memory room/stream store,
the media-service stream ban (Forbid/ResumeRTCStream(s)), the room
prohibition rules (Set/Describe/DelForbidStreamRule(s)), room messages
(SendBroadcastMessage, SendBarrageMessage, SendCustomCommand),
ZEGO's documented rate limits, and injectable faults (error codes, HTTP 5xx,
dropped connections, slow and garbage answers).  A JSON admin API under
``/_sim/`` inspects and drives it.

Standard library only.  Run it as a program (see ``main``) or import it::

    from zego_sim import Simulator
    with Simulator(app_id=1234567890, secret="...") as sim:
        sim.seed({"room1": [{"stream_id": "s1", "user_id": "u1"}]})
        ...  # talk to sim.base_url
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import argparse
import collections
import hashlib
import hmac
import ipaddress
import itertools
import json
import random
import re
import select
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
import urllib.error
import urllib.request

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, parse_qsl, urlsplit

SIGNATURE_MAX_AGE = 600

# Every action the simulator serves, with ZEGO's documented limits:
#   app           requests per sliding second per AppID (a config key, or a number; 0 = unlimited)
#   test          the same in the test environment (IsTest=true)
#   room_interval minimum seconds between two calls for one room (a config key or a number), if any
#   code          the code ZEGO answers when a limit is hit
#   handler       the Simulator method that applies a request: handler(action, params) -> (code, data)
# A new action is one row here and one handler method.
ACTION_SPECS = {
    "DeleteStream": {"app": "rate", "test": 1, "code": 206, "handler": "_change_locked"},
    "AddStream": {"app": "rate", "test": 1, "code": 206, "handler": "_change_locked"},
    "DescribeSimpleStreamList": {"app": "list_rate", "test": "list_rate", "room_interval": "list_room_interval",
                                 "code": 207, "handler": "_list_locked"},
    # media service (zego-api.md section 9.1): 20/s per AppID each, 5/s in the test environment
    "ForbidRTCStream": {"app": 20, "test": 5, "code": 30002, "handler": "_ban_locked"},
    "ForbidRTCStreams": {"app": 20, "test": 5, "code": 30002, "handler": "_ban_locked"},
    "ResumeRTCStream": {"app": 20, "test": 5, "code": 30002, "handler": "_ban_locked"},
    "ResumeRTCStreams": {"app": 20, "test": 5, "code": 30002, "handler": "_ban_locked"},
    # room prohibition rules (section 9.2): 10/s per AppID
    "SetForbidStreamRule": {"app": 10, "test": 10, "code": 206, "handler": "_rule_set_locked"},
    "DescribeForbidStreamRules": {"app": 10, "test": 10, "code": 206, "handler": "_rule_describe_locked"},
    "DelForbidStreamRule": {"app": 10, "test": 10, "code": 206, "handler": "_rule_del_locked"},
    # room moderation (users in rooms)
    "CloseRoom": {"app": 1, "test": 1, "code": 206, "handler": "_close_room_locked"},
    "KickoutUser": {"app": 50, "test": 50, "code": 206, "handler": "_kickout_locked"},
    "DescribeUserNum": {"app": 10, "test": 1, "code": 206, "handler": "_user_num_locked"},
    "DescribeUsers": {"app": 10, "test": 10, "code": 206, "handler": "_describe_users_locked"},
    "DescribeUserList": {"app": 200, "test": 200, "room_interval": 1.0, "code": 207, "handler": "_user_list_locked"},
    # room messages (zego-api.md section 10): 100/s per AppID each, 10/s in the test environment
    "SendBroadcastMessage": {"app": 100, "test": 10, "code": 206, "handler": "_message_locked"},
    "SendBarrageMessage": {"app": 100, "test": 10, "code": 206, "handler": "_message_locked"},
    "SendCustomCommand": {"app": 100, "test": 10, "code": 206, "handler": "_message_locked"},
}

# Media-service answers (zego-api.md section 9.1). ZEGO does not document what a stale Sequence gets;
# the simulator answers SEQUENCE_CODE (its own choice) for a missing or non-numeric Sequence and for one
# that is not greater than the last Sequence of the same StreamId within SEQUENCE_WINDOW seconds.
SEQUENCE_CODE = 30011
SEQUENCE_WINDOW = 10.0
BAN_BATCH_MAX = 20
# What the simulator answers when a banned stream ID is published (AddStream or /_sim/publish): the
# publisher's SDK error 1003025. ZEGO documents no server-API code for it.
BANNED_CODE = 1003025
# Prohibition rules (section 9.2)
RULE_DESCRIBE_MAX = 10
RULE_MAX_DURATION = 86400
RULE_DEFAULT_DURATION = 21600
MAX_ACTIVE_RULES = 1000     # simulator choice: ZEGO documents code 50123 but not its threshold
RULE_TIME_MODES = ("duration", "timestamp")
_STREAM_ID_RE = re.compile(r"^[A-Za-z0-9_-]+$")

# ZEGO's documented batch limits
KICKOUT_MAX_USERS = 5
DESCRIBE_USERS_MAX = 10
USER_NUM_MAX_ROOMS = 10
USER_LIST_MAX = 200
# Room messages (section 10): MessageContent at most 1024 bytes (longer: 50012, empty: 1008), MessageCategory
# 1 (system) or 2 (chat), SendCustomCommand ToUserId[] 1-10. ZEGO does not document the answer to more than
# 10 targets; the simulator answers 2 (input parameter error).
MESSAGE_MAX_BYTES = 1024
MESSAGE_CATEGORIES = ("1", "2")
COMMAND_MAX_TARGETS = 10
# What a message to a room that does not exist gets: ZEGO documents 104 and says 5024 and 50001 mean the same
MESSAGE_MISSING_ROOM_CODES = (104, 5024, 50001)
MESSAGE_LIMIT = 10000       # messages kept for /_sim/messages (oldest dropped first)
ACTIONS = tuple(ACTION_SPECS)

FAULT_KINDS = (
    "code124", "http502", "http503", "drop_before", "drop_after", "slow",
    "garbage", "code206", "code1", "code207", "code154",
)

MISSING_ROOM_CODES = (138, 104, 5024, 50001)

MAX_LEN = {
    "RoomId": 128,
    "UserId": 64,
    "UserName": 256,
    "StreamId": 256,
    "StreamTitle": 127,
    "ExtraInfo": 1024,
    "CustomReason": 256,
    "FromUserId": 64,
}

MESSAGES = {
    0: "success",
    1: "Request failed",
    2: "Input parameter error",
    3: "Input parameter length too long",
    104: "Room does not exist",
    124: "Failed to delete stream information",
    138: "Stream information does not exist",
    9: "No permission for this interface",
    1003025: "Stream is banned (simulator: the publisher's SDK error)",
    30002: "Call frequency too high",
    30006: "Invalid StreamId list",
    30009: "Invalid StreamId",
    SEQUENCE_CODE: "Sequence missing or not increasing for this StreamId (simulator)",
    50123: "Too many active ban rules",
    50124: "Rule to delete does not exist",
    154: "Failed to get list information",
    206: "App request QPS too high, rate limited",
    207: "Room request QPS too high, rate limited",
    1012: "Multiple users operating on the same stream",
    1008: "MessageContent empty",
    50012: "Message length exceeds limit",
    105: "User does not exist",
    5018: "Room destroyed or does not exist",
    5024: "Room does not exist",
    50011: "User list too long",
    50001: "Room does not exist",
    100000001: "AppId field format error",
    100000002: "Timestamp field empty",
    100000003: "Timestamp format error",
    100000004: "Signature expired",
    100000005: "Signature error",
    100000006: "Action empty",
    100000007: "Unsupported Action",
    100000008: "SignatureNonce empty",
    100000009: "Signature empty",
    100000010: "Failed to get ServerSecret, check that AppId is correct",
    100000013: "SignatureVersion empty",
    100000014: "Unsupported SignatureVersion",
}

LOG_LIMIT = 200000

_UINT_RE = re.compile(r"^[0-9]+$")
_INT_RE = re.compile(r"^-?[0-9]+$")

_HTML_5XX = (
    "<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{code} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
_GARBAGE = b'<!-- upstream -->\x00\x01{"Code": 0, "Mess'


class SimulatorError(ValueError):
    """Invalid input given to the simulator (bad seed data, config or fault spec)."""


class StreamBanned(SimulatorError):
    """A client tried to publish a banned stream ID."""


def _message(code):
    return MESSAGES.get(code, "error")


def _blen(value):
    return len(value.encode("utf-8"))


def expected_signature(app_id, nonce, secret, timestamp):
    """md5(AppId + SignatureNonce + ServerSecret + Timestamp) as lowercase hex."""
    raw = "{0}{1}{2}{3}".format(app_id, nonce, secret, timestamp)
    return hashlib.md5(raw.encode("utf-8")).hexdigest()


def check_public_params(params, app_id, secret, now, actions=ACTIONS):
    """Check the common request parameters the way ZEGO's gateway does.

    ``params`` maps parameter names to the (URL-decoded) string values as
    received; ``now`` is the server clock in Unix seconds.  Returns
    ``(code, message)``; code 0 means the request is authenticated and names
    a supported action.
    """
    app = params.get("AppId")
    if not app or not _UINT_RE.match(app):
        return 100000001, _message(100000001)
    stamp = params.get("Timestamp")
    if not stamp:
        return 100000002, _message(100000002)
    if not _INT_RE.match(stamp):
        return 100000003, _message(100000003)
    nonce = params.get("SignatureNonce")
    if not nonce:
        return 100000008, _message(100000008)
    sig = params.get("Signature")
    if not sig:
        return 100000009, _message(100000009)
    version = params.get("SignatureVersion")
    if not version:
        return 100000013, _message(100000013)
    if version != "2.0":
        return 100000014, _message(100000014)
    if int(app) != int(app_id):
        return 100000010, _message(100000010)
    if abs(now - int(stamp)) > SIGNATURE_MAX_AGE:
        return 100000004, _message(100000004)
    wanted = expected_signature(app, nonce, secret, stamp)
    if not hmac.compare_digest(sig.encode("utf-8"), wanted.encode("utf-8")):
        return 100000005, _message(100000005)
    action = params.get("Action")
    if not action:
        return 100000006, _message(100000006)
    if action not in actions:
        return 100000007, _message(100000007)
    return 0, _message(0)


def parse_fault_spec(spec):
    """Parse ``kind=p,kind=p;seed=N;actions=A+B`` into a dict.

    Returns ``{"probabilities": [(kind, p), ...], "seed": int or None,
    "actions": [..], "spec": spec}``.  Raises SimulatorError when invalid.
    """
    result = {"probabilities": [], "seed": None, "actions": ["DeleteStream"], "spec": spec or ""}
    if not spec:
        return result
    total = 0.0
    for part in spec.split(";"):
        part = part.strip()
        if not part:
            continue
        if part.startswith("seed="):
            try:
                result["seed"] = int(part[5:])
            except ValueError:
                raise SimulatorError("fault spec: seed must be an integer: %r" % part)
            continue
        if part.startswith("actions="):
            acts = [a for a in part[8:].replace(",", "+").split("+") if a]
            for act in acts:
                if act not in ACTIONS:
                    raise SimulatorError("fault spec: unknown action %r" % act)
            result["actions"] = acts
            continue
        for item in part.split(","):
            item = item.strip()
            if not item:
                continue
            kind, sep, prob = item.partition("=")
            kind = kind.strip()
            if not sep or kind not in FAULT_KINDS:
                raise SimulatorError("fault spec: unknown fault %r (known: %s)" % (item, ", ".join(FAULT_KINDS)))
            try:
                value = float(prob)
            except ValueError:
                raise SimulatorError("fault spec: bad probability in %r" % item)
            if not 0.0 <= value <= 1.0:
                raise SimulatorError("fault spec: probability out of range in %r" % item)
            total += value
            result["probabilities"].append((kind, value))
    if total > 1.0 + 1e-9:
        raise SimulatorError("fault spec: probabilities add up to %.3f > 1" % total)
    return result


def _is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _Room:
    __slots__ = ("streams", "next_number", "users")

    def __init__(self):
        self.streams = collections.OrderedDict()
        self.next_number = 1
        # user_id -> {user_id, user_name, user_role, login_time, admin}; a room with users is open
        self.users = collections.OrderedDict()


def _room_parts(value):
    """A seeded room is a list of streams, or {"streams": [...], "users": [...]}."""
    if isinstance(value, dict):
        return value.get("streams"), value.get("users")
    return value, None


# ZEGO retries a callback that got no 2xx answer 5 times, 2, 4, 8, 16 and 32 s apart, then drops it.
CALLBACK_RETRY_DELAYS = (2, 4, 8, 16, 32)
CALLBACK_TIMEOUT = 5.0
# the content-moderation verdicts the simulator can send (POST /_sim/censor)
CENSOR_EVENTS = ("censor_audio_v2_result", "censor_video_v2_audio_result")


def callback_signature(secret, timestamp, nonce):
    """ZEGO's callback signature: SHA-1 (lowercase hex) of the sorted concatenation of the three strings."""
    return hashlib.sha1("".join(sorted([secret, timestamp, nonce])).encode("utf-8")).hexdigest()


class CallbackSender:
    """Sends ZEGO-shaped, signed server callbacks (stream_create, stream_close) to one URL, each in its own
    thread (ZEGO does not order them), retrying non-2xx answers and failed connections on ZEGO's schedule.
    ``retry_scale`` multiplies the retry delays (tests use a small one). Every attempt is logged (without the
    signature) for ``/_sim/callbacks``."""

    def __init__(self, url, secret, app_id, retry_scale=1.0, timeout=CALLBACK_TIMEOUT):
        if not url or not secret:
            raise SimulatorError("callback_url and callback_secret go together")
        if urlsplit(url).scheme not in ("http", "https"):
            raise SimulatorError("callback_url must be an http(s) URL, got %r" % url)
        if retry_scale < 0:
            raise SimulatorError("callback_retry_scale must be >= 0")
        self.url = url
        self._secret = str(secret)
        self.app_id = str(app_id)
        self.retry_scale = float(retry_scale)
        self.timeout = timeout
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._active = 0
        self._log = []
        self._seq = itertools.count(1)
        self._sessions = {}

    def room_session_id(self, room_id):
        with self._lock:
            if room_id not in self._sessions:
                self._sessions[room_id] = str(random.randrange(10 ** 17, 10 ** 18))
            return self._sessions[room_id]

    def stream_fields(self, room_id, stream):
        """The fields stream_create and stream_close share."""
        sid = stream["stream_id"]
        return {
            "room_id": room_id, "room_session_id": self.room_session_id(room_id),
            "user_id": stream.get("user_id") or "", "user_name": stream.get("user_name") or "",
            "channel_id": "0", "stream_id": sid, "stream_alias": sid,
            "stream_sid": "s-%s-%d" % (sid, stream.get("stream_number_id") or 0),
            "stream_seq": str(next(self._seq)),
        }

    def stream_create(self, room_id, stream):
        created = int(stream.get("create_time") or time.time() * 1000)
        fields = self.stream_fields(room_id, stream)
        fields.update({
            "title": stream.get("title") or "", "stream_attr": '{"cid":0}', "create_time": str(created // 1000),
            "create_time_ms": str(created), "extra_info": stream.get("extra_info") or "", "recreate": "0",
            "publish_id": fields["user_id"], "publish_name": fields["user_name"],
            "rtmp_url": ["rtmp://play.example.invalid/live/%s" % stream["stream_id"]],
            "hls_url": [], "hdl_url": [], "pic_url": [],
        })
        self.send("stream_create", fields)

    def stream_close(self, room_id, stream, close_type):
        fields = self.stream_fields(room_id, stream)
        fields.update({
            "type": str(close_type), "third_define_data": "",
            "create_time_ms": str(int(stream.get("create_time") or 0)),
            "destroy_timemillis": str(int(time.time() * 1000)),
        })
        self.send("stream_close", fields)

    def censor_result(self, event, room_id, stream_id, risk_level, detail=None):
        """A content-moderation verdict (``censor_audio_v2_result``, ``censor_video_v2_audio_result``) for
        one 10 s segment of a stream, in ZEGO's capitalised shape. ZEGO carries no RoomId or StreamId here;
        the simulator puts the stream ID into ResultTaskId and AudioUrl (ZEGO's format is undocumented)."""
        if event not in CENSOR_EVENTS:
            raise SimulatorError("event must be one of %s, got %r" % (", ".join(CENSOR_EVENTS), event))
        if risk_level not in ("PASS", "REVIEW", "REJECT"):
            raise SimulatorError("risk_level must be PASS, REVIEW or REJECT, got %r" % (risk_level,))
        with self._lock:
            segment = next(self._seq)
        task = "task-%s" % room_id
        audio = "https://censor.example.invalid/%s/%s/%d.mp3" % (room_id, stream_id, segment)
        details = {"RiskLevel": risk_level, "AudioText": "", "AudioUrl": audio, "PreAudioUrl": "",
                   "RiskDescription": "" if risk_level == "PASS" else "Abuse", "StartTime": segment * 10000,
                   "EndTime": segment * 10000 + 10000}
        details.update(detail or {})
        self.send(event, {"Code": 0, "Message": "success", "TaskId": task,
                          "ResultTaskId": "%s_%s_%d" % (task, stream_id, segment), "Detail": details},
                  capitalised=True)

    def send(self, event, fields, capitalised=False):
        """Sign and deliver one callback in the background. ``capitalised``: the common fields as ZEGO's
        moderation callbacks name them (Event, AppId and Timestamp as JSON numbers, Nonce, Signature)."""
        timestamp = str(int(time.time()))
        nonce = str(random.randrange(10 ** 8, 10 ** 9))
        sig = callback_signature(self._secret, timestamp, nonce)
        if capitalised:
            body = dict(fields, Event=event, AppId=int(self.app_id), Timestamp=int(timestamp), Nonce=nonce,
                        Signature=sig)
        else:
            body = dict(fields, event=event, appid=self.app_id, timestamp=timestamp, nonce=nonce, signature=sig)
        with self._lock:
            self._active += 1
        threading.Thread(target=self._deliver, args=(body,), name="zego-sim-callback", daemon=True).start()

    def _deliver(self, body):
        data = json.dumps(body).encode("utf-8")
        try:
            for attempt in range(len(CALLBACK_RETRY_DELAYS) + 1):
                if attempt:
                    time.sleep(CALLBACK_RETRY_DELAYS[attempt - 1] * self.retry_scale)
                status, error = None, None
                request = urllib.request.Request(self.url, data=data, method="POST",
                                                 headers={"Content-Type": "application/json"})
                try:
                    with urllib.request.urlopen(request, timeout=self.timeout) as resp:  # nosec - a configured URL
                        status = resp.status
                except urllib.error.HTTPError as exc:
                    status = exc.code
                except (OSError, ValueError) as exc:
                    error = exc.__class__.__name__
                ok = status is not None and 200 <= status < 300
                with self._lock:
                    self._log.append({
                        "event": body.get("event", body.get("Event")), "room_id": body.get("room_id"),
                        "stream_id": body.get("stream_id"), "type": body.get("type"),
                        "timestamp": str(body.get("timestamp", body.get("Timestamp"))),
                        "nonce": body.get("nonce", body.get("Nonce")),
                        "attempt": attempt + 1, "status": status, "error": error, "at": time.time(),
                        "outcome": "delivered" if ok else ("retry" if attempt < len(CALLBACK_RETRY_DELAYS) else "dropped"),
                    })
                if ok:
                    return
        finally:
            with self._lock:
                self._active -= 1
                self._idle.notify_all()

    def log(self):
        with self._lock:
            return [dict(e) for e in self._log]

    def clear_log(self):
        with self._lock:
            self._log = []

    def pending(self):
        with self._lock:
            return self._active

    def wait_idle(self, timeout):
        """True once no callback is being delivered (or retried)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._active:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
            return True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 256
    sim = None

    def server_bind(self):
        # HTTPServer.server_bind resolves the FQDN, which can stall without DNS.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = host
        self.server_port = port

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (OSError, ssl.SSLError)):
            return
        ThreadingHTTPServer.handle_error(self, request, client_address)


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ZegoSim/1.0"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 300

    def setup(self):
        BaseHTTPRequestHandler.setup(self)
        self.server.sim.track_connection(self.connection, True)

    def finish(self):
        try:
            BaseHTTPRequestHandler.finish(self)
        finally:
            self.server.sim.track_connection(self.connection, False)

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def do_HEAD(self):
        self._dispatch("HEAD")

    def _read_body(self):
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        try:
            size = int(length)
        except ValueError:
            self.close_connection = True
            return b""
        return self.rfile.read(size) if size > 0 else b""

    def send_raw(self, status, body, content_type="application/json"):
        reason = self.responses.get(status, ("",))[0]
        head = [
            "HTTP/1.1 %d %s" % (status, reason),
            "Server: " + self.server_version,
            "Date: " + self.date_time_string(),
            "Content-Type: " + content_type,
            "Content-Length: %d" % len(body),
        ]
        if self.close_connection:
            head.append("Connection: close")
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        if self.command != "HEAD":
            data += body
        try:
            self.wfile.write(data)
        except OSError:
            self.close_connection = True

    def send_json(self, status, obj):
        self.send_raw(status, json.dumps(obj).encode("utf-8"))

    def drop(self):
        """Close the connection without sending anything."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def wait_gone(self, timeout):
        """Wait until the client closes the connection (it gave up on the answer), at most ``timeout`` seconds;
        True if it did. Over TLS the closing cannot be peeked at: the whole ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        sock = self.connection
        if isinstance(sock, ssl.SSLSocket):
            time.sleep(timeout)
            return False
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            readable = select.select([sock], [], [], left)[0]
            if not readable:
                continue
            try:
                if not sock.recv(1, socket.MSG_PEEK):
                    return True
            except OSError:
                return True
            time.sleep(min(left, 0.05))  # bytes of a next request: the client is still there

    def _dispatch(self, method):
        body = self._read_body()
        parts = urlsplit(self.path)
        sim = self.server.sim
        if parts.path.startswith("/_sim/") or parts.path == "/_sim":
            if not _is_loopback(self.client_address[0]):
                self.send_json(403, {"error": "admin API is loopback only"})
                return
            status, obj = sim.admin(method, parts.path, parts.query, body)
            self.send_json(status, obj)
            return
        if parts.path != "/":
            self.send_json(404, {"Code": 404, "Message": "not found", "RequestId": sim.next_request_id()})
            return
        if method not in ("GET", "HEAD"):
            self.send_json(405, {"Code": 405, "Message": "method not allowed", "RequestId": sim.next_request_id()})
            return
        sim.handle_api(self, parts.query)


class Simulator:
    """In-memory ZEGO RTC server API with an HTTP(S) front end.

    All mutable state is guarded by one lock; the HTTP server runs in a
    daemon thread after ``start()``.
    """

    def __init__(self, app_id=1234567890, secret="0" * 32, host="127.0.0.1", port=0, rate=10,
                 latency_ms=0, faults=None, tls_cert=None, tls_key=None, missing_room_code=138,
                 list_room_interval=10.0, list_rate=50, clock_offset=0.0, slow_ms=5000,
                 request_log=None, rooms=None, rules_enabled=True, rule_time="duration", rule_missing_code=0,
                 callback_url=None, callback_secret=None, callback_retry_scale=1.0, message_missing_room_code=104):
        if not _is_loopback(host):
            raise SimulatorError("host must be a loopback address, got %r" % host)
        if (tls_cert is None) != (tls_key is None):
            raise SimulatorError("tls_cert and tls_key must be given together")
        self.app_id = int(app_id)
        self._secret = str(secret)
        self.host = host
        self.port = int(port)
        self.tls_cert = tls_cert
        self.tls_key = tls_key
        self._lock = threading.RLock()
        self._cfg = {}
        self._fault_spec = parse_fault_spec(None)
        self._rng = random.Random()
        self._configure_locked({
            "rate": rate, "latency_ms": latency_ms, "missing_room_code": missing_room_code,
            "list_room_interval": list_room_interval, "list_rate": list_rate,
            "clock_offset": clock_offset, "slow_ms": slow_ms, "faults": faults,
            "rules_enabled": rules_enabled, "rule_time": rule_time, "rule_missing_code": rule_missing_code,
            "message_missing_room_code": message_missing_room_code,
        })
        self._banned = collections.OrderedDict()
        self._sequences = {}
        self._rules = collections.OrderedDict()
        self._messages = collections.deque(maxlen=MESSAGE_LIMIT)
        self._message_seq = 0
        self._message_ids = {}
        self._rooms = {}
        self._log = collections.deque(maxlen=LOG_LIMIT)
        self._pending = 0  # API requests received whose log entry is not written yet (a 'slow' one waits first)
        self._seq = 0
        self._queue = []
        self._windows = {}
        self._room_calls = {}
        self._stats = {}
        self._request_ids = itertools.count(int(time.time() * 1000) * 1000000 + random.randrange(1000000))
        self._request_log_path = request_log
        self._request_log = None
        self._server = None
        self._thread = None
        self._conns = set()
        self._reset_stats_locked()
        self.callbacks = None
        if callback_url or callback_secret:
            self.callbacks = CallbackSender(callback_url, callback_secret, self.app_id, callback_retry_scale)
        if rooms:
            self.seed(rooms)

    # ------------------------------------------------------------------ lifecycle

    def start(self):
        """Bind, start serving in a daemon thread and return self."""
        if self._server is not None:
            return self
        if self._request_log_path:
            self._request_log = open(self._request_log_path, "a", encoding="utf-8")  # pylint: disable=consider-using-with
        cls = _Server6 if ":" in self.host else _Server
        server = cls((self.host.strip("[]"), self.port), _Handler)
        server.sim = self
        if self.tls_cert:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(self.tls_cert, self.tls_key)
            server.socket = ctx.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="zego-sim", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Stop serving, close open client connections and the request log."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with self._lock:
            conns = list(self._conns)
            self._conns.clear()
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(5)
        with self._lock:
            if self._request_log is not None:
                self._request_log.close()
                self._request_log = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    @property
    def base_url(self):
        scheme = "https" if self.tls_cert else "http"
        host = self.host.strip("[]")
        if ":" in host:
            host = "[%s]" % host
        return "%s://%s:%d" % (scheme, host, self.port)

    def track_connection(self, conn, active):
        with self._lock:
            if active:
                self._conns.add(conn)
            else:
                self._conns.discard(conn)

    def next_request_id(self):
        with self._lock:
            return str(next(self._request_ids))

    # ------------------------------------------------------------------ config

    def _configure_locked(self, changes):
        cfg = dict(self._cfg)
        new_spec = None
        for key, value in changes.items():
            if key in ("rate", "list_rate"):
                value = int(value)
                if value < 0:
                    raise SimulatorError("%s must be >= 0" % key)
            elif key in ("latency_ms", "slow_ms", "list_room_interval", "clock_offset"):
                value = float(value)
                if key != "clock_offset" and value < 0:
                    raise SimulatorError("%s must be >= 0" % key)
            elif key == "missing_room_code":
                value = int(value)
                if value not in MISSING_ROOM_CODES:
                    raise SimulatorError("missing_room_code must be one of %s" % (MISSING_ROOM_CODES,))
            elif key == "faults":
                new_spec = parse_fault_spec(value)
                value = new_spec["spec"]
            elif key == "rules_enabled":
                if not isinstance(value, bool):
                    raise SimulatorError("rules_enabled must be true or false")
            elif key == "rule_time":
                if value not in RULE_TIME_MODES:
                    raise SimulatorError("rule_time must be one of %s" % (RULE_TIME_MODES,))
            elif key == "rule_missing_code":
                value = int(value)
                if value not in (0, 50124):
                    raise SimulatorError("rule_missing_code must be 0 or 50124")
            elif key == "message_missing_room_code":
                value = int(value)
                if value not in MESSAGE_MISSING_ROOM_CODES:
                    raise SimulatorError("message_missing_room_code must be one of %s" % (MESSAGE_MISSING_ROOM_CODES,))
            else:
                raise SimulatorError("unknown config key %r" % key)
            cfg[key] = value
        # Commit only once every key is valid.
        self._cfg = cfg
        if new_spec is not None:
            self._fault_spec = new_spec
            self._rng = random.Random(new_spec["seed"])

    def configure(self, **changes):
        """Change rate, latency_ms, missing_room_code, list_room_interval, list_rate,
        clock_offset, slow_ms, faults (random fault spec), rules_enabled (prohibition rules
        feature; off: code 9), rule_time (how DescribeForbidStreamRules reports EffectiveTime:
        "duration" or "timestamp"), rule_missing_code (DelForbidStreamRule of a missing rule:
        0 or 50124) or message_missing_room_code (a message to a room that does not exist: 104, 5024
        or 50001) at run time."""
        with self._lock:
            self._configure_locked(changes)
            return self.config()

    def config(self):
        with self._lock:
            out = dict(self._cfg)
            out["app_id"] = self.app_id
            out["fault_actions"] = list(self._fault_spec["actions"])
            out["fault_seed"] = self._fault_spec["seed"]
            out["tls"] = bool(self.tls_cert)
            return out

    # ------------------------------------------------------------------ rooms

    @staticmethod
    def _check_rooms(rooms):
        if not isinstance(rooms, dict):
            raise SimulatorError("rooms must be an object mapping room id to a list of streams")
        for room_id, value in rooms.items():
            if not isinstance(room_id, str) or not room_id:
                raise SimulatorError("room ids must be non-empty strings")
            if isinstance(value, dict):
                unknown = set(value) - set(("streams", "users"))
                if unknown:
                    raise SimulatorError("room %r: unknown keys %s (allowed: streams, users)" % (room_id, ", ".join(sorted(unknown))))
            streams, users = _room_parts(value)
            Simulator._check_users(room_id, users)
            if streams is None:
                continue
            if not isinstance(streams, list):
                raise SimulatorError("room %r: streams must be a list" % room_id)
            for item in streams:
                if not isinstance(item, dict) or not isinstance(item.get("stream_id"), str) or not item["stream_id"]:
                    raise SimulatorError("room %r: every stream needs a non-empty string stream_id" % room_id)
                for key in ("user_id", "user_name"):
                    if item.get(key) is not None and not isinstance(item[key], str):
                        raise SimulatorError("room %r: %s must be a string" % (room_id, key))
                for key in ("create_time", "stream_number_id"):
                    if item.get(key) is not None and not isinstance(item[key], int):
                        raise SimulatorError("room %r: %s must be an integer" % (room_id, key))

    @staticmethod
    def _check_users(room_id, users):
        if users is None:
            return
        if not isinstance(users, list):
            raise SimulatorError("room %r: users must be a list" % room_id)
        for item in users:
            if isinstance(item, str):
                item = {"user_id": item}
            if not isinstance(item, dict) or not isinstance(item.get("user_id"), str) or not item["user_id"]:
                raise SimulatorError("room %r: every user needs a non-empty string user_id" % room_id)
            unknown = set(item) - set(("user_id", "user_name", "user_role", "login_time", "admin"))
            if unknown:
                raise SimulatorError("room %r: unknown user keys %s" % (room_id, ", ".join(sorted(unknown))))
            if item.get("user_name") is not None and not isinstance(item["user_name"], str):
                raise SimulatorError("room %r: user_name must be a string" % room_id)
            for key in ("user_role", "login_time"):
                if item.get(key) is not None and (not isinstance(item[key], int) or isinstance(item[key], bool)):
                    raise SimulatorError("room %r: %s must be an integer" % (room_id, key))
            if item.get("admin") is not None and not isinstance(item["admin"], bool):
                raise SimulatorError("room %r: admin must be true or false" % room_id)

    def _merge_users_locked(self, room, users):
        now_ms = int(time.time() * 1000)
        for item in users or ():
            if isinstance(item, str):
                item = {"user_id": item}
            old = room.users.get(item["user_id"]) or {}
            room.users[item["user_id"]] = {
                "user_id": item["user_id"],
                "user_name": item.get("user_name") or old.get("user_name") or "",
                "user_role": item.get("user_role") or old.get("user_role") or 1,
                "login_time": item.get("login_time") or old.get("login_time") or now_ms + len(room.users),
                "admin": bool(item.get("admin", old.get("admin", False))),
            }

    def _merge_locked(self, rooms):
        now_ms = int(time.time() * 1000)
        for room_id, value in rooms.items():
            streams, users = _room_parts(value)
            room = self._rooms.get(room_id)
            if room is None:
                room = self._rooms[room_id] = _Room()
            self._merge_users_locked(room, users)
            for item in streams or ():
                sid = item["stream_id"]
                old = room.streams.get(sid)
                number = item.get("stream_number_id")
                if number is None:
                    number = old["stream_number_id"] if old else room.next_number
                room.next_number = max(room.next_number, number + 1)
                room.streams[sid] = {
                    "stream_id": sid,
                    "user_id": item.get("user_id") or "",
                    "user_name": item.get("user_name") or "",
                    "create_time": item.get("create_time") or now_ms,
                    "stream_number_id": number,
                }

    def seed(self, rooms):
        """Add rooms and streams (merge); ``rooms`` maps room id to a list of stream dicts."""
        self._check_rooms(rooms)
        with self._lock:
            self._merge_locked(rooms)

    def set_state(self, rooms):
        """Replace all rooms."""
        self._check_rooms(rooms)
        with self._lock:
            self._rooms = {}
            self._merge_locked(rooms)

    def state(self):
        """``{"rooms": {room: [streams]}}``, plus ``"users": {room: [users]}`` for the rooms that have users."""
        with self._lock:
            out = {"rooms": dict((rid, [dict(s) for s in room.streams.values()]) for rid, room in self._rooms.items())}
            users = self._users_locked()
            if users:
                out["users"] = users
            return out

    def _users_locked(self):
        return dict((rid, [dict(u) for u in room.users.values()]) for rid, room in self._rooms.items() if room.users)

    def users(self, room_id=None):
        """The users of every room that has some (or of ``room_id``: a list, empty if none)."""
        with self._lock:
            if room_id is None:
                return self._users_locked()
            room = self._rooms.get(room_id)
            return [dict(u) for u in room.users.values()] if room else []

    def add_users(self, room_id, users):
        """Log users into a room (created if needed); a user already there is updated."""
        if not isinstance(room_id, str) or not room_id:
            raise SimulatorError("room_id must be a non-empty string")
        self._check_users(room_id, users)
        with self._lock:
            room = self._rooms.get(room_id)
            if room is None:
                room = self._rooms[room_id] = _Room()
            self._merge_users_locked(room, users)

    def remove_users(self, room_id, user_ids):
        """Log users out of a room (as if they left); returns how many were there."""
        with self._lock:
            room = self._rooms.get(room_id)
            if room is None:
                return 0
            return len([room.users.pop(u) for u in list(user_ids or []) if u in room.users])

    def reset(self, rooms=None):
        """Clear rooms, log, queued faults, rate windows and stats; re-seed the random
        fault generator; optionally seed ``rooms``."""
        if rooms:
            self._check_rooms(rooms)
        with self._lock:
            self._rooms = {}
            self._log.clear()
            self._queue = []
            self._windows = {}
            self._room_calls = {}
            self._banned = collections.OrderedDict()
            self._sequences = {}
            self._rules = collections.OrderedDict()
            self._messages.clear()
            self._message_ids = {}
            self._rng = random.Random(self._fault_spec["seed"])
            self._reset_stats_locked()
            if rooms:
                self._merge_locked(rooms)

    # ------------------------------------------------------------------ log, faults, stats

    def log(self, since=0):
        with self._lock:
            return [dict(e) for e in self._log if e["seq"] > since]

    def clear_log(self):
        with self._lock:
            self._log.clear()

    def queue_fault(self, kind, count=1, action="DeleteStream", stream_id=None, room_id=None):
        """Make the next ``count`` matching requests fail with ``kind``."""
        if kind not in FAULT_KINDS:
            raise SimulatorError("unknown fault kind %r (known: %s)" % (kind, ", ".join(FAULT_KINDS)))
        if action not in ACTIONS:
            raise SimulatorError("unknown action %r" % action)
        count = int(count)
        if count < 1:
            raise SimulatorError("count must be >= 1")
        for name, value in (("stream_id", stream_id), ("room_id", room_id)):
            if value is not None and not isinstance(value, str):
                raise SimulatorError("%s must be a string" % name)
        entry = {"kind": kind, "count": count, "action": action, "stream_id": stream_id, "room_id": room_id}
        with self._lock:
            self._queue.append(entry)
        return dict(entry)

    def faults(self):
        with self._lock:
            return [dict(f) for f in self._queue]

    def clear_faults(self):
        with self._lock:
            self._queue = []

    def _reset_stats_locked(self):
        self._stats = {
            "started": time.time(),
            "requests": 0,
            "by_action": {},
            "http_status": {},
            "faults": {},
            "max_window": dict((a, 0) for a in ACTIONS),
            "stat_windows": dict((a, collections.deque()) for a in ACTIONS),
        }

    def stats(self):
        with self._lock:
            st = self._stats
            out = {
                "started": st["started"],
                "requests": st["requests"],
                "by_action": dict((a, dict(c)) for a, c in st["by_action"].items()),
                "http_status": dict(st["http_status"]),
                "faults": dict(st["faults"]),
                "max_window": dict(st["max_window"]),
            }
            out["max_delete_stream_per_1s"] = st["max_window"]["DeleteStream"]
            return out

    # ------------------------------------------------------------------ request processing

    def _record_locked(self, params, action, code, http_status, fault, request_id, received):
        self._seq += 1
        entry = {
            "seq": self._seq,
            "time": received,
            "request_id": request_id,
            "action": action,
            "room_id": params.get("RoomId"),
            "stream_id": params.get("StreamId"),
            "user_id": params.get("UserId"),
            "code": code,
            "http_status": http_status,
            "fault": fault,
            "app_id": params.get("AppId"),
            "nonce": params.get("SignatureNonce"),
            "timestamp": params.get("Timestamp"),
            "is_test": _is_test(params),
        }
        if params.get("Sequence") is not None:
            entry["sequence"] = params.get("Sequence")
        arrays = dict((k[:-2], v) for k, v in params.items() if k.endswith("[]"))
        if arrays:
            entry["arrays"] = arrays
        for name, key in (("CustomReason", "custom_reason"), ("RoomCloseCallback", "room_close_callback"),
                          ("StreamTitle", "stream_title"), ("ExtraInfo", "extra_info"), ("CensorFlag", "censor_flag"),
                          ("FromUserId", "from_user_id"), ("MessageCategory", "message_category"),
                          ("MessageContent", "message_content")):
            if params.get(name) is not None:
                entry[key] = params[name]
        self._log.append(entry)
        st = self._stats
        st["requests"] += 1
        codes = st["by_action"].setdefault(action or "", {})
        key = "none" if code is None else str(code)
        codes[key] = codes.get(key, 0) + 1
        hkey = "none" if http_status is None else str(http_status)
        st["http_status"][hkey] = st["http_status"].get(hkey, 0) + 1
        if fault:
            st["faults"][fault] = st["faults"].get(fault, 0) + 1
        if self._request_log is not None:
            self._request_log.write(json.dumps(entry) + "\n")
            self._request_log.flush()

    def _window_hit(self, key, limit, now):
        """Count a request in the sliding 1 s window ``key``; True if over ``limit``."""
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = collections.deque()
        cutoff = now - 1.0
        while window and window[0] <= cutoff:
            window.popleft()
        over = bool(limit) and len(window) >= limit
        window.append(now)
        return over

    def _limit(self, value):
        return self._cfg[value] if isinstance(value, str) else value

    def _rate_limited_locked(self, action, params, now):
        window = self._stats["stat_windows"][action]
        cutoff = now - 1.0
        while window and window[0] <= cutoff:
            window.popleft()
        window.append(now)
        if len(window) > self._stats["max_window"][action]:
            self._stats["max_window"][action] = len(window)
        spec = ACTION_SPECS[action]
        app_limit = self._limit(spec["app"])
        if _is_test(params):
            over = self._window_hit((action, "test"), self._limit(spec["test"]) if app_limit else 0, now)
        else:
            over = self._window_hit((action, "prod"), app_limit, now)
        room_id = params.get("RoomId")
        if spec.get("room_interval") and isinstance(room_id, str) and room_id:
            interval = self._limit(spec["room_interval"])
            last = self._room_calls.get((action, room_id))
            self._room_calls[(action, room_id)] = now
            if interval and last is not None and now - last < interval:
                over = True
        return spec["code"] if over else 0

    def _pick_fault_locked(self, action, params):
        spec = self._fault_spec
        drawn = None
        if spec["probabilities"] and action in spec["actions"]:
            roll = self._rng.random()
            acc = 0.0
            for kind, prob in spec["probabilities"]:
                acc += prob
                if roll < acc:
                    drawn = kind
                    break
        for idx, entry in enumerate(self._queue):
            if entry["action"] != action:
                continue
            if entry["stream_id"] is not None and entry["stream_id"] != params.get("StreamId") \
                    and entry["stream_id"] not in (params.get("StreamId[]") or ()):
                continue
            if entry["room_id"] is not None and entry["room_id"] != params.get("RoomId"):
                continue
            entry["count"] -= 1
            if entry["count"] <= 0:
                del self._queue[idx]
            return entry["kind"]
        return drawn

    def _apply_locked(self, action, params):
        return getattr(self, ACTION_SPECS[action]["handler"])(action, params)

    def _change_locked(self, action, params):
        room_id = params.get("RoomId", "")
        user_id = params.get("UserId", "")
        stream_id = params.get("StreamId", "")
        if not room_id or not user_id or not stream_id:
            return 2, None
        names = ["RoomId", "UserId", "UserName", "StreamId"]
        if action == "AddStream":
            names += ["StreamTitle", "ExtraInfo"]
        for name in names:
            value = params.get(name)
            if value is not None and _blen(value) > MAX_LEN[name]:
                return 3, None
        room = self._rooms.get(room_id)
        if action == "DeleteStream":
            if room is None:
                return self._cfg["missing_room_code"], None
            if stream_id not in room.streams:
                return 138, None
            gone = room.streams.pop(stream_id)
            if self.callbacks is not None:
                self.callbacks.stream_close(room_id, gone, 100)
            return 0, None
        # the room must exist, i.e. have users (ZEGO destroys a room when its last user leaves);
        # AddStream cannot create one
        if self._open_room(room_id) is None:
            return 104, None
        if stream_id in self._banned:
            return BANNED_CODE, None
        censor = params.get("CensorFlag")
        if censor is not None and censor not in ("0", "1"):
            return 2, None  # ZEGO documents 0 and 1 only; the simulator refuses anything else
        if stream_id in room.streams:
            return 1012, None
        room.streams[stream_id] = {
            "stream_id": stream_id,
            "user_id": user_id,
            "user_name": params.get("UserName") or "",
            "create_time": int(time.time() * 1000),
            "stream_number_id": room.next_number,
            # only streams added by AddStream carry these (DescribeSimpleStreamList does not return them)
            "title": params.get("StreamTitle") or "",
            "extra_info": params.get("ExtraInfo") or "",
            "censor_flag": int(censor or 0),
        }
        room.next_number += 1
        if self.callbacks is not None:
            self.callbacks.stream_create(room_id, room.streams[stream_id])
        return 0, None

    def publish(self, room_id, stream_id, user_id, user_name=""):
        """A client starts publishing: the stream appears (its room too, if needed) and, with callbacks
        configured, stream_create is sent. Returns the stream; SimulatorError if it exists already,
        StreamBanned if the stream ID is banned (ForbidRTCStream)."""
        self._check_rooms({room_id: [{"stream_id": stream_id, "user_id": user_id, "user_name": user_name}]})
        with self._lock:
            if stream_id in self._banned:
                raise StreamBanned("stream ID %r is banned: the publisher gets error %d" % (stream_id, BANNED_CODE))
            room = self._rooms.get(room_id)
            if room is not None and stream_id in room.streams:
                raise SimulatorError("stream %r already exists in room %r" % (stream_id, room_id))
            self._merge_locked({room_id: [{"stream_id": stream_id, "user_id": user_id, "user_name": user_name}]})
            stream = dict(self._rooms[room_id].streams[stream_id])
            if self.callbacks is not None:
                self.callbacks.stream_create(room_id, stream)
        return stream

    def _list_locked(self, _action, params):
        room_id = params.get("RoomId", "")
        if not room_id:
            return 2, None
        if _blen(room_id) > MAX_LEN["RoomId"]:
            return 3, None
        room = self._rooms.get(room_id)
        items = []
        if room is not None:
            for s in room.streams.values():
                items.append({
                    "StreamId": s["stream_id"],
                    "UserId": s["user_id"],
                    "UserName": s["user_name"],
                    "CreateTime": s["create_time"],
                    "StreamNumberId": s["stream_number_id"],
                })
        return 0, {"StreamList": items}

    # ------------------------------------------------------------------ stream bans (media service)

    def _ban_locked(self, action, params):
        """Forbid/ResumeRTCStream(s): StreamId (single) or StreamId[] (1-20, batch) and Sequence."""
        batch = action.endswith("Streams")
        bad_code = 30006 if batch else 30009
        if batch:
            ids = params.get("StreamId[]")
            if not isinstance(ids, list) or not 1 <= len(ids) <= BAN_BATCH_MAX:
                return 30006, None
        else:
            ids = [params.get("StreamId")]
        prefix = "zegotest-%s-" % self.app_id
        for sid in ids:
            if not isinstance(sid, str) or not sid or _blen(sid) > MAX_LEN["StreamId"] or not _STREAM_ID_RE.match(sid):
                return bad_code, None
            if _is_test(params) and not sid.startswith(prefix):
                return bad_code, None
        seq = params.get("Sequence")
        if not isinstance(seq, str) or not _UINT_RE.match(seq):
            return SEQUENCE_CODE, None
        seq = int(seq)
        now = time.time()
        for sid in ids:
            last = self._sequences.get(sid)
            if last is not None and now - last[1] < SEQUENCE_WINDOW and seq <= last[0]:
                return SEQUENCE_CODE, None
        for sid in ids:
            self._sequences[sid] = (seq, now)
            if action.startswith("Forbid"):
                if sid not in self._banned:
                    self._banned[sid] = {"stream_id": sid, "since": now, "sequence": seq}
            else:
                self._banned.pop(sid, None)
        return 0, None

    def banned(self):
        """The banned stream IDs, oldest first, each {"stream_id", "since", "sequence"}."""
        with self._lock:
            return [dict(b) for b in self._banned.values()]

    def ban(self, stream_ids):
        """Ban stream IDs directly (test set-up), as if ForbidRTCStream had been called."""
        if not isinstance(stream_ids, list) or not all(isinstance(x, str) and x for x in stream_ids):
            raise SimulatorError("stream_ids must be a list of non-empty strings")
        with self._lock:
            now = time.time()
            for sid in stream_ids:
                self._banned.setdefault(sid, {"stream_id": sid, "since": now, "sequence": None})

    # ------------------------------------------------------------------ prohibition rules (room)

    def _rules_refused_locked(self, params, names):
        if not self._cfg["rules_enabled"]:
            return 9
        for name in names:
            value = params.get(name)
            if not isinstance(value, str) or not value:
                return 2
            if _blen(value) > MAX_LEN[name]:
                return 3
        return 0

    def _rule_out(self, rule):
        if self._cfg["rule_time"] == "timestamp":
            effective = rule["create_time"] + rule["duration"]
        else:
            effective = rule["duration"]
        return {"StreamId": rule["stream_id"], "DisableAudio": rule["disable_audio"],
                "DisableVideo": rule["disable_video"], "CreateTime": rule["create_time"], "EffectiveTime": effective}

    def _rule_set_locked(self, _action, params):
        code = self._rules_refused_locked(params, ("RoomId", "StreamId"))
        if code:
            return code, None
        flags = []
        for name in ("DisableAudio", "DisableVideo"):
            value = params.get(name, "0")
            if value not in ("0", "1"):
                return 2, None
            flags.append(int(value))
        if not any(flags):
            return 2, None
        duration = params.get("EffectiveTime")
        if duration is None or duration == "":
            duration = RULE_DEFAULT_DURATION
        elif not _UINT_RE.match(duration) or int(duration) < 1:
            return 2, None
        duration = min(int(duration), RULE_MAX_DURATION)
        now = int(time.time())
        key = (params["RoomId"], params["StreamId"])
        active = sum(1 for k, r in self._rules.items() if k != key and r["create_time"] + r["duration"] > now)
        if active >= MAX_ACTIVE_RULES:
            return 50123, None
        self._rules.pop(key, None)
        self._rules[key] = {"room_id": key[0], "stream_id": key[1], "disable_audio": flags[0],
                            "disable_video": flags[1], "create_time": now, "duration": duration}
        return 0, None

    def _rule_describe_locked(self, _action, params):
        code = self._rules_refused_locked(params, ("RoomId",))
        if code:
            return code, None
        ids = params.get("StreamId[]")
        if not isinstance(ids, list) or not 1 <= len(ids) <= RULE_DESCRIBE_MAX or not all(ids):
            return 2, None
        if any(_blen(sid) > MAX_LEN["StreamId"] for sid in ids):
            return 3, None
        room_id = params["RoomId"]
        items = []
        for sid in ids:
            rule = self._rules.get((room_id, sid))
            if rule is None:  # ZEGO: an ID without a rule comes back with every field 0
                items.append({"StreamId": sid, "DisableAudio": 0, "DisableVideo": 0, "CreateTime": 0, "EffectiveTime": 0})
            else:  # expired rules are listed too
                items.append(self._rule_out(rule))
        return 0, {"RoomId": room_id, "ForbidStreamRuleList": items}

    def _rule_del_locked(self, _action, params):
        code = self._rules_refused_locked(params, ("RoomId", "StreamId"))
        if code:
            return code, None
        if self._rules.pop((params["RoomId"], params["StreamId"]), None) is None:
            return self._cfg["rule_missing_code"], None
        return 0, None

    def rules(self):
        """Every rule, expired ones included: {"room_id", "stream_id", "disable_audio", "disable_video",
        "create_time", "duration", "expires_at", "active"}."""
        now = time.time()
        with self._lock:
            return [dict(r, expires_at=r["create_time"] + r["duration"],
                         active=r["create_time"] + r["duration"] > now) for r in self._rules.values()]

    def add_rules(self, rules):
        """Add rules directly (test set-up); each needs room_id, stream_id and may set disable_audio,
        disable_video (0/1, default 1 and 0), create_time (Unix s, default now) and duration (default 21600)."""
        if not isinstance(rules, list):
            raise SimulatorError("rules must be a list")
        checked = []
        now = int(time.time())
        for item in rules:
            if not isinstance(item, dict) or not all(isinstance(item.get(k), str) and item.get(k) for k in ("room_id", "stream_id")):
                raise SimulatorError("every rule needs non-empty string room_id and stream_id")
            unknown = set(item) - set(("room_id", "stream_id", "disable_audio", "disable_video", "create_time", "duration"))
            if unknown:
                raise SimulatorError("unknown rule fields: %s" % ", ".join(sorted(unknown)))
            rule = {"room_id": item["room_id"], "stream_id": item["stream_id"],
                    "disable_audio": int(item.get("disable_audio", 1)), "disable_video": int(item.get("disable_video", 0)),
                    "create_time": int(item.get("create_time", now)), "duration": int(item.get("duration", RULE_DEFAULT_DURATION))}
            checked.append(rule)
        with self._lock:
            for rule in checked:
                key = (rule["room_id"], rule["stream_id"])
                self._rules.pop(key, None)
                self._rules[key] = rule

    @staticmethod
    def _too_long(params, names):
        for name in names:
            value = params.get(name)
            if isinstance(value, str) and _blen(value) > MAX_LEN[name]:
                return True
        return False

    def _open_room(self, room_id):
        """The room if it exists for ZEGO: it has users (an empty room is destroyed)."""
        room = self._rooms.get(room_id)
        return room if room is not None and room.users else None

    def _close_room_locked(self, _action, params):
        room_id = params.get("RoomId", "")
        if not isinstance(room_id, str) or not room_id:
            return 2, None
        callback = params.get("RoomCloseCallback")
        if callback is not None and callback.lower() not in ("true", "false"):
            return 2, None
        if self._too_long(params, ("RoomId", "CustomReason")):
            return 3, None
        if self._open_room(room_id) is None:
            return 5018, None
        del self._rooms[room_id]
        return 0, None

    def _kickout_locked(self, _action, params):
        room_id = params.get("RoomId", "")
        user_ids = params.get("UserId[]") or []
        if not isinstance(room_id, str) or not room_id or not user_ids or any(not u for u in user_ids):
            return 2, None
        if len(user_ids) > KICKOUT_MAX_USERS:
            return 50011, None
        if self._too_long(params, ("RoomId", "CustomReason")) or any(_blen(u) > MAX_LEN["UserId"] for u in user_ids):
            return 3, None
        room = self._open_room(room_id)
        if room is None:
            return 50001, None
        for user_id in user_ids:
            if room.users.pop(user_id, None) is not None:
                # a kicked user's streams end with them
                for sid in [sid for sid, s in room.streams.items() if s["user_id"] == user_id]:
                    del room.streams[sid]
        return 0, None

    def _describe_users_locked(self, _action, params):
        room_id = params.get("RoomId", "")
        user_ids = params.get("UserId[]") or []
        if not isinstance(room_id, str) or not room_id or not user_ids or len(user_ids) > DESCRIBE_USERS_MAX:
            return 2, None
        if self._too_long(params, ("RoomId",)) or any(_blen(u) > MAX_LEN["UserId"] for u in user_ids):
            return 3, None
        room = self._open_room(room_id)
        if room is None:
            return 50001, None
        items = []
        for user_id in user_ids:
            user = room.users.get(user_id)
            items.append({"UserId": user_id, "Status": 1 if user else 0,
                          "LoginTime": user["login_time"] if user else 0, "UserRole": user["user_role"] if user else 0})
        return 0, {"UserStatusList": items}

    def _user_num_locked(self, _action, params):
        room_ids = params.get("RoomId[]") or []
        if not room_ids or len(room_ids) > USER_NUM_MAX_ROOMS or any(not r for r in room_ids):
            return 2, None
        if any(_blen(r) > MAX_LEN["RoomId"] for r in room_ids):
            return 3, None
        items = []
        for room_id in room_ids:
            room = self._rooms.get(room_id)
            users = list(room.users.values()) if room else []
            items.append({"RoomId": room_id, "UserCount": len(users),
                          "AdminUserCount": len([u for u in users if u["admin"]])})
        return 0, {"UserCountList": items}

    def _user_list_locked(self, _action, params):
        room_id = params.get("RoomId", "")
        if not isinstance(room_id, str) or not room_id:
            return 2, None
        if self._too_long(params, ("RoomId",)):
            return 3, None
        mode, limit, marker = params.get("Mode", "0"), params.get("Limit", "0"), params.get("Marker", "")
        if mode not in ("0", "1") or not _UINT_RE.match(limit or "0") or int(limit or 0) > USER_LIST_MAX:
            return 2, None
        limit = int(limit or 0) or USER_LIST_MAX
        # the marker is opaque to callers: here "m" and the offset of the next page
        if marker and not re.match(r"^m[0-9]+$", marker):
            return 2, None
        offset = int(marker[1:]) if marker else 0
        room = self._rooms.get(room_id)
        users = sorted(room.users.values(), key=lambda u: u["login_time"], reverse=mode == "1") if room else []
        page = users[offset:offset + limit]
        following = "m%d" % (offset + limit) if offset + limit < len(users) else ""
        return 0, {"Marker": following, "UserList": [
            {"UserId": u["user_id"], "UserName": u["user_name"], "UserRole": u["user_role"]} for u in page]}

    # ------------------------------------------------------------------ room messages

    def _message_locked(self, action, params):
        """SendBroadcastMessage / SendBarrageMessage (RoomId, UserId, UserName, MessageCategory, MessageContent)
        and SendCustomCommand (RoomId, FromUserId, ToUserId[] 0-10, MessageContent)."""
        command = action == "SendCustomCommand"
        sender_key = "FromUserId" if command else "UserId"
        room_id, sender = params.get("RoomId", ""), params.get(sender_key, "")
        if not isinstance(room_id, str) or not room_id or not isinstance(sender, str) or not sender:
            return 2, None
        targets = None
        if command:
            targets = params.get("ToUserId[]")
            if targets is not None and (len(targets) > COMMAND_MAX_TARGETS or any(not t for t in targets)):
                return 2, None
        elif params.get("MessageCategory") not in MESSAGE_CATEGORIES:
            return 2, None
        if self._too_long(params, ("RoomId", sender_key, "UserName")) or \
                any(_blen(t) > MAX_LEN["UserId"] for t in targets or ()):
            return 3, None
        content = params.get("MessageContent")
        if not content:
            return 1008, None
        if _blen(content) > MESSAGE_MAX_BYTES:
            return 50012, None
        room = self._open_room(room_id)
        if room is None:
            return self._cfg["message_missing_room_code"], None
        # a client logged in with the sender's UserId does not receive the message
        if targets is None:
            recipients = [u for u in room.users if u != sender]
        else:
            recipients = [u for u in room.users if u in targets and u != sender]
        data, message_id = None, None
        if action == "SendBroadcastMessage":
            message_id = self._message_ids[room_id] = self._message_ids.get(room_id, 0) + 1
            data = {"MessageId": message_id}
        elif action == "SendBarrageMessage":
            self._message_ids[room_id] = self._message_ids.get(room_id, 0) + 1
            message_id = "1_%d_%d" % (int(time.time() * 1000), self._message_ids[room_id])
            data = {"MessageId": message_id}
        self._message_seq += 1
        self._messages.append({
            "seq": self._message_seq, "time": time.time(), "action": action,
            "kind": {"SendBroadcastMessage": "broadcast", "SendBarrageMessage": "barrage"}.get(action, "command"),
            "room_id": room_id, "user_id": sender, "user_name": params.get("UserName"),
            "category": None if command else int(params["MessageCategory"]), "content": content,
            "to_user_ids": None if targets is None else list(targets), "recipients": recipients,
            "message_id": message_id,
        })
        return 0, data

    def messages(self, room_id=None):
        """The messages sent, oldest first (of ``room_id`` only, if given): {"seq", "time", "action", "kind"
        (broadcast, barrage, command), "room_id", "user_id" (the sender), "user_name", "category" (1 system,
        2 chat; None for a command), "content", "to_user_ids" (None: the whole room), "recipients" (the users
        in the room it reached), "message_id" (None for a command)}."""
        with self._lock:
            return [dict(m) for m in self._messages if room_id is None or m["room_id"] == room_id]

    def clear_messages(self):
        with self._lock:
            self._messages.clear()

    def handle_api(self, handler, query):
        """Answer one API request on ``handler`` (a _Handler). It counts as pending until its log entry is
        written (``pending()``), so a test can wait for requests a client gave up on."""
        with self._lock:
            self._pending += 1
        logged = []
        try:
            self._handle_api(handler, query, logged)
        finally:
            if not logged:
                with self._lock:
                    self._pending -= 1

    def _logged_locked(self, logged):
        logged.append(True)
        self._pending -= 1

    def pending(self):
        """How many API requests are being answered whose log entry is not written yet."""
        with self._lock:
            return self._pending

    def _handle_api(self, handler, query, logged):
        received = time.time()
        params = parse_params(query)
        action = params.get("Action", "")
        with self._lock:
            cfg = self._cfg
            request_id = str(next(self._request_ids))
            latency = cfg["latency_ms"] / 1000.0
            slow = cfg["slow_ms"] / 1000.0
            code, _msg = check_public_params(params, self.app_id, self._secret, received + cfg["clock_offset"])
            fault = None
            if code == 0:
                code = self._rate_limited_locked(action, params, time.monotonic())
                if code == 0:
                    fault = self._pick_fault_locked(action, params)
            if code or fault not in (None, "slow", "drop_after"):
                self._record_locked(params, action, _logged_code(code, fault), _fault_http(fault), fault, request_id, received)
                self._logged_locked(logged)
        if code or fault not in (None, "slow", "drop_after"):
            if latency:
                time.sleep(latency)
            self._answer(handler, code, fault, request_id)
            return
        if fault == "slow" and slow:
            # ZEGO answers after the client's timeout: nothing is sent before the client gives up, however late
            # a loaded machine lets it notice (at most slow_ms: a client that waits longer gets the answer)
            handler.wait_gone(slow)
        with self._lock:
            code, data = self._apply_locked(action, params)
            self._record_locked(params, action, code, None if fault == "drop_after" else 200, fault, request_id, received)
            self._logged_locked(logged)
        if latency:
            time.sleep(latency)
        if fault == "drop_after":
            handler.drop()
            return
        body = {"Code": code, "Message": _message(code), "RequestId": request_id}
        if data is not None:
            body["Data"] = data
        handler.send_json(200, body)

    @staticmethod
    def _answer(handler, code, fault, request_id):
        if fault == "drop_before":
            handler.drop()
        elif fault in ("http502", "http503"):
            status = int(fault[4:])
            reason = handler.responses.get(status, ("",))[0]
            html = _HTML_5XX.format(code=status, reason=reason).encode("ascii")
            handler.send_raw(status, html, "text/html")
        elif fault == "garbage":
            handler.send_raw(200, _GARBAGE, "application/json")
        else:
            code = _fault_code(fault) or code
            handler.send_json(200, {"Code": code, "Message": _message(code), "RequestId": request_id})

    # ------------------------------------------------------------------ admin API

    def admin(self, method, path, query, body):
        """Handle an admin request; returns (http_status, json_object)."""
        try:
            payload = json.loads(body.decode("utf-8")) if body.strip() else None
        except ValueError:
            return 400, {"error": "body is not valid JSON"}
        route = path.rstrip("/")
        handlers = {
            "/_sim/state": self._admin_state,
            "/_sim/rooms": self._admin_rooms,
            "/_sim/reset": self._admin_reset,
            "/_sim/log": self._admin_log,
            "/_sim/faults": self._admin_faults,
            "/_sim/config": self._admin_config,
            "/_sim/stats": self._admin_stats,
            "/_sim/health": self._admin_health,
            "/_sim/bans": self._admin_bans,
            "/_sim/rules": self._admin_rules,
            "/_sim/publish": self._admin_publish,
            "/_sim/users": self._admin_users,
            "/_sim/callbacks": self._admin_callbacks,
            "/_sim/messages": self._admin_messages,
            "/_sim/censor": self._admin_censor,
        }
        func = handlers.get(route)
        if func is None:
            return 404, {"error": "unknown admin endpoint %s" % path}
        try:
            return func(method, parse_qs(query), payload)
        except SimulatorError as exc:
            return 400, {"error": str(exc)}
        except (TypeError, ValueError, AttributeError) as exc:
            return 400, {"error": "bad request: %s" % exc}

    @staticmethod
    def _rooms_from(payload, required):
        if payload is None:
            if required:
                raise SimulatorError('body must be {"rooms": {...}}')
            return None
        if not isinstance(payload, dict) or "rooms" not in payload:
            raise SimulatorError('body must be {"rooms": {...}}')
        return payload["rooms"] or {}

    def _admin_state(self, method, _query, payload):
        if method == "GET":
            return 200, self.state()
        if method == "PUT":
            self.set_state(self._rooms_from(payload, True))
            return 200, self.state()
        return 405, {"error": "use GET or PUT"}

    def _admin_rooms(self, method, _query, payload):
        if method != "POST":
            return 405, {"error": "use POST"}
        self.seed(self._rooms_from(payload, True))
        return 200, self.state()

    def _admin_reset(self, method, _query, payload):
        if method != "POST":
            return 405, {"error": "use POST"}
        self.reset(self._rooms_from(payload, False))
        return 200, self.state()

    def _admin_log(self, method, query, _payload):
        if method == "GET":
            since = int(query.get("since", ["0"])[0] or 0)
            return 200, {"entries": self.log(since), "pending": self.pending()}
        if method == "DELETE":
            self.clear_log()
            return 200, {"entries": []}
        return 405, {"error": "use GET or DELETE"}

    def _admin_faults(self, method, _query, payload):
        if method == "GET":
            return 200, {"faults": self.faults()}
        if method == "DELETE":
            self.clear_faults()
            return 200, {"faults": []}
        if method == "POST":
            if not isinstance(payload, dict) or "kind" not in payload:
                raise SimulatorError('body must be {"kind": ..., "count": N, "action": ..., "stream_id": ..., "room_id": ...}')
            unknown = set(payload) - set(("kind", "count", "action", "stream_id", "room_id"))
            if unknown:
                raise SimulatorError("unknown fault fields: %s" % ", ".join(sorted(unknown)))
            self.queue_fault(payload["kind"], payload.get("count", 1), payload.get("action") or "DeleteStream",
                             payload.get("stream_id"), payload.get("room_id"))
            return 200, {"faults": self.faults()}
        return 405, {"error": "use GET, POST or DELETE"}

    def _admin_config(self, method, _query, payload):
        if method == "GET":
            return 200, self.config()
        if method == "POST":
            if not isinstance(payload, dict):
                raise SimulatorError("body must be a JSON object")
            return 200, self.configure(**payload)
        return 405, {"error": "use GET or POST"}

    def _admin_stats(self, method, _query, _payload):
        if method != "GET":
            return 405, {"error": "use GET"}
        return 200, self.stats()

    def _admin_bans(self, method, _query, payload):
        if method == "GET":
            return 200, {"banned": self.banned()}
        if method == "POST":
            if not isinstance(payload, dict) or "stream_ids" not in payload:
                raise SimulatorError('body must be {"stream_ids": [...]}')
            self.ban(payload["stream_ids"])
            return 200, {"banned": self.banned()}
        if method == "DELETE":
            with self._lock:
                self._banned = collections.OrderedDict()
            return 200, {"banned": []}
        return 405, {"error": "use GET, POST or DELETE"}

    def _admin_rules(self, method, _query, payload):
        if method == "GET":
            return 200, {"rules": self.rules()}
        if method == "POST":
            if not isinstance(payload, dict) or "rules" not in payload:
                raise SimulatorError('body must be {"rules": [...]}')
            self.add_rules(payload["rules"])
            return 200, {"rules": self.rules()}
        if method == "DELETE":
            with self._lock:
                self._rules = collections.OrderedDict()
            return 200, {"rules": []}
        return 405, {"error": "use GET, POST or DELETE"}

    def _admin_users(self, method, query, payload):
        if method == "GET":
            room = query.get("room_id", [None])[0]
            return 200, {"users": self.users(room)}
        if not isinstance(payload, dict) or not isinstance(payload.get("room_id"), str):
            raise SimulatorError('body must be {"room_id": ..., "users": [...]} (POST) or {"room_id": ..., "user_ids": [...]} (DELETE)')
        if method == "POST":
            self.add_users(payload["room_id"], payload.get("users") or [])
            return 200, {"users": self.users(payload["room_id"])}
        if method == "DELETE":
            removed = self.remove_users(payload["room_id"], payload.get("user_ids") or [])
            return 200, {"removed": removed, "users": self.users(payload["room_id"])}
        return 405, {"error": "use GET, POST or DELETE"}

    def _admin_health(self, method, _query, _payload):
        if method != "GET":
            return 405, {"error": "use GET"}
        return 200, {"ok": True}

    def _admin_publish(self, method, _query, payload):
        if method != "POST":
            return 405, {"error": "use POST"}
        if not isinstance(payload, dict) or not payload.get("room_id") or not payload.get("stream_id"):
            raise SimulatorError('body must be {"room_id": ..., "stream_id": ..., "user_id": ..., "user_name": ...}')
        unknown = set(payload) - set(("room_id", "stream_id", "user_id", "user_name"))
        if unknown:
            raise SimulatorError("unknown publish fields: %s" % ", ".join(sorted(unknown)))
        try:
            stream = self.publish(payload["room_id"], payload["stream_id"], payload.get("user_id") or "",
                                  payload.get("user_name") or "")
        except StreamBanned as exc:
            return 403, {"error": str(exc), "code": BANNED_CODE}
        except SimulatorError as exc:
            if "already exists" in str(exc):
                return 409, {"error": str(exc)}
            raise
        return 200, {"stream": stream, "callback": self.callbacks is not None}

    def _admin_messages(self, method, query, _payload):
        if method == "GET":
            return 200, {"messages": self.messages(query.get("room_id", [None])[0])}
        if method == "DELETE":
            self.clear_messages()
            return 200, {"messages": []}
        return 405, {"error": "use GET or DELETE"}

    def _admin_censor(self, method, _query, payload):
        if method != "POST":
            return 405, {"error": "use POST"}
        if self.callbacks is None:
            return 404, {"error": "callbacks are off (start with --callback-url and --callback-secret)"}
        if not isinstance(payload, dict) or not payload.get("stream_id") or not payload.get("risk_level"):
            raise SimulatorError('body must be {"event", "room_id", "stream_id", "risk_level", "detail"}')
        unknown = set(payload) - set(("event", "room_id", "stream_id", "risk_level", "detail"))
        if unknown:
            raise SimulatorError("unknown censor fields: %s" % ", ".join(sorted(unknown)))
        if payload.get("detail") is not None and not isinstance(payload["detail"], dict):
            raise SimulatorError("detail must be an object")
        self.callbacks.censor_result(payload.get("event") or CENSOR_EVENTS[0], payload.get("room_id") or "",
                                     payload["stream_id"], payload["risk_level"], payload.get("detail"))
        return 200, {"sent": True}

    def _admin_callbacks(self, method, _query, _payload):
        if self.callbacks is None:
            return 404, {"error": "callbacks are off (start with --callback-url and --callback-secret)"}
        if method == "GET":
            return 200, {"deliveries": self.callbacks.log(), "pending": self.callbacks.pending()}
        if method == "DELETE":
            self.callbacks.clear_log()
            return 200, {"deliveries": [], "pending": self.callbacks.pending()}
        return 405, {"error": "use GET or DELETE"}


def parse_params(query):
    """Query parameters as a dict: the first value of a plain name; every value, in order, of a
    repeated array name such as ``UserId[]`` (kept under that name, brackets included)."""
    params = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key.endswith("[]"):
            params.setdefault(key, []).append(value)
        elif key not in params:
            params[key] = value
    return params


def _is_test(params):
    return params.get("IsTest", "").lower() == "true"


def _fault_code(fault):
    if fault and fault.startswith("code"):
        return int(fault[4:])
    return None


def _logged_code(code, fault):
    if fault is None:
        return code
    if fault.startswith("code"):
        return int(fault[4:])
    return None


def _fault_http(fault):
    if fault == "drop_before":
        return None
    if fault in ("http502", "http503"):
        return int(fault[4:])
    return 200


def load_state_file(path):
    """Read a ``{"rooms": {...}}`` seed file."""
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    if not isinstance(data, dict) or not isinstance(data.get("rooms", {}), dict):
        raise SimulatorError('%s: expected {"rooms": {room: [streams]}}' % path)
    return data.get("rooms", {})


def build_parser():
    parser = argparse.ArgumentParser(description="Local simulator of ZEGO's RTC server API.")
    parser.add_argument("--port", type=int, default=0, help="TCP port (0 = pick a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--app-id", type=int, required=True, help="the AppID the simulator accepts")
    parser.add_argument("--secret", required=True, help="the ServerSecret used to check signatures")
    parser.add_argument("--state", help="JSON file seeding rooms: {\"rooms\": {room: [streams]}}")
    parser.add_argument("--rate", type=int, default=10, help="DeleteStream/AddStream requests per sliding second (0 = unlimited)")
    parser.add_argument("--latency-ms", type=float, default=0, help="delay every API answer by this many ms")
    parser.add_argument("--faults", default=None, help="random faults, e.g. 'code124=0.1,drop_after=0.05;seed=7;actions=DeleteStream'")
    parser.add_argument("--tls-cert", help="PEM certificate (chain) for HTTPS")
    parser.add_argument("--tls-key", help="PEM private key for HTTPS")
    parser.add_argument("--missing-room-code", type=int, default=138, choices=MISSING_ROOM_CODES,
                        help="DeleteStream code for a room that does not exist (default 138)")
    parser.add_argument("--list-room-interval", type=float, default=10.0,
                        help="min seconds between DescribeSimpleStreamList calls per room (0 disables)")
    parser.add_argument("--list-rate", type=int, default=50, help="DescribeSimpleStreamList calls per sliding second (0 = unlimited)")
    parser.add_argument("--clock-offset", type=float, default=0.0, help="seconds added to the server clock")
    parser.add_argument("--slow-ms", type=float, default=5000,
                        help="longest delay of the 'slow' fault in ms (it ends when the client closes the connection)")
    parser.add_argument("--request-log", help="also append log entries as JSON lines to this file")
    parser.add_argument("--rules-disabled", action="store_true",
                        help="prohibition rules not enabled for the AppID: Set/Describe/DelForbidStreamRule answer 9")
    parser.add_argument("--rule-time", default="duration", choices=RULE_TIME_MODES,
                        help="DescribeForbidStreamRules EffectiveTime: the rule's duration (default) or its end timestamp")
    parser.add_argument("--rule-missing-code", type=int, default=0, choices=(0, 50124),
                        help="DelForbidStreamRule answer for a rule that does not exist (default 0)")
    parser.add_argument("--message-missing-room-code", type=int, default=104, choices=MESSAGE_MISSING_ROOM_CODES,
                        help="SendBroadcastMessage/SendBarrageMessage/SendCustomCommand code for a room that does not exist")
    parser.add_argument("--callback-url", help="send signed ZEGO server callbacks (stream_create, stream_close) here")
    parser.add_argument("--callback-secret", help="the CallbackSecret that signs the callbacks")
    parser.add_argument("--callback-retry-scale", type=float, default=1.0,
                        help="multiply ZEGO's callback retry delays (2, 4, 8, 16, 32 s) by this (tests: 0.01)")
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not _is_loopback(args.host):
        parser.error("--host must be a loopback address (127.0.0.0/8, ::1 or localhost)")
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    if bool(args.callback_url) != bool(args.callback_secret):
        parser.error("--callback-url and --callback-secret go together")
    try:
        rooms = load_state_file(args.state) if args.state else None
        sim = Simulator(app_id=args.app_id, secret=args.secret, host=args.host, port=args.port,
                        rate=args.rate, latency_ms=args.latency_ms, faults=args.faults,
                        tls_cert=args.tls_cert, tls_key=args.tls_key,
                        missing_room_code=args.missing_room_code,
                        list_room_interval=args.list_room_interval, list_rate=args.list_rate,
                        clock_offset=args.clock_offset, slow_ms=args.slow_ms,
                        request_log=args.request_log, rooms=rooms, rules_enabled=not args.rules_disabled,
                        rule_time=args.rule_time, rule_missing_code=args.rule_missing_code,
                        callback_url=args.callback_url, callback_secret=args.callback_secret,
                        callback_retry_scale=args.callback_retry_scale,
                        message_missing_room_code=args.message_missing_room_code)
    except (SimulatorError, OSError, ValueError) as exc:
        parser.error(str(exc))
    stop = threading.Event()

    def _on_signal(_signum, _frame):
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        sim.start()
    except (OSError, ssl.SSLError) as exc:
        sys.stderr.write("zego_sim: cannot start: %s\n" % exc)
        return 1
    sys.stdout.write(sim.base_url + "\n")
    sys.stdout.flush()
    while not stop.wait(0.5):
        pass
    sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
