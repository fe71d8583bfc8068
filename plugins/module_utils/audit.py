# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
"""The read-only hardening audit: judge the controls of SECURITY-CONTROLS.md from evidence
gathered on the host (module asterisk_audit).

Pure: evidence in, results out, so every verdict is unit-tested on output captured from real
Asterisk hosts (tests/unit/plugins/module_utils/fixtures/audit). Evidence (every key optional):

- ``version``: `asterisk -V` (or `core show version`) output.
- ``installed``: whether the asterisk executable exists.
- ``running``: whether `asterisk -rx` answered.
- ``ps``: `ps -C asterisk -o user=,group=,pid=,args=` output.
- ``confdir``: `find /etc/asterisk -printf '%m %u %g %y %p\\n'` output.
- ``files``: {name relative to /etc/asterisk: text or None} - asterisk.conf, sip.conf,
  extensions.conf and every file they include.
- ``cli``: {CLI command: output} of `asterisk -rx` (see CLI_COMMANDS; plus one
  `pjsip show endpoint NAME` per endpoint).
- ``ufw`` / ``fail2ban``: {"rc": exit code or None when the tool is not installed, "out": text}
  of `ufw status verbose` and `fail2ban-client status`.
- ``fail2ban_jails``: {jail: text of `fail2ban-client status <jail>`} for the jails named asterisk.

A result is {id, title, scope, status, detail, fix}; status is pass, fail, n/a (the control does
not apply here or is proven from another host) or unknown (the host cannot tell; detail says why).
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re

from ansible_collections.vpbx.hardened.plugins.module_utils import asterisk as ast
from ansible_collections.vpbx.hardened.plugins.module_utils import firewall as fw
from ansible_collections.vpbx.hardened.plugins.module_utils.fail2ban import parse_jails  # noqa: F401 (also audit's API)

PASS, FAIL, NA, UNKNOWN = "pass", "fail", "n/a", "unknown"
STATUSES = (PASS, FAIL, NA, UNKNOWN)
OUTSIDE = "proven from another host by the collection's tests"

# id, title, scope (S chan_sip, P PJSIP, B both, OS), how the audit judges it on the host.
CONTROLS = (
    (1, "Asterisk runs as a non-root user", "B", "owner of the asterisk process (ps)"),
    (2, "/etc/asterisk not world-readable, group asterisk", "B", "modes under /etc/asterisk (find)"),
    (3, "live_dangerously=no", "B", "effective [options] value of asterisk.conf"),
    (4, "disable_remote_console_shell=yes", "B", "core show settings / asterisk.conf, where the version has it"),
    (5, "Unused channel drivers and services not loaded", "B", "module show"),
    (6, "No product or version in User-Agent/SDP", "B", "sip show settings / pjsip show settings"),
    (7, "Version not affected by the advisories in scope", "B", "core show version"),
    (8, "alwaysauthreject=yes", "S", "sip show settings: Always auth rejects"),
    (9, "Unknown users answered like wrong passwords", "P", OUTSIDE),
    (10, "allowguest=no", "S", "sip show settings: Allow unknown access"),
    (11, "No anonymous PJSIP endpoint", "P", "module show / pjsip show endpoints"),
    (12, "identify matches single addresses only", "P", "pjsip show identifies"),
    (13, "OPTIONS need authentication", "B", "pjsip show endpoint NAME / sip.conf auth_options_requests"),
    (14, "Strong secrets", "B", OUTSIDE),
    (15, "Per-subscriber IP ACL", "B", OUTSIDE),
    (16, "Contact ACL", "B", OUTSIDE),
    (17, "autocreatepeer=no", "B", "sip show settings: AutoCreate Peer"),
    (18, "Concurrent-call caps", "B", OUTSIDE),
    (19, "TLS 1.2 or later when TLS is enabled", "B", OUTSIDE),
    (20, "SRTP when asked", "B", OUTSIDE),
    (21, "Security log and notice log", "B", "logger show channels / module show"),
    (22, "fail2ban asterisk jail active", "B", "fail2ban-client status"),
    (23, "AMI off or on loopback", "B", "manager show settings"),
    (24, "HTTP/ARI off or on loopback", "B", "http show status"),
    (25, "Guest contexts are dead ends, no demo contexts", "B", "dialplan show"),
    (26, "No unfiltered ${EXTEN}/${CALLERID()} in Dial/System/SHELL/MixMonitor", "B",
     "lint of extensions.conf and its includes"),
    (27, "International/premium prefixes only where allowed", "B", OUTSIDE),
    (28, "Default-deny firewall", "B", "ufw status verbose"),
    (29, "SSH allowed before the firewall is enabled", "OS", OUTSIDE),
    (30, "SIP floods banned", "OS", OUTSIDE),
    (31, "strictrtp=yes", "B", "rtp show settings: Strict RTP"),
)

# Read-only CLI commands the module runs when Asterisk is up (the module adds
# `pjsip show endpoint NAME` for each endpoint of `pjsip show endpoints`).
CLI_COMMANDS = (
    "core show version",
    "core show settings",
    "module show",
    "sip show settings",
    "pjsip show settings",
    "pjsip show endpoints",
    "pjsip show identifies",
    "logger show channels",
    "manager show settings",
    "http show status",
    "dialplan show",
    "rtp show settings",
)

UNUSED_MODULES = ("chan_iax2", "chan_skinny", "chan_mgcp", "chan_unistim", "pbx_dundi", "pbx_lua", "pbx_ael")
# Contexts of the sample extensions.conf / extensions.ael / extensions.lua.
DEMO_CONTEXTS = ("demo", "ael-demo", "ael-default", "iaxtel700", "ael-iaxtel700")
# Ports of services the hardened PBX never exposes (AMI, AMI TLS, HTTP, HTTPS, IAX2, SCCP, MGCP).
CLOSED_PORTS = {"5038": "AMI", "5039": "AMI/TLS", "8088": "HTTP/ARI", "8089": "HTTPS/ARI", "4569": "IAX2",
                "2000": "SCCP", "2727": "MGCP"}
DISCLOSURE_RE = re.compile(r"asterisk|\d+\.\d+", re.IGNORECASE)
TRUE_WORDS = ("yes", "true", "y", "t", "1", "on")
LOOPBACK_FIX = "set it to 127.0.0.1 (or switch it off)"

_INCLUDE_RE = re.compile(r'^\s*#\s*(?:try)?include\s+"?([^"\s]+)"?', re.MULTILINE)


def controls():
    """The control table as a list of {id, title, scope, how}."""
    return [{"id": c[0], "title": c[1], "scope": c[2], "how": c[3]} for c in CONTROLS]


# --------------------------------------------------------------------------- config files

def includes(text):
    """Names of the files an Asterisk config file pulls in with #include / #tryinclude."""
    return _INCLUDE_RE.findall(text or "")


