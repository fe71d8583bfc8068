# SPDX-License-Identifier: GPL-3.0-or-later
"""Parsers of module_utils/asterisk.py against output captured from Asterisk 16 (Debian 11)
and Asterisk 22 (Debian testing)."""

from __future__ import annotations

import os

import pytest

from ansible_collections.vpbx.hardened.plugins.module_utils import asterisk as ast

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def fixture(version, name):
    with open(os.path.join(FIXTURES, "asterisk%s-%s.txt" % (version, name)), encoding="utf-8") as handle:
        return handle.read()


@pytest.mark.parametrize("version, source, expected", [
    (16, "V", dict(version="16.28.0~dfsg-0+deb11u4", upstream="16.28.0", major=16, minor=28, patch=0)),
    (16, "coreversion", dict(version="16.28.0~dfsg-0+deb11u4", major=16)),
    (22, "V", dict(version="22.10.1+dfsg+~cs6.17.60671434-1", upstream="22.10.1", major=22, minor=10, patch=1)),
    (22, "coreversion", dict(upstream="22.10.1", major=22)),
])
def test_parse_version_captured(version, source, expected):
    parsed = ast.parse_version(fixture(version, source))
    for key, value in expected.items():
        assert parsed[key] == value


@pytest.mark.parametrize("text, expected", [
    ("Asterisk 18.10.0~dfsg+~cs6.10.40431411-2", (18, 10, 0, "~dfsg+~cs6.10.40431411-2")),
    ("Asterisk 20.6.0~dfsg+~cs6.13.40431414-2build5", (20, 6, 0, "~dfsg+~cs6.13.40431414-2build5")),
    ("Asterisk certified/18.9-cert4", (18, 9, 0, "-cert4")),
    ("Asterisk 21.0.0", (21, 0, 0, "")),
])
def test_parse_version_other_builds(text, expected):
    parsed = ast.parse_version(text)
    assert (parsed["major"], parsed["minor"], parsed["patch"], parsed["suffix"]) == expected


@pytest.mark.parametrize("text", ["", "asterisk: command not found", "Asterisk GIT-master-abcdef"])
def test_parse_version_rejects_garbage(text):
    with pytest.raises(ast.ParseError):
        ast.parse_version(text)


@pytest.mark.parametrize("version, expected", [
    ((16, 28, 0), False), ((17, 9, 9), False), ((18, 26, 1), False), ((18, 26, 2), True),
    ((19, 8, 0), False), ((20, 14, 0), False), ((20, 14, 1), True), ((21, 9, 0), False),
    ((21, 9, 1), True), ((22, 4, 0), False), ((22, 4, 1), True), ((22, 10, 1), True), ((23, 0, 0), True),
])
def test_disable_remote_console_shell_support(version, expected):
    assert ast.supports_disable_remote_console_shell(*version) is expected


@pytest.mark.parametrize("major, expected", [(16, True), (18, True), (20, True), (21, False), (22, False)])
def test_has_chan_sip(major, expected):
    assert ast.has_chan_sip(major) is expected


def test_core_settings_both_versions():
    s16 = ast.parse_settings(fixture(16, "coresettings"))
    s22 = ast.parse_settings(fixture(22, "coresettings"))
    assert s16["Version"] == "16.28.0~dfsg-0+deb11u4"
    assert s16["Module directory"] == "/usr/lib/asterisk/modules"
    assert "Shell on remote consoles" not in s16
    assert s22["Module directory"] == "/usr/lib/x86_64-linux-gnu/asterisk/modules"
    assert s22["Shell on remote consoles"] == "Enabled"  # stock sample config
    assert s16["Min DTMF duration"] == "80"  # the 'Min DTMF duration::' typo of the CLI
    # What the asterisk role's verify compares with asterisk_maxfiles (systemd's default here).
    assert s16["Maximum open file handles"] == s22["Maximum open file handles"] == "1024"


