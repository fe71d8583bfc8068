# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
"""Trim Asterisk's XML documentation (core-en_US.xml) to the modules a PBX loads.

Asterisk parses the whole documentation at start and keeps the tree: Debian's 1.3-1.6 MB file
costs about 29 MiB of resident memory, more than all the modules of a pruned PBX together. Only
the documentation of what is registered is ever read, with one exception: a module that uses the
configuration framework refuses to load when its ``configInfo`` is missing (the core's ``stasis``
included), so every ``configInfo`` is kept, whatever the module set.

What a running Asterisk registers is read from its CLI (applications, dialplan functions, manager
actions, loaded modules): the documentation's own ``module`` attributes are incomplete (Asterisk
16 has them for 20 elements of 1,700), and a name Asterisk registered is exactly the name its
documentation is looked up by.

What is kept, as top-level elements of ``<docs>``:
- every ``configInfo`` and every ``info`` (channel-driver notes of core functions);
- the ``application``, ``function`` and ``manager`` elements whose name Asterisk registered;
- the ``agi`` elements when res_agi is loaded;
- the elements whose ``module`` attribute names a loaded module, and each loaded module's
  ``<module name=...>`` description;
- every element of a kind this does not know (a newer Asterisk's);
- transitively, every element an ``xi:include`` of a kept element points at
  (``xpointer(/docs/<tag>[@name='<name>']...)``), so that XInclude resolves as before.
Dropped: the rest - the applications, functions and manager actions nothing registered, the ``agi``
entries without res_agi, and the manager events that nothing kept includes and whose entry names
no loaded module (Asterisk reads events only for `manager show events`, which lists fewer).
Asterisk looks up documentation when a module registers something, so a module loaded later finds
its help text missing (a warning, no failure) until the file is trimmed again.

The bytes of the kept elements are copied as they are (the declaration, DOCTYPE, stylesheet and
formatting included); only whole top-level elements and the whitespace after them are dropped.
An ``xi:include`` of a kept element whose target this cannot read keeps the whole file unchanged
(``complete`` false).
"""

from __future__ import annotations

import hashlib
import re
import xml.parsers.expat

STAMP_PREFIX = "vpbx.hardened trimmed XML documentation, source sha256 "
_TOKEN = re.compile(r"^\s*([A-Za-z0-9_]+)")
XPOINTER = re.compile(r"""^xpointer\(/?docs/([A-Za-z]+)\[@name=(['"])(.*?)\2\]""")


class DocumentationError(ValueError):
    """The file is not an Asterisk XML documentation file."""


def module_name(name):
    """'res_pjsip.so' -> 'res_pjsip'."""
    name = str(name).strip()
    return name[:-3] if name.endswith(".so") else name


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def modules_key(modules):
    """A digest of a loaded-module list (order and '.so' do not matter)."""
    return sha256("\n".join(sorted({module_name(m) for m in modules})).encode("utf-8"))


def stamp(source_sha256, key=None):
    """The comment a trimmed file carries: the unit's start check compares the source's digest
    with the full file; the module set's digest (modules_key) tells the module nothing changed."""
    return "<!-- %s%s%s -->\n" % (STAMP_PREFIX, source_sha256, ", modules sha256 %s" % key if key else "")


def read_stamp(data):
    """The source sha256 a trimmed file was made from, or None for any other file."""
    head = data[:512].decode("utf-8", "replace")
    match = re.search(re.escape(STAMP_PREFIX) + r"([0-9a-f]{64})", head)
    return match.group(1) if match else None


def read_key(data):
    """The modules_key a trimmed file was made for, or None."""
    match = re.search(re.escape(STAMP_PREFIX) + r"[0-9a-f]{64}, modules sha256 ([0-9a-f]{64}) -->",
                      data[:512].decode("utf-8", "replace"))
    return match.group(1) if match else None


def tag_end(data, position):
    """The offset after the tag starting at position (an end tag, or an empty element whose
    attribute values may hold '>')."""
    quote = None
    for index in range(position, len(data)):
        char = data[index:index + 1]
        if quote:
            if char == quote:
                quote = None
        elif char in (b'"', b"'"):
            quote = char
        elif char == b">":
            return index + 1
    raise DocumentationError("unterminated tag at byte %d" % position)


def scan(data):
    """Top-level elements of <docs>: a list of dicts with tag, attrs, start, end (byte offsets of
    the element, end exclusive) and targets (the (tag, name) pairs its xi:includes point at; None
    in the list for a pointer of another form)."""
    parser = xml.parsers.expat.ParserCreate()
    elements = []
    state = {"depth": 0, "root": None}

    def start(tag, attrs):
        state["depth"] += 1
        if state["depth"] == 1:
            state["root"] = tag
        elif state["depth"] == 2:
            position = parser.CurrentByteIndex
            elements.append({"tag": tag, "attrs": attrs, "start": position, "end": None, "targets": [],
                             "open_end": tag_end(data, position)})
        if tag == "xi:include" and state["depth"] >= 2:
            # Within a top-level element, or a top-level include itself (kept as an unknown kind).
            match = XPOINTER.match(attrs.get("xpointer", ""))
            elements[-1]["targets"].append((match.group(1), match.group(3)) if match else None)

    def end(tag):
        if state["depth"] == 2:
            element, position = elements[-1], parser.CurrentByteIndex
            if position == element["open_end"] and data[position - 2:position] == b"/>":
                element["end"] = position  # <tag .../>: expat reports the end after it
            else:
                element["end"] = tag_end(data, position)  # at "</tag>"
        state["depth"] -= 1

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        raise DocumentationError("not well-formed XML: %s" % exc) from None
    if state["root"] != "docs":
        raise DocumentationError("the root element is <%s>, not <docs>" % state["root"])
    return elements


