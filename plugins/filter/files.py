# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: files_current
short_description: Whether a set of vpbx.hardened.config_files files is already as wanted on the host
version_added: 0.9.0
description:
  - Compares the files a M(vpbx.hardened.config_files) task would write (its O(_input), the
    module's C(files) list) with their state as a facts module read it (the C(files) option of
    M(vpbx.hardened.asterisk_facts) or M(vpbx.hardened.fail2ban_query)) - content digest, owner,
    group and mode.
  - True only when every file is known and as wanted, so that the task can be left out (one
    module run less on a re-run). Any file the state does not hold, or holds as missing, as not a
    regular file or with another digest, owner, group or mode, gives false and the task runs.
  - A file with C(force=false) only needs to exist.
options:
  _input:
    description: The C(files) list of the config_files task (C(name), C(content), optional C(mode) and C(force)).
    type: list
    elements: dict
    required: true
  state:
    description: The facts module's C(files) result, by full path.
    type: dict
    required: true
  dir:
    description: The config_files task's C(dir).
    type: path
    required: true
  owner:
    description: The task's C(owner).
    type: str
    default: root
  group:
    description: The task's C(group).
    type: str
    default: root
  mode:
    description: The task's C(mode) (quoted, C("0640")).
    type: raw
    default: "0640"
"""

EXAMPLES = r"""
- name: Render the drop-in, unless it is as wanted already
  vpbx.hardened.config_files:
    dir: /etc/systemd/system/asterisk.service.d
    files: "{{ dropin_files }}"
  when: not (dropin_files | vpbx.hardened.files_current(ansible_facts.asterisk.files,
             '/etc/systemd/system/asterisk.service.d', 'root', 'root', '0644'))
"""

RETURN = r"""
_value:
  description: Whether every file is as wanted.
  type: bool
"""

import hashlib
import os

from ansible.errors import AnsibleFilterError


def _mode(value):
    if isinstance(value, int) and not isinstance(value, bool):
        return "%04o" % value
    try:
        return "%04o" % int(str(value), 8)
    except ValueError:
        raise AnsibleFilterError("files_current: mode %r is not an octal mode such as '0640'" % (value,)) from None


def files_current(files, state, dir, owner="root", group="root", mode="0640"):  # noqa: A002 - the module's name
    if not isinstance(state, dict):
        return False
    for entry in files or []:
        current = state.get(os.path.join(dir, entry["name"]))
        if not isinstance(current, dict) or current.get("type") == "other":
            return False
        if not entry.get("force", True):
            continue  # only has to exist - a file with secrets too (it is never digested)
        if "sha1" not in current:
            return False
        wanted_mode = _mode(entry["mode"]) if entry.get("mode") is not None else _mode(mode)
        digest = hashlib.sha1(str(entry.get("content", "")).encode("utf-8", "surrogateescape")).hexdigest()
        if (current["sha1"], current["owner"], current["group"], current["mode"]) != (digest, owner, group, wanted_mode):
            return False
    return True


class FilterModule:
    def filters(self):
        return {"files_current": files_current}
