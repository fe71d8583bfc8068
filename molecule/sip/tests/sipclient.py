# SPDX-License-Identifier: GPL-3.0-or-later
"""Drive the real SIP clients (sipp, SIPVicious, sipsak) in the client container of the sip
scenario. Every run is bounded (sipp: one call, timeouts; scanners: an extension range of 11,
--maximumtime and `timeout`), and aims only at the PBX containers on the scenario's network."""

from __future__ import annotations

import itertools
import os
import re
import subprocess

import testinfra
import yaml

NETWORK = "172.30.77."
CLIENT_IP = NETWORK + "50"
# The client's second address (converge.yml): outside every subscriber's permit. The Asterisk 22
# PBX's firewall lets it through (asterisk_firewall_extra_networks); the Asterisk 16 one drops it:
# it starts on chan_sip, where the firewall plan refuses to open SIP outside the subscribers' ACL.
OUTSIDE_IP = NETWORK + "100"
PBX = {
    "vpbx-sip16": {"ip": NETWORK + "16", "driver": "chan_sip", "major": 16, "outside_reaches_sip": False},
    "vpbx-sip22": {"ip": NETWORK + "22", "driver": "pjsip", "major": 22, "outside_reaches_sip": True},
}
SCENARIOS = "/opt/vpbx-sip"
_counter = itertools.count()


def scenario_dir():
    return os.environ.get("MOLECULE_SCENARIO_DIRECTORY", os.path.dirname(os.path.dirname(__file__)))


def secrets():
    """The test secrets, decrypted from the scenario's vault.yml the way Ansible does."""
    directory = scenario_dir()
    out = subprocess.run(["ansible-vault", "view", "--vault-password-file",
                          os.path.join(directory, "vault-password.txt"), os.path.join(directory, "vault.yml")],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    return {str(k): str(v) for k, v in yaml.safe_load(out)["vault_sip_secrets"].items()}


def client():
    return testinfra.get_host("docker://vpbx-sipclient")


def _allowed(target):
    assert target.startswith(NETWORK), "refusing to send SIP traffic outside the test network: %s" % target


class Result:
    def __init__(self, rc, log, messages, stdout):
        self.rc, self.log, self.messages, self.stdout = rc, log, messages, stdout

    @property
    def final(self):
        """The status code of the VPBX-FINAL line the scenario logged (None if none)."""
        match = re.findall(r"VPBX-FINAL \[?SIP/2\.0 (\d{3})", self.log)
        return int(match[-1]) if match else None

    @property
    def outcome(self):
        match = re.findall(r"VPBX-FINAL \[?SIP/2\.0 \d{3}\]? (.*)", self.log)
        return match[-1].strip() if match else ""

    def received(self):
        """Every SIP response sipp received, in order (requests such as the PBX's qualify OPTIONS
        to an address a phone registered from are not answers to this call)."""
        blocks = re.split(r"^-{10,}.*$", self.messages, flags=re.MULTILINE)
        messages = [b.split("\n", 2)[-1].strip() for b in blocks if "message received" in b]
        return [m for m in messages if m.startswith("SIP/2.0 ")]

    def __repr__(self):
        return "rc=%s log=%r\n%s\n%s" % (self.rc, self.log[-2000:], self.stdout[-2000:], self.messages[-3000:])


def sipp(target, scenario, service, user=None, password=None, caller=None, port=5070, source=CLIENT_IP):
    """One bounded sipp call from the client to target; returns a Result."""
    _allowed(target)
    host = client()
    tag = "%d-%d" % (os.getpid(), next(_counter))
    args = ["timeout", "60", "sipp", "-sf", "%s/%s" % (SCENARIOS, scenario), "-s", service, "-m", "1",
            "-i", source, "-p", str(port), "-trace_msg", "-message_file", "/tmp/%s.msg" % tag,
            "-trace_logs", "-log_file", "/tmp/%s.log" % tag, "-nostdin", "-timeout", "30s", "-timeout_error", "-d", "500"]
    if user is not None:
        args += ["-au", user]
    if password is not None:
        args += ["-ap", password]
    if caller is not None:
        args += ["-inf", "%s/caller_%s.csv" % (SCENARIOS, caller)]
    args.append("%s:5060" % target)
    run = host.run(" ".join(["%s"] * len(args)), *args)
    log = host.run("cat /tmp/%s.log 2>/dev/null; rm -f /tmp/%s.log" % (tag, tag)).stdout
    messages = host.run("cat /tmp/%s.msg 2>/dev/null; rm -f /tmp/%s.msg" % (tag, tag)).stdout
    return Result(run.rc, log, messages, run.stdout + run.stderr)


VARIABLE = [
    (re.compile(r'(nonce|opaque|tag|branch|received|rport)=("[^"]*"|[^;,\s>]*)'), r"\1=X"),
    (re.compile(r"^(Call-ID):.*$", re.MULTILINE), r"\1: X"),
    (re.compile(r"sip:[^@;>\s]+@"), "sip:USER@"),
]


def normalized(message):
    """A SIP response with what legitimately differs between two requests masked: nonces, tags,
    branches, Call-ID, the user part of URIs. What remains must be identical for an unknown user
    and a wrong password."""
    for pattern, repl in VARIABLE:
        message = pattern.sub(repl, message)
    return message


def svwar(target, method):
    _allowed(target)
    run = client().run("timeout 120 svwar -e1000-1010 -m %s --force --maximumtime=10 %s 2>&1"
                       % (method, target))
    return run.stdout


def found_extensions(output):
    """Extensions in svwar's result table (| Extension | Authentication |)."""
    return re.findall(r"^\|\s*(\d+)\s*\|\s*(\S+)\s*\|", output, flags=re.MULTILINE)


def svmap(target):
    _allowed(target)
    return client().run("timeout 60 svmap %s 2>&1" % target).stdout


def options_probe(target):
    _allowed(target)
    return client().run("timeout 20 sipsak -vvv -s sip:probe@%s 2>&1" % target).stdout


def nmap_udp(target):
    _allowed(target)
    return client().run("timeout 120 nmap -sU -sV -p 5060 --max-retries 2 --host-timeout 90s %s 2>&1"
                        % target).stdout
