#!/usr/bin/env bash
# zego_room against the local ZEGO simulator: check mode -> real -> idempotent repeat, CloseRoom paced to
# ZEGO's 1 request per second, rooms that do not exist, bad input.
set -eu
# shellcheck source=tests/integration/targets/setup_zego_simulator/simulator.sh
source ../setup_zego_simulator/simulator.sh
sim_start --rate 10
sim_playbook main.yml "$@"
