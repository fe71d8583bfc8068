# SPDX-License-Identifier: GPL-3.0-or-later
"""Operators' mistakes: malformed inventories given to the site playbook on both converged PBXs.

Each run must fail before any change - /etc/asterisk, UFW's rules and what it enforces, the fail2ban
files and Asterisk's process are byte-for-byte the same afterwards - with a message naming the
variable path. (Runs after test_attack.py: the converged state is what the attack left, with the
attacker unbanned.)
"""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest
import testinfra

PBXS = ["vpbx-attack16", "vpbx-attack22"]
RECAP = re.compile(r"^(?P<host>\S+)\s+:\s+ok=\d+\s+changed=(?P<changed>\d+)", re.MULTILINE)
SECRETS = {"1001": "Tq8-office-Vw3x-secret-Ka2", "1002": "Hm5-target-Zr9q-secret-Pd4"}


def subscribers(*changes):
    """The scenario's subscribers with one field changed (index, field, value) per change."""
    subs = [{"extension": "1001", "name": "Office", "secret": SECRETS["1001"], "max_calls": 30},
            {"extension": "1002", "name": "Cracked", "secret": SECRETS["1002"]}]
    for index, field, value in changes:
        subs[index][field] = value
    return subs


TRUNK = [{"name": "provider", "host": "172.30.81.60", "context": "from-provider", "qualify": False}]
CONTEXTS = [{"name": "office", "echo_test": True, "max_calls": 40, "routes": ["out"]}]

# (id, hosts, extra vars, the variable path the message must name)
BAD_INPUT = [
    ("weak-secret", PBXS, {"asterisk_sip_subscribers": subscribers((0, "secret", "password123"))},
     "asterisk_sip_subscribers[0] (extension 1001).secret"),
    ("secret-missing", PBXS, {"asterisk_sip_subscribers": subscribers((1, "secret", ""))},
     "asterisk_sip_subscribers[1] (extension 1002).secret"),
    ("duplicate-extension", PBXS, {"asterisk_sip_subscribers": subscribers((1, "extension", "1001"))},
     "asterisk_sip_subscribers[1]"),
    ("invalid-network", PBXS, {"asterisk_sip_subscribers": subscribers((0, "permit", ["172.30.81.0/33"]))},
     "asterisk_sip_subscribers[0] (extension 1001).permit"),
    ("unknown-codec", PBXS, {"asterisk_sip_subscribers": subscribers((0, "codecs", ["alaw", "g729x"]))},
     "asterisk_sip_subscribers[0] (extension 1001).codecs"),
    ("chan_sip-on-22", ["vpbx-attack22"], {"asterisk_sip_driver": "chan_sip"}, "asterisk_sip_driver"),
    ("raw-option-name", PBXS, {"asterisk_sip_subscribers": subscribers((0, "options", {"Bad Option": "1"}))},
     "asterisk_sip_subscribers[0] (extension 1001).options"),
    ("trivial-voicemail-pin", PBXS,
     {"asterisk_sip_subscribers": subscribers((1, "voicemail", True), (1, "voicemail_pin", "1234"))},
     "asterisk_sip_subscribers[1] (extension 1002).voicemail_pin"),
    ("trivial-conference-pin", PBXS,
     {"asterisk_dialplan_conferences": [{"name": "board", "extension": "700", "pin": "147700"}]},
     "asterisk_dialplan_conferences[0] (board).pin"),
    ("subscriber-in-unknown-context", PBXS, {"asterisk_sip_subscribers": subscribers((1, "context", "nowhere"))},
     "nowhere"),
    ("route-to-unknown-trunk", PBXS,
     {"asterisk_sip_trunks": TRUNK, "asterisk_dialplan_contexts": CONTEXTS,
      "asterisk_dialplan_routes": [{"name": "out", "pattern": "_8[34]XXXXXXXXX", "trunk": "nosuch"}]},
     "asterisk_dialplan_routes[0]"),
    ("catch-all-without-opt-in", PBXS,
     {"asterisk_sip_trunks": TRUNK, "asterisk_dialplan_contexts": CONTEXTS,
      "asterisk_dialplan_routes": [{"name": "out", "pattern": "_X.", "trunk": "provider"}]},
     "asterisk_dialplan_routes[0]"),
    ("invalid-pattern", PBXS,
     {"asterisk_sip_trunks": TRUNK, "asterisk_dialplan_contexts": CONTEXTS,
      "asterisk_dialplan_routes": [{"name": "out", "pattern": "_8[3-7XXX", "trunk": "provider"}]},
     "asterisk_dialplan_routes[0]"),
    # Toll fraud: a German office's loose national route reaches 0900 premium numbers; an unknown
    # numbering plan; a raw option that would move a phone into another context; a trunk that would
    # make half the Internet unauthenticated; an AMI user that could place calls.
    ("route-reaches-premium-rate", PBXS,
     {"asterisk_sip_trunks": TRUNK, "asterisk_dialplan_contexts": CONTEXTS, "asterisk_dialplan_country": "DE",
      "asterisk_dialplan_routes": [{"name": "out", "pattern": "_0X.", "trunk": "provider"}]},
     "asterisk_dialplan_routes[0] (out).pattern: '_0X.' can reach"),
    ("unknown-country", PBXS, {"asterisk_dialplan_country": "XX"}, "asterisk_dialplan_country: 'XX'"),
    ("raw-option-overrides-the-context", PBXS,
     {"asterisk_sip_subscribers": subscribers((1, "options", {"context": "office"}))},
     "asterisk_sip_subscribers[1] (extension 1002).options.context"),
    ("trunk-identify-too-wide", PBXS, {"asterisk_sip_trunks": [dict(TRUNK[0], identify=["0.0.0.0/1"])]},
     "asterisk_sip_trunks[0] (provider).identify[0]"),
    ("ami-user-may-originate", PBXS,
     {"asterisk_manager_users": [{"name": "crm", "secret": "Rb7-crm-Kq2v-secret-Zt5", "write": ["call", "originate"]}]},
     "asterisk_manager_users[0] (crm).write grants originate"),
    ("reversed-rtp-range", PBXS, {"asterisk_rtp_port_start": 20000, "asterisk_rtp_port_end": 10000},
     "asterisk_rtp_port_start"),
    ("ssh-sources-without-the-controller", PBXS,
     {"asterisk_firewall_controller_address": "172.30.81.1", "asterisk_firewall_ssh_sources": ["192.0.2.0/24"]},
     "asterisk_firewall_ssh_sources"),
    ("firewall-reversed-port-range", PBXS,
     {"asterisk_firewall_allow": [{"port": "9000:8000", "proto": "tcp", "from": ["192.0.2.0/24"]}]},
     "asterisk_firewall_allow[0].port"),
    ("unknown-module-feature", PBXS, {"asterisk_modules_features": ["pjsip", "no_such_feature"]},
     "no_such_feature"),
    ("fail2ban-admin-network-any", PBXS, {"asterisk_fail2ban_admin_networks": ["0.0.0.0/0"]},
     "asterisk_fail2ban_admin_networks[0]"),
    ("fail2ban-bantime", PBXS, {"asterisk_fail2ban_bantime": "forever"}, "asterisk_fail2ban_bantime"),
]


