# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
"""File writing shared by the modules that write files (config_files, asterisk_xmldoc)."""

from __future__ import annotations

import grp
import hashlib
import os
import pwd
import re
import stat
import tempfile

# A line that sets a secret in an Asterisk or fail2ban file (`secret =`, `password=`, voicemail's
# `1001 => 1234,...`, `pin=`): file_state never gives the digest of a file that has one.
SECRET_LINE = re.compile(
    rb"^[ \t]*(?:(?:secret|md5secret|remotesecret|password|password_hash|pin|adminpin)\b|[0-9]+[ \t]*=>)",
    re.IGNORECASE | re.MULTILINE)


def read_text(path):
    """A text file's content, None when it does not exist."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def write_atomic(path, data, uid, gid, mode):
    """Atomic replace: a temporary file in the same directory, attributes first, then rename."""
    fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chown(tmp, uid, gid)
        os.chmod(tmp, mode)
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def file_state(paths):
    """What config_files would compare, for each path: {"sha1", "owner", "group", "mode"} (mode as
    "0640"), None when the file does not exist, {"type": "other"} when it is not a regular file,
    {"secret": True} (no digest) when it has a line that sets a secret. Read by the facts modules
    so that a role can leave out a config_files run whose files are all as wanted; the caller
    lists only files it renders without secrets, and a file that still holds one (say, from
    before its last user was removed) is not digested either."""
    state = {}
    for path in paths:
        try:
            info = os.lstat(path)
        except OSError:
            state[path] = None
            continue
        if not stat.S_ISREG(info.st_mode):
            state[path] = {"type": "other"}
            continue
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError:
            state[path] = {"type": "other"}
            continue
        if SECRET_LINE.search(data):
            state[path] = {"secret": True}
            continue
        try:
            owner = pwd.getpwuid(info.st_uid).pw_name
        except KeyError:
            owner = str(info.st_uid)
        try:
            group = grp.getgrgid(info.st_gid).gr_name
        except KeyError:
            group = str(info.st_gid)
        state[path] = {"sha1": hashlib.sha1(data).hexdigest(), "owner": owner, "group": group,
                       "mode": "%04o" % stat.S_IMODE(info.st_mode)}
    return state
