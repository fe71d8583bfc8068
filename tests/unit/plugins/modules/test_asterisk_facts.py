# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import os

import pytest

from ansible_collections.vpbx.hardened.plugins.modules import asterisk_facts

from .moduletest import Commands, run_module

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "module_utils", "fixtures")


def fixture(version, name):
    with open(os.path.join(FIXTURES, "asterisk%s-%s.txt" % (version, name)), encoding="utf-8") as handle:
        return handle.read()


@pytest.fixture
def binary(tmp_path):
    path = tmp_path / "asterisk"
    path.write_text("#!/bin/sh\n")
    return str(path)


@pytest.mark.parametrize("version, running, expected", [
    (16, True, dict(major=16, minor=28, patch=0, chan_sip_supported=True,
                          supports_disable_remote_console_shell=False, module_dir="/usr/lib/asterisk/modules")),
    (22, True, dict(major=22, minor=10, patch=1, chan_sip_supported=False,
                           supports_disable_remote_console_shell=True,
                           module_dir="/usr/lib/x86_64-linux-gnu/asterisk/modules")),
])
def test_facts_from_running_asterisk(capsys, binary, version, running, expected):
    commands = Commands({
        (binary, "-V"): (0, fixture(version, "V"), ""),
        (binary, "-rx", "core show settings"): (0, fixture(version, "coresettings"), ""),
    })
    result, failed = run_module(asterisk_facts.main, dict(binary=binary), capsys, commands)
    facts = result["ansible_facts"]["asterisk"]
    assert not failed and not result["changed"]
    assert facts["installed"] and facts["running"] is running
    for key, value in expected.items():
        assert facts[key] == value, key
    assert facts["settings"]["Version"].startswith(str(version))


def test_facts_when_stopped_use_module_dirs(capsys, binary, tmp_path):
    moddir = tmp_path / "modules"
    moddir.mkdir()
    (moddir / "chan_sip.so").write_text("")
    commands = Commands({
        (binary, "-V"): (0, fixture(16, "V"), ""),
        (binary, "-rx", "core show settings"): (0, "Unable to connect to remote asterisk\n", ""),
    })
    result, failed = run_module(asterisk_facts.main, dict(binary=binary, module_dirs=[str(tmp_path / "none"), str(moddir)]),
                                capsys, commands)
    facts = result["ansible_facts"]["asterisk"]
    assert not failed
    assert facts["running"] is False and facts["module_dir"] == str(moddir) and facts["has_chan_sip"] is True


def test_not_installed(capsys, tmp_path):
    result, failed = run_module(asterisk_facts.main, dict(binary=str(tmp_path / "missing")), capsys)
    assert not failed and result["ansible_facts"]["asterisk"]["installed"] is False


def test_unparseable_version_fails(capsys, binary):
    commands = Commands({(binary, "-V"): (0, "something else\n", "")})
    result, failed = run_module(asterisk_facts.main, dict(binary=binary), capsys, commands)
    assert failed and "Cannot read the Asterisk version" in result["msg"]
