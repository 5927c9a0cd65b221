#!/usr/bin/env bash
# zego_stream_info against the local ZEGO simulator: several rooms, a missing room, repeated rooms,
# check mode, module_defaults with credentials from the environment, bad input.
set -eu
# shellcheck source=tests/integration/targets/setup_zego_simulator/simulator.sh
source ../setup_zego_simulator/simulator.sh
sim_start --rate 10
sim_playbook main.yml "$@"
