# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
"""The desired state of one PBX host for a concern, as a pure function of the inventory.

`variables` holds every public variable of the collection's roles (their defaults overlaid by the
inventory; the `vpbx.hardened.plan` action gathers them), `host` what only the host can say:
{"major" (the Asterisk major version installed or an install would bring), "has_chan_sip",
"resolved" ({trunk host name: [addresses]}), "connection" (the Ansible connection plugin),
"ssh_connection" ($SSH_CONNECTION as the login user sees it)}.

Each concern's plan is computed from the same variables, so a role plans its own concern at its
own start and needs nothing another role left behind: the SIP model the firewall opens ports
for is the model the asterisk_sip role renders, because both are built here from the same
inventory. Errors are raised as PlanError with every problem found and the role's headline
("... - nothing was changed:"), before any host is touched.
"""

from __future__ import annotations

import re

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.vpbx.hardened.plugins.module_utils import asterisk_features
from ansible_collections.vpbx.hardened.plugins.module_utils import cdr
from ansible_collections.vpbx.hardened.plugins.module_utils import dialplan as dp
from ansible_collections.vpbx.hardened.plugins.module_utils import fail2ban as f2b
from ansible_collections.vpbx.hardened.plugins.module_utils import firewall as fw
from ansible_collections.vpbx.hardened.plugins.module_utils import retention
from ansible_collections.vpbx.hardened.plugins.module_utils import sip_model
from ansible_collections.vpbx.hardened.plugins.module_utils.asterisk import manager_user_errors

CONCERNS = ("core", "modules", "sip", "dialplan", "cdr", "cdr_server", "firewall", "fail2ban")
# The first lines of every file the sip and dialplan concerns render: ansible_managed as a comment
# (the action passes the one the inventory or ansible.cfg sets; this is Ansible's default).
HEADER = ";\n; Ansible managed\n;"


class PlanError(Exception):
    def __init__(self, headline, errors):
        super().__init__("%s\n- %s" % (headline, "\n- ".join(errors)) if errors else headline)
        self.headline, self.errors = headline, list(errors)


def _fail(headline, errors):
    if errors:
        raise PlanError(headline, errors)


# --- Asterisk core ------------------------------------------------------------------------------

# Platforms whose archive ships an `asterisk` package (distribution -> releases, by codename).
# Debian 12/13 ship none; Ubuntu needs the `universe` component.
SUPPORTED_PLATFORMS = {
    "Debian": {"bullseye": "Debian 11 (Asterisk 16)", "forky": "Debian testing (Asterisk 22)",
               "sid": "Debian unstable (Asterisk 22)"},
    "Ubuntu": {"focal": "Ubuntu 20.04 (Asterisk 16)", "jammy": "Ubuntu 22.04 (Asterisk 18)",
               "noble": "Ubuntu 24.04 (Asterisk 20)"},
}
PLATFORM_HINT = "Debian 12 and 13 ship no Asterisk: use Debian 11, Debian testing or Ubuntu."
# Packages held (asterisk_package_hold) or released together.
HELD_PACKAGES = ["asterisk", "asterisk-modules", "asterisk-config"]
# A crypt(3) hash: what asterisk_ari_users[].password_hash must be.
CRYPT_HASH = re.compile(r"^\$(1|5|6|y|2[aby])\$")


def _bool(value):
    """A boolean as the roles read it (`| bool`): "false" from `-e` is false."""
    return boolean(value, strict=False)


def _int(value):
    try:
        return int(str(value))
    except ValueError:
        return 0


def package_query(v):
    """The arguments of the asterisk_package_info run the core concern needs (the platform, the
    version pin, the state of the packages the role installs and holds)."""
    related = list(dict.fromkeys(HELD_PACKAGES + list(v["asterisk_extra_packages"])))
    return {"name": "asterisk", "platforms": SUPPORTED_PLATFORMS, "platform_hint": PLATFORM_HINT,
            "version": v["asterisk_version"], "update_cache": True,
            "cache_valid_time": v["asterisk_apt_cache_valid_time"], "related": related}


