# SPDX-License-Identifier: GPL-3.0-or-later
"""Conference rooms, live (molecule.yml: `board` 700 with a PIN and an admin PIN from the vault;
`lobby` 701, open, two members at most, also reached from the provider's DID 74950000701).

Two phones in a room hear each other and not themselves: 1001 speaks a 425 Hz tone, the provider
a 1000 Hz one, and what the PBX sends each of them is read off the wire in their own container
(rtp_listen.py) - each must carry the other's tone. PINs are typed as RFC 2833 DTMF (a pcap of
the keys, dtmf_pcap.py, played by sipp)."""

from __future__ import annotations

import json
import os
import re
import time

import phones

TONE_1000 = "/tmp/tone-1000hz.pcma"


def members(pbx, room):
    """[(channel, user profile)] of `confbridge list <room>`."""
    out = pbx["host"].run("asterisk -rx 'confbridge list %s'" % room).stdout
    return re.findall(r"^((?:PJSIP|SIP)/\S+)\s.*?\b(vpbx-\S+-(?:user|admin))\b", out, re.MULTILINE)


def pin_scenario(digits):
    """invite.xml that types `digits` and # as RFC 2833 DTMF once answered (after the prompt has
    begun), instead of speaking: a pcap of the keys from dtmf_pcap.py, played by sipp."""
    keys, path = digits + "#", "/tmp/pin-%s" % digits
    phones.phones().run_expect([0], "python3 %s/dtmf_pcap.py '%s' %s.pcap" % (phones.SCENARIOS, keys, path))
    with open(os.path.join(phones.REPO, "tests", "molecule", "sip", "invite.xml"), encoding="utf-8") as handle:
        text = handle.read()
    typing = ('<pause milliseconds="2000"/><nop><action><exec play_pcap_audio="%s.pcap"/></action></nop>'
              '<pause milliseconds="%d"/>' % (path, 300 * len(keys) + 500))
    text, count = re.subn(r"<nop><action><exec rtp_stream=[^\n]*</nop>", lambda _m: typing, text)
    assert count == 1, "invite.xml no longer speaks through one rtp_stream line"
    phones.phones().run_expect([0], "cat > %s.xml <<'VPBX_EOF'\n%s\nVPBX_EOF" % (path, text))
    return path + ".xml"


def test_two_phones_in_a_room_hear_each_other_and_a_third_is_refused(pbx, vault):
    provider = phones.provider()
    # The provider's phone speaks 1000 Hz: its own copy of invite.xml and of the tone.
    provider.run_expect([0], "python3 -c \"import audioop, math, struct; pcm = b''.join(struct.pack('<h', "
                             "int(8000 * math.sin(2 * math.pi * 1000 * i / 8000))) for i in range(8000)); "
                             "open('%s', 'wb').write(audioop.lin2alaw(pcm, 2))\"" % TONE_1000)
    provider.run_expect([0], "sed 's#%s/tone-425hz.pcma#%s#' %s/invite.xml > /tmp/invite-1000hz.xml"
                        % (phones.SCENARIOS, TONE_1000, phones.SCENARIOS))
    first = phones.start(pbx["ip"], "invite.xml", "701", "1001", vault["secrets"]["1001"], caller="1001",
                         port=5091, duration_ms=25000)
    second = third = None
    try:
        assert phones.wait_for(lambda: len(members(pbx, "lobby")) == 1, 15), members(pbx, "lobby")
        second = phones.start(pbx["ip"], "/tmp/invite-1000hz.xml", "74950000701", caller="sipnet", port=5060,
                              duration_ms=20000, source=provider)
        assert phones.wait_for(lambda: len(members(pbx, "lobby")) == 2, 15), members(pbx, "lobby")
        time.sleep(2)  # the join announcements are over
        listen = "timeout 20 python3 %s/rtp_listen.py %s 4 > /tmp/heard.json 2>/tmp/heard.err &" % (
            phones.SCENARIOS, pbx["ip"])
        phones.phones().run(listen)
        provider.run(listen)
        time.sleep(5)
        heard_by_1001 = json.loads(phones.phones().run("cat /tmp/heard.json").stdout or "{}")
        heard_by_provider = json.loads(provider.run("cat /tmp/heard.json").stdout or "{}")
        # A third phone while two are in: the room holds its limit (max_members: 2).
        third = phones.start(pbx["ip"], "invite.xml", "701", "1003", vault["secrets"]["1003"], caller="1003",
                             port=5093, duration_ms=3000)
        seen = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            seen.append(members(pbx, "lobby"))
            time.sleep(0.5)
    finally:
        results = [phones.finish(tag) for tag in (first, third) if tag] + (
            [phones.finish(second, source=provider)] if second else [])
    assert all(r.outcome == "answered" for r in results), results
    # What reached each phone: the other's tone, much stronger than its own (the bridge mixes the
    # others' audio for each member, never its own).
    for heard, theirs, own in ((heard_by_1001, "1000", "425"), (heard_by_provider, "425", "1000")):
        stream = max(heard.values(), key=lambda s: s["seconds"]) if heard else None
        assert stream and stream["seconds"] >= 2, heard
        assert stream[theirs] >= 0.05 and stream[theirs] >= 5 * stream[own], (theirs, heard)
    assert seen and all(len(now) == 2 for now in seen), seen
    assert not any("1003" in channel for now in seen for channel, _unused in now), seen


def test_the_pin_joins_as_member_the_admin_pin_as_admin_and_a_wrong_pin_is_refused(pbx, vault):
    pins = vault["pins"]
    wrong = "%06d" % ((int(pins["board"]) + 314159) % 1000000)
    assert wrong not in (pins["board"], pins["board_admin"])
    calls = [("1001", pins["board"], 5091), ("1004", pins["board_admin"], 5094), ("1003", wrong, 5093)]
    tags = [phones.start(pbx["ip"], pin_scenario(pin), "700", caller, vault["secrets"][caller], caller=caller,
                         port=port, duration_ms=9000) for caller, pin, port in calls]
    try:
        both = phones.wait_for(lambda: len(members(pbx, "board")) == 2 and members(pbx, "board"), 25)
        time.sleep(2)
        after = members(pbx, "board")
    finally:
        results = [phones.finish(tag) for tag in tags]
    assert all(r.final == 200 for r in results), results
    profiles = sorted(profile for _channel, profile in both)
    assert profiles == ["vpbx-board-admin", "vpbx-board-user"], both
    admin = [channel for channel, profile in both if profile == "vpbx-board-admin"]
    assert admin and "1004" in admin[0], both
    # The wrong PIN never got in (the two others are the positive control) and was logged.
    assert not any("1003" in channel for channel, _unused in both + after), (both, after)
    log = pbx["host"].run("grep 'vpbx room board: wrong PIN' /var/log/asterisk/messages.log").stdout
    assert "wrong PIN from 1003" in log, log
