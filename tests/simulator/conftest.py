# Copyright: Contributors to the zego.rtc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)


@pytest.fixture
def client(sim):
    """A signing client of the simulator of the test module's own ``sim`` fixture."""
    from test_zego_sim import Client  # pylint: disable=import-outside-toplevel
    cli = Client(sim.base_url)
    yield cli
    cli.session.close()
