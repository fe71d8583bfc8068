# SPDX-License-Identifier: GPL-3.0-or-later
"""asterisk_modules_apply: one run resolves the set from the installed modules, writes modules.conf
and the stubs, loads and unloads at runtime (a restart only for a refused unload), reads Asterisk
back; the held SIP driver is left as it runs; stored requests of other roles are kept, the
collection's own are dropped; missing modules are installed only where allowed."""

from __future__ import annotations

import grp
import json
import os
import pwd
import re

import pytest

from ansible_collections.vpbx.hardened.plugins.modules import asterisk_modules_apply

from .moduletest import run_module
from .test_asterisk_module import FakeAsterisk

ME = pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
PJSIP = {"res_pjsip.so", "chan_pjsip.so"}


class Host:
    """The host as the module sees it: Asterisk's CLI (a FakeAsterisk, or down), systemctl, apt-get."""

    def __init__(self, conf_dir, asterisk=None, pinned=(), broken=()):
        self.conf_dir, self.asterisk, self.calls = conf_dir, asterisk, []
        if asterisk is not None:
            asterisk.pinned, asterisk.broken = set(pinned), set(broken)

    installed = running_version = "22.10.1+dfsg+~cs6.17.60671434-1"

    def __call__(self, args, **kwargs):
        self.calls.append(list(args))
        if args[1:] == ["-V"]:
            return 0, "Asterisk %s\n" % self.installed, ""
        if args[0] in ("systemctl", "apt-get"):
            if args[:2] == ["systemctl", "restart"]:
                # Asterisk starts again with exactly what modules.conf lists.
                text = open(os.path.join(self.conf_dir, "modules.conf"), encoding="utf-8").read()
                self.asterisk.loaded = dict.fromkeys(re.findall(r"^load => (\S+)", text, re.M), "Running")
            return 0, "", ""
        if self.asterisk is None:
            return 1, "", "Unable to connect to remote asterisk (does /var/run/asterisk/asterisk.ctl exist?)"
        if args[2] == "core waitfullybooted":
            return 0, "Asterisk has fully booted.\n", ""
        if args[2] == "core show version":
            return 0, "Asterisk %s built by nobody\n" % self.running_version, ""
        return self.asterisk(args, **kwargs)

    def cli(self):
        return [call[2] for call in self.calls if call[0] != "systemctl" and call[0] != "apt-get" and len(call) > 2
                and call[2] not in ("module show", "core waitfullybooted", "core show version")]


@pytest.fixture
def env(tmp_path, module_dir):
    (tmp_path / "asterisk").write_text("")
    (tmp_path / "etc").mkdir()
    return tmp_path


def apply(capsys, env, host, check_mode=False, **params):
    args = dict(module_dir=str(env / "modules"), binary=str(env / "asterisk"), conf_dir=str(env / "etc"),
                requests_file=str(env / "facts.d" / "requests.fact"), owner=ME[0], group=ME[1], major=22,
                log_file=str(env / "messages.log"), stubs={"extensions.conf": "; closed\n"},
                own_requesters=["asterisk", "asterisk_sip", "asterisk_dialplan"])
    args.update(params)
    return run_module(asterisk_modules_apply.main, args, capsys, host, check_mode=check_mode, diff=True)


def load_list(env):
    return re.findall(r"^load => (\S+)", (env / "etc" / "modules.conf").read_text(), re.M)


def test_asterisk_down_modules_conf_and_stubs_are_written_and_nothing_is_loaded(capsys, env):
    host = Host(str(env / "etc"))
    result, failed = apply(capsys, env, host, features=["echo_test"])
    assert not failed and result["changed"] and not result["running"], result
    assert result["to_load"] == [] and host.cli() == []
    text = (env / "etc" / "modules.conf").read_text()
    assert text.startswith(";\n; Ansible managed\n;\n; vpbx.hardened: rendered by the vpbx.hardened.asterisk_modules role")
    assert "autoload = no\n" in text and "load => app_echo.so ; feature echo_test\n" in text
    assert load_list(env) == result["modules"]
    # pbx_config (core) needs extensions.conf: the stub, only because no file exists.
    assert (env / "etc" / "extensions.conf").read_text() == "; closed\n"
    (env / "etc" / "extensions.conf").write_text("[office]\n")
    result, failed = apply(capsys, env, Host(str(env / "etc")), features=["echo_test"])
    assert not failed and not result["changed"], result
    assert (env / "etc" / "extensions.conf").read_text() == "[office]\n"


