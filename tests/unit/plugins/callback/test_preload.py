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
    assert "ansible_collections.vpbx.hardened.plugins.module_utils.sip_model" in sys.modules


def test_a_plugin_that_cannot_be_imported_is_left_to_ansible(tmp_path):
    (tmp_path / "no_such_plugin.py").write_text("")
    (tmp_path / "_private.py").write_text("")
    (tmp_path / "README.md").write_text("")
    assert preload.preload(str(tmp_path)) == []


def test_the_callback_preloads_when_ansible_creates_it():
    callback = preload.CallbackModule()
    assert "sip" in callback.preloaded and callback.CALLBACK_NEEDS_ENABLED


def test_the_action_plugins_and_the_plan_libraries_are_imported_in_the_parent():
    assert "plan" in preload.preload(package="ansible_collections.vpbx.hardened.plugins.action")
    assert "ansible_collections.vpbx.hardened.plugins.action.plan" in sys.modules
    assert "ansible_collections.vpbx.hardened.plugins.module_utils.numbering" in sys.modules
    assert preload.preload_libraries() == list(preload.LIBRARIES)
    assert preload.preload_libraries(["vpbx_no_such_library"]) == []


def test_the_callback_preloads_the_plan_action_and_its_libraries():
    callback = preload.CallbackModule()
    assert callback.preloaded_actions == ["plan"] and "zxcvbn" in callback.preloaded_libraries
