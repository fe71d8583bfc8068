# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import sys

import pytest

from ansible_collections.vpbx.hardened.plugins.modules import fail2ban_query

from .moduletest import Commands, run_module


def test_one_process_answers_every_command_in_order(fake_fail2ban, capsys):
    params = dict(commands=["status", "get asterisk maxretry", "status nojail"], socket="/run/f2b.sock")
    result, failed = run_module(fail2ban_query.main, params, capsys, Commands({}), check_mode=True)
    assert not failed and result["changed"] is False and result["via"] == "socket"
    assert fake_fail2ban == [("status",), ("get", "asterisk", "maxretry"), ("status", "nojail")]
    assert [r["rc"] for r in result["results"]] == [0, 0, 1]
    assert result["results"][1]["stdout"] == "beautified get asterisk maxretry: 5"
    assert "UnknownJailException" in result["results"][2]["stdout"]  # reported, not a module failure


def test_falls_back_to_fail2ban_client(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "fail2ban", None)  # import fails
    commands = Commands({"fail2ban-client": (0, "Status\n", "")})
    result, failed = run_module(fail2ban_query.main, dict(commands=["status"], socket="/run/f2b.sock"), capsys,
                                commands)
    assert not failed and result["via"] == "fail2ban-client"
    assert commands.calls == [["fail2ban-client", "-s", "/run/f2b.sock", "status"]]
    assert result["results"] == [{"command": "status", "rc": 0, "stdout": "Status\n"}]


@pytest.mark.parametrize("command", ["set asterisk banip 192.0.2.1", "reload", "stop", ""])
def test_only_read_only_commands(fake_fail2ban, capsys, command):
    result, failed = run_module(fail2ban_query.main, dict(commands=["status", command]), capsys, Commands({}))
    assert failed and "commands:" in result["msg"] and fake_fail2ban == []


DPKG_OUT = ("fail2ban\tinstall ok installed\t1.0.2-2\n"
            "conntrack\tdeinstall ok config-files\t1:1.4.7-1\n")


@pytest.mark.parametrize("enabled, active", [("enabled", "active"), ("disabled", "inactive"), ("", "")])
def test_probe_reports_packages_and_service_without_asking_the_server(fake_fail2ban, capsys, monkeypatch,
                                                                      enabled, active):
    paths = {"dpkg-query": "/usr/bin/dpkg-query", "systemctl": "/usr/bin/systemctl"}
    monkeypatch.setattr(fail2ban_query.AnsibleModule, "get_bin_path",
                        lambda _self, name, required=False, *a, **k: paths.get(name))
    fmt = "-f=${Package}\t${Status}\t${Version}\n"
    commands = Commands({
        # rc 1: python3-systemd is unknown to dpkg; the others are still listed.
        ("/usr/bin/dpkg-query", "-W", fmt): (1, DPKG_OUT, "dpkg-query: no packages found matching python3-systemd\n"),
        ("/usr/bin/systemctl", "is-enabled", "fail2ban"): (0 if enabled == "enabled" else 1, enabled + "\n", ""),
        ("/usr/bin/systemctl", "is-active", "fail2ban"): (0 if active == "active" else 3, active + "\n", ""),
    })
    params = dict(packages=["fail2ban", "conntrack", "python3-systemd"], service="fail2ban")
    result, failed = run_module(fail2ban_query.main, params, capsys, commands, check_mode=True)
    assert not failed and result["changed"] is False
    # conntrack is removed (config files left): not installed, like the unknown package.
    assert result["packages"] == {"fail2ban": "1.0.2-2", "conntrack": "", "python3-systemd": ""}
    assert result["service"] == {"enabled": enabled or None, "active": active or None}
    assert result["results"] == [] and result["via"] is None and fake_fail2ban == []


def test_a_failing_dpkg_query_fails_the_probe(capsys, monkeypatch):
    monkeypatch.setattr(fail2ban_query.AnsibleModule, "get_bin_path",
                        lambda _self, name, required=False, *a, **k: "/usr/bin/" + name)
    commands = Commands({"/usr/bin/dpkg-query": (2, "", "dpkg-query: error: database locked\n")})
    result, failed = run_module(fail2ban_query.main, dict(packages=["fail2ban"]), capsys, commands)
    assert failed and "dpkg-query failed (exit 2)" in result["msg"] and "database locked" in result["msg"]


@pytest.mark.parametrize("active, asked", [("active", True), ("inactive", False), ("failed", False), ("", False)])
def test_commands_when_active_asks_only_a_running_server(fake_fail2ban, capsys, monkeypatch, active, asked):
    monkeypatch.setattr(fail2ban_query.AnsibleModule, "get_bin_path",
                        lambda _self, name, required=False, *a, **k: "/usr/bin/" + name)
    commands = Commands({
        ("/usr/bin/systemctl", "is-enabled", "fail2ban"): (0, "enabled\n", ""),
        ("/usr/bin/systemctl", "is-active", "fail2ban"): (0 if active == "active" else 3, active + "\n", ""),
    })
    params = dict(service="fail2ban", commands=["status", "get asterisk maxretry"], commands_when_active=True,
                  socket="/run/f2b.sock")
    result, failed = run_module(fail2ban_query.main, params, capsys, commands, check_mode=True)
    assert not failed and result["service"]["active"] == (active or None)
    if asked:
        assert fake_fail2ban == [("status",), ("get", "asterisk", "maxretry")] and result["via"] == "socket"
        assert [r["command"] for r in result["results"]] == ["status", "get asterisk maxretry"]
    else:
        assert fake_fail2ban == [] and result["results"] == [] and result["via"] is None


def test_commands_when_active_needs_the_service(fake_fail2ban, capsys):
    result, failed = run_module(fail2ban_query.main, dict(commands=["status"], commands_when_active=True), capsys,
                                Commands({}))
    assert failed and result["msg"].startswith("commands_when_active: needs service") and fake_fail2ban == []
