# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
"""The dialplan model: contexts, outbound routes and inbound routes, validated against the
subscriber/trunk model (module_utils.sip_model) and rendered to extensions.conf sections.

Safety is part of the model, not of the operator's care:
- a route whose pattern is a catch-all (`_.`, `_X.`, `_!` ...) is refused unless it says
  `catch_all: true`;
- a route whose sent number can reach an international or costly number of the office's country
  (module_utils.numbering, from libphonenumber's metadata) must say `international: true`, and only
  contexts with `international: true` may use it;
- at call time, every context without `international: true` (and every international context
  outside its `international_hours`) checks the number as the trunk gets it against the same
  ranges before Dial, and refuses it with a log line that says why;
- a phone's `max_calls` counts its calls out and in, a route's calls end after `max_call_seconds`;
- the dialled number is filtered to digits (plus `+`, `*`, `#` where a route allows them) before
  anything else sees it, and only the filtered number reaches Dial - `${EXTEN}` never does;
- every outbound call counts against its context's limit (GROUP / GROUP_COUNT);
- no application that runs commands (System, TrySystem, SHELL) is ever rendered.
"""

from __future__ import annotations

import re

from ansible_collections.vpbx.hardened.plugins.module_utils.checks import Checker

from ansible_collections.vpbx.hardened.plugins.module_utils import dialplan_pattern as dp
from ansible_collections.vpbx.hardened.plugins.module_utils import numbering
from ansible_collections.vpbx.hardened.plugins.module_utils.retention import MONITOR_DIR
from ansible_collections.vpbx.hardened.plugins.module_utils import sip_model

CONTEXT_RE = re.compile(r"^[A-Za-z0-9_-]{1,79}$")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
PREPEND_RE = re.compile(r"^[0-9+*#]{0,20}$")
RESERVED_CONTEXTS = {"general", "globals", "default"}
# Contexts this module renders itself; user contexts must not collide.
INTERNAL_PREFIX = "vpbx-"
DANGEROUS_APPS = ("system(", "trysystem(", "${shell(", "$[shell(", "shell(")

DEFAULT_NAMES = {
    "contexts": "asterisk_dialplan_contexts",
    "routes": "asterisk_dialplan_routes",
    "inbound": "asterisk_dialplan_inbound",
    "queues": "asterisk_dialplan_queues",
    "conferences": "asterisk_dialplan_conferences",
    "international_prefixes": "asterisk_dialplan_international_prefixes",
    "premium_prefixes": "asterisk_dialplan_premium_prefixes",
    "country": "asterisk_dialplan_country",
    "domestic_regions": "asterisk_dialplan_domestic_regions",
}
CONTEXT_FIELDS = ("name", "routes", "international", "international_hours", "max_calls", "reach",
                  "voicemail_access", "echo_test", "ring_seconds")
ROUTE_FIELDS = ("name", "pattern", "trunk", "strip", "prepend", "catch_all", "international", "call_time_guard_only",
                "chars", "timeout", "max_call_seconds", "record")
INBOUND_FIELDS = ("trunk", "did", "subscriber", "voicemail", "queue", "conference", "hangup")
INBOUND_TARGETS = ("subscriber", "voicemail", "queue", "conference", "hangup")
QUEUE_FIELDS = ("name", "extension", "members", "strategy", "ring_seconds", "max_wait", "contexts", "record",
                "wrapup_seconds", "announce_position", "max_callers", "fallback", "login")
# Where a caller goes when the queue cannot take the call (full, nobody logged in, max_wait over).
FALLBACK_TARGETS = ("subscriber", "voicemail", "hangup")
# A member of a queue with login: true dials this and the queue's extension to log in or out.
QUEUE_LOGIN_CODE = "*45"
QUEUE_STRATEGIES = ("ringall", "leastrecent", "fewestcalls", "random", "rrmemory", "linear", "wrandom")
CONFERENCE_FIELDS = ("name", "extension", "pin", "admin_pin", "max_members", "contexts", "record")
# The rooms' PINs: read by the dialplan with AST_CONFIG (never written into extensions.conf).
ROOMS_FILE = "vpbx-rooms.conf"
# Wrong PINs a caller may enter before the room hangs up.
PIN_TRIES = 3
EXTENSION_RE = re.compile(r"^[0-9]{1,10}$")
ROUTE_CHARS = ("+", "*", "#")
DEFAULT_MAX_CALL_SECONDS = 7200
# Asterisk's time syntax (GotoIfTime): times, weekdays, days of the month, months.
_DAY = r"(?:sun|mon|tue|wed|thu|fri|sat)"
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
_MDAY = r"(?:[1-9]|[12][0-9]|3[01])"
_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]"
TIME_FIELDS = (
    ("times", re.compile(r"^(?:\*|%s-%s)$" % (_TIME, _TIME)), "HH:MM-HH:MM"),
    ("weekdays", re.compile(r"^(?:\*|{0}(?:-{0})?(?:&{0}(?:-{0})?)*)$".format(_DAY)), "mon-fri, sat&sun"),
    ("days of the month", re.compile(r"^(?:\*|{0}(?:-{0})?(?:&{0}(?:-{0})?)*)$".format(_MDAY)), "1-15"),
    ("months", re.compile(r"^(?:\*|{0}(?:-{0})?(?:&{0}(?:-{0})?)*)$".format(_MONTH)), "jan-jun"),
)


class DialplanError(Exception):
    def __init__(self, errors):
        super().__init__("\n".join(errors))
        self.errors = list(errors)


def _text(value):
    return "" if value is None else str(value).strip()


class _Check(Checker):
    """The one validator (module_utils/checks.py)."""


def _entries(check, path, value, what):
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        check.err(path, "must be a list of %s" % what)
        return []
    result = []
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            check.err("%s[%d]" % (path, index), "must be a mapping, got %r" % (item,))
            continue
        result.append(("%s[%d]" % (path, index), item))
    return result


def _unknown(check, path, item, fields):
    unknown = sorted(set(item) - set(fields))
    if unknown:
        check.err(path, "unknown field(s) %s: use %s" % (", ".join(unknown), ", ".join(fields)))


def _prefixes(check, path, value):
    out = []
    for index, prefix in enumerate(check.names_list(path, value)):
        if not re.match(r"^[0-9+*#]{1,20}$", prefix):
            check.err("%s[%d]" % (path, index), "%r: a prefix is 1-20 digits, + * #" % prefix)
        else:
            out.append(prefix)
    return out


