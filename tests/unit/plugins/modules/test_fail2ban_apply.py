# SPDX-License-Identifier: GPL-3.0-or-later
"""fail2ban_apply: one run writes what differs (a copy of each replaced file next to it), tests the
whole configuration and puts the previous files back when fail2ban refuses it, starts or reloads
(restarts when a reload is refused), and judges the running server's jails against the plan."""

from __future__ import annotations

import pytest

from ansible_collections.vpbx.hardened.plugins.module_utils import apt
from ansible_collections.vpbx.hardened.plugins.module_utils import fail2ban as f2b
from ansible_collections.vpbx.hardened.plugins.modules import fail2ban_apply

from .moduletest import Commands, run_module

EXPECT = {"jails": ["asterisk", "recidive"], "jail": "asterisk", "logpaths": ["/var/log/asterisk/security"],
          "ignoreip": ["127.0.0.0/8", "::1/128"], "maxretry": 5}
RUNNING = {("status",): "Status\n|- Number of jail:\t2\n`- Jail list:\tasterisk, recidive",
           ("status", "asterisk"): "Status for the jail: asterisk\n|- Filter\n|  |- Currently failed:\t0\n"
                                   "|  |- Total failed:\t3\n|  `- File list:\t/var/log/asterisk/security\n"
                                   "`- Actions\n   |- Currently banned:\t0\n   |- Total banned:\t0\n"
                                   "   `- Banned IP list:\t",
           ("get", "asterisk", "logpath"): "Current monitored log file(s):\n`- /var/log/asterisk/security",
           ("get", "asterisk", "ignoreip"): "These IP addresses/networks are ignored:\n|- 127.0.0.0/8\n`- ::1/128",
           ("get", "asterisk", "maxretry"): 5,  # fail2ban's Beautifier gives an int
           ("ping",): "Server replied: pong"}
SYSTEMCTL = "/usr/bin/systemctl"


@pytest.fixture
def host(tmp_path, monkeypatch, fake_fail2ban):
    """An /etc/fail2ban with its three directories, a fail2ban-client, a running server."""
    for sub in ("action.d", "filter.d", "jail.d"):
        (tmp_path / sub).mkdir()
    client = tmp_path / "fail2ban-client"
    client.write_text("#!/bin/sh\n")
    client.chmod(0o755)
    monkeypatch.setattr(fail2ban_apply.AnsibleModule, "get_bin_path",
                        lambda _self, name, required=False, *a, **k: "/usr/bin/" + name)
    fake_fail2ban.answers = {words: (0, text) for words, text in RUNNING.items()}
    fake_fail2ban.beautify = lambda _words, answer: answer
    # root:root in the module; the test's files are the test user's.
    monkeypatch.setattr(fail2ban_apply, "FileSet", _owned_by_me(fail2ban_apply.FileSet))
    return tmp_path


def _owned_by_me(cls):
    import os

    def make(entries, *args, **kwargs):
        return cls([dict(entry, uid=os.getuid(), gid=os.getgid()) for entry in entries], *args, **kwargs)
    return make


def files(root, jail="maxretry = 5\n"):
    return [{"path": str(root / "action.d/vpbx-ufw.conf"), "content": "[Definition]\nactionban = ufw\n"},
            {"path": str(root / "jail.d/vpbx-hardened.local"), "content": "[asterisk]\n" + jail}]


def params(root, **extra):
    return dict(dict(files=files(root), expect=EXPECT, client=str(root / "fail2ban-client"), socket="/run/f2b.sock",
                     wait=2), **extra)


def commands(root, enabled="enabled", active="active", test=(0, "OK: configuration test is successful\n", ""),
             reload=(0, "OK\n", "")):
    client = str(root / "fail2ban-client")
    return Commands({(SYSTEMCTL, "is-enabled", "fail2ban"): (0, enabled + "\n", ""),
                     (SYSTEMCTL, "is-active", "fail2ban"): (0, active + "\n", ""),
                     (client, "--test"): test, (client, "reload"): reload,
                     (SYSTEMCTL, "enable", "fail2ban"): (0, "", ""), (SYSTEMCTL, "start", "fail2ban"): (0, "", ""),
                     (SYSTEMCTL, "restart", "fail2ban"): (0, "", "")})


def actions(calls):
    """The commands that change something, in order."""
    return [call[1] if call[0] != SYSTEMCTL else " ".join(call[1:]) for call in calls
            if not (call[0] == SYSTEMCTL and call[1].startswith("is-"))]


def write(root):
    for entry in files(root):
        with open(entry["path"], "w", encoding="utf-8") as handle:
            handle.write(entry["content"])


