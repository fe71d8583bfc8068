# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: preload
type: aggregate
short_description: Load the collection's filter and action plugins once, before any task runs
version_added: 0.1.0
description:
  - Ansible runs every task in a worker process forked from C(ansible-playbook), and a worker
    imports each filter plugin its templates use and the action plugin it runs - with the
    collection code they import, compiled from source each time (the collection loader keeps no
    bytecode). The roles of this collection template its filters in most tasks and run the
    C(vpbx.hardened.plan) action at the start of each role, so every task paid for those imports
    again.
  - This callback imports the collection's filter and action plugins once, in C(ansible-playbook)
    itself, when the run starts, with the controller libraries the plan uses (C(zxcvbn), which
    builds its word lists when imported, and C(phonenumbers)). Every worker forked after that has
    them already. It prints nothing and changes nothing else; on a re-run of the site playbook it
    saves about 2 seconds, and it is part of what took a quarter off the controller's CPU per host
    of a fleet, with the secrets judged once and the core's files rendered once (see
    C(docs/performance.md)).
  - When a play starts, it also loads the connection plugins the inventory's hosts use (their
    C(ansible_connection), and the configured default transport) once, in C(ansible-playbook). A
    worker otherwise reads the connection plugin's documentation again for every task and host, to
    learn its settings.
  - Enable it with C(callbacks_enabled = vpbx.hardened.preload) in the C([defaults]) section of
    C(ansible.cfg), or C(ANSIBLE_CALLBACKS_ENABLED=vpbx.hardened.preload) in the environment
    (keep the callbacks you enable already in the same list).
requirements:
  - enabled in the configuration (callbacks_enabled)
"""

import importlib
import os

from ansible import constants as C
from ansible.plugins.callback import CallbackBase
from ansible.plugins.loader import connection_loader

_PLUGINS = "ansible_collections.vpbx.hardened.plugins"
_FILTERS = _PLUGINS + ".filter"
# What the plan action imports only when it judges a secret or reads a numbering plan.
LIBRARIES = ("zxcvbn", "zxcvbn.matching", "phonenumbers")


def preload(directory=None, package=_FILTERS):
    """Import every plugin of one kind of the collection (the filter plugins unless `package` says
    otherwise; and through them the module_utils they use). Returns the names imported; a plugin
    that fails to import is left for Ansible to report when a task uses it."""
    directory = directory or os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                          package.rsplit(".", 1)[1])
    loaded = []
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".py") or name.startswith("_"):
            continue
        try:
            importlib.import_module("%s.%s" % (package, name[:-3]))
        except Exception:  # noqa: BLE001 - a broken plugin fails where it is used, with Ansible's message
            continue
        loaded.append(name[:-3])
    return loaded


def preload_libraries(names=LIBRARIES):
    """Import the controller libraries the plugins import lazily; a missing one is left for the
    plugin to report (with the pip command that installs it). Returns the names imported."""
    loaded = []
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:
            continue
        loaded.append(name)
    return loaded


def preload_connections(names):
    """Load each connection plugin in `names` once (its settings, read from its documentation, stay
    with the process and every worker forked from it). Templated, empty and unknown names are left
    to Ansible. Returns the names loaded."""
    loaded = []
    for name in sorted({n for n in names if isinstance(n, str) and n and "{" not in n}):
        try:
            plugin = connection_loader.get(name, class_only=True)
        except Exception:  # noqa: BLE001 - an unknown or broken plugin fails where it is used
            continue
        if plugin is not None:
            loaded.append(name)
    return loaded


def inventory_connections(inventory):
    """The connection plugin names the inventory's hosts and groups set (ansible_connection), and
    the configured default transport."""
    names = {C.DEFAULT_TRANSPORT}
    if inventory is None:
        return names
    for host in inventory.hosts.values():
        names.add(host.vars.get("ansible_connection"))
    for group in inventory.groups.values():
        names.add(group.vars.get("ansible_connection"))
    return names


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "vpbx.hardened.preload"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None, options=None):
        super().__init__(display=display, options=options)
        self.preloaded = preload()
        self.preloaded_actions = preload(package=_PLUGINS + ".action")
        self.preloaded_libraries = preload_libraries()
        self._display.vvvv("vpbx.hardened.preload: imported filter plugins %s, action plugins %s, libraries %s" % (
            ", ".join(self.preloaded), ", ".join(self.preloaded_actions), ", ".join(self.preloaded_libraries)))
        self.preloaded_connections = []

    def v2_playbook_on_play_start(self, play):
        inventory = getattr(getattr(play, "_variable_manager", None), "_inventory", None)
        self.preloaded_connections = preload_connections(inventory_connections(inventory))
        self._display.vvvv("vpbx.hardened.preload: loaded connection plugins %s" % ", ".join(self.preloaded_connections))
