# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection's filters, each in its own plugin file with its own documentation (ansible-doc -t
filter shows the one it asks for), each parsing what the real command prints."""
from __future__ import annotations

import importlib
import os

import pytest
from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.yaml import yaml_load

FILTERS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "plugins", "filter")
FIXTURES = os.path.join(os.path.dirname(__file__), "..", "module_utils", "fixtures")


def filter_module(name):
    return importlib.import_module("ansible_collections.vpbx.hardened.plugins.filter." + name)


def fixture(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as handle:
        return handle.read()


NAMES = sorted(n[:-3] for n in os.listdir(FILTERS) if n.endswith(".py") and not n.startswith("_"))


@pytest.mark.parametrize("name", NAMES)
def test_each_filter_file_holds_one_filter_documented_under_its_own_name(name):
    module = filter_module(name)
    assert list(module.FilterModule().filters()) == [name]
    doc = yaml_load(module.DOCUMENTATION)
    assert doc["name"] == name and doc["short_description"] and doc["options"]["_input"]
    assert yaml_load(module.EXAMPLES) and "_value" in yaml_load(module.RETURN)


def run(name, *args):
    return filter_module(name).FilterModule().filters()[name](*args)


@pytest.mark.parametrize("name, text, key, expected", [
    ("asterisk_settings", "\nRTP settings:\n  Port start:     10000\n  Port end:       20000\n", "Port start", "10000"),
    ("asterisk_settings", "Not indented: x\n  Manager (AMI):  Enabled\n", "Manager (AMI)", "Enabled"),
])
def test_asterisk_settings(name, text, key, expected):
    settings = run(name, text)
    assert settings[key] == expected and "Not indented" not in settings


def test_asterisk_settings_of_nothing_is_empty():
    assert run("asterisk_settings", None) == {}


def test_asterisk_module_show_reads_the_table_and_refuses_anything_else():
    parsed = run("asterisk_module_show", fixture("asterisk22-moduleshow.txt"))
    assert parsed["modules"]["res_pjsip.so"]["status"] == "Running" and parsed["count"] == 364
    with pytest.raises(AnsibleFilterError):
        run("asterisk_module_show", fixture("asterisk22-nosuch.txt"))


@pytest.mark.parametrize("skip_tags, documented", [([], True), (["asterisk_modules_documentation"], False)])
def test_asterisk_module_set_adds_what_the_host_knows(skip_tags, documented):
    facts = {"module_dir": "/usr/lib/x86_64-linux-gnu/asterisk/modules", "major": 22,
             "documentation": {"file": "/usr/share/asterisk/documentation/core-en_US.xml"}}
    the_set = run("asterisk_module_set", {"features": ["pjsip"], "documentation": {"trim": True}}, facts, skip_tags)
    assert the_set["features"] == ["pjsip"] and the_set["module_dir"] == facts["module_dir"] and the_set["major"] == 22
    if documented:
        assert the_set["documentation"] == {"trim": True, "path": "/usr/share/asterisk/documentation/core-en_US.xml"}
    else:
        assert the_set["documentation"] is None


def test_ufw_status_reads_state_policies_and_rules():
    text = ("Status: active\nLogging: on (low)\nDefault: deny (incoming), allow (outgoing), deny (routed)\n"
            "New profiles: skip\n\nTo                         Action      From\n"
            "--                         ------      ----\n"
            "22/tcp                     LIMIT IN    Anywhere                   # vpbx.hardened ssh\n")
    status = run("ufw_status", text)
    assert status["active"] is True and status["logging"] == "low"
    assert status["defaults"] == {"incoming": "deny", "outgoing": "allow", "routed": "deny"}
    assert [(r["port"], r["proto"], r["action"]) for r in status["rules"]] == [("22", "tcp", "limit")]
    assert run("ufw_status", "Status: inactive\n") == {"active": False, "logging": "off", "defaults": {}, "rules": []}