def core_features(v):
    """The features the asterisk role itself needs from the module set."""
    return ["ari"] if v["asterisk_ari_enabled"] else []


def core(v, host, header=HEADER):
    """The asterisk role's concern: the core settings checked (one problem at a time, as the role
    reports them), the package as the host has it (host["package"]), and the module set the core's
    run applies (the SIP drivers held: the asterisk_sip role switches them)."""
    start, end = v["asterisk_rtp_port_start"], v["asterisk_rtp_port_end"]
    if not (_int(start) >= 1024 and _int(end) <= 65535 and _int(start) < _int(end)):
        raise PlanError("asterisk_rtp_port_start/asterisk_rtp_port_end (%s..%s) must be a range 1024 <= start < end "
                        "<= 65535, e.g. 10000..20000." % (start, end), [])
    try:
        features = asterisk_features.expand_features(list(v["asterisk_modules_features"]) + core_features(v))
    except asterisk_features.PlanError as exc:
        raise PlanError(str(exc), []) from None
    _fail("Invalid AMI users - nothing was changed:",
          manager_user_errors(v["asterisk_manager_users"], bool(v["asterisk_manager_allow_dangerous_classes"])))
    for user in v["asterisk_ari_users"]:
        if not CRYPT_HASH.match(str(user.get("password_hash", ""))):
            raise PlanError("asterisk_ari_users[name=%s].password_hash must be a crypt(3) hash (e.g. the output of "
                            "`mkpasswd -m sha-512`), never a clear-text password." % user.get("name"), [])
    # The module set holds the model's features: the model is checked as the SIP concern checks it,
    # against the Asterisk major the package reports (installed, or what an install would bring).
    package = host.get("package") or {}
    checked_model(v, dict(host, major=host.get("major") or package.get("major"),
                          has_chan_sip=host.get("has_chan_sip")))
    return {"package": package, "features": features, "hold": list(HELD_PACKAGES),
            "module_set": applied_set(modules(v, host, header), v, requester=v["asterisk_modules_requester"] or None,
                                      request=list(v["asterisk_modules_request"]))}


# --- The module set -------------------------------------------------------------------------------

# The collection's roles: their features come from the inventory, never from the store of requests.
OWN_REQUESTERS = ["asterisk", "asterisk_sip", "asterisk_dialplan", "asterisk_cdr"]
# The start check of the trimmed XML documentation (the asterisk_modules role's template).
DOCUMENTATION_DROPIN = "/etc/systemd/system/asterisk.service.d/vpbx-documentation.conf"
# Loaded and unloaded only by the asterisk_sip role, after it wrote the driver's files.
SIP_DRIVERS = ["chan_sip", "pjsip"]
STUB_PREAMBLE = ("; vpbx.hardened: stub rendered by vpbx.hardened.asterisk_modules because a loaded module needs this\n"
                 "; file; the role that owns it replaces it with the real configuration.\n\n")
# Stubs of files no role renders (the others are next to their renderer: sip_model, dialplan).
STUBS = {
    "musiconhold.conf": "[default]\nmode = files\ndirectory = moh\n",
    "res_parking.conf": "[general]\n\n[default]\nparkext = 700\nparkpos = 701-720\ncontext = parkedcalls\n",
}


def stubs(header):
    """The closed stub of every file a module needs to load, by name (written only where none exists)."""
    bodies = dict(STUBS, **dp.STUBS, **cdr.STUBS, **{"sip.conf": sip_model.STUB})
    return {name: header + "\n" + STUB_PREAMBLE + body for name, body in sorted(bodies.items())}


