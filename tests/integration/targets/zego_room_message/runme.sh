#!/usr/bin/env bash
# zego_room_message against the local ZEGO simulator: check mode -> real -> repeat (a message is sent every
# time), the three kinds, commands split by ten users, rooms that do not exist, a rate-limit answer, bad input.
set -eu
# shellcheck source=tests/integration/targets/setup_zego_simulator/simulator.sh
source ../setup_zego_simulator/simulator.sh
sim_start --rate 10
sim_playbook main.yml "$@"
