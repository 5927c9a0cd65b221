# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX / Automation Platform kit agrees with the code it drives.

- The credential type injects exactly the environment variables the modules read (taken from the
  argument spec's env fallbacks, not from a copied list).
- The surveys set only variables the playbooks read, with types AWX knows.
- ansible-builder reads the collection's meta/execution-environment.yml and creates a build context
  for awx/execution-environment.yml.
"""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from ansible.module_utils.basic import env_fallback

from ansible_collections.zego.rtc.plugins.module_utils.base import zego_argument_spec

# tests/unit/plugins/test_awx_kit.py -> collection root
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
AWX = os.path.join(ROOT, 'awx')
SURVEY_TYPES = ('text', 'textarea', 'password', 'integer', 'float', 'multiplechoice', 'multiselect')


def _load_yaml(*parts):
    with open(os.path.join(ROOT, *parts)) as f:
        return yaml.safe_load(f)


def _env_fallbacks():
    """{ENV_VAR: option} from the connection argument spec every module uses."""
    found = {}
    for option, spec in zego_argument_spec().items():
        fallback = spec.get('fallback')
        if fallback and fallback[0] is env_fallback:
            for name in fallback[1]:
                found[name] = option
    return found


def _template_fields(text):
    return set(re.findall(r'\{\{\s*([A-Za-z_][A-Za-z0-9_]*)', text))


def test_credential_type_injects_exactly_the_env_vars_the_modules_read():
    cred = _load_yaml('awx', 'credential_type.yml')
    env = cred['injectors']['env']
    fallbacks = _env_fallbacks()
    assert fallbacks, 'the argument spec declares no env fallbacks'
    assert sorted(env) == sorted(fallbacks)
    # each variable is filled from the input of the same meaning
    for var, template in env.items():
        assert _template_fields(template) == {fallbacks[var]}, (var, template)


def test_credential_type_inputs():
    cred = _load_yaml('awx', 'credential_type.yml')
    assert cred['kind'] == 'cloud'
    fields = dict((f['id'], f) for f in cred['inputs']['fields'])
    spec = zego_argument_spec()
    assert set(fields) == set(_env_fallbacks().values())
    for fid, field in fields.items():
        assert field['type'] in ('string', 'boolean'), fid
        assert field.get('label'), fid
        assert bool(field.get('secret')) == bool(spec[fid].get('no_log')), fid
    assert fields['is_test']['type'] == 'boolean'
    assert sorted(cred['inputs']['required']) == sorted(k for k in fields if spec[k].get('required'))
    assert set(cred['injectors']) == {'env'}


@pytest.mark.parametrize('survey,playbook', [
    ('survey_delete_streams.json', 'delete_streams.yml'),
    ('survey_purge_rooms.json', 'purge_rooms.yml'),
    ('survey_ban_streams.json', 'ban_streams.yml'),
    ('survey_close_rooms.json', 'close_rooms.yml'),
    ('survey_kick_users.json', 'kick_users.yml'),
    ('survey_add_streams.json', 'add_streams.yml'),
    ('survey_notify_rooms.json', 'notify_rooms.yml'),
])
def test_surveys_set_variables_the_playbooks_read(survey, playbook):
    with open(os.path.join(AWX, survey)) as f:
        data = json.load(f)
    assert data['name'] and isinstance(data['spec'], list) and data['spec']
    with open(os.path.join(ROOT, 'playbooks', playbook)) as f:
        play_text = f.read()
    yaml.safe_load(play_text)
    seen = set()
    for question in data['spec']:
        var = question['variable']
        assert var not in seen, var
        seen.add(var)
        assert question['type'] in SURVEY_TYPES, var
        assert question['question_name'], var
        assert isinstance(question['required'], bool), var
        assert re.search(r'(?<![A-Za-z0-9_.])%s(?![A-Za-z0-9_])' % re.escape(var), play_text), \
            '%s is not read by %s' % (var, playbook)
        if question['type'] == 'multiplechoice':
            assert question['default'] in question['choices'], var
        if question['type'] == 'integer':
            assert question['min'] <= question['default'] <= question['max'], var
    # survey answers are never secrets: the credential carries those
    assert not [q for q in data['spec'] if q['type'] == 'password']


def test_split_ids_reads_survey_text():
    from ansible_collections.zego.rtc.plugins.filter.stream_cleanup import split_ids
    assert split_ids('s1\ns2, s3  s4,,\r\n;s5\n') == ['s1', 's2', 's3', 's4', 's5']
    assert split_ids('') == [] and split_ids(None) == [] and split_ids(' \n , ') == []
    assert split_ids(['a b', 'c']) == ['a', 'b', 'c']
    assert split_ids('a,b', room_id='r') == [{'room_id': 'r', 'stream_id': 'a'}, {'room_id': 'r', 'stream_id': 'b'}]


def test_meta_execution_environment_names_the_requirements():
    ee = _load_yaml('meta', 'execution-environment.yml')
    assert ee['version'] == 1
    path = ee['dependencies']['python']
    assert not os.path.isabs(path)
    with open(os.path.join(ROOT, path)) as f:
        reqs = [line.split('>')[0].split('=')[0].strip() for line in f if line.strip() and not line.startswith('#')]
    assert 'requests' in reqs
    assert 'redis' in reqs  # the shared rate-limit store (rate_limit_backend), from the credential type


def _ansible_builder():
    path = os.path.join(os.path.dirname(sys.executable), 'ansible-builder')
    if not os.path.exists(path):
        pytest.skip('ansible-builder is not installed next to %s (pip install -r requirements-dev.txt)' % sys.executable)
    return path


def test_ansible_builder_introspects_the_collection(tmp_path):
    builder = _ansible_builder()
    # ansible-builder introspect reads collections from <dir>/ansible_collections/<namespace>/<name>
    coll = tmp_path / 'ansible_collections' / 'zego' / 'rtc'
    (coll / 'meta').mkdir(parents=True)
    for name in ('galaxy.yml', 'requirements.txt', os.path.join('meta', 'execution-environment.yml')):
        shutil.copy(os.path.join(ROOT, name), str(coll / name))
    proc = subprocess.run([builder, 'introspect', str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout
    data = yaml.safe_load(proc.stdout)
    assert [line for line in data['python'] if line.startswith('requests') and 'zego.rtc' in line], proc.stdout
    assert [line for line in data['python'] if line.startswith('redis') and 'zego.rtc' in line], proc.stdout


def test_ansible_builder_creates_a_build_context(tmp_path):
    builder = _ansible_builder()
    shutil.copy(os.path.join(AWX, 'execution-environment.yml'), str(tmp_path / 'execution-environment.yml'))
    context = tmp_path / 'context'
    proc = subprocess.run([builder, 'create', '-f', str(tmp_path / 'execution-environment.yml'), '-c', str(context),
                           '--output-filename', 'Containerfile'],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout
    assert (context / 'Containerfile').exists()
    with open(str(context / '_build' / 'requirements.yml')) as f:
        galaxy = yaml.safe_load(f)
    assert [c['name'] for c in galaxy['collections']] == ['zego.rtc']
