#!/usr/bin/env bash
# zego_room_user against the local ZEGO simulator: check mode -> real -> idempotent repeat, ZEGO's batch
# limits (10 users per DescribeUsers, 5 per KickoutUser), several rooms, faults, bad input.
set -eu
# shellcheck source=tests/integration/targets/setup_zego_simulator/simulator.sh
source ../setup_zego_simulator/simulator.sh
sim_start --rate 10
sim_playbook main.yml "$@"