def conf_lines(files, name, _seen=None):
    """(file, line number, text) of an Asterisk config file with its #include / #tryinclude files
    inlined where they stand (Asterisk reads them as text: the current section goes on)."""
    seen = _seen if _seen is not None else set()
    if name in seen:
        return []
    seen.add(name)
    out = []
    for number, raw in enumerate((files.get(name) or "").splitlines(), start=1):
        names = includes(raw) if raw.lstrip().startswith("#") else []
        if names:
            for inc in names:
                rel = _relname(inc)
                if any(c in rel for c in "*?["):  # Asterisk expands globs, in sorted order
                    for match in sorted(k for k in files if fnmatch.fnmatchcase(k, rel)):
                        out.extend(conf_lines(files, match, seen))
                else:
                    out.extend(conf_lines(files, rel, seen))
        else:
            out.append((name, number, raw))
    return out


def conf_options(files, name, section):
    """(key, value) pairs of one section of an Asterisk config file, #includes followed, in the
    order Asterisk reads them. Templates `[name](!)` and `[name](+)` count as the section."""
    pairs = []
    current = None
    for _file, _number, raw in conf_lines(files, name):
        line = re.sub(r"(?<!\\);.*$", "", raw).strip()
        if not line or line.startswith("#"):
            continue
        match = re.match(r"^\[([^\]]+)\]", line)
        if match:
            current = match.group(1).strip()
            continue
        if current == section:
            key, sep, value = line.partition("=")
            if sep:
                pairs.append((key.strip().lower(), value.lstrip(">").strip()))
    return pairs


def _relname(path):
    return path[len("/etc/asterisk/"):] if path.startswith("/etc/asterisk/") else path


def last_option(pairs, key):
    """The effective value (the last one wins) or None."""
    values = [v for k, v in pairs if k == key]
    return values[-1] if values else None


def is_true(value):
    return (value or "").strip().lower() in TRUE_WORDS


# --------------------------------------------------------------------------- parsers

def parse_ps(text):
    """`ps -C asterisk -o user=,group=,pid=,args=` without remote consoles (`asterisk -r...`)."""
    procs = []
    for line in (text or "").splitlines():
        fields = line.split(None, 3)
        if len(fields) < 3:
            continue
        args = fields[3].split() if len(fields) > 3 else []
        if any(re.match(r"^-[a-zA-Z]*[rR]", a) for a in args[1:]):
            continue
        procs.append({"user": fields[0], "group": fields[1], "pid": fields[2], "args": " ".join(args)})
    return procs


def parse_find(text):
    """`find DIR -printf '%m %u %g %y %p\\n'` into [{mode (int), user, group, type, path}]."""
    entries = []
    for line in (text or "").splitlines():
        fields = line.split(None, 4)
        if len(fields) == 5 and re.match(r"^[0-7]{1,4}$", fields[0]):
            entries.append({"mode": int(fields[0], 8), "user": fields[1], "group": fields[2],
                            "type": fields[3], "path": fields[4]})
    return entries


def parse_kv(text):
    """` name   : value` lines (pjsip show settings, pjsip show endpoint) into a dict."""
    result = {}
    for line in (text or "").splitlines():
        match = re.match(r"^\s+([A-Za-z0-9_.]+)\s+:\s?(.*)$", line)
        if match:
            result.setdefault(match.group(1), match.group(2).strip())
    return result


def parse_pjsip_names(text, kind):
    """Object names of `pjsip show endpoints` (kind Endpoint) / `pjsip show identifies` (Identify)."""
    names = []
    for line in (text or "").splitlines():
        match = re.match(r"^\s*%s:\s+(\S+)" % kind, line)
        if match and not match.group(1).startswith("<"):
            names.append(match.group(1).split("/")[0])
    return names


