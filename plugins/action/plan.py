# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# The documentation (ansible-doc vpbx.hardened.plan) is in plugins/modules/plan.py.

import os
import time

from ansible import constants as C
from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.yaml import yaml_load
from ansible.plugins.action import ActionBase
from ansible.plugins.filter.core import comment

from ansible_collections.vpbx.hardened.plugins.module_utils import plan as planner
from ansible_collections.vpbx.hardened.plugins.module_utils.plain import plain

# Where each value was written (ansible-core 2.19's data tagging; meta/runtime.yml requires 2.19).
from ansible.module_utils._internal._datatag import AnsibleTagHelper

ROLES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "roles")
SECRET_CONCERNS = ("sip", "dialplan", "cdr")


def collection_defaults():
    """Every role's defaults/main.yml (plain data: no role default is a template)."""
    defaults = {}
    for role in sorted(os.listdir(ROLES)):
        path = os.path.join(ROLES, role, "defaults", "main.yml")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                defaults.update(yaml_load(handle) or {})
    return defaults


def clear_text_origin(value):
    """Where `value` (templated) was written in clear text - "file:line" - or None: a vault value
    (inline, or from a vault-encrypted file), an empty one, or one from no file (extra vars, a lookup)."""
    if type(value).__name__ == "EncryptedString" or value in (None, ""):
        return None
    origin = None
    for tag in AnsibleTagHelper.tags(value):
        if type(tag).__name__ == "VaultedValue":
            return None
        if getattr(tag, "path", None):
            origin = tag
    if origin is None or not os.path.isfile(origin.path):
        return None
    with open(origin.path, "rb") as handle:
        if handle.read(14) == b"$ANSIBLE_VAULT":
            return None
    return "%s line %s" % (origin.path, getattr(origin, "line_num", None) or "?")


def managed_header(managed):
    """The first lines of every rendered file, as the `template` lookup writes
    `{{ ansible_managed | comment(decoration='; ') }}`."""
    return comment(managed, decoration="; ")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("concern",))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        asked = self._task.args.get("concern")
        concerns = asked if isinstance(asked, list) else [asked]
        for concern in concerns:
            if concern not in planner.CONCERNS:
                raise AnsibleActionFail("concern: %r is not one of %s" % (concern, ", ".join(planner.CONCERNS)))
        variables = {name: plain(self._templar.template(task_vars[name])) if name in task_vars else value
                     for name, value in collection_defaults().items()}
        if isinstance(asked, list):
            concerns = [concern for concern in concerns if planner.enabled(concern, variables)]
        connection = plain(self._templar.template(task_vars.get("ansible_connection", "ssh")))
        header = managed_header(self._managed(task_vars))
        # The secrets that must come from a vault: where each was written in clear text, if it was.
        origins = {name: clear_text_origin(self._templar.template(task_vars[name]))
                   for name in planner.VAULTED if name in task_vars}
        plans, host = {}, {"connection": connection, "origins": {k: v for k, v in origins.items() if v}}
        try:
            for concern in concerns:
                # Each question asked of the host once, when the first concern needs it.
                wanted = planner.needs(concern, variables, connection)
                wanted["resolve"] = [name for name in wanted["resolve"] if name not in host.get("resolved", {})]
                wanted["ssh_connection"] = wanted["ssh_connection"] and "ssh_connection" not in host
                wanted["package"] = wanted["package"] and "package" not in host
                wanted["major"] = wanted["major"] and "major" not in host
                answers = self._ask_host(wanted, variables, task_vars)
                host["resolved"] = dict(host.get("resolved", {}), **answers.pop("resolved", {}))
                host.update(answers)
                plans[concern] = planner.plan(concern, variables, host, header)
        except planner.PlanError as exc:
            result.update(failed=True, msg=str(exc))
            return result
        result["changed"] = False
        result["plan"] = plans if isinstance(asked, list) else plans[asked]
        if any(concern in SECRET_CONCERNS for concern in concerns):
            result["_ansible_no_log"] = True
        elif "firewall" in plans:
            result["msg"] = plans["firewall"]["guard"]["message"]
        return result

    def _managed(self, task_vars):
        """ansible_managed: the inventory's, or ansible.cfg's (what the template lookup uses)."""
        if "ansible_managed" in task_vars:
            return str(self._templar.template(task_vars["ansible_managed"]))
        managed = C.config.get_config_value("DEFAULT_MANAGED_STR")
        return time.strftime(managed.format(host=os.uname()[1], uid=str(os.getuid()), file="vpbx.hardened.plan"))

    def _module(self, name, args, task_vars):
        answer = self._execute_module(module_name=name, module_args=args, task_vars=task_vars)
        if answer.get("failed"):
            raise planner.PlanError(answer.get("msg") or "%s failed" % name, [])
        return answer

    def _ask_host(self, wanted, variables, task_vars):
        host = {}
        if wanted["package"]:
            answer = self._module("vpbx.hardened.asterisk_package_info", planner.package_query(variables), task_vars)
            host["package"] = {key: value for key, value in answer.items()
                               if not key.startswith("_") and key not in ("invocation", "changed", "failed")}
        if wanted["major"]:
            facts = (task_vars.get("ansible_facts") or {}).get("asterisk") or {}
            if facts.get("installed"):
                host["major"] = int(facts.get("major") or 0)
                host["has_chan_sip"] = bool(facts.get("has_chan_sip"))
            else:
                # What an install would bring (the asterisk role's preflight refreshes the lists).
                package = self._module("vpbx.hardened.asterisk_package_info", {
                    "name": "asterisk", "version": variables["asterisk_version"], "update_cache": True,
                    "cache_valid_time": variables["asterisk_apt_cache_valid_time"]}, task_vars)
                host["major"] = int(package.get("major") or 0)
        if wanted["resolve"] or wanted["ssh_connection"]:
            # As the login user: sudo drops $SSH_CONNECTION from the environment.
            become = self._connection.become
            self._connection.become = None
            try:
                probe = self._module("vpbx.hardened.host_probe", {
                    "resolve": wanted["resolve"], "env": ["SSH_CONNECTION"] if wanted["ssh_connection"] else []},
                    task_vars)
            finally:
                self._connection.become = become
            host["resolved"] = probe["resolved"]
            host["ssh_connection"] = probe["env"].get("SSH_CONNECTION", "")
        return host
