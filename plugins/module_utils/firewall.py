# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
"""The firewall plan of the asterisk_firewall role, and readers of what UFW holds.

`plan()` turns the validated subscriber/trunk model (module_utils.sip_model) plus the ports the
Asterisk roles render (SIP transports, RTP range) into the exact list of UFW rules: SSH first, then
SIP and RTP only from the networks the model permits. Every problem is reported with the variable
path and the fix before any host is touched.

`parse_user_rules()` reads UFW's own rule store (/etc/ufw/user.rules, user6.rules), `stale()` says
which of those rules the plan does not contain (the role deletes them), `parse_status()` reads
`ufw status verbose` so that the role and the tests can compare what UFW enforces with the plan,
and `guard()` decides whether enabling the firewall would cut the controller's SSH connection.
"""

from __future__ import annotations

import binascii
import ipaddress
import re

from ansible_collections.vpbx.hardened.plugins.module_utils.checks import Checker, text

ANY = "any"
ANY4 = "0.0.0.0/0"
ANY6 = "::/0"
COMMENT = "vpbx.hardened"
# Bans that fail2ban adds to UFW (module_utils.fail2ban.BAN_COMMENT): not the firewall plan's to
# delete or to count.
BAN_COMMENT = "vpbx-fail2ban"
LOG_LEVELS = ("off", "on", "low", "medium", "high", "full")
PROTOS = ("tcp", "udp")
RULES = ("allow", "limit")
# Transport -> (protocol, which port setting).
TRANSPORT_PORTS = {"udp": ("udp", "sip_port"), "tcp": ("tcp", "sip_port"), "tls": ("tcp", "tls_port")}
# Connections that do not go through the host's network stack (or come from the host itself):
# a firewall on the host cannot cut them.
LOCAL_CONNECTIONS = frozenset("""
local ansible.builtin.local docker community.docker.docker community.docker.docker_api
podman containers.podman.podman buildah containers.podman.buildah lxc community.general.lxc
lxd community.general.lxd chroot community.general.chroot machinectl community.general.machinectl
kubectl kubernetes.core.kubectl community.okd.oc jail community.general.jail
incus community.general.incus qubes community.general.qubes
""".split())

DEFAULT_NAMES = {
    "ssh_port": "asterisk_firewall_ssh_port",
    "ssh_sources": "asterisk_firewall_ssh_sources",
    "ssh_limit": "asterisk_firewall_ssh_limit",
    "extra_networks": "asterisk_firewall_extra_networks",
    "rtp_networks": "asterisk_firewall_rtp_networks",
    "open_to_world": "asterisk_firewall_sip_open_to_world",
    "allow": "asterisk_firewall_allow",
    "ipv6": "asterisk_firewall_ipv6",
    "logging": "asterisk_firewall_logging",
    "sip_port": "asterisk_sip_port",
    "tls_port": "asterisk_sip_tls_port",
    "rtp_start": "asterisk_rtp_port_start",
    "rtp_end": "asterisk_rtp_port_end",
    "subscribers": "asterisk_sip_subscribers",
    "trunks": "asterisk_sip_trunks",
    "controller": "asterisk_firewall_controller_address",
    "flood_rate": "asterisk_firewall_sip_flood_rate",
    "flood_burst": "asterisk_firewall_sip_flood_burst",
    "flood_exempt": "asterisk_firewall_sip_flood_exempt",
}
# The per-source limit on the SIP ports lives in UFW's before.rules/before6.rules, in one block
# between these markers (ansible.builtin.blockinfile's), ahead of UFW's "established" shortcut: a
# flood from one address and port is a conntrack "connection" after its first answer.
FLOOD_MARKER = "# {mark} vpbx.hardened SIP flood limit"
FLOOD_CHAIN = "ufw-vpbx-sip-flood"
BEFORE_RULES = {4: "/etc/ufw/before.rules", 6: "/etc/ufw/before6.rules"}


class FirewallError(Exception):
    def __init__(self, errors):
        super().__init__("\n".join(errors))
        self.errors = list(errors)


def _text(value):
    return text(value).strip()


def _net(text):
    """A network in UFW's own spelling: a single host without its prefix length."""
    net = ipaddress.ip_network(text, strict=False)
    if net.prefixlen == net.max_prefixlen:
        return str(net.network_address)
    return str(net)


def _sort_key(net):
    if net == ANY:
        return (0, 0, 0)
    parsed = ipaddress.ip_network(net)
    return (parsed.version, int(parsed.network_address), parsed.prefixlen)


class _Check(Checker):
    """The one validator (module_utils/checks.py), networks in UFW's spelling."""

    def network(self, path, value, allow_any=True, ipv6=True):
        net = super().network(path, value, allow_any, ipv6)
        return net if net in (None, ANY) else _net(net)

    def networks(self, path, value, allow_any=True, ipv6=True):
        return super().networks(path, value, allow_any, ipv6)