def test_a_fresh_host_gets_its_files_tested_enabled_started_and_verified(host, capsys, fake_fail2ban):
    cmds = commands(host, enabled="disabled", active="inactive")
    result, failed = run_module(fail2ban_apply.main, params(host), capsys, cmds)
    assert not failed, result
    assert actions(cmds.calls) == ["--test", "enable fail2ban", "start fail2ban"]
    assert result["changes"] == ["write %s" % f["path"] for f in files(host)] + ["enable fail2ban", "start fail2ban"]
    assert (host / "jail.d/vpbx-hardened.local").read_text() == "[asterisk]\nmaxretry = 5\n"
    assert oct((host / "jail.d/vpbx-hardened.local").stat().st_mode & 0o7777) == "0o644"
    # Waited for the server, then asked the five questions of the verify step.
    assert fake_fail2ban == [("ping",)] + [tuple(q.split()) for q in f2b.questions("asterisk")]
    assert result["backups"] == []


def test_a_rerun_changes_nothing_and_asks_the_running_server_once(host, capsys, fake_fail2ban):
    write(host)
    cmds = commands(host)
    result, failed = run_module(fail2ban_apply.main, params(host), capsys, cmds)
    assert not failed and result["changed"] is False and result["changes"] == []
    assert actions(cmds.calls) == []
    assert fake_fail2ban == [tuple(q.split()) for q in f2b.questions("asterisk")]


def test_a_changed_jail_is_backed_up_tested_and_reloaded(host, capsys):
    write(host)
    cmds = commands(host)
    result, failed = run_module(fail2ban_apply.main, params(host, files=files(host, "maxretry = 6\n")), capsys, cmds)
    assert not failed, result
    assert actions(cmds.calls) == ["--test", "reload"]
    jail = str(host / "jail.d/vpbx-hardened.local")
    assert result["changes"] == ["write " + jail, "reload fail2ban"]
    (backup,) = result["backups"]
    assert backup.startswith(jail + ".") and backup.endswith("~")
    assert open(backup, encoding="utf-8").read() == "[asterisk]\nmaxretry = 5\n"


def test_a_refused_reload_restarts_and_waits_for_the_server(host, capsys, fake_fail2ban):
    write(host)
    cmds = commands(host, reload=(255, "", "ERROR  Invalid match for journal\n"))
    result, failed = run_module(fail2ban_apply.main, params(host, files=files(host, "maxretry = 6\n")), capsys, cmds)
    assert not failed, result
    assert actions(cmds.calls) == ["--test", "reload", "restart fail2ban"]
    assert "restart fail2ban (it refused to reload: ERROR  Invalid match for journal)" in result["changes"]
    assert fake_fail2ban[0] == ("ping",)


def test_a_refused_configuration_brings_the_previous_files_back(host, capsys):
    write(host)
    before = {p.name: p.read_bytes() for p in host.rglob("*.*") if p.is_file()}
    new_filter = {"path": str(host / "filter.d/vpbx-asterisk.conf"), "content": "[Definition]\nfailregex = (\n"}
    cmds = commands(host, test=(255, "", "ERROR  Unable to compile regular expression '('\n"))
    result, failed = run_module(fail2ban_apply.main, params(host, files=files(host, "maxretry = 6\n") + [new_filter]),
                                capsys, cmds)
    assert failed
    assert result["msg"] == ("fail2ban rejected the new configuration, so the previous files were restored and "
                             "fail2ban keeps running on them: ERROR  Unable to compile regular expression '('. Fix the "
                             "settings named there and run again.")
    # Nothing reloaded; the replaced file has its previous bytes, the new one is gone (the backup stays).
    assert actions(cmds.calls) == ["--test"]
    assert not (host / "filter.d/vpbx-asterisk.conf").exists()
    after = {p.name: p.read_bytes() for p in host.rglob("*.*")
             if p.is_file() and not p.name.endswith("~")}
    assert after == before


def test_a_jail_changed_behind_the_files_fails_the_verify_step(host, capsys, fake_fail2ban):
    write(host)
    fake_fail2ban.answers[("get", "asterisk", "maxretry")] = (0, 99)
    fake_fail2ban.answers[("status",)] = (0, "Status\n|- Number of jail:\t1\n`- Jail list:\tasterisk")
    result, failed = run_module(fail2ban_apply.main, params(host), capsys, commands(host))
    assert failed
    assert result["msg"].startswith("fail2ban does not run the planned jails. Jails: ['asterisk'] (want "
                                    "['asterisk', 'recidive'])")
    assert "maxretry: 99 (want 5)" in result["msg"]


