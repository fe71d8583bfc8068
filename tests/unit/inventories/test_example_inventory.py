# SPDX-License-Identifier: GPL-3.0-or-later
"""The example inventory is the reference how-to's office: it must validate and render on both
drivers, with its vault-encrypted secrets."""

from __future__ import annotations

import hashlib
import pathlib

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.parsing.vault import VaultSecret
from ansible.template import Templar, trust_as_template

from ansible_collections.vpbx.hardened.plugins.module_utils import dialplan
from ansible_collections.vpbx.hardened.plugins.module_utils import firewall
from ansible_collections.vpbx.hardened.plugins.module_utils import sip_model

EXAMPLE = pathlib.Path(__file__).resolve().parents[3] / "inventories" / "example"
# The example's secrets are published (its vault password is in the repository): refused anywhere
# but in the tests of the example itself.
PUBLISHED_OK = {"allow_published_secrets": True}


@pytest.fixture(scope="module")
def example_vars():
    loader = DataLoader()
    password = (EXAMPLE / "vault-password.example.txt").read_text().strip().encode()
    loader.set_vault_secrets([("default", VaultSecret(password))])
    variables = {}
    for path in sorted((EXAMPLE / "group_vars" / "pbx").glob("*.yml")):
        variables.update(loader.load_from_file(str(path)) or {})
    # ansible-playbook trusts inventory files as templates; do the same here.
    variables = _trusted(variables)
    templar = Templar(loader=loader, variables=variables)
    names = ["asterisk_sip_subscribers", "asterisk_sip_trunks", "asterisk_sip_subscriber_defaults",
             "asterisk_sip_driver", "asterisk_sip_transports", "asterisk_firewall_ssh_sources",
             "asterisk_rtp_port_start", "asterisk_rtp_port_end", "asterisk_dialplan_contexts",
             "asterisk_dialplan_routes", "asterisk_dialplan_inbound"]
    return {name: templar.template(variables[name]) for name in names}


def _trusted(value):
    if isinstance(value, dict):
        return {k: _trusted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_trusted(v) for v in value]
    if isinstance(value, str):
        return trust_as_template(value)
    return value


def test_the_vault_is_encrypted():
    assert (EXAMPLE / "group_vars" / "pbx" / "vault.yml").read_text().startswith("$ANSIBLE_VAULT;")
    assert "vault_asterisk_sip_secrets" not in (EXAMPLE / "group_vars" / "pbx" / "vault.yml").read_text()


@pytest.mark.parametrize("driver", ["chan_sip", "pjsip"])
def test_the_office_renders_on_both_drivers(example_vars, driver):
    model = sip_model.normalize(
        example_vars["asterisk_sip_subscribers"], example_vars["asterisk_sip_trunks"],
        example_vars["asterisk_sip_subscriber_defaults"], None, {"driver": driver, "major": 16, **PUBLISHED_OK})
    assert [(s["extension"], s["name"]) for s in model["subscribers"]] == [("1001", "Director"), ("1002", "Secretary")]
    assert [t["name"] for t in model["trunks"]] == ["sipnet"]
    assert model["trunks"][0]["register"] and model["trunks"][0]["from_domain"] == "sipnet.ru"
    rendered = sip_model.render(model, {"user_agent": "PBX"})
    names = [s["name"] for s in rendered["sections"]]
    assert {"1001", "1002", "sipnet"} <= set(names)
    public = repr(rendered["sections"])
    for item in model["subscribers"] + model["trunks"]:
        assert item["secret"] and item["secret"] not in public
        assert item["secret"] in repr(rendered["secret_sections"])


def test_the_example_driver_is_the_how_tos(example_vars):
    assert example_vars["asterisk_sip_driver"] == "chan_sip"


def test_chan_sip_example_refused_on_asterisk_22(example_vars):
    with pytest.raises(sip_model.ModelError, match="asterisk_sip_driver: chan_sip was removed in Asterisk 21"):
        sip_model.normalize(example_vars["asterisk_sip_subscribers"], example_vars["asterisk_sip_trunks"],
                            example_vars["asterisk_sip_subscriber_defaults"], None,
                            {"driver": "chan_sip", "major": 22, **PUBLISHED_OK})


def test_inline_vault_values_reach_the_model(tmp_path):
    """A secret written inline with !vault (not in a vault file) is decrypted for the model the plan
    action builds, the way ansible-playbook does it (localhost only, the SIP plan asks the host
    nothing, nothing is changed)."""
    import os
    import subprocess
    import sys

    from ansible.parsing.vault import VaultLib

    (tmp_path / "pw").write_text("inline-test-password\n")
    ciphertext = VaultLib([("default", VaultSecret(b"inline-test-password"))]).encrypt("Zq7#kP2m!Lr9vX4t").decode()
    vault = "".join("          %s\n" % line for line in ciphertext.splitlines())
    (tmp_path / "play.yml").write_text(
        "- hosts: localhost\n  gather_facts: false\n  vars:\n    asterisk_sip_subscribers:\n"
        "      - extension: '1001'\n        permit: [192.0.2.0/24]\n        secret: !vault |\n" + vault
        + "  tasks:\n    - vpbx.hardened.plan:\n        concern: sip\n      register: planned\n"
        "    - ansible.builtin.debug:\n"
        "        msg: \"{{ planned.plan.model.subscribers[0].secret | length }}"
        "-{{ planned.plan.model.subscribers[0].secret == 'Zq7#kP2m!Lr9vX4t' }}\"\n")
    root = pathlib.Path(__file__).resolve().parents[3]
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(root / ".ansible" / "collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    proc = subprocess.run([playbook, "--vault-password-file", str(tmp_path / "pw"),
                           str(tmp_path / "play.yml")], capture_output=True, text=True, env=env, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert '"msg": "16-True"' in proc.stdout, proc.stdout


