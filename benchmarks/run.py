# SPDX-License-Identifier: GPL-3.0-or-later
"""vpbx.hardened benchmarks: the hardened PBX side by side with stock Asterisk, and the
collection's own speed. Documented in docs/performance.md.

    python benchmarks/run.py                   # everything, full sizes (about an hour)
    python benchmarks/run.py --only lean,calls # some benchmarks
    python benchmarks/run.py --smoke           # tiny sizes: proves every benchmark still runs
    python benchmarks/run.py --update-docs     # also writes the figures into docs/performance.md

Runs as root on the machine `make bootstrap` prepared (Docker, the virtualenv, the locally built
images). Every container lives on the benchmark's own Docker network (172.30.90.0/24), created
here and removed at the end; calls and loads go only to those containers, and every run is bounded
(sipp call counts and -timeout, `timeout` around every command).

Benchmarks (see --help for the sizes):
  site   fresh converge of the site playbook on one host, idempotent re-run, tasks run
  lean   modules loaded, resident memory and start-up time: the hardened PBX (site's host) vs stock
  calls  sipp calls per second through the hardened PBX vs stock Asterisk with a plain config
  load   calls dropped while the subscribers playbook runs with calls up
  scale  the subscribers playbook with growing numbers of subscribers
  fleet  the site playbook on 1..N PBX containers in one run
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import platform
import random
import shlex
import string
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
# The collection as `make collection` links it: the benchmarks parse Asterisk's output with its parsers.
sys.path.insert(0, os.path.join(REPO, ".ansible", "collections"))
import charts  # noqa: E402
import figures  # noqa: E402

from ansible_collections.vpbx.hardened.plugins.module_utils import sip_model  # noqa: E402

NETWORK, SUBNET = "vpbx-bench", "172.30.90"
PREFIX = "vpbx-bench"
CLIENT_IMAGE = "vpbx-test/sipclient:12-r1"
# Asterisk version -> Debian release of the test images, cgroup mount, apt cache suite, driver of
# the reference how-to on that version.
PLATFORMS = {
    "16": {"tag": "11", "cgroup": "/sys/fs/cgroup", "suite": "bullseye", "driver": "chan_sip", "ip": 16},
    "22": {"tag": "testing", "cgroup": "/sys/fs/cgroup/unified", "suite": "testing", "driver": "pjsip", "ip": 22},
}
CLIENT_IP = SUBNET + ".50"
PROVIDER_IP = SUBNET + ".60"  # a trunk's address: no container answers there, nothing is sent to it
BENCHMARKS = ("site", "lean", "calls", "load", "scale", "fleet")
FULL = {"starts": 3, "settle": 10, "calls": 5000, "chan_sip_calls": 2000, "concurrent": 20, "rounds": 3, "load_calls": 50,
        "scale": [10, 100, 1000], "fleet": [1, 5, 20], "image": "bare", "versions": ["16", "22"], "reruns": 3,
        "fleet_version": "22"}
SMOKE = {"starts": 1, "calls": 50, "chan_sip_calls": 50, "concurrent": 5, "rounds": 1, "load_calls": 3, "settle": 2,
         "scale": [3], "fleet": [2], "image": "asterisk", "versions": ["22"], "fleet_version": "22", "reruns": 1}
SECRET_1001 = "Bench-secret-Zq8w-Lx4t-Rv5n"
MAXFILES = 16384  # the asterisk role's asterisk_maxfiles default (LimitNOFILE of the service)


def step(message):
    print("==> [bench %s] %s" % (time.strftime("%H:%M:%S"), message), flush=True)


def sh(args, timeout=600, check=True, stdin=None):
    proc = subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise RuntimeError("%s failed (exit %d): %s%s" % (" ".join(shlex.quote(a) for a in args), proc.returncode,
                                                          proc.stdout[-2000:], proc.stderr[-2000:]))
    return proc


def dexec(container, script, timeout=300, check=True, stdin=None):
    """A bash script in a container, bounded by `timeout` on both sides."""
    args = ["docker", "exec"] + (["-i"] if stdin is not None else []) + [container, "timeout", str(timeout),
                                                                         "bash", "-c", script]
    return sh(args, timeout=timeout + 30, check=check, stdin=stdin)


# --- Containers ---------------------------------------------------------------------------------

class Lab:
    """The benchmark's network and containers; close() removes them all."""

    def __init__(self, keep=False):
        self.keep, self.containers = keep, []
        for name in self._existing():
            sh(["docker", "rm", "-f", name], check=False)
        sh(["docker", "network", "rm", NETWORK], check=False)
        sh(["docker", "network", "create", "--subnet", SUBNET + ".0/24", "--gateway", SUBNET + ".1", NETWORK])

    @staticmethod
    def _existing():
        out = sh(["docker", "ps", "-a", "--filter", "name=^" + PREFIX + "-", "--format", "{{.Names}}"]).stdout
        return out.split()

    def pbx(self, name, version, ip, image="asterisk"):
        """A systemd container: "bare" = the Debian image (the site playbook installs Asterisk),
        "asterisk" = the image with the distribution's Asterisk package unpacked, never started."""
        p = PLATFORMS[version]
        image = "vpbx-test/%s:%s" % ("debian" if image == "bare" else "asterisk",
                                     p["tag"] + ("-r1" if image == "bare" else "-r2"))
        cache = self.apt_cache(name, p["suite"])
        sh(["docker", "rm", "-f", name], check=False)
        sh(["docker", "run", "-d", "--name", name, "--hostname", name.replace(PREFIX + "-", "bench-"),
            "--network", NETWORK, "--ip", ip, "--cap-add", "SYS_ADMIN", "--cap-add", "NET_ADMIN",
            "--tmpfs", "/run", "--tmpfs", "/run/lock", "--tmpfs", "/tmp", "--cgroupns", "host",
            "-v", "%s:/sys/fs/cgroup:rw" % p["cgroup"], "-v", "%s:/var/cache/apt/archives:rw" % cache,
            "--stop-signal", "SIGRTMIN+3", image])
        self.containers.append(name)
        return name

    @staticmethod
    def apt_cache(name, suite):
        """Each container its own apt archive (apt locks it while it installs, as on separate
        hosts), seeded with hard links to the shared cache's packages: nothing is downloaded twice."""
        shared, own = "/var/cache/vpbx/apt/%s" % suite, "/var/cache/vpbx/apt-bench/%s/%s" % (name, suite)
        os.makedirs(os.path.join(own, "partial"), exist_ok=True)
        os.makedirs(shared, exist_ok=True)
        for deb in os.listdir(shared):
            if deb.endswith(".deb") and not os.path.exists(os.path.join(own, deb)):
                try:
                    os.link(os.path.join(shared, deb), os.path.join(own, deb))
                except OSError:
                    pass
        return own

    def client(self):
        name = PREFIX + "-client"
        sh(["docker", "rm", "-f", name], check=False)
        sh(["docker", "run", "-d", "--name", name, "--network", NETWORK, "--ip", CLIENT_IP, CLIENT_IMAGE,
            "sleep", "infinity"])
        self.containers.append(name)
        for scenario in ("call.xml", "hold.xml"):
            sh(["docker", "cp", os.path.join(HERE, "sipp", scenario), name + ":/tmp/" + scenario])
        dexec(name, "printf 'SEQUENTIAL\\n1001;\\n' > /tmp/caller.csv")
        return name

    @staticmethod
    def wait_systemd(names, timeout=90):
        deadline = time.monotonic() + timeout
        for name in names:
            while True:
                state = dexec(name, "systemctl is-system-running || true", timeout=20, check=False).stdout.strip()
                if state in ("running", "degraded"):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("%s: systemd did not come up (%s)" % (name, state))
                time.sleep(1)

    def remove(self, names):
        for name in names:
            sh(["docker", "rm", "-f", name], check=False)
            if name in self.containers:
                self.containers.remove(name)

    def close(self):
        if self.keep:
            step("containers kept (--keep): %s" % " ".join(self.containers))
            return
        self.remove(list(self.containers))
        sh(["docker", "network", "rm", NETWORK], check=False)


