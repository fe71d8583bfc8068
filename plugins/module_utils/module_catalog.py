# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
"""What the host says about Asterisk's modules: the dependency declarations of every installed
module (read from the .so files themselves) and the feature requests roles outside the collection
stored (asterisk_module_plan, asterisk_modules_apply)."""

from __future__ import annotations

import json
import os

from ansible_collections.vpbx.hardened.plugins.module_utils.asterisk_elf import ElfError, read_module_file


def read_catalog(module, module_dir):
    """{module name without .so: {requires, optional, enhances}} of every installed module."""
    if not os.path.isdir(module_dir):
        module.fail_json(msg="Asterisk module directory %s does not exist: is Asterisk installed? Run "
                             "vpbx.hardened.asterisk (or the site playbook) first." % module_dir)
    catalog = {}
    for name in sorted(os.listdir(module_dir)):
        if not name.endswith(".so"):
            continue
        try:
            info = read_module_file(os.path.join(module_dir, name))
        except (ElfError, OSError) as exc:
            module.warn("cannot read %s: %s" % (name, exc))
            continue
        if info:
            catalog[name[:-3]] = {k: info[k] for k in ("requires", "optional", "enhances")}
    return catalog


def read_requests(path):
    """{requester: [features]} stored in the requests file; {} when it is missing or unreadable."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    requests = data.get("requests", {}) if isinstance(data, dict) else {}
    return {str(k): [str(f) for f in v] for k, v in requests.items() if isinstance(v, list)}
