# -*- coding: utf-8 -*-
# Copyright: Contributors to the zego.rtc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Simulator: media-service stream bans (Forbid/ResumeRTCStream(s)) and room prohibition rules
(Set/Describe/DelForbidStreamRule(s)), with their codes, limits, Sequence rule and admin API."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import time

import pytest
import requests

from test_zego_sim import APP_ID, SECRET, public
from zego_sim import BANNED_CODE, SEQUENCE_CODE, Simulator, SimulatorError, StreamBanned

PREFIX = "zegotest-%d-" % APP_ID


class Seq(object):
    """Strictly increasing Sequence values for the tests."""

    def __init__(self):
        self.value = int(time.time() * 1000)

    def __call__(self):
        self.value += 1
        return str(self.value)


@pytest.fixture
def sim():
    with Simulator(app_id=APP_ID, secret=SECRET, rate=0, list_room_interval=0,
                   rooms={"room1": {"streams": [{"stream_id": "s1", "user_id": "u1"}], "users": ["u1"]}}) as server:
        yield server


@pytest.fixture
def seq():
    return Seq()


def banned(sim):
    return [b["stream_id"] for b in sim.banned()]


# ---------------------------------------------------------------- bans

def test_forbid_and_resume_single_and_batch(sim, client, seq):
    assert client.code("ForbidRTCStream", StreamId="s1", Sequence=seq()) == 0
    assert client.code("ForbidRTCStreams", **{"StreamId[]": ["a", "b", "s1"], "Sequence": seq()}) == 0
    assert banned(sim) == ["s1", "a", "b"]
    # a stream ID that does not exist is recorded and the call succeeds; re-forbidding is accepted
    assert client.code("ForbidRTCStream", StreamId="never-published", Sequence=seq()) == 0
    assert client.code("ResumeRTCStreams", **{"StreamId[]": ["a", "b"], "Sequence": seq()}) == 0
    assert client.code("ResumeRTCStream", StreamId="not-banned", Sequence=seq()) == 0
    assert banned(sim) == ["s1", "never-published"]
    body = client.api("ResumeRTCStream", StreamId="s1", Sequence=seq())
    assert body["Code"] == 0 and body.get("Data") is None
    entry = sim.log()[-1]
    assert entry["action"] == "ResumeRTCStream" and entry["stream_id"] == "s1" and entry["sequence"] == str(seq.value)
    batch = [e for e in sim.log() if e["action"] == "ForbidRTCStreams"][0]
    assert batch["arrays"] == {"StreamId": ["a", "b", "s1"]}


def test_a_ban_does_not_remove_a_live_stream_but_refuses_a_republish(sim, client, seq):
    assert client.code("ForbidRTCStream", StreamId="s1", Sequence=seq()) == 0
    assert [s["stream_id"] for s in sim.state()["rooms"]["room1"]] == ["s1"]
    assert client.code("DeleteStream", RoomId="room1", UserId="admin", StreamId="s1") == 0
    # the client publishes the same stream ID again: refused, through AddStream and through /_sim/publish
    assert client.code("AddStream", RoomId="room1", UserId="u1", StreamId="s1") == BANNED_CODE
    status, body = client.admin("POST", "publish", {"room_id": "room1", "stream_id": "s1", "user_id": "u1"})
    assert status == 403 and body["code"] == BANNED_CODE
    with pytest.raises(StreamBanned):
        sim.publish("room1", "s1", "u1")
    assert sim.state()["rooms"]["room1"] == []
    # resumed: publishing works again
    assert client.code("ResumeRTCStream", StreamId="s1", Sequence=seq()) == 0
    status, body = client.admin("POST", "publish", {"room_id": "room1", "stream_id": "s1", "user_id": "u1"})
    assert status == 200 and body["stream"]["stream_id"] == "s1"
    assert [s["stream_id"] for s in sim.state()["rooms"]["room1"]] == ["s1"]


