# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared Molecule check: after converge (and the idempotence step), a run of the scenario's
converge playbook in check mode with --diff reports 0 changed and 0 failed on every host.

Molecule's own `check` action does not assert anything; this test does. It runs inside the
`verify` step, where Molecule exports its inventory, scenario directory and ansible.cfg."""

from __future__ import annotations

import os
import re
import subprocess

RECAP = re.compile(r"^(?P<host>\S+)\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
                   r"\s+failed=(?P<failed>\d+)", re.MULTILINE)


def test_check_mode_after_converge_changes_nothing():
    scenario = os.environ["MOLECULE_SCENARIO_DIRECTORY"]
    # The inventory directory, as Molecule passes it: it also holds a scenario's extra hosts.
    inventory = os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])
    cmd = ["ansible-playbook", "-i", inventory, "--check", "--diff",
           os.path.join(scenario, "converge.yml")]
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False, env=env)
    output = proc.stdout + proc.stderr
    recap = RECAP.findall(output)
    assert proc.returncode == 0, output[-6000:]
    assert recap, "no PLAY RECAP in:\n" + output[-6000:]
    for host, _ok, changed, unreachable, failed in recap:
        assert (changed, unreachable, failed) == ("0", "0", "0"), (
            "check mode after converge must change nothing on %s:\n%s" % (host, output[-6000:]))
