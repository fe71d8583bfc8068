# SPDX-License-Identifier: GPL-3.0-or-later
"""plan: each concern planned from the collection's defaults overlaid by an inventory, the same
every time, refused with the role's headline; the host asked only what the concern needs."""

from __future__ import annotations

import pathlib

import pytest
import yaml

from ansible_collections.vpbx.hardened.plugins.module_utils import firewall as fw
from ansible_collections.vpbx.hardened.plugins.module_utils import plan as planner
from ansible_collections.vpbx.hardened.plugins.module_utils import sip_model

ROLES = pathlib.Path(__file__).resolve().parents[4] / "roles"
SECRET = "Unit-test-Secret-alpha-q9"


def variables(**inventory):
    defaults = {}
    for path in sorted(ROLES.glob("*/defaults/main.yml")):
        defaults.update(yaml.safe_load(path.read_text()) or {})
    unknown = set(inventory) - set(defaults)
    assert not unknown, unknown  # the test gives only public variables
    return dict(defaults, **inventory)


OFFICE = dict(asterisk_sip_subscribers=[{"extension": "1001", "secret": SECRET, "context": "office",
                                         "permit": ["192.0.2.0/24"]}],
              asterisk_sip_trunks=[{"name": "carrier", "host": "sip.example.net", "username": "acct",
                                    "secret": "Carrier-Secret-beta-q7-long", "context": "from-carrier"}],
              asterisk_dialplan_contexts=[{"name": "office"}], asterisk_dialplan_country="DE")
DATABASE_HOST = dict(asterisk_cdr_server_address="192.0.2.30", asterisk_cdr_server_clients=["192.0.2.16"],
                     asterisk_cdr_server_tls_cert_file="/etc/mysql/tls/db.pem",
                     asterisk_cdr_server_tls_key_file="/etc/mysql/tls/db.key",
                     asterisk_cdr_database_password="c3f1e0a9d8b7465f9e2d1c0b")
HOST = {"major": 22, "resolved": {"sip.example.net": ["198.51.100.7"]}, "connection": "community.docker.docker",
        "ssh_connection": ""}


@pytest.mark.parametrize("concern", planner.CONCERNS)
def test_every_concern_plans_from_the_defaults_and_an_office(concern):
    # A database host (cdr_server) has its own settings: no default makes a host one.
    v = variables(**dict(OFFICE, **(DATABASE_HOST if concern == "cdr_server" else {})))
    first = planner.plan(concern, v, HOST)
    assert first == planner.plan(concern, v, HOST)  # a pure function: nothing remembered


def test_the_firewall_plan_is_the_one_the_model_and_the_ports_give():
    v = variables(**OFFICE)
    the_plan = planner.plan("firewall", v, HOST)["plan"]
    assert the_plan == fw.plan(planner.model(v), planner.firewall_settings(v, HOST))
    # The trunk's address as the host resolved it is exempt from the flood limit.
    assert the_plan["flood"]["exempt"] == ["198.51.100.7"]
    # Without that answer of the host the provider could not be let in: refused, with the fix.
    with pytest.raises(planner.PlanError) as exc:
        planner.plan("firewall", v, dict(HOST, resolved={}))
    assert "'sip.example.net' does not resolve to an address on the PBX" in str(exc.value)


@pytest.mark.parametrize("major, refused", [(16, False), (22, True)])
def test_the_sip_concern_checks_the_model_against_the_asterisk_version(major, refused):
    v = variables(**dict(OFFICE, asterisk_sip_driver="chan_sip"))
    if refused:
        with pytest.raises(planner.PlanError) as exc:
            planner.plan("sip", v, dict(HOST, major=major))
        assert str(exc.value).startswith("Invalid subscriber/trunk model - nothing was changed:\n- ")
        assert "asterisk_sip_driver" in str(exc.value)
    else:
        assert planner.plan("sip", v, dict(HOST, major=major))["model"]["driver"] == "chan_sip"


@pytest.mark.parametrize("concern", ["dialplan", "firewall", "fail2ban"])
def test_a_bad_model_is_refused_with_the_sip_headline_whatever_the_concern(concern):
    v = variables(**{**OFFICE, "asterisk_sip_subscribers": [{"extension": "1001", "secret": "short"}]})
    with pytest.raises(planner.PlanError) as exc:
        planner.plan(concern, v, HOST)
    assert str(exc.value).startswith("Invalid subscriber/trunk model - nothing was changed:")


