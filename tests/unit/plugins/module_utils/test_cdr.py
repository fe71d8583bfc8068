# SPDX-License-Identifier: GPL-3.0-or-later
"""cdr: the call records' files, data source and embedded server planned from the inventory
(CSV only by default; a database on loopback or, remote, over TLS), every bad setting refused
through the plan with the variable named, and what `cdr show status` and `odbc show` must show."""

from __future__ import annotations

import pytest

from ansible_collections.vpbx.hardened.plugins.module_utils import cdr
from ansible_collections.vpbx.hardened.plugins.module_utils import fileset
from ansible_collections.vpbx.hardened.plugins.module_utils import plan as planner

from .test_plan import DATABASE_HOST, HOST, OFFICE, variables

PASSWORD = "c3f1e0a9d8b7465f9e2d1c0b"
DATABASE = dict(asterisk_cdr_database=True, asterisk_cdr_database_password=PASSWORD)
CA = "/etc/ssl/certs/office-db-ca.pem"


def planned(**inventory):
    return planner.plan("cdr", variables(**dict(OFFICE, **inventory)), HOST, header="; H")


def refused(host=None, **inventory):
    with pytest.raises(planner.PlanError) as exc:
        planner.plan("cdr", variables(**dict(OFFICE, **inventory)), HOST if host is None else host)
    assert exc.value.headline == "Invalid call records settings - nothing was changed:"
    return "\n".join(exc.value.errors)


def test_by_default_records_go_to_csv_only_and_the_database_part_is_taken_away():
    the_plan = planned()
    assert list(the_plan["files"]) == ["cdr.conf"] and the_plan["secrets"] == {}
    # The collection's marker: the core's directory lockdown keeps the file.
    assert the_plan["files"]["cdr.conf"].startswith("; H\n; vpbx.hardened: rendered by the vpbx.hardened.asterisk_cdr "
                                                    "role\n[general]\nenable = yes\n\n[csv]\n")
    # Switched off: the database's files (when the collection wrote them) and the data source go.
    assert the_plan["retire"] == ["res_odbc.conf", "cdr_adaptive_odbc.conf"]
    assert the_plan["host_files"] == {"/etc/odbc.ini": {"section": "vpbx-cdr", "content": "", "mode": "0644"}}
    assert the_plan["packages"] == [] and the_plan["server"] is None and the_plan["summary"] == "Call records to CSV"
    assert the_plan["host_dirs"] == {"/var/log/asterisk/cdr-csv": {"owner": "asterisk", "group": "asterisk",
                                                                   "mode": "0750"}}
    assert "cdr_database" not in the_plan["module_set"]["features"]
    assert the_plan["verify"] == {"kind": "cdr", "backends": ["csv"], "absent": ["Adaptive ODBC"], "connection": ""}


def test_the_pbxs_own_database_listens_on_loopback_and_its_user_may_only_insert():
    the_plan = planned(**DATABASE)
    res_odbc = the_plan["secrets"]["res_odbc.conf"]  # the password: never in a diff
    assert "password => %s\n" % PASSWORD in res_odbc and "negative_connection_cache => 10\n" in res_odbc
    assert "; vpbx.hardened: rendered by the vpbx.hardened.asterisk_cdr role\n" in res_odbc
    assert "alias start => calldate\n" in the_plan["files"]["cdr_adaptive_odbc.conf"]
    assert PASSWORD not in "".join(the_plan["files"].values()) + the_plan["host_files"]["/etc/odbc.ini"]["content"]
    assert the_plan["host_files"]["/etc/odbc.ini"]["content"].splitlines()[2:] == [
        "Description = vpbx.hardened call records", "Driver = MariaDB Unicode", "Server = 127.0.0.1", "Port = 3306",
        "Database = asteriskcdrdb"]
    server = the_plan["server"]
    assert "bind-address = 127.0.0.1\n" in server["config"] and server["privileges"] == "asteriskcdrdb.cdr:INSERT"
    assert server["create_table"].startswith("CREATE TABLE IF NOT EXISTS cdr (calldate DATETIME NOT NULL, clid")
    assert the_plan["packages"] == ["odbc-mariadb", "unixodbc", "mariadb-server", "python3-pymysql"]
    assert the_plan["summary"] == ("Call records to CSV and to the mariadb database asteriskcdrdb on 127.0.0.1 (this "
                                   "PBX, loopback only)")
    assert "cdr_database" in the_plan["module_set"]["features"] and the_plan["retire"] == []
    assert the_plan["verify"]["backends"] == ["csv", "Adaptive ODBC"] and the_plan["verify"]["connection"] == "vpbx-cdr"
    # res_odbc reloads before cdr_adaptive_odbc, which looks its table up through it.
    assert list(dict.fromkeys(the_plan["reload"].values())) == ["cdr", "res_odbc.so", "cdr_adaptive_odbc.so"]
    # At boot, Asterisk starts after its database; switched off, the drop-in goes.
    boot = the_plan["host_files"]["/etc/systemd/system/asterisk.service.d/vpbx-cdr.conf"]["content"]
    assert "[Unit]\nWants=mariadb.service\nAfter=mariadb.service\n" in boot
    assert planned()["host_files_absent"] == ["/etc/systemd/system/asterisk.service.d/vpbx-cdr.conf"]