# --- Ansible ------------------------------------------------------------------------------------

def group_vars(subscribers=None):
    """The reference how-to's feature set (inventories/example), with this network's addresses:
    two phones (one with voicemail), a trunk identified by its address, landline and mobile routes,
    the echo test, inbound calls to 1002; firewall and fail2ban on."""
    subscribers = subscribers if subscribers is not None else [
        {"extension": "1001", "name": "Director", "secret": SECRET_1001, "max_calls": 100},
        {"extension": "1002", "name": "Secretary", "secret": "Bench-secret-Pk3r-Wd7m-Yb6c", "voicemail": True,
         "voicemail_pin": "582914"}]
    return {
        # The docker connection is root already; the images carry no sudo.
        "ansible_become": False,
        "asterisk_sip_subscriber_defaults": {"context": "homeoffice", "permit": [SUBNET + ".0/24"],
                                             "codecs": ["alaw", "ulaw"], "qualify": False, "max_calls": 2},
        "asterisk_sip_subscribers": subscribers,
        "asterisk_sip_trunks": [{"name": "provider", "host": PROVIDER_IP, "context": "from-provider",
                                 "qualify": False}],
        "asterisk_dialplan_contexts": [{"name": "homeoffice", "routes": ["ru-landline", "ru-mobile"],
                                        "max_calls": 1000, "echo_test": True}],
        "asterisk_dialplan_routes": [
            {"name": "ru-landline", "pattern": "_8[34]XXXXXXXXX", "trunk": "provider", "strip": 1, "prepend": "7"},
            {"name": "ru-mobile", "pattern": "_89XXXXXXXXX", "trunk": "provider", "strip": 1, "prepend": "7"}],
        "asterisk_dialplan_inbound": [{"trunk": "provider", "subscriber": "1002"}],
        "asterisk_manager_enabled": False,
        "asterisk_http_enabled": False,
        # The benchmark's client places thousands of calls: never banned, nor held to the firewall's
        # per-source SIP limit (its chain still sees every packet: what it costs is measured).
        "asterisk_fail2ban_admin_networks": [CLIENT_IP + "/32"],
        "asterisk_firewall_sip_flood_exempt": [CLIENT_IP + "/32"],
    }


def write_inventory(directory, hosts):
    """hosts: {container: {version, ...host vars}} -> an inventory file (JSON is YAML)."""
    inventory = {"pbx": {"hosts": {}, "vars": group_vars()}}
    for name, version in hosts.items():
        inventory["pbx"]["hosts"][name] = {"ansible_connection": "community.docker.docker",
                                           "asterisk_sip_driver": PLATFORMS[version]["driver"]}
    path = os.path.join(directory, "inventory-%d.yml" % len(os.listdir(directory)))
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(inventory, handle, indent=1)
    return path


def playbook(name, inventory, extra=None, limit=None, timeout=3600, collections=None):
    """One ansible-playbook run of the collection's playbook `name` (or of a playbook file):
    {"seconds", "cpu_seconds" (the controller's: ansible-playbook and its children), "rc", "recap",
    "output"}; raises when it fails. collections: another collections
    path (the --baseline's tree)."""
    args = ["ansible-playbook", "-i", inventory, name if name.endswith(".yml") else "vpbx.hardened." + name]
    if limit:
        args += ["--limit", limit]
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_COLLECTIONS_PATH=collections or os.path.join(REPO, ".ansible", "collections"))
    extra_file = None
    if extra:
        extra_file = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
        json.dump(extra, extra_file)
        extra_file.close()
        args += ["-e", "@" + extra_file.name]
    start, cpu = time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False, env=env, cwd=REPO)
    seconds = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_seconds = (after.ru_utime - cpu.ru_utime) + (after.ru_stime - cpu.ru_stime)
    if extra_file:
        os.unlink(extra_file.name)
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise RuntimeError("ansible-playbook %s failed (exit %d):\n%s" % (name, proc.returncode, output[-6000:]))
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, "rc": proc.returncode, "recap": figures.recap(output),
            "output": output}


