# SPDX-License-Identifier: GPL-3.0-or-later
"""files_current against the state file_state reads: the filter must never call a file current
that config_files would change."""

from __future__ import annotations

import grp
import os
import pwd

import pytest

from ansible_collections.vpbx.hardened.plugins.filter.files import files_current
from ansible_collections.vpbx.hardened.plugins.module_utils.files import file_state
from ansible_collections.vpbx.hardened.plugins.modules import config_files

from ..modules.moduletest import run_module

OWNER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name
FILES = [{"name": "logger.conf", "content": "; logger \u00e9\n"},
         {"name": "sub/rtp.conf", "content": "[general]\n", "mode": "0600"},
         {"name": "stub.conf", "content": "; stub\n", "force": False}]


@pytest.fixture
def written(tmp_path, capsys):
    args = dict(dir=str(tmp_path), owner=OWNER, group=GROUP, files=FILES, backup=False)
    (tmp_path / "sub").mkdir()
    result, failed = run_module(config_files.main, args, capsys)
    assert not failed and result["changed"]
    return tmp_path


def state_of(root):
    return file_state([os.path.join(str(root), f["name"]) for f in FILES])


def current(root, files=None, mode="0640"):
    return files_current(FILES if files is None else files, state_of(root), str(root), OWNER, GROUP, mode)


def test_files_config_files_just_wrote_are_current_and_config_files_agrees(written, capsys):
    assert current(written)
    # ... and config_files itself has nothing to change: the filter and the module agree.
    result, failed = run_module(config_files.main, dict(dir=str(written), owner=OWNER, group=GROUP, files=FILES),
                                capsys)
    assert not failed and not result["changed"]


@pytest.mark.parametrize("drift", ["content", "mode", "missing", "directory", "default-mode"])
def test_any_drift_makes_the_set_not_current(written, drift):
    path = written / "logger.conf"
    if drift == "content":
        path.write_text("; edited by hand\n")
    elif drift == "mode":
        path.chmod(0o644)
    elif drift == "missing":
        path.unlink()
    elif drift == "directory":
        path.unlink()
        path.mkdir()
    if drift == "default-mode":
        assert not current(written, mode="0600")
    else:
        assert not current(written)


def test_a_file_with_force_false_only_has_to_exist(written):
    (written / "stub.conf").write_text("; the user's own\n")
    (written / "stub.conf").chmod(0o600)
    assert current(written)
    # A stub such as voicemail.conf that the dialplan role filled with mailboxes since: its state
    # has no digest, it exists, and config_files would leave it alone.
    (written / "stub.conf").write_text("[default]\n1001 => 4817,Anna\n")
    assert state_of(written)[str(written / "stub.conf")] == {"secret": True}
    assert current(written)
    (written / "stub.conf").unlink()
    assert not current(written)
    (written / "stub.conf").mkdir()
    assert not current(written)


def test_a_file_the_state_does_not_hold_is_not_current(written):
    partial = {k: v for k, v in state_of(written).items() if not k.endswith("logger.conf")}
    assert not files_current(FILES, partial, str(written), OWNER, GROUP, "0640")
    assert not files_current(FILES, None, str(written), OWNER, GROUP, "0640")


def test_file_state_reports_what_config_files_compares(written):
    state = state_of(written)
    logger = state[os.path.join(str(written), "logger.conf")]
    assert logger["owner"] == OWNER and logger["group"] == GROUP and logger["mode"] == "0640"
    assert len(logger["sha1"]) == 40
    assert state[os.path.join(str(written), "sub/rtp.conf")]["mode"] == "0600"
    assert file_state([str(written / "nope.conf")]) == {str(written / "nope.conf"): None}
    assert file_state([str(written / "sub")]) == {str(written / "sub"): {"type": "other"}}


@pytest.mark.parametrize("line", ["secret = Zq7-old-ami-secret-4f9", "password = $6$salt$hash", "1001 => 4817,Anna",
                                  "pin=7391", "  Secret=x"])
def test_a_file_that_still_holds_a_secret_is_never_digested(tmp_path, line):
    # A file the role now renders without secrets may still hold one on the host (its last user was
    # just removed): its state carries no digest, and the render runs.
    path = tmp_path / "manager.conf"
    path.write_text("; vpbx.hardened\n[general]\nenabled = yes\n[old]\n%s\n" % line)
    state = file_state([str(path)])
    assert state == {str(path): {"secret": True}}
    assert not files_current([{"name": "manager.conf", "content": "; vpbx.hardened\n"}], state, str(tmp_path))


def test_lines_that_only_look_like_secrets_keep_the_digest(tmp_path):
    path = tmp_path / "extensions.conf"
    path.write_text("[office]\nexten => 1001,1,Dial(PJSIP/1001)\n; the secret is in pjsip_secrets.conf\nsecretfoo=1\n")
    assert "sha1" in file_state([str(path)])[str(path)]
