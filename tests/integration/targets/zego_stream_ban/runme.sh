#!/usr/bin/env bash
# zego_stream_ban against the local ZEGO simulator: check mode -> real -> repeat, a ban that refuses a
# republish, batches of 20, resume, Sequence across tasks, the test environment's prefix, bad input.
set -eu
# shellcheck source=tests/integration/targets/setup_zego_simulator/simulator.sh
source ../setup_zego_simulator/simulator.sh
sim_start --rate 10
sim_playbook main.yml "$@"
