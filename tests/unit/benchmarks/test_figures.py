# SPDX-License-Identifier: GPL-3.0-or-later
"""The benchmarks' arithmetic and parsing (benchmarks/figures.py) and the data run.py generates."""

from __future__ import annotations

import os
import sys

import pytest

BENCH = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "benchmarks"))
sys.path.insert(0, BENCH)
import figures  # noqa: E402
import run  # noqa: E402

from ansible_collections.vpbx.hardened.plugins.module_utils import sip_model  # noqa: E402

RECAP = """
TASK [vpbx.hardened.asterisk_fail2ban : Check fail2ban against the plan] *******
ok: [vpbx-bench-pbx22]

PLAY RECAP *********************************************************************
vpbx-bench-fleet00         : ok=167  changed=36   unreachable=0    failed=1    skipped=63   rescued=0    ignored=0
vpbx-bench-fleet01         : ok=175  changed=39   unreachable=0    failed=0    skipped=65   rescued=0    ignored=0


TASKS RECAP ********************************************************************
Friday 27 November 2026  10:38:28 +0000 (0:00:00.082)       0:01:10.758 *******
"""

# sipp 3.6.1 -trace_stat, trimmed to the columns read and a few around them (first row: start).
SIPP_STAT = (
    "StartTime;LastResetTime;CurrentTime;ElapsedTime(P);ElapsedTime(C);TargetRate;CallRate(P);CallRate(C);"
    "IncomingCall(P);IncomingCall(C);OutgoingCall(P);OutgoingCall(C);TotalCallCreated;CurrentCall;"
    "SuccessfulCall(P);SuccessfulCall(C);FailedCall(P);FailedCall(C);\n"
    "2026-11-27\t10:33:38.123;2026-11-27\t10:33:38.123;2026-11-27\t10:33:38.124;00:00:00;00:00:00;5000;0;0;"
    "0;0;0;0;0;0;0;0;0;0;\n"
    "2026-11-27\t10:33:38.123;2026-11-27\t10:33:38.700;2026-11-27\t10:33:38.701;00:00:00;00:00:00;5000;868.056;"
    "868.056;0;0;500;500;500;0;500;498;0;2;\n")


def test_recap_reads_every_host_of_the_last_recap():
    hosts = figures.recap(RECAP)
    assert hosts["vpbx-bench-fleet00"] == {"ok": 167, "changed": 36, "unreachable": 0, "failed": 1,
                                           "skipped": 63, "rescued": 0, "ignored": 0}
    assert hosts["vpbx-bench-fleet01"]["changed"] == 39
    assert figures.recap("no recap here") == {}


def test_tasks_run_does_not_count_changed_twice():
    # Ansible counts a changed task in ok too.
    assert figures.tasks_run({"ok": 175, "changed": 39, "skipped": 65, "failed": 0}) == 240
    assert figures.tasks_run({"ok": 10, "changed": 3, "failed": 1, "rescued": 1}) == 12


def test_sipp_counts_from_the_last_row():
    assert figures.sipp_counts(SIPP_STAT) == (498, 2)
    assert figures.sipp_counts(SIPP_STAT.splitlines()[0]) == (0, 0)
    assert figures.sipp_counts("") == (0, 0)


@pytest.mark.parametrize("text, count", [
    ("Module  Description  Use Count  Status  Support Level\napp_dial.so  Dialing  0  Running  core\n"
     "64 modules loaded\n", 64),
    ("1 module loaded\n", 1),
])
def test_modules_loaded(text, count):
    assert figures.modules_loaded(text) == count


def test_modules_loaded_refuses_other_output():
    with pytest.raises(ValueError):
        figures.modules_loaded("Unable to connect to remote asterisk")


def test_vm_rss():
    assert figures.vm_rss_kib("Name:\tasterisk\nVmPeak:\t  900 kB\nVmRSS:\t   56984 kB\n") == 56984
    with pytest.raises(ValueError):
        figures.vm_rss_kib("Name:\tasterisk\n")


def test_growth_exponent():
    linear = figures.growth([(10, 10.0), (1000, 1000.0)])
    assert linear["exponent"] == pytest.approx(1.0)
    flat = figures.growth([(1000, 40.0), (10, 35.0), (100, 36.0)])
    assert flat["size_ratio"] == 100 and flat["time_ratio"] == pytest.approx(40 / 35)
    assert flat["exponent"] < 0.1
    assert figures.growth([(10, 1.0)]) is None


