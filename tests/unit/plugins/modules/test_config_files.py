# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import grp
import json
import os
import pwd
import stat

import pytest

from ansible_collections.vpbx.hardened.plugins.modules import config_files

from .moduletest import run_module

OWNER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name


def args(etc, files, **extra):
    return dict(dir=str(etc), owner=OWNER, group=GROUP, files=files, **extra)


@pytest.fixture
def etc(tmp_path):
    root = tmp_path / "asterisk"
    root.mkdir()
    (root / "logger.conf").write_text("; old logger\n")
    (root / "logger.conf").chmod(0o640)
    (root / "rtp.conf").write_text("[general]\nrtpstart=10000\n")
    (root / "rtp.conf").chmod(0o640)
    return root


FILES = [
    {"name": "logger.conf", "content": "; new logger\n"},       # content differs
    {"name": "rtp.conf", "content": "[general]\nrtpstart=10000\n"},  # identical
    {"name": "ari.conf", "content": "[general]\nenabled=no\n"},  # missing: created
]


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_check_mode_reports_and_touches_nothing(etc, capsys):
    result, failed = run_module(config_files.main, args(etc, FILES), capsys, check_mode=True, diff=True)
    assert not failed and result["changed"]
    assert result["changed_files"] == ["logger.conf", "ari.conf"]
    assert (etc / "logger.conf").read_text() == "; old logger\n"
    assert not (etc / "ari.conf").exists()
    assert sorted(os.listdir(etc)) == ["logger.conf", "rtp.conf"]  # no backup either
    assert [d["after_header"] for d in result["diff"]] == [str(etc / "logger.conf"), str(etc / "ari.conf")]
    assert result["diff"][0]["before"] == "; old logger\n" and result["diff"][0]["after"] == "; new logger\n"


def test_writes_only_what_differs_with_backup_then_settles(etc, capsys):
    rtp_inode = os.stat(etc / "rtp.conf").st_ino
    result, failed = run_module(config_files.main, args(etc, FILES), capsys)
    assert not failed and result["changed_files"] == ["logger.conf", "ari.conf"]
    assert (etc / "logger.conf").read_text() == "; new logger\n"
    assert (etc / "ari.conf").read_text() == "[general]\nenabled=no\n"
    assert os.stat(etc / "rtp.conf").st_ino == rtp_inode  # untouched file not rewritten
    assert all(mode_of(etc / n) == 0o640 for n in ("logger.conf", "rtp.conf", "ari.conf"))
    by_name = {f["name"]: f for f in result["files"]}
    backup = by_name["logger.conf"]["backup_file"]
    assert open(backup).read() == "; old logger\n" and mode_of(backup) == 0o640
    assert "backup_file" not in by_name["ari.conf"]  # nothing to back up

    result, failed = run_module(config_files.main, args(etc, FILES), capsys, diff=True)
    assert not failed and not result["changed"] and result["changed_files"] == [] and result["diff"] == []


def test_mode_only_change_is_fixed_without_rewrite_or_backup(etc, capsys):
    (etc / "rtp.conf").chmod(0o644)
    files = [FILES[1]]
    result, failed = run_module(config_files.main, args(etc, files), capsys)
    assert not failed and result["changed_files"] == ["rtp.conf"]
    assert result["files"][0]["content_changed"] is False
    assert mode_of(etc / "rtp.conf") == 0o640
    assert sorted(os.listdir(etc)) == ["logger.conf", "rtp.conf"]


def test_per_file_mode(etc, capsys):
    files = [dict(FILES[1], mode="0600")]
    result, failed = run_module(config_files.main, args(etc, files), capsys)
    assert not failed and mode_of(etc / "rtp.conf") == 0o600


def test_secret_content_is_never_in_the_diff(etc, capsys):
    files = [{"name": "manager.conf", "content": "[admin]\nsecret=S3cr3t-Value\n", "secret": True}]
    result, failed = run_module(config_files.main, args(etc, files), capsys, check_mode=True, diff=True)
    assert not failed and result["changed_files"] == ["manager.conf"]
    assert "S3cr3t-Value" not in repr(result["diff"])


