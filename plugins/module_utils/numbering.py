# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
"""A country's numbering plan as the toll-fraud guards see it: the numbers a context without
`international: true` must never hand to a trunk, as Asterisk extension patterns.

The ranges come from Google's libphonenumber metadata (the `phonenumbers` package, on the
controller only), never from a list kept here:
- international: the country's international call prefixes (its `international_prefix`, e.g. 810
  in RU, 011 in NANP) and 00, the ITU's recommended one; `+` followed by another country code;
  the numbers of the other regions that share the country code (KZ for RU, the Caribbean for
  NANP, Guernsey/Jersey/Isle of Man for GB), unless the inventory calls them domestic;
- costly national ranges: premium rate, shared cost, personal numbers and pagers;
- premium-rate short numbers (as dialled, e.g. FR 118 XYZ).

A national range is refused in every form a provider may take it in: with the national prefix
(0 900 ..., 8 809 ...), bare (900 ...), with the country code (49 900 ...) and in E.164 (+49 900 ...).

The same list of patterns serves both guards: the preflight intersects each route's sent-number
pattern with it (module_utils.dialplan), and extensions.conf carries it as the context the
dialplan checks every dialled number against before Dial.
"""

from __future__ import annotations

from ansible_collections.vpbx.hardened.plugins.module_utils import dialplan_pattern as dp

DIGITS = "0123456789"
# The ITU-T E.164 recommended international prefix: no country's national numbers begin with it.
ITU_INTERNATIONAL_PREFIX = "00"
# Number types (libphonenumber's names) billed above an ordinary call, and what the log calls them.
COSTLY_TYPES = (
    ("premium_rate", "premium-rate"),
    ("shared_cost", "shared-cost"),
    ("personal_number", "personal-number"),
    ("pager", "pager"),
)
# The ordinary numbers of a country: never another region's, whatever the regions share.
ORDINARY_TYPES = ("fixed_line", "mobile", "toll_free", "voip", "uan", "voicemail")
KINDS = ("international", "premium-rate", "shared-cost", "personal-number", "pager", "premium-short",
         "configured-international", "configured-premium")
WORDS = {"premium-rate": "a premium-rate number", "shared-cost": "a shared-cost number",
         "personal-number": "a personal number", "pager": "a pager number",
         "premium-short": "a premium-rate short number"}
# Bounds on what one regular expression may expand to (the metadata's costly ranges need a few
# hundred at most).
MAX_SEQUENCES = 20000


class PlanError(ValueError):
    pass


def _phonenumbers():
    try:
        import phonenumbers  # pylint: disable=import-outside-toplevel
        from phonenumbers import PhoneMetadata  # pylint: disable=import-outside-toplevel
    except ImportError as exc:  # pragma: no cover - depends on the controller
        raise PlanError("the controller needs the Python package phonenumbers (libphonenumber's metadata) for "
                        "asterisk_dialplan_country: pip install -r requirements.txt, or pip install "
                        "'phonenumbers==9.0.43' in the Python that runs ansible (%s)" % exc)
    return phonenumbers, PhoneMetadata


def metadata_version():
    phonenumbers, _unused = _phonenumbers()
    return "libphonenumber metadata (phonenumbers %s)" % phonenumbers.__version__


# --- libphonenumber's regular expressions as sequences of digit sets ---------------------------

