# SPDX-License-Identifier: GPL-3.0-or-later
"""Toll fraud, judged by what the fake provider receives (after test_calls.py, on the converged PBXs):

- each PBX's numbering plan at call time - Russia (the how-to's, chan_sip on Asterisk 16), Germany
  (PJSIP on 16), Great Britain (22): the office's loose `_0X.` route (call_time_guard_only) sends a
  national number to the provider, never a premium-rate or an international one;
- a phone's max_calls (2): its third simultaneous trunk call is refused, the first two went out;
- a route's max_call_seconds (10 on `national`): a longer call is cut by the PBX, a call as long
  on a route with the default is not;
- the RTP timeout (25 s in this scenario): a call without media ends, a speaking one does not;
- a context's international_hours, placed relative to the PBX's clock: the same international
  call goes out inside the window and is refused outside it.

Without the guards each negative case would reach the provider: the control beside it shows that
the same call, where it is allowed, does.
"""

from __future__ import annotations

import datetime
import re
import time

import testinfra

import phones

# Per PBX: its plan, numbers the office route `_0X.` must not send (and why, as the log says it),
# and a national number of that plan the provider must receive.
PLANS = {
    "vpbx-calls16": {"country": "RU", "national": "0301234567",
                     "refused": [("0044207946000", "an international number: international prefix")]},
    "vpbx-calls16p": {"country": "DE", "national": "03012345678",
                      "refused": [("09001123456", "a premium-rate number of DE"),
                                  ("0044207946000", "an international number: international prefix")]},
    "vpbx-calls22": {"country": "GB", "national": "02079460000",
                     "refused": [("09012345678", "a premium-rate number of GB"),
                                 ("07012345678", "a personal number of GB"),
                                 ("0049301234567", "an international number: international prefix"),
                                 ("01481256789", "an international number: GG shares country code +44")]},
}
MESSAGES = "/var/log/asterisk/messages.log"
RTP_TIMEOUT = 25
MAX_CALL_SECONDS = 10


def pbx_host(name):
    return testinfra.get_host("docker://" + name)


def call(ip, vault, caller, number, port=None, duration_ms=500):
    return phones.sipp(ip, "invite.xml", number, caller, vault["secrets"][caller], caller=caller,
                       port=port or phones.PORTS[caller], duration_ms=duration_ms)


def log_lines(host, since, pattern):
    """Lines of Asterisk's messages log written since `since` (its line count then) matching pattern."""
    text = host.run("tail -n +%d %s" % (since + 1, MESSAGES)).stdout
    return [line for line in text.splitlines() if re.search(pattern, line)]


def log_mark(host):
    return int(host.run("wc -l < %s" % MESSAGES).stdout.strip() or 0)


def test_each_plan_s_costly_numbers_never_reach_the_provider(pbx, vault):
    plan = PLANS[pbx["name"]]
    mark = log_mark(pbx["host"])
    answerer = phones.Answerer(phones.provider(), phones.PROVIDER_IP, 5060, many=True)
    try:
        refused = {number: call(pbx["ip"], vault, "1001", number) for number, _unused in plan["refused"]}
        # The control: the same phone, the same route, a national number of the plan.
        allowed = call(pbx["ip"], vault, "1001", plan["national"])
        time.sleep(1)
        invites = answerer.invites()
    finally:
        answerer.stop()
    print("VPBX-FIGURE toll fraud, %s (Asterisk %s, plan %s): %d calls attempted, %d reached the provider: %s"
          % (pbx["name"], pbx["major"], plan["country"], len(refused) + 1, len(invites), ", ".join(invites)))
    assert allowed.final == 200 and allowed.outcome == "answered", allowed
    assert [i.split()[1].split("@")[0] for i in invites] == ["sip:" + plan["national"]], invites
    for number, why in plan["refused"]:
        assert refused[number].final == 403, (number, refused[number])
        lines = log_lines(pbx["host"], mark, r"vpbx toll-fraud guard: 1001 on \S+ dialled %s - " % number)
        assert lines and why in lines[0] and "context office may not dial abroad" in lines[0], (number, lines)


