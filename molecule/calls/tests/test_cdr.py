# SPDX-License-Identifier: GPL-3.0-or-later
"""Call records in a real database, written by the two PJSIP PBXs: Asterisk 22 to its own MariaDB
(set up by the asterisk_cdr role, loopback only) and Asterisk 16 to a database host over TLS (set
up by the cdr_database playbook). A call's row is read back from the database as the server holds
it. The PBX's user may only add rows, and only over TLS with the server's certificate checked. With
the database stopped calls go on and the failure is logged; once it is back records flow again.
The chan_sip PBX keeps the default, CSV only.

Each test would fail without the role's database part: without cdr_adaptive_odbc, res_odbc and the
data source no row is written; with MariaDB's stock bind address commented out (a remote-access
how-to's first step) it listens on every address; with a user granted ALL, its SELECT and DELETE
succeed; without require_secure_transport a plain-text login succeeds."""

from __future__ import annotations

import random
import re
import time

import pytest

import phones

DATABASE, TABLE, USER = "asteriskcdrdb", "cdr", "vpbxcdr"
MESSAGES = "/var/log/asterisk/messages.log"
MASTER_CSV = "/var/log/asterisk/cdr-csv/Master.csv"
CA = "/etc/ssl/vpbx-test-db-ca.pem"


@pytest.fixture
def cdr_pbx(pbx):
    """A PBX whose records also go to a database, with `db`: the host that runs it."""
    if pbx["cdr"] == "csv":
        pytest.skip("the chan_sip PBX keeps its records in CSV only (the default)")
    return dict(pbx, db=pbx["host"] if pbx["cdr"] == "own" else phones.database_host())


def number():
    """A fresh number on the allowed route (8 495 XXXXXXX): the call's own key in the records."""
    return "8495%07d" % random.randrange(10 ** 7)


def sql(host, query):
    """(rc, output) of one query as root over the database host's local socket."""
    run = host.run("timeout 20 mysql -N -B %s -e \"%s\"" % (DATABASE, query))
    return run.rc, (run.stdout + run.stderr).strip()


def isql(pbx, query, password, connection=None):
    """What unixODBC's isql prints for one query sent from the PBX as Asterisk sends it: through the
    data source vpbx-cdr, or through `connection` (a connection string: SQLDriverConnect)."""
    target = "-k '%s;UID=%s;PWD=%s'" % (connection, USER, password) if connection else "vpbx-cdr %s %s" % (
        USER, password)
    run = pbx["host"].run("echo \"%s\" | timeout 30 isql -b -v %s 2>&1" % (query, target))
    return run.stdout + run.stderr


def rows(host, dst):
    """The rows of the call to `dst`, as the database holds them."""
    rc, out = sql(host, "SELECT src, dst, dcontext, duration, billsec, disposition FROM %s WHERE dst = '%s'"
                  % (TABLE, dst))
    assert rc == 0, out
    return [line.split("\t") for line in out.splitlines() if line.strip()]


def csv_has(host, dst):
    return host.run("grep -c '\"%s\"' %s" % (dst, MASTER_CSV)).stdout.strip() not in ("", "0")


def answered_call(pbx, vault, dst, duration_ms=500):
    answerer = phones.Answerer(phones.provider(), phones.PROVIDER_IP, 5060)
    try:
        result = phones.dial(pbx["ip"], vault, "1001", dst, duration_ms=duration_ms)
        time.sleep(1)
        invites = answerer.invites()
    finally:
        answerer.stop()
    assert result.final == 200 and result.outcome == "answered", result
    assert invites and invites[0].startswith("INVITE sip:7" + dst[1:] + "@"), invites
    return result


def test_a_call_is_read_back_from_the_database(cdr_pbx, vault):
    host, db, dst = cdr_pbx["host"], cdr_pbx["db"], number()
    assert rows(db, dst) == []
    answered_call(cdr_pbx, vault, dst, duration_ms=3000)
    assert phones.wait_for(lambda: rows(db, dst), 10), "no row for the call to %s" % dst
    [(src, got_dst, context, duration, billsec, disposition)] = rows(db, dst)
    assert (src, got_dst, context, disposition) == ("1001", dst, "office", "ANSWERED")
    # The provider's answerer held the call for 3 s.
    assert 2 <= int(billsec) <= 6 and int(billsec) <= int(duration) <= int(billsec) + 3, (duration, billsec)
    # CSV stays: the same call is in Master.csv.
    assert csv_has(host, dst)


