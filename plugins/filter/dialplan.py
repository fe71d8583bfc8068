# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: dialplan_model
short_description: Validate the dialplan variables against the subscriber/trunk model
version_added: 0.3.0
description:
  - Reads C(asterisk_dialplan_contexts), C(asterisk_dialplan_routes), C(asterisk_dialplan_inbound),
    C(asterisk_dialplan_queues) and C(asterisk_dialplan_conferences) together with the model of the
    C(vpbx.hardened.sip_model) filter, and returns the validated dialplan.
  - Safety is part of validation - a catch-all pattern needs C(catch_all=true), a route that can dial
    an international or premium prefix needs C(international=true) and is usable only from contexts
    with C(international=true), every subscriber's context must exist, every route's trunk must be a
    trunk of the model. Every problem names the variable path and the fix.
  - The same plugin file provides C(dialplan_errors) (the list of problems instead of failing),
    C(dialplan_files) (the files to render - extensions.conf, and voicemail.conf, queues.conf,
    confbridge.conf when used), C(dialplan_features) (the module features the dialplan uses),
    C(dialplan_contexts) (context names of a rendered extensions.conf) and C(dialplan_show_contexts)
    (context names read back from C(dialplan show)).
options:
  _input:
    description: The model returned by C(vpbx.hardened.sip_model).
    type: dict
    required: true
  contexts:
    description: The subscriber contexts (C(asterisk_dialplan_contexts)).
    type: list
    elements: dict
  routes:
    description: The outbound routes (C(asterisk_dialplan_routes)).
    type: list
    elements: dict
  inbound:
    description: The inbound routes (C(asterisk_dialplan_inbound)).
    type: list
    elements: dict
  queues:
    description: The call queues (C(asterisk_dialplan_queues)).
    type: list
    elements: dict
  conferences:
    description: The ConfBridge rooms (C(asterisk_dialplan_conferences)).
    type: list
    elements: dict
  settings:
    description:
      - C(international_prefixes), C(premium_prefixes), C(ring_seconds), C(voicemail_email_from),
        C(voicemail_max_messages), C(voicemail_max_seconds), C(voicemail_min_seconds),
        C(recording_format).
    type: dict
"""

EXAMPLES = r"""
- name: Validate the dialplan before anything is touched
  ansible.builtin.set_fact:
    __dialplan: >-
      {{ sip_model | vpbx.hardened.dialplan_model(contexts=asterisk_dialplan_contexts,
         routes=asterisk_dialplan_routes, inbound=asterisk_dialplan_inbound) }}
  no_log: true
"""

RETURN = r"""
_value:
  description: The dialplan - C(driver), C(contexts), C(routes), C(inbound), C(queues), C(conferences),
    C(subscribers), C(trunks), C(settings).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.vpbx.hardened.plugins.module_utils.plain import plain as _plain
from ansible_collections.vpbx.hardened.plugins.module_utils import dialplan as dp


def _args(model, contexts, routes, inbound, queues, conferences, settings):
    return (_plain(model), _plain(contexts), _plain(routes), _plain(inbound), _plain(queues),
            _plain(conferences), _plain(settings or {}))


def dialplan_model(model, contexts=None, routes=None, inbound=None, queues=None, conferences=None, settings=None):
    try:
        return dp.normalize(*_args(model, contexts, routes, inbound, queues, conferences, settings))
    except dp.DialplanError as exc:
        raise AnsibleFilterError("Invalid dialplan:\n- " + "\n- ".join(exc.errors)) from None


def dialplan_errors(model, contexts=None, routes=None, inbound=None, queues=None, conferences=None,
                    settings=None):
    return dp.errors(*_args(model, contexts, routes, inbound, queues, conferences, settings))


def dialplan_files(dialplan):
    try:
        return dp.files(_plain(dialplan))
    except dp.DialplanError as exc:
        raise AnsibleFilterError("Refused dialplan:\n- " + "\n- ".join(exc.errors)) from None


def dialplan_features(dialplan):
    return dp.features(_plain(dialplan))


def dialplan_contexts(sections):
    return dp.contexts(_plain(sections))


def dialplan_show_contexts(text):
    return dp.parse_dialplan_show(str(text))


class FilterModule:
    def filters(self):
        return {
            "dialplan_model": dialplan_model,
            "dialplan_errors": dialplan_errors,
            "dialplan_files": dialplan_files,
            "dialplan_features": dialplan_features,
            "dialplan_contexts": dialplan_contexts,
            "dialplan_show_contexts": dialplan_show_contexts,
        }
