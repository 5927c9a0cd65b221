#!/usr/bin/env bash
# playbooks/ban_streams.yml against the local ZEGO simulator, the way an operator or an AWX job template
# runs it: credentials in ZEGO_* environment variables, survey-style text, --check, a report, a ban that
# refuses a republish, allowing again, and bad input failing before any API call.
set -eu
# shellcheck source=tests/integration/targets/setup_zego_simulator/simulator.sh
source ../setup_zego_simulator/simulator.sh
sim_start --rate 10
# shellcheck source=tests/integration/targets/setup_zego_simulator/playbooks.sh
source ../setup_zego_simulator/playbooks.sh
banned() { py '" ".join(sorted(b["stream_id"] for b in d["banned"]))' "$(sim GET bans)"; }

sim POST reset '{"rooms": {"r1": [{"stream_id": "s1", "user_id": "u1"}]}}' > /dev/null

# --check: says what it would send, sends nothing
check play "$COLL/playbooks/ban_streams.yml" --check -e '{"stream_ids": "s1\ns2, s3 s1"}'
check grep -q "ForbidRTCStreams with stream IDs: 3" "$OUT/last.log"
check test "$(requests)" = 0

# survey-style text by the playbook's FQCN, with a report: three IDs in one request
check play zego.rtc.ban_streams -e '{"stream_ids": "s1\ns2, s3 s1", "report_path": "'"$OUT"'/report.json"}'
check test "$(recap_changed)" -gt 0
check test "$(banned)" = "s1 s2 s3"
check test "$(requests)" = 1
check "$ZEGO_SIM_PY" -c 'import json, sys; r = json.load(open(sys.argv[1])); assert r["summary"]["banned"] == 3 and r["state"] == "present", r' "$OUT/report.json"
check test "$(grep -c "$ZEGO_TEST_SECRET" "$OUT/report.json" "$OUT/last.log" | grep -vc ':0$')" = 0

# the banned publisher cannot publish s1 again
check test "$(py 'd["code"]' "$(sim POST publish '{"room_id": "r1", "stream_id": "s1", "user_id": "u1"}')")" = 1003025

# allow s1 and s2 again (state=absent from a survey's multiple choice); s1 can be published again
check play zego.rtc.ban_streams -e '{"stream_ids": "s1 s2", "state": "absent"}'
check test "$(banned)" = "s3"
check test "$(py 'd["stream"]["stream_id"]' "$(sim POST publish '{"room_id": "r2", "stream_id": "s1", "user_id": "u1"}')")" = s1

# a failing stream ID: the report is written, the play fails at the end, fail_on_error=false keeps it green
sim POST faults '{"kind": "code1", "count": 20, "action": "ForbidRTCStream", "stream_id": "f1"}' > /dev/null
expect_fail "f1" zego.rtc.ban_streams -e '{"stream_ids": "f1", "report_path": "'"$OUT"'/fail.json"}'
check "$ZEGO_SIM_PY" -c 'import json, sys; r = json.load(open(sys.argv[1])); assert r["summary"]["failed"] == 1 and r["error"], r' "$OUT/fail.json"
check play zego.rtc.ban_streams -e '{"stream_ids": "f1", "fail_on_error": "false"}'
sim DELETE faults > /dev/null

# bad input fails before any request, naming every problem
sim DELETE log > /dev/null
expect_fail "stream_ids" zego.rtc.ban_streams -e '{"stream_ids": " \n , "}'
expect_fail "stream_ids\[1\]" zego.rtc.ban_streams -e '{"stream_ids": "ok bad/id"}'
expect_fail "state must be present" zego.rtc.ban_streams -e '{"stream_ids": "ok", "state": "banned"}'
expect_fail "report_path" zego.rtc.ban_streams -e '{"stream_ids": "ok", "report_path": "relative.json"}'
check grep -q "nothing was changed" "$OUT/last.log"
# in the test environment, IDs without zegotest-<AppID>- fail in the module, before any request
expect_fail "zegotest-$ZEGO_TEST_APP_ID-" zego.rtc.ban_streams -e '{"stream_ids": "plain", "zego_is_test": true}'
check test "$(requests)" = 0
echo "ban_streams playbook: all checks passed"
