# -*- coding: utf-8 -*-
# Copyright: Contributors to the zego.rtc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the ZEGO RTC server API simulator.

Signatures are computed here with hashlib, independently of the simulator
and of the collection's own code.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import hashlib
import http.client
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from urllib.parse import urlencode

import pytest
import requests

from zego_sim import ACTION_SPECS, Simulator, SimulatorError, check_public_params, parse_fault_spec, parse_params

HERE = os.path.dirname(os.path.abspath(__file__))
SIM_PATH = os.path.join(HERE, "zego_sim.py")

APP_ID = 1234567890
SECRET = "5f1e3c9a7b2d4e6f8091a2b3c4d5e6f7"

VECTOR = {
    "app_id": "12345",
    "nonce": "4fd24687296dd9f3",
    "secret": "9193cc662a4c0ec135ec71fb57194b38",
    "timestamp": "1615186943",
    "signature": "43e5cfcca828314675f91b001390566a",
}


def sign(app_id, nonce, secret, timestamp):
    return hashlib.md5(("%s%s%s%s" % (app_id, nonce, secret, timestamp)).encode("utf-8")).hexdigest()


def public(app_id=APP_ID, secret=SECRET, timestamp=None, nonce=None):
    timestamp = str(int(time.time())) if timestamp is None else str(timestamp)
    nonce = nonce or secrets.token_hex(8)
    return {
        "AppId": str(app_id),
        "SignatureNonce": nonce,
        "Timestamp": timestamp,
        "Signature": sign(app_id, nonce, secret, timestamp),
        "SignatureVersion": "2.0",
    }


class Client:
    def __init__(self, base_url, verify=True, app_id=APP_ID, secret=SECRET):
        self.base_url = base_url
        self.session = requests.Session()
        self.verify = verify
        self.app_id = app_id
        self.secret = secret
        self.sent = []

    def raw(self, params, path="/"):
        # verify is passed per request: a session default loses to REQUESTS_CA_BUNDLE.
        return self.session.get(self.base_url + path, params=params, timeout=10, verify=self.verify)

    def call(self, action, **biz):
        params = public(self.app_id, self.secret)
        self.sent.append(dict(params))
        params["Action"] = action
        params.update(biz)
        return self.raw(params)

    def api(self, action, **biz):
        resp = self.call(action, **biz)
        assert resp.status_code == 200
        body = resp.json()
        assert set(("Code", "Message", "RequestId")) <= set(body)
        return body

    def code(self, action, **biz):
        return self.api(action, **biz)["Code"]

    def delete(self, room, stream, user="Server-Administrator", **extra):
        return self.code("DeleteStream", RoomId=room, UserId=user, StreamId=stream, **extra)

    def admin(self, method, path, body=None):
        resp = self.session.request(method, self.base_url + "/_sim/" + path, json=body, timeout=10, verify=self.verify)
        return resp.status_code, resp.json()


ROOMS = {
    "room1": [
        {"stream_id": "s1", "user_id": "u1", "user_name": "Ann"},
        {"stream_id": "s2", "user_id": "u2"},
    ],
    "room2": [{"stream_id": "t1", "user_id": "u3"}],
}


@pytest.fixture
def sim():
    with Simulator(app_id=APP_ID, secret=SECRET, rate=0, list_room_interval=0, slow_ms=300, rooms=ROOMS) as server:
        yield server


def streams(sim, room):
    return [s["stream_id"] for s in sim.state()["rooms"][room]]


# ---------------------------------------------------------------- signature and public parameters


def test_signature_test_vector_accepted():
    params = {
        "AppId": VECTOR["app_id"], "SignatureNonce": VECTOR["nonce"], "Timestamp": VECTOR["timestamp"],
        "Signature": VECTOR["signature"], "SignatureVersion": "2.0", "Action": "DeleteStream",
    }
    assert sign(VECTOR["app_id"], VECTOR["nonce"], VECTOR["secret"], VECTOR["timestamp"]) == VECTOR["signature"]
    assert check_public_params(params, 12345, VECTOR["secret"], int(VECTOR["timestamp"])) == (0, "success")


def _one_char_change(value):
    last = value[-1]
    return value[:-1] + ("0" if last != "0" else "1")


@pytest.mark.parametrize("field", ["signature", "nonce", "secret", "timestamp"])
def test_signature_test_vector_one_char_change_rejected(field):
    vec = dict(VECTOR)
    vec[field] = _one_char_change(vec[field])
    params = {
        "AppId": vec["app_id"], "SignatureNonce": vec["nonce"], "Timestamp": vec["timestamp"],
        "Signature": vec["signature"], "SignatureVersion": "2.0", "Action": "DeleteStream",
    }
    code, _msg = check_public_params(params, 12345, vec["secret"], int(VECTOR["timestamp"]))
    assert code == 100000005


def test_signature_is_case_sensitive_lowercase_hex():
    params = {
        "AppId": VECTOR["app_id"], "SignatureNonce": VECTOR["nonce"], "Timestamp": VECTOR["timestamp"],
        "Signature": VECTOR["signature"].upper(), "SignatureVersion": "2.0", "Action": "DeleteStream",
    }
    assert check_public_params(params, 12345, VECTOR["secret"], int(VECTOR["timestamp"]))[0] == 100000005


