# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
"""Parsers for Asterisk and dpkg/apt command output, shared by the collection's modules.

Everything here is pure (text in, data out) so it can be unit-tested on output captured from
each supported Asterisk version (tests/unit/plugins/module_utils/fixtures).
"""

from __future__ import annotations

import fnmatch
import re
import time

VERSION_RE = re.compile(
    r"^Asterisk\s+(?:certified[/-])?(?P<major>\d+)\.(?P<minor>\d+)(?:\.(?P<patch>\d+))?(?P<suffix>\S*)",
    re.MULTILINE,
)

# First release of each branch that has asterisk.conf's `disable_remote_console_shell`
# (AST-2025-xxx hardening, see SECURITY-CONTROLS.md #4). Branches absent here never got it;
# branches above the highest key have it from their first release.
_REMOTE_SHELL_OPTION_SINCE = {18: (18, 26, 2), 20: (20, 14, 1), 21: (21, 9, 1), 22: (22, 4, 1)}

# Phrases `asterisk -rx` prints (with exit code 0) when the command did not do its job.
CLI_ERROR_PATTERNS = (
    (re.compile(r"^No such command ", re.MULTILINE), "unknown CLI command"),
    (re.compile(r"Unable to connect to remote asterisk", re.IGNORECASE), "Asterisk is not running"),
    (re.compile(r"^Unable to (?:reload|load|unload) ", re.MULTILINE), "module operation failed"),
    (re.compile(r"^The module '.*' (?:was not properly initialized|could not be reloaded)", re.MULTILINE),
     "module operation failed"),
    (re.compile(r"^No such module ", re.MULTILINE), "no such module"),
    (re.compile(r"^Module '.*' (?:does not support reload|not found|could not be reloaded)", re.MULTILINE),
     "module operation failed"),
)


class ParseError(ValueError):
    """Raised when command output does not have the expected shape."""


def parse_version(text):
    """Parse `asterisk -V` or `core show version` output.

    Returns a dict with `version` (the full string as printed, e.g. `16.28.0~dfsg-0+deb11u4`),
    `upstream` (`16.28.0`), `major`, `minor`, `patch` (ints) and `suffix` (distribution part).
    """
    match = VERSION_RE.search(text or "")
    if not match:
        raise ParseError("no Asterisk version found in: %r" % (text or "")[:200])
    major, minor = int(match.group("major")), int(match.group("minor"))
    patch = int(match.group("patch") or 0)
    suffix = match.group("suffix") or ""
    upstream = "%d.%d.%d" % (major, minor, patch)
    return {
        "version": upstream + suffix if match.group("patch") else "%d.%d%s" % (major, minor, suffix),
        "upstream": upstream,
        "major": major,
        "minor": minor,
        "patch": patch,
        "suffix": suffix,
    }


def supports_disable_remote_console_shell(major, minor, patch):
    """True when this Asterisk release knows asterisk.conf's `disable_remote_console_shell`."""
    version = (int(major), int(minor), int(patch))
    if version[0] in _REMOTE_SHELL_OPTION_SINCE:
        return version >= _REMOTE_SHELL_OPTION_SINCE[version[0]]
    return version[0] > max(_REMOTE_SHELL_OPTION_SINCE)


def has_chan_sip(major):
    """chan_sip was removed upstream in Asterisk 21."""
    return int(major) < 21


def parse_settings(text):
    """Parse the `Key:   value` lines of `core show settings`, `rtp show settings`,
    `manager show settings` and similar commands into a dict (keys stripped, last one wins)."""
    settings = {}
    for line in (text or "").splitlines():
        if not line.startswith(" ") or ":" not in line:
            continue
        key, _unused, value = line.strip().partition(":")
        key = key.strip().rstrip(":")
        if key:
            settings[key] = value.strip().lstrip(":").strip()
    return settings


_MODULE_LINE_RE = re.compile(
    r"^(?P<module>\S+)\s+(?P<description>.*?)\s+(?P<use_count>-?\d+)\s+"
    r"(?P<status>Running|Not Running|Declined|Failed|Unknown|Initialized|Stopped)\s+(?P<support>\S+)\s*$"
)
_MODULE_COUNT_RE = re.compile(r"^(\d+) modules? loaded", re.MULTILINE)


def parse_module_show(text):
    """Parse `module show` / `module show like X`.

    Returns {"modules": {name: {description, use_count, status, support_level}}, "count": int}.
    """
    modules = {}
    for line in (text or "").splitlines():
        match = _MODULE_LINE_RE.match(line)
        if match and match.group("module") != "Module":
            modules[match.group("module")] = {
                "description": match.group("description"),
                "use_count": int(match.group("use_count")),
                "status": match.group("status"),
                "support_level": match.group("support"),
            }
    count = _MODULE_COUNT_RE.search(text or "")
    if count is None:
        raise ParseError("not `module show` output: %r" % (text or "")[:200])
    return {"modules": modules, "count": int(count.group(1))}


