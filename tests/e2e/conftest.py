# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the end-to-end tests (helpers live in e2e_lib.py)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import secrets
import shutil
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from e2e_lib import REPO, Ansible, Sim  # noqa: E402 pylint: disable=wrong-import-position


@pytest.fixture
def secret():
    """A fresh ServerSecret per test, so the leak checks can search for it."""
    return secrets.token_hex(16)


@pytest.fixture
def sim_factory(tmp_path, secret):
    started = []

    def factory(*args):
        sim = Sim(str(tmp_path), secret, args).start()
        started.append(sim)
        return sim

    yield factory
    for sim in started:
        sim.stop()


@pytest.fixture
def sim(sim_factory):
    return sim_factory('--rate', '0', '--list-room-interval', '0')


@pytest.fixture(scope='session')
def collections_root(tmp_path_factory):
    """ZEGO_COLLECTIONS_ROOT if set, else a copy of the files git would ship."""
    root = os.environ.get('ZEGO_COLLECTIONS_ROOT')
    if root:
        assert os.path.isdir(os.path.join(root, 'ansible_collections', 'zego', 'rtc')), root
        return root
    root = str(tmp_path_factory.mktemp('collections'))
    dest = os.path.join(root, 'ansible_collections', 'zego', 'rtc')
    files = subprocess.check_output(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
                                    cwd=REPO).decode('utf-8').split('\0')
    for rel in files:
        src = os.path.join(REPO, rel)
        if not rel or not os.path.isfile(src):
            continue
        target = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(src, target)
    return root


@pytest.fixture
def ansible(collections_root, tmp_path):
    return Ansible(collections_root, str(tmp_path))