def _mutate(params, **changes):
    out = dict(params)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def _public_cases():
    now = int(time.time())
    ok = public()
    ok["Action"] = "DeleteStream"
    other = public(app_id=987654321)
    other["Action"] = "DeleteStream"
    old = public(timestamp=now - 700)
    old["Action"] = "DeleteStream"
    future = public(timestamp=now + 700)
    future["Action"] = "DeleteStream"
    nearly_old = public(timestamp=now - 590)
    nearly_old["Action"] = "DescribeSimpleStreamList"
    nearly_old["RoomId"] = "room1"
    return [
        ("nothing at all", {}, 100000001),
        ("AppId missing, rest broken", _mutate(ok, AppId=None, Timestamp=None, Signature=None), 100000001),
        ("AppId not numeric", _mutate(ok, AppId="12ab"), 100000001),
        ("AppId negative", _mutate(ok, AppId="-5"), 100000001),
        ("AppId empty", _mutate(ok, AppId=""), 100000001),
        ("Timestamp missing, nonce missing", _mutate(ok, Timestamp=None, SignatureNonce=None), 100000002),
        ("Timestamp empty", _mutate(ok, Timestamp=""), 100000002),
        ("Timestamp not numeric", _mutate(ok, Timestamp="16151869x3", SignatureNonce=None), 100000003),
        ("nonce missing, signature missing", _mutate(ok, SignatureNonce=None, Signature=None), 100000008),
        ("nonce empty", _mutate(ok, SignatureNonce=""), 100000008),
        ("signature missing, version missing", _mutate(ok, Signature=None, SignatureVersion=None), 100000009),
        ("signature empty", _mutate(ok, Signature=""), 100000009),
        ("version missing, AppId unknown", _mutate(other, SignatureVersion=None), 100000013),
        ("version 1.0, AppId unknown", _mutate(other, SignatureVersion="1.0"), 100000014),
        ("AppId unknown, timestamp expired", _mutate(other, Timestamp=str(now - 700)), 100000010),
        ("expired, bad signature", _mutate(old, Signature="0" * 32), 100000004),
        ("too far in the future", future, 100000004),
        ("bad signature, Action missing", _mutate(ok, Signature="0" * 32, Action=None), 100000005),
        ("Action missing", _mutate(ok, Action=None), 100000006),
        ("Action empty", _mutate(ok, Action=""), 100000006),
        ("Action unknown", _mutate(ok, Action="DeleteStreams"), 100000007),
        ("590 s old is accepted", nearly_old, 0),
    ]


def test_public_param_codes_in_order(sim, client):
    for name, params, expected in _public_cases():
        resp = client.raw(params)
        assert resp.status_code == 200, name
        body = resp.json()
        assert body["Code"] == expected, name
        assert body["RequestId"].isdigit(), name
        assert isinstance(body["Message"], str) and body["Message"], name


def test_public_param_rejections_are_logged(sim, client):
    client.raw({"AppId": str(APP_ID)})
    entries = sim.log()
    assert entries[-1]["code"] == 100000002
    assert entries[-1]["http_status"] == 200


def test_request_ids_are_unique_numeric(client):
    ids = set()
    for dummy in range(20):
        rid = client.api("DescribeSimpleStreamList", RoomId="room9")["RequestId"]
        assert rid.isdigit()
        ids.add(rid)
    assert len(ids) == 20


def test_clock_offset_expires_fresh_signatures(sim, client):
    sim.configure(clock_offset=601)
    assert client.delete("room1", "s1") == 100000004
    sim.configure(clock_offset=-590)
    assert client.delete("room1", "s1") == 0


def test_url_encoded_values_are_checked_as_decoded(sim, client):
    # A nonce with characters that need URL encoding is signed as received (decoded).
    params = public(nonce="a b+c/d")
    params.update({"Action": "DeleteStream", "RoomId": "room1", "UserId": "u", "StreamId": "s1"})
    assert client.raw(params).json()["Code"] == 0


# ---------------------------------------------------------------- DeleteStream


def test_delete_stream_success_then_138(sim, client):
    body = client.api("DeleteStream", RoomId="room1", UserId="admin", UserName="Admin", StreamId="s1")
    assert body["Code"] == 0
    assert body["Message"] == "success"
    assert "Data" not in body
    assert streams(sim, "room1") == ["s2"]
    assert client.delete("room1", "s1") == 138


def test_delete_last_stream_keeps_empty_room(sim, client):
    assert client.delete("room2", "t1") == 0
    assert sim.state()["rooms"]["room2"] == []
    assert client.delete("room2", "t1") == 138


def test_delete_missing_room_default_138(client):
    assert client.delete("nope", "s1") == 138


@pytest.mark.parametrize("code", [104, 5024, 50001, 138])
def test_delete_missing_room_code_variants(code):
    with Simulator(app_id=APP_ID, secret=SECRET, rate=0, missing_room_code=code, rooms=ROOMS) as server:
        cli = Client(server.base_url)
        assert cli.delete("nope", "s1") == code
        # A missing stream in an existing room is always 138.
        assert cli.delete("room1", "zzz") == 138


def test_missing_room_code_rejects_other_values():
    with pytest.raises(SimulatorError):
        Simulator(app_id=APP_ID, secret=SECRET, missing_room_code=1)


@pytest.mark.parametrize("missing", ["RoomId", "UserId", "StreamId"])
def test_delete_missing_param_is_2(sim, client, missing):
    biz = {"RoomId": "room1", "UserId": "u", "StreamId": "s1"}
    for value in (None, ""):
        args = dict(biz)
        if value is None:
            del args[missing]
        else:
            args[missing] = value
        assert client.code("DeleteStream", **args) == 2
    assert "s1" in streams(sim, "room1")


