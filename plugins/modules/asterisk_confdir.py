#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: asterisk_confdir
short_description: Take ownership of the Asterisk configuration directory
version_added: 0.1.0
description:
  - Moves the sample configuration files the Asterisk packages ship (and, on request, every other
    file the collection does not render) out of the configuration directory into a dated backup
    directory, so that only the files the collection renders remain. Nothing is deleted.
  - Removes every permission bit for "others" from the files and directories below it and gives
    them the Asterisk group, so that no configuration (secrets included) is world-readable.
  - A file is the collection's when its name is in O(keep) or when it carries O(marker) (every
    template of the collection does). A package file whose content is still the pristine sample
    (same MD5 as dpkg recorded) is always moved, even when its name is in O(keep); the role renders
    its own version next.
author:
  - vpbx.hardened contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  platform:
    platforms: debian
  check_mode:
    support: full
  diff_mode:
    support: full
options:
  path:
    description: The Asterisk configuration directory.
    type: path
    default: /etc/asterisk
  keep:
    description: Names (relative to O(path)) of files never moved unless they are pristine samples.
    type: list
    elements: str
    default: []
  marker:
    description: A file containing this string is the collection's and is kept.
    type: str
    default: vpbx.hardened
  prune:
    description:
      - C(package) moves the files dpkg lists as conffiles of the Asterisk packages.
      - C(all) also moves any other file that is neither kept nor marked.
      - C(none) moves nothing (permissions are still fixed).
    type: str
    choices: [package, all, none]
    default: package
  packages:
    description: dpkg package name patterns whose conffiles count as package samples.
    type: list
    elements: str
    default: ['asterisk*']
  backup_dir:
    description: Parent directory of the dated backup directories (created C(0700 root)).
    type: path
    default: /var/backups/vpbx-asterisk
  group:
    description: Group given to every file and directory below O(path).
    type: str
    default: asterisk
  dir_mode:
    description: Exact mode of O(path) itself, which is then also owned by root (for example C(0750)).
    type: str
"""

EXAMPLES = r"""
- name: Move the package samples away and lock the directory down
  vpbx.hardened.asterisk_confdir:
    path: /etc/asterisk
    keep: [asterisk.conf, logger.conf, rtp.conf, modules.conf]
"""

RETURN = r"""
moved:
  description: Files moved to the backup directory (names relative to O(path)).
  returned: always
  type: list
  elements: str
  sample: [adsi.conf, extensions.conf, extensions.lua]
backup:
  description: The dated backup directory the files went to (none when nothing moved).
  returned: always
  type: str
  sample: /var/backups/vpbx-asterisk/etc-asterisk-20261126T130000
permissions_fixed:
  description: Paths whose mode or group was corrected.
  returned: always
  type: list
  elements: str
remaining:
  description: Files left in O(path) after the run (relative names).
  returned: always
  type: list
  elements: str
