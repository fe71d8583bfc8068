# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: fail2ban_plan
short_description: What the PBX's fail2ban jails need, from the role's settings and the subscriber/trunk model
version_added: 0.7.0
description:
  - Validates the C(asterisk_fail2ban) role's thresholds and networks and works out the jails'
    log file (the security log the asterisk role writes), the SIP ports in use and
    the addresses never banned - loopback, the administrators' networks, the controller's address,
    the trunks' addresses.
  - Fails with every problem found, each naming the variable path and the fix.
  - The same plugin file provides C(fail2ban_errors) (the problems as a list instead of failing),
    C(fail2ban_status) (parse C(fail2ban-client status <jail>)), C(fail2ban_list) (parse the lists
    C(fail2ban-client get <jail> ignoreip|logpath) print) and C(fail2ban_jails) (the jail names of
    C(fail2ban-client status)).
options:
  _input:
    description:
      - C(maxretry), C(findtime), C(bantime), C(admin_networks), C(ignore_trunks), C(recidive),
        C(recidive_maxretry), C(recidive_findtime), C(recidive_bantime), C(sshd), C(log_dir),
        C(security_file), C(ports) (the firewall plan's SIP ports), C(resolved)
        (trunk host name -> addresses), C(connection), C(ssh_connection), C(controller).
    type: dict
    required: true
  model:
    description: The model returned by C(vpbx.hardened.sip_model) (its trunks are never banned).
    type: dict
    required: false
"""

EXAMPLES = r"""
- name: Plan the jails
  ansible.builtin.set_fact:
    __plan: >-
      {{ {'maxretry': 5, 'admin_networks': ['192.0.2.0/24']}
         | vpbx.hardened.fail2ban_plan(sip_model) }}
"""

RETURN = r"""
_value:
  description:
    - C(maxretry), C(findtime), C(bantime) (seconds; -1 for ever), C(recidive) (its C(maxretry),
      C(findtime), C(bantime), or null when off), C(sshd), C(logpaths), C(ports), C(protocols),
      C(ignoreip).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.vpbx.hardened.plugins.module_utils.plain import plain as _plain

from ansible_collections.vpbx.hardened.plugins.module_utils import fail2ban as f2b


def fail2ban_plan(settings, model=None, names=None):
    try:
        return f2b.plan(_plain(settings), _plain(model), _plain(names))
    except f2b.Fail2banError as exc:
        raise AnsibleFilterError("Invalid fail2ban settings - nothing was changed:\n- " + "\n- ".join(exc.errors))


def fail2ban_errors(settings, model=None, names=None):
    return f2b.errors(_plain(settings), _plain(model), _plain(names))


def fail2ban_status(text):
    return f2b.parse_status(str(text or ""))


def fail2ban_list(text):
    return f2b.parse_list(str(text or ""))


def fail2ban_jails(text):
    return f2b.parse_jails(str(text or ""))


class FilterModule:
    def filters(self):
        return {
            "fail2ban_plan": fail2ban_plan,
            "fail2ban_errors": fail2ban_errors,
            "fail2ban_status": fail2ban_status,
            "fail2ban_list": fail2ban_list,
            "fail2ban_jails": fail2ban_jails,
        }
