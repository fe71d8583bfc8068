# SPDX-License-Identifier: GPL-3.0-or-later
"""The subscriber/trunk model: validation (every error names the variable path and never a
secret), normalisation, features/names, the hardened pjsip.conf/sip.conf rendering, the filter
wrapper and the parsers of the driver's CLI output."""

from __future__ import annotations

import re

import pytest


from ansible_collections.vpbx.hardened.plugins.module_utils.plain import plain
from ansible_collections.vpbx.hardened.plugins.module_utils import asterisk_features as af
from ansible_collections.vpbx.hardened.plugins.module_utils import sip_model as sm

# ==============================================================================================
# Building blocks
# ==============================================================================================

# Distinctive secrets: 16 characters, no digits run of an extension, none of the weak words.
SECRETS = {
    "1001": "Zq7#Lm2@Vx9!Kp4$",
    "1002": "Hn3%Rt8&Wc5*Bd6^",
    "1003": "Fy5!Qe2$Ua6&Ko9?",
}
TRUNK_SECRET = "Tk4=Pv8+Gs2~Jm7_"
PJSIP = {"driver": "pjsip", "transports": ["udp"]}
CHAN_SIP = {"driver": "chan_sip", "transports": ["udp"], "major": 16}
S01 = "asterisk_sip_subscribers[0] (extension 1001)"
T0 = "asterisk_sip_trunks[0] (sipnet)"


def sub(ext="1001", **fields):
    """A valid subscriber; fields override (None removes the field)."""
    item = {"extension": ext, "secret": SECRETS.get(ext, "Gw8!Rn3#Yc6$Lp1%"), "permit": ["192.0.2.0/24"]}
    item.update(fields)
    return {k: v for k, v in item.items() if v is not None}


def trunk(**fields):
    item = {"name": "sipnet", "host": "212.53.40.40"}
    item.update(fields)
    return {k: v for k, v in item.items() if v is not None}


def settings(base=None, **extra):
    result = dict(base or PJSIP)
    result.update(extra)
    return result


def dig(data, path):
    for part in path.split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


# ==============================================================================================
# Tables
# ==============================================================================================

# (id, subscribers, trunks, subscriber_defaults, settings, substrings of ONE error)
BAD_INPUT = [
    # --- secrets -------------------------------------------------------------------------------
    ("secret-too-short", [sub(secret="Xk9#mQ2zR")], None, None, PJSIP,
     [S01 + ".secret: is 9 characters long", "at least 16", "asterisk_sip_secret_min_length"]),
    ("secret-too-short-custom-policy", [sub()], None, None, settings(secret_min_length=20),
     [S01 + ".secret: is 16 characters long, the policy wants at least 20"]),
    ("secret-password-digits", [sub(secret="password12345678")], None, None, PJSIP,
     [S01 + ".secret: is made of a known weak word"]),
    ("secret-weak-word-capitalised", [sub(secret="Welcome2024!!!!!")], None, None, PJSIP,
     [S01 + ".secret: is made of a known weak word"]),
    ("secret-weak-word-repeated", [sub(secret="adminadminadmin7")], None, None, PJSIP,
     [S01 + ".secret: is made of a known weak word"]),
    ("secret-only-digits", [sub(secret="8264915730264819")], None, None, PJSIP,
     [S01 + ".secret:", "only digits and punctuation"]),
    ("secret-contains-extension", [sub(secret="Xk9#mQ2z1001RtVw")], None, None, PJSIP,
     [S01 + ".secret: contains the user name or extension '1001'"]),
    ("secret-contains-username", [sub(username="alice", secret="Xk9#mQ2zALICERtV")], None, None, PJSIP,
     [S01 + ".secret: contains the user name or extension 'alice'"]),
    ("secret-repeated-chars", [sub(secret="abababab12121212")], None, None, PJSIP,
     [S01 + ".secret: repeats too few different characters (4)"]),
    ("secret-weak-word-from-settings", [sub(secret="AcmeCorp-2024!#?")], None, None,
     settings(weak_words=["AcmeCorp"]), [S01 + ".secret: is made of a known weak word"]),
    ("secret-empty", [sub(secret="")], None, None, PJSIP, [S01 + ".secret: is empty", "openssl rand"]),
    ("secret-missing", [sub(secret=None)], None, None, PJSIP, [S01 + ".secret: is empty"]),
    ("secret-newline", [sub(secret="Xk9#mQ2z\nRtVwYu5")], None, None, PJSIP,
     [S01 + ".secret: contains a line break"]),
    ("secret-semicolon", [sub(secret="Xk9#mQ2z;RtVwYu5")], None, None, PJSIP,
     [S01 + ".secret: contains a line break, ; [ ]"]),
    ("secret-quote", [sub(secret='Xk9#mQ2z"RtVwYu5')], None, None, PJSIP, [S01 + ".secret: contains"]),
    ("secret-bracket", [sub(secret="Xk9#mQ2z]RtVwYu5")], None, None, PJSIP, [S01 + ".secret: contains"]),
    ("secret-surrounding-space", [sub(secret="Xk9#mQ2zRtVwYu5 ")], None, None, PJSIP,
     [S01 + ".secret:", "surrounding spaces"]),
    ("trunk-secret-newline", [], [trunk(username="0049876543", secret="Tk4=Pv8\nGs2~Jm7_")], None, PJSIP,
     [T0 + ".secret: contains a line break"]),
    ("trunk-username-without-secret", [], [trunk(username="0049876543")], None, PJSIP,
     [T0 + ".secret: is empty"]),
    ("trunk-secret-without-username", [], [trunk(secret=TRUNK_SECRET)], None, PJSIP,
     [T0 + ".username: is missing while a secret is set"]),
    # --- identity and uniqueness ---------------------------------------------------------------
    ("duplicate-extension", [sub("1001"), sub("1001", secret=SECRETS["1002"])], None, None, PJSIP,
     ["asterisk_sip_subscribers[1] (extension 1001).extension: duplicate", "already asterisk_sip_subscribers[0]"]),
    ("duplicate-username", [sub("1001", username="alice"), sub("1002", username="alice")], None, None, PJSIP,
     ["asterisk_sip_subscribers[1] (extension 1002).username: duplicate: 'alice' is already "
      "the user name of asterisk_sip_subscribers[0]"]),
    ("trunk-name-is-a-username", [sub("1001", username="sipnet", secret=SECRETS["1001"])], [trunk()], None, PJSIP,
     [T0 + ".name: 'sipnet' is also a subscriber's user name (asterisk_sip_subscribers[0])"]),
    ("duplicate-trunk", [], [trunk(), trunk(host="212.53.40.41")], None, PJSIP,
     ["asterisk_sip_trunks[1] (sipnet).name: duplicate: 'sipnet' is already asterisk_sip_trunks[0]"]),
    ("bad-extension", [sub("10a1", secret=SECRETS["1001"])], None, None, PJSIP,
     ["asterisk_sip_subscribers[0] (extension 10a1).extension: '10a1' must be 2 to 10 digits"]),
    ("missing-extension", [{"secret": SECRETS["1001"], "permit": "192.0.2.0/24"}], None, None, PJSIP,
     ["asterisk_sip_subscribers[0].extension: is missing"]),
    ("bad-username", [sub(username="al ice")], None, None, PJSIP, [S01 + ".username: 'al ice': use 1-40"]),
    ("bad-name", [sub(name='Alice "Boss"')], None, None, PJSIP, [S01 + ".name: must not contain quotes"]),
    ("subscriber-not-a-mapping", ["1001"], None, None, PJSIP,
     ["asterisk_sip_subscribers[0]: must be a mapping with at least extension and secret"]),
    ("subscribers-not-a-list", {"1001": {}}, None, None, PJSIP, ["asterisk_sip_subscribers: must be a list"]),
    # --- networks ------------------------------------------------------------------------------
    ("network-bad-octet", [sub(permit=["10.0.0.300"])], None, None, PJSIP,
     [S01 + ".permit[0]: '10.0.0.300' is not an IPv4/IPv6 address or network"]),
    ("network-host-bits", [sub(permit=["10.0.0.5/24"])], None, None, PJSIP,
     [S01 + ".permit[0]: '10.0.0.5/24' has host bits set: write 10.0.0.0/24"]),
    ("network-host-bits-deny", [sub(deny="192.0.2.7/30")], None, None, PJSIP,
     [S01 + ".deny[0]: '192.0.2.7/30' has host bits set: write 192.0.2.4/30"]),
    ("permit-empty", [sub(permit=[])], None, None, PJSIP,
     [S01 + ".permit: is empty", "asterisk_sip_subscriber_defaults.permit"]),
    ("permit-not-a-list", [sub(permit={"net": "192.0.2.0/24"})], None, None, PJSIP,
     [S01 + ".permit: must be a list of networks"]),
    ("trunk-identify-bad", [], [trunk(identify=["212.53.40.0/33"])], None, PJSIP,
     [T0 + ".identify[0]: '212.53.40.0/33' is not an IPv4/IPv6 address"]),
    ("bad-local-networks", [sub()], None, None, settings(local_networks=["192.168.1.0/33"]),
     ["asterisk_sip_local_networks[0]: '192.168.1.0/33' is not an IPv4/IPv6 address"]),
    ("bad-external-address", [sub()], None, None, settings(external_address="pbx example!"),
     ["asterisk_sip_external_address: 'pbx example!' is not an address or host name"]),
    # --- choices with suggestions --------------------------------------------------------------
    ("unknown-codec", [sub(codecs=["alaw", "g72"])], None, None, PJSIP,
     [S01 + ".codecs[1]: 'g72' is not a known codec (did you mean 'g729'?)", "Known codecs: adpcm"]),
    ("codecs-empty", [sub(codecs=[])], None, None, PJSIP, [S01 + ".codecs: must be a non-empty list"]),
    ("unknown-field", [sub(secrte="x")], None, None, PJSIP,
     ["asterisk_sip_subscribers[0] (extension 1001).secrte: unknown field (did you mean 'secret'?)",
      "Known fields: extension"]),
    ("unknown-trunk-field", [], [trunk(hots="sip.example.com")], None, PJSIP,
     ["asterisk_sip_trunks[0] (sipnet).hots: unknown field (did you mean 'host'?)"]),
    ("secret-in-defaults", [sub()], None, {"secret": "Qw9!Er4#Ty7$Ui2%"}, PJSIP,
     ["asterisk_sip_subscriber_defaults.secret: unknown field"]),
    ("defaults-not-a-mapping", [sub()], None, ["internal"], PJSIP,
     ["asterisk_sip_subscriber_defaults: must be a mapping of subscriber fields"]),
    ("unknown-driver", [sub()], None, None, settings(driver="pjsp"),
     ["asterisk_sip_driver: 'pjsp' is not one of chan_sip, pjsip (did you mean 'pjsip'?)"]),
    ("chan-sip-on-22", [sub()], None, None, settings(CHAN_SIP, major=22),
     ["asterisk_sip_driver: chan_sip was removed in Asterisk 21", "has Asterisk 22", "use pjsip"]),
    ("chan-sip-on-21", [sub()], None, None, settings(CHAN_SIP, major="21"), ["removed in Asterisk 21"]),
    ("bad-dtmf-mode", [sub(dtmf_mode="rfc2834")], None, None, PJSIP,
     [S01 + ".dtmf_mode: 'rfc2834' is not one of", "(did you mean 'rfc2833'?)"]),
    ("bad-media-encryption", [sub(media_encryption="zrtp")], None, None, PJSIP,
     [S01 + ".media_encryption: 'zrtp' is not one of dtls, none, sdes"]),
    ("bad-transport-setting", [sub()], None, None, settings(transports=["udp", "sctp"]),
     ["asterisk_sip_transports[1]: 'sctp' is not one of tcp, tls, udp"]),
    ("no-transport", [sub()], None, None, settings(transports=[]),
     ["asterisk_sip_transports: enable at least one of udp, tcp, tls"]),
    ("transport-not-enabled", [sub(transport="tcp")], None, None, PJSIP,
     [S01 + ".transport: 'tcp' is not enabled: add it to asterisk_sip_transports"]),
    ("trunk-transport-not-enabled", [], [trunk(transport="tls")], None, PJSIP,
     [T0 + ".transport: 'tls' is not enabled"]),
    ("sdes-over-udp", [sub(media_encryption="sdes")], None, None, PJSIP,
     [S01 + ".media_encryption: sdes sends the media keys in the SDP: it needs transport tls"]),
    ("bad-nat", [sub(nat="maybe")], None, None, PJSIP, [S01 + ".nat: 'maybe' must be true or false"]),
    # --- trunks --------------------------------------------------------------------------------
    ("trunk-without-host", [], [trunk(host=None)], None, PJSIP,
     [T0 + ".host: is missing: set the provider's host name or address"]),
    ("trunk-host-with-port", [], [trunk(host="sip.example.com:5060")], None, PJSIP,
     [T0 + ".host: 'sip.example.com:5060': put the port in " + T0 + ".port"]),
    ("trunk-ip-with-port", [], [trunk(host="212.53.40.40:5060")], None, PJSIP, [T0 + ".host:", "put the port in"]),
    ("trunk-bad-host", [], [trunk(host="sip_example.com")], None, PJSIP,
     [T0 + ".host: 'sip_example.com' is not a valid host name or address"]),
    ("trunk-without-name", [], [trunk(name=None)], None, PJSIP,
     ["asterisk_sip_trunks[0].name: is missing: every trunk needs a name"]),
    ("trunk-register-without-credentials", [], [trunk(register=True)], None, PJSIP,
     [T0 + ".register: registration needs username and secret"]),
    ("trunk-bad-port", [], [trunk(port=70000)], None, PJSIP, [T0 + ".port: 70000 must be a whole number from 1 to 65535"]),
    ("trunk-bad-from-user", [], [trunk(from_user="a b")], None, PJSIP, [T0 + ".from_user: 'a b' is not valid"]),
    ("trunk-bad-context", [], [trunk(context="from sipnet")], None, PJSIP,
     [T0 + ".context: 'from sipnet': use letters, digits, _ and - only"]),
    # --- context, numbers, raw options ---------------------------------------------------------
    ("bad-context", [sub(context="from internal")], None, None, PJSIP,
     [S01 + ".context: 'from internal': use letters, digits, _ and - only"]),
    ("bad-context-from-defaults", [sub()], None, {"context": "in[ternal"}, PJSIP,
     [S01 + ".context: 'in[ternal'"]),
    ("max-calls-zero", [sub(max_calls=0)], None, None, PJSIP, [S01 + ".max_calls: 0 must be a whole number from 1 to 100"]),
    ("max-calls-too-high", [sub(max_calls=101)], None, None, PJSIP, [S01 + ".max_calls: 101 must be a whole number from 1 to 100"]),
    ("max-calls-text", [sub(max_calls="two")], None, None, PJSIP,
     [S01 + ".max_calls: 'two' must be a whole number from 1 to 100"]),
    ("max-calls-bool", [sub(max_calls=True)], None, None, PJSIP, [S01 + ".max_calls: True must be a whole number"]),
    ("qualify-too-short", [sub(qualify=5)], None, None, PJSIP, [S01 + ".qualify: 5 must be a whole number from 10 to 3600"]),
    ("max-contacts-too-high", [sub(max_contacts=11)], None, None, PJSIP, [S01 + ".max_contacts: 11 must be a whole number from 1 to 10"]),
    ("bad-raw-option-key", [sub(options={"Bad Key": "x"})], None, None, PJSIP,
     [S01 + ".options.Bad Key: not a valid option name"]),
    ("raw-option-value-newline", [sub(options={"language": "en\n[evil]"})], None, None, PJSIP,
     [S01 + ".options.language: value must be one line"]),
    ("raw-option-value-comment", [sub(options={"language": "#include evil"})], None, None, PJSIP,
     [S01 + ".options.language: value must be one line without [ ] ; or a leading #"]),
    ("raw-option-list-value", [sub(options={"language": ["de", "fr;x"]})], None, None, PJSIP,
     [S01 + ".options.language: value must be one line"]),
    ("raw-option-carries-a-secret", [sub(options={"password": "Zz9!Yy8@Xx7#Ww6$"})], None, None, PJSIP,
     [S01 + ".options.password: not allowed as a raw option: use the secret field"]),
    ("raw-option-undoes-hardening", [sub(options={"allow_unauthenticated_options": "yes"})], None, None, PJSIP,
     [S01 + ".options.allow_unauthenticated_options: not allowed as a raw option"]),
    ("raw-option-reopens-acl", [], [trunk(options={"permit": "0.0.0.0/0.0.0.0"})], None, CHAN_SIP,
     [T0 + ".options.permit: not allowed as a raw option: use the permit field"]),
    ("reserved-username", [sub(username="general")], None, None, CHAN_SIP,
     [S01 + ".username: 'general' is a section name the configuration uses itself"]),
    ("raw-option-identify-by", [], [trunk(options={"identify_by": "username,ip"})], None, PJSIP,
     [T0 + ".options.identify_by: not allowed as a raw option"]),
    ("secret-leading-gt", [sub(secret=">Qw9!Er4#Ty7$Ui2%")], None, None, PJSIP, [S01 + ".secret: contains"]),
    ("secret-template-marker", [sub(secret="Qw9!{{ lookup('x') }}Ui2%")], None, None, PJSIP,
     [S01 + ".secret: contains", "template marker"]),
    ("secret-contains-two-digit-extension", [sub("42", secret="Qw9!Er42Ty7$Ui2%")], None, None, PJSIP,
     ["asterisk_sip_subscribers[0] (extension 42).secret: contains the user name or extension '42'"]),
    ("reserved-anonymous", [sub(username="anonymous")], None, None, PJSIP,
     [S01 + ".username: 'anonymous' is a section name"]),
    ("raw-options-not-a-mapping", [sub(options=["language=en"])], None, None, PJSIP,
     [S01 + ".options: must be a mapping of option: value"]),
    ("bad-voicemail-email", [sub(voicemail=True, voicemail_pin="480315", voicemail_email="alice at example.org")], None, None, PJSIP,
     [S01 + ".voicemail_email: 'alice at example.org' is not an e-mail address"]),
]

