# SPDX-License-Identifier: GPL-3.0-or-later
"""tests/runner.py runs playbooks through the ansible-runner API as AWX does: survey answers in
env/extravars reach the play, stats and events come back, a vaulted variable is decrypted with
the vault password file, and the collection's read-only audit playbook runs by its FQCN."""

from __future__ import annotations

import json
import os
import sys
import textwrap

import pytest
from ansible.parsing.vault import VaultLib, VaultSecret

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from runner import run_playbook  # noqa: E402  (the helper lives in tests/, as for Molecule tests)

PLAY = textwrap.dedent("""\
    ---
    - name: Throwaway play
      hosts: all
      gather_facts: false
      tasks:
        - name: Echo the survey answer
          ansible.builtin.debug:
            msg: "answer={{ vpbx_test_answer }} driver={{ asterisk_sip_driver | default('unset') }}"

        - name: Report a change
          ansible.builtin.command:
            cmd: "true"
          changed_when: true
    """)


@pytest.fixture
def local_inventory(tmp_path):
    inventory = tmp_path / "inventory"
    inventory.mkdir()
    (inventory / "hosts.ini").write_text(
        "localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    return inventory


def test_extravars_reach_the_play_and_stats_come_back(tmp_path, local_inventory):
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAY)
    result = run_playbook(str(playbook), str(local_inventory),
                          extravars={"vpbx_test_answer": "42", "asterisk_sip_driver": "pjsip"})
    assert result.rc == 0, result.stdout
    assert result.status == "successful"
    assert "answer=42 driver=pjsip" in result.stdout
    assert result.host_stat("ok", "localhost") == 2
    assert result.host_stat("changed", "localhost") == 1
    assert result.host_stat("failures", "localhost") == 0
    assert result.events > 0
    # The answers travel in env/extravars, as AWX passes them, not on the command line.
    assert any(arg.endswith("/env/extravars") for arg in result.command)
    assert not any("vpbx_test_answer" in arg for arg in result.command)


def test_failure_and_limit(tmp_path, local_inventory):
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAY)
    # vpbx_test_answer undefined: the first task fails, as a job would.
    result = run_playbook(str(playbook), str(local_inventory), limit="localhost")
    assert result.rc != 0
    assert result.status == "failed"
    assert result.host_stat("failures", "localhost") == 1
    assert ["--limit", "localhost"] == result.command[result.command.index("--limit"):][:2]


def test_vault_password_file(tmp_path, local_inventory):
    password = "not-a-real-vault-password"
    secret = VaultLib([("default", VaultSecret(password.encode()))]).encrypt("vaulted-value").decode()
    vars_file = tmp_path / "vaulted.yml"
    vars_file.write_text("vpbx_test_answer: !vault |\n" + textwrap.indent(secret, "  "))
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAY.replace("  gather_facts: false\n",
                                     "  gather_facts: false\n  vars_files: [vaulted.yml]\n"))
    password_file = tmp_path / "vault-pass"
    password_file.write_text(password + "\n")

    without = run_playbook(str(playbook), str(local_inventory))
    assert without.rc != 0
    assert "vault" in without.stdout.lower()

    result = run_playbook(str(playbook), str(local_inventory), vault_password_file=str(password_file))
    assert result.rc == 0, result.stdout
    assert "answer=vaulted-value" in result.stdout


def test_rejects_what_is_neither_a_path_nor_an_fqcn(local_inventory):
    with pytest.raises(ValueError):
        run_playbook("site", str(local_inventory))
    with pytest.raises(FileNotFoundError):
        run_playbook("/nonexistent/play.yml", str(local_inventory))


def test_audit_playbook_by_fqcn_on_localhost(tmp_path, local_inventory):
    """The read-only audit, as its AWX job template runs it: survey answers as extravars. On this
    machine Asterisk is absent; the audit says so, changes nothing here and writes its report."""
    report_dir = tmp_path / "reports"
    result = run_playbook("vpbx.hardened.audit", str(local_inventory),
                          extravars={"vpbx_hosts": "localhost", "vpbx_audit_fail_on_findings": "false",
                                     "vpbx_audit_drift": "false",
                                     "vpbx_audit_report_dir": str(report_dir)},
                          timeout=300)
    assert result.rc == 0, result.stdout
    assert result.host_stat("failures", "localhost") == 0
    report = json.loads((report_dir / "localhost.json").read_text())
    assert report["host"] == "localhost"
    assert "controls" in report
