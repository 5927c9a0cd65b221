#!/usr/bin/env bash
# Test runner behind `make test` (step "all") and the single-step make targets.
# Every step runs even if an earlier one failed; the last lines summarise all of them (wall and CPU seconds of
# each), and the exit status is non-zero if anything failed. "all" runs two lanes at once (ZEGO_TEST_LANES=1:
# one after the other): the gates (sanity, units, simulator, e2e, docs, release, lint) and the playbook steps
# (integration on three ansible-core versions, EDA), each in trees of its own; a step's output is printed whole
# when it ends.
#   Usage: hacking/test.sh [all|sanity|module-pythons|units|sanity-2.16|units-2.16|sanity-2.21|units-2.21|
#                           simulator-tests|integration|integration-2.16|integration-2.21|eda|e2e|docs|changelog|
#                           requires-ansible|galaxy|galaxy-importer|lint]
# ansible-core: the main venv ($ZEGO_VENV, .venv) has the newest core this Python runs; the second venv
# ($ZEGO_VENV_216, .venv-2.16) the oldest supported one (meta/runtime.yml requires_ansible); the third
# ($ZEGO_VENV_221, .venv-2.21, on Python 3.13 or 3.12) the newest ansible-core. Without that Python the
# *-2.21 steps are reported skipped, loudly; under CI=true they fail instead.
# Scratch space and results live in $ZEGO_WORKDIR (default /tmp/zego-rtc-work-$UID); give each concurrent run
# its own.
set -uo pipefail
# shellcheck source=hacking/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

RESULTS="$WORKDIR/results"
STEP="${1:-all}"
rm -rf "$RESULTS"
mkdir -p "$RESULTS/junit"
TREE=""
TREE_216=""
TREE_221=""
# integration targets run on the oldest and the newest ansible-core (all targets run on the main one): the main
# module, and the playbooks with the role (Jinja and argument handling differ most between core versions)
SMOKE_TARGETS="${ZEGO_SMOKE_TARGETS:-zego_stream playbooks}"

tree() {
    if [ -z "$TREE" ]; then
        TREE="$(make_tree tree)"
        install_get_pip_shim
    fi
}

# A separate copy for ansible-core 2.16, so its ansible-test output never mixes with the main one.
tree_216() {
    if [ -z "$TREE_216" ]; then
        need_venv_216 || return 1
        TREE_216="$(make_tree tree-2.16)"
        install_get_pip_shim "$VENV_216/bin/python"
    fi
}

# A third copy for the newest ansible-core (2.21).
tree_221() {
    if [ -z "$TREE_221" ]; then
        need_venv_221 || return
        TREE_221="$(make_tree tree-2.21)"
        install_get_pip_shim "$VENV_221/bin/python"
    fi
}

# rc 0: the 2.21 venv is there. Otherwise a loud message and rc 77 (the step counts as skipped), or rc 1
# under CI=true: CI must test the newest ansible-core.
need_venv_221() {
    [ -x "$VENV_221/bin/ansible-test" ] && return 0
    {
        echo "!!! ================================================================================"
        echo "!!! no ansible-core 2.21 venv at $VENV_221: this machine has no Python 3.13 or 3.12"
        echo "!!! (make looks in pyenv, /usr/local/bin and /usr/bin; ZEGO_PYTHON_NEWEST=/path/to/python3.13"
        echo "!!! names one). The newest ansible-core is NOT tested by this run."
        echo "!!! ================================================================================"
    } >&2
    [ "${CI:-}" = true ] && return 1
    return 77
}

need_venv_216() {
    [ -x "$VENV_216/bin/ansible-test" ] && return 0
    echo "no ansible-core 2.16 venv at $VENV_216 (make venv creates it from requirements-2.16.txt)" >&2
    return 1
}

# collections root (the directory holding ansible_collections/) of a tree
coll_root() { dirname "$(dirname "$(dirname "$1")")"; }

# cpu_now: set CPU_NOW to the CPU seconds (user + system) of this shell's finished children so far (the builtin
# `times` writes to a file: in a command substitution it would tell a new subshell's, always 0)
cpu_now() {
    local f="$RESULTS/.times.$BASHPID"
    times > "$f"
    CPU_NOW="$(awk 'END { n = split($0, f, /[ms ]+/); t = 0; for (i = 1; i < n; i += 2) t += f[i] * 60 + f[i + 1]; printf "%d", t }' "$f")"
}

