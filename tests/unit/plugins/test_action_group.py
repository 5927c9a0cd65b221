# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module belongs to the zego.rtc.zego action group, in meta/runtime.yml and in its docs.

`module_defaults: {group/zego.rtc.zego: {...}}` only reaches modules listed in meta/runtime.yml, and
ansible-doc only shows the membership that DOCUMENTATION declares; the two must agree.
"""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import ast
import os

import pytest
import yaml

GROUP = 'zego'
COLLECTION = 'zego.rtc'
FQ_GROUP = COLLECTION + '.' + GROUP

# tests/unit/plugins/test_action_group.py -> collection root
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
MODULES_DIR = os.path.join(ROOT, 'plugins', 'modules')
FRAGMENTS_DIR = os.path.join(ROOT, 'plugins', 'doc_fragments')


def _module_names():
    if not os.path.isdir(MODULES_DIR):
        return []
    return sorted(
        name[:-3] for name in os.listdir(MODULES_DIR)
        if name.endswith('.py') and not name.startswith('_')
    )


def _string_constants(path):
    """Top-level (and class-level) NAME = 'string' assignments of a Python file, without importing it."""
    with open(path, 'rb') as f:
        tree = ast.parse(f.read(), filename=path)
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found.setdefault(target.id, node.value.value)
    return found


def _fragment_attributes(name):
    """attributes of a zego.rtc doc fragment (zego.rtc.NAME or zego.rtc.NAME.VAR); {} for other collections."""
    if not name.startswith(COLLECTION + '.'):
        return {}
    parts = name[len(COLLECTION) + 1:].split('.')
    path = os.path.join(FRAGMENTS_DIR, parts[0] + '.py')
    if not os.path.exists(path):
        return {}
    var = parts[1].upper() if len(parts) > 1 else 'DOCUMENTATION'
    doc = yaml.safe_load(_string_constants(path).get(var, '')) or {}
    return doc.get('attributes') or {}


def _documentation(module):
    path = os.path.join(MODULES_DIR, module + '.py')
    text = _string_constants(path).get('DOCUMENTATION')
    assert text, '%s has no DOCUMENTATION string' % path
    doc = yaml.safe_load(text)
    assert isinstance(doc, dict), '%s: DOCUMENTATION is not a YAML mapping' % path
    return doc


def _action_group_members():
    with open(os.path.join(ROOT, 'meta', 'runtime.yml')) as f:
        runtime = yaml.safe_load(f) or {}
    groups = runtime.get('action_groups') or {}
    members = groups.get(GROUP) or []
    # entries may be FQCNs or short names; dict entries (metadata: extend_group) are not modules
    return set(
        m[len(COLLECTION) + 1:] if m.startswith(COLLECTION + '.') else m
        for m in members if isinstance(m, str)
    )


def test_there_are_modules():
    assert _module_names(), 'no modules found under %s' % MODULES_DIR


@pytest.mark.parametrize('module', _module_names())
def test_module_in_runtime_action_group(module):
    assert module in _action_group_members(), (
        '%s.%s is missing from action_groups.%s in meta/runtime.yml' % (COLLECTION, module, GROUP))


@pytest.mark.parametrize('module', _module_names())
def test_module_documents_action_group(module):
    doc = _documentation(module)
    attributes = {}
    fragments = doc.get('extends_documentation_fragment') or []
    if isinstance(fragments, str):
        fragments = [fragments]
    for fragment in fragments:
        attributes.update(_fragment_attributes(fragment))
    attributes.update(doc.get('attributes') or {})
    group = attributes.get('action_group')
    assert group, '%s: DOCUMENTATION has no attributes.action_group' % module
    assert group.get('support') == 'full', '%s: attributes.action_group.support is not full' % module
    assert FQ_GROUP in (group.get('membership') or []), (
        '%s: attributes.action_group.membership does not list %s' % (module, FQ_GROUP))


def test_action_group_lists_only_existing_modules():
    stale = sorted(_action_group_members() - set(_module_names()))
    assert not stale, 'action_groups.%s in meta/runtime.yml lists modules that do not exist: %s' % (GROUP, stale)