def modules(v, host=None, header=HEADER, used=None):
    """The asterisk_modules concern: the whole module set as features - a pure function of the
    inventory: the user's features, ARI, what the subscribers and trunks need (driver, codecs,
    SRTP) and what the dialplan uses - and how it is applied."""
    if v["asterisk_modules_mode"] not in ("explicit", "autoload"):
        raise PlanError("asterisk_modules_mode: %r is not one of explicit, autoload" % v["asterisk_modules_mode"], [])
    try:
        asterisk_features.expand_features(list(v["asterisk_modules_features"]))
    except asterisk_features.PlanError as exc:
        raise PlanError(str(exc), []) from None
    if used is None:
        used = _dialplan(v, header)["features"] if _bool(v["asterisk_dialplan_enabled"]) else []
    wanted = (list(v["asterisk_modules_features"]) + core_features(v) + sip_model.features(model(v)) + used
              + cdr.features(cdr.settings(v)))
    exclude = list(v["asterisk_modules_exclude"])
    if v["asterisk_modules_mode"] == "autoload":
        exclude += list(v["asterisk_modules_autoload_noload"])
    return {"features": list(dict.fromkeys(wanted)), "extra": list(v["asterisk_modules_extra"]), "exclude": exclude,
            "mode": v["asterisk_modules_mode"], "hold": list(SIP_DRIVERS),
            "install_packages": _bool(v["asterisk_modules_install_packages"]),
            # The dialplan role installs what its features need (asterisk-voicemail on Debian 11).
            "installable": used if _bool(v["asterisk_dialplan_install_packages"]) else [],
            "own_requesters": list(OWN_REQUESTERS), "header": header, "stubs": stubs(header),
            # The XML documentation trimmed to what runs (or given back), the start check's drop-in.
            "documentation": {"trim": _bool(v["asterisk_modules_trim_documentation"]), "dropin": DOCUMENTATION_DROPIN}}


# --- SIP ------------------------------------------------------------------------------------------

def sip_settings(v):
    return {"driver": v["asterisk_sip_driver"], "transports": v["asterisk_sip_transports"],
            "secret_min_length": v["asterisk_sip_secret_min_length"],
            "secret_min_score": v["asterisk_sip_secret_min_score"], "weak_words": v["asterisk_sip_weak_secrets"],
            "local_networks": v["asterisk_sip_local_networks"],
            "external_address": v["asterisk_sip_external_address"], "rtp_timeout": v["asterisk_sip_rtp_timeout"],
            "rtp_hold_timeout": v["asterisk_sip_rtp_hold_timeout"]}


def sip_render_settings(v):
    return {"bind_address": v["asterisk_sip_bind_address"], "port": v["asterisk_sip_port"],
            "tls_port": v["asterisk_sip_tls_port"], "tls_cert_file": v["asterisk_sip_tls_cert_file"],
            "tls_key_file": v["asterisk_sip_tls_key_file"], "tls_ca_file": v["asterisk_sip_tls_ca_file"],
            "user_agent": v["asterisk_sip_user_agent"], "realm": v["asterisk_sip_realm"],
            "external_address": v["asterisk_sip_external_address"],
            "local_networks": v["asterisk_sip_local_networks"]}


def _sip_args(v):
    return (v["asterisk_sip_subscribers"], v["asterisk_sip_trunks"], v["asterisk_sip_subscriber_defaults"],
            v["asterisk_sip_trunk_defaults"])


def model(v):
    """The subscriber/trunk model (secrets inside), every problem of the inventory refused."""
    try:
        return sip_model.normalize(*_sip_args(v), settings=sip_settings(v))
    except sip_model.ModelError as exc:
        raise PlanError("Invalid subscriber/trunk model - nothing was changed:", exc.errors) from None


def checked_model(v, host):
    """The model checked against the Asterisk version the host runs or an install would bring
    (host["major"]: chan_sip is gone from 21 on), TLS against its certificate, the module set
    against the driver - every problem refused."""
    try:
        sip_model.normalize(*_sip_args(v), settings=dict(sip_settings(v), major=host.get("major")))
    except sip_model.ModelError as exc:
        raise PlanError("Invalid subscriber/trunk model - nothing was changed:", exc.errors) from None
    if "tls" in v["asterisk_sip_transports"] and not (v["asterisk_sip_tls_cert_file"]
                                                      and v["asterisk_sip_tls_key_file"]):
        raise PlanError("asterisk_sip_transports contains tls: set asterisk_sip_tls_cert_file and "
                        "asterisk_sip_tls_key_file to the certificate and key on the host (readable by asterisk).", [])
    _one_driver(v, host)


