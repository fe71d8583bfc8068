# SPDX-License-Identifier: GPL-3.0-or-later
"""Real calls through the rendered dialplan, on chan_sip (Asterisk 16) and PJSIP (16 and 22).

Each test would fail without the dialplan role: with the stock or an empty extensions.conf
nothing is dialled at all (1001 -> 1002 fails); with a catch-all `_X.` route and Dial(${EXTEN})
the international number and the injected Dial string reach the provider; without the
subscriber's record flag and the UMask, no private recording exists."""

from __future__ import annotations

import re
import time

import pytest

import phones


def call(pbx, vault, caller, number, duration_ms=500):
    """`caller` dials `number` with its credentials (answering the PBX's challenge)."""
    return phones.sipp(pbx["ip"], "invite.xml", number, caller, vault["secrets"][caller], caller=caller,
                       port=phones.PORTS[caller], duration_ms=duration_ms)


def provider_answerer():
    return phones.Answerer(phones.provider(), phones.PROVIDER_IP, 5060)


def private_files(host, directory, pattern, since):
    """Files under directory matching pattern, written after `since` (epoch seconds), with owner
    and mode."""
    out = host.run("find %s -type f -name %s -newermt @%d -printf '%%u:%%g %%m %%p\\n'"
                   % (directory, pattern, since)).stdout
    return [line.split(" ", 2) for line in out.splitlines() if line.strip()]


def check_private_spool(host, directory):
    """No directory from /var/spool/asterisk down to `directory` lets others in."""
    path = "/var/spool/asterisk"
    for part in [""] + directory[len(path):].strip("/").split("/"):
        path = path + ("/" + part if part else "")
        owner, mode = host.run("stat -c '%%U:%%G %%a' %s" % path).stdout.split()
        assert owner == "asterisk:asterisk" and int(mode, 8) & 0o007 == 0, (path, owner, mode)


def test_1001_calls_1002_and_the_call_is_recorded_privately(pbx, vault):
    since = int(pbx["host"].run("date +%s").stdout) - 1
    reg = phones.register(pbx["ip"], "1002", vault["secrets"]["1002"])
    assert reg.rc == 0 and reg.final == 200, reg
    answerer = phones.Answerer(phones.phones(), phones.PHONES_IP, phones.PORTS["1002"])
    try:
        result = call(pbx, vault, "1001", "1002", duration_ms=3000)
        time.sleep(1)
        requests = answerer.requests()
    finally:
        answerer.stop()
    assert result.final == 200 and result.outcome == "answered", result
    # INVITE, ACK and BYE reached 1002's phone through the PBX (besides PJSIP's voicemail NOTIFY).
    dialog = [r.split()[0] for r in requests if r.split()[0] in ("INVITE", "ACK", "BYE")]
    assert dialog == ["INVITE", "ACK", "BYE"], (requests, answerer.messages())
    # 1001 has `record: true`: the call is in the monitor spool, owned by asterisk, not world-readable.
    deadline = time.monotonic() + 15
    files = []
    while time.monotonic() < deadline and not files:
        files = private_files(pbx["host"], "/var/spool/asterisk/monitor", "'*-1002.wav'", since)
        time.sleep(0.5)
    assert files, pbx["host"].run("ls -la /var/spool/asterisk/monitor; tail -30 /var/log/asterisk/messages.log").stdout
    for owner, mode, path in files:
        assert owner == "asterisk:asterisk", (owner, path)
        assert int(mode, 8) & 0o007 == 0, "%s is mode %s: readable by others" % (path, mode)
    check_private_spool(pbx["host"], "/var/spool/asterisk/monitor")


def test_a_call_nobody_answers_lands_in_voicemail(pbx, vault):
    since = int(pbx["host"].run("date +%s").stdout) - 1
    # 1003 never registers: the Dial fails at once and its voicemail answers; the caller stays long
    # enough for the greeting and instructions (about 10 s) and a few seconds of message.
    result = call(pbx, vault, "1001", "1003", duration_ms=20000)
    assert result.final == 200 and result.outcome == "answered", result
    deadline = time.monotonic() + 15
    files = []
    while time.monotonic() < deadline and not files:
        files = private_files(pbx["host"], "/var/spool/asterisk/voicemail/default/1003/INBOX", "'msg*.txt'", since)
        time.sleep(0.5)
    assert files, pbx["host"].run("find /var/spool/asterisk/voicemail; tail -30 /var/log/asterisk/messages.log").stdout
    text = pbx["host"].file(files[0][2]).content_string
    assert re.search(r"^callerid=.*1001", text, re.MULTILINE), text
    # The message itself is private; app_voicemail writes its .txt 0666 whatever the umask, so
    # the spool directories (0750 asterisk) are what keeps it from other users.
    audio = private_files(pbx["host"], "/var/spool/asterisk/voicemail/default/1003/INBOX", "'msg*.wav'", since)
    assert audio and all(o == "asterisk:asterisk" and int(m, 8) & 0o007 == 0 for o, m, _unused in audio), audio
    check_private_spool(pbx["host"], "/var/spool/asterisk/voicemail/default/1003/INBOX")


def test_an_allowed_number_reaches_the_provider_stripped_and_prefixed(pbx, vault):
    answerer = provider_answerer()
    try:
        result = call(pbx, vault, "1001", "84951234567")
        time.sleep(1)
        requests = answerer.invites()
    finally:
        answerer.stop()
    assert result.final == 200 and result.outcome == "answered", result
    # The how-to's route: 8 495 1234567 leaves as 7 495 1234567.
    assert requests and requests[0].startswith("INVITE sip:74951234567@" + phones.PROVIDER_IP), requests


