# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Summarise a `make test` run: pytest JUnit files plus pass/fail gates, one closing line.

Usage: python hacking/summary.py RESULTS_DIR   (exit status 1 if anything failed)
"""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import glob
import os
import sys
import xml.etree.ElementTree as ET

# exit status of a step that could not run here (it counts as one skipped test)
SKIPPED_RC = '77'


def junit_counts(paths):
    total = failed = skipped = 0
    for path in paths:
        root = ET.parse(path).getroot()
        suites = [root] if root.tag == 'testsuite' else root.iter('testsuite')
        for suite in suites:
            total += int(suite.get('tests', 0))
            failed += int(suite.get('failures', 0)) + int(suite.get('errors', 0))
            skipped += int(suite.get('skipped', 0))
    return total, failed, skipped


def main():
    results = sys.argv[1]
    passed = failed = skipped = 0
    rows = []
    steps_file = os.path.join(results, 'steps.tsv')
    steps = []
    if os.path.exists(steps_file):
        with open(steps_file) as f:
            steps = [line.rstrip('\n').split('\t') for line in f if line.strip()]
    for fields in steps:
        name, kind, rc, seconds = fields[:4]
        cpu = fields[4] if len(fields) > 4 else '?'  # CPU seconds of the step's processes
        if rc == SKIPPED_RC:
            # the step could not run on this machine and said why (hacking/test.sh need_venv_221)
            rows.append((name, 'SKIPPED (see its output)', seconds, cpu))
            skipped += 1
            continue
        if kind == 'junit':
            # JUnit files of a step live in RESULTS/junit/NAME/ (hacking/test.sh run_step)
            files = sorted(glob.glob(os.path.join(glob.escape(os.path.join(results, 'junit', name)), '*.xml')))
            t, fl, sk = junit_counts(files) if files else (0, 0, 0)
            if rc != '0' and fl == 0:
                fl = 1  # the runner failed before or outside the tests (collection error, crash)
            p = max(t - fl - sk, 0)
            rows.append((name, '%d passed, %d failed, %d skipped' % (p, fl, sk), seconds, cpu))
        else:
            p, fl, sk = (1, 0, 0) if rc == '0' else (0, 1, 0)
            rows.append((name, 'ok' if rc == '0' else 'FAILED (rc=%s)' % rc, seconds, cpu))
        passed += p
        failed += fl
        skipped += sk
    print('\n=== summary (wall and CPU seconds of each step)')
    width = max([len(r[0]) for r in rows] + [4])
    for name, text, seconds, cpu in rows:
        print('%-*s  %-32s %5ss %5ss CPU' % (width, name, text, seconds, cpu))
    print('total: %d passed, %d failed, %d skipped' % (passed, failed, skipped))
    return 1 if failed or not rows else 0


if __name__ == '__main__':
    sys.exit(main())
