#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors

from __future__ import annotations

DOCUMENTATION = r"""
---
module: fail2ban_query
short_description: Ask the running fail2ban server several questions in one run
version_added: 0.8.0
description:
  - Sends read-only commands (C(status), C(status JAIL), C(get JAIL logpath), ...) to the running
    fail2ban server and returns what C(fail2ban-client) would print for each.
  - Talks to the server's socket through fail2ban's own client library, in one Python process -
    C(fail2ban-client) is a Python program, and starting it once per question costs half a second
    each. Without that library (fail2ban not importable by the module's interpreter) it runs
    C(fail2ban-client) once per command instead.
  - A command the server refuses (a jail that does not run) is not a module failure - its RV(results)
    entry has a non-zero C(rc) and the server's message, for the caller to report.
  - Changes nothing; runs in check mode. Only C(status), C(get), C(banned), C(ping) and C(version) are accepted.
author:
  - vpbx.hardened contributors
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
options:
  commands:
    description: The commands, each as the words given to C(fail2ban-client).
    type: list
    elements: str
    required: true
  socket:
    description: The server's socket.
    type: path
    default: /var/run/fail2ban/fail2ban.sock
  timeout:
    description: Seconds to wait for each answer.
    type: int
    default: 10
"""

EXAMPLES = r"""
- name: Read the jails fail2ban runs
  vpbx.hardened.fail2ban_query:
    commands: [status, status asterisk, get asterisk maxretry]
  register: jails
"""

RETURN = r"""
results:
  description: One entry per command, in order.
  returned: always
  type: list
  elements: dict
  contains:
    command:
      description: The command.
      type: str
    rc:
      description: 0 when the server answered the command, else non-zero.
      type: int
    stdout:
      description: What C(fail2ban-client) prints for it (the server's message when it failed).
      type: str
via:
  description: C(socket) (fail2ban's client library) or C(fail2ban-client).
  returned: always
  type: str
"""

import shlex

from ansible.module_utils.basic import AnsibleModule

READONLY = ("status", "get", "banned", "ping", "version")


def ask_library(commands, socket, timeout):
    """Answers through fail2ban's own client classes; None when they cannot be imported."""
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
            results.append((0, beautifier.beautify(answer)))
        else:
            results.append((code or 1, str(answer)))
    return results


def ask_client(module, commands, socket):
    results = []
    for words in commands:
        rc, out, err = module.run_command(["fail2ban-client", "-s", socket] + words)
        results.append((rc, (out or "") + (err or "")))
    return results


def main():
    module = AnsibleModule(
        argument_spec=dict(
            commands=dict(type="list", elements="str", required=True),
            socket=dict(type="path", default="/var/run/fail2ban/fail2ban.sock"),
            timeout=dict(type="int", default=10),
        ),
        supports_check_mode=True,
    )
    params = module.params
    commands = [shlex.split(command) for command in params["commands"]]
    for command, words in zip(params["commands"], commands):
        if not words or words[0] not in READONLY:
            module.fail_json(msg="commands: %r is not a read-only fail2ban command (allowed: %s)"
                             % (command, ", ".join(READONLY)))
    answers = ask_library(commands, params["socket"], params["timeout"])
    via = "socket"
    if answers is None:
        answers = ask_client(module, commands, params["socket"])
        via = "fail2ban-client"
    module.exit_json(changed=False, via=via, results=[
        {"command": command, "rc": rc, "stdout": text}
        for command, (rc, text) in zip(params["commands"], answers)])


if __name__ == "__main__":
    main()
