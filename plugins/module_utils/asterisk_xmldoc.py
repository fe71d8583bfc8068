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
import os
import re
import xml.parsers.expat

from ansible_collections.vpbx.hardened.plugins.module_utils.asterisk import (ParseError, cli_error, parse_module_show,
                                                                             parse_version)
from ansible_collections.vpbx.hardened.plugins.module_utils.files import write_atomic

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


# --- On the host: ask the running Asterisk, write the trimmed copy -----------------------------

COMMANDS = ("core show version", "module show", "core show applications", "core show functions",
            "manager show commands")


class Refusal(Exception):
    """Asterisk cannot be asked, or its answers cannot be used: nothing is trimmed."""


def ask(module, binary):
    """What the running Asterisk registered (registered() shape), the counts, the running modules'
    digest (modules_key) and its version."""
    outputs = {}
    for command in COMMANDS:
        rc, out, err = module.run_command([binary, "-rx", command])
        text = (out or "") + (err or "")
        reason = cli_error(text) or (None if rc == 0 else "rc=%d" % rc)
        if reason:
            raise Refusal("Asterisk CLI command %r failed: %s. The documentation is trimmed to what the running "
                          "Asterisk registered: start Asterisk with its module set first. Output: %s"
                          % (command, reason, text.strip()[:500]))
        outputs[command] = out
    try:
        version = parse_version(outputs["core show version"])["version"]
        modules = parse_module_show(outputs["module show"])["modules"]
        applications = parse_applications(outputs["core show applications"])
        functions = parse_functions(outputs["core show functions"])
        actions = parse_manager_commands(outputs["manager show commands"])
    except (ParseError, ValueError) as exc:
        raise Refusal("Cannot read what Asterisk registered: %s" % exc) from None
    if not applications or not actions:
        raise Refusal("Asterisk reported no applications or no manager actions; refusing to trim the "
                      "documentation to nothing. Check `core show applications` and `manager show commands`.")
    running = [name for name, info in modules.items() if name.endswith(".so") and info["status"] == "Running"]
    counts = {"modules": len(modules), "applications": len(applications), "functions": len(functions),
              "actions": len(actions)}
    return registered(applications, functions, actions, list(modules)), counts, modules_key(running), version


def installed_version(module, binary):
    rc, out, err = module.run_command([binary, "-V"])
    try:
        return parse_version(out)["version"] if rc == 0 else None
    except ParseError:
        return None


def read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def write(path, data):
    """Atomic replace, mode 0644 owned by root (by the caller when not run as root), whatever the
    umask, so that Asterisk's user can read it."""
    owner = (0, 0) if os.geteuid() == 0 else (os.getuid(), os.getgid())
    write_atomic(path, data, owner[0], owner[1], 0o644)


def summary(path, data, counts=None):
    if data is None:
        return "%s: missing\n" % path
    what = "trimmed copy" if read_stamp(data) else "full documentation"
    text = "%s: %d bytes (%s)\n" % (path, len(data), what)
    if counts:
        text += "".join("  %s: %d kept\n" % (kind, count) for kind, count in sorted(counts.items()))
    return text


class TrimError(Exception):
    """The documentation could not be trimmed: `msg`, and the result so far."""

    def __init__(self, msg, result):
        super().__init__(msg)
        self.msg, self.result = msg, result


def apply(module, path, source=None, modules=None, binary="/usr/sbin/asterisk"):
    """Trim `path` from `source` (the package's file, diverted) for what the running Asterisk
    registered; `modules`, the running modules, skips asking when the copy was made for them.
    The result (changed, path, source_sha256, size, source_size, kept, dropped, complete,
    registered, asked, maybe diff), or TrimError. Check mode writes nothing."""
    source = source or path + ".distrib"
    if os.path.islink(path):
        raise TrimError("path: %s is a symbolic link; refusing to replace it" % path, {})

    current = read(path)
    full = read(source)
    if full is None:
        if module.check_mode and current is not None and not read_stamp(current):
            full = current  # the diversion is still to be made: the package's file is the source
        else:
            raise TrimError("source: %s does not exist. Divert the package's documentation there first "
                            "(community.general.dpkg_divert with rename: true), or reinstall the asterisk "
                            "package if it is lost." % source, {})

    if (current is not None and modules is not None
            and read_key(current) == modules_key(modules) and read_stamp(current) == sha256(full)):
        # Made from this source for this running module set: what Asterisk registers has not changed.
        return dict(changed=False, path=path, source_sha256=read_stamp(current), size=len(current),
                    source_size=len(full), kept={}, dropped={}, complete=True, registered={}, asked=False)

    def give_up(msg):
        """Asterisk must always find a readable file: a missing one gets the full documentation."""
        if current is None and not module.check_mode:
            write(path, full)
            msg += " The full documentation was put in place."
        return TrimError(msg, {})

    try:
        used, counts, key, running_version = ask(module, binary)
    except Refusal as exc:
        raise give_up(str(exc)) from None
    installed = installed_version(module, binary)
    if installed != running_version:
        # An upgrade is installed but the old binary still runs: what it registers is not what the
        # new version will. The full documentation stays until Asterisk restarts and this runs again.
        changed = full != current
        if changed and not module.check_mode:
            write(path, full)
        module.warn("Asterisk %s runs, %s is installed: the full documentation is kept until Asterisk restarts "
                    "on the new version and the documentation is trimmed again." % (running_version, installed))
        return dict(changed=changed, path=path, source_sha256=sha256(full), size=len(full), source_size=len(full),
                    kept={}, dropped={}, complete=False, registered=counts, asked=True)
    try:
        data, stats = trim(full, used, key)
    except DocumentationError as exc:
        raise give_up("source: %s cannot be trimmed: %s" % (source, exc)) from None
    if not stats["complete"]:
        module.warn("An include in %s has a form this module cannot follow: the whole documentation was kept." % source)

    changed = data != current
    result = dict(changed=changed, path=path, source_sha256=stats["source_sha256"], size=len(data),
                  source_size=len(full), kept=stats["kept"], dropped=stats["dropped"],
                  complete=stats["complete"], registered=counts, asked=True)
    if changed and module._diff:
        result["diff"] = {"before": summary(path, current), "after": summary(path, data, stats["kept"]),
                          "before_header": path, "after_header": path}
    if changed and not module.check_mode:
        write(path, data)
    return result