def test_a_phone_s_third_simultaneous_trunk_call_is_refused(pbx, vault):
    """1001 has max_calls 2 (the model's default): two held calls go out, the third is refused -
    by the dialplan's count on PJSIP, by the driver's call-limit as well on chan_sip."""
    mark = log_mark(pbx["host"])
    answerer = phones.Answerer(phones.provider(), phones.PROVIDER_IP, 5060, seconds=90, many=True)
    try:
        held = [phones.start(pbx["ip"], "invite.xml", "8495123456%d" % i, "1001", vault["secrets"]["1001"],
                             caller="1001", port=5091 + i, duration_ms=12000) for i in range(2)]
        deadline = time.monotonic() + 20
        while len(answerer.invites()) < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
        third = call(pbx["ip"], vault, "1001", "84951234569")
        results = [phones.finish(tag) for tag in held]
        invites = answerer.invites()
    finally:
        answerer.stop()
    # The control: the two calls within the limit went out and were answered.
    assert all(r.final == 200 and r.outcome == "answered" for r in results), results
    assert third.final in (403, 480, 486, 503) and third.outcome != "answered", third
    numbers = sorted(i.split()[1].split("@")[0] for i in invites)
    assert numbers == ["sip:74951234560", "sip:74951234561"], invites
    if pbx["driver"] == "pjsip":
        lines = log_lines(pbx["host"], mark, r"vpbx call limit: 1001 on \S+ has max_calls 2 calls up - refused")
        assert lines, pbx["host"].run("tail -20 %s" % MESSAGES).stdout


def answered_at(result):
    """Seconds from the start of a call's trace to the 200 OK that answered its INVITE."""
    return next(t for t, d, line in phones.timeline(result.messages) if d == "received" and line.startswith("SIP/2.0 200"))


def bye_from_pbx(result):
    return [t for t, d, line in phones.timeline(result.messages) if d == "received" and line.startswith("BYE ")]


def test_a_call_past_its_route_s_maximum_length_is_cut():
    """On every PBX at once: a 25 s call on `national` (max_call_seconds 10) gets the PBX's BYE
    about 10 s after the answer; a 15 s call on `ru` (the default, 7200 s) ends as its caller says."""
    vault = phones.vault()
    answerer = phones.Answerer(phones.provider(), phones.PROVIDER_IP, 5060, seconds=90, many=True)
    try:
        calls = {}
        for i, (name, pbx) in enumerate(sorted(phones.PBX.items())):
            secret = vault["secrets"]["1001"]
            calls[name] = (
                phones.start(pbx["ip"], "invite.xml", PLANS[name]["national"], "1001", secret, caller="1001",
                             port=5093 + 2 * i, duration_ms=25000),
                phones.start(pbx["ip"], "invite.xml", "84951234567", "1001", secret, caller="1001",
                             port=5094 + 2 * i, duration_ms=15000))
        results = {name: (phones.finish(cut), phones.finish(control)) for name, (cut, control) in calls.items()}
    finally:
        answerer.stop()
    for name, (cut, control) in results.items():
        byes = bye_from_pbx(cut)
        assert cut.outcome == "answered" and byes, (name, cut)
        assert MAX_CALL_SECONDS - 1 <= byes[0] - answered_at(cut) <= MAX_CALL_SECONDS + 5, (name, phones.timeline(
            cut.messages))
        # The control lasted longer than 10 s and ended with its own BYE.
        assert control.rc == 0 and control.outcome == "answered" and not bye_from_pbx(control), (name, control)