# Cases whose one problem is reported more than once: {id: number of errors}
BAD_INPUT_ERROR_COUNT = {
    "no-transport": 2,        # and the subscriber's udp "is not enabled"
}

# (id, subscribers, trunks, subscriber_defaults, settings, model path, expected value)
NORMALIZED = [
    ("default-context", [sub()], None, None, PJSIP, "subscribers.0.context", "internal"),
    ("default-codecs", [sub()], None, None, PJSIP, "subscribers.0.codecs", ["alaw", "ulaw"]),
    ("default-max-calls", [sub()], None, None, PJSIP, "subscribers.0.max_calls", 2),
    ("default-qualify", [sub()], None, None, PJSIP, "subscribers.0.qualify", 60),
    ("default-max-contacts", [sub()], None, None, PJSIP, "subscribers.0.max_contacts", 1),
    ("default-transport", [sub()], None, None, PJSIP, "subscribers.0.transport", "udp"),
    ("default-media", [sub()], None, None, PJSIP, "subscribers.0.media_encryption", "none"),
    ("default-nat", [sub()], None, None, PJSIP, "subscribers.0.nat", False),
    ("default-dtmf", [sub()], None, None, PJSIP, "subscribers.0.dtmf_mode", "rfc4733"),
    ("default-no-mailbox", [sub()], None, None, PJSIP, "subscribers.0.mailbox", ""),
    ("default-options", [sub()], None, None, PJSIP, "subscribers.0.options", []),
    ("defaults-override-context", [sub()], None, {"context": "staff"}, PJSIP, "subscribers.0.context", "staff"),
    ("defaults-override-codecs", [sub()], None, {"codecs": ["g722", "alaw"]}, PJSIP,
     "subscribers.0.codecs", ["g722", "alaw"]),
    ("defaults-override-max-calls", [sub()], None, {"max_calls": 4}, PJSIP, "subscribers.0.max_calls", 4),
    ("defaults-give-permit", [sub(permit=None)], None, {"permit": ["198.51.100.0/24"]}, PJSIP,
     "subscribers.0.permit", ["198.51.100.0/24"]),
    ("subscriber-overrides-defaults", [sub(context="boss")], None, {"context": "staff"}, PJSIP,
     "subscribers.0.context", "boss"),
    ("subscriber-overrides-default-codecs", [sub(codecs=["ulaw"])], None, {"codecs": ["g722"]}, PJSIP,
     "subscribers.0.codecs", ["ulaw"]),
    ("subscriber-none-keeps-default", [sub(context=None, max_calls=None)], None, {"context": "staff"}, PJSIP,
     "subscribers.0.context", "staff"),
    ("dtmf-rfc2833", [sub(dtmf_mode="rfc2833")], None, None, PJSIP, "subscribers.0.dtmf_mode", "rfc4733"),
    ("dtmf-upper-case", [sub(dtmf_mode="RFC2833")], None, None, PJSIP, "subscribers.0.dtmf_mode", "rfc4733"),
    ("dtmf-info", [sub(dtmf_mode="info")], None, None, PJSIP, "subscribers.0.dtmf_mode", "info"),
    ("single-ip-is-32", [sub(permit=["192.0.2.10"])], None, None, PJSIP, "subscribers.0.permit", ["192.0.2.10/32"]),
    ("single-ipv6-is-128", [sub(permit=["2001:db8::10"])], None, None, PJSIP,
     "subscribers.0.permit", ["2001:db8::10/128"]),
    ("string-network", [sub(permit="192.0.2.0/24")], None, None, PJSIP, "subscribers.0.permit", ["192.0.2.0/24"]),
    ("networks-deduplicated", [sub(permit=["192.0.2.0/24", " 192.0.2.0/24 "])], None, None, PJSIP,
     "subscribers.0.permit", ["192.0.2.0/24"]),
    ("contact-permit-defaults-to-permit", [sub()], None, None, PJSIP,
     "subscribers.0.contact_permit", ["192.0.2.0/24"]),
    ("contact-permit-own", [sub(contact_permit="10.1.0.0/16")], None, None, PJSIP,
     "subscribers.0.contact_permit", ["10.1.0.0/16"]),
    ("username-defaults-to-extension", [sub()], None, None, PJSIP, "subscribers.0.username", "1001"),
    ("username-kept", [sub(username="alice")], None, None, PJSIP, "subscribers.0.username", "alice"),
    ("extension-int", [sub(extension=1001)], None, None, PJSIP, "subscribers.0.extension", "1001"),
    ("codecs-string", [sub(codecs="ULAW, alaw, ulaw")], None, None, PJSIP, "subscribers.0.codecs", ["ulaw", "alaw"]),
    ("nat-yes-string", [sub(nat="yes")], None, None, PJSIP, "subscribers.0.nat", True),
    ("max-calls-string", [sub(max_calls="3")], None, None, PJSIP, "subscribers.0.max_calls", 3),
    ("qualify-false-is-0", [sub(qualify=False)], None, None, PJSIP, "subscribers.0.qualify", 0),
    ("qualify-0", [sub(qualify=0)], None, None, PJSIP, "subscribers.0.qualify", 0),
    ("qualify-true-is-60", [sub(qualify=True)], None, None, PJSIP, "subscribers.0.qualify", 60),
    ("voicemail-mailbox", [sub(voicemail=True, voicemail_pin="480315")], None, None, PJSIP, "subscribers.0.mailbox", "1001@default"),
    ("raw-options-bool", [sub(options={"language": "de", "t38_udptl": False, "tone_zone": ["de", "fr"]})],
     None, None, PJSIP, "subscribers.0.options",
     [["language", "de"], ["t38_udptl", "no"], ["tone_zone", "de"], ["tone_zone", "fr"]]),
    ("secret-policy-off-length", [sub(secret="Xk9#mQ2zRtVw")], None, None, settings(secret_min_length=12),
     "subscribers.0.secret", "Xk9#mQ2zRtVw"),
    ("driver-default", [sub()], None, None, {}, "driver", "pjsip"),
    ("transports-default", [sub()], None, None, {}, "transports", ["udp"]),
    ("transports-string", [sub()], None, None, settings(transports="udp"), "transports", ["udp"]),
    ("transports-dedup", [sub()], None, None, settings(transports=["UDP", "udp", "tls"]), "transports", ["udp", "tls"]),
    ("chan-sip-on-16", [sub()], None, None, CHAN_SIP, "driver", "chan_sip"),
    ("chan-sip-on-20", [sub()], None, None, settings(CHAN_SIP, major=20), "driver", "chan_sip"),
    ("chan-sip-unknown-major", [sub()], None, None, settings(CHAN_SIP, major=None), "driver", "chan_sip"),
    ("no-subscribers", None, None, None, PJSIP, "subscribers", []),
    # --- trunks --------------------------------------------------------------------------------
    ("trunk-context-from-name", [], [trunk()], None, PJSIP, "trunks.0.context", "from-sipnet"),
    ("trunk-context-own", [], [trunk(context="pstn-in")], None, PJSIP, "trunks.0.context", "pstn-in"),
    ("trunk-identify-ip", [], [trunk()], None, PJSIP, "trunks.0.identify", ["212.53.40.40/32"]),
    ("trunk-identify-ip-no-hosts", [], [trunk()], None, PJSIP, "trunks.0.identify_hosts", []),
    ("trunk-identify-ipv6", [], [trunk(host="2001:db8::5")], None, PJSIP, "trunks.0.identify", ["2001:db8::5/128"]),
    ("trunk-identify-hostname", [], [trunk(host="sip.example.com")], None, PJSIP, "trunks.0.identify", []),
    ("trunk-identify-hosts", [], [trunk(host="sip.example.com")], None, PJSIP,
     "trunks.0.identify_hosts", ["sip.example.com"]),
    ("trunk-identify-own", [], [trunk(host="sip.example.com", identify=["212.53.40.0/24", "212.53.41.7"])],
     None, PJSIP, "trunks.0.identify", ["212.53.40.0/24", "212.53.41.7/32"]),
    ("trunk-identify-own-no-hosts", [], [trunk(host="sip.example.com", identify="212.53.40.0/24")], None, PJSIP,
     "trunks.0.identify_hosts", []),
    ("trunk-register-default-true", [], [trunk(username="0049876543", secret=TRUNK_SECRET)], None, PJSIP,
     "trunks.0.register", True),
    ("trunk-register-default-false", [], [trunk()], None, PJSIP, "trunks.0.register", False),
    ("trunk-register-explicit-false", [], [trunk(username="0049876543", secret=TRUNK_SECRET, register=False)],
     None, PJSIP, "trunks.0.register", False),
    ("trunk-register-yes-string", [], [trunk(username="0049876543", secret=TRUNK_SECRET, register="yes")],
     None, PJSIP, "trunks.0.register", True),
    ("trunk-weak-secret-allowed", [], [trunk(username="0049876543", secret="1234")], None, PJSIP,
     "trunks.0.secret", "1234"),
    ("trunk-port-udp", [], [trunk()], None, PJSIP, "trunks.0.port", 5060),
    ("trunk-port-tls", [], [trunk(transport="tls")], None, settings(transports=["udp", "tls"]), "trunks.0.port", 5061),
    ("trunk-port-own", [], [trunk(port="5080")], None, PJSIP, "trunks.0.port", 5080),
    ("trunk-qualify-false", [], [trunk(qualify=False)], None, PJSIP, "trunks.0.qualify", 0),
    ("trunk-max-calls-default", [], [trunk()], None, PJSIP, "trunks.0.max_calls", 10),
    ("trunk-dtmf-rfc2833", [], [trunk(dtmf_mode="rfc2833")], None, PJSIP, "trunks.0.dtmf_mode", "rfc4733"),
    ("trunk-codecs-default", [], [trunk()], None, PJSIP, "trunks.0.codecs", ["alaw", "ulaw"]),
    ("no-trunks", [sub()], None, None, PJSIP, "trunks", []),
]

