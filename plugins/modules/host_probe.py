#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: host_probe
short_description: What only the host can tell a plan - how it resolves names, and its login environment
version_added: 0.1.0
description:
  - Resolves host names as the host's own resolver does (C(getent ahosts), as Asterisk resolves a
    trunk's host) and reads environment variables of the module's process, in one run.
  - The C(vpbx.hardened.plan) action runs it without privilege escalation when a plan needs it
    (C($SSH_CONNECTION) is the login user's, and sudo drops it).
  - Changes nothing; runs in check mode.
author:
  - vpbx.hardened contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  platform:
    platforms: debian
  check_mode:
    support: full
  diff_mode:
    support: none
options:
  resolve:
    description: Host names to resolve.
    type: list
    elements: str
    default: []
  env:
    description: Environment variables to read.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Resolve a trunk's host and read the controller's SSH connection
  vpbx.hardened.host_probe:
    resolve: [sip.example.net]
    env: [SSH_CONNECTION]
  become: false
  register: probe
"""

RETURN = r"""
resolved:
  description: The addresses of each name, in the resolver's order (empty when it does not resolve).
  returned: always
  type: dict
  sample: {sip.example.net: ["192.0.2.10", "2001:db8::10"]}
env:
  description: The value of each variable, an empty string when it is not set.
  returned: always
  type: dict
  sample: {SSH_CONNECTION: "192.0.2.5 50312 192.0.2.1 22"}
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vpbx.hardened.plugins.module_utils.firewall import parse_getent


def main():
    module = AnsibleModule(
        argument_spec=dict(resolve=dict(type="list", elements="str", default=[]),
                           env=dict(type="list", elements="str", default=[])),
        supports_check_mode=True,
    )
    resolved = {}
    if module.params["resolve"]:
        getent = module.get_bin_path("getent", required=True)
        for name in module.params["resolve"]:
            # rc 2: the name does not resolve (reported as no address, for the plan to judge).
            _rc, out, _err = module.run_command([getent, "ahosts", name])
            resolved[name] = parse_getent(out)
    module.exit_json(changed=False, resolved=resolved,
                     env={name: os.environ.get(name, "") for name in module.params["env"]})


if __name__ == "__main__":
    main()
