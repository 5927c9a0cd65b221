# shellcheck shell=bash
# Sourced, after simulator.sh and sim_start, by the runme.sh of targets that run the collection's playbooks the way
# an operator or an AWX job template runs them: credentials in the ZEGO_* environment variables (exported here).
#   COLL                       the collection's directory
#   OUT                        a private scratch directory, removed at exit (with the simulator)
#   sim METHOD PATH [JSON]     the simulator's admin API (/_sim/PATH): prints the JSON answer, also of an HTTP error
#   py EXPR JSON [ARG...]      prints eval(EXPR), d being the JSON (sys.argv[3:] the ARGs)
#   play ARGS...               ansible-playbook ARGS, output in $OUT/last.log; prints the command, its rc and time
#   recap_changed              changed= of the last play's recap
#   check CMD...               runs CMD; if it fails, shows the last play's output and stops the script
#   expect_fail TEXT ARGS...   the play fails, and its output holds TEXT
#   requests                   how many requests the simulator received
# shellcheck disable=SC2034
COLL="${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/zego/rtc"
export ZEGO_APP_ID="$ZEGO_TEST_APP_ID" ZEGO_SERVER_SECRET="$ZEGO_TEST_SECRET" ZEGO_API_URL="$ZEGO_SIM_URL"
OUT="$(mktemp -d)"
trap '_sim_cleanup; rm -rf "$OUT"' EXIT

sim() {
    "$ZEGO_SIM_PY" - "$ZEGO_SIM_URL" "$@" <<'PY'
import json, sys, urllib.error, urllib.request
base, method, path = sys.argv[1:4]
body = sys.argv[4].encode() if len(sys.argv) > 4 else None
req = urllib.request.Request(base + '/_sim/' + path, data=body, method=method, headers={'Content-Type': 'application/json'})
try:
    print(urllib.request.urlopen(req, timeout=10).read().decode())
except urllib.error.HTTPError as exc:  # e.g. 403 for a banned stream ID: print the answer all the same
    print(exc.read().decode())
PY
}

py() { "$ZEGO_SIM_PY" -c 'import json, sys; d = json.loads(sys.argv[2]); print(eval(sys.argv[1]))' "$@"; }

play() {
    local start=$SECONDS rc=0
    ansible-playbook "$@" > "$OUT/last.log" 2>&1 || rc=$?
    echo "ansible-playbook $* -> rc=$rc in $((SECONDS - start))s"
    return $rc
}

recap_changed() { grep -oP '^localhost\s+:.*changed=\K[0-9]+' "$OUT/last.log"; }

check() { "$@" || { echo "check failed: $*" >&2; cat "$OUT/last.log" >&2; exit 1; }; }

expect_fail() {
    local want="$1"
    shift
    if play "$@"; then
        echo "expected a failure: $*" >&2
        cat "$OUT/last.log" >&2
        exit 1
    fi
    grep -q -- "$want" "$OUT/last.log" || { echo "missing '$want' in:" >&2; cat "$OUT/last.log" >&2; exit 1; }
}

requests() { py 'len(d["entries"])' "$(sim GET log)"; }