def _collapse(networks):
    """Merge overlapping and adjacent networks per IP version (fewer rules, same coverage)."""
    if ANY in networks:
        return [ANY]
    result = []
    for version in (4, 6):
        nets = [ipaddress.ip_network(n) for n in networks if ipaddress.ip_network(n).version == version]
        result += [_net(str(n)) for n in ipaddress.collapse_addresses(nets)]
    return sorted(result, key=_sort_key)


def plan(model, settings, names=None):
    """The UFW rules for a validated model.

    settings: ssh_port, ssh_sources, ssh_limit, sip_port, tls_port, rtp_start, rtp_end,
    extra_networks, rtp_networks, open_to_world, allow, ipv6, logging, resolved ({host: [address]}:
    what the trunk host names resolve to on the PBX).

    Returns {"rules": [...], "ssh_sources": [...], "sip_networks": [...], "rtp_networks": [...],
    "ports": [...], "logging": ..., "ipv6": ...}; raises FirewallError with every problem.
    """
    names = dict(DEFAULT_NAMES, **(names or {}))
    settings = settings or {}
    model = model or {}
    check = _Check(names)

    ipv6 = check.boolean(names["ipv6"], settings.get("ipv6", True), True)
    logging = _text(settings.get("logging", "low")).lower()
    if logging not in LOG_LEVELS:
        check.err(names["logging"], "%r: choose one of %s" % (settings.get("logging"), ", ".join(LOG_LEVELS)))
    open_to_world = check.boolean(names["open_to_world"], settings.get("open_to_world", False))
    ssh_limit = check.boolean(names["ssh_limit"], settings.get("ssh_limit", True), True)

    ssh_port = check.port(names["ssh_port"], settings.get("ssh_port", 22))
    before = len(check.errors)
    ssh_sources = check.networks(names["ssh_sources"], settings.get("ssh_sources"), ipv6=ipv6)
    if not ssh_sources and len(check.errors) == before:
        check.err(names["ssh_sources"], "is empty: SSH would be closed and the next play locked out; list the "
                                        "administrators' networks (or any, rate-limited)")
    ssh_sources = _collapse(ssh_sources) if ssh_sources else []

    sip_port = check.port(names["sip_port"], settings.get("sip_port", 5060), 1)
    tls_port = check.port(names["tls_port"], settings.get("tls_port", 5061), 1)
    rtp_start = check.port(names["rtp_start"], settings.get("rtp_start", 10000), 1024)
    rtp_end = check.port(names["rtp_end"], settings.get("rtp_end", 20000), 1024)
    if rtp_start and rtp_end and rtp_start >= rtp_end:
        check.err("%s/%s" % (names["rtp_start"], names["rtp_end"]),
                  "%d..%d is reversed or empty: the start must be below the end, e.g. 10000..20000"
                  % (rtp_start, rtp_end))

    # Where SIP may come from: the subscribers' permit networks, the trunks' addresses, the extra list.
    sip_networks = []
    world = "the firewall opens SIP and RTP to the whole Internet only with %s: true (roaming phones; " \
            "then rely on fail2ban): set it, or narrow this to the networks the phones use" % names["open_to_world"]
    for sub in model.get("subscribers") or []:
        path = "%s (extension %s).permit" % (names["subscribers"], sub.get("extension"))
        for index, net in enumerate(sub.get("permit") or []):
            net = check.network("%s[%d]" % (path, index), net, ipv6=ipv6)
            if net == ANY and not open_to_world:
                check.err("%s[%d]" % (path, index), "the phone may register from anywhere, but " + world)
            elif net and net not in sip_networks:
                sip_networks.append(net)
    resolved = settings.get("resolved") or {}
    for trunk in model.get("trunks") or []:
        path = "%s (%s)" % (names["trunks"], trunk.get("name"))
        for index, net in enumerate(trunk.get("identify") or []):
            net = check.network("%s.identify[%d]" % (path, index), net, ipv6=ipv6)
            if net == ANY and not open_to_world:
                check.err("%s.identify[%d]" % (path, index), "the trunk accepts calls from anywhere, but " + world)
            elif net and net not in sip_networks:
                sip_networks.append(net)
        for host in trunk.get("identify_hosts") or []:
            addresses = [a for a in (resolved.get(host) or [])
                         if ipv6 or ipaddress.ip_address(a).version == 4]
            if not addresses:
                check.err("%s.host" % path, "%r does not resolve to an address%s on the PBX, so the firewall "
                          "cannot let the provider in: set %s.identify to the provider's addresses"
                          % (host, "" if ipv6 else " (IPv4: %s is false)" % names["ipv6"], path))
            for address in addresses:
                net = _net(address)
                if net not in sip_networks:
                    sip_networks.append(net)
    extra = check.networks(names["extra_networks"], settings.get("extra_networks"), ipv6=ipv6)
    if ANY in extra and not open_to_world:
        check.err(names["extra_networks"], "contains any, but " + world)
    sip_networks += [n for n in extra if n not in sip_networks]
    _outside_chan_sip_acl(check, names, model, extra, open_to_world)
    rtp_extra = check.networks(names["rtp_networks"], settings.get("rtp_networks"), ipv6=ipv6)

    if open_to_world:
        sip_networks = [ANY]
    else:
        sip_networks = _collapse([n for n in sip_networks if n != ANY]) if sip_networks else []
    rtp_networks = _collapse(sip_networks + rtp_extra) if sip_networks or rtp_extra else []

    ports = []
    for transport in model.get("transports") or []:
        if transport not in TRANSPORT_PORTS:
            check.err("asterisk_sip_transports", "%r has no firewall mapping (udp, tcp, tls)" % transport)
            continue
        proto, which = TRANSPORT_PORTS[transport]
        port = sip_port if which == "sip_port" else tls_port
        if port and {"proto": proto, "port": str(port), "name": "sip-" + transport} not in ports:
            ports.append({"proto": proto, "port": str(port), "name": "sip-" + transport})
    if ssh_port and any(p["port"] == str(ssh_port) and p["proto"] == "tcp" for p in ports):
        check.err(names["ssh_port"], "%d is also a SIP port: SSH and SIP need different ports" % ssh_port)

    rules = []
    for net in ssh_sources:
        rules.append({"name": "ssh", "rule": "limit" if ssh_limit else "allow", "proto": "tcp",
                      "port": str(ssh_port), "from": net})
    for port in ports:
        rules += [{"name": port["name"], "rule": "allow", "proto": port["proto"], "port": port["port"], "from": net}
                  for net in sip_networks]
    if rtp_start and rtp_end:
        rules += [{"name": "rtp", "rule": "allow", "proto": "udp", "port": "%d:%d" % (rtp_start, rtp_end),
                   "from": net} for net in rtp_networks]

    allow = settings.get("allow") or []
    if not isinstance(allow, (list, tuple)):
        check.err(names["allow"], "must be a list of rules such as {port: 443, proto: tcp, from: [192.0.2.0/24]}")
        allow = []
    for index, item in enumerate(allow):
        path = "%s[%d]" % (names["allow"], index)
        if not isinstance(item, dict):
            check.err(path, "must be a mapping with port, proto and from, got %r" % (item,))
            continue
        unknown = sorted(set(item) - {"port", "proto", "from", "rule", "comment"})
        if unknown:
            check.err(path, "unknown field(s) %s: use port, proto, from, rule, comment" % ", ".join(unknown))
        port_text = _text(item.get("port"))
        match = re.match(r"^(\d+)(?:[:-](\d+))?$", port_text)
        if not match:
            check.err(path + ".port", "%r: write a port (443) or a range (8000:8010)" % (item.get("port"),))
            port_text = None
        else:
            low, high = int(match.group(1)), int(match.group(2) or match.group(1))
            if not 1 <= low <= 65535 or not 1 <= high <= 65535 or low > high:
                check.err(path + ".port", "%r is outside 1-65535 or reversed" % port_text)
                port_text = None
            else:
                port_text = str(low) if low == high else "%d:%d" % (low, high)
        proto = _text(item.get("proto") or "tcp").lower()
        if proto not in PROTOS:
            check.err(path + ".proto", "%r: choose tcp or udp" % proto)
        rule = _text(item.get("rule") or "allow").lower()
        if rule not in RULES:
            check.err(path + ".rule", "%r: choose allow or limit" % rule)
        before = len(check.errors)
        sources = check.networks(path + ".from", item.get("from", ANY), ipv6=ipv6)
        if not sources and len(check.errors) == before:
            check.err(path + ".from", "is empty: list networks or any")
        comment = _text(item.get("comment"))
        if not re.match(r"^[A-Za-z0-9 _.:/-]{0,40}$", comment):
            check.err(path + ".comment", "use up to 40 letters, digits, spaces and _ . : / -")
        if port_text and proto == "tcp" and ssh_port and port_text == str(ssh_port):
            check.err(path + ".port", "%s is the SSH port: set %s instead" % (port_text, names["ssh_sources"]))
        if port_text:
            rules += [{"name": "allow-%d%s" % (index, "-" + comment if comment else ""), "rule": rule,
                       "proto": proto, "port": port_text, "from": net} for net in _collapse(sources)]

    flood = _flood(check, settings, names, ipv6, ssh_sources, ports, model, resolved)
    if check.errors:
        raise FirewallError(check.errors)
    seen, unique = set(), []
    for rule in rules:
        key = (rule["rule"], rule["proto"], rule["port"], rule["from"])
        if key not in seen:
            seen.add(key)
            rule["comment"] = "%s %s" % (COMMENT, rule["name"])
            rule["label"] = "%s %s/%s from %s (%s)" % (rule["rule"], rule["port"], rule["proto"], rule["from"],
                                                       rule["name"])
            # UFW always filters both families (IPV6=yes): without IPv6, `any` is IPv4's any, and
            # nothing is open over IPv6.
            rule["ufw_from"] = ANY4 if rule["from"] == ANY and not ipv6 else rule["from"]
            unique.append(rule)
    return {"rules": unique, "ssh_port": ssh_port, "ssh_sources": ssh_sources, "sip_networks": sip_networks,
            "rtp_networks": rtp_networks, "ports": ports, "logging": logging, "ipv6": ipv6, "flood": flood}


