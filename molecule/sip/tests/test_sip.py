# SPDX-License-Identifier: GPL-3.0-or-later
"""Subscribers and trunks seen from a real SIP client: chan_sip on Asterisk 16, PJSIP on
Asterisk 22 (PJSIP on Asterisk 16 is proven by test_z_changes.py after the driver switch).

Each test would fail on a stock configuration: stock chan_sip answers an unknown user with 404
(svwar finds extensions), puts "Asterisk PBX <version>" in User-Agent, and accepts guests into
the dialplan; without the subscribers' ACL 1001 registers from the client's address outside every
permit, and on PJSIP without the per-subscriber ACL the 1003 account registers from anywhere.
Identical answers for known and unknown users, exhaustively: test_answers.py."""

from __future__ import annotations

import re

import pytest

import sipclient


def check_register_ok(ip, secrets):
    result = sipclient.sipp(ip, "register_auth_ok.xml", "1001", "1001", secrets["1001"])
    assert result.rc == 0 and result.final == 200, result


def check_wrong_password_refused(ip, secrets):
    # Not the port 1001 registered from: the PBX's qualify pings go there.
    result = sipclient.sipp(ip, "register_auth_fail.xml", "1001", "1001", secrets["1001"][::-1], port=5074)
    assert result.rc == 0 and result.final in (401, 403), result
    return result


def check_unknown_user_same_as_wrong_password(ip, secrets):
    wrong = check_wrong_password_refused(ip, secrets)
    unknown = sipclient.sipp(ip, "register_auth_fail.xml", "9999", "9999", secrets["1001"][::-1], port=5074)
    assert unknown.rc == 0 and unknown.final == wrong.final, unknown
    wrong_msgs, unknown_msgs = wrong.received(), unknown.received()
    assert len(wrong_msgs) == len(unknown_msgs) >= 2, (wrong, unknown)
    for a, b in zip(wrong_msgs, unknown_msgs):
        assert sipclient.normalized(a) == sipclient.normalized(b)


def outside_reaches_sip(ip):
    return [pbx for pbx in sipclient.PBX.values() if pbx["ip"] == ip][0]["outside_reaches_sip"]


def check_outside_permit_refused(ip, secrets, driver):
    # 1001's secret is right, but the client's second address is outside every permit: refused by
    # the ACL where the firewall lets it through (asterisk_firewall_extra_networks), else dropped.
    result = sipclient.sipp(ip, "register_auth_fail.xml", "1001", "1001", secrets["1001"], source=sipclient.OUTSIDE_IP)
    if outside_reaches_sip(ip):
        assert result.rc == 0 and result.final in (401, 403), result
    else:
        assert result.final is None and result.received() == [], result
    if driver == "pjsip":
        # A permit of one's own (PJSIP only: the model refuses different permits on chan_sip): 1003
        # may only register from 172.30.77.200, the client is inside the others' permit.
        result = sipclient.sipp(ip, "register_auth_fail.xml", "1003", "1003", secrets["1003"])
        assert result.rc == 0 and result.final in (401, 403), result


def check_no_extension_found(ip):
    for method in ("REGISTER", "OPTIONS", "INVITE"):
        output = sipclient.svwar(ip, method)
        # svwar 0.3.3 exits 0 either way: the proof is its result table, and that it got answers.
        assert "found nothing" in output or "Extension" in output, output
        assert sipclient.found_extensions(output) == [], (method, output)
        assert "could not be reached" not in output.lower() and "no server response" not in output.lower(), output


def check_no_version(ip):
    output = sipclient.svmap(ip)
    assert re.search(r"\|\s*%s:5060\s*\|\s*PBX\s*\|" % re.escape(ip), output), output
    probe = sipclient.options_probe(ip)
    assert re.search(r"^SIP/2\.0 \d{3}", probe, flags=re.MULTILINE), probe
    for text in (output, probe):
        assert "asterisk" not in text.lower(), text
        assert not re.search(r"\b(1[0-9]|2[0-9])\.\d+\.\d+", text), text
    assert re.search(r"^Server: PBX\s*$", probe, flags=re.MULTILINE) or "User-Agent: PBX" in probe, probe


def reached(host):
    return host.run("grep -c 'VPBX-DIALPLAN-REACHED' /var/log/asterisk/messages.log").stdout.strip() or "0"