@pytest.mark.parametrize("version", [16, 22])
def test_rtp_and_manager_settings(version):
    rtp = ast.parse_settings(fixture(version, "rtp"))
    assert (rtp["Port start"], rtp["Port end"], rtp["Strict RTP"]) == ("10000", "20000", "Yes")
    manager = ast.parse_settings(fixture(version, "manager"))
    assert manager["Manager (AMI)"] == "Yes"  # the stock sample enables AMI on loopback
    assert manager["TCP Bindaddress"] == "127.0.0.1:5038"


@pytest.mark.parametrize("version, count, running", [(16, 347, "chan_sip.so"), (22, 364, "res_pjsip.so")])
def test_module_show(version, count, running):
    parsed = ast.parse_module_show(fixture(version, "moduleshow"))
    assert parsed["count"] == count
    # Built-in core pieces ("core" support level) are listed too.
    assert len(parsed["modules"]) == count
    assert parsed["modules"][running]["status"] == "Running"
    assert parsed["modules"]["udptl"]["support_level"] == "core"


def test_module_show_rejects_other_output():
    with pytest.raises(ast.ParseError):
        ast.parse_module_show(fixture(22, "nosuch"))


@pytest.mark.parametrize("version, messages", [(16, "/var/log/asterisk/messages"), (22, "/var/log/asterisk/messages.log")])
def test_logger_channels(version, messages):
    channels = ast.parse_logger_channels(fixture(version, "logger"))
    by_name = {c["channel"]: c for c in channels}
    assert by_name[messages]["status"] == "Enabled"
    assert by_name[messages]["levels"] == ["notice", "warning", "error"]
    assert by_name[messages]["type"] == "File"


def test_logger_channels_security():
    text = (
        "Logger queue limit: 1000\n\n"
        "Channel                             Type     Formatter  Status    Configuration\n"
        "-------                             ----     ---------  ------    -------------\n"
        "/var/log/asterisk/security.log      File     default    Enabled    - SECURITY \n"
        "/var/log/asterisk/messages.log      File     default    Enabled    - NOTICE WARNING ERROR \n")
    channels = ast.parse_logger_channels(text)
    assert channels[0] == {"channel": "/var/log/asterisk/security.log", "type": "File",
                           "status": "Enabled", "levels": ["security"]}


@pytest.mark.parametrize("text, reason", [
    ("No such command 'foo' (type 'core show help foo' for other possible commands)\n", "unknown CLI command"),
    ("Unable to connect to remote asterisk (does /var/run/asterisk/asterisk.ctl exist?)\n",
     "Asterisk is not running"),
    ("No such module 'res_nothing.so'\n", "no such module"),
    ("The module 'res_ari.so' was not properly initialized. Before reloading the module, you must run "
     "\"module load res_ari.so\" and fix whatever is preventing the module from being initialized.\n",
     "module operation failed"),
    ("Module 'res_rtp_asterisk.so' reloaded successfully.\n", None),
    ("", None),
])
def test_cli_error(text, reason):
    assert ast.cli_error(text) == reason


def test_cli_error_on_captured_unknown_command():
    assert ast.cli_error(fixture(22, "nosuch")) == "unknown CLI command"
    assert ast.cli_error(fixture(16, "rtp")) is None


@pytest.mark.parametrize("version", [16, 22])
def test_parse_conffiles(version):
    conffiles = ast.parse_conffiles(fixture(version, "conffiles"))
    samples = {p: v for p, v in conffiles.items() if p.startswith("/etc/asterisk/")}
    assert len(samples) > 90
    assert samples["/etc/asterisk/extensions.conf"]["package"] == "asterisk-config"
    assert len(samples["/etc/asterisk/extensions.conf"]["md5"]) == 32
    assert conffiles["/etc/default/asterisk"]["package"] == "asterisk"


def test_parse_conffiles_skips_obsolete():
    text = "asterisk-config\n /etc/asterisk/old.conf 0123 obsolete\n /etc/asterisk/new.conf 4567\n"
    assert ast.parse_conffiles(text) == {"/etc/asterisk/new.conf": {"package": "asterisk-config", "md5": "4567"}}