@pytest.mark.parametrize("field,limit", [("RoomId", 128), ("UserId", 64), ("UserName", 256), ("StreamId", 256)])
def test_delete_too_long_is_3(sim, client, field, limit):
    biz = {"RoomId": "room1", "UserId": "u", "StreamId": "s1"}
    args = dict(biz)
    args[field] = "x" * (limit + 1)
    assert client.code("DeleteStream", **args) == 3
    # Lengths are UTF-8 bytes: limit/2 two-byte characters fit, one more does not.
    args[field] = u"\u00e9" * (limit // 2 + 1)
    assert client.code("DeleteStream", **args) == 3
    assert "s1" in streams(sim, "room1")
    args[field] = "x" * limit if field in ("UserId", "UserName") else args[field]
    if field in ("UserId", "UserName"):
        assert client.code("DeleteStream", **args) == 0


def test_delete_exact_length_limits_accepted(sim, client):
    room, stream = "r" * 128, "s" * 256
    sim.seed({room: [{"stream_id": stream, "user_id": "u"}]})
    assert client.delete(room, stream, user="u" * 64, UserName="n" * 256) == 0


# ---------------------------------------------------------------- DescribeSimpleStreamList


def test_list_streams_shape(sim, client):
    before = int(time.time() * 1000)
    sim.seed({"room3": [{"stream_id": "a", "user_id": "ua", "user_name": "A"}, {"stream_id": "b", "user_id": "ub"}]})
    body = client.api("DescribeSimpleStreamList", RoomId="room3")
    assert body["Code"] == 0
    items = body["Data"]["StreamList"]
    assert [i["StreamId"] for i in items] == ["a", "b"]
    assert items[0]["UserId"] == "ua" and items[0]["UserName"] == "A"
    assert items[1]["UserName"] == ""
    for item in items:
        assert set(item) == set(["StreamId", "UserId", "UserName", "CreateTime", "StreamNumberId"])
        assert isinstance(item["CreateTime"], int) and abs(item["CreateTime"] - before) < 60000
        assert isinstance(item["StreamNumberId"], int)
    assert items[0]["StreamNumberId"] < items[1]["StreamNumberId"]


def test_list_absent_room_is_empty(client):
    body = client.api("DescribeSimpleStreamList", RoomId="ghost")
    assert body["Code"] == 0
    assert body["Data"]["StreamList"] == []


def test_list_param_errors(client):
    assert client.code("DescribeSimpleStreamList") == 2
    assert client.code("DescribeSimpleStreamList", RoomId="") == 2
    assert client.code("DescribeSimpleStreamList", RoomId="x" * 129) == 3


def test_list_per_room_interval_207():
    with Simulator(app_id=APP_ID, secret=SECRET, list_room_interval=0.5, rooms=ROOMS) as server:
        cli = Client(server.base_url)
        assert cli.code("DescribeSimpleStreamList", RoomId="room1") == 0
        assert cli.code("DescribeSimpleStreamList", RoomId="room1") == 207
        # Another room has its own interval.
        assert cli.code("DescribeSimpleStreamList", RoomId="room2") == 0
        time.sleep(0.6)
        assert cli.code("DescribeSimpleStreamList", RoomId="room1") == 0


def test_list_default_interval_is_10s():
    with Simulator(app_id=APP_ID, secret=SECRET, rooms=ROOMS) as server:
        assert server.config()["list_room_interval"] == 10.0
        cli = Client(server.base_url)
        assert cli.code("DescribeSimpleStreamList", RoomId="room1") == 0
        assert cli.code("DescribeSimpleStreamList", RoomId="room1") == 207


def test_list_app_rate_207():
    with Simulator(app_id=APP_ID, secret=SECRET, list_room_interval=0, list_rate=5) as server:
        cli = Client(server.base_url)
        codes = [cli.code("DescribeSimpleStreamList", RoomId="r%d" % i) for i in range(7)]
        assert codes[:5] == [0] * 5
        assert codes[5:] == [207, 207]


# ---------------------------------------------------------------- AddStream


def test_add_stream(sim, client):
    assert client.code("AddStream", RoomId="ghost", UserId="u", StreamId="n1") == 104
    # a room without users does not exist for ZEGO (streams alone do not keep it open)
    assert client.code("AddStream", RoomId="room1", UserId="u", StreamId="n1") == 104
    sim.add_users("room1", ["u1"])
    assert client.code("AddStream", RoomId="room1", UserId="u", StreamId="s1") == 1012
    assert client.code("AddStream", RoomId="room1", UserId="u9", UserName="Nine", StreamId="n1") == 0
    items = client.api("DescribeSimpleStreamList", RoomId="room1")["Data"]["StreamList"]
    assert [i["StreamId"] for i in items] == ["s1", "s2", "n1"]
    assert items[2]["UserId"] == "u9" and items[2]["UserName"] == "Nine"
    assert items[2]["StreamNumberId"] > items[1]["StreamNumberId"]
    assert client.code("AddStream", RoomId="room1", UserId="u", StreamId="") == 2
    assert client.code("AddStream", RoomId="room1", UserId="u", StreamId="x" * 257) == 3
    assert client.code("AddStream", RoomId="room1", UserId="u", StreamId="n2", StreamTitle="t" * 128) == 3
    # Numbers keep increasing after deletions.
    assert client.delete("room1", "n1") == 0
    assert client.code("AddStream", RoomId="room1", UserId="u9", StreamId="n1") == 0
    numbers = [s["stream_number_id"] for s in sim.state()["rooms"]["room1"]]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)


# ---------------------------------------------------------------- rate limits


