# SPDX-License-Identifier: GPL-3.0-or-later
"""asterisk_apply: one run writes the files that differ, reloads exactly the modules that read a
changed file (dialplan reload for pbx_config), reads the running Asterisk back, and on a mismatch
puts the previous files back, reloads them and fails - nothing written in check mode."""

from __future__ import annotations

import grp
import os
import pwd

import pytest

from ansible_collections.vpbx.hardened.plugins.modules import asterisk_apply

from .moduletest import Commands, run_module

MODULES = ("Module                         Description                              Use Count  Status      Support Level\n"
           "pbx_config.so                  Text Extension Configuration             0          Running              core\n"
           "app_voicemail.so               Comedian Mail (Voicemail System)         0          Running              core\n"
           "2 modules loaded\n")
EXTENSIONS = "[general]\nstatic=yes\n\n[office]\nexten => 1001,1,Dial(PJSIP/1001)\n"
SHOW = ("[ Context 'office' created by 'pbx_config' ]\n  '1001' => 1. Dial(PJSIP/1001)  [extensions.conf:5]\n\n"
        "[ Context 'parkedcalls' created by 'res_parking' ]\n\n-= 1 extension (1 priority) in 2 contexts. =-\n")
ME = pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name


@pytest.fixture
def etc(tmp_path):
    (tmp_path / "asterisk").write_text("#!/bin/sh\n")
    return tmp_path


def params(etc, **extra):
    return dict(dict(dir=str(etc), files={"extensions.conf": EXTENSIONS}, secrets={"voicemail.conf": "1001 => 4829\n"},
                     owner=ME[0], group=ME[1], binary=str(etc / "asterisk"),
                     reload={"extensions.conf": "pbx_config.so", "voicemail.conf": "app_voicemail.so"},
                     verify={"kind": "dialplan", "contexts": ["office"]}, log_file=str(etc / "messages.log")), **extra)


def cli(etc, show=SHOW, modules=MODULES, reload_answer=""):
    binary = str(etc / "asterisk")
    return Commands({(binary, "-rx", "module show"): (0, modules, ""),
                     (binary, "-rx", "dialplan show"): (0, show, ""),
                     (binary, "-rx", "dialplan reload"): (0, "Dialplan reloaded.\n", ""),
                     (binary, "-rx", "module reload app_voicemail.so"): (0, reload_answer, "")})


def actions(calls):
    return [call[2] for call in calls if call[2] not in ("module show", "dialplan show")]


def test_a_fresh_dialplan_is_written_reloaded_and_verified(etc, capsys):
    commands = cli(etc)
    result, failed = run_module(asterisk_apply.main, params(etc), capsys, commands)
    assert not failed, result
    assert result["changed_files"] == ["extensions.conf", "voicemail.conf"]
    assert actions(commands.calls) == ["dialplan reload", "module reload app_voicemail.so"]
    assert result["reloaded"] == ["pbx_config.so", "app_voicemail.so"]
    assert (etc / "voicemail.conf").read_text() == "1001 => 4829\n"
    assert oct((etc / "voicemail.conf").stat().st_mode & 0o777) == "0o640"


@pytest.mark.parametrize("option, value, name", [
    ("files", {"../extensions.conf": EXTENSIONS}, "../extensions.conf"),
    ("secrets", {"voicemail.d/voicemail.conf": "1001 => 4829\n"}, "voicemail.d/voicemail.conf"),
    ("retire", ["/etc/asterisk/sip.conf"], "/etc/asterisk/sip.conf"),
    ("retire", [".."], ".."),
])
def test_a_name_outside_the_directory_is_refused_by_the_option_that_gave_it(etc, capsys, option, value, name):
    commands = cli(etc)
    result, failed = run_module(asterisk_apply.main, params(etc, **{option: value}), capsys, commands)
    assert failed and result["msg"] == "%s: %r must be a file name inside %s" % (option, name, etc)
    assert commands.calls == [] and not (etc / "extensions.conf").exists()
    # The same names inside the directory are taken (the positive control).
    result, failed = run_module(asterisk_apply.main, params(etc, retire=["sip.conf"]), capsys, cli(etc))
    assert not failed, result