@pytest.mark.parametrize("version, expected", [
    (16, ["1:16.28.0~dfsg-0+deb11u4"]),
    (22, ["1:22.10.1+dfsg+~cs6.17.60671434-1"]),
])
def test_parse_madison(version, expected):
    assert ast.parse_madison(fixture(version, "madison")) == expected


VERSIONS = ["1:16.28.0~dfsg-0+deb11u5", "1:16.28.0~dfsg-0+deb11u4", "1:16.2.1~dfsg-2ubuntu1"]


@pytest.mark.parametrize("pin, expected", [
    ("1:16.28.0~dfsg-0+deb11u4", "1:16.28.0~dfsg-0+deb11u4"),
    ("16.28.0~dfsg-0+deb11u4", "1:16.28.0~dfsg-0+deb11u4"),
    ("1:16.28.*", "1:16.28.0~dfsg-0+deb11u5"),
    ("16.2.*", "1:16.2.1~dfsg-2ubuntu1"),
    ("16", "1:16.28.0~dfsg-0+deb11u5"),
    ("16.28", "1:16.28.0~dfsg-0+deb11u5"),
    ("16.2", "1:16.2.1~dfsg-2ubuntu1"),
    ("1", None),
    ("18", None),
    ("1:99.0", None),
    ("", None),
])
def test_match_version(pin, expected):
    assert ast.match_version(pin, VERSIONS) == expected


@pytest.mark.parametrize("status, expected", [
    ("install ok installed", {"version": "1:16.28.0~dfsg-0+deb11u4", "selection": "install"}),
    ("hold ok installed", {"version": "1:16.28.0~dfsg-0+deb11u4", "selection": "hold"}),
    ("deinstall ok config-files", {"version": "", "selection": "deinstall"}),
    ("install ok half-configured", {"version": "", "selection": "install"}),
    ("unknown ok not-installed", {"version": "", "selection": "unknown"}),
])
def test_parse_dpkg_packages(status, expected):
    text = "asterisk:amd64\t%s\t1:16.28.0~dfsg-0+deb11u4\n" % status
    assert ast.parse_dpkg_packages(text) == {"asterisk": expected}


def test_parse_dpkg_packages_several_and_noise():
    text = ("asterisk\thold ok installed\t1:22.10.1\nasterisk-config\tinstall ok installed\t1:22.10.1\n"
            "dpkg-query: no packages found matching nope\n\n")
    assert ast.parse_dpkg_packages(text) == {"asterisk": {"version": "1:22.10.1", "selection": "hold"},
                                             "asterisk-config": {"version": "1:22.10.1", "selection": "install"}}


# Captured on Asterisk 22 (attack scenario): `module reload res_pjsip.so` with an unknown option
# in endpoint 1002, a normal line, a runtime warning; then (modules scenario in CI) what modules
# being loaded log about configuration files the collection does not write.
RELOAD_LOG = """[2026-11-27 07:47:16] ERROR[2043] config_options.c: Could not find option suitable for category '1002' named 'no_such_option' at line 51 of 
[2026-11-27 07:47:16] ERROR[2043] res_sorcery_config.c: Could not create an object of type 'endpoint' with id '1002' from configuration file 'pjsip.conf'
[2026-11-27 07:47:16] NOTICE[2043] res_sorcery_config.c: Retaining existing configuration for object of type 'endpoint' with id '1002'
[2026-11-27 07:47:16] NOTICE[2043] sorcery.c: Type 'system' is not reloadable, maintaining previous values
[2026-11-27 07:47:20] NOTICE[2100] res_pjsip/pjsip_distributor.c: Request 'REGISTER' from '<sip:9999@172.30.81.22>' failed for '172.30.81.66:5070' (callid: 1-573@172.30.81.66) - No matching endpoint found
[2026-11-27 07:47:21] WARNING[2100][C-00000001] chan_sip.c: Some runtime warning
[2026-11-27 08:30:40] ERROR[2163] config_options.c: Unable to load config file 'cdr.conf'
[2026-11-27 08:30:40] ERROR[2163] res_sorcery_config.c: Unable to load config file 'pjproject.conf'
[2026-11-27 08:30:41] ERROR[2163] config_options.c: Error parsing direct_media=maybe at line 20 of /etc/asterisk/pjsip.conf
"""