def test_delete_rate_limit_206():
    with Simulator(app_id=APP_ID, secret=SECRET, rate=3, rooms=ROOMS) as server:
        cli = Client(server.base_url)
        codes = [cli.delete("room1", "x%d" % i) for i in range(5)]
        assert codes == [138, 138, 138, 206, 206]
        time.sleep(1.05)
        assert cli.delete("room1", "s1") == 0
        stats = server.stats()
        assert stats["max_delete_stream_per_1s"] == 5
        assert stats["by_action"]["DeleteStream"]["206"] == 2


def test_rate_limited_request_is_not_applied():
    with Simulator(app_id=APP_ID, secret=SECRET, rate=1, rooms=ROOMS) as server:
        cli = Client(server.base_url)
        assert cli.delete("room1", "zz") == 138
        assert cli.delete("room1", "s1") == 206
        assert "s1" in streams(server, "room1")


def test_default_rate_is_10():
    with Simulator(app_id=APP_ID, secret=SECRET, rooms=ROOMS) as server:
        cli = Client(server.base_url)
        codes = [cli.delete("room1", "x%d" % i) for i in range(12)]
        assert codes[:10] == [138] * 10
        assert codes[10:] == [206, 206]


def test_is_test_limited_to_1_per_second():
    with Simulator(app_id=APP_ID, secret=SECRET, rate=10, rooms=ROOMS) as server:
        cli = Client(server.base_url)
        assert cli.delete("room1", "x", IsTest="true") == 138
        assert cli.delete("room1", "x", IsTest="TRUE") == 206
        # Production traffic has its own window.
        assert cli.delete("room1", "x", IsTest="false") == 138
        assert cli.delete("room1", "x") == 138
        time.sleep(1.05)
        assert cli.delete("room1", "x", IsTest="True") == 138


def test_rate_zero_is_unlimited_also_for_is_test(client):
    codes = [client.delete("room1", "x", IsTest="true") for dummy in range(15)]
    codes += [client.delete("room1", "x") for dummy in range(15)]
    assert set(codes) == set([138])


def test_rate_limit_counts_only_authenticated_requests():
    with Simulator(app_id=APP_ID, secret=SECRET, rate=2, rooms=ROOMS) as server:
        cli = Client(server.base_url)
        bad = public()
        bad.update({"Signature": "0" * 32, "Action": "DeleteStream", "RoomId": "room1", "UserId": "u", "StreamId": "s1"})
        for dummy in range(5):
            assert cli.raw(bad).json()["Code"] == 100000005
        assert cli.delete("room1", "s1") == 0
        assert cli.delete("room1", "s2") == 0


def test_rate_config_at_runtime(sim, client):
    sim.configure(rate=1)
    assert client.delete("room1", "x") == 138
    assert client.delete("room1", "x") == 206


def test_add_stream_has_its_own_window():
    with Simulator(app_id=APP_ID, secret=SECRET, rate=2, rooms=ROOMS) as server:
        server.add_users("room1", ["u1"])
        cli = Client(server.base_url)
        assert [cli.delete("room1", "x") for dummy in range(2)] == [138, 138]
        assert cli.code("AddStream", RoomId="room1", UserId="u", StreamId="a1") == 0
        assert cli.code("AddStream", RoomId="room1", UserId="u", StreamId="a2") == 0
        assert cli.code("AddStream", RoomId="room1", UserId="u", StreamId="a3") == 206
        assert cli.delete("room1", "x") == 206


def test_config_change_is_atomic(sim, client):
    status, _body = client.admin("POST", "config", {"rate": 1, "faults": "code124=1.0", "bogus": 1})
    assert status == 400
    cfg = client.admin("GET", "config")[1]
    assert cfg["rate"] == 0 and cfg["faults"] == ""
    assert client.delete("room1", "s1") == 0


# ---------------------------------------------------------------- faults (queued)


def test_fault_code124_not_applied(sim, client):
    sim.queue_fault("code124", count=2)
    body = client.api("DeleteStream", RoomId="room1", UserId="u", StreamId="s1")
    assert body["Code"] == 124
    assert body["Message"] == "Failed to delete stream information"
    assert client.delete("room1", "s1") == 124
    assert "s1" in streams(sim, "room1")
    assert client.delete("room1", "s1") == 0
    assert sim.faults() == []
    assert sim.log()[-2]["fault"] == "code124"


@pytest.mark.parametrize("kind,status", [("http502", 502), ("http503", 503)])
def test_fault_http_5xx_html(sim, client, kind, status):
    sim.queue_fault(kind)
    resp = client.call("DeleteStream", RoomId="room1", UserId="u", StreamId="s1")
    assert resp.status_code == status
    assert "text/html" in resp.headers["Content-Type"]
    assert "<html>" in resp.text
    assert "s1" in streams(sim, "room1")
    assert sim.log()[-1]["http_status"] == status
    assert client.delete("room1", "s1") == 0


def test_fault_drop_before_not_applied(sim, client):
    sim.queue_fault("drop_before")
    with pytest.raises(requests.exceptions.ConnectionError):
        client.call("DeleteStream", RoomId="room1", UserId="u", StreamId="s1")
    assert "s1" in streams(sim, "room1")
    entry = sim.log()[-1]
    assert entry["fault"] == "drop_before" and entry["http_status"] is None
    assert client.delete("room1", "s1") == 0


