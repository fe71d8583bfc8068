#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: asterisk_facts
short_description: Facts about the installed Asterisk (version, capabilities, running state)
version_added: 0.1.0
description:
  - Runs C(asterisk -V) and, when Asterisk is running, C(asterisk -rx 'core show settings') and
    returns what later roles need to know about the installed Asterisk as C(ansible_facts.asterisk).
  - Read-only (never changes the host), so it runs in check mode too.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.facts
  - vpbx.hardened.asterisk
attributes:
  platform:
    platforms: debian
  check_mode:
    support: full
  diff_mode:
    support: none
  facts:
    support: full
options:
  binary:
    description: The Asterisk executable.
    type: path
    default: /usr/sbin/asterisk
  service:
    description: The systemd unit whose state RV(ansible_facts.asterisk.service) reports.
    type: str
    default: asterisk
  data_dir:
    description: Asterisk's data directory when Asterisk is not running (the running Asterisk reports its own).
    type: path
    default: /usr/share/asterisk
  module_dirs:
    description:
      - Directories searched for loadable modules when Asterisk is not running (the running
        Asterisk reports its own). The first that exists wins.
    type: list
    elements: path
    default:
      - /usr/lib/x86_64-linux-gnu/asterisk/modules
      - /usr/lib/aarch64-linux-gnu/asterisk/modules
      - /usr/lib/asterisk/modules
      - /usr/lib64/asterisk/modules
  files:
    description:
      - Files whose state (SHA-1 of the content, owner, group, mode) to report in
        RV(ansible_facts.asterisk.files), so that a role can leave out a
        M(vpbx.hardened.config_files) run whose files are all as wanted.
      - Never list a file that holds secrets - its digest would be shown. (A file with a line that
        sets one - C(secret=), C(password=), C(pin=), voicemail's C(1001 =>) - is reported as
        C(secret=true), without digest, whatever the caller lists.)
    type: list
    elements: path
    default: []
  commands:
    description:
      - CLI commands that only show something (C(rtp show settings), C(manager show settings)) to
        run when Asterisk is running; their output is returned in RV(cli), not as facts. A role
        that changes nothing before its verify step checks that output instead of asking again.
      - Only commands whose second word is C(show) are accepted.
    type: list
    elements: str
    default: []
notes:
  - When the executable is missing the facts say C(installed=false) instead of failing, so the
    module can be used as a probe before installation.
"""

EXAMPLES = r"""
- name: Gather Asterisk facts
  vpbx.hardened.asterisk_facts:

- name: Use them
  ansible.builtin.debug:
    msg: "Asterisk {{ ansible_facts.asterisk.major }} (chan_sip: {{ ansible_facts.asterisk.has_chan_sip }})"
"""

RETURN = r"""
cli:
  description: One entry per O(commands), in order, when Asterisk is running (empty otherwise).
  returned: always
  type: list
  elements: dict
  contains:
    command:
      description: The command.
      type: str
    rc:
      description: The exit code of C(asterisk -rx).
      type: int
    stdout:
      description: What Asterisk printed.
      type: str
ansible_facts:
  description: Facts to add to ansible_facts.
  returned: always
  type: dict
  contains:
    asterisk:
      description: Facts about the installed Asterisk.
      returned: always
      type: dict
      contains:
        installed:
          description: Whether the executable exists.
          type: bool
        version:
          description: Full version as printed by C(asterisk -V), distribution suffix included.
          type: str
          sample: 16.28.0~dfsg-0+deb11u4
        upstream:
          description: Upstream version C(major.minor.patch).
          type: str
          sample: 16.28.0
        major:
          description: Major version.
          type: int
          sample: 16
        minor:
          description: Minor version.
          type: int
          sample: 28
        patch:
          description: Patch level.
          type: int
          sample: 0
        has_chan_sip:
          description: Whether chan_sip.so is installed (it never is on Asterisk 21 and later).
          type: bool
        chan_sip_supported:
          description: Whether this major version still has chan_sip upstream.
          type: bool
        supports_disable_remote_console_shell:
          description: Whether asterisk.conf accepts C(disable_remote_console_shell).
          type: bool
        module_dir:
          description: Directory of loadable modules.
          type: str
          sample: /usr/lib/asterisk/modules
        running:
          description: Whether the CLI of a running Asterisk answered.
          type: bool
        settings:
          description: C(core show settings) as a dict (empty when not running).
          type: dict
        service:
          description: What C(systemctl is-enabled) and C(systemctl is-active) say of O(service)
            (V(null) each without systemctl or without an answer).
          type: dict
          sample: {enabled: enabled, active: active}
        files:
          description:
            - The state of each of O(files) - C(sha1), C(owner), C(group) and C(mode) (C("0640")),
              V(null) when it does not exist, a dict with only C(type=other) when it is not a regular
              file, only C(secret=true) when it has a line that sets a secret.
          type: dict
          sample: {"/etc/asterisk/logger.conf": {"sha1": "3f786850e387550fdab836ed7e6dc881de23001b", "owner": "root", "group": "asterisk", "mode": "0640"}}
        documentation:
          description: Asterisk's XML documentation file (in the data directory) and where
            C(dpkg-divert) diverted the package's copy (V(null) when not diverted or without dpkg).
          type: dict
          sample: {file: /usr/share/asterisk/documentation/core-en_US.xml, diverted_to: null}
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vpbx.hardened.plugins.module_utils.asterisk import (
    ParseError,
    has_chan_sip,
    parse_settings,
    parse_version,
    supports_disable_remote_console_shell,
)
from ansible_collections.vpbx.hardened.plugins.module_utils.files import file_state
from ansible_collections.vpbx.hardened.plugins.module_utils.systemd import service_state


