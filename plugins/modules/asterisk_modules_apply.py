#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: asterisk_modules_apply
short_description: Apply the Asterisk module set in one run - modules.conf, load and unload at runtime, verify
version_added: 0.1.0
description:
  - Resolves the features into modules from the installed modules' own dependency declarations
    (as M(vpbx.hardened.asterisk_module_plan) does), writes C(modules.conf), the closed stubs some
    modules need to load (only where no file exists) and the feature requests other roles stored
    (O(requests_file)), then - when Asterisk runs - unloads what is no longer wanted (dependents
    first), loads what is missing (dependencies first) and reads Asterisk back - every module of
    the set C(Running), nothing left to load or unload - failing with what Asterisk logged.
  - Asterisk restarts only when it refuses to unload a module (one in use or pinned by the core).
  - When the running Asterisk is not the installed version (a package upgrade not applied yet), only
    C(modules.conf) and the stubs are written - the restart that applies the upgrade loads them.
  - The modules of the O(hold) features (the SIP drivers, outside the asterisk_sip role) are
    neither loaded nor unloaded, and C(modules.conf) lists them as they run (Asterisk stopped, as
    the current C(modules.conf) lists them) - the role that writes their configuration switches
    them, after it wrote it.
  - When modules are missing, with O(install_packages), or when every missing module comes from an
    O(installable) feature, it installs their packages (C(apt-get install --no-install-recommends))
    first; otherwise it fails naming the packages, before anything is written.
  - Nothing is remembered - every run reads the installed modules, the running Asterisk and the files.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - vpbx.hardened.asterisk
  - vpbx.hardened.module_set
  - vpbx.hardened.module_set.apply
attributes:
  platform:
    platforms: debian
  check_mode:
    support: full
    details: Writes, loads and unloads nothing; the result says what would change.
  diff_mode:
    support: full
author:
  - vpbx.hardened contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Apply the module set, the SIP drivers left to the asterisk_sip role
  vpbx.hardened.asterisk_modules_apply:
    features: [pjsip, codecs_g711, voicemail]
    hold: [pjsip, chan_sip]
    module_dir: /usr/lib/x86_64-linux-gnu/asterisk/modules
    major: 22
  register: module_set
"""

RETURN = r"""
modules:
  description: The load list this run applied (load order), held modules included only while they run.
  returned: success
  type: list
  elements: str
features:
  description: The features selected, expanded.
  returned: success
  type: list
  elements: str
running:
  description: Whether Asterisk ran (and answered C(module show)) when the run started.
  returned: always
  type: bool
loaded:
  description: The modules Asterisk had loaded when the run ended (when it runs).
  returned: success
  type: list
  elements: str
to_load:
  description: Modules loaded by this run (in check mode, to be loaded).
  returned: success
  type: list
  elements: str
to_unload:
  description: Modules unloaded by this run (in check mode, to be unloaded).
  returned: success
  type: list
  elements: str
upgrade_pending:
  description: Whether the running Asterisk is not the installed version (nothing loaded or unloaded then).
  returned: when Asterisk runs and nothing failed
  type: bool
restarted:
  description: Whether Asterisk was restarted because it refused an unload (RV(refused)).
  returned: success
  type: bool
refused:
  description: Modules Asterisk refused to unload at runtime.
  returned: success
  type: list
  elements: str
changed_files:
  description: The files written (or to be written in check mode).
  returned: success
  type: list
  elements: str
missing:
  description: Missing modules and the package that ships each.
  returned: always
  type: dict
packages:
  description: Packages installed for missing modules (in check mode, to be installed; nothing else is predicted then).
  returned: always
  type: list
  elements: str
documentation_current:
  description: Whether O(documentation) was trimmed from its source for the modules running now (false when not asked).
  returned: success
  type: bool
documentation:
  description: What the documentation step changed (C(changes), in check mode what it would change).
  returned: when O(documentation) is given and the set applied
  type: dict
documentation_error:
  description: Why the documentation could not be trimmed or given back (the run fails).
  returned: on that failure
  type: str
requests:
  description: The stored requests of roles outside the collection, after this run.
  returned: success
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vpbx.hardened.plugins.module_utils import module_set


def main():
    module = AnsibleModule(argument_spec=dict(module_set.OPTIONS), supports_check_mode=True)
    try:
        out = module_set.apply(module, module.params)
    except module_set.SetError as exc:
        module.fail_json(msg=exc.msg, **exc.out)
    if out.get("documentation_error"):
        module.fail_json(msg="The module set runs, but its XML documentation: %s" % out["documentation_error"], **out)
    module.exit_json(**out)


if __name__ == "__main__":
    main()
