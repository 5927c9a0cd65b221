# -*- coding: utf-8 -*-
# Copyright: Contributors to the zego.rtc collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The three moderation rulebooks are one rule in three settings: the same source options, condition and
variables for the playbook; they differ only where their setting needs it (feedback, the action)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
RULEBOOKS = os.path.join(HERE, '..', '..', 'extensions', 'eda', 'rulebooks')


def load(name):
    with open(os.path.join(RULEBOOKS, name + '.yml')) as handle:
        (ruleset,) = yaml.safe_load(handle)
    (source,) = ruleset['sources']
    (rule,) = ruleset['rules']
    return ruleset, source, rule


def test_the_three_rulebooks_decide_alike():
    plain, persistent, controller = (load(n) for n in ('moderate_streams', 'moderate_streams_persistent',
                                                       'moderate_streams_controller'))
    for ruleset, source, rule in (persistent, controller):
        assert rule['condition'] == plain[2]['condition']
        assert rule['name'] == plain[2]['name']
        options = dict(source['zego.rtc.callbacks'])
        # what the setting needs: feedback; the controller's activation listens on every address
        assert options.pop('feedback') is True
        assert options.pop('feedback_timeout') == "{{ zego_feedback_timeout | default(5, true) }}"
        expected = dict(plain[1]['zego.rtc.callbacks'])
        if ruleset is controller[0]:
            assert options.pop('host') == "{{ zego_callback_host | default('0.0.0.0', true) }}"
            expected.pop('host')
        assert options == expected
        assert source['name'] == plain[1]['name']
    playbook_vars = plain[2]['action']['run_playbook']['extra_vars']
    assert persistent[2]['action'] == plain[2]['action']
    job = controller[2]['action']['run_job_template']
    assert job['job_args']['extra_vars'] == playbook_vars
    assert plain[2]['action']['run_playbook']['name'] == 'zego.rtc.remove_banned_streams'
    assert 'execution_strategy' not in plain[0] and controller[0]['execution_strategy'] == 'parallel'
