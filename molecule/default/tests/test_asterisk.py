# SPDX-License-Identifier: GPL-3.0-or-later
"""Behaviour of a freshly converged vpbx.hardened.asterisk host (Asterisk 16 and 22).

Each test asserts on what the running system does (process, CLI, sockets, systemd), not on
the files the role rendered."""

from __future__ import annotations

import os
import re
import subprocess
import time

import pytest

EXPECTED_MAJOR = {"pbx16": 16, "pbx22": 22}


def cli(host, command):
    result = host.run("asterisk -rx %s", command)
    assert result.rc == 0, result.stderr
    return result.stdout


def asterisk_pid(host):
    return host.check_output("systemctl show -p MainPID --value asterisk").strip()


def test_installed_major_version(host):
    out = host.check_output("asterisk -V")
    major = int(re.match(r"Asterisk (\d+)\.", out).group(1))
    assert major == EXPECTED_MAJOR[host.check_output("hostname").strip()]


def test_version_pin_and_hold(host):
    hostname = host.check_output("hostname").strip()
    selection = host.check_output("dpkg --get-selections asterisk asterisk-modules asterisk-config")
    expected = "hold" if hostname == "pbx16" else "install"  # pinned and held in molecule.yml
    assert [line.split()[1] for line in selection.splitlines()] == [expected] * 3
    if hostname == "pbx16":
        assert host.package("asterisk").version.startswith("1:16.28.")


def test_service_active_and_enabled(host):
    service = host.service("asterisk")
    assert service.is_running
    assert service.is_enabled


def test_process_runs_as_asterisk_without_privileges(host):
    pid = asterisk_pid(host)
    assert pid != "0"
    assert host.check_output("ps -o user= -p %s", pid).strip() == "asterisk"
    status = host.file("/proc/%s/status" % pid).content_string
    assert re.search(r"^NoNewPrivs:\s+1$", status, re.M)
    assert re.search(r"^CapEff:\s+0+$", status, re.M)
    assert re.search(r"^CapBnd:\s+0+$", status, re.M)


def test_demo_dialplan_gone(host):
    out = cli(host, "dialplan show demo")
    assert "Context 'demo'" not in out
    assert "pbx_lua" not in cli(host, "module show like pbx_")
    assert "pbx_ael" not in cli(host, "module show like pbx_")


def test_no_package_sample_left(host):
    # Every conffile the asterisk packages ship under /etc/asterisk is either gone (moved to the
    # dated backup) or has been replaced by the collection's own rendering.
    conffiles = host.check_output(r"dpkg-query -W -f='${Conffiles}\n' 'asterisk*'")
    samples = [line.split() for line in conffiles.splitlines() if line.strip().startswith("/etc/asterisk/")]
    assert len(samples) > 90
    for path, md5 in (entry[:2] for entry in samples):
        f = host.file(path)
        if not f.exists:
            continue
        assert f.md5sum != md5, "%s is still the package sample" % path
        assert "vpbx.hardened" in f.content_string, "%s is not rendered by the collection" % path
    remaining = host.check_output("ls -A /etc/asterisk").split()
    # The site playbook's own files: the core, modules.conf, the dialplan stub, the (empty)
    # PJSIP configuration of the sip role and the call records' cdr.conf (CSV only).
    assert sorted(remaining) == sorted(
        ["ari.conf", "asterisk.conf", "cdr.conf", "extensions.conf", "http.conf", "logger.conf", "manager.conf",
         "manager.d", "modules.conf", "rtp.conf", "pjsip.conf", "pjsip_secrets.conf", "pjsip_transports.conf"])
    backups = host.check_output("ls /var/backups/vpbx-asterisk").split()
    assert len(backups) == 1 and backups[0].startswith("etc-asterisk-")
    assert host.file("/var/backups/vpbx-asterisk/%s/extensions.conf" % backups[0]).exists
    assert host.file("/var/backups/vpbx-asterisk").mode == 0o700


