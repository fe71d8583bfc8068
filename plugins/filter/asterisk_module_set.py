# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: asterisk_module_set
short_description: Complete a planned module set with what only the host knows
version_added: 0.1.0
author:
  - vpbx.hardened contributors (!UNKNOWN)
description:
  - Takes the module set the M(vpbx.hardened.plan) action computed for a concern and adds what only
    the host knows, from the Asterisk facts (M(vpbx.hardened.asterisk_facts)) - the module
    directory, the major version and the XML documentation file - as the C(module_set) option of
    M(vpbx.hardened.asterisk_apply) takes it.
  - The documentation is left alone (C(documentation) null) when the skipped tags name
    C(asterisk_modules_documentation).
options:
  _input:
    description: The plan's module set.
    type: dict
    required: true
  facts:
    description: The Asterisk facts (C(ansible_facts.asterisk)).
    type: dict
    required: true
  skip_tags:
    description: The run's skipped tags (C(ansible_skip_tags)).
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Apply the planned module set
  vpbx.hardened.asterisk_apply:
    module_set: >-
      {{ plan.plan.module_set
         | vpbx.hardened.asterisk_module_set(ansible_facts.asterisk, ansible_skip_tags) }}
"""

RETURN = r"""
_value:
  description: The module set with C(module_dir), C(major) and C(documentation.path) filled in.
  type: dict
"""

from ansible_collections.vpbx.hardened.plugins.module_utils.plain import plain


def asterisk_module_set(module_set, facts, skip_tags=()):
    the_set, facts = plain(module_set), plain(facts) or {}
    documentation = dict(the_set.get("documentation") or {}, path=(facts.get("documentation") or {}).get("file"))
    return dict(the_set, module_dir=facts.get("module_dir"), major=facts.get("major"),
                documentation=None if "asterisk_modules_documentation" in (skip_tags or ()) else documentation)


class FilterModule:
    def filters(self):
        return {"asterisk_module_set": asterisk_module_set}
