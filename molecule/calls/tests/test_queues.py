# SPDX-License-Identifier: GPL-3.0-or-later
"""Queues, live (molecule.yml: `support` - 1002 its member, one caller may wait, 1004 its
fallback; `sales` - 1002 logs in and out with *45601, 1004 its fallback). Every caller is a sipp
phone; what the members' phones receive and the queue's own queue_log are the evidence.

test_calls.py already shows a free member answering (the provider's DID into `support` rings
1002): the positive control of the waits and fallbacks below."""

from __future__ import annotations

import re

import phones

QUEUE_LOG = "/var/log/asterisk/queue_log"
# Background callers' own SIP ports (the phones' registered ports stay with their answerers).
BUSY_PORT, WAITING_PORT = 5091, 5093


def call(pbx, vault, caller, number, port=None, duration_ms=500):
    return phones.sipp(pbx["ip"], "invite.xml", number, caller, vault["secrets"][caller], caller=caller,
                       port=port or phones.PORTS[caller], duration_ms=duration_ms)


def start(pbx, vault, caller, number, port, duration_ms):
    return phones.start(pbx["ip"], "invite.xml", number, caller, vault["secrets"][caller], caller=caller,
                        port=port, duration_ms=duration_ms)


def queue_log(pbx, since, queue):
    """[(callid, agent, event, data...)] of the queue_log lines of `queue` since `since` (epoch)."""
    out = []
    for line in pbx["host"].run("cat %s 2>/dev/null" % QUEUE_LOG).stdout.splitlines():
        fields = line.split("|")
        if len(fields) >= 5 and fields[0].isdigit() and int(fields[0]) >= since and fields[2] == queue:
            out.append(tuple([fields[1]] + fields[3:]))
    return out


def events(entries):
    return [entry[2] for entry in entries]


def now(pbx):
    return int(pbx["host"].run("date +%s").stdout) - 1


def registered(pbx, vault, *extensions):
    for ext in extensions:
        reg = phones.register(pbx["ip"], ext, vault["secrets"][ext])
        assert reg.rc == 0 and reg.final == 200, (ext, reg)


def busy_1002(pbx, vault, answerer, seconds):
    """1001 calls 1002 directly for `seconds`: 1002 is in use (the queue does not ring a busy member)."""
    tag = start(pbx, vault, "1001", "1002", BUSY_PORT, seconds * 1000)
    assert phones.wait_for(answerer.invites, 15), "1001's call never reached 1002: %s" % answerer.messages()
    return tag


def test_with_its_member_busy_a_caller_waits_and_is_answered_when_the_member_frees_up(pbx, vault):
    registered(pbx, vault, "1002")
    since = now(pbx)
    answerer = phones.Answerer(phones.phones(), phones.PHONES_IP, phones.PORTS["1002"], seconds=90, many=True)
    try:
        busy = busy_1002(pbx, vault, answerer, 8)
        waiting = start(pbx, vault, "1003", "600", WAITING_PORT, 15000)
        first = phones.finish(busy)
        # The member is free again: the queue rings it (retry 2 s) while the caller still waits.
        assert phones.wait_for(lambda: len(answerer.invites()) >= 2, 20), answerer.messages()
        second = phones.finish(waiting)
        invites = answerer.invites()
    finally:
        answerer.stop()
    assert first.outcome == "answered" and second.outcome == "answered", (first, second)
    assert len(invites) == 2, invites
    log = queue_log(pbx, since, "support")
    assert events(log)[:1] == ["ENTERQUEUE"] and "CONNECT" in events(log), log
    connect = [entry for entry in log if entry[2] == "CONNECT"][0]
    # CONNECT's first field is how long the caller waited: the busy call's remaining seconds.
    assert int(connect[3]) >= 4, connect


def test_a_full_queue_sends_the_next_caller_to_its_fallback(pbx, vault):
    registered(pbx, vault, "1002", "1004")
    since = now(pbx)
    member = phones.Answerer(phones.phones(), phones.PHONES_IP, phones.PORTS["1002"], seconds=90, many=True)
    fallback = phones.Answerer(phones.phones(), phones.PHONES_IP, phones.PORTS["1004"], seconds=60)
    try:
        busy = busy_1002(pbx, vault, member, 14)
        waiting = start(pbx, vault, "1003", "600", WAITING_PORT, 12000)
        # The one caller `support` takes (max_callers: 1) is in.
        assert phones.wait_for(lambda: "ENTERQUEUE" in events(queue_log(pbx, since, "support")), 15), \
            queue_log(pbx, since, "support")
        assert not fallback.invites()  # the positive control's baseline: nothing rang 1004 yet
        late = phones.sipp(pbx["ip"], "invite.xml", "74950000600", caller="sipnet", port=5060, duration_ms=2000,
                           source=phones.provider())
        reached = phones.wait_for(fallback.invites, 10)
        phones.finish(waiting)
        phones.finish(busy)
    finally:
        member.stop()
        fallback.stop()
    assert late.final == 200, late
    assert reached and reached[0].startswith("INVITE sip:1004@" + phones.PHONES_IP), reached
    log = queue_log(pbx, since, "support")
    assert [entry[3] for entry in log if entry[2] == "VPBX-FALLBACK"] == ["FULL"], log
    assert events(log).count("ENTERQUEUE") == 1, log


def test_a_member_logs_in_and_out_by_feature_code_and_a_non_member_cannot(pbx, vault):
    registered(pbx, vault, "1002", "1004")
    host = pbx["host"]
    since = now(pbx)

    def members():
        out = host.run("asterisk -rx 'queue show sales'").stdout
        return sorted(set(re.findall(r"\b(?:PJSIP|SIP)/\d+", out)))

    assert members() == [], "sales starts with nobody logged in"
    # Nobody logged in: a caller goes straight to the fallback (JOINEMPTY), 1004 rings.
    fallback = phones.Answerer(phones.phones(), phones.PHONES_IP, phones.PORTS["1004"], seconds=30)
    try:
        empty = call(pbx, vault, "1003", "601", port=WAITING_PORT, duration_ms=1000)
        reached = phones.wait_for(fallback.invites, 10)
    finally:
        fallback.stop()
    assert empty.final == 200 and reached, (empty, fallback.messages())
    # A subscriber who is not a member is refused, and nothing is added.
    refused = call(pbx, vault, "1001", "*45601", port=BUSY_PORT)
    assert refused.final is not None and refused.final >= 400 and members() == [], (refused, members())
    # The member logs in: the queue has it; again: it is out.
    login = call(pbx, vault, "1002", "*45601", port=WAITING_PORT)
    assert login.final == 200, login
    tech = "SIP" if pbx["driver"] == "chan_sip" else "PJSIP"
    assert members() == ["%s/1002" % tech]
    logout = call(pbx, vault, "1002", "*45601", port=WAITING_PORT)
    assert logout.final == 200 and members() == [], (logout, members())
    log = queue_log(pbx, since, "sales")
    assert [entry[2] for entry in log if entry[2] in ("ADDMEMBER", "REMOVEMEMBER")] == ["ADDMEMBER", "REMOVEMEMBER"], log
    assert [entry[3] for entry in log if entry[2] == "VPBX-FALLBACK"] == ["JOINEMPTY"], log
    assert "login refused" in host.run("grep 'vpbx queue sales' /var/log/asterisk/messages.log | tail -3").stdout