# (id, subscriber overrides, trunk overrides or None, settings, expected features in order)
FEATURES = [
    ("pjsip-g711", {}, None, PJSIP, ["pjsip", "codecs_g711"]),
    ("chan-sip-g711", {}, None, CHAN_SIP, ["chan_sip", "codecs_g711"]),
    ("g722-first", {"codecs": ["g722", "alaw"]}, None, PJSIP, ["pjsip", "codec_g722", "codecs_g711"]),
    ("ulaw-only", {"codecs": ["ulaw"]}, None, PJSIP, ["pjsip", "codecs_g711"]),
    ("pass-through-codecs", {"codecs": ["opus", "g729"]}, None, PJSIP, ["pjsip"]),
    ("trunk-gsm", {"codecs": ["alaw"]}, {"codecs": ["gsm", "alaw"]}, PJSIP, ["pjsip", "codecs_g711", "codec_gsm"]),
    ("g726-variants-once", {"codecs": ["g726", "g726aal2"]}, None, PJSIP, ["pjsip", "codec_g726"]),
    ("sdes-srtp", {"transport": "tls", "media_encryption": "sdes"}, None, settings(transports=["tls"]),
     ["pjsip", "codecs_g711", "srtp"]),
    ("dtls-srtp", {"media_encryption": "dtls"}, None, PJSIP, ["pjsip", "codecs_g711", "srtp"]),
]

RENDER_SUBSCRIBERS = [
    sub("1001", name="Alice", nat=True, voicemail=True, voicemail_pin="480315", deny=["192.0.2.66"]),
    sub("1002", username="bob", transport="tls", media_encryption="sdes", qualify=False,
        permit=["192.0.2.0/24", "2001:db8:1::/48"]),
]
RENDER_TRUNKS = [
    trunk(username="0049876543", secret=TRUNK_SECRET, from_user="0049876543", from_domain="sipgate.example"),
    trunk(name="v6", host="2001:db8::5"),
    trunk(name="carrier", host="sip.carrier.example", qualify=0),
]
RENDER_MODEL_SETTINGS = {"transports": ["udp", "tls"]}
RENDER_SETTINGS = {
    "user_agent": "Telephone System", "tls_cert_file": "/etc/asterisk/keys/pbx.crt",
    "tls_key_file": "/etc/asterisk/keys/pbx.key", "tls_ca_file": "/etc/ssl/certs/ca-certificates.crt",
    "external_address": "203.0.113.5", "local_networks": ["192.0.2.0/24"],
}
ALL_SECRETS = [SECRETS["1001"], SECRETS["1002"], TRUNK_SECRET]

