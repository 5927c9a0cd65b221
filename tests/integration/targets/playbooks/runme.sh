#!/usr/bin/env bash
# playbooks/delete_streams.yml, purge_rooms.yml, kick_users.yml and close_rooms.yml against the local ZEGO simulator, the way
# an operator or an AWX job template runs them: credentials in ZEGO_* environment variables, inputs as
# lists or as survey-style text, and empty or malformed input failing before any API call.
set -eu
# shellcheck source=tests/integration/targets/setup_zego_simulator/simulator.sh
source ../setup_zego_simulator/simulator.sh
sim_start --rate 10
# shellcheck source=tests/integration/targets/setup_zego_simulator/playbooks.sh
source ../setup_zego_simulator/playbooks.sh
# simq.py ACTION [ARG]: drive and inspect the simulator (reset, clear-log, requests, streams ROOM, ...)
simq() { "$ZEGO_SIM_PY" simq.py "$ZEGO_SIM_URL" "$@"; }

simq reset '{"d1": ["s1", "s2", "s3"], "d2": ["a"], "d3": ["s1", "s2", "s3", "s4", "s5"],
             "p1": ["host_1", "a1", "a2"], "p2": ["host_2", "b1"], "p3": ["c1"], "p4": ["host_4", "c2"]}'

# delete_streams.yml from a checkout, a list of streams in a vars file: changed, then unchanged
cat > "$OUT/vars.yml" <<'YAML'
streams:
  - {room_id: d1, stream_id: s1}
  - {room_id: d1, stream_id: s2}
  - {room_id: d2, stream_id: a}
YAML
check play "$COLL/playbooks/delete_streams.yml" -e "@$OUT/vars.yml"
check test "$(recap_changed)" -gt 0
check play "$COLL/playbooks/delete_streams.yml" -e "@$OUT/vars.yml"
check test "$(recap_changed)" = 0
check test "$(simq streams d1)" = "s3"
check test "$(simq streams d2)" = ""

# survey-style text: room_id plus stream_ids separated by newlines, commas and spaces; a report
check play zego.rtc.delete_streams -e '{"room_id": "d3", "stream_ids": "s1\ns2, s3 s4,,\n", "report_path": "'"$OUT"'/report.json"}'
check test "$(simq streams d3)" = "s5"
check "$ZEGO_SIM_PY" -c 'import json, sys; r = json.load(open(sys.argv[1])); assert r["summary"]["deleted"] == 4, r["summary"]' "$OUT/report.json"
check test "$(grep -c "$ZEGO_TEST_SECRET" "$OUT/report.json" "$OUT/last.log" | grep -vc ':0$')" = 0

# purge_rooms.yml by its FQCN: a list of rooms plus survey-style room_ids, and a keep regex
check play zego.rtc.purge_rooms -e '{"rooms": ["p3"], "room_ids": "p1\np2, p4", "keep_regex": "^host_"}'
check test "$(simq streams p1)" = "host_1"
check test "$(simq streams p2)" = "host_2"
check test "$(simq streams p3)" = ""
check test "$(simq streams p4)" = "host_4"

# empty or malformed input fails with a clear message and sends nothing
simq clear-log
expect_fail "nothing to delete" "$COLL/playbooks/delete_streams.yml"
expect_fail "nothing to delete" "$COLL/playbooks/delete_streams.yml" -e '{"stream_ids": "", "room_id": ""}'
expect_fail "stream_ids is empty" "$COLL/playbooks/delete_streams.yml" -e '{"room_id": "d1", "stream_ids": " , \n"}'
expect_fail "stream_ids needs room_id" "$COLL/playbooks/delete_streams.yml" -e '{"stream_ids": "s1 s2"}'
expect_fail "streams must be a list" "$COLL/playbooks/delete_streams.yml" -e '{"streams": "d1/s3"}'
expect_fail "stream_ids\[1\].stream_id" "$COLL/playbooks/delete_streams.yml" -e '{"room_id": "d1", "stream_ids": "s3\nbad!id"}'
expect_fail "report_path must be an absolute path" "$COLL/playbooks/delete_streams.yml" -e '{"room_id": "d1", "stream_ids": "s3", "report_path": "r.json"}'
expect_fail "streams\[0\].stream_id is required" "$COLL/playbooks/delete_streams.yml" -e '{"streams": [{"room_id": "d1"}]}'
expect_fail "nothing to purge" "$COLL/playbooks/purge_rooms.yml" -e '{"room_ids": ""}'
expect_fail "rooms\[1\]" "$COLL/playbooks/purge_rooms.yml" -e '{"room_ids": "p1, bad|room"}'
expect_fail "keep_regex" "$COLL/playbooks/purge_rooms.yml" -e '{"room_ids": "p1", "keep_regex": "(["}'
check test "$(simq requests)" = 0
check test "$(simq streams d1)" = "s3"

