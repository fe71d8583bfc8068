# SPDX-License-Identifier: GPL-3.0-or-later
"""Changes through the playbooks, over SSH like an operator's run (last in the scenario: the
file name sorts after the read-only checks). Bad input fails before UFW (or anything) is
touched; a changed RTP range and subscriber network update the rules and leave no stale rule;
hand-made rules are removed unless purging is switched off; check mode reports without changing."""

from __future__ import annotations

import json
import subprocess

import probes
from probes import fw
import pytest
from test_firewall import EXPECTED

testinfra_hosts = [probes.PBX]

SUBSCRIBERS = [
    {"extension": "1001", "secret": "Fw-test-Secret-alpha-xq7", "permit": ["172.30.78.48/28"]},
    {"extension": "1002", "secret": "Fw-test-Secret-bravo-kp3", "permit": ["172.30.78.64/28"]},
]


def extra(**variables):
    return ["-e", json.dumps(variables)]


def rules():
    return fw.status_keys(fw.parse_status(probes.ufw_status()))


def ufw(*args):
    subprocess.run(["docker", "exec", probes.PBX, "ufw", *args], capture_output=True, text=True, timeout=60,
                   check=True)


BAD = [
    ("firewall", {"asterisk_firewall_extra_networks": ["172.30.78.0/33"]},
     "asterisk_firewall_extra_networks[0]: '172.30.78.0/33' is not an IPv4/IPv6 address or network"),
    ("site", {"asterisk_rtp_port_start": 10100, "asterisk_rtp_port_end": 10000},
     "asterisk_rtp_port_start/asterisk_rtp_port_end (10100..10000) must be a range"),
    ("firewall", {"asterisk_firewall_ssh_sources": ["192.0.2.0/24"]},
     "Lockout guard - nothing was changed: the controller connects from 172.30.78.1, which "
     "asterisk_firewall_ssh_sources (192.0.2.0/24) does not include"),
    ("site", {"asterisk_sip_subscribers": SUBSCRIBERS[:1] + [dict(SUBSCRIBERS[1], permit=["0.0.0.0/0"])]},
     "asterisk_sip_subscribers (extension 1002).permit[0]: the phone may register from anywhere, but the "
     "firewall opens SIP and RTP to the whole Internet only with asterisk_firewall_sip_open_to_world: true"),
    ("firewall", {"asterisk_firewall_allow": [{"port": "9000:8000", "proto": "tcp"}]},
     "asterisk_firewall_allow[0].port: '9000:8000' is outside 1-65535 or reversed"),
]


@pytest.mark.parametrize("playbook, variables, message", BAD, ids=[
    "malformed-network", "reversed-rtp-range", "ssh-sources-exclude-controller", "world-without-switch",
    "reversed-allow-range"])
def test_bad_input_fails_before_anything_is_touched(playbook, variables, message):
    before = probes.snapshot()
    result = probes.playbook(playbook, *extra(**variables))
    assert result["rc"] != 0, result["output"][-3000:]
    flat = " ".join(result["output"].split())
    assert message in flat, result["output"][-3000:]
    assert result["changed"] == 0, result["output"][-3000:]
    assert probes.snapshot() == before
    assert rules() == EXPECTED


def test_check_mode_reports_a_change_without_making_it():
    before = probes.snapshot()
    result = probes.playbook("firewall", *extra(asterisk_firewall_rtp_networks=["198.51.100.0/25"]), check=True)
    assert result["rc"] == 0, result["output"][-3000:]
    assert result["changed"] >= 1, result["output"][-3000:]
    # One rule added, one deleted: one ufw_apply run lists both in its --diff.
    assert "add: allow 10000:10100/udp from 198.51.100.0/25 (rtp)" in result["output"], result["output"][-3000:]
    assert "delete: allow 10000:10100 udp from " in result["output"], result["output"][-3000:]
    assert probes.snapshot() == before


def test_changed_rtp_range_and_subscriber_network_leave_no_stale_rule(host):
    ufw("allow", "8088/tcp")  # a rule made by hand: not in the plan
    moved = [SUBSCRIBERS[0], dict(SUBSCRIBERS[1], permit=["172.30.78.112/28"])]
    result = probes.playbook("site", *extra(asterisk_rtp_port_start=12000, asterisk_rtp_port_end=12100,
                                            asterisk_sip_subscribers=moved))
    assert result["rc"] == 0 and result["failed"] == 0, result["output"][-4000:]
    want = sorted({(("12000:12100" if port == "10000:10100" else port), proto, action,
                    ("172.30.78.112/28" if source == "172.30.78.64/28" else source), iface)
                   for port, proto, action, source, iface in EXPECTED})
    assert rules() == want
    # Asterisk got the same range from the same variables.
    settings = host.check_output("asterisk -rx 'rtp show settings'")
    assert "12000" in settings and "12100" in settings
    # What was removed is kept in a backup.
    assert host.run("grep -l 'allow tcp 8088' /etc/ufw/user.rules.vpbx-*").rc == 0
    # And the next run changes nothing.
    again = probes.playbook("firewall", *extra(asterisk_rtp_port_start=12000, asterisk_rtp_port_end=12100,
                                               asterisk_sip_subscribers=moved))
    assert (again["rc"], again["changed"]) == (0, 0), again["output"][-4000:]


def test_without_ipv6_the_firewall_closes_ipv6_instead_of_leaving_it_open(host):
    """A port open to any source: the outside client reaches it over IPv6 while the firewall manages
    IPv6 (the control), and no longer once asterisk_firewall_ipv6 is false - over IPv4 it still
    does. (UFW with IPV6=no, what `false` used to set, filters nothing over IPv6.)"""
    allow = [{"port": "8090", "proto": "tcp", "comment": "ipv6 probe"}]
    managed = probes.playbook("firewall", *extra(asterisk_firewall_allow=allow))
    assert managed["rc"] == 0, managed["output"][-3000:]
    assert probes.reached_by("tcp", 8090, [probes.OUTSIDE6]) == [probes.OUTSIDE6["ip"]]
    closed = probes.playbook("firewall", *extra(asterisk_firewall_allow=allow, asterisk_firewall_ipv6=False,
                                                asterisk_firewall_rtp_networks=["198.51.100.0/24"]))
    assert closed["rc"] == 0, closed["output"][-3000:]
    assert probes.reached_by("tcp", 8090, [probes.OUTSIDE6, probes.OUTSIDE]) == [probes.OUTSIDE["ip"]]
    assert probes.run(probes.OUTSIDE["name"], "connect-tcp", 22, 3, probes.PBX_IP6).startswith("closed")
    assert host.run("grep -x IPV6=yes /etc/default/ufw").rc == 0
    assert host.check_output("ip6tables -S INPUT | head -n1") == "-P INPUT DROP"
    assert not [r for r in fw.parse_status(probes.ufw_status())["rules"] if r["v6"]]


def test_purge_can_be_switched_off_and_back_on():
    ufw("allow", "8089/tcp")
    kept = probes.playbook("firewall", *extra(asterisk_firewall_purge=False))
    assert kept["rc"] == 0, kept["output"][-3000:]
    assert ("8089", "tcp", "allow", "0.0.0.0/0", "") in rules()
    # The inventory as converged: the earlier test's changes and the hand-made rule go.
    restored = probes.playbook("site")
    assert restored["rc"] == 0, restored["output"][-3000:]
    assert rules() == EXPECTED