def _outside_chan_sip_acl(check, names, model, extra, open_to_world):
    """chan_sip answers a request naming a subscriber from outside its ACL with 403 where an unknown
    user gets 401, and no setting hides it: its subscribers share one ACL (the SIP model refuses
    others), and the firewall may not open SIP to an address outside it - a scanner there would
    learn the extensions. (A trunk's address is the provider's: left to it, docs/sip.md.)"""
    subscribers = model.get("subscribers") or []
    if model.get("driver") != "chan_sip" or not subscribers:
        return

    def parsed(networks):
        return [ipaddress.ip_network(n) for text in networks or [] for n in ((ANY4, ANY6) if text == ANY else (text,))]
    permit, deny = parsed(subscribers[0].get("permit")), parsed(subscribers[0].get("deny"))
    fix = ("on chan_sip a request naming a subscriber from there is answered 403 where an unknown user gets "
           "401, which names the subscriber to a scanner. Add it to the subscribers' permit "
           "(asterisk_sip_subscriber_defaults.permit), or use pjsip (asterisk_sip_driver), which answers both alike")
    shared = "[%s]" % ", ".join(subscribers[0].get("permit") or [])
    if open_to_world and not any(net.prefixlen == 0 for net in permit):
        check.err(names["open_to_world"], "opens SIP to every address, but the subscribers may only use %s: %s"
                  % (shared, fix))
    for net in extra:
        if net == ANY:
            continue
        net = ipaddress.ip_network(net)
        inside = any(net.version == p.version and net.subnet_of(p) for p in permit)
        if not inside or any(net.version == d.version and net.overlaps(d) for d in deny):
            check.err(names["extra_networks"], "%s is outside the subscribers' permit %s (or in their deny): %s"
                      % (net, shared, fix))


