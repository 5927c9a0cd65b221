#!/usr/bin/env bash
# `make demo-eda`: event-driven moderation on the local ZEGO simulator. ansible-rulebook runs the rulebook
# zego.rtc.moderate_streams (event source zego.rtc.callbacks); the simulator sends ZEGO's signed callbacks to it.
# A guest starts publishing (nothing happens), then a banned user does: the rule fires, the playbook
# zego.rtc.remove_banned_streams bans and deletes that stream, and ZEGO's stream_close (type 100) for our own
# deletion triggers nothing. Then a raid: 30 streams of a banned user start within a second beside 10 allowed
# ones, and are cleared in one playbook run; the demo says how long it took.
set -euo pipefail
# shellcheck source=hacking/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

TREE="$(make_tree demo-eda)"
export ANSIBLE_COLLECTIONS_PATH="${TREE%/ansible_collections/*}"
JAVA_HOME="$(java_home)"
export JAVA_HOME
DEMO="$(mktemp -d)"
export ZEGO_RTC_STATE_DIR="$DEMO/rate-state"
mkdir -m 700 "$ZEGO_RTC_STATE_DIR"
SIM_PID=""
RB_PID=""
cleanup() {
    local rc=$?
    if [ -n "$RB_PID" ]; then
        # not `wait`: ansible-rulebook ends by a signal, and bash would then end this script the same way
        kill -TERM "$RB_PID" 2>/dev/null
        for _ in $(seq 1 150); do kill -0 "$RB_PID" 2>/dev/null || break; sleep 0.2; done
    fi
    if [ -n "$SIM_PID" ]; then kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null; fi
    rm -rf "$DEMO"
    exit "$rc"
}
trap cleanup EXIT

# Credentials reach ansible-rulebook (and the playbooks it runs) as environment variables, as AAP injects them.
export ZEGO_APP_ID=1234567890
ZEGO_SERVER_SECRET="$("$PY" -c 'import secrets; print(secrets.token_hex(16))')"
ZEGO_CALLBACK_SECRET="$("$PY" -c 'import secrets; print(secrets.token_hex(16))')"
export ZEGO_SERVER_SECRET ZEGO_CALLBACK_SECRET
PORT="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

"$PY" "$REPO/tests/simulator/zego_sim.py" --port 0 --app-id "$ZEGO_APP_ID" --secret "$ZEGO_SERVER_SECRET" \
    --state "$REPO/hacking/demo/state.json" --callback-url "http://127.0.0.1:$PORT/zego/callbacks" \
    --callback-secret "$ZEGO_CALLBACK_SECRET" > "$DEMO/sim.out" 2>&1 &
SIM_PID=$!
for _ in $(seq 1 100); do [ -s "$DEMO/sim.out" ] && break; sleep 0.1; done
ZEGO_API_URL="$(head -n 1 "$DEMO/sim.out")"
export ZEGO_API_URL
echo "ZEGO simulator at $ZEGO_API_URL, sending its callbacks to http://127.0.0.1:$PORT/zego/callbacks"

cat > "$DEMO/inventory.yml" <<EOF
all:
  hosts:
    localhost:
      ansible_connection: local
      ansible_python_interpreter: $PY
EOF
cat > "$DEMO/vars.yml" <<EOF
zego_callback_port: $PORT
zego_app_id: $ZEGO_APP_ID
zego_banned_user_ids: [troll_42, raider]
zego_banned_stream_id_regex: "^ad_"
EOF
echo; echo "== vars.yml"; sed 's/^/  /' "$DEMO/vars.yml"
echo; echo "== ansible-rulebook -i inventory.yml -r zego.rtc.moderate_streams --vars vars.yml --env-vars ZEGO_CALLBACK_SECRET"
(cd "$DEMO" && exec ansible-rulebook -i inventory.yml -r zego.rtc.moderate_streams --vars vars.yml \
    --env-vars ZEGO_CALLBACK_SECRET > "$DEMO/rulebook.out" 2>&1) &
RB_PID=$!
for _ in $(seq 1 600); do
    "$PY" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$PORT" \
        2>/dev/null && break
    kill -0 "$RB_PID" 2>/dev/null || { echo "ansible-rulebook stopped:" >&2; cat "$DEMO/rulebook.out" >&2; exit 1; }
    sleep 0.2
done
echo "   listening (rule: ban and delete the streams of banned publishers, one run per batch of stream_create)"

sim() { "$PY" "$REPO/hacking/demo/sim_admin.py" "$ZEGO_API_URL" "$@"; }

echo; echo "== Streams before:"; sim state
echo; echo "== ann starts publishing guest_ann_2 in town-hall (not banned)"; sim publish town-hall guest_ann_2 ann
echo "== troll_42 starts publishing troll_cam in town-hall (banned user)"; sim publish town-hall troll_cam troll_42
echo "== v9 starts publishing ad_spam_1 in watch-party-42 (stream ID matches ^ad_)"
sim publish watch-party-42 ad_spam_1 v9
echo; echo "== waiting for the rule to act ..."
sim wait-gone town-hall/troll_cam watch-party-42/ad_spam_1
# every playbook run that started has ended
runs_idle() { [ "$(grep -c '^PLAY \[Remove' "$DEMO/rulebook.out")" -eq "$(grep -c '^PLAY RECAP' "$DEMO/rulebook.out")" ]; }
for _ in $(seq 1 600); do runs_idle && break; sleep 0.2; done
echo; echo "== Streams after:"; sim state
echo; echo "== Callbacks the simulator sent (stream_close type 100 = our own DeleteStream, ignored by the rulebook):"
sim callbacks

echo; echo "== A raid: 30 streams of the banned user raider start in arena within a second, beside 10 allowed ones"
sim raid arena raider 30 10
for _ in $(seq 1 600); do runs_idle && break; sleep 0.2; done
echo; echo "== Streams after the raid:"; sim state
echo; echo "== What ansible-rulebook ran (zego.rtc.remove_banned_streams, once per batch of callbacks; excerpt):"
grep -E '^PLAY \[|^TASK \[Ban the stream IDs|^TASK \[Delete the streams|^changed:|^fatal:|^localhost +:' "$DEMO/rulebook.out" \
    | sed 's/ \*\**$//; s/^/  /'
echo; echo "The banned publishers' streams were banned and deleted within seconds, the raid's 30 in one playbook run;"
echo "the allowed streams (guest_ann_2, fan_*) are still on air."
