# SPDX-License-Identifier: GPL-3.0-or-later
"""asterisk_apply for the SIP driver (the asterisk_sip role's one run): the driver's files, then the
module set with the driver switched, then a reload - a restart only for a changed PJSIP transport
while res_pjsip ran - then the read-back of endpoints, registrations and transports; a refusal puts
the previous files back; the other driver's files go once the driver runs."""

from __future__ import annotations

import grp
import os
import pwd
import re

import pytest

from ansible_collections.vpbx.hardened.plugins.module_utils.sip_model import digest
from ansible_collections.vpbx.hardened.plugins.modules import asterisk_apply

from .moduletest import run_module
from .test_asterisk_module import FakeAsterisk

ME = pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
VERSION = "22.10.1+dfsg+~cs6.17.60671434-1"
PJSIP_CONF = "; vpbx.hardened: pjsip subscribers and trunks (secrets are in pjsip_secrets.conf)\n[1001]\ntype=endpoint\n"
TRANSPORTS = "; vpbx.hardened: pjsip transports, included by pjsip.conf\n[transport-udp]\ntype=transport\n"
SECRETS = "; vpbx.hardened: pjsip secrets, included by pjsip.conf\n[1001-auth]\npassword=Alpha-Bravo-7-long\n"
ENDPOINTS = "\n Endpoint:  1001/1001                Unavailable   0 of inf\n\nObjects found: 1\n"
TRANSPORTS_SHOWN = "\nTransport:  transport-udp             udp      0      0  0.0.0.0:5060\n\nObjects found: 1\n"
SIP_CONF = "; vpbx.hardened: chan_sip subscribers and trunks (secrets are in sip_secrets.conf)\n[general]\n"


class SipHost:
    """systemctl and a running Asterisk 22: its modules (a FakeAsterisk), the PJSIP show commands,
    what it logs."""

    def __init__(self, etc, loaded=(), endpoints=ENDPOINTS, log=""):
        self.etc, self.asterisk, self.calls = etc, FakeAsterisk(loaded), []
        self.endpoints, self.log = endpoints, log

    def __call__(self, args, **kwargs):
        self.calls.append(list(args))
        if args[0] == "systemctl":
            if args[1] == "restart":
                text = (self.etc / "modules.conf").read_text()
                self.asterisk.loaded = dict.fromkeys(re.findall(r"^load => (\S+)", text, re.M), "Running")
            return 0, "", ""
        if args[1] == "-V":
            return 0, "Asterisk %s\n" % VERSION, ""
        command = args[2]
        answers = {"core waitfullybooted": "Asterisk has fully booted.\n",
                   "core show version": "Asterisk %s built by nobody\n" % VERSION,
                   "pjsip show endpoints": self.endpoints, "pjsip show registrations": "\nObjects found: 0\n",
                   "pjsip show transports": TRANSPORTS_SHOWN}
        if command in answers:
            return 0, answers[command], ""
        if command.startswith("module reload") and self.log:
            # What Asterisk logs when it reads the new files.
            with open(self.etc / "messages.log", "a", encoding="utf-8") as handle:
                handle.write(self.log)
        return self.asterisk(args, **kwargs)

    def actions(self):
        """What changed the running Asterisk: restarts, loads, unloads, reloads."""
        return ([" ".join(c[1:3]) for c in self.calls if c[0] == "systemctl"]
                + [c[2] for c in self.calls if c[0] != "systemctl" and len(c) > 2
                   and c[2].startswith(("module load", "module unload", "module reload"))])


@pytest.fixture
def etc(tmp_path, module_dir):
    (tmp_path / "asterisk").write_text("")
    (tmp_path / "messages.log").write_text("")
    return tmp_path


def params(etc, **extra):
    base = dict(dir=str(etc), name="pjsip", owner=ME[0], group=ME[1], binary=str(etc / "asterisk"),
                files={"pjsip.conf": PJSIP_CONF, "pjsip_transports.conf": TRANSPORTS},
                secrets={"pjsip_secrets.conf": SECRETS}, backup_dir=str(etc / "backups"), drop_secret_backups=True,
                reload={name: "res_pjsip.so" for name in ("pjsip.conf", "pjsip_transports.conf", "pjsip_secrets.conf")},
                restart_files=["pjsip_transports.conf"], retire=["sip.conf", "sip_secrets.conf"],
                retire_marker=r"vpbx\.hardened: .*(subscribers and trunks|, included by)",
                module_set=dict(features=["pjsip"], module_dir=str(etc / "modules"), major=22, owner=ME[0],
                                group=ME[1], requests_file=str(etc / "requests.fact")),
                verify=dict(kind="sip", driver="pjsip", endpoints=["1001"], registrations=[],
                            transports=[{"name": "transport-udp", "protocol": "udp", "bind": "0.0.0.0:5060"}]),
                refusals=True, log_file=str(etc / "messages.log"))
    base.update(extra)
    return base


