# SPDX-License-Identifier: GPL-3.0-or-later
"""A raw SIP sender run on the client container (python3 -c, spec as JSON in argv[1]): one
request a case, over UDP, TCP or TLS, from a chosen source address, with or without rport, with a
Via port equal to the source port or another one it also listens on. It prints one JSON object:
for every case, every message received in order and where it arrived ("source" socket or
connection, or "via" for the other port). A final answer to INVITE is acknowledged; a challenge
is answered when the case carries a password (the positive controls).

Bounded: at most MAX_CASES requests a run, a timeout a request, and every target must be on the
scenario's network (checked here again, not only by the caller)."""

import concurrent.futures
import hashlib
import json
import os
import select
import socket
import ssl
import sys
import time

NETWORK = "172.30.77."
MAX_CASES = 2000
PORTS = {"udp": 5060, "tcp": 5060, "tls": 5061}
SDP = ("v=0\r\no=- 1 1 IN IP4 {src}\r\ns=-\r\nc=IN IP4 {src}\r\nt=0 0\r\n"
       "m=audio 40000 RTP/AVP 8 0\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n")


def token():
    return os.urandom(6).hex()


def request(case, src, src_port, via_port, branch, cseq=1, authorization=None, call_id=None, from_tag=None):
    method, user, target, transport = case["method"], case["user"], case["target"], case["transport"]
    scheme_port = PORTS[transport]
    uri = "sip:%s:%d" % (target, scheme_port) if method == "REGISTER" else "sip:%s@%s:%d" % (user, target, scheme_port)
    if transport != "udp":
        uri += ";transport=%s" % transport
    via = "SIP/2.0/%s %s:%d;branch=z9hG4bK%s%s" % (transport.upper(), src, via_port, branch,
                                                   ";rport" if case["rport"] else "")
    headers = [
        "%s %s SIP/2.0" % (method, uri),
        "Via: " + via,
        "Max-Forwards: 70",
        "From: <sip:%s@%s>;tag=%s" % (user, target, from_tag),
        "To: <sip:%s@%s>" % (user, target),
        "Call-ID: %s" % call_id,
        "CSeq: %d %s" % (cseq, method),
        "Contact: <sip:%s@%s:%d;transport=%s>" % (user, src, via_port, transport),
    ]
    body, ctype = "", None
    if method == "REGISTER":
        headers.append("Expires: %d" % case.get("expires", 60))
    elif method == "INVITE":
        body, ctype = SDP.format(src=src), "application/sdp"
    elif method == "OPTIONS":
        headers.append("Accept: application/sdp")
    elif method == "SUBSCRIBE":
        headers += ["Event: presence", "Accept: application/pidf+xml", "Expires: 60"]
    elif method == "NOTIFY":
        headers += ["Event: message-summary", "Subscription-State: active"]
        body, ctype = "Messages-Waiting: no\r\n", "application/simple-message-summary"
    elif method == "MESSAGE":
        body, ctype = "probe\r\n", "text/plain"
    elif method == "REFER":
        headers.append("Refer-To: <sip:%s@%s>" % (user, target))
    if authorization:
        headers.append(authorization)
    if ctype:
        headers.append("Content-Type: " + ctype)
    headers.append("Content-Length: %d" % len(body.encode()))
    return ("\r\n".join(headers) + "\r\n\r\n" + body).encode()