def _flood(check, settings, names, ipv6, ssh_sources, ports, model, resolved):
    """The per-source packet limit on the SIP ports: {rate, burst, exempt} (rate 0: none). Never
    limited: the trunks' addresses, the SSH sources (the administrators and the controller) and
    asterisk_firewall_sip_flood_exempt."""
    rate = settings.get("flood_rate", 0)
    if isinstance(rate, bool) or not re.match(r"^\d+$", _text(rate)) or not 0 <= int(_text(rate)) <= 100000:
        check.err(names["flood_rate"], "%r: packets a second from one address, 0 for no limit" % (rate,))
        rate = "0"
    burst = settings.get("flood_burst", 100)
    if isinstance(burst, bool) or not re.match(r"^\d+$", _text(burst)) or not 1 <= int(_text(burst)) <= 100000:
        check.err(names["flood_burst"], "%r: packets one address may send at once, 1-100000" % (burst,))
        burst = "1"
    exempt = check.networks(names["flood_exempt"], settings.get("flood_exempt"), allow_any=False, ipv6=ipv6)
    for trunk in model.get("trunks") or []:
        exempt += [n for n in trunk.get("identify") or [] if n != ANY]
        exempt += [_net(a) for host in trunk.get("identify_hosts") or [] for a in resolved.get(host) or []
                   if ipv6 or ipaddress.ip_address(a).version == 4]
    exempt += [n for n in ssh_sources if n != ANY]
    return {"rate": int(_text(rate)), "burst": int(_text(burst)), "ports": [dict(p) for p in ports],
            "exempt": _collapse(exempt) if exempt else []}


