# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import json
import os
import shutil

import pytest

from ansible_collections.vpbx.hardened.plugins.modules import asterisk_module_plan

from .moduletest import run_module
from .test_asterisk_module import FakeAsterisk


@pytest.fixture
def env(tmp_path, module_dir):
    binary = tmp_path / "asterisk"
    binary.write_text("")
    return dict(moddir=str(module_dir), binary=str(binary), requests=str(tmp_path / "facts.d" / "requests.fact"))


def plan(capsys, env, fake, **params):
    args = dict(module_dir=env["moddir"], binary=env["binary"], requests_file=env["requests"], major=22, **params)
    return run_module(asterisk_module_plan.main, args, capsys, fake)


def test_to_load_and_to_unload(capsys, env):
    fake = FakeAsterisk(["pbx_config.so", "chan_iax2.so", "res_pjsip.so"])
    result, failed = plan(capsys, env, fake, features=["echo_test"])
    assert not failed and not result["changed"] and result["running"]
    assert "app_echo.so" in result["to_load"] and "pbx_config.so" not in result["to_load"]
    assert result["to_unload"] == ["res_pjsip.so", "chan_iax2.so"]  # not in the set


def test_autoload_mode_only_unloads_the_excluded(capsys, env):
    fake = FakeAsterisk(["pbx_config.so", "chan_iax2.so", "res_pjsip.so"])
    result, _unused = plan(capsys, env, fake, mode="autoload", exclude=["chan_iax2.so"])
    assert result["to_unload"] == ["chan_iax2.so"]


def test_stored_requests_are_merged(capsys, env):
    os.makedirs(os.path.dirname(env["requests"]))
    with open(env["requests"], "w", encoding="utf-8") as handle:
        json.dump({"requests": {"asterisk_dialplan": ["voicemail"]}}, handle)
    fake = FakeAsterisk([])
    result, _unused = plan(capsys, env, fake, features=["pjsip"], requester="asterisk_sip", request=["srtp"])
    assert result["requests"] == {"asterisk_dialplan": ["voicemail"], "asterisk_sip": ["srtp"]}
    assert {"app_voicemail.so", "res_srtp.so", "chan_pjsip.so"} <= set(result["modules"])
    # the module itself never writes: the role stores result.requests (check mode aware)
    with open(env["requests"], encoding="utf-8") as handle:
        assert json.load(handle) == {"requests": {"asterisk_dialplan": ["voicemail"]}}


@pytest.mark.parametrize("stored, asked, expected", [
    ({"asterisk_sip": ["srtp", "pjsip"]}, ["pjsip", "srtp", "pjsip"], True),  # same set, any order
    ({"asterisk_sip": ["pjsip"]}, ["pjsip", "srtp"], False),                 # asks for more
    ({"asterisk_dialplan": ["voicemail"]}, ["pjsip"], False),                # never asked before
])
def test_request_stored_says_whether_the_role_asks_anything_new(capsys, env, stored, asked, expected):
    os.makedirs(os.path.dirname(env["requests"]))
    with open(env["requests"], "w", encoding="utf-8") as handle:
        json.dump({"requests": stored}, handle)
    result, _unused = plan(capsys, env, FakeAsterisk([]), requester="asterisk_sip", request=asked)
    assert result["request_stored"] is expected


def test_no_requester_never_counts_as_stored(capsys, env):
    result, _unused = plan(capsys, env, FakeAsterisk([]), features=["pjsip"])
    assert result["request_stored"] is False


def test_bad_feature_fails_naming_the_variable(capsys, env):
    result, failed = plan(capsys, env, FakeAsterisk([]), features=["queus"])
    assert failed and "asterisk_modules_features[0]: 'queus' is not a known feature" in result["msg"]


def test_request_needs_requester(capsys, env):
    result, failed = plan(capsys, env, FakeAsterisk([]), request=["srtp"])
    assert failed and "requester" in result["msg"]


def test_not_running(capsys, env):
    os.remove(env["binary"])
    result, failed = plan(capsys, env, FakeAsterisk([]), features=["pjsip"])
    assert not failed and not result["running"] and result["to_load"] == [] and result["to_unload"] == []


def test_missing_module_dir(capsys, env):
    shutil.rmtree(env["moddir"])
    result, failed = plan(capsys, env, FakeAsterisk([]))
    assert failed and "does not exist" in result["msg"]


def test_loaded_but_not_running_modules_of_the_set_are_reported(capsys, env):
    fake = FakeAsterisk(["pbx_config.so", "app_echo.so", "chan_iax2.so"])
    fake.loaded["app_echo.so"] = "Not Running"
    fake.loaded["chan_iax2.so"] = "Not Running"  # not in the set: to unload, not reported
    result, failed = plan(capsys, env, fake, features=["echo_test"])
    assert not failed and result["not_running"] == ["app_echo.so"]
    assert "app_echo.so" not in result["to_load"]

    fake.loaded["app_echo.so"] = "Running"
    result, failed = plan(capsys, env, fake, features=["echo_test"])
    assert not failed and result["not_running"] == []


def test_files_reports_the_written_files_and_the_stubs_of_the_plan(capsys, env, tmp_path):
    confdir = tmp_path / "etc"
    confdir.mkdir()
    (confdir / "modules.conf").write_text("[modules]\nautoload = no\n")
    fake = FakeAsterisk([])
    result, failed = plan(capsys, env, fake, features=["voicemail"], stubs_dir=str(confdir),
                          files=[str(confdir / "modules.conf"), env["requests"]])
    assert not failed and "voicemail.conf" in result["stubs"]
    assert len(result["files"][str(confdir / "modules.conf")]["sha1"]) == 40
    assert result["files"][env["requests"]] is None  # not written yet
    assert set(result["files"]) == {str(confdir / "modules.conf"), env["requests"]} | {
        str(confdir / stub) for stub in result["stubs"]}
    # Without the options: nothing read.
    result, _unused = plan(capsys, env, fake, features=["voicemail"])
    assert result["files"] == {}
