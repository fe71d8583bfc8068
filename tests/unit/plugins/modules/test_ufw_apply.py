# SPDX-License-Identifier: GPL-3.0-or-later
"""ufw_apply: one run brings UFW to the whole plan (rules before enable, SSH's first), backs up what
it replaces, reads UFW back, and changes nothing in check mode or when UFW is as planned."""

from __future__ import annotations

import pytest

from ansible_collections.vpbx.hardened.plugins.module_utils import firewall as fw
from ansible_collections.vpbx.hardened.plugins.module_utils import sip_model
from ansible_collections.vpbx.hardened.plugins.modules import ufw_apply

from .moduletest import Commands, run_module

POLICIES = [{"direction": "incoming", "policy": "deny"}, {"direction": "routed", "policy": "deny"},
            {"direction": "outgoing", "policy": "allow"}]
BEFORE = "*filter\n:ufw-before-input - [0:0]\n# End required lines\nCOMMIT\n"
CHAIN = "-N ufw-vpbx-sip-flood\n-A ufw-vpbx-sip-flood -m hashlimit --hashlimit-above 50/sec -j DROP\n"


def plan():
    model = sip_model.normalize([{"extension": "1001", "secret": "Unit-test-Secret-alpha-q9", "context": "office",
                                  "permit": ["192.0.2.0/24"]}], [], settings={"driver": "pjsip", "transports": ["udp"]})
    return fw.plan(model, {"ssh_sources": ["203.0.113.0/28"], "flood_rate": 50, "flood_burst": 200})


def status_of(the_plan, active=True):
    if not active:
        return "Status: inactive\n"
    rules = "\n".join("%s/%s  %s IN  %s" % (port, proto, action.upper(), src)
                      for port, proto, action, src, _i in fw.status_rules(the_plan["rules"], the_plan["ipv6"]))
    return ("Status: active\nLogging: on (low)\nDefault: deny (incoming), allow (outgoing), deny (routed)\n"
            "New profiles: skip\n\nTo  Action  From\n--  ------  ----\n%s\n" % rules)


@pytest.fixture
def ufw(tmp_path):
    for name in ("ufw", "iptables"):
        binary = tmp_path / name
        binary.write_text("#!/bin/sh\n")
        binary.chmod(0o755)
    (tmp_path / "default").write_text("IPV6=no\n")
    for name in ("before.rules", "before6.rules"):
        (tmp_path / name).write_text(BEFORE)
    return tmp_path


def params(root, the_plan, **extra):
    return dict(dict(plan=the_plan, policies=POLICIES, defaults_file=str(root / "default"),
                     rule_files=[str(root / "user.rules"), str(root / "user6.rules")],
                     before_files=[str(root / "before.rules"), str(root / "before6.rules")],
                     binary=str(root / "ufw"), iptables=str(root / "iptables")), **extra)


def test_a_fresh_ufw_in_one_run_rules_before_enable_then_read_back(ufw, capsys):
    the_plan = plan()
    statuses = iter([status_of(the_plan, active=False), status_of(the_plan)])
    commands = Commands({(str(ufw / "ufw"), "status", "verbose"): lambda _a: (0, next(statuses), ""),
                         str(ufw / "ufw"): (0, "", ""), str(ufw / "iptables"): (0, CHAIN, "")})
    result, failed = run_module(ufw_apply.main, params(ufw, the_plan), capsys, commands)
    assert not failed and result["changed"], result
    ufw_calls = [c[1:] for c in commands.calls if c[0] == str(ufw / "ufw") and c[1:] != ["status", "verbose"]]
    assert ufw_calls[0][:4] == ["limit", "in", "from", "203.0.113.0/28"]  # SSH first
    assert ufw_calls[-3:] == [["default", "allow", "outgoing"], ["logging", "low"], ["--force", "enable"]]
    assert (ufw / "default").read_text() == "IPV6=yes\n"
    assert fw.parse_blocks((ufw / "before.rules").read_text()).startswith(":ufw-vpbx-sip-flood")
    assert len(result["backups"]) == 3  # /etc/default/ufw and both before files, next to them