def flood_lines(plan, version):
    """The lines of the flood-limit block of before.rules (4) or before6.rules (6): a chain the SIP
    ports jump to, where exempt sources return and the rest above the rate is dropped. [] without
    a limit (the block goes)."""
    flood = plan.get("flood") or {}
    if not flood.get("rate") or (version == 6 and not plan.get("ipv6")):
        return []
    # UFW names its IPv6 chains ufw6-*.
    prefix = "ufw" if version == 4 else "ufw6"
    chain = flood_chain(version)
    lines = [":%s - [0:0]" % chain]
    for port in flood["ports"]:
        lines.append("-A %s-before-input -p %s --dport %s -j %s" % (prefix, port["proto"], port["port"], chain))
    lines.append("-A %s -i lo -j RETURN" % chain)
    for net in flood["exempt"]:
        if ipaddress.ip_network(net).version == version:
            lines.append("-A %s -s %s -j RETURN" % (chain, net))
    lines.append("-A %s -m hashlimit --hashlimit-mode srcip --hashlimit-above %d/sec --hashlimit-burst %d "
                 "--hashlimit-name vpbx-sip%s --hashlimit-htable-expire 60000 -j DROP"
                 % (chain, flood["rate"], flood["burst"], "" if version == 4 else "6"))
    return lines


def flood_chain(version):
    return FLOOD_CHAIN if version == 4 else FLOOD_CHAIN.replace("ufw-", "ufw6-", 1)


def flood_blocks(plan):
    """{file: the block's text} for both families, as blockinfile writes it (without markers)."""
    return {BEFORE_RULES[v]: "\n".join(flood_lines(plan, v)) for v in (4, 6)}


def parse_blocks(text):
    """The text between the flood-limit markers of a before.rules file ('' when there is none)."""
    begin, end = FLOOD_MARKER.format(mark="BEGIN"), FLOOD_MARKER.format(mark="END")
    lines = (text or "").splitlines()
    if begin in lines and end in lines[lines.index(begin):]:
        start = lines.index(begin)
        return "\n".join(lines[start + 1:lines.index(end, start)])
    return ""


def errors(model, settings, names=None):
    try:
        plan(model, settings, names)
    except FirewallError as exc:
        return exc.errors
    return []


def module_params(rule):
    """community.general.ufw parameters that add one planned rule."""
    return {"rule": rule["rule"], "proto": rule["proto"], "to_port": rule["port"],
            "from_ip": rule.get("ufw_from", rule["from"]),
            "to_ip": ANY, "direction": "in", "comment": rule.get("comment", COMMENT)}


def _tuple_src(net, version):
    if net == ANY:
        return ANY4 if version == 4 else ANY6
    return _net(net)


def tuples(rules, ipv6=True):
    """The keys UFW stores for the planned rules (one per IP version for 'any')."""
    keys = set()
    for rule in rules:
        if rule["from"] == ANY:
            versions = (4, 6) if ipv6 else (4,)
        else:
            versions = (ipaddress.ip_network(rule["from"]).version,)
        for version in versions:
            keys.add((rule["rule"], rule["proto"], rule["port"], ANY4 if version == 4 else ANY6, "any",
                      _tuple_src(rule["from"], version), "in", "-", "-"))
    return keys


def parse_getent(text):
    """Addresses of `getent ahosts NAME` output, in order, without duplicates."""
    result = []
    for line in (text or "").splitlines():
        fields = line.split()
        if fields:
            try:
                address = str(ipaddress.ip_address(fields[0]))
            except ValueError:
                continue
            if address not in result:
                result.append(address)
    return result


TUPLE = "### tuple ### "


def parse_user_rules(text):
    """The rules of /etc/ufw/user.rules or user6.rules, from UFW's `### tuple ###` lines."""
    rules = []
    for line in (text or "").splitlines():
        if not line.startswith(TUPLE):
            continue
        fields = line[len(TUPLE):].split()
        comment = ""
        if fields and fields[-1].startswith("comment="):
            raw = fields.pop()[len("comment="):]
            try:
                comment = binascii.unhexlify(raw).decode("utf-8", "replace")
            except (binascii.Error, ValueError):
                comment = raw
        if len(fields) == 7:
            action, proto, dport, dst, sport, src, direction = fields
            dapp = sapp = "-"
        elif len(fields) == 9:
            action, proto, dport, dst, sport, src, dapp, sapp, direction = fields
        else:
            continue
        rules.append({"action": action, "proto": proto, "dport": dport, "dst": dst, "sport": sport, "src": src,
                      "dapp": dapp.replace("%20", " "), "sapp": sapp.replace("%20", " "),
                      "direction": direction, "comment": comment})
    return rules


def _key(rule):
    def norm(net):
        try:
            return _net(net)
        except ValueError:
            return net
    return (rule["action"], rule["proto"], rule["dport"], norm(rule["dst"]), rule["sport"], norm(rule["src"]),
            rule["direction"], rule["dapp"], rule["sapp"])


def missing(current, rules, ipv6=True):
    """The planned rules UFW does not store yet (for 'any', either IP version missing counts)."""
    have = {_key(rule) for rule in current}
    return [rule for rule in rules if not tuples([rule], ipv6) <= have]


