# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: asterisk_settings
short_description: Parse the key/value output of Asterisk's C(... show settings) commands
version_added: 0.1.0
author:
  - vpbx.hardened contributors (!UNKNOWN)
description:
  - Turns the output of C(core show settings), C(rtp show settings), C(manager show settings)
    and similar CLI commands (their indented key, colon, value lines) into a dictionary.
  - Keys and values are stripped; a key given twice keeps its last value; other lines are left out.
options:
  _input:
    description: The CLI output.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Read the effective RTP range
  ansible.builtin.command: asterisk -rx 'rtp show settings'
  register: rtp
  changed_when: false

- name: Show where it starts
  ansible.builtin.debug:
    msg: "{{ (rtp.stdout | vpbx.hardened.asterisk_settings)['Port start'] }}"
"""

RETURN = r"""
_value:
  description: Each setting by its name (C(Port start) - C(10000)).
  type: dict
"""

from ansible_collections.vpbx.hardened.plugins.module_utils.asterisk import parse_settings


def asterisk_settings(text):
    return parse_settings(str(text or ""))


class FilterModule:
    def filters(self):
        return {"asterisk_settings": asterisk_settings}