def test_nothing_world_readable(host):
    assert host.check_output("find /etc/asterisk -perm /o=rwx") == ""
    confdir = host.file("/etc/asterisk")
    assert (confdir.user, confdir.group, confdir.mode) == ("root", "asterisk", 0o750)
    for name in host.check_output("find /etc/asterisk -type f").split():
        f = host.file(name)
        assert f.group == "asterisk"


def test_security_log_channel_active(host):
    out = cli(host, "logger show channels")
    line = next(line for line in out.splitlines() if "/security.log" in line)
    assert "Enabled" in line and "SECURITY" in line.upper()
    assert "security" in cli(host, "module show like res_security_log").lower()
    assert "Running" in cli(host, "module show like res_security_log")


def test_rtp_settings_effective(host):
    out = cli(host, "rtp show settings")
    assert re.search(r"Port start:\s+10000", out)
    assert re.search(r"Port end:\s+20000", out)
    assert re.search(r"Strict RTP:\s+Yes", out)


@pytest.mark.parametrize("port", [5038, 5039, 8088, 8089])
def test_management_ports_closed(host, port):
    listening = host.check_output("ss -Hltn")
    assert not re.search(r":%d\s" % port, listening), listening


def test_management_interfaces_off(host):
    assert re.search(r"Manager \(AMI\):\s+No", cli(host, "manager show settings"))
    assert "Server Disabled" in cli(host, "http show status")


def test_remote_console_shell_disabled_where_supported(host):
    settings = cli(host, "core show settings")
    match = re.search(r"Shell on remote consoles:\s+(\S+)", settings)
    major = int(re.match(r"Asterisk (\d+)\.", host.check_output("asterisk -V")).group(1))
    if major >= 22:
        assert match and match.group(1) == "Disabled", settings
    else:
        assert match is None  # Asterisk 16 has no such option


def test_systemd_sandbox_in_effect(host):
    props = dict(
        line.split("=", 1)
        for line in host.check_output(
            "systemctl show asterisk -p User -p NoNewPrivileges -p ProtectSystem -p ProtectHome "
            "-p PrivateTmp -p PrivateDevices -p Restart -p CapabilityBoundingSet").splitlines())
    assert props["User"] == "asterisk"
    assert props["NoNewPrivileges"] == "yes"
    assert props["ProtectSystem"] == "strict"
    assert props["ProtectHome"] == "yes"
    assert props["PrivateTmp"] == "yes"
    assert props["PrivateDevices"] == "yes"
    assert props["Restart"] == "on-failure"
    assert props["CapabilityBoundingSet"] == ""
    # The whole sandbox, as systemd rates it: 3.3 with what came before ProtectClock, the system
    # call filter and the rest (docs/asterisk.md); 2.0 at most.
    report = host.check_output("systemd-analyze security asterisk.service 2>&1")
    exposure = float(re.search(r"Overall exposure level for asterisk\.service: ([0-9.]+)", report).group(1))
    print("VPBX-FIGURE systemd-analyze security asterisk.service: %.1f" % exposure)
    assert exposure <= 2.0, report
    sandbox = dict(line.split("=", 1) for line in host.check_output(
        "systemctl show asterisk -p ProtectClock -p ProtectKernelLogs -p ProtectHostname -p MemoryDenyWriteExecute "
        "-p RemoveIPC -p SystemCallErrorNumber").splitlines())
    assert all(sandbox[key] == "yes" for key in ("ProtectClock", "ProtectKernelLogs", "ProtectHostname",
                                                 "MemoryDenyWriteExecute", "RemoveIPC")), sandbox
    assert sandbox["SystemCallErrorNumber"] in ("1", "EPERM"), sandbox
    status = host.check_output("grep -E '^Seccomp:' /proc/%s/status" % asterisk_pid(host))
    assert status.split()[-1] == "2", status  # a seccomp filter is in force
    # ProtectSystem=strict really applies to the running process: in its mount namespace the
    # root file system is read-only and only the state directories are writable.
    pid = asterisk_pid(host)
    mounts = {}
    for line in host.file("/proc/%s/mountinfo" % pid).content_string.splitlines():
        fields = line.split()
        mounts[fields[4]] = fields[5].split(",")
    assert "ro" in mounts["/"], mounts["/"]
    for path in ("/var/lib/asterisk", "/var/log/asterisk", "/var/spool/asterisk"):
        assert "rw" in mounts[path], (path, mounts.get(path))