def test_backup_can_be_turned_off(etc, capsys):
    result, failed = run_module(config_files.main, args(etc, FILES[:1], backup=False), capsys)
    assert not failed and result["changed"]
    assert sorted(os.listdir(etc)) == ["logger.conf", "rtp.conf"]


@pytest.mark.parametrize("files, extra, message", [
    ([{"name": "../passwd", "content": ""}], {}, "files[].name"),
    ([{"name": "/etc/passwd", "content": ""}], {}, "files[].name"),
    ([{"name": "a.conf", "content": "", "mode": "rw"}], {}, "files[a.conf].mode"),
    ([{"name": "a.conf", "content": ""}, {"name": "a.conf", "content": "x"}], {}, "listed twice"),
    ([{"name": "a.conf", "content": ""}], {"mode": "999"}, "mode"),
    ([{"name": "a.conf", "content": ""}], {"group": "no-such-group-vpbx"}, "group"),
])
def test_bad_input_names_the_field_and_writes_nothing(etc, capsys, files, extra, message):
    result, failed = run_module(config_files.main, dict(args(etc, files), **extra), capsys)
    assert failed and message in result["msg"]
    assert sorted(os.listdir(etc)) == ["logger.conf", "rtp.conf"]


def test_missing_directory_is_an_error(tmp_path, capsys):
    result, failed = run_module(config_files.main, args(tmp_path / "nope", FILES), capsys)
    assert failed and "dir:" in result["msg"]


def test_refuses_to_write_through_a_symlink(etc, tmp_path, capsys):
    target = tmp_path / "elsewhere"
    target.write_text("keep me\n")
    (etc / "evil.conf").symlink_to(target)
    result, failed = run_module(config_files.main, args(etc, [{"name": "evil.conf", "content": "x\n"}]), capsys)
    assert failed and "symbolic link" in result["msg"]
    assert target.read_text() == "keep me\n"


def test_backups_can_go_to_their_own_directory(etc, tmp_path, capsys):
    backups = tmp_path / "backups" / "sip"
    for content in ("; first\n", "; second\n"):  # twice within the same second: two backups
        result, failed = run_module(config_files.main, args(etc, [{"name": "logger.conf", "content": content}],
                                                            backup_dir=str(backups)), capsys)
        assert not failed and result["changed"]
    assert mode_of(backups) == 0o700
    kept = sorted(p.read_text() for p in backups.iterdir())
    assert kept == ["; first\n", "; old logger\n"]
    assert all(p.name.startswith("logger.conf.") and p.name.endswith("~") for p in backups.iterdir())
    assert sorted(os.listdir(etc)) == ["logger.conf", "rtp.conf"]


def test_force_false_only_creates_missing_files(etc, capsys):
    (etc / "rtp.conf").chmod(0o600)  # the user's file, attributes included, is left alone
    files = [{"name": "rtp.conf", "content": "; stub\n", "force": False},
             {"name": "cdr.conf", "content": "; stub\n", "force": False}]
    result, failed = run_module(config_files.main, args(etc, files), capsys)
    assert not failed and result["changed_files"] == ["cdr.conf"]
    assert (etc / "rtp.conf").read_text() == "[general]\nrtpstart=10000\n" and mode_of(etc / "rtp.conf") == 0o600
    assert (etc / "cdr.conf").read_text() == "; stub\n"


def test_dir_mode_creates_the_directory_and_check_mode_does_not(tmp_path, capsys):
    facts = tmp_path / "facts.d"
    files = [{"name": "vpbx.fact", "content": "{}\n"}]
    result, failed = run_module(config_files.main, args(facts, files, dir_mode="0755", mode="0644"), capsys,
                                check_mode=True)
    assert not failed and result["changed"] and result["changed_files"] == ["vpbx.fact"] and not facts.exists()
    result, failed = run_module(config_files.main, args(facts, files, dir_mode="0755", mode="0644"), capsys)
    assert not failed and mode_of(facts) == 0o755 and (facts / "vpbx.fact").read_text() == "{}\n"
    result, failed = run_module(config_files.main, args(facts, files, dir_mode="0755", mode="0644"), capsys)
    assert not failed and not result["changed"]


