# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
"""Applying Asterisk's module set on the host: one engine for the modules that load or unload
modules - asterisk_modules_apply (the set alone) and asterisk_apply (a concern's files and the set
in one run, for the SIP driver: its files written, then the driver switched, then verified).

apply() resolves the set from the installed modules' declarations, installs missing packages where
allowed, writes modules.conf, the stubs and the stored requests, unloads and loads at runtime (a
restart only when Asterisk refuses an unload) and reads Asterisk back. It raises SetError with
what it did so far; the caller fails (or rolls back) with it."""

from __future__ import annotations

import grp
import hashlib
import json
import os
import pwd
import re

from ansible_collections.vpbx.hardened.plugins.module_utils import apt
from ansible_collections.vpbx.hardened.plugins.module_utils.asterisk import Cli, cli_error, log_lines, not_running, upgraded
from ansible_collections.vpbx.hardened.plugins.module_utils.asterisk_features import (
    CONFIG_STUBS, PlanError, load_order, modules_conf, plan)
from ansible_collections.vpbx.hardened.plugins.module_utils import asterisk_xmldoc as xmldoc
from ansible_collections.vpbx.hardened.plugins.module_utils.asterisk_xmldoc import modules_key, read_key, read_stamp
from ansible_collections.vpbx.hardened.plugins.module_utils.fileset import FileSet
from ansible_collections.vpbx.hardened.plugins.module_utils.module_catalog import read_catalog, read_requests

MISSING = ("These modules are needed but not installed: %s. Install %s (apt-get install ...), or set "
           "asterisk_modules_install_packages: true to let the role install them, or remove the feature from "
           "asterisk_modules_features.")

# The options of the module set (asterisk_modules_apply's own, asterisk_apply's `module_set`).
OPTIONS = dict(
    features=dict(type="list", elements="str", default=[]),
    extra=dict(type="list", elements="str", default=[]),
    exclude=dict(type="list", elements="str", default=[]),
    mode=dict(type="str", choices=["explicit", "autoload"], default="explicit"),
    hold=dict(type="list", elements="str", default=[]),
    install_packages=dict(type="bool", default=False),
    installable=dict(type="list", elements="str", default=[]),
    requester=dict(type="str"),
    request=dict(type="list", elements="str", default=[]),
    own_requesters=dict(type="list", elements="str", default=[]),
    requests_file=dict(type="path", default="/etc/ansible/facts.d/vpbx_asterisk_modules.fact"),
    module_dir=dict(type="path", required=True),
    major=dict(type="int"),
    conf_dir=dict(type="path", default="/etc/asterisk"),
    owner=dict(type="str", default="root"),
    group=dict(type="str", default="asterisk"),
    header=dict(type="str", default=";\n; Ansible managed\n;"),
    stubs=dict(type="dict", default={}),
    dropins=dict(type="dict", default={}),
    documentation=dict(type="dict", options=dict(
        path=dict(type="path"),
        source=dict(type="path"),
        trim=dict(type="bool", default=True),
        dropin=dict(type="path"),
    )),
    log_file=dict(type="path", default="/var/log/asterisk/messages.log"),
    binary=dict(type="path", default="/usr/sbin/asterisk"),
)


class SetError(Exception):
    """The module set could not be applied: `msg`, and the result so far (`out`)."""

    def __init__(self, msg, out):
        super().__init__(msg)
        self.msg, self.out = msg, out


