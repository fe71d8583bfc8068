# SPDX-License-Identifier: GPL-3.0-or-later
"""Faults: a configuration Asterisk refuses is rolled back, a phone is added while 25 calls are up
on each PBX (none dropped), and a killed Asterisk comes back by itself. Runs last (test_z_*)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import testinfra

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tests", "molecule"))
import peers  # noqa: E402

NETWORK = "172.30.81."
PBX = {"vpbx-attack16": NETWORK + "16", "vpbx-attack22": NETWORK + "22"}
OFFICE = peers.Peer("vpbx-office", NETWORK + "50", NETWORK)
SECRETS = {"1001": "Tq8-office-Vw3x-secret-Ka2", "1002": "Hm5-target-Zr9q-secret-Pd4",
           "1003": "Fw2-newphone-Qs8t-secret-Lm6"}
SUBSCRIBERS = [{"extension": "1001", "name": "Office", "secret": SECRETS["1001"], "max_calls": 30},
               {"extension": "1002", "name": "Cracked", "secret": SECRETS["1002"]}]
CALLS = 25


def figure(name, value):
    print("VPBX-FIGURE %s = %s" % (name, value))


def host(name):
    return testinfra.get_host("docker://" + name)


def playbook(name, limit, extra):
    cmd = ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], "vpbx.hardened." + name,
           "--limit", limit, "-e", json.dumps(extra)]
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False, env=env)
    return proc.returncode, proc.stdout + proc.stderr, time.monotonic() - start


def pid(h):
    return h.check_output("systemctl show -p MainPID --value asterisk")


def office_registers_and_calls(ip, extension="1001", port=5071):
    reg = OFFICE.sipp(ip, "register_auth_ok.xml", extension, extension, SECRETS[extension], port=port)
    assert reg.rc == 0 and reg.final == 200, reg
    call = OFFICE.sipp(ip, "invite.xml", "*43", "1001", SECRETS["1001"], caller="1001", port=port + 1)
    assert call.final == 200 and call.outcome == "answered", call


def test_a_refused_option_is_rolled_back_and_phones_keep_working():
    """PJSIP drops an endpoint whose section holds an option it does not know: the role must bring
    the previous files back, reload, and fail with Asterisk's words."""
    name, ip = "vpbx-attack22", PBX["vpbx-attack22"]
    h = host(name)
    office_registers_and_calls(ip)
    files = "cd /etc/asterisk && sha256sum pjsip.conf pjsip_transports.conf pjsip_secrets.conf"
    before = (h.check_output(files), pid(h))
    broken = [dict(SUBSCRIBERS[0]), dict(SUBSCRIBERS[1], options={"no_such_option": "yes"})]
    rc, out, _unused = playbook("subscribers", name, {"asterisk_sip_subscribers": broken})
    assert rc != 0, out[-4000:]
    assert re.search(r"Asterisk refused the new pjsip configuration: ERROR\S* config_options\.c: Could not find "
                     r"option suitable for category '1002' named 'no_such_option'", out), out[-6000:]
    assert "The previous files were restored" in out, out[-6000:]
    assert (h.check_output(files), pid(h)) == before
    endpoints = h.check_output("asterisk -rx 'pjsip show endpoints'")
    assert re.search(r"Endpoint:\s+1002\b", endpoints) and re.search(r"Endpoint:\s+1001\b", endpoints), endpoints
    # The phone registered before the failed run is still registered and calls.
    assert re.search(r"Contact:\s+1001/sip:1001@%s" % re.escape(OFFICE.ip),
                     h.check_output("asterisk -rx 'pjsip show contacts'"))
    call = OFFICE.sipp(ip, "invite.xml", "*43", "1001", SECRETS["1001"], caller="1001", port=5072)
    assert call.final == 200 and call.outcome == "answered", call
    # The previous version is kept outside /etc/asterisk (where the asterisk role would take it for
    # a stray sample), root only.
    assert h.run("ls /etc/asterisk | grep -q '~$'").rc != 0
    assert h.run("ls /var/backups/vpbx-asterisk/asterisk_sip | grep -q '^pjsip.conf\\..*~$'").rc == 0
    backups = h.file("/var/backups/vpbx-asterisk/asterisk_sip")
    assert (backups.user, backups.mode) == ("root", 0o700)