def stale(current, rules, ipv6=True):
    """community.general.ufw parameters that delete every stored rule the plan does not contain."""
    wanted = tuples(rules, ipv6)
    result, seen = [], set()
    for rule in current:
        if _key(rule) in wanted or is_ban(rule):
            continue
        params = {"delete": True}
        action = rule["action"]
        if action.startswith("route:"):
            params["route"] = True
            action = action[len("route:"):]
        if "_log" in action:
            # community.general.ufw knows `log` only: a log-all rule is deleted as a log rule.
            action = action.split("_", 1)[0]
            params["log"] = True
        params["rule"] = action
        direction = rule["direction"]
        if "_" in direction:
            # "in_eth0": the interface option implies the direction (the module refuses both).
            direction, interface = direction.split("_", 1)
            params["interface_in" if direction == "in" else "interface_out"] = interface
        else:
            params["direction"] = direction
        for field, param in (("src", "from_ip"), ("dst", "to_ip")):
            # One family at a time: deleting `any` would also take the other family's rule the plan keeps.
            params[param] = rule[field]
        if rule["proto"] != "any":
            params["proto"] = rule["proto"]
        if rule["dapp"] not in ("-", ""):
            params["name"] = rule["dapp"]
        elif rule["dport"] != "any":
            params["to_port"] = rule["dport"]
        if rule["sport"] != "any":
            params["from_port"] = rule["sport"]
        key = tuple(sorted(params.items()))
        if key not in seen:
            seen.add(key)
            params["label"] = "%s %s %s from %s%s" % (action, rule["dapp"] if rule["dapp"] not in ("-", "")
                                                      else rule["dport"], rule["proto"], rule["src"],
                                                      " (%s)" % rule["comment"] if rule["comment"] else "")
            result.append(params)
    return result


STATUS_RULE = re.compile(r"^(?P<to>.+?)\s{2,}(?P<action>(?:ALLOW|DENY|REJECT|LIMIT)(?: (?:IN|OUT|FWD))?)"
                         r"\s{2,}(?P<from>.+?)(?:\s+#\s*(?P<comment>.*))?$")


def parse_status(text):
    """`ufw status verbose`: status, logging, default policies and the rules as
    {port, proto, action, from, v6, comment}."""
    result = {"active": False, "logging": "off", "defaults": {}, "rules": []}
    in_rules = False
    for line in (text or "").splitlines():
        line = line.rstrip()
        if line.startswith("Status:"):
            result["active"] = line.split(":", 1)[1].strip() == "active"
        elif line.startswith("Logging:"):
            value = line.split(":", 1)[1].strip()
            match = re.match(r"on \((\w+)\)", value)
            result["logging"] = match.group(1) if match else value
        elif line.startswith("Default:"):
            for policy, direction in re.findall(r"(\w+) \((\w+)\)", line):
                result["defaults"][direction] = policy
        elif re.match(r"^--\s+-+\s+--", line):
            in_rules = True
        elif in_rules and line.strip():
            match = STATUS_RULE.match(line)
            if not match:
                continue
            to, src = match.group("to").strip(), match.group("from").strip()
            interface = ""
            iface = re.search(r"\s+on\s+(\S+)$", to)
            if iface:
                interface, to = iface.group(1), to[:iface.start()]
            v6 = "(v6)" in to or src.endswith("(v6)")
            to = re.sub(r"\s*\(v6\)", "", to).strip()
            src = re.sub(r"\s*\(v6\)$", "", src)
            port, _unused, proto = to.partition("/")
            if " " in port:  # "192.0.2.1 5060/udp": a destination address before the port
                port = port.split()[-1]
            if src == "Anywhere":
                src = ANY6 if v6 else ANY4
            else:
                v6 = v6 or ":" in src
            result["rules"].append({"port": port, "proto": proto or "any",
                                    "action": match.group("action").split()[0].lower(),
                                    "direction": (match.group("action").split()[1:] or ["in"])[0].lower(),
                                    "from": _net(src) if re.match(r"^[0-9a-fA-F:.]+(/\d+)?$", src) else src,
                                    "v6": v6, "interface": interface,
                                    "comment": (match.group("comment") or "").strip()})
    return result


def policy_changes(status, policies):
    """The default policies ({direction, policy}) a `parse_status` result does not show yet."""
    defaults = (status or {}).get("defaults") or {}
    return [p for p in policies if defaults.get(p["direction"]) != p["policy"]]


def status_rules(rules, ipv6=True):
    """The planned rules as `parse_status` reports them (sorted (port, proto, action, from) tuples)."""
    keys = set()
    for key in tuples(rules, ipv6):
        action, proto, dport, _dst, _sport, src, _direction, _dapp, _sapp = key
        keys.add((dport, proto, action, src, ""))
    return sorted(keys)


def is_ban(rule):
    """A deny rule fail2ban added (parse_user_rules or parse_status form)."""
    return rule.get("action", "").startswith("deny") and \
        (rule.get("comment") or "").startswith(BAN_COMMENT)