@pytest.mark.parametrize("concern, inventory, headline", [
    ("dialplan", {"asterisk_dialplan_contexts": [{"name": "nowhere"}]}, "Invalid dialplan - nothing was changed:\n- "),
    ("firewall", {"asterisk_firewall_ssh_sources": ["not-a-network"]},
     "Invalid firewall settings - nothing was changed:\n- "),
    ("fail2ban", {"asterisk_fail2ban_bantime": "forever"}, "Invalid fail2ban settings - nothing was changed:\n- "),
])
def test_each_concern_refuses_its_own_settings_with_its_headline(concern, inventory, headline):
    with pytest.raises(planner.PlanError) as exc:
        planner.plan(concern, variables(**dict(OFFICE, **inventory)), HOST)
    assert str(exc.value).startswith(headline)


def test_fail2ban_needs_the_firewall_it_bans_through():
    with pytest.raises(planner.PlanError) as exc:
        planner.plan("fail2ban", variables(**dict(OFFICE, asterisk_firewall_enabled=False)), HOST)
    assert str(exc.value) == planner.FAIL2BAN_NEEDS_FIREWALL


@pytest.mark.parametrize("ssh_connection, controller, ok", [
    ("", "", False),                                  # the address is unknown: refused
    ("203.0.113.5 50000 192.0.2.1 22", "", True),     # seen, inside the SSH sources
    ("", "203.0.113.5", True),                        # given instead
    ("198.51.100.9 50000 192.0.2.1 22", "", False),   # seen, outside them
])
def test_the_lockout_guard_over_ssh(ssh_connection, controller, ok):
    v = variables(**dict(OFFICE, asterisk_firewall_ssh_sources=["203.0.113.0/24"],
                         asterisk_firewall_controller_address=controller))
    host = dict(HOST, connection="ssh", ssh_connection=ssh_connection)
    if ok:
        assert planner.plan("firewall", v, host)["guard"]["ok"]
    else:
        with pytest.raises(planner.PlanError) as exc:
            planner.plan("firewall", v, host)
        assert str(exc.value).startswith("Lockout guard - nothing was changed: ")
        # The switch that turns the guard off is honoured.
        assert planner.plan("firewall", dict(v, asterisk_firewall_lockout_guard=False), host)["guard"]["ok"] is False


@pytest.mark.parametrize("concern, connection, controller, expected", [
    ("core", "ssh", "", {"major": False, "package": True, "resolve": [], "ssh_connection": False}),
    ("sip", "ssh", "", {"major": False, "package": False, "resolve": [], "ssh_connection": False}),
    ("dialplan", "ssh", "", {"major": False, "package": False, "resolve": [], "ssh_connection": False}),
    ("firewall", "ssh", "", {"major": False, "package": False, "resolve": ["sip.example.net"], "ssh_connection": True}),
    ("firewall", "ssh", "203.0.113.5",
     {"major": False, "package": False, "resolve": ["sip.example.net"], "ssh_connection": False}),
    ("fail2ban", "community.docker.docker", "",
     {"major": False, "package": False, "resolve": ["sip.example.net"], "ssh_connection": False}),
])
def test_the_host_is_asked_only_what_the_concern_needs(concern, connection, controller, expected):
    # PJSIP (the default) does not depend on the Asterisk version: see the next test for chan_sip.
    v = variables(**dict(OFFICE, asterisk_firewall_controller_address=controller))
    assert planner.needs(concern, v, connection) == expected


def test_the_plans_controller_address_is_never_banned():
    v = variables(**OFFICE)
    jails = planner.plan("fail2ban", v, dict(HOST, connection="ssh", ssh_connection="203.0.113.5 1 192.0.2.1 22"))
    assert "203.0.113.5" in " ".join(jails["plan"]["ignoreip"])
    assert jails["expect"]["jails"][0] == jails["plan"]["jails"][0]["name"]


