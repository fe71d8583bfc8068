# SPDX-License-Identifier: GPL-3.0-or-later
"""Call records in a real database (the PJSIP PBXs, Asterisk 16 and 22, each with its own MariaDB
set up by the asterisk_cdr role): a call's row is read back from the database as the server holds
it; the database listens on loopback only and the PBX's user may only add rows; with the database
stopped calls go on and the failure is logged, and once it is back records flow again. The chan_sip
PBX keeps the default (CSV only): its calls are written to Master.csv and no database runs there.

Each test would fail without the role's database part: without cdr_adaptive_odbc, res_odbc and the
data source no row is written; with MariaDB's stock bind address commented out (a remote-access
how-to's first step) it listens on every address; with a user granted ALL, its SELECT and DELETE
succeed."""

from __future__ import annotations

import random
import re
import time

import pytest

import phones

DATABASE, TABLE, USER = "asteriskcdrdb", "cdr", "vpbxcdr"
MESSAGES = "/var/log/asterisk/messages.log"
MASTER_CSV = "/var/log/asterisk/cdr-csv/Master.csv"


@pytest.fixture
def cdr_pbx(pbx):
    if pbx["driver"] != "pjsip":
        pytest.skip("the chan_sip PBX keeps its records in CSV only (the default)")
    return pbx


def number():
    """A fresh number on the allowed route (8 495 XXXXXXX): the call's own key in the records."""
    return "8495%07d" % random.randrange(10 ** 7)


def sql(host, query, user=None, password=None):
    """(rc, output) of one query: as root over the local socket, or as `user` over TCP the way
    Asterisk connects."""
    login = "-h 127.0.0.1 -u %s" % user if user else ""
    env = "MYSQL_PWD='%s' " % password if password else ""
    run = host.run("%stimeout 20 mysql %s -N -B %s -e \"%s\"" % (env, login, DATABASE, query))
    return run.rc, (run.stdout + run.stderr).strip()


def rows(host, dst):
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
    host, dst = cdr_pbx["host"], number()
    assert rows(host, dst) == []
    answered_call(cdr_pbx, vault, dst, duration_ms=3000)
    assert phones.wait_for(lambda: rows(host, dst), 10), "no row for the call to %s" % dst
    [(src, got_dst, context, duration, billsec, disposition)] = rows(host, dst)
    assert (src, got_dst, context, disposition) == ("1001", dst, "office", "ANSWERED")
    # The provider's answerer held the call for 3 s.
    assert 2 <= int(billsec) <= 6 and int(billsec) <= int(duration) <= int(billsec) + 3, (duration, billsec)
    # CSV stays: the same call is in Master.csv.
    assert csv_has(host, dst)


def test_the_chan_sip_pbx_keeps_csv_only(pbx, vault):
    if pbx["driver"] != "chan_sip":
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
        address, _, port = line.split()[3].rpartition(":")
        found.add((address.strip("[]"), int(port)))
    return found


def test_the_database_listens_on_loopback_only(cdr_pbx):
    database = {address for address, port in listeners(cdr_pbx["host"], "t") if port == 3306}
    assert database and database <= {"127.0.0.1", "::1"}, database
    # The same reading sees a socket open beyond loopback when there is one: the SIP port.
    assert {address for address, port in listeners(cdr_pbx["host"], "u") if port == 5060} - {"127.0.0.1", "::1"}
    # Asterisk's own connection is open.
    assert re.search(r"Number of active connections: [1-9]", cdr_pbx["host"].run("asterisk -rx 'odbc show'").stdout)


def test_the_pbx_user_may_only_add_records(cdr_pbx, vault):
    host, password = cdr_pbx["host"], vault["cdr_password"]
    marker = "vpbx-test-%d" % random.randrange(10 ** 9)
    try:
        # Positive control: the same login adds a row.
        rc, out = sql(host, "INSERT INTO %s (calldate, src, dst, uniqueid) VALUES (NOW(), 'test', 'test', '%s')"
                      % (TABLE, marker), USER, password)
        assert rc == 0, out
        for query in ("SELECT COUNT(*) FROM %s" % TABLE, "DELETE FROM %s WHERE uniqueid = '%s'" % (TABLE, marker),
                      "UPDATE %s SET src = 'x' WHERE uniqueid = '%s'" % (TABLE, marker), "DROP TABLE %s" % TABLE):
            rc, out = sql(host, query, USER, password)
            assert rc != 0 and "denied" in out, (query, rc, out)
        # A wrong password is refused.
        rc, out = sql(host, "INSERT INTO %s (calldate) VALUES (NOW())" % TABLE, USER, password + "x")
        assert rc != 0 and "denied" in out, out
    finally:
        sql(host, "DELETE FROM %s WHERE uniqueid = '%s'" % (TABLE, marker))


def test_calls_go_on_while_the_database_is_down_and_records_flow_again(cdr_pbx, vault):
    host = cdr_pbx["host"]
    mark = int(host.run("wc -l < %s" % MESSAGES).stdout.strip() or 0)
    down = number()
    try:
        assert host.run("systemctl stop mariadb").rc == 0
        # The call goes through, the record goes to CSV, the database part fails and says so.
        answered_call(cdr_pbx, vault, down)
        assert phones.wait_for(lambda: csv_has(host, down), 10)
        assert phones.wait_for(lambda: re.search(
            r"(WARNING|ERROR).*(cdr_adaptive_odbc|res_odbc)",
            host.run("tail -n +%d %s" % (mark + 1, MESSAGES)).stdout), 15), "no failure logged"
    finally:
        assert host.run("systemctl start mariadb").rc == 0
    assert rows(host, down) == []  # what CSV alone holds is not copied to the database later
    # Back: a call's record reaches the database again - within 30 s (res_odbc tries a failed
    # connection again after 10 s), one call every 5 s until one does.
    started, back = time.monotonic(), None
    for _attempt in range(6):
        dst = number()
        answered_call(cdr_pbx, vault, dst)
        if phones.wait_for(lambda: rows(host, dst), 5):
            back = time.monotonic() - started
            break
    assert back is not None, "no record reached the database within 30 s of its start"
    print("VPBX-FIGURE cdr %s: records in the database again %.0f s after it started" % (cdr_pbx["name"], back))