def test_a_running_asterisk_gets_exactly_the_set_without_a_restart(capsys, env):
    fake = FakeAsterisk(["pbx_config.so", "chan_iax2.so"])
    host = Host(str(env / "etc"), fake)
    result, failed = apply(capsys, env, host, features=["echo_test"])
    assert not failed, result
    assert result["to_unload"] == ["chan_iax2.so"] and "app_echo.so" in result["to_load"]
    assert host.cli()[0] == "module unload chan_iax2.so"  # unload first: resources freed
    assert set(fake.loaded) == set(load_list(env)) and not result["restarted"]
    assert not [call for call in host.calls if call[0] == "systemctl"]
    # The second run finds everything as wanted: no load, no unload, no write.
    host = Host(str(env / "etc"), fake)
    result, failed = apply(capsys, env, host, features=["echo_test"])
    assert not failed and not result["changed"] and host.cli() == [], result


def test_check_mode_writes_loads_and_unloads_nothing(capsys, env):
    fake = FakeAsterisk(["pbx_config.so", "chan_iax2.so"])
    host = Host(str(env / "etc"), fake)
    result, failed = apply(capsys, env, host, check_mode=True, features=["echo_test"])
    assert not failed and result["changed"] and result["to_unload"] == ["chan_iax2.so"], result
    assert host.cli() == [] and not (env / "etc" / "modules.conf").exists()
    assert any(d["after_header"] == "running modules" for d in result["diff"])


@pytest.mark.parametrize("hold", [[], ["pjsip"]])
def test_the_held_driver_is_neither_loaded_nor_unloaded(capsys, env, hold):
    # Loading: PJSIP wanted, not running. Held, it stays out (and out of modules.conf); not held
    # (the positive control), it is loaded.
    fake = FakeAsterisk(["pbx_config.so"])
    result, failed = apply(capsys, env, Host(str(env / "etc"), fake), features=["pjsip"], hold=hold)
    assert not failed, result
    assert (PJSIP <= set(fake.loaded)) is (not hold)
    assert (PJSIP <= set(load_list(env))) is (not hold)
    # Unloading: PJSIP runs but is no longer wanted. Held, it keeps running and stays listed.
    fake = FakeAsterisk(list(result["loaded"]) + (sorted(PJSIP) if hold else []))
    result, failed = apply(capsys, env, Host(str(env / "etc"), fake), features=["echo_test"], hold=hold)
    assert not failed, result
    assert (PJSIP <= set(fake.loaded)) is bool(hold)
    assert (PJSIP <= set(load_list(env))) is bool(hold)


def test_a_refused_unload_restarts_asterisk_on_the_new_modules_conf(capsys, env):
    fake = FakeAsterisk(["pbx_config.so", "chan_iax2.so"])
    host = Host(str(env / "etc"), fake, pinned=["chan_iax2.so"])
    result, failed = apply(capsys, env, host, features=["echo_test"])
    assert not failed, result
    assert result["refused"] == ["chan_iax2.so"] and result["restarted"]
    assert ["systemctl", "restart", "asterisk"] in host.calls
    assert "chan_iax2.so" not in fake.loaded and set(fake.loaded) == set(load_list(env))


def test_a_module_that_needs_anothers_symbols_is_loaded_again_after_it(capsys, env):
    # res_odbc declares res_odbc_transaction a requirement, but res_odbc_transaction needs res_odbc's
    # symbols: in the declared order its `module load` fails first; tried again after, it loads.
    fake = FakeAsterisk(["pbx_config.so"], needs={"res_odbc_transaction.so": "res_odbc.so"})
    result, failed = apply(capsys, env, Host(str(env / "etc"), fake), features=["cdr_database"])
    assert not failed, result
    assert {"res_odbc.so", "res_odbc_transaction.so", "cdr_adaptive_odbc.so"} <= set(fake.loaded)
    loads = [c for c in fake.commands if c.startswith("module load res_odbc")]
    assert loads == ["module load res_odbc_transaction.so", "module load res_odbc.so",
                     "module load res_odbc_transaction.so"], loads
    # A module that never loads still fails the run, after its second try.
    fake = FakeAsterisk(["pbx_config.so"], needs={"res_odbc_transaction.so": "no_such.so"})
    result, failed = apply(capsys, env, Host(str(env / "etc"), fake), features=["cdr_database"])
    assert failed and "module load res_odbc_transaction.so failed" in result["msg"], result


