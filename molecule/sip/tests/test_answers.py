# SPDX-License-Identifier: GPL-3.0-or-later
"""Identical answers, exhaustively (issue 24, item 1): for every method, every transport the PBX
enables, from inside and from outside the subscriber's permit, with and without rport, with a Via
port equal to the source port or another one, a request naming a known subscriber and the same
request naming an unknown user get the same answers - the same messages once tags, branches,
nonces, the Call-ID, Date and the probed name are masked, arriving at the same port.

The requests are sent by sipprobe.py on the client container: from its address inside every
permit (172.30.77.50) and from its second address (172.30.77.100), outside every subscriber's
permit. The PJSIP PBX's firewall lets .100 through (asterisk_firewall_extra_networks), and there
1003 has a permit of its own (172.30.77.200/32): probed from .50 it is a subscriber outside its own
permit while 1001 is inside. chan_sip answers a subscriber probed from outside its ACL 403 where
an unknown user gets 401, and no setting hides it: the model gives every chan_sip subscriber one
ACL and the firewall plan refuses to open SIP outside it, so the chan_sip PBX drops .100 (both
sides silent) - only a trunk's address could still tell (docs/sip.md).

The positive controls show the comparison can fail: a REGISTER with the right password for 1001
gets 200 where the unknown user gets a challenge, and the normalizer keeps a code or a port that
differs."""

from __future__ import annotations

import json
import os
import re
import shlex

import pytest

import sipclient

METHODS = ["REGISTER", "INVITE", "OPTIONS", "SUBSCRIBE", "MESSAGE", "NOTIFY", "REFER"]
TRANSPORTS = ["udp", "tcp", "tls"]
# What each PBX of the scenario enables (molecule.yml): the matrix skips the other transports.
ENABLED = {"vpbx-sip16": ["udp"], "vpbx-sip22": ["udp", "tcp", "tls"]}
OUTSIDE_IP = sipclient.OUTSIDE_IP
VANTAGES = {"inside": sipclient.CLIENT_IP, "outside": OUTSIDE_IP}
KNOWN = ["1001", "1003"]
UNKNOWN = "9999"
CELLS = [(m, t, v, r, p) for m in METHODS for t in TRANSPORTS for v in VANTAGES for r in (True, False)
         for p in ("same", "other")]
# chan_sip answers a request naming a subscriber from an address outside the subscriber's ACL with
# 403 Forbidden (check_peer_ok's ACL failure) for INVITE, OPTIONS, SUBSCRIBE and MESSAGE, where an
# unknown user gets the fake 401 challenge of alwaysauthreject (seen here before the firewall plan
# refused it). Only a trunk's address can still reach chan_sip from outside the subscribers' ACL.
COMPARED = {}


def probe_source():
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "sipprobe.py"), encoding="utf-8") as f:
        return f.read()


def run_probe(cases, timeout=2.0, linger=0.3, parallel=8, budget=150):
    for case in cases:
        sipclient._allowed(case["target"])
    spec = {"cases": cases, "timeout": timeout, "linger": linger, "parallel": parallel, "budget": budget}
    out = sipclient.client().run("timeout %d python3 -c %s %s" % (budget + 60, shlex.quote(probe_source()),
                                                                  shlex.quote(json.dumps(spec))))
    assert out.rc == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def case(target, method, transport, vantage, rport, via, user, **extra):
    return dict(target=target, method=method, transport=transport, source=VANTAGES[vantage], rport=rport, via=via,
                user=user, **extra)


def normalized(result, user):
    """The answers of one request, with what legitimately differs between two requests masked, as
    a list of (where it arrived, message). Identical retransmissions collapse into one."""
    answers = []
    for message in result.get("received", []):
        text = message["text"]
        if not text.strip():
            # A keep-alive (RFC 5626's CRLF CRLF), which PJSIP sends on a TCP or TLS connection
            # now and then - not an answer to the request (seen once on TLS in CI).
            continue
        text = re.sub(r'\b(nonce|opaque|cnonce|tag|branch)=("[^"]*"|[^;,\s>]+)', r"\1=X", text)
        text = text.replace(result.get("call_id") or "\0", "CALLID")
        text = re.sub(r"^(Date|Timestamp):.*$", r"\1: X", text, flags=re.MULTILINE)
        text = re.sub(r"(sips?:)%s@" % re.escape(user), r"\1USER@", text)
        # The ports are the request's own: named, not masked (an answer sent to the other one shows).
        for name in ("via_port", "source_port"):
            if result.get(name):
                text = re.sub(r"\b%d\b" % result[name], name.upper(), text)
        entry = (message["where"], text)
        if not answers or answers[-1] != entry:
            answers.append(entry)
    if result.get("error"):
        answers.append(("error", re.sub(r"\b\d{4,5}\b", "PORT", result["error"])))
    return answers


def summary(answers):
    return [(where, text.split("\r\n", 1)[0]) for where, text in answers]


_MATRIX = {}


@pytest.fixture
def matrix(pbx):
    """Every cell of the PBX's matrix, sent once (in one run of sipprobe.py) for all its tests."""
    name = pbx["name"]
    if name not in _MATRIX:
        cases = [case(pbx["ip"], m, t, v, r, p, u) for (m, t, v, r, p) in CELLS if t in ENABLED[name]
                 for u in KNOWN + [UNKNOWN]]
        out = run_probe(cases)
        results = {}
        for c, r in zip(cases, out["results"]):
            results[(c["method"], c["transport"], [k for k, a in VANTAGES.items() if a == c["source"]][0],
                     c["rport"], c["via"], c["user"])] = r
        _MATRIX[name] = {"results": results, "seconds": out["seconds"], "requests": len(cases)}
    return _MATRIX[name]