def test_fault_drop_after_applies(sim, client):
    sim.queue_fault("drop_after")
    with pytest.raises(requests.exceptions.ConnectionError):
        client.call("DeleteStream", RoomId="room1", UserId="u", StreamId="s1")
    assert "s1" not in streams(sim, "room1")
    entry = sim.log()[-1]
    assert entry["fault"] == "drop_after" and entry["code"] == 0 and entry["http_status"] is None
    # The retry of the lost response sees the stream gone.
    assert client.delete("room1", "s1") == 138


def test_drop_does_not_hang_raw_socket(sim):
    sim.queue_fault("drop_before")
    params = public()
    params.update({"Action": "DeleteStream", "RoomId": "room1", "UserId": "u", "StreamId": "s1"})
    conn = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=5)
    conn.request("GET", "/?" + requests.models.RequestEncodingMixin._encode_params(params))  # pylint: disable=protected-access
    # a hang would end in the socket time-out (TimeoutError), which is not one of these
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        conn.getresponse()
    conn.close()


def test_fault_slow(sim, client):
    sim.queue_fault("slow")
    start = time.time()
    assert client.delete("room1", "s1") == 0
    assert time.time() - start >= 0.3
    assert sim.log()[-1]["fault"] == "slow"


def _until(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met within %s s" % timeout
        time.sleep(0.02)


def test_a_slow_answer_waits_for_the_client_to_give_up_and_is_pending_until_then(sim, client):
    # ten minutes: the slow fault ends when the client closes the connection, long before that
    sim.configure(slow_ms=600000)
    sim.queue_fault("slow")
    assert client.admin("GET", "log")[1]["pending"] == 0
    params = public()
    params.update({"Action": "DeleteStream", "RoomId": "room1", "UserId": "Server-Administrator", "StreamId": "s1"})
    conn = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=10)
    conn.request("GET", "/?" + urlencode(params))
    # the simulator holds the answer while the client waits: pending, not in the log, not applied
    _until(lambda: client.admin("GET", "log")[1]["pending"] == 1)
    assert client.admin("GET", "log")[1]["entries"] == [] and "s1" in streams(sim, "room1")
    conn.close()  # the client gives up
    _until(lambda: client.admin("GET", "log")[1]["pending"] == 0, timeout=60)
    entries = client.admin("GET", "log")[1]["entries"]
    assert [(e["action"], e["stream_id"], e["fault"], e["code"]) for e in entries] == [("DeleteStream", "s1", "slow", 0)]
    assert "s1" not in streams(sim, "room1")  # then processed as usual: the lost-answer case
    # a request answered at once, or refused, is never left pending
    assert client.delete("room1", "s2") == 0 and client.delete("room1", "s2" * 200) == 3
    assert client.admin("GET", "log")[1]["pending"] == 0


def test_fault_garbage_not_applied(sim, client):
    sim.queue_fault("garbage")
    resp = client.call("DeleteStream", RoomId="room1", UserId="u", StreamId="s1")
    assert resp.status_code == 200
    with pytest.raises(ValueError):
        json.loads(resp.content.decode("utf-8", "replace"))
    assert "s1" in streams(sim, "room1")


def test_fault_code206_not_applied(sim, client):
    sim.queue_fault("code206")
    assert client.delete("room1", "s1") == 206
    assert "s1" in streams(sim, "room1")


@pytest.mark.parametrize("kind,code", [("code1", 1), ("code207", 207), ("code154", 154)])
def test_list_faults(sim, client, kind, code):
    sim.queue_fault(kind, action="DescribeSimpleStreamList", room_id="room1")
    # Another room does not match the queued fault.
    assert client.code("DescribeSimpleStreamList", RoomId="room2") == 0
    body = client.api("DescribeSimpleStreamList", RoomId="room1")
    assert body["Code"] == code and "Data" not in body
    assert client.code("DescribeSimpleStreamList", RoomId="room1") == 0


def test_fault_filters_by_stream(sim, client):
    sim.queue_fault("code124", count=1, stream_id="s2")
    assert client.delete("room1", "s1") == 0
    assert client.delete("room1", "s2") == 124
    assert client.delete("room1", "s2") == 0


def test_queued_fault_rejects_unknown_kind(sim):
    with pytest.raises(SimulatorError):
        sim.queue_fault("code999")


# ---------------------------------------------------------------- faults (random)


def _fault_run(spec, runs=60):
    with Simulator(app_id=APP_ID, secret=SECRET, rate=0, list_room_interval=0, faults=spec) as server:
        cli = Client(server.base_url)
        codes = [cli.delete("room", "s%d" % i) for i in range(runs)]
        lists = [cli.code("DescribeSimpleStreamList", RoomId="room") for dummy in range(10)]
        server.reset()
        again = [cli.delete("room", "s%d" % i) for i in range(runs)]
        return codes, lists, again, server.stats()


def test_random_faults_reproducible_for_seed():
    spec = "code124=0.3,code206=0.2;seed=7"
    first, lists, again, stats = _fault_run(spec)
    second, _lists, _again, _stats = _fault_run(spec)
    assert first == second
    assert first == again  # reset re-seeds the generator
    assert set(first) == set([124, 206, 138])
    assert set(lists) == set([0])  # default: DeleteStream only
    assert stats["faults"]
    other, _lists, _again, _stats = _fault_run("code124=0.3,code206=0.2;seed=8")
    assert other != first


def test_random_faults_on_listed_actions():
    _codes, lists, _again, _stats = _fault_run("code154=0.5;seed=3;actions=DeleteStream+DescribeSimpleStreamList")
    assert 154 in lists and 0 in lists


def test_queued_fault_wins_over_random():
    with Simulator(app_id=APP_ID, secret=SECRET, rate=0, faults="code124=1.0;seed=1") as server:
        cli = Client(server.base_url)
        server.queue_fault("code206")
        assert cli.delete("r", "s") == 206
        assert cli.delete("r", "s") == 124


