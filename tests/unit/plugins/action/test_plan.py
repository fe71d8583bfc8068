# SPDX-License-Identifier: GPL-3.0-or-later
"""The plan action: the inventory overlays every role's defaults, the host is asked only what the
concern needs (without become for $SSH_CONNECTION), and a refusal is the task's failure."""

from __future__ import annotations

from unittest import mock

import pytest

from ansible_collections.vpbx.hardened.plugins.action import plan as action

SECRET = "Unit-test-Secret-alpha-q9"
OFFICE = {"asterisk_sip_subscribers": [{"extension": "1001", "secret": SECRET, "context": "office",
                                        "permit": ["192.0.2.0/24"]}],
          "asterisk_sip_trunks": [{"name": "carrier", "host": "sip.example.net", "username": "acct",
                                   "secret": "Carrier-Secret-beta-q7-long", "context": "from-carrier"}]}


class Templar:
    """Ansible's templar as the action sees it: plain values come back as they are."""

    def template(self, value):
        return value


def make(concern, answers):
    task = mock.MagicMock(args={"concern": concern}, async_val=0, check_mode=False, action="vpbx.hardened.plan")
    connection = mock.MagicMock()
    connection._shell.tmpdir = None
    connection.become = "sudo"
    plugin = action.ActionModule(task, connection, mock.MagicMock(), None, Templar())
    seen = []

    def execute(module_name, module_args, task_vars):
        seen.append((module_name, module_args, plugin._connection.become))
        return answers[module_name]
    plugin._execute_module = execute
    plugin._early_needs_tmp_path = lambda: False
    return plugin, seen


def test_every_collection_variable_has_a_default():
    defaults = action.collection_defaults()
    assert defaults["asterisk_sip_driver"] == "pjsip" and defaults["asterisk_fail2ban_maxretry"] == 5


def test_the_firewall_over_ssh_asks_the_host_once_without_become():
    probe = {"resolved": {"sip.example.net": ["198.51.100.7"]}, "env": {"SSH_CONNECTION": "203.0.113.5 1 192.0.2.1 22"}}
    plugin, seen = make("firewall", {"vpbx.hardened.host_probe": probe})
    result = plugin.run(task_vars=dict(OFFICE, ansible_connection="ssh"))
    assert not result.get("failed"), result
    assert seen == [("vpbx.hardened.host_probe", {"resolve": ["sip.example.net"], "env": ["SSH_CONNECTION"]}, None)]
    assert plugin._connection.become == "sudo"  # given back
    assert result["plan"]["guard"]["address"] == "203.0.113.5"
    assert result["plan"]["plan"]["flood"]["exempt"][0] == "198.51.100.7"


def test_docker_without_trunk_names_asks_the_host_nothing():
    plugin, seen = make("fail2ban", {})
    result = plugin.run(task_vars={"ansible_connection": "community.docker.docker",
                                   "asterisk_sip_subscribers": OFFICE["asterisk_sip_subscribers"]})
    assert not result.get("failed") and seen == []
    assert result["plan"]["expect"]["jails"]


@pytest.mark.parametrize("facts, asked", [({"installed": True, "major": 16, "has_chan_sip": True}, False),
                                          ({"installed": False}, True)])
def test_the_sip_concern_reads_the_major_from_the_facts_or_the_package(facts, asked):
    plugin, seen = make("sip", {"vpbx.hardened.asterisk_package_info": {"major": 22}})
    # The SIP plan holds the module set, which holds the dialplan's features: OFFICE has no dialplan.
    result = plugin.run(task_vars=dict(OFFICE, asterisk_sip_driver="chan_sip", ansible_facts={"asterisk": facts},
                                       asterisk_dialplan_enabled=False))
    assert [name for name, _args, _become in seen] == (["vpbx.hardened.asterisk_package_info"] if asked else [])
    if asked:  # an install would bring Asterisk 22: chan_sip refused, before anything changed
        assert result["failed"] and "chan_sip was removed in Asterisk 21" in result["msg"]
        assert "_ansible_no_log" not in result  # the refusal names paths, never a secret
    else:
        assert not result.get("failed") and result["_ansible_no_log"] is True
        assert result["plan"]["major"] == 16


def test_a_failing_host_read_is_the_plans_failure():
    plugin, _seen = make("core", {"vpbx.hardened.asterisk_package_info": {
        "failed": True, "msg": "Debian bookworm is not supported: Debian 12 and 13 ship no Asterisk"}})
    result = plugin.run(task_vars={})
    assert result["failed"] and result["msg"].startswith("Debian bookworm is not supported")


def test_an_unknown_concern_is_refused():
    plugin, _seen = make("everything", {})
    with pytest.raises(action.AnsibleActionFail):
        plugin.run(task_vars={})


@pytest.mark.parametrize("task_vars, first_lines", [
    ({}, ";\n; Ansible managed\n;\n"),
    ({"ansible_managed": "Written by the PBX team's Ansible - do not edit"},
     ";\n; Written by the PBX team's Ansible - do not edit\n;\n"),
])
def test_the_files_are_headed_by_ansible_managed_as_the_template_lookup_writes_it(task_vars, first_lines):
    plugin, _seen = make("dialplan", {})
    result = plugin.run(task_vars=dict(OFFICE, asterisk_dialplan_contexts=[{"name": "office"}], **task_vars))
    assert not result.get("failed"), result
    assert result["plan"]["files"]["extensions.conf"].startswith(
        first_lines + "; vpbx.hardened: extensions.conf rendered by vpbx.hardened.asterisk_dialplan\n")


