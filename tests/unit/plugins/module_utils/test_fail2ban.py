# SPDX-License-Identifier: GPL-3.0-or-later
"""The fail2ban plan: thresholds, log files, the addresses never banned, and the readers of
fail2ban-client's output (captured from fail2ban 0.11.2 on Debian 11 and 1.1.x on Debian testing)."""

from __future__ import annotations

import pytest

from ansible_collections.vpbx.hardened.plugins.module_utils import fail2ban as f2b
from ansible_collections.vpbx.hardened.plugins.module_utils import firewall as fw

BASE = {"log_dir": "/var/log/asterisk", "security_file": "security.log",
        "ports": [{"proto": "udp", "port": "5060", "name": "sip-udp"},
                  {"proto": "tcp", "port": "5060", "name": "sip-tcp"},
                  {"proto": "tcp", "port": "5061", "name": "sip-tls"}],
        "connection": "ssh", "ssh_connection": "198.51.100.7 50022 203.0.113.10 22"}
MODEL = {"trunks": [{"name": "sipnet", "identify": ["212.53.40.0/24"], "identify_hosts": []},
                    {"name": "voipco", "identify": [], "identify_hosts": ["sip.example.net"]}]}


def settings(**changes):
    result = dict(BASE)
    result.update(changes)
    return result


def test_defaults_plan_the_asterisk_jail_on_the_security_log():
    plan = f2b.plan(settings(), MODEL)
    assert plan["maxretry"] == 5 and plan["findtime"] == 600 and plan["bantime"] == 3600
    assert plan["recidive"] == {"maxretry": 3, "findtime": 86400, "bantime": 604800}
    assert plan["logpaths"] == ["/var/log/asterisk/security.log"]
    assert plan["ports"] == ["5060", "5061"] and plan["protocols"] == ["tcp", "udp"]
    assert plan["sshd"] is True


def test_never_banned_loopback_controller_admins_trunks():
    plan = f2b.plan(settings(admin_networks=["192.0.2.0/24", "192.0.2.9", "2001:db8::/32"],
                             resolved={"sip.example.net": ["203.0.113.80"]}), MODEL)
    # 192.0.2.9 is inside 192.0.2.0/24: collapsed. Host addresses without a prefix.
    assert plan["ignoreip"] == ["127.0.0.0/8", "192.0.2.0/24", "198.51.100.7", "203.0.113.80",
                                "212.53.40.0/24", "::1", "2001:db8::/32"]


def test_trunks_can_be_banned_when_asked():
    plan = f2b.plan(settings(ignore_trunks=False, resolved={"sip.example.net": ["203.0.113.80"]}), MODEL)
    assert plan["ignoreip"] == ["127.0.0.0/8", "198.51.100.7", "::1"]


OFFICES = dict(MODEL, subscribers=[
    {"extension": "1001", "permit": ["192.0.2.0/24"]},
    {"extension": "1002", "permit": ["192.0.2.64/26", "2001:db8:5::/48"]},
    # Wider than an office (/16, IPv6 /48): treated like the rest of the Internet.
    {"extension": "1003", "permit": ["10.0.0.0/8", "2001:db8::/32"]},
])


def _inside(address, networks):
    import ipaddress
    return any(ipaddress.ip_address(address) in ipaddress.ip_network(n if "/" in n else n + ("/128" if ":" in n else "/32"))
               for n in networks)


@pytest.mark.parametrize("address,counted_by", [
    ("192.0.2.77", "asterisk-permitted"),     # an office: wrong passwords only
    ("2001:db8:5::9", "asterisk-permitted"),
    ("10.1.2.3", "asterisk"),                 # inside a permit wider than an office
    ("2001:db8:6::1", "asterisk"),
    ("203.0.113.5", "asterisk"),              # anywhere else
    ("212.53.40.9", None),                    # a trunk: never banned
    ("198.51.100.7", None),                   # the controller
    ("127.0.0.1", None),
])
def test_each_address_is_counted_by_one_jail(address, counted_by):
    plan = f2b.plan(settings(), OFFICES)
    assert plan["offices"] == ["192.0.2.0/24", "2001:db8:5::/48"]
    jails = {jail["name"]: jail for jail in plan["jails"]}
    assert jails["asterisk"]["events"] == f2b.EVENTS
    assert jails["asterisk-permitted"]["events"] == ["ChallengeResponseFailed", "InvalidPassword"]
    counting = [name for name, jail in jails.items() if not _inside(address, jail["ignoreip"])]
    assert counting == ([counted_by] if counted_by else [])
    # The other jails (recidive, sshd) keep the plain list: an office is not exempt there.
    assert not _inside("192.0.2.77", plan["ignoreip"])


