# SPDX-License-Identifier: GPL-3.0-or-later
"""SIP peers in client containers (the vpbx-test/sipclient image): sipp, SIPVicious, sipsak, nmap.

Every run is bounded (sipp: one call, sipp's -timeout and `timeout`; scanners: an extension range,
a word list, --maximumtime and `timeout`; nmap: --host-timeout and `timeout`), and refuses any
target outside the scenario's own network.
"""

from __future__ import annotations

import itertools
import os
import re
import shlex

import testinfra

SCENARIOS = "/opt/vpbx-sip"
_counter = itertools.count()


class Result:
    """One sipp run: exit code, the VPBX-* log lines and the traced messages."""

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
        """Every SIP response sipp received, in order (the trace also holds what it sent)."""
        blocks = re.split(r"^-{10,}.*$", self.messages, flags=re.MULTILINE)
        messages = [b.split("\n", 2)[-1].strip() for b in blocks if "message received" in b]
        return [m for m in messages if m.startswith("SIP/2.0 ")]

    def __repr__(self):
        return "rc=%s log=%r\n%s\n%s" % (self.rc, self.log[-2000:], self.stdout[-2000:], self.messages[-3000:])


class Peer:
    """A client container on a test network (network: the /24 prefix, e.g. "172.30.81.")."""

    def __init__(self, container, ip, network):
        assert ip.startswith(network)
        self.container, self.ip, self.network = container, ip, network

    @property
    def host(self):
        return testinfra.get_host("docker://" + self.container)

    def allowed(self, target):
        assert target.startswith(self.network) and target != self.network + "1", \
            "refusing to send traffic outside the test network: %s" % target

    def run(self, command, *args):
        return self.host.run(command, *args)

    def sipp(self, target, scenario, service, user=None, password=None, caller=None, port=5070, timeout=30,
             pause_ms=500):
        """One bounded sipp call to target (lasting pause_ms after the answer); returns a Result."""
        self.allowed(target)
        tag = "%d-%d" % (os.getpid(), next(_counter))
        args = ["timeout", str(timeout + 30), "sipp", "-sf", "%s/%s" % (SCENARIOS, scenario), "-s", service,
                "-m", "1", "-i", self.ip, "-p", str(port), "-trace_msg", "-message_file", "/tmp/%s.msg" % tag,
                "-trace_logs", "-log_file", "/tmp/%s.log" % tag, "-nostdin", "-timeout", "%ds" % timeout,
                "-timeout_error", "-d", str(pause_ms)]
        if user is not None:
            args += ["-au", user]
        if password is not None:
            args += ["-ap", password]
        if caller is not None:
            args += ["-inf", "%s/caller_%s.csv" % (SCENARIOS, caller)]
        args.append("%s:5060" % target)
        run = self.host.run(" ".join(["%s"] * len(args)), *args)
        log = self.host.run("cat /tmp/%s.log 2>/dev/null; rm -f /tmp/%s.log" % (tag, tag)).stdout
        messages = self.host.run("cat /tmp/%s.msg 2>/dev/null; rm -f /tmp/%s.msg" % (tag, tag)).stdout
        return Result(run.rc, log, messages, run.stdout + run.stderr)

    def start_sipp(self, target, scenario, service, user, password, caller, port, calls, pause_ms, timeout,
                   stat_every=3600):
        """Like sipp(calls=...), in the background; returns the tag to collect() it with (statistics
        written every stat_every seconds, and at the end)."""
        self.allowed(target)
        tag = "%d-%d" % (os.getpid(), next(_counter))
        args = ["timeout", str(timeout + 30), "sipp", "-sf", "%s/%s" % (SCENARIOS, scenario), "-s", service,
                "-m", str(calls), "-l", str(calls), "-r", str(calls), "-i", self.ip, "-p", str(port),
                "-nostdin", "-timeout", "%ds" % timeout, "-timeout_error", "-d", str(pause_ms),
                "-au", user, "-ap", password, "-inf", "%s/caller_%s.csv" % (SCENARIOS, caller),
                "-trace_stat", "-stf", "/tmp/%s.csv" % tag, "-fd", str(stat_every), "%s:5060" % target]
        self.host.run("(%s >/tmp/%s.out 2>&1; echo $? >/tmp/%s.rc) &" % (" ".join(shlex.quote(a) for a in args),
                                                                         tag, tag))
        return tag

    def stats(self, tag):
        """The last statistics row a start_sipp run wrote so far, as a dict (empty before the first)."""
        stats = self.host.run("cat /tmp/%s.csv 2>/dev/null; true" % tag).stdout.strip().splitlines()
        if len(stats) < 2:
            return {}
        return dict(zip(stats[0].rstrip(";").split(";"), stats[-1].rstrip(";").split(";")))

    def collect(self, tag, wait=120):
        """Wait (bounded) for a start_sipp run: (exit code, its final statistics row as a dict)."""
        run = self.host.run("for i in $(seq %d); do [ -s /tmp/%s.rc ] && break; sleep 1; done; cat /tmp/%s.rc"
                            % (wait, tag, tag))
        rc = int(run.stdout.strip()) if run.stdout.strip().isdigit() else None
        return rc, self.stats(tag)

    # SIPVicious' commands: Debian's (svmap...) or PyPI's newest (sipvicious_svmap...), by prefix.
    def svmap(self, target, tool=""):
        self.allowed(target)
        return self.host.run("timeout 60 %ssvmap %s 2>&1" % (tool, shlex.quote(target))).stdout

    def svwar(self, target, method, extensions="1000-1010", tool=""):
        """SIPVicious' extension scan with --force (no ping first), bounded."""
        self.allowed(target)
        return self.host.run("timeout 120 %ssvwar -e%s -m %s --force --maximumtime=10 %s 2>&1"
                             % (tool, shlex.quote(extensions), shlex.quote(method), shlex.quote(target))).stdout

    def svcrack(self, target, user, words, tool=""):
        """SIPVicious' password cracker on one extension with a word list, bounded."""
        self.allowed(target)
        path = "/tmp/vpbx-words-%d.txt" % os.getpid()
        self.host.run("printf '%%s\\n' %s > %s" % (" ".join(shlex.quote(w) for w in words), path))
        return self.host.run("timeout 180 %ssvcrack -u %s -d %s --maximumtime=10 %s 2>&1"
                             % (tool, shlex.quote(user), path, shlex.quote(target))).stdout

    def nmap(self, target, args, timeout=240):
        self.allowed(target)
        return self.host.run("timeout %d nmap -Pn -n %s %s 2>&1" % (timeout, args, shlex.quote(target))).stdout


def svwar_found(output):
    """Extensions in svwar's result table (| Extension | Authentication |)."""
    return re.findall(r"^\|\s*(\d+)\s*\|\s*(\S+)\s*\|", output, flags=re.MULTILINE)


def svcrack_found(output):
    """Passwords in svcrack's result table (| Extension | Password |)."""
    return re.findall(r"^\|\s*(\d+)\s*\|\s*(\S+)\s*\|", output, flags=re.MULTILINE)


def nmap_open(output):
    """The open ports of an nmap report, as {"5060/tcp", ...} (open|filtered is not open)."""
    return set(re.findall(r"^(\d+/(?:tcp|udp))\s+open\s", output, flags=re.MULTILINE))
