# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
"""The hardening audit's verdicts (module_utils/audit.py) on evidence captured from real hosts
(fixtures/audit/<host>, verdicts in fixtures/audit/expected.yml), then one changed fact at a time:
each verdict must flip when the evidence says so."""

from __future__ import annotations

import json
import os
import re

import pytest
import yaml

from ansible_collections.vpbx.hardened.plugins.module_utils import audit

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "audit")
with open(os.path.join(FIXTURES, "expected.yml"), encoding="utf-8") as _handle:
    EXPECTED = yaml.safe_load(_handle)


def read(*parts):
    with open(os.path.join(FIXTURES, *parts), encoding="utf-8") as handle:
        return handle.read()


def command_of(stem):
    """File names of cli/: the command with spaces as underscores (endpoint names kept)."""
    if stem.startswith("pjsip_show_endpoint_"):
        return "pjsip show endpoint " + stem[len("pjsip_show_endpoint_"):]
    return stem.replace("_", " ")


def load(host):
    """The evidence dict asterisk_audit gathered on `host` (the layout of fixtures/audit/<host>)."""
    base = os.path.join(FIXTURES, host)
    meta = json.loads(read(host, "meta.json"))
    evidence = {key: meta[key] for key in ("installed", "running", "version")}
    evidence["ps"] = read(host, "ps.txt")
    evidence["confdir"] = read(host, "confdir.txt")
    evidence["files"] = {name: None for name in meta["missing_files"]}
    for root, _dirs, names in os.walk(os.path.join(base, "files")):
        for name in names:
            path = os.path.join(root, name)
            evidence["files"][os.path.relpath(path, os.path.join(base, "files"))] = read(host, path)
    evidence["cli"] = {command_of(name[:-len(".txt")]): read(host, "cli", name)
                       for name in os.listdir(os.path.join(base, "cli"))}
    for tool in ("ufw", "fail2ban"):
        rc = meta[tool]["rc"]
        evidence[tool] = {"rc": rc, "out": read(host, tool + ".txt") if rc is not None else ""}
    return evidence


def verdicts(evidence):
    return {r["id"]: r for r in audit.evaluate(evidence)}


HOSTS = sorted(EXPECTED)


@pytest.mark.parametrize("host", HOSTS)
def test_expected_table_covers_every_control(host):
    assert sorted(EXPECTED[host]) == [c["id"] for c in audit.controls()] == list(range(1, 32))


@pytest.mark.parametrize("host, control", [(h, c) for h in HOSTS for c in range(1, 32)])
def test_captured_host(host, control):
    result = verdicts(load(host))[control]
    assert result["status"] == EXPECTED[host][control], result["detail"]
    assert result["detail"]
    # A failure always says what to change; nothing else carries a fix.
    assert bool(result["fix"]) == (result["status"] == "fail")


@pytest.mark.parametrize("host", HOSTS)
def test_summary_report_and_failed_list_agree(host):
    results = audit.evaluate(load(host))
    counts = audit.summary(results)
    assert sum(counts.values()) == 31
    assert counts["fail"] == len(audit.failed(results)) == list(EXPECTED[host].values()).count("fail")
    text = audit.report_text(results, host)
    assert text.startswith("Hardening audit of %s" % host)
    assert "%(pass)d pass, %(fail)d fail, %(n/a)d n/a, %(unknown)d unknown" % counts in text
    assert text.count("fix: ") == counts["fail"]


# --- the stock hosts: what the verdicts rest on ---------------------------------------------------

def test_stock16_details():
    result = verdicts(load("stock16"))
    assert "Allow unknown access: Yes" in result[10]["detail"]
    assert "Asterisk PBX 16.28.0" in result[6]["detail"]
    assert "chan_iax2" in result[5]["detail"] and "pbx_lua" in result[5]["detail"]
    # Declined modules are listed but do not fail the control on their own.
    assert "present but not running: chan_skinny, chan_unistim, pbx_dundi" in result[5]["detail"]
    assert "/etc/asterisk is 0755" in result[2]["detail"]
    assert "16.28.0~dfsg-0+deb11u4" in result[7]["detail"]
    assert "ufw is not installed" in result[28]["detail"]
    assert "asterisk_sip_user_agent: PBX" in result[6]["fix"]


def test_stock22_details():
    result = verdicts(load("stock22"))
    assert result[4]["detail"] == "core show settings: Shell on remote consoles: Enabled"
    assert "messages.log" not in result[21]["detail"] and "security" in result[21]["detail"]
    assert "'demo'" not in result[25]["detail"] and "demo" in result[25]["detail"]


