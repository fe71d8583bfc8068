# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import re

from ansible_collections.vpbx.hardened.plugins.callback import concise


class Display:
    verbosity = 0

    def __init__(self):
        self.lines = []

    def display(self, text, color=None, stderr=False):
        self.lines += [("err " if stderr else "") + line for line in text.splitlines()]


class Role:
    def __init__(self, name):
        self.name = name

    def get_name(self, include_role_fqcn=True):
        return ("vpbx.hardened." + self.name) if include_role_fqcn else self.name


class Task:
    def __init__(self, name, role=None):
        self.name, self._role = name, Role(role) if role else None

    def get_name(self):
        return self.name


class Host:
    def get_name(self):
        return "pbx1"


class Result:
    def __init__(self, task, data):
        self._task, self._host, self._result = task, Host(), data


class Play:
    def get_name(self):
        return "Build a hardened Asterisk PBX"


class Stats:
    processed = {"pbx1": 1}

    def summarize(self, host):
        return {"ok": 5, "changed": 2, "failures": 1, "unreachable": 0}


def run(events):
    callback = concise.CallbackModule(display=Display())
    callback.v2_playbook_on_play_start(Play())
    for task, data, failed in events:
        callback.v2_playbook_on_task_start(task, False)
        if failed:
            callback.v2_runner_on_failed(Result(task, data))
        elif data is not None:
            callback.v2_runner_on_ok(Result(task, data))
    callback.v2_playbook_on_stats(Stats())
    return callback._display.lines


def test_one_line_per_role_with_its_tasks_and_changes_then_a_recap_per_host():
    lines = run([(Task("Plan every concern"), {"changed": False}, False),
                 (Task("Plan the firewall", "asterisk_firewall"), {"changed": False}, False),
                 (Task("Apply the firewall", "asterisk_firewall"), {"changed": True}, False),
                 (Task("Apply the core", "asterisk"), {"changed": False}, False)])
    assert lines[0] == "Build a hardened Asterisk PBX"
    assert re.match(r"^  \(play\)\s+ok\s+1 task\(s\), 0 changed\s+\d+\.\d s$", lines[1])
    assert re.match(r"^  asterisk_firewall\s+changed\s+2 task\(s\), 1 changed\s+\d+\.\d s$", lines[2])
    assert re.match(r"^  asterisk\s+ok\s+1 task\(s\), 0 changed", lines[3])
    assert lines[4] == "pbx1: ok=5 changed=2 failed=1 unreachable=0"
    assert len(lines) == 5  # nothing per task


def test_a_failure_is_printed_in_full_when_it_happens():
    lines = run([(Task("Plan the SIP model", "asterisk_sip"),
                  {"failed": True, "msg": "Invalid subscriber/trunk model:\n- asterisk_sip_subscribers[0].secret: weak",
                   "stderr": "details"}, True)])
    assert "err FAILED: pbx1 | Plan the SIP model" in lines
    assert "err   - asterisk_sip_subscribers[0].secret: weak" in lines
    assert "err   stderr: details" in lines
    assert any(re.match(r"^  asterisk_sip\s+FAILED\s+1 task\(s\)", line) for line in lines)


def test_an_ignored_failure_is_not_reported():
    callback = concise.CallbackModule(display=Display())
    task = Task("Probe", "asterisk")
    callback.v2_playbook_on_task_start(task, False)
    callback.v2_runner_on_failed(Result(task, {"failed": True, "msg": "no"}), ignore_errors=True)
    assert not callback._display.lines and callback._failed == 0
