# SPDX-License-Identifier: GPL-3.0-or-later
"""Drive the sipp phones and the fake provider of the calls scenario. Every sipp run is bounded
(one call, `timeout`, sipp's own -timeout) and aims only at the containers on the scenario's
network."""

from __future__ import annotations

import datetime
import itertools
import json
import os
import re
import shlex
import subprocess
import time

import testinfra
import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
COLLECTION = "vpbx.hardened"
RECAP = re.compile(r"^(?P<host>\S+)\s*:\s*ok=\d+\s+changed=(?P<changed>\d+)\s+unreachable=\d+\s+failed=(?P<failed>\d+)",
                   re.MULTILINE)
# The scenario's subscribers as its inventory has them (secrets and PINs from vault.yml).
SUBSCRIBERS = [
    {"extension": "1001", "name": "Director", "secret": "{{ vault_calls_secrets['1001'] }}", "record": True},
    {"extension": "1002", "name": "Secretary", "secret": "{{ vault_calls_secrets['1002'] }}", "voicemail": True,
     "voicemail_pin": "{{ vault_calls_pins['1002'] }}"},
    {"extension": "1003", "name": "Away", "secret": "{{ vault_calls_secrets['1003'] }}", "voicemail": True,
     "voicemail_pin": "{{ vault_calls_pins['1003'] }}"},
    {"extension": "1004", "name": "Boss", "secret": "{{ vault_calls_secrets['1004'] }}", "context": "boss"},
]
NETWORK = "172.30.79."
PHONES_IP = NETWORK + "50"
PROVIDER_IP = NETWORK + "60"
PBX = {
    "vpbx-calls16": {"ip": NETWORK + "16", "driver": "chan_sip", "major": 16, "cdr": "csv"},
    "vpbx-calls16p": {"ip": NETWORK + "17", "driver": "pjsip", "major": 16, "cdr": "remote"},
    "vpbx-calls22": {"ip": NETWORK + "22", "driver": "pjsip", "major": 22, "cdr": "own"},
}
# The call records' database host (vpbx-calls16p's, over TLS).
DATABASE_IP = NETWORK + "30"
SCENARIOS = "/opt/vpbx-sip"
# One port per phone on the phones container.
PORTS = {"1001": 5071, "1002": 5072, "1003": 5073, "1004": 5074, "1005": 5075}
_counter = itertools.count()


def scenario_dir():
    return os.environ.get("MOLECULE_SCENARIO_DIRECTORY", os.path.dirname(os.path.dirname(__file__)))


def vault():
    """The test secrets, decrypted from the scenario's vault.yml the way Ansible does."""
    directory = scenario_dir()
    out = subprocess.run(["ansible-vault", "view", "--vault-password-file",
                          os.path.join(directory, "vault-password.txt"), os.path.join(directory, "vault.yml")],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    data = yaml.safe_load(out)
    return {"secrets": {str(k): str(v) for k, v in data["vault_calls_secrets"].items()},
            "pins": {str(k): str(v) for k, v in data["vault_calls_pins"].items()},
            "cdr_password": str(data["vault_calls_cdr_password"])}


def dial(ip, vault_data, caller, number, port=None, duration_ms=500):
    """`caller` dials `number` on the PBX at `ip` with its credentials (answering the challenge)."""
    return sipp(ip, "invite.xml", number, caller, vault_data["secrets"][caller], caller=caller,
                port=port or PORTS[caller], duration_ms=duration_ms)


def playbook(name, *args, extra=None, limit=None, vault_vars=True):
    """Run a playbook of the collection (by its FQCN) against the scenario's inventory; the test
    secrets come from vault.yml the way an operator would pass them (-e @vault.yml)."""
    inventory = os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])
    cmd = ["ansible-playbook", "-i", inventory, "%s.%s" % (COLLECTION, name), "-l", limit or ",".join(PBX),
           "--vault-password-file", os.path.join(scenario_dir(), "vault-password.txt"), *args]
    if vault_vars:
        cmd += ["-e", "@" + os.path.join(scenario_dir(), "vault.yml")]
    if extra is not None:
        cmd += ["-e", json.dumps(extra)]
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False, env=env)
    return proc.returncode, proc.stdout + proc.stderr, time.monotonic() - start


def changed(output):
    return {m.group("host"): int(m.group("changed")) for m in RECAP.finditer(output)}


def phones():
    return testinfra.get_host("docker://vpbx-callphones")


def provider():
    return testinfra.get_host("docker://vpbx-callprovider")


