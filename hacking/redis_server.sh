#!/usr/bin/env bash
# Make sure redis-server is installed: the unit tests of the shared rate-limit store (rate_limit_backend)
# start their own. As root (CI) it installs the Debian package; otherwise it says how.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || command -v valkey-server >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing redis-server (Debian package) for the shared-store tests"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q redis-server >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q redis-server >/dev/null; }
    exit 0
fi
echo "redis-server is missing: the shared-store unit tests need it. Install it (Debian/Ubuntu:" \
     "sudo apt-get install redis-server; Fedora: sudo dnf install redis) and run make test again." >&2
exit 1