class _Regex:
    """The subset of regular expressions libphonenumber's metadata uses: digits, \\d, [...]
    classes with ranges, (?:...) and (...) groups, |, and the quantifiers ?, {n} and {n,m}."""

    def __init__(self, text):
        self.text, self.pos = text, 0

    def fail(self, what):
        raise PlanError("cannot read the metadata pattern %r at %d: %s" % (self.text, self.pos, what))

    def peek(self):
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def parse(self):
        node = self.alternation()
        if self.pos != len(self.text):
            self.fail("unexpected %r" % self.peek())
        return node

    def alternation(self):
        branches = [self.sequence()]
        while self.peek() == "|":
            self.pos += 1
            branches.append(self.sequence())
        return ("alt", branches) if len(branches) > 1 else branches[0]

    def sequence(self):
        items = []
        while self.peek() not in ("", "|", ")"):
            items.append(self.quantified(self.atom()))
        return ("cat", items)

    def atom(self):
        char = self.peek()
        if char == "(":
            self.pos += 1
            if self.text.startswith("?:", self.pos):
                self.pos += 2
            node = self.alternation()
            if self.peek() != ")":
                self.fail("missing )")
            self.pos += 1
            return node
        if char == "[":
            end = self.text.find("]", self.pos)
            if end < 0:
                self.fail("missing ]")
            inner, chars, index = self.text[self.pos + 1:end], set(), 0
            while index < len(inner):
                if inner.startswith("\\d", index):
                    chars |= set(DIGITS)
                    index += 2
                elif index + 2 < len(inner) and inner[index + 1] == "-":
                    chars |= {chr(c) for c in range(ord(inner[index]), ord(inner[index + 2]) + 1)}
                    index += 3
                else:
                    chars.add(inner[index])
                    index += 1
            self.pos = end + 1
            return ("lit", frozenset(chars))
        if self.text.startswith("\\d", self.pos):
            self.pos += 2
            return ("lit", frozenset(DIGITS))
        if char and char in DIGITS:
            self.pos += 1
            return ("lit", frozenset(char))
        return self.fail("unsupported %r" % char)

    def quantified(self, node):
        char = self.peek()
        if char == "?":
            self.pos += 1
            return ("rep", node, 0, 1)
        if char == "{":
            end = self.text.find("}", self.pos)
            if end < 0:
                self.fail("missing }")
            body = self.text[self.pos + 1:end].split(",")
            try:
                low = int(body[0])
                high = low if len(body) == 1 else int(body[1])
            except ValueError:
                return self.fail("open-ended repetition")
            self.pos = end + 1
            return ("rep", node, low, high)
        if char in ("*", "+"):
            self.fail("open-ended repetition")
        return node


def _expand(node):
    kind = node[0]
    if kind == "lit":
        return {(node[1],)}
    if kind == "alt":
        return set().union(*(_expand(branch) for branch in node[1]))
    if kind == "cat":
        result = {()}
        for item in node[1]:
            result = {a + b for a in result for b in _expand(item)}
            if len(result) > MAX_SEQUENCES:
                raise PlanError("a metadata pattern expands to more than %d numbers shapes" % MAX_SEQUENCES)
        return result
    low, high = node[2], node[3]
    result = set()
    for count in range(low, high + 1):
        result |= _expand(("cat", [node[1]] * count)) if count else {()}
    if len(result) > MAX_SEQUENCES:
        raise PlanError("a metadata pattern expands to more than %d numbers shapes" % MAX_SEQUENCES)
    return result


def _merge(sequences):
    """Fewer sequences for the same numbers: two of one length that differ in one position only
    become one with the union of that position's digits."""
    current = set(sequences)
    changed = True
    while changed:
        changed = False
        for length in sorted({len(s) for s in current}):
            for index in range(length):
                groups = {}
                for seq in [s for s in current if len(s) == length]:
                    groups.setdefault(seq[:index] + seq[index + 1:], []).append(seq)
                for key, members in groups.items():
                    if len(members) > 1:
                        union = frozenset().union(*(m[index] for m in members))
                        current -= set(members)
                        current.add(key[:index] + (union,) + key[index:])
                        changed = True
    return current


def _subtract(boxes, holes):
    """The numbers of `boxes` that are in none of `holes` (both sequences of digit sets), as
    sequences again: a box minus a hole of its length splits into at most one box per position."""
    result = set(boxes)
    for hole in holes:
        nxt = set()
        for box in result:
            if len(box) != len(hole) or any(not (b & h) for b, h in zip(box, hole)):
                nxt.add(box)
                continue
            for index in range(len(box)):
                rest = box[index] - hole[index]
                if rest:
                    nxt.add(tuple(b & h for b, h in zip(box[:index], hole[:index])) + (rest,) + box[index + 1:])
        result = nxt
    return result