@pytest.mark.parametrize("key, value, met", [
    ("lean.modules", 64, True), ("lean.modules", 71, False),
    ("lean.memory_ratio", 0.5, True), ("lean.memory_ratio", 0.63, False),
    ("site.rerun_seconds", 19.9, True), ("site.rerun_seconds", 40.0, False),
    ("site.rerun_changed", 0, True), ("site.rerun_changed", 1, False),
    ("calls.ratio", 0.95, True), ("calls.ratio", 0.9, False),
    ("load.dropped", 0, True), ("load.dropped", 2, False),
    ("fleet.ratio", 2.9, True), ("fleet.ratio", 3.5, False),
])
def test_verdicts(key, value, met):
    assert figures.verdict(key, value)[0] is met


def test_verdict_of_a_missing_figure_is_unknown():
    assert figures.verdict("calls.ratio", None)[0] is None


def _results():
    site = {"image": "bare", "converge": {"seconds": 200.0, "tasks": 240, "changed": 60},
            "rerun": {"seconds": 38.0, "tasks": 225, "changed": 0}}
    lean = {"stock": {"modules": 364, "rss_kib": 92000, "start_seconds": 0.9},
            "hardened": {"modules": 64, "loadable": 48, "rss_kib": 57000, "start_seconds": 0.5},
            "full_documentation": {"modules": 64, "loadable": 48, "rss_kib": 57000, "start_seconds": 0.5},
            "memory_ratio": 0.62, "start_ratio": 0.55, "full_documentation_ratio": 0.62}
    calls = {"driver": "pjsip", "calls": 5000, "concurrent": 20, "rounds": 3,
             "stock": {"cps": 900.0, "failed": 0}, "hardened": {"cps": 880.0, "failed": 0}, "ratio": 0.978}
    return {"smoke": False, "command": "python benchmarks/run.py", "machine": {"date": "2026-11-27", "cpus": 2},
            "site": {"22": site}, "lean": {"22": lean}, "calls": {"22": calls},
            "load": {"22": {"calls": 50, "playbook_seconds": 30.0, "up_at_end": 50, "completed": 50, "dropped": 0,
                            "same_pid": True}},
            "scale": {"22": {"runs": [{"subscribers": 10, "seconds": 30.0, "tasks": 170, "changed": 4},
                                      {"subscribers": 1000, "seconds": 45.0, "tasks": 170, "changed": 4}],
                             "growth": figures.growth([(10, 30.0), (1000, 45.0)])}},
            "fleet": {"version": "22", "ratio": 2.5, "runs": [
                {"hosts": 1, "seconds": 100.0, "tasks": 240, "failed_hosts": 0},
                {"hosts": 20, "seconds": 250.0, "tasks": 240, "failed_hosts": 0}]}}


def test_targets_judge_the_worst_figure():
    results = _results()
    verdicts = {key: met for key, met, _unused in figures.targets(results)}
    assert verdicts == {"lean.modules": True, "lean.memory_ratio": False, "site.rerun_seconds": False,
                        "site.rerun_changed": True, "fleet.ratio": True, "calls.ratio": True,
                        "calls.failed": True, "load.dropped": True}
    # A second version with a worse ratio decides.
    results["calls"]["16"] = dict(results["calls"]["22"], ratio=0.8)
    assert dict((k, m) for k, m, _unused in figures.targets(results))["calls.ratio"] is False


def test_markdown_shows_every_benchmark_and_the_misses():
    text = figures.markdown(_results())
    for title in ("1. Pruned vs stock", "2. Site playbook", "3. Subscribers playbook", "4. Fleet",
                  "5. Call capacity", "6. Change under load"):
        assert title in text
    assert "**missed:** resident memory, hardened / stock: 0.62 (target <= 0.50)" in text
    assert "met: calls per second, hardened / stock: 0.98 (target >= 0.95)" in text
    assert "100× the subscribers took 1.50× the time" in text
    assert "| 38.0 | 38.0 | 225 | 0 | 0.19 | - | - |" in text  # no module-run baseline measured


def test_site_rerun_is_also_given_in_module_runs():
    results = _results()
    results["site"]["22"]["module_run_seconds"] = 0.5
    assert "| 38.0 | 38.0 | 225 | 0 | 0.19 | 0.50 | 76 |" in figures.markdown(results)


