#!/usr/bin/env bash
# Role zego.rtc.stream_cleanup against the local ZEGO simulator: a stream list (changed, then ok),
# purging rooms with a keep regex, partial failure with a report, bad input, and a --check run.
set -eu
# shellcheck source=tests/integration/targets/setup_zego_simulator/simulator.sh
source ../setup_zego_simulator/simulator.sh
sim_start --rate 10
sim_playbook main.yml "$@"
sim_playbook check.yml --check "$@"
