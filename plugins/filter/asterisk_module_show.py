# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: asterisk_module_show
short_description: Parse Asterisk's C(module show) output
version_added: 0.1.0
author:
  - vpbx.hardened contributors (!UNKNOWN)
description:
  - Turns the output of C(module show) or C(module show like X) into a dictionary with C(modules)
    by file name, each with its C(description), C(use_count), C(status) and C(support_level), and
    C(count), the number of modules Asterisk says it has loaded.
  - Fails when the output is not a module table (an error message, a CLI that did not answer).
options:
  _input:
    description: The CLI output.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Read the module table
  ansible.builtin.command: asterisk -rx 'module show'
  register: modules
  changed_when: false

- name: Show whether PJSIP runs
  ansible.builtin.debug:
    msg: "{{ (modules.stdout | vpbx.hardened.asterisk_module_show).modules['res_pjsip.so'].status }}"
"""

RETURN = r"""
_value:
  description: C(modules) (by file name, each a dict with C(description), C(use_count), C(status) - C(Running),
    C(Not Running) - and C(support_level)) and C(count).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.vpbx.hardened.plugins.module_utils.asterisk import ParseError, parse_module_show


def asterisk_module_show(text):
    try:
        return parse_module_show(text)
    except ParseError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    def filters(self):
        return {"asterisk_module_show": asterisk_module_show}
