#!/usr/bin/env bash
# Benchmarks behind `make bench` (not part of `make test`): zego_stream vs an ansible.builtin.uri loop vs a
# single-stream loop against the local ZEGO simulator. Prints a table and writes docs/performance.md and
# docs/performance.png. Usage: bash hacking/bench.sh [--quick] [-v]
set -euo pipefail
# shellcheck source=hacking/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

BENCH_STAMP="$VENV/.bench-installed"
if [ ! -e "$BENCH_STAMP" ] || [ "$REPO/requirements-bench.txt" -nt "$BENCH_STAMP" ]; then
    echo "== installing requirements-bench.txt into $VENV"
    "$PY" -m pip install -q --disable-pip-version-check -r "$REPO/requirements-bench.txt"
    touch "$BENCH_STAMP"
fi

TREE="$(make_tree bench)"
RUN_DIR="$WORKDIR/bench-runs"
rm -rf "$RUN_DIR"
mkdir -p "$RUN_DIR"
DOCS="$REPO/docs"
case " $* " in *" --quick "*) DOCS="$RUN_DIR" ;; esac

"$PY" "$TREE/tests/bench/bench.py" --collections-path "$WORKDIR/bench" --python "$PY" \
    --workdir "$RUN_DIR" --docs "$DOCS" --json "$RUN_DIR/results.json" "$@"