def database_host():
    """The call records' database host of vpbx-calls16p."""
    return testinfra.get_host("docker://vpbx-callsdb")


def _allowed(target):
    assert target.startswith(NETWORK), "refusing to send SIP traffic outside the test network: %s" % target


class Result:
    def __init__(self, rc, log, messages, stdout):
        self.rc, self.log, self.messages, self.stdout = rc, log, messages, stdout

    @property
    def final(self):
        match = re.findall(r"VPBX-FINAL \[?SIP/2\.0 (\d{3})", self.log)
        return int(match[-1]) if match else None

    @property
    def outcome(self):
        match = re.findall(r"VPBX-FINAL \[?SIP/2\.0 \d{3}\]? (.*)", self.log)
        return match[-1].strip() if match else ""

    def __repr__(self):
        return "rc=%s log=%r\n%s\n%s" % (self.rc, self.log[-2000:], self.stdout[-2000:], self.messages[-3000:])


def _sipp_command(target, scenario, service, user, password, caller, port, duration_ms, local_ip, tag):
    _allowed(target)
    path = scenario if scenario.startswith("/") else "%s/%s" % (SCENARIOS, scenario)
    args = ["timeout", "90", "sipp", "-sf", path, "-s", service, "-m", "1",
            "-i", local_ip, "-p", str(port), "-trace_msg", "-message_file", "/tmp/%s.msg" % tag,
            "-trace_logs", "-log_file", "/tmp/%s.log" % tag, "-nostdin", "-timeout", "60s", "-timeout_error",
            "-d", str(duration_ms)]
    if user is not None:
        args += ["-au", user]
    if password is not None:
        args += ["-ap", password]
    if caller is not None:
        args += ["-inf", "%s/caller_%s.csv" % (SCENARIOS, caller)]
    args.append("%s:5060" % target)
    return " ".join(shlex.quote(a) for a in args)


def _collect(host, tag, rc, stdout=""):
    """The run's Result; every call test checks here that nothing the PBX sent names it."""
    log = host.run("cat /tmp/%s.log 2>/dev/null; rm -f /tmp/%s.log" % (tag, tag)).stdout
    messages = host.run("cat /tmp/%s.msg 2>/dev/null; rm -f /tmp/%s.msg" % (tag, tag)).stdout
    _no_fingerprint(messages)
    return Result(rc, log, messages, stdout)


def sipp(target, scenario, service, user=None, password=None, caller=None, port=5070, duration_ms=500,
         source=None):
    """One bounded sipp call from the phones container (or `source`) to target."""
    host = source or phones()
    tag = "%d-%d" % (os.getpid(), next(_counter))
    local_ip = PROVIDER_IP if source is not None else PHONES_IP
    run = host.run(_sipp_command(target, scenario, service, user, password, caller, port, duration_ms, local_ip, tag))
    return _collect(host, tag, run.rc, run.stdout + run.stderr)


def start(target, scenario, service, user=None, password=None, caller=None, port=5070, duration_ms=500,
          source=None):
    """The same call as sipp(), from the phones container (or the provider's, `source`) in the
    background: finish(tag) waits for it (bounded) and returns its Result."""
    tag = "%d-%d" % (os.getpid(), next(_counter))
    local_ip = PROVIDER_IP if source is not None else PHONES_IP
    command = _sipp_command(target, scenario, service, user, password, caller, port, duration_ms, local_ip, tag)
    (source or phones()).run("(%s >/tmp/%s.out 2>&1; echo $? >/tmp/%s.rc) &" % (command, tag, tag))
    return tag


def finish(tag, wait=120, source=None):
    host = source or phones()
    run = host.run("for i in $(seq %d); do [ -s /tmp/%s.rc ] && break; sleep 1; done; cat /tmp/%s.rc 2>/dev/null; "
                   "cat /tmp/%s.out 2>/dev/null; rm -f /tmp/%s.rc /tmp/%s.out" % (wait, tag, tag, tag, tag, tag))
    first, _unused, rest = run.stdout.partition("\n")
    return _collect(host, tag, int(first) if first.strip().isdigit() else None, rest)


# What a scanner reads off a PBX: the product's name or a version number (16.28.0, 22.10.1), in any
# header or SDP line of what the PBX sends (an address is not a version: four numbers).
FINGERPRINT_RE = re.compile(r"asterisk|(?<![\d.])\d{1,2}\.\d{1,2}\.\d{1,3}(?![\d.])", re.IGNORECASE)