def sip(v, host, header=HEADER):
    """The asterisk_sip role's concern: the model - checked against the Asterisk version the host
    runs or an install would bring, where that matters (host["major"]) - and the driver's files,
    every byte of them (sip_model.render and sip_model.files: one place for pjsip.conf and sip.conf)."""
    checked_model(v, host)
    the_model = model(v)
    rendered = sip_model.render(the_model, sip_render_settings(v))
    texts = sip_model.files(rendered, header)
    driver = the_model["driver"]
    other = "chan_sip" if driver == "pjsip" else "pjsip"
    module = DRIVER_MODULE[driver]
    return {"model": the_model, "render": rendered, "files": texts["files"], "secrets": texts["secrets"],
            "features": sip_model.features(the_model), "names": sip_model.names(the_model), "major": host.get("major"),
            # Where Asterisk logs what it refuses (the asterisk role's logger.conf writes it).
            "log_file": "%s/%s" % (v["asterisk_log_dir"], v["asterisk_log_messages_file"]),
            # How asterisk_apply applies them: each file reloads the driver - PJSIP's transports only
            # at start, while res_pjsip runs; the driver switched in the same run (nothing held);
            # the other driver's files (those this collection rendered) removed once the driver runs.
            "reload": {name: module for name in list(texts["files"]) + list(texts["secrets"])},
            "restart_files": [rendered["transports_file"]] if rendered["transports_file"] else [],
            "module_set": applied_set(modules(v, host, header), v, hold=[]),
            "retire": DRIVER_FILES[other],
            "retire_marker": re.escape(sip_model.MARKER) + r": .*(subscribers and trunks|, included by)",
            # The registrations by digest: chan_sip lists them by the trunk's user name (maybe from a vault).
            "verify": {"kind": "sip", "driver": driver, "endpoints": sip_model.names(the_model)["endpoints"],
                       "registrations": [sip_model.digest(n) for n in sip_model.names(the_model)["registrations"]],
                       "transports": rendered["transports"]}}


def applied_set(the_set, v, **changes):
    """The module set as asterisk_apply's `module_set` option takes it."""
    return dict(the_set, requests_file=v["asterisk_modules_requests_file"], **changes)


# The files each driver reads, and the module that reads them.
DRIVER_FILES = {"pjsip": ["pjsip.conf", "pjsip_secrets.conf", "pjsip_transports.conf"],
                "chan_sip": ["sip.conf", "sip_secrets.conf"]}
DRIVER_MODULE = {"pjsip": "res_pjsip.so", "chan_sip": "chan_sip.so"}


def _one_driver(v, host):
    """Both drivers on one host would fight over the SIP port: refuse a module set that loads the
    other one (a feature that includes it, or autoload without excluding it where it exists)."""
    driver = v["asterisk_sip_driver"]
    other, other_module = ("chan_sip", "chan_sip.so") if driver == "pjsip" else ("pjsip", "chan_pjsip.so")
    mode = v["asterisk_modules_mode"]
    try:
        features = asterisk_features.expand_features(v["asterisk_modules_features"])
    except asterisk_features.PlanError as exc:
        raise PlanError(str(exc), []) from None
    has_chan_sip = host.get("has_chan_sip")
    if has_chan_sip is None:
        has_chan_sip = _int(host.get("major")) < 21
    autoloads_other = (mode == "autoload" and other_module not in v["asterisk_modules_exclude"]
                       and not (driver == "pjsip" and not has_chan_sip))
    if other in features or autoloads_other:
        fix = ("remove it from asterisk_modules_features (reference_office includes chan_sip)" if mode != "autoload"
               else "with asterisk_modules_mode autoload, add %s to asterisk_modules_exclude" % other_module)
        raise PlanError("asterisk_sip_driver is %s, but the module set would also load %s, which needs the same SIP "
                        "port: %s or set asterisk_sip_driver to %s." % (driver, other, fix, other), [])


