# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
"""The file half of every apply module: compare a set of wanted files with the host, show the
difference, write what differs atomically after a backup, and put the previous files back when
the service refuses them. config_files is this engine alone; fail2ban_apply adds a test, a reload
and a verify around it."""

from __future__ import annotations

import os
import re
import stat
import time

from ansible_collections.vpbx.hardened.plugins.module_utils.files import write_atomic


def parse_mode(value, field):
    """An octal mode given as '0640' or as the integer an unquoted 0640 becomes in YAML."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0 or value > 0o7777:
            raise ValueError("%s: %r is out of range" % (field, value))
        return value
    try:
        mode = int(str(value), 8)
    except ValueError:
        raise ValueError("%s: %r is not an octal mode such as '0640'" % (field, value)) from None
    if mode < 0 or mode > 0o7777:
        raise ValueError("%s: %r is out of range" % (field, value))
    return mode


def read_regular(path):
    """The file's bytes, None when it does not exist; refuses anything but a regular file."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(info.st_mode):
        raise ValueError("%s is a symbolic link; refusing to write through it (remove it or point dir elsewhere)" % path)
    if not stat.S_ISREG(info.st_mode):
        raise ValueError("%s exists and is not a regular file; remove it first" % path)
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise ValueError("%s cannot be read: %s" % (path, exc)) from None


def with_section(text, name, section):
    """`text` (an INI file such as /etc/odbc.ini) with its section [name] replaced by `section` (the
    whole section, header included; "" removes it) - every other line as it was. The section goes
    last when it was not there."""
    kept, skipping = [], False
    for line in text.splitlines(keepends=True):
        header = re.match(r"^\s*\[([^\]]*)\]", line)
        if header:
            skipping = header.group(1).strip() == name
        if not skipping:
            kept.append(line)
    out = "".join(kept)
    if section:
        if out and not out.endswith("\n"):
            out += "\n"
        if out.strip():
            out = out.rstrip("\n") + "\n\n"
        out += section if section.endswith("\n") else section + "\n"
    return out


def backup_copy(path, stamp, backup_dir=None):
    """Copy path to path.<stamp>~ (or into backup_dir) keeping owner, group and mode; return the copy's path."""
    if backup_dir:
        os.makedirs(backup_dir, mode=0o700, exist_ok=True)
        dest = os.path.join(backup_dir, "%s.%s~" % (os.path.basename(path), stamp))
    else:
        dest = "%s.%s~" % (path, stamp)
    info = os.stat(path)
    with open(path, "rb") as src:
        data = src.read()
    base, attempt = dest, 0
    while True:
        try:
            fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            break
        except FileExistsError:
            attempt += 1
            if attempt > 100:
                raise
            dest = "%s%d~" % (base[:-1], attempt)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chown(dest, info.st_uid, info.st_gid)
    os.chmod(dest, stat.S_IMODE(info.st_mode))
    return dest


class FileChange:
    """One wanted file against the host: what differs, and after write() what was done."""

    def __init__(self, path, wanted, uid, gid, mode, secret=False, force=True, backup=None):
        self.path, self.uid, self.gid, self.mode, self.secret = path, uid, gid, mode, secret
        self.backup = backup  # None: as the set says
        self.current = read_regular(path)
        self.before = None  # (uid, gid, mode) of the file found, for a restore
        if self.current is not None:
            info = os.lstat(path)
            self.before = (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode))
        if self.current is not None and not force:
            wanted = self.current
        self.wanted = wanted
        self.content_changed = self.current != wanted
        self.attributes_changed = (self.current is not None and force
                                   and self.before != (uid, gid, mode))
        self.backup_file = None
        self.written = False

    @property
    def changed(self):
        return self.content_changed or self.attributes_changed

    def diff(self):
        """Ansible's diff of the content (a secret file's only says that it changed)."""
        if self.secret:
            return {"before_header": self.path, "after_header": self.path,
                    "before": "", "after": "(secret content not shown)\n"}
        return {"before_header": self.path, "after_header": self.path,
                "before": (self.current or b"").decode("utf-8", "replace"),
                "after": self.wanted.decode("utf-8", "replace")}


class FileSet:
    """Files compared with the host on creation; write() changes the ones that differ,
    restore() puts back what write() replaced (or removes what it created)."""

    def __init__(self, entries, backup=True, backup_dir=None):
        """entries: dicts with path, content (bytes), uid, gid, mode (int), and optional secret, force,
        backup (True: a copy of the replaced file whatever `backup` says)."""
        paths = [entry["path"] for entry in entries]
        if len(set(paths)) != len(paths):
            raise ValueError("a file is listed twice: %s" % sorted({p for p in paths if paths.count(p) > 1}))
        self.files = [FileChange(entry["path"], entry["content"], entry["uid"], entry["gid"], entry["mode"],
                                 entry.get("secret", False), entry.get("force", True), entry.get("backup"))
                      for entry in entries]
        self.backup, self.backup_dir = backup, backup_dir

    @property
    def changed(self):
        return [change for change in self.files if change.changed]

    def diffs(self):
        return [change.diff() for change in self.files if change.content_changed]

    def write(self, stamp=None):
        stamp = stamp or time.strftime("%Y-%m-%d@%H:%M:%S")
        for change in self.changed:
            if change.content_changed:
                if change.current is not None and (self.backup if change.backup is None else change.backup):
                    change.backup_file = backup_copy(change.path, stamp, self.backup_dir)
                write_atomic(change.path, change.wanted, change.uid, change.gid, change.mode)
            else:
                os.chown(change.path, change.uid, change.gid)
                os.chmod(change.path, change.mode)
            change.written = True

    def write_or_fail(self, module, result):
        """write(), and the backups made; when a write fails, what was written is undone and the
        module fails with `result`."""
        try:
            self.write()
        except OSError as exc:
            self.restore()
            module.fail_json(msg="%s; the previous files were restored" % exc, **result)
        return [change.backup_file for change in self.files if change.backup_file]

    def restore(self):
        """Undo write(): the previous bytes and attributes back (atomically), new files removed."""
        for change in self.files:
            if not change.written:
                continue
            if change.current is None:
                if os.path.exists(change.path):
                    os.unlink(change.path)
            else:
                write_atomic(change.path, change.current, *change.before)
            change.written = False
