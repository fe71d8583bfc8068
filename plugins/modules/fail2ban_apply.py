#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: fail2ban_apply
short_description: Bring fail2ban to the planned jails in one run - write, test, start or reload, verify
version_added: 0.1.0
description:
  - Compares the collection's fail2ban files (the jails, the filter, the action) with the host and
    writes only those that differ, each atomically after a copy of the previous version next to it
    (C(<name>.<time>~), a name fail2ban does not read).
  - Then tests the whole configuration with C(fail2ban-client --test) (fail2ban reads a directory,
    so no single file can be validated before it is written). When fail2ban refuses it, the
    previous files come back - and the new ones are removed - before the module fails with
    fail2ban's words; the running server never saw the refused files.
  - Enables and starts the service when it is not; reloads it when a file changed and it runs
    (a reload keeps the current bans). fail2ban 1.1 can refuse to reload a journal jail whose
    match changed; the service is then restarted, which restores the bans from its database.
  - Finally asks the running server which jails run, and the first planned jail's log files,
    addresses never banned and threshold, and fails when they are not the planned ones.
  - Check mode reports what would change (C(--diff) shows the files) and changes nothing.
author:
  - vpbx.hardened contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - vpbx.hardened.install
attributes:
  platform:
    platforms: debian
  check_mode:
    support: full
  diff_mode:
    support: full
options:
  files:
    description: The files to write, the whole content of each.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: Absolute path of the file (its directory must exist).
        type: path
        required: true
      content:
        description: The wanted content.
        type: str
        required: true
  mode:
    description: Mode of every file (quote it, C("0644")).
    type: raw
    default: "0644"
  service:
    description: The systemd unit of the server.
    type: str
    default: fail2ban
  expect:
    description:
      - What the running server must show; leave it out to skip the verify step.
      - C(jails) (the names that must run), C(jail) (the jail whose settings are read), C(logpaths),
        C(ignoreip), C(maxretry) - the C(expectations) of the collection's fail2ban plan.
    type: dict
  client:
    description: The fail2ban-client command.
    type: path
    default: /usr/bin/fail2ban-client
  socket:
    description: The server's socket.
    type: path
    default: /var/run/fail2ban/fail2ban.sock
  timeout:
    description: Seconds to wait for each answer of the server.
    type: int
    default: 10
  wait:
    description: Seconds to wait for a server just started or restarted to answer.
    type: int
    default: 60
  preview:
    description: Lines saying what a real run would configure, shown in check mode on a host without fail2ban.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Apply the jails
  vpbx.hardened.fail2ban_apply:
    files:
      - path: /etc/fail2ban/jail.d/site.local
        content: "{{ lookup('ansible.builtin.template', 'jail.local.j2') }}"
    expect:
      jails: [asterisk]
      jail: asterisk
      logpaths: [/var/log/asterisk/security]
      ignoreip: [127.0.0.0/8, "::1/128"]
      maxretry: 5
"""

RETURN = r"""
installed:
  description: The packages this run installed (in check mode, would install).
  returned: always
  type: list
  elements: str
changes:
  description: What changed (or, in check mode, would change), one line each.
  returned: always
  type: list
  elements: str
  sample: ["write /etc/fail2ban/jail.d/vpbx-hardened.local", "reload fail2ban"]
changed_files:
  description: The files written (or that would be).
  returned: always
  type: list
  elements: str
backups:
  description: The copies of the files replaced.
  returned: always
  type: list
  elements: str
results:
  description: The server's answers the verify step judged (see M(vpbx.hardened.fail2ban_query)).
  returned: when O(expect) is given and not in check mode
  type: list
  elements: dict
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.vpbx.hardened.plugins.module_utils import apt
from ansible_collections.vpbx.hardened.plugins.module_utils import fail2ban as f2b
from ansible_collections.vpbx.hardened.plugins.module_utils.fail2ban_client import ask, wait_ready
from ansible_collections.vpbx.hardened.plugins.module_utils.fileset import FileSet, parse_mode
from ansible_collections.vpbx.hardened.plugins.module_utils.systemd import service_state