# --- Dialplan -------------------------------------------------------------------------------------

def dialplan_settings(v):
    keys = ("international_prefixes", "premium_prefixes", "country", "domestic_regions", "max_call_seconds",
            "ring_seconds", "voicemail_email_from", "voicemail_max_messages", "voicemail_max_seconds",
            "voicemail_min_seconds", "recording_format")
    return {key: v["asterisk_dialplan_" + key] for key in keys}


def dialplan(v, host=None, header=HEADER):
    """The asterisk_dialplan role's concern: the dialplan checked against the model, and its files,
    every byte of them (dialplan.files and dialplan.file_text: one place for extensions.conf) - and
    the module set its run applies with them (the SIP drivers held: the asterisk_sip role switches them)."""
    result = _dialplan(v, header)
    result["module_set"] = applied_set(modules(v, host, header, used=result["features"]), v)
    return result


def _dialplan(v, header):
    args = (model(v), v["asterisk_dialplan_contexts"], v["asterisk_dialplan_routes"], v["asterisk_dialplan_inbound"],
            v["asterisk_dialplan_queues"], v["asterisk_dialplan_conferences"], dialplan_settings(v))
    recordings = retention.settings(v)
    _fail("Invalid dialplan - nothing was changed:", dp.errors(*args) + retention.errors(recordings))
    the_dialplan = dp.normalize(*args)
    try:
        files = dp.files(the_dialplan)
    except dp.DialplanError as exc:
        raise PlanError("Refused dialplan:", exc.errors) from None
    extensions = [f for f in files if f["file"] == "extensions.conf"][0]
    texts = dp.file_texts(files, header)
    return {"dialplan": the_dialplan, "features": dp.features(the_dialplan), "files": texts["files"],
            "secrets": texts["secrets"],
            # What `dialplan show` must list once extensions.conf is loaded.
            "contexts": dp.contexts(extensions["sections"]),
            # The recordings' pruning timer (outside /etc/asterisk): host_files, host_files_absent, timers.
            "recordings": retention.host_files(recordings, header)}


# --- Call detail records ---------------------------------------------------------------------------

# Variables that must never be written in clear text in the inventory: a vault-encrypted file, an
# inline vault value (ansible-vault encrypt_string), extra vars or a lookup - never a plain file.
VAULTED = ("asterisk_cdr_database_password",)


def clear_text_errors(origins):
    """host["origins"]: {variable: file it was written in, in clear text} (the plan action reads it)."""
    return ["%s is written in clear text in %s: move it to a vault-encrypted file (ansible-vault encrypt) or "
            "encrypt the value (ansible-vault encrypt_string), and keep only a reference such as "
            "'{{ vault_cdr_password }}' in the inventory" % (name, where) for name, where in sorted(origins.items())]


def cdr_plan(v, host=None, header=HEADER):
    """The asterisk_cdr role's concern: the records' files, the ODBC data source, the embedded
    database server - every byte from module_utils/cdr.py - and the module set its run applies."""
    settings = cdr.settings(v)
    checker = sip_model.secret_checker()
    problems = cdr.errors(settings, checker)
    if cdr.enabled(settings):
        problems += clear_text_errors({name: where for name, where in ((host or {}).get("origins") or {}).items()
                                       if name in VAULTED})
    _fail("Invalid call records settings - nothing was changed:", problems + checker.errors)
    the_set = modules(v, host, header)
    result = cdr.plan(settings, header, csv="cdr_csv" in asterisk_features.expand_features(the_set["features"]))
    result["module_set"] = applied_set(the_set, v)
    return result


