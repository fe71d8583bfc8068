# SPDX-License-Identifier: GPL-3.0-or-later
"""asterisk_elf reads AST_MODULE_INFO from a shared object. The test builds a small .so with the
same struct layout as Asterisk 16-22 (gcc is on the test machines), and reads the dependency
data captured from the real modules of Asterisk 16 and 22 (fixtures/*-module-deps.json were
produced by this reader from the Debian packages)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from ansible_collections.vpbx.hardened.plugins.module_utils import asterisk_elf

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")

MODULE_C = r"""
struct ast_module_info {
    void *self;
    int (*load)(void);
    int (*reload)(void);
    int (*unload)(void);
    const char *name;
    const char *description;
    const char *key;
    unsigned int flags;
    const char buildopt_sum[33];
    unsigned char load_pri;
    const char *requires;
    const char *optional_modules;
    const char *enhances;
    void *reserved1, *reserved2, *reserved3, *reserved4;
    unsigned int support_level;
};
static int load(void) { return 0; }
static struct ast_module_info __mod_info = {
    .load = load,
    .name = "res_vpbx_test",
    .description = "A test module",
    .key = "This paragraph is copyright (c) 2006 by Digium, Inc. In order for your module to load, "
           "it must return this key via a function called \"key\".",
    .buildopt_sum = "",
    .requires = "res_pjsip,res_pjsip_session",
    .optional_modules = "res_statsd",
    %(enhances)s
};
struct ast_module_info *vpbx_info(void) { return &__mod_info; }
"""


def build(tmp_path, name, source):
    if not shutil.which("gcc"):
        pytest.fail("gcc is needed to build the test module (apt-get install gcc)")
    src = tmp_path / (name + ".c")
    src.write_text(source)
    out = tmp_path / (name + ".so")
    subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-o", str(out), str(src)], check=True)
    return str(out)


@pytest.mark.parametrize("enhances, expected", [("", []), ('.enhances = "app_queue",', ["app_queue"])])
def test_reads_module_info(tmp_path, enhances, expected):
    path = build(tmp_path, "res_vpbx_test", MODULE_C % {"enhances": enhances})
    info = asterisk_elf.read_module_file(path)
    assert info == {
        "name": "res_vpbx_test",
        "description": "A test module",
        "requires": ["res_pjsip", "res_pjsip_session"],
        "optional": ["res_statsd"],
        "enhances": expected,
    }


def test_library_without_module_info(tmp_path):
    path = build(tmp_path, "libplain", "int vpbx_answer(void) { return 42; }\n")
    assert asterisk_elf.read_module_file(path) is None


@pytest.mark.parametrize("data, message", [
    (b"#!/bin/sh\n", "not an ELF file"),
    (b"\x7fELF\x01\x01" + b"\0" * 60, "64-bit little-endian"),
])
def test_rejects_other_files(data, message):
    with pytest.raises(asterisk_elf.ElfError, match=message):
        asterisk_elf.read_module_info(data)


@pytest.mark.parametrize("version, module, requires, optional", [
    (16, "chan_sip", ["ccss", "dnsmgr", "udptl"], ["res_crypto", "res_http_websocket"]),
    (16, "chan_pjsip", ["res_pjsip", "res_pjsip_session", "res_pjsip_pubsub"], []),
    (16, "app_queue", [], ["res_monitor"]),
    (22, "res_pjsip", ["dnsmgr", "res_pjproject", "res_sorcery_config", "res_sorcery_memory", "res_sorcery_astdb"],
     ["res_geolocation", "res_statsd"]),
    (22, "res_ari", ["http", "res_stasis", "res_http_websocket", "res_websocket_client"], ["res_ari_model"]),
])
def test_captured_catalogs(version, module, requires, optional):
    with open(os.path.join(FIXTURES, "asterisk%d-module-deps.json" % version), encoding="utf-8") as handle:
        catalog = json.load(handle)
    assert catalog[module]["requires"] == requires
    assert catalog[module]["optional"] == optional
    assert len(catalog) == {16: 336, 22: 351}[version]
