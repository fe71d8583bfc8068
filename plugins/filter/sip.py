# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: sip_model
short_description: Validate and normalise the collection's subscriber and trunk model
version_added: 0.2.0
description:
  - The one reader of C(asterisk_sip_subscribers), C(asterisk_sip_trunks) and their defaults. Roles
    that need subscribers or trunks (SIP driver, dialplan, firewall) call this filter instead of
    reading the variables themselves, so every role sees the same validated, defaulted model.
  - Fails with every problem found, each naming the variable path and the fix; messages never
    contain a secret.
  - The same plugin file provides C(sip_model_errors) (the list of problems instead of failing),
    C(sip_features) (module features the model needs), C(sip_names) (endpoint and registration names
    the driver must show), C(sip_render) (the configuration sections for the model's driver),
    C(pjsip_endpoints), C(pjsip_registrations), C(pjsip_transports), C(sip_peers) and C(sip_registry) (names read back
    from the Asterisk CLI).
options:
  _input:
    description: The subscribers (C(asterisk_sip_subscribers)).
    type: list
    elements: dict
    required: true
  trunks:
    description: The trunks (C(asterisk_sip_trunks)).
    type: list
    elements: dict
  subscriber_defaults:
    description: Defaults for every subscriber (C(asterisk_sip_subscriber_defaults)).
    type: dict
  trunk_defaults:
    description: Defaults for every trunk (C(asterisk_sip_trunk_defaults)).
    type: dict
  settings:
    description:
      - C(driver), C(transports), C(major) (Asterisk major version, to refuse chan_sip on 21+),
        C(secret_min_length), C(weak_words).
    type: dict
"""

EXAMPLES = r"""
- name: Validate the model before anything is touched
  ansible.builtin.set_fact:
    __model: >-
      {{ asterisk_sip_subscribers | vpbx.hardened.sip_model(trunks=asterisk_sip_trunks,
         settings={'driver': 'pjsip', 'transports': ['udp']}) }}
  no_log: true
"""

RETURN = r"""
_value:
  description: The model, with C(driver), C(transports), C(subscribers) and C(trunks) normalised.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.vpbx.hardened.plugins.module_utils.plain import plain as _plain

from ansible_collections.vpbx.hardened.plugins.module_utils import sip_model as model_utils


def sip_model(subscribers, trunks=None, subscriber_defaults=None, trunk_defaults=None, settings=None):
    try:
        return model_utils.normalize(_plain(subscribers), _plain(trunks), _plain(subscriber_defaults),
                                     _plain(trunk_defaults), _plain(settings))
    except model_utils.ModelError as exc:
        raise AnsibleFilterError("Invalid subscriber/trunk model:\n- " + "\n- ".join(exc.errors)) from None


def sip_model_errors(subscribers, trunks=None, subscriber_defaults=None, trunk_defaults=None, settings=None):
    try:
        model_utils.normalize(_plain(subscribers), _plain(trunks), _plain(subscriber_defaults),
                              _plain(trunk_defaults), _plain(settings))
    except model_utils.ModelError as exc:
        return exc.errors
    return []


def sip_features(model):
    return model_utils.features(model)


def sip_names(model):
    return model_utils.names(model)


def sip_render(model, settings=None):
    return model_utils.render(model, _plain(settings or {}))


class FilterModule:
    def filters(self):
        return {
            "sip_model": sip_model,
            "sip_model_errors": sip_model_errors,
            "sip_features": sip_features,
            "sip_names": sip_names,
            "sip_render": sip_render,
            "pjsip_endpoints": model_utils.parse_pjsip_endpoints,
            "pjsip_registrations": model_utils.parse_pjsip_registrations,
            "pjsip_transports": model_utils.parse_pjsip_transports,
            "sip_peers": model_utils.parse_sip_peers,
            "sip_registry": model_utils.parse_sip_registry,
        }
