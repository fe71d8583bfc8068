# SPDX-License-Identifier: GPL-3.0-or-later
"""Make `ansible_collections.vpbx.hardened` importable from a checkout (`make collection` links
the checkout into .ansible/collections)."""

from __future__ import annotations

import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
COLLECTIONS = os.path.join(ROOT, ".ansible", "collections")
LINK = os.path.join(COLLECTIONS, "ansible_collections", "vpbx", "hardened")

if not os.path.exists(LINK):
    os.makedirs(os.path.dirname(LINK), exist_ok=True)
    os.symlink(ROOT, LINK)
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)