def baseline_collection(rev, directory):
    """A collections path holding the collection as it was at git revision rev."""
    tree = os.path.join(directory, "baseline", "ansible_collections", "vpbx", "hardened")
    os.makedirs(tree)
    archive = subprocess.run(["git", "-C", REPO, "archive", "--format=tar", rev], capture_output=True, check=True,
                             timeout=120).stdout
    subprocess.run(["tar", "-x", "-C", tree], input=archive, check=True, timeout=120)
    return os.path.join(directory, "baseline")


def summary(run, host):
    counters = run["recap"].get(host, {})
    return {"seconds": round(run["seconds"], 1), "tasks": figures.tasks_run(counters),
            "changed": counters.get("changed", 0), "cpu_seconds": round(run.get("cpu_seconds", 0.0), 1)}


# --- Asterisk measurements ----------------------------------------------------------------------

START_SCRIPT = r"""
systemctl stop asterisk; sleep 1
s=$(date +%s%N); systemctl start asterisk
for i in $(seq 600); do asterisk -rx 'core waitfullybooted' >/dev/null 2>&1 && break; sleep 0.05; done
e=$(date +%s%N); echo $(( (e - s) / 1000000 ))
"""


# Asterisk's XML documentation; the asterisk_modules role diverts the package's copy to ".distrib".
XML_DOCUMENTATION = "/usr/share/asterisk/documentation/core-en_US.xml"


def asterisk_figures(container, starts, settle=10):
    """Start-up time (median of `starts` restarts, systemctl start until fully booted), then the
    modules loaded and the resident memory after `settle` seconds of idling."""
    times = []
    for _unused in range(starts):
        times.append(int(dexec(container, START_SCRIPT, timeout=90).stdout.strip().splitlines()[-1]) / 1000.0)
    time.sleep(settle)
    module_show = dexec(container, "asterisk -rx 'module show'").stdout
    modules = figures.modules_loaded(module_show)
    rss = figures.vm_rss_kib(dexec(container, "cat /proc/$(systemctl show -p MainPID --value asterisk)/status").stdout)
    return {"modules": modules, "loadable": figures.loadable_modules(module_show), "rss_kib": rss, "start_seconds": round(figures.median(times), 3),
            "start_samples": times}


STOCK_PJSIP = """[transport-udp]
type=transport
protocol=udp
bind=0.0.0.0:5060

[1001]
type=endpoint
context=homeoffice
disallow=all
allow=alaw,ulaw
auth=1001
aors=1001

[1001]
type=auth
auth_type=userpass
username=1001
password=%s

[1001]
type=aor
max_contacts=1
""" % SECRET_1001

STOCK_SIP = """[general]
udpbindaddr=0.0.0.0:5060
context=default

[1001]
type=friend
host=dynamic
secret=%s
context=homeoffice
disallow=all
allow=alaw,ulaw
""" % SECRET_1001

STOCK_DIALPLAN = """[homeoffice]
exten => *43,1,Answer()
 same => n,Echo()
 same => n,Hangup()
"""


def stock_plain_config(container, driver):
    """Stock Asterisk (every module, the package's other sample files) with a plain configuration
    equivalent to the hardened one for the benchmark's call: endpoint 1001 with a password, the
    echo test in its context."""
    name = "pjsip.conf" if driver == "pjsip" else "sip.conf"
    body = STOCK_PJSIP if driver == "pjsip" else STOCK_SIP
    dexec(container, "cat > /etc/asterisk/%s" % name, stdin=body)
    dexec(container, "cat > /etc/asterisk/extensions.conf", stdin=STOCK_DIALPLAN)
    # The same open-file limit as the hardened PBX (asterisk_maxfiles): with systemd's 1024, chan_sip
    # runs out of sockets near 15 calls per second (it keeps a finished call's for 32 s) and answers
    # 503 - a capacity setting, not hardening, so both sides get it.
    dexec(container, "mkdir -p /etc/systemd/system/asterisk.service.d && printf '[Service]\\nLimitNOFILE=%d\\n' "
                     "> /etc/systemd/system/asterisk.service.d/vpbx-bench-limits.conf && systemctl daemon-reload"
          % MAXFILES)
    dexec(container, "systemctl restart asterisk; for i in $(seq 200); do "
                     "asterisk -rx 'core waitfullybooted' >/dev/null 2>&1 && break; sleep 0.1; done", timeout=60)
    limit = dexec(container, "asterisk -rx 'core show settings'").stdout
    if "Maximum open file handles:   %d" % MAXFILES not in limit:
        raise RuntimeError("stock Asterisk did not take the open-file limit: %s" % limit[-1500:])


# --- sipp ---------------------------------------------------------------------------------------

def sipp_run(client, target, calls, concurrent, pause_ms=0, rate=5000, port=5080, timeout=600, background=False,
             tag="bench", scenario="call.xml"):
    """sipp from the client container to target (this network only), bounded by -m, -timeout and
    `timeout`. Foreground: {"successful", "failed", "seconds", "cps"}; background: the tag to wait for."""
    if not target.startswith(SUBNET + ".") or target == SUBNET + ".1":
        raise ValueError("refusing to send calls outside the benchmark network: %s" % target)
    command = ("cd /tmp && rm -f {tag}.csv {tag}.rc && s=$(date +%s%N) && "
               "sipp -sf {scenario} -inf caller.csv -s '*43' -au 1001 -ap {secret} -d {pause} -m {calls} -l {conc} "
               "-r {rate} -i {ip} -p {port} -nostdin -timeout {timeout}s -timeout_error -trace_stat -stf {tag}.csv "
               "-fd 1 {target}:5060 >{tag}.out 2>&1; echo $? > {tag}.rc; e=$(date +%s%N); "
               "echo $(( (e - s) / 1000000 )) > {tag}.ms").format(
        tag=tag, scenario=scenario, secret=SECRET_1001, pause=pause_ms, calls=calls, conc=concurrent, rate=rate, ip=CLIENT_IP,
        port=port, timeout=timeout, target=target)
    if background:
        dexec(client, "(timeout %d bash -c %s) >/dev/null 2>&1 &" % (timeout + 30, shlex.quote(command)))
        return tag
    dexec(client, command, timeout=timeout + 30, check=False)
    return sipp_result(client, tag)