def host(name):
    return testinfra.get_host("docker://" + name)


def snapshot(h):
    """Everything a run could change: /etc/asterisk, UFW's files and live rules, fail2ban's files,
    the Asterisk process."""
    return {
        "asterisk": h.check_output("cd /etc/asterisk && find . -type f -exec sha256sum {} + | sort -k2"),
        "ufw-files": h.check_output("sha256sum /etc/ufw/user.rules /etc/ufw/user6.rules /etc/default/ufw"),
        "ufw": h.check_output("ufw status verbose"),
        "iptables": h.check_output("iptables-save | grep -v '^[#:]'"),
        "fail2ban": h.check_output("cd /etc/fail2ban && find . -type f -exec sha256sum {} + | sort -k2"),
        "pid": h.check_output("systemctl show -p MainPID --value asterisk"),
    }


def test_the_suite_is_at_least_fifteen_inventories():
    assert len(BAD_INPUT) >= 15 and len({case[0] for case in BAD_INPUT}) == len(BAD_INPUT)


@pytest.mark.parametrize("hosts, extra, path", [case[1:] for case in BAD_INPUT], ids=[c[0] for c in BAD_INPUT])
def test_bad_input_fails_before_any_change(hosts, extra, path):
    before = {name: snapshot(host(name)) for name in hosts}
    cmd = ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], "vpbx.hardened.site",
           "--limit", ",".join(hosts), "-e", json.dumps(extra)]
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False, env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-4000:]
    assert path in out, out[-6000:]
    assert all(int(m.group("changed")) == 0 for m in RECAP.finditer(out)), out[-3000:]
    for name in hosts:
        assert snapshot(host(name)) == before[name], "%s changed although the input was refused" % name