"""

import grp
import hashlib
import os
import shutil
import stat
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vpbx.hardened.plugins.module_utils.asterisk import parse_conffiles


def md5sum(path):
    digest = hashlib.md5()  # noqa: S324 - dpkg records MD5 sums; this is a comparison, not security
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(65536), b""):
            digest.update(chunk)
    return digest.hexdigest()


def contains(path, marker):
    try:
        with open(path, "rb") as handle:
            return marker.encode() in handle.read(4096)
    except OSError:
        return False


def package_conffiles(module):
    rc, out, err = module.run_command(
        ["dpkg-query", "-W", "-f=${Package}\\n${Conffiles}\\n"] + module.params["packages"])
    # rc 1 = some pattern matched no package: not an error for us.
    if rc not in (0, 1):
        module.fail_json(msg="dpkg-query failed: %s" % err.strip())
    return parse_conffiles(out)


def plan_moves(root, files, conffiles, keep, marker, prune):
    """Decide which files (relative names) leave the directory."""
    moves = []
    for rel in files:
        full = os.path.join(root, rel)
        package = conffiles.get(full)
        pristine = package is not None and md5sum(full) == package["md5"]
        ours = rel in keep or (marker and contains(full, marker))
        if prune == "none":
            continue
        if pristine:
            moves.append(rel)
        elif ours:
            continue
        elif package is not None or prune == "all":
            moves.append(rel)
    return moves


def walk(root):
    files, dirs = [], []
    for current, subdirs, names in os.walk(root):
        subdirs.sort()
        for name in subdirs:
            dirs.append(os.path.join(current, name))
        for name in sorted(names):
            full = os.path.join(current, name)
            if os.path.isfile(full) and not os.path.islink(full):
                files.append(os.path.relpath(full, root))
    return files, dirs


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", default="/etc/asterisk"),
            keep=dict(type="list", elements="str", default=[]),
            marker=dict(type="str", default="vpbx.hardened"),
            prune=dict(type="str", choices=["package", "all", "none"], default="package"),
            packages=dict(type="list", elements="str", default=["asterisk*"]),
            backup_dir=dict(type="path", default="/var/backups/vpbx-asterisk"),
            group=dict(type="str", default="asterisk"),
            dir_mode=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    root = module.params["path"]
    if not os.path.isdir(root):
        module.fail_json(msg="%s does not exist: install Asterisk first" % root)
    try:
        gid = grp.getgrnam(module.params["group"]).gr_gid
    except KeyError:
        module.fail_json(msg="group %r does not exist: install Asterisk first" % module.params["group"])

    files, dirs = walk(root)
    conffiles = package_conffiles(module) if module.params["prune"] != "none" else {}
    moves = plan_moves(root, files, conffiles, set(module.params["keep"]),
                       module.params["marker"], module.params["prune"])
    remaining = [rel for rel in files if rel not in moves]

    dir_mode = None
    if module.params["dir_mode"]:
        try:
            dir_mode = int(module.params["dir_mode"], 8)
        except ValueError:
            module.fail_json(msg="dir_mode: %r is not an octal mode such as '0750'" % module.params["dir_mode"])
    fixes = []
    for full in [root] + dirs + [os.path.join(root, rel) for rel in remaining]:
        st = os.lstat(full)
        if full == root and dir_mode is not None:
            if (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) != (dir_mode, 0, gid):
                fixes.append(full)
        elif stat.S_IMODE(st.st_mode) & 0o007 or st.st_gid != gid:
            fixes.append(full)

    result = dict(changed=bool(moves or fixes), moved=moves, backup="", permissions_fixed=fixes,
                  remaining=remaining)
    if module._diff:
        result["diff"] = dict(
            before_header=root + " (files)", after_header=root + " (files)",
            before="\n".join(files) + "\n", after="\n".join(remaining) + "\n")

    if module.check_mode or not result["changed"]:
        module.exit_json(**result)

    if moves:
        backup = os.path.join(module.params["backup_dir"], "etc-asterisk-" + time.strftime("%Y%m%dT%H%M%S"))
        suffix = 0
        while os.path.exists(backup + (".%d" % suffix if suffix else "")):
            suffix += 1
        backup += ".%d" % suffix if suffix else ""
        os.makedirs(module.params["backup_dir"], mode=0o700, exist_ok=True)
        os.makedirs(backup, mode=0o700)
        for rel in moves:
            target = os.path.join(backup, rel)
            os.makedirs(os.path.dirname(target), mode=0o700, exist_ok=True)
            shutil.move(os.path.join(root, rel), target)
        result["backup"] = backup
    for full in fixes:
        st = os.lstat(full)
        if full == root and dir_mode is not None:
            os.chown(full, 0, gid)
            os.chmod(full, dir_mode)
            continue
        os.chmod(full, stat.S_IMODE(st.st_mode) & ~0o007)
        if st.st_gid != gid:
            os.chown(full, -1, gid)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