FUNCTION_COLUMN = 20  # `core show functions` cuts names at this width
BY_NAME = {"application": "applications", "function": "functions", "manager": "actions"}


def registered(applications=(), functions=(), actions=(), modules=()):
    """What a running Asterisk registered, the shape kept_indexes reads (names compared without case,
    as Asterisk looks them up; module names without '.so')."""
    return {"applications": {n.casefold() for n in applications},
            "functions": {n.casefold() for n in functions},
            "actions": {n.casefold() for n in actions},
            "modules": {module_name(m) for m in modules}}


def kept_indexes(elements, used):
    """Indexes of the elements to keep (see the module docstring) for `used` (from registered()),
    or None when an xi:include of a kept element has a form this cannot follow."""
    by_name = {}
    for index, element in enumerate(elements):
        by_name.setdefault((element["tag"], element["attrs"].get("name")), []).append(index)

    def wanted(element):
        tag, attrs = element["tag"], element["attrs"]
        if attrs.get("module") in used["modules"]:
            return True
        if tag in BY_NAME:
            name = attrs.get("name", "").casefold()
            names = used[BY_NAME[tag]]
            return name in names or (tag == "function" and any(
                len(cut) == FUNCTION_COLUMN and name.startswith(cut) for cut in names))
        if tag == "module":
            return attrs.get("name") in used["modules"]
        if tag == "agi":
            return "res_agi" in used["modules"]
        if tag == "managerEvent":
            return False
        return True

    keep = set()
    todo = [index for index, element in enumerate(elements) if wanted(element)]
    while todo:
        index = todo.pop()
        if index in keep:
            continue
        keep.add(index)
        for target in elements[index]["targets"]:
            if target is None:
                return None
            todo.extend(by_name.get(target, []))
    return keep


def trim(data, used, key=None):
    """The documentation trimmed to `used` (from registered()), stamped with the source's digest
    and `key` (modules_key of the loaded modules, optional), as bytes, and what was kept:
    (bytes, {"kept": {tag: count}, "dropped": {tag: count}, "complete": bool, "source_sha256": str})."""
    if read_stamp(data):
        raise DocumentationError("this is already a trimmed copy, not the package's documentation")
    elements = scan(data)
    keep = kept_indexes(elements, used)
    complete = keep is not None
    if not complete:
        keep = set(range(len(elements)))
    kept, dropped, out, position = {}, {}, [], 0
    for index, element in enumerate(elements):
        counts = kept if index in keep else dropped
        counts[element["tag"]] = counts.get(element["tag"], 0) + 1
        if index in keep:
            continue
        out.append(data[position:element["start"]])
        position = element["end"]
        # The line break and indentation after a dropped element go with it.
        while position < len(data) and data[position:position + 1] in b" \t\r\n":
            position += 1
    out.append(data[position:])
    body = b"".join(out)
    digest = sha256(data)
    header = stamp(digest, key).encode("utf-8")
    if body.startswith(b"<?xml"):
        cut = body.index(b"?>") + 2
        newline = body[cut:cut + 1] == b"\n"
        body = body[:cut] + b"\n" + header + body[cut + (1 if newline else 0):]
    else:
        body = header + body
    return body, {"kept": kept, "dropped": dropped, "complete": complete, "source_sha256": digest}


# --- Parsing what a running Asterisk registered ----------------------------------------------------

def parse_applications(text):
    """`core show applications`: '        Dial: Attempt to connect to another device or endpoint.'"""
    names = []
    for line in (text or "").splitlines():
        if "-=" in line:
            continue
        match = re.match(r"^\s*([^\s:]+): ", line)
        if match:
            names.append(match.group(1))
    return names


def _table(text, start, end_re, whole=False):
    """First words (whole rows with `whole`) of the rows of a CLI table after the line matching
    start, until end_re."""
    names, started = [], False
    for line in (text or "").splitlines():
        if not started:
            started = bool(re.match(start, line))
            continue
        if re.match(end_re, line):
            break
        match = _TOKEN.match(line)
        if match:
            names.append(line.strip() if whole else match.group(1))
    if not started:
        raise ValueError("not the expected CLI table (no line matching %r): %r" % (start, (text or "")[:200]))
    return names


def parse_functions(text):
    """`core show functions`: rows after the dashes, up to 'N custom functions installed.'

    The name column is cut at 20 characters ('PJSIP_MOH_PASSTHROUG  PJSIP_MOH_PASSTHROUGH()  ...'):
    the name is taken from the syntax column when that starts with it; a name still cut is
    returned as it is (20 characters) and matched as a prefix by kept_indexes."""
    names = []
    rows = _table(text, r"^-{10,}\s*$", r"^\d+ custom functions? installed", whole=True)
    for row in rows:
        words = row.split()
        name = words[0]
        if len(words) > 1 and words[1].startswith(name) and "(" in words[1]:
            name = words[1].split("(", 1)[0]
        names.append(name)
    return names


def parse_manager_commands(text):
    """`manager show commands`: rows after '  ------   --------'."""
    return _table(text, r"^\s*-{4,}\s+-{4,}\s*$", r"^\s*$")