def test_sequence_must_increase_per_stream_within_10_seconds(sim, client, seq):
    first = seq()
    assert client.code("ForbidRTCStream", StreamId="s1", Sequence=first) == 0
    assert client.code("ResumeRTCStream", StreamId="s1", Sequence=first) == SEQUENCE_CODE
    assert client.code("ResumeRTCStream", StreamId="s1", Sequence=str(int(first) - 5)) == SEQUENCE_CODE
    # another stream ID has its own sequence
    assert client.code("ForbidRTCStream", StreamId="other", Sequence=first) == 0
    # a batch is refused whole if one of its IDs is stale, and nothing changes
    assert client.code("ResumeRTCStreams", **{"StreamId[]": ["s1", "fresh"], "Sequence": first}) == SEQUENCE_CODE
    assert banned(sim) == ["s1", "other"]
    assert client.code("ResumeRTCStream", StreamId="s1", Sequence="") == SEQUENCE_CODE
    assert client.code("ResumeRTCStream", StreamId="s1", Sequence="12a") == SEQUENCE_CODE
    assert client.code("ResumeRTCStream", StreamId="s1") == SEQUENCE_CODE
    assert client.code("ResumeRTCStream", StreamId="s1", Sequence=seq()) == 0


def test_sequence_window_is_10_seconds(sim, client, seq, monkeypatch):
    import zego_sim
    first = seq()
    assert client.code("ForbidRTCStream", StreamId="s1", Sequence=first) == 0
    real = time.time
    monkeypatch.setattr(zego_sim.time, "time", lambda: real() + 10.5)
    # the signature check uses the server clock too: sign with the shifted time
    params = public(timestamp=int(real() + 10.5))
    params.update(Action="ResumeRTCStream", StreamId="s1", Sequence=first)
    assert client.raw(params).json()["Code"] == 0


@pytest.mark.parametrize("action,params,code", [
    ("ForbidRTCStream", {"StreamId": ""}, 30009),
    ("ForbidRTCStream", {"StreamId": "x" * 257}, 30009),
    ("ForbidRTCStream", {"StreamId": "bad id"}, 30009),
    ("ForbidRTCStreams", {"StreamId[]": ["ok", "bad id"]}, 30006),
    ("ForbidRTCStreams", {"StreamId[]": ["s%d" % i for i in range(21)]}, 30006),
    ("ResumeRTCStreams", {}, 30006),
])
def test_invalid_stream_ids(sim, client, seq, action, params, code):
    assert client.code(action, Sequence=seq(), **params) == code
    assert sim.banned() == []


def test_test_environment_needs_the_prefix(sim, client, seq):
    def call(action, **biz):
        params = public()
        params.update(Action=action, IsTest="true", Sequence=seq(), **biz)
        return client.raw(params).json()["Code"]

    assert call("ForbidRTCStream", StreamId="s1") == 30009
    assert call("ForbidRTCStreams", **{"StreamId[]": [PREFIX + "a", "b"]}) == 30006
    assert call("ForbidRTCStreams", **{"StreamId[]": [PREFIX + "a", PREFIX + "b"]}) == 0
    assert banned(sim) == [PREFIX + "a", PREFIX + "b"]


def limited(sim, action, times, is_test=False):
    """The limit codes the simulator gives requests of ``action`` arriving at ``times`` (monotonic seconds)."""
    params = {"IsTest": "true"} if is_test else {}
    with sim._lock:  # pylint: disable=protected-access
        return [sim._rate_limited_locked(action, params, t) for t in times]  # pylint: disable=protected-access


@pytest.mark.parametrize("action", ["ForbidRTCStream", "ForbidRTCStreams", "ResumeRTCStream", "ResumeRTCStreams"])
def test_ban_limits_are_20_per_second_and_5_in_test_with_code_30002(sim, action):
    burst = [100.0 + i * 0.01 for i in range(21)]
    assert limited(sim, action, burst) == [0] * 20 + [30002]
    assert limited(sim, action, [101.5]) == [0]  # the window slid
    assert limited(sim, action, [200.0 + i * 0.01 for i in range(6)], is_test=True) == [0] * 5 + [30002]


def test_each_ban_action_has_its_own_window(sim):
    assert limited(sim, "ForbidRTCStream", [100.0 + i * 0.01 for i in range(21)])[-1] == 30002
    assert limited(sim, "ResumeRTCStream", [100.3]) == [0]


