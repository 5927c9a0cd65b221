# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


class ModuleDocFragment(object):

    # Connection options shared by every zego.rtc module (zego.rtc.plugins.module_utils.base.zego_argument_spec).
    DOCUMENTATION = r'''
options:
  app_id:
    description:
      - The AppID of the ZEGO project, from the ZEGO console.
      - If not set, the value of the E(ZEGO_APP_ID) environment variable is used.
    type: int
    required: true
  server_secret:
    description:
      - The ServerSecret of the ZEGO project, from the ZEGO console. Used to sign each request; it is
        never sent, logged or returned.
      - If not set, the value of the E(ZEGO_SERVER_SECRET) environment variable is used.
    type: str
    required: true
  api_url:
    description:
      - Base URL of ZEGO's RTC server API.
      - The unified host V(https://rtc-api.zego.im) routes to the nearest region. Regional hosts are
        V(https://rtc-api-sha.zego.im) (Shanghai), V(https://rtc-api-hkg.zego.im) (Hong Kong),
        V(https://rtc-api-fra.zego.im) (Frankfurt), V(https://rtc-api-lax.zego.im) (California),
        V(https://rtc-api-bom.zego.im) (Mumbai) and V(https://rtc-api-sgp.zego.im) (Singapore).
      - Must use C(https://); plain C(http://) is accepted only for a loopback host such as a local simulator.
      - If not set, the value of the E(ZEGO_API_URL) environment variable is used, then the default.
    type: str
    default: https://rtc-api.zego.im
  is_test:
    description:
      - Send C(IsTest=true), for projects created on or before 2021-11-16 whose AppID uses ZEGO's test
        environment. Also lowers the default O(rate_limit) to the test environment's 1 request per second.
      - If not set, the value of the E(ZEGO_IS_TEST) environment variable is used.
    type: bool
    default: false
  rate_limit:
    description:
      - Most write requests per second (the call that changes something, such as DeleteStream), shared by
        every task and fork on this controller that uses the same API host and AppID, and with
        O(rate_limit_backend) by every process on every host that uses the same store.
      - Defaults to ZEGO's documented limit of that call (DeleteStream 10 per second, 1 per second with
        O(is_test=true)). Read-only calls are always paced to their own documented limits.
      - Without O(rate_limit_backend), jobs on other controllers or AWX containers do not see this budget.
        Each job then finds its part of ZEGO's budget from ZEGO's rate-limit answers (codes 7, 206, 207,
        HTTP 429). It starts at half of O(rate_limit) and doubles every 0.6 seconds until the first such
        answer, keeps what ZEGO accepted of it in the second before, asks for more with single probe
        requests, gives a share back when a rate-limit answer shows that another job asked for more, and
        gives back a quarter when rate-limit answers persist. Never more than O(rate_limit).
    type: float
  rate_limit_backend:
    description:
      - A shared store for the rate budget, so that every job, controller and AWX node that uses the same
        store and AppID keeps to one budget together, strictly (at most the rate in any sliding second).
        Set it when several jobs can run at once on one AppID (several job templates, schedules,
        event-driven runs).
      - "A URL: V(redis://[[user]:password@]host[:port][/db]), V(rediss://...) for TLS, or
        V(unix:///path/to/redis.sock[?db=N]). The port defaults to 6379 and the database to 0."
      - Redis 6 or later, or Valkey. The time of every budget is the store's clock, never the hosts'.
      - Needs the Python package C(redis) (redis-py) where the module runs; it is imported only when this
        option is set. If the store cannot be reached or refuses the credentials, the task fails before any
        request to ZEGO. If the store is lost during a batch, the task warns once and paces locally
        (adaptive, as without this option) for the rest of the batch.
      - The URL, which may hold a password, is never shown; messages name the store by host, port and database.
      - If not set, the value of the E(ZEGO_RATE_LIMIT_BACKEND) environment variable is used.
    type: str
  rate_limit_backend_ca_path:
    description:
      - A PEM file of CA certificates to verify the TLS certificate of a V(rediss://) O(rate_limit_backend)
        with, instead of the system's. The certificate and host name are always verified;
        O(validate_certs) and O(ca_path) apply to O(api_url) only.
    type: path
  rate_limit_wait:
    description:
      - Seconds a request may keep being retried after ZEGO's rate-limit answers (codes 7, 206, 207,
        HTTP 429), counted from its first attempt. Those answers prove the request was not applied, so they
        do not use up O(retries); the request fails for rate limiting only when this time has passed.
    type: float
    default: 180
  retries:
    description:
      - How many times to retry a request that failed for a reason worth retrying (connection errors,
        time-outs, HTTP 5xx, ZEGO codes 1, 122, 124), with exponential back-off and jitter. Each retry is
        signed afresh and reported as a warning.
      - Rate-limit answers are retried too, but do not count here (see O(rate_limit_wait)).
      - Errors in credentials or parameters are never retried.
    type: int
    default: 5
  timeout:
    description:
      - Seconds to wait for one answer from ZEGO.
    type: float
    default: 10
  validate_certs:
    description:
      - Verify the TLS certificate of O(api_url). Only set to V(false) for tests; the task then warns.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file of CA certificates to verify O(api_url) with, instead of the system's.
    type: path
requirements:
  - requests >= 2.25 (on the host that runs the module, usually the controller)
  - redis >= 5.0 (redis-py), only with O(rate_limit_backend)
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
  idempotent:
    description: When run twice in a row outside check mode, with the same arguments, the second run reports no change.
  action_group:
    description: Use C(group/zego.rtc.zego) in C(module_defaults) to set defaults for this module.
  platform:
    description: Target OS/families that can be operated against.
notes:
  - "Run these modules where the ServerSecret lives, usually on the controller with C(delegate_to: localhost)
    or C(hosts: localhost)."
  - "All zego.rtc modules belong to the action group C(zego.rtc.zego): set the connection options once
    with C(module_defaults: {group/zego.rtc.zego: {...}})."
'''