def test_restarted_after_kill_9(host):
    before = asterisk_pid(host)
    host.run("kill -9 %s", before)
    deadline = time.monotonic() + 10
    after, state, uptime = before, "", ""
    while time.monotonic() < deadline:
        after = asterisk_pid(host)
        state = host.check_output("systemctl show -p ActiveState --value asterisk").strip()
        uptime = host.run("asterisk -rx 'core show uptime'").stdout
        if after not in ("0", before) and state == "active" and "System uptime" in uptime:
            break
        time.sleep(0.5)
    assert after not in ("0", before), "asterisk was not restarted within 10 s"
    assert state == "active" and "System uptime" in uptime, (state, uptime)


def converge_tags(host, tags, *extra):
    """The scenario's converge playbook on this host only, limited to some tags; its output."""
    cmd = ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], "--limit", host.backend.host,
           "--tags", tags, *extra, os.path.join(os.environ["MOLECULE_SCENARIO_DIRECTORY"], "converge.yml")]
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False, env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    return out


def task_status(out, task):
    """The status line (changed, ok, skipping, included) Ansible printed for a task."""
    match = re.search(r"TASK \[%s\][^\n]*\n(?:[^\n]*\n)?(\w+):" % re.escape(task), out)
    assert match, "task %r not in the output:\n%s" % (task, out[-4000:])
    return match.group(1)