def test_site_rerun_is_the_median_of_the_reruns_listed():
    results = _results()
    results["site"]["22"]["rerun"] = figures.median_run([
        {"seconds": 31.0, "tasks": 159, "changed": 0}, {"seconds": 24.5, "tasks": 158, "changed": 0},
        {"seconds": 26.0, "tasks": 157, "changed": 1}])
    assert results["site"]["22"]["rerun"] == {"seconds": 26.0, "tasks": 157, "changed": 1, "runs": [31.0, 24.5, 26.0]}
    assert "| 26.0 | 31.0 / 24.5 / 26.0 | 157 | 1 |" in figures.markdown(results)


@pytest.mark.parametrize("seconds, median", [([5.0], 5.0), ([3.0, 1.0], 1.0), ([9.0, 1.0, 5.0, 7.0], 5.0)])
def test_median_run_takes_the_lower_middle(seconds, median):
    runs = [{"seconds": s, "tasks": 1, "changed": 0} for s in seconds]
    assert figures.median_run(runs)["seconds"] == median


def test_median_run_of_nothing_is_an_error():
    with pytest.raises(ValueError):
        figures.median_run([])


def test_splice_replaces_only_the_figures():
    doc = "# Performance\nintro\n%s\nold figures\n%s\n## How to rerun\n" % (figures.BEGIN, figures.END)
    out = figures.splice(doc, "new figures\n")
    assert out == "# Performance\nintro\n%s\nnew figures\n%s\n## How to rerun\n" % (figures.BEGIN, figures.END)
    with pytest.raises(ValueError):
        figures.splice("no markers", "x")


def test_generated_subscribers_pass_the_collections_own_validation():
    subscribers = run.subscriber_set(300)
    assert len({s["secret"] for s in subscribers}) == 300
    vars_ = run.group_vars(subscribers)
    model = sip_model.normalize(vars_["asterisk_sip_subscribers"], vars_["asterisk_sip_trunks"],
                                vars_["asterisk_sip_subscriber_defaults"], settings={"driver": "pjsip", "major": 22})
    assert len(model["subscribers"]) == 300


def test_the_default_feature_set_passes_validation_on_both_drivers():
    vars_ = run.group_vars()
    for driver, major in (("chan_sip", 16), ("pjsip", 22)):
        sip_model.normalize(vars_["asterisk_sip_subscribers"], vars_["asterisk_sip_trunks"],
                            vars_["asterisk_sip_subscriber_defaults"], settings={"driver": driver, "major": major})


def test_calls_go_only_to_the_benchmark_network():
    with pytest.raises(ValueError):
        run.sipp_run("client", "192.0.2.10", 1, 1)
    with pytest.raises(ValueError):
        run.sipp_run("client", run.SUBNET + ".1", 1, 1)


def test_merged_results_keep_each_runs_machine(tmp_path):
    import json
    path = tmp_path / "latest.json"
    first = _results()
    path.write_text(json.dumps(first))
    again = {"command": "python benchmarks/run.py --only calls --versions 16 --merge",
             "machine": {"date": "2026-11-28", "commit": "abc"},
             "site": {"16": first["site"]["22"]},
             "calls": {"16": dict(first["calls"]["22"], driver="chan_sip", ratio=1.01)}}
    out = run.merged(str(path), again, ["site", "calls"])
    assert set(out["calls"]) == {"16", "22"} and out["calls"]["16"]["ratio"] == 1.01
    assert set(out["lean"]) == {"22"}
    assert [r["benchmarks"] for r in out["runs"]] == [["site", "lean", "calls", "load", "scale", "fleet"],
                                                      ["site", "calls"]]
    text = figures.markdown(out)
    assert "Measured 2026-11-27" in text and "Measured 2026-11-28" in text and "benchmarks: site, calls" in text


@pytest.mark.parametrize("text, seconds", [
    ("22575971648\n", 22.575971648),
    ("usage_usec 3500000\nuser_usec 2000000\nsystem_usec 1500000\n", 3.5),
    ("", None), ("user_usec 5\n", None), ("max\n", None),
])
def test_cgroup_cpu_seconds(text, seconds):
    assert figures.cgroup_cpu_seconds(text) == seconds