def status_keys(status):
    """The rules of a `parse_status` result in the form `status_rules` gives for the plan (fail2ban's
    bans left out)."""
    return sorted({(r["port"], r["proto"], r["action"], r["from"], r["interface"]) for r in status["rules"]
                   if not is_ban(r)})


def guard(connection, ssh_connection, sources, ssh_port, controller="", names=None):
    """Would the planned SSH rule keep the controller's connection?

    connection: the Ansible connection plugin; ssh_connection: $SSH_CONNECTION on the host
    ("client_ip client_port server_ip server_port"); sources: planned SSH sources (networks or any);
    controller: an address the user gave instead (asterisk_firewall_controller_address).
    Returns {"ok", "kind", "address", "message"}.
    """
    names = dict(DEFAULT_NAMES, **(names or {}))
    connection = _text(connection) or "ssh"
    if connection in LOCAL_CONNECTIONS and not _text(controller):
        return {"ok": True, "kind": "local", "address": "",
                "message": "connection %s does not pass through the host's firewall" % connection}
    fields = _text(ssh_connection).split()
    address = _text(controller) or (fields[0] if len(fields) == 4 else "")
    if not address:
        return {"ok": False, "kind": "unknown", "address": "",
                "message": "cannot see the address this controller connects from ($SSH_CONNECTION is empty on "
                           "the host for connection %s): set %s to the controller's address as the host sees it"
                           % (connection, names["controller"])}
    try:
        parsed = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return {"ok": False, "kind": "unknown", "address": address,
                "message": "%s: %r is not an IP address" % (names["controller"], address)}
    if getattr(parsed, "ipv4_mapped", None):
        parsed = parsed.ipv4_mapped
    if parsed.is_loopback:
        return {"ok": True, "kind": "loopback", "address": str(parsed),
                "message": "the controller connects over loopback, which UFW always accepts"}
    if len(fields) == 4 and not _text(controller) and fields[3].isdigit() and int(fields[3]) != int(ssh_port):
        return {"ok": False, "kind": "ssh", "address": str(parsed),
                "message": "this play reaches SSH on port %s, but %s is %s: the firewall would close the port in "
                           "use; set %s to %s" % (fields[3], names["ssh_port"], ssh_port, names["ssh_port"],
                                                  fields[3])}
    for net in sources:
        if net == ANY or parsed in ipaddress.ip_network(net):
            return {"ok": True, "kind": "ssh", "address": str(parsed),
                    "message": "the controller's address %s is in the SSH source %s" % (parsed, net)}
    host_net = "%s/%d" % (parsed, parsed.max_prefixlen)
    return {"ok": False, "kind": "ssh", "address": str(parsed),
            "message": "the controller connects from %s, which %s (%s) does not include: enabling the firewall "
                       "would lock this play out. Add %s (or its network) to %s"
                       % (parsed, names["ssh_sources"], ", ".join(sources) or "empty", host_net,
                          names["ssh_sources"])}


# --- applying the whole plan in one run (modules/ufw_apply.py) -----------------------------------

def ufw_command(params):
    """The ufw arguments (after the command) for community.general.ufw-style rule parameters -
    module_params() for a planned rule, an item of stale() for a rule to delete - in ufw's long
    format: [route] [delete] ACTION [in|out] [in|out on IF] [log] from A [port P] to B [port Q]
    [proto X] [app NAME] [comment C]."""
    args = []
    if params.get("route"):
        args.append("route")
    if params.get("delete"):
        args.append("delete")
    args.append(params["rule"])
    if params.get("direction"):
        args.append(params["direction"])
    for key, word in (("interface_in", "in"), ("interface_out", "out")):
        if params.get(key):
            args += [word, "on", params[key]]
    if params.get("log"):
        args.append("log")
    for key, word in (("from_ip", "from"), ("from_port", "port"), ("to_ip", "to"), ("to_port", "port"),
                      ("proto", "proto"), ("name", "app")):
        if params.get(key):
            args += [word, str(params[key])]
    if params.get("comment") and not params.get("delete"):
        args += ["comment", params["comment"]]
    return args


def ipv6_setting(text):
    """The last IPV6= value of /etc/default/ufw (quotes removed), '' when none."""
    value = ""
    for match in re.finditer(r"^IPV6=(.*)$", text or "", re.MULTILINE):
        value = match.group(1).strip().strip("\"'")
    return value


def with_ipv6(text, value):
    """/etc/default/ufw with IPV6=value (the last IPV6= line replaced, or one appended)."""
    lines = (text or "").splitlines()
    found = [i for i, line in enumerate(lines) if re.match(r"^IPV6=", line)]
    if found:
        lines[found[-1]] = "IPV6=%s" % value
    else:
        lines.append("IPV6=%s" % value)
    return "\n".join(lines) + "\n"