def _plan(check, settings, names):
    """The office's numbering plan (module_utils.numbering), or None when its inputs are bad."""
    country = _text(settings.get("country", "RU")).upper()
    intl = _prefixes(check, names["international_prefixes"], settings.get("international_prefixes"))
    premium = _prefixes(check, names["premium_prefixes"], settings.get("premium_prefixes"))
    domestic = [r.upper() for r in check.names_list(names["domestic_regions"], settings.get("domestic_regions"))]
    try:
        plan = numbering.plan(country, intl, premium, domestic)
    except numbering.PlanError as exc:
        check.err(names["country"], str(exc))
        return None
    sharing = numbering.regions_sharing(country)
    for index, region in enumerate(domestic):
        if region not in sharing or region == country:
            check.err("%s[%d]" % (names["domestic_regions"], index), "%r does not share %s's country code +%s "
                      "(%s share it)" % (region, country, plan["country_code"],
                                         ", ".join(r for r in sharing if r != country) or "no other region"))
    return plan


def _dialled_example(pattern, chars, strip, prepend, sent_number):
    """A number dialled on the route that leaves as `sent_number`: the first `strip` kept
    characters from the pattern, the rest from the sent number."""
    removed = set(dp.SPECIAL) - set(chars)
    out, kept, rest = [], 0, sent_number[len(prepend):]
    for kind, options in dp.parse(pattern):
        if kind != "set":
            return "".join(out) + rest
        if options <= removed or kept < strip:
            out.append(numbering.pick(options))
            kept += 0 if options <= removed else 1
            continue
        out.append(rest[:1])
        rest = rest[1:]
    return "".join(out)


def _hours(check, path, value):
    """international_hours: one window or a list, each `times,weekdays[,mdays[,months]]` in
    Asterisk's time syntax; as GotoIfTime's four fields."""
    if value in (None, "", []):
        return []
    windows = [value] if isinstance(value, str) else value
    if not isinstance(windows, (list, tuple)):
        check.err(path, "must be a window like \"08:00-19:00,mon-fri\" or a list of them")
        return []
    out = []
    for index, window in enumerate(windows):
        where = path if isinstance(value, str) else "%s[%d]" % (path, index)
        fields = [f.strip().lower() for f in _text(window).split(",")]
        if len(fields) > 4 or not fields[0]:
            check.err(where, "%r: write times,weekdays[,days of the month[,months]], e.g. 08:00-19:00,mon-fri"
                      % _text(window))
            continue
        fields += ["*"] * (4 - len(fields))
        bad = [(what, f, hint) for (what, rx, hint), f in zip(TIME_FIELDS, fields) if not rx.match(f)]
        for what, field, hint in bad:
            check.err(where, "%r: %r is not valid %s (e.g. %s or *)" % (_text(window), field, what, hint))
        if not bad:
            out.append(",".join(fields))
    return out


