# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
"""Questions to the running fail2ban server, for fail2ban_query and fail2ban_apply."""

from __future__ import annotations

import shlex
import time

READONLY = ("status", "get", "banned", "ping", "version")


def ask_library(commands, socket, timeout):
    """Answers through fail2ban's own client classes (one process for every question); None when
    they cannot be imported."""
    try:
        from fail2ban.client.beautifier import Beautifier
        from fail2ban.client.csocket import CSocket
    except ImportError:
        return None
    results = []
    for words in commands:
        try:
            client = CSocket(socket, timeout=timeout)
            try:
                code, answer = client.send(words)
            finally:
                client.close()
        except Exception as exc:  # noqa: BLE001 - any socket or server error is reported per command
            results.append((255, "Failed to access socket path: %s. Is fail2ban running? (%s)" % (socket, exc)))
            continue
        if code == 0:
            beautifier = Beautifier()
            beautifier.setInputCmd(words)
            # As fail2ban-client prints it: `get JAIL maxretry` beautifies to an int.
            results.append((0, str(beautifier.beautify(answer))))
        else:
            results.append((code or 1, str(answer)))
    return results


def ask_client(module, commands, socket):
    """The same answers from one fail2ban-client run per command."""
    results = []
    for words in commands:
        rc, out, err = module.run_command(["fail2ban-client", "-s", socket] + words)
        results.append((rc, (out or "") + (err or "")))
    return results


def split(commands):
    """The commands as words; ValueError for one that is not read-only."""
    words = [shlex.split(command) for command in commands]
    for command, parts in zip(commands, words):
        if not parts or parts[0] not in READONLY:
            raise ValueError("commands: %r is not a read-only fail2ban command (allowed: %s)"
                             % (command, ", ".join(READONLY)))
    return words


def ask(module, commands, socket, timeout):
    """(via, [{"command", "rc", "stdout"}]) for the read-only commands given as strings."""
    words = split(commands)
    answers = ask_library(words, socket, timeout)
    via = "socket"
    if answers is None:
        answers = ask_client(module, words, socket)
        via = "fail2ban-client"
    return via, [{"command": command, "rc": rc, "stdout": text} for command, (rc, text) in zip(commands, answers)]


def wait_ready(module, socket, timeout, seconds, sleep=time.sleep, clock=time.monotonic):
    """Ask `ping` until the server answers or `seconds` have passed (a server just started opens its
    socket a moment later); True when it answered."""
    deadline = clock() + seconds
    while True:
        _via, answers = ask(module, ["ping"], socket, timeout)
        if answers[0]["rc"] == 0:
            return True
        if clock() >= deadline:
            return False
        sleep(0.5)
