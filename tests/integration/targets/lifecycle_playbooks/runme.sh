#!/usr/bin/env bash
# playbooks/add_streams.yml, notify_rooms.yml and the notice of kick_users.yml and close_rooms.yml against the
# local ZEGO simulator, the way an operator or an AWX job template runs them: credentials in ZEGO_* environment
# variables, survey-style text, --check -> real -> repeat, reports, and bad input failing before any API call.
set -eu
# shellcheck source=tests/integration/targets/setup_zego_simulator/simulator.sh
source ../setup_zego_simulator/simulator.sh
sim_start --rate 10
# shellcheck source=tests/integration/targets/setup_zego_simulator/playbooks.sh
source ../setup_zego_simulator/playbooks.sh
# report FILE EXPR: assert EXPR about the JSON report r
report() { "$ZEGO_SIM_PY" -c 'import json, sys; r = json.load(open(sys.argv[1])); assert eval(sys.argv[2]), json.dumps(r, indent=1)' "$@"; }
count() { py 'len([e for e in d["entries"] if e["action"] == sys.argv[3]])' "$(sim GET log)" "$1"; }
streams() { py '" ".join(s["stream_id"] for s in d["rooms"].get(sys.argv[3], []))' "$(sim GET state)" "$1"; }
users() { py '" ".join(u["user_id"] for u in d["users"])' "$(sim GET "users?room_id=$1")"; }
# the messages sent, sorted (rooms get them in parallel)
messages() { py '" | ".join(sorted("%s %s %s" % (m["room_id"], m["kind"], m["content"]) for m in d["messages"]))' "$(sim GET messages)"; }
no_secret() { check test "$(grep -c "$ZEGO_TEST_SECRET" "$@" "$OUT/last.log" | grep -vc ':0$')" = 0; }

sim POST reset '{"rooms": {"party": {"streams": [{"stream_id": "cam", "user_id": "host"}], "users": ["host", "guest"]},
                           "k1": {"users": ["troll", "fan"]}, "k2": {"users": ["spammer"]},
                           "c1": {"users": ["x"]}, "c2": {"users": ["y", "z"]}}}' > /dev/null

# --- add_streams.yml: --check lists and adds nothing; the real run adds; the repeat changes nothing ------------
check play zego.rtc.add_streams --check -e '{"room_id": "party", "stream_ids": "cdn_feed\ncam, cdn_feed", "title": "Movie night"}'
check grep -q '"party/cdn_feed"' "$OUT/last.log"
check test "$(count AddStream)" = 0
check test "$(streams party)" = "cam"
check play "$COLL/playbooks/add_streams.yml" -e '{"room_id": "party", "stream_ids": "cdn_feed\ncam, cdn_feed", "title": "Movie night",
    "extra_info": "{\"src\": \"cdn\"}", "moderation_opt_out": "true", "report_path": "'"$OUT"'/add.json"}'
check test "$(recap_changed)" -gt 0
check test "$(streams party)" = "cam cdn_feed"
check test "$(count AddStream)" = 1
check report "$OUT/add.json" '(r["summary"]["added"], r["summary"]["already_present"], r["summary"]["failed"]) == (1, 1, 0)'
check report "$OUT/add.json" '[s["outcome"] for s in r["streams"]] == ["added", "already_present"] and r["check_mode"] is False'
check test "$(py '[s for s in d["rooms"]["party"] if s["stream_id"] == "cdn_feed"][0]["censor_flag"]' "$(sim GET state)")" = 1
no_secret "$OUT/add.json"
check play zego.rtc.add_streams -e '{"streams": [{"room_id": "party", "stream_id": "cdn_feed"}]}'
check test "$(recap_changed)" = 0
check test "$(count AddStream)" = 1
# a room that does not exist: the play fails at the end, naming it; fail_on_error=false keeps it green
expect_fail "1 of 1 streams failed: nowhere cdn_feed 104" zego.rtc.add_streams -e '{"room_id": "nowhere", "stream_ids": "cdn_feed"}'
check play zego.rtc.add_streams -e '{"room_id": "nowhere", "stream_ids": "cdn_feed", "fail_on_error": "false"}'