def with_block(text, block):
    """A before.rules text with the flood-limit block set to block ('' removes it), where
    ansible.builtin.blockinfile would put it: in place, else after the last "# End required lines"
    (else at the end)."""
    begin, end = FLOOD_MARKER.format(mark="BEGIN"), FLOOD_MARKER.format(mark="END")
    lines = (text or "").splitlines()
    wanted = [begin] + block.splitlines() + [end] if block else []
    if begin in lines and end in lines[lines.index(begin):]:
        start = lines.index(begin)
        lines[start:lines.index(end, start) + 1] = wanted
    elif wanted:
        anchors = [i for i, line in enumerate(lines) if re.match(r"^# End required lines", line)]
        at = anchors[-1] + 1 if anchors else len(lines)
        lines[at:at] = wanted
    return "\n".join(lines) + "\n"


def ufw_changes(state, plan, policies, purge=True, ipv6_value="yes", before_paths=None):
    """What ufw_apply changes to bring UFW from state to the plan, in order (SSH's rule first, and
    every rule before UFW is enabled).

    state: {"defaults_text": /etc/default/ufw, "before": {path: text} (before_paths: {4: path, 6: path},
    UFW's before.rules and before6.rules by default),
    "rules": the user*.rules text, "status": `ufw status verbose`}.
    Returns {"ipv6": new /etc/default/ufw text or None, "before": {path: new text}, "add": [rule
    params], "delete": [rule params], "policies": [{direction, policy}], "logging": level or None,
    "enable": bool, "labels": [what changes, one line each]}."""
    status = parse_status(state.get("status"))
    current = parse_user_rules(state.get("rules"))
    ipv6 = bool(plan.get("ipv6"))
    logging = "low" if plan.get("logging") == "on" else plan.get("logging", "low")
    result = {"ipv6": None, "before": {}, "add": [], "delete": [], "policies": [], "logging": None,
              "enable": not status["active"], "labels": []}
    if ipv6_setting(state.get("defaults_text")) != ipv6_value:
        result["ipv6"] = with_ipv6(state.get("defaults_text"), ipv6_value)
        result["labels"].append("IPV6=%s in /etc/default/ufw" % ipv6_value)
    for version, path in (before_paths or BEFORE_RULES).items():
        block = "\n".join(flood_lines(plan, version))
        text = (state.get("before") or {}).get(path)
        if text is not None and parse_blocks(text) != block:
            result["before"][path] = with_block(text, block)
            result["labels"].append("SIP flood limit in %s%s" % (path, "" if block else " removed"))
    for rule in missing(current, plan["rules"], ipv6):
        params = module_params(rule)
        params["label"] = rule.get("label", "")
        result["add"].append(params)
        result["labels"].append("add: " + params["label"])
    if purge:
        for params in stale(current, plan["rules"], ipv6):
            result["delete"].append(params)
            result["labels"].append("delete: " + params["label"])
    result["policies"] = policy_changes(status, policies)
    result["labels"] += ["default %s %s" % (p["policy"], p["direction"]) for p in result["policies"]]
    # Inactive UFW prints no logging level: it is set with the first run.
    if not status["active"] or status["logging"] != logging:
        result["logging"] = logging
        result["labels"].append("logging %s" % logging)
    if result["enable"]:
        result["labels"].append("enable")
    return result


def verify_errors(status_text, chain_rules, plan, policies, purge=True):
    """Why UFW does not enforce the plan (`ufw status verbose`, the flood chain's live IPv4 rules),
    or [] when it does."""
    status = parse_status(status_text)
    want = status_rules(plan["rules"], bool(plan.get("ipv6")))
    have = status_keys(status)
    logging = "low" if plan.get("logging") == "on" else plan.get("logging", "low")
    wanted_defaults = {p["direction"]: p["policy"] for p in policies}
    problems = []
    unplanned = sorted(set(have) - set(want)) if purge else []
    lacking = sorted(set(want) - set(have))
    if not status["active"] or status["defaults"] != wanted_defaults or status["logging"] != logging \
            or lacking or unplanned:
        problems.append(
            "UFW does not enforce the plan. Active: %s, defaults: %s, logging: %s (want %s). Missing rules: %s; "
            "unplanned rules: %s. See `ufw status verbose` and /var/log/ufw.log on the host."
            % (status["active"], status["defaults"], status["logging"], logging, [list(k) for k in lacking],
               [list(k) for k in unplanned]))
    rate = (plan.get("flood") or {}).get("rate")
    if rate and ("--hashlimit-above %d/sec" % rate) not in (chain_rules or ""):
        problems.append("The SIP flood limit is not in force: `iptables -S %s` shows %s. See /etc/ufw/before.rules "
                        "and `ufw reload`." % (FLOOD_CHAIN, chain_rules or "no such chain"))
    return problems
