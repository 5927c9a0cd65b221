# shellcheck shell=bash
# Shared helpers for the hacking/ scripts: venv on PATH, the ansible_collections tree, the simulator.
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
VENV="${ZEGO_VENV:-$REPO/.venv}"
export VIRTUAL_ENV="$VENV"
export PATH="$VENV/bin:$PATH"
PY="$VENV/bin/python"
PYVER="$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
export ANSIBLE_PYTHON_INTERPRETER="$PY"
export ANSIBLE_NOCOLOR=1
export ANSIBLE_FORCE_COLOR=0
export PY_COLORS=0
WORKDIR="${ZEGO_WORKDIR:-${TMPDIR:-/tmp}/zego-rtc-$(id -u)}"

# Copy the files git would ship (tracked + untracked-not-ignored) into
# $WORKDIR/<name>/ansible_collections/zego/rtc and print that path.
# ansible-test needs the collection to sit physically in such a tree; a symlink does not work.
make_tree() {
    local name="${1:-tree}" root dest
    root="$WORKDIR/$name"
    dest="$root/ansible_collections/zego/rtc"
    rm -rf "$root"
    mkdir -p "$dest"
    (cd "$REPO" && git ls-files -z --cached --others --exclude-standard \
        | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
        | tar --null -T - -cf -) | tar -xf - -C "$dest"
    printf '%s\n' "$dest"
}

# ansible-test bootstraps pip in its sanity venvs by downloading get-pip.py from a host that may be
# unreachable; put an offline stand-in in its cache (it installs pip from the package index instead).
install_get_pip_shim() {
    local at_dir pipv
    at_dir="$("$PY" -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')"
    mkdir -p "$HOME/.ansible/test/cache"
    for pipv in $(grep -oP "pip='\K[0-9.]+" "$at_dir/_internal/python_requirements.py"); do
        cp "$REPO/hacking/get_pip_shim.py" "$HOME/.ansible/test/cache/get_pip_${pipv//./_}.py"
    done
}