def check_unauthenticated_invite_never_reaches_dialplan(host, ip, secrets):
    before = int(reached(host))
    # A subscriber, an unknown user, and the trunks' names: a trunk is not challenged, so nothing
    # but the provider's address may select it.
    for caller in ("1001", "9999", "sipnet", "voipco"):
        # No -au/-ap: sipp answers a challenge with user 1002 and the password "password". A
        # source port no phone registered from: chan_sip would otherwise match the INVITE to the
        # peer registered from that address and challenge it for that reason alone.
        result = sipclient.sipp(ip, "invite.xml", "1002", caller=caller, port=5072)
        assert result.rc == 0, result
        assert "VPBX-CHALLENGE" in result.log, result
        assert result.final in (401, 403, 407), result
        assert int(reached(host)) == before, host.run("tail -5 /var/log/asterisk/messages.log").stdout
    # Positive control: the same call, authenticated, does reach the dialplan (context office).
    result = sipclient.sipp(ip, "invite.xml", "1002", "1001", secrets["1001"], caller="1001")
    assert result.rc == 0 and result.outcome != "unauthenticated", result
    assert int(reached(host)) == before + 1, result
    assert "context=office exten=1002" in host.file("/var/log/asterisk/messages.log").content_string


def check_refused_by_the_acl(host, ip, driver):
    # Refused by the ACL, not by the password: Asterisk's security log says so.
    log = host.file("/var/log/asterisk/security.log").content_string
    outside = re.search(r'SecurityEvent="FailedACL".*AccountID="1001".*RemoteAddress="IPV4/UDP/%s/'
                        % re.escape(sipclient.OUTSIDE_IP), log)
    assert bool(outside) == outside_reaches_sip(ip), log[-3000:]
    if driver == "pjsip":
        assert re.search(r'SecurityEvent="FailedACL".*AccountID="1003"', log), log[-3000:]


def check_exact_model(host, driver):
    if driver == "chan_sip":
        peers = host.check_output("asterisk -rx 'sip show peers'")
        names = sorted(line.split()[0].split("/")[0] for line in peers.splitlines()[1:-1] if line.strip())
        assert not host.run("asterisk -rx 'module show like res_pjsip.so'").stdout.count("Running")
    else:
        endpoints = host.check_output("asterisk -rx 'pjsip show endpoints'")
        names = sorted(set(re.findall(r"^\s*Endpoint:\s+([^\s/<]+)", endpoints, flags=re.MULTILINE)))
        assert "chan_sip.so" not in host.check_output("asterisk -rx 'module show like chan_sip'")
    assert names == ["1001", "1002", "1003", "sipnet", "voipco"]
    # One driver, one SIP socket.
    sockets = host.check_output("ss -Hlun")
    assert len(re.findall(r":5060\s", sockets)) == 1, sockets


def check_secrets_file(host, driver, secrets):
    main, secret_file = ("sip.conf", "sip_secrets.conf") if driver == "chan_sip" else (
        "pjsip.conf", "pjsip_secrets.conf")
    main_text = host.file("/etc/asterisk/" + main).content_string
    secret_text = host.file("/etc/asterisk/" + secret_file).content_string
    for value in secrets.values():
        assert value not in main_text
        assert value in secret_text
    for name in (main, secret_file):
        f = host.file("/etc/asterisk/" + name)
        assert (f.user, f.group, f.mode) == ("root", "asterisk", 0o640)


def check_hardening(host, driver):
    if driver == "chan_sip":
        settings = host.check_output("asterisk -rx 'sip show settings'")
        for pattern in (r"Allow unknown access:\s+No", r"Always auth rejects:\s+Yes", r"AutoCreate Peer:\s+Off",
                        r"User Agent:\s+PBX", r"SDP Session Name:\s+PBX", r"SDP Owner Name:\s+PBX",
                        r"Realm\. auth:\s+No", r"TCP SIP Bindaddress:\s+Disabled"):
            assert re.search(pattern, settings), (pattern, settings)
        peer = host.check_output("asterisk -rx 'sip show peer 1001'")
        assert re.search(r"ACL\s+:\s+Yes", peer) and re.search(r"ContactACL\s+:\s+Yes", peer), peer
        assert re.search(r"Call limit\s+:\s+2", peer), peer
    else:
        endpoint = host.check_output("asterisk -rx 'pjsip show endpoint 1001'")
        for pattern in (r"allow_unauthenticated_options\s+:\s+false", r"context\s+:\s+office",
                        r"device_state_busy_at\s+:\s+2", r"direct_media\s+:\s+false",
                        r"identify_by\s+:\s+username\s*$"):
            assert re.search(pattern, endpoint, flags=re.MULTILINE), (pattern, endpoint)
        trunk = host.check_output("asterisk -rx 'pjsip show endpoint voipco'")
        assert re.search(r"identify_by\s+:\s+ip\s*$", trunk, flags=re.MULTILINE), trunk
        aor = host.check_output("asterisk -rx 'pjsip show aor 1001'")
        assert re.search(r"max_contacts\s+:\s+1", aor) and re.search(r"remove_existing\s+:\s+true", aor), aor
        settings = host.check_output("asterisk -rx 'pjsip show settings'")
        assert re.search(r"user_agent\s+:\s+PBX", settings), settings
        assert re.search(r"default_realm\s+:\s+pbx", settings), settings
        modules = host.check_output("asterisk -rx 'module show like anonymous'")
        assert "res_pjsip_endpoint_identifier_anonymous" not in modules


