# SPDX-License-Identifier: GPL-3.0-or-later
"""Changes on the converged PBXs (after test_calls.py): a phone added and removed with the
subscribers playbook - applied by reload, Asterisk never restarted; bad dialplan input refused
before any change; the audit of a converged host."""

from __future__ import annotations

import json
import os
import re
import sys

import pytest
import testinfra

import phones

REPO = phones.REPO
sys.path.insert(0, os.path.join(REPO, "tests"))
from runner import run_playbook  # noqa: E402

SUBSCRIBERS = phones.SUBSCRIBERS
NEW_PHONE = {"extension": "1005", "name": "New desk", "secret": "{{ vault_calls_secrets['1005'] }}",
             "voicemail": True, "voicemail_pin": "{{ vault_calls_pins['1005'] }}"}
PBXS = ",".join(phones.PBX)
playbook = phones.playbook
changed = phones.changed


def pbx_host(name):
    return testinfra.get_host("docker://" + name)


def started(host):
    """Asterisk's PID and start time: equal before and after means no restart."""
    pid = host.check_output("systemctl show -p MainPID --value asterisk")
    return pid, host.check_output("ps -o lstart= -p %s" % pid)


def snapshot(host):
    return host.check_output("cd /etc/asterisk && find . -type f -exec sha256sum {} + | sort -k2")


def test_subscribers_playbook_adds_and_removes_a_phone_without_restart():
    vault = phones.vault()
    before = {name: started(pbx_host(name)) for name in phones.PBX}
    rc, out, seconds = playbook("subscribers", extra={"asterisk_sip_subscribers": SUBSCRIBERS + [NEW_PHONE]})
    assert rc == 0, out[-6000:]
    assert all(changed(out).get(name, 0) > 0 for name in phones.PBX), changed(out)
    for name, pbx in phones.PBX.items():
        host = pbx_host(name)
        assert started(host) == before[name], "%s: Asterisk was restarted" % name
        reg = phones.register(pbx["ip"], "1005", vault["secrets"]["1005"])
        assert reg.rc == 0 and reg.final == 200, (name, reg)
        # Its voicemail box exists, and the others can call it.
        boxes = host.check_output("asterisk -rx 'voicemail show users'")
        assert re.search(r"^default\s+1005\s", boxes, re.MULTILINE), boxes
        assert "'1005' =>" in host.check_output("asterisk -rx 'dialplan show 1005@office'")
    print("subscribers playbook (add 1005 on %d PBXs): %.1f s" % (len(phones.PBX), seconds))

    # Removed again, this time as an AWX job runs the playbook: through ansible-runner, the
    # survey's answers (awx/surveys/subscribers.json) in env/extravars, the vault password as a
    # credential file. The phone can no longer register, its extension is gone, still no restart.
    with open(os.path.join(REPO, "awx", "surveys", "subscribers.json"), encoding="utf-8") as handle:
        survey = json.load(handle)
    answers = {q["variable"]: q["default"] for q in survey["spec"] if q.get("default") not in (None, "")}
    assert answers.get("vpbx_hosts") == "pbx", survey
    result = run_playbook("vpbx.hardened.subscribers", os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"]),
                          extravars=dict(answers, asterisk_sip_subscribers=SUBSCRIBERS), limit=PBXS,
                          cmdline="-e @%s" % os.path.join(phones.scenario_dir(), "vault.yml"),
                          vault_password_file=os.path.join(phones.scenario_dir(), "vault-password.txt"))
    assert result.rc == 0 and result.status == "successful", result.stdout[-6000:]
    for name, pbx in phones.PBX.items():
        assert result.host_stat("changed", name) > 0 and result.host_stat("failures", name) == 0, result.stats
        host = pbx_host(name)
        assert started(host) == before[name], "%s: Asterisk was restarted" % name
        reg = phones.sipp(pbx["ip"], "register_auth_fail.xml", "1005", "1005", vault["secrets"]["1005"],
                          port=phones.PORTS["1005"])
        assert reg.rc == 0 and reg.final in (401, 403, 404), (name, reg)
        assert "1005" not in host.check_output("asterisk -rx 'dialplan show office'")


