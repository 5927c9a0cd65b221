#!/usr/bin/env bash
# zego_room_info against the local ZEGO simulator: counts of many rooms (10 per request), user lists over
# several pages, bad input.
set -eu
# shellcheck source=tests/integration/targets/setup_zego_simulator/simulator.sh
source ../setup_zego_simulator/simulator.sh
sim_start --rate 10
sim_playbook main.yml "$@"
