# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline stand-in for the get-pip.py script that ansible-test downloads.

ansible-test bootstraps pip in each fresh sanity venv by running a cached
``~/.ansible/test/cache/get_pip_<X_Y>.py`` as::

    python get_pip_X_Y.py --disable-pip-version-check pip==X.Y [--no-setuptools] [--no-wheel]

When the host that serves get-pip.py is unreachable (only PyPI is), hacking/ansible_tree.sh
copies this file to that cache path. It runs the pip wheel bundled with the interpreter's
ensurepip (no network) to install the requested pip from the normal package index, falling back
to ``python -m ensurepip`` when no bundled wheel exists.
"""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import glob
import os
import subprocess
import sys


def main():
    args = sys.argv[1:]
    flags = ('--no-setuptools', '--no-wheel', '--disable-pip-version-check')
    pkgs = [a for a in args if a not in flags]
    pip_args = ['install', '-q', '--disable-pip-version-check'] + pkgs
    wheel = None
    try:
        import ensurepip
        found = sorted(glob.glob(os.path.join(os.path.dirname(ensurepip.__file__), '_bundled', 'pip-*.whl')))
        wheel = found[-1] if found else None
    except ImportError:
        pass
    if wheel:
        subprocess.check_call([sys.executable, os.path.join(wheel, 'pip')] + pip_args)
    else:
        subprocess.check_call([sys.executable, '-m', 'ensurepip', '--upgrade', '--default-pip'], stdout=subprocess.DEVNULL)
        subprocess.check_call([sys.executable, '-m', 'pip'] + pip_args)
        if '--no-setuptools' in args:
            subprocess.call([sys.executable, '-m', 'pip', 'uninstall', '-q', '-y', 'setuptools'],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


if __name__ == '__main__':
    main()