def test_a_rerun_reloads_nothing_and_still_reads_the_running_dialplan(etc, capsys):
    run_module(asterisk_apply.main, params(etc), capsys, cli(etc))
    commands = cli(etc)
    result, failed = run_module(asterisk_apply.main, params(etc), capsys, commands)
    assert not failed and result["changed"] is False and actions(commands.calls) == []
    assert ["dialplan show"] == [c[2] for c in commands.calls if c[2] == "dialplan show"]


def test_only_the_module_of_the_changed_file_is_reloaded(etc, capsys):
    run_module(asterisk_apply.main, params(etc), capsys, cli(etc))
    commands = cli(etc)
    result, failed = run_module(asterisk_apply.main, params(etc, secrets={"voicemail.conf": "1001 => 7351\n"}),
                                capsys, commands)
    assert not failed and result["changed_files"] == ["voicemail.conf"]
    assert actions(commands.calls) == ["module reload app_voicemail.so"]


def test_a_module_that_is_not_loaded_reads_its_file_when_it_loads(etc, capsys):
    only_pbx = MODULES.replace(MODULES.splitlines()[2] + "\n", "")
    commands = cli(etc, modules=only_pbx)
    result, failed = run_module(asterisk_apply.main, params(etc), capsys, commands)
    assert not failed and result["reloaded"] == ["pbx_config.so"]


def test_a_dialplan_asterisk_does_not_run_is_rolled_back(etc, capsys):
    run_module(asterisk_apply.main, params(etc), capsys, cli(etc))
    before = {p.name: p.read_bytes() for p in etc.iterdir()}
    broken = EXTENSIONS + "\n[sales]\nexten => 2001,1,Dial(PJSIP/2001)\n"
    commands = cli(etc)  # `dialplan show` still lists office only: pbx_config dropped sales
    result, failed = run_module(asterisk_apply.main, params(etc, files={"extensions.conf": broken},
                                                            verify={"kind": "dialplan", "contexts": ["office", "sales"]}),
                                capsys, commands)
    assert failed
    assert result["msg"] == ("Asterisk runs the contexts ['office'], extensions.conf defines ['office', 'sales']. "
                             "See /var/log/asterisk/messages.log for what pbx_config refused, then run `dialplan "
                             "reload`. The previous files were restored and pbx_config.so reloaded on them. Fix what "
                             "it names and run again.")
    # Reloaded on the new file, then again on the previous one.
    assert actions(commands.calls) == ["dialplan reload", "dialplan reload"]
    assert {p.name: p.read_bytes() for p in etc.iterdir()} == before


def logging_reload(etc, line):
    """cli(etc) whose `dialplan reload` writes `line` to Asterisk's log, as a reload that refuses does."""
    log = etc / "messages.log"
    log.write_text("[Dec  7 07:00:00] NOTICE[1]: old line\n")
    commands = cli(etc)
    original = commands.answers[(str(etc / "asterisk"), "-rx", "dialplan reload")]

    def reload_and_log(_args):
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
        return original
    commands.answers[(str(etc / "asterisk"), "-rx", "dialplan reload")] = reload_and_log
    return commands


def test_a_refusal_asterisk_logged_fails_the_run_too(etc, capsys):
    commands = logging_reload(etc, "[Dec  7 07:00:01] ERROR[2]: config_options.c: Could not find option suitable for "
                                   "category '1002' named 'no_such_option' at line 7 of pjsip.conf")
    result, failed = run_module(asterisk_apply.main, params(etc, secrets={}, refusals=True), capsys, commands)
    assert failed and "Asterisk refused the new configuration: " in result["msg"]
    assert "named 'no_such_option'" in result["msg"] and "The previous files were restored" in result["msg"]
    assert not (etc / "extensions.conf").exists()  # it was new: removed again
    # Control: the same run without the refusal in the log passes.
    result, failed = run_module(asterisk_apply.main, params(etc, secrets={}, refusals=True), capsys, cli(etc))
    assert not failed, result


