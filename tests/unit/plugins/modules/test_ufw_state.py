# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import os

import pytest

from ansible_collections.vpbx.hardened.plugins.modules import ufw_state

from .moduletest import Commands, run_module

STATUS = "Status: active\nLogging: on (low)\nDefault: deny (incoming), allow (outgoing), deny (routed)\n"


@pytest.fixture
def ufw(tmp_path):
    binary = tmp_path / "ufw"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    (tmp_path / "user.rules").write_text("### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in\n")
    (tmp_path / "user6.rules").write_text("### tuple ### allow tcp 22 ::/0 any ::/0 in\n")
    (tmp_path / "default").write_text('# comment\nIPV6=yes\nDEFAULT_INPUT_POLICY="DROP"\nIPV6="no"\n')
    return tmp_path


def params(root, **extra):
    return dict(dict(rule_files=[str(root / "user.rules"), str(root / "user6.rules"), str(root / "missing.rules")],
                     defaults_file=str(root / "default"), binary=str(root / "ufw")), **extra)


def test_reads_everything_in_one_run_even_in_check_mode(ufw, capsys):
    commands = Commands({str(ufw / "ufw"): (0, STATUS, "")})
    result, failed = run_module(ufw_state.main, params(ufw), capsys, commands, check_mode=True)
    assert not failed and result["changed"] is False and result["installed"] is True
    assert result["ipv6"] == "no"  # the last IPV6= line wins, quotes removed
    assert "tcp 22 0.0.0.0/0" in result["rules"] and "tcp 22 ::/0" in result["rules"]
    assert result["status"] == STATUS
    assert commands.calls == [[str(ufw / "ufw"), "status", "verbose"]]


def test_without_ufw_nothing_runs(ufw, capsys):
    os.unlink(ufw / "ufw")
    os.unlink(ufw / "default")
    result, failed = run_module(ufw_state.main, params(ufw, rule_files=[str(ufw / "user.rules")]), capsys,
                                Commands({}))
    assert not failed and result["installed"] is False and result["status"] == "" and result["ipv6"] == ""
    assert "::/0" not in result["rules"]


def test_a_failing_ufw_is_an_error_saying_what_to_do(ufw, capsys):
    commands = Commands({str(ufw / "ufw"): (1, "", "ERROR: problem running iptables")})
    result, failed = run_module(ufw_state.main, params(ufw), capsys, commands)
    assert failed and "problem running iptables" in result["msg"] and "Run it on the host" in result["msg"]


def test_reads_the_flood_limit_blocks_and_the_live_chain(ufw, capsys, monkeypatch):
    (ufw / "before.rules").write_text("*filter\n# End required lines\n# BEGIN vpbx.hardened SIP flood limit\n"
                                      ":ufw-vpbx-sip-flood - [0:0]\n-A ufw-vpbx-sip-flood -j RETURN\n"
                                      "# END vpbx.hardened SIP flood limit\nCOMMIT\n")
    (ufw / "before6.rules").write_text("*filter\n# End required lines\nCOMMIT\n")
    chain = "-N ufw-vpbx-sip-flood\n-A ufw-vpbx-sip-flood -m hashlimit --hashlimit-above 50/sec -j DROP\n"
    commands = Commands({str(ufw / "ufw"): (0, STATUS, ""), ("/sbin/iptables", "-S"): (0, chain, ""),
                         ("/sbin/ip6tables", "-S"): (1, "", "iptables: No chain/target/match by that name.")})
    monkeypatch.setattr(ufw_state.AnsibleModule, "get_bin_path", lambda self, name: "/sbin/" + name)
    result, failed = run_module(ufw_state.main, params(ufw, before_files=[str(ufw / "before.rules"),
                                                                          str(ufw / "before6.rules")],
                                                       chain="ufw-vpbx-sip-flood"), capsys, commands)
    assert not failed
    assert result["blocks"] == {str(ufw / "before.rules"): ":ufw-vpbx-sip-flood - [0:0]\n-A ufw-vpbx-sip-flood -j RETURN",
                                str(ufw / "before6.rules"): ""}
    assert result["chain_rules"] == {"4": chain, "6": ""}
