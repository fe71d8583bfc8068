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


def test_exec_count_counts_one_line_per_exec_event(monkeypatch):
    seen = {}

    class Proc:
        stdout = "exec_start: sh -c python3\nexec_start: sh -c python3\nexec_start: /bin/sh -c echo\n"

    def fake_sh(args, timeout=600, check=True, stdin=None):
        seen["args"] = args
        return Proc()

    monkeypatch.setattr(run, "sh", fake_sh)
    assert run.exec_count("vpbx-bench-fleet00", 100, 200) == 3
    assert seen["args"][:6] == ["docker", "events", "--since", "100", "--until", "200"]
    assert "container=vpbx-bench-fleet00" in seen["args"] and "event=exec_start" in seen["args"]
    Proc.stdout = ""
    assert run.exec_count("vpbx-bench-fleet00", 100, 200) == 0