def parse_identify_matches(text):
    """Match: lines of `pjsip show identifies` as {identify, match}."""
    result = []
    current = None
    for line in (text or "").splitlines():
        ident = re.match(r"^\s*Identify:\s+(\S+)", line)
        if ident and not ident.group(1).startswith("<"):
            current = ident.group(1).split("/")[0]
            continue
        match = re.match(r"^\s*Match:\s+(\S+)", line)
        if match and not match.group(1).startswith("<"):
            result.append({"identify": current, "match": match.group(1)})
    return result


def parse_dialplan(text):
    """`dialplan show` into {context: {"registrar", "includes", "switches", "lines"}}."""
    contexts = {}
    current = None
    for line in (text or "").splitlines():
        match = re.match(r"^\[ Context '([^']+)' created by '([^']+)' \]", line)
        if match:
            current = contexts.setdefault(match.group(1), {"registrar": match.group(2), "includes": [],
                                                           "switches": [], "lines": []})
            continue
        if current is None or not line.strip():
            continue
        inc = re.match(r"^\s+Include =>\s+'([^']+)'", line)
        sw = re.match(r"^\s+Alt\. Switch =>\s+'([^']+)'", line)
        if inc:
            current["includes"].append(inc.group(1).split("|")[0].split(",")[0])
        elif sw:
            current["switches"].append(sw.group(1))
        else:
            current["lines"].append(line.strip())
    return contexts


def parse_jail_files(text):
    """The "File list" of `fail2ban-client status <jail>` (journal jails have none)."""
    match = re.search(r"File list:[ \t]*(.*)$", text or "", re.MULTILINE)
    return match.group(1).split() if match else []


def lint_extensions(files, name="extensions.conf"):
    """Dangerous application lines of extensions.conf and its includes: Dial, System, SHELL,
    MixMonitor with the raw ${EXTEN} under a pattern that matches any character (`.` or `!`) or
    with the caller-controlled ${CALLERID(...)}. ${FILTER(...)} around the variable is safe.
    Returns [{file, line, context, exten, text}]."""
    findings = []
    context, pattern = None, None
    for source, number, raw in conf_lines(files, name):
        line = re.sub(r"(?<!\\);.*$", "", raw).strip()
        if not line or line.startswith("#"):
            continue
        match = re.match(r"^\[([^\]]+)\]", line)
        if match:
            context, pattern = match.group(1), None
            continue
        match = re.match(r"^(exten|same)\s*=>?\s*(.*)$", line, re.IGNORECASE)
        if not match:
            continue
        body = match.group(2)
        if match.group(1).lower() == "exten":
            pattern = body.split(",", 1)[0].strip()
        if not re.search(r"\b(Dial|System|SHELL|MixMonitor)\s*\(", body, re.IGNORECASE):
            continue
        unfiltered = _strip_filters(body)
        wild = bool(pattern) and pattern.startswith("_") and ("." in pattern or "!" in pattern)
        if "${CALLERID(" in unfiltered.upper() or (wild and re.search(r"\$\{EXTEN[}:]", unfiltered)):
            findings.append({"file": source, "line": number, "context": context, "exten": pattern,
                             "text": line})
    return findings


def _strip_filters(text):
    """Remove ${FILTER(...)} expressions (balanced parentheses)."""
    out = text
    while True:
        start = out.upper().find("FILTER(")
        if start < 0:
            return out
        depth, index = 0, start + len("FILTER")
        while index < len(out):
            if out[index] == "(":
                depth += 1
            elif out[index] == ")":
                depth -= 1
                if depth == 0:
                    break
            index += 1
        out = out[:start] + out[index + 1:]


def _is_loopback(address):
    host = (address or "").strip()
    if host.startswith("["):
        host = host[1:].split("]", 1)[0]
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


# --------------------------------------------------------------------------- evaluation

class _Ctx:
    def __init__(self, evidence):
        self.ev = evidence or {}
        self.cli = self.ev.get("cli") or {}
        self.files = self.ev.get("files") or {}
        self.running = bool(self.ev.get("running"))
        self.version = None
        for source in (self.cli.get("core show version"), self.ev.get("version")):
            try:
                self.version = ast.parse_version(source)
                break
            except ast.ParseError:
                continue
        self.modules = None
        try:
            self.modules = ast.parse_module_show(self.cli.get("module show"))["modules"]
        except ast.ParseError:
            pass
        self.settings = ast.parse_settings(self.cli.get("core show settings"))

    def out(self, command):
        """CLI output, or None when the command was not run or Asterisk did not know it."""
        text = self.cli.get(command)
        if text is None or ast.cli_error(text):
            return None
        return text

    def loaded(self, module):
        name = module if module.endswith(".so") else module + ".so"
        info = (self.modules or {}).get(name)
        return bool(info) and info["status"] in ("Running", "Initialized")

    @property
    def chan_sip(self):
        return self.loaded("chan_sip")

    @property
    def pjsip(self):
        return self.loaded("res_pjsip")


def _r(status, detail, fix=""):
    return {"status": status, "detail": detail, "fix": fix if status == FAIL else ""}


