# SPDX-License-Identifier: GPL-3.0-or-later
"""The asterisk role refuses, before it changes anything, an unsupported platform and a version
pin that matches no available package, with a message that says what is supported/available.

Each test snapshots the host (installed packages, every path under /etc and /usr/sbin with size,
mode and mtime), runs the site playbook, and compares."""

from __future__ import annotations

import os
import subprocess

import testinfra

SNAPSHOT = ("dpkg-query -W -f='${Package} ${Version} ${Status}\\n' | sha256sum; "
            "find /etc /usr/sbin -xdev -printf '%p %s %m %T@ %l\\n' | sort | sha256sum")


def host_of(name):
    return testinfra.get_host("ansible://%s?ansible_inventory=%s" % (name, os.environ["MOLECULE_INVENTORY_FILE"]))


def run_site(limit, *extra):
    cmd = ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], "--limit", limit,
           "vpbx.hardened.site", *extra]
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False, env=env)
    return proc.returncode, proc.stdout + proc.stderr


def test_unsupported_platform_refused_before_any_change():
    host = host_of("vpbx-bookworm")
    assert "bookworm" in host.check_output("cat /etc/os-release")
    before = host.check_output(SNAPSHOT)
    rc, output = run_site("vpbx-bookworm")
    assert rc != 0, output
    assert "has no asterisk package" in output, output
    assert "Supported platforms: Debian 11 (Asterisk 16)" in output, output
    for platform in ("Debian testing (Asterisk 22)", "Ubuntu 20.04", "Ubuntu 22.04", "Ubuntu 24.04"):
        assert platform in output
    assert host.check_output(SNAPSHOT) == before
    assert not host.exists("asterisk")
    assert not host.file("/etc/asterisk").exists


def test_check_mode_on_a_fresh_host_changes_nothing():
    host = host_of("vpbx-pin16")
    before = host.check_output(SNAPSHOT)
    rc, output = run_site("vpbx-pin16", "--check", "--diff")
    assert rc == 0, output
    assert "Asterisk would be installed" in output
    # The firewall cannot be previewed through a UFW that is not there: its plan is shown instead.
    assert "Check mode on a host without UFW - UFW would be installed" in output, output
    assert "limit 22/tcp from any (ssh)" in output, output
    assert host.check_output(SNAPSHOT) == before
    assert not host.package("asterisk").is_installed


def test_version_pin_without_package_refused_before_any_change():
    host = host_of("vpbx-pin16")
    before = host.check_output(SNAPSHOT)
    rc, output = run_site("vpbx-pin16", "-e", "asterisk_version=1:99.9")
    assert rc != 0, output
    assert "asterisk_version '1:99.9' matches no asterisk package" in output, output
    assert "Available: 1:16.28.0~dfsg-0+deb11u4" in output, output
    assert host.check_output(SNAPSHOT) == before
    assert not host.package("asterisk").is_installed
    assert not host.file("/etc/asterisk").exists
