#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: asterisk_package_info
short_description: Available and installed versions of the Asterisk package; resolve a version pin
version_added: 0.1.0
description:
  - Reads C(apt-cache madison) and C(dpkg-query) and resolves O(version) to one exact package
    version, failing with the list of available versions when the pin matches none.
  - With O(platforms), first refuses a platform the caller does not support (read from
    C(/etc/os-release)), before anything else - so that a play needs no fact gathering for it.
  - With O(update_cache), first refreshes the package lists (C(apt-get update)) when they are
    older than O(cache_valid_time). Nothing else is changed, not even python3-apt, so a role can
    refuse a bad pin before it touches the host.
author:
  - vpbx.hardened contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  platform:
    platforms: debian
  check_mode:
    support: full
    details: In check mode the package lists are not refreshed.
  diff_mode:
    support: none
options:
  update_cache:
    description: Refresh the package lists when they are older than O(cache_valid_time).
    type: bool
    default: false
  cache_valid_time:
    description: Seconds the package lists stay fresh.
    type: int
    default: 3600
  name:
    description: Package name.
    type: str
    default: asterisk
  version:
    description:
      - Version pin. An exact Debian version (C(1:16.28.0~dfsg-0+deb11u4)), the same without
        epoch, a shell glob (C(1:16.28.*)) or an upstream prefix (C(16), C(16.28)).
      - Empty means no pin.
    type: str
    default: ''
  related:
    description: Other packages whose installed version and dpkg selection are reported in RV(packages).
    type: list
    elements: str
    default: []
  platforms:
    description:
      - The platforms whose archive has the package, by distribution (as Ansible names it,
        C(Debian), C(Ubuntu)) and release codename, each with its label for the error message,
        for example C(Debian) -> C(bullseye) -> C(Debian 11 (Asterisk 16)).
      - On any other platform the module fails with the supported ones listed, before it reads or
        refreshes anything. Empty means no check.
    type: dict
    default: {}
  platform_hint:
    description: A sentence added to the message of a refused platform (what to use instead).
    type: str
    default: ''
"""

EXAMPLES = r"""
- name: Resolve the pin
  vpbx.hardened.asterisk_package_info:
    version: "16.28"
  register: pkg
"""

RETURN = r"""
cache_updated:
  description: Whether the package lists were refreshed.
  returned: always
  type: bool
available:
  description: Versions apt can install, newest first.
  returned: always
  type: list
  elements: str
installed:
  description: Whether the package is installed.
  returned: always
  type: bool
installed_version:
  description: The installed version, empty when not installed.
  returned: always
  type: str
resolved:
  description: The exact version the pin selects (empty without pin).
  returned: always
  type: str
packages:
  description:
    - The O(name) package and the O(related) ones that dpkg knows, each with its installed version
      (empty when not installed) and its dpkg selection (C(install), C(hold), ...).
  returned: always
  type: dict
  sample: {"asterisk": {"version": "1:16.28.0~dfsg-0+deb11u4", "selection": "hold"}}
platform:
  description: The host's platform from C(/etc/os-release), named as Ansible's distribution facts would.
  returned: always
  type: dict
  sample: {"distribution": "Debian", "version": "11", "release": "bullseye"}
major:
  description:
    - Asterisk major version of the installed package, else of the version the pin selects, else of
      the newest available one (what an install would bring); 0 when none is known.
  returned: always
  type: int