# --- one fact changed at a time on the captured evidence ------------------------------------------

def replaced(host, command, old, new):
    evidence = load(host)
    assert old in evidence["cli"][command], "fixture changed: %r not in %s" % (old, command)
    evidence["cli"][command] = evidence["cli"][command].replace(old, new)
    return evidence


@pytest.mark.parametrize("host, command, old, new, control, status", [
    ("stock16", "sip show settings", "Allow unknown access:   Yes", "Allow unknown access:   No", 10, "pass"),
    ("stock16", "sip show settings", "Always auth rejects:    Yes", "Always auth rejects:    No", 8, "fail"),
    ("stock16", "sip show settings", "AutoCreate Peer:        Off", "AutoCreate Peer:        On", 17, "fail"),
    ("stock16", "rtp show settings", "Strict RTP:      Yes", "Strict RTP:      No", 31, "fail"),
    ("stock16", "manager show settings", "127.0.0.1:5038", "0.0.0.0:5038", 23, "fail"),
    ("stock16", "manager show settings", "Manager (AMI):             Yes", "Manager (AMI):             No", 23,
     "pass"),
    ("stock16", "http show status", "Server Disabled", "Server Enabled and Bound to 0.0.0.0:8088", 24, "fail"),
    ("stock22", "http show status", "Server Disabled", "Server Enabled and Bound to 127.0.0.1:8088", 24, "pass"),
    ("stock16", "http show status", "Server Disabled", "Server Enabled and Bound to 127.0.0.1:8088", 24, "fail"),
    ("stock22", "core show settings", "Shell on remote consoles:    Enabled",
     "Shell on remote consoles:    Disabled", 4, "pass"),
    ("stock22", "pjsip show settings", "Asterisk PBX 22.10.1+dfsg+~cs6.17.60671434-1", "PBX", 6, "pass"),
    ("stock16", "pjsip show settings", "Asterisk PBX 16.28.0~dfsg-0+deb11u4", "PBX", 6, "fail"),
    ("stock22", "module show", "chan_iax2.so                   Inter Asterisk eXchange (Ver 2)          0          "
     "Running", "chan_iax2.so                   Inter Asterisk eXchange (Ver 2)          0          Not Running",
     5, "fail"),
])
def test_one_fact_flips_the_verdict(host, command, old, new, control, status):
    assert verdicts(replaced(host, command, old, new))[control]["status"] == status


def test_chan_sip_user_agent_must_also_be_neutral():
    evidence = replaced("stock16", "pjsip show settings", "Asterisk PBX 16.28.0~dfsg-0+deb11u4", "PBX")
    text = evidence["cli"]["sip show settings"]
    assert text.count("Asterisk PBX 16.28.0~dfsg-0+deb11u4") == 2  # User Agent, SDP Session Name
    evidence["cli"]["sip show settings"] = text.replace("Asterisk PBX 16.28.0~dfsg-0+deb11u4", "PBX")
    assert verdicts(evidence)[6]["status"] == "pass"
    evidence["cli"]["sip show settings"] = evidence["cli"]["sip show settings"].replace(
        "SDP Owner Name:         root", "SDP Owner Name:         asterisk")
    assert verdicts(evidence)[6]["status"] == "fail"


def test_unused_modules_pass_when_none_runs():
    evidence = load("stock22")
    lines = [line for line in evidence["cli"]["module show"].splitlines()
             if not line.startswith(("chan_iax2", "pbx_lua", "pbx_ael"))]
    evidence["cli"]["module show"] = "\n".join(lines)
    result = verdicts(evidence)[5]
    assert result["status"] == "pass", result["detail"]


def test_chan_sip_next_to_pjsip_endpoints_fails():
    evidence = load("stock16")
    evidence["cli"]["pjsip show endpoints"] = (
        "\n Endpoint:  <Endpoint/CID.....................................>  <State.....>  <Channels.>\n"
        "==========================================================================================\n\n"
        " Endpoint:  1001                                                 Unavailable   0 of inf\n")
    assert "chan_sip (PJSIP has 1 endpoint(s))" in verdicts(evidence)[5]["detail"]