def test_the_chan_sip_pbx_keeps_csv_only(pbx, vault):
    if pbx["cdr"] != "csv":
        pytest.skip("the PJSIP PBXs write a database too (the tests above)")
    host, dst = pbx["host"], number()
    answered_call(pbx, vault, dst)
    assert phones.wait_for(lambda: csv_has(host, dst), 10)
    assert not host.run("systemctl is-active mariadb").stdout.strip() == "active"
    assert "cdr_adaptive_odbc.so" not in host.run("asterisk -rx 'module show like odbc'").stdout


def listeners(host, protocol):
    """{(address, port)} of the sockets listening (ss -t or -u)."""
    found = set()
    for line in host.run("ss -Hln%s" % protocol).stdout.splitlines():
        address, _unused, port = line.split()[3].rpartition(":")
        found.add((address.strip("[]"), int(port)))
    return found


def test_the_database_listens_on_loopback_or_its_one_address_only(cdr_pbx):
    allowed = {"127.0.0.1", "::1"} if cdr_pbx["cdr"] == "own" else {phones.DATABASE_IP}
    database = {address for address, port in listeners(cdr_pbx["db"], "t") if port == 3306}
    assert database and database <= allowed, database
    # The same reading sees a socket open beyond loopback when there is one: the PBX's SIP port.
    assert {address for address, port in listeners(cdr_pbx["host"], "u") if port == 5060} - {"127.0.0.1", "::1"}
    # Asterisk's own connection is open.
    assert re.search(r"Number of active connections: [1-9]", cdr_pbx["host"].run("asterisk -rx 'odbc show'").stdout)


def test_the_pbx_user_may_only_add_records(cdr_pbx, vault):
    password = vault["cdr_password"]
    marker = "vpbx-test-%d" % random.randrange(10 ** 9)
    try:
        # Positive control: the same login, through the same data source, adds a row.
        out = isql(cdr_pbx, "INSERT INTO %s (calldate, src, dst, uniqueid) VALUES (NOW(), 'test', 'test', '%s')"
                   % (TABLE, marker), password)
        assert "SQLRowCount returns 1" in out, out
        assert sql(cdr_pbx["db"], "SELECT COUNT(*) FROM %s WHERE uniqueid = '%s'" % (TABLE, marker)) == (0, "1")
        for query in ("SELECT COUNT(*) FROM %s" % TABLE, "DELETE FROM %s WHERE uniqueid = '%s'" % (TABLE, marker),
                      "UPDATE %s SET src = 'x' WHERE uniqueid = '%s'" % (TABLE, marker), "DROP TABLE %s" % TABLE):
            out = isql(cdr_pbx, query, password)
            assert "denied" in out and "SQLRowCount returns 1" not in out, (query, out)
        # A wrong password is refused.
        out = isql(cdr_pbx, "SELECT 1", password + "x")
        assert "Access denied" in out, out
    finally:
        sql(cdr_pbx["db"], "DELETE FROM %s WHERE uniqueid = '%s'" % (TABLE, marker))


def test_the_remote_database_takes_tls_only_with_its_certificate_checked(cdr_pbx, vault):
    if cdr_pbx["cdr"] != "remote":
        pytest.skip("the PBX's own database is on loopback: nothing crosses a network")
    plain = "Driver=MariaDB Unicode;Server=%s;Port=3306;Database=%s" % (phones.DATABASE_IP, DATABASE)
    checked = plain + ";FORCETLS=1;SSLVERIFY=1;SSLCA=%s" % CA
    # Positive control: TLS, the server's certificate checked against the test CA.
    out = isql(cdr_pbx, "SELECT 1", vault["cdr_password"], checked)
    assert "Could not SQLDriverConnect" not in out and "1 rows fetched" in out, out
    # The same login in plain text is refused by the server (MariaDB 10.11 answers "Access denied"
    # to a plain-text login under require_secure_transport; the password is the one just accepted).
    out = isql(cdr_pbx, "SELECT 1", vault["cdr_password"], plain)
    assert "Could not SQLDriverConnect" in out and re.search(r"insecure transport|Access denied", out), out
    # A certificate that the CA given did not sign is refused by the PBX.
    out = isql(cdr_pbx, "SELECT 1", vault["cdr_password"], checked.replace(CA, "/etc/ssl/certs/ca-certificates.crt"))
    assert "Could not SQLDriverConnect" in out and "TLS/SSL error" in out, out