def test_a_table_cdr_adaptive_odbc_dropped_as_it_reloaded_fails_the_run(etc, capsys):
    commands = logging_reload(etc, "[Dec  7 07:00:01] WARNING[2]: cdr_adaptive_odbc.c: No such connection 'vpbx-cdr' "
                                   "in the 'vpbx-cdr' section of cdr_adaptive_odbc.conf.  Check res_odbc.conf.")
    result, failed = run_module(asterisk_apply.main, params(etc, secrets={}, refusals=True), capsys, commands)
    assert failed and "No such connection 'vpbx-cdr'" in result["msg"], result


def test_the_modules_reload_in_the_order_the_reload_option_gives(etc, capsys):
    commands = cli(etc)
    # voicemail.conf (a secret) is written after extensions.conf, but its module is named first.
    reload = {"voicemail.conf": "app_voicemail.so", "extensions.conf": "pbx_config.so"}
    result, failed = run_module(asterisk_apply.main, params(etc, reload=reload), capsys, commands)
    assert not failed and actions(commands.calls) == ["module reload app_voicemail.so", "dialplan reload"], result
    # The positive control: the other order, the other way round.
    for name in ("extensions.conf", "voicemail.conf"):
        (etc / name).unlink()
    commands = cli(etc)
    result, failed = run_module(asterisk_apply.main, params(etc), capsys, commands)
    assert not failed and actions(commands.calls) == ["dialplan reload", "module reload app_voicemail.so"], result


def test_check_mode_shows_the_files_and_hides_the_secret(etc, capsys):
    commands = cli(etc)
    result, failed = run_module(asterisk_apply.main, params(etc), capsys, commands, check_mode=True, diff=True)
    assert not failed and result["changed"] is True and commands.calls == []
    assert [d["after"] for d in result["diff"]] == [EXTENSIONS, "(secret content not shown)\n"]
    assert sorted(p.name for p in etc.iterdir()) == ["asterisk"]


def test_not_running_writes_only(etc, capsys):
    commands = cli(etc)
    result, failed = run_module(asterisk_apply.main, params(etc, running=False), capsys, commands)
    assert not failed and result["changed"] and commands.calls == []


def test_an_asterisk_that_does_not_answer_gets_its_previous_files_back(etc, capsys):
    run_module(asterisk_apply.main, params(etc), capsys, cli(etc))
    before = {p.name: p.read_bytes() for p in etc.iterdir()}
    commands = cli(etc, modules="Unable to connect to remote asterisk (does /var/run/asterisk/asterisk.ctl exist?)\n")
    result, failed = run_module(asterisk_apply.main, params(etc, secrets={"voicemail.conf": "1001 => 7351\n"}),
                                capsys, commands)
    assert failed and result["msg"].startswith("Asterisk does not answer `module show`")
    assert "The previous files were restored" in result["msg"]
    assert {p.name: p.read_bytes() for p in etc.iterdir()} == before


# --- the core concern: files, drop-in, service, reload or restart, verify, roll back -------------

CLI = os.path.join(os.path.dirname(__file__), "..", "module_utils", "fixtures", "audit", "converged16", "cli")
CORE_VERIFY = {"kind": "core", "rtp_start": 10000, "rtp_end": 20000, "security_file": "security.log",
               "manager_enabled": False, "manager_bindaddr": "127.0.0.1", "http_enabled": False, "maxfiles": 1024}
CORE_RELOAD = {"logger.conf": "logger", "rtp.conf": "res_rtp_asterisk.so", "manager.conf": "manager"}


