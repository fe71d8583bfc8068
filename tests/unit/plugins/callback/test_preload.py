# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import os
import sys

from ansible_collections.vpbx.hardened.plugins.callback import preload

FILTERS = os.path.join(os.path.dirname(preload.__file__), "..", "filter")


def test_every_filter_plugin_is_imported_once_in_the_parent():
    names = sorted(n[:-3] for n in os.listdir(FILTERS) if n.endswith(".py") and not n.startswith("_"))
    assert names and preload.preload() == names
    for name in names:
        assert "ansible_collections.vpbx.hardened.plugins.filter." + name in sys.modules
    # ... and the collection code they import, which a forked worker then inherits.
    assert "ansible_collections.vpbx.hardened.plugins.module_utils.firewall" in sys.modules


def test_a_plugin_that_cannot_be_imported_is_left_to_ansible(tmp_path):
    (tmp_path / "no_such_plugin.py").write_text("")
    (tmp_path / "_private.py").write_text("")
    (tmp_path / "README.md").write_text("")
    assert preload.preload(str(tmp_path)) == []


def test_the_callback_preloads_when_ansible_creates_it():
    callback = preload.CallbackModule()
    assert "ss_listeners" in callback.preloaded and callback.CALLBACK_NEEDS_ENABLED


def test_the_action_plugins_and_the_plan_libraries_are_imported_in_the_parent():
    assert "plan" in preload.preload(package="ansible_collections.vpbx.hardened.plugins.action")
    assert "ansible_collections.vpbx.hardened.plugins.action.plan" in sys.modules
    assert "ansible_collections.vpbx.hardened.plugins.module_utils.numbering" in sys.modules
    assert preload.preload_libraries() == list(preload.LIBRARIES)
    assert preload.preload_libraries(["vpbx_no_such_library"]) == []


def test_the_callback_preloads_the_plan_action_and_its_libraries():
    callback = preload.CallbackModule()
    assert callback.preloaded_actions == ["plan"] and "zxcvbn" in callback.preloaded_libraries


class _Holder:
    def __init__(self, connection=None):
        self.vars = {} if connection is None else {"ansible_connection": connection}


class _Inventory:
    def __init__(self, hosts, groups):
        self.hosts = {str(i): _Holder(c) for i, c in enumerate(hosts)}
        self.groups = {str(i): _Holder(c) for i, c in enumerate(groups)}


def test_the_inventory_names_its_connection_plugins_and_the_default_transport():
    from ansible import constants as C

    names = preload.inventory_connections(_Inventory(["community.docker.docker", None], ["local", None]))
    assert {"community.docker.docker", "local", C.DEFAULT_TRANSPORT} <= names
    assert preload.inventory_connections(None) == {C.DEFAULT_TRANSPORT}


def test_a_connection_plugin_is_loaded_once_with_its_settings_and_odd_names_are_left_to_ansible():
    from ansible import constants as C

    C.config._plugins.get("connection", {}).pop("ssh", None)  # as in a run where nothing loaded it yet
    assert not C.config.has_configuration_definition("connection", "ssh")
    loaded = preload.preload_connections(["ssh", "{{ conn }}", "", None, "vpbx_no_such_connection"])
    assert loaded == ["ssh"]
    # What a worker would otherwise read from the plugin's documentation for every task and host.
    assert C.config.has_configuration_definition("connection", "ssh")


def test_the_callback_loads_the_connections_of_the_play_inventory():
    class Manager:
        _inventory = _Inventory(["local"], [])

    class Play:
        _variable_manager = Manager()

    callback = preload.CallbackModule()
    callback.v2_playbook_on_play_start(Play())
    assert "local" in callback.preloaded_connections
