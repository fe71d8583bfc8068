# SPDX-License-Identifier: GPL-3.0-or-later
"""Recordings that cannot fill the disk (after test_calls.py has left a real call's recording):
the dialplan role's timer runs on the converged PBX, and its service - as asterisk, in its
sandbox - removes what is older than the retention and the oldest over the cap (molecule.yml:
4 MiB), while the new ones, the call's recording among them, stay."""

from __future__ import annotations

import pytest

SPOOL = "/var/spool/asterisk/monitor"
UNIT = "vpbx-prune-recordings"
KIB = 1024
CAP = 4 * 1024 * KIB  # asterisk_dialplan_recording_max_size_mb in molecule.yml


def recording(host, name, size, age):
    """A recording owned by asterisk, `size` bytes, last written `age` ago (date -d words)."""
    path = "%s/%s" % (SPOOL, name)
    host.run_expect([0], "head -c %d /dev/zero > %s && chown asterisk:asterisk %s && chmod 0640 %s && "
                         "touch -d '%s' %s" % (size, path, path, path, age, path))
    return path


def files(host):
    return sorted(host.run("find %s -type f -printf '%%f\\n'" % SPOOL).stdout.split())


def test_the_pruning_timer_runs(pbx):
    host = pbx["host"]
    assert host.run("systemctl is-enabled %s.timer" % UNIT).stdout.strip() == "enabled"
    assert host.run("systemctl is-active %s.timer" % UNIT).stdout.strip() == "active"
    # The service itself only runs when the timer fires (oneshot).
    assert host.run("systemctl show -p User --value %s.service" % UNIT).stdout.strip() == "asterisk"


def test_old_recordings_go_the_oldest_over_the_cap_go_and_new_ones_stay(pbx):
    host = pbx["host"]
    calls = [name for name in files(host) if name.endswith("-1002.wav")]
    if not calls:
        pytest.fail("no recording of test_calls.py's call to 1002 (it runs first): %s" % files(host))
    # Sized from what the spool holds now: the two new files take it 128 KiB over the cap, the
    # older of them alone back under it.
    held = int(host.run("find %s -type f -printf '%%s\\n' | awk '{ s += $1 } END { print s + 0 }'" % SPOOL).stdout)
    newer_size = 256 * KIB
    assert held + newer_size < CAP, "the spool already holds %d bytes: raise the scenario's cap" % held
    old = recording(host, "vpbx-test-old.wav", 10 * KIB, "100 days ago")
    oldest = recording(host, "vpbx-test-oldest-big.wav", CAP - held - newer_size + 128 * KIB, "3 hours ago")
    newer = recording(host, "vpbx-test-newer-big.wav", newer_size, "2 hours ago")
    # The positive control: all of them are there before the run.
    before = files(host)
    assert {"vpbx-test-old.wav", "vpbx-test-oldest-big.wav", "vpbx-test-newer-big.wav"} <= set(before), before
    try:
        run = host.run("systemctl start %s.service" % UNIT)
        assert run.rc == 0, run.stderr + host.run("systemctl status %s.service" % UNIT).stdout
        assert host.run("systemctl show -p Result --value %s.service" % UNIT).stdout.strip() == "success"
        after = files(host)
        # 100 days is past the 90-day retention; the spool is 128 KiB over the cap: the older big
        # file goes. The newer one and the call's recording (written minutes ago) stay.
        assert "vpbx-test-old.wav" not in after and "vpbx-test-oldest-big.wav" not in after, after
        assert "vpbx-test-newer-big.wav" in after and set(calls) <= set(after), (calls, after)
    finally:
        host.run("rm -f %s %s %s" % (old, oldest, newer))