# run_step NAME KIND CMD...: KIND is "junit" (the command writes JUnit XML into $STEP_JUNIT_DIR, which is
# $RESULTS/junit/NAME) or "gate" (pass/fail counts as one test). steps.tsv gets its result, wall and CPU seconds.
run_step() {
    local name="$1" kind="$2" start cpu rc
    shift 2
    start=$SECONDS
    cpu_now
    cpu=$CPU_NOW
    STEP_JUNIT_DIR="$RESULTS/junit/$name"
    mkdir -p "$STEP_JUNIT_DIR"
    if [ -n "$LANE" ]; then
        # several lanes at once: the step's output goes to its log and is printed whole when the step ends
        local log
        log="$RESULTS/logs/$(tr -c 'A-Za-z0-9.\n-' _ <<< "$name").log"
        "$@" > "$log" 2>&1 < /dev/null
        rc=$?
        {
            flock 9
            printf '\n=== %s (lane %s, started at t=%ss, %ss)\n' "$name" "$LANE" "$start" "$((SECONDS - start))"
            cat "$log"
        } 9>> "$RESULTS/.print-lock"
    else
        printf '\n=== %s (t=%ss)\n' "$name" "$SECONDS"
        "$@"
        rc=$?
    fi
    cpu_now
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$kind" "$rc" "$((SECONDS - start))" "$((CPU_NOW - cpu))" \
        >> "$RESULTS/steps.tsv"
    if [ "$rc" = 77 ]; then
        printf '!!! step %s SKIPPED: it cannot run on this machine (see above)\n' "$name"
    elif [ "$rc" != 0 ]; then
        printf '!!! step %s failed (rc=%s)\n' "$name" "$rc"
    fi
    return 0
}

# ansible-test in TREE with the tools (and the Python version) of VENV: at_run VENV TREE ARGS...
at_run() {
    local venv="$1" tree="$2" pyver="$PYVER"
    shift 2
    [ "$venv" = "$VENV" ] || pyver="$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    (cd "$tree" && in_venv "$venv" ansible-test "$@" --python "$pyver" --color no)
}

do_sanity() {
    tree || return 1
    at_run "$VENV" "$TREE" sanity --local
}

do_sanity_216() {
    tree_216 || return 1
    at_run "$VENV_216" "$TREE_216" sanity --local
}

# units_in VENV TREE: ansible-test units, JUnit copied to $STEP_JUNIT_DIR
units_in() {
    local venv="$1" tree="$2" rc
    rm -rf "$tree/tests/output/junit"
    at_run "$venv" "$tree" units --local
    rc=$?
    cp "$tree"/tests/output/junit/*.xml "$STEP_JUNIT_DIR/" 2>/dev/null
    return $rc
}

# find_python 3.8: print a working interpreter of that version (pyenv, /usr/local/bin, /usr/bin), if any
find_python() {
    local v="$1" c
    for c in "$(pyenv root 2>/dev/null || echo /nonexistent)"/versions/"$v".*/bin/python"$v" \
             /usr/local/bin/python"$v" /usr/bin/python"$v"; do
        [ -x "$c" ] && "$c" -c 'import sys' 2>/dev/null && { printf '%s\n' "$c"; return 0; }
    done
    return 1
}

# The modules run on the Python of the host that runs them: 3.8 or later (tests/config.yml). Compile and
# import-check modules and module_utils on every such Python this machine has, besides $PYVER. ansible-test
# picks them up from PATH, so PATH holds only working interpreters (no version-manager shims).
do_module_pythons() {
    tree || return 1
    local bin="$WORKDIR/pybin" v p tested=""
    rm -rf "$bin"
    mkdir -p "$bin"
    for v in 3.8 3.9 3.10 3.12 3.13; do
        p="$(find_python "$v")" || continue
        ln -s "$p" "$bin/python$v"
        tested="$tested $v"
    done
    if [ -z "$tested" ]; then
        echo "no Python besides $PYVER found here: the sanity step checked the modules on $PYVER only"
        return 0
    fi
    echo "checking modules and module_utils on Python$tested"
    (cd "$TREE" && VIRTUAL_ENV="$VENV" PATH="$bin:$VENV/bin:/usr/bin:/bin" \
        ansible-test sanity --local --test compile --test import --color no)
}

do_sanity_221() {
    tree_221 || return
    at_run "$VENV_221" "$TREE_221" sanity --local
}

do_units_221() {
    tree_221 || return
    units_in "$VENV_221" "$TREE_221"
}

do_units() {
    tree || return 1
    units_in "$VENV" "$TREE"
}

do_units_216() {
    tree_216 || return 1
    units_in "$VENV_216" "$TREE_216"
}

# the simulator's own tests, and how make bench judges its results (the bench itself is not run)
do_simulator_tests() {
    (cd "$REPO" && python -m pytest -q -p no:cacheprovider tests/simulator tests/bench \
        --junit-xml="$STEP_JUNIT_DIR/simulator.xml")
}