# (driver, (section name, pjsip type or chan_sip suffix), option, value)
RENDERED = [
    ("pjsip", ("global", "global"), "user_agent", "Telephone System"),
    ("pjsip", ("global", "global"), "endpoint_identifier_order", "ip,username"),
    ("pjsip", ("transport-udp", "transport"), "bind", "0.0.0.0:5060"),
    ("pjsip", ("transport-udp", "transport"), "external_signaling_address", "203.0.113.5"),
    ("pjsip", ("transport-udp", "transport"), "local_net", "192.0.2.0/24"),
    ("pjsip", ("transport-tls", "transport"), "protocol", "tls"),
    ("pjsip", ("transport-tls", "transport"), "bind", "0.0.0.0:5061"),
    ("pjsip", ("transport-tls", "transport"), "method", "tlsv1_2"),
    ("pjsip", ("transport-tls", "transport"), "cert_file", "/etc/asterisk/keys/pbx.crt"),
    ("pjsip", ("transport-tls", "transport"), "priv_key_file", "/etc/asterisk/keys/pbx.key"),
    ("pjsip", ("transport-tls", "transport"), "ca_list_file", "/etc/ssl/certs/ca-certificates.crt"),
    ("pjsip", ("transport-tls", "transport"), "verify_server", "yes"),
    ("pjsip", ("1001", "endpoint"), "allow_unauthenticated_options", "no"),
    # The SDP's o= and s= lines name no product either (PJSIP's default session name is "Asterisk").
    ("pjsip", ("1001", "endpoint"), "sdp_session", "Telephone System"),
    ("pjsip", ("1001", "endpoint"), "sdp_owner", "TelephoneSystem"),
    ("pjsip", ("sipnet", "endpoint"), "sdp_session", "Telephone System"),
    ("pjsip", ("1001", "endpoint"), "identify_by", "username"),
    ("pjsip", ("carrier", "endpoint"), "identify_by", "ip"),
    ("pjsip", ("sipnet", "endpoint"), "identify_by", "ip"),
    ("pjsip", ("global", "global"), "default_realm", "pbx"),
    ("pjsip", ("1001", "endpoint"), "disallow", "all"),
    ("pjsip", ("1001", "endpoint"), "allow", "alaw,ulaw"),
    ("pjsip", ("1001", "endpoint"), "auth", "1001-auth"),
    ("pjsip", ("1001", "endpoint"), "aors", "1001"),
    ("pjsip", ("1001", "endpoint"), "context", "internal"),
    ("pjsip", ("1001", "endpoint"), "callerid", '"Alice" <1001>'),
    ("pjsip", ("1001", "endpoint"), "direct_media", "no"),
    ("pjsip", ("1001", "endpoint"), "trust_id_inbound", "no"),
    ("pjsip", ("1001", "endpoint"), "send_pai", "no"),
    ("pjsip", ("1001", "endpoint"), "device_state_busy_at", "2"),
    ("pjsip", ("1001", "endpoint"), "deny", "0.0.0.0/0.0.0.0"),
    ("pjsip", ("1001", "endpoint"), "deny", "::/0"),
    ("pjsip", ("1001", "endpoint"), "permit", "192.0.2.0/255.255.255.0"),
    ("pjsip", ("1001", "endpoint"), "deny", "192.0.2.66/255.255.255.255"),
    ("pjsip", ("1001", "endpoint"), "contact_deny", "0.0.0.0/0.0.0.0"),
    ("pjsip", ("1001", "endpoint"), "contact_permit", "192.0.2.0/255.255.255.0"),
    ("pjsip", ("1001", "endpoint"), "contact_deny", "192.0.2.66/255.255.255.255"),
    ("pjsip", ("1001", "endpoint"), "rtp_symmetric", "yes"),
    ("pjsip", ("1001", "endpoint"), "force_rport", "yes"),
    ("pjsip", ("1001", "endpoint"), "rewrite_contact", "yes"),
    ("pjsip", ("1001", "endpoint"), "mailboxes", "1001@default"),
    ("pjsip", ("1001", "aor"), "max_contacts", "1"),
    ("pjsip", ("1001", "aor"), "remove_existing", "yes"),
    ("pjsip", ("1001", "aor"), "qualify_frequency", "60"),
    ("pjsip", ("bob", "endpoint"), "transport", "transport-tls"),
    ("pjsip", ("bob", "endpoint"), "media_encryption", "sdes"),
    ("pjsip", ("bob", "endpoint"), "auth", "bob-auth"),
    ("pjsip", ("bob", "endpoint"), "callerid", "<1002>"),
    ("pjsip", ("bob", "endpoint"), "permit", "2001:db8:1::/48"),
    ("pjsip", ("sipnet", "endpoint"), "context", "from-sipnet"),
    ("pjsip", ("sipnet", "endpoint"), "outbound_auth", "sipnet-auth"),
    ("pjsip", ("sipnet", "endpoint"), "from_user", "0049876543"),
    ("pjsip", ("sipnet", "endpoint"), "from_domain", "sipgate.example"),
    ("pjsip", ("sipnet", "endpoint"), "allow_unauthenticated_options", "no"),
    ("pjsip", ("sipnet", "endpoint"), "deny", "0.0.0.0/0.0.0.0"),
    ("pjsip", ("sipnet", "endpoint"), "permit", "212.53.40.40/255.255.255.255"),
    ("pjsip", ("sipnet", "aor"), "contact", "sip:212.53.40.40:5060"),
    ("pjsip", ("sipnet", "identify"), "endpoint", "sipnet"),
    ("pjsip", ("sipnet", "identify"), "match", "212.53.40.40/32"),
    ("pjsip", ("sipnet", "registration"), "server_uri", "sip:212.53.40.40:5060"),
    ("pjsip", ("sipnet", "registration"), "client_uri", "sip:0049876543@212.53.40.40:5060"),
    ("pjsip", ("sipnet", "registration"), "outbound_auth", "sipnet-auth"),
    ("pjsip", ("sipnet", "registration"), "contact_user", "0049876543"),
    ("pjsip", ("v6", "aor"), "contact", "sip:[2001:db8::5]:5060"),
    ("pjsip", ("v6", "identify"), "match", "2001:db8::5/128"),
    ("pjsip", ("v6", "endpoint"), "permit", "2001:db8::5/128"),
    ("pjsip", ("carrier", "identify"), "match", "sip.carrier.example"),
    ("pjsip", ("carrier", "aor"), "contact", "sip:sip.carrier.example:5060"),
    ("chan_sip", ("general", ""), "allowguest", "no"),
    ("chan_sip", ("general", ""), "alwaysauthreject", "yes"),
    ("chan_sip", ("general", ""), "auth_options_requests", "yes"),
    ("chan_sip", ("general", ""), "autocreatepeer", "no"),
    ("chan_sip", ("general", ""), "tcpenable", "no"),
    ("chan_sip", ("general", ""), "tlsenable", "yes"),
    ("chan_sip", ("general", ""), "tlscertfile", "/etc/asterisk/keys/pbx.crt"),
    ("chan_sip", ("general", ""), "tlsprivatekey", "/etc/asterisk/keys/pbx.key"),
    ("chan_sip", ("general", ""), "useragent", "Telephone System"),
    ("chan_sip", ("general", ""), "sdpowner", "TelephoneSystem"),
    ("chan_sip", ("general", ""), "sdpsession", "TelephoneSystem"),
    # One nat for every peer, in [general] only.
    ("chan_sip", ("general", ""), "nat", "force_rport,comedia"),
    ("chan_sip", ("general", ""), "externaddr", "203.0.113.5"),
    ("chan_sip", ("general", ""), "localnet", "192.0.2.0/255.255.255.0"),
    ("chan_sip", ("vpbx-subscriber", "(!)"), "deny", "0.0.0.0/0.0.0.0"),
    ("chan_sip", ("vpbx-subscriber", "(!)"), "contactdeny", "0.0.0.0/0.0.0.0"),
    ("chan_sip", ("vpbx-subscriber", "(!)"), "host", "dynamic"),
    ("chan_sip", ("vpbx-subscriber", "(!)"), "type", "friend"),
    ("chan_sip", ("1001", "(vpbx-subscriber)"), "defaultuser", "1001"),
    ("chan_sip", ("1001", "(vpbx-subscriber)"), "permit", "192.0.2.0/255.255.255.0"),
    ("chan_sip", ("1001", "(vpbx-subscriber)"), "deny", "192.0.2.66/255.255.255.255"),
    ("chan_sip", ("1001", "(vpbx-subscriber)"), "contactpermit", "192.0.2.0/255.255.255.0"),
    ("chan_sip", ("1001", "(vpbx-subscriber)"), "dtmfmode", "rfc2833"),
    ("chan_sip", ("1001", "(vpbx-subscriber)"), "disallow", "all"),
    ("chan_sip", ("1001", "(vpbx-subscriber)"), "mailbox", "1001@default"),
    ("chan_sip", ("1001", "(vpbx-subscriber)"), "qualifyfreq", "60"),
    ("chan_sip", ("bob", "(vpbx-subscriber)"), "encryption", "yes"),
    ("chan_sip", ("bob", "(vpbx-subscriber)"), "transport", "tls"),
    ("chan_sip", ("bob", "(vpbx-subscriber)"), "qualify", "no"),
    ("chan_sip", ("sipnet", ""), "type", "peer"),
    ("chan_sip", ("sipnet", ""), "insecure", "invite"),
    ("chan_sip", ("sipnet", ""), "fromuser", "0049876543"),
    ("chan_sip", ("sipnet", ""), "fromdomain", "sipgate.example"),
    ("chan_sip", ("sipnet", ""), "defaultuser", "0049876543"),
    ("chan_sip", ("sipnet", ""), "context", "from-sipnet"),
    ("chan_sip", ("sipnet", ""), "deny", "0.0.0.0/0.0.0.0"),
    ("chan_sip", ("sipnet", ""), "permit", "212.53.40.40/255.255.255.255"),
    ("chan_sip", ("carrier", ""), "qualify", "no"),
]

# (driver, section, option, value) that must be in the secrets file
RENDERED_SECRETS = [
    ("pjsip", ("1001-auth", "auth"), "password", SECRETS["1001"]),
    ("pjsip", ("1001-auth", "auth"), "username", "1001"),
    ("pjsip", ("bob-auth", "auth"), "password", SECRETS["1002"]),
    ("pjsip", ("bob-auth", "auth"), "username", "bob"),
    ("pjsip", ("sipnet-auth", "auth"), "password", TRUNK_SECRET),
    ("pjsip", ("sipnet-auth", "auth"), "username", "0049876543"),
    ("chan_sip", ("1001", "(+)"), "secret", SECRETS["1001"]),
    ("chan_sip", ("bob", "(+)"), "secret", SECRETS["1002"]),
    ("chan_sip", ("sipnet", "(+)"), "secret", TRUNK_SECRET),
    ("chan_sip", ("sipnet", "(+)"), "remotesecret", TRUNK_SECRET),
    ("chan_sip", ("general", "(+)"), "register", "0049876543:%s@212.53.40.40:5060/0049876543" % TRUNK_SECRET),
]