def test_root_process_fails_and_remote_consoles_are_ignored():
    evidence = load("stock16")
    evidence["ps"] = "root root 77 /usr/sbin/asterisk -rvvv\nasterisk asterisk 12 /usr/sbin/asterisk -U asterisk\n"
    assert verdicts(evidence)[1]["status"] == "pass"
    evidence["ps"] = "root root 12 /usr/sbin/asterisk -f\n"
    result = verdicts(evidence)[1]
    assert result["status"] == "fail" and "asterisk_user" in result["fix"]


def test_config_dir_modes():
    evidence = load("stock16")
    lines = []
    for line in evidence["confdir"].splitlines():
        mode, user, group, kind, path = line.split(None, 4)
        if path == "/etc/asterisk":
            mode, user = "750", "root"
        elif kind == "f":
            mode = "640"
        lines.append(" ".join((mode, user, group, kind, path)))
    evidence["confdir"] = "\n".join(lines)
    assert verdicts(evidence)[2]["status"] == "pass"
    evidence["confdir"] = evidence["confdir"].replace("750 root asterisk d /etc/asterisk\n",
                                                      "750 root root d /etc/asterisk\n")
    assert "group root" in verdicts(evidence)[2]["detail"]


@pytest.mark.parametrize("text, major, status", [
    ("[options]\nlive_dangerously = yes\n", 16, "fail"),
    ("[options]\nlive_dangerously = yes\nlive_dangerously = no\n", 16, "pass"),
    ("[options]\n;live_dangerously = yes\n", 22, "pass"),
    ("[directories]\nlive_dangerously = yes\n[options]\n", 22, "pass"),
    ("[options]\n#include extra.conf\n", 16, "fail"),
    ("[options]\n", 11, "fail"),  # before 12 the default was yes
])
def test_live_dangerously(text, major, status):
    evidence = load("stock16")
    evidence["files"] = {"asterisk.conf": text, "extra.conf": "live_dangerously=on\n",
                         "extensions.conf": evidence["files"]["extensions.conf"]}
    evidence["cli"]["core show version"] = "Asterisk %d.8.0 built by nobody" % major
    assert verdicts(evidence)[3]["status"] == status


def test_includes_with_globs_are_read_in_sorted_order():
    files = {"asterisk.conf": '[options]\n#include "conf.d/*.conf"\n', "conf.d/20-b.conf": "live_dangerously=no\n",
             "conf.d/10-a.conf": "live_dangerously=yes\n", "other.conf": "live_dangerously=yes\n"}
    assert audit.conf_options(files, "asterisk.conf", "options") == [("live_dangerously", "yes"),
                                                                     ("live_dangerously", "no")]


def test_live_dangerously_unknown_without_asterisk_conf():
    evidence = load("stock22")
    evidence["files"]["asterisk.conf"] = None
    assert verdicts(evidence)[3]["status"] == "unknown"


def test_remote_console_shell_from_file_when_the_cli_does_not_show_it():
    evidence = load("stock16")
    evidence["cli"]["core show version"] = "Asterisk 20.14.1 built by nobody"
    evidence["files"]["asterisk.conf"] = "[options]\ndisable_remote_console_shell = yes\n"
    assert verdicts(evidence)[4]["status"] == "pass"
    evidence["files"]["asterisk.conf"] = "[options]\n"
    assert verdicts(evidence)[4]["status"] == "fail"
    evidence["cli"]["core show version"] = "Asterisk 20.14.0 built by nobody"
    assert verdicts(evidence)[4]["status"] == "n/a"


def test_auth_options_requests_from_sip_conf_includes():
    evidence = load("stock16")
    evidence["files"]["sip.conf"] = '[general]\n#include "sip_general.conf"\n[1001]\nauth_options_requests=no\n'
    evidence["files"]["sip_general.conf"] = "auth_options_requests = yes ; OPTIONS challenged\n"
    assert verdicts(evidence)[13]["status"] == "pass"
    evidence["files"]["sip.conf"] = None
    assert verdicts(evidence)[13]["status"] == "unknown"


PJSIP_ENDPOINT = """

Endpoint:  {name}                                                 Unavailable   0 of inf

 ParameterName                      : ParameterValue
 =========================================================================================
 allow_transfer                     : true
 allow_unauthenticated_options      : {value}
 aors                               : {name}
"""


