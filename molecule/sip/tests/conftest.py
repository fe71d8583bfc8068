# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the sip scenario's tests."""

from __future__ import annotations

import pytest

import sipclient


@pytest.fixture(scope="module")
def secrets():
    """The test secrets, from the scenario's vault.yml."""
    return sipclient.secrets()


@pytest.fixture
def pbx(host):
    """The PBX testinfra runs a test on (the client's container is skipped)."""
    name = host.backend.get_hostname()
    if name not in sipclient.PBX:
        pytest.skip("%s is not a PBX" % name)
    return dict(sipclient.PBX[name], name=name, host=host)
