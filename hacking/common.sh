# shellcheck shell=bash
# Variables set here are used by the scripts that source this file.
# shellcheck disable=SC2034
# Shared helpers for the hacking/ scripts: venv on PATH, the ansible_collections tree, the simulator.
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
VENV="${ZEGO_VENV:-$REPO/.venv}"
# Second venv with the oldest supported ansible-core (requirements-2.16.txt), for the *-2.16 test steps.
VENV_216="${ZEGO_VENV_216:-$REPO/.venv-2.16}"
# Third venv with the newest ansible-core (requirements-2.21.txt, Python 3.12+), for the *-2.21 test steps.
VENV_221="${ZEGO_VENV_221:-$REPO/.venv-2.21}"
export VIRTUAL_ENV="$VENV"
export PATH="$VENV/bin:$PATH"
PY="$VENV/bin/python"
PYVER="$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
export ANSIBLE_PYTHON_INTERPRETER="$PY"
export ANSIBLE_NOCOLOR=1
export ANSIBLE_FORCE_COLOR=0
export PY_COLORS=0
# (not /tmp/zego-rtc-$UID: that is the modules' default rate-limit state directory)
WORKDIR="${ZEGO_WORKDIR:-${TMPDIR:-/tmp}/zego-rtc-work-$(id -u)}"

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
# Usage: install_get_pip_shim [PYTHON]   (the python of the venv whose ansible-test is used; default $PY)
install_get_pip_shim() {
    local py="${1:-$PY}" at_dir pipv
    at_dir="$("$py" -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')"
    mkdir -p "$HOME/.ansible/test/cache"
    grep -oP "pip='\K[0-9.]+" "$at_dir/_internal/python_requirements.py" | while read -r pipv; do
        cp "$REPO/hacking/get_pip_shim.py" "$HOME/.ansible/test/cache/get_pip_${pipv//./_}.py"
    done
}

# java_home: print a Java 17 home for ansible-rulebook (its rule engine, drools, runs in a JVM): $JAVA_HOME if
# it has bin/java, else Debian/Ubuntu's OpenJDK 17 location.
java_home() {
    local h
    for h in "${JAVA_HOME:-}" /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/java-17-openjdk-arm64 \
             /usr/lib/jvm/java-17-openjdk; do
        [ -n "$h" ] && [ -x "$h/bin/java" ] && { printf '%s\n' "$h"; return 0; }
    done
    echo "ansible-rulebook needs Java 17: set JAVA_HOME (apt-get install openjdk-17-jre-headless)" >&2
    printf '%s\n' "${JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}"
}

# in_venv VENV CMD...: run CMD with VENV's tools and Python first on PATH (ansible-test, ansible-doc,
# ansible-playbook and the module interpreter all come from VENV).
in_venv() {
    local venv="$1"
    shift
    VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH" ANSIBLE_PYTHON_INTERPRETER="$venv/bin/python" "$@"
}
