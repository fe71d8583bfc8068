#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: asterisk_cli
short_description: Run an Asterisk CLI command and fail when Asterisk reports an error
version_added: 0.1.0
description:
  - Runs C(asterisk -rx COMMAND) against the running Asterisk. C(asterisk -rx) exits 0 even when
    the command is unknown, the module cannot be reloaded or Asterisk is not running; this module
    reads the output and fails with the reason instead.
  - Waits up to O(wait) seconds for the CLI to answer (Asterisk may still be starting).
  - Used by the collection's handlers for C(module reload ...), C(logger reload) and
    C(dialplan reload), and as a read-only probe (O(readonly=true)).
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - vpbx.hardened.asterisk
attributes:
  platform:
    platforms: debian
  check_mode:
    support: full
    details: A read-only command runs in check mode; any other is only reported as a change.
  diff_mode:
    support: none
options:
  command:
    description: The CLI command. Exactly one of O(command) and O(commands) is required.
    type: str
  commands:
    description:
      - Several CLI commands run in order in one module run (cheaper than a loop over O(command));
        the first one that fails fails the module. Their outputs are in RV(results).
      - O(expect) applies to each of them.
    type: list
    elements: str
  readonly:
    description: The command only reads state; it never reports a change and runs in check mode.
    type: bool
    default: false
  expect:
    description: A regular expression the output must match, else the module fails.
    type: str
  wait:
    description: Seconds to wait for the CLI to answer.
    type: int
    default: 30
"""

EXAMPLES = r"""
- name: Reload the RTP module
  vpbx.hardened.asterisk_cli:
    command: module reload res_rtp_asterisk.so

- name: Read the effective RTP settings
  vpbx.hardened.asterisk_cli:
    command: rtp show settings
    readonly: true
  register: rtp

- name: Read several settings in one run
  vpbx.hardened.asterisk_cli:
    commands: [rtp show settings, core show settings]
    readonly: true
  register: settings
  # settings.results[1].stdout holds the output of core show settings
"""

RETURN = r"""
stdout:
  description: What the CLI printed (for O(commands), the last command's output).
  returned: success
  type: str
stdout_lines:
  description: The same, as lines.
  returned: success
  type: list
  elements: str
results:
  description: With O(commands), one entry per command, in order.
  returned: success and O(commands) given
  type: list
  elements: dict
  contains:
    command:
      description: The command.
      type: str
    stdout:
      description: What it printed.
      type: str
"""

import re
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vpbx.hardened.plugins.module_utils.asterisk import cli_error


def main():
    module = AnsibleModule(
        argument_spec=dict(
            command=dict(type="str"),
            commands=dict(type="list", elements="str"),
            readonly=dict(type="bool", default=False),
            expect=dict(type="str"),
            wait=dict(type="int", default=30),
            binary=dict(type="path", default="/usr/sbin/asterisk"),
        ),
        supports_check_mode=True,
        required_one_of=[("command", "commands")],
        mutually_exclusive=[("command", "commands")],
    )
    params = module.params
    if module.check_mode and not params["readonly"]:
        module.exit_json(changed=True, stdout="", stdout_lines=[])

    deadline = time.monotonic() + max(params["wait"], 0)
    commands = params["commands"] if params["commands"] is not None else [params["command"]]
    if not commands:
        module.fail_json(msg="commands: give at least one CLI command")
    results = []
    for command in commands:
        out = run(module, command, deadline)
        results.append({"command": command, "stdout": out})
    output = dict(changed=not params["readonly"], stdout=out, stdout_lines=out.splitlines())
    if params["commands"] is not None:
        output["results"] = results
    module.exit_json(**output)


def run(module, command, deadline):
    """One `asterisk -rx` (retried while Asterisk is not running yet, until deadline); its output."""
    params = module.params
    while True:
        rc, out, err = module.run_command([params["binary"], "-rx", command])
        text = (out or "") + (err or "")
        reason = cli_error(text)
        if reason != "Asterisk is not running" or time.monotonic() >= deadline:
            break
        time.sleep(1)
    if rc != 0 or reason:
        module.fail_json(
            msg="Asterisk CLI command %r failed: %s. Output: %s" % (command, reason or "rc=%d" % rc, text.strip()[:2000]),
            stdout=out, rc=rc)
    if params["expect"] and not re.search(params["expect"], text, re.MULTILINE):
        module.fail_json(msg="Asterisk CLI command %r did not print what was expected (%s). Output: %s"
                         % (command, params["expect"], text.strip()[:2000]), stdout=out)
    return out


if __name__ == "__main__":
    main()
