# SPDX-License-Identifier: GPL-3.0-or-later
"""The roles' orchestration stays readable: no role reads another role's internal (`__`)
variables, and no condition is too long to read in one breath (it belongs in Python then)."""

from __future__ import annotations

import pathlib
import re

import pytest
import yaml

ROLES = pathlib.Path(__file__).resolve().parents[3] / "roles"
NAMES = sorted(p.name for p in ROLES.iterdir() if p.is_dir())
CONDITIONS = ("when", "that", "failed_when", "changed_when")
LONGEST = 150  # characters, whitespace collapsed


def files(role):
    return sorted(p for sub in ("tasks", "handlers", "vars") for p in (ROLES / role / sub).glob("*.yml"))


def owner(variable):
    """The role a `__<role>_...` variable belongs to: the longest role name it starts with."""
    return max((name for name in NAMES if variable.startswith(name + "_") or variable == name), key=len, default=None)


def foreign_reads(role, text):
    return sorted({"__" + v for v in re.findall(r"__(asterisk[a-z0-9_]*)", text) if owner(v) not in (None, role)})


def conditions(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in CONDITIONS:
                yield from (v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str))
            yield from conditions(value)
    elif isinstance(node, list):
        for item in node:
            yield from conditions(item)


@pytest.mark.parametrize("role", NAMES)
def test_no_role_reads_another_roles_internal_variables(role):
    found = {str(path.relative_to(ROLES)): foreign_reads(role, path.read_text()) for path in files(role)}
    assert {path: names for path, names in found.items() if names} == {}


def test_the_check_finds_a_foreign_read():
    # The positive control: the check sees a read of the SIP role's plan from the firewall role.
    assert foreign_reads("asterisk_firewall", "when: __asterisk_sip_plan.plan.model | length") == ["__asterisk_sip_plan"]
    assert foreign_reads("asterisk_sip", "when: __asterisk_sip_plan.plan.model | length") == []


@pytest.mark.parametrize("role", NAMES)
def test_every_condition_reads_in_one_breath(role):
    long = [(str(path.relative_to(ROLES)), " ".join(text.split()))
            for path in files(role) for text in conditions(yaml.safe_load(path.read_text()))
            if len(" ".join(text.split())) > LONGEST]
    assert long == []
