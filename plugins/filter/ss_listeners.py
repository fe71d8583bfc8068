# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: ss_listeners
short_description: Parse C(ss -Hlntupe) output into listening sockets
author:
  - vpbx.hardened contributors (!UNKNOWN)
version_added: 0.1.0
description:
  - Turns the lines of C(ss -Hlntupe) (no header, listening, numeric, TCP and UDP, processes,
    extended) into a list of dicts with C(proto), C(address), C(port), C(process) and C(uid).
  - C(process) is empty when C(ss) cannot see the owner (a sandboxed daemon's file descriptors
    are not readable without CAP_SYS_PTRACE); C(uid) still tells whose socket it is.
options:
  _input:
    description: The lines printed by C(ss -Hlntupe).
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Sockets
  ansible.builtin.debug:
    msg: "{{ ss.stdout_lines | vpbx.hardened.ss_listeners }}"
"""

RETURN = r"""
_value:
  description: One dict per listening socket.
  type: list
  elements: dict
"""

import re

_PROCESS = re.compile(r'users:\(\("([^"]+)"')
_UID = re.compile(r"\buid:(\d+)")


def ss_listeners(lines):
    sockets = []
    for line in lines or []:
        fields = line.split()
        if len(fields) < 5:
            continue
        address, _unused, port = fields[4].rpartition(":")
        process = _PROCESS.search(line)
        uid = _UID.search(line)
        sockets.append({
            "proto": fields[0],
            "address": address.strip("[]"),
            "port": int(port) if port.isdigit() else port,
            "process": process.group(1) if process else "",
            "uid": int(uid.group(1)) if uid else None,
        })
    return sockets


class FilterModule:
    def filters(self):
        return {"ss_listeners": ss_listeners}