def normalize(sip, contexts, routes=None, inbound=None, queues=None, conferences=None, settings=None, names=None):
    """Validate the dialplan variables against the subscriber/trunk model `sip`."""
    names = dict(DEFAULT_NAMES, **(names or {}))
    settings = settings or {}
    sip = sip or {}
    check = _Check()
    subscribers = {s["extension"]: s for s in sip.get("subscribers") or []}
    trunks = {t["name"]: t for t in sip.get("trunks") or []}
    plan = _plan(check, settings, names)
    ranges = plan["ranges"] if plan else []
    parsed_ranges = {r["pattern"]: dp.parse(r["pattern"]) for r in ranges}
    default_max_seconds = check.integer("asterisk_dialplan_max_call_seconds", settings.get("max_call_seconds"),
                                        10, 86400, DEFAULT_MAX_CALL_SECONDS)

    out_routes, route_paths = {}, {}
    for path, item in _entries(check, names["routes"], routes, "routes ({name, pattern, trunk})"):
        name = _text(item.get("name"))
        path = "%s (%s)" % (path, name) if name else path
        _unknown(check, path, item, ROUTE_FIELDS)
        if not NAME_RE.match(name):
            check.err(path + ".name", "%r: use 1-40 letters, digits, _ and -" % name if name else "is missing")
        elif name in out_routes:
            check.err(path + ".name", "duplicate: %r is already %s" % (name, route_paths[name]))
        pattern = _text(item.get("pattern"))
        try:
            dp.parse(pattern)
        except dp.PatternError as exc:
            check.err(path + ".pattern", "%s - write e.g. _8[3-9]XXXXXXXXX" % exc)
            pattern = None
        trunk = _text(item.get("trunk"))
        if trunk not in trunks:
            check.err(path + ".trunk", "%r is not a trunk in asterisk_sip_trunks (%s)"
                      % (trunk, ", ".join(sorted(trunks)) or "none defined"))
        catch_all = check.boolean(path + ".catch_all", item.get("catch_all"))
        international = check.boolean(path + ".international", item.get("international"))
        guard_only = check.boolean(path + ".call_time_guard_only", item.get("call_time_guard_only"))
        strip = check.integer(path + ".strip", item.get("strip"), 0, 20, 0)
        prepend = _text(item.get("prepend"))
        if not PREPEND_RE.match(prepend):
            check.err(path + ".prepend", "%r: up to 20 digits, + * #" % prepend)
        chars = check.names_list(path + ".chars", item.get("chars"))
        for char in chars:
            if char not in ROUTE_CHARS:
                check.err(path + ".chars", "%r: only + * # may be kept besides digits" % char)
        timeout = check.integer(path + ".timeout", item.get("timeout"), 5, 600, 60)
        max_seconds = check.integer(path + ".max_call_seconds", item.get("max_call_seconds"), 10, 86400,
                                    default_max_seconds)
        record = check.boolean(path + ".record", item.get("record"))
        sent = None
        if pattern:
            # The checks judge what the dialled pattern matches and what reaches the trunk after
            # the filter, strip and prepend (`_*.` sends anything; `_9810X.` with strip 1 dials 810).
            try:
                sent = dp.sent(pattern, "".join(chars), strip, prepend)
            except dp.PatternError as exc:
                check.err(path + ".pattern", str(exc))
        if pattern and sent is not None:
            if (dp.is_catch_all(pattern) or dp.is_catch_all(sent)) and not catch_all:
                check.err(path + ".pattern", "%r matches any number: anyone in a context with this route could "
                          "call anywhere at your cost. Narrow it (e.g. _8[3-9]XXXXXXXXX) or set catch_all: true "
                          "to accept that" % pattern)
            reached = numbering.reach(sent, ranges, parsed_ranges)
            if reached and not international and not guard_only:
                entry, number = reached
                check.err(path + ".pattern", "%r can reach %s: dialled as %s it goes to the trunk as %s (%s plan, "
                          "%s). Narrow the pattern, or set international: true and use the route only in contexts "
                          "with international: true; where no pattern can leave such numbers out (NANP's area "
                          "codes), call_time_guard_only: true leaves them to the guard that refuses them when "
                          "dialled" % (pattern, numbering.describe(entry, plan["country"]),
                                       _dialled_example(pattern, chars, strip, prepend, number), number,
                                       plan["country"], names["country"]))
            if not dp.strip_ok(pattern, strip):
                check.err(path + ".strip", "%d would strip every digit %r guarantees" % (strip, pattern))
        if name and name not in out_routes:
            route_paths[name] = path
            out_routes[name] = {"name": name, "pattern": pattern, "trunk": trunk, "strip": strip, "prepend": prepend,
                                "catch_all": catch_all, "international": international, "timeout": timeout,
                                "call_time_guard_only": guard_only, "max_call_seconds": max_seconds,
                                "chars": "".join(c for c in ROUTE_CHARS if c in chars), "record": record}

    used_contexts = sorted({s["context"] for s in subscribers.values()})
    out_contexts, context_paths = {}, {}
    for path, item in _entries(check, names["contexts"], contexts, "contexts ({name, routes})"):
        name = _text(item.get("name"))
        path = "%s (%s)" % (path, name) if name else path
        _unknown(check, path, item, CONTEXT_FIELDS)
        if not CONTEXT_RE.match(name):
            check.err(path + ".name", "%r: use letters, digits, _ and -" % name if name else "is missing")
        elif name.lower() in RESERVED_CONTEXTS or name.startswith(INTERNAL_PREFIX):
            check.err(path + ".name", "%r is reserved (general, globals, default, vpbx-*)" % name)
        elif name in out_contexts:
            check.err(path + ".name", "duplicate: %r is already %s" % (name, context_paths[name]))
        international = check.boolean(path + ".international", item.get("international"))
        hours = _hours(check, path + ".international_hours", item.get("international_hours"))
        if hours and not international:
            check.err(path + ".international_hours", "only a context with international: true has international "
                      "calls to restrict: set international: true or leave the hours out")
        context_routes = check.names_list(path + ".routes", item.get("routes"))
        for index, route in enumerate(context_routes):
            if route not in out_routes:
                if route not in route_paths:
                    check.err("%s.routes[%d]" % (path, index), "%r is not a route in %s (%s)"
                              % (route, names["routes"], ", ".join(sorted(out_routes)) or "none defined"))
            elif out_routes[route]["international"] and not international:
                check.err("%s.routes[%d]" % (path, index), "route %r dials international/premium numbers: this "
                          "context needs international: true to use it" % route)
        reach = item.get("reach")
        reach = used_contexts if reach in (None, "all") else check.names_list(path + ".reach", reach)
        ring = check.integer(path + ".ring_seconds", item.get("ring_seconds"), 5, 300,
                             int(settings.get("ring_seconds", 30)))
        max_calls = check.integer(path + ".max_calls", item.get("max_calls"), 1, 1000, 10)
        if name and name not in out_contexts:
            context_paths[name] = path
            out_contexts[name] = {"name": name, "routes": context_routes, "international": international,
                                  "international_hours": hours,
                                  "reach": reach, "max_calls": max_calls, "ring_seconds": ring,
                                  "voicemail_access": check.boolean(path + ".voicemail_access",
                                                                    item.get("voicemail_access"), True),
                                  "echo_test": check.boolean(path + ".echo_test", item.get("echo_test"))}
    for name, ctx in out_contexts.items():
        for index, target in enumerate(ctx["reach"]):
            if target not in out_contexts:
                check.err("%s.reach[%d]" % (context_paths[name], index), "%r is not a context in %s"
                          % (target, names["contexts"]))
    for ext, sub in sorted(subscribers.items()):
        if sub["context"] not in out_contexts:
            check.err("asterisk_sip_subscribers (extension %s).context" % ext,
                      "%r is not a context in %s (%s): add it there or move the subscriber"
                      % (sub["context"], names["contexts"], ", ".join(sorted(out_contexts)) or "none defined"))
    for tname, trunk in sorted(trunks.items()):
        if trunk["context"].lower() in RESERVED_CONTEXTS or trunk["context"].startswith(INTERNAL_PREFIX):
            check.err("asterisk_sip_trunks (%s).context" % tname, "%r is reserved (general, globals, default, "
                      "vpbx-*): use the trunk's own inbound context, e.g. from-%s" % (trunk["context"], tname))
        elif trunk["context"] in out_contexts:
            check.err("asterisk_sip_trunks (%s).context" % tname,
                      "%r is a subscriber context: a provider's calls would get the subscribers' rights "
                      "(outbound routes included). Use its own inbound context" % trunk["context"])

    taken = {ext: "subscriber %s" % ext for ext in subscribers}
    out_queues = _features(check, names["queues"], queues, QUEUE_FIELDS, "queues ({name, extension, members})",
                           taken, out_contexts)
    for path, queue in out_queues.values():
        item = queue.pop("_item")
        queue["strategy"] = _text(item.get("strategy")) or "ringall"
        if queue["strategy"] not in QUEUE_STRATEGIES:
            check.err(path + ".strategy", "%r: use one of %s" % (queue["strategy"], ", ".join(QUEUE_STRATEGIES)))
        queue["ring_seconds"] = check.integer(path + ".ring_seconds", item.get("ring_seconds"), 5, 300, 15)
        queue["max_wait"] = check.integer(path + ".max_wait", item.get("max_wait"), 10, 3600, 300)
        queue["members"] = check.names_list(path + ".members", item.get("members"))
        if not queue["members"]:
            check.err(path + ".members", "is empty: list the subscribers' extensions that answer this queue")
        for index, ext in enumerate(queue["members"]):
            if ext not in subscribers:
                check.err("%s.members[%d]" % (path, index), "%r is not a subscriber's extension" % ext)
        queue["wrapup_seconds"] = check.integer(path + ".wrapup_seconds", item.get("wrapup_seconds"), 0, 600, 0)
        queue["max_callers"] = check.integer(path + ".max_callers", item.get("max_callers"), 0, 1000, 0)
        queue["announce_position"] = check.boolean(path + ".announce_position", item.get("announce_position"))
        queue["login"] = check.boolean(path + ".login", item.get("login"))
        queue["fallback"] = _fallback(check, path + ".fallback", item.get("fallback"), subscribers)
    out_confs = _features(check, names["conferences"], conferences, CONFERENCE_FIELDS,
                          "conferences ({name, extension})", taken, out_contexts)
    for path, conf in out_confs.values():
        item = conf.pop("_item")
        for key, what in (("pin", "or leave it out for an open room"), ("admin_pin", "or leave it out")):
            conf[key] = _text(item.get(key))
            if conf[key] and not re.match(r"^[0-9]{4,12}$", conf[key]):
                check.err("%s.%s" % (path, key), "must be 4-12 digits (%s)" % what)
            elif conf[key] and sip_model.pin_is_trivial(conf[key], conf["extension"]):
                check.err("%s.%s" % (path, key), "is trivial (repeated or consecutive digits, the room's extension, "
                                                 "or a common PIN): use random digits")
        if conf["admin_pin"] and conf["admin_pin"] == conf["pin"]:
            check.err(path + ".admin_pin", "is the room's pin: give the admins a PIN of their own")
        conf["max_members"] = check.integer(path + ".max_members", item.get("max_members"), 2, 100, 10)

    out_inbound, seen_dids = [], {}
    for path, item in _entries(check, names["inbound"], inbound, "inbound routes ({trunk, did, subscriber})"):
        _unknown(check, path, item, INBOUND_FIELDS)
        trunk = _text(item.get("trunk"))
        if trunk not in trunks:
            check.err(path + ".trunk", "%r is not a trunk in asterisk_sip_trunks (%s)"
                      % (trunk, ", ".join(sorted(trunks)) or "none defined"))
        did = _text(item.get("did")) or "_X!"
        try:
            dp.parse(did)
        except dp.PatternError as exc:
            check.err(path + ".did", str(exc))
        targets = [k for k in INBOUND_TARGETS if item.get(k) not in (None, "", False)]
        if len(targets) != 1:
            check.err(path, "needs exactly one destination: %s" % ", ".join(INBOUND_TARGETS))
        for key in ("subscriber", "voicemail"):
            ext = _text(item.get(key))
            if ext and ext not in subscribers:
                check.err("%s.%s" % (path, key), "%r is not a subscriber's extension" % ext)
            elif key == "voicemail" and ext and not subscribers[ext].get("voicemail"):
                check.err(path + ".voicemail", "subscriber %s has no voicemail box (set voicemail: true)" % ext)
        for key, known in (("queue", out_queues), ("conference", out_confs)):
            name = _text(item.get(key))
            if name and name not in known:
                check.err("%s.%s" % (path, key), "%r is not in %s (%s)" % (
                    name, names[key + "s"], ", ".join(sorted(known)) or "none defined"))
        key = (trunks[trunk]["context"] if trunk in trunks else trunk, did)
        if key in seen_dids:
            check.err(path + ".did", "%r is already routed by %s (trunks sharing context %r share their DIDs)"
                      % (did, seen_dids[key], key[0]))
        seen_dids.setdefault(key, path)
        out_inbound.append({"trunk": trunk, "did": did, "subscriber": _text(item.get("subscriber")),
                            "voicemail": _text(item.get("voicemail")), "queue": _text(item.get("queue")),
                            "conference": _text(item.get("conference")), "hangup": bool(item.get("hangup"))})
    if check.errors:
        raise DialplanError(check.errors)
    return {"driver": sip.get("driver", "pjsip"), "contexts": [out_contexts[n] for n in sorted(out_contexts)],
            "routes": out_routes, "inbound": out_inbound, "subscribers": subscribers, "trunks": trunks,
            "queues": [q for _unused, q in out_queues.values()], "conferences": [c for _unused, c in out_confs.values()],
            "plan": plan,
            "settings": {"ring_seconds": int(settings.get("ring_seconds", 30)),
                         "voicemail_email_from": _text(settings.get("voicemail_email_from")),
                         "voicemail_max_messages": int(settings.get("voicemail_max_messages", 100)),
                         "voicemail_max_seconds": int(settings.get("voicemail_max_seconds", 300)),
                         "voicemail_min_seconds": int(settings.get("voicemail_min_seconds", 0)),
                         "recording_format": _text(settings.get("recording_format")) or "wav"}}


