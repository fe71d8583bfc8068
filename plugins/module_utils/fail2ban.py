# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
"""The fail2ban plan of the asterisk_fail2ban role, and readers of what fail2ban-client reports.

`plan()` validates the role's settings (thresholds, networks) and works out what the jails need:
the security log Asterisk writes (the asterisk role's logger.conf names it, the same on every
version), the ports of the SIP transports in use, and the addresses that must never be banned -
loopback, the administrators' networks, the address the controller connects from, the trunks'
addresses (banning the provider would cut every call). Every problem is reported with the variable
path and the fix before any host is touched.

`parse_status()` reads `fail2ban-client status <jail>`, `parse_list()` the lists `fail2ban-client
get <jail> ignoreip|logpath` print, so that the role's verify step and the tests compare what
fail2ban enforces with the plan.
"""

from __future__ import annotations

import ipaddress
import re

# The one validator; the connections that bypass the host's firewall, as the firewall plan knows them.
from ansible_collections.vpbx.hardened.plugins.module_utils.checks import Checker
from ansible_collections.vpbx.hardened.plugins.module_utils.firewall import LOCAL_CONNECTIONS, _text

# UFW rules that fail2ban adds carry this comment (the action's `comment`); the firewall role
# leaves them alone when it purges rules it did not plan.
BAN_COMMENT = "vpbx-fail2ban"
# fail2ban's time abbreviations (seconds when none).
TIME = re.compile(r"^(\d+)(s|m|h|d|w)?$")
UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
LOOPBACK = ["127.0.0.0/8", "::1/128"]

DEFAULT_NAMES = {
    "maxretry": "asterisk_fail2ban_maxretry",
    "findtime": "asterisk_fail2ban_findtime",
    "bantime": "asterisk_fail2ban_bantime",
    "admin_networks": "asterisk_fail2ban_admin_networks",
    "ignore_trunks": "asterisk_fail2ban_ignore_trunks",
    "recidive": "asterisk_fail2ban_recidive_enabled",
    "recidive_maxretry": "asterisk_fail2ban_recidive_maxretry",
    "recidive_findtime": "asterisk_fail2ban_recidive_findtime",
    "recidive_bantime": "asterisk_fail2ban_recidive_bantime",
    "sshd": "asterisk_fail2ban_sshd_jail",
    "log_dir": "asterisk_log_dir",
    "security_file": "asterisk_log_security_file",
    "sip_port": "asterisk_sip_port",
    "tls_port": "asterisk_sip_tls_port",
    "trunks": "asterisk_sip_trunks",
    "controller": "asterisk_firewall_controller_address",
    "permitted_password_only": "asterisk_fail2ban_permitted_password_only",
    "subscribers": "asterisk_sip_subscribers",
}
# The security events that are failed logins (the filter's _event), and those that are wrong
# passwords: an answer to the PBX's challenge.
EVENTS = ["FailedACL", "InvalidAccountID", "ChallengeResponseFailed", "InvalidPassword"]
PASSWORD_EVENTS = ["ChallengeResponseFailed", "InvalidPassword"]
# The subscribers' permitted networks this narrow or narrower are offices (their addresses are
# banned only for wrong passwords); a wider permit is treated like the rest of the Internet.
OFFICE_PREFIX = {4: 16, 6: 48}


class Fail2banError(Exception):
    def __init__(self, errors):
        super().__init__("; ".join(errors))
        self.errors = errors


def seconds(value):
    """fail2ban's time (an int of seconds, or "10m", "1h", "1d", "1w"; -1 = for ever) in seconds,
    or None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = _text(value).lower()
    if text == "-1":
        return -1
    match = TIME.match(text)
    if not match:
        return None
    return int(match.group(1)) * UNIT[match.group(2) or ""]


class _Check(Checker):
    """The one validator (module_utils/checks.py), with fail2ban's durations; `key`s are settings."""

    def count(self, key, value, low, high):
        return self.integer(self.names[key], value, low, high)

    def time(self, key, value, forever=False, low=1):
        number = seconds(value)
        if number is None or (number == -1 and not forever) or (number != -1 and number < low):
            self.err(self.names[key], "%r: write seconds or a number with s, m, h, d or w (10m, 1h, 1w)%s%s"
                     % (value, ", at least %d s" % low if low > 1 else "",
                        "; -1 bans for ever" if forever else ""))
            return None
        return number


