# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import os

import pytest

from ansible_collections.vpbx.hardened.plugins.modules import asterisk_package_info

from .moduletest import Commands, run_module

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "module_utils", "fixtures")
MADISON16 = open(os.path.join(FIXTURES, "asterisk16-madison.txt"), encoding="utf-8").read()


def commands(madison=MADISON16, status=(1, "", "dpkg-query: no packages found matching asterisk\n")):
    return Commands({
        ("apt-cache", "madison"): (0, madison, ""),
        ("dpkg-query", "-W"): status,
        ("apt-get", "update"): (0, "", ""),
    })


@pytest.fixture(autouse=True)
def fresh_lists(monkeypatch):
    monkeypatch.setattr(asterisk_package_info, "lists_age", lambda: 10)


@pytest.mark.parametrize("pin, resolved", [
    ("", ""),
    ("16", "1:16.28.0~dfsg-0+deb11u4"),
    ("1:16.28.*", "1:16.28.0~dfsg-0+deb11u4"),
    ("16.28.0~dfsg-0+deb11u4", "1:16.28.0~dfsg-0+deb11u4"),
])
def test_resolves_pins(capsys, pin, resolved):
    result, failed = run_module(asterisk_package_info.main, dict(version=pin), capsys, commands())
    assert not failed and not result["changed"]
    assert result["resolved"] == resolved
    assert result["available"] == ["1:16.28.0~dfsg-0+deb11u4"]
    assert result["installed"] is False


def test_unknown_pin_lists_available_versions(capsys):
    result, failed = run_module(asterisk_package_info.main, dict(version="1:99.9"), capsys, commands())
    assert failed
    assert "asterisk_version '1:99.9' matches no asterisk package" in result["msg"]
    assert "Available: 1:16.28.0~dfsg-0+deb11u4" in result["msg"]


def test_no_package_at_all(capsys):
    result, failed = run_module(asterisk_package_info.main, {}, capsys, commands(madison=""))
    assert failed and "No asterisk package is available" in result["msg"]


def test_installed_and_held(capsys):
    held = (1, "asterisk\thold ok installed\t1:16.28.0~dfsg-0+deb11u4\n"
               "asterisk-config\tinstall ok installed\t1:16.28.0~dfsg-0+deb11u4\n",
            "dpkg-query: no packages found matching asterisk-nope\n")
    cmds = commands(status=held)
    result, failed = run_module(asterisk_package_info.main, dict(related=["asterisk-config", "asterisk-nope"]),
                                capsys, cmds)
    assert not failed
    assert result["installed"] is True
    assert result["installed_version"] == "1:16.28.0~dfsg-0+deb11u4"
    assert result["packages"] == {"asterisk": {"version": "1:16.28.0~dfsg-0+deb11u4", "selection": "hold"},
                                  "asterisk-config": {"version": "1:16.28.0~dfsg-0+deb11u4", "selection": "install"}}
    assert cmds.calls[-1][-3:] == ["asterisk", "asterisk-config", "asterisk-nope"]


@pytest.mark.parametrize("age, check_mode, updated", [(None, False, True), (7200, False, True), (10, False, False),
                                                      (None, True, False)])
def test_update_cache(capsys, monkeypatch, age, check_mode, updated):
    monkeypatch.setattr(asterisk_package_info, "lists_age", lambda: age)
    cmds = commands()
    result, failed = run_module(asterisk_package_info.main, dict(update_cache=True, cache_valid_time=3600),
                                capsys, cmds, check_mode=check_mode)
    assert not failed
    assert result["cache_updated"] is updated
    assert (["apt-get", "update", "-q"] in cmds.calls) is updated
    assert result["changed"] is False