def _fallback(check, path, value, subscribers):
    """A queue's fallback: {subscriber: ext} (rung, then its voicemail), {voicemail: ext} or
    {hangup: true} (the default)."""
    if value in (None, ""):
        return {"hangup": True}
    if not isinstance(value, dict):
        check.err(path, "must be a mapping with one of %s (e.g. {voicemail: '1003'})" % ", ".join(FALLBACK_TARGETS))
        return {"hangup": True}
    _unknown(check, path, value, FALLBACK_TARGETS)
    targets = [k for k in FALLBACK_TARGETS if value.get(k) not in (None, "", False)]
    if len(targets) != 1:
        check.err(path, "needs exactly one destination: %s" % ", ".join(FALLBACK_TARGETS))
        return {"hangup": True}
    key = targets[0]
    if key == "hangup":
        return {"hangup": True}
    ext = _text(value.get(key))
    if ext not in subscribers:
        check.err("%s.%s" % (path, key), "%r is not a subscriber's extension" % ext)
    elif key == "voicemail" and not subscribers[ext].get("voicemail"):
        check.err(path + ".voicemail", "subscriber %s has no voicemail box (set voicemail: true)" % ext)
    return {key: ext}


def _features(check, var, value, fields, what, taken, contexts):
    """Queues and conference rooms: a name, an extension nobody else has, the contexts that may
    dial it (default: every context)."""
    out = {}
    for path, item in _entries(check, var, value, what):
        name = _text(item.get("name"))
        path = "%s (%s)" % (path, name) if name else path
        _unknown(check, path, item, fields)
        if not NAME_RE.match(name):
            check.err(path + ".name", "%r: use 1-40 letters, digits, _ and -" % name if name else "is missing")
            continue
        if name in out:
            check.err(path + ".name", "duplicate: %r is already %s" % (name, out[name][0]))
            continue
        ext = _text(item.get("extension"))
        if not EXTENSION_RE.match(ext):
            check.err(path + ".extension", "%r: use 1-10 digits" % ext if ext else "is missing")
        elif ext in taken:
            check.err(path + ".extension", "%s is already %s" % (ext, taken[ext]))
        else:
            taken[ext] = path
        allowed = item.get("contexts")
        allowed = sorted(contexts) if allowed in (None, "all") else check.names_list(path + ".contexts", allowed)
        for index, ctx in enumerate(allowed):
            if ctx not in contexts:
                check.err("%s.contexts[%d]" % (path, index), "%r is not a context in asterisk_dialplan_contexts"
                          % ctx)
        out[name] = (path, {"name": name, "extension": ext, "contexts": allowed,
                            "record": check.boolean(path + ".record", item.get("record")), "_item": item})
    return out


