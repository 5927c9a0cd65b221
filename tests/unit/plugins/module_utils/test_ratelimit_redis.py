# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared store (rate_limit_backend) against a real redis-server (conftest.py starts it).

Nothing here asserts on how long anything took: the window is judged on the server times the Lua
script recorded for each granted send."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import multiprocessing
import time

import pytest

from ansible_collections.zego.rtc.plugins.module_utils import store as store_module
from ansible_collections.zego.rtc.plugins.module_utils.actions import DEFAULT_USER_ID, DELETE_STREAM
from ansible_collections.zego.rtc.plugins.module_utils.client import Settings, ZegoClient
from ansible_collections.zego.rtc.plugins.module_utils.ratelimit import (
    RATE_SAFETY,
    STORE_MAX_SLEEP,
    PacingError,
    RedisLimiter,
    window_of,
)
from ansible_collections.zego.rtc.plugins.module_utils.store import RedisStore, parse_store_url
from ansible_collections.zego.rtc.plugins.modules import zego_stream

redis = pytest.importorskip('redis')  # listed in tests/unit/requirements.txt and requirements-dev.txt


def max_in_window(times, width=1.0):
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while times[lo] <= t - width:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


# -- URLs -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize('url, expect', [
    ('redis://cache.example.com', dict(scheme='redis', host='cache.example.com', port=6379, db=0, tls=False,
                                       username=None, password=None)),
    ('redis://:s3cr%2Ft@10.0.0.5:6380/2', dict(host='10.0.0.5', port=6380, db=2, username=None, password='s3cr/t')),
    ('redis://zego:pw@cache/3', dict(host='cache', port=6379, db=3, username='zego', password='pw')),
    ('rediss://zego:pw@cache.example.com:6390', dict(scheme='rediss', tls=True, port=6390, db=0)),
    ('redis://[::1]:7000/1', dict(host='::1', port=7000, db=1)),
    ('unix:///run/redis/redis.sock', dict(scheme='unix', path='/run/redis/redis.sock', db=0, host=None)),
    ('unix:///run/redis/redis.sock?db=4', dict(path='/run/redis/redis.sock', db=4)),
    ('unix://:pw@/run/redis/redis.sock?db=5', dict(path='/run/redis/redis.sock', db=5, password='pw')),
    ('unix:///run/redis/redis.sock?db=1&password=pw2', dict(db=1, password='pw2')),
])
def test_store_urls(url, expect):
    parsed = parse_store_url(url)
    for key, value in expect.items():
        assert getattr(parsed, key) == value, key
    if parsed.password:
        assert parsed.password not in parsed.display


def test_store_display_names_host_port_and_tls():
    assert parse_store_url('rediss://u:pw@cache.example.com:6390/1').display == 'cache.example.com:6390 (db 1, TLS)'
    assert parse_store_url('unix:///s.sock?db=2').display == 'unix socket /s.sock (db 2)'
    assert parse_store_url('redis://[::1]').display == '[::1]:6379 (db 0)'


@pytest.mark.parametrize('url, words', [
    ('http://:hunter2@cache:6379', 'redis://'),
    ('cache:6379', 'redis://'),
    ('redis://:hunter2@cache:notaport', 'port'),
    ('redis://:hunter2@/0', 'host'),
    ('redis://:hunter2@cache/zero', 'database'),
    ('redis://:hunter2@cache/0?ssl=1', 'query'),
    ('unix://:hunter2@relative.sock', 'socket'),
    ('unix:///', 'socket'),
    ('', 'redis://'),
])
def test_bad_store_urls_are_refused_without_repeating_them(url, words):
    with pytest.raises(PacingError) as info:
        parse_store_url(url)
    assert words in info.value.message
    assert 'hunter2' not in info.value.message


# -- the Lua limiter --------------------------------------------------------------------------------------
def _store(server, **kwargs):
    store = RedisStore(server.url, **kwargs)
    store.connect()
    return store


def _limiter(store, key, rate):
    def no_fallback():
        raise AssertionError('the store was lost')
    return RedisLimiter(store, key, rate, fallback=no_fallback, on_lost=lambda exc: no_fallback())


def _hammer(url, key, rate, count, start_at, out):
    """A separate process: ``count`` sends through the store, recording the server time of each grant."""
    while time.time() < start_at:
        time.sleep(0.001)
    store = RedisStore(url)
    store.connect()
    lim = RedisLimiter(store, key, rate, fallback=None, on_lost=None)
    granted = [lim.acquire() for dummy in range(count)]
    with open(out, 'w') as handle:
        json.dump(granted, handle)