# --- notify_rooms.yml --------------------------------------------------------------------------------------------
sim DELETE log > /dev/null
check play zego.rtc.notify_rooms --check -e '{"room_ids": "k1, k2", "message": "Be nice"}'
check grep -q '"would_notify": \[' "$OUT/last.log"
check test "$(messages)" = ""
check play zego.rtc.notify_rooms -e '{"room_ids": "k1, k2", "message": "Be nice", "report_path": "'"$OUT"'/notify.json"}'
check test "$(recap_changed)" -gt 0
check test "$(messages)" = "k1 broadcast Be nice | k2 broadcast Be nice"
check report "$OUT/notify.json" 'r["summary"]["sent"] == 2 and r["sent_message"]["category"] == "system" and isinstance(r["rooms"][0]["message_id"], int)'
no_secret "$OUT/notify.json"
# a command to chosen users, from survey text; a chat barrage
sim DELETE messages > /dev/null
check play "$COLL/playbooks/notify_rooms.yml" -e '{"room_ids": "k1", "message": "{\"mute\": true}", "kind": "command", "to_user_ids": "troll\nfan, troll"}'
check test "$(py 'd["messages"][0]["to_user_ids"]' "$(sim GET messages)")" = "['troll', 'fan']"
check play zego.rtc.notify_rooms -e '{"rooms": ["k2"], "message": "hi", "kind": "barrage", "category": "chat", "user_name": "Mod"}'
check test "$(py '(d["messages"][1]["kind"], d["messages"][1]["category"], d["messages"][1]["user_name"])' "$(sim GET messages)")" = "('barrage', 2, 'Mod')"
expect_fail "1 of 2 rooms failed: nowhere 104" zego.rtc.notify_rooms -e '{"room_ids": "k1 nowhere", "message": "hello"}'

# --- kick_users.yml and close_rooms.yml with a notice ---------------------------------------------------------
sim DELETE messages > /dev/null
sim DELETE log > /dev/null
# --check: the notice is only reported, nobody is kicked
check play zego.rtc.kick_users --check -e '{"room_id": "k1", "user_ids": "troll", "notice": "A moderator is removing a user", "notice_delay": 1}'
check test "$(messages)" = ""
check test "$(count KickoutUser)" = 0
check play zego.rtc.kick_users -e '{"users": [{"room_id": "k1", "user_id": "troll"}, {"room_id": "k2", "user_id": "spammer"}],
    "notice": "A moderator is removing a user", "notice_delay": "1", "report_path": "'"$OUT"'/kick.json"}'
check test "$(messages)" = "k1 broadcast A moderator is removing a user | k2 broadcast A moderator is removing a user"
check test "$(users k1)" = "fan"
check test "$(users k2)" = ""
# the notice came first, and the kick at least notice_delay later
check test "$(py '[e["action"] for e in d["entries"] if e["action"] in ("SendBroadcastMessage", "KickoutUser")]' "$(sim GET log)")" \
    = "['SendBroadcastMessage', 'SendBroadcastMessage', 'KickoutUser', 'KickoutUser']"
check test "$(py 'next(e["time"] for e in d["entries"] if e["action"] == "KickoutUser") - [e["time"] for e in d["entries"] if e["action"] == "SendBroadcastMessage"][-1] >= 1' "$(sim GET log)")" = True
check report "$OUT/kick.json" 'r["notice"]["message"] == "A moderator is removing a user" and r["notice"]["delay"] == 1'
check report "$OUT/kick.json" 'r["notice"]["summary"]["sent"] == 2 and [x["room_id"] for x in r["notice"]["rooms"]] == ["k1", "k2"]'
check report "$OUT/kick.json" 'r["summary"]["kicked"] == 2'
# without a notice nothing is broadcast and the report says so
check play zego.rtc.kick_users -e '{"room_id": "k1", "user_ids": "fan", "report_path": "'"$OUT"'/kick2.json"}'
check report "$OUT/kick2.json" 'not r["notice"]'
check test "$(py 'len(d["messages"])' "$(sim GET messages)")" = 2

sim DELETE messages > /dev/null
check play zego.rtc.close_rooms --check -e '{"room_ids": "c1, c2", "notice": "Closing now"}'
check test "$(messages)" = ""
check test "$(users c2)" = "y z"
# a notice to a room that does not exist fails for that room only: reported, and the closing goes ahead
check play zego.rtc.close_rooms -e '{"room_ids": "c1, c2\nnowhere", "notice": "Closing now", "report_path": "'"$OUT"'/close.json"}'
check test "$(messages)" = "c1 broadcast Closing now | c2 broadcast Closing now"
check test "$(users c1)" = ""
check test "$(users c2)" = ""
check report "$OUT/close.json" '[x["outcome"] for x in r["notice"]["rooms"]] == ["sent", "sent", "failed"] and r["notice"]["rooms"][2]["code"] == 104'
check report "$OUT/close.json" '(r["summary"]["closed"], r["summary"]["already_absent"]) == (2, 1)'
no_secret "$OUT/kick.json" "$OUT/close.json"