@pytest.mark.parametrize("changes,model", [({"permitted_password_only": False}, OFFICES), ({}, MODEL)])
def test_one_jail_for_every_failure_without_offices_or_when_off(changes, model):
    plan = f2b.plan(settings(**changes), model)
    assert [jail["name"] for jail in plan["jails"]] == ["asterisk"]
    assert plan["jails"][0]["ignoreip"] == plan["ignoreip"] and plan["offices"] == []


@pytest.mark.parametrize("connection,ssh,controller,expected", [
    ("community.docker.docker", "", "", []),
    ("local", "", "", []),
    ("ssh", "", "", []),
    ("ssh", "198.51.100.7 50022 203.0.113.10 22", "", ["198.51.100.7"]),
    ("community.docker.docker", "", "192.0.2.44", ["192.0.2.44"]),
    ("ssh", "198.51.100.7 50022 203.0.113.10 22", "192.0.2.44", ["192.0.2.44"]),
])
def test_controller_address(connection, ssh, controller, expected):
    plan = f2b.plan(settings(connection=connection, ssh_connection=ssh, controller=controller))
    assert [a for a in plan["ignoreip"] if a not in ("127.0.0.0/8", "::1")] == expected


def test_recidive_off():
    plan = f2b.plan(settings(recidive=False, recidive_bantime="1m"))
    assert plan["recidive"] is None


@pytest.mark.parametrize("value,expected", [
    (600, 600), ("600", 600), ("10m", 600), ("1h", 3600), ("1d", 86400), ("2w", 1209600), ("-1", -1),
    (" 5 m", None), ("ten", None), ("1y", None), (True, None), ("", None),
])
def test_seconds(value, expected):
    assert f2b.seconds(value) == expected


BAD = [
    ({"maxretry": 0}, "asterisk_fail2ban_maxretry: 0 must be a whole number from 1 to 100"),
    ({"maxretry": "five"}, "asterisk_fail2ban_maxretry: 'five' must be a whole number"),
    ({"maxretry": True}, "asterisk_fail2ban_maxretry: True must be a whole number"),
    ({"findtime": "10 minutes"}, "asterisk_fail2ban_findtime: '10 minutes': write seconds"),
    ({"findtime": "-1"}, "asterisk_fail2ban_findtime: '-1': write seconds"),
    ({"findtime": 5}, "asterisk_fail2ban_findtime: 5 s is too short"),
    ({"bantime": 30}, "asterisk_fail2ban_bantime: 30: write seconds or a number with s, m, h, d or w (10m, 1h, 1w), "
                      "at least 60 s"),
    ({"recidive_bantime": "30m"}, "asterisk_fail2ban_recidive_bantime: '30m' is not longer than"),
    ({"bantime": "-1"}, "asterisk_fail2ban_recidive_bantime: '1w' is not longer than"),
    ({"recidive_findtime": "5m"}, "asterisk_fail2ban_recidive_findtime: '5m' is not longer than"),
    ({"recidive_maxretry": 0}, "asterisk_fail2ban_recidive_maxretry: 0 must be a whole number from 1 to 100"),
    ({"admin_networks": ["0.0.0.0/0"]}, "asterisk_fail2ban_admin_networks[0]: 0.0.0.0/0 would exempt every address"),
    ({"admin_networks": ["::/0"]}, "asterisk_fail2ban_admin_networks[0]: ::/0 would exempt every address"),
    ({"admin_networks": ["office"]}, "asterisk_fail2ban_admin_networks[0]: 'office' is not a network"),
    ({"admin_networks": "192.0.2.0/24"}, "asterisk_fail2ban_admin_networks: must be a list"),
    ({"ignore_trunks": "maybe"}, "asterisk_fail2ban_ignore_trunks: 'maybe' must be true or false"),
    ({"sshd": "perhaps"}, "asterisk_fail2ban_sshd_jail: 'perhaps' must be true or false"),
    ({"permitted_password_only": "yes please"},
     "asterisk_fail2ban_permitted_password_only: 'yes please' must be true or false"),
    ({"security_file": ""}, "asterisk_log_security_file: is empty"),
    ({"security_file": "../security"}, "asterisk_log_security_file: '../security' must be a file name"),
    ({"log_dir": "var/log/asterisk"}, "asterisk_log_dir: 'var/log/asterisk' must be an absolute path"),
    ({"controller": "pbx-admin"}, "asterisk_firewall_controller_address: 'pbx-admin' is not an IP address"),
]


