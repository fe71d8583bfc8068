# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a module's main() in-process with given arguments and a fake run_command."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args


class Commands:
    """Fake AnsibleModule.run_command: answers from a {tuple(argv) or argv[0:2]: (rc, out, err)} map."""

    def __init__(self, answers):
        self.answers = answers
        self.calls = []

    def __call__(self, args, **_kwargs):
        self.calls.append(list(args))
        for key in (tuple(args), tuple(args[:3]), tuple(args[:2]), args[0]):
            if key in self.answers:
                answer = self.answers[key]
                return answer(args) if callable(answer) else answer
        raise AssertionError("unexpected command %r" % (args,))


def run_module(main, args, capsys, commands=None, check_mode=False, diff=False):
    """Return (result dict, failed) of one module run."""
    full = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(full), mock.patch.object(basic.AnsibleModule, "run_command", commands or Commands({})):
        with pytest.raises(SystemExit) as exc:
            main()
    result = json.loads(capsys.readouterr().out)
    return result, exc.value.code != 0 or bool(result.get("failed"))
