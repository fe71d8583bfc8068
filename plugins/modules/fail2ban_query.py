#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: fail2ban_query
short_description: Ask the running fail2ban server several questions in one run, and look for its packages and service
version_added: 0.1.0
description:
  - Sends read-only commands (C(status), C(status JAIL), C(get JAIL logpath), ...) to the running
    fail2ban server and returns what C(fail2ban-client) would print for each.
  - Talks to the server's socket through fail2ban's own client library, in one Python process -
    C(fail2ban-client) is a Python program, and starting it once per question costs half a second
    each. Without that library (fail2ban not importable by the module's interpreter) it runs
    C(fail2ban-client) once per command instead.
  - A command the server refuses (a jail that does not run) is not a module failure - its RV(results)
    entry has a non-zero C(rc) and the server's message, for the caller to report.
  - Changes nothing; runs in check mode. Only C(status), C(get), C(banned), C(ping) and C(version) are accepted.
  - With O(packages) and O(service) it also says which packages are installed and what systemd says
    of the service, in the same run - so that a role probes all three at once, before fail2ban
    may even be installed (O(commands) then left empty).
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
  commands:
    description: The commands, each as the words given to C(fail2ban-client).
    type: list
    elements: str
    default: []
  packages:
    description: Packages whose installed version to report in RV(packages) (C(dpkg-query)).
    type: list
    elements: str
    default: []
  service:
    description: A systemd unit whose state to report in RV(service) (C(systemctl is-enabled), C(is-active)).
    type: str
  files:
    description:
      - Files whose state (SHA-1 of the content, owner, group, mode) to report in RV(files), so that
        a role can leave out a M(vpbx.hardened.config_files) run whose files are all as wanted.
      - Never list a file that holds secrets - its digest would be shown. (A file with a line that
        sets one - C(secret=), C(password=), C(pin=), voicemail's C(1001 =>) - is reported as
        C(secret=true), without digest, whatever the caller lists.)
    type: list
    elements: path
    default: []
  commands_when_active:
    description:
      - Ask O(commands) only when O(service) is active; otherwise RV(results) stays empty and
        RV(via) V(null). A probe that runs before fail2ban may even be installed can then also
        read the jails of a fail2ban that runs already, in the same run (a role reuses that
        answer when it changes nothing before its verify step).
      - Requires O(service).
    type: bool
    default: false
  socket:
    description: The server's socket.
    type: path
    default: /var/run/fail2ban/fail2ban.sock
  timeout:
    description: Seconds to wait for each answer.
    type: int
    default: 10
"""

EXAMPLES = r"""
- name: Read the jails fail2ban runs
  vpbx.hardened.fail2ban_query:
    commands: [status, status asterisk, get asterisk maxretry]
  register: jails

- name: Look for fail2ban, the packages its actions need, and its service
  vpbx.hardened.fail2ban_query:
    packages: [fail2ban, conntrack]
    service: fail2ban
  register: probe
  # probe.packages.fail2ban is "" when not installed; probe.service.active is "active" when it runs

- name: The same probe, and the jails when fail2ban runs
  vpbx.hardened.fail2ban_query:
    packages: [fail2ban]
    service: fail2ban
    commands: [status]
    commands_when_active: true
  register: probe
  # probe.results is [] when fail2ban is not active
"""

RETURN = r"""
results:
  description: One entry per command, in order.
  returned: always
  type: list
  elements: dict
  contains:
    command:
      description: The command.
      type: str
    rc:
      description: 0 when the server answered the command, else non-zero.
      type: int
    stdout:
      description: What C(fail2ban-client) prints for it (the server's message when it failed).
      type: str
via:
  description: C(socket) (fail2ban's client library) or C(fail2ban-client); V(null) without O(commands).
  returned: always
  type: str
packages:
  description: The installed version of each of O(packages), an empty string for one that is not installed.
  returned: always
  type: dict
  sample: {fail2ban: "1.0.2-2", conntrack: ""}
files:
  description:
    - The state of each of O(files) - C(sha1), C(owner), C(group) and C(mode) (C("0644")), V(null)
      when it does not exist, a dict with only C(type=other) when it is not a regular file, only
      C(secret=true) when it has a line that sets a secret.
  returned: always
  type: dict
service:
  description:
    - What C(systemctl is-enabled) and C(systemctl is-active) say of O(service) (V(null) each
      without systemctl or without an answer).
  returned: when O(service) is given
  type: dict
  contains:
    enabled:
      description: C(enabled), C(disabled), C(masked), ... or V(null).
      type: str
    active:
      description: C(active), C(inactive), C(failed), ... or V(null).
      type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vpbx.hardened.plugins.module_utils.asterisk import parse_dpkg_packages
from ansible_collections.vpbx.hardened.plugins.module_utils.fail2ban_client import ask, split
from ansible_collections.vpbx.hardened.plugins.module_utils.files import file_state
from ansible_collections.vpbx.hardened.plugins.module_utils.systemd import service_state


def installed(module, packages):
    """{package: installed version, "" when dpkg does not have it installed}."""
    if not packages:
        return {}
    dpkg_query = module.get_bin_path("dpkg-query", required=True)
    # rc 1: a package dpkg does not know (not installed) - the others are still listed.
    rc, out, err = module.run_command([dpkg_query, "-W", "-f=${Package}\t${Status}\t${Version}\n"] + packages)
    if rc not in (0, 1):
        module.fail_json(msg="dpkg-query failed (exit %d): %s" % (rc, err.strip()))
    known = parse_dpkg_packages(out)
    return {name: known.get(name, {}).get("version", "") for name in packages}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            commands=dict(type="list", elements="str", default=[]),
            packages=dict(type="list", elements="str", default=[]),
            service=dict(type="str"),
            files=dict(type="list", elements="path", default=[]),
            commands_when_active=dict(type="bool", default=False),
            socket=dict(type="path", default="/var/run/fail2ban/fail2ban.sock"),
            timeout=dict(type="int", default=10),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if params["commands_when_active"] and not params["service"]:
        module.fail_json(msg="commands_when_active: needs service (the unit whose state decides); set service: fail2ban")
    try:
        split(params["commands"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    commands = params["commands"]
    result = {"changed": False, "packages": installed(module, params["packages"]), "via": None, "results": [],
              "files": file_state(params["files"])}
    if params["service"]:
        result["service"] = service_state(module, params["service"])
    if params["commands_when_active"] and result["service"]["active"] != "active":
        commands = []
    if commands:
        result["via"], result["results"] = ask(module, commands, params["socket"], params["timeout"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
