# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the calls scenario's tests."""

from __future__ import annotations

import pytest

import phones


@pytest.fixture(scope="module")
def vault():
    """The test secrets and PINs, from the scenario's vault.yml."""
    return phones.vault()


@pytest.fixture
def pbx(host):
    """The PBX testinfra runs a test on (the phones' and the provider's containers are skipped)."""
    name = host.backend.get_hostname()
    if name not in phones.PBX:
        pytest.skip("%s is not a PBX" % name)
    return dict(phones.PBX[name], name=name, host=host)