def sipp_result(client, tag, wait=0):
    if wait:
        dexec(client, "for i in $(seq %d); do [ -s /tmp/%s.rc ] && break; sleep 1; done" % (wait, tag),
              timeout=wait + 30, check=False)
    csv = dexec(client, "cat /tmp/%s.csv 2>/dev/null; true" % tag).stdout
    ms = dexec(client, "cat /tmp/%s.ms 2>/dev/null; true" % tag).stdout.strip()
    successful, failed = figures.sipp_counts(csv)
    seconds = int(ms) / 1000.0 if ms.isdigit() else None
    return {"successful": successful, "failed": failed, "seconds": seconds,
            "cps": round(successful / seconds, 1) if seconds else None}


# --- The benchmarks -----------------------------------------------------------------------------

def module_run_seconds(inventory, runs=20):
    """What one task running a module costs on this machine and connection: a play of `runs` ping
    tasks minus a play of one (start-up, inventory, connection set-up), per task."""
    def timed(count):
        with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as handle:
            # Separate tasks, not a loop: each pays the whole per-task price, as the roles' tasks do.
            json.dump([{"hosts": "pbx", "gather_facts": False,
                        "tasks": [{"ansible.builtin.ping": None} for _unused in range(count)]}], handle)
        try:
            # The same configuration as the site runs (pipelining, the profile_tasks callback).
            env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_NOCOLOR="1")
            start = time.monotonic()
            proc = subprocess.run(["ansible-playbook", "-i", inventory, handle.name], capture_output=True,
                                  text=True, timeout=300, check=False, env=env, cwd=REPO)
            if proc.returncode != 0:
                raise RuntimeError("the ping play failed (exit %d):\n%s"
                                   % (proc.returncode, (proc.stdout + proc.stderr)[-3000:]))
            return time.monotonic() - start
        finally:
            os.unlink(handle.name)
    return round(max(timed(runs) - timed(1), 0.0) / (runs - 1), 3)


def bench_site(lab, inv_dir, sizes, results, pbxs):
    out = results.setdefault("site", {})
    for version in sizes["versions"]:
        name = "%s-pbx%s" % (PREFIX, version)
        lab.pbx(name, version, "%s.%d" % (SUBNET, PLATFORMS[version]["ip"]), image=sizes["image"])
        lab.wait_systemd([name])
        inventory = write_inventory(inv_dir, {name: version})
        step("site: fresh converge of Asterisk %s (%s image)" % (version, sizes["image"]))
        converge = playbook("site", inventory)
        # Several re-runs, the median reported: one run on a shared machine varies by ±15 %.
        reruns, baseline = [], []
        if sizes.get("baseline"):
            # The baseline's collection gets a PBX of its own, converged by it: on one host each
            # collection would rewrite what the other renders differently, and both re-runs would
            # pay for changes. Its re-runs alternate with this tree's, so both share the machine's load.
            base_name = name + "-base"
            lab.pbx(base_name, version, "%s.%d" % (SUBNET, 100 + PLATFORMS[version]["ip"]), image=sizes["image"])
            lab.wait_systemd([base_name])
            base_inventory = write_inventory(inv_dir, {base_name: version})
            step("site: fresh converge of Asterisk %s with the baseline %s" % (version, sizes["baseline"]["rev"]))
            base_converge = playbook("site", base_inventory, collections=sizes["baseline"]["path"])
        for index in range(sizes["reruns"]):
            step("site: converged in %.0f s; idempotent re-run %d of %d" % (converge["seconds"], index + 1,
                                                                            sizes["reruns"]))
            reruns.append(summary(playbook("site", inventory), name))
            if sizes.get("baseline"):
                baseline.append(summary(playbook("site", base_inventory, collections=sizes["baseline"]["path"]),
                                        base_name))
        rerun = figures.median_run(reruns)
        out[version] = {"image": sizes["image"], "converge": summary(converge, name), "rerun": rerun,
                        "module_run_seconds": module_run_seconds(inventory)}
        if baseline:
            out[version]["baseline"] = dict(figures.median_run(baseline), rev=sizes["baseline"]["rev"],
                                            converge=summary(base_converge, base_name))
            lab.remove([base_name])
            step("site: baseline %s re-run %.1f s, %d tasks, %.1f CPU s (this tree: %.1f s, %d tasks, %.1f CPU s)" % (
                sizes["baseline"]["rev"], out[version]["baseline"]["seconds"], out[version]["baseline"]["tasks"],
                out[version]["baseline"]["cpu_seconds"], rerun["seconds"], rerun["tasks"], rerun["cpu_seconds"]))
        step("site: re-run %.1f s (median of %s s), %d changed; one module run costs %.2f s here" % (
            rerun["seconds"], " / ".join(str(s) for s in rerun["runs"]), rerun["changed"],
            out[version]["module_run_seconds"]))
        pbxs[version] = (name, inventory)


def on_full_documentation(container, settle):
    """The hardened PBX started once on the package's whole XML documentation (what
    asterisk_modules_trim_documentation: false gives), then on its trimmed copy again."""
    dexec(container, "cp -p {doc} /root/doc.trimmed && cp {doc}.distrib {doc}".format(doc=XML_DOCUMENTATION))
    try:
        return asterisk_figures(container, 1, settle)
    finally:
        dexec(container, "cp -p /root/doc.trimmed {doc} && rm -f /root/doc.trimmed".format(doc=XML_DOCUMENTATION))
        dexec(container, START_SCRIPT, timeout=90)


