# SPDX-License-Identifier: GPL-3.0-or-later
"""Feature expansion and dependency closure, on the module catalogs captured from the Debian
packages of Asterisk 16.28 and 22.10."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.vpbx.hardened.plugins.module_utils import asterisk_features as af

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
PJSIP_OFFICE = ["pjsip", "codecs_g711", "formats", "voicemail", "recording", "queues", "conference",
                "transfer", "device_state"]


def catalog(version):
    with open(os.path.join(FIXTURES, "asterisk%d-module-deps.json" % version), encoding="utf-8") as handle:
        return json.load(handle)


def assert_closed_and_ordered(result, cat):
    names = [m[:-3] for m in result["modules"]]
    position = {m: i for i, m in enumerate(names)}
    for module in names:
        for dep in cat[module]["requires"] + cat[module]["enhances"]:
            assert dep in af.BUILTINS or dep in position, "%s requires %s" % (module, dep)
            if dep in position:
                assert position[dep] < position[module], "%s must load before %s" % (dep, module)
    assert len(names) == len(set(names))


@pytest.mark.parametrize("version, features, must, count_max", [
    (16, ["reference_office"], ["chan_sip", "app_voicemail", "app_queue", "app_confbridge", "app_mixmonitor",
                                "res_parking", "res_musiconhold", "app_directory", "cdr_csv", "codec_gsm",
                                "codec_g722", "format_wav", "func_devstate", "app_echo", "pbx_config"], 70),
    (22, PJSIP_OFFICE, ["chan_pjsip", "res_pjsip", "res_pjproject", "res_sorcery_astdb", "res_pjsip_refer",
                        "res_pjsip_mwi", "res_pjsip_exten_state", "app_voicemail"], 75),
    (16, [], ["pbx_config", "res_security_log", "res_rtp_asterisk", "app_dial"], 30),
])
def test_plans_are_closed_ordered_and_lean(version, features, must, count_max):
    cat = catalog(version)
    result = af.plan(features, [], [], cat, major=version)
    assert result["missing"] == {}
    assert_closed_and_ordered(result, cat)
    for module in must:
        assert module + ".so" in result["modules"]
    for never in ("chan_iax2", "chan_skinny", "chan_mgcp", "chan_unistim", "pbx_dundi", "pbx_lua", "pbx_ael",
                  "app_system", "res_pjsip_endpoint_identifier_anonymous"):
        assert never + ".so" not in result["modules"]
    assert len(result["modules"]) <= count_max


def test_reference_office_has_no_pjsip_driver():
    modules = af.plan(["reference_office"], [], [], catalog(16), major=16)["modules"]
    assert "chan_pjsip.so" not in modules and "res_pjsip_refer.so" not in modules


@pytest.mark.parametrize("features, present, absent", [
    (["transfer"], ["bridge_builtin_features.so"], ["res_pjsip_refer.so", "res_pjsip.so"]),
    (["transfer", "pjsip"], ["res_pjsip_refer.so"], []),
    (["voicemail"], ["app_voicemail.so"], ["res_pjsip_mwi.so"]),
    (["voicemail", "pjsip"], ["res_pjsip_mwi.so", "res_pjsip_mwi_body_generator.so"], []),
])
def test_with_other_feature(features, present, absent):
    modules = af.plan(features, [], [], catalog(22), major=22)["modules"]
    assert all(m in modules for m in present)
    assert not any(m in modules for m in absent)


def test_reasons_and_stubs():
    result = af.plan(["pjsip", "voicemail"], ["app_echo.so"], [], catalog(22), major=22)
    assert result["reasons"]["chan_pjsip.so"] == "feature pjsip"
    assert result["reasons"]["res_pjproject.so"].startswith("required by ")
    assert result["reasons"]["app_echo.so"] == "asterisk_modules_extra"
    assert result["stubs"] == ["extensions.conf", "voicemail.conf"]


def test_patterns_follow_the_installed_modules():
    modules = af.plan(["codecs_all"], [], [], catalog(22), major=22)["modules"]
    assert "codec_opus_open_source.so" in modules  # only 22 ships it
    assert "codec_opus_open_source.so" not in af.plan(["codecs_all"], [], [], catalog(16), major=16)["modules"]


@pytest.mark.parametrize("features, extra, exclude, version, message", [
    (["pjsip", "voicmail"], [], [], 22, r"asterisk_modules_features\[1\]: 'voicmail' is not a known feature "
     r"\(did you mean 'voicemail'\?\)"),
    ([], ["app_doesnotexist.so"], [], 22, r"asterisk_modules_extra\[0\]: 'app_doesnotexist.so' is not an installed"),
    ([], ["app_dail.so"], [], 22, r"did you mean 'app_dial.so'"),
    (["chan_sip"], [], [], 22, r"chan_sip was removed from Asterisk 21"),
    ([], ["chan_sip.so"], [], 22, r"asterisk_modules_extra\[0\]: chan_sip was removed"),
    (["pjsip"], [], ["res_pjproject.so"], 22, r"asterisk_modules_exclude: res_pjproject.so is required by"),
])
def test_bad_input(features, extra, exclude, version, message):
    with pytest.raises(af.PlanError, match=message):
        af.plan(features, extra, exclude, catalog(version), major=version)


def test_missing_module_names_its_package():
    result = af.plan(["mp3"], [], [], catalog(16), major=16)
    assert result["missing"] == {"format_mp3": "asterisk-mp3"}
    result = af.plan([], ["format_mp3.so"], [], catalog(22), major=22)
    assert result["missing"] == {"format_mp3": "asterisk-mp3"}


def test_missing_voicemail_package_on_a_host_without_it():
    cat = catalog(16)
    del cat["app_voicemail"]
    assert af.plan(["voicemail"], [], [], cat, major=16)["missing"] == {"app_voicemail": "asterisk-voicemail"}


def test_exclude_drops_a_feature_module():
    modules = af.plan(["conference"], [], ["bridge_softmix"], catalog(22), major=22)["modules"]
    assert "bridge_softmix.so" not in modules and "app_confbridge.so" in modules


def test_every_feature_module_exists_in_a_supported_version():
    both = set(catalog(16)) | set(catalog(22))
    for name, spec in af.FEATURES.items():
        for module in spec.get("modules", []) + [m for ms in spec.get("with", {}).values() for m in ms]:
            assert module in both or module in af.PACKAGES, "%s: %s is in no catalog" % (name, module)
        for included in spec.get("includes", []):
            assert included in af.FEATURES
