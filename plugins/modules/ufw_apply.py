#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ufw_apply
short_description: Bring UFW to a whole firewall plan in one run, and verify it
version_added: 0.1.0
description:
  - Takes the whole rule set the M(vpbx.hardened.plan) action plans (concern C(firewall)), with the default
    policies, the logging level, the C(IPV6=) setting and the SIP flood-limit blocks of
    C(before.rules)/C(before6.rules), compares it with what UFW stores and enforces, and changes
    only what differs, in a safe order - the rules before UFW is enabled, the planned SSH rule
    first.
  - Files it edits (C(/etc/default/ufw), the C(before*.rules)) are written atomically after a
    backup next to them; before a rule is deleted, C(user.rules) and C(user6.rules) are copied to
    C(<file>.vpbx-<UTC time>). UFW is reloaded when a file changed.
  - Then reads C(ufw status verbose) and the flood chain back and fails when UFW does not enforce
    the plan, saying what is missing or unplanned.
  - Check mode reports what would change (and C(--diff) shows it) and changes nothing.
author:
  - vpbx.hardened contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - vpbx.hardened.install
attributes:
  platform:
    platforms: debian
  check_mode:
    support: full
  diff_mode:
    support: full
options:
  plan:
    description: The firewall plan (C(rules), C(ipv6), C(logging), C(flood)) of the M(vpbx.hardened.plan) action.
    type: dict
    required: true
  policies:
    description: The default policies, as C({direction, policy}) items.
    type: list
    elements: dict
    required: true
  purge:
    description: Delete stored rules the plan does not contain (fail2ban's bans are always kept).
    type: bool
    default: true
  ipv6_setting:
    description: The C(IPV6=) value of O(defaults_file).
    type: str
    default: "yes"
  verify:
    description: Read UFW back after the run and fail when it does not enforce the plan.
    type: bool
    default: true
  rule_files:
    description: UFW's stored rule files.
    type: list
    elements: path
    default: [/etc/ufw/user.rules, /etc/ufw/user6.rules]
  defaults_file:
    description: The file holding UFW's C(IPV6=) setting.
    type: path
    default: /etc/default/ufw
  before_files:
    description: UFW's C(before.rules) and C(before6.rules), where the SIP flood-limit blocks go.
    type: list
    elements: path
    default: [/etc/ufw/before.rules, /etc/ufw/before6.rules]
  binary:
    description: The ufw command.
    type: path
    default: /usr/sbin/ufw
  iptables:
    description: The iptables command that lists the flood chain the kernel runs.
    type: str
    default: iptables
"""

EXAMPLES = r"""
- name: Apply the firewall plan
  vpbx.hardened.ufw_apply:
    plan: "{{ firewall_plan }}"
    policies:
      - {direction: incoming, policy: deny}
      - {direction: routed, policy: deny}
      - {direction: outgoing, policy: allow}
"""

RETURN = r"""
installed:
  description: The packages installed first (in check mode, that would be).
  returned: when UFW was missing
  type: list
  elements: str
changes:
  description: What changed (or, in check mode, would change), one line each.
  returned: always
  type: list
  elements: str
  sample: ["add: allow 5060/udp from 192.0.2.0/24 (sip-udp)", "enable"]
backups:
  description: The backup files written.
  returned: always
  type: list
  elements: str
status:
  description: C(ufw status verbose) after the run (before it in check mode).
  returned: always
  type: str
"""

import datetime
import os
import shutil

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vpbx.hardened.plugins.module_utils import apt
from ansible_collections.vpbx.hardened.plugins.module_utils import firewall as fw
from ansible_collections.vpbx.hardened.plugins.module_utils.files import read_text, write_atomic


class Ufw:
    def __init__(self, module):
        self.module = module
        self.binary = module.params["binary"]

    def run(self, *args):
        rc, out, err = self.module.run_command([self.binary] + list(args), environ_update={"LC_ALL": "C"})
        # In a container UFW cannot write /proc/sys ("problem running sysctl"); the rules still apply.
        if rc != 0 and "problem running sysctl" not in (out + err):
            self.module.fail_json(msg="ufw %s failed (rc=%d): %s. Nothing after it was changed; run "
                                      "`ufw status verbose` on the host." % (" ".join(args), rc, (err or out).strip()))
        return out

    def chain(self):
        path = self.module.get_bin_path(self.module.params["iptables"])
        if not path:
            return ""
        rc, out, _err = self.module.run_command([path, "-S", fw.FLOOD_CHAIN])
        return out if rc == 0 else ""


def state(module, ufw):
    params = module.params
    return {"defaults_text": read_text(params["defaults_file"]),
            "before": {path: read_text(path) for path in params["before_files"]},
            "rules": "\n".join(t for t in (read_text(p) for p in params["rule_files"]) if t is not None),
            "status": ufw.run("status", "verbose")}


def write(module, path, content, backups):
    """Back up path next to it, then replace it atomically (owner and mode kept)."""
    backup = module.backup_local(path)
    if backup:
        backups.append(backup)
    info = os.stat(path) if os.path.exists(path) else None
    write_atomic(path, content.encode("utf-8"), info.st_uid if info else 0, info.st_gid if info else 0,
                 info.st_mode & 0o7777 if info else 0o644)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            plan=dict(type="dict", required=True),
            policies=dict(type="list", elements="dict", required=True),
            purge=dict(type="bool", default=True),
            ipv6_setting=dict(type="str", default="yes"),
            verify=dict(type="bool", default=True),
            rule_files=dict(type="list", elements="path", default=["/etc/ufw/user.rules", "/etc/ufw/user6.rules"]),
            defaults_file=dict(type="path", default="/etc/default/ufw"),
            before_files=dict(type="list", elements="path",
                              default=[fw.BEFORE_RULES[4], fw.BEFORE_RULES[6]]),
            binary=dict(type="path", default="/usr/sbin/ufw"),
            iptables=dict(type="str", default="iptables"),
            install=apt.INSTALL_OPTION,
        ),
        supports_check_mode=True,
    )
    params = module.params
    installed = []
    if not os.access(params["binary"], os.X_OK):
        install = params["install"]
        if not install or not install["packages"]:
            module.fail_json(msg="%s is not installed: install the ufw package first, or give install.packages."
                             % params["binary"])
        labels = [rule.get("label", "") for rule in params["plan"].get("rules", [])]
        if module.check_mode:
            # Nothing to compare with: what a real run would apply (a warning, so that it shows).
            preview = "Check mode on a host without UFW - UFW would be installed (%s), enabled and hold these rules: %s" \
                % (" ".join(install["packages"]), "; ".join(labels))
            module.warn(preview)
            module.exit_json(changed=True, changes=labels, backups=[], status="", installed=install["packages"],
                             msg=preview, diff={"before": "", "after": "".join("%s\n" % label for label in labels),
                                                "before_header": "UFW (not installed)", "after_header": "UFW as planned"})
        try:
            apt.install(module, install["packages"], install["cache_valid_time"])
        except apt.AptError as exc:
            module.fail_json(msg="%s. Nothing else was changed." % exc)
        if not os.access(params["binary"], os.X_OK):
            module.fail_json(msg="%s is still missing after installing %s." % (params["binary"],
                                                                               " ".join(install["packages"])))
        installed = install["packages"]
    ufw = Ufw(module)
    before = state(module, ufw)
    if len(params["before_files"]) != 2:
        module.fail_json(msg="before_files: list UFW's before.rules and before6.rules, in that order")
    changes = fw.ufw_changes(before, params["plan"], params["policies"], params["purge"], params["ipv6_setting"],
                             dict(zip((4, 6), params["before_files"])))
    result = {"changed": bool(changes["labels"] or installed), "changes": changes["labels"], "backups": [],
              "status": before["status"]}
    if installed:
        result["installed"] = installed
    if module._diff:
        result["diff"] = {"before": "", "after": "".join("%s\n" % line for line in changes["labels"]),
                          "before_header": "UFW", "after_header": "UFW as planned"}
    if module.check_mode or not changes["labels"]:
        if params["verify"] and not module.check_mode:
            problems = fw.verify_errors(before["status"], ufw.chain(), params["plan"], params["policies"],
                                        params["purge"])
            if problems:
                module.fail_json(msg=" ".join(problems), **result)
        module.exit_json(**result)

    backups = result["backups"]
    if changes["ipv6"] is not None:
        write(module, params["defaults_file"], changes["ipv6"], backups)
    for path, content in changes["before"].items():
        write(module, path, content, backups)
    # The planned rules first (SSH's leads the plan): UFW may be enabled only with them in place.
    for rule in changes["add"]:
        ufw.run(*fw.ufw_command(rule))
    if changes["delete"]:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        for path in params["rule_files"]:
            if os.path.exists(path):
                shutil.copy2(path, "%s.vpbx-%s" % (path, stamp))
                backups.append("%s.vpbx-%s" % (path, stamp))
        for rule in changes["delete"]:
            ufw.run(*fw.ufw_command(rule))
    for policy in changes["policies"]:
        ufw.run("default", policy["policy"], policy["direction"])
    if changes["logging"]:
        ufw.run("logging", changes["logging"])
    if changes["enable"]:
        ufw.run("--force", "enable")
    elif changes["ipv6"] is not None or changes["before"]:
        ufw.run("reload")

    # Read back what UFW enforces (this also proves the controller still reaches the host).
    result["status"] = ufw.run("status", "verbose")
    if params["verify"]:
        problems = fw.verify_errors(result["status"], ufw.chain(), params["plan"], params["policies"], params["purge"])
        if problems:
            module.fail_json(msg=" ".join(problems), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
