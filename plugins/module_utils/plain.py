# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
"""Values handed to the filters by the templating engine, as plain Python data."""

from __future__ import annotations


def plain(value):
    """Containers as dict/list, scalars as bool/int/float/None or str (vault values decrypted,
    Ansible's tagged strings made ordinary)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return str(value)
