# SPDX-License-Identifier: GPL-3.0-or-later
"""asterisk_modules: the computed load list is exactly what runs; unused drivers are gone; the
set changes at runtime without a restart; requests of other roles persist; bad input fails
before anything changes."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

NEVER = ["chan_iax2.so", "chan_skinny.so", "chan_mgcp.so", "chan_unistim.so", "pbx_dundi.so", "pbx_lua.so",
         "pbx_ael.so", "app_system.so", "res_pjsip_endpoint_identifier_anonymous.so"]


def name(host):
    return host.check_output("hostname").strip()


def load_list(host):
    conf = host.file("/etc/asterisk/modules.conf").content_string
    assert re.search(r"^autoload = no$", conf, re.M)
    return re.findall(r"^load => (\S+)", conf, re.M)


def loaded(host):
    out = host.check_output("asterisk -rx 'module show'")
    return dict(re.findall(r"^(\S+\.so)\s.*?\s(Running|Not Running|Declined|Failed)\s+\S+\s*$", out, re.M))


def pid(host):
    return host.check_output("systemctl show -p MainPID --value asterisk").strip()


def run_playbook(playbook, limit, *extra):
    cmd = ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], "--limit", limit, playbook, *extra]
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False, env=env)
    return proc.returncode, proc.stdout + proc.stderr


def test_exactly_the_load_list_runs(host):
    wanted = load_list(host)
    running = loaded(host)
    assert set(running) == set(wanted), (set(running) ^ set(wanted))
    assert all(status == "Running" for status in running.values()), running


def test_unused_drivers_and_demos_not_loaded(host):
    running = loaded(host)
    for module in NEVER:
        assert module not in running
    sockets = host.check_output("ss -Hlnut")
    for port in (4569, 2000, 2727, 5038):  # IAX2, SCCP, MGCP, AMI
        assert not re.search(r":%d\s" % port, sockets), sockets


def test_feature_sets(host):
    running = loaded(host)
    if name(host) == "pbx16":
        # The reference how-to's modules.conf as one feature set, well under 70 modules.
        for module in ("chan_sip.so", "app_voicemail.so", "app_queue.so", "app_confbridge.so",
                       "app_mixmonitor.so", "res_parking.so", "res_musiconhold.so", "codec_gsm.so"):
            assert module in running
        assert "chan_pjsip.so" not in running
        assert len(running) <= 70, len(running)
        # app_voicemail ships in asterisk-voicemail on Debian 11: the role installed it
        # (asterisk_modules_install_packages: true in molecule.yml).
        assert host.package("asterisk-voicemail").is_installed
    else:
        for module in ("chan_pjsip.so", "res_pjsip.so", "res_pjproject.so", "res_pjsip_refer.so",
                       "res_pjsip_mwi.so", "app_voicemail.so", "app_echo.so"):
            assert module in running
        assert "chan_sip.so" not in host.check_output("ls %s" % "/usr/lib/x86_64-linux-gnu/asterisk/modules")


def test_request_of_another_role_is_stored_and_kept(host):
    stored = json.loads(host.file("/etc/ansible/facts.d/vpbx_asterisk_modules.fact").content_string)
    assert stored["requests"]["vpbx_test"] == ["directory"]
    assert "app_directory.so" in loaded(host)
    # The modules playbook alone (no request this time) keeps what vpbx_test asked for.
    rc, out = run_playbook("vpbx.hardened.modules", host.backend.host)
    assert rc == 0, out[-3000:]
    assert "app_directory.so" in loaded(host)


def only_on_pbx22(host):
    if name(host) != "pbx22":
        pytest.skip("playbook-driven checks run on one host to keep the suite fast (same code path)")


def test_runtime_change_without_restart(host):
    only_on_pbx22(host)
    before = pid(host)
    rc, out = run_playbook("vpbx.hardened.modules", host.backend.host,
                           "-e", json.dumps({"asterisk_modules_extra": ["app_morsecode.so"]}))
    assert rc == 0, out[-3000:]
    assert loaded(host).get("app_morsecode.so") == "Running"
    assert "load => app_morsecode.so" in host.file("/etc/asterisk/modules.conf").content_string
    rc, out = run_playbook("vpbx.hardened.modules", host.backend.host)
    assert rc == 0, out[-3000:]
    assert "app_morsecode.so" not in loaded(host)
    assert pid(host) == before, "the module set changed by restart instead of load/unload"


SNAPSHOT = "find /etc/asterisk -type f -printf '%p %s %m %T@\\n' | sort | sha256sum; asterisk -rx 'module show' | sort | sha256sum"


@pytest.mark.parametrize("extra, message", [
    ({"asterisk_modules_features": ["pjsip", "voicmail"]},
     "asterisk_modules_features[1]: 'voicmail' is not a known feature (did you mean 'voicemail'?)"),
    ({"asterisk_modules_extra": ["app_doesnotexist.so"]}, "asterisk_modules_extra[0]: 'app_doesnotexist.so' is not an installed"),
    ({"asterisk_modules_features": ["mp3"]}, "format_mp3. Install asterisk-mp3"),
])
def test_bad_input_fails_before_any_change(host, extra, message):
    only_on_pbx22(host)
    before = host.check_output(SNAPSHOT)
    extra = dict(extra, asterisk_modules_install_packages=False)
    rc, out = run_playbook("vpbx.hardened.site", host.backend.host, "-e", json.dumps(extra))
    assert rc != 0, out[-3000:]
    assert message in " ".join(out.split()), out[-3000:]
    assert host.check_output(SNAPSHOT) == before


# --- XML documentation (asterisk_modules_trim_documentation, on by default) ---------------------

DOC = "/usr/share/asterisk/documentation/core-en_US.xml"
FULL = DOC + ".distrib"
LOG = "/var/log/asterisk/messages.log"
DOC_WARNINGS = r"in XML documentation|no existing documentation"


def restart(host):
    """Restart through systemd (the drop-in's start check runs) and wait until fully booted."""
    host.check_output("systemctl restart asterisk")
    assert host.run("timeout 60 sh -c 'until asterisk -rx \"core waitfullybooted\" 2>/dev/null | grep -q booted; "
                    "do sleep 1; done'").rc == 0, host.run("systemctl status asterisk; tail -20 %s" % LOG).stdout


def rss_kib(host):
    return int(host.check_output("awk '/^VmRSS/ {print $2}' /proc/%s/status" % pid(host)))


def log_size(host):
    return int(host.check_output("stat -c %%s %s" % LOG))


def log_since(host, offset):
    return host.check_output("tail -c +%d %s" % (offset + 1, LOG))


def test_documentation_is_trimmed_and_the_package_file_diverted(host):
    assert host.check_output("dpkg-divert --truename %s" % DOC) == FULL
    full_sha = host.check_output("sha256sum %s" % FULL).split()[0]
    doc = host.file(DOC)
    assert "source sha256 %s" % full_sha in doc.content_string[:512]
    assert doc.size < 0.6 * host.file(FULL).size, (doc.size, host.file(FULL).size)
    assert (doc.user, doc.group, doc.mode) == ("root", "root", 0o644)
    # What the PBX runs is documented; what it does not load is not (app_festival is installed,
    # never loaded by these feature sets).
    assert 'name="Dial"' in doc.content_string and 'name="Festival"' not in doc.content_string
    assert 'name="Festival"' in host.file(FULL).content_string
    # The package's own file is intact at its diverted place: dpkg's verification finds nothing.
    assert "core-en_US.xml" not in host.run("dpkg -V asterisk").stdout
    assert "core-en_US.xml.distrib" in host.check_output("systemctl show -p ExecStartPre --value asterisk")


def test_asterisk_starts_on_the_trimmed_documentation_with_less_memory(host):
    """A restart on the trimmed file: the whole module set runs, every help text it looks up is
    there, and it takes less memory than on the full file - which the drop-in puts back when the
    package changes the full file (simulated upgrade), until the role trims again."""
    offset = log_size(host)
    restart(host)
    running = loaded(host)
    assert set(running) == set(load_list(host)) and all(s == "Running" for s in running.values()), running
    assert not re.search(DOC_WARNINGS, log_since(host, offset)), log_since(host, offset)[-3000:]
    # The help text comes from the documentation (colour codes and trailing blanks removed).
    help_text = re.sub(r"\x1b\[[0-9;]*m| +(?=\n)", "", host.check_output("asterisk -rx 'core show application Dial'"))
    assert "[Synopsis]\nAttempt to connect to another device" in help_text, help_text
    trimmed = rss_kib(host)

    original = host.check_output("sha256sum %s" % FULL).split()[0]
    host.check_output("cp -p %s /root/full.saved && echo '<!-- a newer package -->' >> %s" % (FULL, FULL))
    try:
        restart(host)
        assert host.run("cmp %s %s" % (DOC, FULL)).rc == 0, "the start check did not restore the full file"
        full = rss_kib(host)
        assert set(loaded(host)) == set(running)
        # Debian's full file costs about 19 MiB here; 10 MiB is far above run-to-run noise (< 1 MiB).
        assert full - trimmed > 10 * 1024, (trimmed, full)
        # No copy at all (a run interrupted right after the diversion): the start check puts the
        # full file there, readable by Asterisk's user despite the service's UMask.
        host.check_output("rm -f %s" % DOC)
        restart(host)
        assert host.run("cmp %s %s" % (DOC, FULL)).rc == 0
        assert host.file(DOC).mode == 0o644
        assert set(loaded(host)) == set(running)
    finally:
        host.check_output("cp -p /root/full.saved %s && rm -f /root/full.saved" % FULL)
    assert host.check_output("sha256sum %s" % FULL).split()[0] == original
    # The role trims again (the running Asterisk still registers the same set).
    rc, out = run_playbook("vpbx.hardened.modules", host.backend.host)
    assert rc == 0, out[-3000:]
    assert "source sha256 %s" % original in host.file(DOC).content_string[:512]


def test_trimming_off_gives_the_package_its_file_back(host):
    only_on_pbx22(host)
    rc, out = run_playbook("vpbx.hardened.modules", host.backend.host,
                           "-e", json.dumps({"asterisk_modules_trim_documentation": False}))
    assert rc == 0, out[-3000:]
    try:
        assert host.check_output("dpkg-divert --truename %s" % DOC) == DOC
        assert not host.file(FULL).exists
        assert "source sha256" not in host.file(DOC).content_string[:512]
        assert "core-en_US.xml" not in host.run("dpkg -V asterisk").stdout  # the package's file, unchanged
        assert not host.file("/etc/systemd/system/asterisk.service.d/vpbx-documentation.conf").exists
        assert "core-en_US.xml" not in host.check_output("systemctl show -p ExecStartPre --value asterisk")
    finally:
        rc, out = run_playbook("vpbx.hardened.modules", host.backend.host)
        assert rc == 0, out[-3000:]
    assert host.check_output("dpkg-divert --truename %s" % DOC) == FULL