def test_the_database_feature_is_in_every_roles_module_set():
    # The core's and the dialplan's runs apply the same set: neither unloads res_odbc again.
    v = variables(**dict(OFFICE, **DATABASE))
    assert "cdr_database" in planner.plan("core", v, dict(HOST, package={"major": 22}))["module_set"]["features"]
    assert "cdr_database" in planner.plan("dialplan", v, HOST)["module_set"]["features"]


def test_a_remote_server_is_reached_over_tls_with_its_certificate_checked():
    the_plan = planned(asterisk_cdr_database_host="db.office.example", asterisk_cdr_database_tls_ca_file=CA,
                       **DATABASE)
    section = the_plan["host_files"]["/etc/odbc.ini"]["content"]
    assert "Server = db.office.example\n" in section
    assert section.endswith("FORCETLS = 1\nSSLVERIFY = 1\nSSLCA = %s\n" % CA)
    assert the_plan["server"] is None and the_plan["packages"] == ["odbc-mariadb", "unixodbc"]
    boot = the_plan["host_files"]["/etc/systemd/system/asterisk.service.d/vpbx-cdr.conf"]["content"]
    assert "Wants=network-online.target\nAfter=network-online.target\n" in boot


@pytest.mark.parametrize("inventory, message", [
    ({"asterisk_cdr_database_host": "db.office.example"},
     "asterisk_cdr_database_tls_ca_file: the records go to db.office.example, over the network: give the path"),
    ({"asterisk_cdr_database_password": ""}, "asterisk_cdr_database_password: is empty"),
    ({"asterisk_cdr_database_password": "asterisk2024"}, "asterisk_cdr_database_password: is 12 characters long"),
    ({"asterisk_cdr_database_password": "passwordpassword1"}, "asterisk_cdr_database_password: is made of a known weak"),
    ({"asterisk_cdr_database_password": "c3f1e0a9;d8b7465f9e2d"}, "asterisk_cdr_database_password: contains a line"),
    ({"asterisk_cdr_database_engine": "oracle"}, "asterisk_cdr_database_engine: 'oracle' is not one of mariadb"),
    ({"asterisk_cdr_database_host": "db;host"}, "asterisk_cdr_database_host: 'db;host' is not a host name"),
    ({"asterisk_cdr_database_port": 70000}, "asterisk_cdr_database_port: 70000 is not a port"),
    ({"asterisk_cdr_database_name": "cdr; DROP"}, "asterisk_cdr_database_name: 'cdr; DROP' must be letters"),
    ({"asterisk_cdr_database_table": "1cdr"}, "asterisk_cdr_database_table: '1cdr' must be letters"),
    ({"asterisk_cdr_database_connect_timeout": 0}, "asterisk_cdr_database_connect_timeout: 0 is not 1-60"),
    ({"asterisk_cdr_database": "maybe"}, "asterisk_cdr_database: 'maybe' is not a boolean"),
])
def test_bad_settings_are_refused_naming_the_variable(inventory, message):
    assert message in refused(**dict(DATABASE, **inventory))


def test_a_password_written_in_clear_text_is_refused_naming_the_file():
    where = {"asterisk_cdr_database_password": "inventories/office/group_vars/pbx.yml line 12"}
    message = refused(host=dict(HOST, origins=where), **DATABASE)
    assert ("asterisk_cdr_database_password is written in clear text in inventories/office/group_vars/pbx.yml line "
            "12: move it to a vault-encrypted file") in message
    # The same plan from a vault (no origin in clear text) passes; with the database off nothing is asked.
    assert planned(**DATABASE)["database"]
    assert not planner.plan("cdr", variables(**OFFICE), dict(HOST, origins=where))["database"]


# `cdr show status` and `odbc show` as Asterisk 22 and 16 print them (the PJSIP PBXs of the calls scenario).
STATUS_22 = """
Call Detail Record (CDR) settings
----------------------------------
  Logging:                    Enabled
  Mode:                       Simple

  Cancel disposition enabled: No

* Registered Backends
  -------------------
    Adaptive ODBC
    cdr_manager (suspended)
    csv
"""
STATUS_16 = STATUS_22.replace("    csv\n", "    csv\n    cdr-custom\n")
ODBC = """
ODBC DSN Settings
-----------------

  Name:   vpbx-cdr
  DSN:    vpbx-cdr
    Last fail connection attempt: 2026-12-07 21:58:38
    Number of active connections: %d (out of 5)
    Logging: Disabled
"""


def test_the_backends_and_the_connection_are_read_from_the_cli():
    assert cdr.parse_backends(STATUS_22) == {"Adaptive ODBC": False, "cdr_manager": True, "csv": False}
    assert cdr.parse_backends(STATUS_16)["cdr-custom"] is False
    assert cdr.parse_connections(ODBC % 1, "vpbx-cdr") == 1
    assert cdr.parse_connections(ODBC % 0, "vpbx-cdr") == 0 and cdr.parse_connections(ODBC % 1, "other") is None