def errors(sip, contexts, routes=None, inbound=None, queues=None, conferences=None, settings=None, names=None):
    try:
        normalize(sip, contexts, routes, inbound, queues, conferences, settings, names)
    except DialplanError as exc:
        return exc.errors
    return []


def dial_subscriber(driver, subscriber):
    return ("PJSIP/%s" if driver == "pjsip" else "SIP/%s") % subscriber["username"]


def dial_trunk(driver, trunk, number_var="${VPBX_NUMBER}"):
    if driver == "pjsip":
        return "PJSIP/%s@%s" % (number_var, trunk)
    return "SIP/%s/%s" % (trunk, number_var)


def _exten(pattern, steps):
    """exten => pattern,1,<first step>; every other step on a `same => n,...` line."""
    out = ["exten => %s,1,%s" % (pattern, steps[0])]
    out += [" same => n%s" % (step if step.startswith("(") else "," + step) for step in steps[1:]]
    return out


def recording_used(dialplan):
    return (any(s.get("record") for s in dialplan["subscribers"].values())
            or any(r["record"] for r in dialplan["routes"].values())
            or any(q["record"] for q in dialplan["queues"]) or any(c["record"] for c in dialplan["conferences"]))


def _record(dialplan, always, label):
    """The recording step: a Gosub to vpbx-record, which records when the callee/route asks for it
    (always) or when the calling subscriber's driver set VPBX_RECORD (the phone cannot set it)."""
    if not recording_used(dialplan):
        return []
    return ["Gosub(vpbx-record,s,1(%s,%s))" % ("yes" if always else "no", label)]


def _to_subscriber(dialplan, sub, ring):
    """Ring a subscriber, then its voicemail; the call is counted against the subscriber's
    max_calls (its calls in and out, whatever the driver): one more is treated as busy."""
    ext = sub["extension"]
    steps = ["Set(GROUP(vpbx-phone-in)=%s)" % ext,
             "GotoIf($[${GROUP_COUNT(%s@vpbx-phone-in)} + ${GROUP_COUNT(%s@vpbx-phone-out)} > %d]?busy)"
             % (ext, ext, sub["max_calls"]),
             "Dial(%s,%d)" % (dial_subscriber(dialplan["driver"], sub), ring)]
    if sub.get("voicemail"):
        steps.append('VoiceMail(%s@default,${IF($["${DIALSTATUS}" = "BUSY"]?b:u)})' % ext)
    steps += ["Hangup()",
              "(busy),Log(NOTICE,vpbx call limit: %s has %d call(s) up - max_calls - a new call to it is busy)"
              % (ext, sub["max_calls"])]
    steps.append("VoiceMail(%s@default,b)" % ext if sub.get("voicemail") else "Busy(5)")
    return steps + ["Hangup()"]


# Every call a phone makes counts against its max_calls, with the calls it receives (the driver
# sets VPBX_CALLER and VPBX_MAX_CALLS on the phone's channels; without them nothing is dialled).
CALLER_LIMIT = [
    "Set(GROUP(vpbx-phone-out)=${VPBX_CALLER})",
    "GotoIf($[${GROUP_COUNT(${VPBX_CALLER}@vpbx-phone-out)} + ${GROUP_COUNT(${VPBX_CALLER}@vpbx-phone-in)} "
    "> 0${VPBX_MAX_CALLS}]?vpbx-limit,phone,1)",
]


def guarded(ctx):
    """Does a route in this context check the sent number against the plan before Dial?"""
    return not ctx["international"] or bool(ctx["international_hours"])


def _guard(ctx):
    """The call-time toll-fraud guard: a number in the plan's costly ranges (the vpbx-costly
    context) is refused - always in a context without international: true, outside the hours of
    one with international_hours. The step after it carries the label `allowed`."""
    check = "GotoIf($[${DIALPLAN_EXISTS(vpbx-costly,${VPBX_NUMBER},1)}]?vpbx-costly,${VPBX_NUMBER},1)"
    if not ctx["international"]:
        return ["Set(VPBX_GUARD=context %s may not dial abroad)" % ctx["name"], check]
    if ctx["international_hours"]:
        return (["GotoIfTime(%s?allowed)" % window for window in ctx["international_hours"]]
                + ["Set(VPBX_GUARD=outside the international hours of context %s)" % ctx["name"], check])
    return []


def _route(dialplan, ctx, route):
    keep = "0-9" + "".join("\\" + c if c in "*#" else c for c in route["chars"])
    guard = _guard(ctx)
    after = _record(dialplan, route["record"], "route-" + route["name"]) + [
        "Dial(%s,%d,S(%d))" % (dial_trunk(dialplan["driver"], route["trunk"]), route["timeout"],
                               route["max_call_seconds"]), "Hangup()"]
    if ctx["international"] and ctx["international_hours"]:
        after[0] = "(allowed)," + after[0]
    return [
        # Only the filtered number goes further: ${EXTEN} itself never reaches Dial.
        "Set(VPBX_NUMBER=${FILTER(%s,${EXTEN})})" % keep,
        "Set(VPBX_NUMBER=%s${VPBX_NUMBER:%d})" % (route["prepend"], route["strip"])] + CALLER_LIMIT + [
        "Set(GROUP(vpbx-calls)=%s)" % ctx["name"],
        "GotoIf($[${GROUP_COUNT(%s@vpbx-calls)} > %d]?vpbx-limit,s,1)" % (ctx["name"], ctx["max_calls"])] \
        + guard + after