# (id, section, option before, option after): Asterisk ACLs are evaluated in order, last match wins.
ORDERED = [
    ("pjsip", ("1001", "endpoint"), ("disallow", "all"), ("allow", "alaw,ulaw")),
    ("pjsip", ("1001", "endpoint"), ("deny", "0.0.0.0/0.0.0.0"), ("permit", "192.0.2.0/255.255.255.0")),
    ("pjsip", ("1001", "endpoint"), ("deny", "::/0"), ("permit", "192.0.2.0/255.255.255.0")),
    ("pjsip", ("1001", "endpoint"), ("permit", "192.0.2.0/255.255.255.0"), ("deny", "192.0.2.66/255.255.255.255")),
    ("pjsip", ("1001", "endpoint"), ("contact_deny", "0.0.0.0/0.0.0.0"),
     ("contact_permit", "192.0.2.0/255.255.255.0")),
    ("pjsip", ("1001", "endpoint"), ("contact_permit", "192.0.2.0/255.255.255.0"),
     ("contact_deny", "192.0.2.66/255.255.255.255")),
    ("pjsip", ("sipnet", "endpoint"), ("deny", "0.0.0.0/0.0.0.0"), ("permit", "212.53.40.40/255.255.255.255")),
    ("chan_sip", ("1001", "(vpbx-subscriber)"), ("disallow", "all"), ("allow", "alaw,ulaw")),
    ("chan_sip", ("1001", "(vpbx-subscriber)"), ("permit", "192.0.2.0/255.255.255.0"),
     ("deny", "192.0.2.66/255.255.255.255")),
    ("chan_sip", ("1001", "(vpbx-subscriber)"), ("contactpermit", "192.0.2.0/255.255.255.0"),
     ("contactdeny", "192.0.2.66/255.255.255.255")),
    ("chan_sip", ("sipnet", ""), ("deny", "0.0.0.0/0.0.0.0"), ("permit", "212.53.40.40/255.255.255.255")),
    ("chan_sip", ("general", ""), ("disallow", "all"), ("allow", "alaw,ulaw")),
]

# --- CLI output of Asterisk 16/22 ------------------------------------------------------------
PJSIP_ENDPOINTS = """
 Endpoint:  <Endpoint/CID.....................................>  <State.....>  <Channels.>
     I/OAuth:  <AuthId/UserName...........................................................>
        Aor:  <Aor............................................>  <MaxContact>
      Contact:  <Aor/ContactUri..........................> <Hash....> <Status> <RTT(ms)..>
  Transport:  <TransportId........>  <Type>  <cos>  <tos>  <BindAddress..................>
   Identify:  <Identify/Endpoint.........................................................>
        Match:  <criteria.........................>
    Channel:  <ChannelId......................................>  <State.....>  <Time.....>
        Exten: <DialedExten...........>  CLCID: <ConnectedLineCID.......>
==========================================================================================

 Endpoint:  1001/1001                                            Unavailable   0 of inf
     InAuth:  1001-auth/1001
        Aor:  1001                                               1
   Transport:  transport-udp             udp      0      0  0.0.0.0:5060

 Endpoint:  sipnet                                               Not in use    0 of inf
    OutAuth:  sipnet-auth/0049876543
        Aor:  sipnet                                             0
      Contact:  sipnet/sip:212.53.40.40:5060               c5d9c3c3bb Unknown         nan
   Identify:  sipnet/sipnet
        Match: 212.53.40.40/32


Objects found: 2
"""
PJSIP_ENDPOINTS_IN_CALL = """
 Endpoint:  bob/1002                                             In use        1 of inf
     InAuth:  bob-auth/bob
        Aor:  bob                                                1
      Contact:  bob/sip:bob@192.0.2.20:5062;ob             0d1a9b31c2 Avail        12.041
    Channel:  PJSIP/bob-00000002/Dial                             Up            00:00:07
        Exten: 1001                      CLCID: "Alice" <1001>

 Endpoint:  alice/1001                                           Not in use    0 of inf

Objects found: 2
"""
PJSIP_REGISTRATIONS = """
 <Registration/ServerURI..............................>  <Auth..........>  <Status.......>
==========================================================================================

 sipnet/sip:212.53.40.40:5060                            sipnet-auth       Unregistered

Objects found: 1
"""
PJSIP_REGISTRATIONS_TWO = """
 <Registration/ServerURI..............................>  <Auth..........>  <Status.......>
==========================================================================================

 zeta/sip:sip.zeta.example:5060                          zeta-auth         Registered        (exp. 3585s)
 alpha/sip:[2001:db8::5]:5060                            alpha-auth        Rejected

Objects found: 2
"""
PJSIP_TRANSPORTS = """

Transport:  <TransportId........>  <Type>  <cos>  <tos>  <BindAddress....................>
==========================================================================================

Transport:  transport-tls             tls      0      0  0.0.0.0:5061
Transport:  transport-udp             udp      0      0  0.0.0.0:5060

Objects found: 2
"""
PJSIP_TRANSPORTS_V6 = """
Transport:  <TransportId........>  <Type>  <cos>  <tos>  <BindAddress....................>
==========================================================================================

Transport:  transport-udp             udp      0      0  [::]:5070

Objects found: 1
"""
SIP_PEERS = """\
Name/username             Host                                    Dyn Forcerport Comedia    ACL Port     Status      Description                      
1001/1001                 (Unspecified)                            D  No         No          A  0        Unmonitored                                      
sipnet/0049876543         212.53.40.40                                No         No          A  5060     Unmonitored                                      
2 sip peers [Monitored: 0 online, 0 offline Unmonitored: 2 online, 0 offline]
"""
SIP_PEERS_NONE = SIP_PEERS.splitlines()[0] + "\n0 sip peers [Monitored: 0 online, 0 offline Unmonitored: 0 online, 0 offline]\n"
SIP_REGISTRY = """\
Host                                    dnsmgr Username       Refresh State                Reg.Time                 
212.53.40.40:5060                       N      0049876543         105 Request Sent                                  
1 SIP registrations.
"""
SIP_REGISTRY_NONE = SIP_REGISTRY.splitlines()[0] + "\n0 SIP registrations.\n"

PARSED = [
    ("pjsip-endpoints", sm.parse_pjsip_endpoints, PJSIP_ENDPOINTS, ["1001", "sipnet"]),
    ("pjsip-endpoints-in-call", sm.parse_pjsip_endpoints, PJSIP_ENDPOINTS_IN_CALL, ["alice", "bob"]),
    ("pjsip-endpoints-none", sm.parse_pjsip_endpoints, "No objects found.\n", []),
    ("pjsip-endpoints-empty", sm.parse_pjsip_endpoints, "", []),
    ("pjsip-registrations", sm.parse_pjsip_registrations, PJSIP_REGISTRATIONS, ["sipnet"]),
    ("pjsip-registrations-two", sm.parse_pjsip_registrations, PJSIP_REGISTRATIONS_TWO, ["alpha", "zeta"]),
    ("pjsip-registrations-none", sm.parse_pjsip_registrations, "No objects found.\n", []),
    ("pjsip-registrations-endpoints-output", sm.parse_pjsip_registrations, PJSIP_ENDPOINTS, []),
    ("pjsip-transports", sm.parse_pjsip_transports, PJSIP_TRANSPORTS,
     [{"name": "transport-tls", "protocol": "tls", "bind": "0.0.0.0:5061"},
      {"name": "transport-udp", "protocol": "udp", "bind": "0.0.0.0:5060"}]),
    ("pjsip-transports-ipv6", sm.parse_pjsip_transports, PJSIP_TRANSPORTS_V6,
     [{"name": "transport-udp", "protocol": "udp", "bind": "[::]:5070"}]),
    ("pjsip-transports-none", sm.parse_pjsip_transports, "No objects found.\n", []),
    ("sip-peers", sm.parse_sip_peers, SIP_PEERS, ["1001", "sipnet"]),
    ("sip-peers-none", sm.parse_sip_peers, SIP_PEERS_NONE, []),
    ("sip-registry", sm.parse_sip_registry, SIP_REGISTRY, ["0049876543"]),
    ("sip-registry-none", sm.parse_sip_registry, SIP_REGISTRY_NONE, []),
]


class Vaulted:
    """Stands for an AnsibleVaultEncryptedUnicode: str() decrypts."""

    def __init__(self, plain):
        self.plain = plain

    def __str__(self):
        return self.plain


# (id, input, expected)
PLAIN = [
    ("scalars", [None, True, 3, 1.5, "x"], [None, True, 3, 1.5, "x"]),
    ("tuple-to-list", ("a", ("b", "c")), ["a", ["b", "c"]]),
    ("dict-keys-to-str", {1001: {"permit": ("192.0.2.0/24",)}}, {"1001": {"permit": ["192.0.2.0/24"]}}),
    ("vault-to-str", {"secret": Vaulted(SECRETS["1001"])}, {"secret": SECRETS["1001"]}),
    ("nested", [{"options": {"set_var": ("A=1", Vaulted("B=2"))}}], [{"options": {"set_var": ["A=1", "B=2"]}}]),
]

# ==============================================================================================
# Helpers
# ==============================================================================================


def errors_of(subscribers, trunks, defaults, sets, **kwargs):
    with pytest.raises(sm.ModelError) as info:
        sm.normalize(subscribers, trunks, defaults, None, sets, **kwargs)
    assert str(info.value) == "\n".join(info.value.errors)
    return info.value.errors


def secrets_of(subscribers, trunks, defaults):
    found = []
    for item in list(subscribers if isinstance(subscribers, list) else []) + list(trunks or []):
        if isinstance(item, dict) and item.get("secret"):
            found.append(str(item["secret"]))
    if isinstance(defaults, dict) and defaults.get("secret"):
        found.append(defaults["secret"])
    return found


def rendered(driver):
    # chan_sip takes one nat and one ACL for all its subscribers (a differing one would name the peer).
    subscribers = [dict(s, nat=True, permit=["192.0.2.0/24", "2001:db8:1::/48"], deny=["192.0.2.66"])
                   for s in RENDER_SUBSCRIBERS] if driver == "chan_sip" else RENDER_SUBSCRIBERS
    model = sm.normalize(subscribers, RENDER_TRUNKS, None, None, dict(RENDER_MODEL_SETTINGS, driver=driver, major=16))
    return sm.render(model, RENDER_SETTINGS)


def find(sections, driver, selector):
    """The one section named selector[0] with pjsip type / chan_sip suffix selector[1]."""
    name, kind = selector
    if driver == "pjsip":
        found = [s for s in sections if s["name"] == name and ["type", kind] in s["options"]]
    else:
        found = [s for s in sections if s["name"] == name and s["suffix"] == kind]
    assert len(found) == 1, "%s %s: %d sections" % (name, kind, len(found))
    return found[0]


