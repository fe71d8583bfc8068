#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: config_files
short_description: Write a set of rendered configuration files in one pass
version_added: 0.1.0
description:
  - Compares each file's wanted content, owner, group and mode with what is on the host and writes
    only the files that differ, each atomically, after copying the previous version to a backup
    file next to it. One module run for the whole set, where one M(ansible.builtin.template) task
    per file costs two module runs per file even when nothing changes.
  - The content is rendered on the controller (for example with the C(template) lookup), so the
    templates behave exactly as with M(ansible.builtin.template).
  - Check mode reports what would change without writing; with C(--diff) it shows one diff per
    changed file, except for the files marked O(files[].secret).
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
  dir:
    description: Directory the O(files[].name) are relative to. It must exist unless O(dir_mode) is given.
    type: path
    required: true
  dir_mode:
    description: Create O(dir) (and missing parents) with this mode, owned by root, when it does not exist.
    type: raw
  files:
    description: The files to write.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: File name relative to O(dir) (no C(..), no absolute path).
        type: str
        required: true
      content:
        description:
          - The whole wanted content.
          - Leave it out for a file whose content is in O(secrets) (listed here only to give it its
            own O(files[].mode) or O(files[].force)).
        type: str
      mode:
        description: Mode of this file (quote it, C("0600")); defaults to O(mode).
        type: raw
      secret:
        description:
          - The content holds secrets; never shown in a diff.
          - Better, give such a file's content in O(secrets) instead of O(files[].content). The
            module's output then masks it, and the task needs no C(no_log) (which would also hide
            the other files' diffs and results).
        type: bool
        default: false
      force:
        description: When false, an existing file is left as it is (content and attributes); only a missing one is written.
        type: bool
        default: true
  secrets:
    description:
      - The content of the files that hold secrets, by file name (relative to O(dir)). They are
        written like the O(files), after them, and count as O(files[].secret). List one in O(files)
        too, without O(files[].content), only to give it its own O(files[].mode) or O(files[].force).
      - A C(no_log) option - Ansible masks these contents wherever they would appear in the task's
        output (the logged arguments, C(-v) results, AWX job events); the diff of such a file only
        says that it changed.
    type: dict
    default: {}
  owner:
    description: Owner of every file.
    type: str
    default: root
  group:
    description: Group of every file.
    type: str
    default: root
  mode:
    description: Mode of every file without its own O(files[].mode) (quote it, C("0640")).
    type: raw
    default: "0640"
  backup:
    description: Copy a file that is about to be replaced to C(<name>.<timestamp>~) first (same owner, group, mode).
    type: bool
    default: true
  backup_dir:
    description:
      - Put the backups in this directory (created C(0700), owned by root) instead of next to the
        files, for directories where a stray file would be read (C(/etc/asterisk)).
      - The backup of C(a/b.conf) is C(<backup_dir>/b.conf.<timestamp>~).
    type: path
"""

EXAMPLES = r"""
- name: Render the core configuration in one pass
  vpbx.hardened.config_files:
    dir: /etc/asterisk
    group: asterisk
    files:
      - name: logger.conf
        content: "{{ lookup('ansible.builtin.template', 'logger.conf.j2') }}"
      - name: rtp.conf
        content: "{{ lookup('ansible.builtin.template', 'rtp.conf.j2') }}"
  register: __core_files
  notify: Reload what changed

- name: One pass for a file with secrets and one without - no no_log needed, rtp.conf's diff still shows
  vpbx.hardened.config_files:
    dir: /etc/asterisk
    group: asterisk
    files:
      - name: rtp.conf
        content: "{{ lookup('ansible.builtin.template', 'rtp.conf.j2') }}"
    secrets:
      manager.conf: "{{ lookup('ansible.builtin.template', 'manager.conf.j2') }}"
"""

RETURN = r"""
changed_files:
  description: Names (relative to O(dir)) of the files whose content, owner, group or mode changed (or would, in check mode).
  returned: always
  type: list
  elements: str
  sample: [logger.conf]
files:
  description: One entry per file, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The file's name relative to O(dir).
      type: str
    path:
      description: The file's full path.
      type: str
    changed:
      description: Whether anything about the file changed.
      type: bool
    content_changed:
      description: Whether the content changed (a created file counts).
      type: bool
    backup_file:
      description: Where the previous version went (absent when none was made).
      type: str