def _guard_sections(dialplan):
    plan = dialplan["plan"]
    costly = [{"name": "vpbx-costly", "comment": "the numbers a context without international: true never sends to a "
               "trunk: %s's international and costly ranges from %s, in every form a provider takes them "
               "(national prefix %s, bare, %s, +%s), and asterisk_dialplan_*_prefixes"
               % (plan["country"], plan["metadata"], plan["national_prefix"] or "none", plan["country_code"],
                  plan["country_code"]),
               "lines": ["exten => %s,1,Goto(vpbx-refused,%s,1)" % (r["pattern"], r["name"]) for r in plan["ranges"]]}]
    refused, seen = [], set()
    for entry in plan["ranges"]:
        slug = entry["name"]
        if slug in seen:
            continue
        seen.add(slug)
        refused += _exten(slug, ["Log(NOTICE,vpbx toll-fraud guard: ${VPBX_CALLER} on ${CHANNEL} dialled ${VPBX_NUMBER}"
                                 " - %s - ${VPBX_GUARD} - refused)" % numbering.describe(entry, plan["country"]),
                                 "Hangup(21)"])
    return costly + [{"name": "vpbx-refused", "comment": "why the guard refused a number: one log line, then "
                      "call rejected (SIP 403)", "lines": refused}]


def _queue(dialplan, queue):
    """Into the queue; when it cannot take the call (QUEUESTATUS: FULL, JOINEMPTY, TIMEOUT...), a
    line in the queue's own queue_log and the queue's fallback. A call a member answered ends there."""
    name, fallback = queue["name"], queue["fallback"]
    steps = ["Answer()"] + _record(dialplan, queue["record"], "queue-" + name) + [
        "Queue(%s,,,,%d)" % (name, queue["max_wait"]),
        'GotoIf($["${QUEUESTATUS}" != ""]?fallback)',
        "Hangup()",
        "(fallback),QueueLog(%s,${UNIQUEID},NONE,VPBX-FALLBACK,${QUEUESTATUS})" % name,
        "Log(NOTICE,vpbx queue %s: ${QUEUESTATUS} - the caller goes to the queue's fallback)" % name]
    if fallback.get("subscriber"):
        steps += _to_subscriber(dialplan, dialplan["subscribers"][fallback["subscriber"]],
                                dialplan["settings"]["ring_seconds"])[:-1]
    elif fallback.get("voicemail"):
        steps.append("VoiceMail(%s@default,u)" % fallback["voicemail"])
    return steps


def _queue_login(dialplan, queue):
    """A member of a login queue dials *45<extension>: logged in when out, out when in; anyone
    else is refused. The member is the interface the driver names for the calling phone
    (VPBX_CALLER), never what the phone sends."""
    name = queue["name"]
    member = "".join('${IF($["${VPBX_CALLER}" = "%s"]?%s:)}' % (ext, dial_subscriber(
        dialplan["driver"], dialplan["subscribers"][ext])) for ext in queue["members"])
    return ["Set(VPBX_MEMBER=%s)" % member,
            'GotoIf($["${VPBX_MEMBER}" = ""]?refused)',
            "Answer()",
            "AddQueueMember(%s,${VPBX_MEMBER})" % name,
            'GotoIf($["${AQMSTATUS}" = "ADDED"]?in)',
            "RemoveQueueMember(%s,${VPBX_MEMBER})" % name,
            "Playback(agent-loggedoff)",
            "Hangup()",
            "(in),Playback(agent-loginok)",
            "Hangup()",
            "(refused),Log(NOTICE,vpbx queue %s: ${VPBX_CALLER} on ${CHANNEL} is not a member - login refused)" % name,
            "Congestion(5)"]


def _conference(conf):
    """Into the room; with a PIN or an admin PIN, the caller enters it first (# ends it): the admin
    PIN joins as the room's admin, the PIN (or nothing, in a room without one) as a member, anything
    else is refused - PIN_TRIES times, then the call ends. The PINs stay in ROOMS_FILE (a secret
    file, read with AST_CONFIG): extensions.conf never holds one."""
    name = conf["name"]
    bridge, user, admin = "vpbx-%s-bridge" % name, "vpbx-%s-user" % name, "vpbx-%s-admin" % name
    if not conf["pin"] and not conf["admin_pin"]:
        return ["Answer()", "ConfBridge(%s,%s,%s)" % (name, bridge, user)]
    pin = "${AST_CONFIG(%s,%s,%%s)}" % (ROOMS_FILE, name)
    steps = ["Answer()", "Set(VPBX_TRIES=0)",
             "(pin),Read(VPBX_PIN,conf-getpin,12,,1,10)"]
    if conf["admin_pin"]:
        steps.append('GotoIf($["${VPBX_PIN}" != "" & "${VPBX_PIN}" = "%s"]?admin)' % (pin % "admin_pin"))
    if conf["pin"]:
        steps.append('GotoIf($["${VPBX_PIN}" != "" & "${VPBX_PIN}" = "%s"]?member)' % (pin % "pin"))
    else:
        steps.append('GotoIf($["${VPBX_PIN}" = ""]?member)')
    steps += ["Set(VPBX_TRIES=$[${VPBX_TRIES} + 1])",
              "Log(NOTICE,vpbx room %s: wrong PIN from ${VPBX_CALLER} on ${CHANNEL} (try ${VPBX_TRIES} of %d))"
              % (name, PIN_TRIES),
              "Playback(conf-invalidpin)",
              "GotoIf($[${VPBX_TRIES} < %d]?pin)" % PIN_TRIES,
              "Hangup()",
              "(member),ConfBridge(%s,%s,%s)" % (name, bridge, user),
              "Hangup()"]
    if conf["admin_pin"]:
        steps += ["(admin),ConfBridge(%s,%s,%s,vpbx-admin-menu)" % (name, bridge, admin), "Hangup()"]
    return steps[:-1]


