# -*- coding: utf-8 -*-
# Copyright: Contributors to the zego.rtc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The simulator's room-moderation actions: users in rooms, CloseRoom, KickoutUser, DescribeUserNum,
DescribeUsers and DescribeUserList, with ZEGO's codes, batch limits and rate limits."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import time

import pytest

from test_zego_sim import APP_ID, SECRET
from zego_sim import Simulator, SimulatorError

ROOMS = {
    "live": {"streams": [{"stream_id": "s1", "user_id": "u1"}, {"stream_id": "s2", "user_id": "u2"}],
             "users": ["u1", {"user_id": "u2", "user_name": "Bo", "admin": True}, "u3"]},
    "quiet": {"users": ["q1"]},
    "streams-only": [{"stream_id": "x", "user_id": "nobody"}],
}


@pytest.fixture
def sim():
    with Simulator(app_id=APP_ID, secret=SECRET, rate=0, list_room_interval=0, rooms=ROOMS) as server:
        yield server


def user_ids(sim, room):
    return [u["user_id"] for u in sim.users(room)]


def test_seed_with_users_is_compatible_with_stream_lists(sim):
    state = sim.state()
    assert [s["stream_id"] for s in state["rooms"]["live"]] == ["s1", "s2"]
    assert state["rooms"]["quiet"] == [] and [s["stream_id"] for s in state["rooms"]["streams-only"]] == ["x"]
    assert set(state["users"]) == set(["live", "quiet"])
    bo = state["users"]["live"][1]
    assert bo["user_id"] == "u2" and bo["user_name"] == "Bo" and bo["admin"] is True
    assert set(bo) == set(["user_id", "user_name", "user_role", "login_time", "admin"])


def test_state_without_users_has_no_users_key():
    with Simulator(app_id=APP_ID, secret=SECRET, rooms={"r": [{"stream_id": "s", "user_id": "u"}]}) as sim:
        assert list(sim.state()) == ["rooms"]


@pytest.mark.parametrize("rooms", [
    {"r": {"users": "u1"}},
    {"r": {"users": [{"user_name": "no id"}]}},
    {"r": {"users": [{"user_id": "u", "colour": "red"}]}},
    {"r": {"users": [{"user_id": "u", "admin": "yes"}]}},
    {"r": {"streams": [], "people": []}},
])
def test_bad_users_in_seed_are_refused(rooms):
    with pytest.raises(SimulatorError):
        Simulator(app_id=APP_ID, secret=SECRET, rooms=rooms)


def test_admin_users_add_list_remove(sim, client):
    status, body = client.admin("POST", "users", {"room_id": "new", "users": ["n1", {"user_id": "n2", "admin": True}]})
    assert status == 200 and [u["user_id"] for u in body["users"]] == ["n1", "n2"]
    status, body = client.admin("GET", "users")
    assert status == 200 and set(body["users"]) == set(["live", "quiet", "new"])
    status, body = client.admin("DELETE", "users", {"room_id": "new", "user_ids": ["n1", "gone"]})
    assert status == 200 and body["removed"] == 1 and [u["user_id"] for u in body["users"]] == ["n2"]
    status, body = client.admin("POST", "users", {"users": ["x"]})
    assert status == 400
    status, body = client.admin("POST", "reset", {"rooms": {"z": {"users": ["z1"]}}})
    assert status == 200 and body["users"] == {"z": [dict(body["users"]["z"][0], user_id="z1")]}


def test_close_room_then_5018(sim, client):
    assert client.code("CloseRoom", RoomId="live", CustomReason="spam", RoomCloseCallback="true") == 0
    assert "live" not in sim.state()["rooms"]
    entry = sim.log()[-1]
    assert entry["custom_reason"] == "spam" and entry["room_close_callback"] == "true"
    time.sleep(1.05)  # CloseRoom: 1 request per second per AppID
    assert client.code("CloseRoom", RoomId="live") == 5018


def test_close_room_without_users_is_5018(sim, client):
    # ZEGO destroys a room when its last user leaves; streams alone do not keep it open
    assert client.code("CloseRoom", RoomId="streams-only") == 5018


def test_close_room_param_errors_and_rate_limit(sim, client):
    assert client.code("CloseRoom") == 2
    time.sleep(1.05)
    assert client.code("CloseRoom", RoomId="live", RoomCloseCallback="maybe") == 2
    time.sleep(1.05)
    assert client.code("CloseRoom", RoomId="live", CustomReason="x" * 257) == 3
    assert client.code("CloseRoom", RoomId="quiet") == 206  # the second call within one second
    assert user_ids(sim, "quiet") == ["q1"] and user_ids(sim, "live") == ["u1", "u2", "u3"]