def run_client_suite(host, ip, driver, secrets):
    check_register_ok(ip, secrets)
    check_unknown_user_same_as_wrong_password(ip, secrets)
    check_outside_permit_refused(ip, secrets, driver)
    check_refused_by_the_acl(host, ip, driver)
    check_no_extension_found(ip)
    check_no_version(ip)
    check_unauthenticated_invite_never_reaches_dialplan(host, ip, secrets)
    check_exact_model(host, driver)
    check_secrets_file(host, driver, secrets)
    check_hardening(host, driver)


def test_subscriber_registers_with_digest_auth(pbx, secrets):
    check_register_ok(pbx["ip"], secrets)


def test_wrong_password_refused(pbx, secrets):
    check_wrong_password_refused(pbx["ip"], secrets)


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(pbx, secrets):
    check_unknown_user_same_as_wrong_password(pbx["ip"], secrets)


def test_correct_credentials_outside_permit_refused(pbx, secrets):
    check_outside_permit_refused(pbx["ip"], secrets, pbx["driver"])
    check_refused_by_the_acl(pbx["host"], pbx["ip"], pbx["driver"])


def test_svwar_finds_no_extension(pbx):
    check_no_extension_found(pbx["ip"])


def test_no_version_in_answers(pbx):
    check_no_version(pbx["ip"])


def test_unauthenticated_invite_never_reaches_the_dialplan(pbx, secrets):
    check_unauthenticated_invite_never_reaches_dialplan(pbx["host"], pbx["ip"], secrets)


def test_driver_runs_exactly_the_model(pbx):
    check_exact_model(pbx["host"], pbx["driver"])


def test_secrets_only_in_the_secrets_file(pbx, secrets):
    check_secrets_file(pbx["host"], pbx["driver"], secrets)


def test_hardening_settings_in_effect(pbx):
    check_hardening(pbx["host"], pbx["driver"])


def test_applied_without_restart(pbx):
    """Asterisk was started (by the asterisk role) before the SIP configuration was written and
    is still the same process: the SIP role applied it by loading and reloading modules."""
    host = pbx["host"]
    conf = "sip.conf" if pbx["driver"] == "chan_sip" else "pjsip.conf"
    pid = host.check_output("systemctl show -p MainPID --value asterisk")
    now, elapsed = host.check_output("date +%%s; ps -o etimes= -p %s" % pid).split()
    started = int(now) - int(elapsed)
    written = int(host.check_output("stat -c %%Y /etc/asterisk/%s" % conf))
    assert started < written, (started, written)


def test_tls_transport_refuses_old_tls(pbx):
    """The TLS transport (Asterisk 22 in this scenario) completes a TLS 1.2 handshake and refuses
    TLS 1.0/1.1 even from a client willing to use them."""
    if pbx["name"] != "vpbx-sip22":
        pytest.skip("TLS is configured on the Asterisk 22 PBX only")
    client = sipclient.client()
    target = "%s:5061" % pbx["ip"]
    sipclient._allowed(target)
    good = client.run("timeout 15 openssl s_client -connect %s -tls1_2 </dev/null 2>&1" % target)
    assert re.search(r"Cipher is (?!\(NONE\))\S+", good.stdout), good.stdout
    assert "TLSv1.2" in good.stdout, good.stdout
    for flag in ("-tls1", "-tls1_1"):
        old = client.run("timeout 15 openssl s_client -connect %s %s -cipher DEFAULT@SECLEVEL=0 </dev/null 2>&1"
                         % (target, flag))
        assert not re.search(r"Cipher is (?!\(NONE\))\S+", old.stdout), old.stdout
