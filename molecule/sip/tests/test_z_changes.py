# SPDX-License-Identifier: GPL-3.0-or-later
"""Changes on the converged PBXs (runs after test_sip.py, which tests the converged state):
bad input refused before any change, --diff never showing a secret, a new subscriber applied by
reload, and the chan_sip -> PJSIP switch on Asterisk 16 followed by the client suite on PJSIP."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest
import testinfra

import sipclient
import test_sip

RECAP = re.compile(r"^(?P<host>\S+)\s*:\s*ok=\d+\s+changed=(?P<changed>\d+)\s+unreachable=\d+\s+failed=(?P<failed>\d+)",
                   re.MULTILINE)
SUBSCRIBERS = [
    {"extension": "1001", "name": "Director", "secret": "{{ vault_sip_secrets['1001'] }}"},
    {"extension": "1002", "name": "Secretary", "secret": "{{ vault_sip_secrets['1002'] }}", "voicemail": True,
     "voicemail_pin": "{{ vault_voicemail_pins['1002'] }}"},
    {"extension": "1003", "name": "Elsewhere", "secret": "{{ vault_sip_secrets['1003'] }}",
     "permit": ["172.30.77.200/32"]},
]
# On PJSIP 1003 has a permit of its own again (chan_sip refuses different permits: molecule.yml).
TO_PJSIP = {"asterisk_sip_driver": "pjsip", "asterisk_sip_subscribers": SUBSCRIBERS}
GOOD_SECRET = "Mv6^Tb2&Xw9*Hq4!"


def converge(*args, extra=None, limit=None):
    cmd = ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"],
           os.path.join(sipclient.scenario_dir(), "converge.yml"), *args]
    if limit:
        cmd += ["-l", limit]
    if extra is not None:
        cmd += ["-e", json.dumps(extra)]
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False, env=env)
    return proc.returncode, proc.stdout + proc.stderr


def changed(output):
    return {m.group("host"): int(m.group("changed")) for m in RECAP.finditer(output)}


def snapshot(host):
    return host.check_output("cd /etc/asterisk && find . -type f -exec sha256sum {} + | sort -k2")


def pid(host):
    return host.check_output("systemctl show -p MainPID --value asterisk")


def pbx_host(name):
    return testinfra.get_host("docker://" + name)


BAD_INPUT = [
    ("weak-secret", {"asterisk_sip_subscribers": [{"extension": "1001", "secret": "password1001"}]},
     "asterisk_sip_subscribers[0] (extension 1001).secret:"),
    ("duplicate-extension", {"asterisk_sip_subscribers": [{"extension": "1001", "secret": GOOD_SECRET},
                                                          {"extension": "1001", "secret": GOOD_SECRET}]},
     "asterisk_sip_subscribers[1] (extension 1001).extension: duplicate"),
    ("malformed-network", {"asterisk_sip_subscribers": [{"extension": "1001", "secret": GOOD_SECRET,
                                                         "permit": ["172.30.77.300/32"]}]},
     "asterisk_sip_subscribers[0] (extension 1001).permit[0]: '172.30.77.300/32' is not"),
    ("unknown-codec", {"asterisk_sip_subscribers": [{"extension": "1001", "secret": GOOD_SECRET,
                                                     "codecs": ["alaw", "g729a"]}]},
     "asterisk_sip_subscribers[0] (extension 1001).codecs[1]: 'g729a' is not a known codec"),
    ("chan_sip-on-22", {"asterisk_sip_driver": "chan_sip"},
     "asterisk_sip_driver: chan_sip was removed in Asterisk 21 and this host has Asterisk 22"),
    ("trunk-without-host", {"asterisk_sip_trunks": [{"name": "sipnet", "username": "0049876543",
                                                     "secret": "trunk-Provider-7Xq2"}]},
     "asterisk_sip_trunks[0] (sipnet).host: is missing"),
    # Both drivers on one host: refused on the chan_sip PBX before PJSIP is loaded next to it.
    ("both-drivers", {"asterisk_modules_features": ["pjsip"]},
     "asterisk_sip_driver is chan_sip, but the module set would also load pjsip", "vpbx-sip16"),
]


@pytest.mark.parametrize("extra, message, name", [(c + ("vpbx-sip22",))[1:4] for c in BAD_INPUT],
                         ids=[c[0] for c in BAD_INPUT])
def test_bad_input_fails_before_any_change(extra, message, name):
    host = pbx_host(name)
    before, before_pid = snapshot(host), pid(host)
    rc, output = converge(extra=extra, limit=name)
    assert rc != 0, output[-4000:]
    assert message in output, output[-4000:]
    assert changed(output).get(name) == 0, output[-4000:]
    assert snapshot(host) == before and pid(host) == before_pid


def test_diff_never_shows_a_secret():
    old = sipclient.secrets()
    new = {k: "Rt%d-Kp8!zQw4+Lmx" % i for i, k in enumerate(sorted(old))}
    # -vvv: every task's result is printed with the arguments the module received (invocation).
    rc, output = converge("--check", "--diff", "-vvv", extra={"vault_sip_secrets": new})
    assert rc == 0, output[-4000:]
    # The rotation is seen (the secrets file would change on both PBXs) in the task that also
    # renders the other driver files: one run, no no_log, the secrets passed as a no_log option ...
    blocks = [b for b in output.split("TASK [")
              if b.startswith("vpbx.hardened.asterisk_sip : Apply the driver's files and the module set")]
    assert blocks and all("changed: [vpbx-sip16]" in b and "changed: [vpbx-sip22]" in b for b in blocks), blocks
    assert all("(secret content not shown)" in b and '"module_args"' in b for b in blocks), blocks
    assert all("VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in b for b in blocks), blocks
    assert changed(output)["vpbx-sip16"] > 0 and changed(output)["vpbx-sip22"] > 0
    # ... and neither the old nor the new values appear anywhere in the output.
    for value in list(old.values()) + list(new.values()):
        assert value not in output


def test_new_subscriber_applied_by_reload():
    host = pbx_host("vpbx-sip22")
    before = pid(host)
    secret = "Jr5&Kv8@Lw2#Mx9!"
    subscribers = SUBSCRIBERS + [{"extension": "1004", "name": "New", "secret": secret}]
    rc, output = converge(extra={"asterisk_sip_subscribers": subscribers}, limit="vpbx-sip22,vpbx-sipclient")
    assert rc == 0, output[-4000:]
    assert changed(output)["vpbx-sip22"] > 0
    assert pid(host) == before, "Asterisk was restarted"
    assert re.search(r"^\s*Endpoint:\s+1004/", host.check_output("asterisk -rx 'pjsip show endpoints'"), re.M)
    result = sipclient.sipp("172.30.77.22", "register_auth_ok.xml", "1004", "1004", secret)
    assert result.rc == 0 and result.final == 200, result
    # Taking it away again is a reload too.
    rc, output = converge(extra={"asterisk_sip_subscribers": SUBSCRIBERS}, limit="vpbx-sip22,vpbx-sipclient")
    assert rc == 0 and pid(host) == before, output[-4000:]
    assert "1004" not in host.check_output("asterisk -rx 'pjsip show endpoints'")


def test_driver_switch_chan_sip_to_pjsip_on_asterisk16():
    host = pbx_host("vpbx-sip16")
    before = pid(host)
    assert host.file("/etc/asterisk/sip.conf").exists
    # Check mode first: it must predict the switch without failing or touching anything.
    files = snapshot(host)
    rc, output = converge("--check", "--diff", extra=TO_PJSIP, limit="vpbx-sip16")
    assert rc == 0 and changed(output)["vpbx-sip16"] > 0, output[-6000:]
    assert snapshot(host) == files and pid(host) == before
    rc, output = converge(extra=TO_PJSIP, limit="vpbx-sip16,vpbx-sipclient")
    assert rc == 0, output[-6000:]
    assert pid(host) == before, "the driver switch restarted Asterisk"
    modules = host.check_output("asterisk -rx 'module show like sip'")
    assert "chan_sip.so" not in modules
    assert re.search(r"res_pjsip\.so\s.*Running", modules), modules
    for name in ("sip.conf", "sip_secrets.conf"):
        assert not host.file("/etc/asterisk/" + name).exists
    # The module set comes from the inventory: nothing the collection's roles asked for is stored
    # on the host (only roles outside the collection store requests there).
    assert not host.file("/etc/ansible/facts.d/vpbx_asterisk_modules.fact").exists
    # PJSIP on Asterisk 16: the whole client suite again.
    test_sip.run_client_suite(host, "172.30.77.16", "pjsip", sipclient.secrets())
    # And the switched host is stable: a second run changes nothing.
    rc, output = converge(extra=TO_PJSIP, limit="vpbx-sip16,vpbx-sipclient")
    assert rc == 0 and changed(output)["vpbx-sip16"] == 0, output[-6000:]