def render(dialplan):
    """extensions.conf as a list of {name, comment, lines}."""
    subs = dialplan["subscribers"]
    sections = [
        {"name": "general", "comment": "the reference how-to's settings",
         "lines": ["static=yes", "writeprotect=no", "priorityjumping=no", "autofallthrough=yes",
                   "clearglobalvars=no"]},
        {"name": "globals", "comment": "", "lines": []},
        {"name": "default", "comment": "closed: anything that lands here (unknown caller, guest) is refused",
         "lines": _exten("_[0-9*#+a-zA-Z].", ["Busy(5)", "Hangup()"]) + _exten("s", ["Busy(5)", "Hangup()"])
         + _exten("i", ["Hangup()"])},
    ]
    for ctx in dialplan["contexts"]:
        lines = []
        for ext, sub in sorted(subs.items()):
            if sub["context"] in ctx["reach"]:
                lines += _exten(ext, CALLER_LIMIT + _record(dialplan, sub.get("record"), ext)
                                + _to_subscriber(dialplan, sub, ctx["ring_seconds"]))
        for queue in dialplan["queues"]:
            if ctx["name"] in queue["contexts"]:
                lines += _exten(queue["extension"], CALLER_LIMIT + _queue(dialplan, queue) + ["Hangup()"])
        for queue in dialplan["queues"]:
            if queue["login"] and any(subs[ext]["context"] == ctx["name"] for ext in queue["members"]):
                lines += _exten(QUEUE_LOGIN_CODE + queue["extension"], CALLER_LIMIT + _queue_login(dialplan, queue)
                                + ["Hangup()"])
        for conf in dialplan["conferences"]:
            if ctx["name"] in conf["contexts"]:
                lines += _exten(conf["extension"], CALLER_LIMIT + _conference(conf) + ["Hangup()"])
        for name in ctx["routes"]:
            lines += _exten(dialplan["routes"][name]["pattern"], _route(dialplan, ctx, dialplan["routes"][name]))
        if ctx["voicemail_access"] and any(s.get("voicemail") for s in subs.values() if s["context"] == ctx["name"]):
            # The mailbox is the one the driver names for this phone (VPBX_CALLER), never the
            # caller ID the phone sends; the PIN is asked all the same.
            lines += _exten("*97", CALLER_LIMIT + ["VoiceMailMain(${VPBX_CALLER}@default)", "Hangup()"])
        if ctx["echo_test"]:
            lines += _exten("*43", CALLER_LIMIT + ["Answer()", "Echo()", "Hangup()"])
        lines += _exten("i", ["Hangup()"])
        sections.append({"name": ctx["name"], "comment": "subscribers' context", "lines": lines})
    sections.append({"name": "vpbx-limit", "comment": "a context's (s) or a phone's (phone) concurrent-call limit "
                     "was reached",
                     "lines": _exten("s", ["Log(NOTICE,vpbx call limit: ${VPBX_CALLER} on ${CHANNEL} dialled "
                                           "${VPBX_NUMBER} - its context has max_calls calls up - refused)",
                                           "Congestion(5)", "Hangup()"])
                     + _exten("phone", ["Log(NOTICE,vpbx call limit: ${VPBX_CALLER} on ${CHANNEL} has max_calls "
                                        "${VPBX_MAX_CALLS} calls up - refused)", "Congestion(5)", "Hangup()"])})
    if any(guarded(ctx) and ctx["routes"] for ctx in dialplan["contexts"]):
        sections += _guard_sections(dialplan)
    if recording_used(dialplan):
        sections.append({
            "name": "vpbx-record",
            "comment": "MixMonitor when the callee/route (ARG1) or the calling subscriber's driver (VPBX_RECORD) "
                       "asks for it; files in the monitor spool, private to asterisk (UMask 0027)",
            "lines": _exten("s", [
                'GotoIf($["${ARG1}" = "yes" | "${VPBX_RECORD}" = "yes"]?record)', "Return()",
                "(record),MixMonitor(${STRFTIME(${EPOCH},,%%Y%%m%%d-%%H%%M%%S)}-${UNIQUEID}-${ARG2}.%s)"
                % dialplan["settings"]["recording_format"], "Return()"])})
    # One inbound context per trunk context (trunks may share one).
    queues = {q["name"]: q for q in dialplan["queues"]}
    confs = {c["name"]: c for c in dialplan["conferences"]}
    for context in sorted({t["context"] for t in dialplan["trunks"].values()}):
        members = sorted(n for n, t in dialplan["trunks"].items() if t["context"] == context)
        lines = []
        for route in [r for r in dialplan["inbound"] if r["trunk"] in members]:
            if route["subscriber"]:
                sub = subs[route["subscriber"]]
                steps = _record(dialplan, sub.get("record"), sub["extension"]) + _to_subscriber(
                    dialplan, sub, dialplan["settings"]["ring_seconds"])[:-1]
            elif route["voicemail"]:
                steps = ["VoiceMail(%s@default,u)" % route["voicemail"]]
            elif route["queue"]:
                steps = _queue(dialplan, queues[route["queue"]])
            elif route["conference"]:
                steps = _conference(confs[route["conference"]])
            else:
                steps = ["Hangup(21)"]
            lines += _exten(route["did"], steps + ["Hangup()"])
        lines += _exten("i", ["Hangup()"])
        sections.append({"name": context, "comment": "inbound calls from trunk(s) %s" % ", ".join(members),
                         "lines": lines})
    text = repr(sections).lower()
    if any(app in text for app in DANGEROUS_APPS):
        raise DialplanError(["a command-running application would be rendered: refused"])
    return sections


def voicemail_conf(dialplan):
    """voicemail.conf: [general] and the boxes of the subscribers who have one (PINs inside: the
    role writes it without diff and without logging)."""
    st = dialplan["settings"]
    general = [["format", "wav49|wav"], ["maxmsg", str(st["voicemail_max_messages"])],
               ["maxsecs", str(st["voicemail_max_seconds"])], ["minsecs", str(st["voicemail_min_seconds"])],
               # Three wrong PINs end the call; a PIN changed from the box's menu has 4 digits at least,
               # as the model asks of the inventory's PINs.
               ["maxlogins", "3"], ["minpassword", "4"], ["review", "no"], ["operator", "no"], ["forcename", "no"]]
    if st["voicemail_email_from"]:
        general += [["serveremail", st["voicemail_email_from"]], ["attach", "yes"]]
    # voicemail.conf splits a box on commas (and | in its options): a name must not add fields.
    boxes = [[ext, "%s,%s,%s" % (sub["voicemail_pin"], re.sub(r"[,|]", " ", sub.get("name") or ext),
                                 sub.get("voicemail_email") or "")]
             for ext, sub in sorted(dialplan["subscribers"].items()) if sub.get("voicemail")]
    return [{"name": "general", "options": general, "comment": ""},
            {"name": "default", "options": boxes, "comment": "one box per subscriber with voicemail: true",
             "separator": " => "}]


