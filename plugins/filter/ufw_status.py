# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: ufw_status
short_description: Parse C(ufw status verbose)
version_added: 0.1.0
author:
  - vpbx.hardened contributors (!UNKNOWN)
description:
  - Turns the output of C(ufw status verbose) into a dictionary - whether UFW is C(active), its
    C(logging) level, the C(defaults) policy by direction and the C(rules), each with C(port),
    C(proto), C(action), C(from), C(v6) and C(comment).
options:
  _input:
    description: The output of C(ufw status verbose).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Read the firewall
  ansible.builtin.command: ufw status verbose
  register: ufw
  changed_when: false

- name: Show the incoming policy
  ansible.builtin.debug:
    msg: "{{ (ufw.stdout | vpbx.hardened.ufw_status).defaults.incoming }}"
"""

RETURN = r"""
_value:
  description: C(active), C(logging), C(defaults) and C(rules).
  type: dict
"""

from ansible_collections.vpbx.hardened.plugins.module_utils.firewall import parse_status


def ufw_status(text):
    return parse_status(str(text or ""))


class FilterModule:
    def filters(self):
        return {"ufw_status": ufw_status}
