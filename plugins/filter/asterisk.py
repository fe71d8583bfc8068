# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: asterisk_settings
short_description: Parse the key/value output of Asterisk C(... show settings) commands
version_added: 0.1.0
description:
  - Turns the output of C(core show settings), C(rtp show settings), C(manager show settings)
    and similar CLI commands into a dictionary.
  - The same plugin file also provides C(asterisk_features) (validates and expands a list of
    module features, failing with the variable name and the known features), C(asterisk_module_show) (C(module show) into a dict with
    C(modules) by name, each with its C(status), and C(count)) and C(asterisk_logger_channels)
    (C(logger show channels) into a list of dicts with C(channel), C(type), C(status), C(levels)) and
    C(asterisk_config_refusals) (the lines of a stretch of the notice log saying a reload refused
    configuration - Asterisk then keeps the previous object), C(asterisk_security_warnings) (the
    lines of such a stretch in which Asterisk warns that the configuration it loaded helps an
    attacker, e.g. chan_sip's nat that names a peer), C(asterisk_manager_errors) (the
    problems of C(asterisk_manager_users) - short or name-like secrets, write classes that originate
    calls, run commands or rewrite the configuration unless allowed - each naming the path, never a
    secret) and C(dpkg_packages) (the output of
    C(dpkg-query -W -f='${Package}\\t${Status}\\t${Version}\\n' PKG...) into a dict by package of its
    installed C(version), empty when not installed, and its dpkg C(selection)) and C(asterisk_module_set)
    (a plan's module set completed with what only the host knows - the module directory, the major
    version and the XML documentation file from the Asterisk facts - as the C(module_set) option
    of M(vpbx.hardened.asterisk_apply) takes it; the documentation left out when the skipped tags name
    C(asterisk_modules_documentation)).
options:
  _input:
    description: The CLI output.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Effective RTP range
  ansible.builtin.debug:
    msg: "{{ (rtp.stdout | vpbx.hardened.asterisk_settings)['Port start'] }}"
"""

RETURN = r"""
_value:
  description: The parsed settings.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.vpbx.hardened.plugins.module_utils.plain import plain as _plain

from ansible_collections.vpbx.hardened.plugins.module_utils.asterisk_features import PlanError, expand_features
from ansible_collections.vpbx.hardened.plugins.module_utils.asterisk import (
    ParseError,
    config_refusals,
    security_warnings,
    manager_user_errors,
    parse_logger_channels,
    parse_dpkg_packages,
    parse_module_show,
    parse_settings,
)


def asterisk_settings(text):
    return parse_settings(text)


def asterisk_module_show(text):
    try:
        return parse_module_show(text)
    except ParseError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def asterisk_features(features, var="asterisk_modules_features"):
    try:
        return expand_features(features, var)
    except PlanError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def asterisk_config_refusals(text):
    return config_refusals(str(text or ""))


def asterisk_security_warnings(text):
    return security_warnings(str(text or ""))


def asterisk_manager_errors(users, allow_dangerous=False):
    return manager_user_errors(users, bool(allow_dangerous))


def asterisk_logger_channels(text):
    return parse_logger_channels(text)


def dpkg_packages(text):
    return parse_dpkg_packages(str(text or ""))


def asterisk_module_set(module_set, facts, skip_tags=()):
    the_set, facts = _plain(module_set), _plain(facts) or {}
    documentation = dict(the_set.get("documentation") or {}, path=(facts.get("documentation") or {}).get("file"))
    return dict(the_set, module_dir=facts.get("module_dir"), major=facts.get("major"),
                documentation=None if "asterisk_modules_documentation" in (skip_tags or ()) else documentation)


class FilterModule:
    def filters(self):
        return {
            "asterisk_settings": asterisk_settings,
            "asterisk_module_show": asterisk_module_show,
            "asterisk_logger_channels": asterisk_logger_channels,
            "asterisk_config_refusals": asterisk_config_refusals,
            "asterisk_manager_errors": asterisk_manager_errors,
            "asterisk_security_warnings": asterisk_security_warnings,
            "asterisk_features": asterisk_features,
            "dpkg_packages": dpkg_packages,
            "asterisk_module_set": asterisk_module_set,
        }
