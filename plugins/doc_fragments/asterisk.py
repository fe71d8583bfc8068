# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Options shared by the modules that talk to the Asterisk executable.
    DOCUMENTATION = r"""
options:
  binary:
    description: Path of the asterisk executable.
    type: path
    default: /usr/sbin/asterisk
author:
  - vpbx.hardened contributors (!UNKNOWN)
"""
