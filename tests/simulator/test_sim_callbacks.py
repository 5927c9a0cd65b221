# -*- coding: utf-8 -*-
# Copyright: Contributors to the zego.rtc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The simulator's signed server callbacks (--callback-url): what it sends when, how it is signed (checked here
with hashlib and ZEGO's official test vector, independently of the simulator), and ZEGO's retry schedule."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import hashlib
import json
import os
import subprocess
import sys
import threading

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from test_zego_sim import APP_ID, SECRET, Client
from zego_sim import CALLBACK_RETRY_DELAYS, Simulator, callback_signature

HERE = os.path.dirname(os.path.abspath(__file__))
CALLBACK_SECRET = "cb-0123456789abcdef"
SCALE = 0.01
STREAM_CREATE_FIELDS = {
    "event", "appid", "timestamp", "nonce", "signature", "room_id", "room_session_id", "user_id", "user_name",
    "channel_id", "stream_id", "stream_alias", "stream_sid", "title", "stream_attr", "stream_seq", "create_time",
    "create_time_ms", "extra_info", "recreate", "publish_id", "publish_name", "rtmp_url", "hls_url", "hdl_url",
    "pic_url",
}
STREAM_CLOSE_FIELDS = {
    "event", "appid", "timestamp", "nonce", "signature", "room_id", "room_session_id", "user_id", "user_name",
    "channel_id", "stream_id", "stream_alias", "stream_sid", "stream_seq", "type", "third_define_data",
    "create_time_ms", "destroy_timemillis",
}


def zego_signature(secret, timestamp, nonce):
    return hashlib.sha1("".join(sorted([secret, timestamp, nonce])).encode()).hexdigest()


class Receiver:
    """A callback endpoint that answers with scripted statuses (then 200) and records every request."""

    def __init__(self, statuses=()):
        self.statuses = list(statuses)
        self.received = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.received.append({"path": self.path, "type": self.headers["Content-Type"],
                                              "body": json.loads(body)})
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):  # pylint: disable=arguments-differ
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/zego/callback" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def bodies(self):
        with self.lock:
            return [r["body"] for r in self.received]


def make_sim(url, **kw):
    return Simulator(app_id=APP_ID, secret=SECRET, rate=0, list_room_interval=0, callback_url=url,
                     callback_secret=CALLBACK_SECRET, callback_retry_scale=SCALE, **kw)


def test_official_callback_test_vector():
    assert callback_signature("secret", "1470820198", "123412") == "5bd59fd62953a8059fb7eaba95720f66d19e4517"


def test_publish_sends_a_signed_stream_create():
    with Receiver() as rec, make_sim(rec.url) as sim:
        client = Client(sim.base_url)
        status, answer = client.admin("POST", "publish", {"room_id": "room1", "stream_id": "s1", "user_id": "u1",
                                                          "user_name": "Ann"})
        assert status == 200 and answer["callback"] is True
        assert sim.callbacks.wait_idle(30)
        assert [s["stream_id"] for s in sim.state()["rooms"]["room1"]] == ["s1"]
        (body,) = rec.bodies()
        assert rec.received[0]["type"] == "application/json"
        assert set(body) == STREAM_CREATE_FIELDS
        assert body["event"] == "stream_create"
        assert body["signature"] == zego_signature(CALLBACK_SECRET, body["timestamp"], body["nonce"])
        assert body["appid"] == str(APP_ID)
        assert (body["room_id"], body["stream_id"], body["user_id"], body["user_name"]) == ("room1", "s1", "u1", "Ann")
        for key in STREAM_CREATE_FIELDS - {"rtmp_url", "hls_url", "hdl_url", "pic_url"}:
            assert isinstance(body[key], str), key
        assert body["timestamp"].isdigit() and body["create_time_ms"].isdigit()
        # publishing it again is refused and sends nothing
        assert client.admin("POST", "publish", {"room_id": "room1", "stream_id": "s1", "user_id": "u1"})[0] == 409
        status, log = client.admin("GET", "callbacks")
        assert status == 200
        assert [(d["event"], d["attempt"], d["status"], d["outcome"]) for d in log["deliveries"]] == \
            [("stream_create", 1, 200, "delivered")]
        assert "signature" not in log["deliveries"][0]
        assert len(rec.bodies()) == 1


