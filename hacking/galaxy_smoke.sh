#!/usr/bin/env bash
# Release smoke test: ansible-galaxy collection build -> check the tarball's file list -> install the
# tarball into an empty path -> run a playbook with the installed collection against the simulator.
# Usage: hacking/galaxy_smoke.sh TREE WORK
#   TREE  a copy of the collection (it is modified: typical working-copy junk is planted in it to prove
#         that build_ignore in galaxy.yml keeps it out of the tarball)
#   WORK  an empty scratch directory
# Uses ansible-galaxy, ansible-playbook and python from PATH.
set -euo pipefail

TREE="$1"
WORK="$2"
# only the collection installed below may be found
unset ANSIBLE_COLLECTIONS_PATH ANSIBLE_COLLECTIONS_PATHS
rm -rf "$WORK"
mkdir -p "$WORK/dist" "$WORK/installed" "$WORK/play"
cd "$TREE"
read -r NS NAME VERSION < <(python -c 'import sys, yaml; g = yaml.safe_load(open(sys.argv[1])); print(g["namespace"], g["name"], g["version"])' galaxy.yml)

echo "--- planting working-copy junk that build_ignore must keep out"
mkdir -p .venv/bin .venv-2.16/bin .git .ansible/collections .pytest_cache/v tests/output/junit \
    plugins/modules/__pycache__ build .ci
touch .venv/bin/python .venv-2.16/bin/python .git/HEAD .ansible/collections/x .pytest_cache/v/x \
    tests/output/junit/x.xml plugins/modules/__pycache__/x.cpython-311.pyc plugins/x.pyc build/x \
    tests/integration/inventory old-build.tar.gz .ci/run

echo "--- ansible-galaxy collection build"
ansible-galaxy collection build --force --output-path "$WORK/dist" .
TARBALL="$WORK/dist/$NS-$NAME-$VERSION.tar.gz"
tar -tzf "$TARBALL" | sed 's|^\./||; s|/$||' | sort > "$WORK/files.txt"
echo "$(wc -l < "$WORK/files.txt") entries, $(du -k "$TARBALL" | cut -f1) KiB"

echo "--- tarball file list"
# Anything matching these is junk: venvs, VCS data, caches, test output, build leftovers, dev tooling.
JUNK='(^|/)(\.venv[^/]*|\.git|\.ansible|\.pytest_cache|__pycache__|\.mypy_cache|\.tox|\.ci|hacking|build|dist)(/|$)'
JUNK+='|\.py[co]$|\.tar\.gz$|\.swp$|~$|\.orig$|\.rej$|(^|/)\.coverage|(^|/)\.DS_Store$'
JUNK+='|^tests/output(/|$)|^tests/integration/inventory$|^tests/integration/cloud-config-'
bad=0
if grep -E "$JUNK" "$WORK/files.txt"; then
    echo "FAIL: the tarball contains the junk listed above; extend build_ignore in galaxy.yml" >&2
    bad=1
fi
for required in MANIFEST.json FILES.json README.md meta/runtime.yml changelogs/changelog.yaml plugins/modules \
        meta/extensions.yml extensions/eda/plugins/event_source/callbacks.py extensions/eda/rulebooks/moderate_streams.yml; do
    if ! grep -qx "$required" "$WORK/files.txt"; then
        echo "FAIL: the tarball lacks $required" >&2
        bad=1
    fi
done
# every module of the source tree is shipped
for m in plugins/modules/*.py; do
    grep -qx "$m" "$WORK/files.txt" || { echo "FAIL: the tarball lacks $m" >&2; bad=1; }
done
[ "$bad" = 0 ] || exit 1
echo "no junk; manifest, docs, runtime metadata, changelog, all modules and the EDA content present"

echo "--- ansible-galaxy collection install (clean path)"
ansible-galaxy collection install "$TARBALL" -p "$WORK/installed"
export ANSIBLE_COLLECTIONS_PATH="$WORK/installed"
ansible-galaxy collection verify --offline "$NS.$NAME" -p "$WORK/installed"
ansible-galaxy collection list "$NS.$NAME" -p "$WORK/installed"

echo "--- playbook with the installed collection against the simulator"
# a private rate-limit state directory, so this run never shares (or waits on) another one's budget
export ZEGO_RTC_STATE_DIR="$WORK/state"
mkdir -m 700 "$ZEGO_RTC_STATE_DIR"
SECRET="$(python -c 'import secrets; print(secrets.token_hex(16))')"
python "$TREE/tests/simulator/zego_sim.py" --port 0 --app-id 1234567890 --secret "$SECRET" --rate 0 \
    > "$WORK/sim.out" 2> "$WORK/sim.err" &
SIM_PID=$!
trap 'kill "$SIM_PID" 2>/dev/null || true; wait "$SIM_PID" 2>/dev/null || true' EXIT
SIM_URL=""
for _ in $(seq 1 100); do
    # (the file may not exist yet: the simulator's shell creates it)
    SIM_URL="$(head -n 1 "$WORK/sim.out" 2>/dev/null || true)"
    [ -n "$SIM_URL" ] && break
    sleep 0.1
done
[ -n "$SIM_URL" ] || { echo "FAIL: the simulator did not start" >&2; cat "$WORK/sim.err" >&2; exit 1; }

cat > "$WORK/play/smoke.yml" <<'EOF'
---
- name: Smoke test of the installed zego.rtc collection
  hosts: localhost
  connection: local
  gather_facts: false
  module_defaults:
    group/zego.rtc.zego:
      app_id: "{{ zego_app_id | int }}"
      server_secret: "{{ zego_secret }}"
      api_url: "{{ zego_url }}"
  tasks:
    - name: Seed the simulator
      ansible.builtin.uri:
        url: "{{ zego_url }}/_sim/reset"
        method: POST
        body_format: json
        body:
          rooms:
            room1: [{stream_id: s1, user_id: u1}, {stream_id: s2, user_id: u2}]

    - name: Delete a stream (credentials from the action group's module_defaults)
      zego.rtc.zego_stream:
        room_id: room1
        stream_id: s1
      register: first

    - name: Delete it again
      zego.rtc.zego_stream:
        room_id: room1
        stream_id: s1
      register: second

    - name: Read the simulator state
      ansible.builtin.uri:
        url: "{{ zego_url }}/_sim/state"
        return_content: true
      register: state

    - name: The first run deleted the stream, the second changed nothing, s2 is untouched
      ansible.builtin.assert:
        that:
          - first is changed
          - second is not changed
          - state.json.rooms.room1 | map(attribute='stream_id') | list == ['s2']
EOF
# run from outside any ansible_collections tree, so only the installed copy can be found
(cd "$WORK/play" && ansible-playbook -i localhost, smoke.yml \
    -e "ansible_python_interpreter=$(command -v python)" \
    -e "zego_url=$SIM_URL" -e "zego_app_id=1234567890" -e "zego_secret=$SECRET")
