# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run galaxy-importer (Galaxy / Automation Hub's import checks) on a built collection tarball.

Usage: python hacking/galaxy_importer.py TARBALL WORKDIR

Its ansible-test run is disabled (it needs a container engine; the sanity steps run ansible-test); ansible-doc,
ansible-lint, the changelog and the metadata checks run. Fails on any WARNING or ERROR line, on a failed
import, and if the import does not list the modules, the role, the playbooks and the EDA event source.
"""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os
import subprocess
import sys

CONFIG = """[galaxy-importer]
RUN_ANSIBLE_TEST = False
RUN_ANSIBLE_DOC = True
RUN_ANSIBLE_LINT = True
OFFLINE_ANSIBLE_LINT = True
CHECK_CHANGELOG = True
RUN_FLAKE8 = False
LOG_LEVEL_MAIN = INFO
ANSIBLE_LOCAL_TMP = {tmp}/ansible
TMP_ROOT_DIR = {tmp}
"""

EXPECTED = [
    ('module', 'zego_stream'),
    ('module', 'zego_stream_info'),
    ('role', 'stream_cleanup'),
    ('playbook', 'delete_streams.yml'),
    ('eda/plugins/event_source', 'callbacks'),
]


def main():
    tarball, work = sys.argv[1], os.path.abspath(sys.argv[2])
    tmp = os.path.join(work, 'tmp')
    os.makedirs(os.path.join(tmp, 'ansible'), exist_ok=True)
    cfg = os.path.join(work, 'galaxy-importer.cfg')
    with open(cfg, 'w') as f:
        f.write(CONFIG.format(tmp=tmp))
    env = dict(os.environ, GALAXY_IMPORTER_CONFIG=cfg)
    env.pop('ANSIBLE_COLLECTIONS_PATH', None)
    print('--- python -m galaxy_importer.main %s (ansible-test disabled)' % os.path.basename(tarball))
    proc = subprocess.run([sys.executable, '-m', 'galaxy_importer.main', os.path.abspath(tarball)], cwd=work,
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          check=False)
    print(proc.stdout, end='')
    problems = [line for line in proc.stdout.splitlines() if line.startswith(('WARNING', 'ERROR', 'CRITICAL'))]
    if proc.returncode != 0:
        problems.append('galaxy-importer exited with %d' % proc.returncode)
    result_file = os.path.join(work, 'importer_result.json')
    if os.path.exists(result_file):
        with open(result_file) as f:
            result = json.load(f)
        found = set((c.get('content_type'), c.get('name')) for c in result.get('contents', []))
        print('--- contents: %s' % ', '.join('%s %s' % c for c in sorted(found)))
        for item in EXPECTED:
            if item not in found:
                problems.append('the import does not list %s %s' % item)
        for c in result.get('contents', []):
            if c.get('content_type') in ('module', 'eda/plugins/event_source') and not c.get('description'):
                problems.append('%s %s has no description in the import' % (c['content_type'], c['name']))
    else:
        problems.append('galaxy-importer wrote no importer_result.json')
    if problems:
        print('--- FAIL: galaxy-importer reported %d problem(s):' % len(problems))
        for line in problems:
            print('  ' + line)
        return 1
    print('--- galaxy-importer: import passed with no warnings')
    return 0


if __name__ == '__main__':
    sys.exit(main())
