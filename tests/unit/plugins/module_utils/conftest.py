# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A real redis-server for the shared-store tests: started on a free 127.0.0.1 port (and a unix socket),
with a password, no persistence and its own directory; stopped afterwards.

``make test`` installs the Debian package redis-server when it is missing (hacking/debian_tools.sh). Without one the
tests that need it are skipped with that reason, except under CI=true, where they fail."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import atexit
import os
import random
import secrets
import signal
import shutil
import socket
import subprocess
import tempfile
import time

import pytest


def find_redis_server():
    found = shutil.which('redis-server') or shutil.which('valkey-server')
    for candidate in ('/usr/bin/redis-server', '/usr/local/bin/redis-server', '/usr/bin/valkey-server'):
        if not found and os.access(candidate, os.X_OK):
            found = candidate
    return found


def missing_redis_server():
    """Skip a test that needs a real redis-server when none is installed (``ansible-test units --docker``, a
    developer's machine), saying why; fail under CI=true, where `make test` has installed one."""
    reason = ('no redis-server (or valkey-server) on PATH: the shared-store tests need a real one; `make test` '
              'installs it as root (apt-get install -y redis-server)')
    if os.environ.get('CI', '').lower() == 'true':
        pytest.fail(reason + ' (CI=true: required)')
    pytest.skip(reason)


def _die_with_parent():
    """In the child before exec: ask Linux to stop redis-server when the test process ends, whatever way
    it ends (pytest-xdist workers may leave without running fixture teardowns)."""
    try:
        import ctypes  # pylint: disable=import-outside-toplevel
        ctypes.CDLL('libc.so.6', use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _free_port():
    """A free 127.0.0.1 port below the kernel's ephemeral range: a port from that range (what binding port 0
    gives) can be taken by any outgoing connection between this choice and the server's bind, which the test
    lanes' many HTTP connections make likely; below it only another listener can."""
    try:
        with open('/proc/sys/net/ipv4/ip_local_port_range') as f:
            ephemeral = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral = 32768
    rng = random.SystemRandom()
    for dummy in range(200):
        port = rng.randint(10000, ephemeral - 1)
        with socket.socket() as sock:
            try:
                sock.bind(('127.0.0.1', port))
            except OSError:
                continue
        return port
    raise RuntimeError('no free port below %d on 127.0.0.1' % ephemeral)


class RedisServer(object):
    """One redis-server process. ``url`` holds the password; ``admin`` is a redis-py client for checks."""

    def __init__(self):
        binary = find_redis_server()
        if not binary:
            missing_redis_server()
        self.password = 'pw-' + secrets.token_hex(12)
        self.dir = tempfile.mkdtemp(prefix='zego-redis-')
        self.socket = os.path.join(self.dir, 'redis.sock')
        self.proc = None
        self.port = None
        self.start(binary)

    def start(self, binary):
        """Start the server on a free port and wait until it answers. If it exits at once (another process took
        that port between our choice and its bind: the test lanes start servers at the same time), try again
        on another port."""
        for dummy in range(5):
            self.port = _free_port()
            if self._spawn(binary):
                return
        pytest.fail('redis-server exited at start (rc=%s) on 127.0.0.1:%d: %s'
                    % (self.proc.returncode, self.port, self._log_tail()))

    def _spawn(self, binary):
        """True once the new process answers; False if it exited at start."""
        self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
            [binary, '--port', str(self.port), '--bind', '127.0.0.1', '--requirepass', self.password,
             '--save', '', '--appendonly', 'no', '--dir', self.dir, '--unixsocket', self.socket,
             '--unixsocketperm', '700', '--daemonize', 'no', '--logfile', os.path.join(self.dir, 'redis.log')],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        atexit.register(self.stop)
        import redis  # pylint: disable=import-outside-toplevel
        self.admin = redis.Redis(host='127.0.0.1', port=self.port, password=self.password, socket_timeout=5)
        for dummy in range(200):
            if self.proc.poll() is not None:
                return False
            try:
                self.admin.ping()
                return True
            except redis.exceptions.RedisError:
                time.sleep(0.05)
        pytest.fail('redis-server did not answer on 127.0.0.1:%d: %s' % (self.port, self._log_tail()))

    def _log_tail(self):
        try:
            with open(os.path.join(self.dir, 'redis.log')) as f:
                return ' | '.join(line.strip() for line in f.readlines()[-3:])
        except (IOError, OSError):
            return '(no log)'

    @property
    def url(self):
        return 'redis://:%s@127.0.0.1:%d/0' % (self.password, self.port)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope='module')
def redis_server():
    server = RedisServer()
    yield server
    server.cleanup()


@pytest.fixture
def own_redis_server():
    """A server only this test uses (it may stop it)."""
    server = RedisServer()
    yield server
    server.cleanup()