"""

import grp
import os
import pwd

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.vpbx.hardened.plugins.module_utils.fileset import FileSet, parse_mode


def check_name(name):
    parts = name.split("/")
    if not name or name.startswith("/") or ".." in parts or "" in parts:
        raise ValueError("files[].name: %r must be a relative path inside dir, without '..'" % name)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dir=dict(type="path", required=True),
            files=dict(type="list", elements="dict", required=True, options=dict(
                name=dict(type="str", required=True),
                content=dict(type="str"),
                mode=dict(type="raw"),
                secret=dict(type="bool", default=False),
                force=dict(type="bool", default=True),
            )),
            dir_mode=dict(type="raw"),
            owner=dict(type="str", default="root"),
            group=dict(type="str", default="root"),
            mode=dict(type="raw", default="0640"),
            backup=dict(type="bool", default=True),
            backup_dir=dict(type="path"),
            secrets=dict(type="dict", no_log=True, default={}),
        ),
        supports_check_mode=True,
    )
    params = module.params
    root = params["dir"]
    try:
        uid = pwd.getpwnam(params["owner"]).pw_uid
    except KeyError:
        module.fail_json(msg="owner: no user %r on the host" % params["owner"])
    try:
        gid = grp.getgrnam(params["group"]).gr_gid
    except KeyError:
        module.fail_json(msg="group: no group %r on the host; install the package that creates it first" % params["group"])

    created_dir = False
    try:
        default_mode = parse_mode(params["mode"], "mode")
        dir_mode = parse_mode(params["dir_mode"], "dir_mode") if params["dir_mode"] is not None else None
        secrets = params["secrets"] or {}
        # Copies: module.params (echoed back as the task's arguments) keep the secrets apart. A
        # file of secrets not listed in files is written with the defaults (mode, force).
        entries = [dict(entry) for entry in params["files"]]
        listed = {entry["name"] for entry in entries}
        entries += [{"name": name, "content": None, "mode": None, "secret": True, "force": True}
                    for name in sorted(secrets) if name not in listed]
        for entry in entries:
            check_name(entry["name"])
            if entry["name"] in secrets:
                if entry.get("content") is not None:
                    raise ValueError("files[%s]: the content is given twice, in content and in secrets; "
                                     "keep the one in secrets" % entry["name"])
                if not isinstance(secrets[entry["name"]], str):
                    raise ValueError("secrets[%s]: must be the file's content as a string" % entry["name"])
                entry["content"], entry["secret"] = secrets[entry["name"]], True
            elif entry.get("content") is None:
                raise ValueError("files[%s]: no content; give content, or put the content in secrets under "
                                 "this name" % entry["name"])
            if entry.get("mode") is not None:
                parse_mode(entry["mode"], "files[%s].mode" % entry["name"])
        if not os.path.isdir(root) and dir_mode is None:
            raise ValueError("dir: %s is not a directory; create it first (or install the package that does)" % root)
        names = [entry["name"] for entry in entries]
        if len(set(names)) != len(names):
            raise ValueError("files: a name is listed twice: %s" % sorted({n for n in names if names.count(n) > 1}))
        fileset = FileSet([{"path": os.path.join(root, entry["name"]), "uid": uid, "gid": gid,
                            "content": to_bytes(entry["content"], errors="surrogate_or_strict"),
                            "mode": parse_mode(entry["mode"], "files[%s].mode" % entry["name"])
                            if entry.get("mode") is not None else default_mode,
                            "secret": entry["secret"], "force": entry.get("force", True)} for entry in entries],
                          params["backup"], params["backup_dir"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    if not os.path.isdir(root):
        created_dir = True
        if not module.check_mode:
            os.makedirs(root, mode=dir_mode)
            os.chmod(root, dir_mode)

    results = []
    if not module.check_mode:
        try:
            fileset.write()
        except OSError as exc:
            module.fail_json(msg="%s" % exc, files=results)
    for entry, change in zip(entries, fileset.files):
        result = {"name": entry["name"], "path": change.path, "changed": change.changed,
                  "content_changed": change.content_changed}
        if change.backup_file:
            result["backup_file"] = change.backup_file
        results.append(result)
    changed_files = [r["name"] for r in results if r["changed"]]
    output = dict(changed=bool(changed_files) or created_dir, changed_files=changed_files, files=results)
    if module._diff:
        output["diff"] = fileset.diffs()
    module.exit_json(**output)


if __name__ == "__main__":
    main()