def test_international_only_from_a_context_with_the_right(pbx, vault):
    answerer = provider_answerer()
    try:
        refused = call(pbx, vault, "1001", "810441234567")
        time.sleep(1)
        reached = answerer.invites()
    finally:
        answerer.stop()
    assert refused.final in (403, 404), refused
    assert reached == [], "an office phone reached the provider with an international number: %s" % reached
    # The same number from the boss context (international: true) goes out: the refusal above is
    # the context's missing right, not a broken route.
    answerer = provider_answerer()
    try:
        allowed = call(pbx, vault, "1004", "810441234567")
        time.sleep(1)
        requests = answerer.invites()
    finally:
        answerer.stop()
    assert allowed.final == 200, allowed
    assert requests and requests[0].startswith("INVITE sip:00441234567@"), requests


@pytest.mark.parametrize("number", [
    "1002&{tech}/provider/00441234567",
    "84951234567&{tech}/provider/00441234567",
    "1002,,tTwWkK",
])
def test_a_dial_string_injection_never_reaches_the_provider(pbx, vault, number):
    tech = "SIP" if pbx["driver"] == "chan_sip" else "PJSIP"
    answerer = provider_answerer()
    try:
        result = call(pbx, vault, "1001", number.format(tech=tech))
        time.sleep(1)
        reached = answerer.invites()
    finally:
        answerer.stop()
    assert result.final in (403, 404, 484), result
    assert reached == [], "the injected number reached the provider: %s" % reached


def test_an_injection_through_a_variable_length_route_reaches_the_provider_as_digits_only(pbx, vault):
    # 1004's international route `_810X.` matches whatever follows 810 - the injected Dial string
    # included. Only the filtered digits may reach the provider, in one INVITE.
    tech = "SIP" if pbx["driver"] == "chan_sip" else "PJSIP"
    answerer = provider_answerer()
    try:
        result = call(pbx, vault, "1004", "81044123&%s/provider/999" % tech)
        time.sleep(1)
        reached = answerer.invites()
    finally:
        answerer.stop()
    assert len(reached) == 1, (reached, result)
    assert re.match(r"^INVITE sip:0044123999@", reached[0]), reached


@pytest.mark.parametrize("did, target", [("74950000002", "subscriber 1002"), ("74950000600", "queue support")])
def test_an_inbound_call_from_the_provider_rings_1002(pbx, vault, did, target):
    """The provider (the trunk identifies it by its address, no credentials) calls a DID; the
    inbound route of its trunk context rings 1002's phone - directly, or as the queue's member."""
    reg = phones.register(pbx["ip"], "1002", vault["secrets"]["1002"])
    assert reg.rc == 0 and reg.final == 200, reg
    answerer = phones.Answerer(phones.phones(), phones.PHONES_IP, phones.PORTS["1002"])
    try:
        result = phones.sipp(pbx["ip"], "invite.xml", did, caller="sipnet", port=5060, duration_ms=2000,
                             source=phones.provider())
        time.sleep(1)
        invites = answerer.invites()
    finally:
        answerer.stop()
    assert result.final == 200 and result.outcome == "answered", (target, result)
    assert invites and invites[0].startswith("INVITE sip:1002@" + phones.PHONES_IP), (target, invites)


def test_an_unauthenticated_invite_never_reaches_the_provider(pbx):
    answerer = provider_answerer()
    try:
        # No credentials: sipp answers the challenge with the wrong ones, as a scanner would.
        result = phones.sipp(pbx["ip"], "invite.xml", "84951234567", caller="9999", port=5079)
        time.sleep(1)
        reached = answerer.invites()
    finally:
        answerer.stop()
    assert result.final in (401, 403, 404, 407), result
    assert reached == [], reached


def test_asterisk_runs_the_rendered_dialplan(pbx):
    out = pbx["host"].run("asterisk -rx 'dialplan show office'").stdout
    assert "'1002' =>" in out and "_8[34]XXXXXXXXX" in out, out
    assert "810" not in out, "office must not carry the international route: %s" % out
    boss = pbx["host"].run("asterisk -rx 'dialplan show boss'").stdout
    assert "_810X." in boss, boss
    # The features the dialplan uses were loaded through the module set.
    modules = pbx["host"].run("asterisk -rx 'module show like app_'").stdout
    for module in ("app_voicemail.so", "app_mixmonitor.so", "app_queue.so", "app_confbridge.so", "app_echo.so"):
        assert module in modules, modules


def test_a_phone_joins_a_conference_room(pbx, vault):
    """ConfBridge (bridge_softmix, the timer) inside the systemd sandbox: 1001 calls the open room
    and is in it while its call lasts; the room is gone once it hangs up."""
    tag = phones.start(pbx["ip"], "invite.xml", "701", "1001", vault["secrets"]["1001"], caller="1001",
                       port=5091, duration_ms=8000)
    members, deadline = "", time.monotonic() + 15
    while time.monotonic() < deadline and not re.search(r"^lobby\s+1\s", members, re.MULTILINE):
        members = pbx["host"].run("asterisk -rx 'confbridge list'").stdout
        time.sleep(0.5)
    result = phones.finish(tag)
    assert result.rc == 0 and result.outcome == "answered", result
    assert re.search(r"^lobby\s+1\s", members, re.MULTILINE), members
    assert "lobby" not in pbx["host"].run("asterisk -rx 'confbridge list'").stdout