@pytest.mark.parametrize("action", ["SetForbidStreamRule", "DescribeForbidStreamRules", "DelForbidStreamRule"])
def test_rule_limits_are_10_per_second_with_code_206(sim, action):
    assert limited(sim, action, [100.0 + i * 0.01 for i in range(11)]) == [0] * 10 + [206]


def test_queued_fault_matches_a_stream_id_in_a_batch(sim, client, seq):
    sim.queue_fault("code1", action="ForbidRTCStreams", stream_id="b")
    assert client.code("ForbidRTCStreams", **{"StreamId[]": ["a", "c"], "Sequence": seq()}) == 0
    assert client.code("ForbidRTCStreams", **{"StreamId[]": ["a", "b"], "Sequence": seq()}) == 1
    assert client.code("ForbidRTCStreams", **{"StreamId[]": ["a", "b"], "Sequence": seq()}) == 0


def test_admin_bans_and_reset(sim, client, seq):
    status, body = client.admin("POST", "bans", {"stream_ids": ["x", "y"]})
    assert status == 200 and [b["stream_id"] for b in body["banned"]] == ["x", "y"]
    assert client.code("AddStream", RoomId="room1", UserId="u", StreamId="x") == BANNED_CODE
    assert client.admin("POST", "bans", {"stream_ids": "x"})[0] == 400
    assert client.admin("DELETE", "bans")[1] == {"banned": []}
    client.code("ForbidRTCStream", StreamId="z", Sequence=seq())
    sim.reset()
    assert sim.banned() == [] and client.admin("GET", "bans")[1] == {"banned": []}
    # the Sequence memory is reset too
    assert client.code("ForbidRTCStream", StreamId="z", Sequence="1") == 0


def test_publish_admin_validates(sim, client):
    assert client.admin("POST", "publish", {"room_id": "r", "stream_id": ""})[0] == 400
    assert client.admin("GET", "publish")[0] == 405
    with pytest.raises(SimulatorError):
        sim.publish("r", None, "u")


# ---------------------------------------------------------------- prohibition rules

def describe(client, room, ids):
    return client.api("DescribeForbidStreamRules", RoomId=room, **{"StreamId[]": ids})


def test_rules_set_describe_delete(sim, client):
    assert client.code("SetForbidStreamRule", RoomId="room1", StreamId="s1", DisableAudio="0", DisableVideo="1",
                       EffectiveTime="3600") == 0
    body = describe(client, "room1", ["s1", "none"])
    assert body["Code"] == 0 and body["Data"]["RoomId"] == "room1"
    s1, none = body["Data"]["ForbidStreamRuleList"]
    assert s1["StreamId"] == "s1" and s1["DisableAudio"] == 0 and s1["DisableVideo"] == 1
    assert s1["EffectiveTime"] == 3600 and abs(s1["CreateTime"] - time.time()) < 5
    assert none == {"StreamId": "none", "DisableAudio": 0, "DisableVideo": 0, "CreateTime": 0, "EffectiveTime": 0}
    # the last call for an ID wins; the default duration is 21600 and more than 24 h is cut
    assert client.code("SetForbidStreamRule", RoomId="room1", StreamId="s1", DisableAudio="1", DisableVideo="0") == 0
    assert describe(client, "room1", ["s1"])["Data"]["ForbidStreamRuleList"][0]["EffectiveTime"] == 21600
    assert client.code("SetForbidStreamRule", RoomId="room1", StreamId="s1", DisableAudio="1", EffectiveTime="999999") == 0
    assert sim.rules()[0]["duration"] == 86400 and sim.rules()[0]["active"]
    # rules are per room
    assert describe(client, "room2", ["s1"])["Data"]["ForbidStreamRuleList"][0]["DisableAudio"] == 0
    assert client.code("DelForbidStreamRule", RoomId="room1", StreamId="s1") == 0
    assert sim.rules() == []
    # deleting a missing rule: 0 by default, 50124 if configured
    assert client.code("DelForbidStreamRule", RoomId="room1", StreamId="s1") == 0
    sim.configure(rule_missing_code=50124)
    assert client.code("DelForbidStreamRule", RoomId="room1", StreamId="s1") == 50124