class CoreHost:
    """systemd and a running (or stopped) Asterisk 16 answering the verify commands from captured output."""

    def __init__(self, etc, active=True, enabled=True, rtp_start=10000, installed="16.28.0~dfsg-0+deb11u4"):
        self.etc, self.active, self.enabled, self.calls = etc, active, enabled, []
        self.rtp_start, self.installed, self.running_version = rtp_start, installed, "16.28.0~dfsg-0+deb11u4"

    def __call__(self, args, **_kwargs):
        self.calls.append(list(args))
        if args[0] == "systemctl":
            verb = args[1]
            if verb == "is-active":
                return (0 if self.active else 3), "active\n" if self.active else "inactive\n", ""
            if verb == "is-enabled":
                return (0 if self.enabled else 1), "enabled\n" if self.enabled else "disabled\n", ""
            if verb in ("start", "restart"):
                self.active, self.running_version = True, self.installed
            elif verb == "stop":
                self.active = False
            elif verb in ("enable", "disable"):
                self.enabled = verb == "enable"
            return 0, "", ""
        if args[1] == "-V":
            return 0, "Asterisk %s\n" % self.installed, ""
        if not self.active:
            return 1, "", "Unable to connect to remote asterisk"
        command = args[2]
        if command == "module show":
            return 0, MODULES.replace("app_voicemail.so ", "res_rtp_asterisk.so"), ""
        if command == "core show version":
            return 0, "Asterisk %s built by nobody\n" % self.running_version, ""
        if command == "core waitfullybooted":
            return 0, "Asterisk has fully booted.\n", ""
        if command.startswith(("module reload", "logger reload")):
            return 0, "", ""
        name = command.replace(" ", "_") + ".txt"
        with open(os.path.join(CLI, name), encoding="utf-8") as handle:
            text = handle.read()
        if command == "rtp show settings":
            text = text.replace("10000", str(self.rtp_start))
        return 0, text, ""

    def cli(self):
        """The CLI commands asked (asterisk -rx), in order."""
        return [c[2] for c in self.calls if c[0] != "systemctl" and len(c) > 2]

    def actions(self):
        """What changed the host: systemctl verbs and CLI commands other than reads."""
        reads = ("module show", "core show version", "core waitfullybooted") + CORE_COMMANDS
        return ([" ".join(c[1:3]) for c in self.calls if c[0] == "systemctl" and c[1] not in ("is-active", "is-enabled")]
                + [command for command in self.cli() if command not in reads])


CORE_COMMANDS = ("rtp show settings", "logger show channels", "manager show settings", "http show status",
                 "core show settings")


def core(etc, **extra):
    (etc / "units").mkdir(exist_ok=True)
    return dict(dict(dir=str(etc), files={"rtp.conf": "[general]\nrtpstart = 10000\n", "asterisk.conf": "[options]\n"},
                     owner=ME[0], group=ME[1], binary=str(etc / "asterisk"), reload=CORE_RELOAD,
                     restart_files=["asterisk.conf"], service={"enabled": True}, verify=CORE_VERIFY,
                     units={str(etc / "units" / "vpbx-hardened.conf"): "[Service]\nUMask=0027\n"},
                     log_file=str(etc / "messages.log")), **extra)


def converged(etc, capsys):
    host = CoreHost(etc)
    result, failed = run_module(asterisk_apply.main, core(etc), capsys, host)
    assert not failed, result
    return result


@pytest.mark.parametrize("change, actions, restarted", [
    ({}, [], False),                                                     # a re-run: verify only
    ({"rtp.conf": "[general]\nrtpstart = 10000\n; tuned\n"}, ["module reload res_rtp_asterisk.so"], False),
    ({"logger.conf": "[logfiles]\n"}, ["logger reload"], False),
    ({"manager.conf": "[general]\nenabled = no\n"}, ["module reload manager"], False),
    ({"asterisk.conf": "[options]\nmaxcalls = 10\n"}, ["restart asterisk"], True),   # read only at start
])
def test_a_core_change_is_reloaded_and_only_asterisk_conf_restarts(etc, capsys, change, actions, restarted):
    converged(etc, capsys)
    host = CoreHost(etc)
    files = dict(core(etc)["files"], **change)
    result, failed = run_module(asterisk_apply.main, core(etc, files=files), capsys, host)
    assert not failed, result
    assert host.actions() == actions and result["restarted"] is restarted
    assert [command for command in host.cli() if command in CORE_COMMANDS] == list(CORE_COMMANDS)