def test_the_office_firewall_opens_sip_to_the_office_and_the_trunk_only(example_vars):
    model = sip_model.normalize(
        example_vars["asterisk_sip_subscribers"], example_vars["asterisk_sip_trunks"],
        example_vars["asterisk_sip_subscriber_defaults"], None,
        {"driver": example_vars["asterisk_sip_driver"], "transports": example_vars["asterisk_sip_transports"],
         "major": 16, **PUBLISHED_OK})
    plan = firewall.plan(model, {"ssh_sources": example_vars["asterisk_firewall_ssh_sources"],
                                 "rtp_start": example_vars["asterisk_rtp_port_start"],
                                 "rtp_end": example_vars["asterisk_rtp_port_end"],
                                 # What sipnet.ru resolves to on the PBX (documentation address here).
                                 "resolved": {"sipnet.ru": ["192.0.2.80"]}})
    assert [r["label"] for r in plan["rules"]] == [
        "limit 22/tcp from 203.0.113.0/24 (ssh)",
        "allow 5060/udp from 192.0.2.80 (sip-udp)",
        "allow 5060/udp from 198.51.100.7 (sip-udp)",
        "allow 10000:20000/udp from 192.0.2.80 (rtp)",
        "allow 10000:20000/udp from 198.51.100.7 (rtp)",
    ]


@pytest.mark.parametrize("driver", ["chan_sip", "pjsip"])
def test_the_office_dialplan_is_the_how_tos_and_closed(example_vars, driver):
    model = sip_model.normalize(
        example_vars["asterisk_sip_subscribers"], example_vars["asterisk_sip_trunks"],
        example_vars["asterisk_sip_subscriber_defaults"], None, {"driver": driver, "major": 16, **PUBLISHED_OK})
    plan = dialplan.normalize(model, example_vars["asterisk_dialplan_contexts"],
                              example_vars["asterisk_dialplan_routes"], example_vars["asterisk_dialplan_inbound"])
    sections = {s["name"]: "\n".join(s["lines"]) for s in dialplan.render(plan)}
    assert set(sections) == {"general", "globals", "default", "homeoffice", "vpbx-limit", "vpbx-costly", "vpbx-refused",
                             "sipnet-trunk"}
    tech = "SIP" if driver == "chan_sip" else "PJSIP"
    home = sections["homeoffice"]
    assert "Dial(%s/1001,30)" % tech in home
    assert "exten => _8[34]XXXXXXXXX,1," in home and "exten => _89XXXXXXXXX,1," in home
    assert "exten => _88[1-7]XXXXXXXX,1," in home
    assert "Set(VPBX_NUMBER=7${VPBX_NUMBER:1})" in home
    assert "sipnet" not in sections["default"] and "Busy" in sections["default"]
    assert "Dial(%s/1002,30)" % tech in sections["sipnet-trunk"]
    # The how-to's catch-all Russian route would reach 8-10 (international), 8-7xx (Kazakhstan)
    # and 8-809 (premium); without 8-7xx, the premium range is still in it.
    for pattern, reached in (("_8XXXXXXXXXX", "an international number: KZ shares country code +7"),
                             ("_88XXXXXXXXX", "a premium-rate number of RU")):
        with pytest.raises(dialplan.DialplanError) as exc:
            dialplan.normalize(model, example_vars["asterisk_dialplan_contexts"],
                               [{"name": "ru-landline", "pattern": pattern, "trunk": "sipnet"}]
                               + example_vars["asterisk_dialplan_routes"][1:])
        assert exc.value.errors[0].startswith("asterisk_dialplan_routes[0] (ru-landline).pattern: %r can reach %s"
                                              % (pattern, reached)), exc.value.errors
    assert dialplan.features(plan) == ["voicemail", "echo_test"]


def test_the_example_s_published_secrets_are_refused_anywhere_else(example_vars):
    with pytest.raises(sip_model.ModelError) as exc:
        sip_model.normalize(example_vars["asterisk_sip_subscribers"], example_vars["asterisk_sip_trunks"],
                            example_vars["asterisk_sip_subscriber_defaults"], None,
                            {"driver": "chan_sip", "major": 16})
    assert [e.split(":")[0] for e in exc.value.errors] == [
        "asterisk_sip_subscribers[0] (extension 1001).secret", "asterisk_sip_subscribers[1] (extension 1002).secret",
        "asterisk_sip_subscribers[1] (extension 1002).voicemail_pin", "asterisk_sip_trunks[0] (sipnet).secret"]
    assert all("is published in the collection's example inventory" in e for e in exc.value.errors)


def test_the_published_list_is_exactly_the_example_vault():
    loader = DataLoader()
    loader.set_vault_secrets([("default", VaultSecret((EXAMPLE / "vault-password.example.txt").read_text().strip()
                                                      .encode()))])
    vault = loader.load_from_file(str(EXAMPLE / "group_vars" / "pbx" / "vault.yml"))
    values = list(vault["vault_asterisk_sip_secrets"].values()) + list(vault["vault_asterisk_voicemail_pins"].values())
    assert {hashlib.sha256(str(v).encode()).hexdigest() for v in values} == sip_model.PUBLISHED_SECRETS