@pytest.mark.parametrize("inventory, message", [
    ({}, None),
    ({"asterisk_rtp_port_start": 20000, "asterisk_rtp_port_end": 10000},
     "asterisk_rtp_port_start/asterisk_rtp_port_end (20000..10000) must be a range 1024 <= start < end <= 65535, "
     "e.g. 10000..20000."),
    ({"asterisk_rtp_port_start": "low"}, "asterisk_rtp_port_start/asterisk_rtp_port_end (low..20000) must be a range"),
    ({"asterisk_modules_features": ["pjsip", "voicmail"]},
     "asterisk_modules_features[1]: 'voicmail' is not a known feature (did you mean 'voicemail'?)"),
    ({"asterisk_manager_users": [{"name": "crm", "secret": "Rb7-crm-Kq2v-secret-Zt5", "write": ["originate"]}]},
     "Invalid AMI users - nothing was changed:\n- asterisk_manager_users[0] (crm).write grants originate"),
    ({"asterisk_ari_enabled": True, "asterisk_ari_users": [{"name": "app", "password_hash": "clear-text"}]},
     "asterisk_ari_users[name=app].password_hash must be a crypt(3) hash"),
    ({"asterisk_ari_enabled": True, "asterisk_ari_users": [{"name": "app", "password_hash": "$6$salt$hash"}]}, None),
])
def test_the_core_concern_refuses_one_problem_at_a_time(inventory, message):
    v = variables(**dict(OFFICE, **inventory))
    host = dict(HOST, package={"installed": True, "major": 22})
    if message is None:
        core = planner.plan("core", v, host)
        assert core["package"] == {"installed": True, "major": 22} and core["hold"][0] == "asterisk"
        assert ("ari" in core["features"]) == bool(inventory.get("asterisk_ari_enabled"))
    else:
        with pytest.raises(planner.PlanError) as exc:
            planner.plan("core", v, host)
        assert str(exc.value).startswith(message)


def test_the_package_query_holds_the_extra_packages_once():
    query = planner.package_query(variables(asterisk_extra_packages=["asterisk-voicemail", "asterisk"],
                                            asterisk_version="16.28"))
    assert query["related"] == ["asterisk", "asterisk-modules", "asterisk-config", "asterisk-voicemail"]
    assert query["version"] == "16.28" and "bullseye" in query["platforms"]["Debian"]


@pytest.mark.parametrize("inventory, host, message", [
    ({"asterisk_sip_transports": ["udp", "tls"]}, {},
     "asterisk_sip_transports contains tls: set asterisk_sip_tls_cert_file and asterisk_sip_tls_key_file to the "
     "certificate and key on the host (readable by asterisk)."),
    ({"asterisk_sip_transports": ["udp", "tls"], "asterisk_sip_tls_cert_file": "/etc/ssl/pbx.pem",
      "asterisk_sip_tls_key_file": "/etc/ssl/pbx.key"}, {}, None),
    ({"asterisk_sip_driver": "chan_sip", "asterisk_modules_features": ["pjsip"]}, {"major": 16},
     "asterisk_sip_driver is chan_sip, but the module set would also load pjsip, which needs the same SIP port: "
     "remove it from asterisk_modules_features (reference_office includes chan_sip) or set asterisk_sip_driver to "
     "pjsip."),
    ({"asterisk_modules_mode": "autoload"}, {"major": 16, "has_chan_sip": True},
     "asterisk_sip_driver is pjsip, but the module set would also load chan_sip, which needs the same SIP port: with "
     "asterisk_modules_mode autoload, add chan_sip.so to asterisk_modules_exclude or set asterisk_sip_driver to "
     "chan_sip."),
    ({"asterisk_modules_mode": "autoload", "asterisk_modules_exclude": ["chan_sip.so"]}, {"major": 16}, None),
    ({"asterisk_modules_mode": "autoload"}, {"major": 22}, None),  # no chan_sip to autoload from 21 on
])
def test_the_sip_concern_refuses_tls_without_a_certificate_and_both_drivers(inventory, host, message):
    v = variables(**dict(OFFICE, **inventory))
    host = dict(HOST, **host)
    if message is None:
        assert planner.plan("sip", v, host)["model"]
    else:
        with pytest.raises(planner.PlanError) as exc:
            planner.plan("sip", v, host)
        assert str(exc.value) == message


