# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest

from ansible_collections.vpbx.hardened.plugins.modules import asterisk_module

from .moduletest import run_module

HEADER = "Module                         Description                              Use Count  Status      Support Level\n"


class FakeAsterisk:
    """A running Asterisk as the CLI shows it: loaded modules, their status, what refuses to unload."""

    def __init__(self, loaded, broken=(), pinned=(), needs=None):
        self.loaded = dict.fromkeys(loaded, "Running")
        self.broken, self.pinned = set(broken), set(pinned)
        # {module: the module whose symbols it needs loaded first} - a `module load` fails before.
        self.needs = dict(needs or {})
        self.commands = []

    def __call__(self, args, **_kwargs):
        command = args[2]
        self.commands.append(command)
        words = command.split()
        if command == "module show":
            lines = "".join("%-30s %-40s %-10d %-11s %13s\n" % (m, "desc", 0, s, "core") for m, s in self.loaded.items())
            return 0, HEADER + lines + "%d modules loaded\n" % len(self.loaded), ""
        verb, name = words[1], words[2]
        if verb == "load":
            if self.needs.get(name) and self.needs[name] not in self.loaded:
                return 0, "Unable to load module %s\nCommand 'module load %s' failed.\n" % (name, name), ""
            self.loaded[name] = "Not Running" if name in self.broken else "Running"
            return 0, "Loaded %s\n" % name, ""
        if verb == "unload":
            if name in self.pinned:
                return 0, "Unable to unload resource %s\nCommand 'module unload %s' failed.\n" % (name, name), ""
            del self.loaded[name]
            return 0, "Unloaded %s\n" % name, ""
        return 0, "Module '%s' reloaded successfully.\n" % name, ""


@pytest.fixture
def binary(tmp_path):
    path = tmp_path / "asterisk"
    path.write_text("")
    return str(path)


def run(capsys, binary, fake, check_mode=False, **params):
    return run_module(asterisk_module.main, dict(binary=binary, log_file="/nonexistent", **params), capsys,
                      fake, check_mode=check_mode, diff=True)


@pytest.mark.parametrize("state, names, loaded, acted", [
    ("loaded", ["res_pjsip.so", "chan_pjsip.so"], ["res_pjsip.so"], ["chan_pjsip.so"]),
    ("unloaded", ["chan_sip.so", "app_echo.so"], ["chan_sip.so"], ["chan_sip.so"]),
    ("reloaded", ["res_rtp_asterisk.so", "res_ari.so"], ["res_rtp_asterisk.so"], ["res_rtp_asterisk.so"]),
])
def test_check_real_repeat_repeat_check(capsys, binary, state, names, loaded, acted):
    fake = FakeAsterisk(loaded)
    result, failed = run(capsys, binary, fake, check_mode=True, name=names, state=state)
    assert not failed and result["changed"] and result["changed_modules"] == acted
    assert fake.commands == ["module show"]  # check mode only looked

    result, failed = run(capsys, binary, fake, name=names, state=state)
    assert not failed and result["changed"] and result["changed_modules"] == acted
    verb = {"loaded": "load", "unloaded": "unload", "reloaded": "reload"}[state]
    assert ["module %s %s" % (verb, m) for m in acted] == [c for c in fake.commands if c != "module show"]

    if state == "reloaded":
        return  # a reload always acts on what is loaded
    for check_mode in (False, True):
        result, failed = run(capsys, binary, fake, check_mode=check_mode, name=names, state=state)
        assert not failed and not result["changed"]


def test_load_in_the_given_order(capsys, binary):
    fake = FakeAsterisk([])
    run(capsys, binary, fake, name=["res_pjproject.so", "res_pjsip.so", "chan_pjsip.so"], state="loaded")
    assert [c for c in fake.commands if c.startswith("module load")] == [
        "module load res_pjproject.so", "module load res_pjsip.so", "module load chan_pjsip.so"]


def test_loaded_but_not_running_fails_with_the_module_name(capsys, binary, tmp_path):
    log = tmp_path / "messages.log"
    log.write_text("[2026-11-26 12:00:00] WARNING[1] app_voicemail.c: voicemail.conf not found\n"
                   "[2026-11-26 12:00:00] NOTICE[1] other.c: unrelated\n")
    fake = FakeAsterisk([], broken=["app_voicemail.so"])
    result, failed = run_module(asterisk_module.main, dict(binary=binary, log_file=str(log), name=["app_voicemail.so"]),
                                capsys, fake)
    assert failed
    assert "app_voicemail.so is Not Running" in result["msg"]
    assert "voicemail.conf not found" in result["msg"] and "unrelated" not in result["msg"]


def test_refused_unload(capsys, binary):
    fake = FakeAsterisk(["res_pjsip.so"], pinned=["res_pjsip.so"])
    result, failed = run(capsys, binary, fake, name=["res_pjsip.so"], state="unloaded")
    assert failed and "refused to unload res_pjsip.so" in result["msg"]
    result, failed = run(capsys, binary, fake, name=["res_pjsip.so"], state="unloaded", refused="report")
    assert not failed and result["refused"] == ["res_pjsip.so"] and not result["changed"]


def test_running_is_a_probe(capsys, binary):
    fake = FakeAsterisk(["res_pjsip.so"], broken=[])
    fake.loaded["chan_sip.so"] = "Declined"
    result, failed = run(capsys, binary, fake, name=["res_pjsip.so"], state="running")
    assert not failed and not result["changed"]
    result, failed = run(capsys, binary, fake, name=["res_pjsip.so", "chan_sip.so", "app_echo.so"], state="running")
    assert failed
    assert "chan_sip.so is Declined" in result["msg"] and "app_echo.so is not loaded" in result["msg"]
    assert fake.commands == ["module show", "module show"]