def test_add_stream_and_delete_stream():
    with Receiver() as rec, make_sim(rec.url, rooms={"room1": {"users": ["u1"]}}) as sim:
        client = Client(sim.base_url)
        assert client.code("AddStream", RoomId="room1", UserId="u9", StreamId="s9") == 0
        assert sim.callbacks.wait_idle(30)
        assert client.delete("room1", "s9") == 0
        assert sim.callbacks.wait_idle(30)
        # already absent (138): no callback
        assert client.delete("room1", "s9") == 138
        assert sim.callbacks.wait_idle(30)
        bodies = rec.bodies()
        assert [b["event"] for b in bodies] == ["stream_create", "stream_close"]
        close = bodies[1]
        assert set(close) == STREAM_CLOSE_FIELDS
        assert close["type"] == "100"
        assert (close["room_id"], close["stream_id"], close["user_id"]) == ("room1", "s9", "u9")
        assert close["room_session_id"] == bodies[0]["room_session_id"]
        assert int(close["stream_seq"]) > int(bodies[0]["stream_seq"])
        assert close["signature"] == zego_signature(CALLBACK_SECRET, close["timestamp"], close["nonce"])
        assert close["nonce"] != bodies[0]["nonce"]


def test_seeded_streams_send_nothing():
    with Receiver() as rec, make_sim(rec.url, rooms={"room1": [{"stream_id": "s1", "user_id": "u1"}]}) as sim:
        Client(sim.base_url).admin("POST", "rooms", {"rooms": {"room2": [{"stream_id": "s2"}]}})
        assert sim.callbacks.wait_idle(30)
        assert rec.bodies() == []


def test_non_2xx_answers_are_retried_on_zegos_schedule():
    with Receiver(statuses=[500, 401]) as rec, make_sim(rec.url) as sim:
        sim.publish("room1", "s1", "u1")
        assert sim.callbacks.wait_idle(30)
        bodies = rec.bodies()
        assert len(bodies) == 3
        # a retry is the same callback: same timestamp, nonce and signature
        assert bodies[0] == bodies[1] == bodies[2]
        log = sim.callbacks.log()
        assert [(d["attempt"], d["status"], d["outcome"]) for d in log] == \
            [(1, 500, "retry"), (2, 401, "retry"), (3, 200, "delivered")]
        gaps = [b["at"] - a["at"] for a, b in zip(log, log[1:])]
        assert gaps[0] >= CALLBACK_RETRY_DELAYS[0] * SCALE
        assert gaps[1] >= CALLBACK_RETRY_DELAYS[1] * SCALE


def test_a_callback_is_dropped_after_five_retries():
    with Receiver(statuses=[503] * 10) as rec, make_sim(rec.url) as sim:
        sim.publish("room1", "s1", "u1")
        assert sim.callbacks.wait_idle(30)
        assert len(rec.bodies()) == 1 + len(CALLBACK_RETRY_DELAYS) == 6
        log = sim.callbacks.log()
        assert [d["outcome"] for d in log] == ["retry"] * 5 + ["dropped"]
        gaps = [b["at"] - a["at"] for a, b in zip(log, log[1:])]
        for gap, delay in zip(gaps, CALLBACK_RETRY_DELAYS):
            assert gap >= delay * SCALE


def test_unreachable_endpoint_is_retried():
    receiver = Receiver()
    url = receiver.url
    receiver.server.server_close()  # nothing listens there now
    with make_sim(url) as sim:
        sim.publish("room1", "s1", "u1")
        assert sim.callbacks.wait_idle(30)
        log = sim.callbacks.log()
        assert len(log) == 6
        assert all(d["status"] is None and d["error"] for d in log)