def test_a_module_that_does_not_run_fails_the_run_with_what_asterisk_logged(capsys, env):
    (env / "messages.log").write_text("[Dec  7] WARNING[1]: app_echo.so: something it needs is missing\n")
    fake = FakeAsterisk(["pbx_config.so"])
    result, failed = apply(capsys, env, Host(str(env / "etc"), fake, broken=["app_echo.so"]), features=["echo_test"])
    assert failed and "app_echo.so is Not Running" in result["msg"]
    assert "something it needs is missing" in result["msg"]


def test_stored_requests_of_other_roles_are_kept_and_the_collections_dropped(capsys, env):
    os.makedirs(env / "facts.d")
    (env / "facts.d" / "requests.fact").write_text(json.dumps(
        {"requests": {"asterisk_sip": ["pjsip"], "vpbx_test": ["directory"]}}))
    fake = FakeAsterisk(["pbx_config.so"])
    result, failed = apply(capsys, env, Host(str(env / "etc"), fake))
    assert not failed, result
    assert json.loads((env / "facts.d" / "requests.fact").read_text()) == {"requests": {"vpbx_test": ["directory"]}}
    assert "app_directory.so" in fake.loaded and not PJSIP & set(fake.loaded)
    assert "; Requested by roles: vpbx_test (directory)\n" in (env / "etc" / "modules.conf").read_text()
    # A new request of the same role replaces its earlier one; the collection's roles may not store any.
    result, failed = apply(capsys, env, Host(str(env / "etc"), fake), requester="vpbx_test", request=["echo_test"])
    assert not failed and result["requests"] == {"vpbx_test": ["echo_test"]}
    assert "app_echo.so" in fake.loaded and "app_directory.so" not in fake.loaded
    result, failed = apply(capsys, env, Host(str(env / "etc"), fake), requester="asterisk_sip", request=["pjsip"])
    assert failed and "requester: asterisk_sip is one of the collection's roles" in result["msg"]


def test_no_request_file_is_created_without_a_request(capsys, env):
    result, failed = apply(capsys, env, Host(str(env / "etc")), features=["echo_test"])
    assert not failed and not (env / "facts.d").exists(), result


@pytest.mark.parametrize("install_packages, installable, installed", [
    (False, [], False),          # refused, naming the package: nothing written
    (True, [], True),            # asterisk_modules_install_packages
    (False, ["mp3"], True),      # a feature whose role may install (the dialplan's)
])
def test_missing_modules_are_installed_only_where_allowed(capsys, env, install_packages, installable, installed):
    host = Host(str(env / "etc"))
    result, failed = apply(capsys, env, host, features=["mp3"], install_packages=install_packages,
                           installable=installable)
    apt = [call for call in host.calls if call[0] == "apt-get"]
    if installed:
        # The fake apt-get installs nothing: the module says so after trying.
        assert apt and apt[0][-1] == "asterisk-mp3"
        assert failed and "Still missing after installing asterisk-mp3: format_mp3" in result["msg"]
    else:
        assert not apt and failed
        assert "needed but not installed: format_mp3. Install asterisk-mp3" in result["msg"]
    assert not (env / "etc" / "modules.conf").exists()


def test_autoload_mode_lists_what_never_loads_and_unloads_only_that(capsys, env):
    fake = FakeAsterisk(["pbx_config.so", "chan_iax2.so", "app_echo.so"])
    result, failed = apply(capsys, env, Host(str(env / "etc"), fake), mode="autoload", exclude=["chan_iax2"])
    assert not failed and result["to_unload"] == ["chan_iax2.so"], result
    text = (env / "etc" / "modules.conf").read_text()
    assert "autoload = yes\nnoload => chan_iax2.so\n" in text and "app_echo.so" in fake.loaded


