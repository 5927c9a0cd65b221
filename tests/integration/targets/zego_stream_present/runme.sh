#!/usr/bin/env bash
# zego_stream state=present (AddStream) against the local ZEGO simulator: check mode -> real -> idempotent
# repeat, bulk with duplicates and a room that does not exist, a lost answer, bad input.
set -eu
# shellcheck source=tests/integration/targets/setup_zego_simulator/simulator.sh
source ../setup_zego_simulator/simulator.sh
sim_start --rate 10
sim_playbook main.yml "$@"