def _network(text):
    """A network in the form fail2ban's ignoreip takes (host addresses without a prefix)."""
    net = ipaddress.ip_network(text.split("%")[0], strict=False)
    if net.prefixlen == net.max_prefixlen:
        return str(net.network_address)
    return str(net)


def _collapse(networks):
    """Unique networks, those inside another dropped, in a stable order (IPv4 first)."""
    parsed = [ipaddress.ip_network(n if "/" in n else n + ("/128" if ":" in n else "/32"), strict=False)
              for n in networks]
    keep = []
    for net in sorted(set(parsed), key=lambda n: (n.version, int(n.network_address), n.prefixlen)):
        if not any(net != other and net.version == other.version and net.subnet_of(other) for other in parsed):
            keep.append(net)
    return [_network(str(n)) for n in keep]


def _complement(networks):
    """Every address outside `networks`, as few networks as possible (IPv4 first, then IPv6)."""
    result = []
    for version, whole in ((4, "0.0.0.0/0"), (6, "::/0")):
        rest = [ipaddress.ip_network(whole)]
        for net in ipaddress.collapse_addresses(n for n in networks if n.version == version):
            split = []
            for part in rest:
                if net.subnet_of(part):
                    split += part.address_exclude(net)
                elif not part.subnet_of(net):
                    split.append(part)
            rest = split
        result += ipaddress.collapse_addresses(rest)
    return [str(n) for n in result]


def office_networks(model):
    """The subscribers' permitted networks that are offices (see OFFICE_PREFIX), collapsed."""
    nets = set()
    for sub in (model or {}).get("subscribers") or []:
        for text in sub.get("permit") or []:
            net = ipaddress.ip_network(_text(text), strict=False)
            if net.prefixlen >= OFFICE_PREFIX[net.version]:
                nets.add(net)
    return sorted(ipaddress.collapse_addresses(n for n in nets if n.version == 4)) + \
        sorted(ipaddress.collapse_addresses(n for n in nets if n.version == 6))