def test_a_server_that_does_not_answer_after_its_start_fails_the_run(host, capsys, fake_fail2ban):
    fake_fail2ban.answers[("ping",)] = ConnectionRefusedError("no socket")
    result, failed = run_module(fail2ban_apply.main, params(host, wait=0), capsys,
                                commands(host, enabled="disabled", active="inactive"))
    assert failed and result["msg"].startswith("fail2ban did not answer within 0 s of its start")


def test_check_mode_shows_the_change_and_touches_nothing(host, capsys, fake_fail2ban):
    write(host)
    cmds = commands(host, active="inactive")
    result, failed = run_module(fail2ban_apply.main, params(host, files=files(host, "maxretry = 6\n")), capsys, cmds,
                                check_mode=True, diff=True)
    assert not failed and result["changed"] is True
    assert result["changes"] == ["write " + str(host / "jail.d/vpbx-hardened.local"), "start fail2ban"]
    assert [d["after"] for d in result["diff"]] == ["[asterisk]\nmaxretry = 6\n"]
    assert actions(cmds.calls) == [] and fake_fail2ban == []
    assert (host / "jail.d/vpbx-hardened.local").read_text() == "[asterisk]\nmaxretry = 5\n"
    assert not list(host.rglob("*~"))


def test_without_fail2ban_it_says_what_to_install(tmp_path, capsys):
    result, failed = run_module(fail2ban_apply.main, dict(files=[], client=str(tmp_path / "none")), capsys)
    assert failed and "install the fail2ban package first" in result["msg"]


@pytest.mark.parametrize("answers, problem", [
    ({}, None),
    ({("get", "asterisk", "logpath"): "Current monitored log file(s):\n`- /var/log/other"}, "/var/log/other"),
    ({("get", "asterisk", "ignoreip"): "These IP addresses/networks are ignored:\n`- 127.0.0.0/8"}, "never banned: ['127.0.0.0/8'] (want"),
])
def test_verify_errors_reads_each_answer(answers, problem):
    texts = {**RUNNING, **answers}
    replies = [{"command": q, "rc": 0, "stdout": texts[tuple(q.split())]} for q in f2b.questions("asterisk")]
    found = f2b.verify_errors(replies, EXPECT)
    assert (found == []) if problem is None else (problem in found[0])


INSTALL = {"packages": ["fail2ban", "conntrack", "python3-systemd"], "cache_valid_time": 3600}
PREVIEW = ["asterisk jail on /var/log/asterisk/security: 5 failures in 600 s -> banned 3600 s"]


def dpkg(installed):
    """dpkg-query's answer for the install packages, `installed` among them."""
    return lambda args: (1, "".join("%s\tinstall ok installed\t1.0\n" % name for name in args[3:] if name in installed),
                         "")


@pytest.mark.parametrize("installed, packages", [
    (INSTALL["packages"], []),                              # positive control: nothing missing, nothing installed
    (["fail2ban"], ["conntrack", "python3-systemd"]),       # only what is missing
])
def test_only_the_missing_packages_are_installed_in_the_same_run(host, capsys, monkeypatch, installed, packages):
    monkeypatch.setattr(apt, "lists_age", lambda: 10)
    cmds = commands(host, enabled="disabled", active="inactive")
    cmds.answers["dpkg-query"] = dpkg(installed)
    cmds.answers[("apt-get", "install")] = (0, "", "")
    result, failed = run_module(fail2ban_apply.main, params(host, install=INSTALL), capsys, cmds)
    assert not failed, result
    assert result["installed"] == packages
    assert [c for c in cmds.calls if c[0] == "apt-get"] == (
        [["apt-get", "install", "-y", "-q", "--no-install-recommends"] + packages] if packages else [])
    assert actions([c for c in cmds.calls if c[0] not in ("dpkg-query", "apt-get")]) == [
        "--test", "enable fail2ban", "start fail2ban"]


def test_check_mode_without_fail2ban_shows_what_a_real_run_would_configure(tmp_path, capsys):
    cmds = Commands({"dpkg-query": dpkg([])})
    result, failed = run_module(fail2ban_apply.main, dict(files=[], client=str(tmp_path / "none"), install=INSTALL,
                                                          preview=PREVIEW),
                                capsys, cmds, check_mode=True)
    assert not failed and result["changed"] and result["installed"] == INSTALL["packages"]
    assert result["msg"][1] == PREVIEW[0]
    assert result["msg"][0].startswith("Check mode on a host without fail2ban - fail2ban would be installed")
    assert [c[0] for c in cmds.calls] == ["dpkg-query"]  # asked, nothing installed
