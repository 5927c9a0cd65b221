# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What outlives one module run on this controller: the private state directory, files read and replaced under
an exclusive ``flock`` (the limiters' state lives in them), and the ``Sequence`` counter of ZEGO's ban calls."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import errno
import hashlib
import os
import stat
import tempfile
import threading
import time

try:
    import fcntl
except ImportError:  # not on a POSIX controller: the state is shared by the threads of one process only
    fcntl = None


class StateError(Exception):
    """The private state directory cannot be used. ``message`` says why and what to do."""

    def __init__(self, message):
        super(StateError, self).__init__(message)
        self.message = message


def private_state_dir():
    """A directory only this user can use, for the cross-process state files.

    ``$ZEGO_RTC_STATE_DIR`` overrides the location; otherwise ``<tmp>/zego-rtc-<uid>``. A directory of
    this user's that others can read is made private; one that belongs to someone else, or a
    symbolic link, is refused."""
    uid = os.getuid() if hasattr(os, 'getuid') else None
    path = os.environ.get('ZEGO_RTC_STATE_DIR') or os.path.join(
        tempfile.gettempdir(), 'zego-rtc-%s' % ('user' if uid is None else uid))
    try:
        os.mkdir(path, 0o700)
    except OSError as exc:
        if exc.errno != errno.EEXIST:
            raise StateError('cannot create the rate-limit state directory %s: %s' % (path, exc.strerror))
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or (uid is not None and st.st_uid != uid):
        raise StateError('the rate-limit state directory %s is not a directory of this user '
                         '(set ZEGO_RTC_STATE_DIR to a directory only you can write)' % path)
    if st.st_mode & 0o077:
        os.chmod(path, 0o700)
    return path


def state_file(prefix, key):
    """The path of the cross-process state file for ``key`` in the private state directory, or None where
    there is no ``fcntl`` (then the state is shared by the threads of one process only)."""
    if fcntl is None:
        return None
    name = hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]
    return os.path.join(private_state_dir(), '%s-%s' % (prefix, name))


def update_locked_file(path, change):
    """Read ``path`` under an exclusive ``flock`` and replace its content with what
    ``change(content) -> (result, new_content)`` returns (bytes; None leaves the file as it is); return the
    result."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, 'O_NOFOLLOW', 0), 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        chunks = []
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
        result, content = change(b''.join(chunks))
        if content is not None:
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.write(fd, content)
    finally:
        os.close(fd)  # also releases the lock
    return result


class SequenceCounter(object):
    """Numbers for ZEGO's ``Sequence`` parameter (ForbidRTCStream(s), ResumeRTCStream(s)), which must strictly
    increase per stream ID within any 10 seconds: milliseconds since the epoch, but never a number
    handed out before, i.e. ``max(now_ms, last + 1)``.

    ``last`` lives in a file locked with ``flock`` in the private state directory, so every process on
    this controller continues above the numbers of the others: parallel forks, later tasks and later
    runs. A clock that steps back cannot make the numbers go back either. Several controllers do not
    share the file; their numbers are millisecond timestamps and only collide if two of them ban the
    same stream ID within the same few milliseconds. Without ``fcntl`` (``path=None``) the numbers are
    shared by the threads of one process only."""

    # After the clock steps back the numbers stay above those handed out before; a number more than a day ahead
    # of the clock is not one a clock step explains (the file was overwritten), so the counter starts again from
    # the clock, with a warning.
    AHEAD_LIMIT = 86400.0

    def __init__(self, path=None, clock=None, warn=None):
        self.path = path
        self.clock = clock or time.time
        self.warn = warn or (lambda msg: None)
        self._lock = threading.Lock()
        self._last = 0

    @classmethod
    def for_key(cls, key, clock=None, warn=None):
        return cls(path=state_file('sequence', key), clock=clock, warn=warn)

    def _step(self, last, problems):
        now_ms = int(self.clock() * 1000)
        if last > now_ms + self.AHEAD_LIMIT * 1000:
            problems.append('it holds a number %.0f s ahead of the clock' % ((last - now_ms) / 1000.0))
            last = 0
        return max(now_ms, last + 1)

    def next(self):
        """The next number, as the decimal string ZEGO expects."""
        problems = []
        with self._lock:
            if self.path is None:
                self._last = self._step(self._last, problems)
            else:
                def step(content):
                    text = content.strip()
                    last = 0
                    if text:
                        if text.isdigit() and len(text) <= 19:
                            last = int(text)
                        else:
                            problems.append('it does not hold a number')
                    value = self._step(max(last, self._last), problems)
                    return value, str(value).encode('ascii')
                self._last = update_locked_file(self.path, step)
        if problems:
            self.warn('the Sequence state file %s could not be used as it was (%s): numbers start again from '
                      'the clock' % (self.path or '(memory)', problems[0]))
        return str(self._last)
