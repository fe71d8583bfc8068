# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import os
import stat
import xml.etree.ElementTree as ET
from unittest import mock

import pytest

from ansible.module_utils import basic

from ansible_collections.vpbx.hardened.plugins.module_utils import asterisk_xmldoc as xd
from ansible_collections.vpbx.hardened.plugins.modules import asterisk_xmldoc

from ..module_utils.test_asterisk_xmldoc import DOC
from .moduletest import Commands, run_module

MODULES = """Module                         Description                              Use Count  Status      Support Level
app_dial.so                    Dialing Application                      0          Running              core
chan_pjsip.so                  PJSIP Channel Driver                     0          Running              core
2 modules loaded
"""
APPLICATIONS = """    -= Registered Asterisk Applications =-
                  Dial: Attempt to connect to another device or endpoint and
    -= 1 Applications Registered =-
"""
FUNCTIONS = """Installed Custom Functions:
--------------------------------------------------------------------------------
CALLERID              CALLERID(datatype[,CID])             Gets or sets Caller*ID data on the channel.
1 custom functions installed.
"""
ACTIONS = """  Action                                       Synopsis
  ------                                       --------
  Ping                                         Keepalive command.
"""
DOWN = (1, "Unable to connect to remote asterisk (does /var/run/asterisk/asterisk.ctl exist?)\n", "")


VERSION = "Asterisk 22.10.1+dfsg+~cs6.17.60671434-1"


def asterisk(applications=APPLICATIONS, installed=VERSION):
    return Commands({
        ("/usr/sbin/asterisk", "-V"): (0, installed + "\n", ""),
        ("/usr/sbin/asterisk", "-rx", "core show version"): (0, VERSION + " built by nobody @ buildd\n", ""),
        ("/usr/sbin/asterisk", "-rx", "module show"): (0, MODULES, ""),
        ("/usr/sbin/asterisk", "-rx", "core show applications"): (0, applications, ""),
        ("/usr/sbin/asterisk", "-rx", "core show functions"): (0, FUNCTIONS, ""),
        ("/usr/sbin/asterisk", "-rx", "manager show commands"): (0, ACTIONS, ""),
    })


@pytest.fixture
def docs(tmp_path):
    """A documentation directory after the diversion: the full file at .distrib, a stale copy in place."""
    (tmp_path / "core-en_US.xml.distrib").write_bytes(DOC)
    (tmp_path / "core-en_US.xml").write_bytes(DOC)
    return tmp_path


def args(docs, **extra):
    return dict(path=str(docs / "core-en_US.xml"), **extra)


def test_trims_then_changes_nothing(capsys, docs):
    result, failed = run_module(asterisk_xmldoc.main, args(docs), capsys, asterisk())
    assert not failed, result
    assert result["changed"]
    written = (docs / "core-en_US.xml").read_bytes()
    assert xd.read_stamp(written) == xd.sha256(DOC) == result["source_sha256"]
    assert sorted(e.get("name") for e in ET.fromstring(written).findall("application")) == ["Dial", "Queue"]
    assert result["size"] == len(written) < result["source_size"] == len(DOC)
    assert result["registered"] == {"modules": 2, "applications": 1, "functions": 1, "actions": 1}
    assert stat.S_IMODE(os.stat(docs / "core-en_US.xml").st_mode) == 0o644
    assert (docs / "core-en_US.xml.distrib").read_bytes() == DOC  # the full file is never touched

    result, failed = run_module(asterisk_xmldoc.main, args(docs), capsys, asterisk())
    assert not failed and not result["changed"]
    assert (docs / "core-en_US.xml").read_bytes() == written


def test_check_mode_and_diff_write_nothing(capsys, docs):
    result, failed = run_module(asterisk_xmldoc.main, args(docs), capsys, asterisk(), check_mode=True, diff=True)
    assert not failed and result["changed"]
    assert (docs / "core-en_US.xml").read_bytes() == DOC
    assert "(full documentation)" in result["diff"]["before"]
    assert "(trimmed copy)" in result["diff"]["after"] and "application: 2 kept" in result["diff"]["after"]
    assert len(result["diff"]["after"]) < 1000  # a summary, not the XML


def test_check_mode_before_the_diversion_reads_the_package_file(capsys, docs):
    (docs / "core-en_US.xml.distrib").unlink()
    result, failed = run_module(asterisk_xmldoc.main, args(docs), capsys, asterisk(), check_mode=True)
    assert not failed and result["changed"] and result["source_sha256"] == xd.sha256(DOC)
    # Without check mode the module refuses to write over the package's file.
    result, failed = run_module(asterisk_xmldoc.main, args(docs), capsys, asterisk())
    assert failed
    assert "source: %s does not exist" % (docs / "core-en_US.xml.distrib") in result["msg"]
    assert "dpkg_divert" in result["msg"]
    assert (docs / "core-en_US.xml").read_bytes() == DOC


def test_source_option(capsys, docs):
    (docs / "core-en_US.xml.distrib").rename(docs / "full.xml")
    result, failed = run_module(asterisk_xmldoc.main, args(docs, source=str(docs / "full.xml")), capsys, asterisk())
    assert not failed and result["changed"]


def test_asterisk_down_fails_and_writes_nothing(capsys, docs):
    result, failed = run_module(asterisk_xmldoc.main, args(docs), capsys, Commands({"/usr/sbin/asterisk": DOWN}))
    assert failed
    assert "start Asterisk with its module set first" in result["msg"]
    assert (docs / "core-en_US.xml").read_bytes() == DOC


