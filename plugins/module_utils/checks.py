# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
"""The one validator of the inventory: every concern (the subscriber/trunk model, the dialplan, the
firewall, fail2ban) checks its fields with a Checker, so the same kind of field is accepted the
same way and refused with the same words everywhere - `<variable path>: <value> must be ...` and
the fix. A check never raises: it records the problem and returns a usable default, so that one
run reports every problem of the inventory at once."""

from __future__ import annotations

import difflib
import ipaddress

TRUE, FALSE = ("true", "yes", "1"), ("false", "no", "0")
ANY = "any"
ANY_SPELLINGS = ("any", "anywhere", "0.0.0.0/0", "::/0")


def text(value):
    """Plain text of a value (a vault-encrypted string is decrypted by str())."""
    return "" if value is None else str(value)


def whole_number(value):
    """An int from an int or its text; None for anything else (a boolean included)."""
    if isinstance(value, bool):
        return None
    try:
        return int(text(value).strip())
    except ValueError:
        return None


def is_bool(value):
    return isinstance(value, bool) or text(value).strip().lower() in TRUE + FALSE


def to_bool(value):
    return value if isinstance(value, bool) else text(value).strip().lower() in TRUE


class Checker:
    """Collects the problems of one concern's input; `names` maps a setting to its variable."""

    def __init__(self, names=None):
        self.names = names or {}
        self.errors = []

    def err(self, path, message):
        self.errors.append("%s: %s" % (path, message))

    def boolean(self, path, value, default=False):
        """true/false, yes/no, 1/0; not given (None) is `default`."""
        if value is None:
            return default
        if is_bool(value):
            return to_bool(value)
        self.err(path, "%r must be true or false" % (value,))
        return default

    def integer(self, path, value, low, high, default=None):
        """A whole number from low to high; not given (None or '') is `default` (without one, a problem)."""
        if (value is None or value == "") and default is not None:
            return default
        raw = text(value).strip()
        if isinstance(value, bool) or not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
            self.err(path, "%r must be a whole number from %d to %d" % (value, low, high))
            return default
        return int(raw)

    def port(self, path, value, low=1):
        raw = text(value).strip()
        if isinstance(value, bool) or not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= 65535:
            self.err(path, "%r is not a port number (%d-65535)" % (value, low))
            return None
        return int(raw)

    def choice(self, path, value, choices):
        """One of `choices` (a dict maps each spelling to its value), case-insensitive, with a hint."""
        raw = text(value).strip().lower()
        if raw not in choices:
            hint = difflib.get_close_matches(raw, list(choices), n=1)
            self.err(path, "%r is not one of %s%s" % (
                text(value), ", ".join(sorted(set(choices))), " (did you mean %r?)" % hint[0] if hint else ""))
            return None
        return choices[raw] if isinstance(choices, dict) else raw

    def listed(self, path, value, what):
        """A list (one value alone is a list of one, none an empty one); anything else refused."""
        if value is None:
            return []
        if isinstance(value, str):
            return [value]
        if not isinstance(value, (list, tuple)):
            self.err(path, "must be a list of %s, got %r" % (what, value))
            return []
        return list(value)

    def names_list(self, path, value):
        """A list of names."""
        return [text(v).strip() for v in self.listed(path, value, "names")]

    def networks(self, path, value, allow_any=False, ipv6=True):
        """A list of networks, each as network() reads it, duplicates dropped."""
        result = []
        for index, item in enumerate(self.listed(path, value, "networks such as 192.0.2.0/24")):
            net = self.network("%s[%d]" % (path, index), item, allow_any, ipv6)
            if net and net not in result:
                result.append(net)
        return result

    def network(self, path, value, allow_any=False, ipv6=True):
        """An address or network without host bits, as ipaddress writes it; with `allow_any`, any
        (or 0.0.0.0/0, ::/0) is ANY; with `ipv6` false, an IPv6 network is refused naming names['ipv6']."""
        raw = text(value).strip()
        if allow_any and raw.lower() in ANY_SPELLINGS:
            return ANY
        try:
            parsed = ipaddress.ip_network(raw, strict=True)
        except ValueError as exc:
            try:
                loose = ipaddress.ip_network(raw, strict=False)
            except ValueError:
                self.err(path, "%r is not an IPv4/IPv6 address or network (write 192.0.2.10, 192.0.2.0/24%s): %s"
                         % (raw, " or any" if allow_any else "", exc))
                return None
            self.err(path, "%r has host bits set: write %s" % (raw, loose))
            return None
        if parsed.version == 6 and not ipv6:
            self.err(path, "%r is an IPv6 network but %s is false: set it to true or remove the network"
                     % (raw, self.names.get("ipv6", "ipv6")))
            return None
        if allow_any and parsed.prefixlen == 0:
            return ANY
        return str(parsed)
