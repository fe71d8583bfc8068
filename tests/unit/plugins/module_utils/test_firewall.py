# SPDX-License-Identifier: GPL-3.0-or-later
"""The firewall plan, UFW's rule store and status readers, and the lockout guard."""

from __future__ import annotations

import os

import pytest

from ansible_collections.vpbx.hardened.plugins.module_utils import firewall as fw
from ansible_collections.vpbx.hardened.plugins.module_utils import sip_model

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "ufw")


def fixture(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as handle:
        return handle.read()


def model(subscribers=None, trunks=None, transports=("udp",)):
    if subscribers is None:
        subscribers = [{"extension": "1001", "secret": "Unit-test-Secret-alpha-q9", "context": "office",
                        "permit": ["192.0.2.0/24"]}]
    return sip_model.normalize(subscribers, trunks or [], settings={"driver": "pjsip", "transports": list(transports)})


BASE = {"ssh_sources": ["203.0.113.0/28"], "rtp_start": 10000, "rtp_end": 20000}


def settings(**kwargs):
    return dict(BASE, **kwargs)


def labels(plan):
    return [r["label"] for r in plan["rules"]]


# --- the plan -----------------------------------------------------------------------------------

def test_ssh_comes_first_and_is_rate_limited():
    plan = fw.plan(model(), settings())
    assert plan["rules"][0] == {"name": "ssh", "rule": "limit", "proto": "tcp", "port": "22", "from": "203.0.113.0/28",
                                "comment": "vpbx.hardened ssh", "label": "limit 22/tcp from 203.0.113.0/28 (ssh)",
                                "ufw_from": "203.0.113.0/28"}
    assert fw.plan(model(), settings(ssh_limit=False))["rules"][0]["rule"] == "allow"


def test_sip_and_rtp_only_from_the_models_networks():
    trunks = [{"name": "itsp", "host": "198.51.100.7"}]
    assert labels(fw.plan(model(trunks=trunks), settings())) == [
        "limit 22/tcp from 203.0.113.0/28 (ssh)",
        "allow 5060/udp from 192.0.2.0/24 (sip-udp)",
        "allow 5060/udp from 198.51.100.7 (sip-udp)",
        "allow 10000:20000/udp from 192.0.2.0/24 (rtp)",
        "allow 10000:20000/udp from 198.51.100.7 (rtp)",
    ]


@pytest.mark.parametrize("transports, sip_port, tls_port, expected", [
    (("udp",), 5060, 5061, [("5060", "udp")]),
    (("udp", "tcp"), 5060, 5061, [("5060", "udp"), ("5060", "tcp")]),
    (("udp", "tcp", "tls"), 5062, 5063, [("5062", "udp"), ("5062", "tcp"), ("5063", "tcp")]),
    (("tls",), 5060, 5061, [("5061", "tcp")]),
])
def test_sip_ports_follow_the_transports(transports, sip_port, tls_port, expected):
    subs = [{"extension": "1001", "secret": "Unit-test-Secret-alpha-q9", "context": "office",
             "permit": ["192.0.2.0/24"], "transport": transports[0]}]
    plan = fw.plan(model(subs, transports=transports), settings(sip_port=sip_port, tls_port=tls_port))
    assert [(p["port"], p["proto"]) for p in plan["ports"]] == expected
    sip_rules = [(r["port"], r["proto"]) for r in plan["rules"] if r["name"].startswith("sip-")]
    assert sip_rules == expected


def test_networks_are_merged_and_deduplicated():
    subs = [{"extension": str(1000 + i), "secret": "Unit-test-Secret-alpha-q9", "context": "office",
             "permit": ["192.0.2.%d/32" % i]} for i in range(0, 256, 1)]
    plan = fw.plan(model(subs), settings())
    assert plan["sip_networks"] == ["192.0.2.0/24"]
    assert len(plan["rules"]) == 3


def test_trunk_host_names_use_the_addresses_they_resolve_to_on_the_pbx():
    trunks = [{"name": "itsp", "host": "sip.provider.test"}]
    plan = fw.plan(model(trunks=trunks), settings(resolved={"sip.provider.test": ["198.51.100.7", "2001:db8::7"]}))
    assert "198.51.100.7" in plan["sip_networks"] and "2001:db8::7" in plan["sip_networks"]
    plan = fw.plan(model(trunks=trunks), settings(ipv6=False, resolved={"sip.provider.test": ["198.51.100.7",
                                                                                              "2001:db8::7"]}))
    assert "2001:db8::7" not in plan["sip_networks"]


def test_trunk_identify_networks_replace_the_host():
    trunks = [{"name": "itsp", "host": "sip.provider.test", "identify": ["198.51.100.0/28"]}]
    assert fw.plan(model(trunks=trunks), settings())["sip_networks"] == ["192.0.2.0/24", "198.51.100.0/28"]


def test_extra_and_rtp_only_networks():
    plan = fw.plan(model(), settings(extra_networks=["10.1.0.0/16"], rtp_networks=["198.51.100.0/24"]))
    assert plan["sip_networks"] == ["10.1.0.0/16", "192.0.2.0/24"]
    assert plan["rtp_networks"] == ["10.1.0.0/16", "192.0.2.0/24", "198.51.100.0/24"]


def test_open_to_world_is_one_rule_per_port():
    subs = [{"extension": "1001", "secret": "Unit-test-Secret-alpha-q9", "context": "office",
             "permit": ["0.0.0.0/0", "::/0"]}]
    plan = fw.plan(model(subs), settings(open_to_world=True))
    assert labels(plan)[1:] == ["allow 5060/udp from any (sip-udp)", "allow 10000:20000/udp from any (rtp)"]


def test_no_subscriber_no_trunk_means_no_sip_rule():
    assert labels(fw.plan(model([]), settings())) == ["limit 22/tcp from 203.0.113.0/28 (ssh)"]


def test_extra_allow_rules():
    plan = fw.plan(model([]), settings(allow=[{"port": 443, "from": ["192.0.2.0/24"], "comment": "provisioning"},
                                              {"port": "8000-8010", "proto": "udp", "rule": "limit"}]))
    assert labels(plan)[1:] == ["allow 443/tcp from 192.0.2.0/24 (allow-0-provisioning)",
                                "limit 8000:8010/udp from any (allow-1)"]


@pytest.mark.parametrize("given, path", [
    ({"ssh_sources": ["192.0.2.0/33"]}, "asterisk_firewall_ssh_sources[0]:"),
    ({"ssh_sources": ["192.0.2.1/24"]}, "asterisk_firewall_ssh_sources[0]: '192.0.2.1/24' has host bits set"),
    ({"ssh_sources": []}, "asterisk_firewall_ssh_sources: is empty"),
    ({"ssh_sources": ["2001:db8::/64"], "ipv6": False}, "asterisk_firewall_ssh_sources[0]: '2001:db8::/64' is an IPv6"),
    ({"ssh_port": 0}, "asterisk_firewall_ssh_port:"),
    ({"ssh_limit": "maybe"}, "asterisk_firewall_ssh_limit:"),
    ({"extra_networks": ["10.0.0.300/24"]}, "asterisk_firewall_extra_networks[0]:"),
    ({"extra_networks": "any"}, "asterisk_firewall_extra_networks: contains any"),
    ({"rtp_networks": [{"net": 1}]}, "asterisk_firewall_rtp_networks[0]:"),
    ({"rtp_start": 20000, "rtp_end": 10000}, "asterisk_rtp_port_start/asterisk_rtp_port_end: 20000..10000 is reversed"),
    ({"rtp_start": 80}, "asterisk_rtp_port_start:"),
    ({"rtp_end": 70000}, "asterisk_rtp_port_end:"),
    ({"sip_port": "five"}, "asterisk_sip_port:"),
    ({"logging": "verbose"}, "asterisk_firewall_logging: 'verbose': choose one of off, on, low"),
    ({"open_to_world": "sure"}, "asterisk_firewall_sip_open_to_world:"),
    ({"ipv6": "maybe"}, "asterisk_firewall_ipv6:"),
    ({"allow": "443"}, "asterisk_firewall_allow: must be a list"),
    ({"allow": ["443"]}, "asterisk_firewall_allow[0]: must be a mapping"),
    ({"allow": [{"port": "9000:8000"}]}, "asterisk_firewall_allow[0].port: '9000:8000' is outside"),
    ({"allow": [{"port": "http"}]}, "asterisk_firewall_allow[0].port:"),
    ({"allow": [{"port": 443, "proto": "sctp"}]}, "asterisk_firewall_allow[0].proto:"),
    ({"allow": [{"port": 443, "rule": "deny"}]}, "asterisk_firewall_allow[0].rule:"),
    ({"allow": [{"port": 443, "from": []}]}, "asterisk_firewall_allow[0].from: is empty"),
    ({"allow": [{"port": 443, "src": "any"}]}, "asterisk_firewall_allow[0]: unknown field(s) src"),
    ({"allow": [{"port": 443, "comment": "it's"}]}, "asterisk_firewall_allow[0].comment:"),
    ({"allow": [{"port": 22}]}, "asterisk_firewall_allow[0].port: 22 is the SSH port"),
])
def test_bad_settings_name_the_variable(given, path):
    errors = fw.errors(model(), settings(**given))
    assert any(e.startswith(path) for e in errors), errors


def test_ssh_port_must_not_be_a_sip_tcp_port():
    subs = [{"extension": "1001", "secret": "Unit-test-Secret-alpha-q9", "context": "office",
             "permit": ["192.0.2.0/24"]}]
    assert fw.errors(model(subs, transports=("udp",)), settings(ssh_port=5060)) == []
    assert fw.errors(model(subs, transports=("udp", "tcp")), settings(ssh_port=5060)) == [
        "asterisk_firewall_ssh_port: 5060 is also a SIP port: SSH and SIP need different ports"]


def test_roaming_subscriber_needs_the_explicit_switch():
    subs = [{"extension": "1001", "secret": "Unit-test-Secret-alpha-q9", "context": "office", "permit": ["0.0.0.0/0"]}]
    errors = fw.errors(model(subs), settings())
    assert errors == ["asterisk_sip_subscribers (extension 1001).permit[0]: the phone may register from anywhere, "
                      "but the firewall opens SIP and RTP to the whole Internet only with "
                      "asterisk_firewall_sip_open_to_world: true (roaming phones; then rely on fail2ban): set it, "
                      "or narrow this to the networks the phones use"]


def test_unresolvable_trunk_host_is_refused():
    errors = fw.errors(model(trunks=[{"name": "itsp", "host": "sip.provider.test"}]), settings())
    assert errors and errors[0].startswith("asterisk_sip_trunks (itsp).host: 'sip.provider.test' does not resolve")


def test_every_error_is_reported_at_once():
    with pytest.raises(fw.FirewallError) as exc:
        fw.plan(model(), settings(ssh_sources=["x"], rtp_start=2, logging="loud"))
    assert len(exc.value.errors) == 3


# --- UFW's rule store ---------------------------------------------------------------------------

def test_parse_user_rules_fixture():
    rules = fw.parse_user_rules(fixture("user.rules"))
    assert rules[0] == {"action": "allow", "proto": "udp", "dport": "5060", "dst": "0.0.0.0/0", "sport": "any",
                        "src": "172.30.78.48/28", "dapp": "-", "sapp": "-", "direction": "in", "comment": "other"}
    assert [r["direction"] for r in rules] == ["in", "in_eth0", "in"]
    assert [r["proto"] for r in rules] == ["udp", "tcp", "any"]


def test_parse_user_rules_application_and_log_rules():
    text = ("### tuple ### allow any 22 0.0.0.0/0 any 0.0.0.0/0 OpenSSH - in\n"
            "### tuple ### route:deny_log-all tcp 80 10.0.0.1 any 0.0.0.0/0 out_eth1 comment=6869\n")
    app, route = fw.parse_user_rules(text)
    assert app["dapp"] == "OpenSSH" and app["direction"] == "in"
    assert route["action"] == "route:deny_log-all" and route["comment"] == "hi"
    params = fw.stale([app, route], [])
    assert params[0]["name"] == "OpenSSH" and "to_port" not in params[0]
    assert params[1]["route"] is True and params[1]["log"] is True and params[1]["rule"] == "deny"
    assert params[1]["interface_out"] == "eth1" and "direction" not in params[1]


def test_missing_and_stale_against_the_store():
    plan = fw.plan(model([{"extension": "1001", "secret": "Unit-test-Secret-alpha-q9", "context": "office",
                           "permit": ["172.30.78.48/28"]}]),
                   settings(ssh_sources=["any"], rtp_start=10000, rtp_end=10100))
    current = fw.parse_user_rules(fixture("user.rules") + fixture("user6.rules"))
    assert [r["label"] for r in fw.missing(current, plan["rules"])] == [
        "limit 22/tcp from any (ssh)", "allow 10000:10100/udp from 172.30.78.48/28 (rtp)"]
    stale = fw.stale(current, plan["rules"])
    # Each family's rule is deleted on its own: `any` would also delete the other family's.
    assert [(s.get("to_port"), s["from_ip"]) for s in stale] == [
        ("8088", "0.0.0.0/0"), ("5000", "0.0.0.0/0"), ("10000:10100", "2001:db8::/64"), ("8088", "::/0"),
        ("5000", "::/0")]


def test_any_rule_is_missing_when_one_ip_version_is():
    plan = fw.plan(model([]), settings(ssh_sources=["any"]))
    v4_only = fw.parse_user_rules("### tuple ### limit tcp 22 0.0.0.0/0 any 0.0.0.0/0 in\n")
    assert len(fw.missing(v4_only, plan["rules"], ipv6=True)) == 1
    assert fw.missing(v4_only, plan["rules"], ipv6=False) == []


def test_a_converged_store_has_nothing_missing_or_stale():
    plan = fw.plan(model(trunks=[{"name": "itsp", "host": "198.51.100.7"}]), settings(ssh_sources=["any"]))
    store = "\n".join("### tuple ### %s %s %s %s %s %s %s" % key[:7] for key in fw.tuples(plan["rules"]))
    current = fw.parse_user_rules(store)
    assert fw.missing(current, plan["rules"]) == [] and fw.stale(current, plan["rules"]) == []


def test_host_addresses_compare_with_and_without_prefix_length():
    plan = fw.plan(model([]), settings(ssh_sources=["203.0.113.5/32"]))
    current = fw.parse_user_rules("### tuple ### limit tcp 22 0.0.0.0/0 any 203.0.113.5 in\n")
    assert fw.missing(current, plan["rules"]) == [] and fw.stale(current, plan["rules"]) == []


def test_module_params_of_a_rule():
    rule = fw.plan(model([]), settings())["rules"][0]
    assert fw.module_params(rule) == {"rule": "limit", "proto": "tcp", "to_port": "22", "from_ip": "203.0.113.0/28",
                                      "to_ip": "any", "direction": "in", "comment": "vpbx.hardened ssh"}


# --- ufw status verbose -------------------------------------------------------------------------

def test_parse_status_fixture():
    status = fw.parse_status(fixture("status-verbose-active.txt"))
    assert status["active"] is True and status["logging"] == "low"
    assert status["defaults"] == {"incoming": "deny", "outgoing": "allow", "routed": "deny"}
    assert fw.status_keys(status) == [
        ("10000:10100", "udp", "allow", "2001:db8::/64", ""), ("5000", "any", "allow", "0.0.0.0/0", ""),
        ("5000", "any", "allow", "::/0", ""), ("5060", "udp", "allow", "172.30.78.48/28", ""),
        ("8088", "tcp", "allow", "0.0.0.0/0", "eth0"), ("8088", "tcp", "allow", "::/0", "eth0")]
    assert status["rules"][0]["comment"] == "other"


def test_policy_changes():
    policies = [{"direction": "incoming", "policy": "deny"}, {"direction": "routed", "policy": "deny"},
                {"direction": "outgoing", "policy": "allow"}]
    assert fw.policy_changes(fw.parse_status(fixture("status-verbose-active.txt")), policies) == []
    assert fw.policy_changes(fw.parse_status(fixture("status-verbose-inactive.txt")), policies) == policies
    status = {"defaults": {"incoming": "allow", "outgoing": "allow", "routed": "disabled"}}
    assert fw.policy_changes(status, policies) == policies[:2]


def test_parse_status_inactive():
    assert fw.parse_status(fixture("status-verbose-inactive.txt")) == {"active": False, "logging": "off",
                                                                       "defaults": {}, "rules": []}


def test_status_of_the_plan_matches_what_ufw_prints():
    plan = fw.plan(model([]), settings(ssh_sources=["any", "2001:db8::/64"]))
    # "any" is one rule that UFW stores and prints once per IP version.
    text = ("Status: active\nLogging: on (low)\nDefault: deny (incoming), allow (outgoing), deny (routed)\n"
            "New profiles: skip\n\nTo                         Action      From\n"
            "--                         ------      ----\n"
            "22/tcp                     LIMIT IN    Anywhere                   # vpbx.hardened ssh\n"
            "22/tcp (v6)                LIMIT IN    Anywhere (v6)              # vpbx.hardened ssh\n")
    assert fw.status_keys(fw.parse_status(text)) == fw.status_rules(plan["rules"])
    assert fw.status_rules(plan["rules"], ipv6=False) == [("22", "tcp", "limit", "0.0.0.0/0", "")]


# --- lockout guard ------------------------------------------------------------------------------

@pytest.mark.parametrize("connection, env, sources, port, controller, ok, kind, text", [
    ("ssh", "203.0.113.9 50000 192.0.2.10 22", ["203.0.113.0/28"], 22, "", True, "ssh", "is in the SSH source"),
    ("ssh", "198.51.100.9 50000 192.0.2.10 22", ["203.0.113.0/28"], 22, "", False, "ssh",
     "Add 198.51.100.9/32 (or its network) to asterisk_firewall_ssh_sources"),
    ("ssh", "198.51.100.9 50000 192.0.2.10 22", ["any"], 22, "", True, "ssh", "is in the SSH source any"),
    ("ssh", "203.0.113.9 50000 192.0.2.10 2222", ["203.0.113.0/28"], 22, "", False, "ssh",
     "set asterisk_firewall_ssh_port to 2222"),
    ("ansible.builtin.ssh", "2001:db8::5 50000 2001:db8::1 22", ["2001:db8::/64"], 22, "", True, "ssh", ""),
    ("ssh", "::ffff:203.0.113.9 50000 ::ffff:192.0.2.10 22", ["203.0.113.0/28"], 22, "", True, "ssh", ""),
    ("ssh", "127.0.0.1 50000 127.0.0.1 22", ["203.0.113.0/28"], 22, "", True, "loopback", "loopback"),
    ("ssh", "", ["203.0.113.0/28"], 22, "", False, "unknown", "set asterisk_firewall_controller_address"),
    ("paramiko", "", ["203.0.113.0/28"], 22, "203.0.113.3", True, "ssh", ""),
    ("ssh", "", ["203.0.113.0/28"], 22, "not-an-ip", False, "unknown", "is not an IP address"),
    ("community.docker.docker", "", ["203.0.113.0/28"], 22, "", True, "local", "does not pass"),
    ("local", "", [], 22, "", True, "local", ""),
    ("containers.podman.podman", "", [], 22, "", True, "local", ""),
    ("docker", "", ["203.0.113.0/28"], 22, "198.51.100.1", False, "ssh", "does not include"),
])
def test_guard(connection, env, sources, port, controller, ok, kind, text):
    result = fw.guard(connection, env, sources, port, controller)
    assert (result["ok"], result["kind"]) == (ok, kind), result
    assert text in result["message"]


def test_parse_getent():
    text = ("198.51.100.7    STREAM sip.provider.test\n198.51.100.7    DGRAM\n198.51.100.7    RAW\n"
            "2001:db8::7     STREAM\n")
    assert fw.parse_getent(text) == ["198.51.100.7", "2001:db8::7"]
    assert fw.parse_getent("") == []


def test_without_ipv6_nothing_is_opened_over_ipv6():
    """asterisk_firewall_ipv6: false - UFW still filters IPv6 (IPV6=yes, roles/asterisk_firewall/vars),
    an `any` source becomes IPv4's any, and a rule UFW keeps for IPv6 is stale."""
    plan = fw.plan(model([]), settings(ssh_sources=["any"], ipv6=False))
    assert [(r["from"], r["ufw_from"]) for r in plan["rules"]] == [("any", "0.0.0.0/0")]
    assert fw.module_params(plan["rules"][0])["from_ip"] == "0.0.0.0/0"
    both = fw.parse_user_rules("### tuple ### limit tcp 22 0.0.0.0/0 any 0.0.0.0/0 in\n"
                               "### tuple ### limit tcp 22 ::/0 any ::/0 in\n")
    assert fw.missing(both, plan["rules"], ipv6=False) == []
    assert [(s["from_ip"], s["to_port"]) for s in fw.stale(both, plan["rules"], ipv6=False)] == [("::/0", "22")]
    with_ipv6 = fw.plan(model([]), settings(ssh_sources=["any"]))
    assert with_ipv6["rules"][0]["ufw_from"] == "any" and fw.stale(both, with_ipv6["rules"]) == []


# --- the SIP flood limit ------------------------------------------------------------------------

def test_the_flood_limit_drops_what_one_source_sends_above_the_rate_except_trunks_and_admins():
    plan = fw.plan(model(trunks=[{"name": "itsp", "host": "198.51.100.7"}], transports=("udp", "tcp", "tls")),
                   settings(flood_rate=40, flood_burst=120, flood_exempt=["192.0.2.10"], tls_port=5061))
    assert plan["flood"]["exempt"] == ["192.0.2.10", "198.51.100.7", "203.0.113.0/28"]
    assert fw.flood_lines(plan, 4) == [
        ":ufw-vpbx-sip-flood - [0:0]",
        "-A ufw-before-input -p udp --dport 5060 -j ufw-vpbx-sip-flood",
        "-A ufw-before-input -p tcp --dport 5060 -j ufw-vpbx-sip-flood",
        "-A ufw-before-input -p tcp --dport 5061 -j ufw-vpbx-sip-flood",
        "-A ufw-vpbx-sip-flood -i lo -j RETURN",
        "-A ufw-vpbx-sip-flood -s 192.0.2.10 -j RETURN",
        "-A ufw-vpbx-sip-flood -s 198.51.100.7 -j RETURN",
        "-A ufw-vpbx-sip-flood -s 203.0.113.0/28 -j RETURN",
        "-A ufw-vpbx-sip-flood -m hashlimit --hashlimit-mode srcip --hashlimit-above 40/sec --hashlimit-burst 120 "
        "--hashlimit-name vpbx-sip --hashlimit-htable-expire 60000 -j DROP"]
    # IPv6 gets its own table, in UFW's ufw6- chains, with the IPv6 exemptions only.
    assert fw.flood_lines(plan, 6)[:2] == [":ufw6-vpbx-sip-flood - [0:0]",
                                           "-A ufw6-before-input -p udp --dport 5060 -j ufw6-vpbx-sip-flood"]
    assert fw.flood_lines(plan, 6)[-1].endswith("--hashlimit-name vpbx-sip6 --hashlimit-htable-expire 60000 -j DROP")
    assert not [line for line in fw.flood_lines(plan, 6) if " -s " in line]
    blocks = fw.flood_blocks(plan)
    assert sorted(blocks) == ["/etc/ufw/before.rules", "/etc/ufw/before6.rules"]
    # What blockinfile writes reads back as the same block.
    text = "*filter\n# End required lines\n%s\n%s\n%s\n-A ufw-before-input -i lo -j ACCEPT\nCOMMIT\n" % (
        fw.FLOOD_MARKER.format(mark="BEGIN"), blocks["/etc/ufw/before.rules"], fw.FLOOD_MARKER.format(mark="END"))
    assert fw.parse_blocks(text) == blocks["/etc/ufw/before.rules"] and fw.parse_blocks("*filter\nCOMMIT\n") == ""


def test_no_flood_limit_means_no_block_and_any_is_never_exempt():
    off = fw.plan(model(), settings(flood_rate=0))
    assert fw.flood_blocks(off) == {"/etc/ufw/before.rules": "", "/etc/ufw/before6.rules": ""}
    # SSH from anywhere does not exempt everyone from the limit.
    anywhere = fw.plan(model(), settings(ssh_sources=["any"], flood_rate=50))
    assert anywhere["flood"]["exempt"] == []


@pytest.mark.parametrize("extra, message", [
    ({"flood_rate": -1}, "asterisk_firewall_sip_flood_rate: -1: packets a second from one address, 0 for no limit"),
    ({"flood_rate": True}, "asterisk_firewall_sip_flood_rate: True"),
    ({"flood_burst": 0}, "asterisk_firewall_sip_flood_burst: 0: packets one address may send at once"),
    ({"flood_exempt": ["any"]}, "asterisk_firewall_sip_flood_exempt"),
])
def test_bad_flood_settings_name_the_variable(extra, message):
    with pytest.raises(fw.FirewallError) as exc:
        fw.plan(model(), settings(**extra))
    assert any(e.startswith(message) for e in exc.value.errors), exc.value.errors


# --- chan_sip: SIP opened only to the subscribers' ACL ------------------------------------------------

def chan_sip_model(permit=("192.0.2.0/24",), deny=()):
    subscribers = [{"extension": ext, "secret": "Unit-test-Secret-alpha-q9", "context": "office",
                    "permit": list(permit), "deny": list(deny)} for ext in ("1001", "1002")]
    return sip_model.normalize(subscribers, [], settings={"driver": "chan_sip", "transports": ["udp"]})


@pytest.mark.parametrize("changes,permit,deny", [
    ({"extra_networks": ["192.0.2.128/25"]}, ("192.0.2.0/24",), ()),   # inside the permit
    ({"extra_networks": ["198.51.100.0/24"], "open_to_world": True}, ("0.0.0.0/0",), ()),
    ({"open_to_world": True}, ("0.0.0.0/0", "::/0"), ()),
])
def test_chan_sip_opens_sip_inside_the_subscribers_acl(changes, permit, deny):
    fw.plan(chan_sip_model(permit, deny), settings(**changes))


@pytest.mark.parametrize("changes,deny,message", [
    ({"extra_networks": ["198.51.100.0/24"]}, (),
     "asterisk_firewall_extra_networks: 198.51.100.0/24 is outside the subscribers' permit [192.0.2.0/24]"),
    ({"extra_networks": ["192.0.2.0/23"]}, (), "asterisk_firewall_extra_networks: 192.0.2.0/23 is outside"),
    ({"extra_networks": ["192.0.2.8/29"]}, ("192.0.2.0/28",), "asterisk_firewall_extra_networks: 192.0.2.8/29 is outside"),
    ({"open_to_world": True}, (), "asterisk_firewall_sip_open_to_world: opens SIP to every address, but the "
                                  "subscribers may only use [192.0.2.0/24]"),
])
def test_chan_sip_refuses_sip_opened_outside_the_subscribers_acl(changes, deny, message):
    with pytest.raises(fw.FirewallError) as err:
        fw.plan(chan_sip_model(deny=deny), settings(**changes))
    assert any(e.startswith(message) and "use pjsip" in e for e in err.value.errors), err.value.errors
    # PJSIP answers both alike: the same firewall is fine there.
    pjsip = model([{"extension": "1001", "secret": "Unit-test-Secret-alpha-q9", "context": "office",
                    "permit": ["192.0.2.0/24"], "deny": list(deny)}])
    fw.plan(pjsip, settings(**changes))


# --- the whole plan in one run (ufw_apply) -----------------------------------------------------------

POLICIES = [{"direction": "incoming", "policy": "deny"}, {"direction": "routed", "policy": "deny"},
            {"direction": "outgoing", "policy": "allow"}]
BEFORE = "# rules.before\n*filter\n:ufw-before-input - [0:0]\n# End required lines\n-A ufw-before-input -i lo -j ACCEPT\nCOMMIT\n"


@pytest.mark.parametrize("params,expected", [
    ({"rule": "limit", "proto": "tcp", "to_port": "22", "from_ip": "203.0.113.0/28", "to_ip": "any", "direction": "in",
      "comment": "vpbx.hardened ssh"},
     ["limit", "in", "from", "203.0.113.0/28", "to", "any", "port", "22", "proto", "tcp", "comment", "vpbx.hardened ssh"]),
    ({"delete": True, "rule": "allow", "direction": "in", "from_ip": "0.0.0.0/0", "to_ip": "0.0.0.0/0", "to_port": "8088",
      "proto": "tcp", "label": "x"},
     ["delete", "allow", "in", "from", "0.0.0.0/0", "to", "0.0.0.0/0", "port", "8088", "proto", "tcp"]),
    ({"delete": True, "route": True, "log": True, "rule": "deny", "interface_out": "eth1", "from_ip": "any",
      "to_ip": "any", "name": "OpenSSH"},
     ["route", "delete", "deny", "out", "on", "eth1", "log", "from", "any", "to", "any", "app", "OpenSSH"]),
])
def test_ufw_command_in_ufws_long_format(params, expected):
    assert fw.ufw_command(params) == expected


def test_the_flood_block_is_put_where_blockinfile_puts_it_and_replaced_in_place():
    added = fw.with_block(BEFORE, "-A x\n-A y")
    assert added.splitlines()[3:7] == ["# End required lines", "# BEGIN vpbx.hardened SIP flood limit", "-A x", "-A y"]
    assert fw.parse_blocks(added) == "-A x\n-A y"
    changed = fw.with_block(added, "-A z")
    assert fw.parse_blocks(changed) == "-A z" and changed.count("# BEGIN vpbx") == 1
    assert fw.with_block(changed, "") == BEFORE


def test_ipv6_setting_is_replaced_or_added():
    assert fw.ipv6_setting('IPV6=yes\nIPV6="no"\n') == "no"
    assert fw.with_ipv6('# x\nIPV6=no\nDEFAULT_INPUT_POLICY="DROP"\n', "yes") == '# x\nIPV6=yes\nDEFAULT_INPUT_POLICY="DROP"\n'
    assert fw.with_ipv6("# x\n", "yes") == "# x\nIPV6=yes\n"


def converged_state(plan):
    """What UFW holds and shows once the plan is applied."""
    store = "\n".join("### tuple ### %s %s %s %s %s %s %s" % key[:7] for key in fw.tuples(plan["rules"]))
    rules = "\n".join("%s/%s%s  %s IN  %s" % (port, proto, " (v6)" if ":" in src else "", action.upper(),
                                              "Anywhere" + (" (v6)" if ":" in src else "") if src in ("0.0.0.0/0", "::/0") else src)
                      for port, proto, action, src, _i in fw.status_rules(plan["rules"], plan["ipv6"]))
    status = ("Status: active\nLogging: on (low)\nDefault: deny (incoming), allow (outgoing), deny (routed)\n"
              "New profiles: skip\n\nTo  Action  From\n--  ------  ----\n" + rules + "\n")
    before = {path: fw.with_block(BEFORE, block) for path, block in fw.flood_blocks(plan).items()}
    return {"defaults_text": "IPV6=yes\n", "before": before, "rules": store, "status": status}


def flood_plan(**changes):
    return fw.plan(model(), settings(ssh_sources=["any"], flood_rate=50, flood_burst=200, **changes))


def test_a_converged_ufw_has_nothing_to_change_and_verifies():
    plan = flood_plan()
    state = converged_state(plan)
    changes = fw.ufw_changes(state, plan, POLICIES)
    assert changes["labels"] == [], changes["labels"]
    chain = "-N ufw-vpbx-sip-flood\n-A ufw-vpbx-sip-flood -m hashlimit --hashlimit-above 50/sec -j DROP\n"
    assert fw.verify_errors(state["status"], chain, plan, POLICIES) == []


def test_a_fresh_ufw_gets_everything_rules_before_enable():
    plan = flood_plan()
    state = {"defaults_text": "IPV6=no\n", "before": {p: BEFORE for p in fw.BEFORE_RULES.values()}, "rules": "",
             "status": "Status: inactive\n"}
    changes = fw.ufw_changes(state, plan, POLICIES)
    labels = changes["labels"]
    assert labels[0] == "IPV6=yes in /etc/default/ufw" and labels[-1] == "enable" and changes["enable"]
    assert labels[3].startswith("add: limit 22/tcp from any (ssh)")  # SSH's rule comes first
    assert changes["policies"] == POLICIES and changes["logging"] == "low"
    assert set(changes["before"]) == set(fw.BEFORE_RULES.values())
    assert fw.parse_blocks(changes["before"]["/etc/ufw/before.rules"]).startswith(":ufw-vpbx-sip-flood - [0:0]")


def test_stale_rules_go_only_with_purge_and_bans_stay():
    plan = flood_plan()
    state = converged_state(plan)
    state["rules"] += ("\n### tuple ### allow tcp 8088 0.0.0.0/0 any 0.0.0.0/0 in"
                       "\n### tuple ### deny any any 0.0.0.0/0 any 192.0.2.66 in comment=%s"
                       % "vpbx-fail2ban asterisk".encode().hex())
    assert [d["label"] for d in fw.ufw_changes(state, plan, POLICIES)["delete"]] == ["allow 8088 tcp from 0.0.0.0/0"]
    assert fw.ufw_changes(state, plan, POLICIES, purge=False)["labels"] == []


def test_verify_names_what_is_missing_and_the_flood_chain():
    plan = flood_plan()
    state = converged_state(plan)
    status = state["status"].replace("Logging: on (low)", "Logging: off")
    problems = fw.verify_errors(status, "", plan, POLICIES)
    assert problems[0].startswith("UFW does not enforce the plan. Active: True") and "logging: off (want low)" in problems[0]
    assert problems[1].startswith("The SIP flood limit is not in force: `iptables -S ufw-vpbx-sip-flood` shows no such chain")
    missing_rule = state["status"].replace("22/tcp  LIMIT IN  Anywhere\n", "")
    assert "Missing rules: [['22', 'tcp', 'limit', '0.0.0.0/0', '']]" in fw.verify_errors(
        missing_rule, "-m hashlimit --hashlimit-above 50/sec", plan, POLICIES)[0]