def test_processes_hammering_one_key_never_exceed_the_rate_in_any_sliding_second(redis_server, tmp_path):
    rate = 20 * RATE_SAFETY
    key = 'test|strict|%s' % tmp_path.name
    outs = [str(tmp_path / ('out%d.json' % i)) for i in range(5)]
    ctx = multiprocessing.get_context('fork')
    start_at = time.time() + 0.5
    procs = [ctx.Process(target=_hammer, args=(redis_server.url, key, rate, 16, start_at, outs[i])) for i in range(5)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    granted = []
    for out in outs:
        with open(out) as handle:
            granted.extend(json.load(handle))
    assert len(granted) == 80 and len(set(granted)) == 80
    # the server's own clock, as recorded by the script: never more than 20 in a sliding second
    assert max_in_window(granted, 1.0) <= 20
    gaps = [b - a for a, b in zip(sorted(granted), sorted(granted)[1:])]
    assert min(gaps) >= 1.0 / rate - 1e-6
    # the log in the server holds the latest sends with those same times
    log = redis_server.admin.zrange(store_module.STORE_KEY_PREFIX + key, 0, -1, withscores=True)
    assert log and set(round(score / 1e6, 6) for dummy, score in log) <= set(round(t, 6) for t in granted)


def test_the_window_is_kept_on_the_servers_clock_not_the_callers(redis_server, monkeypatch):
    store = _store(redis_server)
    monkeypatch.setattr(time, 'time', lambda: 946684800.0)  # the caller's clock says 2000-01-01
    lim = _limiter(store, 'test|clock', 10.0)
    granted = lim.acquire()
    monkeypatch.undo()
    server_now = redis_server.admin.time()
    server_now = server_now[0] + server_now[1] / 1e6
    assert abs(granted - server_now) < 60
    score = redis_server.admin.zrange(store_module.STORE_KEY_PREFIX + 'test|clock', 0, -1, withscores=True)[0][1]
    assert score / 1e6 == pytest.approx(granted, abs=1e-6)


def test_the_log_expires_when_idle(redis_server):
    store = _store(redis_server)
    lim = _limiter(store, 'test|expiry', 10.0)
    lim.acquire()
    key = store_module.STORE_KEY_PREFIX + 'test|expiry'
    cap, window = window_of(10.0)
    ttl = redis_server.admin.pttl(key)
    assert 0 < ttl <= int(window * 1000) + 1001
    time.sleep(ttl / 1000.0 + 0.2)
    assert redis_server.admin.exists(key) == 0


def test_a_full_window_makes_the_caller_wait_for_the_oldest_send(redis_server):
    store = _store(redis_server)
    # at 2 per second (cap 2, window 1 s): the third request must wait for the first to leave the window
    first = store.try_acquire('test|full2', 2.0)
    assert first[0]
    again = store.try_acquire('test|full2', 2.0)
    assert not again[0] and 0 < again[1] <= 0.5 + 1e-3


def test_unix_socket_with_db_and_password(redis_server):
    url = 'unix://:%s@%s?db=3' % (redis_server.password, redis_server.socket)
    store = RedisStore(url)
    store.connect()
    assert store.display == 'unix socket %s (db 3)' % redis_server.socket
    assert store.try_acquire('test|unix', 5.0)[0]
    import redis as redis_py
    db3 = redis_py.Redis(unix_socket_path=redis_server.socket, password=redis_server.password, db=3)
    assert db3.exists(store_module.STORE_KEY_PREFIX + 'test|unix') == 1


def test_bad_password_fails_naming_the_store_but_not_the_password(redis_server):
    url = 'redis://:wrong-%s@127.0.0.1:%d/0' % (redis_server.password, redis_server.port)
    with pytest.raises(PacingError) as info:
        RedisStore(url).connect()
    assert '127.0.0.1:%d' % redis_server.port in info.value.message
    assert redis_server.password not in info.value.message and 'wrong-' not in info.value.message


def test_unreachable_store_fails_naming_host_and_port(own_redis_server):
    url, port = own_redis_server.url, own_redis_server.port
    own_redis_server.stop()
    with pytest.raises(PacingError) as info:
        RedisStore(url, timeout=2).connect()
    assert '127.0.0.1:%d' % port in info.value.message
    assert own_redis_server.password not in info.value.message


# -- the client with a store -----------------------------------------------------------------------------
def test_store_lost_mid_batch_warns_once_and_paces_locally(own_redis_server, zego_http):
    for n in range(8):
        zego_http.expect('DeleteStream', {'StreamId': 's%d' % n})
    warnings = []
    store = _store(own_redis_server)
    settings = Settings(app_id=zego_http.app_id, secret=zego_http.secret, api_url=zego_http.api_url, rate_limit=1000)
    client = ZegoClient(settings, warn=warnings.append, store=store)

    def delete(stream_id):
        return DELETE_STREAM.send(client, {'room_id': 'r1', 'stream_id': stream_id, 'user_id': DEFAULT_USER_ID})
    for n in range(4):
        assert delete('s%d' % n).code == 0
    assert isinstance(client.limiter('DeleteStream', 1000), RedisLimiter)
    assert len(client.limiter('DeleteStream', 1000).granted) == 4
    own_redis_server.stop()
    for n in range(4, 8):
        assert delete('s%d' % n).code == 0
    assert client.store_lost
    # the local pacing (adaptive, in the controller's state directory) took over
    assert client.limiter('DeleteStream', 1000)._local().adaptive
    assert len(warnings) == 1
    assert '127.0.0.1:%d' % own_redis_server.port in warnings[0] and 'pacing locally' in warnings[0]
    assert own_redis_server.password not in warnings[0]
    # every stream was sent exactly once (the scripted conversation would have failed otherwise)
    assert [q['StreamId'] for q in zego_http.seen] == ['s%d' % n for n in range(8)]


def test_module_with_store_never_shows_the_password(redis_server, zego_http, run_module):
    zego_http.expect('DeleteStream', {'StreamId': 'a'}).expect('DeleteStream', {'StreamId': 'b'})
    # one request at a time: the script answers in order (at this rate two workers could send b before a)
    result, failed = run_module(zego_stream, {'rate_limit_backend': redis_server.url, 'rate_limit': 1000,
                                              'concurrency': 1,
                                              'streams': [{'room_id': 'r', 'stream_id': 'a'},
                                                          {'room_id': 'r', 'stream_id': 'b'}]})
    assert not failed and result["summary"]["deleted"] == 2, result
    assert redis_server.password not in json.dumps(result)
    # the budget was kept in the store
    assert redis_server.admin.exists(store_module.STORE_KEY_PREFIX + '%s|%s|DeleteStream|' % (
        'rtc-api.example.test', zego_http.app_id)) == 1


def test_module_with_wrong_store_password_fails_before_any_request(redis_server, zego_http, run_module):
    url = 'redis://:not-%s@127.0.0.1:%d' % (redis_server.password, redis_server.port)
    result, failed = run_module(zego_stream, {'rate_limit_backend': url, 'room_id': 'r', 'stream_id': 's'})
    assert failed and zego_http.seen == []
    assert '127.0.0.1:%d' % redis_server.port in result['msg'] and 'nothing was sent' in result['msg']
    assert redis_server.password not in json.dumps(result)


def test_module_without_redis_py_names_the_package(redis_server, zego_http, run_module, monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_redis(name, *args, **kwargs):
        if name == 'redis' or name.startswith('redis.'):
            raise ImportError('No module named %r' % name)
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, '__import__', no_redis)
    result, failed = run_module(zego_stream, {'rate_limit_backend': redis_server.url, 'room_id': 'r', 'stream_id': 's'})
    assert failed and zego_http.seen == []
    assert 'redis' in result['msg'] and 'pip install redis' in result['msg']
    assert redis_server.password not in json.dumps(result)


def test_module_with_bad_store_url_fails_validation(zego_http, run_module):
    result, failed = run_module(zego_stream, {'rate_limit_backend': 'http://:hunter2@cache', 'room_id': 'r',
                                              'stream_id': 's'})
    assert failed and zego_http.seen == []
    assert 'rate_limit_backend' in result['msg'] and 'hunter2' not in json.dumps(result)


# -- a store entry that outlived its run (issue: state that outlives a run) ---------------------------------
class SleepRecorder(object):
    def __init__(self):
        self.sleeps = []

    def __call__(self, seconds):
        self.sleeps.append(seconds)
        time.sleep(seconds)


@pytest.mark.parametrize('ahead', [3600, 10 * 365 * 86400])
def test_entries_from_a_server_clock_that_stepped_back_do_not_block_the_budget(redis_server, ahead):
    """A log written before the server's clock stepped back holds sends 'in the future': they are dropped, so the
    caller waits at most one window instead of until the server's clock catches up."""
    store = _store(redis_server)
    key = 'test|future|%d' % ahead
    full_key = store_module.STORE_KEY_PREFIX + key
    now_us = int(redis_server.admin.time()[0]) * 1000000
    redis_server.admin.zadd(full_key, dict(('old%d' % n, now_us + (ahead + n) * 1000000) for n in range(20)))
    redis_server.admin.persist(full_key)  # and no expiry, as a store restored from a snapshot may have
    lim = _limiter(store, key, 10 * RATE_SAFETY)
    sleeps = SleepRecorder()
    lim.sleep = sleeps
    for dummy in range(3):
        lim.acquire()
    assert all(s <= STORE_MAX_SLEEP + 0.01 for s in sleeps.sleeps)
    assert sum(sleeps.sleeps) < 1.0  # three sends at 10/s: no wait for the entries from the future
    assert not any(m.startswith(b'old') for m in redis_server.admin.zrange(full_key, 0, -1))


@pytest.mark.parametrize('garbage', [('set', 'not a log'), ('hset', {'a': '1'}), ('rpush', 'x')])
def test_a_key_of_another_type_is_replaced_by_the_log(redis_server, garbage):
    store = _store(redis_server)
    key = 'test|wrongtype|%s' % garbage[0]
    full_key = store_module.STORE_KEY_PREFIX + key
    command, value = garbage
    if command == 'hset':
        redis_server.admin.hset(full_key, mapping=value)
    else:
        getattr(redis_server.admin, command)(full_key, value)
    lim = _limiter(store, key, 10 * RATE_SAFETY)
    lim.acquire()
    kind = redis_server.admin.type(full_key)
    assert kind == b'zset'
    assert redis_server.admin.zcard(full_key) == 1
    assert 0 < redis_server.admin.pttl(full_key) <= 3000