@pytest.mark.parametrize("value, status", [("false", "pass"), ("true", "fail"), (None, "unknown")])
def test_pjsip_allow_unauthenticated_options(value, status):
    evidence = load("stock22")
    evidence["cli"]["pjsip show endpoints"] = " Endpoint:  1001    Unavailable   0 of inf\n"
    if value is not None:
        evidence["cli"]["pjsip show endpoint 1001"] = PJSIP_ENDPOINT.format(name="1001", value=value)
    assert verdicts(evidence)[13]["status"] == status


def test_anonymous_endpoint():
    evidence = load("stock22")
    evidence["cli"]["pjsip show endpoints"] = " Endpoint:  anonymous    Not in use   0 of inf\n"
    assert verdicts(evidence)[11]["status"] == "fail"


@pytest.mark.parametrize("match, status", [
    ("172.30.81.60/32", "pass"), ("2001:db8::5/128", "pass"), ("203.0.113.0/24", "fail"), ("0.0.0.0/0", "fail"),
])
def test_identify_matches(match, status):
    evidence = load("stock22")
    evidence["cli"]["pjsip show identifies"] = (
        "\n Identify:  <Identify/Endpoint........................................................>\n"
        "      Match:  <criteria.........................>\n"
        "==========================================================================================\n\n"
        " Identify:  provider/provider\n      Match: %s\n" % match)
    assert verdicts(evidence)[12]["status"] == status


def test_logger_with_security_and_notice_files_passes():
    evidence = load("stock22")
    evidence["cli"]["logger show channels"] = evidence["cli"]["logger show channels"].replace(
        "/var/log/asterisk/messages.log      File     default    Enabled    - NOTICE WARNING ERROR \n",
        "/var/log/asterisk/messages.log      File     default    Enabled    - NOTICE WARNING ERROR \n"
        "/var/log/asterisk/security.log      File     default    Enabled    - SECURITY \n")
    assert verdicts(evidence)[21]["status"] == "pass"


@pytest.mark.parametrize("rc, out, status, words", [
    (None, "", "fail", "not installed"),
    (255, "fail2ban-not-running.txt", "fail", "not running"),
    # Captured on converged22 with Debian's fail2ban: the stock sshd jail, then an asterisk jail added.
    (0, "fail2ban-sshd-only.txt", "fail", "no asterisk jail among: sshd"),
    (0, "fail2ban-asterisk-jail.txt", "pass", "jail(s) asterisk active"),
])
def test_fail2ban(rc, out, status, words):
    evidence = load("stock22")
    evidence["fail2ban"] = {"rc": rc, "out": read(out) if out.endswith(".txt") else out}
    result = verdicts(evidence)[22]
    assert result["status"] == status and words in result["detail"]


@pytest.mark.parametrize("files, status, words", [
    # What the collection's jail watches on a converged host: the security log Asterisk writes.
    ("/var/log/asterisk/security.log", "pass", "jail(s) asterisk active on /var/log/asterisk/security.log"),
    # The stock jail's file, which Asterisk 20+ does not write (it writes messages.log).
    ("/var/log/asterisk/messages", "fail", "watch /var/log/asterisk/messages, which Asterisk does not write"),
    ("", "fail", "watch no file"),
])
def test_fail2ban_jail_must_watch_a_file_asterisk_writes(files, status, words):
    evidence = load("converged22")
    evidence["fail2ban"] = JAILS
    jail = read("fail2ban-status-asterisk.txt")
    evidence["fail2ban_jails"] = {"asterisk": re.sub(r"File list:.*", "File list:\t" + files, jail)}
    result = verdicts(evidence)[22]
    assert result["status"] == status and words in result["detail"], result


UFW_ACTIVE = """Status: active
Logging: on (low)
Default: {incoming} (incoming), allow (outgoing), deny (routed)
New profiles: skip

To                         Action      From
--                         ------      ----
22/tcp                     LIMIT IN    203.0.113.0/28             # vpbx.hardened ssh
5060/udp                   ALLOW IN    192.0.2.0/24               # vpbx.hardened sip-udp
{rtp}/udp            ALLOW IN    192.0.2.0/24               # vpbx.hardened rtp
{extra}"""


@pytest.mark.parametrize("incoming, rtp, extra, status", [
    ("deny", "10000:20000", "", "pass"),
    ("allow", "10000:20000", "", "fail"),
    ("deny", "10000:30000", "", "fail"),
    ("deny", "10000:20000", "5038/tcp                   ALLOW IN    Anywhere\n", "fail"),
])
def test_ufw(incoming, rtp, extra, status):
    evidence = load("stock16")
    evidence["ufw"] = {"rc": 0, "out": UFW_ACTIVE.format(incoming=incoming, rtp=rtp, extra=extra)}
    assert verdicts(evidence)[28]["status"] == status