def test_calls_go_on_while_the_database_is_down_and_records_flow_again(cdr_pbx, vault):
    host, db = cdr_pbx["host"], cdr_pbx["db"]
    mark = int(host.run("wc -l < %s" % MESSAGES).stdout.strip() or 0)
    down = number()
    try:
        assert db.run("systemctl stop mariadb").rc == 0
        # The call goes through, the record goes to CSV, the database part fails and says so.
        answered_call(cdr_pbx, vault, down)
        assert phones.wait_for(lambda: csv_has(host, down), 10)
        assert phones.wait_for(lambda: re.search(
            r"(WARNING|ERROR).*(cdr_adaptive_odbc|res_odbc)",
            host.run("tail -n +%d %s" % (mark + 1, MESSAGES)).stdout), 15), "no failure logged"
    finally:
        assert db.run("systemctl start mariadb").rc == 0
    assert rows(db, down) == []  # what CSV alone holds is not copied to the database later
    # Back: a call's record reaches the database again - within 30 s (res_odbc tries a failed
    # connection again after 10 s), one call every 5 s until one does.
    started, back = time.monotonic(), None
    for _attempt in range(6):
        dst = number()
        answered_call(cdr_pbx, vault, dst)
        if phones.wait_for(lambda: rows(db, dst), 5):
            back = time.monotonic() - started
            break
    assert back is not None, "no record reached the database within 30 s of its start"
    print("VPBX-FIGURE cdr %s (%s database): records in the database again %.0f s after it started"
          % (cdr_pbx["name"], cdr_pbx["cdr"], back))


def test_the_database_switched_off_and_on_again(cdr_pbx, vault):
    """Off: the database's files, data source and boot drop-in go, cdr_adaptive_odbc is unloaded
    (Asterisk restarts once: res_odbc stays loaded while it runs), CSV goes on and the rows stay.
    On again: a call's row reaches the database."""
    if cdr_pbx["cdr"] != "own":
        pytest.skip("one PBX is enough (the PBX's own database)")
    host, name = cdr_pbx["host"], cdr_pbx["name"]
    rows_before = sql(cdr_pbx["db"], "SELECT COUNT(*) FROM %s" % TABLE)
    rc, out, _seconds = phones.playbook("site", "--tags", "asterisk_cdr", limit=name,
                                        extra={"asterisk_cdr_database": False})
    assert rc == 0, out[-4000:]
    for path in ("/etc/asterisk/res_odbc.conf", "/etc/asterisk/cdr_adaptive_odbc.conf",
                 "/etc/systemd/system/asterisk.service.d/vpbx-cdr.conf"):
        assert not host.file(path).exists, path
    assert "[vpbx-cdr]" not in host.run("cat /etc/odbc.ini").stdout
    assert "cdr_adaptive_odbc" not in host.run("asterisk -rx 'module show like odbc'").stdout
    dst = number()
    answered_call(cdr_pbx, vault, dst)
    assert phones.wait_for(lambda: csv_has(host, dst), 10)
    assert sql(cdr_pbx["db"], "SELECT COUNT(*) FROM %s" % TABLE) == rows_before  # the rows stay, none added
    # On again (the inventory's setting): the positive control of the same reading.
    rc, out, _seconds = phones.playbook("site", "--tags", "asterisk_cdr", limit=name)
    assert rc == 0, out[-4000:]
    assert host.file("/etc/asterisk/cdr_adaptive_odbc.conf").exists
    assert "[vpbx-cdr]" in host.run("cat /etc/odbc.ini").stdout
    dst = number()
    answered_call(cdr_pbx, vault, dst)
    assert phones.wait_for(lambda: rows(cdr_pbx["db"], dst), 10), "no row once the database is on again"