def test_fault_spec_validation():
    assert parse_fault_spec("code124=0.1,http502=0.05;seed=7")["seed"] == 7
    assert parse_fault_spec("drop_after=0.5;actions=AddStream+DeleteStream")["actions"] == ["AddStream", "DeleteStream"]
    for bad in ("bogus=0.1", "code124=2", "code124=0.6,code206=0.6", "code124=x", "code124=0.1;seed=x", "code124=0.1;actions=Nope"):
        with pytest.raises(SimulatorError):
            parse_fault_spec(bad)


def test_random_drop_faults_through_config(sim, client):
    status, cfg = client.admin("POST", "config", {"faults": "drop_before=1.0;seed=1"})
    assert status == 200 and cfg["faults"] == "drop_before=1.0;seed=1"
    with pytest.raises(requests.exceptions.ConnectionError):
        client.call("DeleteStream", RoomId="room1", UserId="u", StreamId="s1")
    client.admin("POST", "config", {"faults": ""})
    assert client.delete("room1", "s1") == 0


# ---------------------------------------------------------------- admin API


def test_admin_state_put_and_rooms_merge(sim, client):
    status, body = client.admin("PUT", "state", {"rooms": {"a": [{"stream_id": "x", "user_id": "u"}], "b": []}})
    assert status == 200
    assert set(body["rooms"]) == set(["a", "b"])
    stream = body["rooms"]["a"][0]
    assert set(stream) == set(["stream_id", "user_id", "user_name", "create_time", "stream_number_id"])
    status, body = client.admin("POST", "rooms", {"rooms": {"a": [{"stream_id": "y", "user_id": "v", "user_name": "V"}], "c": []}})
    assert status == 200
    assert [s["stream_id"] for s in body["rooms"]["a"]] == ["x", "y"]
    assert set(body["rooms"]) == set(["a", "b", "c"])
    status, body = client.admin("GET", "state")
    assert status == 200 and body["rooms"]["b"] == []
    assert client.delete("b", "nothing") == 138


def test_admin_reset(sim, client):
    client.delete("room1", "s1")
    sim.queue_fault("code124")
    status, body = client.admin("POST", "reset")
    assert status == 200 and body == {"rooms": {}}
    assert client.admin("GET", "log")[1]["entries"] == []
    assert client.admin("GET", "faults")[1]["faults"] == []
    status, body = client.admin("POST", "reset", {"rooms": {"z": [{"stream_id": "q", "user_id": "u"}]}})
    assert list(body["rooms"]) == ["z"]
    assert client.delete("z", "q") == 0


def test_admin_log_since_and_delete(sim, client):
    client.delete("room1", "s1")
    client.delete("room1", "s1")
    entries = client.admin("GET", "log")[1]["entries"]
    assert len(entries) == 2
    first = entries[0]
    for key in ("seq", "time", "action", "room_id", "stream_id", "user_id", "code", "http_status", "fault",
                "app_id", "nonce", "timestamp", "is_test"):
        assert key in first
    assert first["action"] == "DeleteStream" and first["room_id"] == "room1" and first["stream_id"] == "s1"
    assert first["code"] == 0 and entries[1]["code"] == 138
    assert first["is_test"] is False and first["app_id"] == str(APP_ID)
    resp = client.session.get(sim.base_url + "/_sim/log", params={"since": first["seq"]})
    assert [e["seq"] for e in resp.json()["entries"]] == [entries[1]["seq"]]
    status, _body = client.admin("DELETE", "log")
    assert status == 200
    assert client.admin("GET", "log")[1]["entries"] == []


def test_admin_faults_queue(sim, client):
    status, body = client.admin("POST", "faults", {"kind": "code124", "count": 2, "action": "DeleteStream", "stream_id": "s1"})
    assert status == 200
    assert body["faults"] == [{"kind": "code124", "count": 2, "action": "DeleteStream", "stream_id": "s1", "room_id": None}]
    assert client.delete("room1", "s1") == 124
    assert client.admin("GET", "faults")[1]["faults"][0]["count"] == 1
    assert client.admin("DELETE", "faults")[1]["faults"] == []
    assert client.delete("room1", "s1") == 0
    assert client.admin("POST", "faults", {"kind": "nope"})[0] == 400
    assert client.admin("POST", "faults", {"kind": "code124", "count": 0})[0] == 400
    assert client.admin("POST", "faults", {"kind": "code124", "action": "Nope"})[0] == 400


def test_admin_config(sim, client):
    status, cfg = client.admin("GET", "config")
    assert status == 200
    for key in ("rate", "latency_ms", "missing_room_code", "list_room_interval", "clock_offset", "slow_ms", "faults", "list_rate"):
        assert key in cfg
    assert SECRET not in json.dumps(cfg)
    status, cfg = client.admin("POST", "config", {"missing_room_code": 5024, "rate": 7, "list_room_interval": 2.5})
    assert status == 200 and cfg["missing_room_code"] == 5024 and cfg["rate"] == 7 and cfg["list_room_interval"] == 2.5
    assert client.delete("ghost", "s") == 5024
    assert client.admin("POST", "config", {"missing_room_code": 1})[0] == 400
    assert client.admin("POST", "config", {"secret": "x"})[0] == 400
    assert client.admin("POST", "config", {"faults": "bogus=1"})[0] == 400
    assert client.admin("POST", "config", {"rate": -1})[0] == 400


