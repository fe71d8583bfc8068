#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: asterisk_apply
short_description: Apply one concern's Asterisk files in one run - write, reload, verify, roll back
version_added: 0.1.0
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
  - With O(service), it also owns the service (the core concern) - enabled and started, or stopped
    and disabled - writes the systemd drop-ins (O(units)), and restarts Asterisk where it must
    instead of reloading - a changed O(restart_files) file (C(asterisk.conf) is read only at start),
    a changed drop-in, O(restart), or a package upgrade not running yet (the running version is
    not the installed one). A stopped Asterisk is started, never restarted.
  - With O(module_set), the module set is applied in the same run, after the files are written and
    before anything is reloaded (as M(vpbx.hardened.asterisk_modules_apply) does) - the SIP driver's
    files first, then the driver loaded or unloaded, so that a driver switch keeps Asterisk's PID. A
    module this run loads reads its file then and is not reloaded too.
  - O(retire) files (the other SIP driver's) are removed once the running Asterisk holds the new
    ones, each only when it holds O(retire_marker) (a file without it is the user's and stays).
  - Check mode reports the files that would change (C(--diff) shows them, the O(secrets) files
    only as changed) and changes nothing; with a change pending it does not verify (the running
    Asterisk still runs the current files) and says so.
author:
  - vpbx.hardened contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - vpbx.hardened.module_set.module_set_option
attributes:
  platform:
    platforms: debian
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
        (C(pbx_config.so), the dialplan, by C(dialplan reload)). The modules reload in the order they
        first appear here - a module after those it needs.
    type: dict
    default: {}
  running:
    description:
      - Whether Asterisk runs; when false the files are written and nothing is reloaded or verified.
      - Ignored with O(service), which asks systemd.
    type: bool
    default: true
  service:
    description:
      - The asterisk service as wanted - C(enabled) (bool) - enabled and started, or stopped and
        disabled (nothing reloaded or verified then). Left out, the service is not touched.
    type: dict
  units:
    description: systemd drop-ins by path (root, C(0644)); a change reloads systemd and restarts Asterisk.
    type: dict
    default: {}
  host_files:
    description:
      - Files outside O(dir) by absolute path, each C(content) and C(mode) (default C(0644)), owned by root -
        a script and the systemd units of a timer (the recordings' pruning). Written with the others,
        restored with them when the run fails; a changed unit reloads systemd, never Asterisk.
      - With C(section), C(content) is that one section of an INI file shared with others (the call
        records' data source in C(/etc/odbc.ini)) - it replaces the section of that name, every other
        line stays; an empty C(content) removes the section (a missing file stays missing). The file
        replaced is copied beside it first (C(path.<time>~)).
    type: dict
    default: {}
  host_files_absent:
    description:
      - Files outside O(dir) by absolute path to remove once the run succeeds, when they hold
        O(retire_marker) - the units and script of a timer switched off. A timer among them is stopped
        and disabled first.
    type: list
    elements: path
    default: []
  host_dirs:
    description:
      - Directories outside O(dir) by absolute path, each C(owner), C(group) and C(mode) - created when
        missing (a directory Asterisk writes in and does not create, such as C(cdr-csv)), their owner,
        group and mode set where they differ. Never removed.
    type: dict
    default: {}
  timers:
    description:
      - systemd timers by unit name, C(true) enabled and started, C(false) stopped and disabled (when
        its unit exists) - once the run succeeds, after O(host_files).
    type: dict
    default: {}
  restart_files:
    description:
      - The files (by name) whose change Asterisk applies only at start - a restart instead of a reload.
      - When O(reload) names a loadable module (C(.so)) for such a file and that module was not loaded
        when the run started, loading it reads the file and nothing is restarted (PJSIP's transports).
    type: list
    elements: str
    default: []
  restart:
    description: Restart Asterisk even when no file asks for it (the caller moved configuration away).
    type: bool
    default: false
  verify:
    description:
      - What the running Asterisk must hold afterwards; left out, nothing is verified.
      - C(kind=dialplan) with C(contexts) - exactly the contexts C(dialplan show) lists as created
        by pbx_config.
      - C(kind=core) with C(rtp_start), C(rtp_end), C(security_file), C(manager_enabled),
        C(manager_bindaddr), C(http_enabled), C(maxfiles) - the RTP range with strict RTP, the
        security log channel, AMI, the HTTP server and the open-file limit Asterisk runs with.
      - C(kind=sip) with C(driver) (C(pjsip) or C(chan_sip)), C(endpoints), C(registrations) (the
        SHA-256 of each name the driver lists - chan_sip lists the trunk's user name) and C(transports)
        (C(name), C(protocol), C(bind)) - exactly the endpoints (peers), outbound registrations and
        transports the driver shows.
      - C(kind=cdr) with C(backends), C(absent) and C(connection) - the CDR backends C(cdr show status)
        must list (not suspended) and must not list, and the res_odbc connection C(odbc show) must
        report open (when given).
    type: dict
  name:
    description: What the files configure, in messages (C(pjsip) - I(Asterisk refused the new pjsip configuration)).
    type: str
  module_set:
    description:
      - The module set to apply in the same run - the options of M(vpbx.hardened.asterisk_modules_apply)
        (C(features), C(hold), C(module_dir), C(major), C(stubs), C(documentation) ...).
      - Its result is RV(module_set). O(module_set.conf_dir) and O(module_set.binary) are this module's
        O(dir) and O(binary) whatever is given here.
    type: dict
  retire:
    description: Files (by name in O(dir)) to remove once the running Asterisk holds the new files.
    type: list
    elements: str
    default: []
  retire_marker:
    description: A regular expression a O(retire) file must contain to be removed (the collection's marker).
    type: str
    default: "vpbx.hardened"
  drop_secret_backups:
    description:
      - Remove the copies of replaced O(secrets) files once the running Asterisk holds the new ones -
        no stale password lingers after a rotation. Kept when the run fails (they are restored).
    type: bool
    default: false
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
changed_dirs:
  description: The O(host_dirs) created or whose owner, group or mode were set (or would be).
  returned: always
  type: list
  elements: str
reloaded:
  description: The modules reloaded.
  returned: always
  type: list
  elements: str
timers:
  description: The timers started (C(enabled)) or stopped (C(disabled)) by this run (or that would be), by unit name.
  returned: always
  type: dict
restarted:
  description: Whether Asterisk was restarted (or, stopped before, started).
  returned: always
  type: bool
backups:
  description: The copies of the files replaced (those of secret files gone when O(drop_secret_backups)).
  returned: always
  type: list
  elements: str
retired:
  description: The O(retire) files removed (or that would be).
  returned: always
  type: list
  elements: str
module_set:
  description: The result of the O(module_set) step (C(modules), C(loaded),
    C(to_load), C(to_unload), C(documentation_current) ...) and what its documentation step changed
    (C(documentation)).
  returned: when O(module_set) is given
  type: dict
"""

import grp
import os
import pwd
import re
import stat
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.vpbx.hardened.plugins.module_utils import dialplan as dp
from ansible_collections.vpbx.hardened.plugins.module_utils import cdr
from ansible_collections.vpbx.hardened.plugins.module_utils import module_set as ms
from ansible_collections.vpbx.hardened.plugins.module_utils import sip_model
from ansible_collections.vpbx.hardened.plugins.module_utils.asterisk import (Cli, cli_error, config_refusals,
                                                                             parse_logger_channels, parse_settings,
                                                                             security_warnings, upgraded)
from ansible_collections.vpbx.hardened.plugins.module_utils.fileset import (FileSet, backup_copy, parse_mode, read_regular,
                                                                            with_section)

# How a module re-reads its file: pbx_config's reload is `dialplan reload`, the logger's `logger reload`.
# Names without .so are parts of the core (manager, http, logger): always there, never in `module show`.
RELOAD_COMMAND = {"pbx_config.so": "dialplan reload", "logger": "logger reload"}
# Seconds a chan_sip reload may take to show the new peers (it runs after `module reload` returns).
CHAN_SIP_SETTLE = 10


def verify_errors(kind, spec, texts):
    """[] when the CLI answers show what spec wants, else the messages."""
    if kind == "dialplan":
        running = dp.parse_dialplan_show(texts[0])
        expected = sorted(spec["contexts"])
        if running != expected:
            return ["Asterisk runs the contexts %s, extensions.conf defines %s. See /var/log/asterisk/messages.log "
                    "for what pbx_config refused, then run `dialplan reload`." % (running, expected)]
        return []
    if kind == "core":
        return core_errors(spec, texts)
    if kind == "sip":
        return sip_errors(spec, texts)
    if kind == "cdr":
        return cdr.verify_errors(spec, texts)
    raise ValueError("verify.kind: %r is not known (dialplan, core, sip, cdr)" % kind)


SIP_COMMANDS = {"pjsip": ["pjsip show endpoints", "pjsip show registrations", "pjsip show transports"],
                "chan_sip": ["sip show peers", "sip show registry"]}
VERIFY_COMMANDS = {"dialplan": ["dialplan show"],
                   "core": ["rtp show settings", "logger show channels", "manager show settings", "http show status",
                            "core show settings"],
                   "sip": SIP_COMMANDS, "cdr": ["cdr show status", "odbc show"]}


def verify_commands(spec):
    if spec["kind"] == "cdr" and not spec.get("connection"):
        return ["cdr show status"]  # res_odbc (and its command) not loaded
    commands = VERIFY_COMMANDS[spec["kind"]]
    return commands[spec.get("driver")] if isinstance(commands, dict) else commands


def sip_errors(spec, texts):
    """The driver's endpoints (peers), registrations and transports against the model's."""
    driver = spec.get("driver")
    if driver == "pjsip":
        running = (sip_model.parse_pjsip_endpoints(texts[0]), sip_model.parse_pjsip_registrations(texts[1]),
                   sip_model.parse_pjsip_transports(texts[2]))
    else:
        running = sip_model.parse_sip_peers(texts[0]), sip_model.parse_sip_registry(texts[1]), []
    running = running[0], sorted(sip_model.digest(name) for name in running[1]), running[2]
    wanted = (sorted(spec.get("endpoints") or []), sorted(spec.get("registrations") or []),
              sorted(spec.get("transports") or [], key=lambda t: t["name"]))
    if list(running) == list(wanted):
        return []
    # Registrations by count only: chan_sip's registry shows the trunk's user name, maybe from a vault.
    return ["%s runs endpoints %s, %d registrations and transports %s; the model has %s, %d registrations and %s."
            % (driver, running[0], len(running[1]), running[2], wanted[0], len(wanted[1]), wanted[2])]


def core_errors(spec, texts):
    """The core settings the running Asterisk uses against the rendered ones."""
    rtp, channels, manager, core = (parse_settings(texts[0]), parse_logger_channels(texts[1]),
                                    parse_settings(texts[2]), parse_settings(texts[4]))
    security = [c for c in channels if c["channel"].endswith("/" + spec["security_file"])]
    maxfiles = int(spec.get("maxfiles") or 0)
    checks = [
        rtp.get("Port start") == str(spec["rtp_start"]), rtp.get("Port end") == str(spec["rtp_end"]),
        rtp.get("Strict RTP") == "Yes",
        len(security) == 1 and security[0]["status"] == "Enabled" and "security" in security[0]["levels"],
        manager.get("Manager (AMI)") == ("Yes" if spec["manager_enabled"] else "No"),
        not spec["manager_enabled"] or manager.get("TCP Bindaddress", "").startswith(spec["manager_bindaddr"] + ":"),
        spec["http_enabled"] or "Server Disabled" in texts[3],
        maxfiles == 0 or core.get("Maximum open file handles") == str(maxfiles),
    ]
    if all(checks):
        return []
    return ["The running Asterisk does not use the rendered configuration (RTP %s, logger %s, AMI %s, open files %s "
            "of asterisk_maxfiles %s: a container runtime may cap it, lower it then). See %s and `journalctl -u "
            "asterisk` on the host." % (rtp, channels, manager, core.get("Maximum open file handles", "?"), maxfiles,
                                        spec.get("log", "/var/log/asterisk/messages.log"))]


CHECK_MODE_PENDING = ("Check mode: the core configuration would change, and the running Asterisk still runs the current "
                      "one - verified after a run without --check.")


class Service:
    """The asterisk unit as systemd sees it, and what a run did to it."""

    def __init__(self, module):
        self.module = module

    def systemctl(self, *args):
        rc, out, err = self.module.run_command(["systemctl"] + list(args))
        return rc, (out or "").strip() or (err or "").strip()

    def active(self):
        return self.systemctl("is-active", "asterisk")[1] == "active"

    def enabled(self):
        return self.systemctl("is-enabled", "asterisk")[1] == "enabled"

    def must(self, *args):
        rc, text = self.systemctl(*args)
        if rc != 0:
            self.module.fail_json(msg="systemctl %s failed: %s. See `systemctl status asterisk` and `journalctl -u "
                                      "asterisk`." % (" ".join(args), text[:1000]))


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


UNIT_SUFFIXES = (".service", ".timer")


def dir_state(path):
    """(uid, gid, mode) of the directory at path, None when there is none."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    return (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) if stat.S_ISDIR(info.st_mode) else None


def timer_actions(module, timers):
    """{timer: "enabled" | "disabled"} for each timer not as wanted (systemctl's word for it)."""
    actions = {}
    for name, wanted in sorted(timers.items()):
        state = {key: (module.run_command(["systemctl", "is-" + key, name])[1] or "").strip()
                 for key in ("enabled", "active")}
        if wanted and (state["enabled"] != "enabled" or state["active"] != "active"):
            actions[name] = "enabled"
        elif not wanted and (state["enabled"] in ("enabled", "enabled-runtime") or state["active"] == "active"):
            actions[name] = "disabled"
    return actions


def apply_timers(module, actions, result):
    """Start and enable, or stop and disable, each timer of `actions` (nothing in check mode)."""
    if module.check_mode:
        return
    for name, action in sorted(actions.items()):
        command = ["systemctl", "enable" if action == "enabled" else "disable", "--now", name]
        rc, out, err = module.run_command(command)
        if rc != 0:
            module.fail_json(msg="%s failed: %s. See `systemctl status %s`." % (" ".join(command),
                                                                                (err or out).strip()[:1000], name),
                             **result)


def marked(entries, marker):
    """The (name, path) entries whose file is present and holds the marker (the collection's, not
    the user's), as (name, path, content)."""
    found = []
    for name, path in entries:
        try:
            data = read_regular(path)
        except ValueError:
            continue
        if data is not None and re.search(marker, data.decode("utf-8", "replace")):
            found.append((name, path, data))
    return found


def retire_candidates(params):
    """The O(retire) files present that hold the marker, then the O(host_files_absent) ones."""
    return (marked([(name, os.path.join(params["dir"], name)) for name in params["retire"]], params["retire_marker"])
            + marked([(path, path) for path in params["host_files_absent"]], params["retire_marker"]))


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
            service=dict(type="dict"),
            units=dict(type="dict", default={}),
            host_files=dict(type="dict", default={}),
            host_files_absent=dict(type="list", elements="path", default=[]),
            host_dirs=dict(type="dict", default={}),
            timers=dict(type="dict", default={}),
            restart_files=dict(type="list", elements="str", default=[]),
            restart=dict(type="bool", default=False),
            verify=dict(type="dict"),
            name=dict(type="str"),
            module_set=dict(type="dict", options=ms.OPTIONS),
            retire=dict(type="list", elements="str", default=[]),
            retire_marker=dict(type="str", default="vpbx.hardened"),
            drop_secret_backups=dict(type="bool", default=False),
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
    if verify and verify["kind"] == "sip" and verify.get("driver") not in SIP_COMMANDS:
        module.fail_json(msg="verify.driver: %r is not known (%s)" % (verify.get("driver"), ", ".join(SIP_COMMANDS)))
    names = list(files) + sorted(secrets)
    for option, given in (("files", list(files)), ("secrets", sorted(secrets)), ("retire", params["retire"])):
        for name in given:
            if "/" in name or name in ("", ".", ".."):
                module.fail_json(msg="%s: %r must be a file name inside %s" % (option, name, params["dir"]))
    units = {path: str(text) for path, text in (params["units"] or {}).items()}
    for path in units:
        if not os.path.isabs(path):
            module.fail_json(msg="units: %r must be an absolute path" % path)
    host_files = params["host_files"] or {}
    for option, given in (("host_files", list(host_files)), ("host_files_absent", params["host_files_absent"])):
        for path in given:
            if not os.path.isabs(path) or os.path.commonpath([os.path.abspath(path), params["dir"]]) == params["dir"]:
                module.fail_json(msg="%s: %r must be an absolute path of a file outside %s" % (option, path,
                                                                                               params["dir"]))
    for path, spec in list(host_files.items()):
        if not isinstance(spec, dict) or "content" not in spec:
            module.fail_json(msg="host_files: %r needs content (and mode)" % path)
        if spec.get("section"):
            # One section of a shared INI file (/etc/odbc.ini): the file's other sections stay.
            try:
                data = read_regular(path)
            except ValueError as exc:
                module.fail_json(msg=str(exc))
            if data is None and not spec["content"]:
                del host_files[path]
                continue
            host_files[path] = dict(spec, content=with_section(to_text(data or b"", errors="surrogate_or_strict"),
                                                               spec["section"], str(spec["content"])))
    host_dirs = {}
    for path, spec in (params["host_dirs"] or {}).items():
        if not os.path.isabs(path) or os.path.commonpath([os.path.abspath(path), params["dir"]]) == params["dir"]:
            module.fail_json(msg="host_dirs: %r must be an absolute path of a directory outside %s" % (path,
                                                                                                       params["dir"]))
        try:
            host_dirs[path] = (pwd.getpwnam(spec["owner"]).pw_uid, grp.getgrnam(spec["group"]).gr_gid,
                               parse_mode(spec["mode"], "host_dirs[%s].mode" % path))
        except (KeyError, TypeError, ValueError) as exc:
            module.fail_json(msg="host_dirs: %r needs an existing owner and group and a mode (%s)" % (path, exc))
        if os.path.lexists(path) and not os.path.isdir(path):
            module.fail_json(msg="host_dirs: %s exists and is not a directory; move it away first" % path)
    dirs_changed = [path for path, wanted in sorted(host_dirs.items()) if dir_state(path) != wanted]
    timers = {name: boolean(wanted, strict=False) for name, wanted in (params["timers"] or {}).items()}
    for name in timers:
        if not name.endswith(".timer") or "/" in name:
            module.fail_json(msg="timers: %r is not a timer unit name (give name.timer)" % name)
    try:
        mode = parse_mode(params["mode"], "mode")
        fileset = FileSet([{"path": os.path.join(params["dir"], name), "uid": uid, "gid": gid, "mode": mode,
                            "secret": name in secrets,
                            "content": to_bytes(files[name] if name in files else secrets[name],
                                                errors="surrogate_or_strict")} for name in names]
                          + [{"path": path, "uid": 0, "gid": 0, "mode": 0o644,
                              "content": to_bytes(text, errors="surrogate_or_strict")} for path, text in units.items()]
                          + [{"path": path, "uid": 0, "gid": 0, "mode": parse_mode(spec.get("mode", "0644"), path),
                              "content": to_bytes(str(spec["content"]), errors="surrogate_or_strict"),
                              # A shared file's previous version is kept beside it (path.<time>~).
                              "backup": True if spec.get("section") else None}
                             for path, spec in host_files.items()],
                          backup=bool(params["backup_dir"]), backup_dir=params["backup_dir"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))

    def name_of(change):
        return change.path if change.path in units or change.path in host_files else os.path.basename(change.path)
    changed = [name_of(change) for change in fileset.changed]
    content_changed = [name_of(change) for change in fileset.changed if change.content_changed]
    units_changed = [name for name in content_changed if name in units]
    host_units_changed = [name for name in content_changed if name in host_files
                          and (name.endswith(UNIT_SUFFIXES) or name.startswith("/etc/systemd/"))]
    reload_of = params["reload"]
    # In the order O(reload) gives them: a module reloads after those it needs (res_odbc before
    # cdr_adaptive_odbc, which looks its table up through res_odbc's connection as it loads).
    to_reload = {reload_of[name] for name in content_changed if name in reload_of}
    modules = [name for name in dict.fromkeys(reload_of.values()) if name in to_reload]
    retired = [entry for entry in retire_candidates(params) if entry[0] not in names and entry[0] not in host_files]
    timer_changes = timer_actions(module, timers)
    result = {"changed": bool(changed or retired or timer_changes or dirs_changed), "changed_files": changed,
              "changed_dirs": dirs_changed, "reloaded": [],
              "backups": [], "restarted": False, "retired": [entry[0] for entry in retired],
              "timers": timer_changes}
    if module._diff:
        result["diff"] = fileset.diffs() + [{"before_header": path, "after_header": "%s (removed)" % path,
                                             "before": data.decode("utf-8", "replace"), "after": ""}
                                            for _name, path, data in retired]
    service = Service(module) if params["service"] is not None else None
    wanted_up = bool((params["service"] or {}).get("enabled", True))
    running = params["running"] if service is None else service.active()
    was_running, was_enabled = running, service.enabled() if service is not None else True
    if service is not None:
        result["changed"] = result["changed"] or running != wanted_up or was_enabled != wanted_up
    cli = Cli(module, params["binary"])
    what = "the new %s configuration" % params["name"] if params["name"] else "the new configuration"
    set_params = None
    if params["module_set"] is not None:
        # No stub for a file this run writes itself.
        set_params = dict(params["module_set"], conf_dir=params["dir"], binary=params["binary"],
                          log_file=params["log_file"],
                          stubs={k: v for k, v in params["module_set"]["stubs"].items() if k not in names})

    def apply_set():
        """The module set's step; its result is part of this run's."""
        try:
            out = ms.apply_set(module, set_params)
        except ms.SetError as exc:
            return None, exc.msg
        result["module_set"] = {k: v for k, v in out.items() if k != "diff"}
        result["changed"] = result["changed"] or out["changed"]
        if module._diff:
            result["diff"] += out.get("diff", [])
        return out, None

    def apply_documentation(set_out):
        """The XML documentation for the set now running (after a start, as Asterisk lists it)."""
        spec = set_params["documentation"] if set_params is not None else None
        if not spec or not spec.get("path") or set_out is None or "modules" not in set_out:
            return
        state = dict(set_out)
        if result["restarted"]:
            shown = cli.modules(required=False)
            state.update(running=shown is not None, upgrade_pending=False,
                         loaded=sorted(m for m in (shown or {}) if m.endswith(".so")))
            state.pop("documentation_current", None)  # judged for the modules before the start
        try:
            doc = ms.documentation(module, spec, state, set_params)
        except ms.DocError as exc:
            # The files and the module set run (nothing rolled back): only the documentation failed.
            module.fail_json(msg="Asterisk runs the new files and module set, but its XML documentation: %s" % exc,
                             **result)
        result["module_set"]["documentation"] = doc
        result["changed"] = result["changed"] or bool(doc["changes"])

    if module.check_mode:
        if set_params is not None:
            set_out, failure = apply_set()
            if failure:
                module.fail_json(msg=failure, **result)
            apply_documentation(set_out)
        if service is None or not (running and wanted_up and verify):
            module.exit_json(**result)
        if changed or params["restart"]:
            # Nothing was applied: the running Asterisk still runs the current files.
            module.exit_json(msg=CHECK_MODE_PENDING, **result)

    def run(command):
        """(problem or None, output) of one CLI command."""
        rc, text = cli.run(command)
        return cli_error(text) or ("rc=%d" % rc if rc else None), text

    def at_start_only(name):
        """Whether the changed file `name` needs a restart: Asterisk reads it only at start - unless
        its module was not loaded when this run started (loading it reads the file)."""
        module_name = reload_of.get(name, "")
        return name in params["restart_files"] and (not module_name.endswith(".so") or module_name in loaded_before)
    mark = log_size(params["log_file"]) if params["refusals"] else None
    loaded_before = {}
    if running and not module.check_mode and any(reload_of.get(n, "").endswith(".so") for n in content_changed
                                                 if n in params["restart_files"]):
        loaded_before = cli.modules(required=False) or {}
    if not module.check_mode:
        for path in list(units) + list(host_files):
            if not os.path.isdir(os.path.dirname(path)):
                os.makedirs(os.path.dirname(path), 0o755)
        for path in dirs_changed:
            uid_gid_mode = host_dirs[path]
            if not os.path.isdir(path):
                os.makedirs(path, uid_gid_mode[2])
            os.chown(path, uid_gid_mode[0], uid_gid_mode[1])
            os.chmod(path, uid_gid_mode[2])
        result["backups"] = fileset.write_or_fail(module, result)
        if units_changed or host_units_changed:
            service.must("daemon-reload") if service else module.run_command(["systemctl", "daemon-reload"])

    def finish():
        """Success: the timers started or stopped, the other driver's files (and the units of a timer
        switched off) retired, the secrets' old copies dropped."""
        apply_timers(module, timer_changes, result)
        for _name, path, _data in retired:
            if params["backup_dir"]:
                backup_copy(path, time.strftime("%Y-%m-%d@%H:%M:%S"), params["backup_dir"])
            os.unlink(path)
        if any(path.endswith(UNIT_SUFFIXES) for _name, path, _data in retired):
            module.run_command(["systemctl", "daemon-reload"])
        if params["drop_secret_backups"]:
            for change in fileset.files:
                if change.secret and change.backup_file and os.path.exists(change.backup_file):
                    os.unlink(change.backup_file)
                    result["backups"].remove(change.backup_file)
        module.exit_json(**result)

    problems, set_out = [], None
    if set_params is not None:
        # After the files, before any start or restart: a driver loaded now reads its new files (and
        # is not reloaded again), and an Asterisk started now starts with the new modules.conf.
        set_out, failure = apply_set()
        if failure:
            problems.append(failure)
        else:
            modules = [name for name in modules if name not in set_out.get("to_load", [])]
            if set_out.get("restarted"):
                result["restarted"], modules = True, []
    if service is not None and not wanted_up and not problems:
        if running:
            service.must("stop", "asterisk")
        if was_enabled:
            service.must("disable", "asterisk")
        finish()
    must_restart = params["restart"] or units_changed or any(at_start_only(name) for name in content_changed)
    if service is not None and not problems:
        if not was_enabled:
            service.must("enable", "asterisk")
        if not running or must_restart or upgraded(module, cli, params["binary"]):
            service.must("restart" if running else "start", "asterisk")
            result["restarted"], modules = True, []
            if not cli.wait_booted():
                module.fail_json(msg="Asterisk did not finish booting after its %s. See %s and `journalctl -u "
                                     "asterisk`." % ("restart" if running else "start", params["log_file"]), **result)
        running = True

    def reload_all(names):
        loaded = cli.modules(required=False)
        if loaded is None:
            return [], "Asterisk does not answer `module show`: see `systemctl status asterisk`"
        done = []
        for name in names:
            if name.endswith(".so") and name not in loaded:
                continue
            problem, text = run(RELOAD_COMMAND.get(name, "module reload %s" % name))
            if problem:
                return done, "reloading %s failed: %s" % (name, text.strip()[:1000])
            done.append(name)
        return done, None

    if not problems and service is None and running and must_restart and not result["restarted"]:
        # PJSIP cannot apply a changed transport at runtime.
        Service(module).must("restart", "asterisk")
        result["restarted"], modules = True, []
        if not cli.wait_booted():
            problems.append("Asterisk did not finish booting after its restart. See %s and `journalctl -u asterisk`."
                            % params["log_file"])
    if not running and not problems:
        finish()

    if not problems:
        result["reloaded"], failure = reload_all(modules) if modules else ([], None)
        problems = [failure] if failure else []
    if not problems and params["refusals"] and changed:
        logged = log_since(params["log_file"], mark)
        refused, warned = config_refusals(logged), security_warnings(logged)
        if refused:
            problems.append("Asterisk refused %s: %s." % (what, " | ".join(refused)))
        if warned:
            problems.append("Asterisk warned that the files help an attacker: %s." % " | ".join(warned))
    # chan_sip reloads in its monitor thread, after `module reload` has returned: what it shows may
    # still be the peers it is rebuilding. Its read is repeated until it holds the model, for
    # CHAN_SIP_SETTLE seconds at most (the other drivers and the core reload before they answer).
    settle = time.monotonic() + (CHAN_SIP_SETTLE if verify and verify.get("driver") == "chan_sip"
                                 and result["reloaded"] else 0)
    while not problems and verify:
        texts = []
        for command in verify_commands(verify):
            problem, text = run(command)
            if problem:
                problems.append("%s failed: %s" % (command, text.strip()[:1000]))
            texts.append(text)
        if problems:
            break
        problems = verify_errors(verify["kind"], verify, texts)
        if not problems or time.monotonic() >= settle:
            break
        problems = []
        time.sleep(0.5)
    if problems:
        if any(change.written for change in fileset.files):
            fileset.restore()
            if units_changed or host_units_changed:
                module.run_command(["systemctl", "daemon-reload"])
            if result["restarted"] and not was_running:
                # Started by this run: stopped again (and disabled when it was), not left running
                # on what the restore left (a fresh host's files are removed, not restored).
                service.must("stop", "asterisk")
                if not was_enabled:
                    service.must("disable", "asterisk")
                problems.append("The previous files were restored and Asterisk, started by this run, stopped again.")
            elif result["restarted"]:
                Service(module).must("restart", "asterisk")
                cli.wait_booted()
                problems.append("The previous files were restored and Asterisk restarted on them.")
            else:
                all_modules = list(dict.fromkeys(reload_of[name] for name in content_changed if name in reload_of))
                restored, _failure = reload_all(all_modules)
                problems.append("The previous files were restored%s." % (
                    " and %s reloaded on them" % ", ".join(restored) if restored else ""))
        module.fail_json(msg=" ".join(problems) + " Fix what it names and run again.", **result)
    apply_documentation(set_out)
    finish()


if __name__ == "__main__":
    main()