def public(result):
    """Every section of the files shown in --diff (pjsip.conf and, for PJSIP, its transports file)."""
    return result["sections"] + result.get("transport_sections", [])


def flat(sections):
    return "\n".join("[%s]%s ;%s\n%s" % (s["name"], s["suffix"], s["comment"],
                                         "\n".join("%s=%s" % (k, v) for k, v in s["options"]))
                     for s in sections)


# ==============================================================================================
# Validation
# ==============================================================================================


@pytest.mark.parametrize("case_id, subscribers, trunks, defaults, sets, expected", BAD_INPUT,
                         ids=[case[0] for case in BAD_INPUT])
def test_bad_input_names_the_path(case_id, subscribers, trunks, defaults, sets, expected):
    errors = errors_of(subscribers, trunks, defaults, sets)
    assert len(errors) == BAD_INPUT_ERROR_COUNT.get(case_id, 1), errors
    matching = [e for e in errors if all(part in e for part in expected)]
    assert len(matching) == 1, "no single error has all of %r: %r" % (expected, errors)


@pytest.mark.parametrize("subscribers, trunks, defaults, sets", [case[1:5] for case in BAD_INPUT],
                         ids=[case[0] for case in BAD_INPUT])
def test_no_secret_in_any_error(subscribers, trunks, defaults, sets):
    text = "\n".join(errors_of(subscribers, trunks, defaults, sets))
    secrets = secrets_of(subscribers, trunks, defaults)
    for secret in secrets:
        assert secret not in text
        if len(secret.strip()) >= 6:
            assert secret.strip() not in text
            # nor a recognisable half of it
            assert secret.strip()[:8] not in text


def test_bad_input_table_is_large_and_unique():
    assert len(BAD_INPUT) >= 25
    assert len({case[0] for case in BAD_INPUT}) == len(BAD_INPUT)


def test_model_error_collects_every_problem():
    subscribers = [
        sub("1001", secret="short"),                           # policy
        sub("1002", permit=["10.0.0.5/24"], codecs=["alw"]),    # network + codec
        sub("1002", secret=SECRETS["1003"]),                  # duplicate
    ]
    trunks = [trunk(host="sip.example.com:5060", register=True)]
    errors = errors_of(subscribers, trunks, None, settings(driver="chan_sip", major=22))
    expected = [
        "asterisk_sip_driver: chan_sip was removed",
        S01 + ".secret: is 5 characters long",
        "asterisk_sip_subscribers[1] (extension 1002).permit[0]: '10.0.0.5/24' has host bits set",
        "asterisk_sip_subscribers[1] (extension 1002).codecs[0]: 'alw' is not a known codec (did you mean 'alaw'?)",
        "asterisk_sip_subscribers[2] (extension 1002).extension: duplicate",
        T0 + ".host: 'sip.example.com:5060': put the port in",
        T0 + ".register: registration needs username and secret",
    ]
    assert len(errors) == len(expected), errors
    for part, error in zip(expected, errors):
        assert error.startswith(part) or part in error, (part, error)
    with pytest.raises(sm.ModelError) as info:
        sm.normalize(subscribers, trunks, None, None, settings(driver="chan_sip", major=22))
    assert len(str(info.value).splitlines()) == len(expected)
    assert isinstance(info.value, ValueError)


def test_variable_names_in_messages_can_be_renamed():
    errors = errors_of([sub(permit=[])], None, None, PJSIP,
                       variables={"subscribers": "office_phones", "subscriber_defaults": "office_defaults"})
    assert errors == ["office_phones[0] (extension 1001).permit: is empty: list the networks the phone registers "
                      "from (or 0.0.0.0/0 and ::/0 for a roaming phone, then rely on fail2ban), here or in "
                      "office_defaults.permit"]


@pytest.mark.parametrize("secret", [
    "Xk9#mQ2zRtVwYu5L", "k8!J2m#Q9x@W4r$T", "correct-horse-battery-staple", "Vq3/Tn8+Lw5=Hc2a",
])
def test_good_secrets_pass(secret):
    model = sm.normalize([sub(secret=secret)], settings=PJSIP)
    assert model["subscribers"][0]["secret"] == secret


def test_chan_sip_major_16_is_accepted_and_no_transport_check_by_default():
    model = sm.normalize([sub()], [trunk()], settings=CHAN_SIP)
    assert model["driver"] == "chan_sip" and model["transports"] == ["udp"]


# ==============================================================================================
# Normalisation
# ==============================================================================================


@pytest.mark.parametrize("subscribers, trunks, defaults, sets, path, expected",
                         [case[1:] for case in NORMALIZED], ids=[case[0] for case in NORMALIZED])
def test_normalized(subscribers, trunks, defaults, sets, path, expected):
    model = sm.normalize(subscribers, trunks, defaults, None, sets)
    assert dig(model, path) == expected


def test_trunk_defaults_apply_and_trunk_overrides_them():
    model = sm.normalize([], [trunk(), trunk(name="other", host="192.0.2.99", context="pstn")], None,
                         {"context": "from-pstn", "codecs": ["g722"], "port": 5080, "qualify": False}, PJSIP)
    first, second = model["trunks"]
    assert (first["context"], first["codecs"], first["port"], first["qualify"]) == ("from-pstn", ["g722"], 5080, 0)
    assert second["context"] == "pstn"


def test_normalize_does_not_modify_its_input():
    subscribers, defaults = [sub(permit="192.0.2.10")], {"codecs": ["alaw"]}
    before = repr((subscribers, defaults))
    sm.normalize(subscribers, [trunk()], defaults, None, PJSIP)
    assert repr((subscribers, defaults)) == before
    assert sm.SUBSCRIBER_DEFAULTS["codecs"] == ["alaw", "ulaw"]


# ==============================================================================================
# features() and names()
# ==============================================================================================


@pytest.mark.parametrize("sub_fields, trunk_fields, sets, expected",
                         [case[1:] for case in FEATURES], ids=[case[0] for case in FEATURES])
def test_features(sub_fields, trunk_fields, sets, expected):
    trunks = [trunk(**trunk_fields)] if trunk_fields is not None else []
    model = sm.normalize([sub(**sub_fields)], trunks, None, None, sets)
    wanted = sm.features(model)
    assert wanted == expected
    assert wanted[0] == model["driver"]
    assert len(wanted) == len(set(wanted))
    for feature in wanted:
        assert feature in af.FEATURES, "%s is no asterisk_modules feature" % feature


def test_every_codec_feature_is_an_asterisk_modules_feature():
    for codec, feature in sm.CODECS.items():
        assert feature is None or feature in af.FEATURES, codec


@pytest.mark.parametrize("driver, registrations", [("pjsip", ["zeta"]), ("chan_sip", ["0049876543"])])
def test_names(driver, registrations):
    model = sm.normalize(
        [sub("1002", username="bob"), sub("1001")],
        [trunk(name="zeta", username="0049876543", secret=TRUNK_SECRET), trunk(name="alpha", host="192.0.2.50")],
        None, None, settings(driver=driver, major=16))
    assert sm.names(model) == {"endpoints": ["1001", "alpha", "bob", "zeta"], "registrations": registrations}


# ==============================================================================================
# Rendering
# ==============================================================================================


@pytest.mark.parametrize("driver, selector, option, value", RENDERED,
                         ids=["%s-%s-%s-%s" % (c[0], c[1][0], c[2], c[3]) for c in RENDERED])
def test_rendered_option(driver, selector, option, value):
    result = rendered(driver)
    assert [option, value] in find(public(result), driver, selector)["options"]


@pytest.mark.parametrize("driver, selector, option, value", RENDERED_SECRETS,
                         ids=["%s-%s-%s" % (c[0], c[1][0], c[2]) for c in RENDERED_SECRETS])
def test_rendered_secret_option(driver, selector, option, value):
    result = rendered(driver)
    assert [option, value] in find(result["secret_sections"], driver, selector)["options"]


@pytest.mark.parametrize("driver, selector, before, after", ORDERED,
                         ids=["%s-%s-%s-%s" % (c[0], c[1][0], c[2][0], c[3][0]) for c in ORDERED])
def test_rendered_order(driver, selector, before, after):
    options = find(rendered(driver)["sections"], driver, selector)["options"]
    assert options.index(list(before)) < options.index(list(after))


@pytest.mark.parametrize("driver", ["pjsip", "chan_sip"])
def test_secrets_only_in_secret_sections(driver):
    result = rendered(driver)
    shown, private = flat(public(result)), flat(result["secret_sections"])
    for secret in ALL_SECRETS:
        assert secret not in shown
        assert secret in private
    assert result["file"] == {"pjsip": "pjsip.conf", "chan_sip": "sip.conf"}[driver]
    assert result["secrets_file"] == {"pjsip": "pjsip_secrets.conf", "chan_sip": "sip_secrets.conf"}[driver]


@pytest.mark.parametrize("driver, options", [
    ("pjsip", ["password"]),
    ("chan_sip", ["secret", "remotesecret", "register", "md5secret"]),
])
def test_no_credential_option_in_public_sections(driver, options):
    for section in public(rendered(driver)):
        for key, _value in section["options"]:
            assert key not in options, section["name"]


@pytest.mark.parametrize("driver", ["pjsip", "chan_sip"])
def test_every_secret_section_in_secrets_file_is_known(driver):
    result = rendered(driver)
    if driver == "pjsip":
        assert all(["type", "auth"] in s["options"] for s in result["secret_sections"])
        assert sorted(s["name"] for s in result["secret_sections"]) == ["1001-auth", "bob-auth", "sipnet-auth"]
    else:
        assert all(s["suffix"] == "(+)" for s in result["secret_sections"])
        assert result["secret_sections"][0]["name"] == "general"   # the register lines
        assert [s["name"] for s in result["secret_sections"][1:]] == ["1001", "bob", "sipnet"]


def test_chan_sip_template_before_its_peers():
    sections = rendered("chan_sip")["sections"]
    names = [(s["name"], s["suffix"]) for s in sections]
    assert names[0] == ("general", "")
    template = names.index(("vpbx-subscriber", "(!)"))
    assert template < names.index(("1001", "(vpbx-subscriber)"))
    assert template < names.index(("bob", "(vpbx-subscriber)"))


