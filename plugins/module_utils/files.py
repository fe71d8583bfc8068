# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
"""File writing shared by the modules that write files (config_files, asterisk_xmldoc)."""

from __future__ import annotations

import os
import tempfile


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
    "0640"), None when the file does not exist, {"type": "other"} when it is not a regular file.
    Read by the facts modules so that a role can leave out a config_files run whose files are all
    as wanted; never give the path of a file that holds secrets (its digest would be shown)."""
    import grp
    import hashlib
    import pwd
    import stat

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
        digest = hashlib.sha1()
        try:
            with open(path, "rb") as handle:
                for chunk in iter(lambda: handle.read(65536), b""):
                    digest.update(chunk)
        except OSError:
            state[path] = {"type": "other"}
            continue
        try:
            owner = pwd.getpwuid(info.st_uid).pw_name
        except KeyError:
            owner = str(info.st_uid)
        try:
            group = grp.getgrgid(info.st_gid).gr_name
        except KeyError:
            group = str(info.st_gid)
        state[path] = {"sha1": digest.hexdigest(), "owner": owner, "group": group,
                       "mode": "%04o" % stat.S_IMODE(info.st_mode)}
    return state