@pytest.mark.parametrize("known", KNOWN)
@pytest.mark.parametrize("method, transport, vantage, rport, via", CELLS,
                         ids=["%s-%s-%s-%s-via_%s" % (m, t, v, "rport" if r else "norport", p)
                              for (m, t, v, r, p) in CELLS])
def test_known_and_unknown_user_get_the_same_answer(pbx, matrix, method, transport, vantage, rport, via, known):
    if transport not in ENABLED[pbx["name"]]:
        pytest.skip("%s is not enabled on %s" % (transport, pbx["name"]))
    key = (method, transport, vantage, rport, via)
    mine = normalized(matrix["results"][key + (known,)], known)
    theirs = normalized(matrix["results"][key + (UNKNOWN,)], UNKNOWN)
    COMPARED[pbx["name"]] = COMPARED.get(pbx["name"], 0) + 1
    if vantage == "outside" and not sipclient.PBX[pbx["name"]]["outside_reaches_sip"]:
        # The firewall drops the address: nothing comes back for either (silence proves nothing
        # more; the PJSIP PBX compares real answers from there).
        assert mine == theirs and not [w for w, _unused in mine if w != "error"], (summary(mine), summary(theirs))
        return
    # Something answered: a silence on both sides would prove nothing about the answers.
    assert theirs and not any(w == "error" for w, _unused in theirs), theirs
    assert mine == theirs, "\n%s\n%s" % (summary(mine), summary(theirs))


def test_the_right_password_is_told_apart(pbx):
    """Positive control: the comparison above can fail. The same REGISTER with 1001's right
    password (Expires: 0, nothing stays registered) gets 200 where the unknown user with that
    password gets the challenge again (or a refusal)."""
    secret = sipclient.secrets()["1001"]
    for transport in ENABLED[pbx["name"]]:
        cases = [case(pbx["ip"], "REGISTER", transport, "inside", True, "same", user, password=secret, expires=0)
                 for user in ("1001", UNKNOWN)]
        good, unknown = run_probe(cases, parallel=1)["results"]
        mine, theirs = normalized(good, "1001"), normalized(unknown, UNKNOWN)
        assert [t for _unused, t in summary(mine)] == ["SIP/2.0 401 Unauthorized", "SIP/2.0 200 OK"], summary(mine)
        assert summary(theirs)[-1][1] != "SIP/2.0 200 OK" and mine != theirs, (summary(mine), summary(theirs))


def test_the_normalizer_keeps_real_differences():
    """A different code, a different port, an extra header: each stays visible after masking."""
    base = {"call_id": "abc@x", "source_port": 40001, "via_port": 40002, "received": [
        {"where": "source", "text": "SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP 172.30.77.50:40002;rport=40001;"
                                    "branch=z9hG4bKaa\r\nFrom: <sip:1001@pbx>;tag=1\r\nTo: <sip:1001@pbx>;tag=2\r\n"
                                    "Call-ID: abc@x\r\nWWW-Authenticate: Digest realm=\"pbx\",nonce=\"n1\"\r\n\r\n"}]}
    other = json.loads(json.dumps(base))
    other.update(call_id="def@x", source_port=40011, via_port=40012)
    other["received"][0]["text"] = (base["received"][0]["text"].replace("40002", "40012").replace("40001", "40011")
                                    .replace("abc@x", "def@x").replace("n1", "n2").replace("tag=2", "tag=3")
                                    .replace("1001", "9999"))
    assert normalized(base, "1001") == normalized(other, "9999")
    # A keep-alive on the connection is no answer; anything else that comes back is.
    keepalive = json.loads(json.dumps(other))
    keepalive["received"].append({"where": "source", "text": "\r\n\r\n"})
    assert normalized(base, "1001") == normalized(keepalive, "9999")
    for change in (lambda r: r["received"][0].update(where="via"),
                   lambda r: r["received"][0].update(text=r["received"][0]["text"].replace("401 Unauthorized",
                                                                                           "403 Forbidden")),
                   lambda r: r["received"][0].update(text=r["received"][0]["text"].replace(";rport=40011", ";rport")),
                   lambda r: r["received"][0].update(text=r["received"][0]["text"].replace("\r\n\r\n",
                                                                                           "\r\nServer: x\r\n\r\n")),
                   lambda r: r["received"].append(dict(r["received"][0]))):
        changed = json.loads(json.dumps(other))
        change(changed)
        if len(changed["received"]) == 2:  # a retransmission collapses; a second, other answer does not
            changed["received"][1]["text"] = changed["received"][1]["text"].replace("401 Unauthorized", "200 OK")
        assert normalized(base, "1001") != normalized(changed, "9999")


def test_z_figure(pbx, matrix):
    count = COMPARED.get(pbx["name"], 0)
    print("\nVPBX-FIGURE answer_pairs_compared_%s = %d" % (pbx["name"], count))
    print("VPBX-FIGURE answer_requests_sent_%s = %d (%.1f s)" % (pbx["name"], matrix["requests"], matrix["seconds"]))
    cells = len([c for c in CELLS if c[1] in ENABLED[pbx["name"]]])
    assert count == cells * len(KNOWN), (count, cells)
