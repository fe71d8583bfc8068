#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# The plan runs on the controller only: its code is the action plugin plugins/action/plan.py. This
# file holds its documentation, as ansible-doc and ansible-test expect for an action.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: plan
short_description: Plan one concern of a PBX host from the inventory, on the controller
version_added: 0.1.0
description:
  - Computes the desired state of one concern (C(core), C(sip), C(dialplan), C(cdr), C(firewall), C(fail2ban)) as a
    pure function of the collection's public variables - every role's defaults overlaid by the
    inventory, whichever role runs it - and fails with every problem found, each naming the
    variable path and the fix, before any host is touched.
  - Asks the host only what the concern needs and only the host knows, in at most one module run
    each - the Asterisk major version (C(sip), when Asterisk facts are not there), how the host
    resolves the trunks' host names and the controller's C($SSH_CONNECTION) (C(firewall),
    C(fail2ban), only when the plan has such names or the lockout guard needs the address).
  - A role runs it at its own start, and the site and subscribers playbooks once for every concern
    before the first change (O(concern) a list). Nothing is remembered between runs; planning twice
    gives the same plan.
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
  concern:
    description:
      - The concern to plan - C(core), C(modules), C(sip), C(dialplan), C(cdr), C(firewall), C(fail2ban).
      - A list plans each of them in its order whose role is enabled (C(asterisk_dialplan_enabled),
        C(asterisk_firewall_enabled), C(asterisk_fail2ban_enabled)), asking the host each question
        once, and fails with the first concern's problems - what the site playbook checks before
        any role changes anything. RV(plan) is then keyed by concern.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Plan the firewall and check the lockout guard
  vpbx.hardened.plan:
    concern: firewall
  register: firewall_plan

- name: Plan every concern before any change
  vpbx.hardened.plan:
    concern: [core, sip, dialplan, firewall, fail2ban]
"""

RETURN = r"""
plan:
  description:
    - C(core) - C(package) (what M(vpbx.hardened.asterisk_package_info) reports), C(features);
      C(sip) - C(model) (secrets inside), C(render), C(files) and C(secrets) (the text of each driver
      file by name), C(features), C(names), C(major);
      C(dialplan) - C(dialplan) (PINs inside), C(files) and C(secrets) (the text of each file by
      name; voicemail.conf and vpbx-rooms.conf hold PINs), C(features), C(contexts), C(recordings)
      (the pruning timer's C(host_files), C(host_files_absent) and C(timers));
      C(firewall) - C(plan) (the rules), C(guard) (the lockout guard's verdict);
      C(cdr) - C(files), C(secrets) (res_odbc.conf holds the database password), C(host_files) (the
      data source in /etc/odbc.ini), C(packages), C(server) (the embedded database server or null),
      C(features), C(retire), C(reload), C(verify);
      C(fail2ban) - C(plan) (the jails), C(expect) (what the running server must show).
    - A secret that must come from a vault (C(asterisk_cdr_database_password)) and was written in
      clear text in an inventory file is refused, naming the file and line.
    - The result of C(sip), C(dialplan) and C(cdr) is never shown (no_log), as it holds secrets.
  returned: success
  type: dict
"""