@pytest.mark.parametrize("driver, selector, option", [
    ("pjsip", ("bob", "endpoint"), "rtp_symmetric"),
    ("pjsip", ("bob", "endpoint"), "rewrite_contact"),
    ("pjsip", ("bob", "aor"), "qualify_frequency"),
    ("pjsip", ("v6", "endpoint"), "outbound_auth"),
    ("pjsip", ("carrier", "endpoint"), "permit"),
    ("pjsip", ("carrier", "aor"), "qualify_frequency"),
    ("chan_sip", ("bob", "(vpbx-subscriber)"), "qualifyfreq"),
    ("chan_sip", ("v6", ""), "defaultuser"),
    ("chan_sip", ("1001", "(vpbx-subscriber)"), "nat"),
    ("chan_sip", ("sipnet", ""), "nat"),
])
def test_option_absent(driver, selector, option):
    options = find(rendered(driver)["sections"], driver, selector)["options"]
    assert option not in [key for key, _value in options]


@pytest.mark.parametrize("driver, section, option, value", [
    ("pjsip", ("global", "global"), "user_agent", "PBX"),
    ("chan_sip", ("general", ""), "useragent", "PBX"),
    ("chan_sip", ("general", ""), "tlsenable", "no"),
    ("pjsip", ("transport-udp", "transport"), "bind", "[::]:5070"),
    ("chan_sip", ("general", ""), "udpbindaddr", "[::]:5070"),
])
def test_render_defaults_and_ipv6_bind(driver, section, option, value):
    model = sm.normalize([sub()], [], None, None, settings(driver=driver, major=16))
    result = sm.render(model, {"bind_address": "::", "port": 5070} if "bind" in option else {})
    assert [option, value] in find(public(result), driver, section)["options"]


@pytest.mark.parametrize("driver, section, option", [
    ("pjsip", ("global", "global"), "default_realm"),
    ("chan_sip", ("general", ""), "realm"),
])
@pytest.mark.parametrize("render_settings, realm", [({}, "pbx"), ({"realm": "office.example"}, "office.example")])
def test_neutral_realm(driver, section, option, render_settings, realm):
    model = sm.normalize([sub()], [], None, None, settings(driver=driver, major=16))
    result = sm.render(model, render_settings)
    assert [option, realm] in find(result["sections"], driver, section)["options"]
    assert "asterisk" not in flat(public(result)).lower()


def test_pjsip_transports_have_their_own_file():
    result = rendered("pjsip")
    assert result["transports_file"] == "pjsip_transports.conf"
    assert [s["name"] for s in result["transport_sections"]] == ["transport-udp", "transport-tls"]
    assert not [s for s in result["sections"] if ["type", "transport"] in s["options"]]
    assert result["transports"] == [   # in the order `pjsip show transports` lists them (by id)
        {"name": "transport-tls", "protocol": "tls", "bind": "0.0.0.0:5061"},
        {"name": "transport-udp", "protocol": "udp", "bind": "0.0.0.0:5060"},
    ]


def test_chan_sip_has_no_transports_file():
    result = rendered("chan_sip")
    assert (result["transports_file"], result["transport_sections"], result["transports"]) == ("", [], [])


def test_chan_sip_tcp_enabled_when_asked():
    model = sm.normalize([sub(transport="tcp")], [], None, None, settings(CHAN_SIP, transports=["udp", "tcp"]))
    general = find(sm.render(model, {})["sections"], "chan_sip", ("general", ""))["options"]
    assert ["tcpenable", "yes"] in general and ["tcpbindaddr", "0.0.0.0:5060"] in general


def test_pjsip_dtls_subscriber():
    model = sm.normalize([sub(media_encryption="dtls")], [], None, None, PJSIP)
    options = find(sm.render(model, {})["sections"], "pjsip", ("1001", "endpoint"))["options"]
    for pair in (["media_encryption", "dtls"], ["dtls_auto_generate_cert", "yes"], ["dtls_verify", "fingerprint"]):
        assert pair in options


def test_raw_options_come_last():
    model = sm.normalize([sub(options={"language": "de"})], [], None, None, PJSIP)
    options = find(sm.render(model, {})["sections"], "pjsip", ("1001", "endpoint"))["options"]
    assert options[-1] == ["language", "de"]


@pytest.mark.parametrize("value, expected", [case[1:] for case in PLAIN], ids=[case[0] for case in PLAIN])
def test_plain(value, expected):
    assert plain(value) == expected


# ==============================================================================================
# Reading the driver back
# ==============================================================================================


@pytest.mark.parametrize("parser, text, expected", [case[1:] for case in PARSED], ids=[case[0] for case in PARSED])
def test_parsers(parser, text, expected):
    assert parser(text) == expected


@pytest.mark.parametrize("driver, endpoints_text, registrations_text", [
    ("pjsip", PJSIP_ENDPOINTS, PJSIP_REGISTRATIONS),
    ("chan_sip", SIP_PEERS, SIP_REGISTRY),
])
def test_names_match_what_the_driver_shows(driver, endpoints_text, registrations_text):
    """The verify step compares names() with the parsed CLI output for equality."""
    model = sm.normalize([sub()], [trunk(username="0049876543", secret=TRUNK_SECRET)], None, None,
                         settings(driver=driver, major=16))
    expected = sm.names(model)
    if driver == "pjsip":
        shown = {"endpoints": sm.parse_pjsip_endpoints(endpoints_text),
                 "registrations": sm.parse_pjsip_registrations(registrations_text)}
    else:
        shown = {"endpoints": sm.parse_sip_peers(endpoints_text),
                 "registrations": sm.parse_sip_registry(registrations_text)}
    assert shown == expected


@pytest.mark.parametrize("transports, shown", [
    (["tls", "udp"], PJSIP_TRANSPORTS),
    (["udp"], PJSIP_TRANSPORTS_V6.replace("[::]:5070", "0.0.0.0:5060")),
])
def test_running_transports_match_the_render(transports, shown):
    """verify.yml restarts Asterisk when these differ."""
    model = sm.normalize([sub(transport=transports[0])], [], None, None, settings(transports=transports))
    assert sm.parse_pjsip_transports(shown) == sm.render(model, {})["transports"]


@pytest.mark.parametrize("transports", [["udp", "tls"], ["udp", "tcp"], ["tls", "udp"], ["udp", "tcp", "tls"]])
def test_transport_order_does_not_make_verify_restart(transports):
    """Whatever the order of asterisk_sip_transports, the render equals what Asterisk lists."""
    model = sm.normalize([sub()], [], None, None, settings(transports=transports))
    shown = "\n".join(["Transport:  %-24s  %-5s  0      0  0.0.0.0:%d" % ("transport-" + kind, kind,
                                                                          5061 if kind == "tls" else 5060)
                       for kind in sorted(transports)])  # Asterisk lists by id
    assert sm.parse_pjsip_transports(shown) == sm.render(model, {})["transports"]


# ==============================================================================================
# Regressions: bugs found by these tests and fixed
# ==============================================================================================

def test_bug_username_equal_to_later_extension_is_a_duplicate():
    errors = errors_of([sub("1002", username="1001"), sub("1001")], None, None, PJSIP)
    assert any("asterisk_sip_subscribers[1] (extension 1001).username: duplicate" in e for e in errors)


@pytest.mark.parametrize("secret, weak_words", [
    ("Passw0rd12345678", []),
    ("Acme2024!Acme2024", ["acme2024"]),
])
def test_bug_weak_words_with_digits(secret, weak_words):
    errors = errors_of([sub(secret=secret)], None, None, settings(weak_words=weak_words))
    assert any(S01 + ".secret: is made of a known weak word" in e for e in errors)


def test_bug_trunk_name_with_dot_gets_an_invalid_default_context():
    model = sm.normalize([], [trunk(name="sip.example")], None, None, PJSIP)
    assert sm.CONTEXT_RE.match(model["trunks"][0]["context"])


@pytest.mark.parametrize("secret", ["Ab/cd+ef12GH34ij", "Ab:cd+ef12GH34ij", "Ab?cd+ef12GH34ij"])
def test_bug_chan_sip_register_line_secret_characters(secret):
    errors = errors_of([], [trunk(username="0049876543", secret=secret)], None, CHAN_SIP)
    assert any(e.startswith(T0 + ".secret") for e in errors)
    assert secret not in "\n".join(errors)


@pytest.mark.parametrize("subscribers, trunks", [
    ([sub(username="general")], []),
    ([], [trunk(name="vpbx-subscriber")]),
])
def test_bug_chan_sip_reserved_section_names(subscribers, trunks):
    errors_of(subscribers, trunks, None, CHAN_SIP)


def test_bug_chan_sip_registry_truncates_long_user_names():
    model = sm.normalize([], [trunk(username="004930123456789", secret=TRUNK_SECRET)], None, None, CHAN_SIP)
    shown = ("Host                                    dnsmgr Username       Refresh State                Reg.Time\n"
             "212.53.40.40:5060                       N      004930123456      105 Registered           "
             "Tue, 13 Jan 2026 10:00:00\n"
             "1 SIP registrations.\n")
    assert sm.parse_sip_registry(shown) == sm.names(model)["registrations"]


# ==============================================================================================
# Toll fraud: nothing in raw options overrides a guard; trunks identify narrow networks; dead
# calls end
# ==============================================================================================

def _maximal(driver):
    """A model using every field that adds options: NAT, DTLS, voicemail, recording, a trunk with
    registration, From headers and identify."""
    subs = [sub(nat=True, media_encryption="dtls", transport="tls", voicemail=True, voicemail_pin="480315",
                record=True, contact_permit=["192.0.2.0/25"], deny=["192.0.2.7/32"], max_calls=3),
            sub("1002", qualify=False, media_encryption="sdes", transport="tls", nat=True, deny=["192.0.2.7/32"])]
    trunks = [trunk(username="office", secret=TRUNK_SECRET, from_user="office", from_domain="sipnet.ru",
                    register=True, identify=["212.53.40.0/24"])]
    sets = settings(CHAN_SIP if driver == "chan_sip" else PJSIP, transports=["udp", "tls"])
    return sm.normalize(subs, trunks, settings=sets)


