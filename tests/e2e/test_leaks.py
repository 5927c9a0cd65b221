# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ServerSecret, the signatures and signed URLs never show up: not in the output at -vvvv (with
and without ANSIBLE_DEBUG), not in warnings, errors or reports, not in any file left behind; on
success and on every failure path, with credentials as module parameters, module_defaults and the
process environment."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import re

import pytest

from e2e_lib import collection_path, play, save_results, stream_task

WRONG_SECRET = 'f' * 32
SIGNED_URL = re.compile(r'Signature=|SignatureNonce=')


def tls_files(tmp_path):
    import trustme
    ca = trustme.CA()
    cert = ca.issue_cert(u'127.0.0.1')
    pem = str(tmp_path / 'server.pem')
    cert.private_key_and_cert_chain_pem.write_to_path(pem)
    ca_pem = str(tmp_path / 'ca.pem')
    ca.cert_pem.write_to_path(ca_pem)
    return pem, ca_pem


# ANSIBLE_DEBUG=1 makes ansible-core print every module's raw arguments, no_log ones included, in
# this line. That is Ansible's behaviour (documented in docs/reliability.md): a secret passed as a
# module parameter (directly, by module_defaults or by the role) shows up there and nowhere else.
DEBUG_ARGS_LINE = re.compile(r'^.*done with _execute_module \(zego\.rtc\.zego_stream(_info)?, \{.*$', re.M)


def leaks(run, secret, sims, debug_args=False, skip=('playbook.json.yml', 'stdout.txt', 'stderr.txt')):
    """Every place where the secret, a signature the simulators saw, or a signed URL appears.

    ``debug_args``: the secret is a module argument and ANSIBLE_DEBUG is set; then the secret must be
    in ansible-core's module-argument debug lines (proving the scan sees it) and nowhere else."""
    stdout = run.stdout
    if debug_args:
        lines = [m.group(0) for m in DEBUG_ARGS_LINE.finditer(stdout)]
        assert any(secret in line for line in lines), 'ANSIBLE_DEBUG no longer prints module arguments'
        stdout = DEBUG_ARGS_LINE.sub('', stdout)
    needles = set([secret])
    for sim in sims:
        needles |= sim.signatures()
    assert len(needles) > 1
    found = []

    def scan(where, text):
        for needle in needles:
            if needle in text:
                found.append('%s contains %s' % (where, 'the secret' if needle == secret else 'a signature'))
        if SIGNED_URL.search(text):
            found.append('%s contains a signed URL' % where)

    scan('stdout', stdout)
    scan('stderr', run.stderr)
    files = 0
    for base, _dirs, names in os.walk(run.workdir):
        for name in names:
            if name in skip:
                continue
            path = os.path.join(base, name)
            files += 1
            with open(path, 'rb') as f:
                scan(os.path.relpath(path, run.workdir), f.read().decode('utf-8', 'replace'))
    return found, files


def queue(sim, kind, stream_id, count):
    sim.admin('POST', '/_sim/faults', {'kind': kind, 'count': count, 'action': 'DeleteStream', 'stream_id': stream_id})


ROOMS = {'r': [{'stream_id': s, 'user_id': 'u'} for s in ('s1', 's2', 's3', 's4', 'f1', 'f2', 'f3')],
         'p': [{'stream_id': s, 'user_id': 'u'} for s in ('keep1', 'x1', 'x2')]}


@pytest.fixture
def three_sims(sim_factory, tmp_path):
    pem, ca_pem = tls_files(tmp_path)
    main = sim_factory('--rate', '0', '--list-room-interval', '0')
    skew = sim_factory('--rate', '0', '--clock-offset', '660')
    tls = sim_factory('--rate', '0', '--tls-cert', pem, '--tls-key', pem)
    return main, skew, tls, ca_pem


@pytest.mark.parametrize('mode,debug', [('params', False), ('params', True), ('module_defaults', False),
                                        ('environment', True)])
