# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
"""Debian packages for the apply modules that install what they apply to (UFW, fail2ban, the
modules of the module set): which are missing, and installing them - the package lists refreshed
first when older than the cache time, as ansible.builtin.apt's cache_valid_time does."""

from __future__ import annotations

import glob
import os
import time

from ansible_collections.vpbx.hardened.plugins.module_utils.asterisk import parse_dpkg_packages


# The `install` option of the apply modules (doc fragment vpbx.hardened.install).
INSTALL_OPTION = dict(type="dict", options=dict(
    packages=dict(type="list", elements="str", default=[]),
    cache_valid_time=dict(type="int", default=3600),
))


class AptError(Exception):
    """apt-get failed: the message says what it printed."""


def lists_age(lists_dir="/var/lib/apt/lists"):
    """Seconds since the newest package index was fetched (None when there is none)."""
    stamps = [os.path.getmtime(path) for path in glob.glob(os.path.join(lists_dir, "*_Packages*"))]
    return time.time() - max(stamps) if stamps else None


def missing(module, packages):
    """The packages of `packages` that are not installed (dpkg-query)."""
    if not packages:
        return []
    # rc 1: some package is unknown to dpkg (not installed) - the others are still listed.
    rc, out, _err = module.run_command(["dpkg-query", "-W", "-f=${Package}\t${Status}\t${Version}\n"]
                                       + list(packages))
    found = parse_dpkg_packages(out) if rc in (0, 1) else {}
    return [name for name in packages if not found.get(name, {}).get("version")]


def install(module, packages, cache_valid_time=None):
    """apt-get install the packages (without recommends), the lists refreshed first when they are
    older than cache_valid_time seconds (never, when None)."""
    env = {"DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C"}
    age = lists_age()
    if cache_valid_time is not None and (age is None or age > cache_valid_time):
        rc, out, err = module.run_command(["apt-get", "update", "-q"], environ_update=env)
        if rc != 0:
            raise AptError("apt-get update failed: %s" % (err or out).strip()[-1000:])
    rc, out, err = module.run_command(["apt-get", "install", "-y", "-q", "--no-install-recommends"] + list(packages),
                                      environ_update=env)
    if rc != 0:
        raise AptError("apt-get install %s failed: %s" % (" ".join(packages), (err or out).strip()[-1000:]))