def test_kickout_users_kicks_present_ones_and_ends_their_streams(sim, client):
    assert client.code("KickoutUser", RoomId="live", CustomReason="abuse", **{"UserId[]": ["u1", "nobody"]}) == 0
    assert user_ids(sim, "live") == ["u2", "u3"]
    assert [s["stream_id"] for s in sim.state()["rooms"]["live"]] == ["s2"]
    entry = sim.log()[-1]
    assert entry["arrays"] == {"UserId": ["u1", "nobody"]} and entry["custom_reason"] == "abuse"


def test_kickout_limits_and_codes(sim, client):
    assert client.code("KickoutUser", RoomId="live", **{"UserId[]": ["a", "b", "c", "d", "e", "f"]}) == 50011
    assert client.code("KickoutUser", RoomId="live") == 2
    assert client.code("KickoutUser", RoomId="live", **{"UserId[]": ["u" * 65]}) == 3
    assert client.code("KickoutUser", RoomId="streams-only", **{"UserId[]": ["nobody"]}) == 50001
    # the un-bracketed spelling is not the array ZEGO documents
    assert client.code("KickoutUser", RoomId="live", UserId="u1") == 2
    assert user_ids(sim, "live") == ["u1", "u2", "u3"]


def test_describe_users(sim, client):
    body = client.api("DescribeUsers", RoomId="live", **{"UserId[]": ["u1", "zz"]})
    assert body["Code"] == 0
    status = body["Data"]["UserStatusList"]
    assert [(s["UserId"], s["Status"]) for s in status] == [("u1", 1), ("zz", 0)]
    assert status[0]["LoginTime"] > 0 and status[0]["UserRole"] == 1
    assert client.code("DescribeUsers", RoomId="nowhere", **{"UserId[]": ["u1"]}) == 50001
    assert client.code("DescribeUsers", RoomId="live", **{"UserId[]": ["u%d" % i for i in range(11)]}) == 2


def test_describe_user_num(sim, client):
    body = client.api("DescribeUserNum", **{"RoomId[]": ["live", "nowhere", "streams-only"]})
    assert body["Data"]["UserCountList"] == [
        {"RoomId": "live", "UserCount": 3, "AdminUserCount": 1},
        {"RoomId": "nowhere", "UserCount": 0, "AdminUserCount": 0},
        {"RoomId": "streams-only", "UserCount": 0, "AdminUserCount": 0},
    ]
    assert client.code("DescribeUserNum", **{"RoomId[]": ["r%d" % i for i in range(11)]}) == 2
    assert client.code("DescribeUserNum", RoomId="live") == 2


def test_describe_user_num_rate_limit_is_10_per_second(sim, client):
    codes = [client.code("DescribeUserNum", **{"RoomId[]": ["live"]}) for dummy in range(11)]
    assert codes[:10] == [0] * 10 and codes[10] == 206


def test_describe_user_list_pages_with_the_marker(sim, client):
    sim.add_users("big", [{"user_id": "b%d" % i, "login_time": 1000 + i} for i in range(5)])
    first = client.api("DescribeUserList", RoomId="big", Limit="2")["Data"]
    assert [u["UserId"] for u in first["UserList"]] == ["b0", "b1"] and first["Marker"]
    time.sleep(1.05)  # one call per room per second
    second = client.api("DescribeUserList", RoomId="big", Limit="2", Marker=first["Marker"])["Data"]
    assert [u["UserId"] for u in second["UserList"]] == ["b2", "b3"]
    time.sleep(1.05)
    last = client.api("DescribeUserList", RoomId="big", Limit="2", Marker=second["Marker"])["Data"]
    assert [u["UserId"] for u in last["UserList"]] == ["b4"] and last["Marker"] == ""
    time.sleep(1.05)
    newest = client.api("DescribeUserList", RoomId="big", Mode="1")["Data"]
    assert [u["UserId"] for u in newest["UserList"]] == ["b4", "b3", "b2", "b1", "b0"]


def test_describe_user_list_room_limit_and_missing_room(sim, client):
    assert client.api("DescribeUserList", RoomId="nowhere")["Data"] == {"Marker": "", "UserList": []}
    assert client.code("DescribeUserList", RoomId="live") == 0
    assert client.code("DescribeUserList", RoomId="live") == 207
    assert client.code("DescribeUserList", RoomId="quiet", Limit="201") == 2
    assert client.code("DescribeUserList", RoomId="other", Marker="bogus") == 2


def test_faults_apply_to_the_new_actions(sim, client):
    sim.queue_fault("code1", action="KickoutUser", room_id="live")
    assert client.code("KickoutUser", RoomId="live", **{"UserId[]": ["u1"]}) == 1
    assert user_ids(sim, "live") == ["u1", "u2", "u3"]