NOT_RUNNING = _r(UNKNOWN, "Asterisk is not running: start it (systemctl start asterisk) and run the audit again")


def _need_cli(ctx):
    if not ctx.ev.get("installed", True):
        return _r(NA, "Asterisk is not installed")
    if not ctx.running or ctx.modules is None:
        return NOT_RUNNING
    return None


def _c1(ctx):
    if not ctx.ev.get("installed", True):
        return _r(NA, "Asterisk is not installed")
    procs = parse_ps(ctx.ev.get("ps"))
    if not procs:
        return NOT_RUNNING
    root = [p for p in procs if p["user"] in ("root", "0")]
    users = ", ".join(sorted({"%s:%s" % (p["user"], p["group"]) for p in procs}))
    if root:
        return _r(FAIL, "asterisk runs as root (pid %s)" % ", ".join(p["pid"] for p in root),
                  "run Asterisk as its own user: runuser/rungroup = asterisk in asterisk.conf [options] "
                  "(asterisk_user: asterisk)")
    return _r(PASS, "asterisk runs as %s" % users)


def _c2(ctx):
    entries = parse_find(ctx.ev.get("confdir"))
    if not entries:
        return _r(UNKNOWN, "/etc/asterisk could not be listed (missing, or find failed)")
    top = next((e for e in entries if e["path"].rstrip("/") == "/etc/asterisk"), None)
    problems = []
    if top is None:
        return _r(UNKNOWN, "find did not list /etc/asterisk itself")
    if top["mode"] & 0o007:
        problems.append("/etc/asterisk is %04o (others may enter/list it)" % top["mode"])
    if top["group"] != "asterisk":
        problems.append("/etc/asterisk belongs to group %s" % top["group"])
    readable = [e["path"] for e in entries if e["type"] == "f" and e["mode"] & 0o006]
    writable = [e["path"] for e in entries if e["type"] == "d" and e["mode"] & 0o002]
    if readable:
        problems.append("%d file(s) readable or writable by others (%s%s)"
                        % (len(readable), ", ".join(readable[:5]), ", ..." if len(readable) > 5 else ""))
    if writable:
        problems.append("directories writable by others: %s" % ", ".join(writable))
    if problems:
        return _r(FAIL, "; ".join(problems),
                  "chown root:asterisk /etc/asterisk && chmod 0750 /etc/asterisk && chmod o-rwx "
                  "/etc/asterisk/* (the vpbx.hardened.asterisk role does it)")
    files = sum(1 for e in entries if e["type"] == "f")
    return _r(PASS, "/etc/asterisk %04o %s:%s, none of its %d files readable by others"
              % (top["mode"], top["user"], top["group"], files))


def _c3(ctx):
    if not ctx.ev.get("installed", True):
        return _r(NA, "Asterisk is not installed")
    if ctx.files.get("asterisk.conf") is None:
        return _r(UNKNOWN, "/etc/asterisk/asterisk.conf could not be read (without it Asterisk uses "
                           "built-in defaults): check the file and run the audit again")
    value = last_option(conf_options(ctx.files, "asterisk.conf", "options"), "live_dangerously")
    major = ctx.version["major"] if ctx.version else None
    # main/options.c (12 and later): "Default to false for security"; 11 and older default to yes.
    default = "yes" if major is not None and major < 12 else "no"
    effective = value if value is not None else default
    origin = "set to %r" % value if value is not None else "not set, default %s" % default
    if is_true(effective):
        return _r(FAIL, "live_dangerously is %s: SHELL() and friends run from AMI/ARI" % origin,
                  "live_dangerously = no in asterisk.conf [options] (the vpbx.hardened.asterisk role sets it)")
    return _r(PASS, "live_dangerously %s" % origin)


def _c4(ctx):
    if not ctx.version:
        return _r(UNKNOWN, "the Asterisk version is unknown") if ctx.ev.get("installed", True) \
            else _r(NA, "Asterisk is not installed")
    v = ctx.version
    if not ast.supports_disable_remote_console_shell(v["major"], v["minor"], v["patch"]):
        return _r(NA, "Asterisk %s has no disable_remote_console_shell (18.26.2+, 20.14.1+, 21.9.1+, 22.4.1+)"
                  % v["upstream"])
    fix = "disable_remote_console_shell = yes in asterisk.conf [options] and restart Asterisk " \
          "(the vpbx.hardened.asterisk role sets it)"
    shown = ctx.settings.get("Shell on remote consoles")
    if shown:
        if shown.lower() == "disabled":
            return _r(PASS, "core show settings: Shell on remote consoles: Disabled")
        return _r(FAIL, "core show settings: Shell on remote consoles: %s" % shown, fix)
    if ctx.files.get("asterisk.conf") is None:
        return _r(UNKNOWN, "neither core show settings nor asterisk.conf shows disable_remote_console_shell")
    value = last_option(conf_options(ctx.files, "asterisk.conf", "options"), "disable_remote_console_shell")
    if is_true(value):
        return _r(PASS, "asterisk.conf: disable_remote_console_shell = %s" % value)
    return _r(FAIL, "asterisk.conf: disable_remote_console_shell is %s" % (value or "not set (default no)"), fix)


def _endpoints(ctx):
    return parse_pjsip_names(ctx.out("pjsip show endpoints"), "Endpoint")


