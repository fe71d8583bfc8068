#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: asterisk_xmldoc
short_description: Trim Asterisk's XML documentation to what the running Asterisk registered
version_added: 0.1.0
description:
  - Asterisk parses its whole XML documentation at start and keeps it in memory (about 29 MiB for
    Debian's C(core-en_US.xml)). This module writes O(path) as a copy of the full documentation
    O(source) that keeps only what the running Asterisk can look up - the applications, dialplan
    functions and manager actions it registered, the loaded modules' own entries, the AGI commands
    when C(res_agi) is loaded - plus every C(configInfo) (a module using the configuration
    framework refuses to load without it) and everything those entries include.
  - The running Asterisk keeps what it parsed at its start; the trimmed file is read at the next
    start. The copy begins with a comment naming the SHA-256 of O(source), so a start-up check can
    tell that the package changed the full documentation since (see the asterisk_modules role).
  - Use it with the package's file diverted to O(source) (M(community.general.dpkg_divert)), so that
    package upgrades update the full documentation, not the trimmed copy.
author:
  - vpbx.hardened contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  platform:
    platforms: debian
  check_mode:
    support: full
    details: Reads Asterisk and compares; writes nothing. Before the diversion exists, O(path) is read as the source.
  diff_mode:
    support: partial
    details: The diff names the sizes and the kinds of entries kept, not the 1.5 MB of XML.
options:
  path:
    description: The documentation file Asterisk reads.
    type: path
    default: /usr/share/asterisk/documentation/core-en_US.xml
  source:
    description: The package's full documentation (where the diversion put it). Defaults to O(path) with C(.distrib) appended.
    type: path
  modules:
    description:
      - The loadable modules running in Asterisk (C(module show), status C(Running)), for example
        the asterisk_modules_plan module's C(loaded) after its verification. The copy names the
        digest of the running modules it was made for; when that and O(source) are the same,
        nothing is asked of Asterisk and nothing is written.
      - Without it Asterisk is asked every time.
    type: list
    elements: str
  binary:
    description: The Asterisk executable, for its CLI.
    type: path
    default: /usr/sbin/asterisk
notes:
  - Asterisk must be running with the wanted module set loaded. When it cannot be asked, or its
    answers cannot be used, the module fails and changes nothing - except that a missing O(path)
    gets the full documentation, so that Asterisk always finds a readable file.
  - When the running Asterisk is not the installed version (an upgrade not restarted yet), O(path)
    gets the full documentation, with a warning.
  - A module loaded by hand later finds its help text missing (Asterisk logs a warning; the module
    works) until this runs again and Asterisk restarts.
"""

EXAMPLES = r"""
- name: Keep the package's full documentation aside
  community.general.dpkg_divert:
    path: /usr/share/asterisk/documentation/core-en_US.xml
    divert: /usr/share/asterisk/documentation/core-en_US.xml.distrib
    rename: true

- name: Trim the documentation to the running module set
  vpbx.hardened.asterisk_xmldoc:
"""

RETURN = r"""
path:
  description: The file written.
  returned: always
  type: str
source_sha256:
  description: SHA-256 of the full documentation, as stamped in the trimmed copy.
  returned: always
  type: str
size:
  description: Size of the trimmed copy in bytes.
  returned: always
  type: int
source_size:
  description: Size of the full documentation in bytes.
  returned: always
  type: int
kept:
  description: Entries kept, by kind.
  returned: always
  type: dict
  sample: {application: 12, function: 30, manager: 90, configInfo: 35, info: 14}
dropped:
  description: Entries dropped, by kind.
  returned: always
  type: dict
complete:
  description: False when an include could not be followed and the whole documentation was kept.
  returned: always
  type: bool
registered:
  description: How many applications, functions, manager actions and modules the running Asterisk
    registered (empty when it was not asked).
  returned: always
  type: dict
asked:
  description: Whether Asterisk was asked; false when the copy was already made from O(source) for O(modules)
    (then C(kept) and C(dropped) are empty).
  returned: always
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vpbx.hardened.plugins.module_utils import asterisk_xmldoc as xmldoc


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", default="/usr/share/asterisk/documentation/core-en_US.xml"),
            source=dict(type="path"),
            modules=dict(type="list", elements="str"),
            binary=dict(type="path", default="/usr/sbin/asterisk"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        result = xmldoc.apply(module, p["path"], p["source"], p["modules"], p["binary"])
    except xmldoc.TrimError as exc:
        module.fail_json(msg=exc.msg, **exc.result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
