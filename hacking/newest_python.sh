#!/usr/bin/env bash
# Print the path of a working Python 3.13 or 3.12 (the newest ansible-core needs one of them), or nothing.
# Looks in pyenv (by its real paths: the pythonX.Y shims refuse unless pyenv is told which version to use),
# then /usr/local/bin and /usr/bin. ZEGO_PYTHON_NEWEST overrides the search.
set -u
if [ -n "${ZEGO_PYTHON_NEWEST:-}" ]; then
    printf '%s\n' "$ZEGO_PYTHON_NEWEST"
    exit 0
fi
root="$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")"
for v in 3.13 3.12; do
    for c in "$root"/versions/"$v".*/bin/python"$v" /usr/local/bin/python"$v" /usr/bin/python"$v"; do
        if [ -x "$c" ] && "$c" -c 'import sys, venv, ensurepip' 2>/dev/null; then
            printf '%s\n' "$c"
            exit 0
        fi
    done
done
exit 0
