#!/usr/bin/env bash
# `make demo`: start the local ZEGO simulator with a seeded demo state, run
# playbooks/delete_streams.yml twice (changed, then ok), show what is left, stop the simulator.
set -euo pipefail
# shellcheck source=hacking/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

TREE="$(make_tree demo)"
export ANSIBLE_COLLECTIONS_PATH="${TREE%/ansible_collections/*}"
ZEGO_RTC_STATE_DIR="$(mktemp -d)"
export ZEGO_RTC_STATE_DIR
OUT="$(mktemp)"
SIM_PID=""
cleanup() {
    [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
    rm -rf "$ZEGO_RTC_STATE_DIR" "$OUT"
}
trap cleanup EXIT

# Credentials reach the modules the way AWX injects them: environment variables.
export ZEGO_APP_ID=1234567890
ZEGO_SERVER_SECRET="$("$PY" -c 'import secrets; print(secrets.token_hex(16))')"
export ZEGO_SERVER_SECRET
"$PY" "$REPO/tests/simulator/zego_sim.py" --port 0 --app-id "$ZEGO_APP_ID" --secret "$ZEGO_SERVER_SECRET" \
    --state "$REPO/hacking/demo/state.json" > "$OUT" &
SIM_PID=$!
for _ in $(seq 1 100); do [ -s "$OUT" ] && break; sleep 0.1; done
ZEGO_API_URL="$(head -n 1 "$OUT")"
export ZEGO_API_URL
echo "ZEGO simulator listening at $ZEGO_API_URL"

show_state() {
    "$PY" - "$ZEGO_API_URL" <<'PY'
import json, sys, urllib.request
rooms = json.load(urllib.request.urlopen(sys.argv[1] + '/_sim/state'))['rooms']
for room, streams in sorted(rooms.items()):
    print('  %-16s %s' % (room, ', '.join(s['stream_id'] for s in streams) or '(no streams)'))
PY
}

echo; echo "== Streams in the simulator before:"; show_state
cd "$REPO"
export ANSIBLE_DISPLAY_SKIPPED_HOSTS=false
for run in first second; do
    echo; echo "== ansible-playbook playbooks/delete_streams.yml -e @hacking/demo/vars.yml ($run run)"
    ansible-playbook -i localhost, -c local -e "ansible_python_interpreter=$PY" \
        playbooks/delete_streams.yml -e @hacking/demo/vars.yml
done
echo; echo "== Streams in the simulator after:"; show_state
echo; echo "The first run deleted three streams (changed); the second found nothing to do (ok)."
