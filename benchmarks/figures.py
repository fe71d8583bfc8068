# SPDX-License-Identifier: GPL-3.0-or-later
"""The benchmarks' arithmetic and parsing: no Docker, no Ansible, unit-tested (tests/unit/benchmarks).

run.py measures; this module turns what it measured into figures, ratios against the baseline of
the same run, verdicts against the issue's targets, and the Markdown of docs/performance.md.
"""

from __future__ import annotations

import math
import re
import statistics

from ansible_collections.vpbx.hardened.plugins.module_utils.asterisk import parse_module_show

import charts

# The targets (issue 8). A ratio is figure / baseline of the same run.
TARGETS = {
    "lean.modules": ("<=", 70, "modules loaded by the hardened PBX (reference how-to's feature set)"),
    "lean.memory_ratio": ("<=", 0.5, "resident memory, hardened / stock"),
    "site.rerun_seconds": ("<=", 20, "idempotent re-run of the site playbook, seconds"),
    "site.rerun_changed": ("==", 0, "tasks changed by the re-run"),
    "fleet.ratio": ("<=", 3.0, "largest fleet's converge time / one host's"),
    # Issue 25: the collection's own cost, apart from what this machine's shared CPUs allow.
    "fleet.ratio_to_floor": ("<=", 1.2, "largest fleet's ratio / the lowest ratio this machine allows"),
    "calls.ratio": (">=", 0.95, "calls per second, hardened / stock"),
    "calls.failed": ("==", 0, "failed calls, both PBXs"),
    "load.dropped": ("==", 0, "calls dropped while the subscribers playbook ran"),
}

_RECAP = re.compile(r"^(\S+)\s+:\s+((?:\w+=\d+\s*)+)$", re.MULTILINE)


def recap(output):
    """The PLAY RECAP of ansible-playbook's output as {host: {"ok": n, "changed": n, ...}}.

    Only the last recap counts (one playbook run prints one)."""
    text = output.rsplit("PLAY RECAP", 1)[-1] if "PLAY RECAP" in output else ""
    hosts = {}
    for host, counters in _RECAP.findall(text):
        hosts[host] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counters)}
    return hosts


def tasks_run(counters):
    """Tasks a host ran, as the recap counts them (a loop counts once). Ansible counts a changed
    task in both "ok" and "changed", so "changed" is not added again."""
    return sum(counters.get(k, 0) for k in ("ok", "failed", "skipped", "unreachable", "rescued", "ignored"))