def plan(settings, model=None, names=None):
    """What the jails need.

    settings: maxretry, findtime, bantime, admin_networks, ignore_trunks, recidive,
    recidive_maxretry, recidive_findtime, recidive_bantime, sshd, log_dir, security_file, ports (the
    firewall plan's SIP ports: [{proto, port}]), resolved ({host: [address]}: what the trunks' host names resolve to on the PBX), connection (the Ansible
    connection), ssh_connection ($SSH_CONNECTION on the host), controller (an address given instead).
    model: the validated subscriber/trunk model (its trunks' addresses are never banned).

    Returns {"maxretry", "findtime", "bantime", "recidive": {...} or None, "sshd", "logpaths",
    "ports", "protocols", "ignoreip" (never banned by any jail), "offices", "jails": [{"name",
    "events", "ignoreip"}] (the jails that read Asterisk's security log)}; raises Fail2banError
    with every problem.

    Forged sources: an unknown user or an ACL failure needs no answer from the PBX, so anyone can
    send one with an office's address as its UDP source and, repeated, get the office banned. With
    permitted_password_only (the default) the addresses of the offices - the subscribers' permitted
    networks, see office_networks() - are left out of the asterisk jail and counted by the
    asterisk-permitted jail instead, on wrong passwords only (it ignores every address outside the
    offices, so each failure is counted by one jail).
    """
    names = dict(DEFAULT_NAMES, **(names or {}))
    settings = settings or {}
    model = model or {}
    check = _Check(names)

    maxretry = check.count("maxretry", settings.get("maxretry", 5), 1, 100)
    findtime = check.time("findtime", settings.get("findtime", "10m"))
    bantime = check.time("bantime", settings.get("bantime", "1h"), forever=True, low=60)
    if maxretry and findtime and findtime < 10:
        check.err(names["findtime"], "%s s is too short to count %d failures: use 10m" % (findtime, maxretry))

    flags = {key: check.boolean(names[key], settings.get(key, True), True)
             for key in ("ignore_trunks", "recidive", "sshd")}
    recidive = None
    if flags["recidive"]:
        raw = {key: settings.get(key, default) for key, default in
               (("recidive_bantime", "1w"), ("recidive_findtime", "1d"), ("bantime", "1h"), ("findtime", "10m"))}
        recidive = {
            "maxretry": check.count("recidive_maxretry", settings.get("recidive_maxretry", 3), 1, 100),
            "findtime": check.time("recidive_findtime", raw["recidive_findtime"]),
            "bantime": check.time("recidive_bantime", raw["recidive_bantime"], forever=True, low=60),
        }
        if bantime and recidive["bantime"] and recidive["bantime"] != -1 and \
                (bantime == -1 or recidive["bantime"] <= bantime):
            check.err(names["recidive_bantime"], "%r is not longer than %s (%r): a repeat offender must be "
                      "banned for longer, e.g. 1w" % (raw["recidive_bantime"], names["bantime"], raw["bantime"]))
        if findtime and recidive["findtime"] and recidive["findtime"] <= findtime:
            check.err(names["recidive_findtime"], "%r is not longer than %s (%r): recidive looks back over "
                      "several bans, e.g. 1d" % (raw["recidive_findtime"], names["findtime"], raw["findtime"]))

    # The security log the asterisk role writes into logger.conf: every failed login of chan_sip,
    # PJSIP and AMI is one event there (the notice log repeats most of them: not read, or a failure
    # would count twice).
    log_dir = _text(settings.get("log_dir") or "/var/log/asterisk").rstrip("/")
    logpaths = []
    name = _text(settings.get("security_file"))
    if not name:
        check.err(names["security_file"], "is empty: the asterisk jail reads Asterisk's security log, so the "
                                          "asterisk role must write one (e.g. security.log)")
    elif "/" in name or name.startswith("."):
        check.err(names["security_file"], "%r must be a file name inside %s" % (name, names["log_dir"]))
    else:
        logpaths.append("%s/%s" % (log_dir, name))
    if not log_dir.startswith("/"):
        check.err(names["log_dir"], "%r must be an absolute path" % log_dir)

    # Never banned.
    ignore = list(LOOPBACK)
    admin = settings.get("admin_networks") or []
    if not isinstance(admin, (list, tuple)):
        check.err(names["admin_networks"], "must be a list of networks such as [192.0.2.0/24]")
        admin = []
    for index, item in enumerate(admin):
        path = "%s[%d]" % (names["admin_networks"], index)
        try:
            net = ipaddress.ip_network(_text(item), strict=False)
        except ValueError:
            check.err(path, "%r is not a network: write 192.0.2.0/24, 2001:db8::/32 or an address" % (item,))
            continue
        if net.prefixlen == 0:
            check.err(path, "%s would exempt every address from banning: list the administrators' networks"
                      % net)
            continue
        ignore.append(str(net))

    connection = _text(settings.get("connection")) or "ssh"
    controller = _text(settings.get("controller"))
    fields = _text(settings.get("ssh_connection")).split()
    if not controller and connection not in LOCAL_CONNECTIONS and len(fields) == 4:
        controller = fields[0]
    if controller:
        try:
            ignore.append(str(ipaddress.ip_address(controller.split("%")[0])))
        except ValueError:
            check.err(names["controller"], "%r is not an IP address" % controller)

    if flags["ignore_trunks"]:
        resolved = settings.get("resolved") or {}
        for trunk in model.get("trunks") or []:
            for net in trunk.get("identify") or []:
                if _text(net) not in ("any", "0.0.0.0/0", "::/0"):
                    ignore.append(_text(net))
            for host in trunk.get("identify_hosts") or []:
                ignore += [_text(a) for a in resolved.get(host) or []]

    offices = []
    password_only = settings.get("permitted_password_only", True)
    if check.boolean(names["permitted_password_only"], password_only, None):
        try:
            offices = office_networks(model)
        except ValueError as exc:
            check.err(names["subscribers"], "a permit is not a network: %s" % exc)

    ports, protocols = [], []
    for item in settings.get("ports") or []:
        if str(item.get("port")) not in ports:
            ports.append(str(item.get("port")))
        if item.get("proto") not in protocols:
            protocols.append(item.get("proto"))

    if check.errors:
        raise Fail2banError(check.errors)
    try:
        ignoreip = _collapse(ignore)
    except ValueError as exc:
        raise Fail2banError(["%s: %s" % (names["trunks"], exc)])
    jails = [{"name": "asterisk", "events": EVENTS, "ignoreip": _collapse(ignoreip + [str(n) for n in offices])}]
    if offices:
        jails.append({"name": "asterisk-permitted", "events": PASSWORD_EVENTS,
                      "ignoreip": _collapse(ignoreip + _complement(offices))})
    return {"maxretry": maxretry, "findtime": findtime, "bantime": bantime, "recidive": recidive,
            "sshd": flags["sshd"], "logpaths": logpaths,
            "ports": sorted(ports, key=int) or ["5060"], "protocols": sorted(protocols) or ["udp"],
            "ignoreip": ignoreip, "offices": [str(n) for n in offices], "jails": jails}


