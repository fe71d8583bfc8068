# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
"""The one subscriber/trunk model of the collection.

``normalize()`` validates the user's ``asterisk_sip_*`` variables and returns the model every
role reads (SIP driver, dialplan, firewall): defaults applied, networks canonical, codecs and
DTMF modes in one spelling. ``render()`` turns the model into the sections of pjsip.conf or
sip.conf, split into a public part and a secrets part (so that ``--diff`` can show the first and
never the second). Error messages name the variable path and the fix and never contain a secret.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import ipaddress
import re

from ansible_collections.vpbx.hardened.plugins.module_utils.checks import Checker, text

DRIVERS = ("pjsip", "chan_sip")
TRANSPORTS = ("udp", "tcp", "tls")
MEDIA_ENCRYPTION = ("none", "sdes", "dtls")
DTMF_MODES = {"rfc4733": "rfc4733", "rfc2833": "rfc4733", "inband": "inband", "info": "info", "auto": "auto"}
# codec -> the module feature (asterisk_modules) that provides its translator; None: built in
# (G.711) or pass-through only (no translator in Debian's packages).
CODECS = {
    "ulaw": "codecs_g711", "alaw": "codecs_g711", "g722": "codec_g722", "gsm": "codec_gsm",
    "g726": "codec_g726", "g726aal2": "codec_g726", "ilbc": None, "speex": "codec_speex",
    "lpc10": "codec_lpc10", "adpcm": "codec_adpcm", "slin": None, "g729": None, "opus": None,
    "h264": None, "vp8": None,
}
CHAN_SIP_MAX_MAJOR = 20  # chan_sip was removed in Asterisk 21

# Words no secret may be made of (after removing digits and punctuation, case-insensitive).
WEAK_WORDS = frozenset("""
password passw0rd pass secret secrets asterisk admin administrator root user guest test testing
qwerty qwertyuiop asdf asdfgh asdfghjkl zxcvbn letmein welcome changeme default voip sip pbx phone
telephone office trunk provider sipnet monkey dragon master iloveyou abc abcdef abcdefgh
""".split())

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
CONTEXT_RE = re.compile(r"^[A-Za-z0-9_-]{1,79}$")
EXTENSION_RE = re.compile(r"^[0-9]{2,10}$")
HOST_RE = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")
SIP_USER_RE = re.compile(r"^[A-Za-z0-9_.+!~*'()&=$,;?/-]{1,64}$")
RAW_KEY_RE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
# Section names the renderings use themselves.
RESERVED_NAMES = frozenset(["general", "global", "system", "vpbx-subscriber", "transport-udp", "transport-tcp",
                            "transport-tls", "authentication", "anonymous"])
# Raw options that would carry a secret into the public file or undo the hardening the model
# renders: they have fields of their own (or must not change).
RAW_FORBIDDEN = {
    "secret": "use the secret field", "password": "use the secret field", "md5secret": "use the secret field",
    "remotesecret": "use the secret field", "md5_cred": "use the secret field",
    "permit": "use the permit field", "deny": "use the deny field", "acl": "use the permit/deny fields",
    "contact_permit": "use the contact_permit field", "contact_deny": "use the deny field",
    "contactpermit": "use the contact_permit field", "contactdeny": "use the deny field",
    "contact_acl": "use the permit/deny fields", "type": "the model sets the section type",
    "allow_unauthenticated_options": "unauthenticated OPTIONS let scanners enumerate extensions",
    "allowguest": "guests reach the dialplan without a password", "insecure": "disables authentication",
    "auth": "the model links the auth section", "outbound_auth": "the model links the auth section",
    "identify_by": "subscribers are identified by user name, trunks by address only",
    "trust_id_inbound": "would trust caller identity headers from the peer", "trustrpid": "would trust caller identity headers",
    "send_pai": "would send caller identity headers", "sendrpid": "would send caller identity headers",
}
# Keys the renderings set on a subscriber's or a trunk's section, in either driver: a raw option
# repeating one would override what the model guards (its context, ACLs, identity, media...).
# tests/unit: every key the renderers write is in here.
MODEL_KEYS = frozenset("""
type transport context aors auth outbound_auth callerid disallow allow dtmf_mode direct_media
identify_by trust_id_inbound send_pai device_state_busy_at rtp_symmetric force_rport rewrite_contact
media_encryption dtls_auto_generate_cert dtls_verify mailboxes set_var from_user from_domain
rtp_timeout rtp_timeout_hold endpoint match
defaultuser username call-limit qualify qualifyfreq qualify_frequency dtmfmode nat encryption dtlsenable
dtlsverify dtlsautogeneratecert mailbox setvar host port insecure directmedia fromuser fromdomain
rtptimeout rtpholdtimeout sdp_owner sdp_session contact_user vmexten
""".split()) - frozenset(RAW_FORBIDDEN)
# Seconds without media before a call is ended (dead calls hold lines and run up bills), off hold
# and on hold.
RTP_TIMEOUT = 120
RTP_HOLD_TIMEOUT = 600
# Trunk identify networks wider than these make (nearly) every address the unauthenticated trunk.
IDENTIFY_MAX_PREFIX = {4: 16, 6: 48}
# PINs tried first by anyone who reaches VoiceMailMain.
WEAK_PINS = {"1212", "2580", "1004", "2000", "6969", "1122", "4321", "1010", "7777", "1313", "123123",
             "112233", "121212", "696969", "147258", "159753", "0852", "1984", "2001", "2020"}
# chan_sip splits `register => user:secret@host/contact` on these.
CHAN_SIP_REGISTER_UNSAFE = "/:@?#; "

SUBSCRIBER_FIELDS = {
    "extension": "dialable number and SIP user name (digits)",
    "username": "SIP user name when it differs from the extension",
    "name": "caller ID name",
    "secret": "digest password",
    "context": "dialplan context of the phone's calls",
    "permit": "networks the phone may register and call from",
    "deny": "networks refused inside the permitted ones",
    "contact_permit": "networks the Contact address may be in (default: permit)",
    "max_calls": "concurrent calls",
    "codecs": "codecs in order of preference",
    "transport": "udp, tcp or tls",
    "media_encryption": "none, sdes or dtls",
    "nat": "the phone is behind NAT",
    "dtmf_mode": "rfc4733 (rfc2833), inband, info or auto",
    "qualify": "seconds between OPTIONS pings (0/false: off)",
    "max_contacts": "registrations kept at once",
    "voicemail": "the subscriber has a voicemail box",
    "voicemail_email": "address voicemail notifications go to",
    "voicemail_pin": "voicemail PIN (4-12 digits, not trivial; vault it)",
    "record": "record this subscriber's calls (MixMonitor, asterisk_dialplan)",
    "options": "raw driver options (escape hatch)",
}
TRUNK_FIELDS = {
    "name": "trunk name",
    "host": "provider host name or address",
    "port": "provider SIP port",
    "transport": "udp, tcp or tls",
    "username": "authentication user name",
    "secret": "authentication password",
    "from_user": "user part of the From header",
    "from_domain": "domain of the From header",
    "register": "send an outbound REGISTER",
    "context": "dialplan context of inbound calls",
    "codecs": "codecs in order of preference",
    "identify": "provider addresses inbound calls are accepted from",
    "identify_wide": "accept identify networks wider than an IPv4 /16 or an IPv6 /48",
    "dtmf_mode": "rfc4733 (rfc2833), inband, info or auto",
    "qualify": "seconds between OPTIONS pings (0/false: off)",
    "max_calls": "concurrent calls",
    "options": "raw driver options (escape hatch)",
}
SUBSCRIBER_DEFAULTS = {
    "context": "internal", "permit": [], "deny": [], "max_calls": 2, "codecs": ["alaw", "ulaw"],
    "transport": "udp", "media_encryption": "none", "nat": False, "dtmf_mode": "rfc4733", "qualify": 60,
    "max_contacts": 1, "voicemail": False, "voicemail_email": "", "voicemail_pin": "", "record": False,
    "options": {},
}
TRUNK_DEFAULTS = {
    "port": None, "transport": "udp", "username": "", "secret": "", "from_user": "", "from_domain": "",
    "register": None, "context": None, "codecs": ["alaw", "ulaw"], "identify": None, "identify_wide": False,
    "dtmf_mode": "rfc4733",
    "qualify": 60, "max_calls": 10, "options": {},
}


# zxcvbn's score (0-4) a subscriber secret needs: 4 is 10^10 guesses or more - keyboard walks,
# sequences, dates and words with digits score lower. A digest captured on the wire is cracked
# offline at billions of guesses a second.
MIN_SECRET_SCORE = 4
STRENGTH_PREFIX = 24


def strength(secret, user_inputs=()):
    """zxcvbn's estimate of a secret ({score, guesses_log10, warning}); zxcvbn is a controller
    requirement (requirements.txt), imported only here. A pure function of its arguments: one plan
    checks the model of several concerns, so each secret is judged once per process."""
    # zxcvbn's cost grows with the length (a 1000-phone model is judged in every run): the first 24
    # characters decide - a guessable start is not made safe by what follows it.
    return dict(_strength(secret[:STRENGTH_PREFIX], tuple(str(u) for u in user_inputs if u)))


@functools.lru_cache(maxsize=4096)
def _strength(prefix, user_inputs):
    try:
        from zxcvbn import zxcvbn  # pylint: disable=import-outside-toplevel
    except ImportError as exc:  # pragma: no cover - depends on the controller
        raise ModelError(["the controller needs the Python package zxcvbn to judge secrets: pip install -r "
                          "requirements.txt, or pip install 'zxcvbn==4.5.0' in the Python that runs ansible "
                          "(%s)" % exc])
    result = zxcvbn(prefix, user_inputs=list(user_inputs))
    return tuple({"score": result["score"], "guesses_log10": result["guesses_log10"],
                  "warning": (result.get("feedback") or {}).get("warning") or ""}.items())


class ModelError(ValueError):
    """Bad input. ``errors`` lists every problem found (variable path: problem — fix)."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