def test_no_two_roles_default_the_same_variable_and_each_carries_its_role_prefix():
    # The plan overlays every role's defaults into one namespace: a name defined twice would
    # depend on the order the files are read in.
    seen = {}
    for path in sorted(ROLES.glob("*/defaults/main.yml")):
        role = path.parent.parent.name
        for name in yaml.safe_load(path.read_text()) or {}:
            assert name not in seen, (name, seen.get(name), role)
            assert name.startswith(role + "_") or role == "asterisk", (role, name)
            seen[name] = role


def test_the_sip_concern_names_the_log_the_asterisk_role_writes():
    # The asterisk role's defaults are part of the plan even where that role does not run (the
    # subscribers playbook): the SIP role reads Asterisk's refusals there.
    v = variables(**dict(OFFICE, asterisk_log_dir="/srv/log/asterisk"))
    assert planner.plan("sip", v, HOST)["log_file"] == "/srv/log/asterisk/messages.log"


@pytest.mark.parametrize("inventory, asked", [
    ({}, False),
    ({"asterisk_sip_driver": "chan_sip"}, True),
    ({"asterisk_modules_mode": "autoload"}, True),
])
def test_the_sip_plan_asks_the_asterisk_version_only_where_it_matters(inventory, asked):
    v = variables(**dict(OFFICE, **inventory))
    assert planner.needs("sip", v, "ssh")["major"] is asked


# --- every byte of the driver's and the dialplan's files comes from the plan ---------------------

CONF_TEXT_CASES = [
    # sections, includes, expected text after the header and the preamble
    ([], [], ""),
    ([{"name": "global", "options": [["type", "global"], ["max_forwards", 20]]}], [],
     "\n[global]\ntype=global\nmax_forwards=20\n"),
    ([{"name": "general", "suffix": "(+)", "comment": "Registrations", "options": [["register", "a@b"]]},
      {"name": "empty", "options": []}], ["x_secrets.conf"],
     "\n; Registrations\n[general](+)\nregister=a@b\n\n[empty]\n\n#include \"x_secrets.conf\"\n"),
]


@pytest.mark.parametrize("sections, includes, body", CONF_TEXT_CASES)
def test_conf_text_prints_sections_and_includes(sections, includes, body):
    text = sip_model.conf_text("; H", ["; P"], sections, includes)
    assert text == "; H\n; P\n" + body


@pytest.mark.parametrize("driver, major, files, secrets", [
    ("pjsip", 22, ["pjsip.conf", "pjsip_transports.conf"], ["pjsip_secrets.conf"]),
    ("chan_sip", 16, ["sip.conf"], ["sip_secrets.conf"]),
])
def test_the_sip_plan_holds_the_driver_files_whole(driver, major, files, secrets):
    v = variables(**dict(OFFICE, asterisk_sip_driver=driver))
    the_plan = planner.plan("sip", v, dict(HOST, major=major), header=";\n; Managed here\n;")
    assert list(the_plan["files"]) == files and list(the_plan["secrets"]) == secrets
    main = the_plan["files"][files[0]]
    assert main.startswith(";\n; Managed here\n;\n; vpbx.hardened: %s subscribers and trunks (secrets are in %s)\n"
                           % (driver, secrets[0]))
    # The driver file includes its transports (PJSIP) and then its secrets, last.
    assert main.endswith("".join('\n#include "%s"\n' % name for name in files[1:] + secrets))
    # Every secret is in the secrets file (the test can see it there) and in no other file.
    for secret in (SECRET, "Carrier-Secret-beta-q7-long"):
        assert secret in the_plan["secrets"][secrets[0]]
        assert not any(secret in text for text in the_plan["files"].values())
    if driver == "pjsip":
        assert the_plan["files"]["pjsip_transports.conf"].endswith(
            "\n[transport-udp]\ntype=transport\nprotocol=udp\nbind=0.0.0.0:5060\n")