# --- every survey question answered with its default (AWX sends them all), as in awx/survey_*.json -------------
sim POST users '{"room_id": "s1", "users": ["a"]}' > /dev/null
sim DELETE messages > /dev/null
check play zego.rtc.add_streams -e '{"room_id": "s1", "stream_ids": "feed", "title": "", "extra_info": "",
    "moderation_opt_out": "false", "user_id": "", "report_path": "", "fail_on_error": "true"}'
check test "$(streams s1)" = "feed"
check play zego.rtc.notify_rooms -e '{"room_ids": "s1", "message": "hi", "kind": "broadcast", "category": "system",
    "to_user_ids": "", "user_id": "", "report_path": "", "fail_on_error": "true"}'
check play zego.rtc.notify_rooms -e '{"room_ids": "s1", "message": "cmd", "kind": "command", "category": "system",
    "to_user_ids": "a", "user_id": "", "report_path": "", "fail_on_error": "true"}'
check test "$(messages)" = "s1 broadcast hi | s1 command cmd"
check play zego.rtc.kick_users -e '{"room_id": "s1", "user_ids": "nobody", "custom_reason": "", "notice": "", "notice_delay": 0,
    "report_path": "", "fail_on_error": "true"}'
check play zego.rtc.close_rooms -e '{"room_ids": "s1", "custom_reason": "", "room_close_callback": "false", "notice": "",
    "notice_delay": 0, "report_path": "", "fail_on_error": "true"}'
check test "$(messages)" = "s1 broadcast hi | s1 command cmd"
check test "$(users s1)" = ""

# --- bad input fails with a clear message and sends nothing --------------------------------------------------------
sim DELETE log > /dev/null
expect_fail "nothing to add" "$COLL/playbooks/add_streams.yml"
expect_fail "title is 128 bytes long" zego.rtc.add_streams -e '{"room_id": "party", "stream_ids": "x", "title": "'"$(printf 't%.0s' $(seq 128))"'"}'
expect_fail "extra_info is 1025 bytes long" zego.rtc.add_streams -e '{"room_id": "party", "stream_ids": "x", "extra_info": "'"$(printf 'e%.0s' $(seq 1025))"'"}'
expect_fail "stream_ids\[1\].stream_id" zego.rtc.add_streams -e '{"room_id": "party", "stream_ids": "ok bad|id"}'
expect_fail "moderation_opt_out must be true or false" zego.rtc.add_streams -e '{"room_id": "party", "stream_ids": "x", "moderation_opt_out": "maybe"}'
expect_fail "message is required" zego.rtc.notify_rooms -e '{"room_ids": "k1"}'
expect_fail "message is 1025 bytes long" zego.rtc.notify_rooms -e '{"room_ids": "k1", "message": "'"$(printf 'm%.0s' $(seq 1025))"'"}'
expect_fail "kind must be one of" zego.rtc.notify_rooms -e '{"room_ids": "k1", "message": "x", "kind": "shout"}'
expect_fail "to_user_ids applies to kind=command only" zego.rtc.notify_rooms -e '{"room_ids": "k1", "message": "x", "to_user_ids": "a"}'
expect_fail "to_user_ids\[1\]" zego.rtc.notify_rooms -e '{"room_ids": "k1", "message": "x", "kind": "command", "to_user_ids": "a bad|user"}'
expect_fail "nothing to notify" zego.rtc.notify_rooms -e '{"message": "x"}'
expect_fail "notice is 1025 bytes long" zego.rtc.kick_users -e '{"room_id": "k1", "user_ids": "fan", "notice": "'"$(printf 'n%.0s' $(seq 1025))"'"}'
expect_fail "notice_delay must be a number of seconds" zego.rtc.close_rooms -e '{"room_ids": "c1", "notice": "x", "notice_delay": "soon"}'
expect_fail "notice_delay needs a notice" zego.rtc.close_rooms -e '{"room_ids": "c1", "notice_delay": 5}'
check test "$(requests)" = 0