def test_a_stopped_asterisk_is_enabled_and_started_not_restarted(etc, capsys):
    host = CoreHost(etc, active=False, enabled=False)
    result, failed = run_module(asterisk_apply.main, core(etc), capsys, host)
    assert not failed and result["restarted"], result
    assert host.actions() == ["daemon-reload", "enable asterisk", "start asterisk"]


def test_a_changed_drop_in_reloads_systemd_and_restarts(etc, capsys):
    converged(etc, capsys)
    host = CoreHost(etc)
    units = {str(etc / "units" / "vpbx-hardened.conf"): "[Service]\nUMask=0077\n"}
    result, failed = run_module(asterisk_apply.main, core(etc, units=units), capsys, host)
    assert not failed and host.actions() == ["daemon-reload", "restart asterisk"], (result, host.calls)


def test_an_upgrade_not_running_yet_restarts_asterisk(etc, capsys):
    converged(etc, capsys)
    host = CoreHost(etc, installed="16.28.0~dfsg-0+deb11u5")
    result, failed = run_module(asterisk_apply.main, core(etc), capsys, host)
    assert not failed and host.actions() == ["restart asterisk"], result


def test_a_disabled_service_is_stopped_and_not_verified(etc, capsys):
    host = CoreHost(etc)
    result, failed = run_module(asterisk_apply.main, core(etc, service={"enabled": False}), capsys, host)
    assert not failed and result["changed"], result
    assert host.actions() == ["daemon-reload", "stop asterisk", "disable asterisk"]
    assert not [command for command in host.cli() if command in CORE_COMMANDS]


def test_check_mode_with_a_change_pending_says_so_instead_of_verifying(etc, capsys):
    converged(etc, capsys)
    host = CoreHost(etc)
    files = dict(core(etc)["files"], **{"rtp.conf": "[general]\nrtpstart = 12000\n"})
    result, failed = run_module(asterisk_apply.main, core(etc, files=files), capsys, host, check_mode=True, diff=True)
    assert not failed and result["changed"] and "the running Asterisk still runs the current one" in result["msg"]
    assert host.actions() == [] and (etc / "rtp.conf").read_text() == "[general]\nrtpstart = 10000\n"
    # Without a change pending, check mode verifies like a run: here the positive control - the
    # running Asterisk on another range fails it.
    result, failed = run_module(asterisk_apply.main, core(etc), capsys, CoreHost(etc, rtp_start=15000),
                                check_mode=True)
    assert failed and "does not use the rendered configuration" in result["msg"] and "15000" in result["msg"]


def test_a_running_asterisk_that_does_not_run_the_files_gets_the_previous_ones_back(etc, capsys):
    converged(etc, capsys)
    host = CoreHost(etc, rtp_start=15000)  # whatever is written, Asterisk shows another range
    files = dict(core(etc)["files"], **{"rtp.conf": "[general]\nrtpstart = 10000\n; new\n"})
    result, failed = run_module(asterisk_apply.main, core(etc, files=files), capsys, host)
    assert failed and "The running Asterisk does not use the rendered configuration" in result["msg"]
    assert "The previous files were restored and res_rtp_asterisk.so reloaded on them" in result["msg"]
    assert (etc / "rtp.conf").read_text() == "[general]\nrtpstart = 10000\n"
    assert host.actions() == ["module reload res_rtp_asterisk.so", "module reload res_rtp_asterisk.so"]