def test_as_planned_nothing_changes_and_the_read_is_the_verification(ufw, capsys):
    the_plan = plan()
    (ufw / "default").write_text("IPV6=yes\n")
    for version, name in ((4, "before.rules"), (6, "before6.rules")):
        (ufw / name).write_text(fw.with_block(BEFORE, "\n".join(fw.flood_lines(the_plan, version))))
    store = "\n".join("### tuple ### %s %s %s %s %s %s %s" % key[:7] for key in fw.tuples(the_plan["rules"]))
    (ufw / "user.rules").write_text(store)
    commands = Commands({(str(ufw / "ufw"), "status", "verbose"): (0, status_of(the_plan), ""),
                         str(ufw / "iptables"): (0, CHAIN, "")})
    result, failed = run_module(ufw_apply.main, params(ufw, the_plan), capsys, commands)
    assert not failed and not result["changed"] and result["changes"] == [], result
    assert [c[1:] for c in commands.calls] == [["status", "verbose"], ["-S", "ufw-vpbx-sip-flood"]]
    # The same run fails when the kernel does not run what UFW stores.
    commands = Commands({(str(ufw / "ufw"), "status", "verbose"): (0, status_of(the_plan), ""),
                         str(ufw / "iptables"): (1, "", "No chain")})
    result, failed = run_module(ufw_apply.main, params(ufw, the_plan), capsys, commands)
    assert failed and "The SIP flood limit is not in force" in result["msg"]


def test_check_mode_reports_and_changes_nothing(ufw, capsys):
    the_plan = plan()
    commands = Commands({(str(ufw / "ufw"), "status", "verbose"): (0, status_of(the_plan, active=False), "")})
    result, failed = run_module(ufw_apply.main, params(ufw, the_plan), capsys, commands, check_mode=True, diff=True)
    assert not failed and result["changed"] and "enable" in result["changes"]
    assert "enable" in result["diff"]["after"]
    assert commands.calls == [[str(ufw / "ufw"), "status", "verbose"]]
    assert (ufw / "default").read_text() == "IPV6=no\n" and (ufw / "before.rules").read_text() == BEFORE


def test_a_refused_ufw_command_stops_the_run_and_says_what_next(ufw, capsys):
    the_plan = plan()
    commands = Commands({(str(ufw / "ufw"), "status", "verbose"): (0, status_of(the_plan, active=False), ""),
                         str(ufw / "ufw"): (1, "", "ERROR: Bad port")})
    result, failed = run_module(ufw_apply.main, params(ufw, the_plan), capsys, commands)
    assert failed and "failed (rc=1): ERROR: Bad port" in result["msg"] and "ufw status verbose" in result["msg"]


def test_a_missing_ufw_is_installed_then_the_plan_applied(ufw, capsys, monkeypatch):
    from ansible_collections.vpbx.hardened.plugins.module_utils import apt
    monkeypatch.setattr(apt, "lists_age", lambda: None)  # no package lists yet: refreshed first
    (ufw / "ufw").unlink()
    the_plan = plan()
    statuses = iter([status_of(the_plan, active=False), status_of(the_plan)])

    def apt_get(args):
        if args[1] == "install":  # the package brings the binary
            (ufw / "ufw").write_text("#!/bin/sh\n")
            (ufw / "ufw").chmod(0o755)
        return 0, "", ""
    commands = Commands({(str(ufw / "ufw"), "status", "verbose"): lambda _a: (0, next(statuses), ""),
                         str(ufw / "ufw"): (0, "", ""), str(ufw / "iptables"): (0, CHAIN, ""), "apt-get": apt_get})
    result, failed = run_module(ufw_apply.main, params(ufw, the_plan, install={"packages": ["ufw"]}), capsys,
                                commands)
    assert not failed, result
    assert [c[:2] for c in commands.calls if c[0] == "apt-get"] == [["apt-get", "update"], ["apt-get", "install"]]
    assert result["installed"] == ["ufw"] and "enable" in result["changes"]


@pytest.mark.parametrize("install, failed", [({"packages": ["ufw"]}, False), (None, True)])
def test_check_mode_without_ufw_shows_the_rules_a_real_run_would_apply(ufw, capsys, install, failed):
    (ufw / "ufw").unlink()
    the_plan = plan()
    commands = Commands({})
    args = params(ufw, the_plan, **({"install": install} if install else {}))
    result, did_fail = run_module(ufw_apply.main, args, capsys, commands, check_mode=True)
    assert did_fail is failed, result
    if failed:  # without install, a missing UFW is the run's failure
        assert "is not installed" in result["msg"]
        return
    assert result["msg"].startswith("Check mode on a host without UFW - UFW would be installed")
    assert "limit 22/tcp from 203.0.113.0/28 (ssh)" in result["msg"], result["msg"]
    assert commands.calls == []  # nothing installed, nothing asked
