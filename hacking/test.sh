#!/usr/bin/env bash
# Test runner behind `make test` (step "all") and the single-step make targets.
# Every step runs even if an earlier one failed; the last lines summarise all of them.
set -uo pipefail
# shellcheck source=hacking/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

RESULTS="$WORKDIR/results"
STEP="${1:-all}"
rm -rf "$RESULTS"
mkdir -p "$RESULTS"
TREE=""

tree() {
    if [ -z "$TREE" ]; then
        TREE="$(make_tree tree)"
        install_get_pip_shim
    fi
}

# run_step NAME KIND CMD...: KIND is "junit" (the command writes $RESULTS/NAME*.xml) or "gate"
# (pass/fail counts as one test).
run_step() {
    local name="$1" kind="$2" start rc
    shift 2
    printf '\n=== %s (t=%ss)\n' "$name" "$SECONDS"
    start=$SECONDS
    "$@"
    rc=$?
    printf '%s\t%s\t%s\t%s\n' "$name" "$kind" "$rc" "$((SECONDS - start))" >> "$RESULTS/steps.tsv"
    [ "$rc" = 0 ] || printf '!!! step %s failed (rc=%s)\n' "$name" "$rc"
    return 0
}

do_sanity() {
    tree
    (cd "$TREE" && ansible-test sanity --local --python "$PYVER" --color no)
}

do_units() {
    tree
    (cd "$TREE" && rm -rf tests/output/junit && ansible-test units --local --python "$PYVER" --color no)
    local rc=$?
    cp "$TREE"/tests/output/junit/*.xml "$RESULTS/" 2>/dev/null && for f in "$RESULTS"/python*units*.xml; do
        [ -e "$f" ] && mv "$f" "$RESULTS/units-$(basename "$f")"
    done
    return $rc
}

do_simulator_tests() {
    (cd "$REPO" && python -m pytest -q -p no:cacheprovider tests/simulator --junit-xml="$RESULTS/simulator.xml")
}

do_integration() {
    tree
    local t
    for t in "$TREE"/tests/integration/targets/*/; do
        t="$(basename "$t")"
        case "$t" in setup_*) continue ;; esac
        grep -qx 'disabled' "$TREE/tests/integration/targets/$t/aliases" 2>/dev/null && continue
        run_step "integration:$t" gate bash -c "cd '$TREE' && ansible-test integration --local --python '$PYVER' --color no '$t'"
    done
}

# Playbook-level tests driven by pytest (fault matrix, leaks, TLS, interrupted runs, ...): they run
# real ansible-playbook against the simulator, using the collection tree built here.
do_e2e() {
    tree
    (cd "$REPO" && ZEGO_COLLECTIONS_ROOT="$(dirname "$(dirname "$(dirname "$TREE")")")" \
        python -m pytest -q -p no:cacheprovider tests/e2e --junit-xml="$RESULTS/e2e.xml")
}

do_lint() {
    tree
    (cd "$TREE" && ANSIBLE_COLLECTIONS_PATH="$(dirname "$(dirname "$(dirname "$TREE")")")" ansible-lint --offline --nocolor)
}

case "$STEP" in
    sanity) run_step sanity gate do_sanity ;;
    units) run_step units junit do_units ;;
    simulator-tests) run_step simulator junit do_simulator_tests ;;
    integration) do_integration ;;
    lint) run_step ansible-lint gate do_lint ;;
    e2e) run_step e2e junit do_e2e ;;
    all)
        run_step sanity gate do_sanity
        run_step units junit do_units
        run_step simulator junit do_simulator_tests
        do_integration
        [ -d "$REPO/tests/e2e" ] && run_step e2e junit do_e2e
        run_step ansible-lint gate do_lint
        ;;
    *) echo "unknown step: $STEP" >&2; exit 2 ;;
esac

python "$REPO/hacking/summary.py" "$RESULTS"
