# -*- coding: utf-8 -*-
# Copyright: Contributors to the zego.rtc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Measure the simulator's throughput with keep-alive clients.

Starts ``zego_sim.py`` in a subprocess with unlimited rates, runs N client
threads for a fixed time (each with its own keep-alive connection), and
prints requests per second.  Example::

    python3 tests/simulator/throughput.py --threads 8 --duration 5
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import argparse
import hashlib
import http.client
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from urllib.parse import urlencode, urlsplit

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
APP_ID = 1234567890
SECRET = "5f1e3c9a7b2d4e6f8091a2b3c4d5e6f7"


def signed_query(action, **biz):
    nonce = secrets.token_hex(8)
    stamp = str(int(time.time()))
    params = {
        "Action": action,
        "AppId": str(APP_ID),
        "SignatureNonce": nonce,
        "Timestamp": stamp,
        "Signature": hashlib.md5(("%d%s%s%s" % (APP_ID, nonce, SECRET, stamp)).encode("utf-8")).hexdigest(),
        "SignatureVersion": "2.0",
    }
    params.update(biz)
    return urlencode(params)


def query_for(action, worker, i):
    if action == "mixed":
        action = "DescribeSimpleStreamList" if i % 4 == 3 else "DeleteStream"
    if action == "DeleteStream":
        return signed_query(action, RoomId="bench", UserId="Server-Administrator", StreamId="w%d-%d" % (worker, i))
    return signed_query(action, RoomId="bench")


def run_requests(base_url, action, worker, deadline, counters):
    session = requests.Session()
    done = errors = 0
    while time.time() < deadline:
        resp = session.get(base_url + "/?" + query_for(action, worker, done), timeout=10)
        if resp.status_code != 200 or resp.json()["Code"] not in (0, 138):
            errors += 1
        done += 1
    session.close()
    counters.append((done, errors))


def run_raw(base_url, action, worker, deadline, counters):
    host, port = urlsplit(base_url).hostname, urlsplit(base_url).port
    conn = http.client.HTTPConnection(host, port, timeout=10)
    done = errors = 0
    while time.time() < deadline:
        conn.request("GET", "/?" + query_for(action, worker, done))
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200 or json.loads(body)["Code"] not in (0, 138):
            errors += 1
        done += 1
    conn.close()
    counters.append((done, errors))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--action", default="DeleteStream", choices=("DeleteStream", "DescribeSimpleStreamList", "mixed"))
    parser.add_argument("--client", default="requests", choices=("requests", "raw"),
                        help="requests.Session (default) or the lighter http.client")
    args = parser.parse_args(argv)

    cmd = [sys.executable, os.path.join(HERE, "zego_sim.py"), "--port", "0", "--app-id", str(APP_ID),
           "--secret", SECRET, "--rate", "0", "--list-rate", "0", "--list-room-interval", "0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, universal_newlines=True)  # pylint: disable=consider-using-with
    try:
        base_url = proc.stdout.readline().strip()
        if not base_url:
            sys.stderr.write("simulator did not start\n")
            return 1
        target = run_requests if args.client == "requests" else run_raw
        counters = []
        deadline = time.time() + args.duration
        threads = [threading.Thread(target=target, args=(base_url, args.action, n, deadline, counters))
                   for n in range(args.threads)]
        start = time.time()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.time() - start
        total = sum(c[0] for c in counters)
        errors = sum(c[1] for c in counters)
        stats = requests.get(base_url + "/_sim/stats", timeout=10).json()
        print("%d requests (%d unexpected answers) in %.2f s with %d %s threads, action %s: %.0f req/s; server counted %d"
              % (total, errors, elapsed, args.threads, args.client, args.action, total / elapsed, stats["requests"]))
        return 0 if errors == 0 else 2
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    sys.exit(main())