def up_calls(name):
    return len(re.findall(r"\bUp\b", host(name).run("asterisk -rx 'core show channels concise'").stdout))


def test_adding_a_phone_drops_no_call():
    # hold.xml (the change-under-load benchmark's scenario): a call stays up until the PBX hangs it
    # up, so the calls last exactly as long as the playbook, however long that takes here.
    tags = {name: OFFICE.start_sipp(ip, "hold.xml", "*43", "1001", SECRETS["1001"], "1001", 5090 + i,
                                    CALLS, 0, 600, stat_every=1)
            for i, (name, ip) in enumerate(sorted(PBX.items()))}
    # All calls up before the playbook starts.
    deadline = time.monotonic() + 30
    up = {}
    while time.monotonic() < deadline:
        up = {name: up_calls(name) for name in PBX}
        if all(count >= CALLS for count in up.values()):
            break
        time.sleep(1)
    assert all(count >= CALLS for count in up.values()), up
    new = {"extension": "1003", "name": "New", "secret": SECRETS["1003"]}
    rc, out, seconds = playbook("subscribers", ",".join(sorted(PBX)),
                                {"asterisk_sip_subscribers": SUBSCRIBERS + [new]})
    figure("subscribers playbook with %d calls up on each PBX (s)" % CALLS, round(seconds, 1))
    assert rc == 0, out[-6000:]
    # The calls were still up when the playbook ended, on both sides: Asterisk's channels and
    # sipp's current calls (its statistics, written every second), none failed so far.
    still = {name: up_calls(name) for name in PBX}
    assert all(count >= CALLS for count in still.values()), (still, seconds)
    time.sleep(2)
    for name, tag in tags.items():
        stats = OFFICE.stats(tag)
        assert int(stats.get("CurrentCall", 0)) == CALLS and int(stats.get("FailedCall(C)", 1)) == 0, (name, stats)
    for i, (name, ip) in enumerate(sorted(PBX.items())):
        reg = OFFICE.sipp(ip, "register_auth_ok.xml", "1003", "1003", SECRETS["1003"], port=5080 + i)
        assert reg.rc == 0 and reg.final == 200, (name, reg)
        # The secrets file changed: its previous version was dropped once the new one was verified.
        assert "secrets" not in host(name).run("ls /var/backups/vpbx-asterisk/asterisk_sip").stdout
    # The PBX ends the calls: each dialog survived the reload, so every BYE is answered and sipp
    # counts every call as completed.
    for name in PBX:
        host(name).run("asterisk -rx 'channel request hangup all'")
    for name, tag in tags.items():
        rc, stats = OFFICE.collect(tag, wait=120)
        figure("%s calls completed / failed" % name,
               "%s / %s" % (stats.get("SuccessfulCall(C)"), stats.get("FailedCall(C)")))
        assert rc == 0, (name, stats)
        assert int(stats["SuccessfulCall(C)"]) == CALLS and int(stats["FailedCall(C)"]) == 0, (name, stats)


def test_killed_asterisk_comes_back_and_phones_register():
    for name, ip in sorted(PBX.items()):
        h = host(name)
        old = pid(h)
        restarts = int(h.check_output("systemctl show -p NRestarts --value asterisk") or 0)
        h.check_output("kill -9 %s" % old)
        start = time.monotonic()
        deadline = start + 60
        while time.monotonic() < deadline:
            if pid(h) not in ("0", old) and h.run("asterisk -rx 'core show version'").rc == 0:
                break
            time.sleep(1)
        figure("%s back after kill -9 (s)" % name, round(time.monotonic() - start, 1))
        assert pid(h) not in ("0", old)
        assert int(h.check_output("systemctl show -p NRestarts --value asterisk")) == restarts + 1
        office_registers_and_calls(ip)


APPLY = "Apply the jails - write, test, start or reload, verify"


