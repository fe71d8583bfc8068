#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ufw_state
short_description: Read UFW's stored rules, its IPv6 setting and what it enforces, in one run
version_added: 0.1.0
description:
  - A read-only probe for the asterisk_firewall role. Reports whether UFW is installed, the C(IPV6)
    setting of C(/etc/default/ufw), the text of the stored rule files and the output of
    C(ufw status verbose) - what the role otherwise reads with four tasks.
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
  rule_files:
    description: UFW's rule files, read when they exist.
    type: list
    elements: path
    default: [/etc/ufw/user.rules, /etc/ufw/user6.rules]
  before_files:
    description:
      - UFW's C(before.rules) files whose SIP flood-limit block (between the C(vpbx.hardened SIP flood
        limit) markers) is returned in RV(blocks).
    type: list
    elements: path
    default: []
    version_added: 0.1.0
  chain:
    description:
      - A chain whose live rules C(iptables -S) lists in RV(chain_rules) (and C(ip6tables -S) the
        same chain named C(ufw6-...), UFW's IPv6 prefix); empty when it does not exist.
    type: str
    version_added: 0.1.0
  defaults_file:
    description: The file holding UFW's C(IPV6=) setting.
    type: path
    default: /etc/default/ufw
  binary:
    description: The ufw command.
    type: path
    default: /usr/sbin/ufw
"""

EXAMPLES = r"""
- name: Read UFW's state
  vpbx.hardened.ufw_state:
  register: ufw
"""

RETURN = r"""
installed:
  description: Whether the ufw command exists.
  returned: always
  type: bool
ipv6:
  description: The value of C(IPV6=) in O(defaults_file) (empty when unset or the file is missing).
  returned: always
  type: str
  sample: "no"
rules:
  description: The concatenated text of the O(rule_files) that exist.
  returned: always
  type: str
status:
  description: The output of C(ufw status verbose) (empty when UFW is not installed).
  returned: always
  type: str
blocks:
  description: For each of O(before_files), the text of its flood-limit block ('' when none).
  returned: always
  type: dict
chain_rules:
  description: The live rules of O(chain), by IP version ("4", "6"); '' when the chain does not exist.
  returned: always
  type: dict
"""

import os
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vpbx.hardened.plugins.module_utils.files import read_text
from ansible_collections.vpbx.hardened.plugins.module_utils.firewall import ipv6_setting, parse_blocks


def main():
    module = AnsibleModule(
        argument_spec=dict(
            rule_files=dict(type="list", elements="path", default=["/etc/ufw/user.rules", "/etc/ufw/user6.rules"]),
            before_files=dict(type="list", elements="path", default=[]),
            chain=dict(type="str"),
            defaults_file=dict(type="path", default="/etc/default/ufw"),
            binary=dict(type="path", default="/usr/sbin/ufw"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    installed = os.access(params["binary"], os.X_OK)
    texts = [read_text(path) for path in params["rule_files"]]
    status = ""
    if installed:
        rc, out, err = module.run_command([params["binary"], "status", "verbose"], environ_update={"LC_ALL": "C"})
        if rc != 0:
            module.fail_json(msg="ufw status verbose failed (rc=%d): %s. Run it on the host to see why."
                             % (rc, (err or out).strip()))
        status = out
    chain_rules = {}
    if params["chain"]:
        for version, command in (("4", "iptables"), ("6", "ip6tables")):
            path = module.get_bin_path(command)
            chain = params["chain"] if version == "4" else re.sub(r"^ufw-", "ufw6-", params["chain"])
            rc, out, _err = module.run_command([path, "-S", chain]) if path else (1, "", "")
            chain_rules[version] = out if rc == 0 else ""
    module.exit_json(changed=False, installed=installed, ipv6=ipv6_setting(read_text(params["defaults_file"])),
                     rules="\n".join(text for text in texts if text is not None), status=status,
                     blocks={path: parse_blocks(read_text(path)) for path in params["before_files"]},
                     chain_rules=chain_rules)


if __name__ == "__main__":
    main()