def test_a_missing_file_gets_the_full_documentation_when_trimming_fails(capsys, docs):
    """Right after the diversion the file Asterisk reads is gone: a failure must not leave it so."""
    (docs / "core-en_US.xml").unlink()
    result, failed = run_module(asterisk_xmldoc.main, args(docs), capsys, Commands({"/usr/sbin/asterisk": DOWN}))
    assert failed and "The full documentation was put in place." in result["msg"]
    assert (docs / "core-en_US.xml").read_bytes() == DOC
    assert stat.S_IMODE(os.stat(docs / "core-en_US.xml").st_mode) == 0o644


def test_new_file_is_readable_whatever_the_umask(capsys, docs):
    """atomic_move gives a new file 0666 & ~umask: the module sets 0644 itself (Asterisk's user reads it)."""
    (docs / "core-en_US.xml").unlink()
    old = os.umask(0o077)
    try:
        result, failed = run_module(asterisk_xmldoc.main, args(docs), capsys, asterisk())
    finally:
        os.umask(old)
    assert not failed and result["changed"]
    assert stat.S_IMODE(os.stat(docs / "core-en_US.xml").st_mode) == 0o644
    # An existing file of the wrong mode is put right when it is rewritten.
    (docs / "core-en_US.xml").chmod(0o600)
    (docs / "core-en_US.xml").write_bytes(DOC)
    result, failed = run_module(asterisk_xmldoc.main, args(docs), capsys, asterisk())
    assert not failed and result["changed"]
    assert stat.S_IMODE(os.stat(docs / "core-en_US.xml").st_mode) == 0o644


def test_upgrade_not_restarted_keeps_the_full_documentation(capsys, docs):
    """The running binary is older than the installed package: its names are not the new version's."""
    trimmed, _unused = run_module(asterisk_xmldoc.main, args(docs), capsys, asterisk())
    assert trimmed["changed"]
    with mock.patch.object(basic.AnsibleModule, "warn") as warn:
        result, failed = run_module(asterisk_xmldoc.main, args(docs), capsys,
                                    asterisk(installed="Asterisk 22.11.0+dfsg-1"))
    assert not failed and result["changed"]
    assert (docs / "core-en_US.xml").read_bytes() == DOC
    assert "22.11.0+dfsg-1 is installed" in warn.call_args[0][0]


def test_refuses_to_trim_to_nothing(capsys, docs):
    empty = "    -= Registered Asterisk Applications =-\n    -= 0 Applications Registered =-\n"
    result, failed = run_module(asterisk_xmldoc.main, args(docs), capsys, asterisk(applications=empty))
    assert failed and "refusing to trim" in result["msg"]
    assert (docs / "core-en_US.xml").read_bytes() == DOC


def test_refuses_a_symlink_and_a_bad_source(capsys, docs, tmp_path_factory):
    other = tmp_path_factory.mktemp("elsewhere") / "doc.xml"
    other.write_bytes(DOC)
    (docs / "core-en_US.xml").unlink()
    (docs / "core-en_US.xml").symlink_to(other)
    result, failed = run_module(asterisk_xmldoc.main, args(docs), capsys, asterisk())
    assert failed and "symbolic link" in result["msg"]
    assert other.read_bytes() == DOC

    (docs / "core-en_US.xml").unlink()
    (docs / "core-en_US.xml.distrib").write_bytes(b"<html/>")
    result, failed = run_module(asterisk_xmldoc.main, args(docs), capsys, asterisk())
    assert failed and "cannot be trimmed: the root element is <html>" in result["msg"]
    # The missing file is what the package shipped, as Asterisk would read it without the diversion.
    assert (docs / "core-en_US.xml").read_bytes() == b"<html/>"


def test_same_source_and_module_set_asks_nothing(capsys, docs):
    loaded = ["app_dial.so", "chan_pjsip.so"]
    result, failed = run_module(asterisk_xmldoc.main, args(docs, modules=loaded), capsys, asterisk())
    assert not failed and result["changed"] and result["asked"]
    written = (docs / "core-en_US.xml").read_bytes()
    # The digest of the modules Asterisk reported running, not of the parameter.
    assert xd.read_key(written) == xd.modules_key(["chan_pjsip", "app_dial"])
    # Same source, same modules (other order, without .so): Asterisk is not asked (a Commands
    # without answers fails on any call), nothing written.
    quiet = Commands({})
    result, failed = run_module(asterisk_xmldoc.main, args(docs, modules=["chan_pjsip", "app_dial"]), capsys, quiet)
    assert not failed and not result["changed"] and not result["asked"] and quiet.calls == []
    assert (docs / "core-en_US.xml").read_bytes() == written
    # A parameter that is not what Asterisk runs: asked, and the stamp stays what Asterisk reported.
    commands = asterisk()
    result, failed = run_module(asterisk_xmldoc.main, args(docs, modules=loaded + ["res_agi.so"]), capsys, commands)
    assert not failed and result["asked"] and not result["changed"]
    # A new full file (an upgrade): asked again, written again.
    (docs / "core-en_US.xml.distrib").write_bytes(DOC.replace(b"Queue a call.", b"Queue a call!"))
    commands = asterisk()
    result, failed = run_module(asterisk_xmldoc.main, args(docs, modules=loaded), capsys, commands)
    assert not failed and result["changed"] and result["asked"] and commands.calls
    assert b"Queue a call!" in (docs / "core-en_US.xml").read_bytes()