def _text(value):
    """Plain text of a value; vault-encrypted strings are decrypted by str()."""
    if value is None:
        return ""
    return str(value)


def _is_bool(value):
    return isinstance(value, bool)


# The example inventory's secrets and PINs are published, with the password of its vault
# (inventories/example): their SHA-256, refused everywhere else. tests/unit/inventories keeps this
# set equal to what the example vault holds.
PUBLISHED_SECRETS = frozenset("""
6bc7cffb44ff387d9eb80dab7f624b91e077cd7aaafece082ae22f71917737bc
a25477746e8d11a35d89c1de360706e0e93af1fcf2941d87019151484333013f
3cb24d5fa4be59738decc121ff493cee4b218706800d6b5997d664b8585f4d9b
b118580303c5de19c00ba0361b8f9f0e631f8fab718b231f7ad3bf2d8c0d4078
""".split())
PUBLISHED = ("is published in the collection's example inventory (inventories/example, whose vault password "
             "is in the repository): make your own vault with fresh values (openssl rand -hex 16)")


def published(value):
    return hashlib.sha256(str(value).encode("utf-8")).hexdigest() in PUBLISHED_SECRETS


class _Checker(Checker):
    """The one validator (module_utils/checks.py), with the model's own kinds of field: codecs, raw
    driver options, secrets."""

    def __init__(self, allow_published=False):
        super().__init__()
        self.allow_published = allow_published

    def not_published(self, path, value):
        if value and not self.allow_published and published(value):
            self.err(path, PUBLISHED)
            return False
        return True

    # chan_sip's qualify spells off as false: no default value here.
    def integer(self, path, value, low, high, allow_false=False):  # pylint: disable=arguments-renamed
        """A whole number from low to high; with `allow_false`, false (or 0, or not given) switches
        it off (0) and true is 60 - qualify's spelling."""
        if allow_false:
            if value is None or value is False or text(value).strip() == "0":
                return 0
            if value is True:
                return 60
        number = super().integer(path, value, low, high)
        return low if number is None else number

    def codecs(self, path, value):
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",")]
        if not isinstance(value, (list, tuple)) or not value:
            self.err(path, "must be a non-empty list of codecs such as [alaw, ulaw]")
            return []
        result = []
        for index, item in enumerate(value):
            name = _text(item).strip().lower()
            if name not in CODECS:
                hint = difflib.get_close_matches(name, CODECS, n=1)
                self.err("%s[%d]" % (path, index), "%r is not a known codec%s. Known codecs: %s" % (
                    _text(item), " (did you mean %r?)" % hint[0] if hint else "", ", ".join(sorted(CODECS))))
            elif name not in result:
                result.append(name)
        return result

    def raw_options(self, path, value):
        if not value:
            return []
        if not isinstance(value, dict):
            self.err(path, "must be a mapping of option: value (a list value repeats the option)")
            return []
        result = []
        for key in value:
            text_key = _text(key).strip()
            if not RAW_KEY_RE.match(text_key):
                self.err("%s.%s" % (path, text_key), "not a valid option name (lower case letters, digits, _ and -)")
                continue
            if text_key in RAW_FORBIDDEN:
                self.err("%s.%s" % (path, text_key), "not allowed as a raw option: %s" % RAW_FORBIDDEN[text_key])
                continue
            if text_key in MODEL_KEYS:
                self.err("%s.%s" % (path, text_key), "not allowed as a raw option: the model sets %s itself (from "
                         "its fields, or as the hardening requires) and a raw value would override it"
                         % text_key)
                continue
            values = value[key] if isinstance(value[key], (list, tuple)) else [value[key]]
            for item in values:
                if _is_bool(item):
                    item = "yes" if item else "no"
                text = _text(item)
                if any(c in text for c in "\r\n[];") or text.startswith("#"):
                    self.err("%s.%s" % (path, text_key), "value must be one line without [ ] ; or a leading #")
                    continue
                result.append([text_key, text])
        return result

    def secret(self, path, value, forbidden, policy):
        text = _text(value)
        if not text:
            self.err(path, "is empty: set a password (e.g. the output of `openssl rand -hex 16`), "
                           "ideally vault-encrypted")
            return text
        if any(c in text for c in "\r\n;[]\"") or text != text.strip() or text.startswith(">") \
                or any(m in text for m in ("{{", "{%", "{#")):
            self.err(path, "contains a line break, ; [ ] \", surrounding spaces, a leading > or a template "
                           "marker ({{ {% {#), which the Asterisk configuration or Ansible would alter: use "
                           "letters, digits and other punctuation")
            return text
        if not self.not_published(path, text) or policy is None:
            return text
        low = text.lower()
        errors_before = len(self.errors)
        min_length = policy.get("min_length", 16)
        if len(text) < min_length:
            self.err(path, "is %d characters long, the policy wants at least %d "
                           "(asterisk_sip_secret_min_length): use a longer random secret"
                     % (len(text), min_length))
        for word in forbidden:
            if word and len(word) >= 2 and word.lower() in low:
                self.err(path, "contains the user name or extension %r: use a random secret" % word)
                break
        letters = re.sub(r"[^a-z]", "", low)
        alnum = re.sub(r"[^a-z0-9]", "", low)
        weak = set(WEAK_WORDS) | {re.sub(r"[^a-z0-9]", "", w.lower()) for w in policy.get("weak_words", [])}
        # A weak word, padded with digits/punctuation or repeated, is still that word.
        candidates = {letters, alnum, alnum.strip("0123456789")}
        if not letters or any(c in weak or any(
                c == word * (len(c) // len(word)) for word in weak if word and len(c) % len(word) == 0)
                for c in candidates if c):
            self.err(path, "is made of a known weak word or only digits and punctuation: use a random secret")
        elif len(set(low)) < min(8, max(1, len(text) // 2)):
            self.err(path, "repeats too few different characters (%d): use a random secret" % len(set(low)))
        # The estimate judges what the rules above let through.
        if len(self.errors) == errors_before and policy.get("min_score", MIN_SECRET_SCORE):
            estimate = strength(text, forbidden)
            if estimate["score"] < policy.get("min_score", MIN_SECRET_SCORE):
                self.err(path, "is easy to guess (zxcvbn: %d of 4, about 10^%d guesses%s; "
                               "asterisk_sip_secret_min_score is %d): use a random secret, e.g. the output of "
                               "`openssl rand -hex 16`" % (estimate["score"], int(estimate["guesses_log10"]),
                                                           ": " + estimate["warning"] if estimate["warning"] else "",
                                                           policy.get("min_score", MIN_SECRET_SCORE)))
        return text

    def pin(self, path, value, extension):
        """A voicemail PIN: digits only, and not one a scanner tries first."""
        if not re.match(r"^[0-9]{4,12}$", value):
            self.err(path, "%s: a voicemail box needs a PIN of 4-12 digits (vault-encrypt it)"
                     % ("is missing" if not value else "is not 4-12 digits"))
            return
        if pin_is_trivial(value, extension):
            self.err(path, "is trivial (repeated or consecutive digits, the extension, or a common PIN): "
                           "use random digits")
        else:
            self.not_published(path, value)


class SecretChecker(_Checker):
    """A secret outside the model (the call records' database password), judged as a subscriber's
    is: called with (path, value), its problems in `errors`."""

    def __call__(self, path, value):
        self.secret(path, value, [], {"min_length": 16, "min_score": MIN_SECRET_SCORE})


def secret_checker():
    return SecretChecker()


def pin_is_trivial(value, extension=""):
    """True for a PIN of digits a caller guesses first: one digit or group of digits repeated, a run
    up or down, the extension it guards (or one holding the other; an extension of one or two digits is in too many
    PINs to count), or a common PIN (WEAK_PINS)."""
    steps = {int(b) - int(a) for a, b in zip(value, value[1:])}
    repeated = any(len(value) % size == 0 and value == value[:size] * (len(value) // size)
                   for size in range(1, len(value) // 2 + 1))
    return bool(repeated or steps in ({1}, {-1}) or value in WEAK_PINS or value in extension
                or (len(extension) > 2 and extension in value))


def _unknown_fields(check, path, item, fields):
    for key in item:
        if key not in fields:
            hint = difflib.get_close_matches(str(key), fields, n=1)
            check.err("%s.%s" % (path, key), "unknown field%s. Known fields: %s" % (
                " (did you mean %r?)" % hint[0] if hint else "", ", ".join(fields)))


def _defaults(check, var, given, builtin, fields, per_item, what):
    """The built-in defaults updated with the user's defaults variable (checked)."""
    result = dict(builtin)
    if given:
        if not isinstance(given, dict):
            check.err(var, "must be a mapping of %s fields" % what)
        else:
            _unknown_fields(check, var, given, [f for f in fields if f not in per_item])
            result.update(given)
    return result


def _entries(check, var, value, what, needs):
    """(path, mapping) for each entry of a list variable; bad shapes are reported and skipped."""
    if value is None:
        return
    if not isinstance(value, (list, tuple)):
        check.err(var, "must be a list of %s" % what)
        return
    for index, raw in enumerate(value):
        base = "%s[%d]" % (var, index)
        if not isinstance(raw, dict):
            check.err(base, "must be a mapping with at least %s" % needs)
            continue
        yield base, raw


def _merged(defaults, item):
    result = dict(defaults)
    result.update({k: v for k, v in item.items() if v is not None or k not in defaults})
    return result


def normalize(subscribers, trunks=None, subscriber_defaults=None, trunk_defaults=None, settings=None,
              variables=None):
    """Validate and normalise. Raises ModelError listing every problem.

    settings: driver, transports (list), major (Asterisk major or None), secret_min_length,
    weak_words. variables: the names to use in messages (subscribers, trunks, defaults...).
    """
    settings = settings or {}
    names = {"subscribers": "asterisk_sip_subscribers", "trunks": "asterisk_sip_trunks",
             "subscriber_defaults": "asterisk_sip_subscriber_defaults",
             "trunk_defaults": "asterisk_sip_trunk_defaults", "driver": "asterisk_sip_driver",
             "transports": "asterisk_sip_transports"}
    names.update(variables or {})
    # allow_published: for the example inventory's own tests only.
    check = _Checker(bool(settings.get("allow_published_secrets")))
    policy = {"min_length": int(settings.get("secret_min_length", 16)),
              "weak_words": list(settings.get("weak_words") or []),
              "min_score": int(settings.get("secret_min_score", MIN_SECRET_SCORE))}

    driver = check.choice(names["driver"], settings.get("driver", "pjsip"), DRIVERS) or "pjsip"
    major = re.match(r"^\s*(\d+)", _text(settings.get("major")))
    major = int(major.group(1)) if major else 0
    if driver == "chan_sip" and major > CHAN_SIP_MAX_MAJOR:
        check.err(names["driver"], "chan_sip was removed in Asterisk 21 and this host has Asterisk %s: "
                                   "use pjsip (the same subscribers and trunks render to PJSIP)" % major)
    transports = settings.get("transports", ["udp"])
    if isinstance(transports, str):
        transports = [transports]
    enabled = []
    for index, item in enumerate(transports or []):
        name = check.choice("%s[%d]" % (names["transports"], index), item, TRANSPORTS)
        if name and name not in enabled:
            enabled.append(name)
    if not enabled:
        check.err(names["transports"], "enable at least one of udp, tcp, tls")
    check.networks(names.get("local_networks", "asterisk_sip_local_networks"), settings.get("local_networks"))
    external = _text(settings.get("external_address")).strip()
    if external:
        try:
            ipaddress.ip_address(external)
        except ValueError:
            if not HOST_RE.match(external):
                check.err(names.get("external_address", "asterisk_sip_external_address"),
                          "%r is not an address or host name" % external)

    sdefaults = _defaults(check, names["subscriber_defaults"], subscriber_defaults, SUBSCRIBER_DEFAULTS,
                          SUBSCRIBER_FIELDS, ("extension", "username", "name", "secret"), "subscriber")
    tdefaults = _defaults(check, names["trunk_defaults"], trunk_defaults, TRUNK_DEFAULTS,
                          TRUNK_FIELDS, ("name", "host", "username", "secret"), "trunk")

    out_subscribers, seen_ext, seen_user = [], {}, {}
    for base, raw in _entries(check, names["subscribers"], subscribers, "subscribers", "extension and secret"):
        item = _merged(sdefaults, raw)
        ext = _text(item.get("extension")).strip()
        path = "%s (extension %s)" % (base, ext) if ext else base
        _unknown_fields(check, path, raw, list(SUBSCRIBER_FIELDS))
        if not EXTENSION_RE.match(ext):
            check.err(path + ".extension", "%r must be 2 to 10 digits" % ext if ext else
                      "is missing: every subscriber needs an extension number")
        duplicate_ext = ext in seen_ext
        if duplicate_ext:
            check.err(path + ".extension", "duplicate: %s is already %s" % (ext, seen_ext[ext]))
        seen_ext.setdefault(ext, base)
        username = _text(item.get("username") or ext).strip()
        if item.get("username") not in (None, "") and not NAME_RE.match(username):
            check.err(path + ".username", "%r: use 1-40 letters, digits, _ . - (starting with a letter or digit)"
                      % username)
        if username.lower() in RESERVED_NAMES:
            check.err(path + ".username", "%r is a section name the configuration uses itself: choose another"
                      % username)
        if username and username in seen_user and not duplicate_ext:
            check.err(path + ".username", "duplicate: %r is already the user name of %s" % (username, seen_user[username]))
        if username:
            seen_user.setdefault(username, base)
        name = _text(item.get("name")).strip()
        if any(c in name for c in "\"<>\r\n;[]\\"):
            check.err(path + ".name", "must not contain quotes, < >, ; [ ] \\ or line breaks")
        secret = check.secret(path + ".secret", item.get("secret"), [ext, username], policy)
        context = _text(item.get("context")).strip()
        if not CONTEXT_RE.match(context):
            check.err(path + ".context", "%r: use letters, digits, _ and - only" % context)
        before = len(check.errors)
        permit = check.networks(path + ".permit", item.get("permit"))
        if not permit and len(check.errors) == before:
            check.err(path + ".permit", "is empty: list the networks the phone registers from "
                                        "(or 0.0.0.0/0 and ::/0 for a roaming phone, then rely on fail2ban), "
                                        "here or in %s.permit" % names["subscriber_defaults"])
        deny = check.networks(path + ".deny", item.get("deny"))
        contact_permit = check.networks(path + ".contact_permit", item.get("contact_permit")) \
            if item.get("contact_permit") not in (None, []) else list(permit)
        transport = check.choice(path + ".transport", item.get("transport"), TRANSPORTS)
        if transport and transport not in enabled:
            check.err(path + ".transport", "%r is not enabled: add it to %s" % (transport, names["transports"]))
        media = check.choice(path + ".media_encryption", item.get("media_encryption"), MEDIA_ENCRYPTION)
        if media == "sdes" and transport != "tls":
            check.err(path + ".media_encryption", "sdes sends the media keys in the SDP: it needs transport tls")
        voicemail = check.boolean(path + ".voicemail", item.get("voicemail"))
        email = _text(item.get("voicemail_email")).strip()
        if email and not re.match(r"^[^@\s,|]+@[^@\s,|]+$", email):
            check.err(path + ".voicemail_email", "%r is not an e-mail address" % email)
        pin = _text(item.get("voicemail_pin")).strip()
        if voicemail:
            check.pin(path + ".voicemail_pin", pin, ext)
        elif pin:
            check.err(path + ".voicemail_pin", "is set but the subscriber has no box: set voicemail: true")
        out_subscribers.append({
            "extension": ext, "username": username, "name": name, "secret": secret, "context": context,
            "permit": permit, "deny": deny, "contact_permit": contact_permit,
            "max_calls": check.integer(path + ".max_calls", item.get("max_calls"), 1, 100),
            "codecs": check.codecs(path + ".codecs", item.get("codecs")),
            "transport": transport, "media_encryption": media,
            "nat": check.boolean(path + ".nat", item.get("nat")),
            "dtmf_mode": check.choice(path + ".dtmf_mode", item.get("dtmf_mode"), DTMF_MODES),
            "qualify": check.integer(path + ".qualify", item.get("qualify"), 10, 3600, allow_false=True),
            "max_contacts": check.integer(path + ".max_contacts", item.get("max_contacts"), 1, 10),
            "voicemail": voicemail, "voicemail_email": email, "voicemail_pin": pin,
            "record": check.boolean(path + ".record", item.get("record")),
            "mailbox": "%s@default" % ext if voicemail else "",
            "options": check.raw_options(path + ".options", item.get("options")),
        })

    out_trunks, seen_trunk = [], {}
    for base, raw in _entries(check, names["trunks"], trunks, "trunks", "name and host"):
        item = _merged(tdefaults, raw)
        tname = _text(item.get("name")).strip()
        path = "%s (%s)" % (base, tname) if tname else base
        _unknown_fields(check, path, raw, list(TRUNK_FIELDS))
        if not NAME_RE.match(tname):
            check.err(path + ".name", "%r: use 1-40 letters, digits, _ . - (starting with a letter or digit)"
                      % tname if tname else "is missing: every trunk needs a name")
        if tname.lower() in RESERVED_NAMES:
            check.err(path + ".name", "%r is a section name the configuration uses itself: choose another" % tname)
        if tname in seen_trunk:
            check.err(path + ".name", "duplicate: %r is already %s" % (tname, seen_trunk[tname]))
        if tname in seen_user:
            check.err(path + ".name", "%r is also a subscriber's user name (%s): names share one namespace"
                      % (tname, seen_user[tname]))
        seen_trunk.setdefault(tname, base)
        host = _text(item.get("host")).strip()
        host_ip = None
        if not host:
            check.err(path + ".host", "is missing: set the provider's host name or address")
        else:
            try:
                host_ip = ipaddress.ip_address(host)
            except ValueError:
                if ":" in host:
                    check.err(path + ".host", "%r: put the port in %s.port, not in host" % (host, path))
                elif not HOST_RE.match(host):
                    check.err(path + ".host", "%r is not a valid host name or address" % host)
        transport = check.choice(path + ".transport", item.get("transport"), TRANSPORTS)
        if transport and transport not in enabled:
            check.err(path + ".transport", "%r is not enabled: add it to %s" % (transport, names["transports"]))
        port = item.get("port")
        port = check.integer(path + ".port", port, 1, 65535) if port not in (None, "") else (
            5061 if transport == "tls" else 5060)
        username = _text(item.get("username")).strip()
        if username and not SIP_USER_RE.match(username):
            check.err(path + ".username", "%r contains characters a SIP URI cannot carry" % username)
        # Provider credentials are the provider's: no length policy, but they must be usable.
        secret = check.secret(path + ".secret", item.get("secret"), [], None) if username or item.get("secret") \
            else ""
        if secret and not username:
            check.err(path + ".username", "is missing while a secret is set")
        register = item.get("register")
        register = bool(username and secret) if register is None else check.boolean(path + ".register", register)
        if register and not (username and secret):
            check.err(path + ".register", "registration needs username and secret")
        if register and driver == "chan_sip" and any(c in CHAN_SIP_REGISTER_UNSAFE for c in secret + username):
            check.err(path + ".secret", "chan_sip's register line cannot carry / : @ ? # ; or spaces in the user "
                                        "name or secret: use pjsip, or ask the provider for another password")
        for field in ("from_user", "from_domain"):
            value = _text(item.get(field)).strip()
            if value and not (SIP_USER_RE.match(value) if field == "from_user" else HOST_RE.match(value)):
                check.err("%s.%s" % (path, field), "%r is not valid here" % value)
        context = _text(item.get("context") or "from-%s" % re.sub(r"[^A-Za-z0-9_-]", "-", tname)).strip()
        if not CONTEXT_RE.match(context):
            check.err(path + ".context", "%r: use letters, digits, _ and - only" % context)
        identify = item.get("identify")
        if identify in (None, []):
            identify = [str(ipaddress.ip_network(host_ip))] if host_ip else []
            identify_hosts = [] if host_ip or not host else [host]
        else:
            identify = check.networks(path + ".identify", identify)
            identify_hosts = []
        wide = check.boolean(path + ".identify_wide", item.get("identify_wide"))
        for index, net in enumerate(identify):
            network = ipaddress.ip_network(net)
            if network.prefixlen < IDENTIFY_MAX_PREFIX[network.version] and not wide:
                check.err("%s.identify[%d]" % (path, index), "%s is wider than an IPv%d /%d: every address in it would "
                          "be trunk %s, unauthenticated. List the provider's signalling addresses, or set "
                          "identify_wide: true to accept that" % (net, network.version,
                                                                  IDENTIFY_MAX_PREFIX[network.version], tname))
        out_trunks.append({
            "name": tname, "host": host, "port": port, "transport": transport, "username": username,
            "secret": secret, "from_user": _text(item.get("from_user")).strip(),
            "from_domain": _text(item.get("from_domain")).strip(), "register": register, "context": context,
            "codecs": check.codecs(path + ".codecs", item.get("codecs")),
            "identify": identify, "identify_hosts": identify_hosts,
            "dtmf_mode": check.choice(path + ".dtmf_mode", item.get("dtmf_mode"), DTMF_MODES),
            "qualify": check.integer(path + ".qualify", item.get("qualify"), 10, 3600, allow_false=True),
            "max_calls": check.integer(path + ".max_calls", item.get("max_calls"), 1, 1000),
            "options": check.raw_options(path + ".options", item.get("options")),
        })

    if driver == "chan_sip" and len({sub["nat"] for sub in out_subscribers}) > 1:
        majority = sum(sub["nat"] for sub in out_subscribers) * 2 >= len(out_subscribers)
        for index, sub in enumerate(out_subscribers):
            if sub["nat"] != majority:
                check.err("%s[%d] (extension %s).nat" % (names["subscribers"], index, sub["extension"]),
                          "%s while other subscribers say %s: chan_sip answers a peer whose nat differs from "
                          "[general] at another port than an unknown user, which names it to a scanner. Give "
                          "every subscriber the same nat (asterisk_sip_subscriber_defaults), or use pjsip"
                          % (str(sub["nat"]).lower(), str(majority).lower()))
    if driver == "chan_sip":
        _one_chan_sip_acl(check, names, out_subscribers)
    rtp_timeout = check.integer(names.get("rtp_timeout", "asterisk_sip_rtp_timeout"),
                                settings.get("rtp_timeout", RTP_TIMEOUT), 10, 3600)
    rtp_hold_timeout = check.integer(names.get("rtp_hold_timeout", "asterisk_sip_rtp_hold_timeout"),
                                     settings.get("rtp_hold_timeout", RTP_HOLD_TIMEOUT), 60, 14400)
    if rtp_hold_timeout <= rtp_timeout:
        check.err(names.get("rtp_hold_timeout", "asterisk_sip_rtp_hold_timeout"),
                  "%d must be longer than the RTP timeout (%d): a call on hold sends less media"
                  % (rtp_hold_timeout, rtp_timeout))
    if check.errors:
        raise ModelError(check.errors)
    return {"driver": driver, "transports": enabled, "subscribers": out_subscribers, "trunks": out_trunks,
            "rtp_timeout": rtp_timeout, "rtp_hold_timeout": rtp_hold_timeout}


def _acl_key(networks):
    return sorted(set(networks), key=lambda n: (ipaddress.ip_network(n).version, ipaddress.ip_network(n)))


def _one_chan_sip_acl(check, names, subscribers):
    """chan_sip answers a request naming a subscriber from an address outside that subscriber's
    ACL with 403 (INVITE, OPTIONS, SUBSCRIBE, MESSAGE) where an unknown user gets the fake 401
    challenge: the name is confirmed to anyone another subscriber's permit lets through the
    firewall. No chan_sip setting hides it, so every subscriber must have the same effective ACL
    (permit and deny, as sets): then no address the subscribers' networks open is outside one
    subscriber's ACL only. The reference is the ACL most subscribers share (the first one's on a
    tie); each subscriber that differs is named."""
    if any(re.search(r"\.(permit|deny)(\[\d+\])?: ", error) for error in check.errors):
        return  # an ACL that is not known yet: its own error says why
    acls = [(_acl_key(sub["permit"]), _acl_key(sub["deny"])) for sub in subscribers]
    if len(set((tuple(p), tuple(d)) for p, d in acls)) <= 1:
        return
    counts = {}
    for permit, deny in acls:
        counts[(tuple(permit), tuple(deny))] = counts.get((tuple(permit), tuple(deny)), 0) + 1
    best = max(counts.values())
    reference = next(key for key in ((tuple(p), tuple(d)) for p, d in acls) if counts[key] == best)
    for index, (sub, (permit, deny)) in enumerate(zip(subscribers, acls)):
        for field, mine, theirs in (("permit", permit, list(reference[0])), ("deny", deny, list(reference[1]))):
            if mine != theirs:
                check.err("%s[%d] (extension %s).%s" % (names["subscribers"], index, sub["extension"], field),
                          "[%s] while other subscribers have [%s]: chan_sip answers a request naming a "
                          "subscriber from an address its own permit/deny refuses with 403 where an unknown user "
                          "gets 401, which names it to a scanner that another subscriber's networks let through. "
                          "Give every chan_sip subscriber the same %s (asterisk_sip_subscriber_defaults.%s), or "
                          "use pjsip (asterisk_sip_driver: pjsip answers both alike)"
                          % (", ".join(mine), ", ".join(theirs), field, field))


def features(model):
    """Module features (asterisk_modules) the model needs: the driver, codec translators, SRTP.

    Voicemail boxes are the dialplan role's to request (it renders voicemail.conf)."""
    wanted = [model["driver"]]
    for item in model["subscribers"] + model["trunks"]:
        for codec in item["codecs"]:
            feature = CODECS.get(codec)
            if feature and feature not in wanted:
                wanted.append(feature)
    if any(s["media_encryption"] != "none" for s in model["subscribers"]) and "srtp" not in wanted:
        wanted.append("srtp")
    return wanted


def names(model):
    """What the driver must show after a reload: endpoint/peer names and registrations, as the
    CLI prints them (chan_sip's `sip show peers`/`sip show registry` cut names at 25 and user
    names at 12 characters)."""
    endpoints = [s["username"] for s in model["subscribers"]] + [t["name"] for t in model["trunks"]]
    if model["driver"] == "pjsip":
        # PJSIP lists registrations by name, chan_sip by the user name they register.
        return {"endpoints": sorted(endpoints),
                "registrations": sorted(t["name"] for t in model["trunks"] if t["register"])}
    return {"endpoints": sorted(n[:25] for n in endpoints),
            "registrations": sorted(set(t["username"][:12] for t in model["trunks"] if t["register"]))}


# --- rendering --------------------------------------------------------------------------------

def _acl(prefix, deny_all, permit, deny):
    """Asterisk ACLs are evaluated in order, the last match wins: deny all, permit, then deny."""
    lines = []
    if deny_all:
        lines += [[prefix + "deny", "0.0.0.0/0.0.0.0"], [prefix + "deny", "::/0"]]
    lines += [[prefix + "permit", _acl_net(n)] for n in permit]
    lines += [[prefix + "deny", _acl_net(n)] for n in deny]
    return lines


def _acl_net(network):
    net = ipaddress.ip_network(network)
    if net.version == 4:
        return "%s/%s" % (net.network_address, net.netmask)
    return str(net)


def _callerid(item):
    return '"%s" <%s>' % (item["name"], item["extension"]) if item["name"] else "<%s>" % item["extension"]


def _channel_vars(sub):
    """Channel variables the driver sets on every call from the subscriber: the dialplan trusts
    these (the phone cannot forge them), never the caller ID the phone sends."""
    out = ["VPBX_CALLER=%s" % sub["extension"], "VPBX_MAX_CALLS=%d" % sub["max_calls"]]
    if sub.get("record"):
        out.append("VPBX_RECORD=yes")
    return out


def _rtp_timeouts(model):
    """PJSIP: a call without media for this long (on hold: the longer one) is ended."""
    return [["rtp_timeout", str(model.get("rtp_timeout", RTP_TIMEOUT))],
            ["rtp_timeout_hold", str(model.get("rtp_hold_timeout", RTP_HOLD_TIMEOUT))]]


def _neutral_user(ua):
    """A SIP user part from the user agent, for the headers Asterisk fills with "asterisk"."""
    return re.sub(r"[^A-Za-z0-9]", "", ua).lower() or "pbx"


def _sdp_identity(ua):
    """PJSIP: the SDP's origin user and session name (o=, s=) - "Asterisk" by default - and the
    user of the Contact it sends ("asterisk") say nothing either (chan_sip: sdpowner/sdpsession,
    callerid and vmexten in [general])."""
    return [["sdp_owner", ua.replace(" ", "")], ["sdp_session", ua], ["contact_user", _neutral_user(ua)]]


def _section(name, options, comment="", suffix=""):
    return {"name": name, "suffix": suffix, "comment": comment, "options": options}


def render(model, settings):
    """Return {"file", "secrets_file", "sections", "secret_sections"} for the model's driver.

    settings: bind_address, port, tls_port, tls_cert_file, tls_key_file, tls_ca_file, user_agent,
    realm, external_address, local_networks. PJSIP transports come in their own file: PJSIP cannot
    rebind a transport on reload, so a change there is the one case that needs a restart.
    """
    if model["driver"] == "chan_sip":
        return _render_chan_sip(model, settings)
    return _render_pjsip(model, settings)


# Written at the top of every file the collection renders: asterisk_confdir keeps marked files.
MARKER = "vpbx.hardened"


# What the module set writes for sip.conf until this role renders it (only where no file exists:
# chan_sip declines to load without one), closed: loopback only, no guests, no peers.
STUB = ("[general]\n; Closed until the sip role renders one: loopback only, no guests, no peers.\n"
        "bindaddr = 127.0.0.1\nbindport = 5060\nudpbindaddr = 127.0.0.1:5060\ntcpenable = no\nallowguest = no\n"
        "alwaysauthreject = yes\nautocreatepeer = no\nuseragent = PBX\nsdpowner = PBX\nsdpsession = PBX\n"
        "context = default\n")


def conf_text(header, preamble, sections, includes=()):
    """The text of an Asterisk configuration file: `header` (the ansible_managed comment), the
    `preamble` comment lines, each section (its comment, `[name]suffix`, its `option=value` lines)
    after a blank line, then the `#include` lines. sections: [{name, suffix, comment, options}]."""
    lines = [header] + list(preamble)
    for section in sections:
        lines.append("")
        if section.get("comment"):
            lines.append("; %s" % section["comment"])
        lines.append("[%s]%s" % (section["name"], section.get("suffix", "")))
        lines += ["%s=%s" % (key, value) for key, value in section["options"]]
    for include in includes:
        lines += ["", '#include "%s"' % include]
    return "\n".join(lines) + "\n"


def files(rendered, header):
    """Everything the driver's files hold, byte for byte: {"files": {name: text}, "secrets": {name:
    text}}, from a render() result. The driver file includes the transports (PJSIP) and the
    secrets; the secrets file holds every password and is passed on as a secret (never shown)."""
    driver = "chan_sip" if rendered["file"] == "sip.conf" else "pjsip"

    def text(purpose, sections, includes=()):
        preamble = ["; %s: %s" % (MARKER, purpose),
                    "; Rendered from asterisk_sip_subscribers / asterisk_sip_trunks by vpbx.hardened.asterisk_sip."]
        return conf_text(header, preamble, sections, includes)

    main, transports, secrets = rendered["file"], rendered["transports_file"], rendered["secrets_file"]
    out = {main: text("%s subscribers and trunks (secrets are in %s)" % (driver, secrets), rendered["sections"],
                      [name for name in (transports, secrets) if name])}
    if transports:
        out[transports] = text("pjsip transports, included by %s" % main, rendered["transport_sections"])
    return {"files": out,
            "secrets": {secrets: text("%s secrets, included by %s" % (driver, main), rendered["secret_sections"])}}


def _transport_name(kind):
    return "transport-%s" % kind


def _render_pjsip(model, settings):
    ua = settings.get("user_agent", "PBX")
    sections = [_section("global", [
        ["type", "global"],
        ["user_agent", ua],
        # Trunks are recognised by their address first, subscribers by the user name they
        # authenticate with; nothing else (no anonymous endpoint) can match.
        ["endpoint_identifier_order", "ip,username"],
        # The challenge's realm would otherwise be "asterisk".
        ["default_realm", settings.get("realm", "pbx")],
        # The From user of requests without a caller (MWI NOTIFY, qualify OPTIONS): "asterisk" otherwise.
        ["default_from_user", _neutral_user(ua)],
        ["max_forwards", "20"],
    ], "Neutral identity: no product or version in User-Agent/Server headers, the realm or a From user.")]
    transport_sections = []
    bind = settings.get("bind_address", "0.0.0.0")
    for kind in model["transports"]:
        port = settings.get("tls_port", 5061) if kind == "tls" else settings.get("port", 5060)
        options = [["type", "transport"], ["protocol", kind], ["bind", _hostport(bind, port)]]
        if kind == "tls":
            options += [["cert_file", settings.get("tls_cert_file", "")],
                        ["priv_key_file", settings.get("tls_key_file", "")]]
            if settings.get("tls_ca_file"):
                options.append(["ca_list_file", settings["tls_ca_file"]])
            options += [["method", "tlsv1_2"], ["verify_server", "yes"], ["verify_client", "no"]]
        if settings.get("external_address"):
            options += [["external_media_address", settings["external_address"]],
                        ["external_signaling_address", settings["external_address"]]]
            options += [["local_net", n] for n in settings.get("local_networks", [])]
        transport_sections.append(_section(_transport_name(kind), options))

    secret_sections = []
    for sub in model["subscribers"]:
        user = sub["username"]
        options = [
            ["type", "endpoint"],
            ["transport", _transport_name(sub["transport"])],
            ["context", sub["context"]],
            ["aors", user],
            ["auth", "%s-auth" % user],
            ["callerid", _callerid(sub)],
            ["disallow", "all"],
            ["allow", ",".join(sub["codecs"])],
            ["dtmf_mode", sub["dtmf_mode"]],
            ["direct_media", "no"],
            ["allow_unauthenticated_options", "no"],
            # Only by the user name it authenticates with, never by source address.
            ["identify_by", "username"],
            ["trust_id_inbound", "no"],
            ["send_pai", "no"],
            ["device_state_busy_at", str(sub["max_calls"])],
        ] + _rtp_timeouts(model) + _sdp_identity(ua)
        if sub["nat"]:
            options += [["rtp_symmetric", "yes"], ["force_rport", "yes"], ["rewrite_contact", "yes"]]
        if sub["media_encryption"] != "none":
            options.append(["media_encryption", sub["media_encryption"]])
            if sub["media_encryption"] == "dtls":
                options += [["dtls_auto_generate_cert", "yes"], ["dtls_verify", "fingerprint"]]
        if sub["mailbox"]:
            options.append(["mailboxes", sub["mailbox"]])
        options += [["set_var", v] for v in _channel_vars(sub)]
        options += _acl("", True, sub["permit"], sub["deny"])
        options += _acl("contact_", True, sub["contact_permit"], sub["deny"])
        options += sub["options"]
        sections.append(_section(user, options, "Subscriber %s %s" % (sub["extension"], sub["name"])))
        aor = [["type", "aor"], ["max_contacts", str(sub["max_contacts"])], ["remove_existing", "yes"]]
        if sub["qualify"]:
            aor.append(["qualify_frequency", str(sub["qualify"])])
        if sub["mailbox"]:
            aor.append(["mailboxes", sub["mailbox"]])
        sections.append(_section(user, aor))
        secret_sections.append(_section("%s-auth" % user, [
            ["type", "auth"], ["auth_type", "userpass"], ["username", user], ["password", sub["secret"]]]))

    for trunk in model["trunks"]:
        name = trunk["name"]
        uri = "sip:%s" % _hostport(trunk["host"], trunk["port"], brackets=True)
        options = [
            ["type", "endpoint"],
            ["transport", _transport_name(trunk["transport"])],
            ["context", trunk["context"]],
            ["aors", name],
            ["disallow", "all"],
            ["allow", ",".join(trunk["codecs"])],
            ["dtmf_mode", trunk["dtmf_mode"]],
            ["direct_media", "no"],
            ["allow_unauthenticated_options", "no"],
            # Only by the provider's addresses (the identify section): a request whose From user is
            # the trunk's name must not select it - the trunk is not challenged.
            ["identify_by", "ip"],
            ["trust_id_inbound", "no"],
            ["device_state_busy_at", str(trunk["max_calls"])],
        ] + _rtp_timeouts(model) + _sdp_identity(ua)
        if trunk["secret"]:
            options.append(["outbound_auth", "%s-auth" % name])
        if trunk["from_user"]:
            options.append(["from_user", trunk["from_user"]])
        if trunk["from_domain"]:
            options.append(["from_domain", trunk["from_domain"]])
        if trunk["identify"]:
            options += _acl("", True, trunk["identify"], [])
        options += trunk["options"]
        sections.append(_section(name, options, "Trunk %s" % name))
        aor = [["type", "aor"], ["contact", uri]]
        if trunk["qualify"]:
            aor.append(["qualify_frequency", str(trunk["qualify"])])
        sections.append(_section(name, aor))
        matches = trunk["identify"] + trunk["identify_hosts"]
        if matches:
            sections.append(_section(name, [["type", "identify"], ["endpoint", name]]
                                     + [["match", m] for m in matches]))
        if trunk["register"]:
            sections.append(_section(name, [
                ["type", "registration"],
                ["transport", _transport_name(trunk["transport"])],
                ["outbound_auth", "%s-auth" % name],
                ["server_uri", uri],
                ["client_uri", "sip:%s@%s" % (trunk["username"], _hostport(trunk["host"], trunk["port"], True))],
                ["contact_user", trunk["username"]],
                ["retry_interval", "60"],
                ["forbidden_retry_interval", "600"],
                ["max_retries", "10000"],
                ["expiration", "3600"],
            ]))
        if trunk["secret"]:
            secret_sections.append(_section("%s-auth" % name, [
                ["type", "auth"], ["auth_type", "userpass"], ["username", trunk["username"]],
                ["password", trunk["secret"]]]))

    return {"file": "pjsip.conf", "secrets_file": "pjsip_secrets.conf", "sections": sections,
            "secret_sections": secret_sections, "transports_file": "pjsip_transports.conf",
            "transport_sections": transport_sections,
            "transports": sorted([{"name": t["name"], "protocol": dict(t["options"])["protocol"],
                                   "bind": dict(t["options"])["bind"]} for t in transport_sections],
                                 key=lambda t: t["name"])}


def _hostport(host, port, brackets=True):
    try:
        if ipaddress.ip_address(host).version == 6 and brackets:
            host = "[%s]" % host
    except ValueError:
        pass
    return "%s:%s" % (host, port)


CHAN_SIP_NAT = {True: "force_rport,comedia", False: "no"}


def _chan_sip_nat(model):
    """The subscribers' one nat setting (normalize refuses a mix on chan_sip)."""
    return any(sub["nat"] for sub in model["subscribers"])


CHAN_SIP_DTMF = {"rfc4733": "rfc2833", "inband": "inband", "info": "info", "auto": "auto"}


def _render_chan_sip(model, settings):
    ua = settings.get("user_agent", "PBX")
    bind = settings.get("bind_address", "0.0.0.0")
    general = [
        ["context", "default"],
        ["allowguest", "no"],
        ["alwaysauthreject", "yes"],
        ["auth_options_requests", "yes"],
        ["autocreatepeer", "no"],
        # The challenge's realm would otherwise be "asterisk".
        ["realm", settings.get("realm", "pbx")],
        ["allowoverlap", "no"],
        ["allowsubscribe", "yes"],
        ["udpbindaddr", _hostport(bind, settings.get("port", 5060))],
        ["tcpenable", "yes" if "tcp" in model["transports"] else "no"],
    ]
    if "tcp" in model["transports"]:
        general.append(["tcpbindaddr", _hostport(bind, settings.get("port", 5060))])
    if "tls" in model["transports"]:
        general += [["tlsenable", "yes"], ["tlsbindaddr", _hostport(bind, settings.get("tls_port", 5061))],
                    ["tlscertfile", settings.get("tls_cert_file", "")],
                    ["tlsprivatekey", settings.get("tls_key_file", "")]]
        if settings.get("tls_ca_file"):
            general.append(["tlscafile", settings["tls_ca_file"]])
        # Default client method negotiates the highest version; TLS 1.0 and 1.1 are switched off.
        general += [["tlsdisablev1", "yes"], ["tlsdisablev11", "yes"], ["tlsdontverifyserver", "no"]]
    else:
        general.append(["tlsenable", "no"])
    general += [
        # Hidden identity: no version in User-Agent/Server headers or the SDP origin.
        ["useragent", ua], ["sdpowner", ua.replace(" ", "")], ["sdpsession", ua.replace(" ", "")],
        # The From/Contact user of requests without a caller (MWI NOTIFY) and the mailbox account
        # a NOTIFY names: "asterisk" otherwise.
        ["callerid", _neutral_user(ua)], ["vmexten", "*97"],
        ["callcounter", "yes"],
        ["disallow", "all"], ["allow", "alaw,ulaw"],
        ["trustrpid", "no"], ["sendrpid", "no"],
        ["srvlookup", "yes"],
        ["directmedia", "no"],
        # One NAT setting for every peer: a peer whose nat differs from [general] is answered at
        # another port than an unknown user ("can make the name of that peer/user discoverable").
        ["nat", CHAN_SIP_NAT[_chan_sip_nat(model)]],
        # Dead calls end: no media for this long (on hold: the longer one).
        ["rtptimeout", str(model.get("rtp_timeout", RTP_TIMEOUT))],
        ["rtpholdtimeout", str(model.get("rtp_hold_timeout", RTP_HOLD_TIMEOUT))],
    ]
    if settings.get("external_address"):
        general.append(["externaddr", settings["external_address"]])
        general += [["localnet", _acl_net(n)] for n in settings.get("local_networks", [])]
    sections = [_section("general", general)]
    # The how-to's template: closed ACLs first, every subscriber peer inherits them.
    sections.append(_section("vpbx-subscriber", [
        ["type", "friend"], ["host", "dynamic"], ["deny", "0.0.0.0/0.0.0.0"], ["deny", "::/0"],
        ["contactdeny", "0.0.0.0/0.0.0.0"], ["contactdeny", "::/0"],
        ["directmedia", "no"], ["trustrpid", "no"], ["sendrpid", "no"], ["insecure", "no"],
    ], "Template shared by all subscribers", "(!)"))
    secret_sections = []
    for sub in model["subscribers"]:
        user = sub["username"]
        options = [
            ["defaultuser", user],
            ["callerid", _callerid(sub)],
            ["context", sub["context"]],
            ["transport", sub["transport"]],
            ["call-limit", str(sub["max_calls"])],
            ["qualify", "yes" if sub["qualify"] else "no"],
        ]
        if sub["qualify"]:
            options.append(["qualifyfreq", str(sub["qualify"])])
        options += [["dtmfmode", CHAN_SIP_DTMF[sub["dtmf_mode"]]], ["disallow", "all"],
                    ["allow", ",".join(sub["codecs"])]]
        if sub["media_encryption"] == "sdes":
            options.append(["encryption", "yes"])
        elif sub["media_encryption"] == "dtls":
            options += [["dtlsenable", "yes"], ["dtlsverify", "fingerprint"], ["dtlsautogeneratecert", "yes"]]
        if sub["mailbox"]:
            options.append(["mailbox", sub["mailbox"]])
        options += [["setvar", v] for v in _channel_vars(sub)]
        options += list(_acl("", False, sub["permit"], sub["deny"]))
        options += list(_acl("contact", False, sub["contact_permit"], sub["deny"]))
        options += sub["options"]
        sections.append(_section(user, options, "Subscriber %s %s" % (sub["extension"], sub["name"]),
                                 "(vpbx-subscriber)"))
        secret_sections.append(_section(user, [["secret", sub["secret"]]], suffix="(+)"))
    registers = []
    for trunk in model["trunks"]:
        name = trunk["name"]
        options = [
            ["type", "peer"],
            ["host", trunk["host"]],
            ["port", str(trunk["port"])],
            ["transport", trunk["transport"]],
            ["context", trunk["context"]],
            ["insecure", "invite"],
            ["call-limit", str(trunk["max_calls"])],
            ["qualify", "yes" if trunk["qualify"] else "no"],
            ["dtmfmode", CHAN_SIP_DTMF[trunk["dtmf_mode"]]],
            ["disallow", "all"],
            ["allow", ",".join(trunk["codecs"])],
            ["directmedia", "no"],
            ["trustrpid", "no"],
        ]
        if trunk["username"]:
            options += [["defaultuser", trunk["username"]], ["username", trunk["username"]]]
        if trunk["from_user"]:
            options.append(["fromuser", trunk["from_user"]])
        if trunk["from_domain"]:
            options.append(["fromdomain", trunk["from_domain"]])
        if trunk["identify"]:
            options += [["deny", "0.0.0.0/0.0.0.0"], ["deny", "::/0"]] + [["permit", _acl_net(n)] for n in trunk["identify"]]
        options += trunk["options"]
        sections.append(_section(name, options, "Trunk %s" % name))
        if trunk["secret"]:
            secret_sections.append(_section(name, [["secret", trunk["secret"]],
                                                   ["remotesecret", trunk["secret"]]], suffix="(+)"))
        if trunk["register"]:
            registers.append(["register", "%s:%s@%s/%s" % (
                trunk["username"], trunk["secret"], _hostport(trunk["host"], trunk["port"]), trunk["username"])])
    if registers:
        secret_sections.insert(0, _section("general", registers, suffix="(+)"))
    return {"file": "sip.conf", "secrets_file": "sip_secrets.conf", "sections": sections,
            "secret_sections": secret_sections, "transports_file": "", "transport_sections": [],
            "transports": []}


# --- reading the driver back ------------------------------------------------------------------

def digest(name):
    """How a registration is named outside the controller (asterisk_apply's verify): its SHA-256."""
    return hashlib.sha256(str(name).encode("utf-8")).hexdigest()


def parse_pjsip_endpoints(text):
    """Endpoint names from ``pjsip show endpoints``."""
    result = []
    for line in text.splitlines():
        match = re.match(r"^\s*Endpoint:\s+(\S+)", line)
        if match and not match.group(1).startswith("<"):
            name = match.group(1).split("/")[0]
            if name not in result:
                result.append(name)
    return sorted(result)


def parse_pjsip_registrations(text):
    """Registration names from ``pjsip show registrations``."""
    result = []
    for line in text.splitlines():
        match = re.match(r"^\s*(\S+?)/sip:\S+\s+\S+\s+\S+", line)
        if match and not match.group(1).startswith("<"):
            result.append(match.group(1))
    return sorted(set(result))


def parse_pjsip_transports(text):
    """[{name, protocol, bind}] from ``pjsip show transports``."""
    result = []
    for line in text.splitlines():
        match = re.match(r"^\s*Transport:\s+(\S+)\s+(\S+)\s+\d+\s+\d+\s+(\S+)\s*$", line)
        if match and not match.group(1).startswith("<"):
            result.append({"name": match.group(1), "protocol": match.group(2), "bind": match.group(3)})
    return sorted(result, key=lambda t: t["name"])


def parse_sip_peers(text):
    """Peer names from ``sip show peers``."""
    result = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("Name/username") or re.match(r"^\d+ sip peers", line):
            continue
        name = line.split()[0].split("/")[0]
        if name not in result:
            result.append(name)
    return sorted(result)


def parse_sip_registry(text):
    """Registrations (user@host) from ``sip show registry``: the trunks' user names."""
    result = []
    for line in text.splitlines():
        if line.startswith("Host") or re.match(r"^\d+ SIP registrations", line) or not line.strip():
            continue
        parts = line.split()
        if len(parts) >= 3:
            result.append(parts[2])
    return sorted(set(result))
