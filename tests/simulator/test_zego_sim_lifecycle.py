# -*- coding: utf-8 -*-
# Copyright: Contributors to the zego.rtc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The simulator's room lifecycle actions: AddStream with its title, extra info and moderation flag (in
listings and in stream_create callbacks), and the room messages SendBroadcastMessage, SendBarrageMessage
and SendCustomCommand with ZEGO's limits, codes and a message log the tests can read."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import time

import pytest

from test_sim_callbacks import Receiver, make_sim
from test_zego_sim import APP_ID, SECRET, Client, _start_cli, _stop_cli
from zego_sim import ACTION_SPECS, Simulator, SimulatorError

ROOMS = {
    "live": {"streams": [{"stream_id": "s1", "user_id": "u1"}], "users": ["u1", "u2", "u3"]},
    "streams-only": [{"stream_id": "x", "user_id": "nobody"}],
}
MESSAGE_ACTIONS = ("SendBroadcastMessage", "SendBarrageMessage", "SendCustomCommand")


@pytest.fixture
def sim():
    with Simulator(app_id=APP_ID, secret=SECRET, rate=0, list_room_interval=0, rooms=ROOMS) as server:
        yield server


def broadcast(client, room="live", content="hello", category="1", user="Server-Administrator", action="SendBroadcastMessage", **extra):
    biz = dict(RoomId=room, UserId=user, MessageCategory=category, MessageContent=content)
    biz.update(extra)
    return client.api(action, **biz)


def command(client, room="live", content="mute", to=None, sender="Server-Administrator", **extra):
    biz = dict(RoomId=room, FromUserId=sender, MessageContent=content)
    if to is not None:
        biz["ToUserId[]"] = to
    biz.update(extra)
    return client.api("SendCustomCommand", **biz)


# ---------------------------------------------------------------- AddStream


def test_add_stream_keeps_title_extra_info_and_censor_flag(sim, client):
    assert client.code("AddStream", RoomId="live", UserId="Server-Administrator", StreamId="cdn1",
                       StreamTitle="Watch party", ExtraInfo='{"src": "cdn"}', CensorFlag="1") == 0
    assert client.code("AddStream", RoomId="live", UserId="Server-Administrator", StreamId="cdn2") == 0
    added = dict((s["stream_id"], s) for s in sim.state()["rooms"]["live"])
    assert (added["cdn1"]["title"], added["cdn1"]["extra_info"], added["cdn1"]["censor_flag"]) == \
        ("Watch party", '{"src": "cdn"}', 1)
    assert (added["cdn2"]["title"], added["cdn2"]["extra_info"], added["cdn2"]["censor_flag"]) == ("", "", 0)
    # seeded streams keep their shape
    assert "title" not in added["s1"]
    listed = client.api("DescribeSimpleStreamList", RoomId="live")["Data"]["StreamList"]
    assert [i["StreamId"] for i in listed] == ["s1", "cdn1", "cdn2"]
    # ZEGO lists neither title nor extra info
    assert set(listed[1]) == set(["StreamId", "UserId", "UserName", "CreateTime", "StreamNumberId"])
    entry = [e for e in sim.log() if e["stream_id"] == "cdn1"][0]
    assert (entry["stream_title"], entry["extra_info"], entry["censor_flag"]) == ("Watch party", '{"src": "cdn"}', "1")


@pytest.mark.parametrize("flag", ["2", "-1", "yes", ""])
def test_add_stream_refuses_an_undocumented_censor_flag(sim, client, flag):
    assert client.code("AddStream", RoomId="live", UserId="u", StreamId="cdn", CensorFlag=flag) == 2
    assert "cdn" not in [s["stream_id"] for s in sim.state()["rooms"]["live"]]


def test_add_stream_limits(sim, client):
    assert client.code("AddStream", RoomId="live", UserId="u", StreamId="a", StreamTitle="t" * 127,
                       ExtraInfo="e" * 1024) == 0
    assert client.code("AddStream", RoomId="live", UserId="u", StreamId="b", ExtraInfo="e" * 1025) == 3
    # bytes, not characters
    assert client.code("AddStream", RoomId="live", UserId="u", StreamId="c", StreamTitle="\u00e9" * 64) == 3
    assert client.code("AddStream", RoomId="nowhere", UserId="u", StreamId="d") == 104
    # a room with streams but no users has been destroyed for ZEGO: AddStream cannot create it again
    assert client.code("AddStream", RoomId="streams-only", UserId="u", StreamId="d") == 104
    assert [s["stream_id"] for s in sim.state()["rooms"]["streams-only"]] == ["x"]
    assert [s["stream_id"] for s in sim.state()["rooms"]["live"]] == ["s1", "a"]


