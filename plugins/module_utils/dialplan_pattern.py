# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
"""Asterisk extension patterns, read the way Asterisk reads them, for the dialplan's safety checks.

A pattern starts with `_`; then `X` is 0-9, `Z` 1-9, `N` 2-9, `[...]` a class (ranges like `1-5`),
`.` one or more further characters, `!` zero or more; `-` outside a class is ignored. Anything else
is a literal. Without the leading `_` the extension is a literal string.

Used to refuse, before a dialplan is rendered: malformed patterns, catch-alls (`_.`, `_X.`, `_!`,
`_[0-9].` ...) that would reach a Dial without an explicit opt-in, and routes that could dial an
international or premium prefix from a context without that right.
"""

from __future__ import annotations

import re

DIGITS = "0123456789"
SPECIAL = "*#+"
ALPHABET = DIGITS + SPECIAL
CLASSES = {"X": set("0123456789"), "Z": set("123456789"), "N": set("23456789")}
LITERAL_RE = re.compile(r"^[0-9*#+]{1,40}$")


class PatternError(ValueError):
    pass


def parse(pattern):
    """A pattern as a list of elements: ("set", chars), ("more", None) for `.`, ("any", None) for `!`.

    Raises PatternError naming what is wrong."""
    text = str(pattern or "").strip()
    if not text:
        raise PatternError("is empty")
    if not text.startswith("_"):
        if not LITERAL_RE.match(text):
            raise PatternError("%r: an exact number uses digits, *, # and + only (a pattern starts with _)" % text)
        return [("set", {c}) for c in text]
    body, elements, index = text[1:], [], 0
    if not body:
        raise PatternError("'_' alone matches nothing: write e.g. _8XXXXXXXXXX")
    while index < len(body):
        char = body[index]
        upper = char.upper()
        if char == "-":
            index += 1
            continue
        if upper in CLASSES:
            elements.append(("set", set(CLASSES[upper])))
        elif char in DIGITS + SPECIAL:
            elements.append(("set", {char}))
        elif char == "[":
            end = body.find("]", index)
            if end < 0:
                raise PatternError("%r: '[' without ']'" % text)
            chars = _class(body[index + 1:end], text)
            elements.append(("set", chars))
            index = end
        elif char in ".!":
            if index != len(body) - 1:
                raise PatternError("%r: %r must be the last character (it matches the rest of the number)"
                                   % (text, char))
            elements.append(("more" if char == "." else "any", None))
        else:
            raise PatternError("%r: %r is not a pattern character (X Z N [..] . ! digits * # +)" % (text, char))
        index += 1
    if not elements:
        raise PatternError("%r matches nothing" % text)
    return elements


def _class(inner, text):
    if not inner:
        raise PatternError("%r: empty []" % text)
    chars, index = set(), 0
    while index < len(inner):
        char = inner[index]
        if index + 2 < len(inner) and inner[index + 1] == "-":
            low, high = char, inner[index + 2]
            if low not in DIGITS or high not in DIGITS or low > high:
                raise PatternError("%r: range %s-%s is not an ascending digit range" % (text, low, high))
            chars |= {str(d) for d in range(int(low), int(high) + 1)}
            index += 3
            continue
        if char not in ALPHABET:
            raise PatternError("%r: %r in [] is not a digit, *, # or +" % (text, char))
        chars.add(char)
        index += 1
    return chars


def variable_length(pattern):
    return any(kind in ("more", "any") for kind, _unused in _elements(pattern))


def literal_prefix(pattern):
    """The digits every match starts with ('' when the first element is not a single character)."""
    prefix = ""
    for kind, chars in _elements(pattern):
        if kind != "set" or len(chars) != 1:
            break
        prefix += next(iter(chars))
    return prefix


def is_catch_all(pattern):
    """True for a pattern that matches numbers of any length without a fixed leading digit:
    `_.`, `_!`, `_X.`, `_ZX.`, `_[0-9]!` ... - the shapes that hand a trunk to anyone."""
    return variable_length(pattern) and literal_prefix(pattern) == ""


def matches(pattern, number):
    """Would Asterisk match `number` against `pattern` (full match)?"""
    elements = parse(pattern)
    number = str(number)
    for index, (kind, chars) in enumerate(elements):
        if kind == "more":
            return len(number) > index
        if kind == "any":
            return True
        if index >= len(number) or number[index] not in chars:
            return False
    return len(number) == len(elements)


def can_start_with(pattern, prefix):
    """Could a number matched by `pattern` (a pattern or its elements) start with `prefix`?"""
    elements = _elements(pattern)
    for index, char in enumerate(str(prefix)):
        if index >= len(elements):
            return False
        kind, chars = elements[index]
        if kind in ("more", "any"):
            return True
        if char not in chars:
            return False
    return True


def min_length(pattern):
    elements = parse(pattern)
    return sum(1 for kind, _unused in elements if kind == "set") + sum(1 for kind, _unused in elements if kind == "more")


def strip_ok(pattern, strip):
    """Can `strip` leading digits be removed from every match and leave at least one digit?"""
    return 0 <= int(strip) < min_length(pattern)


def _elements(pattern):
    return pattern if isinstance(pattern, list) else parse(pattern)


def sent(pattern, kept="", strip=0, prepend=""):
    """The elements of the number a route hands to the trunk, for the safety checks: the dialled
    number filtered to digits and `kept` (of `*#+`), its first `strip` characters removed,
    `prepend` put in front. An element that can only be a removed character disappears; one that
    mixes removed and kept characters makes the positions unknowable and raises PatternError."""
    removed = set(SPECIAL) - set(kept)
    out = []
    for kind, chars in parse(pattern):
        if kind == "set":
            if chars <= removed:
                continue
            if chars & removed:
                raise PatternError("%r mixes characters the number filter removes (%s) with ones it keeps: "
                                   "write them as separate routes" % (pattern, "".join(sorted(chars & removed))))
        out.append((kind, chars))
    out = out[int(strip):]
    return [("set", {c}) for c in str(prepend)] + out