def cdr_server_plan(v, host=None):
    """A remote database host's concern (the cdr_database playbook): MariaDB on its one address with
    TLS required, the records' table, and the PBXs' INSERT-only user."""
    settings = cdr.server_settings(v)
    checker = sip_model.secret_checker()
    problems = cdr.server_errors(settings, checker)
    problems += clear_text_errors({name: where for name, where in ((host or {}).get("origins") or {}).items()
                                   if name in VAULTED})
    _fail("Invalid call records database host - nothing was changed:", problems + checker.errors)
    server = cdr.remote_server(settings)
    return {"server": server, "packages": server["packages"]}


# --- Firewall -------------------------------------------------------------------------------------

def firewall_settings(v, host):
    return {"ssh_port": v["asterisk_firewall_ssh_port"], "ssh_sources": v["asterisk_firewall_ssh_sources"],
            "ssh_limit": v["asterisk_firewall_ssh_limit"], "extra_networks": v["asterisk_firewall_extra_networks"],
            "rtp_networks": v["asterisk_firewall_rtp_networks"],
            "open_to_world": v["asterisk_firewall_sip_open_to_world"], "allow": v["asterisk_firewall_allow"],
            "ipv6": v["asterisk_firewall_ipv6"], "logging": v["asterisk_firewall_logging"],
            "flood_rate": v["asterisk_firewall_sip_flood_rate"], "flood_burst": v["asterisk_firewall_sip_flood_burst"],
            "flood_exempt": v["asterisk_firewall_sip_flood_exempt"],
            # The same variables that render sip.conf/pjsip.conf and rtp.conf: one source of truth.
            "sip_port": v["asterisk_sip_port"], "tls_port": v["asterisk_sip_tls_port"],
            "rtp_start": v["asterisk_rtp_port_start"], "rtp_end": v["asterisk_rtp_port_end"],
            "resolved": host.get("resolved") or {}}


def trunk_hosts(the_model):
    """The trunks' host names the PBX resolves (the host must resolve them as Asterisk does)."""
    return sorted({name for trunk in the_model["trunks"] for name in trunk.get("identify_hosts") or []})


def guard(v, firewall_plan, host):
    return fw.guard(host.get("connection") or "ssh", host.get("ssh_connection") or "", firewall_plan["ssh_sources"],
                    firewall_plan["ssh_port"], v["asterisk_firewall_controller_address"])


def _firewall_plan(v, host, the_model):
    settings = firewall_settings(v, host)
    _fail("Invalid firewall settings - nothing was changed:", fw.errors(the_model, settings))
    return fw.plan(the_model, settings)


def firewall(v, host):
    """The asterisk_firewall role's concern: every rule, and the lockout guard's verdict."""
    the_plan = _firewall_plan(v, host, model(v))
    verdict = guard(v, the_plan, host)
    if v["asterisk_firewall_lockout_guard"] and not verdict["ok"]:
        raise PlanError("Lockout guard - nothing was changed: " + verdict["message"], [])
    return {"plan": the_plan, "guard": verdict}


# --- fail2ban -------------------------------------------------------------------------------------

FAIL2BAN_NEEDS_FIREWALL = (
    "asterisk_fail2ban_enabled: fail2ban bans through UFW, which asterisk_firewall_enabled: false leaves unmanaged (a "
    "ban would not be enforced) - nothing was changed. Enable the firewall role, or set asterisk_fail2ban_enabled: "
    "false.")


