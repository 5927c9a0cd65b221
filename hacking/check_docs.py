# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check that every plugin and role of the collection renders with the ansible-doc on PATH.

Usage: python hacking/check_docs.py COLLECTION_ROOT
    (COLLECTION_ROOT sits in an ansible_collections/NS/NAME tree that ANSIBLE_COLLECTIONS_PATH points at)

Plugins and roles are discovered from the tree. ansible-doc exits 0 even when a plugin is not found, so
this checks that `ansible-doc --json` returns a documented entry for each name, then renders each in
text form. Exit status 1 on any problem.
"""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os
import subprocess
import sys

import yaml

# plugins/<dir> -> ansible-doc type, for plugin types with one plugin per file
PLUGIN_DIRS = {
    'modules': 'module',
    'lookup': 'lookup',
    'inventory': 'inventory',
    'callback': 'callback',
    'connection': 'connection',
    'become': 'become',
    'cache': 'cache',
    'vars': 'vars',
}


def discover(root, fqcn_prefix):
    found = []
    for subdir, doc_type in sorted(PLUGIN_DIRS.items()):
        path = os.path.join(root, 'plugins', subdir)
        if not os.path.isdir(path):
            continue
        for name in sorted(os.listdir(path)):
            if name.endswith('.py') and not name.startswith('_'):
                found.append((doc_type, fqcn_prefix + name[:-3]))
    roles = os.path.join(root, 'roles')
    if os.path.isdir(roles):
        for name in sorted(os.listdir(roles)):
            if os.path.isdir(os.path.join(roles, name)):
                found.append(('role', fqcn_prefix + name))
    return found


def ansible_doc(doc_type, names, as_json):
    cmd = ['ansible-doc', '-t', doc_type] + (['--json'] if as_json else []) + list(names)
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def main():
    root = os.path.abspath(sys.argv[1])
    with open(os.path.join(root, 'galaxy.yml')) as f:
        galaxy = yaml.safe_load(f)
    prefix = '%s.%s.' % (galaxy['namespace'], galaxy['name'])
    items = discover(root, prefix)
    errors = []
    by_type = {}
    for doc_type, name in items:
        by_type.setdefault(doc_type, []).append(name)
    for doc_type, names in sorted(by_type.items()):
        rc, out, err = ansible_doc(doc_type, names, True)
        try:
            data = json.loads(out) if rc == 0 else {}
        except ValueError:
            data = {}
            errors.append('ansible-doc -t %s --json: output is not JSON: %s' % (doc_type, err.strip()))
        if rc != 0:
            errors.append('ansible-doc -t %s --json exited %d: %s' % (doc_type, rc, err.strip()))
        for name in names:
            entry = data.get(name)
            if not entry:
                errors.append('%s %s: not found by ansible-doc --json %s' % (doc_type, name, err.strip()))
                continue
            if doc_type == 'role':
                if not entry.get('entry_points'):
                    errors.append('role %s: no argument spec (meta/argument_specs.yml) to document' % name)
            elif not entry.get('doc'):
                errors.append('%s %s: ansible-doc --json has no "doc" for it' % (doc_type, name))
            # the text renderer is a separate code path; make sure it does not fail either
            trc, tout, terr = ansible_doc(doc_type, [name], False)
            if trc != 0 or not tout.strip() or 'WARNING' in terr:
                errors.append('%s %s: ansible-doc text rendering failed (rc=%d): %s' % (doc_type, name, trc, terr.strip()))
            else:
                print('ok   %-7s %s' % (doc_type, name))
    for error in errors:
        print('FAIL ' + error)
    if not items:
        print('FAIL no plugins or roles found under %s' % root)
        return 1
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
