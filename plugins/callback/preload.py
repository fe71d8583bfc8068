# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors

from __future__ import annotations

DOCUMENTATION = r"""
---
name: preload
type: aggregate
short_description: Load the collection's filter plugins once, before any task runs
version_added: 0.9.0
description:
  - Ansible runs every task in a worker process forked from C(ansible-playbook), and a worker
    imports each filter plugin its templates use - with the collection code it imports, compiled
    from source each time (the collection loader keeps no bytecode). The roles of this
    collection template its filters in most tasks, so every task paid for those imports again.
  - This callback imports the collection's filter plugins once, in C(ansible-playbook) itself, when
    the run starts. Every worker forked after that has them already. It prints nothing and changes
    nothing else; on a re-run of the site playbook it saves about 2 seconds (see
    C(docs/performance.md)).
  - Enable it with C(callbacks_enabled = vpbx.hardened.preload) in the C([defaults]) section of
    C(ansible.cfg), or C(ANSIBLE_CALLBACKS_ENABLED=vpbx.hardened.preload) in the environment
    (keep the callbacks you enable already in the same list).
requirements:
  - enabled in the configuration (callbacks_enabled)
"""

import importlib
import os

from ansible.plugins.callback import CallbackBase

_FILTERS = "ansible_collections.vpbx.hardened.plugins.filter"


def preload(directory=None):
    """Import every filter plugin of the collection (and through them the module_utils they use).
    Returns the names imported; a plugin that fails to import is left for Ansible to report when a
    template uses it."""
    directory = directory or os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "filter")
    loaded = []
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".py") or name.startswith("_"):
            continue
        try:
            importlib.import_module("%s.%s" % (_FILTERS, name[:-3]))
        except Exception:  # noqa: BLE001 - a broken plugin fails where it is used, with Ansible's message
            continue
        loaded.append(name[:-3])
    return loaded


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "vpbx.hardened.preload"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None, options=None):
        super().__init__(display=display, options=options)
        self.preloaded = preload()
        self._display.vvvv("vpbx.hardened.preload: imported filter plugins %s" % ", ".join(self.preloaded))