def test_config_refusals_are_the_reload_errors_only():
    from ansible_collections.vpbx.hardened.plugins.module_utils.asterisk import config_refusals
    assert config_refusals(RELOAD_LOG) == [
        "ERROR[2043] config_options.c: Could not find option suitable for category '1002' named 'no_such_option' "
        "at line 51 of",
        "ERROR[2043] res_sorcery_config.c: Could not create an object of type 'endpoint' with id '1002' from "
        "configuration file 'pjsip.conf'",
        "NOTICE[2043] res_sorcery_config.c: Retaining existing configuration for object of type 'endpoint' with id "
        "'1002'",
        # A wrong value (Asterisk 22's words for it); the missing files of modules being loaded are not refusals.
        "ERROR[2163] config_options.c: Error parsing direct_media=maybe at line 20 of /etc/asterisk/pjsip.conf",
    ]
    assert config_refusals("") == [] and config_refusals(None) == []


SECRET = "Rb7-crm-Kq2v-secret-Zt5"


@pytest.mark.parametrize("users, allow, errors", [
    ([{"name": "crm", "secret": SECRET, "write": ["call", "reporting"]}], False, []),
    ([{"name": "crm", "secret": SECRET, "write": ["call", "Originate"]}], False,
     ["asterisk_manager_users[0] (crm).write grants originate: with the password, anyone could place calls at your "
      "cost, run shell commands or rewrite the configuration. Remove them, or set "
      "asterisk_manager_allow_dangerous_classes: true if an application on the PBX itself needs them"]),
    ([{"name": "ops", "secret": SECRET}, {"name": "x", "secret": SECRET, "write": ["system", "command", "config"]}],
     False, ["asterisk_manager_users[1] (x).write grants system, command, config: with the password"]),
    ([{"name": "x", "secret": SECRET, "write": ["all"]}], False, ["asterisk_manager_users[0] (x).write grants all:"]),
    ([{"name": "crm", "secret": SECRET, "write": ["originate", "all"]}], True, []),
    ([{"name": "crm", "secret": "short"}], True,
     ["asterisk_manager_users[0] (crm).secret: must have 16 or more characters and differ from the user name"]),
    ([{"name": "crm-monitor-user1", "secret": "crm-monitor-user1"}], False,
     ["asterisk_manager_users[0] (crm-monitor-user1).secret: must have 16 or more"]),
])
def test_manager_users_that_could_place_calls_or_run_commands_are_refused(users, allow, errors):
    found = ast.manager_user_errors(users, allow)
    assert len(found) == len(errors) and all(f.startswith(e) for f, e in zip(found, errors)), found
    assert not any(u["secret"] in f for u in users if u["secret"] != u["name"] for f in found)


# chan_sip 16 at load, with the how-to's per-peer nat=force_rport,comedia and nat=no in [general]
# (the example inventory before chan_sip's nat moved to [general]).
NAT_WARNING_LOG = """\
[2026-12-01 10:00:01] NOTICE[2001] chan_sip.c: !!! PLEASE NOTE: Setting 'nat' for a peer/user that differs from the \
global setting can make the name of that peer/user discoverable by an attacker. Replies for non-existent \
peers/users will be sent to a different port than replies for an existing peer/user.
[2026-12-01 10:00:01] NOTICE[2001] chan_sip.c: !!! PLEASE NOTE: Setting 'nat' for a peer/user that differs from the \
global setting can make the name of that peer/user discoverable by an attacker. Replies for non-existent \
peers/users will be sent to a different port than replies for an existing peer/user.
[2026-12-01 10:00:01] ERROR[2001] config_options.c: Unable to load config file 'cdr.conf'
"""


def test_security_warnings_at_load_are_found_once_each():
    found = ast.security_warnings(NAT_WARNING_LOG)
    assert len(found) == 1 and found[0].startswith("NOTICE[2001] chan_sip.c: !!! PLEASE NOTE: Setting 'nat'"), found
    assert ast.security_warnings(RELOAD_LOG) == []