def parse_logger_channels(text):
    """Parse `logger show channels` into a list of {channel, type, status, levels}."""
    channels = []
    started = False
    for line in (text or "").splitlines():
        if line.startswith("-------"):
            started = True
            continue
        if not started or not line.strip():
            continue
        parts = line.split()
        # Channel Type [Formatter] Status - LEVELS...
        if "-" not in parts:
            continue
        dash = parts.index("-")
        head = parts[:dash]
        if len(head) < 3:
            continue
        channels.append({
            "channel": head[0],
            "type": head[1],
            "status": head[-1],
            "levels": [level.lower() for level in parts[dash + 1:]],
        })
    return channels


def cli_error(text):
    """Return a short reason when `asterisk -rx` output reports a failure, else None."""
    for pattern, reason in CLI_ERROR_PATTERNS:
        if pattern.search(text or ""):
            return reason
    return None


def parse_conffiles(text):
    """Parse `dpkg-query -W -f='${Package}\\n${Conffiles}\\n' PKGS`.

    Returns {path: {"package": name, "md5": md5}}; conffiles marked obsolete are skipped.
    """
    result = {}
    package = None
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        if not line.startswith(" "):
            package = line.strip()
            continue
        fields = line.split()
        if len(fields) < 2 or package is None:
            continue
        if len(fields) > 2 and "obsolete" in fields[2:]:
            continue
        result[fields[0]] = {"package": package, "md5": fields[1]}
    return result


def parse_madison(text):
    """Parse `apt-cache madison PKG` into a list of unique versions, in apt's order (newest first)."""
    versions = []
    for line in (text or "").splitlines():
        fields = [field.strip() for field in line.split("|")]
        if len(fields) >= 3 and fields[1] and fields[1] not in versions:
            versions.append(fields[1])
    return versions


def parse_dpkg_packages(text):
    """Parse `dpkg-query -W -f='${Package}\\t${Status}\\t${Version}\\n' PKG...` into
    {package: {"version": installed version or "", "selection": install|hold|deinstall|...}}."""
    packages = {}
    for line in (text or "").splitlines():
        parts = line.split("\t")
        if len(parts) != 3 or not parts[0]:
            continue
        status = parts[1].split()
        packages[parts[0].split(":", 1)[0]] = {
            "version": parts[2] if len(status) >= 3 and status[2] == "installed" else "",
            "selection": status[0] if status else ""}
    return packages


# os-release IDs as Ansible's distribution facts name them (ansible_facts.distribution): Raspbian
# (Debian's archive rebuilt for the Raspberry Pi) is Debian to them.
OS_NAMES = {"debian": "Debian", "raspbian": "Debian", "ubuntu": "Ubuntu"}


def parse_os_release(text):
    """Parse /etc/os-release into {"distribution", "version", "release"}, named as Ansible's
    distribution facts would (Debian, 11, bullseye; Ubuntu, 22.04, jammy). Debian testing and
    unstable have no VERSION_ID (version ""), and their VERSION_CODENAME is the next release's."""
    fields = {}
    for line in (text or "").splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key and not key.startswith("#"):
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            fields[key] = value
    os_id = fields.get("ID", "").lower()
    return {"distribution": OS_NAMES.get(os_id, fields.get("NAME") or os_id or "unknown"),
            "version": fields.get("VERSION_ID", ""),
            "release": fields.get("VERSION_CODENAME") or fields.get("UBUNTU_CODENAME", "")}


def strip_epoch(version):
    return version.split(":", 1)[1] if re.match(r"^\d+:", version) else version


def match_version(pin, versions):
    """Return the first (newest) of `versions` matching `pin`, or None.

    `pin` is an exact Debian version (`1:16.28.0~dfsg-0+deb11u4`), the same without epoch,
    a shell glob (`1:16.28.*`, `16.*`) or an upstream prefix (`16`, `16.28`, `16.28.0`).
    """
    pin = str(pin).strip()
    if not pin:
        return None
    for version in versions:
        bare = strip_epoch(version)
        if pin in (version, bare):
            return version
        if any(ch in pin for ch in "*?[") and (fnmatch.fnmatchcase(version, pin) or fnmatch.fnmatchcase(bare, pin)):
            return version
        if re.match(r"^\d+(\.\d+){0,2}$", pin) and re.match(re.escape(pin) + r"(?:[.~+-]|$)", bare):
            return version
    return None


# What Asterisk logs when a reload meets configuration it refuses (it then keeps the previous
# object: "Retaining existing configuration"), e.g. on Asterisk 22:
#   ERROR[2043] config_options.c: Could not find option suitable for category '1002' named 'x' at line 51 of
#   ERROR[2043] res_sorcery_config.c: Could not create an object of type 'endpoint' with id '1002' from ...
#   NOTICE[2043] res_sorcery_config.c: Retaining existing configuration for object of type 'endpoint' ...
# Only these: a module (re)loading while the collection works also logs "Unable to load config
# file 'cdr.conf'" and the like for configuration the collection deliberately does not write.
# cdr_adaptive_odbc drops a table it cannot look up as it loads (no connection, no such table) -
# for good, until its next reload: its records would go nowhere without another word.
CONFIG_REFUSAL = re.compile(r"config_options\.c: (?:Could not find option suitable for category|Error parsing )|"
                            r"res_sorcery_config\.c: Could not create an object of type|"
                            r"Retaining existing configuration for object|"
                            r"cdr_adaptive_odbc\.c: (?:No such connection|Unable to query database columns)")