def converge(etc, capsys, **extra):
    host = SipHost(etc)
    result, failed = run_module(asterisk_apply.main, params(etc, **extra), capsys, host)
    assert not failed, result
    return host, result


def test_a_fresh_driver_is_loaded_after_its_files_and_not_reloaded_or_restarted(etc, capsys):
    host, result = converge(etc, capsys)
    assert result["changed_files"] == ["pjsip.conf", "pjsip_transports.conf", "pjsip_secrets.conf"]
    assert "res_pjsip.so" in result["module_set"]["to_load"]
    # Loading res_pjsip read the new files (the new transport too): no reload, no restart.
    assert not any(a.startswith(("module reload", "restart")) for a in host.actions()), host.actions()
    assert result["restarted"] is False and result["reloaded"] == []
    assert "load => res_pjsip.so" in (etc / "modules.conf").read_text()


def test_a_rerun_changes_nothing_and_still_reads_the_driver_back(etc, capsys):
    host, _unused = converge(etc, capsys)
    again = SipHost(etc, loaded=host.asterisk.loaded)
    result, failed = run_module(asterisk_apply.main, params(etc), capsys, again)
    assert not failed and result["changed"] is False, result
    assert again.actions() == []
    assert "pjsip show endpoints" in [c[2] for c in again.calls if len(c) > 2]


@pytest.mark.parametrize("changed, actions", [
    # Positive control: an endpoint change is a reload, registered phones stay.
    ({"pjsip.conf": PJSIP_CONF + "; tuned\n"}, ["module reload res_pjsip.so"]),
    # PJSIP cannot apply a changed transport at runtime while res_pjsip runs.
    ({"pjsip_transports.conf": TRANSPORTS + "; tuned\n"}, ["restart asterisk"]),
])
def test_a_changed_transport_restarts_only_while_res_pjsip_runs(etc, capsys, changed, actions):
    host, _unused = converge(etc, capsys)
    again = SipHost(etc, loaded=host.asterisk.loaded)
    files = dict(params(etc)["files"], **changed)
    result, failed = run_module(asterisk_apply.main, params(etc, files=files), capsys, again)
    assert not failed, result
    assert again.actions() == actions
    assert result["restarted"] is (actions == ["restart asterisk"])


def test_what_asterisk_refused_is_rolled_back_with_its_words(etc, capsys):
    host, _unused = converge(etc, capsys)
    before = {name: (etc / name).read_bytes() for name in ("pjsip.conf", "pjsip_transports.conf", "pjsip_secrets.conf")}
    refusal = ("[Dec  7 12:00:00] ERROR[1] config_options.c: Could not find option suitable for category '1001' "
               "named 'no_such_option' at line 4 of /etc/asterisk/pjsip.conf\n")
    again = SipHost(etc, loaded=host.asterisk.loaded, log=refusal)
    files = dict(params(etc)["files"], **{"pjsip.conf": PJSIP_CONF + "no_such_option=yes\n"})
    result, failed = run_module(asterisk_apply.main, params(etc, files=files), capsys, again)
    assert failed
    assert re.search(r"Asterisk refused the new pjsip configuration: .*Could not find option suitable for category "
                     r"'1001' named 'no_such_option'", result["msg"]), result["msg"]
    assert "The previous files were restored and res_pjsip.so reloaded on them" in result["msg"]
    assert {name: (etc / name).read_bytes() for name in before} == before
    # Reloaded twice: on the new files, then on the restored ones - never restarted.
    assert again.actions() == ["module reload res_pjsip.so", "module reload res_pjsip.so"]


@pytest.mark.parametrize("endpoints, registrations, failed", [
    (ENDPOINTS, [], False),                                            # positive control: the model runs
    ("\nObjects found: 0\n", [], True),                                # the endpoint did not load
    (ENDPOINTS, [digest("carrier")], True),                            # a registration is missing
])
def test_the_driver_must_show_exactly_the_model(etc, capsys, endpoints, registrations, failed):
    host, _unused = converge(etc, capsys)
    again = SipHost(etc, loaded=host.asterisk.loaded, endpoints=endpoints)
    verify = dict(params(etc)["verify"], registrations=registrations)
    result, did_fail = run_module(asterisk_apply.main, params(etc, verify=verify), capsys, again)
    assert did_fail is failed, result
    if failed:
        assert "pjsip runs endpoints" in result["msg"] and "the model has ['1001']" in result["msg"]
        assert "carrier" not in result["msg"]  # registrations by count: a trunk's user name may be a secret


def test_the_other_drivers_files_go_only_when_they_are_the_collections(etc, capsys):
    (etc / "sip.conf").write_text(SIP_CONF)
    (etc / "sip_secrets.conf").write_text("; the user's own file\n[general]\n")
    host, result = converge(etc, capsys)
    assert result["retired"] == ["sip.conf"]
    assert not (etc / "sip.conf").exists() and (etc / "sip_secrets.conf").exists()
    # Kept aside like every file this collection replaces.
    assert [p.name for p in (etc / "backups").iterdir() if p.name.startswith("sip.conf.")]


