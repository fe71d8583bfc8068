# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import re

from ansible.module_utils.common.yaml import yaml_dump, yaml_load

from ansible_collections.vpbx.hardened.plugins.doc_fragments.asterisk import ModuleDocFragment as _Asterisk


class ModuleDocFragment:
    # Options of the modules that resolve the module set from the installed modules.
    DOCUMENTATION = r"""
options:
  features:
    description: The features of the module set (the C(core) feature is always added).
    type: list
    elements: str
    default: []
  extra:
    description: Further modules by file name (C(app_echo.so)); their dependencies are added too.
    type: list
    elements: str
    default: []
  exclude:
    description: Modules never loaded (in C(autoload) mode the C(noload) list); a module another one requires cannot be excluded.
    type: list
    elements: str
    default: []
  mode:
    description:
      - C(explicit) (modules.conf C(autoload = no)) wants exactly the load list loaded.
      - C(autoload) (C(autoload = yes)) only wants O(exclude) unloaded.
    type: str
    choices: [explicit, autoload]
    default: explicit
  requests_file:
    description: JSON file holding the stored requests of other roles (an Ansible local fact file).
    type: path
    default: /etc/ansible/facts.d/vpbx_asterisk_modules.fact
  module_dir:
    description: Directory of the installed modules.
    type: path
    required: true
  major:
    description: Asterisk major version (modules removed in 21 are refused by name).
    type: int
"""

    # The further options of the module that applies a set (asterisk_modules_apply).
    APPLY = r"""
options:
  hold:
    description: Features whose modules this run neither loads nor unloads (what no other feature needs).
    type: list
    elements: str
    default: []
  install_packages:
    description: Install the packages of missing modules (C(apt-get)) instead of failing.
    type: bool
    default: false
  installable:
    description: Features whose missing modules may be installed even without O(install_packages).
    type: list
    elements: str
    default: []
  requester:
    description: A role outside the collection asking for O(request); stored in O(requests_file) and kept by later runs.
    type: str
  request:
    description: The features O(requester) asks for (replacing its earlier request).
    type: list
    elements: str
    default: []
  own_requesters:
    description: Names whose stored requests are dropped (the collection's roles, whose features come from the inventory).
    type: list
    elements: str
    default: []
  conf_dir:
    description: Asterisk's configuration directory.
    type: path
    default: /etc/asterisk
  owner:
    description: Owner of C(modules.conf) and the stubs (mode C(0640)).
    type: str
    default: root
  group:
    description: Group of C(modules.conf) and the stubs.
    type: str
    default: asterisk
  header:
    description: The first lines of every file written (the C(ansible_managed) comment).
    type: str
    default: ";\n; Ansible managed\n;"
  stubs:
    description: The text of each stub by file name; those the set needs are written where no file exists.
    type: dict
    default: {}
  dropins:
    description: systemd drop-ins by path (root, C(0644)); C(systemctl daemon-reload) runs when one changed.
    type: dict
    default: {}
  documentation:
    description:
      - Asterisk's XML documentation, trimmed to what the running Asterisk registered (see
        M(vpbx.hardened.asterisk_xmldoc)) once the set runs - the package's file diverted to C(source)
        (C(dpkg-divert --rename)) so that upgrades update the full file - or, with C(trim=false), the
        package's file given back and C(dropin), the start check of the trimmed copy, removed.
      - The copy names the digests of its source and of the modules it was made for; when both still
        fit, Asterisk is not asked. Read at Asterisk's next start. Nothing is trimmed while Asterisk is
        stopped or runs an older version than the one installed.
    type: dict
    suboptions:
      path:
        description: The documentation file Asterisk reads.
        type: path
      source:
        description: Where the package's full file is diverted to (O(documentation.path) with C(.distrib) when left out).
        type: path
      trim:
        description: Trim (true) or give the package its file back (false).
        type: bool
        default: true
      dropin:
        description: The systemd drop-in holding the start check, removed with C(trim=false).
        type: path
  log_file:
    description: Asterisk's log, quoted when a module does not run.
    type: path
    default: /var/log/asterisk/messages.log
"""


def _as_suboptions(*fragments):
    """The options of `fragments` as the suboptions of a module_set option, their O() references
    made relative to it (O(exclude) -> O(module_set.exclude))."""
    options = {}
    for text in fragments:
        options.update(yaml_load(text)["options"])
    names = "|".join(sorted(options, key=len, reverse=True))
    dumped = yaml_dump({"options": {"module_set": {"suboptions": options}}}, sort_keys=False, width=1000)
    return re.sub(r"O\((%s)([.=)])" % names, r"O(module_set.\1\2", dumped)


# asterisk_apply takes every option of a set as the suboptions of its own module_set option
# (vpbx.hardened.module_set.module_set_option).
ModuleDocFragment.MODULE_SET_OPTION = _as_suboptions(ModuleDocFragment.DOCUMENTATION, ModuleDocFragment.APPLY,
                                                     _Asterisk.DOCUMENTATION)