# What Asterisk itself says, at load, about configuration that helps an attacker (chan_sip 16):
#   NOTICE[...] chan_sip.c: !!! PLEASE NOTE: Setting 'nat' for a peer/user that differs from the global
#   setting can make the name of that peer/user discoverable by an attacker. Replies for non-existent
#   peers/users will be sent to a different port than replies for an existing peer/user.
SECURITY_WARNING = re.compile(r"discoverable by an attacker|PLEASE NOTE: .*(?:attacker|insecure)", re.IGNORECASE)


def _matching_lines(text, pattern):
    """The lines of a stretch of Asterisk's log that match pattern, once each, without timestamps."""
    lines = []
    for line in (text or "").splitlines():
        if pattern.search(line):
            line = re.sub(r"^\[[^\]]*\]\s*", "", line.strip())
            if line not in lines:
                lines.append(line)
    return lines


def security_warnings(text):
    """The lines in which Asterisk warns that the configuration it loaded helps an attacker."""
    return _matching_lines(text, SECURITY_WARNING)


def config_refusals(text):
    """The lines of a stretch of Asterisk's notice log that say a reload refused configuration."""
    return _matching_lines(text, CONFIG_REFUSAL)


# AMI write classes that place calls at the PBX's cost (originate), run shell commands (system,
# command), rewrite the configuration (config), or contain them all.
MANAGER_DANGEROUS_CLASSES = ("originate", "system", "command", "config", "all")


def manager_user_errors(users, allow_dangerous=False, var="asterisk_manager_users"):
    """Problems with the AMI users, each naming the path and the fix; never a secret."""
    errors = []
    for index, user in enumerate(users or []):
        if not isinstance(user, dict):
            errors.append("%s[%d]: must be a mapping with name and secret" % (var, index))
            continue
        name = str(user.get("name") or "")
        path = "%s[%d] (%s)" % (var, index, name)
        secret = str(user.get("secret") or "")
        if len(secret) < 16 or secret == name:
            errors.append("%s.secret: must have 16 or more characters and differ from the user name (e.g. the "
                          "output of `openssl rand -hex 16`, kept in the vault)" % path)
        write = [str(c).strip().lower() for c in user.get("write") or []]
        dangerous = [c for c in MANAGER_DANGEROUS_CLASSES if c in write]
        if dangerous and not allow_dangerous:
            errors.append("%s.write grants %s: with the password, anyone could place calls at your cost, run "
                          "shell commands or rewrite the configuration. Remove them, or set "
                          "asterisk_manager_allow_dangerous_classes: true if an application on the PBX itself "
                          "needs them" % (path, ", ".join(dangerous)))
    return errors


class Cli:
    """`asterisk -rx` for the modules that act on the running Asterisk (asterisk_module,
    asterisk_apply)."""

    def __init__(self, module, binary):
        self.module, self.binary = module, binary

    def run(self, command):
        """(rc, output) of one CLI command."""
        rc, out, err = self.module.run_command([self.binary, "-rx", command])
        return rc, (out or "") + (err or "")

    def wait_booted(self, seconds=90):
        """True once Asterisk answers that it has fully booted (after a start or a restart)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            rc, out = self.run("core waitfullybooted")
            if rc == 0 and "fully booted" in out:
                return True
            time.sleep(1)
        return False

    def modules(self, required=True):
        """{module: {"status", ...}} of `module show`. When Asterisk does not answer: the module
        fails, or with required=False None is returned (for a caller that must undo something first)."""
        _rc, out = self.run("module show")
        try:
            return parse_module_show(out)["modules"]
        except ParseError:
            if not required:
                return None
            self.module.fail_json(msg="Cannot read the loaded modules (is Asterisk running?): %s" % out.strip()[:500])


def log_lines(path, name, limit=10):
    """The last lines of Asterisk's log that name a module (what it said when it declined)."""
    stem = name[:-3] if name.endswith(".so") else name
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.readlines()[-2000:]
    except OSError:
        return []
    return [line.rstrip() for line in lines if stem in line][-limit:]


def not_running(shown, names, log_file):
    """'' when every name is loaded and Running, else one line per module with the reason."""
    broken = []
    for name in names:
        status = shown.get(name, {}).get("status", "not loaded")
        if status != "Running":
            logged = " | ".join(log_lines(log_file, name)) or "nothing"
            broken.append("%s is %s (Asterisk logged: %s)" % (name, status, logged))
    return "; ".join(broken)


def upgraded(module, cli, binary):
    """True when the running Asterisk is not the installed version (a package upgrade not applied
    yet): `core show version` against `asterisk -V`."""
    _rc, running = cli.run("core show version")
    rc, installed, _err = module.run_command([binary, "-V"])
    try:
        return rc == 0 and parse_version(running)["version"] != parse_version(installed)["version"]
    except (ParseError, KeyError, TypeError, ValueError):
        return False
