#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: asterisk_module_plan
short_description: Turn Asterisk features into a module load list, dependencies resolved from the installed modules
version_added: 0.1.0
description:
  - Reads the dependency declarations (C(requires), C(optional_modules), C(enhances)) of every
    installed module straight from its C(.so) file (the C(AST_MODULE_INFO) block Asterisk's own
    loader reads), expands the requested features into modules and returns the dependency
    closure in load order.
  - Compares it with the modules the running Asterisk has loaded (when it runs) and returns what
    to load and what to unload.
  - Also merges the feature requests other roles stored on the host (O(requests_file)) with
    O(request), so that a playbook running one role never drops what another role needs.
  - Read-only; runs in check mode.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - vpbx.hardened.asterisk
  - vpbx.hardened.module_set
attributes:
  platform:
    platforms: debian
  check_mode:
    support: full
  diff_mode:
    support: none
options:
  request:
    description: Features requested by the role calling, stored under O(requester).
    type: list
    elements: str
    default: []
  requester:
    description: Name under which O(request) is stored (a role name).
    type: str
  files:
    description:
      - Files whose state (SHA-1 of the content, owner, group, mode) to report in RV(files) - the
        files a role writes from this plan (O(requests_file), C(modules.conf)), so that it can
        leave out a M(vpbx.hardened.config_files) run whose files are all as wanted.
      - A file with a line that sets a secret is reported without digest (C(secret=true)).
    type: list
    elements: path
    default: []
  stubs_dir:
    description: Also report in RV(files) the state of each of RV(stubs) in this directory.
    type: path
"""

EXAMPLES = r"""
- name: Plan the module set
  vpbx.hardened.asterisk_module_plan:
    features: [pjsip, voicemail]
    module_dir: "{{ ansible_facts.asterisk.module_dir }}"
  register: plan
"""

RETURN = r"""
modules:
  description: The load list, dependencies first.
  returned: always
  type: list
  elements: str
  sample: [res_pjproject.so, res_pjsip.so, chan_pjsip.so]
stubs:
  description: Configuration files the listed modules need to load (rendered as stubs when absent).
  returned: always
  type: list
  elements: str
features:
  description: The selected features, includes resolved.
  returned: always
  type: list
  elements: str
reasons:
  description: Why each module is in the list (feature, or the module that requires it).
  returned: always
  type: dict
missing:
  description: Modules that are needed but not installed, with the package that provides each.
  returned: always
  type: dict
  sample: {format_mp3: asterisk-mp3}
packages:
  description: The packages that would provide the missing modules.
  returned: always
  type: list
  elements: str
requests:
  description: All stored feature requests after merging O(request), by requester.
  returned: always
  type: dict
request_stored:
  description: Whether O(requester)'s stored request was already O(request) (nothing new to ask).
  returned: always
  type: bool
running:
  description: Whether a running Asterisk answered.
  returned: always
  type: bool
loaded:
  description: Loadable (.so) modules the running Asterisk has loaded.
  returned: always
  type: list
  elements: str
to_load:
  description: Modules of the list that are not loaded, in load order.
  returned: always
  type: list
  elements: str
to_unload:
  description: Loaded modules that are not in the list, dependents first.
  returned: always
  type: list
  elements: str
not_running:
  description: Modules of the list that are loaded but not C(Running) (declined, failed to start).
  returned: always
  type: list
  elements: str
catalog_size:
  description: Number of installed modules read.
  returned: always
  type: int
files:
  description:
    - The state of each of O(files) and of the RV(stubs) in O(stubs_dir), by path - C(sha1),
      C(owner), C(group) and C(mode) (C("0644")); V(null) when it does not exist, only
      C(type=other) when it is not a regular file, only C(secret=true) when it has a line that sets
      a secret.
  returned: always
  type: dict
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vpbx.hardened.plugins.module_utils.asterisk import ParseError, parse_module_show
from ansible_collections.vpbx.hardened.plugins.module_utils.module_catalog import read_catalog, read_requests
from ansible_collections.vpbx.hardened.plugins.module_utils.asterisk_features import PlanError, load_order, plan
from ansible_collections.vpbx.hardened.plugins.module_utils.files import file_state


def main():
    module = AnsibleModule(
        argument_spec=dict(
            features=dict(type="list", elements="str", default=[]),
            extra=dict(type="list", elements="str", default=[]),
            exclude=dict(type="list", elements="str", default=[]),
            request=dict(type="list", elements="str", default=[]),
            requester=dict(type="str"),
            requests_file=dict(type="path", default="/etc/ansible/facts.d/vpbx_asterisk_modules.fact"),
            mode=dict(type="str", choices=["explicit", "autoload"], default="explicit"),
            module_dir=dict(type="path", required=True),
            major=dict(type="int"),
            binary=dict(type="path", default="/usr/sbin/asterisk"),
            files=dict(type="list", elements="path", default=[]),
            stubs_dir=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if params["request"] and not params["requester"]:
        module.fail_json(msg="request needs requester (the name of the role asking)")
    requests = read_requests(params["requests_file"])
    stored = bool(params["requester"]) and params["requester"] in requests \
        and set(requests[params["requester"]]) == set(params["request"])
    if params["requester"]:
        requests[params["requester"]] = sorted(set(params["request"]))
    features = list(params["features"])
    for requester in sorted(requests):
        features.extend(f for f in requests[requester] if f not in features)

    catalog = read_catalog(module, params["module_dir"])
    try:
        result = plan(features, params["extra"], params["exclude"], catalog, major=params["major"])
    except PlanError as exc:
        module.fail_json(msg=str(exc))

    loaded, running, status = [], False, {}
    if os.path.exists(params["binary"]):
        rc, out, _err = module.run_command([params["binary"], "-rx", "module show"])
        try:
            shown = parse_module_show(out) if rc == 0 else None
        except ParseError:
            shown = None
        if shown is not None:
            running = True
            loaded = sorted(m for m in shown["modules"] if m.endswith(".so"))
            status = {m: info.get("status", "") for m, info in shown["modules"].items()}
    wanted = set(result["modules"])
    # Loaded but not running (declined, failed to start): the verify step reports them.
    not_running = [m for m in result["modules"] if m in status and status[m] != "Running"] if running else []
    to_load = [m for m in result["modules"] if m not in loaded] if running else []
    if params["mode"] == "autoload":
        unwanted = {m if m.endswith(".so") else m + ".so" for m in params["exclude"]}
        extras = [m[:-3] for m in loaded if m in unwanted]
    else:
        extras = [m[:-3] for m in loaded if m not in wanted]
    to_unload = [m + ".so" for m in reversed(load_order(extras, catalog))] if running else []

    paths = list(params["files"])
    if params["stubs_dir"]:
        paths += [os.path.join(params["stubs_dir"], stub) for stub in result["stubs"]]

    module.exit_json(
        changed=False,
        files=file_state(paths),
        modules=result["modules"],
        features=result["features"],
        stubs=result["stubs"],
        reasons=result["reasons"],
        missing=result["missing"],
        packages=sorted(set(result["missing"].values())),
        requests=requests,
        request_stored=bool(stored),
        running=running,
        loaded=loaded,
        to_load=to_load,
        to_unload=to_unload,
        not_running=not_running,
        catalog_size=len(catalog),
    )


if __name__ == "__main__":
    main()
