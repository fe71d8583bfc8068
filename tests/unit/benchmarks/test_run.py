# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import os
import sys

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "benchmarks"))

import run  # noqa: E402  pylint: disable=wrong-import-position


def test_the_bare_play_has_the_site_runs_shape_and_does_nothing(tmp_path):
    path = run.bare_playbook(str(tmp_path), 24, 11)
    play = yaml.safe_load(open(path, encoding="utf-8"))[0]
    actions = [next(k for k in task if k != "name") for task in play["tasks"]]
    assert play["hosts"] == "pbx" and play["gather_facts"] is False
    assert actions.count("ansible.builtin.ping") == 11 and actions.count("ansible.builtin.debug") == 13
    # More module runs than tasks (the plan action runs modules inside its task) never gives more tasks.
    assert len(yaml.safe_load(open(run.bare_playbook(str(tmp_path), 5, 9), encoding="utf-8"))[0]["tasks"]) == 5


def test_exec_events_count_one_line_per_exec_start(monkeypatch):
    seen = {}

    class Proc:
        def __init__(self, args, **kwargs):
            seen["args"] = args

        def terminate(self):
            seen["terminated"] = True

        def communicate(self, timeout=None):
            return "exec_start: sh -c python3\n\nexec_start: sh -c python3\nexec_start: /bin/sh -c echo\n", ""

    monkeypatch.setattr(run.subprocess, "Popen", Proc)
    monkeypatch.setattr(run.time, "sleep", lambda seconds: None)
    events = run.ExecEvents("vpbx-bench-fleet00")
    assert seen["args"][:2] == ["docker", "events"] and "--since" not in seen["args"]
    assert "container=vpbx-bench-fleet00" in seen["args"] and "event=exec_start" in seen["args"]
    assert events.count() == 3 and seen["terminated"]
