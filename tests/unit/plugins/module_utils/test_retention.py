# SPDX-License-Identifier: GPL-3.0-or-later
"""retention: the recordings' pruning script run for real on a directory of recordings - the old
ones go, the new ones stay, the oldest go first down to the cap, a file a call may still be
writing stays whatever the cap - and its settings refused through the dialplan's plan."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from ansible_collections.vpbx.hardened.plugins.module_utils import plan as planner
from ansible_collections.vpbx.hardened.plugins.module_utils import retention

from .test_plan import HOST, OFFICE, variables

MIB = 1048576
DAY = 86400


def rendered(**inventory):
    return planner.plan("dialplan", variables(**dict(OFFICE, **inventory)), HOST)["recordings"]


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "prune"
    path.write_text(rendered()["host_files"][retention.SCRIPT]["content"])
    path.chmod(0o755)
    return path


def recording(directory, name, size, age_seconds):
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0" * size)
    stamp = time.time() - age_seconds
    os.utime(path, (stamp, stamp))
    return path


def prune(script, directory, days, cap_mb, guard=15):
    return subprocess.run([str(script), str(directory), str(days), str(cap_mb), str(guard)], capture_output=True,
                          text=True, timeout=60, check=False)


def left(directory):
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file())


def test_recordings_older_than_the_retention_go_and_newer_ones_stay(tmp_path, script):
    spool = tmp_path / "monitor"
    recording(spool, "20260101-old-1002.wav", 1000, 100 * DAY)
    recording(spool, "conference-board-old.wav", 1000, 91 * DAY)
    recording(spool, "20260901-new-1002.wav", 1000, 89 * DAY)
    recording(spool, "today-1002.wav", 1000, 60)
    done = prune(script, spool, 90, 0)
    assert done.returncode == 0, done.stderr
    assert left(spool) == ["20260901-new-1002.wav", "today-1002.wav"]
    assert "pruned 2 file(s)" in done.stdout


def test_over_the_cap_the_oldest_go_first_until_it_fits(tmp_path, script):
    spool = tmp_path / "monitor"
    recording(spool, "a-oldest.wav", MIB // 2, 3 * 3600)
    recording(spool, "b-older.wav", MIB // 2, 2 * 3600)
    recording(spool, "c-newer.wav", MIB // 2, 3600)
    recording(spool, "sub/d-newest.wav", MIB // 4, 1800)
    done = prune(script, spool, 0, 1)
    assert done.returncode == 0, done.stderr
    # 1.75 MiB over a 1 MiB cap: the two oldest go (0.75 MiB left); the age limit is off.
    assert left(spool) == ["c-newer.wav", "sub/d-newest.wav"]
    # The positive control's opposite: under the cap nothing goes.
    done = prune(script, spool, 0, 1)
    assert done.returncode == 0 and left(spool) == ["c-newer.wav", "sub/d-newest.wav"], done.stdout


def test_a_recording_still_being_written_stays_whatever_the_cap(tmp_path, script):
    spool = tmp_path / "monitor"
    recording(spool, "old-but-recent-enough.wav", MIB, 3600)
    recording(spool, "in-progress.wav", 2 * MIB, 30)
    done = prune(script, spool, 0, 1)
    assert done.returncode == 0
    assert left(spool) == ["in-progress.wav"]
    assert "over its cap of 1 MiB" in done.stderr and "asterisk_dialplan_recording_max_size_mb" in done.stderr


def test_no_limits_and_no_directory_remove_nothing(tmp_path, script):
    spool = tmp_path / "monitor"
    recording(spool, "ancient.wav", 2 * MIB, 400 * DAY)
    assert prune(script, spool, 0, 0).returncode == 0 and left(spool) == ["ancient.wav"]
    done = prune(script, tmp_path / "missing", 90, 1)
    assert done.returncode == 0 and "nothing to prune" in done.stdout
    # The positive control: the same file goes once a limit is set.
    assert prune(script, spool, 90, 0).returncode == 0 and left(spool) == []


def test_the_units_run_the_script_as_asterisk_with_the_inventorys_limits():
    files = rendered(asterisk_dialplan_recording_retention_days=30, asterisk_dialplan_recording_max_size_mb=500,
                     asterisk_dialplan_recording_retention_schedule="daily")
    service = files["host_files"][retention.SERVICE]["content"]
    timer = files["host_files"][retention.TIMER]["content"]
    assert "ExecStart=%s %s 30 500 15\n" % (retention.SCRIPT, retention.MONITOR_DIR) in service
    assert "User=asterisk\n" in service and "ReadWritePaths=%s\n" % retention.MONITOR_DIR in service
    assert "OnCalendar=daily\n" in timer and "WantedBy=timers.target" in timer
    assert files["timers"] == {"vpbx-prune-recordings.timer": True} and files["host_files_absent"] == []
    assert files["host_files"][retention.SCRIPT]["mode"] == "0755"


@pytest.mark.parametrize("inventory", [
    {"asterisk_dialplan_recording_retention": False},
    {"asterisk_dialplan_recording_retention_days": 0, "asterisk_dialplan_recording_max_size_mb": 0},
])
def test_switched_off_the_timer_stops_and_its_files_go(inventory):
    files = rendered(**inventory)
    assert files["host_files"] == {} and files["timers"] == {"vpbx-prune-recordings.timer": False}
    assert sorted(files["host_files_absent"]) == sorted([retention.SCRIPT, retention.SERVICE, retention.TIMER])


@pytest.mark.parametrize("inventory, expected", [
    ({"asterisk_dialplan_recording_retention_days": -1}, "asterisk_dialplan_recording_retention_days: -1 is not"),
    ({"asterisk_dialplan_recording_max_size_mb": "lots"}, "asterisk_dialplan_recording_max_size_mb: 'lots' is not"),
    ({"asterisk_dialplan_recording_retention_schedule": "hourly\nExecStart=/bin/sh"},
     "asterisk_dialplan_recording_retention_schedule: 'hourly\\nExecStart=/bin/sh' is not a systemd calendar"),
    ({"asterisk_dialplan_recording_retention": "sometimes"}, "asterisk_dialplan_recording_retention: 'sometimes'"),
])
def test_bad_retention_settings_are_refused_naming_the_variable(inventory, expected):
    with pytest.raises(planner.PlanError) as exc:
        rendered(**inventory)
    assert str(exc.value).startswith("Invalid dialplan - nothing was changed:\n- ") and expected in str(exc.value)
    # The positive control: the defaults plan.
    assert rendered()["timers"] == {"vpbx-prune-recordings.timer": True}