def wait_fully_booted(host, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and "System uptime" not in host.run("asterisk -rx 'core show uptime'").stdout:
        time.sleep(0.5)
    assert "System uptime" in host.run("asterisk -rx 'core show uptime'").stdout


CORE = ("vpbx.hardened.asterisk : Apply the core configuration - write, start or reload (restart only where Asterisk "
        "must), verify, roll back")
# The module set (modules.conf, the documentation's drop-in) is applied in the core's run.
MODULE_SET = CORE


def runs_exactly_the_load_list(host):
    wanted = set(re.findall(r"^load => (\S+)", host.file("/etc/asterisk/modules.conf").content_string, re.M))
    running = set(re.findall(r"^(\S+\.so)\s.*\sRunning\s", cli(host, "module show"), re.M))
    return wanted == running, wanted ^ running


def test_a_stopped_and_disabled_asterisk_is_enabled_and_started_again(host):
    """An operator's `systemctl disable --now` is undone by the next run: the core's apply run asks
    systemd, enables and starts Asterisk. The module set, applied in the same run before the start,
    is what it starts with: exactly the load list runs."""
    host.run("systemctl disable --now asterisk")
    assert host.run("systemctl is-active asterisk").stdout.strip() != "active"
    out = converge_tags(host, "asterisk_config,asterisk_service")
    assert task_status(out, CORE) == "changed"
    assert host.check_output("systemctl is-enabled asterisk").strip() == "enabled"
    wait_fully_booted(host)
    assert host.check_output("systemctl is-active asterisk").strip() == "active"
    assert runs_exactly_the_load_list(host)[0], runs_exactly_the_load_list(host)[1]


def test_a_restart_in_the_play_leaves_exactly_the_module_set_running(host):
    """An asterisk.conf change restarts Asterisk (its one setting read only at start); the module
    set's run before it wrote modules.conf, so the restarted Asterisk runs exactly the set and a
    re-run changes nothing. (The mechanism is the same on both versions: proven on one.)"""
    if host.check_output("hostname").strip() != "pbx22":
        pytest.skip("proven on pbx22")
    before = host.check_output("systemctl show -p MainPID --value asterisk").strip()
    try:
        out = converge_tags(host, "asterisk_config,asterisk_service", "-v", "-e", "asterisk_maxcalls=4321")
        assert re.search(r'"changed_files": \["asterisk.conf"\].*"restarted": true', out), out[-4000:]
        wait_fully_booted(host)
        assert host.check_output("systemctl show -p MainPID --value asterisk").strip() != before
        assert re.search(r"Maximum calls:\s+4321", cli(host, "core show settings"))
        assert runs_exactly_the_load_list(host)[0], runs_exactly_the_load_list(host)[1]
    finally:
        converge_tags(host, "asterisk_config,asterisk_service")
    wait_fully_booted(host)
    assert re.search(r"Maximum calls:\s+Not set", cli(host, "core show settings"))
    assert runs_exactly_the_load_list(host)[0], runs_exactly_the_load_list(host)[1]


def test_a_file_left_out_of_a_re_run_is_still_put_back_when_it_drifts(host):
    """Each apply run compares its files with the host itself (content, owner, group, mode), so a
    re-run changes nothing, and any drift brings the file back: a line added by hand to
    logger.conf, the sandboxing drop-in, modules.conf and the documentation drop-in are all undone
    by the next run. (A mode changed by hand in /etc/asterisk is already put back by the directory
    lockdown that runs before.)"""
    if host.check_output("hostname").strip() != "pbx22":
        pytest.skip("proven on pbx22")
    renders = {
        "/etc/asterisk/logger.conf": CORE,
        "/etc/systemd/system/asterisk.service.d/vpbx-hardened.conf": CORE,
        "/etc/asterisk/modules.conf": MODULE_SET,
        "/etc/systemd/system/asterisk.service.d/vpbx-documentation.conf": MODULE_SET,
    }
    tags = "asterisk_config,asterisk_systemd,asterisk_service"
    # As converged: each run changes nothing.
    out = converge_tags(host, tags)
    assert {path: task_status(out, task) for path, task in renders.items()} == dict.fromkeys(renders, "ok")
    # Only roles outside the collection store requests: none here.
    assert not host.file("/etc/ansible/facts.d/vpbx_asterisk_modules.fact").exists
    host.check_output(" && ".join("echo '; drift' >> %s" % path for path in renders))
    out = converge_tags(host, tags)
    assert {path: task_status(out, task) for path, task in renders.items()} == dict.fromkeys(renders, "changed")
    for path in renders:
        content = host.file(path).content_string
        assert "; drift" not in content and not content.endswith("\n\n"), path
    wait_fully_booted(host)


def test_verify_judges_the_running_asterisk_not_the_files(host):
    """With nothing to change, the verify step still asks the running Asterisk, never an answer
    remembered from earlier in the play, nor the files: an RTP range loaded behind the files' back
    fails the run."""
    if host.check_output("hostname").strip() != "pbx22":
        pytest.skip("proven on pbx22")
    out = converge_tags(host, "asterisk_config,asterisk_verify")
    assert task_status(out, CORE) == "ok"
    # rtp.conf as rendered, the running Asterisk on another range.
    host.check_output("cp -p /etc/asterisk/rtp.conf /root/rtp.conf.keep && "
                      "sed -i 's/^rtpstart *=.*/rtpstart = 15000/' /etc/asterisk/rtp.conf && "
                      "asterisk -rx 'module reload res_rtp_asterisk.so' && "
                      "cp -p /root/rtp.conf.keep /etc/asterisk/rtp.conf")
    try:
        assert "15000" in host.check_output("asterisk -rx 'rtp show settings'")
        cmd = ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], "--limit", host.backend.host,
               "--tags", "asterisk_config,asterisk_verify",
               os.path.join(os.environ["MOLECULE_SCENARIO_DIRECTORY"], "converge.yml")]
        env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False, env=env)
        out = proc.stdout + proc.stderr
        assert proc.returncode != 0, out[-4000:]
        assert "The running Asterisk does not use the rendered configuration" in out, out[-4000:]
        assert "15000" in out, out[-4000:]
    finally:
        host.check_output("asterisk -rx 'module reload res_rtp_asterisk.so'")
    assert "15000" not in host.check_output("asterisk -rx 'rtp show settings'")
    # After a change too: the core render changed, and verify asks again.
    host.check_output("echo '; drift' >> /etc/asterisk/rtp.conf")
    out = converge_tags(host, "asterisk_config,asterisk_verify")
    assert task_status(out, CORE) == "changed"