def test_add_stream_test_environment_allows_one_per_second():
    with Simulator(app_id=APP_ID, secret=SECRET, rate=10, rooms=ROOMS) as server:
        cli = Client(server.base_url)
        codes = [cli.code("AddStream", RoomId="live", UserId="u", StreamId="t%d" % i, IsTest="true") for i in range(3)]
        assert codes == [0, 206, 206]
        time.sleep(1.05)
        assert cli.code("AddStream", RoomId="live", UserId="u", StreamId="t9", IsTest="true") == 0


def test_added_stream_sends_stream_create_with_title_and_extra_info():
    with Receiver() as rec, make_sim(rec.url, rooms={"party": {"users": ["host"]}}) as server:
        cli = Client(server.base_url)
        assert cli.code("AddStream", RoomId="party", UserId="Server-Administrator", UserName="Ops",
                        StreamId="cdn_feed", StreamTitle="Movie", ExtraInfo="x=1") == 0
        assert server.callbacks.wait_idle(30)
        (body,) = rec.bodies()
        assert body["event"] == "stream_create"
        assert (body["room_id"], body["stream_id"], body["user_id"], body["user_name"]) == \
            ("party", "cdn_feed", "Server-Administrator", "Ops")
        assert (body["title"], body["extra_info"]) == ("Movie", "x=1")
        # an AddStream that fails (the stream is there already) sends nothing
        assert cli.code("AddStream", RoomId="party", UserId="u", StreamId="cdn_feed") == 1012
        assert server.callbacks.wait_idle(30)
        assert len(rec.bodies()) == 1


# ---------------------------------------------------------------- room messages


def test_broadcast_numbers_its_messages_per_room_and_logs_them(sim, client):
    first = broadcast(client, content="Room closes in 5 minutes")
    second = broadcast(client, content="second", category="2", UserName="Moderation")
    assert (first["Code"], second["Code"]) == (0, 0)
    assert isinstance(first["Data"]["MessageId"], int)
    assert second["Data"]["MessageId"] == first["Data"]["MessageId"] + 1
    msgs = sim.messages("live")
    assert [(m["kind"], m["category"], m["content"], m["user_name"]) for m in msgs] == \
        [("broadcast", 1, "Room closes in 5 minutes", None), ("broadcast", 2, "second", "Moderation")]
    assert msgs[0]["message_id"] == first["Data"]["MessageId"]
    assert msgs[0]["recipients"] == ["u1", "u2", "u3"]
    entry = sim.log()[-2]
    assert (entry["action"], entry["room_id"], entry["user_id"], entry["message_category"], entry["message_content"]) == \
        ("SendBroadcastMessage", "live", "Server-Administrator", "1", "Room closes in 5 minutes")


def test_barrage_message_id_is_a_string(sim, client):
    answer = broadcast(client, action="SendBarrageMessage", content="wave")
    assert answer["Code"] == 0
    message_id = answer["Data"]["MessageId"]
    assert isinstance(message_id, str) and message_id.startswith("1_")
    (msg,) = sim.messages()
    assert (msg["kind"], msg["message_id"], msg["action"]) == ("barrage", message_id, "SendBarrageMessage")


def test_a_user_sending_as_themselves_does_not_receive_it(sim, client):
    assert broadcast(client, user="u2")["Code"] == 0
    assert sim.messages()[-1]["recipients"] == ["u1", "u3"]


def test_custom_command_to_chosen_users_or_the_whole_room(sim, client):
    answer = command(client, to=["u1", "u3", "not-here"])
    assert answer["Code"] == 0 and "Data" not in answer
    answer = command(client, content="all")
    assert answer["Code"] == 0
    to_some, to_all = sim.messages("live")
    assert (to_some["kind"], to_some["to_user_ids"], to_some["recipients"], to_some["message_id"]) == \
        ("command", ["u1", "u3", "not-here"], ["u1", "u3"], None)
    assert to_some["category"] is None and to_some["user_id"] == "Server-Administrator"
    assert (to_all["to_user_ids"], to_all["recipients"]) == (None, ["u1", "u2", "u3"])
    entry = sim.log()[-2]
    assert entry["from_user_id"] == "Server-Administrator" and entry["arrays"] == {"ToUserId": ["u1", "u3", "not-here"]}


def test_custom_command_takes_at_most_ten_targets(sim, client):
    assert command(client, to=["u%d" % i for i in range(10)])["Code"] == 0
    assert command(client, to=["u%d" % i for i in range(11)])["Code"] == 2
    assert command(client, to=["u1", ""])["Code"] == 2
    assert command(client, to=["u" * 65])["Code"] == 3
    assert len(sim.messages()) == 1


@pytest.mark.parametrize("action", MESSAGE_ACTIONS)
def test_message_content_limits(sim, client, action):
    def send(content):
        if action == "SendCustomCommand":
            return command(client, content=content)["Code"]
        return broadcast(client, content=content, action=action)["Code"]

    assert send("x" * 1024) == 0
    assert send("x" * 1025) == 50012
    assert send("\u00e9" * 513) == 50012  # 1026 bytes
    assert send("") == 1008
    assert len(sim.messages()) == 1