def test_ufw_inactive_and_unusable():
    evidence = load("stock16")
    evidence["ufw"] = {"rc": 0, "out": read("..", "ufw", "status-verbose-inactive.txt")}
    assert verdicts(evidence)[28]["status"] == "fail"
    evidence["ufw"] = {"rc": 1, "out": read("ufw-no-net-admin.txt")}
    assert verdicts(evidence)[28]["status"] == "unknown"


def test_closed_default_context_passes():
    evidence = load("stock22")
    evidence["cli"]["dialplan show"] = (
        "[ Context 'default' created by 'pbx_config' ]\n"
        "  '_[0-9*#+a-zA-Z].' => 1. Busy(5)                                [extensions.conf:12]\n"
        "                    2. Hangup()                                   [extensions.conf:13]\n\n"
        "[ Context 'office' created by 'pbx_config' ]\n"
        "  '_8[3-7]XXXXXXXXX' => 1. Dial(PJSIP/7${EXTEN:1}@provider)        [extensions.conf:20]\n\n"
        "-= 2 extensions (3 priorities) in 2 contexts. =-\n")
    assert verdicts(evidence)[25]["status"] == "pass"
    evidence["cli"]["dialplan show"] = evidence["cli"]["dialplan show"].replace(
        "[ Context 'default' created by 'pbx_config' ]\n",
        "[ Context 'default' created by 'pbx_config' ]\n  Include =>        'office'        [pbx_config]\n")
    result = verdicts(evidence)[25]
    assert result["status"] == "fail" and "office (included from default) dials out" in result["detail"]


@pytest.mark.parametrize("lines, status", [
    (["exten => _X.,1,Dial(PJSIP/${EXTEN}@trunk)"], "fail"),
    (["exten => _X.,1,NoOp()", " same => n,Dial(PJSIP/${EXTEN:1}@trunk)"], "fail"),
    (["exten => _X.,1,Dial(PJSIP/${FILTER(0-9,${EXTEN})}@trunk)"], "pass"),
    (["exten => _8XXXXXXXXXX,1,Dial(PJSIP/${EXTEN}@trunk)"], "pass"),
    (["exten => s,1,System(echo ${CALLERID(num)})"], "fail"),
    (["exten => _!,1,MixMonitor(/tmp/${EXTEN}.wav)"], "fail"),
    (["exten => _X.,1,Dial(PJSIP/${EXTEN}@trunk) ; hidden? no: only the comment is stripped"], "fail"),
    (["; exten => _X.,1,Dial(PJSIP/${EXTEN}@trunk)"], "pass"),
])
def test_extensions_lint(lines, status):
    evidence = load("stock22")
    evidence["files"]["extensions.conf"] = "[general]\n#include extra.conf\n"
    evidence["files"]["extra.conf"] = "[from-phones]\n" + "\n".join(lines) + "\n"
    result = verdicts(evidence)[26]
    assert result["status"] == status, result["detail"]
    if status == "fail":
        assert result["detail"].startswith("extra.conf:")


def test_asterisk_not_running_is_unknown_not_pass():
    evidence = load("stock22")
    evidence["running"] = False
    evidence["cli"] = {"core show version": "Unable to connect to remote asterisk (does /var/run/asterisk/asterisk.ctl "
                                            "exist?)\n"}
    evidence["ps"] = ""
    results = verdicts(evidence)
    for control in (1, 5, 6, 8, 10, 21, 23, 24, 25, 31):
        assert results[control]["status"] == "unknown", control
        assert "not running" in results[control]["detail"]
    assert results[3]["status"] == "pass"  # asterisk.conf is still read
    assert results[4]["status"] == "fail"  # the version from `asterisk -V`, the option from the file


def test_asterisk_not_installed():
    results = verdicts({"installed": False, "running": False, "version": "", "ps": "", "confdir": None, "files": {},
                        "cli": {}, "ufw": {"rc": None}, "fail2ban": {"rc": None}})
    assert {results[c]["status"] for c in (1, 3, 4, 5, 7, 26)} == {"n/a"}
    assert results[2]["status"] == "unknown"


