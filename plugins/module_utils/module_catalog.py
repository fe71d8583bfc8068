# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
"""What the host says about Asterisk's modules: the dependency declarations of every installed
module (read from the .so files themselves) and the feature requests roles outside the collection
stored (asterisk_module_plan, asterisk_modules_apply)."""

from __future__ import annotations

import json
import os

from collections.abc import Mapping

from ansible_collections.vpbx.hardened.plugins.module_utils.asterisk_elf import ElfError, read_module_file


EMPTY = {"requires": [], "optional": [], "enhances": []}


class Catalog(Mapping):
    """The installed modules by name (without .so): {requires, optional, enhances} of each, read
    from its .so file only when asked - a plan reads the modules it wants and those running, not
    the whole directory (350 files on Debian)."""

    def __init__(self, module, module_dir):
        self.module, self.module_dir = module, module_dir
        self.names = sorted(name[:-3] for name in os.listdir(module_dir) if name.endswith(".so"))
        self.known, self.read = set(self.names), {}

    def __contains__(self, name):
        return name in self.known

    def __iter__(self):
        return iter(self.names)

    def __len__(self):
        return len(self.names)

    def __getitem__(self, name):
        if name not in self.known:
            raise KeyError(name)
        if name not in self.read:
            try:
                info = read_module_file(os.path.join(self.module_dir, name + ".so"))
            except (ElfError, OSError) as exc:
                self.module.warn("cannot read %s.so: %s" % (name, exc))
                info = None
            self.read[name] = {k: info[k] for k in EMPTY} if info else dict(EMPTY)
        return self.read[name]


def read_catalog(module, module_dir):
    """The Catalog of the installed modules; fails when the directory does not exist."""
    if not os.path.isdir(module_dir):
        module.fail_json(msg="Asterisk module directory %s does not exist: is Asterisk installed? Run "
                             "vpbx.hardened.asterisk (or the site playbook) first." % module_dir)
    return Catalog(module, module_dir)


def read_requests(path):
    """{requester: [features]} stored in the requests file; {} when it is missing or unreadable."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    requests = data.get("requests", {}) if isinstance(data, dict) else {}
    return {str(k): [str(f) for f in v] for k, v in requests.items() if isinstance(v, list)}
