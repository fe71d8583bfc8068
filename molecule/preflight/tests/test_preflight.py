# SPDX-License-Identifier: GPL-3.0-or-later
"""The site playbook refuses, before it changes anything, an unsupported platform, a version pin
that matches no available package (with a message that says what is supported/available) and a
database password written in clear text.

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


def test_a_database_password_in_clear_text_is_refused_before_any_change(tmp_path):
    """The same password from a plain vars file is refused, naming it; from a vault-encrypted one it
    passes the plan (check mode: the host stays as it was either way)."""
    password = "c3f1e0a9d8b7465f9e2d1c0b7a6f5e4d"
    clear, vaulted, secret = tmp_path / "cdr.yml", tmp_path / "cdr-vault.yml", tmp_path / "vault-password"
    clear.write_text("---\nasterisk_cdr_database_password: %s\n" % password)
    vaulted.write_text(clear.read_text())
    secret.write_text("preflight-test-only\n")
    subprocess.run(["ansible-vault", "encrypt", "--vault-password-file", str(secret), str(vaulted)], check=True,
                   capture_output=True, timeout=60)
    host = host_of("vpbx-pin16")
    before = host.check_output(SNAPSHOT)
    rc, output = run_site("vpbx-pin16", "--check", "-e", "asterisk_cdr_database=true", "-e", "@%s" % clear)
    assert rc != 0, output
    assert "asterisk_cdr_database_password is written in clear text in %s line 2" % clear in output, output
    assert password not in output
    # Positive control: the same value from the vault passes the same plan.
    rc, output = run_site("vpbx-pin16", "--check", "-e", "asterisk_cdr_database=true", "-e", "@%s" % vaulted,
                          "--vault-password-file", str(secret))
    assert rc == 0, output
    assert "Call records to CSV and to the mariadb database asteriskcdrdb on 127.0.0.1" in output, output
    assert host.check_output(SNAPSHOT) == before
    assert not host.package("asterisk").is_installed
