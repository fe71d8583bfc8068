# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


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
