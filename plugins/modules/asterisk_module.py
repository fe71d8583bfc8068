#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: asterisk_module
short_description: Load, unload or reload Asterisk modules in a running Asterisk
version_added: 0.1.0
description:
  - Idempotent C(module load), C(module unload) and C(module reload) through the Asterisk CLI.
    Acts only on modules whose state differs; reports what it did.
  - O(name) is one module or an ordered list (loaded in that order; give dependencies first, as
    M(vpbx.hardened.asterisk_module_plan) returns them).
  - After loading, every module must be C(Running); otherwise the module fails naming the module
    and the lines Asterisk logged about it.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - vpbx.hardened.asterisk
attributes:
  platform:
    platforms: debian
  check_mode:
    support: full
  diff_mode:
    support: full
options:
  name:
    description: Module file names (C(res_pjsip.so)) or built-in module names (C(manager)).
    type: list
    elements: str
    required: true
  state:
    description:
      - C(loaded) loads those not loaded. C(unloaded) unloads those loaded.
      - C(reloaded) reloads those loaded (a module that is not loaded reads its configuration
        when it loads, so it is skipped).
      - C(running) changes nothing; it fails unless every module is loaded and C(Running),
        naming each one that is not and what Asterisk logged about it (a verification probe).
    type: str
    choices: [loaded, unloaded, reloaded, running]
    default: loaded
  refused:
    description:
      - What to do when Asterisk refuses to unload a module (in use, or needed by another).
        C(fail) fails; C(report) lists it in RV(refused) and succeeds, so the caller can restart.
    type: str
    choices: [fail, report]
    default: fail
  log_file:
    description: Asterisk log searched for the reason when a module does not run.
    type: path
    default: /var/log/asterisk/messages.log
"""

EXAMPLES = r"""
- name: Reload the RTP module
  vpbx.hardened.asterisk_module:
    name: res_rtp_asterisk.so
    state: reloaded

- name: Unload chan_sip, restart if Asterisk refuses
  vpbx.hardened.asterisk_module:
    name: chan_sip.so
    state: unloaded
    refused: report
  register: unload
"""

RETURN = r"""
changed_modules:
  description: Modules acted on.
  returned: always
  type: list
  elements: str
refused:
  description: Modules Asterisk refused to unload (with O(refused=report)).
  returned: always
  type: list
  elements: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vpbx.hardened.plugins.module_utils.asterisk import Cli, cli_error, log_lines, not_running


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="list", elements="str", required=True),
            state=dict(type="str", choices=["loaded", "unloaded", "reloaded", "running"], default="loaded"),
            refused=dict(type="str", choices=["fail", "report"], default="fail"),
            log_file=dict(type="path", default="/var/log/asterisk/messages.log"),
            binary=dict(type="path", default="/usr/sbin/asterisk"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if not os.path.exists(params["binary"]):
        module.fail_json(msg="%s not found: install Asterisk first" % params["binary"])
    cli = Cli(module, params["binary"])
    before = cli.modules()
    names = [n.strip() for n in params["name"] if n.strip()]
    state = params["state"]
    if state == "running":
        broken = not_running(before, names, params["log_file"])
        if broken:
            module.fail_json(msg="Not running: " + broken, changed=False, changed_modules=[], refused=[])
        module.exit_json(changed=False, changed_modules=[], refused=[])
    if state == "loaded":
        todo = [n for n in names if n not in before]
    else:
        todo = [n for n in names if n in before]

    result = dict(changed=bool(todo), changed_modules=todo, refused=[])
    if module._diff:
        result["diff"] = dict(
            before="\n".join(n for n in names if n in before) + "\n",
            after="\n".join(n for n in names if (n in before or state == "loaded") and
                            not (state == "unloaded" and n in todo)) + "\n")
    if module.check_mode or not todo:
        module.exit_json(**result)

    verb = {"loaded": "load", "unloaded": "unload", "reloaded": "reload"}[state]
    for name in todo:
        rc, out = cli.run("module %s %s" % (verb, name))
        problem = cli_error(out) or ("rc=%d" % rc if rc else None)
        if state == "unloaded" and problem:
            if params["refused"] == "report":
                result["refused"].append(name)
                continue
            module.fail_json(msg="Asterisk refused to unload %s: %s" % (name, out.strip()), **result)
        if problem:
            module.fail_json(msg="module %s %s failed: %s. Asterisk logged: %s" % (
                verb, name, out.strip(), " | ".join(log_lines(params["log_file"], name)) or "nothing"), **result)

    if state == "loaded":
        broken = not_running(cli.modules(), todo, params["log_file"])
        if broken:
            module.fail_json(msg="Loaded but not running: " + broken, **result)
    result["changed_modules"] = [n for n in todo if n not in result["refused"]]
    result["changed"] = bool(result["changed_modules"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
