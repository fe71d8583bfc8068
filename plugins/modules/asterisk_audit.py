#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: asterisk_audit
short_description: Read-only hardening audit of an Asterisk host against SECURITY-CONTROLS.md
version_added: 0.1.0
description:
  - Gathers evidence on the host without changing anything - the owner of the asterisk process,
    the modes under O(config_dir), C(asterisk.conf), C(sip.conf) and C(extensions.conf) with their
    includes, read-only C(asterisk -rx) commands (only when Asterisk runs), C(ufw status verbose)
    and C(fail2ban-client status) - and judges every control of the collection's
    SECURITY-CONTROLS.md.
  - Works on any Debian/Ubuntu Asterisk, also one the collection did not build (a stock
    C(apt install asterisk)).
  - Each control gets C(pass), C(fail), C(n/a) (does not apply here, or proven from another host by
    the collection's tests) or C(unknown) (the host cannot tell; the detail says why). A failed
    control carries a one-line fix naming the setting and, where there is one, the collection
    variable.
  - Missing tools (ufw, fail2ban-client) are evidence, not errors. The module never fails because
    of a finding; use RV(failed_controls) to decide.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - vpbx.hardened.asterisk
attributes:
  platform:
    platforms: debian
  check_mode:
    support: full
    details: Read-only; it gathers the same evidence in check mode.
  diff_mode:
    support: none
options:
  config_dir:
    description: Asterisk's configuration directory.
    type: path
    default: /etc/asterisk
  max_endpoints:
    description:
      - At most this many PJSIP endpoints are read one by one (C(pjsip show endpoint NAME)) to judge
        C(allow_unauthenticated_options); control 13 is C(unknown) for the others.
    type: int
    default: 500
  return_evidence:
    description:
      - Also return the raw evidence (command outputs, file contents) as RV(evidence), for example
        to capture test fixtures. It contains the configuration files, secrets included.
    type: bool
    default: false
notes:
  - Run it with C(become=true), because the configuration directory and the CLI socket are not
    readable by other users on a hardened host.
  - Control 7 (version) is C(unknown) with the version in the detail, because distributions backport
    security fixes without changing the upstream number.
seealso:
  - module: vpbx.hardened.asterisk_facts
"""

EXAMPLES = r"""
- name: Audit the PBX
  vpbx.hardened.asterisk_audit:
  register: audit

- name: Show the report
  ansible.builtin.debug:
    msg: "{{ audit.report | split('\n') }}"

- name: Fail when a control failed
  ansible.builtin.assert:
    that: audit.failed_controls | length == 0
    fail_msg: "Failed controls: {{ audit.failed_controls | join(', ') }}"
"""

RETURN = r"""
controls:
  description: One entry per control of SECURITY-CONTROLS.md, in order.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Control number.
      type: int
      sample: 10
    title:
      description: What the control requires.
      type: str
      sample: allowguest=no
    scope:
      description: C(S) chan_sip, C(P) PJSIP, C(B) both, C(OS) the operating system.
      type: str
      sample: S
    status:
      description: C(pass), C(fail), C(n/a) or C(unknown).
      type: str
      sample: fail
    detail:
      description: What the audit saw (or why it could not judge).
      type: str
      sample: "Allow unknown access: Yes (unauthenticated calls reach the dialplan)"
    fix:
      description: For a failed control, the setting to change (and the collection variable); else empty.
      type: str
      sample: allowguest = no in sip.conf [general] (vpbx.hardened.asterisk_sip renders it)
summary:
  description: How many controls got each status.
  returned: always
  type: dict
  sample: {"pass": 12, "fail": 7, "n/a": 11, "unknown": 1}
failed_controls:
  description: Ids of the failed controls.
  returned: always
  type: list
  elements: int
  sample: [2, 6, 10]
report:
  description: The report as text (one line per control, the fix under each failure).
  returned: always
  type: str
asterisk_version:
  description: The version as C(asterisk -V) prints it, empty when Asterisk is not installed.
  returned: always
  type: str
  sample: 16.28.0~dfsg-0+deb11u4
evidence:
  description: The raw evidence the verdicts were made from.
  returned: when O(return_evidence=true)
  type: dict
"""

import glob
import grp
import os
import pwd
import stat

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vpbx.hardened.plugins.module_utils import audit
from ansible_collections.vpbx.hardened.plugins.module_utils.asterisk import ParseError, cli_error, parse_version

MAX_FILES = 200


def _name(getter, ident):
    try:
        return getter(ident)[0]
    except KeyError:
        return str(ident)


def processes():
    """The asterisk processes from /proc, in the format of `ps -C asterisk -o user=,group=,pid=,args=`."""
    lines = []
    for pid in sorted((p for p in os.listdir("/proc") if p.isdigit()), key=int):
        try:
            with open("/proc/%s/comm" % pid, encoding="utf-8", errors="replace") as handle:
                if handle.read().strip() != "asterisk":
                    continue
            uid = gid = None
            with open("/proc/%s/status" % pid, encoding="utf-8", errors="replace") as handle:
                for line in handle:
                    if line.startswith("Uid:"):
                        uid = int(line.split()[2])
                    elif line.startswith("Gid:"):
                        gid = int(line.split()[2])
            with open("/proc/%s/cmdline" % pid, "rb") as handle:
                args = handle.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
        except (OSError, ValueError, IndexError):
            continue  # the process ended meanwhile
        if uid is None or gid is None:
            continue
        lines.append("%s %s %s %s" % (_name(pwd.getpwuid, uid), _name(grp.getgrgid, gid), pid, args or "asterisk"))
    return "\n".join(lines) + ("\n" if lines else "")


def listing(top):
    """Modes under `top` in the format of `find TOP -printf '%m %u %g %y %p\\n'` (symlinks not followed)."""
    if not os.path.lexists(top):
        return None
    lines = []

    def add(path):
        try:
            st = os.lstat(path)
        except OSError:
            return
        kind = "d" if stat.S_ISDIR(st.st_mode) else "l" if stat.S_ISLNK(st.st_mode) else \
            "f" if stat.S_ISREG(st.st_mode) else "o"
        lines.append("%o %s %s %s %s" % (stat.S_IMODE(st.st_mode), _name(pwd.getpwuid, st.st_uid),
                                         _name(grp.getgrgid, st.st_gid), kind, path))

    add(top)
    for root, dirs, files in os.walk(top):
        dirs.sort()
        for entry in sorted(dirs) + sorted(files):
            add(os.path.join(root, entry))
    return "\n".join(lines) + "\n"


def config_files(config_dir, roots=("asterisk.conf", "sip.conf", "extensions.conf")):
    """{name relative to config_dir: text or None} for the roots and everything they #include."""
    files = {}
    todo = list(roots)
    while todo and len(files) < MAX_FILES:
        name = todo.pop(0)
        if name in files:
            continue
        path = name if os.path.isabs(name) else os.path.join(config_dir, name)
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                files[name] = handle.read()
        except OSError:
            files[name] = None
            continue
        prefix = config_dir.rstrip("/") + "/"
        for inc in audit.includes(files[name]):
            rel = inc[len(prefix):] if inc.startswith(prefix) else inc
            if any(c in rel for c in "*?["):  # Asterisk expands globs
                pattern = rel if os.path.isabs(rel) else os.path.join(config_dir, rel)
                todo.extend(sorted(path[len(prefix):] if path.startswith(prefix) else path
                                   for path in glob.glob(pattern)))
            else:
                todo.append(rel)
    return files


def gather(module):
    params = module.params
    binary = params["binary"]
    evidence = {"installed": os.path.exists(binary), "running": False, "version": "",
                # First, before this module's own `asterisk -rx` clients appear in the process list.
                "ps": processes(), "confdir": listing(params["config_dir"]),
                "files": config_files(params["config_dir"]), "cli": {}}
    if evidence["installed"]:
        rc, out, err = module.run_command([binary, "-V"])
        evidence["version"] = (out or err or "").strip()

        def cli(command):
            rc, out, err = module.run_command([binary, "-rx", command])
            return (out or "") + (err or "")

        first = cli("core show version")
        evidence["cli"]["core show version"] = first
        if cli_error(first) != "Asterisk is not running" and "Asterisk" in first:
            evidence["running"] = True
            for command in audit.CLI_COMMANDS:
                if command not in evidence["cli"]:
                    evidence["cli"][command] = cli(command)
            names = audit.parse_pjsip_names(evidence["cli"].get("pjsip show endpoints"), "Endpoint")
            for name in names[:max(params["max_endpoints"], 0)]:
                command = "pjsip show endpoint %s" % name
                evidence["cli"][command] = cli(command)
    for key, argv in (("ufw", ["status", "verbose"]), ("fail2ban", ["status"])):
        tool = module.get_bin_path("ufw" if key == "ufw" else "fail2ban-client")
        if tool is None:
            evidence[key] = {"rc": None, "out": ""}
            continue
        rc, out, err = module.run_command([tool] + argv)
        evidence[key] = {"rc": rc, "out": (out or "") + (err or "")}
    # The files the asterisk jails watch (control 22 compares them with what Asterisk writes).
    evidence["fail2ban_jails"] = {}
    if evidence["fail2ban"]["rc"] == 0:
        for jail in audit.parse_jails(evidence["fail2ban"]["out"]):
            if "asterisk" in jail.lower():
                rc, out, err = module.run_command([module.get_bin_path("fail2ban-client"), "status", jail])
                evidence["fail2ban_jails"][jail] = (out or "") + (err or "")
    return evidence


def main():
    module = AnsibleModule(
        argument_spec=dict(
            binary=dict(type="path", default="/usr/sbin/asterisk"),
            config_dir=dict(type="path", default="/etc/asterisk"),
            max_endpoints=dict(type="int", default=500),
            return_evidence=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    evidence = gather(module)
    results = audit.evaluate(evidence)
    try:
        version = parse_version(evidence["version"])["version"]
    except ParseError:
        version = ""
    host = os.uname()[1]
    result = dict(
        changed=False,
        controls=results,
        summary=audit.summary(results),
        failed_controls=audit.failed(results),
        report=audit.report_text(results, host),
        asterisk_version=version,
    )
    if module.params["return_evidence"]:
        result["evidence"] = evidence
    module.exit_json(**result)


if __name__ == "__main__":
    main()