def errors(settings, model=None, names=None):
    try:
        plan(settings, model, names)
    except Fail2banError as exc:
        return exc.errors
    return []


def parse_status(text):
    """`fail2ban-client status <jail>`: {"jail", "currently_failed", "total_failed", "files",
    "currently_banned", "total_banned", "banned"}."""
    result = {"jail": "", "currently_failed": 0, "total_failed": 0, "files": [], "currently_banned": 0,
              "total_banned": 0, "banned": []}
    keys = {"currently failed": "currently_failed", "total failed": "total_failed",
            "currently banned": "currently_banned", "total banned": "total_banned"}
    for line in (text or "").splitlines():
        if line.startswith("Status for the jail:"):
            result["jail"] = line.split(":", 1)[1].strip()
            continue
        match = re.match(r"^[\s|`-]*([A-Za-z][A-Za-z ]*?):\s*(.*)$", line)
        if not match:
            continue
        label, value = match.group(1).strip().lower(), match.group(2).strip()
        if label in keys and value.isdigit():
            result[keys[label]] = int(value)
        elif label == "file list":
            result["files"] = value.split()
        elif label == "banned ip list":
            result["banned"] = value.split()
    return result


def parse_list(text):
    """The list `fail2ban-client get <jail> ignoreip|logpath` prints ("|- item" / "`- item"
    lines after a heading; "No ..." when empty)."""
    items = []
    for line in (text or "").splitlines():
        match = re.match(r"^\s*[|`]-\s*(.+?)\s*$", line)
        if match:
            items.append(match.group(1).split()[0])
    return items


def parse_jails(text):
    """The jail names of `fail2ban-client status`."""
    match = re.search(r"Jail list:[ \t]*(.*)$", text or "", re.MULTILINE)
    if not match:
        return []
    return [j.strip() for j in match.group(1).split(",") if j.strip()]


# What the apply step asks the running server, in this order (verify_errors reads the answers so).
QUESTIONS = ["status", "status {jail}", "get {jail} logpath", "get {jail} ignoreip", "get {jail} maxretry"]


def questions(jail):
    return [question.format(jail=jail) for question in QUESTIONS]


def expectations(the_plan):
    """What the running server must show for a plan: the jails that run, and the first jail's log
    files, addresses never banned and threshold."""
    first = the_plan["jails"][0]
    return {"jails": [jail["name"] for jail in the_plan["jails"]] + (["recidive"] if the_plan["recidive"] else [])
            + (["sshd"] if the_plan["sshd"] else []),
            "jail": first["name"], "logpaths": list(the_plan["logpaths"]), "ignoreip": list(first["ignoreip"]),
            "maxretry": the_plan["maxretry"]}


def verify_errors(answers, expect):
    """[] when the answers to questions(expect["jail"]) show the expected jails; else one message
    saying what runs against what was planned, and where to look."""
    texts = [str(answer["stdout"]) if answer["rc"] == 0 else "" for answer in answers]
    jails = parse_jails(texts[0])
    files = parse_status(texts[1])["files"]
    logpaths = parse_list(texts[2])
    ignoreip = parse_list(texts[3])
    maxretry = texts[4].strip()
    missing = [jail for jail in expect["jails"] if jail not in jails]
    good = (not missing and sorted(files) == sorted(expect["logpaths"]) and sorted(logpaths) == sorted(expect["logpaths"])
            and sorted(ignoreip) == sorted(expect["ignoreip"]) and maxretry == str(expect["maxretry"]))
    if good:
        return []
    return ["fail2ban does not run the planned jails. Jails: %s (want %s); %s jail files: %s (want %s); never "
            "banned: %s (want %s); maxretry: %s (want %s). See `fail2ban-client status` and /var/log/fail2ban.log "
            "on the host." % (jails, expect["jails"], expect["jail"], logpaths or files, expect["logpaths"], ignoreip,
                              expect["ignoreip"], maxretry or None, expect["maxretry"])]