def test_admin_stats(sim, client):
    for dummy in range(4):
        client.delete("room1", "x")
    client.code("DescribeSimpleStreamList", RoomId="room1")
    client.raw({})
    status, stats = client.admin("GET", "stats")
    assert status == 200
    assert stats["by_action"]["DeleteStream"] == {"138": 4}
    assert stats["by_action"]["DescribeSimpleStreamList"] == {"0": 1}
    assert stats["by_action"][""] == {"100000001": 1}
    assert stats["max_delete_stream_per_1s"] == 4
    assert stats["max_window"]["DeleteStream"] == 4
    assert stats["requests"] == 6


def test_admin_errors(sim, client):
    assert client.admin("GET", "nothing")[0] == 404
    assert client.admin("POST", "state", {"rooms": {}})[0] == 405
    assert client.admin("PUT", "state", {"rooms": {"a": [{"user_id": "u"}]}})[0] == 400
    assert client.admin("PUT", "state", {"no": 1})[0] == 400
    resp = client.session.put(sim.base_url + "/_sim/state", data="{not json", timeout=5)
    assert resp.status_code == 400
    resp = client.session.get(sim.base_url + "/other", timeout=5)
    assert resp.status_code == 404
    resp = client.session.post(sim.base_url + "/", timeout=5)
    assert resp.status_code == 405


def test_log_never_contains_signature_or_secret(tmp_path):
    log_path = tmp_path / "requests.jsonl"
    with Simulator(app_id=APP_ID, secret=SECRET, rate=0, rooms=ROOMS, request_log=str(log_path)) as server:
        cli = Client(server.base_url)
        cli.delete("room1", "s1")
        cli.delete("room1", "s1", IsTest="true")
        cli.code("DescribeSimpleStreamList", RoomId="room1")
        bad = public()
        bad["Signature"] = "ab" * 16
        bad["Action"] = "DeleteStream"
        cli.raw(bad)
        texts = [cli.session.get(server.base_url + "/_sim/" + p, timeout=5).text for p in ("log", "stats", "config", "state", "faults")]
        entries = server.log()
    texts.append(log_path.read_text())
    assert len(log_path.read_text().splitlines()) == 4
    signatures = [sign(APP_ID, p["SignatureNonce"], SECRET, p["Timestamp"]) for p in cli.sent] + ["ab" * 16]
    for text in texts:
        assert SECRET not in text
        for sig in signatures:
            assert sig not in text
        assert "Signature\"" not in text
    # nonce and timestamp are logged, so a test can recompute the signature itself.
    for entry, sent in zip(entries, cli.sent):
        assert entry["nonce"] == sent["SignatureNonce"] and entry["timestamp"] == sent["Timestamp"]
        assert sign(entry["app_id"], entry["nonce"], SECRET, entry["timestamp"]) == sent["Signature"]
    assert entries[1]["is_test"] is True


# ---------------------------------------------------------------- HTTP behaviour


def test_keep_alive_reuses_connection(sim):
    conn = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=5)
    conn.connect()
    sock = conn.sock
    for i in range(5):
        params = public()
        params.update({"Action": "DeleteStream", "RoomId": "room1", "UserId": "u", "StreamId": "x%d" % i})
        conn.request("GET", "/?" + requests.models.RequestEncodingMixin._encode_params(params))  # pylint: disable=protected-access
        resp = conn.getresponse()
        assert json.loads(resp.read())["Code"] == 138
        assert resp.getheader("Connection") != "close"
        assert conn.sock is sock
    conn.close()


def test_latency_overlaps_between_clients():
    with Simulator(app_id=APP_ID, secret=SECRET, rate=0, latency_ms=300, rooms=ROOMS) as server:
        results = []

        def worker():
            cli = Client(server.base_url)
            t0 = time.time()
            code = cli.delete("room1", "x")
            results.append((code, t0, time.time()))

        threads = [threading.Thread(target=worker) for dummy in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert [r[0] for r in results] == [138] * 4
        # every answer took at least the latency ...
        assert all(end - start >= 0.3 for dummy, start, end in results)
        # ... and the delays overlapped: the simulator received all four requests before it sent any
        # answer (a server that delayed one request at a time would receive the last after the first answer)
        received = [e["time"] for e in server.log()]
        assert len(received) == 4 and max(received) < min(end for dummy, dummy2, end in results)
        # Admin calls are not delayed: with a 60 s latency an admin call still answers within its time-out.
        server.configure(latency_ms=60000)
        assert requests.get(server.base_url + "/_sim/state", timeout=5).status_code == 200


def test_concurrent_clients_delete_each_stream_once(sim):
    rooms = {"big": [{"stream_id": "s%d" % i, "user_id": "u"} for i in range(100)]}
    sim.reset(rooms)
    codes = []
    lock = threading.Lock()

    def worker():
        cli = Client(sim.base_url)
        for i in range(100):
            code = cli.delete("big", "s%d" % i)
            with lock:
                codes.append(code)

    threads = [threading.Thread(target=worker) for dummy in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes.count(0) == 100
    assert codes.count(138) == 300
    assert sim.state()["rooms"]["big"] == []


def test_tls(tmp_path):
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    cert = ca.issue_cert(u"127.0.0.1", u"localhost")
    cert_path, key_path, ca_path = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_path))
    cert.private_key_pem.write_to_path(str(key_path))
    ca.cert_pem.write_to_path(str(ca_path))
    with Simulator(app_id=APP_ID, secret=SECRET, rate=0, rooms=ROOMS, tls_cert=str(cert_path), tls_key=str(key_path)) as server:
        assert server.base_url.startswith("https://127.0.0.1:")
        cli = Client(server.base_url, verify=str(ca_path))
        assert cli.delete("room1", "s1") == 0
        assert cli.delete("room1", "s1") == 138
        server.queue_fault("drop_before")
        with pytest.raises(requests.exceptions.ConnectionError):
            cli.call("DeleteStream", RoomId="room1", UserId="u", StreamId="s2")
        assert cli.delete("room1", "s2") == 0
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(server.base_url + "/_sim/state", timeout=5)
        # Plain HTTP to the TLS port does not take the server down.
        with pytest.raises(requests.exceptions.RequestException):
            requests.get(server.base_url.replace("https", "http") + "/_sim/state", timeout=5)
        assert cli.delete("room1", "s2") == 138


