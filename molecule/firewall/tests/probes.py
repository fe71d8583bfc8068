# SPDX-License-Identifier: GPL-3.0-or-later
"""Probes of the firewall scenario: listeners on the PBX and senders in the client containers,
all bounded in time, all aimed only at the scenario's own network (172.30.78.0/24)."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import subprocess
import sys
import time

# The collection's own readers of UFW's output (module_utils), from the checkout's collection link.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", ".ansible",
                                "collections"))
from ansible_collections.vpbx.hardened.plugins.module_utils import firewall as fw  # noqa: E402,F401 - test_firewall imports it from here  # pylint: disable=unused-import

NETWORK = ipaddress.ip_network("172.30.78.0/24")
NETWORK6 = ipaddress.ip_network("fd42:78::/64")
PBX = "vpbx-fw22"
PBX_IP = "172.30.78.22"
PBX_IP6 = "fd42:78::22"
INSIDE = {"name": "vpbx-fwin", "ip": "172.30.78.50"}    # in subscriber 1001's permit network
OUTSIDE = {"name": "vpbx-fwout", "ip": "172.30.78.100"}  # in no permitted network
OUTSIDE6 = {"name": "vpbx-fwout", "ip": "fd42:78::100", "target": PBX_IP6}  # the same client over IPv6
LOOPBACK = {"name": PBX, "ip": "127.0.0.1"}              # the PBX itself, over loopback
CONTAINERS = {PBX, INSIDE["name"], OUTSIDE["name"]}

# One script for both sides: `listen` records who reached a port, the others send to one.
PROBE = r"""
import json, socket, sys, time
mode, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
target = sys.argv[4] if len(sys.argv) > 4 else ""
def family(address):
    return socket.AF_INET6 if ":" in address else socket.AF_INET
if mode in ("listen-udp", "listen-tcp"):
    kind = socket.SOCK_DGRAM if mode == "listen-udp" else socket.SOCK_STREAM
    # Both families on one socket: IPv4 peers show as ::ffff:a.b.c.d.
    s = socket.socket(socket.AF_INET6, kind)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", port))
    if kind == socket.SOCK_STREAM:
        s.listen(5)
    print("ready", flush=True)
    seen, end = [], time.time() + seconds
    while time.time() < end:
        s.settimeout(max(0.1, end - time.time()))
        try:
            if kind == socket.SOCK_DGRAM:
                _data, peer = s.recvfrom(2048)
            else:
                conn, peer = s.accept()
                conn.close()
            seen.append(peer[0][7:] if peer[0].startswith("::ffff:") else peer[0])
        except socket.timeout:
            break
    print(json.dumps(sorted(set(seen))), flush=True)
elif mode == "send-udp":
    s = socket.socket(family(target), socket.SOCK_DGRAM)
    for _ in range(3):
        s.sendto(b"\x80\x00probe", (target, port))
        time.sleep(0.2)
    print("sent")
elif mode == "connect-tcp":
    try:
        socket.create_connection((target, port), timeout=seconds).close()
        print("open")
    except OSError as exc:
        print("closed %s" % exc.__class__.__name__)
elif mode in ("sip-udp", "sip-tcp"):
    request = ("OPTIONS sip:probe@%s SIP/2.0\r\nVia: SIP/2.0/%s 0.0.0.0:5099;branch=z9hG4bK-fw%d\r\n"
               "Max-Forwards: 70\r\nFrom: <sip:probe@fw.test>;tag=fw\r\nTo: <sip:probe@%s>\r\n"
               "Call-ID: fw-probe-%d\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
               % (target, mode[-3:].upper(), time.time(), target, time.time())).encode()
    try:
        if mode == "sip-udp":
            s = socket.socket(family(target), socket.SOCK_DGRAM)
            s.settimeout(seconds)
            s.sendto(request, (target, port))
            answer = s.recvfrom(4096)[0]
        else:
            s = socket.create_connection((target, port), timeout=seconds)
            s.settimeout(seconds)
            s.sendall(request)
            answer = s.recv(4096)
        print(answer.decode("latin-1").splitlines()[0])
    except OSError as exc:
        print("no answer %s" % exc.__class__.__name__)