def test_with_asterisk_stopped_the_held_driver_stays_as_modules_conf_lists_it(capsys, env):
    # Converged with PJSIP (the SIP role's run), then Asterisk is stopped: a run that holds the
    # driver keeps it in modules.conf, so that Asterisk starts with it.
    result, failed = apply(capsys, env, Host(str(env / "etc")), features=["pjsip"])
    assert not failed and PJSIP <= set(load_list(env)), result
    result, failed = apply(capsys, env, Host(str(env / "etc")), features=["pjsip"], hold=["pjsip", "chan_sip"])
    assert not failed and not result["changed"] and PJSIP <= set(load_list(env)), result
    # The positive control: not wanted any more and not held, it goes.
    result, failed = apply(capsys, env, Host(str(env / "etc")), features=["echo_test"])
    assert not failed and not PJSIP & set(load_list(env)), result


def test_what_needs_the_held_driver_is_held_with_it(capsys, env):
    # voicemail with PJSIP brings res_pjsip_mwi, transfer res_pjsip_refer: both need res_pjsip, so
    # a run that holds PJSIP (not running) neither loads nor lists them - Asterisk would refuse them.
    pjsip_extras = {"res_pjsip_mwi.so", "res_pjsip_refer.so"}
    fake = FakeAsterisk(["pbx_config.so"])
    features = ["pjsip", "voicemail", "transfer"]
    result, failed = apply(capsys, env, Host(str(env / "etc"), fake), features=features, hold=["pjsip", "chan_sip"])
    assert not failed, result
    assert not (pjsip_extras | PJSIP) & (set(fake.loaded) | set(load_list(env)))
    assert "app_voicemail.so" in fake.loaded
    # The positive control: the SIP role's run (nothing held) loads them all.
    result, failed = apply(capsys, env, Host(str(env / "etc"), fake), features=features)
    assert not failed and (pjsip_extras | PJSIP) <= set(fake.loaded), result


def test_an_upgrade_not_running_yet_only_writes_modules_conf(capsys, env):
    fake = FakeAsterisk(["pbx_config.so", "chan_iax2.so"])
    host = Host(str(env / "etc"), fake)
    host.installed = "22.11.0+dfsg-1"
    result, failed = apply(capsys, env, host, features=["echo_test"])
    assert not failed and result["upgrade_pending"], result
    assert host.cli() == [] and "chan_iax2.so" in fake.loaded
    assert "load => app_echo.so ; feature echo_test" in (env / "etc" / "modules.conf").read_text()
    # The positive control: the same Asterisk at the installed version gets the set at runtime.
    result, failed = apply(capsys, env, Host(str(env / "etc"), fake), features=["echo_test"])
    assert not failed and not result.get("upgrade_pending") and "chan_iax2.so" not in fake.loaded, result


class DocHost(Host):
    """The Host, with dpkg-divert: `diverted` is where the package's documentation is."""

    def __init__(self, conf_dir, asterisk, doc, diverted=False):
        super().__init__(conf_dir, asterisk)
        self.doc, self.diverted = doc, diverted

    def __call__(self, args, **kwargs):
        if args[0] == "dpkg-divert":
            self.calls.append(list(args))
            if args[1] == "--truename":
                return 0, (self.doc + ".distrib" if self.diverted else self.doc) + "\n", ""
            if "--add" in args:  # --rename: the package's file moves aside
                os.rename(self.doc, self.doc + ".distrib")
                self.diverted = True
            elif "--remove" in args:
                os.rename(self.doc + ".distrib", self.doc)
                self.diverted = False
            return 0, "", ""
        return super().__call__(args, **kwargs)

    def diversions(self):
        return [" ".join(c[1:2] + c[-2:-1]) for c in self.calls if c[0] == "dpkg-divert" and c[1] != "--truename"]