@pytest.mark.parametrize("hosts, pbx_cpu, cpus, one_host, floor", [
    # 20 containers using 60 CPU-s each on 2 CPUs take at least 600 s: 7.5x a 80 s host.
    (20, 1200.0, 2, 80.0, 7.5),
    # One host never has a floor under 1.
    (1, 30.0, 2, 80.0, 1.0),
    (20, None, 2, 80.0, None), (20, 100.0, 0, 80.0, None),
])
def test_fleet_floor(hosts, pbx_cpu, cpus, one_host, floor):
    assert figures.fleet_floor(hosts, pbx_cpu, cpus, one_host) == floor


def test_fleet_table_splits_the_cpu_between_the_containers_and_the_controller():
    results = _results()
    results["fleet"]["runs"] = [
        {"hosts": 1, "seconds": 80.0, "tasks": 240, "failed_hosts": 0, "cpu_seconds": 84.0, "cpu_busy": 0.52,
         "pbx_cpu_seconds": 40.0, "cpus": 2},
        {"hosts": 20, "seconds": 900.0, "tasks": 240, "failed_hosts": 0, "cpu_seconds": 1780.0, "cpu_busy": 0.99,
         "pbx_cpu_seconds": 1200.0, "cpus": 2}]
    text = figures.markdown(results)
    section = text[text.index("### 4. Fleet"):]
    rows = [line for line in section.splitlines() if line.startswith("| 1 |") or line.startswith("| 20 |")]
    # hosts, seconds, ratio, tasks, failed, busy, CPU per host, in the container, on the controller,
    # floor, ratio / floor, module runs, the controller's price of as many empty tasks
    assert rows[0] == "| 1 | 80.0 | 1.00 | 240 | 0 | 52 % | 84.0 | 40.0 | 44.0 | 1.00 | 1.00 | n/a | n/a |"
    assert rows[1] == "| 20 | 900 | 11.2 | 240 | 0 | 99 % | 89.0 | 60.0 | 29.0 | 7.50 | 1.50 | n/a | n/a |"
    assert dict((k, m) for k, m, _unused in figures.targets(results))["fleet.ratio_to_floor"] is False
    # 20 hosts' controller share down to 12 CPU-s each: 1440 CPU-s on 2 CPUs, 9.0 / 7.5 = 1.2.
    results["fleet"]["runs"][1].update(seconds=720.0, cpu_seconds=1440.0, module_runs=12,
                                       bare_controller_cpu_seconds=200.0)
    assert dict((k, m) for k, m, _unused in figures.targets(results))["fleet.ratio_to_floor"] is True
    text = figures.markdown(results)
    assert "| 20 | 720 | 9.00 | 240 | 0 | 99 % | 72.0 | 60.0 | 12.0 | 7.50 | 1.20 | 12 | 10.0 |" in text
    assert "The baseline" not in text
    results["fleet"]["baseline"] = dict(results["fleet"]["runs"][1], rev="365f146", seconds=800.0,
                                        cpu_seconds=1600.0)
    assert ("The baseline 365f146 on 20 fresh hosts right after: 800 s, 240 tasks per host, CPU seconds per host "
            "80.0 (60.0 in the PBX container, 20.0 on the controller).") in figures.markdown(results)


def test_site_rerun_side_by_side_with_a_baseline():
    results = _results()
    assert "baseline re-run" not in figures.markdown(results)  # only when --baseline measured one
    results["site"]["22"]["rerun"]["cpu_seconds"] = 4.0
    results["site"]["22"]["baseline"] = {"rev": "5630cd0", "seconds": 16.0, "tasks": 139, "changed": 0,
                                         "cpu_seconds": 10.0, "runs": [16.0]}
    text = figures.markdown(results)
    assert "| 22 | 5630cd0 | 38.0 | 16.0 | 2.38 | 225 | 139 | 4.00 | 10.0 | 0.40 |" in text, [
        line for line in text.splitlines() if "5630cd0" in line]


def test_the_baseline_converges_a_pbx_of_its_own_and_both_converges_are_compared():
    results = _results()
    results["site"]["22"]["baseline"] = {"rev": "317983c", "seconds": 16.0, "tasks": 139, "changed": 0,
                                         "cpu_seconds": 10.0, "runs": [16.0],
                                         "converge": {"seconds": 100.0, "tasks": 230, "changed": 40}}
    row = [line for line in figures.markdown(results).splitlines() if "| 317983c |" in line][0]
    converge = results["site"]["22"]["converge"]["seconds"]
    assert row.endswith("| 0 (0) | %s | 100 | %.2f |" % (figures.fmt(converge), converge / 100.0)), row
