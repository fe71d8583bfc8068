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


OS_RELEASE = {
    "bullseye": 'PRETTY_NAME="Debian GNU/Linux 11 (bullseye)"\nNAME="Debian GNU/Linux"\nVERSION_ID="11"\n'
                'VERSION="11 (bullseye)"\nVERSION_CODENAME=bullseye\nID=debian\n',
    "bookworm": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n',
    "forky": 'PRETTY_NAME="Debian GNU/Linux forky/sid"\nNAME="Debian GNU/Linux"\nVERSION_CODENAME=forky\nID=debian\n',
    "jammy": 'NAME="Ubuntu"\nVERSION_ID="22.04"\nVERSION_CODENAME=jammy\nID=ubuntu\nID_LIKE=debian\n'
             'UBUNTU_CODENAME=jammy\n',
    "raspbian": 'PRETTY_NAME="Raspbian GNU/Linux 11 (bullseye)"\nNAME="Raspbian GNU/Linux"\nVERSION_ID="11"\n'
                'VERSION_CODENAME=bullseye\nID=raspbian\nID_LIKE=debian\n',
    "mint": 'NAME="Linux Mint"\nVERSION_ID="21.3"\nVERSION_CODENAME=virginia\nID=linuxmint\nID_LIKE="ubuntu debian"\n'
            'UBUNTU_CODENAME=jammy\n',
}
PLATFORMS = {"Debian": {"bullseye": "Debian 11 (Asterisk 16)", "forky": "Debian testing (Asterisk 22)"},
             "Ubuntu": {"jammy": "Ubuntu 22.04 (Asterisk 18)"}}


@pytest.mark.parametrize("name, platform", [
    ("bullseye", {"distribution": "Debian", "version": "11", "release": "bullseye"}),
    ("forky", {"distribution": "Debian", "version": "", "release": "forky"}),
    ("jammy", {"distribution": "Ubuntu", "version": "22.04", "release": "jammy"}),
    # Raspbian is Debian's archive rebuilt, and Debian to Ansible's facts: accepted as before.
    ("raspbian", {"distribution": "Debian", "version": "11", "release": "bullseye"}),
    # A derivative is named as it names itself, not as the distribution it is like.
    ("mint", {"distribution": "Linux Mint", "version": "21.3", "release": "virginia"}),
])
def test_supported_platforms_pass_and_are_reported(capsys, monkeypatch, tmp_path, name, platform):
    (tmp_path / "os-release").write_text(OS_RELEASE[name])
    monkeypatch.setattr(asterisk_package_info, "read_platform",
                        lambda: asterisk_package_info.parse_os_release((tmp_path / "os-release").read_text()))
    result, failed = run_module(asterisk_package_info.main, dict(platforms=PLATFORMS), capsys, commands())
    if name == "mint":
        assert failed and "Linux Mint 21.3 (virginia) has no asterisk package" in result["msg"]
        return
    assert not failed and result["platform"] == platform


def test_an_unsupported_platform_is_refused_before_apt_runs(capsys, monkeypatch):
    monkeypatch.setattr(asterisk_package_info, "read_platform",
                        lambda: asterisk_package_info.parse_os_release(OS_RELEASE["bookworm"]))
    cmds = Commands({})  # any command would fail the test
    result, failed = run_module(asterisk_package_info.main,
                                dict(platforms=PLATFORMS, update_cache=True, platform_hint="Use Debian 11."),
                                capsys, cmds)
    assert failed and cmds.calls == []
    assert result["msg"] == (
        "Debian 12 (bookworm) has no asterisk package in its archive, so vpbx.hardened.asterisk cannot install "
        "it. Supported platforms: Debian 11 (Asterisk 16), Debian testing (Asterisk 22), Ubuntu 22.04 (Asterisk 18)."
        " Use Debian 11.")


def test_without_platforms_nothing_is_refused(capsys, monkeypatch):
    monkeypatch.setattr(asterisk_package_info, "read_platform",
                        lambda: asterisk_package_info.parse_os_release(OS_RELEASE["bookworm"]))
    result, failed = run_module(asterisk_package_info.main, {}, capsys, commands())
    assert not failed and result["platform"]["release"] == "bookworm"


def test_no_os_release_is_an_unknown_platform(capsys, monkeypatch, tmp_path):
    missing = asterisk_package_info.read_platform(str(tmp_path / "none"))
    assert missing == {"distribution": "unknown", "version": "", "release": ""}
    monkeypatch.setattr(asterisk_package_info, "read_platform", lambda: missing)
    result, failed = run_module(asterisk_package_info.main, dict(platforms=PLATFORMS), capsys, Commands({}))
    assert failed and result["msg"].startswith("unknown (no version) (no codename) has no asterisk package")