BAD_INPUT = [
    ("route-to-unknown-trunk",
     {"asterisk_dialplan_routes": [{"name": "ru", "pattern": "_8[34]XXXXXXXXX", "trunk": "nowhere"}]},
     "asterisk_dialplan_routes[0] (ru).trunk: 'nowhere' is not a trunk"),
    ("subscriber-in-unknown-context",
     {"asterisk_sip_subscribers": SUBSCRIBERS[:3] + [dict(SUBSCRIBERS[3], context="vip")]},
     "asterisk_sip_subscribers (extension 1004).context: 'vip' is not a context"),
    ("invalid-pattern",
     {"asterisk_dialplan_routes": [{"name": "ru", "pattern": "_8[3-7XXXXXXXXX", "trunk": "provider"},
                                   {"name": "intl", "pattern": "_810X.", "trunk": "provider", "international": True}]},
     "asterisk_dialplan_routes[0] (ru).pattern: '_8[3-7XXXXXXXXX'"),
    ("catch-all-without-opt-in",
     {"asterisk_dialplan_routes": [{"name": "ru", "pattern": "_X.", "trunk": "provider"},
                                   {"name": "intl", "pattern": "_810X.", "trunk": "provider", "international": True}]},
     "asterisk_dialplan_routes[0] (ru).pattern: '_X.' matches any number"),
]


@pytest.mark.parametrize("extra, message", [case[1:] for case in BAD_INPUT], ids=[case[0] for case in BAD_INPUT])
def test_bad_input_fails_before_any_change(extra, message):
    hosts = {name: pbx_host(name) for name in phones.PBX}
    before = {name: (snapshot(h), started(h)) for name, h in hosts.items()}
    rc, out, _unused = playbook("site", extra=extra)
    assert rc != 0, out[-4000:]
    assert message in out, out[-6000:]
    assert all(changed(out).get(name, 0) == 0 for name in phones.PBX), changed(out)
    for name, host in hosts.items():
        assert (snapshot(host), started(host)) == before[name], "%s changed although the input was refused" % name


def test_audit_of_a_converged_host():
    report_dir = "/tmp/vpbx-audit-calls-%d" % os.getpid()
    rc, out, _unused = playbook("audit", "--check", "--diff",
                                extra={"vpbx_audit_report_dir": report_dir, "vpbx_audit_drift": True})
    assert rc == 0, out[-6000:]
    # The drift part (the site roles in forced check mode) finds nothing to change. (The recap
    # also counts the report files written on the controller, so the play's own output is read.)
    drift = out[out.index("PLAY [Show the drift from the inventory"):out.index("PLAY RECAP")]
    assert "TASK [vpbx.hardened.asterisk_dialplan" in drift, drift[-3000:]
    assert not re.search(r"^changed: ", drift, re.MULTILINE), drift[-6000:]
    for name in phones.PBX:
        with open(os.path.join(report_dir, name + ".json"), encoding="utf-8") as handle:
            report = json.load(handle)
        # Everything the collection builds passes, fail2ban's jail on the right file included.
        assert report["failed_controls"] == [], (name, [c for c in report["controls"] if c["status"] == "fail"])
        assert report["summary"]["pass"] >= 16, report["summary"]
        jail = [c for c in report["controls"] if c["id"] == 22][0]
        assert jail["status"] == "pass" and "/var/log/asterisk/security.log" in jail["detail"], jail


def test_diff_and_vvv_never_show_a_pin():
    """voicemail.conf and vpbx-rooms.conf are written in the same asterisk_apply run as the other
    dialplan files, their content in the module's no_log option: with --check --diff -vvv a PIN
    rotation shows as a change, and neither the old nor the new PINs appear as written there."""
    old = phones.vault()["pins"]
    new = {"1002": "48270519", "1003": "73915062", "board": "8264", "board_admin": "5173906"}
    rc, out, _unused = playbook("subscribers", "--check", "--diff", "-vvv", extra={"vault_calls_pins": new},
                                limit="vpbx-calls22")
    assert rc == 0, out[-6000:]
    task = ("TASK [vpbx.hardened.asterisk_dialplan : Apply the dialplan files (the PIN files never shown) - write, "
            "reload, verify, roll back]")
    assert task in out, out[-4000:]
    block = out[out.index(task):].split("TASK [", 2)[1]
    assert "changed: [vpbx-calls22]" in block and "(secret content not shown)" in block, block[-4000:]
    assert '"module_args"' in block and "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in block, block[-4000:]
    for pin in list(old.values()) + list(new.values()):
        # As voicemail.conf (`1002 => PIN,Name,...`) and vpbx-rooms.conf (`pin=PIN`) write them.
        assert "=> %s," % pin not in out
        assert not re.search(r"\bpin\s*=\s*%s\b" % re.escape(pin), out), pin
