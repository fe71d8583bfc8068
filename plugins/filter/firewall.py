# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: firewall_plan
short_description: The UFW rules of a PBX, from the subscriber/trunk model and the rendered ports
version_added: 0.3.0
description:
  - Turns the validated model of C(vpbx.hardened.sip_model) and the ports the Asterisk roles render
    (SIP transports and ports, the RTP range) into the exact UFW rules of the C(asterisk_firewall)
    role - SSH first (rate-limited), then SIP and RTP only from the subscribers' permit networks, the
    trunks' addresses and the extra lists.
  - Fails with every problem found, each naming the variable path and the fix.
  - The same plugin file provides C(firewall_errors) (the problems as a list instead of failing),
    C(firewall_missing) and C(firewall_stale) (which planned rules UFW lacks, and
    community.general.ufw parameters deleting the stored rules the plan lacks), C(ufw_user_rules)
    (parse /etc/ufw/user.rules), C(ufw_status) (parse C(ufw status verbose)), C(ufw_policy_changes) (default policies a status lacks), C(firewall_status_rules)
    and C(ufw_status_rules) (comparable rule keys of a plan and of a status), C(firewall_rule_params)
    (community.general.ufw parameters adding a planned rule), C(firewall_flood_blocks) (the SIP
    flood-limit block of UFW's before.rules and before6.rules, by file) and C(firewall_guard) (would enabling the
    firewall cut the controller's SSH connection), C(getent_addresses) (trunk host names resolved on the PBX).
options:
  _input:
    description: The model returned by C(vpbx.hardened.sip_model).
    type: dict
    required: true
  settings:
    description:
      - C(ssh_port), C(ssh_sources), C(ssh_limit), C(sip_port), C(tls_port), C(rtp_start), C(rtp_end),
        C(extra_networks), C(rtp_networks), C(open_to_world), C(allow), C(ipv6), C(logging),
        C(flood_rate), C(flood_burst), C(flood_exempt) and
        C(resolved) (trunk host name -> addresses it resolves to on the PBX).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Plan the rules
  ansible.builtin.set_fact:
    __plan: "{{ sip_model | vpbx.hardened.firewall_plan({'ssh_sources': ['192.0.2.0/24']}) }}"
"""

RETURN = r"""
_value:
  description:
    - C(rules) (each C(name), C(rule), C(proto), C(port), C(from), C(comment)), C(ssh_port),
      C(ssh_sources), C(sip_networks), C(rtp_networks), C(ports), C(logging), C(ipv6), C(flood)
      (C(rate), C(burst), C(ports), C(exempt)).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.vpbx.hardened.plugins.module_utils.plain import plain as _plain

from ansible_collections.vpbx.hardened.plugins.module_utils import firewall as fw


def firewall_plan(model, settings, names=None):
    try:
        return fw.plan(_plain(model), _plain(settings), _plain(names))
    except fw.FirewallError as exc:
        raise AnsibleFilterError("Invalid firewall settings - nothing was changed:\n- " + "\n- ".join(exc.errors))


def firewall_errors(model, settings, names=None):
    return fw.errors(_plain(model), _plain(settings), _plain(names))


def firewall_missing(plan, current):
    return fw.missing(_plain(current), _plain(plan)["rules"], bool(plan["ipv6"]))


def firewall_stale(plan, current):
    return fw.stale(_plain(current), _plain(plan)["rules"], bool(plan["ipv6"]))


def firewall_flood_blocks(plan):
    return fw.flood_blocks(_plain(plan))


def firewall_rule_params(rule):
    return fw.module_params(_plain(rule))


def firewall_status_rules(plan):
    return [list(key) for key in fw.status_rules(_plain(plan)["rules"], bool(plan["ipv6"]))]


def ufw_status_rules(status):
    return [list(key) for key in fw.status_keys(_plain(status))]


def ufw_policy_changes(status, policies):
    return fw.policy_changes(_plain(status), _plain(policies))


def ufw_user_rules(text):
    return fw.parse_user_rules(str(text or ""))


def ufw_status(text):
    return fw.parse_status(str(text or ""))


def getent_addresses(results):
    """{host: [addresses]} from the registered results of a `getent ahosts` loop."""
    return {str(r.get("item")): fw.parse_getent(r.get("stdout", "")) for r in _plain(results or [])}


def firewall_guard(connection, ssh_connection, sources, ssh_port, controller=""):
    return fw.guard(_plain(connection), _plain(ssh_connection), _plain(sources), _plain(ssh_port),
                    _plain(controller))


class FilterModule:
    def filters(self):
        return {
            "firewall_plan": firewall_plan,
            "firewall_errors": firewall_errors,
            "firewall_missing": firewall_missing,
            "firewall_stale": firewall_stale,
            "firewall_rule_params": firewall_rule_params,
            "firewall_flood_blocks": firewall_flood_blocks,
            "firewall_status_rules": firewall_status_rules,
            "ufw_status_rules": ufw_status_rules,
            "ufw_user_rules": ufw_user_rules,
            "ufw_policy_changes": ufw_policy_changes,
            "ufw_status": ufw_status,
            "firewall_guard": firewall_guard,
            "getent_addresses": getent_addresses,
        }