def ack(case, src, via_port, branch, call_id, from_tag, response):
    to = next((line for line in response.split("\r\n") if line.lower().startswith("to:")), "To: <sip:x@x>")
    uri = "sip:%s@%s:%d" % (case["user"], case["target"], PORTS[case["transport"]])
    lines = ["ACK %s SIP/2.0" % uri,
             "Via: SIP/2.0/%s %s:%d;branch=z9hG4bK%s%s" % (case["transport"].upper(), src, via_port, branch,
                                                           ";rport" if case["rport"] else ""),
             "Max-Forwards: 70", "From: <sip:%s@%s>;tag=%s" % (case["user"], case["target"], from_tag), to,
             "Call-ID: %s" % call_id, "CSeq: 1 ACK", "Content-Length: 0"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def digest(case, response, uri):
    """Authorization for a 401/407 challenge (MD5, qop=auth when offered)."""
    header = next((line.split(":", 1)[1].strip() for line in response.split("\r\n")
                   if line.lower().startswith(("www-authenticate:", "proxy-authenticate:"))), "")
    params = {}
    for part in header[len("Digest "):].split(","):
        if "=" in part:
            key, value = part.strip().split("=", 1)
            params[key.strip().lower()] = value.strip().strip('"')
    user, password, realm, nonce = case["user"], case["password"], params.get("realm", ""), params.get("nonce", "")
    ha1 = hashlib.md5(("%s:%s:%s" % (user, realm, password)).encode()).hexdigest()
    ha2 = hashlib.md5(("%s:%s" % (case["method"], uri)).encode()).hexdigest()
    name = "Proxy-Authorization" if response.startswith("SIP/2.0 407") else "Authorization"
    if "auth" in params.get("qop", "").split(","):
        cnonce = token()
        value = hashlib.md5(("%s:%s:00000001:%s:auth:%s" % (ha1, nonce, cnonce, ha2)).encode()).hexdigest()
        return ('%s: Digest username="%s",realm="%s",nonce="%s",uri="%s",response="%s",algorithm=MD5,'
                'qop=auth,nc=00000001,cnonce="%s"%s' % (name, user, realm, nonce, uri, value, cnonce,
                                                        ',opaque="%s"' % params["opaque"] if "opaque" in params else ""))
    value = hashlib.md5(("%s:%s:%s" % (ha1, nonce, ha2)).encode()).hexdigest()
    return '%s: Digest username="%s",realm="%s",nonce="%s",uri="%s",response="%s",algorithm=MD5' % (
        name, user, realm, nonce, uri, value)


def split_messages(buffer):
    """Complete SIP messages off the front of a stream buffer: (messages, rest)."""
    messages = []
    while b"\r\n\r\n" in buffer:
        head, rest = buffer.split(b"\r\n\r\n", 1)
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith((b"content-length:", b"l:")):
                length = int(line.split(b":", 1)[1].strip() or 0)
        if len(rest) < length:
            break
        messages.append((head + b"\r\n\r\n" + rest[:length]).decode(errors="replace"))
        buffer = rest[length:]
    return messages, buffer


def final(message):
    return message.startswith("SIP/2.0 ") and not message.startswith("SIP/2.0 1")


def run_case(case, timeout, linger):
    src, target, transport = case["source"], case["target"], case["transport"]
    assert target.startswith(NETWORK), target
    port = PORTS[transport]
    received, stream_buffers = [], {}
    main = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if transport == "udp" else socket.SOCK_STREAM)
    main.bind((src, 0))
    src_port = main.getsockname()[1]
    other = None
    if case["via"] == "other":
        other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if transport == "udp" else socket.SOCK_STREAM)
        other.bind((src, 0))
        if transport != "udp":
            other.listen(4)
    via_port = other.getsockname()[1] if other else src_port
    if transport != "udp":
        main.settimeout(timeout)
        main.connect((target, port))
        if transport == "tls":
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            main = context.wrap_socket(main)
        main.setblocking(False)
    sockets = {main: "source"}
    if other:
        sockets[other] = "via"
    call_id, from_tag, branch = "%s@%s" % (token(), src), token(), token()
    data = request(case, src, src_port, via_port, branch, call_id=call_id, from_tag=from_tag)

    def send(payload):
        if transport == "udp":
            main.sendto(payload, (target, port))
        else:
            main.setblocking(True)
            main.sendall(payload)
            main.setblocking(False)

    send(data)
    deadline, answered, cseq = time.monotonic() + timeout, False, 1
    while time.monotonic() < deadline:
        ready, _unused, _unused = select.select(list(sockets), [], [], max(0.0, deadline - time.monotonic()))
        for sock in ready:
            where = sockets[sock]
            if transport != "udp" and sock is other:
                conn, _unused = sock.accept()
                conn.setblocking(False)
                sockets[conn] = "via"
                continue
            try:
                chunk = sock.recv(65535)
            except (BlockingIOError, ssl.SSLWantReadError):
                continue
            if not chunk:
                del sockets[sock]
                received.append({"where": where, "text": "(connection closed)"})
                continue
            if transport == "udp":
                messages = [chunk.decode(errors="replace")]
            else:
                messages, stream_buffers[sock] = split_messages(stream_buffers.get(sock, b"") + chunk)
            for message in messages:
                received.append({"where": where, "text": message})
                if not final(message):
                    continue
                code = message.split(" ", 2)[1]
                if case["method"] == "INVITE":
                    send(ack(case, src, via_port, branch, call_id, from_tag, message))
                if case.get("password") and code in ("401", "407") and cseq == 1:
                    # The positive control: answer the challenge once.
                    cseq, branch = 2, token()
                    uri = request(case, src, src_port, via_port, branch).split(b" ", 2)[1].decode()
                    send(request(case, src, src_port, via_port, branch, cseq=2, call_id=call_id, from_tag=from_tag,
                                 authorization=digest(case, message, uri)))
                    deadline = time.monotonic() + timeout
                    continue
                if not answered:
                    answered = True
                    deadline = min(deadline, time.monotonic() + linger)
    for sock in list(sockets) + ([other] if other else []):
        try:
            sock.close()
        except OSError:
            pass
    return {"source_port": src_port, "via_port": via_port, "call_id": call_id, "received": received}


def main():
    spec = json.loads(sys.argv[1])
    cases = spec["cases"]
    assert len(cases) <= MAX_CASES, len(cases)
    started = time.monotonic()

    def one(case):
        if time.monotonic() - started > spec.get("budget", 240):
            return {"error": "time budget spent", "received": []}
        try:
            return run_case(case, spec.get("timeout", 2.0), spec.get("linger", 0.3))
        except OSError as exc:
            return {"error": "%s: %s" % (type(exc).__name__, exc), "received": []}

    # A few cases at once (each on its own sockets): the linger after each answer is most of the time.
    with concurrent.futures.ThreadPoolExecutor(max_workers=min(int(spec.get("parallel", 8)), 16)) as pool:
        results = list(pool.map(one, cases))
    print(json.dumps({"seconds": round(time.monotonic() - started, 1), "results": results}))


if __name__ == "__main__":
    main()