def test_the_dialplan_plan_holds_its_files_whole_with_the_pins_apart():
    pin = "48213"
    office = {**OFFICE, "asterisk_sip_subscribers": [dict(OFFICE["asterisk_sip_subscribers"][0], voicemail=True,
                                                          voicemail_pin=pin)]}
    the_plan = planner.plan("dialplan", variables(**office), HOST, header="; H")
    assert list(the_plan["files"]) == ["extensions.conf"] and list(the_plan["secrets"]) == ["voicemail.conf"]
    extensions = the_plan["files"]["extensions.conf"]
    assert extensions.startswith("; H\n; vpbx.hardened: extensions.conf rendered by vpbx.hardened.asterisk_dialplan\n")
    # Every context `dialplan show` must list is a section of the text written.
    assert all("\n[%s]\n" % name in extensions for name in the_plan["contexts"])
    assert pin in the_plan["secrets"]["voicemail.conf"]
    assert pin not in extensions


# --- the module set: a pure function of the inventory -------------------------------------------

@pytest.mark.parametrize("inventory, present, absent", [
    ({}, ["pjsip", "codecs_g711"], ["ari", "voicemail", "chan_sip"]),
    ({"asterisk_ari_enabled": True}, ["ari"], []),
    ({"asterisk_sip_driver": "chan_sip"}, ["chan_sip"], ["pjsip"]),
    ({"asterisk_modules_features": ["echo_test"]}, ["echo_test", "pjsip"], []),
    ({"voicemail": True}, ["voicemail"], []),
    ({"voicemail": True, "asterisk_dialplan_enabled": False}, [], ["voicemail"]),
    ({"voicemail": True, "asterisk_dialplan_enabled": "false"}, [], ["voicemail"]),  # as -e gives it
])
def test_the_module_set_is_the_users_features_and_what_the_roles_use(inventory, present, absent):
    inventory = dict(inventory)
    office = dict(OFFICE)
    if inventory.pop("voicemail", False):
        office["asterisk_sip_subscribers"] = [dict(office["asterisk_sip_subscribers"][0], voicemail=True,
                                                   voicemail_pin="48213")]
    the_plan = planner.plan("modules", variables(**dict(office, **inventory)), HOST)
    assert all(feature in the_plan["features"] for feature in present), the_plan["features"]
    assert not any(feature in the_plan["features"] for feature in absent), the_plan["features"]
    assert the_plan["hold"] == ["chan_sip", "pjsip"]
    assert the_plan["installable"] == [f for f in ["voicemail"] if "voicemail" in present]


def test_the_module_sets_stubs_are_closed_and_headed():
    the_plan = planner.plan("modules", variables(**OFFICE), HOST, header="; H")
    assert sorted(the_plan["stubs"]) == sorted(["cdr.conf", "cdr_adaptive_odbc.conf", "confbridge.conf",
                                               "extensions.conf", "musiconhold.conf", "queues.conf",
                                                "res_odbc.conf", "res_parking.conf", "sip.conf", "voicemail.conf"])
    assert all(text.startswith("; H\n; vpbx.hardened: stub rendered by") for text in the_plan["stubs"].values())
    assert "bindaddr = 127.0.0.1\n" in the_plan["stubs"]["sip.conf"]
    assert "[default]\n\n[public]\n" in the_plan["stubs"]["extensions.conf"]


def test_the_module_set_refuses_an_unknown_feature_or_mode():
    for inventory, message in (({"asterisk_modules_features": ["voicmail"]}, "did you mean 'voicemail'"),
                               ({"asterisk_modules_mode": "lazy"}, "asterisk_modules_mode: 'lazy' is not one of")):
        with pytest.raises(planner.PlanError) as exc:
            planner.plan("modules", variables(**dict(OFFICE, **inventory)), HOST)
        assert message in str(exc.value)


@pytest.mark.parametrize("major, refused", [(16, False), (22, True)])
def test_the_core_concern_checks_the_model_its_module_set_holds_against_the_package(major, refused):
    """The core's run applies the module set, which holds the model's driver: the model is checked
    as the SIP concern checks it, against the major the package reports - so that the first
    concern planned names the real problem (chan_sip gone from 21 on)."""
    v = variables(**dict(OFFICE, asterisk_sip_driver="chan_sip"))
    host = {"package": {"major": major, "installed": True}, "connection": "community.docker.docker"}
    if refused:
        with pytest.raises(planner.PlanError) as exc:
            planner.plan("core", v, host)
        assert "asterisk_sip_driver: chan_sip was removed in Asterisk 21" in str(exc.value) + str(exc.value.errors)
    else:
        assert "chan_sip" in planner.plan("core", v, host)["module_set"]["features"]