def _c5(ctx):
    gate = _need_cli(ctx)
    if gate:
        return gate
    loaded = [m for m in UNUSED_MODULES if ctx.loaded(m)]
    endpoints = _endpoints(ctx) if ctx.pjsip else []
    if ctx.chan_sip and endpoints:
        loaded.append("chan_sip (PJSIP has %d endpoint(s))" % len(endpoints))
    idle = [m for m in UNUSED_MODULES if (ctx.modules or {}).get(m + ".so") and not ctx.loaded(m)]
    note = " (present but not running: %s)" % ", ".join(idle) if idle else ""
    if loaded:
        return _r(FAIL, "loaded: %s%s" % (", ".join(loaded), note),
                  "noload => MODULE.so in modules.conf for each (the vpbx.hardened.asterisk_modules role's "
                  "asterisk_modules_autoload_noload)")
    return _r(PASS, "none of %s running%s" % (", ".join(UNUSED_MODULES), note))


def _c6(ctx):
    gate = _need_cli(ctx)
    if gate:
        return gate
    leaks, seen = [], []
    if ctx.chan_sip:
        sip = ast.parse_settings(ctx.out("sip show settings"))
        if not sip:
            return _r(UNKNOWN, "chan_sip is loaded but `sip show settings` gave nothing")
        for label in ("User Agent", "SDP Session Name", "SDP Owner Name"):
            value = sip.get(label, "")
            seen.append("chan_sip %s %r" % (label, value))
            if DISCLOSURE_RE.search(value):
                leaks.append("chan_sip %s %r" % (label, value))
    if ctx.pjsip:
        settings = parse_kv(ctx.out("pjsip show settings"))
        if "user_agent" not in settings:
            return _r(UNKNOWN, "res_pjsip is loaded but `pjsip show settings` shows no user_agent")
        seen.append("PJSIP user_agent %r" % settings["user_agent"])
        if DISCLOSURE_RE.search(settings["user_agent"]):
            leaks.append("PJSIP user_agent %r" % settings["user_agent"])
    if not seen:
        return _r(NA, "neither chan_sip nor res_pjsip is loaded")
    if leaks:
        return _r(FAIL, "; ".join(leaks),
                  "a neutral identity: PJSIP [global] user_agent, chan_sip useragent/sdpowner/sdpsession "
                  "(asterisk_sip_user_agent: PBX)")
    return _r(PASS, "; ".join(seen))


def _c7(ctx):
    if not ctx.version:
        return _r(UNKNOWN, "the Asterisk version is unknown") if ctx.ev.get("installed", True) \
            else _r(NA, "Asterisk is not installed")
    return _r(UNKNOWN, "Asterisk %s: compare it with the fixed releases of the advisories in scope "
                       "(distributions backport fixes without changing the upstream number, so the number "
                       "alone proves nothing here)" % ctx.version["version"])


def _sip_setting(ctx, label):
    gate = _need_cli(ctx)
    if gate:
        return gate, None
    if not ctx.chan_sip:
        return _r(NA, "chan_sip is not loaded"), None
    sip = ast.parse_settings(ctx.out("sip show settings"))
    if label not in sip:
        return _r(UNKNOWN, "`sip show settings` shows no %r" % label), None
    return None, sip[label]


def _c8(ctx):
    gate, value = _sip_setting(ctx, "Always auth rejects")
    if gate:
        return gate
    if value.lower() == "yes":
        return _r(PASS, "Always auth rejects: Yes")
    return _r(FAIL, "Always auth rejects: %s (svwar tells valid from invalid users)" % value,
              "alwaysauthreject = yes in sip.conf [general] (vpbx.hardened.asterisk_sip renders it)")


def _c10(ctx):
    gate, value = _sip_setting(ctx, "Allow unknown access")
    if gate:
        return gate
    if value.lower() == "no":
        return _r(PASS, "Allow unknown access: No")
    return _r(FAIL, "Allow unknown access: %s (unauthenticated calls reach the dialplan)" % value,
              "allowguest = no in sip.conf [general] (vpbx.hardened.asterisk_sip renders it)")


def _c11(ctx):
    gate = _need_cli(ctx)
    if gate:
        return gate
    if not ctx.pjsip:
        return _r(NA, "res_pjsip is not loaded")
    anon_loaded = ctx.loaded("res_pjsip_endpoint_identifier_anonymous")
    if not anon_loaded:
        return _r(PASS, "res_pjsip_endpoint_identifier_anonymous is not loaded")
    if ctx.out("pjsip show endpoints") is None:
        return _r(UNKNOWN, "`pjsip show endpoints` gave no answer")
    if "anonymous" in _endpoints(ctx):
        return _r(FAIL, "endpoint 'anonymous' exists and res_pjsip_endpoint_identifier_anonymous is loaded",
                  "remove the [anonymous] endpoint and noload => res_pjsip_endpoint_identifier_anonymous.so "
                  "(asterisk_modules_autoload_noload)")
    return _r(PASS, "no 'anonymous' endpoint (res_pjsip_endpoint_identifier_anonymous is loaded but unused)")


