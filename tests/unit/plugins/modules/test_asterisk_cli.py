# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

from unittest import mock

import pytest

from ansible_collections.vpbx.hardened.plugins.modules import asterisk_cli

from .moduletest import Commands, run_module

OK = (0, "Module 'res_rtp_asterisk.so' reloaded successfully.\n", "")
DOWN = (0, "Unable to connect to remote asterisk (does /var/run/asterisk/asterisk.ctl exist?)\n", "")


@pytest.mark.parametrize("answer, readonly, check_mode, expect, changed, failed, ran", [
    (OK, False, False, None, True, False, True),
    (OK, True, False, None, False, False, True),
    (OK, False, True, None, True, False, False),       # an action is only reported in check mode
    (OK, True, True, None, False, False, True),        # a probe runs in check mode
    (OK, True, False, r"reloaded successfully", False, False, True),
    (OK, True, False, r"Port start", False, True, True),
    ((0, "No such command 'modul reload' (type 'core show help modul' for other possible commands)\n", ""),
     False, False, None, None, True, True),
    ((0, "No such module 'res_none.so'\n", ""), False, False, None, None, True, True),
    ((1, "", "boom"), True, False, None, None, True, True),
])
def test_cli(capsys, answer, readonly, check_mode, expect, changed, failed, ran):
    commands = Commands({"/usr/sbin/asterisk": answer})
    params = dict(command="module reload res_rtp_asterisk.so", readonly=readonly, wait=0)
    if expect:
        params["expect"] = expect
    result, did_fail = run_module(asterisk_cli.main, params, capsys, commands, check_mode=check_mode)
    assert did_fail is failed, result
    if changed is not None and not failed:
        assert result["changed"] is changed
    assert bool(commands.calls) is ran
    if ran:
        assert commands.calls[0] == ["/usr/sbin/asterisk", "-rx", "module reload res_rtp_asterisk.so"]


def test_waits_for_a_starting_asterisk(capsys):
    answers = iter([DOWN, DOWN, OK])
    commands = Commands({"/usr/sbin/asterisk": lambda _args: next(answers)})
    with mock.patch.object(asterisk_cli.time, "sleep"):
        result, failed = run_module(asterisk_cli.main, dict(command="logger reload", wait=30), capsys, commands)
    assert not failed and len(commands.calls) == 3


def test_gives_up_when_asterisk_stays_down(capsys):
    commands = Commands({"/usr/sbin/asterisk": DOWN})
    result, failed = run_module(asterisk_cli.main, dict(command="logger reload", wait=0), capsys, commands)
    assert failed and "Asterisk is not running" in result["msg"]


def answers(args):
    return (0, "output of %s\n" % args[2], "")


def test_commands_give_one_result_each(capsys):
    commands = Commands({"/usr/sbin/asterisk": answers})
    wanted = ["rtp show settings", "core show settings", "http show status"]
    result, failed = run_module(asterisk_cli.main, dict(commands=wanted, readonly=True, wait=0), capsys, commands,
                                check_mode=True)
    assert not failed and result["changed"] is False
    assert [r["command"] for r in result["results"]] == wanted
    assert [r["stdout"] for r in result["results"]] == ["output of %s\n" % c for c in wanted]
    assert [c[2] for c in commands.calls] == wanted


def test_the_first_failing_command_stops_the_run(capsys):
    def answer(args):
        return (0, "No such command 'bogus'\n", "") if args[2] == "bogus" else (0, "fine\n", "")
    commands = Commands({"/usr/sbin/asterisk": answer})
    result, failed = run_module(asterisk_cli.main, dict(commands=["core show version", "bogus", "core show uptime"],
                                                        readonly=True, wait=0), capsys, commands)
    assert failed and "'bogus'" in result["msg"]
    assert [c[2] for c in commands.calls] == ["core show version", "bogus"]


@pytest.mark.parametrize("params", [{}, {"command": "core show version", "commands": ["core show version"]}])
def test_exactly_one_of_command_and_commands(capsys, params):
    result, failed = run_module(asterisk_cli.main, dict(params, wait=0), capsys, Commands({}))
    assert failed and "command" in result["msg"]


def test_an_empty_command_list_is_refused(capsys):
    result, failed = run_module(asterisk_cli.main, dict(commands=[], wait=0), capsys, Commands({}))
    assert failed and "at least one" in result["msg"]
