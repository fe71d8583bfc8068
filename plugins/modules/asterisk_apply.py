#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors

from __future__ import annotations

DOCUMENTATION = r"""
---
module: asterisk_apply
short_description: Apply one concern's Asterisk files in one run - write, reload, verify, roll back
version_added: 0.10.0
description:
  - Compares a concern's files with the host and writes only those that differ, each atomically
    (a copy of the previous version in O(backup_dir) when given).
  - Reloads exactly the modules that read a changed file (O(reload)) - a reload, never a restart, so
    registered phones and calls in progress stay up. A module that is not loaded is not reloaded
    (it reads its file when it loads).
  - Then verifies through the CLI that the running Asterisk holds what the files define
    (O(verify)), and reads what Asterisk logged since the write when O(refusals) is set.
  - When the running Asterisk does not hold it, the previous files come back (new ones are
    removed), the same modules are reloaded on them, and the module fails with Asterisk's words.
  - Check mode reports the files that would change (C(--diff) shows them, the O(secrets) files
    only as changed) and changes nothing.
author:
  - vpbx.hardened contributors
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
options:
  dir:
    description: The directory of the files.
    type: path
    default: /etc/asterisk
  files:
    description: The files without secrets, by name relative to O(dir), and their whole content.
    type: dict
    default: {}
  secrets:
    description:
      - The files that hold secrets (PINs, passwords), by name - a C(no_log) option, masked in the
        task's output; their diff only says that they changed.
    type: dict
    default: {}
  owner:
    description: Owner of every file.
    type: str
    default: root
  group:
    description: Group of every file.
    type: str
    default: asterisk
  mode:
    description: Mode of every file (quote it, C("0640")).
    type: raw
    default: "0640"
  backup_dir:
    description: Where the previous version of a replaced file is copied (C(<name>.<time>~)); none when not given.
    type: path
  reload:
    description:
      - The module that reads each file, by file name; a changed file reloads its module
        (C(pbx_config.so), the dialplan, by C(dialplan reload)).
    type: dict
    default: {}
  running:
    description: Whether Asterisk runs; when false the files are written and nothing is reloaded or verified.
    type: bool
    default: true
  verify:
    description:
      - What the running Asterisk must hold afterwards; left out, nothing is verified.
      - C(kind=dialplan) with C(contexts) - exactly the contexts C(dialplan show) lists as created
        by pbx_config.
    type: dict
  refusals:
    description:
      - Also fail on what Asterisk logged in O(log_file) since the files were written - a refused
        option (C(Could not find option suitable for category ...)) or its warning that the loaded
        configuration helps an attacker.
    type: bool
    default: false
  log_file:
    description: Asterisk's messages log.
    type: path
    default: /var/log/asterisk/messages.log
  binary:
    description: The asterisk binary.
    type: path
    default: /usr/sbin/asterisk
"""

EXAMPLES = r"""
- name: Apply the dialplan files
  vpbx.hardened.asterisk_apply:
    files:
      extensions.conf: "{{ lookup('ansible.builtin.template', 'extensions.conf.j2') }}"
    secrets:
      voicemail.conf: "{{ lookup('ansible.builtin.template', 'voicemail.conf.j2') }}"
    reload: {extensions.conf: pbx_config.so, voicemail.conf: app_voicemail.so}
    verify: {kind: dialplan, contexts: [from-carrier, office]}
"""

RETURN = r"""
changed_files:
  description: The names of the files written (or that would be).
  returned: always
  type: list
  elements: str
reloaded:
  description: The modules reloaded.
  returned: always
  type: list
  elements: str
backups:
  description: The copies of the files replaced.
  returned: always
  type: list
  elements: str
"""

import grp
import os
import pwd

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.vpbx.hardened.plugins.module_utils import dialplan as dp
from ansible_collections.vpbx.hardened.plugins.module_utils.asterisk import (Cli, cli_error, config_refusals,
                                                                              security_warnings)
from ansible_collections.vpbx.hardened.plugins.module_utils.fileset import FileSet, parse_mode

# How a module re-reads its file: pbx_config's reload is `dialplan reload`.
RELOAD_COMMAND = {"pbx_config.so": "dialplan reload"}


def verify_errors(kind, spec, texts):
    """[] when the CLI answers show what spec wants, else the messages."""
    if kind == "dialplan":
        running = dp.parse_dialplan_show(texts[0])
        expected = sorted(spec["contexts"])
        if running != expected:
            return ["Asterisk runs the contexts %s, extensions.conf defines %s. See /var/log/asterisk/messages.log "
                    "for what pbx_config refused, then run `dialplan reload`." % (running, expected)]
        return []
    raise ValueError("verify.kind: %r is not known (dialplan)" % kind)


