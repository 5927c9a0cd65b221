#!/usr/bin/env bash
# `make soak` (not part of make test): the moderation rulebook and the modules share one private state directory
# for ZEGO_SOAK_SECONDS (default 900) of real time against the local ZEGO simulator: sparse banned publishers
# (each one an event for ansible-rulebook), now and then a small batch through playbooks/delete_streams.yml and
# playbooks/ban_streams.yml. Every run's result is printed; the exit status is non-zero if any run failed.
# Usage: bash hacking/soak.sh [SECONDS]
set -euo pipefail
# shellcheck source=hacking/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

TREE="$(make_tree soak)"
JAVA_HOME="$(java_home)"
export JAVA_HOME
exec "$PY" "$REPO/hacking/soak.py" --collections-path "${TREE%/ansible_collections/*}" \
    --seconds "${1:-${ZEGO_SOAK_SECONDS:-900}}" --report "$WORKDIR/soak-report.txt"