def test_a_rotated_secret_leaves_no_old_copy_behind(etc, capsys):
    host, _unused = converge(etc, capsys)
    again = SipHost(etc, loaded=host.asterisk.loaded)
    files = dict(params(etc)["files"], **{"pjsip.conf": PJSIP_CONF + "; tuned\n"})
    result, failed = run_module(asterisk_apply.main, params(etc, files=files, secrets={
        "pjsip_secrets.conf": SECRETS.replace("Alpha-Bravo-7-long", "Charlie-Delta-9-long")}), capsys, again)
    assert not failed, result
    kept = sorted(p.name.split(".conf")[0] for p in (etc / "backups").iterdir())
    assert kept == ["pjsip"]  # pjsip.conf's previous version stays; the old secrets are gone
    assert result["backups"] and all("secrets" not in path for path in result["backups"])


def test_check_mode_says_what_would_change_and_changes_nothing(etc, capsys):
    (etc / "sip.conf").write_text(SIP_CONF)
    host = SipHost(etc)
    result, failed = run_module(asterisk_apply.main, params(etc), capsys, host, check_mode=True, diff=True)
    assert not failed and result["changed"], result
    assert result["retired"] == ["sip.conf"] and (etc / "sip.conf").exists()
    assert "res_pjsip.so" in result["module_set"]["to_load"] and host.asterisk.loaded == {}
    assert not (etc / "pjsip.conf").exists() and not (etc / "modules.conf").exists()
    assert host.actions() == []
    shown = "".join(d["after"] for d in result["diff"])
    assert "Alpha-Bravo-7-long" not in shown and "[1001]" in shown


def test_a_documentation_that_cannot_be_trimmed_fails_the_run_without_a_rollback(etc, capsys, monkeypatch):
    from ansible_collections.vpbx.hardened.plugins.module_utils import module_set

    def refuse(*_args):
        raise module_set.DocError("Asterisk reported no applications")
    monkeypatch.setattr(module_set, "documentation", refuse)
    host = SipHost(etc)
    result, failed = run_module(asterisk_apply.main, params(etc, module_set=dict(
        params(etc)["module_set"], documentation={"path": str(etc / "doc.xml")})), capsys, host)
    assert failed and "but its XML documentation: Asterisk reported no applications" in result["msg"], result
    # The driver's files and the module set stay: they run.
    assert (etc / "pjsip.conf").read_text() == PJSIP_CONF and "res_pjsip.so" in host.asterisk.loaded


class ServiceHost(SipHost):
    """A stopped, disabled Asterisk under systemd: started, it runs what modules.conf lists."""

    def __init__(self, etc):
        super().__init__(etc)
        self.active, self.order = False, []

    def __call__(self, args, **kwargs):
        if args[0] == "systemctl":
            self.calls.append(list(args))
            verb = args[1]
            if verb == "is-active":
                return (0, "active\n", "") if self.active else (3, "inactive\n", "")
            if verb == "is-enabled":
                return 1, "disabled\n", ""
            if verb in ("start", "restart"):
                self.order.append(("start", (self.etc / "modules.conf").exists()))
                text = (self.etc / "modules.conf").read_text()
                self.asterisk.loaded = dict.fromkeys(re.findall(r"^load => (\S+)", text, re.M), "Running")
                self.active = True
            return 0, "", ""
        if not self.active and args[0] != "dpkg-divert" and args[1] != "-V":
            self.calls.append(list(args))
            return 1, "", "Unable to connect to remote asterisk (does /var/run/asterisk/asterisk.ctl exist?)"
        return super().__call__(args, **kwargs)


def test_the_core_run_starts_asterisk_on_the_new_module_set_then_trims_the_documentation(etc, capsys, monkeypatch):
    from ansible_collections.vpbx.hardened.plugins.module_utils import module_set
    seen = []
    monkeypatch.setattr(module_set, "documentation", lambda _m, _spec, state, _p: seen.append(state) or {
        "changes": [], "current": True})
    host = ServiceHost(etc)
    args = params(etc, service={"enabled": True}, verify=None, refusals=False, module_set=dict(
        params(etc)["module_set"], documentation={"path": str(etc / "doc.xml")}))
    result, failed = run_module(asterisk_apply.main, args, capsys, host)
    assert not failed, result
    # modules.conf was written before the start: Asterisk started with the set, nothing loaded after.
    assert host.order == [("start", True)]
    assert not [a for a in host.actions() if a.startswith("module load")]
    assert "res_pjsip.so" in host.asterisk.loaded
    # The documentation was judged against what runs after the start, not before it.
    assert len(seen) == 1 and seen[0]["running"] and "res_pjsip.so" in seen[0]["loaded"]