@pytest.mark.parametrize("action", ("SendBroadcastMessage", "SendBarrageMessage"))
def test_message_parameters(sim, client, action):
    assert broadcast(client, action=action, category="3")["Code"] == 2
    assert broadcast(client, action=action, category="")["Code"] == 2
    assert broadcast(client, action=action, user="")["Code"] == 2
    assert broadcast(client, action=action, room="")["Code"] == 2
    assert broadcast(client, action=action, user="u" * 65)["Code"] == 3
    assert broadcast(client, action=action, room="r" * 129)["Code"] == 3
    assert broadcast(client, action=action, UserName="n" * 257)["Code"] == 3
    assert sim.messages() == []


def test_custom_command_parameters(sim, client):
    assert command(client, sender="")["Code"] == 2
    assert command(client, sender="f" * 65)["Code"] == 3
    # the sender of a command is FromUserId: UserId is not read
    assert client.code("SendCustomCommand", RoomId="live", UserId="u", MessageContent="x") == 2
    assert sim.messages() == []


@pytest.mark.parametrize("action", MESSAGE_ACTIONS)
def test_message_to_a_room_that_does_not_exist(sim, client, action):
    def send(room):
        if action == "SendCustomCommand":
            return command(client, room=room)["Code"]
        return broadcast(client, room=room, action=action)["Code"]

    assert send("nowhere") == 104
    # a room with streams but no users is destroyed for ZEGO
    assert send("streams-only") == 104
    for code in (5024, 50001):
        sim.configure(message_missing_room_code=code)
        assert send("nowhere") == code
    assert sim.messages() == []


def test_message_missing_room_code_is_checked():
    with pytest.raises(SimulatorError):
        Simulator(app_id=APP_ID, secret=SECRET, message_missing_room_code=138)
    sim = Simulator(app_id=APP_ID, secret=SECRET)
    with pytest.raises(SimulatorError):
        sim.configure(message_missing_room_code=0)
    assert sim.config()["message_missing_room_code"] == 104


@pytest.mark.parametrize("action", MESSAGE_ACTIONS)
def test_message_rate_limits(action):
    assert (ACTION_SPECS[action]["app"], ACTION_SPECS[action]["test"], ACTION_SPECS[action]["code"]) == (100, 10, 206)
    with Simulator(app_id=APP_ID, secret=SECRET, rooms=ROOMS) as server:
        cli = Client(server.base_url)

        def send(**extra):
            if action == "SendCustomCommand":
                return command(cli, **extra)["Code"]
            return broadcast(cli, action=action, **extra)["Code"]

        codes = [send(IsTest="true") for dummy in range(11)]
        assert codes == [0] * 10 + [206]
        assert len(server.messages()) == 10
        assert server.stats()["by_action"][action] == {"0": 10, "206": 1}
        # production has its own window of 100 (counted at one instant: 101 requests over HTTP can take longer
        # than the window on a loaded machine)
        with server._lock:  # pylint: disable=protected-access
            codes = [server._rate_limited_locked(action, {"RoomId": "live"}, 1000.0)  # pylint: disable=protected-access
                     for dummy in range(101)]
        assert codes == [0] * 100 + [206]


def test_each_message_action_has_its_own_window():
    with Simulator(app_id=APP_ID, secret=SECRET, rooms=ROOMS) as server:
        cli = Client(server.base_url)
        assert [broadcast(cli, IsTest="true")["Code"] for dummy in range(10)] == [0] * 10
        assert broadcast(cli, action="SendBarrageMessage", IsTest="true")["Code"] == 0
        assert command(cli, IsTest="true")["Code"] == 0
        assert broadcast(cli, IsTest="true")["Code"] == 206


def test_queued_faults_apply_to_messages(sim, client):
    sim.queue_fault("code206", action="SendBroadcastMessage", room_id="live")
    assert broadcast(client)["Code"] == 206
    assert broadcast(client)["Code"] == 0
    assert len(sim.messages()) == 1


def test_admin_messages_and_reset(sim, client):
    broadcast(client)
    command(client, to=["u1"])
    status, body = client.admin("GET", "messages")
    assert status == 200 and [m["kind"] for m in body["messages"]] == ["broadcast", "command"]
    status, body = client.admin("GET", "messages?room_id=other")
    assert status == 200 and body["messages"] == []
    assert client.admin("DELETE", "messages") == (200, {"messages": []})
    assert sim.messages() == []
    broadcast(client)
    assert client.admin("POST", "messages")[0] == 405
    sim.reset(ROOMS)
    assert sim.messages() == []
    # message numbers start again after a reset
    assert broadcast(client)["Data"]["MessageId"] == 1


def test_cli_message_missing_room_code():
    proc, url = _start_cli("--message-missing-room-code", "50001")
    try:
        cli = Client(url)
        assert broadcast(cli, room="nowhere")["Code"] == 50001
    finally:
        _stop_cli(proc)
