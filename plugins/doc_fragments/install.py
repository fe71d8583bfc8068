# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The apply modules that install what they apply to (module_utils/apt.py).
    DOCUMENTATION = r"""
options:
  install:
    description:
      - Install the C(packages) that are missing first (C(apt-get install) without recommends, the
        package lists refreshed when older than C(cache_valid_time) seconds). In check mode on a host
        without them the run says what a real run would apply, and changes nothing.
      - Left out, a missing package fails the run.
    type: dict
    suboptions:
      packages:
        description: The packages the run needs.
        type: list
        elements: str
        default: []
      cache_valid_time:
        description: How old the package lists may be before they are refreshed, in seconds.
        type: int
        default: 3600
"""
