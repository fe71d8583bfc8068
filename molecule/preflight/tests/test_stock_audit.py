# SPDX-License-Identifier: GPL-3.0-or-later
"""The audit playbook on a stock, unhardened Asterisk (runs after test_preflight.py, which needs
the host without Asterisk): `apt-get install asterisk` as a user would, then
`ansible-playbook vpbx.hardened.audit` - read-only - must list the controls the stock package
fails, and change nothing."""

from __future__ import annotations

import json
import os
import subprocess

from test_preflight import SNAPSHOT, host_of

# What Debian 11's asterisk package does out of the box, judged by module_utils/audit.py against
# output captured from it (tests/unit/plugins/module_utils/fixtures/audit/stock16): /etc/asterisk
# readable by others, chan_iax2/chan_mgcp/pbx_lua/pbx_ael loaded, "Asterisk PBX <version>" as
# user agent, chan_sip guests allowed and OPTIONS without auth, no security log, demo contexts,
# no firewall, no fail2ban.
STOCK_FAILS = {2, 5, 6, 10, 13, 21, 22, 25, 28}


def test_audit_lists_the_failing_controls_of_a_stock_asterisk(tmp_path):
    host = host_of("vpbx-pin16")
    install = host.run("DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q asterisk 2>&1")
    assert install.rc == 0, install.stdout[-3000:]
    host.run("systemctl start asterisk")
    assert host.run("timeout 60 sh -c 'until asterisk -rx \"core waitfullybooted\"; do sleep 1; done'").rc == 0
    before = host.check_output(SNAPSHOT)
    cmd = ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], "--limit", "vpbx-pin16",
           "vpbx.hardened.audit", "--check", "--diff", "-e", "vpbx_audit_report_dir=%s" % tmp_path]
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False, env=env)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-5000:]
    report = json.loads((tmp_path / "vpbx-pin16.json").read_text())
    failed = set(report["failed_controls"])
    assert failed == STOCK_FAILS, [c for c in report["controls"] if c["status"] == "fail"]
    # Each failure says how to fix it; the text report names them too.
    assert all(c["fix"] for c in report["controls"] if c["status"] == "fail")
    text = (tmp_path / "vpbx-pin16.txt").read_text()
    assert " 10 FAIL" in text and "allowguest" in text.lower(), text
    # Read-only: nothing on the host changed.
    assert host.check_output(SNAPSHOT) == before