@pytest.mark.parametrize("texts, wanted, problem", [
    ((STATUS_22, ODBC % 1), DATABASE, None),
    ((STATUS_16, ODBC % 1), DATABASE, None),
    ((STATUS_22.replace("    Adaptive ODBC\n", ""), ODBC % 1), DATABASE, "Asterisk's CDR backends are"),
    ((STATUS_22.replace("    Adaptive ODBC\n", "    Adaptive ODBC (suspended)\n"), ODBC % 1), DATABASE,
     "Asterisk's CDR backends are"),
    ((STATUS_22, ODBC % 0), DATABASE, "res_odbc has no open connection vpbx-cdr"),
    ((STATUS_22, ""), DATABASE, "res_odbc has no connection vpbx-cdr"),
    ((STATUS_22.replace("    Adaptive ODBC\n", ""),), {}, None),
    ((STATUS_22,), {}, "without ['Adaptive ODBC']"),
])
def test_the_running_asterisk_is_held_to_the_plan(texts, wanted, problem):
    spec = planned(**wanted)["verify"]
    errors = cdr.verify_errors(spec, list(texts))
    assert (errors == []) if problem is None else (problem in " ".join(errors)), errors


@pytest.mark.parametrize("before, section, after", [
    ("", "[vpbx-cdr]\nDriver = X\n", "[vpbx-cdr]\nDriver = X\n"),
    ("[theirs]\nDriver = Y\n", "[vpbx-cdr]\nDriver = X\n", "[theirs]\nDriver = Y\n\n[vpbx-cdr]\nDriver = X\n"),
    ("[theirs]\nDriver = Y\n\n[vpbx-cdr]\nDriver = old\n", "[vpbx-cdr]\nDriver = X\n",
     "[theirs]\nDriver = Y\n\n[vpbx-cdr]\nDriver = X\n"),
    ("[vpbx-cdr]\nDriver = old\n[theirs]\nDriver = Y", "[vpbx-cdr]\nDriver = X\n",
     "[theirs]\nDriver = Y\n\n[vpbx-cdr]\nDriver = X\n"),
    ("[theirs]\nDriver = Y\n\n[vpbx-cdr]\nDriver = old\n", "", "[theirs]\nDriver = Y\n\n"),
    ("; a comment\n[theirs]\nA = 1\n", "", "; a comment\n[theirs]\nA = 1\n"),
])
def test_the_data_source_is_one_section_of_a_shared_file(before, section, after):
    assert fileset.with_section(before, "vpbx-cdr", section) == after
    # Applied twice, the same file: a re-run changes nothing.
    assert fileset.with_section(after, "vpbx-cdr", section) == after


def test_a_database_host_listens_on_its_one_address_with_tls_required_for_each_pbx():
    server = planner.plan("cdr_server", variables(**DATABASE_HOST), HOST)["server"]
    assert server["config"].splitlines()[1:] == [
        "[mysqld]", "bind-address = 192.0.2.30", "skip-name-resolve = 1", "require_secure_transport = ON",
        "ssl_cert = /etc/mysql/tls/db.pem", "ssl_key = /etc/mysql/tls/db.key"]
    assert server["clients"] == ["192.0.2.16"] and server["privileges"] == "asteriskcdrdb.cdr:INSERT"
    # The PBX's own database: loopback, its one client is loopback, no TLS (nothing crosses a network).
    own = planned(**DATABASE)["server"]
    assert own["clients"] == ["127.0.0.1"] and "require_secure_transport" not in own["config"]


@pytest.mark.parametrize("inventory, message", [
    ({"asterisk_cdr_server_address": "0.0.0.0"}, "asterisk_cdr_server_address: '0.0.0.0' is not one address"),
    ({"asterisk_cdr_server_address": "127.0.0.1"}, "asterisk_cdr_server_address: '127.0.0.1' is not one address"),
    ({"asterisk_cdr_server_address": "db.example"}, "asterisk_cdr_server_address: 'db.example' is not one address"),
    ({"asterisk_cdr_server_clients": []}, "asterisk_cdr_server_clients: [] must list the PBXs' addresses"),
    ({"asterisk_cdr_server_clients": ["pbx1"]}, "asterisk_cdr_server_clients: ['pbx1'] must list"),
    ({"asterisk_cdr_server_tls_key_file": ""}, "asterisk_cdr_server_tls_key_file: '' must be the path"),
    ({"asterisk_cdr_database_password": "short"}, "asterisk_cdr_database_password: is 5 characters long"),
])
def test_a_bad_database_host_is_refused_naming_the_variable(inventory, message):
    with pytest.raises(planner.PlanError) as exc:
        planner.plan("cdr_server", variables(**dict(DATABASE_HOST, **inventory)), HOST)
    assert exc.value.headline == "Invalid call records database host - nothing was changed:"
    assert message in "\n".join(exc.value.errors)