@pytest.fixture
def doc(env, monkeypatch):
    """The package's documentation file, and asterisk_xmldoc.apply recorded (the trimming itself
    is unit-tested in test_asterisk_xmldoc.py)."""
    from ansible_collections.vpbx.hardened.plugins.module_utils import asterisk_xmldoc as xd
    path = env / "doc.xml"
    path.write_bytes(b"<docs>the package's full documentation</docs>\n")
    trims = []

    def trim(_module, target, source, modules, _binary):
        trims.append(sorted(modules))
        with open(source, "rb") as handle:
            data = handle.read()
        with open(target, "w", encoding="utf-8") as handle:
            handle.write(xd.stamp(xd.sha256(data), xd.modules_key(modules)) + "<docs/>\n")
        return {"changed": True, "size": 10, "source_size": len(data)}
    monkeypatch.setattr(xd, "apply", trim)
    return {"path": str(path), "trims": trims}


def test_the_documentation_is_diverted_and_trimmed_once_for_the_set_running(capsys, env, doc):
    fake = FakeAsterisk(["pbx_config.so"])
    spec = {"path": doc["path"], "trim": True}
    host = DocHost(str(env / "etc"), fake, doc["path"])
    result, failed = apply(capsys, env, host, features=["echo_test"], documentation=spec)
    assert not failed, result
    assert host.diversions() == ["--local --add"] and os.path.exists(doc["path"] + ".distrib")
    assert doc["trims"] == [sorted(result["loaded"])] and result["documentation"]["changes"]
    # A re-run: made from this source for these modules - Asterisk is not asked again.
    again = DocHost(str(env / "etc"), fake, doc["path"], diverted=True)
    result, failed = apply(capsys, env, again, features=["echo_test"], documentation=spec)
    assert not failed and result["changed"] is False, result
    assert again.diversions() == [] and len(doc["trims"]) == 1
    # Another set runs (the positive control of the skip): trimmed again.
    result, failed = apply(capsys, env, DocHost(str(env / "etc"), fake, doc["path"], diverted=True),
                           features=["echo_test", "voicemail"], documentation=spec)
    assert not failed and len(doc["trims"]) == 2 and doc["trims"][1] != doc["trims"][0]


def test_with_asterisk_stopped_nothing_is_trimmed(capsys, env, doc):
    host = DocHost(str(env / "etc"), None, doc["path"])
    result, failed = apply(capsys, env, host, features=["echo_test"], documentation={"path": doc["path"]})
    assert not failed, result
    assert host.diversions() == [] and doc["trims"] == []


def test_trimming_off_gives_the_package_its_file_back_and_drops_the_start_check(capsys, env, doc):
    fake = FakeAsterisk(["pbx_config.so"])
    apply(capsys, env, DocHost(str(env / "etc"), fake, doc["path"]), features=["echo_test"],
          documentation={"path": doc["path"]})
    dropin = env / "vpbx-documentation.conf"
    dropin.write_text("[Service]\n")
    host = DocHost(str(env / "etc"), fake, doc["path"], diverted=True)
    result, failed = apply(capsys, env, host, features=["echo_test"],
                           documentation={"path": doc["path"], "trim": False, "dropin": str(dropin)})
    assert not failed and result["changed"], result
    assert host.diversions() == ["--local --remove"] and not dropin.exists()
    assert open(doc["path"], "rb").read() == b"<docs>the package's full documentation</docs>\n"
    assert ["systemctl", "daemon-reload"] in host.calls


def test_only_the_modules_the_plan_needs_are_read(capsys, env, monkeypatch):
    """The catalog reads a module's .so only when the plan asks for its declarations: the wanted
    modules, their dependencies and what runs - not the whole module directory."""
    from ansible_collections.vpbx.hardened.plugins.module_utils import module_catalog

    seen, reader = [], module_catalog.read_module_file
    monkeypatch.setattr(module_catalog, "read_module_file", lambda path: seen.append(path) or reader(path))
    fake = FakeAsterisk(["pbx_config.so", "chan_iax2.so"])
    result, failed = apply(capsys, env, Host(str(env / "etc"), fake), features=["echo_test"], hold=["pjsip"])
    assert not failed, result
    read = {os.path.basename(path)[:-3] for path in seen}
    total = len(os.listdir(env / "modules"))
    assert {"app_echo", "pbx_config", "chan_iax2"} <= read and len(read) < total / 2, (len(read), total)
