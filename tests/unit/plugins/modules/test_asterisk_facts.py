# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import os
from unittest import mock

import pytest
from ansible.module_utils import basic

from ansible_collections.vpbx.hardened.plugins.modules import asterisk_facts

from .moduletest import Commands, run_module

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "module_utils", "fixtures")


DOC = "/usr/share/asterisk/documentation/core-en_US.xml"
DPKG_DIVERT = "/usr/bin/dpkg-divert"


@pytest.fixture(autouse=True)
def dpkg_divert():
    """dpkg-divert is where Debian puts it, whatever machine runs the tests."""
    with mock.patch.object(basic.AnsibleModule, "get_bin_path",
                           lambda _self, name, *a, **k: DPKG_DIVERT if name == "dpkg-divert" else None):
        yield


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
        (DPKG_DIVERT, "--truename", DOC): (0, DOC + ".distrib\n", ""),
    })
    result, failed = run_module(asterisk_facts.main, dict(binary=binary), capsys, commands)
    facts = result["ansible_facts"]["asterisk"]
    assert not failed and not result["changed"]
    assert facts["installed"] and facts["running"] is running
    for key, value in expected.items():
        assert facts[key] == value, key
    assert facts["settings"]["Version"].startswith(str(version))
    # The data directory the running Asterisk reports; the package's file diverted.
    assert facts["documentation"] == {"file": DOC, "diverted_to": DOC + ".distrib"}


def test_facts_when_stopped_use_module_dirs(capsys, binary, tmp_path):
    moddir = tmp_path / "modules"
    moddir.mkdir()
    (moddir / "chan_sip.so").write_text("")
    commands = Commands({
        (binary, "-V"): (0, fixture(16, "V"), ""),
        (binary, "-rx", "core show settings"): (0, "Unable to connect to remote asterisk\n", ""),
        (DPKG_DIVERT, "--truename", "/srv/ast/documentation/core-en_US.xml"):
            (0, "/srv/ast/documentation/core-en_US.xml\n", ""),
    })
    result, failed = run_module(asterisk_facts.main, dict(binary=binary, module_dirs=[str(tmp_path / "none"), str(moddir)],
                                                          data_dir="/srv/ast"), capsys, commands)
    facts = result["ansible_facts"]["asterisk"]
    assert not failed
    assert facts["running"] is False and facts["module_dir"] == str(moddir) and facts["has_chan_sip"] is True
    # Not running: the data_dir option; not diverted: the true name is the file itself.
    assert facts["documentation"] == {"file": "/srv/ast/documentation/core-en_US.xml", "diverted_to": None}


def test_without_dpkg_no_diversion(capsys, binary):
    commands = Commands({
        (binary, "-V"): (0, fixture(22, "V"), ""),
        (binary, "-rx", "core show settings"): (0, fixture(22, "coresettings"), ""),
    })
    with mock.patch.object(basic.AnsibleModule, "get_bin_path", lambda *_a, **_k: None):
        result, failed = run_module(asterisk_facts.main, dict(binary=binary), capsys, commands)
    assert not failed
    assert result["ansible_facts"]["asterisk"]["documentation"] == {"file": DOC, "diverted_to": None}


def test_not_installed(capsys, tmp_path):
    result, failed = run_module(asterisk_facts.main, dict(binary=str(tmp_path / "missing")), capsys)
    assert not failed and result["ansible_facts"]["asterisk"]["installed"] is False


def test_unparseable_version_fails(capsys, binary):
    commands = Commands({(binary, "-V"): (0, "something else\n", "")})
    result, failed = run_module(asterisk_facts.main, dict(binary=binary), capsys, commands)
    assert failed and "Cannot read the Asterisk version" in result["msg"]


@pytest.mark.parametrize("enabled, active", [
    ("enabled", "active"), ("disabled", "inactive"), ("masked", "failed"), ("", ""),
])
def test_service_state_is_what_systemd_says(capsys, binary, enabled, active):
    commands = Commands({
        (binary, "-V"): (0, fixture(22, "V"), ""),
        (binary, "-rx", "core show settings"): (0, fixture(22, "coresettings"), ""),
        ("/usr/bin/systemctl", "is-enabled", "asterisk"): (0 if enabled == "enabled" else 1, enabled + "\n", ""),
        ("/usr/bin/systemctl", "is-active", "asterisk"): (0 if active == "active" else 3, active + "\n", ""),
    })
    paths = {"systemctl": "/usr/bin/systemctl"}
    with mock.patch.object(basic.AnsibleModule, "get_bin_path", lambda _self, name, *a, **k: paths.get(name)):
        result, failed = run_module(asterisk_facts.main, dict(binary=binary), capsys, commands)
    assert not failed
    assert result["ansible_facts"]["asterisk"]["service"] == {"enabled": enabled or None, "active": active or None}


def test_service_state_unknown_without_systemctl(capsys, binary):
    commands = Commands({
        (binary, "-V"): (0, fixture(16, "V"), ""),
        (binary, "-rx", "core show settings"): (0, fixture(16, "coresettings"), ""),
        (DPKG_DIVERT, "--truename", DOC): (0, DOC + "\n", ""),
    })
    result, failed = run_module(asterisk_facts.main, dict(binary=binary), capsys, commands)
    assert not failed and result["ansible_facts"]["asterisk"]["service"] == {"enabled": None, "active": None}


@pytest.mark.parametrize("running", [True, False])
def test_show_commands_run_only_on_a_running_asterisk(capsys, binary, running):
    commands = Commands({
        (binary, "-V"): (0, fixture(22, "V"), ""),
        (binary, "-rx", "core show settings"):
            (0, fixture(22, "coresettings") if running else "Unable to connect to remote asterisk\n", ""),
        (binary, "-rx", "rtp show settings"): (0, "  Port start:      10000\n", ""),
        (binary, "-rx", "http show status"): (1, "", "No such command\n"),
        (DPKG_DIVERT, "--truename", DOC): (0, DOC + "\n", ""),
    })
    params = dict(binary=binary, commands=["rtp show settings", "http show status"], module_dirs=[])
    result, failed = run_module(asterisk_facts.main, params, capsys, commands)
    assert not failed and not result["changed"]
    if running:
        assert result["cli"] == [{"command": "rtp show settings", "rc": 0, "stdout": "  Port start:      10000\n"},
                                 {"command": "http show status", "rc": 1, "stdout": "No such command\n"}]
    else:
        assert result["cli"] == []
        assert [binary, "-rx", "rtp show settings"] not in commands.calls
    assert "cli" not in result["ansible_facts"]["asterisk"]  # output, not facts


@pytest.mark.parametrize("command", ["module unload chan_sip.so", "core restart now", "show", "rtp set debug on"])
def test_only_show_commands(capsys, binary, command):
    result, failed = run_module(asterisk_facts.main, dict(binary=binary, commands=["rtp show settings", command]),
                                capsys, Commands({}))
    assert failed and result["msg"].startswith("commands: %r is not a show command" % command)