# chan_sip adds these to every BYE it sends, and no setting removes them (chan_sip.c; the driver is
# deprecated and gone in Asterisk 21): the one exception, on chan_sip only (docs/sip.md).
CHAN_SIP_UNHIDEABLE = re.compile(r"^X-Asterisk-HangupCause(Code)?:", re.IGNORECASE)


def fingerprints(messages):
    """The lines of the received messages of a sipp trace that name the product or a version
    (chan_sip's unhideable BYE headers aside when a chan_sip PBX sent the message)."""
    chan_sip = {pbx["ip"] for pbx in PBX.values() if pbx["driver"] == "chan_sip"}
    found = []
    for block in re.split(r"^-{10,}.*$", messages, flags=re.MULTILINE):
        if not re.search(r"message received", block):
            continue
        sender = re.search(r"^(?:Via|v):\s*SIP/2\.0/\w+\s+([0-9.]+)", block, re.MULTILINE | re.IGNORECASE)
        from_chan_sip = sender is not None and sender.group(1) in chan_sip
        found += [line.strip() for line in block.splitlines()[1:] if FINGERPRINT_RE.search(line)
                  and not (from_chan_sip and CHAN_SIP_UNHIDEABLE.match(line.strip()))]
    return found


def _no_fingerprint(messages):
    found = fingerprints(messages)
    assert not found, "the PBX gave itself away: %s" % found


TRACE_RE = re.compile(r"^-{10,} (\d{4}-\d\d-\d\d)\s+(\d\d:\d\d:\d\d\.\d+)\n\S+ message (sent|received)[^\n]*\n\n"
                      r"([^\r\n]+)", re.MULTILINE)


def timeline(messages):
    """[(seconds since the first message, "sent"|"received", first line)] of a sipp message trace."""
    out = []
    for day, clock, direction, line in TRACE_RE.findall(messages):
        stamp = datetime.datetime.strptime("%s %s" % (day, clock), "%Y-%m-%d %H:%M:%S.%f").timestamp()
        out.append((stamp, direction, line.strip()))
    return [(round(t - out[0][0], 3), d, line) for t, d, line in out] if out else []


def wait_for(predicate, seconds, step=0.5):
    """predicate()'s first true value within `seconds` (polled every `step`), else its last answer."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def register(target, extension, password):
    return sipp(target, "register_auth_ok.xml", extension, extension, password, port=PORTS[extension])


class Answerer:
    """A sipp UAS (answer.xml: one call answered, every call with many=True; NOTIFY/OPTIONS
    acknowledged) in the background, bounded by `timeout`; its message trace shows what reached it."""

    def __init__(self, host, ip, port, seconds=60, many=False):
        self.host, self.ip, self.port = host, ip, port
        self.trace = "/tmp/uas-%d-%d.msg" % (port, next(_counter))
        self.host.run("rm -f %s" % self.trace)
        scenario = "%s/answer.xml" % SCENARIOS
        if many:
            # answer.xml stops taking calls once its first call ends: without that step the same
            # scenario answers every call, one after another or at once, until `timeout` ends it.
            scenario = "/tmp/answer-many.xml"
            self.host.run("sed '/stop_gracefully/d' %s/answer.xml > %s" % (SCENARIOS, scenario))
        cmd = ("nohup timeout %d sipp -sf %s -i %s -p %d -trace_msg -message_file %s -nostdin "
               ">/dev/null 2>&1 &" % (seconds, scenario, ip, port, self.trace))
        self.host.run(cmd)
        deadline = time.monotonic() + 10
        while not self.host.run("ss -Hlun 'sport = :%d'" % port).stdout.strip():
            # A test that saw "nothing reached the answerer" must know it was listening.
            assert time.monotonic() < deadline, "the sipp answerer on %s:%d did not start" % (ip, port)
            time.sleep(0.2)

    def messages(self):
        return self.host.run("cat %s 2>/dev/null" % self.trace).stdout

    def requests(self, methods=("INVITE", "ACK", "BYE", "NOTIFY", "OPTIONS", "CANCEL")):
        """Request lines of the requests received (INVITE sip:...@... SIP/2.0), in order; none of
        what the PBX sent may name it."""
        messages = self.messages()
        _no_fingerprint(messages)
        found = re.findall(r"^([A-Z]+ sip:\S+ SIP/2\.0)", messages, flags=re.MULTILINE)
        return [r for r in found if r.split()[0] in methods]

    def invites(self):
        return self.requests(("INVITE",))

    def stop(self):
        self.host.run("pkill -f 'answer(-many)?[.]xml -i %s -p %d ' || true" % (self.ip, self.port))