def listed(path):
    """The modules a modules.conf loads by name (`load => x.so`)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return []
    return re.findall(r"^\s*load\s*=>?\s*(\S+?\.so)\b", text, re.M)


def held_modules(features, hold, params, catalog, candidates):
    """The modules only the `hold` features bring - with every one of `candidates` (the set and
    what runs) that needs one of them (a feature combined with the driver: res_pjsip_mwi for
    voicemail, res_pjsip_refer for transfer) - except what the other features need without them."""
    base = set()
    for feature in hold:
        try:
            base |= {m[:-3] for m in plan([feature], [], [], catalog, major=params["major"])["modules"]}
        except PlanError:
            continue  # a driver this Asterisk does not have (chan_sip from 21 on)
    others = {m[:-3] for m in plan([f for f in features if f not in hold], params["extra"], params["exclude"],
                                   catalog, major=params["major"])["modules"]}
    base -= others
    held = set(base)
    for name in candidates:
        if name in catalog and name not in others and needs(name, base, catalog):
            held.add(name)
    return {name + ".so" for name in held}


def needs(name, modules, catalog):
    """Whether `name` requires (or enhances), directly or through others, one of `modules`."""
    seen, queue = set(), [name]
    while queue:
        current = queue.pop()
        for dep in list(catalog.get(current, {}).get("requires", [])) + list(catalog.get(current, {}).get("enhances", [])):
            if dep in modules:
                return True
            if dep not in seen:
                seen.add(dep)
                queue.append(dep)
    return False


def _resolve(module, p, features):
    """The set from the installed modules, the missing ones' packages installed where allowed:
    (plan result, catalog, packages installed)."""
    catalog = read_catalog(module, p["module_dir"])
    try:
        result = plan(features, p["extra"], p["exclude"], catalog, major=p["major"])
        if result["missing"] and not p["install_packages"]:
            blocked = plan([f for f in features if f not in p["installable"]], p["extra"], p["exclude"], catalog,
                           major=p["major"])["missing"]
            if blocked:
                raise SetError(MISSING % (", ".join(sorted(blocked)), " ".join(sorted(set(blocked.values())))),
                               dict(missing=result["missing"], packages=[], running=False))
    except PlanError as exc:
        raise SetError(str(exc), dict(missing={}, packages=[], running=False)) from None
    packages = sorted(set(result["missing"].values()))
    if not packages or module.check_mode:
        return result, catalog, packages
    try:
        apt.install(module, packages)
    except apt.AptError as exc:
        raise SetError(str(exc), dict(missing=result["missing"], packages=packages, running=False)) from None
    catalog = read_catalog(module, p["module_dir"])
    try:
        result = plan(features, p["extra"], p["exclude"], catalog, major=p["major"])
    except PlanError as exc:
        raise SetError(str(exc), dict(missing={}, packages=packages, running=False)) from None
    if result["missing"]:
        raise SetError("Still missing after installing %s: %s" % (" ".join(packages), ", ".join(sorted(result["missing"]))),
                       dict(missing=result["missing"], packages=packages, running=False))
    return result, catalog, packages


def apply(module, p):
    """Apply the module set `p` (the OPTIONS) on the host, then its XML documentation; the result,
    or SetError. A documentation that cannot be trimmed is not the set's failure: the result's
    `documentation_error` says why (the caller fails after its own verification). Check mode
    writes, loads and unloads nothing and says what would change."""
    out = apply_set(module, p)
    if p["documentation"] and p["documentation"].get("path") and "modules" in out:
        try:
            out["documentation"] = documentation(module, p["documentation"], out, p)
        except DocError as exc:
            out["documentation_error"] = str(exc)
        out["changed"] = out["changed"] or bool(out.get("documentation", {}).get("changes"))
    return out


def apply_set(module, p):
    """The module set alone (apply() without the documentation)."""
    if p["request"] and not p["requester"]:
        raise SetError("request needs requester (the name of the role asking)", {})
    if p["requester"] in p["own_requesters"]:
        raise SetError("requester: %s is one of the collection's roles, whose features come from the inventory "
                       "(asterisk_modules_requester is for roles outside the collection)" % p["requester"], {})

    # The stored requests of roles outside the collection, this run's request in place of its earlier one.
    requests = {k: v for k, v in read_requests(p["requests_file"]).items() if k not in p["own_requesters"]}
    if p["requester"]:
        requests[p["requester"]] = sorted(set(p["request"]))
    features = list(p["features"])
    for requester in sorted(requests):
        features += [f for f in requests[requester] if f not in features]

    result, catalog, packages = _resolve(module, p, features)
    if packages and module.check_mode:
        return dict(changed=True, missing=result["missing"], packages=packages, running=False,
                    msg="would install %s, then apply the module set" % " ".join(packages))

    cli = Cli(module, p["binary"])
    shown = cli.modules(required=False) if os.path.exists(p["binary"]) else None
    running = shown is not None
    # A package upgrade installed but not running yet: the new modules are not loaded into the old
    # process - modules.conf is written, the restart that applies the upgrade loads it.
    upgrade_pending = running and upgraded(module, cli, p["binary"])
    loaded = sorted(m for m in (shown or {}) if m.endswith(".so"))
    conf_path = os.path.join(p["conf_dir"], "modules.conf")
    candidates = {m[:-3] for m in result["modules"] + loaded + listed(conf_path)}
    held = held_modules(features, p["hold"], p, catalog, candidates) if p["hold"] else set()

    # The set this run applies: the held modules stay as they are - listed while they run, or,
    # with Asterisk stopped, as the modules.conf it will start with lists them.
    kept = loaded if running else listed(conf_path)
    names = [m[:-3] for m in result["modules"] if m not in held] + [m[:-3] for m in kept if m in held]
    modules = [m + ".so" for m in load_order(set(names), catalog)]
    reasons = dict(result["reasons"])
    for name in modules:
        reasons.setdefault(name, "kept while it runs: the role that configures it switches it")
    wanted = set(modules)
    if p["mode"] == "autoload":
        unwanted = {m if m.endswith(".so") else m + ".so" for m in p["exclude"]}
        extras = [m[:-3] for m in loaded if m in unwanted and m not in held]
    else:
        extras = [m[:-3] for m in loaded if m not in wanted and m not in held]
    to_unload = [m + ".so" for m in reversed(load_order(extras, catalog))]
    if upgrade_pending:
        to_unload = []
    # A module listed but not running (it declined to load, e.g. before its file existed) is loaded
    # again: `module load` retries it.
    started = {m for m, info in (shown or {}).items() if (info or {}).get("status", "Running") == "Running"}
    to_load = [m for m in modules if m not in started] if running and not upgrade_pending else []

    # The files: modules.conf, the stubs the set needs (never over a file), the stored requests,
    # the drop-ins.
    shown_result = dict(result, modules=modules, reasons=reasons)
    uid_root, gid = _ids(p["owner"], p["group"])
    entries = [{"path": conf_path, "uid": uid_root, "gid": gid, "mode": 0o640,
                "content": modules_conf(p["header"], shown_result, p["mode"], p["exclude"], requests).encode()}]
    for stub in sorted({CONFIG_STUBS[m[:-3]] for m in modules if m[:-3] in CONFIG_STUBS}):
        if stub in p["stubs"]:
            entries.append({"path": os.path.join(p["conf_dir"], stub), "uid": uid_root, "gid": gid, "mode": 0o640,
                            "content": p["stubs"][stub].encode(), "force": False})
    if requests or os.path.exists(p["requests_file"]):
        entries.append({"path": p["requests_file"], "uid": 0, "gid": 0, "mode": 0o644,
                        "content": (json.dumps({"requests": requests}, indent=4, sort_keys=True) + "\n").encode()})
    dropins = dict(p["dropins"])
    doc = p["documentation"] or {}
    if doc.get("path") and doc.get("trim", True) and doc.get("dropin"):
        dropins[doc["dropin"]] = dropin_text(p["header"], doc["path"], doc.get("source") or doc["path"] + ".distrib")
    for path, text in sorted(dropins.items()):
        entries.append({"path": path, "uid": 0, "gid": 0, "mode": 0o644, "content": str(text).encode()})
    try:
        files = FileSet(entries, backup=False)
    except ValueError as exc:
        raise SetError(str(exc), dict(running=running, missing={}, packages=packages)) from None
    changed_files = [change.path for change in files.changed]
    out = dict(changed=bool(changed_files or to_load or to_unload or packages), modules=modules,
               features=result["features"], running=running, loaded=loaded, to_load=to_load, to_unload=to_unload,
               restarted=False, refused=[], changed_files=changed_files, missing={}, packages=packages,
               requests=requests)
    if module._diff:
        out["diff"] = files.diffs() + ([{"before_header": "running modules", "after_header": "running modules",
                                         "before": "\n".join(loaded) + "\n",
                                         "after": "\n".join(sorted(set(loaded) - set(to_unload) | set(to_load)))
                                         + "\n"}] if to_load or to_unload else [])
    if module.check_mode:
        return out

    for path in {os.path.dirname(entry["path"]) for entry in entries}:
        if not os.path.isdir(path):
            os.makedirs(path, 0o755)
    files.write()
    if any(path in dropins for path in changed_files):
        module.run_command(["systemctl", "daemon-reload"], check_rc=True)
    if not running or upgrade_pending:
        out["upgrade_pending"] = upgrade_pending
        return out

    # Unload first, dependents first: a module replacing another finds its resources free.
    for name in to_unload:
        rc, text = cli.run("module unload %s" % name)
        if cli_error(text) or rc:
            out["refused"].append(name)
    if out["refused"]:
        # Asterisk keeps some modules (in use, pinned by the core): only a restart drops them;
        # modules.conf, written above, is what it starts with.
        module.run_command(["systemctl", "restart", "asterisk"], check_rc=True)
        out["restarted"] = True
        if not cli.wait_booted():
            raise SetError("Asterisk did not come back after the restart that drops %s. See %s and `journalctl -u "
                           "asterisk`." % (", ".join(out["refused"]), p["log_file"]), out)
        now = cli.modules()
        to_load = [m for m in modules if m not in now]
        out["to_load"] = to_load
    failed = []
    for name in to_load:
        rc, text = cli.run("module load %s" % name)
        if cli_error(text) or rc:
            failed.append(name)
    # A module that needs another's symbols loads once that one runs, whatever the order the
    # modules' declarations give (res_odbc_transaction needs res_odbc's, while res_odbc names it as
    # a requirement): each that failed is tried once more, after the others.
    running_now = cli.modules() if failed else {}
    for name in failed:
        if (running_now.get(name) or {}).get("status") == "Running":
            continue
        rc, text = cli.run("module load %s" % name)
        if cli_error(text) or rc:
            raise SetError("module load %s failed: %s. Asterisk logged: %s" % (
                name, text.strip(), " | ".join(log_lines(p["log_file"], name)) or "nothing"), out)

    # Verify: the running Asterisk runs exactly the set.
    after = cli.modules()
    out["loaded"] = sorted(m for m in after if m.endswith(".so"))
    broken = not_running(after, modules, p["log_file"])
    if broken:
        raise SetError("Not running: " + broken, out)
    left = [m for m in out["loaded"] if m not in wanted and m not in held] if p["mode"] == "explicit" else \
        [m for m in out["loaded"] if m in {x if x.endswith(".so") else x + ".so" for x in p["exclude"]}]
    if left:
        raise SetError("The running Asterisk does not match the module set: loaded although not wanted %s. "
                       "See %s." % (left, p["log_file"]), out)
    out["documentation_current"] = documentation_current(p["documentation"], out["loaded"])
    return out


DROPIN = """{header}
# Rendered by the vpbx.hardened.asterisk_modules role (asterisk_modules_trim_documentation).
# {path} is a trimmed copy of the package's full documentation,
# diverted to {source} (dpkg-divert --list). When the copy is
# missing, or the full file no longer has the SHA-256 the copy names (a package upgrade wrote a new
# one), the full file replaces it before Asterisk starts: a stale copy could lack what a new module
# version looks up. The role trims it again on its next run. "+": runs as root, outside the
# service's sandbox; install sets the mode itself (the service's UMask would make it unreadable).
[Service]
ExecStartPre=+/bin/sh -c 'full={source}; doc={path}; [ -f "$$full" ] || exit 0; sum=$$(sha256sum "$$full" \
| cut -c1-64); grep -qsF "source sha256 $$sum" "$$doc" || install -m 0644 -o root -g root "$$full" "$$doc"'
"""


def dropin_text(header, path, source):
    """The start check of the trimmed documentation: a systemd drop-in (the header's ';' comments as '#')."""
    header = "\n".join("#" + line[1:] if line.startswith(";") else line for line in header.splitlines())
    return DROPIN.format(header=header, path=path, source=source).replace("\\\n", "")


class DocError(Exception):
    """The XML documentation could not be trimmed or given back."""


def truename(module, path):
    """Where dpkg puts the package's file `path` (its diversion, or `path` itself)."""
    rc, out, _err = module.run_command(["dpkg-divert", "--truename", path])
    return out.strip() if rc == 0 and out.strip() else path


def documentation(module, spec, out, p):
    """The XML documentation for the set now running (asterisk_modules_trim_documentation):
    - trimmed: the package's file diverted to `source` (dpkg-divert --rename, so that upgrades
      update the full file), then the copy trimmed from it to what the running Asterisk registered
      when it was not made for exactly these modules - read at Asterisk's next start;
    - not trimmed: `dropin` (the start check of the trimmed copy) removed and the diversion too, the
      package's full file back in place.
    Asterisk stopped or an upgrade not running yet: nothing is trimmed (asked again next run).
    Returns {changes: [...], current: bool} (in check mode, what would change)."""
    path, source = spec["path"], spec.get("source") or spec["path"] + ".distrib"
    changes = []
    diverted = truename(module, path) == source
    if not spec.get("trim", True):
        dropin = spec.get("dropin")
        if dropin and os.path.exists(dropin):
            changes.append("remove %s" % dropin)
            if not module.check_mode:
                os.unlink(dropin)
                module.run_command(["systemctl", "daemon-reload"])
        if diverted:
            changes.append("give the package its documentation back")
            if not module.check_mode:
                # The trimmed copy makes way for the package's file (dpkg-divert will not rename over it).
                if os.path.exists(path) and os.path.exists(source):
                    os.unlink(path)
                rc, text, err = module.run_command(["dpkg-divert", "--local", "--rename", "--remove", path])
                if rc != 0:
                    raise DocError("dpkg-divert --remove %s failed: %s" % (path, (err or text).strip()))
        return {"changes": changes, "current": False}
    if not out.get("running") or out.get("upgrade_pending"):
        return {"changes": [], "current": False}
    if not diverted:
        changes.append("divert %s to %s" % (path, source))
        if not module.check_mode:
            rc, text, err = module.run_command(["dpkg-divert", "--local", "--rename", "--divert", source, "--add",
                                                path])
            if rc != 0:
                raise DocError("dpkg-divert --add %s failed: %s" % (path, (err or text).strip()))
    # apply_set() judged it already for the same modules (the digest of the 1.5 MB source, once).
    current = out.get("documentation_current")
    if current is None:
        current = documentation_current(spec, out["loaded"])
    if not current:
        if module.check_mode:
            changes.append("trim %s to the modules running" % path)
        else:
            try:
                trimmed = xmldoc.apply(module, path, source, out["loaded"], p["binary"])
            except xmldoc.TrimError as exc:
                raise DocError(exc.msg) from None
            if trimmed["changed"]:
                changes.append("trim %s to the modules running (%d of %d bytes)"
                               % (path, trimmed["size"], trimmed["source_size"]))
    return {"changes": changes, "current": current}


def documentation_current(spec, loaded):
    """Whether the trimmed documentation was made from its source for exactly `loaded` (the stamp
    asterisk_xmldoc writes at its top)."""
    if not spec or not spec.get("path"):
        return False
    try:
        with open(spec["path"], "rb") as handle:
            head = handle.read(512)
        with open(spec.get("source") or spec["path"] + ".distrib", "rb") as handle:
            source = hashlib.sha256()
            for block in iter(lambda: handle.read(1 << 20), b""):
                source.update(block)
    except OSError:
        return False
    return read_stamp(head) == source.hexdigest() and read_key(head) == modules_key(loaded)


def _ids(owner, group):
    try:
        return pwd.getpwnam(owner).pw_uid, grp.getgrnam(group).gr_gid
    except KeyError:
        raise SetError("owner/group: %s:%s does not exist on the host (is Asterisk installed?)" % (owner, group),
                       {}) from None
