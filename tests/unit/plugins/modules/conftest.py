# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures shared by the module tests."""

from __future__ import annotations

import sys
import types

import pytest

# What the fake fail2ban server answers by default (words -> (code, answer)).
SERVER = {("status",): (0, [("Number of jail", 1), ("Jail list", "asterisk")]),
          ("get", "asterisk", "maxretry"): (0, 5),
          ("status", "nojail"): (1, "UnknownJailException('nojail')")}


class Sent(list):
    """The commands the fake server received; its `answers` can be replaced by a test, and
    `beautify` decides what the client prints for an answer."""

    def __init__(self):
        super().__init__()
        self.answers = dict(SERVER)
        self.beautify = lambda words, answer: "beautified %s: %r" % (" ".join(words), answer)


@pytest.fixture
def fake_fail2ban(monkeypatch):
    """fail2ban's client classes, answering from Sent.answers; records the commands sent."""
    sent = Sent()

    class CSocket:
        def __init__(self, sock, timeout=-1):
            assert sock == "/run/f2b.sock" and timeout == 10

        def send(self, words):
            sent.append(tuple(words))
            answer = sent.answers[tuple(words)]
            if isinstance(answer, Exception):
                raise answer
            return answer

        def close(self):
            pass

    class Beautifier:
        def setInputCmd(self, words):  # noqa: N802 - fail2ban's name
            self.words = words

        def beautify(self, answer):
            return sent.beautify(self.words, answer)

    modules = {"fail2ban": types.ModuleType("fail2ban"), "fail2ban.client": types.ModuleType("fail2ban.client"),
               "fail2ban.client.csocket": types.ModuleType("fail2ban.client.csocket"),
               "fail2ban.client.beautifier": types.ModuleType("fail2ban.client.beautifier")}
    modules["fail2ban.client.csocket"].CSocket = CSocket
    modules["fail2ban.client.beautifier"].Beautifier = Beautifier
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    return sent


@pytest.fixture
def module_dir(tmp_path, monkeypatch):
    """A module directory whose modules 'declare' the dependencies of the captured Asterisk 22
    catalog (format_mp3 left out: a module whose package is not installed)."""
    import json
    import os

    from ansible_collections.vpbx.hardened.plugins.module_utils import module_catalog

    fixtures = os.path.join(os.path.dirname(__file__), "..", "module_utils", "fixtures")
    with open(os.path.join(fixtures, "asterisk22-module-deps.json"), encoding="utf-8") as handle:
        deps = json.load(handle)
    moddir = tmp_path / "modules"
    moddir.mkdir()
    for name in deps:
        if name != "format_mp3":
            (moddir / (name + ".so")).write_text("")
    monkeypatch.setattr(module_catalog, "read_module_file",
                        lambda path: dict(deps[os.path.basename(path)[:-3]], name="x", description=""))
    return moddir