def _c12(ctx):
    gate = _need_cli(ctx)
    if gate:
        return gate
    if not ctx.pjsip:
        return _r(NA, "res_pjsip is not loaded")
    text = ctx.out("pjsip show identifies")
    if text is None:
        return _r(UNKNOWN, "`pjsip show identifies` gave no answer")
    matches = parse_identify_matches(text)
    wide = []
    for item in matches:
        try:
            net = ipaddress.ip_network(item["match"], strict=False)
        except ValueError:
            continue  # a host name: Asterisk resolves it to single addresses
        if net.num_addresses > 1:
            wide.append("%s matches %s" % (item["identify"], item["match"]))
    if wide:
        return _r(FAIL, "; ".join(wide),
                  "identify match = the trunk's single addresses only (asterisk_sip_trunks[].identify)")
    if not matches:
        return _r(PASS, "no identify sections")
    return _r(PASS, "%d identify match(es), all single addresses" % len(matches))


def _c13(ctx):
    gate = _need_cli(ctx)
    if gate:
        return gate
    if not ctx.chan_sip and not ctx.pjsip:
        return _r(NA, "neither chan_sip nor res_pjsip is loaded")
    bad, notes, unknown = [], [], []
    if ctx.pjsip:
        endpoints = _endpoints(ctx)
        for name in endpoints:
            detail = parse_kv(ctx.out("pjsip show endpoint %s" % name))
            value = detail.get("allow_unauthenticated_options")
            if value is None:
                unknown.append(name)
            elif is_true(value):
                bad.append("PJSIP endpoint %s allow_unauthenticated_options=%s" % (name, value))
        notes.append("%d PJSIP endpoint(s)" % len(endpoints))
    if ctx.chan_sip:
        if ctx.files.get("sip.conf") is None:
            unknown.append("sip.conf (unreadable; `sip show settings` does not show auth_options_requests)")
        else:
            value = last_option(conf_options(ctx.files, "sip.conf", "general"), "auth_options_requests")
            if is_true(value):
                notes.append("chan_sip auth_options_requests = %s" % value)
            else:
                bad.append("chan_sip auth_options_requests is %s" % (value or "not set (default no)"))
    if bad:
        return _r(FAIL, "; ".join(bad),
                  "allow_unauthenticated_options = no on every PJSIP endpoint, auth_options_requests = yes in "
                  "sip.conf [general] (vpbx.hardened.asterisk_sip renders both)")
    if unknown:
        return _r(UNKNOWN, "could not read: %s" % ", ".join(unknown))
    return _r(PASS, "; ".join(notes))


def _c17(ctx):
    gate = _need_cli(ctx)
    if gate:
        return gate
    if not ctx.chan_sip:
        return _r(NA, "chan_sip is not loaded (PJSIP's max_contacts/remove_existing are per subscriber: %s)"
                  % OUTSIDE)
    gate, value = _sip_setting(ctx, "AutoCreate Peer")
    if gate:
        return gate
    if value.lower() in ("off", "no"):
        return _r(PASS, "AutoCreate Peer: %s" % value)
    return _r(FAIL, "AutoCreate Peer: %s (any REGISTER creates a peer)" % value,
              "autocreatepeer = no in sip.conf [general] (vpbx.hardened.asterisk_sip renders it)")


def _c21(ctx):
    gate = _need_cli(ctx)
    if gate:
        return gate
    channels = ast.parse_logger_channels(ctx.out("logger show channels"))
    enabled = [c for c in channels if c["status"].lower() == "enabled"]
    files = [c for c in enabled if c["type"].lower() == "file"]
    security = [c["channel"] for c in files if "security" in c["levels"]]
    notice = [c["channel"] for c in files if "notice" in c["levels"]]
    problems = []
    if not security:
        problems.append("no log file receives the security level")
    if not notice:
        problems.append("no log file receives notices (fail2ban reads them)")
    if not ctx.loaded("res_security_log"):
        problems.append("res_security_log is not loaded")
    if problems:
        return _r(FAIL, "; ".join(problems),
                  "logger.conf [logfiles]: security.log => security and messages.log => notice,warning,error "
                  "(asterisk_log_security_file / asterisk_log_messages_file), res_security_log loaded")
    return _r(PASS, "security: %s; notices: %s" % (", ".join(security), ", ".join(notice)))


def _c22(ctx):
    f2b = ctx.ev.get("fail2ban") or {}
    fix = "run vpbx.hardened.asterisk_fail2ban (or install fail2ban with an enabled asterisk jail on the " \
          "security log Asterisk writes, banning every port of the address)"
    if f2b.get("rc") is None:
        return _r(FAIL, "fail2ban-client is not installed", fix)
    if f2b["rc"] != 0:
        first = (f2b.get("out") or "").strip().splitlines()
        return _r(FAIL, "fail2ban is not running: %s" % (first[-1] if first else "rc=%s" % f2b["rc"]), fix)
    jails = parse_jails(f2b.get("out"))
    mine = [j for j in jails if "asterisk" in j.lower()]
    if not mine:
        return _r(FAIL, "no asterisk jail among: %s" % (", ".join(jails) or "none"), fix)
    statuses = ctx.ev.get("fail2ban_jails") or {}
    watched = sorted({path for jail in mine for path in parse_jail_files(statuses.get(jail))})
    if not statuses or ctx.ev.get("running") is not True:
        return _r(PASS, "jail(s) %s active (the files they watch were not compared with Asterisk's logs)"
                  % ", ".join(mine))
    channels = ast.parse_logger_channels(ctx.out("logger show channels"))
    written = sorted(c["channel"] for c in channels if c["status"].lower() == "enabled"
                     and c["type"].lower() == "file" and ({"security", "notice"} & set(c["levels"])))
    if not set(watched) & set(written):
        return _r(FAIL, "jail(s) %s watch %s, which Asterisk does not write (it writes %s)"
                  % (", ".join(mine), ", ".join(watched) or "no file", ", ".join(written) or "no notice/security file"),
                  fix)
    return _r(PASS, "jail(s) %s active on %s" % (", ".join(mine), ", ".join(sorted(set(watched) & set(written)))))