def test_a_failed_verify_after_a_start_stops_asterisk_again(etc, capsys):
    # A fresh host: stopped, disabled; the running Asterisk does not show the files (a capped
    # open-file limit, say). The new files are removed and Asterisk is not left running on nothing.
    host = CoreHost(etc, active=False, enabled=False, rtp_start=15000)
    result, failed = run_module(asterisk_apply.main, core(etc), capsys, host)
    assert failed and "started by this run, stopped again" in result["msg"], result
    assert host.actions()[-2:] == ["stop asterisk", "disable asterisk"] and not host.active
    assert not (etc / "rtp.conf").exists()


def test_check_mode_without_a_service_changes_and_asks_nothing(etc, capsys):
    """The dialplan's run (no `service`): check mode exits after the comparison, as a run would
    only write - not even `dialplan show` against an Asterisk that may not run."""
    commands = cli(etc)
    result, failed = run_module(asterisk_apply.main, params(etc), capsys, commands, check_mode=True)
    assert not failed and result["changed"] and commands.calls == [], result


class TimerHost(Commands):
    """The dialplan host of cli() with systemd's answers for one timer (`enabled`, `active`)."""

    def __init__(self, etc, enabled=False, active=False):
        super().__init__(cli(etc).answers)
        self.state = {"enabled": "enabled" if enabled else "disabled", "active": "active" if active else "inactive"}
        self.answers[("systemctl", "daemon-reload")] = (0, "", "")
        self.answers["systemctl"] = self.systemctl

    def systemctl(self, args):
        if args[1] in ("is-enabled", "is-active"):
            return 0, self.state[args[1][3:]] + "\n", ""
        if args[1] in ("enable", "disable"):
            on = args[1] == "enable"
            self.state = {"enabled": "enabled" if on else "disabled", "active": "active" if on else "inactive"}
            return 0, "", ""
        raise AssertionError("unexpected systemctl %r" % (args,))

    def systemd(self):
        return [" ".join(c[1:]) for c in self.calls if c[0] == "systemctl" and not c[1].startswith("is-")]


def beside(etc):
    """Where a test's host files go: beside the configuration directory, not in it."""
    return etc.parent / (etc.name + "-host")


def pruning(etc, **extra):
    """The dialplan's run with the recordings' pruning: a script and its units outside the directory."""
    units = beside(etc) / "systemd"
    units.mkdir(parents=True, exist_ok=True)
    host_files = {str(beside(etc) / "sbin" / "prune"): {"content": "#!/bin/sh\n# vpbx.hardened\n", "mode": "0755"},
                  str(units / "prune.service"): {"content": "# vpbx.hardened\n[Service]\nType=oneshot\n"},
                  str(units / "prune.timer"): {"content": "# vpbx.hardened\n[Timer]\nOnCalendar=hourly\n"}}
    return params(etc, **dict({"host_files": host_files, "timers": {"prune.timer": True}}, **extra))


def test_a_timer_is_written_outside_the_directory_and_started_without_touching_asterisk(etc, capsys):
    host = TimerHost(etc)
    result, failed = run_module(asterisk_apply.main, pruning(etc), capsys, host)
    assert not failed, result
    assert host.systemd() == ["daemon-reload", "enable --now prune.timer"], host.calls
    assert result["timers"] == {"prune.timer": "enabled"} and not result["restarted"]
    assert oct((beside(etc) / "sbin" / "prune").stat().st_mode & 0o777) == "0o755"
    assert oct((beside(etc) / "systemd" / "prune.timer").stat().st_mode & 0o777) == "0o644"
    # A re-run: nothing written, nothing started (the positive control above shows it would be).
    host = TimerHost(etc, enabled=True, active=True)
    result, failed = run_module(asterisk_apply.main, pruning(etc), capsys, host)
    assert not failed and not result["changed"] and host.systemd() == [], (result, host.calls)
    # A stopped timer is started again, nothing rewritten.
    host = TimerHost(etc, enabled=True, active=False)
    result, failed = run_module(asterisk_apply.main, pruning(etc), capsys, host)
    assert not failed and result["changed"] and host.systemd() == ["enable --now prune.timer"], result


