#!/usr/bin/env bash
# Make sure the Debian tools the tests use are installed: redis-server (the unit tests of the shared rate-limit
# store, rate_limit_backend, start their own) and shellcheck (ansible-test's shellcheck sanity test, skipped
# without it). As root (CI) it installs the missing packages; otherwise it says how.
#   Usage: hacking/debian_tools.sh [PACKAGE ...]   (default: redis-server shellcheck)
set -euo pipefail
packages=("$@")
[ ${#packages[@]} -gt 0 ] || packages=(redis-server shellcheck)
missing=()
for package in "${packages[@]}"; do
    case "$package" in
        redis-server) command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] \
            || command -v valkey-server >/dev/null 2>&1 || missing+=("$package") ;;
        *) command -v "$package" >/dev/null 2>&1 || missing+=("$package") ;;
    esac
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing ${missing[*]} (Debian packages) for the tests"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
    exit 0
fi
echo "missing: ${missing[*]}. The tests need them. Install them (Debian/Ubuntu: sudo apt-get install ${missing[*]};" \
     "Fedora: sudo dnf install ${missing[*]/redis-server/redis}) and run make test again." >&2
exit 1
