# shellcheck shell=bash
# Sourced by the runme.sh of integration targets (aliases: needs/target/setup_zego_simulator).
#   sim_start [zego_sim.py options...]  start the local ZEGO simulator on 127.0.0.1 and export
#                                       ZEGO_SIM_URL, ZEGO_TEST_APP_ID, ZEGO_TEST_SECRET; it is
#                                       stopped when the script exits.
#   sim_playbook PLAYBOOK [args...]     ansible-playbook against ansible-test's inventory with the
#                                       simulator's URL and credentials as extra vars.
ZEGO_SIM_PY="${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}"
ZEGO_SIM="${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/zego/rtc/tests/simulator/zego_sim.py"
export ZEGO_TEST_APP_ID=1234567890
# A fresh ServerSecret per run, so leak checks can search for it.
ZEGO_TEST_SECRET="$("$ZEGO_SIM_PY" -c 'import secrets; print(secrets.token_hex(16))')"
export ZEGO_TEST_SECRET
# A private rate-limit state directory per run, so runs never wait on each other.
ZEGO_RTC_STATE_DIR="$(mktemp -d)"
export ZEGO_RTC_STATE_DIR

_sim_pids=()
_sim_cleanup() {
    local pid
    for pid in "${_sim_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$ZEGO_RTC_STATE_DIR"
}
trap _sim_cleanup EXIT

sim_start() {
    local out line i
    out="$(mktemp)"
    "$ZEGO_SIM_PY" "$ZEGO_SIM" --port 0 --app-id "$ZEGO_TEST_APP_ID" --secret "$ZEGO_TEST_SECRET" "$@" > "$out" &
    _sim_pids+=("$!")
    for i in $(seq 1 100); do
        line="$(head -n 1 "$out")"
        [ -n "$line" ] && break
        sleep 0.1
    done
    rm -f "$out"
    if [ -z "$line" ]; then
        echo "the ZEGO simulator did not start (try $i)" >&2
        return 1
    fi
    export ZEGO_SIM_URL="$line"
}

sim_playbook() {
    local playbook="$1"
    shift
    ansible-playbook -i "$INVENTORY_PATH" "$playbook" \
        -e "zego_sim_url=$ZEGO_SIM_URL" -e "zego_test_app_id=$ZEGO_TEST_APP_ID" \
        -e "zego_test_secret=$ZEGO_TEST_SECRET" "$@"
}
