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
# P6 compares with the pacing of the release before the shared store and adaptive pacing ("today's"):
# that commit's files, in their own collections path
BASELINE_REF="${ZEGO_BENCH_BASELINE:-7191e6a}"
BASELINE="$WORKDIR/bench-baseline"
rm -rf "$BASELINE"
BASELINE_ARGS=()
if git -C "$REPO" cat-file -e "$BASELINE_REF^{commit}" 2>/dev/null; then
    mkdir -p "$BASELINE/ansible_collections/zego/rtc"
    git -C "$REPO" archive "$BASELINE_REF" | tar -xf - -C "$BASELINE/ansible_collections/zego/rtc"
    BASELINE_ARGS=(--baseline-collections-path "$BASELINE" --baseline-ref "$BASELINE_REF")
else
    echo "== $BASELINE_REF is not in this clone: P6 runs without the release-1.0 reference"
fi
bash "$REPO/hacking/debian_tools.sh" redis-server || echo "== no redis-server: P6 cannot run its shared-store case"
RUN_DIR="$WORKDIR/bench-runs"
rm -rf "$RUN_DIR"
mkdir -p "$RUN_DIR"
DOCS="$REPO/docs"
case " $* " in *" --quick "*) DOCS="$RUN_DIR" ;; esac

"$PY" "$TREE/tests/bench/bench.py" --collections-path "$WORKDIR/bench" --python "$PY" \
    --workdir "$RUN_DIR" --docs "$DOCS" --json "$RUN_DIR/results.json" "${BASELINE_ARGS[@]}" "$@"