def queues_conf(dialplan):
    sections = [{"name": "general", "options": [["persistentmembers", "no"], ["autofill", "yes"],
                                                ["shared_lastcall", "yes"]], "comment": ""}]
    for queue in dialplan["queues"]:
        options = [["strategy", queue["strategy"]], ["timeout", str(queue["ring_seconds"])], ["retry", "2"],
                   ["wrapuptime", str(queue["wrapup_seconds"])], ["maxlen", str(queue["max_callers"])],
                   ["joinempty", "no"], ["leavewhenempty", "yes"], ["ringinuse", "no"]]
        if queue["announce_position"]:
            options += [["announce-position", "yes"], ["announce-frequency", "30"], ["min-announce-frequency", "15"]]
        # A login queue's members are those logged in (QUEUE_LOGIN_CODE): none listed here.
        for ext in ([] if queue["login"] else queue["members"]):
            sub = dialplan["subscribers"][ext]
            options.append(["member", "%s,0,%s" % (dial_subscriber(dialplan["driver"], sub),
                                                   (sub.get("name") or ext).replace(",", " "))])
        sections.append({"name": queue["name"], "options": options, "comment": "queue %s" % queue["extension"]})
    return sections


def confbridge_conf(dialplan):
    sections = [{"name": "general", "options": [], "comment": ""}]
    for conf in dialplan["conferences"]:
        bridge = [["type", "bridge"], ["max_members", str(conf["max_members"])]]
        if conf["record"]:
            bridge += [["record_conference", "yes"],
                       ["record_file", "%s/conference-%s" % (MONITOR_DIR, conf["name"])]]
        user = [["type", "user"], ["announce_user_count", "yes"]]
        sections += [{"name": "vpbx-%s-bridge" % conf["name"], "options": bridge,
                      "comment": "room %s (extension %s); its PINs are in %s" % (conf["name"], conf["extension"],
                                                                                 ROOMS_FILE)},
                     {"name": "vpbx-%s-user" % conf["name"], "options": user, "comment": ""}]
        if conf["admin_pin"]:
            sections.append({"name": "vpbx-%s-admin" % conf["name"], "comment": "who enters the admin PIN",
                             "options": user + [["admin", "yes"], ["marked", "yes"]]})
    if any(conf["admin_pin"] for conf in dialplan["conferences"]):
        sections.append({"name": "vpbx-admin-menu", "comment": "the admins' keys: *1 mute, *2 lock or unlock the room, "
                         "*3 remove the last one in, *4 leave",
                         "options": [["type", "menu"], ["*1", "toggle_mute"], ["*2", "admin_toggle_conference_lock"],
                                     ["*3", "admin_kick_last"], ["*4", "leave_conference"]]})
    return sections


def rooms_conf(dialplan):
    """The rooms' PINs, one section per room with a PIN (read by the dialplan with AST_CONFIG; never
    shown: the role writes it without diff and without logging)."""
    return [{"name": conf["name"], "comment": "room %s" % conf["extension"],
             "options": [[key, conf[key]] for key in ("pin", "admin_pin") if conf[key]]}
            for conf in dialplan["conferences"] if conf["pin"] or conf["admin_pin"]]


def features(dialplan):
    """Module features (vpbx.hardened.asterisk_modules) this dialplan uses."""
    wanted = []
    if any(s.get("voicemail") for s in dialplan["subscribers"].values()):
        wanted.append("voicemail")
    if recording_used(dialplan):
        wanted.append("recording")
    if dialplan["queues"]:
        wanted.append("queues")
    if dialplan["conferences"]:
        wanted.append("conference")
    if any(c["echo_test"] for c in dialplan["contexts"]):
        wanted.append("echo_test")
    return wanted


# file -> (feature that needs it or None for always, renderer, holds secrets)
FILES = (
    ("extensions.conf", None, render, False),
    ("voicemail.conf", "voicemail", voicemail_conf, True),
    ("queues.conf", "queues", queues_conf, False),
    ("confbridge.conf", "conference", confbridge_conf, False),
    (ROOMS_FILE, "conference", rooms_conf, True),
)


def files(dialplan):
    """The files this dialplan needs: [{file, sections, secret, lines?}]. Files of unused features
    are left out (the modules role's closed stub stays, or nothing)."""
    used = features(dialplan)
    out = []
    for name, feature, renderer, secret in FILES:
        if feature is None or feature in used:
            out.append({"file": name, "sections": renderer(dialplan), "secret": secret})
    return out


# What the module set writes for these files until this role renders them (only where no file
# exists: asterisk_modules_apply's stubs), closed: nothing can be dialled, no box, no queue.
STUBS = {
    "extensions.conf": ("[general]\nstatic = yes\nwriteprotect = yes\nclearglobalvars = no\n\n"
                        "; Closed until the dialplan role renders one: nothing can be dialled.\n[default]\n\n[public]\n"),
    "voicemail.conf": "[general]\nformat = wav49|gsm|wav\n\n[default]\n",
    "queues.conf": "[general]\npersistentmembers = no\n",
    "confbridge.conf": "[general]\n\n[default_user]\ntype = user\n\n[default_bridge]\ntype = bridge\n",
}


def file_text(entry, header):
    """The text of one of files()' entries, byte for byte: `header` (the ansible_managed comment),
    what wrote it, then each section (its comment, `[name]`, its lines, its options)."""
    lines = [header, "; %s: %s rendered by vpbx.hardened.asterisk_dialplan" % (sip_model.MARKER, entry["file"]),
             "; from asterisk_dialplan_* and the asterisk_sip_* subscriber/trunk model. Edits here are replaced."]
    for section in entry["sections"]:
        lines.append("")
        if section.get("comment"):
            lines.append("; %s" % section["comment"])
        lines.append("[%s]" % section["name"])
        lines += list(section.get("lines") or [])
        separator = section.get("separator", "=")
        lines += ["%s%s%s" % (key, separator, value) for key, value in section.get("options") or []]
    return "\n".join(lines) + "\n"


def file_texts(entries, header):
    """{"files": {name: text}, "secrets": {name: text}}: the files with PINs (voicemail.conf,
    confbridge.conf) apart, to be passed on as secrets (never shown)."""
    out = {"files": {}, "secrets": {}}
    for entry in entries:
        out["secrets" if entry["secret"] else "files"][entry["file"]] = file_text(entry, header)
    return out


CONTEXT_LINE_RE = re.compile(r"^\[ Context '([^']+)' created by '([^']+)' \]", re.MULTILINE)


def contexts(sections):
    """The dialplan contexts a rendering defines (what `dialplan show` must list)."""
    return sorted(s["name"] for s in sections if s["name"] not in ("general", "globals"))


def parse_dialplan_show(text, registrar="pbx_config"):
    """Context names `dialplan show` lists as created by `registrar` (the extensions.conf loader)."""
    return sorted({name for name, by in CONTEXT_LINE_RE.findall(text or "") if by == registrar})