def test_check_mode_says_the_timer_would_start_and_starts_nothing(etc, capsys):
    host = TimerHost(etc)
    result, failed = run_module(asterisk_apply.main, pruning(etc), capsys, host, check_mode=True)
    assert not failed and result["changed"] and result["timers"] == {"prune.timer": "enabled"}, result
    assert host.systemd() == [] and not (beside(etc) / "sbin" / "prune").exists()


def test_a_timer_switched_off_is_stopped_and_its_marked_files_removed(etc, capsys):
    run_module(asterisk_apply.main, pruning(etc), capsys, TimerHost(etc))
    (beside(etc) / "systemd" / "user.timer").write_text("[Timer]\nOnCalendar=daily\n")  # the user's: no marker
    paths = [str(beside(etc) / "systemd" / name) for name in ("prune.timer", "prune.service", "user.timer")]
    host = TimerHost(etc, enabled=True, active=True)
    result, failed = run_module(asterisk_apply.main, pruning(etc, host_files={}, host_files_absent=paths,
                                                             timers={"prune.timer": False}), capsys, host)
    assert not failed and result["changed"], result
    assert host.systemd() == ["disable --now prune.timer", "daemon-reload"], host.calls
    assert sorted(result["retired"]) == sorted(paths[:2])
    assert not os.path.exists(paths[0]) and not os.path.exists(paths[1]) and os.path.exists(paths[2])


def test_a_failed_verify_takes_the_timer_files_back_and_starts_nothing(etc, capsys):
    host = TimerHost(etc)
    host.answers[(str(etc / "asterisk"), "-rx", "dialplan show")] = (0, SHOW.replace("office", "elsewhere"), "")
    result, failed = run_module(asterisk_apply.main, pruning(etc), capsys, host)
    assert failed, result
    assert not (beside(etc) / "systemd" / "prune.timer").exists() and "enable --now prune.timer" not in host.systemd()


@pytest.mark.parametrize("option, value, expected", [
    ("host_files", {"relative/prune": {"content": "x"}}, "host_files: 'relative/prune' must be an absolute path"),
    ("host_files", {"/usr/local/sbin/prune": "x"}, "host_files: '/usr/local/sbin/prune' needs content"),
    ("host_files_absent", ["prune.timer"], "host_files_absent: 'prune.timer' must be an absolute path"),
    ("timers", {"prune.service": True}, "timers: 'prune.service' is not a timer unit name"),
])
def test_a_bad_timer_option_is_refused_by_name(etc, capsys, option, value, expected):
    result, failed = run_module(asterisk_apply.main, params(etc, **{option: value}), capsys, TimerHost(etc))
    assert failed and result["msg"].startswith(expected), result
    # The positive control: the same run without the bad option succeeds.
    result, failed = run_module(asterisk_apply.main, params(etc), capsys, TimerHost(etc))
    assert not failed, result


def test_a_host_file_inside_the_directory_is_refused(etc, capsys):
    inside = str(etc / "vpbx-prune.conf")
    result, failed = run_module(asterisk_apply.main, params(etc, host_files={inside: {"content": "x"}}), capsys,
                                TimerHost(etc))
    assert failed and result["msg"] == "host_files: %r must be an absolute path of a file outside %s" % (inside, etc)
    assert not os.path.exists(inside)


PEERS_RELOADING = "Name/username  Host  Dyn Forcerport ACL Port Status\n1001  (Unspecified)  D  Yes  A  0  Unmonitored\n" \
                  "1 sip peers [Monitored: 0 online, 0 offline Unmonitored: 0 online, 1 offline]\n"
PEERS_RELOADED = PEERS_RELOADING.replace("1 sip peers", "1002  (Unspecified)  D  Yes  A  0  Unmonitored\n2 sip peers")