# kick_users.yml: survey-style text; --check asks who is there and kicks nobody; the real run kicks only
# those in the room; the rerun sends no KickoutUser
simq add-users '{"k1": ["a", "b", "c", "host"], "c1": ["x"], "c2": ["y", "z"]}'
simq clear-log
check play zego.rtc.kick_users --check -e '{"room_id": "k1", "user_ids": "a\nb, nobody"}'
check grep -q '"k1/a",' "$OUT/last.log"
check test "$(simq users k1)" = "a b c host"
check test "$(simq count KickoutUser)" = 0
check play zego.rtc.kick_users -e '{"room_id": "k1", "user_ids": "a\nb, nobody", "custom_reason": "spam", "report_path": "'"$OUT"'/kick.json"}'
check test "$(recap_changed)" -gt 0
check test "$(simq users k1)" = "c host"
check "$ZEGO_SIM_PY" -c 'import json, sys; r = json.load(open(sys.argv[1])); s = r["summary"]
assert (s["kicked"], s["already_absent"], s["failed"]) == (2, 1, 0), s
assert [u["outcome"] for u in r["users"]] == ["kicked", "kicked", "already_absent"], r["users"]
assert r["check_mode"] is False and all(u["time"] for u in r["users"])' "$OUT/kick.json"
check play "$COLL/playbooks/kick_users.yml" -e '{"users": [{"room_id": "k1", "user_id": "a"}, {"room_id": "k1", "user_id": "b"}]}'
check test "$(recap_changed)" = 0
check test "$(simq count KickoutUser)" = 1

# close_rooms.yml: --check counts the users and closes nothing; the real run closes the rooms with users;
# the rerun changes nothing
check play zego.rtc.close_rooms --check -e '{"room_ids": "c1, c2\nnowhere"}'
check grep -q '"would_close": \[' "$OUT/last.log"
check test "$(simq count CloseRoom)" = 0
check test "$(simq users c2)" = "y z"
check play "$COLL/playbooks/close_rooms.yml" -e '{"room_ids": "c1, c2\nnowhere", "custom_reason": "closed", "room_close_callback": "true", "report_path": "'"$OUT"'/close.json"}'
check test "$(recap_changed)" -gt 0
check test "$(simq users c1)" = ""
check test "$(simq users c2)" = ""
check "$ZEGO_SIM_PY" -c 'import json, sys; r = json.load(open(sys.argv[1])); s = r["summary"]
assert (s["closed"], s["already_absent"], s["failed"]) == (2, 1, 0), s
assert [x["room_id"] for x in r["rooms"]] == ["c1", "c2", "nowhere"], r["rooms"]' "$OUT/close.json"
check test "$(grep -c "$ZEGO_TEST_SECRET" "$OUT/kick.json" "$OUT/close.json" "$OUT/last.log" | grep -vc ':0$')" = 0
check play zego.rtc.close_rooms -e '{"rooms": ["c1", "c2"]}'
check test "$(recap_changed)" = 0

# a failure every request would get: the play fails at the end, reporting every room
expect_fail "2 of 2 rooms failed" zego.rtc.close_rooms -e '{"room_ids": "r1 r2", "zego_server_secret": "00000000000000000000000000000000"}'

# empty or malformed input fails with a clear message and sends nothing
simq clear-log
expect_fail "nothing to close" "$COLL/playbooks/close_rooms.yml" -e '{"room_ids": ""}'
expect_fail "rooms\[1\]" "$COLL/playbooks/close_rooms.yml" -e '{"room_ids": "c1, bad|room"}'
expect_fail "custom_reason is 257 bytes" "$COLL/playbooks/close_rooms.yml" -e '{"room_ids": "c1", "custom_reason": "'"$(printf 'x%.0s' $(seq 257))"'"}'
expect_fail "room_close_callback must be true or false" "$COLL/playbooks/close_rooms.yml" -e '{"room_ids": "c1", "room_close_callback": "maybe"}'
expect_fail "nothing to kick" "$COLL/playbooks/kick_users.yml"
expect_fail "user_ids needs room_id" "$COLL/playbooks/kick_users.yml" -e '{"user_ids": "a b"}'
expect_fail "user_ids is empty" "$COLL/playbooks/kick_users.yml" -e '{"room_id": "k1", "user_ids": " , "}'
expect_fail "user_ids\[1\].user_id" "$COLL/playbooks/kick_users.yml" -e '{"room_id": "k1", "user_ids": "a\nbad|user"}'
expect_fail "report_path must be an absolute path" "$COLL/playbooks/kick_users.yml" -e '{"room_id": "k1", "user_ids": "c", "report_path": "r.json"}'
check test "$(simq requests)" = 0
check test "$(simq users k1)" = "c host"
