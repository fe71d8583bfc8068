# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a playbook of the collection through the ansible-runner Python API, the way AWX runs a job.

AWX hands every job to ansible-runner: a fresh private data directory with ``env/extravars`` (the
survey answers and the template's extra variables), ``env/envvars`` (the environment, including the
collections path), ``env/cmdline`` (further ansible-playbook arguments, e.g. the vault password),
the project checkout as the working directory, and the event stream read back from the artifacts.
``run_playbook`` does the same so that tests exercise the collection through that path too.

Use from a Molecule test file::

    sys.path.insert(0, os.path.join(REPO, "tests"))
    from runner import run_playbook

    result = run_playbook("vpbx.hardened.audit", inventory_dir, extravars={"vpbx_hosts": "pbx"})
    assert result.rc == 0, result.stdout
"""

from __future__ import annotations

import dataclasses
import json
import os
import shlex
import shutil
import tempfile
from typing import Any

import ansible_runner

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
LOCAL_COLLECTIONS = os.path.join(REPO, ".ansible", "collections")


@dataclasses.dataclass
class PlaybookResult:
    """What a job's outcome looks like in AWX: return code, status, output, per-host stats."""

    rc: int
    status: str
    stdout: str
    stats: dict[str, dict[str, int]]
    events: int
    command: list[str]

    def host_stat(self, stat: str, host: str) -> int:
        """``stats[stat][host]`` with 0 for a host that has no entry (e.g. changed=0)."""
        return int(self.stats.get(stat, {}).get(host, 0))


def _write_json(path: str, data: dict[str, Any]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    os.chmod(path, 0o600)


def _collections_path() -> str:
    current = os.environ.get("ANSIBLE_COLLECTIONS_PATH") or os.environ.get("ANSIBLE_COLLECTIONS_PATHS")
    return current or LOCAL_COLLECTIONS


def _playbook_argument(playbook: str) -> str:
    """An FQCN (``vpbx.hardened.site``) is passed on as it is; a path is made absolute."""
    if os.path.sep in playbook or playbook.endswith((".yml", ".yaml")):
        path = os.path.abspath(playbook)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"playbook {path} does not exist")
        return path
    if playbook.count(".") < 2:
        raise ValueError(f"{playbook!r} is neither a playbook path nor a collection playbook FQCN")
    return playbook


def run_playbook(playbook_fqcn: str, inventory_dir: str, extravars: dict[str, Any] | None = None,
                 limit: str | None = None, cmdline: str | None = None,
                 vault_password_file: str | None = None, timeout: int = 900) -> PlaybookResult:
    """Run ``playbook_fqcn`` (an FQCN such as ``vpbx.hardened.audit`` or a playbook path) against
    ``inventory_dir`` (an inventory directory or file) through ``ansible_runner.run``.

    ``extravars`` are written to ``env/extravars`` as AWX writes survey answers; ``env/envvars``
    carries ANSIBLE_COLLECTIONS_PATH (the caller's, else ``<repo>/.ansible/collections``);
    ``limit`` is the job template's limit; ``cmdline`` further ansible-playbook arguments
    (``--check --diff``), written to ``env/cmdline`` with ``--vault-password-file
    VAULT_PASSWORD_FILE`` when that is given. ``timeout`` (seconds) ends the run like a job
    template's timeout (status ``timeout``).
    """
    playbook = _playbook_argument(playbook_fqcn)
    inventory = os.path.abspath(inventory_dir)
    if not os.path.exists(inventory):
        raise FileNotFoundError(f"inventory {inventory} does not exist")
    args = shlex.split(cmdline) if cmdline else []
    if vault_password_file:
        vault_file = os.path.abspath(vault_password_file)
        if not os.path.isfile(vault_file):
            raise FileNotFoundError(f"vault password file {vault_file} does not exist")
        args += ["--vault-password-file", vault_file]

    private_data_dir = tempfile.mkdtemp(prefix="vpbx-runner-")
    try:
        # AWX writes the job's inputs as files of the private data directory (JSON is YAML).
        env_dir = os.path.join(private_data_dir, "env")
        os.makedirs(env_dir, mode=0o700)
        _write_json(os.path.join(env_dir, "extravars"), dict(extravars or {}))
        _write_json(os.path.join(env_dir, "envvars"), {
            "ANSIBLE_COLLECTIONS_PATH": _collections_path(),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
        })
        if args:
            with open(os.path.join(env_dir, "cmdline"), "w", encoding="utf-8") as handle:
                handle.write(shlex.join(args))
        runner = ansible_runner.run(
            private_data_dir=private_data_dir,
            # The checkout is the working directory, as the project checkout is in AWX: its
            # ansible.cfg applies unless ANSIBLE_CONFIG says otherwise.
            project_dir=REPO,
            playbook=playbook,
            inventory=inventory,
            limit=limit,
            timeout=timeout,
            quiet=True,
        )
        stdout = runner.stdout.read() if runner.stdout else ""
        events = sum(1 for _unused in runner.events)
        stats = runner.stats or {}
        return PlaybookResult(
            rc=runner.rc,
            status=runner.status,
            stdout=stdout,
            stats={key: dict(value) for key, value in stats.items() if isinstance(value, dict)},
            events=events,
            command=list(runner.config.command),
        )
    finally:
        shutil.rmtree(private_data_dir, ignore_errors=True)