def test_no_leaks_module_and_role(three_sims, ansible, secret, mode, debug):
    main, skew, tls, ca_pem = three_sims
    main.reset(ROOMS)
    tls.reset({'r': [{'stream_id': 's1', 'user_id': 'u'}]})
    queue(main, 'http502', 'f1', 5)
    queue(main, 'drop_after', 'f2', 1)
    queue(main, 'drop_before', 'f2', 5)
    queue(main, 'code124', 'f3', 5)
    creds = {'app_id': main.app_id, 'server_secret': secret} if mode == 'params' else {}
    role_creds = {'stream_cleanup_app_id': main.app_id, 'stream_cleanup_server_secret': secret} if mode == 'params' else {}

    def mod(register, url, **params):
        args = dict(creds, api_url=url, timeout=2)
        args.update(params)
        return stream_task(register, args)

    def role(register, **role_vars):
        role_vars = dict(role_creds, stream_cleanup_api_url=main.url, stream_cleanup_timeout=2, **role_vars)
        return {'name': 'role %s' % register, 'block': [
            {'ansible.builtin.include_role': {'name': 'zego.rtc.stream_cleanup'}, 'vars': role_vars},
            {'ansible.builtin.set_fact': {register: '{{ stream_cleanup_result }}'}}],
            'rescue': [{'ansible.builtin.set_fact': {register: '{{ ansible_failed_result | combine({"failed": true}) }}'}}]}

    tasks = [
        mod('ok', main.url, streams=[{'room_id': 'r', 'stream_id': 's1'}, {'room_id': 'r', 'stream_id': 's2'}]),
        mod('bad_secret', main.url, room_id='r', stream_id='s4', server_secret=WRONG_SECRET, app_id=main.app_id),
        mod('skew', skew.url, room_id='r', stream_id='s4'),
        mod('tls', tls.url, room_id='r', stream_id='s1'),
        mod('tls_ca', tls.url, room_id='r', stream_id='s1', ca_path=ca_pem),
        mod('exhausted', main.url, streams=[{'room_id': 'r', 'stream_id': 'f1'}, {'room_id': 'r', 'stream_id': 'f2'}], retries=2),
        mod('bad_input', main.url, room_id='r', stream_id='a b'),
        role('role_ok', stream_cleanup_streams=[{'room_id': 'r', 'stream_id': 's3'}], stream_cleanup_rooms=['p'],
             stream_cleanup_keep_regex='^keep', stream_cleanup_report_path='{{ playbook_dir }}/out/role-ok.json'),
        role('role_fail', stream_cleanup_streams=[{'room_id': 'r', 'stream_id': 'f3'}], stream_cleanup_retries=1,
             stream_cleanup_report_path='{{ playbook_dir }}/out/role-fail.json'),
    ]
    names = ['ok', 'bad_secret', 'skew', 'tls', 'tls_ca', 'exhausted', 'bad_input', 'role_ok', 'role_fail']
    extra = {}
    if mode == 'module_defaults':
        extra['module_defaults'] = {'group/zego.rtc.zego': {'app_id': main.app_id, 'server_secret': secret}}
    env = {'ZEGO_APP_ID': str(main.app_id), 'ZEGO_SERVER_SECRET': secret} if mode == 'environment' else {}
    run = ansible.run([play(tasks + [save_results(names)], **extra)], env=env, verbosity=4, debug=debug)
    res = run.results
    assert res is not None, run.output[-4000:]

    # every path was really taken
    assert not res['ok'].get('failed') and res['ok']['summary']['deleted'] == 2, res['ok']
    assert res['bad_secret']['failed'] and '100000005' in res['bad_secret']['msg']
    assert res['skew']['failed'] and '100000004' in res['skew']['msg']
    assert res['tls']['failed'] and 'certificate' in res['tls']['msg']
    assert not res['tls_ca'].get('failed'), res['tls_ca']
    assert res['exhausted']['failed'] and res['exhausted']['summary']['failed'] == 2
    assert res['bad_input']['failed'] and 'stream_id' in res['bad_input']['msg']
    assert res['role_ok']['summary']['deleted'] == 3 and res['role_ok']['summary']['kept'] == 1, res['role_ok']
    assert res['role_fail']['failed'], res['role_fail']
    assert os.path.exists(os.path.join(run.workdir, 'out', 'role-fail.json'))
    assert 'retrying' in run.stderr  # retry warnings were printed (and scrubbed)
    assert len(main.signatures()) >= 15 and skew.signatures() and tls.signatures()

    found, files = leaks(run, secret, [main, skew, tls], debug_args=debug and mode != 'environment')
    assert files > 0
    assert not found, found