PACKAGE = {"vpbx.hardened.asterisk_package_info": {"major": 22, "version": "22.10.1", "installed": None},
           "vpbx.hardened.host_probe": {"resolved": {"sip.example.net": ["198.51.100.7"]},
                                        "env": {"SSH_CONNECTION": "203.0.113.5 1 192.0.2.1 22"}}}
EVERY = ["core", "sip", "dialplan", "firewall", "fail2ban"]
INSTALLED = {"ansible_facts": {"asterisk": {"installed": True, "major": 22, "has_chan_sip": False}},
             "asterisk_dialplan_contexts": [{"name": "office"}], "ansible_connection": "ssh"}


def test_every_concern_is_planned_in_one_task_asking_each_question_once():
    plugin, seen = make(EVERY, PACKAGE)
    result = plugin.run(task_vars=dict(OFFICE, **INSTALLED))
    assert not result.get("failed"), result
    assert sorted(result["plan"]) == sorted(EVERY) and result["_ansible_no_log"] is True
    # The firewall and fail2ban both resolve the trunk: the host is asked once.
    assert [name for name, _args, _become in seen] == ["vpbx.hardened.asterisk_package_info",
                                                       "vpbx.hardened.host_probe"]
    assert result["plan"]["fail2ban"]["plan"] == plugin_plan("fail2ban")["plan"]


def plugin_plan(concern):
    """The same concern planned alone: the list plans each exactly as its role does."""
    plugin, _seen = make(concern, PACKAGE)
    return plugin.run(task_vars=dict(OFFICE, **INSTALLED))["plan"]


@pytest.mark.parametrize("switched_off, planned", [
    ({}, EVERY),                                                   # positive control: all of them
    ({"asterisk_dialplan_enabled": False, "asterisk_fail2ban_enabled": "no"}, ["core", "sip", "firewall"]),
])
def test_a_list_plans_only_the_enabled_roles_concerns(switched_off, planned):
    plugin, _seen = make(EVERY, PACKAGE)
    result = plugin.run(task_vars=dict(OFFICE, **INSTALLED, **switched_off))
    assert not result.get("failed"), result
    assert sorted(result["plan"]) == sorted(planned)


def test_a_list_fails_with_the_first_concerns_problems_before_asking_further():
    plugin, seen = make(EVERY, PACKAGE)
    bad = dict(OFFICE["asterisk_sip_subscribers"][0], permit=["192.0.2.1/24"])
    result = plugin.run(task_vars=dict(OFFICE, **dict(INSTALLED, asterisk_sip_subscribers=[bad])))
    assert result["failed"] and result["msg"].startswith("Invalid subscriber/trunk model - nothing was changed:")
    assert "has host bits set" in result["msg"] and "_ansible_no_log" not in result
    assert [name for name, _args, _become in seen] == ["vpbx.hardened.asterisk_package_info"]


def loaded(tmp_path, text, encrypt=False, name="vars.yml"):
    """The variables of a vars file as Ansible loads them (each value tagged with where it was written)."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.parsing.vault import VaultLib, VaultSecret

    secret = VaultSecret(b"unit-test-vault-password")
    path = tmp_path / name
    path.write_bytes(VaultLib([("default", secret)]).encrypt(text) if encrypt else text.encode())
    loader = DataLoader()
    loader.set_vault_secrets([("default", secret)])
    return loader.load_from_file(str(path))


def test_a_secret_written_in_clear_text_is_found_with_its_file_and_line(tmp_path):
    clear = loaded(tmp_path, "---\nother: 1\nasterisk_cdr_database_password: c3f1e0a9d8b7465f9e2d1c0b\n")
    assert action.clear_text_origin(clear["asterisk_cdr_database_password"]) == "%s line 3" % (tmp_path / "vars.yml")
    # From a vault-encrypted file, the same value passes; so does an empty one, or one from no file (-e, a lookup).
    vaulted = loaded(tmp_path, "asterisk_cdr_database_password: c3f1e0a9d8b7465f9e2d1c0b\n", encrypt=True,
                     name="vault.yml")
    assert vaulted["asterisk_cdr_database_password"] == "c3f1e0a9d8b7465f9e2d1c0b"
    assert action.clear_text_origin(vaulted["asterisk_cdr_database_password"]) is None
    assert action.clear_text_origin("") is None and action.clear_text_origin("c3f1e0a9d8b7465f9e2d1c0b") is None


def test_an_inline_vault_value_passes(tmp_path, monkeypatch):
    from ansible.parsing.vault import VaultLib, VaultSecret, VaultSecretsContext

    monkeypatch.setattr(VaultSecretsContext, "_current",
                        VaultSecretsContext([("default", VaultSecret(b"unit-test-vault-password"))]))
    cipher = VaultLib([("default", VaultSecret(b"unit-test-vault-password"))]).encrypt("c3f1e0a9d8b7465f9e2d1c0b")
    text = "asterisk_cdr_database_password: !vault |\n" + "".join(
        "  %s\n" % line for line in cipher.decode().splitlines())
    inline = loaded(tmp_path, text)["asterisk_cdr_database_password"]
    assert action.clear_text_origin(inline) is None
    # Decrypted (as the action's templar hands it over), it is still known as a vault value.
    decrypted = inline._decrypt()
    assert decrypted == "c3f1e0a9d8b7465f9e2d1c0b" and action.clear_text_origin(decrypted) is None