def fail2ban(v, host):
    """The asterisk_fail2ban role's concern: the jails, and what the running server must show."""
    if not v["asterisk_firewall_enabled"]:
        raise PlanError(FAIL2BAN_NEEDS_FIREWALL, [])
    the_model = model(v)
    firewall_plan = _firewall_plan(v, host, the_model)
    settings = {"maxretry": v["asterisk_fail2ban_maxretry"], "findtime": v["asterisk_fail2ban_findtime"],
                "bantime": v["asterisk_fail2ban_bantime"], "admin_networks": v["asterisk_fail2ban_admin_networks"],
                "ignore_trunks": v["asterisk_fail2ban_ignore_trunks"],
                "recidive": v["asterisk_fail2ban_recidive_enabled"],
                "recidive_maxretry": v["asterisk_fail2ban_recidive_maxretry"],
                "recidive_findtime": v["asterisk_fail2ban_recidive_findtime"],
                "recidive_bantime": v["asterisk_fail2ban_recidive_bantime"], "sshd": v["asterisk_fail2ban_sshd_jail"],
                "permitted_password_only": v["asterisk_fail2ban_permitted_password_only"],
                # The asterisk role's logger.conf names the security log; the firewall plan the SIP ports.
                "log_dir": v["asterisk_log_dir"], "security_file": v["asterisk_log_security_file"],
                "ports": firewall_plan["ports"], "resolved": host.get("resolved") or {},
                "connection": host.get("connection") or "ssh", "ssh_connection": host.get("ssh_connection") or "",
                "controller": v["asterisk_firewall_controller_address"]}
    _fail("Invalid fail2ban settings - nothing was changed:", f2b.errors(settings, the_model))
    the_plan = f2b.plan(settings, the_model)
    return {"plan": the_plan, "expect": f2b.expectations(the_plan),
            # What check mode on a host without fail2ban shows instead of a comparison.
            "summary": ["asterisk jail on %s: %s failures in %s s -> banned %s s"
                        % (", ".join(the_plan["logpaths"]), the_plan["maxretry"], the_plan["findtime"],
                           the_plan["bantime"]),
                        "never banned: %s" % ", ".join(the_plan["ignoreip"]),
                        "banned for wrong passwords only (offices): %s" % (", ".join(the_plan["offices"]) or "none")]}


# The concerns a role can switch off, and its switch.
SWITCHES = {"dialplan": "asterisk_dialplan_enabled", "firewall": "asterisk_firewall_enabled",
            "fail2ban": "asterisk_fail2ban_enabled"}


def enabled(concern, v):
    """Whether the role of `concern` is switched on (the others always are)."""
    return concern not in SWITCHES or _bool(v[SWITCHES[concern]])


def needs(concern, v, connection):
    """What the host must be asked before `concern` can be planned: {"major": bool, "resolve":
    [names], "ssh_connection": bool}. Raises PlanError for an invalid model (nothing to ask then)."""
    # The Asterisk version matters to the SIP plan only for chan_sip (gone from 21 on) and for
    # autoload with PJSIP (is there a chan_sip to exclude?).
    wanted = {"major": concern == "sip" and (v["asterisk_sip_driver"] == "chan_sip"
                                             or v["asterisk_modules_mode"] == "autoload"),
              "package": concern == "core", "resolve": [], "ssh_connection": False}
    if concern in ("firewall", "fail2ban"):
        the_model = model(v)
        wanted["resolve"] = trunk_hosts(the_model)
        sources = v["asterisk_firewall_ssh_sources"]
        probe = fw.guard(connection or "ssh", "", sources if isinstance(sources, list) else [],
                         v["asterisk_firewall_ssh_port"], v["asterisk_firewall_controller_address"])
        # The controller's address matters to the lockout guard (firewall) and to the addresses
        # fail2ban never bans; only a connection through the host's firewall has one.
        wanted["ssh_connection"] = probe["kind"] == "unknown"
    return wanted


def plan(concern, v, host, header=HEADER):
    """The plan of `concern`; `header` heads the files the sip and dialplan concerns render."""
    if concern not in CONCERNS:
        raise ValueError("concern: %r is not one of %s" % (concern, ", ".join(CONCERNS)))
    if concern in ("core", "modules", "sip", "dialplan", "cdr"):
        return {"core": core, "modules": modules, "sip": sip, "dialplan": dialplan,
                "cdr": cdr_plan}[concern](v, host, header)
    return {"firewall": firewall, "fail2ban": fail2ban, "cdr_server": cdr_server_plan}[concern](v, host)