def _c23(ctx):
    gate = _need_cli(ctx)
    if gate:
        return gate
    settings = ast.parse_settings(ctx.out("manager show settings"))
    state = settings.get("Manager (AMI)")
    if state is None:
        return _r(UNKNOWN, "`manager show settings` shows no 'Manager (AMI)'")
    fix = "AMI off: enabled = no in manager.conf [general] (asterisk_manager_enabled: false), or " \
          "bindaddr = 127.0.0.1 (asterisk_manager_bindaddr: 127.0.0.1)"
    if state.lower() == "no":
        return _r(PASS, "Manager (AMI): No")
    binds = [("TCP", settings.get("TCP Bindaddress", ""))]
    if settings.get("TLS Enable", "No").lower() == "yes":
        binds.append(("TLS", settings.get("TLS Bindaddress", "")))
    exposed = ["%s %s" % (kind, addr) for kind, addr in binds if not _is_loopback(addr)]
    if settings.get("Web Manager (AMI/HTTP)", "No").lower() == "yes":
        exposed.append("Web Manager (AMI over HTTP) on")
    if exposed:
        return _r(FAIL, "AMI reachable: %s" % ", ".join(exposed), fix)
    return _r(PASS, "AMI on %s only (users' permit/deny and rights: %s)"
              % (", ".join(addr for _kind, addr in binds), OUTSIDE))


def _c24(ctx):
    gate = _need_cli(ctx)
    if gate:
        return gate
    text = ctx.out("http show status")
    if text is None:
        return _r(UNKNOWN, "`http show status` gave no answer")
    if re.search(r"^Server Disabled", text, re.MULTILINE) and "Bound to" not in text:
        return _r(PASS, "HTTP server disabled")
    binds = re.findall(r"Bound to\s+(\S+)", text)
    exposed = [b for b in binds if not _is_loopback(b)]
    problems = ["listening on %s" % b for b in exposed]
    if "/httpstatus" in text:
        problems.append("/httpstatus enabled (enable_status)")
    if problems:
        return _r(FAIL, "; ".join(problems),
                  "HTTP off: enabled = no in http.conf (asterisk_http_enabled: false), or bindaddr = 127.0.0.1 "
                  "and enable_status = no")
    return _r(PASS, "HTTP server on %s only" % ", ".join(binds) if binds else "HTTP server not listening")


def _reachable(contexts, start):
    order, todo = [], [start]
    while todo:
        name = todo.pop(0)
        if name in order or name not in contexts:
            continue
        order.append(name)
        todo.extend(contexts[name]["includes"])
    return order


def _c25(ctx):
    gate = _need_cli(ctx)
    if gate:
        return gate
    text = ctx.out("dialplan show")
    if text is None:
        return _r(UNKNOWN, "`dialplan show` gave no answer")
    contexts = parse_dialplan(text)
    problems = []
    demos = [c for c in DEMO_CONTEXTS if c in contexts]
    if demos:
        problems.append("demo contexts loaded: %s" % ", ".join(demos))
    guests = ["default"]
    if ctx.chan_sip:
        guest = ast.parse_settings(ctx.out("sip show settings")).get("Context")
        if guest and guest not in guests:
            guests.append(guest)
    judged = []
    for guest in guests:
        if guest not in contexts:
            continue
        judged.append(guest)
        for name in _reachable(contexts, guest):
            where = guest if name == guest else "%s (included from %s)" % (name, guest)
            if contexts[name]["switches"]:
                problems.append("%s has switch %s" % (where, ", ".join(contexts[name]["switches"])))
            dials = [line for line in contexts[name]["lines"] if re.search(r"\bDial\(", line)]
            if dials:
                problems.append("%s dials out (%s)" % (where, " ".join(dials[0].split())))
            if name != guest and name in DEMO_CONTEXTS:
                problems.append("%s includes the demo" % guest)
    if problems:
        more = " (+%d more)" % (len(problems) - 4) if len(problems) > 4 else ""
        return _r(FAIL, "; ".join(problems[:4]) + more,
                  "a closed [default] context (Busy/Hangup only), no demo contexts, no trunk reachable from "
                  "guest contexts (the vpbx.hardened.asterisk_dialplan role renders extensions.conf)")
    if not judged:
        return _r(PASS, "no default or guest context loaded (unknown callers match nothing)")
    return _r(PASS, "%s: no Dial, no switch, no demo" % ", ".join(judged))