@pytest.mark.parametrize('debug', [False, True], ids=['debug_unset', 'ANSIBLE_DEBUG'])
def test_no_leaks_playbooks(sim_factory, ansible, secret, debug):
    sim = sim_factory('--rate', '0', '--list-room-interval', '0')
    sim.reset(ROOMS)
    queue(sim, 'http503', 'f1', 10)
    # delete_streams.yml with the credentials in the process environment (as AWX injects them), a
    # failing stream and a report
    env = {'ZEGO_APP_ID': str(sim.app_id), 'ZEGO_SERVER_SECRET': secret, 'ZEGO_API_URL': sim.url}
    run = ansible.run(playbook=collection_path(ansible.root, 'playbooks', 'delete_streams.yml'), verbosity=4,
                      debug=debug, env=env, args=['-e', 'room_id=r', '-e', 'stream_ids=s1,s2,f1',
                                                  '-e', '{"stream_cleanup_retries": 1}', '-e', 'report_path=%s' % os.path.join(ansible.base, 'report.json')])
    assert run.rc != 0 and 'streams failed' in run.stdout, run.output[-3000:]
    assert os.path.exists(os.path.join(ansible.base, 'report.json'))
    found, files = leaks(run, secret, [sim])
    assert files > 0 and not found, found
    with open(os.path.join(ansible.base, 'report.json')) as f:
        report = f.read()
    assert 'f1' in report and secret not in report and not any(sig in report for sig in sim.signatures())
    assert not SIGNED_URL.search(report)
    # purge_rooms.yml with the credentials as extra vars (file), on success
    varfile = os.path.join(str(ansible.base), 'creds.json')
    with open(varfile, 'w') as f:
        f.write('{"zego_app_id": %d, "zego_server_secret": "%s", "zego_api_url": "%s"}' % (sim.app_id, secret, sim.url))
    run = ansible.run(playbook=collection_path(ansible.root, 'playbooks', 'purge_rooms.yml'), verbosity=4, debug=debug,
                      args=['-e', '@' + varfile, '-e', 'room_ids=p', '-e', 'keep_regex=^keep', '-e',
                            'report_path=%s' % os.path.join(str(ansible.base), 'purge.json')])
    assert run.rc == 0, run.output[-3000:]
    assert sim.state()['p'] == {'keep1'}
    assert os.path.exists(os.path.join(str(ansible.base), 'purge.json'))
    found, files = leaks(run, secret, [sim], debug_args=debug)
    assert files > 0 and not found, found
    # bad secret through the playbook
    env['ZEGO_SERVER_SECRET'] = WRONG_SECRET
    run = ansible.run(playbook=collection_path(ansible.root, 'playbooks', 'delete_streams.yml'), verbosity=4,
                      debug=debug, env=env, args=['-e', 'room_id=r', '-e', 'stream_ids=s3'])
    assert run.rc != 0 and '100000005' in run.stdout, run.output[-3000:]
    found, files = leaks(run, secret, [sim])
    assert not found, found


def test_environment_keyword_exposes_the_secret(sim, ansible, secret):
    """Ansible's local connection prints the play's `environment:` in its EXEC line at -vvv. This is
    Ansible's behaviour, documented as a rule for users; the collection itself never does it."""
    sim.reset(ROOMS)
    task = stream_task('x', {'room_id': 'r', 'stream_id': 's1', 'api_url': sim.url})
    run = ansible.run([play([task], environment={'ZEGO_APP_ID': str(sim.app_id), 'ZEGO_SERVER_SECRET': secret})],
                      verbosity=3)
    assert run.rc == 0
    exec_lines = [line for line in run.stdout.splitlines() if '<localhost> EXEC' in line and secret in line]
    assert exec_lines, 'the environment keyword no longer shows up in EXEC lines: update docs/reliability.md'
    # the collection's own role, playbooks and docs never pass the secret through environment:
    root = collection_path(ansible.root)
    offenders = []
    for sub in ('roles', 'playbooks', 'docs', 'plugins', 'README.md'):
        top = os.path.join(root, sub)
        paths = [top] if os.path.isfile(top) else [os.path.join(b, n) for b, _d, ns in os.walk(top) for n in ns]
        for path in paths:
            with open(path, 'rb') as f:
                text = f.read().decode('utf-8', 'replace')
            for m in re.finditer(r'^(\s*)environment:\s*\n((?:\1\s+.*\n)*)', text, re.M):
                if 'ZEGO_SERVER_SECRET' in m.group(2) and 'never' not in text[max(0, m.start() - 200):m.start()]:
                    offenders.append(os.path.relpath(path, root))
    assert not offenders, offenders
