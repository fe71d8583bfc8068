# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection's tarball as ansible-galaxy builds it: the license, the roles, plugins, playbooks and
docs in; the repository's own tooling (tests, scenarios, benchmarks, ansible.cfg, the example
inventory with its published vault password) out."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import tarfile

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_the_tarball_holds_what_a_user_needs_and_nothing_of_the_repositorys_tooling(tmp_path):
    galaxy = pathlib.Path(sys.executable).parent / "ansible-galaxy"
    subprocess.run([str(galaxy), "collection", "build", "--output-path", str(tmp_path), str(ROOT)], check=True,
                   capture_output=True, timeout=120)
    [tarball] = list(tmp_path.glob("vpbx-hardened-*.tar.gz"))
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    top = {name.split("/")[0] for name in names}
    assert {"LICENSE", "README.md", "roles", "plugins", "playbooks", "docs", "meta", "changelogs"} <= top, top
    for left_out in ("tests", "molecule", "benchmarks", "ansible.cfg", "inventories", ".venv", "scripts", "Makefile"):
        assert left_out not in top, left_out
    assert not [name for name in names if "vault-password" in name or "__pycache__" in name]
    assert "GNU GENERAL PUBLIC LICENSE" in (ROOT / "LICENSE").read_text()[:200]
    assert "roles/asterisk_cdr/meta/argument_specs.yml" in names


def test_one_version_across_galaxy_yml_the_plugins_and_the_changelog():
    """Every plugin's version_added is a released version (changelogs/changelog.yaml) or the one
    galaxy.yml is about to release, never a later one."""
    import re

    import yaml
    from packaging.version import Version

    root = pathlib.Path(__file__).resolve().parents[2]
    version = yaml.safe_load((root / "galaxy.yml").read_text())["version"]
    released = set((yaml.safe_load((root / "changelogs" / "changelog.yaml").read_text()).get("releases") or {}))
    known = released | {version}
    added = {}
    for path in (root / "plugins").rglob("*.py"):
        for found in re.findall(r"^version_added: *['\"]?([0-9.]+)", path.read_text(), re.M):
            added[str(path.relative_to(root))] = found
    assert len(added) >= 20, added
    wrong = {p: v for p, v in added.items() if v not in known or Version(v) > Version(version)}
    assert not wrong, (version, sorted(known), wrong)