def test_a_parser_surprise_is_unknown_for_that_control_only(monkeypatch):
    def boom(_text):
        raise RuntimeError("unexpected shape")
    monkeypatch.setattr(audit, "parse_dialplan", boom)
    results = verdicts(load("stock22"))
    assert results[25]["status"] == "unknown" and "unexpected shape" in results[25]["detail"]
    assert results[31]["status"] == "pass"


# --- the converged hosts --------------------------------------------------------------------------

JAILS = {"rc": 0, "out": read("fail2ban-asterisk-jail.txt")}


@pytest.mark.parametrize("host", ["converged16", "converged22"])
def test_converged_hosts_fail_only_for_the_missing_fail2ban(host):
    evidence = load(host)
    assert audit.failed(audit.evaluate(evidence)) == [22]
    evidence["fail2ban"] = JAILS
    assert audit.failed(audit.evaluate(evidence)) == []


def test_converged22_endpoints_are_read_one_by_one():
    evidence = load("converged22")
    assert audit.parse_pjsip_names(evidence["cli"]["pjsip show endpoints"], "Endpoint") == ["1001", "1002", "provider"]
    del evidence["cli"]["pjsip show endpoint provider"]
    result = verdicts(evidence)[13]
    assert result["status"] == "unknown" and "provider" in result["detail"]


# --- the module: read-only commands, evidence to verdicts ------------------------------------------

def test_module_runs_only_read_only_commands(capsys, tmp_path, monkeypatch):
    from ansible.module_utils import basic

    from ansible_collections.vpbx.hardened.plugins.modules import asterisk_audit

    from ..modules.moduletest import Commands, run_module

    evidence = load("stock22")
    binary = tmp_path / "asterisk"
    binary.write_text("#!/bin/sh\n")
    confdir = tmp_path / "etc"
    confdir.mkdir()
    for name, text in evidence["files"].items():
        if text is not None:
            (confdir / name).write_text(text)

    def asterisk(args):
        if args[1:] == ["-V"]:
            return 0, evidence["version"] + "\n", ""
        assert args[1] == "-rx", args
        command = args[2]
        assert command in audit.CLI_COMMANDS or command.startswith("pjsip show endpoint "), command
        return 0, evidence["cli"].get(command, "No such command '%s'\n" % command), ""

    monkeypatch.setattr(asterisk_audit, "processes", lambda: evidence["ps"])
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: None)
    for check_mode in (False, True):
        commands = Commands({str(binary): asterisk})
        result, failed = run_module(asterisk_audit.main, dict(binary=str(binary), config_dir=str(confdir)), capsys,
                                    commands, check_mode=check_mode)
        assert not failed and result["changed"] is False
        assert result["asterisk_version"] == "22.10.1+dfsg+~cs6.17.60671434-1"
        statuses = {c["id"]: c["status"] for c in result["controls"]}
        for control in (3, 4, 5, 6, 21, 22, 25, 28):
            assert statuses[control] == EXPECTED["stock22"][control], control
        assert result["failed_controls"] == sorted(c for c, s in statuses.items() if s == "fail")
        assert sum(result["summary"].values()) == 31 and "evidence" not in result
        assert result["report"].count("fix: ") == result["summary"]["fail"]


def test_module_reads_includes_and_lists_modes(tmp_path):
    from ansible_collections.vpbx.hardened.plugins.modules import asterisk_audit

    (tmp_path / "conf.d").mkdir()
    (tmp_path / "asterisk.conf").write_text('[options]\n#include "conf.d/*.conf"\n#tryinclude missing.conf\n')
    (tmp_path / "conf.d" / "a.conf").write_text("live_dangerously = yes\n")
    (tmp_path / "extensions.conf").write_text("#include %s/conf.d/a.conf\n" % tmp_path)
    (tmp_path / "asterisk.conf").chmod(0o644)
    tmp_path.chmod(0o750)
    files = asterisk_audit.config_files(str(tmp_path))
    assert files["conf.d/a.conf"] == "live_dangerously = yes\n"
    assert files["missing.conf"] is None and files["sip.conf"] is None
    assert audit.last_option(audit.conf_options(files, "asterisk.conf", "options"), "live_dangerously") == "yes"
    entries = {e["path"]: e for e in audit.parse_find(asterisk_audit.listing(str(tmp_path)))}
    assert entries[str(tmp_path)]["mode"] == 0o750 and entries[str(tmp_path)]["type"] == "d"
    assert entries[str(tmp_path / "asterisk.conf")]["mode"] == 0o644
    assert asterisk_audit.listing(str(tmp_path / "absent")) is None
