#!/usr/bin/env bash
# zego_stream_rule against the local ZEGO simulator: check mode -> real -> idempotent repeat, expired and
# different rules, state=absent, both readings of EffectiveTime, the feature not enabled, bad input.
set -eu
# shellcheck source=tests/integration/targets/setup_zego_simulator/simulator.sh
source ../setup_zego_simulator/simulator.sh
sim_start --rate 10
sim_playbook main.yml "$@"