def sequences(regex):
    """The numbers a libphonenumber pattern matches (whole-string), as sequences of digit sets."""
    return _merge(_expand(_Regex(regex).parse()))


# --- Asterisk patterns --------------------------------------------------------------------------

def _class(chars):
    chars = frozenset(chars)
    if len(chars) == 1:
        return next(iter(chars))
    for letter, members in (("X", DIGITS), ("Z", DIGITS[1:]), ("N", DIGITS[2:])):
        if chars == frozenset(members):
            return letter
    digits = sorted(c for c in chars if c in DIGITS)
    parts, start = [], 0
    while start < len(digits):
        end = start
        while end + 1 < len(digits) and int(digits[end + 1]) == int(digits[end]) + 1:
            end += 1
        if end - start >= 2:
            parts.append("%s-%s" % (digits[start], digits[end]))
        else:
            parts.extend(digits[start:end + 1])
        start = end + 1
    return "[%s]" % "".join(parts + sorted(c for c in chars if c not in DIGITS))


def pattern(prefix, seq, tail=""):
    """An Asterisk pattern: the literal `prefix`, one position per set of `seq`, then `tail`
    ('.' one or more further characters, '' none)."""
    return "_" + prefix + "".join(_class(s) for s in seq) + tail


def _fixed(length):
    return (frozenset(DIGITS),) * length


# --- the plan -----------------------------------------------------------------------------------

def _desc_sequences(desc):
    if desc is None or not desc.national_number_pattern:
        return set()
    return sequences(desc.national_number_pattern)


def regions_sharing(country):
    """The regions with the country code of `country` (itself included), e.g. RU: RU, KZ."""
    phonenumbers, PhoneMetadata = _phonenumbers()
    meta = PhoneMetadata.metadata_for_region(str(country or "").upper())
    return list(phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(meta.country_code, ())) if meta else []


def plan(country, extra_international=(), extra_premium=(), domestic=()):
    """The costly ranges of `country` (ISO 3166-1 alpha-2) as [{kind, pattern, note, name}],
    sorted, one pattern per line of the guard context (name: the refusal it leads to, one per kind
    and note). `domestic`: other regions sharing the country code
    whose ordinary numbers the office's provider bills as national (e.g. CA for US)."""
    phonenumbers, PhoneMetadata = _phonenumbers()
    country = str(country or "").upper()
    meta = PhoneMetadata.metadata_for_region(country) if country in phonenumbers.SUPPORTED_REGIONS else None
    if meta is None:
        raise PlanError("%r is not a country libphonenumber knows (ISO 3166-1 alpha-2, e.g. RU, DE, GB, US)"
                        % country)
    cc = str(meta.country_code)
    national_prefix = meta.national_prefix or ""
    ranges = {}

    def add(kind, pat, note, name=None):
        ranges.setdefault(pat, (kind, note, name or kind))

    def national_forms(kind, seqs, note, name=None):
        for seq in seqs:
            add(kind, pattern(national_prefix, seq), note, name)
            add(kind, pattern("", seq), note, name)
            add(kind, pattern(cc, seq), note, name)
            add(kind, pattern("+" + cc, seq), note, name)

    idd = set()
    for seq in sequences(meta.international_prefix or ITU_INTERNATIONAL_PREFIX) | {tuple(frozenset(c) for c in
                                                                                         ITU_INTERNATIONAL_PREFIX)}:
        idd.add("".join(_class(s) for s in seq))
        add("international", pattern("", seq, "."), "international prefix", "international-prefix")
    for index, digit in enumerate(cc):
        others = frozenset(DIGITS) - {digit}
        add("international", pattern("+" + cc[:index], (others,), "."), "another country code",
            "international-code")
    sharing = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(meta.country_code, ())
    domestic = {str(r).upper() for r in domestic or ()}
    ordinary = set().union(*(_desc_sequences(getattr(meta, t)) for t in ORDINARY_TYPES))
    for region in sharing:
        if region == country or region in domestic:
            continue
        other = PhoneMetadata.metadata_for_region(region)
        if other.leading_digits:
            lengths = other.general_desc.possible_length or ()
            seqs = set()
            for lead in sequences(other.leading_digits):
                seqs |= {lead + _fixed(n - len(lead)) for n in lengths if n > len(lead)}
        else:
            seqs = _desc_sequences(other.fixed_line) | _desc_sequences(other.mobile)
        # Where the two regions share ranges (integrated numbering: AX in FI's, CX in AU's), the
        # shared ones are this country's own.
        seqs = _subtract(seqs, ordinary)
        national_forms("international", _merge(seqs), "%s shares country code +%s" % (region, cc),
                       "international-%s" % region.lower())
    for attribute, kind in COSTLY_TYPES:
        national_forms(kind, _desc_sequences(getattr(meta, attribute)), "")
    short = PhoneMetadata.short_metadata_for_region(country)
    if short is not None:
        for seq in _desc_sequences(short.premium_rate):
            add("premium-short", pattern("", seq), "")
    for kind, prefixes, var in (("configured-international", extra_international,
                                 "asterisk_dialplan_international_prefixes"),
                                ("configured-premium", extra_premium, "asterisk_dialplan_premium_prefixes")):
        for prefix in prefixes or ():
            add(kind, "_%s." % prefix, var)
    out = [{"kind": kind, "pattern": pat, "note": note, "name": name} for pat, (kind, note, name) in ranges.items()]
    out.sort(key=lambda r: (KINDS.index(r["kind"]), r["note"], r["pattern"]))
    return {"country": country, "country_code": cc, "national_prefix": national_prefix,
            "international_prefixes": sorted(idd), "metadata": metadata_version(), "ranges": out}