def median_run(summaries):
    """Several re-runs of one playbook ({"seconds", "tasks", "changed"} each) as one: the median
    run's seconds and tasks, the most any run changed, and every run's seconds in order ("runs")."""
    if not summaries:
        raise ValueError("no run to summarise")
    middle = sorted(summaries, key=lambda s: s["seconds"])[(len(summaries) - 1) // 2]
    return dict(middle, changed=max(s["changed"] for s in summaries), runs=[s["seconds"] for s in summaries])


def sipp_stats(csv_text):
    """The last row of sipp's -trace_stat file as {column: value} (columns end with (C) for the
    cumulated values); {} when sipp wrote no data row."""
    lines = [line for line in csv_text.strip().splitlines() if line.strip()]
    if len(lines) < 2:
        return {}
    return dict(zip(lines[0].rstrip(";").split(";"), lines[-1].rstrip(";").split(";")))


def sipp_counts(csv_text):
    """(successful, failed) calls from a sipp -trace_stat file; (0, 0) without data."""
    row = sipp_stats(csv_text)
    return int(row.get("SuccessfulCall(C)", 0) or 0), int(row.get("FailedCall(C)", 0) or 0)


def modules_loaded(module_show):
    """The count from `module show`'s last line ("46 modules loaded"), built-in core parts included
    (the collection's own parser; ParseError is a ValueError)."""
    return parse_module_show(module_show)["count"]


def loadable_modules(module_show):
    """How many of the modules `module show` lists are loadable ones (.so)."""
    return sum(1 for name in parse_module_show(module_show)["modules"] if name.endswith(".so"))


def vm_rss_kib(status):
    """VmRSS (KiB) from /proc/PID/status."""
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    if not match:
        raise ValueError("no VmRSS in /proc status: %r" % status[-200:])
    return int(match.group(1))


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def ratio(value, baseline):
    if value is None or not baseline:
        return None
    return value / baseline


def growth(points):
    """How time grows with size: [(size, seconds)] -> (size ratio, time ratio, exponent) between the
    smallest and the largest size. Exponent 1 is linear; far below 1 is what the issue asks."""
    points = sorted(p for p in points if p[1] is not None)
    if len(points) < 2 or points[0][1] <= 0:
        return None
    (n0, t0), (n1, t1) = points[0], points[-1]
    size_ratio, time_ratio = n1 / n0, t1 / t0
    exponent = math.log(time_ratio) / math.log(size_ratio) if size_ratio > 1 and time_ratio > 0 else None
    return {"size_ratio": size_ratio, "time_ratio": time_ratio, "exponent": exponent}


def verdict(key, value):
    """(met, text) for a target key; met is None when the figure is missing."""
    if key not in TARGETS:
        return None, ""
    op, target, what = TARGETS[key]
    if value is None:
        return None, "%s: not measured" % what
    met = {"<=": value <= target, ">=": value >= target, "==": value == target}[op]
    return met, "%s: %s (target %s %s)" % (what, fmt(value), op, fmt(target))


def fmt(value):
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if abs(value) >= 100:
            return "%.0f" % value
        if abs(value) >= 10:
            return "%.1f" % value
        return "%.2f" % value
    return str(value)


def targets(results):
    """Every target the results hold a figure for: [(key, met, text)]."""
    flat = {
        "lean.modules": max((v["hardened"]["modules"] for v in results.get("lean", {}).values()), default=None),
        "lean.memory_ratio": max((v["memory_ratio"] for v in results.get("lean", {}).values()), default=None),
        "site.rerun_seconds": max((v["rerun"]["seconds"] for v in results.get("site", {}).values()), default=None),
        "site.rerun_changed": max((v["rerun"]["changed"] for v in results.get("site", {}).values()), default=None),
        "fleet.ratio": results.get("fleet", {}).get("ratio"),
        "fleet.ratio_to_floor": fleet_ratio_to_floor(results.get("fleet")),
        "calls.ratio": min((v["ratio"] for v in results.get("calls", {}).values()
                            if v.get("ratio") is not None), default=None),
        "calls.failed": sum(v["stock"]["failed"] + v["hardened"]["failed"]
                            for v in results.get("calls", {}).values()) if results.get("calls") else None,
        "load.dropped": sum(v["dropped"] for v in results.get("load", {}).values()) if results.get("load") else None,
    }
    out = []
    for key in TARGETS:
        if flat[key] is None:
            continue
        met, text = verdict(key, flat[key])
        out.append((key, met, text))
    return out


def cgroup_cpu_seconds(text):
    """CPU seconds from a cgroup's accounting file: v2 `cpu.stat` (usage_usec) or v1
    `cpuacct.usage` (nanoseconds); None when the text is neither."""
    for line in text.splitlines():
        if line.startswith("usage_usec "):
            return int(line.split()[1]) / 1e6
    return int(text.strip()) / 1e9 if text.strip().isdigit() else None


def fleet_ratio_to_floor(fleet):
    """The largest fleet's measured ratio over the lowest this machine allows (None without both)."""
    if not fleet or len(fleet.get("runs") or []) < 2 or fleet["runs"][0]["hosts"] != 1:
        return None
    base, largest = fleet["runs"][0], fleet["runs"][-1]
    floor = fleet_floor(largest["hosts"], largest.get("pbx_cpu_seconds"), largest.get("cpus"), base["seconds"])
    measured = ratio(largest["seconds"], base["seconds"])
    return ratio(measured, floor) if measured and floor else None


def per_host(run, key):
    """A fleet run's figure `key` per host (None when the run has none)."""
    return run[key] / run["hosts"] if run.get(key) is not None else None


def fleet_controller(run):
    """The controller's CPU seconds per host of a fleet run: the machine's less the containers'."""
    if run.get("cpu_seconds") is None or run.get("pbx_cpu_seconds") is None:
        return None
    return max(0.0, run["cpu_seconds"] - run["pbx_cpu_seconds"]) / run["hosts"]


def fleet_row(run, base, cpus):
    """One row of the fleet table (`base`: the smallest fleet's run)."""
    floor = fleet_floor(run["hosts"], run.get("pbx_cpu_seconds"), run.get("cpus", cpus), base["seconds"])
    measured = ratio(run["seconds"], base["seconds"])
    return [run["hosts"], run["seconds"], measured, run["tasks"], run["failed_hosts"],
            "%d %%" % round(100 * run["cpu_busy"]) if run.get("cpu_busy") is not None else None,
            per_host(run, "cpu_seconds"), per_host(run, "pbx_cpu_seconds"), fleet_controller(run), floor,
            ratio(measured, floor) if measured and floor else None, run.get("module_runs"),
            per_host(run, "bare_controller_cpu_seconds")]


def fleet_floor(hosts, pbx_cpu_seconds, cpus, one_host_seconds):
    """The lowest fleet ratio this machine allows, even with a controller that costs nothing: the
    PBX containers' own CPU (every host's, on the machine's shared CPUs) divided by the CPUs, over
    one host's time. Above the target, the target cannot be met on this machine, whatever the
    collection does; on separate hosts that CPU runs in parallel for real."""
    if not (hosts and pbx_cpu_seconds is not None and cpus and one_host_seconds):
        return None
    return max(1.0, pbx_cpu_seconds / cpus / one_host_seconds)


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _unused in header) + "|"]
    lines += ["| " + " | ".join(fmt(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def markdown(results):
    """The figures section of docs/performance.md, from one run's results."""
    runs = results.get("runs") or [{"machine": results.get("machine", {}), "command": results.get("command"),
                                    "benchmarks": None}]
    out = []
    for run in runs:
        m = run.get("machine") or {}
        out += ["Measured %s on %s: %s, %s CPU(s), %s GiB RAM, kernel %s, Docker %s, ansible-core %s, commit %s%s%s."
                % (m.get("date", "?"), m.get("hostname", "?"), m.get("cpu", "?"), m.get("cpus", "?"),
                   m.get("memory_gib", "?"), m.get("kernel", "?"), m.get("docker", "?"), m.get("ansible_core", "?"),
                   m.get("commit", "?"), " (smoke sizes: not figures to quote)" if results.get("smoke") else "",
                   "; benchmarks: " + ", ".join(run["benchmarks"]) if run.get("benchmarks") else ""),
                "", "Command: `%s`" % (run.get("command") or "python benchmarks/run.py"), ""]
    verdicts = targets(results)
    if verdicts:
        out += ["### Targets", ""]
        out += ["- %s %s" % ({True: "met:", False: "**missed:**", None: "?"}[met], text) for _unused, met, text in verdicts]
        out.append("")
    lean = results.get("lean")
    if lean:
        out += ["### 1. Pruned vs stock Asterisk", "",
                _table(["Asterisk", "modules stock", "modules hardened (.so)", "RSS stock (MiB)",
                        "RSS hardened (MiB)", "memory ratio", "RSS hardened, full XML docs (MiB)",
                        "ratio with full docs", "start stock (s)", "start hardened (s)", "start ratio"],
                       [[v, d["stock"]["modules"], "%s (%s)" % (d["hardened"]["modules"], d["hardened"].get("loadable")),
                         d["stock"]["rss_kib"] / 1024, d["hardened"]["rss_kib"] / 1024, d["memory_ratio"],
                         d.get("full_documentation", {}).get("rss_kib", 0) / 1024 or "-",
                         d.get("full_documentation_ratio", "-"), d["stock"]["start_seconds"],
                         d["hardened"]["start_seconds"], d["start_ratio"]] for v, d in sorted(lean.items())]),
                "",
                "Modules: Asterisk's own count (`module show`), built-in core parts included; in brackets the "
                "loadable modules. Hardened: the site playbook's PBX, started on the XML documentation the "
                "asterisk_modules role trimmed to what it registers. Full XML docs: the same PBX started on "
                "the package's whole documentation (`asterisk_modules_trim_documentation: false`) - the "
                "difference is what trimming saves, the rest of the difference to stock is the module set.", ""]
    site = results.get("site")
    if site:
        out += ["### 2. Site playbook on one host", "",
                _table(["Asterisk", "image", "fresh converge (s)", "tasks", "changed", "re-run (s)", "re-runs (s)",
                        "re-run tasks", "re-run changed", "re-run / converge", "one module run (s)",
                        "re-run in module runs"],
                       [[v, d["image"], d["converge"]["seconds"], d["converge"]["tasks"], d["converge"]["changed"],
                         d["rerun"]["seconds"], " / ".join(str(s) for s in d["rerun"].get("runs", [d["rerun"]["seconds"]])),
                         d["rerun"]["tasks"], d["rerun"]["changed"],
                         ratio(d["rerun"]["seconds"], d["converge"]["seconds"]),
                         d.get("module_run_seconds", "-"),
                         round(d["rerun"]["seconds"] / d["module_run_seconds"])
                         if d.get("module_run_seconds") else "-"] for v, d in sorted(site.items())]),
                "",
                "Re-run (s): the median of the re-runs listed next to it (each a full run of the site playbook "
                "on the converged host; re-run changed counts the most any of them changed). "
                "One module run: what a task that runs a module on the host costs on this machine and connection "
                "(a play of 20 `ping` tasks minus a play of one, per task). The re-run divided by it is the re-run in module "
                "runs: how the re-run compares on a faster or slower machine.", ""]
        compared = [(v, d) for v, d in sorted(site.items()) if d.get("baseline")]
        if compared:
            out += [_table(["Asterisk", "baseline", "re-run (s)", "baseline re-run (s)", "ratio", "tasks",
                            "baseline tasks", "controller CPU (s)", "baseline controller CPU (s)", "CPU ratio",
                            "changed (baseline)", "fresh converge (s)", "baseline fresh converge (s)",
                            "converge ratio"],
                           [[v, d["baseline"]["rev"], d["rerun"]["seconds"], d["baseline"]["seconds"],
                             ratio(d["rerun"]["seconds"], d["baseline"]["seconds"]), d["rerun"]["tasks"],
                             d["baseline"]["tasks"], d["rerun"].get("cpu_seconds", "-"),
                             d["baseline"].get("cpu_seconds", "-"),
                             ratio(d["rerun"].get("cpu_seconds"), d["baseline"].get("cpu_seconds")),
                             "%s (%s)" % (d["rerun"].get("changed", "-"), d["baseline"].get("changed", "-")),
                             (d.get("converge") or {}).get("seconds", "-"),
                             (d["baseline"].get("converge") or {}).get("seconds", "-"),
                             ratio((d.get("converge") or {}).get("seconds"),
                                   (d["baseline"].get("converge") or {}).get("seconds"))]
                            for v, d in compared]),
                    "",
                    "With `--baseline REV`: the collection at REV converges a PBX of its own (same image, same "
                    "Asterisk), and each re-run of this tree is followed by one of REV on its PBX, so both medians "
                    "share the machine's load. Controller CPU: the user and system seconds of ansible-playbook and "
                    "its children on the controller (one host: per host).", ""]
    scale = results.get("scale")
    if scale:
        rows = []
        for v, d in sorted(scale.items()):
            base = d["runs"][0]
            for run in d["runs"]:
                rows.append([v, run["subscribers"], run["seconds"], ratio(run["seconds"], base["seconds"]),
                             run["subscribers"] / base["subscribers"], run["tasks"], run["changed"]])
        out += ["### 3. Subscribers playbook by data size", "",
                _table(["Asterisk", "subscribers", "seconds", "time ratio", "size ratio", "tasks", "changed"], rows), ""]
        for v, d in sorted(scale.items()):
            g = d.get("growth")
            if g:
                out.append("- Asterisk %s: %s× the subscribers took %s× the time (growth exponent %s; 1 = linear)."
                           % (v, fmt(g["size_ratio"]), fmt(g["time_ratio"]), fmt(g["exponent"])))
        out.append("")
    fleet = results.get("fleet")
    if fleet:
        base = fleet["runs"][0]
        cpus = (results.get("machine") or {}).get("cpus") or fleet.get("cpus")

        out += ["### 4. Fleet: PBX containers converged in one run", "",
                _table(["hosts", "seconds", "ratio to %d host(s)" % base["hosts"], "tasks per host", "failed hosts",
                        "machine CPU busy", "CPU seconds per host", "of which in the PBX container",
                        "of which on the controller", "lowest ratio this machine allows", "ratio / lowest",
                        "module runs per host", "controller CPU per host, as many tasks doing nothing"],
                       [fleet_row(r, base, cpus) for r in fleet["runs"]]),
                "",
                "Machine CPU busy: the share of all the machine's CPUs in use during the run (the controller and "
                "every PBX container run on the same CPUs); near 100 % the hosts wait for the CPU, not for each "
                "other. In the PBX container: the CPU the containers' own processes used (their cgroups: apt, "
                "Python for each task, Asterisk, UFW, fail2ban); on the controller: the rest (ansible-playbook "
                "and its workers, Docker). Lowest ratio this machine allows: the containers' CPU alone, spread "
                "over the machine's CPUs, over one host's time - what the ratio would be with a controller "
                "that costs nothing; on separate hosts each PBX has its own CPU. Module runs: the commands "
                "Ansible ran in one host's container (Docker's exec events: one per module run, and the "
                "interpreter discovery). As many tasks doing nothing: a play of the same number of tasks per "
                "host on the same hosts, that many of them `ping` (a module run) and the rest `debug` - "
                "Ansible's and Docker's own price for a play of that shape, whatever the tasks do.", ""]
        if fleet.get("baseline"):
            b = fleet["baseline"]
            out += ["The baseline %s on %d fresh hosts right after: %s s, %s tasks per host, CPU seconds per host "
                    "%s (%s in the PBX container, %s on the controller)." % (
                        b["rev"], b["hosts"], fmt(b["seconds"]), b["tasks"], fmt(per_host(b, "cpu_seconds")),
                        fmt(per_host(b, "pbx_cpu_seconds")), fmt(fleet_controller(b))), ""]
    calls = results.get("calls")
    if calls:
        out += ["### 5. Call capacity (sipp, authenticated INVITE to the echo test, answered, BYE)", "",
                _table(["Asterisk", "driver", "calls per run", "concurrent", "rounds", "stock calls/s",
                        "hardened calls/s", "ratio", "failed stock", "failed hardened"],
                       [[v, d["driver"], d["calls"], d["concurrent"], d["rounds"], d["stock"]["cps"],
                         d["hardened"]["cps"], d["ratio"], d["stock"]["failed"], d["hardened"]["failed"]]
                        for v, d in sorted(calls.items())]), ""]
    load = results.get("load")
    if load:
        out += ["### 6. Change under load", "",
                _table(["Asterisk", "calls up", "playbook (s)", "still up at its end (Asterisk / sipp)",
                        "completed", "dropped", "Asterisk PID unchanged"],
                       [[v, d["calls"], d["playbook_seconds"], "%s / %s" % (d["up_at_end"], d.get("sipp_up_at_end")),
                         d["completed"], d["dropped"], d["same_pid"]] for v, d in sorted(load.items())]),
                "",
                "The calls are held until the PBX hangs them up (benchmarks/sipp/hold.xml): counted on both "
                "sides when the playbook ends, then ended with `channel request hangup all`; completed = "
                "calls sipp saw answered and hung up by the PBX.", ""]
    out.append(charts.markdown(results))
    return "\n".join(out).rstrip() + "\n"


BEGIN = "<!-- BEGIN benchmark figures (python benchmarks/run.py --update-docs) -->"
END = "<!-- END benchmark figures -->"


def splice(document, section):
    """docs/performance.md with the text between the BEGIN and END markers replaced."""
    if BEGIN not in document or END not in document:
        raise ValueError("the document has no benchmark figure markers")
    head, rest = document.split(BEGIN, 1)
    _unused, tail = rest.split(END, 1)
    return head + BEGIN + "\n" + section.rstrip() + "\n" + END + tail