@pytest.mark.parametrize("changes,message", BAD, ids=[m.split(":")[0] + "-" + str(i) for i, (_c, m) in enumerate(BAD)])
def test_bad_settings_name_the_variable(changes, message):
    problems = f2b.errors(settings(**changes), MODEL)
    assert any(p.startswith(message) for p in problems), problems
    with pytest.raises(f2b.Fail2banError):
        f2b.plan(settings(**changes), MODEL)


def test_every_problem_at_once():
    problems = f2b.errors(settings(maxretry=0, findtime="x", admin_networks=["0.0.0.0/0"]))
    assert len(problems) == 3


STATUS_011 = """Status for the jail: asterisk
|- Filter
|  |- Currently failed:\t1
|  |- Total failed:\t7
|  `- File list:\t/var/log/asterisk/messages.log /var/log/asterisk/security.log
`- Actions
   |- Currently banned:\t1
   |- Total banned:\t1
   `- Banned IP list:\t172.30.81.66
"""

STATUS_SSHD = """Status for the jail: sshd
|- Filter
|  |- Currently failed:\t0
|  |- Total failed:\t0
|  `- Journal matches:\t_COMM=sshd
`- Actions
   |- Currently banned:\t0
   |- Total banned:\t0
   `- Banned IP list:\t
"""


def test_parse_status():
    assert f2b.parse_status(STATUS_011) == {
        "jail": "asterisk", "currently_failed": 1, "total_failed": 7,
        "files": ["/var/log/asterisk/messages.log", "/var/log/asterisk/security.log"],
        "currently_banned": 1, "total_banned": 1, "banned": ["172.30.81.66"]}
    status = f2b.parse_status(STATUS_SSHD)
    assert status["jail"] == "sshd" and status["files"] == [] and status["banned"] == []


def test_parse_lists_and_jails():
    text = "These IP addresses/networks are ignored:\n|- 127.0.0.0/8\n|- 172.30.81.50\n`- ::1\n"
    assert f2b.parse_list(text) == ["127.0.0.0/8", "172.30.81.50", "::1"]
    assert f2b.parse_list("No IP address/network is ignored\n") == []
    text = "Current monitored log file(s):\n|- /var/log/asterisk/messages.log\n`- /var/log/asterisk/security.log\n"
    assert f2b.parse_list(text) == ["/var/log/asterisk/messages.log", "/var/log/asterisk/security.log"]
    text = "Status\n|- Number of jail:\t3\n`- Jail list:\tasterisk, recidive, sshd\n"
    assert f2b.parse_jails(text) == ["asterisk", "recidive", "sshd"]
    assert f2b.parse_jails("") == []


USER_RULES = """
### tuple ### deny any any 0.0.0.0/0 any 172.30.81.66 in comment=7670627866a61696c3262616e206173746572697336b
-A ufw-user-input -s 172.30.81.66 -j DROP
### tuple ### allow udp 5060 0.0.0.0/0 any 172.30.81.0/24 in comment=7670627832e68617264656e6564207369702d756470
-A ufw-user-input -p udp --dport 5060 -s 172.30.81.0/24 -j ACCEPT
### tuple ### deny any any 0.0.0.0/0 any 192.0.2.1 in
-A ufw-user-input -s 192.0.2.1 -j DROP
"""


def test_the_firewall_role_keeps_bans_but_not_other_unplanned_rules():
    current = fw.parse_user_rules(USER_RULES.replace(
        "7670627866a61696c3262616e206173746572697336b", "vpbx-fail2ban asterisk".encode().hex()).replace(
        "7670627832e68617264656e6564207369702d756470", "vpbx.hardened sip-udp".encode().hex()))
    rules = [{"rule": "allow", "proto": "udp", "port": "5060", "from": "172.30.81.0/24"}]
    stale = fw.stale(current, rules, ipv6=False)
    # The hand-made deny goes, fail2ban's ban stays.
    assert [s["from_ip"] for s in stale] == ["192.0.2.1"]


def test_the_firewall_verify_does_not_count_bans():
    status = fw.parse_status("""Status: active
Logging: on (low)
Default: deny (incoming), allow (outgoing), deny (routed)
New profiles: skip

To                         Action      From
--                         ------      ----
Anywhere                   DENY IN     172.30.81.66               # vpbx-fail2ban asterisk
5060/udp                   ALLOW IN    172.30.81.0/24             # vpbx.hardened sip-udp
Anywhere                   DENY IN     192.0.2.1
""")
    assert fw.status_keys(status) == [("5060", "udp", "allow", "172.30.81.0/24", ""),
                                      ("Anywhere", "any", "deny", "192.0.2.1", "")]
