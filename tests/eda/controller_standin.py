# -*- coding: utf-8 -*-
# Copyright: Contributors to the zego.rtc collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A stand-in for the part of automation controller's API that ansible-rulebook's run_job_template uses (as the
simulator stands in for ZEGO): config, unified job templates by name, launch, organizations, labels, jobs by
label and the batched job poll, with bearer-token checks. A launched job really runs its template's playbook
with ansible-playbook (the template's credential is the environment given), so the jobs do the work a
controller's would. Everything is recorded for the tests: every request, every launch with its body."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os
import subprocess
import tempfile
import threading
import time

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Template(object):
    def __init__(self, tid, name, organization, playbook, ask_variables=True, ask_labels=True):
        self.id = tid
        self.name = name
        self.organization = organization
        self.playbook = playbook
        self.ask_variables = ask_variables
        self.ask_labels = ask_labels

    def summary(self):
        return {
            'id': self.id, 'type': 'job_template', 'name': self.name, 'url': '/api/v2/job_templates/%d/' % self.id,
            'related': {'launch': '/api/v2/job_templates/%d/launch/' % self.id},
            'summary_fields': {'organization': {'id': 1, 'name': self.organization}},
            'ask_limit_on_launch': False, 'ask_labels_on_launch': self.ask_labels,
            'ask_inventory_on_launch': False, 'ask_variables_on_launch': self.ask_variables,
        }


class Controller(object):
    """``Controller(token, env, playbook_cmd).start()``; ``templates`` by name; ``launches`` and ``jobs``."""

    def __init__(self, token, env, playbook_cmd, organizations=('Default',)):
        self.token = token
        self.env = env
        self.playbook_cmd = list(playbook_cmd)
        self.organizations = dict((name, i + 1) for i, name in enumerate(organizations))
        self.templates = {}
        self.labels = {}
        self.jobs = {}
        self.launches = []
        self.requests = []
        self.lock = threading.Lock()
        self.workdir = tempfile.mkdtemp(prefix='controller-standin-')
        controller = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # pylint: disable=arguments-differ
                pass

            def do_GET(self):
                controller.handle(self, 'GET')

            def do_POST(self):
                controller.handle(self, 'POST')

        self.server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = 'http://127.0.0.1:%d' % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def add_template(self, name, playbook, organization='Default', **kw):
        template = Template(len(self.templates) + 7, name, organization, playbook, **kw)
        self.templates[name] = template
        return template

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        for job in list(self.jobs.values()):
            proc = job.get('proc')
            if proc is not None and proc.poll() is None:
                proc.kill()

    # -- HTTP -------------------------------------------------------------------------------------
    def handle(self, handler, method):
        parts = urlsplit(handler.path)
        query = dict((k, v[0]) for k, v in parse_qs(parts.query).items())
        body = None
        if method == 'POST':
            raw = handler.rfile.read(int(handler.headers.get('Content-Length') or 0))
            try:
                body = json.loads(raw or b'{}')
            except ValueError:
                return self.answer(handler, 400, {'detail': 'JSON parse error'})
        with self.lock:
            self.requests.append((method, parts.path, query))
        if handler.headers.get('Authorization') != 'Bearer %s' % self.token:
            return self.answer(handler, 401, {'detail': 'Authentication credentials were not provided.'})
        path = parts.path
        if method == 'GET' and path == '/api/v2/config/':
            return self.answer(handler, 200, {'version': '4.6.0', 'license_info': {}})
        if method == 'GET' and path == '/api/v2/unified_job_templates/':
            found = [t.summary() for t in self.templates.values() if t.name == query.get('name')]
            return self.answer(handler, 200, {'count': len(found), 'next': None, 'previous': None, 'results': found})
        if method == 'GET' and path == '/api/v2/organizations/':
            found = [{'id': i, 'name': n} for n, i in self.organizations.items() if n == query.get('name')]
            return self.answer(handler, 200, {'count': len(found), 'results': found})
        if path == '/api/v2/labels/':
            if method == 'GET':
                found = [l for l in self.labels.values() if l['name'] == query.get('name')]
                return self.answer(handler, 200, {'count': len(found), 'results': found})
            with self.lock:
                if body.get('name') in self.labels:
                    return self.answer(handler, 400, {'__all__': ['Label with this Name and Organization already exists.']})
                label = {'id': len(self.labels) + 100, 'name': body.get('name'), 'organization': body.get('organization')}
                self.labels[label['name']] = label
            return self.answer(handler, 201, label)
        if method == 'POST' and path.startswith('/api/v2/job_templates/') and path.endswith('/launch/'):
            return self.launch(handler, int(path.split('/')[4]), body)
        if method == 'GET' and path.startswith('/api/v2/job_templates/') and path.endswith('/jobs/'):
            tid = int(path.split('/')[4])
            label_ids = set(l['id'] for l in self.labels.values() if l['name'] == query.get('labels__name'))
            with self.lock:
                found = [self.job_out(j) for j in self.jobs.values()
                         if j['template'] == tid and label_ids & set(j['labels'])]
            return self.answer(handler, 200, {'count': len(found), 'results': found})
        if method == 'GET' and path == '/api/v2/jobs/':
            wanted = set(int(x) for x in query.get('id__in', '').split(',') if x)
            with self.lock:
                found = [self.job_out(j) for i, j in sorted(self.jobs.items()) if i in wanted]
            return self.answer(handler, 200, {'count': len(found), 'next': None, 'results': found})
        return self.answer(handler, 404, {'detail': 'Not found.'})

    @staticmethod
    def answer(handler, status, obj):
        data = json.dumps(obj).encode('utf-8')
        handler.send_response(status)
        handler.send_header('Content-Type', 'application/json')
        handler.send_header('Content-Length', str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    # -- jobs ---------------------------------------------------------------------------------------
    def launch(self, handler, tid, body):
        template = next((t for t in self.templates.values() if t.id == tid), None)
        if template is None:
            return self.answer(handler, 404, {'detail': 'Not found.'})
        extra_vars = body.get('extra_vars') or {}
        if extra_vars and not template.ask_variables:
            return self.answer(handler, 400, {'extra_vars': ['Prompting for variables is not enabled.']})
        if body.get('labels') and not template.ask_labels:
            return self.answer(handler, 400, {'labels': ['Prompting for labels is not enabled.']})
        with self.lock:
            jid = len(self.jobs) + 1
            job = {'id': jid, 'template': tid, 'extra_vars': extra_vars, 'labels': list(body.get('labels') or []),
                   'status': 'pending', 'created': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
                   'finished': None, 'proc': None}
            self.jobs[jid] = job
            self.launches.append({'template': template.name, 'body': body, 'job': jid})
        threading.Thread(target=self.run_job, args=(job, template), daemon=True).start()
        out = self.job_out(job)
        out['job'] = jid
        return self.answer(handler, 201, out)

    def run_job(self, job, template):
        vars_file = os.path.join(self.workdir, 'job%d.json' % job['id'])
        with open(vars_file, 'w') as handle:
            json.dump(job['extra_vars'], handle)
        log = open(os.path.join(self.workdir, 'job%d.log' % job['id']), 'w')  # pylint: disable=consider-using-with
        with self.lock:
            job['status'] = 'running'
            job['proc'] = proc = subprocess.Popen(  # pylint: disable=consider-using-with
                self.playbook_cmd + ['-e', '@' + vars_file, template.playbook], stdout=log, stderr=subprocess.STDOUT,
                env=self.env)
        rc = proc.wait()
        log.close()
        with self.lock:
            job['status'] = 'successful' if rc == 0 else 'failed'
            job['finished'] = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())

    def job_log(self, jid):
        with open(os.path.join(self.workdir, 'job%d.log' % jid)) as handle:
            return handle.read()

    @staticmethod
    def job_out(job):
        return {'id': job['id'], 'type': 'job', 'url': '/api/v2/jobs/%d/' % job['id'], 'status': job['status'],
                'created': job['created'], 'finished': job['finished'], 'failed': job['status'] == 'failed',
                'artifacts': {}, 'extra_vars': json.dumps(job['extra_vars'])}