def describe(entry, country):
    """What a range is, in words, for error and log messages."""
    kind, note = entry["kind"], entry.get("note")
    if kind == "international":
        return "an international number: %s" % note if note else "an international number"
    if kind.startswith("configured-"):
        return "a number with a prefix listed in %s" % note
    return "%s of %s" % (WORDS[kind], country)


# --- reach --------------------------------------------------------------------------------------

def pick(chars):
    digits = sorted(c for c in chars if c in DIGITS)
    # The example shows a plausible number: 2 where the set allows it, else its smallest digit.
    if "2" in digits:
        return "2"
    return digits[0] if digits else sorted(chars)[0]


def example(a, b):
    """A number that both element lists (dialplan_pattern.parse shapes: sets, then an optional
    trailing `more` - one or more characters - or `any` - zero or more) match, or None."""
    out, index = [], 0
    while True:
        ea = a[index] if index < len(a) else None
        eb = b[index] if index < len(b) else None
        if ea is None or eb is None:
            rest = eb if ea is None else ea
            if rest is None or rest[0] == "any":
                return "".join(out)
            return None
        if ea[0] != "set" or eb[0] != "set":
            if ea[0] != "set" and eb[0] != "set":
                # Both take the rest: one character when either needs one.
                return "".join(out) + ("2" if "more" in (ea[0], eb[0]) else "")
            # One side takes the rest of the number: the other side's remaining elements decide
            # (at least one set is left there, so a `more` is satisfied).
            other = b[index:] if ea[0] != "set" else a[index:]
            out += [pick(chars) for kind, chars in other if kind == "set"]
            return "".join(out) + ("2" if other[-1][0] == "more" else "")
        common = ea[1] & eb[1]
        if not common:
            return None
        out.append(pick(common))
        index += 1


def reach(sent, ranges, parsed=None):
    """The first range the sent-number elements can reach, with an example number:
    (entry, number) or None."""
    for entry in ranges:
        elements = parsed[entry["pattern"]] if parsed else dp.parse(entry["pattern"])
        number = example(sent, elements)
        if number is not None:
            return entry, number
    return None


def classify(number, ranges):
    """The range an exact number falls in (the call-time guard's answer), or None."""
    for entry in ranges:
        if dp.matches(entry["pattern"], number):
            return entry
    return None