def test_a_dangling_symlink_or_a_directory_is_refused_not_replaced(etc, tmp_path, capsys):
    (etc / "dangling.conf").symlink_to(tmp_path / "nowhere")
    (etc / "adir.conf").mkdir()
    for name, message in (("dangling.conf", "symbolic link"), ("adir.conf", "not a regular file")):
        result, failed = run_module(config_files.main, args(etc, [{"name": name, "content": "x\n"}]), capsys)
        assert failed and message in result["msg"]
    assert (etc / "dangling.conf").is_symlink() and not (tmp_path / "nowhere").exists()


def test_an_unquoted_yaml_mode_is_taken_as_the_mode(etc, capsys):
    # mode: 0600 unquoted in YAML arrives as the integer 384
    result, failed = run_module(config_files.main, args(etc, [dict(FILES[1], mode=0o600)], mode=0o640), capsys)
    assert not failed and mode_of(etc / "rtp.conf") == 0o600


def test_bad_input_with_dir_mode_leaves_no_directory(tmp_path, capsys):
    facts = tmp_path / "facts.d"
    result, failed = run_module(config_files.main, args(facts, [{"name": "../x", "content": ""}], dir_mode="0755"),
                                capsys)
    assert failed and "files[].name" in result["msg"] and not facts.exists()


SECRET = "[admin]\nsecret=S3cr3t-Value-9f2\n"


def test_secrets_are_written_and_masked_while_the_other_files_diff_shows(etc, capsys):
    files = [FILES[0]]
    result, failed = run_module(config_files.main, args(etc, files, secrets={"manager.conf": SECRET}), capsys,
                                diff=True)
    assert not failed and result["changed_files"] == ["logger.conf", "manager.conf"]
    assert (etc / "manager.conf").read_text() == SECRET and mode_of(etc / "manager.conf") == 0o640
    # The public file's diff is there; the secret file's only says that it changed.
    assert result["diff"][0]["after"] == "; new logger\n"
    assert result["diff"][1]["after"] == "(secret content not shown)\n"
    # Nowhere in the output: the echoed arguments are masked by the no_log option.
    text = json.dumps(result)
    assert "S3cr3t-Value-9f2" not in text
    assert "S3cr3t" not in json.dumps(result["invocation"]["module_args"])
    assert "S3cr3t" not in (etc / "logger.conf").read_text()
    # Settled: a second run changes nothing.
    result, failed = run_module(config_files.main, args(etc, files, secrets={"manager.conf": SECRET}), capsys)
    assert not failed and not result["changed"]


@pytest.mark.parametrize("files, secrets, message", [
    ([{"name": "manager.conf", "secret": True, "content": SECRET}], {"manager.conf": SECRET}, "given twice"),
    ([{"name": "manager.conf", "secret": True}], {}, "files[manager.conf]: no content"),
    ([FILES[0]], {"../manager.conf": SECRET}, "must be a relative path inside dir"),
], ids=["content-twice", "no-content", "outside-dir"])
def test_bad_secrets_input_is_refused_before_any_write(etc, capsys, files, secrets, message):
    before = sorted(os.listdir(etc))
    result, failed = run_module(config_files.main, args(etc, files, secrets=secrets), capsys)
    assert failed and message in result["msg"], result
    assert "S3cr3t" not in json.dumps(result)
    assert sorted(os.listdir(etc)) == before


def test_a_listed_file_of_secrets_keeps_its_own_mode(etc, capsys):
    files = [{"name": "manager.conf", "mode": "0600"}]
    result, failed = run_module(config_files.main, args(etc, files, secrets={"manager.conf": SECRET}), capsys,
                                diff=True)
    assert not failed and mode_of(etc / "manager.conf") == 0o600 and (etc / "manager.conf").read_text() == SECRET
    assert result["diff"] == [{"before_header": str(etc / "manager.conf"), "after_header": str(etc / "manager.conf"),
                               "before": "", "after": "(secret content not shown)\n"}]
    assert "S3cr3t" not in json.dumps(result)