VERIFY_COMMANDS = {"dialplan": ["dialplan show"]}


def log_size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return None


def log_since(path, offset):
    if offset is None:
        return ""
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dir=dict(type="path", default="/etc/asterisk"),
            files=dict(type="dict", default={}),
            secrets=dict(type="dict", default={}, no_log=True),
            owner=dict(type="str", default="root"),
            group=dict(type="str", default="asterisk"),
            mode=dict(type="raw", default="0640"),
            backup_dir=dict(type="path"),
            reload=dict(type="dict", default={}),
            running=dict(type="bool", default=True),
            verify=dict(type="dict"),
            refusals=dict(type="bool", default=False),
            log_file=dict(type="path", default="/var/log/asterisk/messages.log"),
            binary=dict(type="path", default="/usr/sbin/asterisk"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        uid = pwd.getpwnam(params["owner"]).pw_uid
        gid = grp.getgrnam(params["group"]).gr_gid
    except KeyError as exc:
        module.fail_json(msg="owner/group: %s does not exist on the host; install Asterisk first" % exc)
    files, secrets = params["files"] or {}, params["secrets"] or {}
    both = sorted(set(files) & set(secrets))
    if both:
        module.fail_json(msg="files and secrets both name %s: give each file once" % ", ".join(both))
    verify = params["verify"]
    if verify and verify.get("kind") not in VERIFY_COMMANDS:
        module.fail_json(msg="verify.kind: %r is not known (%s)" % (verify.get("kind"), ", ".join(VERIFY_COMMANDS)))
    names = list(files) + sorted(secrets)
    for name in names:
        if "/" in name or name in ("", ".", ".."):
            module.fail_json(msg="files: %r must be a file name inside %s" % (name, params["dir"]))
    try:
        mode = parse_mode(params["mode"], "mode")
        fileset = FileSet([{"path": os.path.join(params["dir"], name), "uid": uid, "gid": gid, "mode": mode,
                            "secret": name in secrets,
                            "content": to_bytes(files[name] if name in files else secrets[name],
                                                errors="surrogate_or_strict")} for name in names],
                          backup=bool(params["backup_dir"]), backup_dir=params["backup_dir"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))

    changed = [os.path.basename(change.path) for change in fileset.changed]
    content_changed = [os.path.basename(change.path) for change in fileset.changed if change.content_changed]
    modules = list(dict.fromkeys(params["reload"][name] for name in content_changed if name in params["reload"]))
    result = {"changed": bool(changed), "changed_files": changed, "reloaded": [], "backups": []}
    if module._diff:
        result["diff"] = fileset.diffs()
    if module.check_mode:
        module.exit_json(**result)

    cli = Cli(module, params["binary"])

    def run(command):
        """(problem or None, output) of one CLI command."""
        rc, text = cli.run(command)
        return cli_error(text) or ("rc=%d" % rc if rc else None), text
    mark = log_size(params["log_file"]) if params["refusals"] else None
    try:
        fileset.write()
    except OSError as exc:
        fileset.restore()
        module.fail_json(msg="%s; the previous files were restored" % exc, **result)
    result["backups"] = [change.backup_file for change in fileset.files if change.backup_file]
    if not params["running"]:
        module.exit_json(**result)

    def reload_all():
        loaded = cli.modules(required=False)
        if loaded is None:
            return [], "Asterisk does not answer `module show`: see `systemctl status asterisk`"
        done = []
        for name in modules:
            if name not in loaded:
                continue
            problem, text = run(RELOAD_COMMAND.get(name, "module reload %s" % name))
            if problem:
                return done, "reloading %s failed: %s" % (name, text.strip()[:1000])
            done.append(name)
        return done, None

    result["reloaded"], failure = reload_all()
    problems = [failure] if failure else []
    if not problems and params["refusals"] and changed:
        logged = log_since(params["log_file"], mark)
        refused, warned = config_refusals(logged), security_warnings(logged)
        if refused:
            problems.append("Asterisk refused the new configuration: %s." % " | ".join(refused))
        if warned:
            problems.append("Asterisk warned that the files help an attacker: %s." % " | ".join(warned))
    if not problems and verify:
        texts = []
        for command in VERIFY_COMMANDS[verify["kind"]]:
            problem, text = run(command)
            if problem:
                problems.append("%s failed: %s" % (command, text.strip()[:1000]))
            texts.append(text)
        if not problems:
            problems = verify_errors(verify["kind"], verify, texts)
    if problems:
        if any(change.written for change in fileset.files):
            fileset.restore()
            restored, _failure = reload_all()
            problems.append("The previous files were restored%s." % (
                " and %s reloaded on them" % ", ".join(restored) if restored else ""))
        module.fail_json(msg=" ".join(problems) + " Fix what it names and run again.", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
