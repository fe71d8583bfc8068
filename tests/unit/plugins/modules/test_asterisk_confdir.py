# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import grp
import hashlib
import os

import pytest

from ansible_collections.vpbx.hardened.plugins.modules import asterisk_confdir

from .moduletest import Commands, run_module

GROUP = grp.getgrgid(os.getgid()).gr_name
SAMPLE = b"; sample shipped by the package\n"


@pytest.fixture
def confdir(tmp_path):
    etc = tmp_path / "asterisk"
    etc.mkdir(mode=0o755)
    files = {
        "sip.conf": SAMPLE,                            # pristine package sample
        "extensions.conf": b"; edited by the admin\n",  # package conffile, modified
        "asterisk.conf": SAMPLE,                       # pristine sample the role renders itself
        "pjsip.conf": b"; vpbx.hardened: rendered\n",   # package path, rendered by the collection
        "custom.conf": b"; the user's own include\n",   # not a package file, not ours
        "manager.d/readme": SAMPLE,                    # package sample in a subdirectory
    }
    for rel, content in files.items():
        path = etc / rel
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(content)
        path.chmod(0o644)
    md5 = hashlib.md5(SAMPLE).hexdigest()  # noqa: S324
    dpkg = "asterisk-config\n" + "".join(
        " %s %s\n" % (etc / rel, md5) for rel in
        ("sip.conf", "extensions.conf", "asterisk.conf", "pjsip.conf", "manager.d/readme"))
    dpkg += " %s 0123 obsolete\n" % (etc / "old.conf")
    return etc, Commands({"dpkg-query": (0, dpkg, "")})


def args(etc, tmp_path, **extra):
    return dict(path=str(etc), keep=["asterisk.conf"], backup_dir=str(tmp_path / "backup"), group=GROUP, **extra)


def test_check_real_repeat_repeat_check(confdir, tmp_path, capsys):
    etc, commands = confdir
    moved = ["asterisk.conf", "extensions.conf", "manager.d/readme", "sip.conf"]

    result, failed = run_module(asterisk_confdir.main, args(etc, tmp_path), capsys, commands, check_mode=True, diff=True)
    assert not failed and result["changed"]
    assert sorted(result["moved"]) == moved
    assert (etc / "sip.conf").exists() and not (tmp_path / "backup").exists()  # check mode touched nothing
    assert "sip.conf" in result["diff"]["before"].split() and "sip.conf" not in result["diff"]["after"].split()

    result, failed = run_module(asterisk_confdir.main, args(etc, tmp_path), capsys, commands)
    assert not failed and result["changed"]
    assert sorted(result["moved"]) == moved
    assert sorted(os.listdir(etc)) == ["custom.conf", "manager.d", "pjsip.conf"]
    backup = result["backup"]
    assert os.path.dirname(backup) == str(tmp_path / "backup")
    assert os.path.basename(backup).startswith("etc-asterisk-")
    assert (tmp_path / "backup" / os.path.basename(backup) / "extensions.conf").read_bytes() == b"; edited by the admin\n"
    assert (tmp_path / "backup" / os.path.basename(backup) / "manager.d" / "readme").exists()
    assert oct(os.stat(backup).st_mode & 0o777) == oct(0o700)
    for path in [etc, etc / "manager.d", etc / "custom.conf", etc / "pjsip.conf"]:
        assert os.stat(path).st_mode & 0o007 == 0, path

    for check_mode in (False, True):
        result, failed = run_module(asterisk_confdir.main, args(etc, tmp_path), capsys, commands, check_mode=check_mode)
        assert not failed and not result["changed"], result
        assert result["moved"] == [] and result["permissions_fixed"] == []


def test_prune_all_moves_unknown_files(confdir, tmp_path, capsys):
    etc, commands = confdir
    result, _unused = run_module(asterisk_confdir.main, args(etc, tmp_path, prune="all"), capsys, commands)
    assert "custom.conf" in result["moved"]
    assert "pjsip.conf" not in result["moved"]  # marked: the collection's


def test_prune_none_only_fixes_permissions(confdir, tmp_path, capsys):
    etc, commands = confdir
    result, _unused = run_module(asterisk_confdir.main, args(etc, tmp_path, prune="none"), capsys, commands)
    assert result["changed"] and result["moved"] == []
    assert len(result["permissions_fixed"]) == 8  # the directory, its subdirectory and 6 files
    assert commands.calls == []  # dpkg not even asked


def test_missing_directory_fails(tmp_path, capsys):
    result, failed = run_module(asterisk_confdir.main, args(tmp_path / "nope", tmp_path), capsys)
    assert failed and "install Asterisk first" in result["msg"]


def test_unknown_group_fails(confdir, tmp_path, capsys):
    etc, commands = confdir
    result, failed = run_module(asterisk_confdir.main, dict(args(etc, tmp_path), group="no-such-group-vpbx"),
                                capsys, commands)
    assert failed and "no-such-group-vpbx" in result["msg"]


def test_dir_mode_sets_the_directory_exactly(confdir, tmp_path, capsys):
    etc, commands = confdir
    etc.chmod(0o770)  # no bit for others, yet not the wanted mode
    result, failed = run_module(asterisk_confdir.main, args(etc, tmp_path, prune="none", dir_mode="0750"), capsys,
                                commands)
    assert not failed and result["changed"] and str(etc) in result["permissions_fixed"]
    assert oct(os.stat(etc).st_mode & 0o7777) == oct(0o750) and os.stat(etc).st_uid == 0
    result, failed = run_module(asterisk_confdir.main, args(etc, tmp_path, prune="none", dir_mode="0750"), capsys,
                                commands)
    assert not failed and not result["changed"]


def test_dir_mode_must_be_octal(confdir, tmp_path, capsys):
    etc, commands = confdir
    result, failed = run_module(asterisk_confdir.main, args(etc, tmp_path, dir_mode="rwx"), capsys, commands)
    assert failed and "dir_mode" in result["msg"]
