# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
"""What systemd says of a unit, for the modules that report it next to their own facts."""

from __future__ import annotations


def service_state(module, unit):
    """systemd's word for the unit's enablement and activity ("enabled", "active", ...), each None
    without systemctl or without an answer: a service task needs no module run when both are
    already what the role wants."""
    state = {"enabled": None, "active": None}
    systemctl = module.get_bin_path("systemctl")
    if systemctl:
        for key in state:
            _rc, out, _err = module.run_command([systemctl, "is-" + key, unit])
            state[key] = out.strip() or None
    return state