def _fail2ban_tasks(name, extra=None):
    """The fail2ban role's apply step alone (with the preflight and the install probe it needs)."""
    cmd = ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], "vpbx.hardened.site",
           "--limit", name, "--tags", "asterisk_fail2ban_config,asterisk_fail2ban_verify", "-e", json.dumps(extra or {})]
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False, env=env)
    return proc.returncode, proc.stdout + proc.stderr


def _task_block(out, title):
    marker = "TASK [vpbx.hardened.asterisk_fail2ban : %s]" % title
    assert marker in out, out[-6000:]
    return out[out.index(marker):].split("TASK [")[1]


def test_a_configuration_fail2ban_refuses_is_rolled_back():
    # A stray jail file fail2ban cannot load makes `fail2ban-client --test` refuse the whole
    # directory: the run that changes maxretry must put its files back and leave the server as it was.
    name = "vpbx-attack22"
    h = host(name)
    ours = "cd /etc/fail2ban && sha256sum action.d/vpbx-ufw.conf filter.d/vpbx-asterisk.conf jail.d/vpbx-hardened.local"
    before = (h.check_output(ours), h.check_output("fail2ban-client get asterisk maxretry"))
    h.check_output("printf '[zz-broken]\\nenabled = true\\nfilter = vpbx-no-such-filter\\nlogpath = /var/log/syslog\\n'"
                   " > /etc/fail2ban/jail.d/zz-broken.local")
    try:
        rc, out = _fail2ban_tasks(name, {"asterisk_fail2ban_maxretry": 6})
        assert rc != 0, out[-6000:]
        assert "fail2ban rejected the new configuration, so the previous files were restored" in out, out[-6000:]
        assert "vpbx-no-such-filter" in out, out[-6000:]
        assert (h.check_output(ours), h.check_output("fail2ban-client get asterisk maxretry")) == before
    finally:
        h.check_output("rm -f /etc/fail2ban/jail.d/zz-broken.local")
    # The control: the same change without the stray file is written, tested, reloaded and verified.
    rc, out = _fail2ban_tasks(name, {"asterisk_fail2ban_maxretry": 6})
    assert rc == 0, out[-6000:]
    assert "changed: [%s]" % name in _task_block(out, APPLY), out[-6000:]
    assert h.check_output("fail2ban-client get asterisk maxretry") == "6"
    assert h.check_output(ours) != before[0]


def test_a_stopped_fail2ban_is_enabled_and_started_again():
    # A re-run leaves a running fail2ban alone; a stopped and disabled one must still be brought
    # back by the next run of its tasks.
    name = "vpbx-attack22"
    h = host(name)
    h.check_output("systemctl disable --now fail2ban")
    assert h.run("systemctl is-active fail2ban").stdout.strip() != "active"
    cmd = ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], "vpbx.hardened.site",
           "--limit", name, "--tags", "asterisk_fail2ban_config"]
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False, env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    assert _task_block(out, APPLY).count("changed: [%s]" % name) == 1, out[-6000:]
    assert h.check_output("systemctl is-enabled fail2ban") == "enabled"
    # The apply step waited for the server and read its jails: it answers now.
    assert h.run("fail2ban-client status asterisk").rc == 0


def test_fail2ban_verify_judges_the_running_server_on_a_rerun():
    # With fail2ban running and nothing to write, the one apply run changes nothing and still
    # asks the running server - a jail changed at runtime behind the files' back fails the run.
    name = "vpbx-attack22"
    h = host(name)
    rc, out = _fail2ban_tasks(name)
    assert rc == 0, out[-6000:]
    assert "ok: [%s]" % name in _task_block(out, APPLY), out[-6000:]
    h.check_output("fail2ban-client set asterisk maxretry 99")
    try:
        rc, out = _fail2ban_tasks(name)
        assert rc != 0, out[-6000:]
        assert "fail2ban does not run the planned jails" in out and "maxretry: 99 (want 5)" in out, out[-6000:]
    finally:
        # fail2ban 1.1 can refuse to reload after a runtime `set` ("'NoneType' object has no
        # attribute 'flush_matches'"); a restart brings the files' jails back either way.
        h.check_output("fail2ban-client reload >/dev/null 2>&1 || systemctl restart fail2ban")
    rc, out = _fail2ban_tasks(name)
    assert rc == 0, out[-6000:]
