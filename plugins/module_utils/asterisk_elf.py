# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
"""Read the dependency declarations of an installed Asterisk module (.so) without loading it.

Every loadable module carries a `struct ast_module_info` (AST_MODULE_INFO) whose string fields
`requires`, `optional_modules` and `enhances` are what Asterisk's own loader resolves (16 and
later). In a shared object the struct's pointers are filled by R_*_RELATIVE relocations, whose
addends are the addresses of the strings. We find the struct by its `key` field (Asterisk's GPL
key text, identical in every module) and read the fields at their offsets, which are the same in
Asterisk 16 to 22 on 64-bit little-endian platforms:

    self 0, load 8, reload 16, unload 24, name 32, description 40, key 48, flags 56,
    buildopt_sum[33] 60, load_pri 93 (unsigned char), requires 96, optional_modules 104,
    enhances 112
"""

from __future__ import annotations

import struct

KEY_PREFIX = b"This paragraph is copyright (c) 2006 by Digium, Inc."
_RELATIVE = {62: 8, 183: 1027}  # e_machine -> R_X86_64_RELATIVE / R_AARCH64_RELATIVE
_SHT_RELA, _SHT_NOBITS = 4, 8
OFFSETS = {"name": 32, "description": 40, "key": 48, "requires": 96, "optional": 104, "enhances": 112}


class ElfError(ValueError):
    """The file is not a module this reader understands."""


def _sections(data):
    if data[:4] != b"\x7fELF":
        raise ElfError("not an ELF file")
    if data[4] != 2 or data[5] != 1:
        raise ElfError("only 64-bit little-endian ELF is supported")
    machine = struct.unpack_from("<H", data, 0x12)[0]
    if machine not in _RELATIVE:
        raise ElfError("unsupported machine %d" % machine)
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = []
    for index in range(shnum):
        (_name, kind, _flags, addr, offset, size, _link, _info, _align, _entsize) = struct.unpack_from(
            "<IIQQQQIIQQ", data, shoff + index * shentsize)
        sections.append((kind, addr, offset, size))
    return machine, sections


def _reader(data, sections):
    mapped = [(addr, offset, size) for kind, addr, offset, size in sections if addr and kind != _SHT_NOBITS]

    def cstring(vaddr):
        for addr, offset, size in mapped:
            if addr <= vaddr < addr + size:
                start = offset + vaddr - addr
                end = data.find(b"\0", start)
                return data[start:end if end >= 0 else len(data)]
        return None
    return cstring


def _relative_relocations(data, machine, sections):
    wanted = _RELATIVE[machine]
    relocations = {}
    for kind, _addr, offset, size in sections:
        if kind != _SHT_RELA:
            continue
        for entry in range(size // 24):
            r_offset, r_info, r_addend = struct.unpack_from("<QQq", data, offset + entry * 24)
            if r_info & 0xFFFFFFFF == wanted:
                relocations[r_offset] = r_addend
    return relocations


def split_list(value):
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def read_module_info(data):
    """Return {name, description, requires, optional, enhances} of a module's bytes, or None when
    the file has no AST_MODULE_INFO (a library, not a module)."""
    machine, sections = _sections(data)
    cstring = _reader(data, sections)
    relocations = _relative_relocations(data, machine, sections)
    for where, target in relocations.items():
        text = cstring(target)
        if not text or not text.startswith(KEY_PREFIX):
            continue
        base = where - OFFSETS["key"]

        def field(name):
            pointer = relocations.get(base + OFFSETS[name])
            value = cstring(pointer) if pointer is not None else None
            return value.decode("utf-8", "replace") if value is not None else ""

        name = field("name")
        if not name:
            continue
        return {
            "name": name,
            "description": field("description"),
            "requires": split_list(field("requires")),
            "optional": split_list(field("optional")),
            "enhances": split_list(field("enhances")),
        }
    return None


def read_module_file(path):
    with open(path, "rb") as handle:
        return read_module_info(handle.read())