def _c26(ctx):
    if ctx.files.get("extensions.conf") is None:
        return _r(UNKNOWN, "/etc/asterisk/extensions.conf could not be read") if ctx.ev.get("installed", True) \
            else _r(NA, "Asterisk is not installed")
    findings = lint_extensions(ctx.files)
    if findings:
        shown = "; ".join("%s:%d [%s] %s" % (f["file"], f["line"], f["context"], f["text"]) for f in findings[:3])
        more = " (+%d more)" % (len(findings) - 3) if len(findings) > 3 else ""
        return _r(FAIL, shown + more,
                  "wrap caller-controlled values: ${FILTER(0-9,${EXTEN})}, never ${CALLERID(...)} in "
                  "Dial/System/SHELL/MixMonitor (the vpbx.hardened.asterisk_dialplan role does it)")
    return _r(PASS, "no unfiltered ${EXTEN}/${CALLERID()} in Dial/System/SHELL/MixMonitor")


def _c28(ctx):
    ufw = ctx.ev.get("ufw") or {}
    fix = "ufw default deny incoming && ufw enable, opening only SSH, the SIP ports and the RTP range " \
          "(the vpbx.hardened.asterisk_firewall role)"
    if ufw.get("rc") is None:
        return _r(FAIL, "ufw is not installed (another firewall is not judged by the audit)", fix)
    if ufw["rc"] != 0:
        lines = (ufw.get("out") or "").strip().splitlines()
        return _r(UNKNOWN, "`ufw status verbose` failed: %s" % (lines[0] if lines else "rc=%s" % ufw["rc"]))
    status = fw.parse_status(ufw.get("out"))
    if not status["active"]:
        return _r(FAIL, "ufw is inactive", fix)
    incoming = status["defaults"].get("incoming", "?")
    problems = []
    if incoming not in ("deny", "reject"):
        problems.append("default incoming policy is %s" % incoming)
    allowed = [r for r in status["rules"] if r["action"] in ("allow", "limit") and r["direction"] == "in"]
    for rule in allowed:
        service = CLOSED_PORTS.get(rule["port"])
        if service:
            problems.append("%s/%s (%s) open from %s" % (rule["port"], rule["proto"], service, rule["from"]))
    rtp = ast.parse_settings(ctx.out("rtp show settings")) if ctx.running else {}
    ranges = sorted({r["port"] for r in allowed if ":" in r["port"] and r["proto"] in ("udp", "any")})
    if rtp.get("Port start") and ranges:
        expected = "%s:%s" % (rtp["Port start"], rtp["Port end"])
        if any(r != expected for r in ranges):
            problems.append("UDP ranges %s open, RTP uses %s" % (", ".join(ranges), expected))
    ports = sorted({"%s/%s" % (r["port"], r["proto"]) for r in allowed})
    if problems:
        return _r(FAIL, "; ".join(problems), fix)
    return _r(PASS, "active, default %s incoming; open: %s" % (incoming, ", ".join(ports) or "nothing"))


def _c31(ctx):
    gate = _need_cli(ctx)
    if gate:
        return gate
    value = ast.parse_settings(ctx.out("rtp show settings")).get("Strict RTP")
    if value is None:
        return _r(UNKNOWN, "`rtp show settings` shows no 'Strict RTP'")
    if value.lower() in ("yes", "seqno"):
        return _r(PASS, "Strict RTP: %s" % value)
    return _r(FAIL, "Strict RTP: %s" % value, "strictrtp = yes in rtp.conf [general] (the vpbx.hardened.asterisk role)")


def _outside(_ctx):
    return _r(NA, OUTSIDE)


JUDGES = {1: _c1, 2: _c2, 3: _c3, 4: _c4, 5: _c5, 6: _c6, 7: _c7, 8: _c8, 10: _c10, 11: _c11, 12: _c12,
          13: _c13, 17: _c17, 21: _c21, 22: _c22, 23: _c23, 24: _c24, 25: _c25, 26: _c26, 28: _c28, 31: _c31}


def evaluate(evidence):
    """Judge every control; returns [{id, title, scope, status, detail, fix}] in control order."""
    ctx = _Ctx(evidence)
    results = []
    for number, title, scope, _how in CONTROLS:
        judge = JUDGES.get(number, _outside)
        try:
            verdict = judge(ctx)
        except Exception as exc:  # a parser surprise must not hide the other controls
            verdict = _r(UNKNOWN, "could not judge (%s: %s): report it with the evidence"
                         % (type(exc).__name__, exc))
        results.append({"id": number, "title": title, "scope": scope, **verdict})
    return results


def summary(results):
    counts = {status: 0 for status in STATUSES}
    for result in results:
        counts[result["status"]] += 1
    return counts


def failed(results):
    return [r["id"] for r in results if r["status"] == FAIL]


def report_text(results, host=""):
    counts = summary(results)
    lines = ["Hardening audit%s (vpbx.hardened, SECURITY-CONTROLS.md)" % (" of %s" % host if host else ""),
             "%d pass, %d fail, %d n/a, %d unknown" % (counts[PASS], counts[FAIL], counts[NA], counts[UNKNOWN]),
             ""]
    for result in results:
        lines.append("%3d %-7s %s: %s" % (result["id"], result["status"].upper(), result["title"], result["detail"]))
        if result["fix"]:
            lines.append("            fix: %s" % result["fix"])
    return "\n".join(lines) + "\n"