def test_callbacks_off_by_default():
    with Simulator(app_id=APP_ID, secret=SECRET) as sim:
        client = Client(sim.base_url)
        assert client.admin("GET", "callbacks")[0] == 404
        status, answer = client.admin("POST", "publish", {"room_id": "r", "stream_id": "s", "user_id": "u"})
        assert status == 200 and answer["callback"] is False
        assert [s["stream_id"] for s in sim.state()["rooms"]["r"]] == ["s"]


def test_cli_needs_url_and_secret_together():
    proc = subprocess.run([sys.executable, os.path.join(HERE, "zego_sim.py"), "--app-id", "1", "--secret", "x",
                           "--callback-url", "http://127.0.0.1:9/"], capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 2
    assert "--callback-url and --callback-secret go together" in proc.stderr


@pytest.mark.parametrize("body,error", [
    ({"room_id": "r"}, "body must be"),
    ({"room_id": "r", "stream_id": "s", "colour": "red"}, "unknown publish fields: colour"),
])
def test_publish_bad_input(body, error):
    with Simulator(app_id=APP_ID, secret=SECRET) as sim:
        status, answer = Client(sim.base_url).admin("POST", "publish", body)
        assert status == 400
        assert error in answer["error"]


CENSOR_COMMON = {"Event", "AppId", "Timestamp", "Nonce", "Signature"}


@pytest.mark.parametrize("event", ["censor_audio_v2_result", "censor_video_v2_audio_result"])
def test_censor_verdict_is_sent_with_capitalised_common_fields(event):
    with Receiver() as rec, make_sim(rec.url) as sim:
        client = Client(sim.base_url)
        status, answer = client.admin("POST", "censor", {"event": event, "room_id": "room1", "stream_id": "s1",
                                                         "risk_level": "REJECT", "detail": {"AudioText": "bad"}})
        assert status == 200, answer
        assert sim.callbacks.wait_idle(30)
        (body,) = rec.bodies()
        assert CENSOR_COMMON <= set(body)
        assert not {"event", "appid", "timestamp", "nonce", "signature"} & set(body)
        assert body["Event"] == event
        # AppId and Timestamp are JSON numbers in this shape; the signature is ZEGO's, over the timestamp's digits
        assert body["AppId"] == APP_ID and isinstance(body["Timestamp"], int)
        assert body["Signature"] == zego_signature(CALLBACK_SECRET, str(body["Timestamp"]), body["Nonce"])
        assert body["Code"] == 0 and body["TaskId"] and "s1" in body["ResultTaskId"]
        assert body["Detail"]["RiskLevel"] == "REJECT" and body["Detail"]["AudioText"] == "bad"
        assert "s1" in body["Detail"]["AudioUrl"]
        (entry,) = client.admin("GET", "callbacks")[1]["deliveries"]
        assert (entry["event"], entry["outcome"], entry["timestamp"]) == (event, "delivered", str(body["Timestamp"]))


@pytest.mark.parametrize("body,error", [
    ({"stream_id": "s1"}, "body must be"),
    ({"stream_id": "s1", "risk_level": "BAD"}, "risk_level must be PASS, REVIEW or REJECT"),
    ({"stream_id": "s1", "risk_level": "PASS", "event": "censor_image"}, "event must be one of"),
    ({"stream_id": "s1", "risk_level": "PASS", "mood": "x"}, "unknown censor fields: mood"),
])
def test_censor_bad_input_sends_nothing(body, error):
    with Receiver() as rec, make_sim(rec.url) as sim:
        status, answer = Client(sim.base_url).admin("POST", "censor", body)
        assert status == 400 and error in answer["error"]
        assert sim.callbacks.wait_idle(30)
        assert rec.bodies() == []