"""


from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vpbx.hardened.plugins.module_utils.apt import lists_age
from ansible_collections.vpbx.hardened.plugins.module_utils.asterisk import (
    match_version, parse_dpkg_packages, parse_madison, parse_os_release)


def read_platform(path="/etc/os-release"):
    try:
        with open(path, encoding="utf-8") as handle:
            return parse_os_release(handle.read())
    except OSError:
        return parse_os_release("")


def check_platform(module, platform, name):
    """Fail with the supported platforms when the caller's `platforms` does not list this one."""
    platforms = module.params["platforms"]
    if not platforms or platform["release"] in (platforms.get(platform["distribution"]) or {}):
        return
    labels = [label for releases in platforms.values() for label in (releases or {}).values()]
    hint = (" " + module.params["platform_hint"]) if module.params["platform_hint"] else ""
    module.fail_json(
        msg="%s %s (%s) has no %s package in its archive, so vpbx.hardened.asterisk cannot install it. "
            "Supported platforms: %s.%s" % (platform["distribution"], platform["version"] or "(no version)",
                                            platform["release"] or "no codename", name, ", ".join(labels), hint),
        platform=platform)


def major_of(version):
    """Major version of a Debian package version such as 1:16.28.0~dfsg-0+deb11u4 (0 if unknown)."""
    upstream = (version or "").split(":", 1)[-1]
    head = upstream.split(".", 1)[0]
    return int(head) if head.isdigit() else 0


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", default="asterisk"),
            version=dict(type="str", default=""),
            update_cache=dict(type="bool", default=False),
            cache_valid_time=dict(type="int", default=3600),
            related=dict(type="list", elements="str", default=[]),
            platforms=dict(type="dict", default={}),
            platform_hint=dict(type="str", default=""),
        ),
        supports_check_mode=True,
    )
    name, pin = module.params["name"], (module.params["version"] or "").strip()
    platform = read_platform()
    check_platform(module, platform, name)
    cache_updated = False
    age = lists_age()
    if module.params["update_cache"] and (age is None or age > module.params["cache_valid_time"]):
        if module.check_mode:
            module.warn("check mode: the package lists are %s and were not refreshed"
                        % ("missing" if age is None else "%d s old" % age))
        else:
            rc, out, err = module.run_command(["apt-get", "update", "-q"], environ_update={"LC_ALL": "C"})
            if rc != 0:
                module.fail_json(msg="apt-get update failed: %s" % (err or out).strip()[-2000:])
            cache_updated = True
    rc, out, err = module.run_command(["apt-cache", "madison", name])
    if rc != 0:
        module.fail_json(msg="apt-cache madison %s failed: %s" % (name, err.strip()))
    available = parse_madison(out)
    # rc 1: some package is unknown to dpkg (not installed) - the others are still listed.
    rc, status, err = module.run_command(
        ["dpkg-query", "-W", "-f=${Package}\t${Status}\t${Version}\n", name] + module.params["related"])
    packages = parse_dpkg_packages(status) if rc in (0, 1) else {}
    installed = packages.get(name, {}).get("version", "")

    resolved = ""
    if pin:
        resolved = match_version(pin, available) or ""
        if not resolved and module.check_mode and not available:
            module.exit_json(changed=False, cache_updated=False, available=[], installed=bool(installed),
                             installed_version=installed, resolved="", major=major_of(installed), packages=packages,
                             platform=platform)
        if not resolved:
            module.fail_json(
                msg="asterisk_version %r matches no %s package this host can install. Available: %s. "
                    "Set asterisk_version to one of them (or a prefix such as %r), or leave it empty."
                    % (pin, name, ", ".join(available) or "none (is the package archive configured?)",
                       available[0].split(":", 1)[-1].split(".")[0] if available else "16"),
                available=available, installed=bool(installed), installed_version=installed)
    elif not available and not installed and not module.check_mode:
        module.fail_json(msg="No %s package is available to apt on this host. Check its package sources "
                             "(Ubuntu needs 'universe')." % name, available=available, installed=bool(installed), installed_version=installed)
    # Refreshing the lists is housekeeping, not a change of the host's configuration.
    module.exit_json(changed=False, cache_updated=cache_updated, available=available,
                     installed=bool(installed), installed_version=installed, resolved=resolved, packages=packages,
                     platform=platform, major=major_of(installed or resolved or (available[0] if available else "")))


if __name__ == "__main__":
    main()
