# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: concise
type: stdout
short_description: One line per role - what ran, what changed, how long - and every failure in full
version_added: 0.1.0
author:
  - vpbx.hardened contributors (!UNKNOWN)
description:
  - A stdout callback for long runs watched by a person (C(make demo)). Instead of a block per task
    and host it prints one line when each role (or the play's own tasks) is done - its name, the
    tasks that ran, how many changed something on a host, the seconds it took - and a recap line
    per host at the end.
  - A failed or unreachable host is printed in full as it happens - the task, the host, Ansible's
    message and the module's output - so that the next step is clear without re-running with C(-v).
  - Warnings and deprecations are printed as usual. Per-task timings are the job of
    C(ansible.posix.profile_tasks), enabled next to it when wanted.
  - Enable it with C(ANSIBLE_STDOUT_CALLBACK=vpbx.hardened.concise) or C(stdout_callback) in C(ansible.cfg).
requirements:
  - set as the stdout callback
"""

import time

from ansible.plugins.callback import CallbackBase

PLAY_TASKS = "(play)"


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "vpbx.hardened.concise"

    def __init__(self, display=None, options=None):
        super().__init__(display=display, options=options)
        self._group = None
        self._started = 0.0
        self._tasks = 0
        self._changed = 0
        self._failed = 0

    # --- grouping ------------------------------------------------------------------------------

    @staticmethod
    def group_of(task):
        """The role a task belongs to (its short name), or the play's own tasks."""
        role = getattr(task, "_role", None)
        return role.get_name(include_role_fqcn=False) if role is not None else PLAY_TASKS

    def _flush(self):
        if self._group is None:
            return
        state = "FAILED" if self._failed else ("changed" if self._changed else "ok")
        self._display.display("  %-22s %-7s %3d task(s), %d changed  %6.1f s" % (
            self._group, state, self._tasks, self._changed, time.monotonic() - self._started))
        self._group = None

    def _enter(self, task):
        group = self.group_of(task)
        if group != self._group:
            self._flush()
            self._group, self._started = group, time.monotonic()
            self._tasks = self._changed = self._failed = 0
        self._tasks += 1

    # --- events --------------------------------------------------------------------------------

    def v2_playbook_on_play_start(self, play):
        self._flush()
        name = play.get_name().strip()
        self._display.display("%s" % (name or "play"))

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._enter(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._enter(task)

    def v2_runner_on_ok(self, result):
        if result._result.get("changed"):
            self._changed += 1

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if ignore_errors:
            return
        self._failed += 1
        self._report("FAILED", result)

    def v2_runner_on_unreachable(self, result):
        self._failed += 1
        self._report("UNREACHABLE", result)

    def _report(self, what, result):
        data = result._result
        lines = ["%s: %s | %s" % (what, result._host.get_name(), result._task.get_name())]
        if data.get("msg"):
            lines.append("  " + str(data["msg"]).replace("\n", "\n  "))
        for key in ("stderr", "stdout", "module_stderr"):
            text = str(data.get(key) or "").strip()
            if text and text != str(data.get("msg") or "").strip():
                lines.append("  %s: %s" % (key, text[-2000:].replace("\n", "\n  ")))
        self._display.display("\n".join(lines), color="red", stderr=True)

    def v2_playbook_on_stats(self, stats):
        self._flush()
        for host in sorted(stats.processed):
            s = stats.summarize(host)
            self._display.display("%s: ok=%d changed=%d failed=%d unreachable=%d" % (
                host, s["ok"], s["changed"], s["failures"], s["unreachable"]))