@pytest.mark.parametrize("params,code", [
    ({"StreamId": "s1", "DisableAudio": "0", "DisableVideo": "0"}, 2),
    ({"StreamId": "s1", "DisableAudio": "2"}, 2),
    ({"StreamId": "s1", "DisableAudio": "1", "EffectiveTime": "0"}, 2),
    ({"StreamId": "s1", "DisableAudio": "1", "EffectiveTime": "-5"}, 2),
    ({"StreamId": "", "DisableAudio": "1"}, 2),
    ({"StreamId": "x" * 257, "DisableAudio": "1"}, 3),
    ({"RoomId": "", "StreamId": "s1", "DisableAudio": "1"}, 2),
])
def test_rule_set_invalid(sim, client, params, code):
    params = dict({"RoomId": "room1"}, **params)
    assert client.code("SetForbidStreamRule", **params) == code
    assert sim.rules() == []


def test_rule_describe_limits(sim, client):
    assert describe(client, "room1", ["s%d" % i for i in range(11)])["Code"] == 2
    assert client.code("DescribeForbidStreamRules", RoomId="room1") == 2
    assert describe(client, "room1", ["s%d" % i for i in range(10)])["Code"] == 0


def test_expired_rules_are_listed_and_timestamp_mode(sim, client):
    past = int(time.time()) - 7200
    sim.add_rules([{"room_id": "room1", "stream_id": "old", "create_time": past, "duration": 3600}])
    item = describe(client, "room1", ["old"])["Data"]["ForbidStreamRuleList"][0]
    assert item["DisableAudio"] == 1 and item["CreateTime"] == past and item["EffectiveTime"] == 3600
    assert sim.rules()[0]["active"] is False
    sim.configure(rule_time="timestamp")
    item = describe(client, "room1", ["old"])["Data"]["ForbidStreamRuleList"][0]
    assert item["EffectiveTime"] == past + 3600


def test_rules_feature_disabled_answers_9(sim, client):
    sim.configure(rules_enabled=False)
    assert client.code("SetForbidStreamRule", RoomId="room1", StreamId="s1", DisableAudio="1") == 9
    assert describe(client, "room1", ["s1"])["Code"] == 9
    assert client.code("DelForbidStreamRule", RoomId="room1", StreamId="s1") == 9


def test_admin_rules(sim, client):
    status, body = client.admin("POST", "rules", {"rules": [{"room_id": "r", "stream_id": "s", "disable_video": 1}]})
    assert status == 200 and body["rules"][0]["disable_video"] == 1 and body["rules"][0]["active"]
    assert client.admin("POST", "rules", {"rules": [{"room_id": "r"}]})[0] == 400
    assert client.admin("POST", "rules", {"rules": [{"room_id": "r", "stream_id": "s", "colour": 1}]})[0] == 400
    assert client.admin("POST", "config", {"rule_time": "bogus"})[0] == 400
    assert client.admin("POST", "config", {"rule_missing_code": 7})[0] == 400
    assert client.admin("POST", "config", {"rules_enabled": "yes"})[0] == 400
    assert client.admin("DELETE", "rules")[1] == {"rules": []}
    sim.add_rules([{"room_id": "r", "stream_id": "s"}])
    sim.reset()
    assert client.admin("GET", "rules")[1] == {"rules": []}


def test_cli_flags(tmp_path):
    import subprocess
    import sys
    import os
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "zego_sim.py")
    proc = subprocess.Popen([sys.executable, path, "--port", "0", "--app-id", str(APP_ID), "--secret", SECRET,
                             "--rules-disabled", "--rule-time", "timestamp", "--rule-missing-code", "50124"],
                            stdout=subprocess.PIPE, universal_newlines=True)
    try:
        url = proc.stdout.readline().strip()
        cfg = requests.get(url + "/_sim/config", timeout=5).json()
        assert cfg["rules_enabled"] is False and cfg["rule_time"] == "timestamp" and cfg["rule_missing_code"] == 50124
    finally:
        proc.terminate()
        proc.wait(10)