def gather(module):
    binary = module.params["binary"]
    facts = {
        "installed": False,
        "version": None,
        "upstream": None,
        "major": None,
        "minor": None,
        "patch": None,
        "has_chan_sip": False,
        "chan_sip_supported": False,
        "supports_disable_remote_console_shell": False,
        "module_dir": None,
        "running": False,
        "settings": {},
        "documentation": {"file": None, "diverted_to": None},
        "service": {"enabled": None, "active": None},
    }
    if not os.path.exists(binary):
        return facts
    rc, out, err = module.run_command([binary, "-V"])
    if rc != 0:
        module.fail_json(msg="'%s -V' failed (rc=%d): %s" % (binary, rc, (err or out).strip()))
    try:
        version = parse_version(out)
    except ParseError as exc:
        module.fail_json(msg="Cannot read the Asterisk version: %s" % exc)
    facts.update(version)
    facts["installed"] = True
    facts["chan_sip_supported"] = has_chan_sip(version["major"])
    facts["supports_disable_remote_console_shell"] = supports_disable_remote_console_shell(
        version["major"], version["minor"], version["patch"])

    rc, out, err = module.run_command([binary, "-rx", "core show settings"])
    settings = parse_settings(out) if rc == 0 else {}
    if settings.get("Version"):
        facts["running"] = True
        facts["settings"] = settings
        facts["module_dir"] = settings.get("Module directory")
    if not facts["module_dir"]:
        facts["module_dir"] = next((d for d in module.params["module_dirs"] if os.path.isdir(d)), None)
    if facts["module_dir"]:
        facts["has_chan_sip"] = os.path.exists(os.path.join(facts["module_dir"], "chan_sip.so"))
    facts["documentation"] = documentation(module, settings.get("Data directory") or module.params["data_dir"])
    facts["service"] = service_state(module, module.params["service"])
    return facts


def documentation(module, data_dir):
    """The XML documentation file and its dpkg diversion (`dpkg-divert --truename` prints the path
    the package's file really has)."""
    path = os.path.join(data_dir, "documentation", "core-en_US.xml")
    diverted_to = None
    dpkg_divert = module.get_bin_path("dpkg-divert")
    if dpkg_divert:
        rc, out, err = module.run_command([dpkg_divert, "--truename", path])
        if rc == 0 and out.strip() and out.strip() != path:
            diverted_to = out.strip()
    return {"file": path, "diverted_to": diverted_to}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            binary=dict(type="path", default="/usr/sbin/asterisk"),
            service=dict(type="str", default="asterisk"),
            data_dir=dict(type="path", default="/usr/share/asterisk"),
            module_dirs=dict(type="list", elements="path", default=[
                "/usr/lib/x86_64-linux-gnu/asterisk/modules",
                "/usr/lib/aarch64-linux-gnu/asterisk/modules",
                "/usr/lib/asterisk/modules",
                "/usr/lib64/asterisk/modules",
            ]),
            files=dict(type="list", elements="path", default=[]),
            commands=dict(type="list", elements="str", default=[]),
        ),
        supports_check_mode=True,
    )
    for command in module.params["commands"]:
        words = command.split()
        if len(words) < 2 or words[1] != "show":
            module.fail_json(msg="commands: %r is not a show command (give commands such as 'rtp show settings')"
                             % command)
    facts = gather(module)
    facts["files"] = file_state(module.params["files"])
    cli = []
    if facts["running"]:
        for command in module.params["commands"]:
            rc, out, err = module.run_command([module.params["binary"], "-rx", command])
            cli.append({"command": command, "rc": rc, "stdout": out if rc == 0 else (out or "") + (err or "")})
    module.exit_json(changed=False, ansible_facts={"asterisk": facts}, cli=cli)


if __name__ == "__main__":
    main()
