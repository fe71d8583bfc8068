# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import sys
import types

import pytest

from ansible_collections.vpbx.hardened.plugins.modules import fail2ban_query

from .moduletest import Commands, run_module

SERVER = {("status",): (0, [("Number of jail", 1), ("Jail list", "asterisk")]),
          ("get", "asterisk", "maxretry"): (0, 5),
          ("status", "nojail"): (1, "UnknownJailException('nojail')")}


@pytest.fixture
def fake_fail2ban(monkeypatch):
    """fail2ban's client classes, answering from SERVER; records the commands sent."""
    sent = []

    class CSocket:
        def __init__(self, sock, timeout=-1):
            assert sock == "/run/f2b.sock" and timeout == 10

        def send(self, words):
            sent.append(tuple(words))
            return SERVER[tuple(words)]

        def close(self):
            pass

    class Beautifier:
        def setInputCmd(self, words):  # noqa: N802 - fail2ban's name
            self.words = words

        def beautify(self, answer):
            return "beautified %s: %r" % (" ".join(self.words), answer)

    modules = {"fail2ban": types.ModuleType("fail2ban"), "fail2ban.client": types.ModuleType("fail2ban.client"),
               "fail2ban.client.csocket": types.ModuleType("fail2ban.client.csocket"),
               "fail2ban.client.beautifier": types.ModuleType("fail2ban.client.beautifier")}
    modules["fail2ban.client.csocket"].CSocket = CSocket
    modules["fail2ban.client.beautifier"].Beautifier = Beautifier
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    return sent


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