def bench_lean(lab, sizes, results, pbxs, stocks):
    out = results.setdefault("lean", {})
    for version in sizes["versions"]:
        stock = stocks.setdefault(version, lab.pbx("%s-stock%s" % (PREFIX, version), version,
                                                   "%s.%d" % (SUBNET, 100 + PLATFORMS[version]["ip"])))
        lab.wait_systemd([stock])
        step("lean: stock Asterisk %s (the package's configuration, every module)" % version)
        dexec(stock, "systemctl enable asterisk >/dev/null 2>&1; true")
        stock_figures = asterisk_figures(stock, sizes["starts"], sizes["settle"])
        step("lean: hardened Asterisk %s" % version)
        hardened = asterisk_figures(pbxs[version][0], sizes["starts"], sizes["settle"])
        step("lean: hardened Asterisk %s on the package's full XML documentation" % version)
        full_documentation = on_full_documentation(pbxs[version][0], sizes["settle"])
        out[version] = {"stock": stock_figures, "hardened": hardened, "full_documentation": full_documentation,
                        "memory_ratio": round(figures.ratio(hardened["rss_kib"], stock_figures["rss_kib"]), 3),
                        "full_documentation_ratio": round(figures.ratio(full_documentation["rss_kib"],
                                                                        stock_figures["rss_kib"]), 3),
                        "start_ratio": round(figures.ratio(hardened["start_seconds"],
                                                           stock_figures["start_seconds"]), 3)}
        step("lean: %s modules / %d MiB (stock: %s / %d MiB)" % (
            hardened["modules"], hardened["rss_kib"] // 1024, stock_figures["modules"], stock_figures["rss_kib"] // 1024))


def bench_calls(lab, sizes, results, pbxs, stocks, client):
    out = results.setdefault("calls", {})
    for version in sizes["versions"]:
        driver = PLATFORMS[version]["driver"]
        stock = stocks.get(version) or lab.pbx("%s-stock%s" % (PREFIX, version), version,
                                               "%s.%d" % (SUBNET, 100 + PLATFORMS[version]["ip"]))
        stocks[version] = stock
        lab.wait_systemd([stock])
        stock_plain_config(stock, driver)
        # chan_sip keeps a finished call's dialog and RTP sockets for 32 s: a run must fit in the
        # open-file limit (3 sockets a call) together with the previous round's leftovers.
        calls = sizes["calls"] if driver == "pjsip" else min(sizes["calls"], sizes["chan_sip_calls"])
        targets = {"stock": "%s.%d" % (SUBNET, 100 + PLATFORMS[version]["ip"]),
                   "hardened": "%s.%d" % (SUBNET, PLATFORMS[version]["ip"])}
        samples = {"stock": [], "hardened": []}
        # Alternate the two, so that a slow moment of the machine does not favour one.
        for round_ in range(sizes["rounds"]):
            for kind in ("stock", "hardened"):
                step("calls: Asterisk %s %s, round %d: %d calls, %d at once" % (
                    version, kind, round_ + 1, calls, sizes["concurrent"]))
                samples[kind].append(sipp_run(client, targets[kind], calls, sizes["concurrent"],
                                              tag="cps-%s-%s-%d" % (version, kind, round_)))
        row = {"driver": driver, "calls": calls, "concurrent": sizes["concurrent"], "rounds": sizes["rounds"]}
        for kind in ("stock", "hardened"):
            row[kind] = {"cps": figures.median(s["cps"] for s in samples[kind]),
                         "failed": sum(s["failed"] + (calls - s["successful"] - s["failed"])
                                       for s in samples[kind]),
                         "samples": samples[kind]}
        row["ratio"] = round(figures.ratio(row["hardened"]["cps"], row["stock"]["cps"]), 3) \
            if row["stock"]["cps"] and row["hardened"]["cps"] else None
        out[version] = row
        step("calls: %s calls/s hardened, %s stock (ratio %s), failed %d/%d" % (
            row["hardened"]["cps"], row["stock"]["cps"], row["ratio"], row["hardened"]["failed"],
            row["stock"]["failed"]))
        # The stock PBX's part is over: it would only share the CPU with what follows.
        lab.remove([stock])
        stocks.pop(version)


def bench_load(sizes, results, pbxs, client):
    """Calls held up (hold.xml: they end only when the PBX hangs up) while the subscribers playbook
    adds a phone; at its end the calls still up are counted on both sides (Asterisk's channels and
    sipp's current calls), then the PBX hangs them all up and sipp must have completed every one."""
    out = results.setdefault("load", {})
    for version in sizes["versions"]:
        name, inventory = pbxs[version]
        target = "%s.%d" % (SUBNET, PLATFORMS[version]["ip"])
        pid = dexec(name, "systemctl show -p MainPID --value asterisk").stdout.strip()
        step("load: Asterisk %s: %d calls up, then the subscribers playbook adds 1003" % (version, sizes["load_calls"]))
        tag = sipp_run(client, target, sizes["load_calls"], sizes["load_calls"], rate=sizes["load_calls"],
                       port=5090, timeout=900, background=True, tag="load-%s" % version, scenario="hold.xml")
        up = 0
        for _unused in range(60):  # bounded: a minute for every call to be answered
            up = count_calls(name)
            if up >= sizes["load_calls"]:
                break
            time.sleep(1)
        subscribers = group_vars()["asterisk_sip_subscribers"] + [
            {"extension": "1003", "name": "New", "secret": "Bench-secret-Hn6v-Qc2j-Ut9e"}]
        run = playbook("subscribers", inventory, extra={"asterisk_sip_subscribers": subscribers})
        up_at_end = count_calls(name)
        time.sleep(2)  # sipp writes its statistics every second
        sipp_up = int(figures.sipp_stats(dexec(client, "cat /tmp/%s.csv 2>/dev/null; true" % tag).stdout)
                      .get("CurrentCall", 0) or 0)
        same_pid = dexec(name, "systemctl show -p MainPID --value asterisk").stdout.strip() == pid
        dexec(name, "asterisk -rx 'channel request hangup all'")
        result = sipp_result(client, tag, wait=120)
        dropped = sizes["load_calls"] - min(up_at_end, sipp_up)
        out[version] = {"calls": sizes["load_calls"], "up_before": up, "playbook_seconds": round(run["seconds"], 1),
                        "playbook_changed": run["recap"].get(name, {}).get("changed"), "up_at_end": up_at_end,
                        "sipp_up_at_end": sipp_up, "completed": result["successful"], "failed": result["failed"],
                        "dropped": dropped, "same_pid": same_pid}
        step("load: %d of %d calls still up when the playbook ended after %.0f s (sipp: %d); %d completed" % (
            up_at_end, sizes["load_calls"], run["seconds"], sipp_up, result["successful"]))
        if up < sizes["load_calls"]:
            raise RuntimeError("only %d of %d calls were up before the playbook" % (up, sizes["load_calls"]))


def count_calls(container):
    """Active calls on the PBX (`core show channels` counts them)."""
    out = dexec(container, "asterisk -rx 'core show channels count'", check=False).stdout
    for line in out.splitlines():
        if "active call" in line:
            return int(line.split()[0])
    return 0


def subscriber_set(count, seed=8):
    """count generated subscribers (2000...), each with its own random 24-character secret."""
    rng = random.Random(seed)
    alphabet = string.ascii_letters + string.digits
    subscribers = []
    for i in range(count):
        extension = str(2000 + i)
        secret = extension
        while extension in secret:  # the model refuses a secret holding the extension
            secret = "Bs-" + "".join(rng.choice(alphabet) for _unused in range(24))
        subscribers.append({"extension": extension, "name": "Bench %d" % i, "secret": secret})
    return subscribers


def bench_scale(sizes, results, pbxs):
    out = results.setdefault("scale", {})
    for version in sizes["versions"]:
        name, inventory = pbxs[version]
        runs = []
        for count in sizes["scale"]:
            subscribers = group_vars()["asterisk_sip_subscribers"] + subscriber_set(count)
            step("scale: Asterisk %s, subscribers playbook with %d generated subscribers" % (version, count))
            run = playbook("subscribers", inventory, extra={"asterisk_sip_subscribers": subscribers})
            endpoints = count_endpoints(name, PLATFORMS[version]["driver"])
            runs.append(dict(summary(run, name), subscribers=count, endpoints=endpoints))
            step("scale: %d subscribers applied in %.0f s, %d tasks, %d endpoints in Asterisk" % (
                count, run["seconds"], runs[-1]["tasks"], endpoints))
            if endpoints < count + 2:
                raise RuntimeError("Asterisk shows %d endpoints, %d expected" % (endpoints, count + 2))
        out[version] = {"runs": runs, "growth": figures.growth([(r["subscribers"], r["seconds"]) for r in runs])}


def count_endpoints(container, driver):
    """Endpoints (PJSIP) or peers (chan_sip) Asterisk runs, trunks included, read with the parsers
    the asterisk_sip role verifies with."""
    if driver == "pjsip":
        return len(sip_model.parse_pjsip_endpoints(dexec(container, "asterisk -rx 'pjsip show endpoints'").stdout))
    return len(sip_model.parse_sip_peers(dexec(container, "asterisk -rx 'sip show peers'").stdout))


def bench_fleet(lab, inv_dir, sizes, results):
    version = sizes["fleet_version"]
    runs, baseline = [], None
    largest = max(sizes["fleet"])
    for count in sizes["fleet"]:
        run = fleet_run(lab, inv_dir, version, count, collections=None, bare_price=count == largest)
        runs.append(run)
        step("fleet: %d host(s) in %.0f s" % (count, run["seconds"]))
    if sizes.get("baseline"):
        # The baseline's collection on as many fresh hosts as the largest fleet, right after it:
        # side by side on the same machine, in the same run.
        rev = sizes["baseline"]["rev"]
        step("fleet: site playbook of the baseline %s on %d host(s)" % (rev, largest))
        baseline = dict(fleet_run(lab, inv_dir, version, largest, collections=sizes["baseline"]["path"]), rev=rev)
        step("fleet: baseline %s, %d host(s) in %.0f s" % (rev, largest, baseline["seconds"]))
    base = runs[0]
    results["fleet"] = {"version": version, "runs": runs,
                        "ratio": round(figures.ratio(runs[-1]["seconds"], base["seconds"]), 2)
                        if base["hosts"] == 1 and len(runs) > 1 else None}
    if baseline:
        results["fleet"]["baseline"] = baseline


def fleet_run(lab, inv_dir, version, count, collections=None, bare_price=False):
    """The site playbook on `count` fresh PBX containers in one run: time, tasks, the machine's CPU
    and the part of it the containers used. bare_price: also count the module runs of one host
    (Docker's exec events) and measure what Ansible alone costs the controller for as many tasks
    and module runs that do nothing (debug and ping) on the same hosts."""
    names = [lab.pbx("%s-fleet%02d" % (PREFIX, i), version, "%s.%d" % (SUBNET, 150 + i), image="asterisk")
             for i in range(count)]
    lab.wait_systemd(names, timeout=60 + 5 * count)
    inventory = write_inventory(inv_dir, {n: version for n in names})
    step("fleet: site playbook on %d host(s) in one run (Asterisk %s)" % (count, version))
    events = ExecEvents(names[0]) if bare_price else None
    try:
        measured = measure(names, lambda: playbook("site", inventory, collections=collections))
    finally:
        module_runs = events.count() if events else None
    run = measured["run"]
    failed = [n for n in names if run["recap"].get(n, {}).get("failed", 1) or run["recap"].get(n, {}).get(
        "unreachable", 0)]
    out = {"hosts": count, "seconds": round(run["seconds"], 1),
           "tasks": figures.tasks_run(run["recap"].get(names[0], {})), "failed_hosts": len(failed),
           # The whole machine's CPU during the run (controller and every container): near
           # 100 % means the hosts waited for the CPU, not for each other.
           "cpu_seconds": measured["cpu_seconds"],
           "cpu_busy": round(measured["cpu_seconds"] / (run["seconds"] * os.cpu_count()), 2),
           # The part of it the PBX containers' own processes used (their cgroups).
           "pbx_cpu_seconds": measured["pbx_cpu_seconds"], "cpus": os.cpu_count()}
    if bare_price:
        out["module_runs"] = module_runs
        path = bare_playbook(inv_dir, out["tasks"], out["module_runs"])
        step("fleet: %d tasks per host doing nothing (%d of them running a module) on the same %d host(s)"
             % (out["tasks"], out["module_runs"], count))
        bare = measure(names, lambda: playbook(path, inventory))
        out["bare_controller_cpu_seconds"] = round(bare["cpu_seconds"] - (bare["pbx_cpu_seconds"] or 0.0), 1)
    lab.remove(names)
    return out


def measure(names, action):
    """action()'s result with the machine's busy CPU seconds during it and the part the containers
    `names` used (None when their cgroups cannot be read)."""
    busy_before = cpu_busy_seconds()
    pbx_before = sum(container_cpu_seconds(n) or 0.0 for n in names)
    result = action()
    busy = cpu_busy_seconds() - busy_before
    pbx_after = [container_cpu_seconds(n) for n in names]
    return {"run": result, "cpu_seconds": round(busy, 1),
            "pbx_cpu_seconds": round(sum(pbx_after) - pbx_before, 1) if None not in pbx_after else None}


class ExecEvents:
    """Counts the commands Ansible runs in a container while open: Docker's exec_start events (one
    per module run with pipelining, and the interpreter discovery), read live - `docker events
    --since` answers from the daemon's last 256 events only, fewer than a fleet run makes."""

    def __init__(self, container):
        self.proc = subprocess.Popen(["docker", "events", "--filter", "container=" + container, "--filter",
                                      "event=exec_start", "--format", "{{.Status}}"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        time.sleep(1)  # subscribed before the first command runs

    def count(self):
        time.sleep(1)  # the last event reaches the stream
        self.proc.terminate()
        out, _unused = self.proc.communicate(timeout=30)
        return len([line for line in out.splitlines() if line.strip()])


def bare_playbook(directory, tasks, module_runs):
    """A play of `tasks` tasks per host that do nothing, `module_runs` of them running a module on the
    host (ping) and the others on the controller only (debug): Ansible's own price for a play of
    that shape, whatever the tasks do."""
    module_runs = min(module_runs, tasks)
    lines = ["- name: As many tasks as the site playbook, doing nothing", "  hosts: pbx", "  gather_facts: false",
             "  tasks:"]
    lines += ["    - name: Run a module on the host\n      ansible.builtin.ping:"] * module_runs
    debug = "    - name: Stay on the controller\n      ansible.builtin.debug:\n        msg: x"
    lines += [debug] * (tasks - module_runs)
    path = os.path.join(directory, "bare-%d-%d.yml" % (tasks, module_runs))
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def container_cpu_seconds(name):
    """CPU seconds a container's processes have used since it started (its cgroup: v1 cpuacct or
    v2 cpu.stat), None when neither is readable."""
    cid = sh(["docker", "inspect", "-f", "{{.Id}}", name], check=False, timeout=30).stdout.strip()
    for path in ("/sys/fs/cgroup/cpuacct/docker/%s/cpuacct.usage" % cid,
                 "/sys/fs/cgroup/system.slice/docker-%s.scope/cpu.stat" % cid,
                 "/sys/fs/cgroup/docker/%s/cpu.stat" % cid):
        try:
            with open(path, encoding="utf-8") as handle:
                seconds = figures.cgroup_cpu_seconds(handle.read())
        except OSError:
            continue
        if seconds is not None:
            return seconds
    return None


def cpu_busy_seconds():
    """Seconds of CPU the whole machine has spent busy since boot (all CPUs; /proc/stat)."""
    with open("/proc/stat", encoding="utf-8") as handle:
        fields = [int(x) for x in handle.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def machine(command):
    def first(cmd):
        try:
            return sh(cmd, check=False, timeout=30).stdout.strip().splitlines()[0]
        except (IndexError, OSError):
            return "?"
    cpu = "?"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next(line.split(":", 1)[1].strip() for line in handle if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    with open("/proc/meminfo", encoding="utf-8") as handle:
        mem_kib = int(handle.readline().split()[1])
    return {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "hostname": platform.node(), "cpu": cpu, "cpus": os.cpu_count(), "memory_gib": round(mem_kib / 2 ** 20),
            "kernel": platform.release(), "docker": first(["docker", "version", "--format", "{{.Server.Version}}"]),
            "ansible_core": first(["ansible", "--version"]).replace("ansible [core ", "").rstrip("]"),
            "commit": first(["git", "-C", REPO, "rev-parse", "--short", "HEAD"]), "command": command}


def check_smoke(results, only):
    """What a smoke run proves: every benchmark produced its figures, and the correctness figures
    (0 changed on re-run, 0 failed or dropped calls, every subscriber present) hold. Timing targets
    are not judged at smoke sizes."""
    problems = []
    if "site" in only and any(v["rerun"]["changed"] for v in results["site"].values()):
        problems.append("the site playbook's re-run changed something")
    if "lean" in only and any(v["hardened"]["modules"] >= v["stock"]["modules"] for v in results["lean"].values()):
        problems.append("the hardened PBX does not load fewer modules than stock")
    if "lean" in only and any(v["hardened"]["rss_kib"] >= v.get("full_documentation", {}).get("rss_kib", 0)
                              for v in results["lean"].values() if "full_documentation" in v):
        problems.append("the hardened PBX does not take less memory on its trimmed XML documentation")
    if "calls" in only and any(v["stock"]["failed"] or v["hardened"]["failed"] or not v["ratio"]
                               for v in results["calls"].values()):
        problems.append("calls failed or no call rate was measured")
    if "load" in only and any(v["dropped"] or v["completed"] != v["calls"] or not v["same_pid"]
                              for v in results["load"].values()):
        problems.append("calls dropped under load")
    if "fleet" in only and any(r["failed_hosts"] for r in results["fleet"]["runs"]):
        problems.append("fleet hosts failed")
    return problems


def merged(path, results, only):
    """The results of an earlier run (path) with this run's benchmarks (and versions) replacing its
    own; each benchmark keeps the machine line of the run that measured it (runs[])."""
    with open(path, encoding="utf-8") as handle:
        old = json.load(handle)
    runs = old.get("runs") or [{"command": old.get("command"), "machine": old.get("machine"),
                                "benchmarks": [b for b in BENCHMARKS if b in old]}]
    for name in only:
        if not results.get(name):
            continue
        if name == "fleet" or not isinstance(old.get(name), dict):
            old[name] = results[name]
        else:
            old[name].update(results[name])
    runs.append({"command": results["command"], "machine": results["machine"],
                 "benchmarks": [b for b in only if results.get(b)]})
    old["runs"] = runs
    old["command"] = "; ".join(r["command"] for r in runs)
    return old


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: every benchmark runs, no figure to quote")
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated subset of: %s" % ", ".join(
        BENCHMARKS))
    parser.add_argument("--versions", help="Asterisk versions (16,22); default: both, smoke: 22")
    parser.add_argument("--image", choices=("bare", "asterisk"), help="site's fresh host: bare Debian (default) or "
                        "the image with the Asterisk package unpacked (smoke)")
    parser.add_argument("--calls", type=int, help="calls per capacity run (default %d)" % FULL["calls"])
    parser.add_argument("--rounds", type=int, help="capacity runs per PBX (default %d)" % FULL["rounds"])
    parser.add_argument("--scale", help="subscriber counts (default %s)" % ",".join(map(str, FULL["scale"])))
    parser.add_argument("--fleet", help="fleet sizes (default %s)" % ",".join(map(str, FULL["fleet"])))
    parser.add_argument("--out", default=os.path.join(HERE, "results", "latest.json"), help="results file (JSON)")
    parser.add_argument("--update-docs", action="store_true", help="write the figures into docs/performance.md")
    parser.add_argument("--keep", action="store_true", help="keep the containers for a look afterwards")
    parser.add_argument("--baseline", metavar="REV", help="site: also re-run each PBX with the collection of this "
                        "git revision, alternately with this tree's (side by side in one run); fleet: also converge "
                        "the largest fleet with it, right after this tree's")
    parser.add_argument("--merge", action="store_true", help="keep the other benchmarks' results of --out (the "
                        "machine and commit of each run are kept with its figures)")
    args = parser.parse_args(argv)

    sizes = dict(SMOKE if args.smoke else FULL)
    if args.versions:
        sizes["versions"] = args.versions.split(",")
    for key in ("image", "calls", "rounds"):
        if getattr(args, key):
            sizes[key] = getattr(args, key)
    for key in ("scale", "fleet"):
        if getattr(args, key):
            sizes[key] = [int(x) for x in getattr(args, key).split(",")]
    only = [b.strip() for b in args.only.split(",") if b.strip()]
    unknown = set(only) - set(BENCHMARKS)
    if unknown:
        parser.error("unknown benchmark(s): %s (known: %s)" % (", ".join(sorted(unknown)), ", ".join(BENCHMARKS)))
    # lean, calls, load and scale measure the PBX the site benchmark converged.
    if set(only) & {"lean", "calls", "load", "scale"} and "site" not in only:
        only.insert(0, "site")

    command = "python benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    results = {"smoke": args.smoke, "sizes": sizes, "command": command.strip(), "machine": machine(command.strip())}
    started = time.monotonic()
    lab = Lab(keep=args.keep)
    pbxs, stocks = {}, {}
    failure = None
    try:
        with tempfile.TemporaryDirectory(prefix="vpbx-bench-") as inv_dir:
            if args.baseline:
                sizes["baseline"] = {"rev": args.baseline, "path": baseline_collection(args.baseline, inv_dir)}
            if "site" in only:
                bench_site(lab, inv_dir, sizes, results, pbxs)
            if "lean" in only:
                bench_lean(lab, sizes, results, pbxs, stocks)
            client = lab.client() if set(only) & {"calls", "load"} else None
            if "calls" in only:
                bench_calls(lab, sizes, results, pbxs, stocks, client)
            if "load" in only:
                bench_load(sizes, results, pbxs, client)
            if "scale" in only:
                bench_scale(sizes, results, pbxs)
            if "fleet" in only:
                # Alone on the machine: the other benchmarks' containers would share its CPU.
                lab.remove(list(lab.containers))
                bench_fleet(lab, inv_dir, sizes, results)
    except (RuntimeError, ValueError, OSError, subprocess.SubprocessError) as exc:
        # What was measured before the failure is kept (and written below); the run still fails.
        failure = "%s: %s" % (type(exc).__name__, exc)
        results["failed"] = failure[:4000]
    finally:
        lab.close()
    results["seconds"] = round(time.monotonic() - started)
    if failure and args.merge:
        # Never merge a failed run into the figures of good ones.
        args.out = os.path.splitext(args.out)[0] + ".failed.json"
    elif args.merge and os.path.exists(args.out):
        results = merged(args.out, results, only)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=1, sort_keys=True)
    section = figures.markdown(results)
    print(section)
    step("results in %s (%d s)" % (args.out, results["seconds"]))
    if failure:
        print("BENCHMARK FAILED (the figures above were measured before it): %s" % failure, file=sys.stderr)
        return 1
    if args.update_docs:
        path = os.path.join(REPO, "docs", "performance.md")
        with open(path, encoding="utf-8") as handle:
            document = handle.read()
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(figures.splice(document, section))
        step("figures written into %s, charts into %s" % (path, ", ".join(charts.write(results, REPO))))
    if args.smoke:
        problems = check_smoke(results, only)
        if problems:
            print("SMOKE FAILED: " + "; ".join(problems), file=sys.stderr)
            return 1
        step("smoke passed: every benchmark ran (%s)" % ", ".join(only))
    return 0


if __name__ == "__main__":
    sys.exit(main())