# integration targets that are not setup_* helpers and not disabled
integration_targets() {
    local t
    for t in "$1"/tests/integration/targets/*/; do
        t="$(basename "$t")"
        case "$t" in setup_*) continue ;; esac
        grep -qx 'disabled' "$1/tests/integration/targets/$t/aliases" 2>/dev/null && continue
        printf '%s\n' "$t"
    done
}

do_integration() {
    local t
    tree || { run_step integration gate false; return; }
    for t in $(integration_targets "$TREE"); do
        run_step "integration:$t" gate at_run "$VENV" "$TREE" integration --local "$t"
    done
}

# Smoke integration on the oldest ansible-core: one target (the main module's).
do_integration_216() {
    local t
    for t in $SMOKE_TARGETS; do
        if ! tree_216; then
            run_step "integration-2.16:$t" gate false
            continue
        fi
        if ! grep -qx "$t" <<< "$(integration_targets "$TREE_216")"; then
            run_step "integration-2.16:$t" gate bash -c "echo 'no integration target $t' >&2; exit 1"
            continue
        fi
        run_step "integration-2.16:$t" gate at_run "$VENV_216" "$TREE_216" integration --local "$t"
    done
}

return_rc() { return "$1"; }

# Smoke integration on the newest ansible-core: the same targets.
do_integration_221() {
    local t rc
    for t in $SMOKE_TARGETS; do
        tree_221
        rc=$?
        if [ "$rc" != 0 ]; then
            run_step "integration-2.21:$t" gate return_rc "$rc"
            continue
        fi
        run_step "integration-2.21:$t" gate at_run "$VENV_221" "$TREE_221" integration --local "$t"
    done
}

# Event-Driven Ansible: the zego.rtc.callbacks source on loopback ports, and the moderation rulebook run by a
# real ansible-rulebook (Java 17) against the simulator's signed callbacks, with the collection tree built here.
do_eda() {
    tree || return 1
    (cd "$REPO" && ZEGO_COLLECTIONS_ROOT="$(coll_root "$TREE")" JAVA_HOME="$(java_home)" \
        python -m pytest -q tests/eda --junit-xml="$STEP_JUNIT_DIR/eda.xml")
}

# Playbook-level tests driven by pytest (fault matrix, leaks, TLS, interrupted runs, ...): they run
# real ansible-playbook against the simulator, using the collection tree built here.
do_e2e() {
    tree || return 1
    (cd "$REPO" && ZEGO_COLLECTIONS_ROOT="$(coll_root "$TREE")" \
        python -m pytest -q -p no:cacheprovider tests/e2e --junit-xml="$STEP_JUNIT_DIR/e2e.xml")
}

# Documentation: antsibull-docs' collection linter (extra docs, plugin and role docs, markup,
# references), then every plugin and role through ansible-doc of both ansible-core versions.
do_docs() {
    tree || return 1
    # a subshell, so ANSIBLE_COLLECTIONS_PATH does not leak into later steps
    (
        rc=0
        export ANSIBLE_COLLECTIONS_PATH
        ANSIBLE_COLLECTIONS_PATH="$(coll_root "$TREE")"
        echo "--- antsibull-docs lint-collection-docs --plugin-docs"
        antsibull-docs lint-collection-docs --plugin-docs "$TREE" || rc=1
        echo "--- ansible-doc (ansible-core $(python -c 'from ansible.release import __version__ as v; print(v)'))"
        python "$REPO/hacking/check_docs.py" "$TREE" || rc=1
        if need_venv_216; then
            echo "--- ansible-doc (ansible-core $("$VENV_216/bin/python" -c 'from ansible.release import __version__ as v; print(v)'))"
            in_venv "$VENV_216" python "$REPO/hacking/check_docs.py" "$TREE" || rc=1
        else
            rc=1
        fi
        exit $rc
    )
}

# meta/runtime.yml requires_ansible must name the oldest ansible-core that is tested (the 2.16 venv).
do_requires_ansible() {
    need_venv_216 || return 1
    "$VENV_216/bin/python" - "$REPO/meta/runtime.yml" <<'EOF'
import sys
import yaml
from ansible.release import __version__
oldest = '.'.join(__version__.split('.')[:2])
with open(sys.argv[1]) as f:
    spec = str(yaml.safe_load(f).get('requires_ansible', ''))
ok = spec.replace(' ', '') in ('>=%s' % oldest, '>=%s.0' % oldest)
print('requires_ansible %r, oldest tested ansible-core %s: %s' % (spec, __version__, 'ok' if ok else 'MISMATCH'))
sys.exit(0 if ok else 1)
EOF
}

# Changelog fragments and changelogs/changelog.yaml (antsibull-changelog).
do_changelog() {
    local rc=0
    tree || return 1
    (cd "$TREE" && antsibull-changelog lint -v) || rc=1
    (cd "$TREE" && antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml) || rc=1
    return $rc
}

# Build the release tarball, check its contents, install it into an empty path and use it.
do_galaxy() {
    local gtree
    gtree="$(make_tree galaxy-src)" || return 1
    bash "$REPO/hacking/galaxy_smoke.sh" "$gtree" "$WORKDIR/galaxy"
}

# Galaxy / Automation Hub's import checks (galaxy-importer) on the built tarball; its ansible-test run is
# disabled (it needs a container engine; the sanity steps run ansible-test). Any warning fails the step.
do_galaxy_importer() {
    local gtree work="$WORKDIR/galaxy-importer"
    gtree="$(make_tree galaxy-importer-src)" || return 1
    rm -rf "$work"
    mkdir -p "$work/dist"
    (cd "$gtree" && ansible-galaxy collection build --force --output-path "$work/dist" .) || return 1
    python "$REPO/hacking/galaxy_importer.py" "$work/dist"/*.tar.gz "$work"
}

do_lint() {
    tree || return 1
    (cd "$TREE" && ANSIBLE_COLLECTIONS_PATH="$(coll_root "$TREE")" ansible-lint --offline --nocolor)
}

# make test's steps in two lanes (ZEGO_TEST_LANES, default 2: they run at once on a 2-core machine, as the
# playbook steps mostly wait for ZEGO's pace and answers while the gates mostly compute; 1: one after the other).
LANES="${ZEGO_TEST_LANES:-2}"
LANE=""

lane_gates() {
    run_step sanity gate do_sanity
    run_step module-pythons gate do_module_pythons
    run_step units junit do_units
    run_step sanity-2.16 gate do_sanity_216
    run_step units-2.16 junit do_units_216
    run_step sanity-2.21 gate do_sanity_221
    run_step units-2.21 junit do_units_221
    run_step simulator junit do_simulator_tests
    [ -d "$REPO/tests/e2e" ] && run_step e2e junit do_e2e
    run_step docs gate do_docs
    run_step changelog gate do_changelog
    run_step requires-ansible gate do_requires_ansible
    run_step galaxy gate do_galaxy
    run_step galaxy-importer gate do_galaxy_importer
    run_step ansible-lint gate do_lint
}

lane_playbooks() {
    do_integration
    do_integration_216
    do_integration_221
    run_step eda junit do_eda
}

case "$STEP" in
    sanity) run_step sanity gate do_sanity ;;
    module-pythons) run_step module-pythons gate do_module_pythons ;;
    units) run_step units junit do_units ;;
    sanity-2.16) run_step sanity-2.16 gate do_sanity_216 ;;
    units-2.16) run_step units-2.16 junit do_units_216 ;;
    sanity-2.21) run_step sanity-2.21 gate do_sanity_221 ;;
    units-2.21) run_step units-2.21 junit do_units_221 ;;
    simulator-tests) run_step simulator junit do_simulator_tests ;;
    integration) do_integration ;;
    integration-2.16) do_integration_216 ;;
    integration-2.21) do_integration_221 ;;
    eda) run_step eda junit do_eda ;;
    e2e) run_step e2e junit do_e2e ;;
    docs) run_step docs gate do_docs ;;
    changelog) run_step changelog gate do_changelog ;;
    requires-ansible) run_step requires-ansible gate do_requires_ansible ;;
    galaxy) run_step galaxy gate do_galaxy ;;
    galaxy-importer) run_step galaxy-importer gate do_galaxy_importer ;;
    lint) run_step ansible-lint gate do_lint ;;
    all)
        if [ "$LANES" -lt 2 ]; then
            lane_gates
            lane_playbooks
        else
            # the trees every step of the gates lane uses, made before the lanes start (not twice at once)
            tree
            tree_216
            tree_221
            mkdir -p "$RESULTS/logs"
            echo "== two lanes at once (ZEGO_TEST_LANES=1: one after the other): 1 = sanity, units, simulator, e2e," \
                "docs, release and lint; 2 = integration, EDA. Each step is printed whole when it ends."
            # the playbooks lane in trees of its own: ansible-test never runs twice in one tree
            (
                LANE=2
                [ -n "$TREE" ] && TREE="$(make_tree tree-playbooks)"
                [ -n "$TREE_216" ] && TREE_216="$(make_tree tree-playbooks-2.16)"
                [ -n "$TREE_221" ] && TREE_221="$(make_tree tree-playbooks-2.21)"
                lane_playbooks
            ) &
            playbooks=$!
            # a subshell too, so that the CPU time of the other lane never counts for one of its steps
            (
                LANE=1
                lane_gates
            ) &
            gates=$!
            wait "$gates" "$playbooks"
        fi
        ;;
    *) echo "unknown step: $STEP" >&2; exit 2 ;;
esac

python "$REPO/hacking/summary.py" "$RESULTS"