"""


def _guard(container, target=None):
    assert container in CONTAINERS, container
    if target and not (container == PBX and target == LOOPBACK["ip"]):
        address = ipaddress.ip_address(target)
        assert address in (NETWORK if address.version == 4 else NETWORK6), \
            "probes stay on the scenario's network: %s" % target


def run(container, mode, port, seconds, target=None):
    _guard(container, target)
    args = ["docker", "exec", container, "timeout", str(int(seconds) + 5), "python3", "-c", PROBE, mode, str(port),
            str(seconds)] + ([target] if target else [])
    proc = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 15, check=False)
    return proc.stdout.strip()


def sip(client, transport="udp", port=5060):
    return run(client["name"], "sip-" + transport, port, 3, PBX_IP)


def connect(client, port):
    return run(client["name"], "connect-tcp", port, 3, PBX_IP)


def reached_by(kind, port, senders, seconds=6):
    """Listen on the PBX (UDP or TCP) while each sender sends to / connects to the port; return the
    source addresses the listener saw."""
    _guard(PBX)
    listener = subprocess.Popen(["docker", "exec", PBX, "timeout", str(seconds + 5), "python3", "-c", PROBE,
                                 "listen-" + kind, str(port), str(seconds)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = listener.stdout.readline().strip()
        assert ready == "ready", "listener on %s/%d did not start: %s %s" % (port, kind, ready,
                                                                             listener.stderr.read())
        for client in senders:
            target = client.get("target") or (LOOPBACK["ip"] if client is LOOPBACK else PBX_IP)
            if kind == "udp":
                assert run(client["name"], "send-udp", port, 2, target) == "sent"
            else:
                run(client["name"], "connect-tcp", port, 2, target)
        out, err = listener.communicate(timeout=seconds + 15)
    finally:
        if listener.poll() is None:
            listener.kill()
    lines = out.strip().splitlines()
    assert lines, "listener printed nothing: %s" % err
    return json.loads(lines[-1])


def ufw_status():
    return subprocess.run(["docker", "exec", PBX, "ufw", "status", "verbose"], capture_output=True, text=True,
                          timeout=60, check=True).stdout


def snapshot():
    """What a refused run must leave byte-identical: UFW's files and the kernel's rules (without
    counters), and the Asterisk configuration."""
    script = ("cat /etc/default/ufw /etc/ufw/ufw.conf /etc/ufw/user.rules /etc/ufw/user6.rules; "
              "ls /etc/ufw; iptables-save | sed -e 's/\\[[0-9]*:[0-9]*\\]//' -e '/^#/d'; "
              "ip6tables-save | sed -e 's/\\[[0-9]*:[0-9]*\\]//' -e '/^#/d'; "
              "find /etc/asterisk -type f | sort | xargs sha256sum")
    return subprocess.run(["docker", "exec", PBX, "sh", "-c", script], capture_output=True, text=True,
                          timeout=60, check=True).stdout


def playbook(name, *extra, check=False, timeout=900):
    """Run a collection playbook against the PBX over SSH, as an operator would."""
    inventory = os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])
    cmd = ["ansible-playbook", "-i", inventory, "--limit", "pbx", "vpbx.hardened." + name, *extra]
    if check:
        cmd[1:1] = ["--check", "--diff"]
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    start = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False, env=env)
    output = proc.stdout + proc.stderr
    recap = re.search(r"vpbx-fw22-ssh\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", output)
    return {"rc": proc.returncode, "output": output, "seconds": round(time.time() - start, 1),
            "changed": int(recap.group(2)) if recap else None, "failed": int(recap.group(4)) if recap else None}