def systemctl(module, *args):
    rc, out, err = module.run_command([module.get_bin_path("systemctl", required=True)] + list(args))
    if rc != 0:
        module.fail_json(msg="systemctl %s failed (rc=%d): %s. See `systemctl status %s` and /var/log/fail2ban.log "
                             "on the host." % (" ".join(args), rc, (err or out).strip(), args[-1]))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            files=dict(type="list", elements="dict", required=True, options=dict(
                path=dict(type="path", required=True),
                content=dict(type="str", required=True),
            )),
            mode=dict(type="raw", default="0644"),
            service=dict(type="str", default="fail2ban"),
            expect=dict(type="dict"),
            client=dict(type="path", default="/usr/bin/fail2ban-client"),
            socket=dict(type="path", default="/var/run/fail2ban/fail2ban.sock"),
            timeout=dict(type="int", default=10),
            wait=dict(type="int", default=60),
            install=apt.INSTALL_OPTION,
            preview=dict(type="list", elements="str", default=[]),
        ),
        supports_check_mode=True,
    )
    params = module.params
    service = params["service"]
    install = params["install"] or {"packages": [], "cache_valid_time": 3600}
    installed = apt.missing(module, install["packages"])
    if installed and module.check_mode and not os.access(params["client"], os.X_OK):
        # Nothing to compare with: what a real run would configure.
        preview = ["Check mode on a host without fail2ban - fail2ban would be installed with:"] + params["preview"]
        module.warn(" ".join(preview))  # a warning, so that it shows
        module.exit_json(changed=True, changes=["install %s" % " ".join(installed)], changed_files=[], backups=[],
                         installed=installed, msg=preview)
    if installed and not module.check_mode:
        try:
            apt.install(module, installed, install["cache_valid_time"])
        except apt.AptError as exc:
            module.fail_json(msg="%s. Nothing else was changed." % exc)
    if not os.access(params["client"], os.X_OK):
        module.fail_json(msg="%s is not installed: install the fail2ban package first, or give install.packages."
                             % params["client"])
    try:
        mode = parse_mode(params["mode"], "mode")
        for entry in params["files"]:
            if not os.path.isabs(entry["path"]) or not os.path.isdir(os.path.dirname(entry["path"])):
                raise ValueError("files[%s]: the path must be absolute, in a directory that exists (fail2ban's "
                                 "package creates /etc/fail2ban and its action.d, filter.d, jail.d)" % entry["path"])
        fileset = FileSet([{"path": entry["path"], "content": to_bytes(entry["content"], errors="surrogate_or_strict"),
                            "uid": 0, "gid": 0, "mode": mode} for entry in params["files"]])
    except ValueError as exc:
        module.fail_json(msg=str(exc))

    state = service_state(module, service)
    written = [change.path for change in fileset.changed]
    enable = state["enabled"] != "enabled"
    start = state["active"] != "active"
    changes = ["write %s" % path for path in written]
    changes += ["enable %s" % service] if enable else []
    if start:
        changes.append("start %s" % service)
    elif any(change.content_changed for change in fileset.changed):
        changes.append("reload %s" % service)
    changes = ["install %s" % " ".join(installed)] * bool(installed) + changes
    result = {"changed": bool(changes), "changes": changes, "changed_files": written, "backups": [],
              "installed": installed}
    if module._diff:
        result["diff"] = fileset.diffs()
    if module.check_mode:
        module.exit_json(**result)

    result["backups"] = fileset.write_or_fail(module, result)
    if any(change.content_changed for change in fileset.files):
        rc, out, err = module.run_command([params["client"], "--test"])
        if rc != 0:
            fileset.restore()
            module.fail_json(msg="fail2ban rejected the new configuration, so the previous files were restored and "
                                 "fail2ban keeps running on them: %s. Fix the settings named there and run again."
                                 % ((err or "") + (out or "")).strip(), **result)

    if enable:
        systemctl(module, "enable", service)
    started = False
    if start:
        systemctl(module, "start", service)
        started = True
    elif "reload %s" % service in changes:
        rc, out, err = module.run_command([params["client"], "reload"])
        if rc != 0:
            # fail2ban 1.1 refuses to reload a journal jail whose match changed: a restart keeps the
            # bans (its database) and the UFW rules (the action has no stop command).
            result["changes"].append("restart %s (it refused to reload: %s)" % (service, (err or out).strip()))
            systemctl(module, "restart", service)
            started = True

    if params["expect"]:
        expect = params["expect"]
        if started and not wait_ready(module, params["socket"], params["timeout"], params["wait"]):
            module.fail_json(msg="%s did not answer within %d s of its start. See `systemctl status %s` and "
                                 "/var/log/fail2ban.log on the host." % (service, params["wait"], service), **result)
        _via, result["results"] = ask(module, f2b.questions(expect["jail"]), params["socket"], params["timeout"])
        problems = f2b.verify_errors(result["results"], expect)
        if problems:
            module.fail_json(msg=" ".join(problems), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