def test_python_api_roundtrip():
    sim = Simulator(app_id=APP_ID, secret=SECRET, rate=0)
    with pytest.raises(SimulatorError):
        Simulator(app_id=APP_ID, secret=SECRET, host="0.0.0.0")
    sim.start()
    try:
        sim.seed({"r": [{"stream_id": "s", "user_id": "u"}]})
        assert Client(sim.base_url).delete("r", "s") == 0
        assert sim.log()[-1]["code"] == 0
        sim.reset({"r2": []})
        assert sim.state() == {"rooms": {"r2": []}}
        assert sim.log() == []
    finally:
        sim.stop()
    sim.stop()  # idempotent


# ---------------------------------------------------------------- CLI


def _start_cli(*args):
    cmd = [sys.executable, SIM_PATH, "--port", "0", "--app-id", str(APP_ID), "--secret", SECRET] + list(args)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)  # pylint: disable=consider-using-with
    box = []
    reader = threading.Thread(target=lambda: box.append(proc.stdout.readline()))
    reader.daemon = True
    reader.start()
    reader.join(15)
    if not box or not box[0]:
        proc.kill()
        raise AssertionError("simulator did not print its URL: %s" % proc.stderr.read())
    return proc, box[0].strip()


def _stop_cli(proc, sig=signal.SIGTERM):
    proc.send_signal(sig)
    try:
        return proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
        proc.stderr.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_url_state_and_clean_exit(tmp_path, sig):
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"rooms": {"room1": [{"stream_id": "s1", "user_id": "u1", "user_name": "Ann"}, {"stream_id": "s2", "user_id": "u2"}]}}))
    log_path = tmp_path / "log.jsonl"
    proc, url = _start_cli("--state", str(state), "--rate", "5", "--missing-room-code", "50001",
                           "--list-room-interval", "0.5", "--request-log", str(log_path))
    try:
        assert url.startswith("http://127.0.0.1:")
        # The URL is printed only once connections are accepted.
        cli = Client(url)
        assert cli.delete("room1", "s1") == 0
        assert cli.delete("ghost", "s1") == 50001
        rooms = requests.get(url + "/_sim/state", timeout=5).json()["rooms"]
        assert rooms["room1"][0]["user_name"] == ""
        assert rooms["room1"][0]["stream_id"] == "s2"
        cfg = requests.get(url + "/_sim/config", timeout=5).json()
        assert cfg["rate"] == 5 and cfg["list_room_interval"] == 0.5
    finally:
        rc = _stop_cli(proc, sig)
    assert rc == 0
    assert len(log_path.read_text().splitlines()) == 2


def test_cli_tls_and_options(tmp_path):
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    cert = ca.issue_cert(u"127.0.0.1")
    cert.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "both.pem"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    proc, url = _start_cli("--tls-cert", str(tmp_path / "both.pem"), "--tls-key", str(tmp_path / "both.pem"),
                           "--latency-ms", "10", "--faults", "code124=1.0;seed=1", "--clock-offset", "0", "--slow-ms", "100")
    try:
        assert url.startswith("https://127.0.0.1:")
        cli = Client(url, verify=str(tmp_path / "ca.pem"))
        assert cli.delete("r", "s") == 124
    finally:
        assert _stop_cli(proc) == 0


@pytest.mark.parametrize("args", [["--host", "0.0.0.0"], ["--host", "192.0.2.1"], ["--faults", "bogus=1"],
                                  ["--missing-room-code", "7"], ["--tls-cert", "x.pem"]])
def test_cli_rejects_bad_options(args):
    cmd = [sys.executable, SIM_PATH, "--port", "0", "--app-id", str(APP_ID), "--secret", SECRET] + args
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=15, check=False)
    assert proc.returncode != 0
    assert proc.stdout == ""


def test_parse_params_keeps_every_value_of_an_array_name():
    params = parse_params("Action=X&UserId%5B%5D=a&UserId[]=b%20c&RoomId=r1&RoomId=r2&Empty=")
    assert params == {"Action": "X", "UserId[]": ["a", "b c"], "RoomId": "r1", "Empty": ""}


def test_every_action_has_a_handler_and_a_limit_code():
    sim = Simulator()
    for action, spec in ACTION_SPECS.items():
        assert callable(getattr(sim, spec["handler"])), action
        assert spec["code"] in (206, 207, 1010, 5007, 30002), action
        assert spec["app"] in sim.config() or isinstance(spec["app"], int), action


def test_array_params_are_logged(sim, client):
    # an action that ignores arrays still logs them, so a test can see exactly what was sent
    client.call("DescribeSimpleStreamList", RoomId="room-arrays", **{"UserId[]": ["u1", "u2"]})
    entry = sim.log()[-1]
    assert entry["arrays"] == {"UserId": ["u1", "u2"]}
