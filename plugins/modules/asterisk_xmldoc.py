#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors

from __future__ import annotations

DOCUMENTATION = r"""
---
module: asterisk_xmldoc
short_description: Trim Asterisk's XML documentation to what the running Asterisk registered
version_added: 0.9.0
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
  - vpbx.hardened contributors
attributes:
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

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vpbx.hardened.plugins.module_utils.asterisk import (
    ParseError,
    cli_error,
    parse_module_show,
    parse_version,
)
from ansible_collections.vpbx.hardened.plugins.module_utils.asterisk_xmldoc import (
    DocumentationError,
    modules_key,
    parse_applications,
    parse_functions,
    parse_manager_commands,
    read_key,
    read_stamp,
    registered,
    sha256,
    trim,
)
from ansible_collections.vpbx.hardened.plugins.module_utils.files import write_atomic

COMMANDS = ("core show version", "module show", "core show applications", "core show functions",
            "manager show commands")


class Refusal(Exception):
    """Asterisk cannot be asked, or its answers cannot be used: nothing is trimmed."""


def ask(module):
    """What the running Asterisk registered (registered() shape), the counts, the running modules'
    digest (modules_key) and its version."""
    outputs = {}
    for command in COMMANDS:
        rc, out, err = module.run_command([module.params["binary"], "-rx", command])
        text = (out or "") + (err or "")
        reason = cli_error(text) or (None if rc == 0 else "rc=%d" % rc)
        if reason:
            raise Refusal("Asterisk CLI command %r failed: %s. The documentation is trimmed to what the running "
                          "Asterisk registered: start Asterisk with its module set first. Output: %s"
                          % (command, reason, text.strip()[:500]))
        outputs[command] = out
    try:
        version = parse_version(outputs["core show version"])["version"]
        modules = parse_module_show(outputs["module show"])["modules"]
        applications = parse_applications(outputs["core show applications"])
        functions = parse_functions(outputs["core show functions"])
        actions = parse_manager_commands(outputs["manager show commands"])
    except (ParseError, ValueError) as exc:
        raise Refusal("Cannot read what Asterisk registered: %s" % exc) from None
    if not applications or not actions:
        raise Refusal("Asterisk reported no applications or no manager actions; refusing to trim the "
                      "documentation to nothing. Check `core show applications` and `manager show commands`.")
    running = [name for name, info in modules.items() if name.endswith(".so") and info["status"] == "Running"]
    counts = {"modules": len(modules), "applications": len(applications), "functions": len(functions),
              "actions": len(actions)}
    return registered(applications, functions, actions, list(modules)), counts, modules_key(running), version


def installed_version(module):
    rc, out, err = module.run_command([module.params["binary"], "-V"])
    try:
        return parse_version(out)["version"] if rc == 0 else None
    except ParseError:
        return None


def read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def write(path, data):
    """Atomic replace, mode 0644 owned by root (by the caller when not run as root), whatever the
    umask, so that Asterisk's user can read it."""
    owner = (0, 0) if os.geteuid() == 0 else (os.getuid(), os.getgid())
    write_atomic(path, data, owner[0], owner[1], 0o644)


def summary(path, data, counts=None):
    if data is None:
        return "%s: missing\n" % path
    what = "trimmed copy" if read_stamp(data) else "full documentation"
    text = "%s: %d bytes (%s)\n" % (path, len(data), what)
    if counts:
        text += "".join("  %s: %d kept\n" % (kind, count) for kind, count in sorted(counts.items()))
    return text


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
    path = module.params["path"]
    source = module.params["source"] or path + ".distrib"
    if os.path.islink(path):
        module.fail_json(msg="path: %s is a symbolic link; refusing to replace it" % path)

    current = read(path)
    full = read(source)
    if full is None:
        if module.check_mode and current is not None and not read_stamp(current):
            full = current  # the diversion is still to be made: the package's file is the source
        else:
            module.fail_json(msg="source: %s does not exist. Divert the package's documentation there first "
                                 "(community.general.dpkg_divert with rename: true), or reinstall the asterisk "
                                 "package if it is lost." % source)

    if (current is not None and module.params["modules"] is not None
            and read_key(current) == modules_key(module.params["modules"]) and read_stamp(current) == sha256(full)):
        # Made from this source for this running module set: what Asterisk registers has not changed.
        module.exit_json(changed=False, path=path, source_sha256=read_stamp(current), size=len(current),
                         source_size=len(full), kept={}, dropped={}, complete=True, registered={}, asked=False)

    def give_up(msg, **extra):
        """Asterisk must always find a readable file: a missing one gets the full documentation."""
        if current is None and not module.check_mode:
            write(path, full)
            msg += " The full documentation was put in place."
        module.fail_json(msg=msg, **extra)

    try:
        used, counts, key, running_version = ask(module)
    except Refusal as exc:
        give_up(str(exc))
    installed = installed_version(module)
    if installed != running_version:
        # An upgrade is installed but the old binary still runs: what it registers is not what the
        # new version will. The full documentation stays until Asterisk restarts and this runs again.
        changed = full != current
        if changed and not module.check_mode:
            write(path, full)
        module.warn("Asterisk %s runs, %s is installed: the full documentation is kept until Asterisk restarts "
                    "on the new version and the documentation is trimmed again." % (running_version, installed))
        module.exit_json(changed=changed, path=path, source_sha256=sha256(full), size=len(full), source_size=len(full),
                         kept={}, dropped={}, complete=False, registered=counts, asked=True)
    try:
        data, stats = trim(full, used, key)
    except DocumentationError as exc:
        give_up("source: %s cannot be trimmed: %s" % (source, exc))
    if not stats["complete"]:
        module.warn("An include in %s has a form this module cannot follow: the whole documentation was kept." % source)

    changed = data != current
    result = dict(changed=changed, path=path, source_sha256=stats["source_sha256"], size=len(data),
                  source_size=len(full), kept=stats["kept"], dropped=stats["dropped"],
                  complete=stats["complete"], registered=counts, asked=True)
    if changed and module._diff:
        result["diff"] = {"before": summary(path, current), "after": summary(path, data, stats["kept"]),
                          "before_header": path, "after_header": path}
    if changed and not module.check_mode:
        write(path, data)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
