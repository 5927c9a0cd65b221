# -*- coding: utf-8 -*-
# Copyright: zego.rtc contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


class ModuleDocFragment(object):

    # Options of every module that changes a list of items (zego.rtc.plugins.module_utils.base.batch_argument_spec).
    DOCUMENTATION = r'''
options:
  concurrency:
    description:
      - The most requests in flight at once (worker threads sharing keep-alive connections). Pacing to
        O(rate_limit) and to ZEGO's documented limits applies regardless.
      - Keeping the rate up needs about the rate times ZEGO's answer time in flight. Until ZEGO's answer time is
        known the module keeps what the rate needs at a 1 s answer time (11 for DeleteStream at 10 per second),
        then what the rate needs at the observed answer time, with a margin of half as much again plus one (10
        per second at 800 ms answers, 13). This option caps that number; without it the cap is 32. Between 1
        and 32.
      - An error that every request would get (such as rejected credentials or an API that cannot be reached)
        stops the batch; requests still waiting for their turn are not sent, and their items report that they
        were not attempted. With O(concurrency=1) no request is sent after such an error.
    type: int
'''