def test_a_call_without_media_is_ended_by_the_rtp_timeout():
    """On every PBX at once, to the echo test: a caller that sends no RTP (hold.xml) is hung up
    after the RTP timeout; one that speaks (invite.xml streams a tone) for longer is not."""
    vault = phones.vault()
    marks = {name: log_mark(pbx_host(name)) for name in phones.PBX}
    calls = {}
    for i, (name, pbx) in enumerate(sorted(phones.PBX.items())):
        secret = vault["secrets"]["1001"]
        calls[name] = (
            phones.start(pbx["ip"], "hold.xml", "*43", "1001", secret, caller="1001", port=5101 + 2 * i),
            phones.start(pbx["ip"], "invite.xml", "*43", "1001", secret, caller="1001", port=5102 + 2 * i,
                         duration_ms=(RTP_TIMEOUT + 8) * 1000))
    results = {name: (phones.finish(silent), phones.finish(speaking)) for name, (silent, speaking) in calls.items()}
    for name, (silent, speaking) in results.items():
        byes = bye_from_pbx(silent)
        assert silent.rc == 0 and byes, (name, silent)
        assert RTP_TIMEOUT - 1 <= byes[0] - answered_at(silent) <= RTP_TIMEOUT + 10, (name, phones.timeline(
            silent.messages))
        lines = log_lines(pbx_host(name), marks[name], r"Disconnecting \w+ '(PJSIP|SIP)/1001-[^']*' for lack of "
                                                       r"(\w+ )?RTP activity in \d+ seconds")
        assert lines, (name, pbx_host(name).run("tail -20 %s" % MESSAGES).stdout)
        # The control: as long a call with media stays up until its caller hangs up.
        assert speaking.rc == 0 and speaking.outcome == "answered" and not bye_from_pbx(speaking), (name, speaking)


def _window(start, end):
    return "%02d:%02d-%02d:%02d" % (start // 60, start % 60, end // 60, end % 60)


def windows(now):
    """An international_hours window around `now` (the PBX's clock) and one 3 to 5 hours away from
    it, neither across midnight."""
    minute = now.hour * 60 + now.minute
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    today = now.weekday()
    times = _window(minute - 120, minute + 120) if 120 <= minute <= 1440 - 121 else "*"
    inside = "%s,%s-%s" % (times, days[(today - 1) % 7], days[(today + 1) % 7])
    start = minute + 180
    outside = _window(start, start + 120) if start + 120 < 1440 else _window(minute - 300, minute - 180)
    return inside, outside + ",*"


def test_international_hours_follow_the_pbx_clock():
    """boss (1004) may dial abroad inside its window, night (1005) outside its window: the same
    international call goes out from the first and is refused for the second."""
    vault = phones.vault()
    stamp = pbx_host("vpbx-calls16").check_output("date '+%Y-%m-%d %H:%M'")
    inside, outside = windows(datetime.datetime.strptime(stamp, "%Y-%m-%d %H:%M"))
    night = {"extension": "1005", "name": "Night desk", "secret": "{{ vault_calls_secrets['1005'] }}",
             "context": "night"}
    extra = {"asterisk_sip_subscribers": phones.SUBSCRIBERS + [night],
             "asterisk_dialplan_contexts": [
                 {"name": "office", "routes": ["ru", "national"], "max_calls": 4, "echo_test": True},
                 {"name": "boss", "routes": ["ru", "intl"], "international": True, "international_hours": inside},
                 {"name": "night", "routes": ["ru", "intl"], "international": True, "international_hours": [outside]}]}
    rc, out, _unused = phones.playbook("subscribers", extra=extra)
    assert rc == 0, out[-6000:]
    try:
        marks = {name: log_mark(pbx_host(name)) for name in phones.PBX}
        for name, pbx in sorted(phones.PBX.items()):
            answerer = phones.Answerer(phones.provider(), phones.PROVIDER_IP, 5060, many=True)
            try:
                refused = call(pbx["ip"], vault, "1005", "810441234567")
                allowed = call(pbx["ip"], vault, "1004", "810441234567")
                time.sleep(1)
                invites = answerer.invites()
            finally:
                answerer.stop()
            assert allowed.final == 200 and allowed.outcome == "answered", (name, inside, allowed)
            assert len(invites) == 1 and invites[0].startswith("INVITE sip:00441234567@"), (name, invites)
            assert refused.final == 403, (name, outside, refused)
            lines = log_lines(pbx_host(name), marks[name], r"vpbx toll-fraud guard: 1005 on \S+ dialled 00441234567 - "
                                                           r"an international number.* - outside the international "
                                                           r"hours of context night - refused")
            assert lines, (name, pbx_host(name).run("tail -20 %s" % MESSAGES).stdout)
    finally:
        # Back to the inventory: 1005 and the night context go, boss loses its hours.
        rc, out, _unused = phones.playbook("subscribers")
        assert rc == 0, out[-6000:]