def chan_sip_run(etc, monkeypatch, settle):
    """A changed sip.conf reloaded while chan_sip still shows the peers it is rebuilding (its first
    `sip show peers`), then all of them."""
    monkeypatch.setattr(asterisk_apply, "CHAN_SIP_SETTLE", settle)
    monkeypatch.setattr(asterisk_apply.time, "sleep", lambda _s: None)
    binary = str(etc / "asterisk")
    shown = iter([PEERS_RELOADING] + [PEERS_RELOADED] * 5)
    commands = Commands({(binary, "-rx", "module show"): (0, MODULES.replace("app_voicemail.so ", "chan_sip.so     "),
                                                          ""),
                         (binary, "-rx", "module reload chan_sip.so"): (0, "", ""),
                         (binary, "-rx", "sip show peers"): lambda _args: (0, next(shown), ""),
                         (binary, "-rx", "sip show registry"): (0, "0 SIP registrations.\n", "")})
    args = dict(dir=str(etc), name="chan_sip", files={"sip.conf": "[general]\n; vpbx.hardened\n"}, owner=ME[0],
                group=ME[1], binary=binary, reload={"sip.conf": "chan_sip.so"}, log_file=str(etc / "messages.log"),
                verify={"kind": "sip", "driver": "chan_sip", "endpoints": ["1001", "1002"], "registrations": []})
    return commands, args


def test_a_chan_sip_reload_is_read_back_until_it_shows_the_new_peers(etc, capsys, monkeypatch):
    commands, args = chan_sip_run(etc, monkeypatch, settle=10)
    result, failed = run_module(asterisk_apply.main, args, capsys, commands)
    assert not failed, result
    assert [c[2] for c in commands.calls].count("sip show peers") == 2
    # The positive control: without the wait the same half-reloaded answer fails the run.
    commands, args = chan_sip_run(etc, monkeypatch, settle=0)
    (etc / "sip.conf").write_text("[general]\n; older\n")
    result, failed = run_module(asterisk_apply.main, args, capsys, commands)
    assert failed and "chan_sip runs endpoints ['1001']" in result["msg"], result


def test_a_host_directory_is_created_with_its_owner_and_mode_and_then_left_alone(etc, capsys):
    path = beside(etc) / "cdr-csv"
    wanted = {str(path): {"owner": ME[0], "group": ME[1], "mode": "0750"}}
    result, failed = run_module(asterisk_apply.main, params(etc, host_dirs=wanted), capsys, cli(etc), check_mode=True)
    assert not failed and result["changed"] and result["changed_dirs"] == [str(path)] and not path.exists(), result
    result, failed = run_module(asterisk_apply.main, params(etc, host_dirs=wanted), capsys, cli(etc))
    assert not failed and result["changed_dirs"] == [str(path)], result
    assert path.is_dir() and oct(path.stat().st_mode & 0o777) == "0o750"
    # A re-run changes nothing (the run above shows it would); a mode changed by hand is set back.
    result, failed = run_module(asterisk_apply.main, params(etc, host_dirs=wanted), capsys, cli(etc))
    assert not failed and not result["changed"] and result["changed_dirs"] == [], result
    path.chmod(0o777)
    result, failed = run_module(asterisk_apply.main, params(etc, host_dirs=wanted), capsys, cli(etc))
    assert not failed and result["changed_dirs"] == [str(path)] and oct(path.stat().st_mode & 0o777) == "0o750"


@pytest.mark.parametrize("where, message", [
    ("inside", "must be an absolute path of a directory outside"),
    ("file", "exists and is not a directory"),
])
def test_a_host_directory_inside_the_directory_or_over_a_file_is_refused(etc, capsys, where, message):
    path = etc / "cdr-csv" if where == "inside" else beside(etc) / "cdr-csv"
    if where == "file":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("not a directory")
    result, failed = run_module(asterisk_apply.main, params(etc, host_dirs={str(path): {
        "owner": ME[0], "group": ME[1], "mode": "0750"}}), capsys, cli(etc))
    assert failed and message in result["msg"], result