@pytest.mark.parametrize("driver", ["pjsip", "chan_sip"])
def test_every_key_the_model_renders_on_a_phone_or_trunk_is_refused_as_a_raw_option(driver):
    rendered = sm.render(_maximal(driver), {"tls_cert_file": "/etc/asterisk/keys/pbx.pem",
                                            "tls_key_file": "/etc/asterisk/keys/pbx.key"})
    # Raw options go to the phone's or trunk's endpoint (PJSIP) or peer (chan_sip).
    keys = {k for s in rendered["sections"] if s["name"] in ("1001", "1002", "sipnet")
            and dict(s["options"]).get("type") in (None, "endpoint", "peer") for k, _unused in s["options"]}
    assert keys and keys <= sm.MODEL_KEYS | set(sm.RAW_FORBIDDEN), sorted(keys - sm.MODEL_KEYS - set(sm.RAW_FORBIDDEN))


@pytest.mark.parametrize("key", sorted(sm.MODEL_KEYS))
def test_a_raw_option_may_not_override_a_key_the_model_owns(key):
    for subscribers, trunks, path in (([sub(options={key: "x"})], None, S01),
                                      ([sub()], [trunk(options={key: "x"})], T0)):
        with pytest.raises(sm.ModelError) as exc:
            sm.normalize(subscribers, trunks, settings=PJSIP)
        assert exc.value.errors == ["%s.options.%s: not allowed as a raw option: the model sets %s itself (from its "
                                    "fields, or as the hardening requires) and a raw value would override it"
                                    % (path, key, key)]


@pytest.mark.parametrize("networks, wide, error", [
    (["0.0.0.0/1"], False, "0.0.0.0/1 is wider than an IPv4 /16"),
    (["212.52.0.0/15"], False, "212.52.0.0/15 is wider than an IPv4 /16"),
    (["2001:db8::/32"], False, "2001:db8::/32 is wider than an IPv6 /48"),
    (["212.53.0.0/16", "2001:db8:1::/48"], False, None),
    (["0.0.0.0/1"], True, None),
])
def test_a_trunk_identify_wider_than_a_16_or_48_needs_identify_wide(networks, wide, error):
    trunks = [trunk(identify=networks, identify_wide=wide)]
    if error is None:
        assert sm.normalize([sub()], trunks, settings=PJSIP)["trunks"][0]["identify"] == networks
        return
    with pytest.raises(sm.ModelError) as exc:
        sm.normalize([sub()], trunks, settings=PJSIP)
    assert exc.value.errors == ["%s.identify[0]: %s: every address in it would be trunk sipnet, unauthenticated. "
                                "List the provider's signalling addresses, or set identify_wide: true to accept "
                                "that" % (T0, error)]


@pytest.mark.parametrize("driver, section, options", [
    ("pjsip", "1001", [["rtp_timeout", "30"], ["rtp_timeout_hold", "900"]]),
    ("pjsip", "sipnet", [["rtp_timeout", "30"], ["rtp_timeout_hold", "900"]]),
    ("chan_sip", "general", [["rtptimeout", "30"], ["rtpholdtimeout", "900"]]),
])
def test_dead_calls_end_after_the_rtp_timeout(driver, section, options):
    model = sm.normalize([sub()], [trunk()], settings=settings(CHAN_SIP if driver == "chan_sip" else PJSIP,
                                                               rtp_timeout=30, rtp_hold_timeout=900))
    rendered = [o for s in sm.render(model, {})["sections"] if s["name"] == section for o in s["options"]]
    for option in options:
        assert option in rendered, rendered
    default = sm.render(sm.normalize([sub()], settings=PJSIP), {})["sections"]
    assert ["rtp_timeout", "120"] in [o for s in default if s["name"] == "1001" for o in s["options"]]


@pytest.mark.parametrize("sets, error", [
    ({"rtp_timeout": 5}, "asterisk_sip_rtp_timeout: 5 must be a whole number from 10 to 3600"),
    ({"rtp_timeout": 300, "rtp_hold_timeout": 200}, "asterisk_sip_rtp_hold_timeout: 200 must be longer than the RTP "
                                                    "timeout (300)"),
])
def test_rtp_timeouts_are_checked(sets, error):
    with pytest.raises(sm.ModelError) as exc:
        sm.normalize([sub()], settings=settings(**sets))
    assert any(e.startswith(error) for e in exc.value.errors), exc.value.errors


@pytest.mark.parametrize("secret", [
    "qwertyuiopasdfghjk",      # a keyboard row
    "1qaz2wsx3edc4rfv5tgb",    # a keyboard walk in columns
    "abcdefghijklmnop12",      # a sequence
    "Welcome2024!!!!!",        # a word, a year, a run
    "Password!Password!",      # a word twice
    "Summer2023Summer",        # a season, a year, the season again
])
def test_a_secret_from_an_attacker_s_word_list_is_refused(secret):
    with pytest.raises(sm.ModelError) as exc:
        sm.normalize([sub(secret=secret)], settings=PJSIP)
    assert len(exc.value.errors) == 1 and exc.value.errors[0].startswith(S01 + ".secret: "), exc.value.errors
    assert secret not in exc.value.errors[0]


def test_the_strength_estimate_speaks_for_itself_and_can_be_switched_off():
    with pytest.raises(sm.ModelError) as exc:
        sm.normalize([sub(secret="1qaz2wsx3edc4rfv5tgb")], settings=PJSIP)
    assert re.match(r"^%s\.secret: is easy to guess \(zxcvbn: [0-3] of 4, about 10\^\d+ guesses.*; "
                    r"asterisk_sip_secret_min_score is 4\): use a random secret" % re.escape(S01), exc.value.errors[0])
    assert sm.normalize([sub(secret="1qaz2wsx3edc4rfv5tgb")], settings=settings(secret_min_score=0))
    # What `openssl rand -hex 16` and `-base64 18` give passes.
    for secret in ("9f86d081884c7d659a2feaa0c55ad015", "q2Xw8vN+e1LmZk3Ry7Tb/pQa"):
        assert sm.normalize([sub(secret=secret)], settings=PJSIP)["subscribers"][0]["secret"] == secret


def test_each_secret_is_judged_once_per_process_and_the_verdict_stays_the_same():
    secret = "9f86d081884c7d659a2feaa0c55ad015"[::-1]
    first = sm.strength(secret, ["1001", None])
    calls = sm._strength.cache_info()
    again = sm.strength(secret + "tail beyond the prefix", ["1001"])
    after = sm._strength.cache_info()
    assert again == first and first["score"] == 4 and (after.hits, after.misses) == (calls.hits + 1, calls.misses)
    # A different user name is another question: judged, and it can fail where the first passed.
    assert sm.strength("Kq8vXzt7-2026", ["Kq8vXzt7"])["score"] < sm.strength("Kq8vXzt7-2026")["score"] == 4
    assert sm._strength.cache_info().misses == after.misses + 2
    # The caller's copy is its own: changing it changes no later answer.
    first["score"] = 0
    assert sm.strength(secret, ["1001"])["score"] == 4


def test_chan_sip_refuses_a_subscriber_whose_nat_differs_from_the_others():
    subscribers = [sub(nat=True), sub("1002", nat=True), sub("1003", nat=False)]
    with pytest.raises(sm.ModelError) as exc:
        sm.normalize(subscribers, settings=CHAN_SIP)
    assert exc.value.errors == [
        "asterisk_sip_subscribers[2] (extension 1003).nat: false while other subscribers say true: chan_sip answers a "
        "peer whose nat differs from [general] at another port than an unknown user, which names it to a scanner. "
        "Give every subscriber the same nat (asterisk_sip_subscriber_defaults), or use pjsip"]
    # PJSIP has no [general] nat to differ from; chan_sip with no NAT anywhere says no in [general].
    assert sm.normalize(subscribers, settings=PJSIP)
    general = sm.render(sm.normalize([sub(), sub("1002")], settings=CHAN_SIP), {})["sections"][0]
    assert ["nat", "no"] in general["options"]


def test_chan_sip_refuses_subscribers_with_different_permits():
    subscribers = [sub(), sub("1002"), sub("1003", permit=["192.0.2.200/32"])]
    with pytest.raises(sm.ModelError) as exc:
        sm.normalize(subscribers, settings=CHAN_SIP)
    assert exc.value.errors == [
        "asterisk_sip_subscribers[2] (extension 1003).permit: [192.0.2.200/32] while other subscribers have "
        "[192.0.2.0/24]: chan_sip answers a request naming a subscriber from an address its own permit/deny refuses "
        "with 403 where an unknown user gets 401, which names it to a scanner that another subscriber's networks let "
        "through. "
        "Give every chan_sip subscriber the same permit (asterisk_sip_subscriber_defaults.permit), or use pjsip "
        "(asterisk_sip_driver: pjsip answers both alike)"]
    # PJSIP answers both alike: a permit of one's own is fine there.
    assert sm.normalize(subscribers, settings=PJSIP)


@pytest.mark.parametrize("first, second, error", [
    # A deny of one's own is a hole in that subscriber's ACL only.
    ({}, {"deny": ["192.0.2.66/32"]}, "asterisk_sip_subscribers[1] (extension 1002).deny: [192.0.2.66/32] while "
                                      "other subscribers have []"),
    # A wider permit: the narrower one is outside it.
    ({"permit": ["192.0.2.0/24", "198.51.100.0/24"]}, {},
     "asterisk_sip_subscribers[0] (extension 1001).permit: [192.0.2.0/24, 198.51.100.0/24] while other "
     "subscribers have [192.0.2.0/24]"),
])
def test_chan_sip_acl_differences_are_named_against_the_common_acl(first, second, error):
    subscribers = [sub(**first), sub("1002", **second), sub("1003")]
    with pytest.raises(sm.ModelError) as exc:
        sm.normalize(subscribers, settings=CHAN_SIP)
    assert len(exc.value.errors) == 1 and exc.value.errors[0].startswith(error + ": chan_sip"), exc.value.errors


def test_chan_sip_same_acl_in_another_order_or_spelling_is_one_acl():
    subscribers = [sub(permit=["192.0.2.0/24", "198.51.100.0/24"]),
                   sub("1002", permit=["198.51.100.0/24", "192.0.2.0/24", "192.0.2.0/24"]),
                   sub("1003", permit=["198.51.100.0/24", "192.0.2.0/24"])]
    model = sm.normalize(subscribers, settings=CHAN_SIP)
    assert [s["extension"] for s in model["subscribers"]] == ["1001", "1002", "1003"]
    # One subscriber alone has nothing to differ from; two different ones: both named? No - the
    # first one is the reference on a tie, the other is named.
    with pytest.raises(sm.ModelError) as exc:
        sm.normalize([sub(), sub("1002", permit=["198.51.100.0/24"])], settings=CHAN_SIP)
    assert [e.split(":")[0] for e in exc.value.errors] == ["asterisk_sip_subscribers[1] (extension 1002).permit"]
