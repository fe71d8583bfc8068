# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, vpbx.hardened contributors
"""Features -> Asterisk modules, and the dependency closure that turns them into a load list.

This file is the only place in the collection that names loadable modules for a feature: roles
ask for features (through the asterisk_modules role), never for .so files.

A feature has:
  modules   modules it needs; each must be installed (else: error naming the package)
  optional  modules added only when installed
  patterns  fnmatch patterns over the installed modules (codec_*, format_*)
  includes  other features
  with      {feature: [modules]} added only when that other feature is selected too
            (e.g. PJSIP's MWI for voicemail only when PJSIP is the driver)
"""

from __future__ import annotations

import difflib
import fnmatch

FEATURES = {
    "core": {
        # Only what the collection's own dialplan calls (Dial, Gosub, GROUP/GROUP_COUNT caps, IF,
        # FILTER/STRFTIME, DIALPLAN_EXISTS and Log for the toll-fraud guard): Playback, Verbose,
        # CALLERID, CHANNEL or CUT for a dialplan of your own come with asterisk_modules_extra
        # (docs/modules.md).
        "description": "dialplan engine, Dial and Gosub, the dialplan functions the collection's "
                       "dialplan uses (GROUP/GROUP_COUNT caps, IF, string filters, DIALPLAN_EXISTS, "
                       "Log), bridging, RTP, timing, G.711, the security event log",
        "modules": ["pbx_config", "app_dial", "app_stack", "func_strings", "func_logic", "func_groupcount",
                    "func_dialplan", "app_verbose",
                    "res_security_log", "res_rtp_asterisk", "res_timing_timerfd", "bridge_simple",
                    "bridge_native_rtp", "bridge_builtin_features", "bridge_builtin_interval_features",
                    "bridge_holding", "codec_ulaw", "codec_alaw", "codec_a_mu", "format_pcm"],
    },
    "pjsip": {
        # Not the PJSIP dialplan functions (PJSIP_HEADER, PJSIP_ENDPOINT...), Path or Diversion
        # headers: nothing the collection renders uses them (asterisk_modules_extra adds them).
        "description": "PJSIP channel driver with digest authentication, registrar, outbound "
                       "registration, ACLs, NAT helpers, DTMF by INFO, the SIP logger",
        "modules": ["chan_pjsip", "res_pjsip", "res_pjsip_session", "res_pjsip_authenticator_digest",
                    "res_pjsip_outbound_authenticator_digest", "res_pjsip_endpoint_identifier_user",
                    "res_pjsip_endpoint_identifier_ip", "res_pjsip_registrar",
                    "res_pjsip_outbound_registration", "res_pjsip_sdp_rtp", "res_pjsip_acl",
                    "res_pjsip_nat", "res_pjsip_caller_id", "res_pjsip_dtmf_info", "res_pjsip_rfc3326",
                    "res_pjsip_logger"],
    },
    "chan_sip": {
        "description": "the deprecated chan_sip driver (Asterisk 20 and older only)",
        "modules": ["chan_sip"],
    },
    "codecs_g711": {"description": "G.711 u-law and a-law", "modules": ["codec_ulaw", "codec_alaw", "codec_a_mu"]},
    "codecs_all": {"description": "every installed codec translator", "patterns": ["codec_*"]},
    "codec_g722": {"description": "G.722 wideband translator", "modules": ["codec_g722"]},
    "codec_gsm": {"description": "GSM translator", "modules": ["codec_gsm"]},
    "codec_g726": {"description": "G.726 translator", "modules": ["codec_g726"]},
    "codec_speex": {"description": "Speex translator", "modules": ["codec_speex"]},
    "codec_lpc10": {"description": "LPC-10 translator", "modules": ["codec_lpc10"]},
    "codec_adpcm": {"description": "ADPCM translator", "modules": ["codec_adpcm"]},
    "formats": {
        "description": "the sound file formats of the prompts and recordings (wav, gsm, pcm, sln)",
        "modules": ["format_wav", "format_gsm", "format_wav_gsm", "format_pcm", "format_sln", "codec_gsm"],
    },
    "formats_all": {"description": "every installed file format", "patterns": ["format_*"]},
    "mp3": {"description": "MP3 music on hold and prompts", "modules": ["format_mp3"]},
    "recording": {"description": "call recording with MixMonitor", "modules": ["app_mixmonitor"],
                  "includes": ["formats"]},
    "voicemail": {"description": "voicemail boxes (app_voicemail)", "modules": ["app_voicemail"],
                  "includes": ["formats"],
                  "with": {"pjsip": ["res_pjsip_mwi", "res_pjsip_mwi_body_generator"]}},
    # app_playback: the prompts a member hears when logging in or out (asterisk_dialplan's *45).
    "queues": {"description": "call queues (app_queue), the member login prompts (app_playback)",
               "modules": ["app_queue", "app_playback"], "includes": ["music_on_hold"]},
    # app_read, func_config, app_playback: a room's PIN asked by the dialplan (asterisk_dialplan), read
    # from its secret file, a wrong one told.
    "conference": {"description": "ConfBridge rooms, their PINs asked by the dialplan",
                   "modules": ["app_confbridge", "bridge_softmix", "app_read", "func_config", "app_playback"],
                   "includes": ["formats"]},
    "parking": {"description": "call parking", "modules": ["res_parking"], "includes": ["music_on_hold"]},
    "music_on_hold": {"description": "music on hold", "modules": ["res_musiconhold"], "includes": ["formats"]},
    "transfer": {"description": "blind and attended transfer (DTMF features; SIP REFER with PJSIP)",
                 "modules": ["bridge_builtin_features"], "with": {"pjsip": ["res_pjsip_refer"]}},
    "directory": {"description": "dial-by-name directory", "modules": ["app_directory"], "includes": ["formats"]},
    "cdr_csv": {"description": "call detail records to CSV files", "modules": ["cdr_csv"]},
    "cdr_database": {"description": "call detail records to a database through ODBC",
                     "modules": ["cdr_adaptive_odbc", "res_odbc"]},
    "device_state": {"description": "device state functions and hints (BLF)",
                     "modules": ["func_devstate"],
                     "with": {"pjsip": ["res_pjsip_exten_state", "res_pjsip_pidf_body_generator",
                                        "res_pjsip_xpidf_body_generator",
                                        "res_pjsip_dialog_info_body_generator"]}},
    "echo_test": {"description": "the Echo() application for an echo test extension", "modules": ["app_echo"]},
    "srtp": {"description": "SRTP media encryption", "modules": ["res_srtp"]},
    "ari": {"description": "the Asterisk REST Interface (needs the HTTP server)",
            "modules": ["res_ari", "res_stasis", "app_stasis", "res_http_websocket"],
            "patterns": ["res_ari_*"]},
    "reference_office": {
        "description": "the reference how-to's modules.conf: chan_sip, every codec, formats, queues, "
                       "ConfBridge, voicemail, MixMonitor recording, parking, music on hold, transfer, "
                       "directory, CDR to CSV, device state, echo test",
        "includes": ["chan_sip", "codecs_all", "formats", "queues", "conference", "voicemail", "recording",
                     "parking", "music_on_hold", "transfer", "directory", "cdr_csv", "device_state",
                     "echo_test"],
    },
}

# Modules that decline to load without their configuration file. The asterisk_modules role
# renders a closed, minimal stub for each (only when the file does not exist yet): the roles that
# own the file (sip, dialplan...) replace it with the real configuration.
CONFIG_STUBS = {
    "pbx_config": "extensions.conf",
    "chan_sip": "sip.conf",
    "app_voicemail": "voicemail.conf",
    "app_queue": "queues.conf",
    "res_musiconhold": "musiconhold.conf",
    "res_parking": "res_parking.conf",
    "app_confbridge": "confbridge.conf",
    "cdr_csv": "cdr.conf",
    "res_odbc": "res_odbc.conf",
    "cdr_adaptive_odbc": "cdr_adaptive_odbc.conf",
}

# Always selected: without it nothing works.
BASE_FEATURES = ("core",)

# Debian/Ubuntu packages that ship modules outside asterisk-modules (the default).
PACKAGES = {
    "format_mp3": "asterisk-mp3",
    "app_voicemail": "asterisk-voicemail",
    "app_voicemail_imap": "asterisk-voicemail-imapstorage",
    "app_voicemail_odbc": "asterisk-voicemail-odbcstorage",
    "chan_ooh323": "asterisk-ooh323",
    "chan_dahdi": "asterisk-dahdi",
    "codec_dahdi": "asterisk-dahdi",
    "chan_mobile": "asterisk-mobile",
    "app_mysql": "asterisk-mysql",
    "cdr_mysql": "asterisk-mysql",
    "res_config_mysql": "asterisk-mysql",
}
DEFAULT_PACKAGE = "asterisk-modules"
REMOVED = {"chan_sip": "chan_sip was removed from Asterisk 21 and later: use the pjsip feature",
           "res_monitor": "res_monitor was removed from Asterisk 21 and later: use recording (MixMonitor)",
           "app_macro": "app_macro was removed from Asterisk 21 and later: use Gosub"}

# Built-in parts of the Asterisk core (no .so): always present, never in a load list.
BUILTINS = frozenset(["ccss", "cdr", "cel", "dnsmgr", "enum", "extconfig", "http", "udptl", "manager",
                      "logger", "features", "indications", "pbx_builtins", "pbx_functions", "sounds",
                      "stun", "rtp_engine", "acl", "dsp", "xmldoc", "bridge", "format", "image"])


class PlanError(ValueError):
    """Bad input: the message names the variable and the fix."""


def bare(name):
    name = str(name).strip()
    return name[:-3] if name.endswith(".so") else name


def expand_features(requested, var="asterisk_modules_features"):
    """Return the selected features (includes resolved, base first), or raise PlanError."""
    selected = []

    def add(name, origin):
        if name not in FEATURES:
            hint = difflib.get_close_matches(name, FEATURES, n=1)
            raise PlanError("%s: %r is not a known feature%s. Known features: %s." % (
                origin, name, " (did you mean %r?)" % hint[0] if hint else "", ", ".join(sorted(FEATURES))))
        if name in selected:
            return
        selected.append(name)
        for included in FEATURES[name].get("includes", []):
            add(included, "feature %r" % name)

    for feature in BASE_FEATURES:
        add(feature, "built-in")
    for index, feature in enumerate(requested or []):
        add(str(feature), "%s[%d]" % (var, index))
    return selected


def package_for(module):
    return PACKAGES.get(module, DEFAULT_PACKAGE)


def plan(features, extra, exclude, catalog, builtins=BUILTINS, major=None,
         features_var="asterisk_modules_features"):
    """Compute the load list.

    catalog: {module (no .so): {"requires": [...], "optional": [...], "enhances": [...]}} of the
    installed modules. Returns {"features", "modules" (load order, .so names), "missing"
    ({module: package}), "reasons" ({module: why it is in the list})}. Raises PlanError on input
    that cannot work.
    """
    selected = expand_features(features, features_var)
    excluded = {bare(m) for m in exclude or []}
    wanted, reasons, missing = [], {}, {}

    def want(module, reason):
        if module in builtins or module in wanted:
            return
        wanted.append(module)
        reasons[module] = reason

    for feature in selected:
        spec = FEATURES[feature]
        for module in spec.get("modules", []):
            if module in excluded:
                continue
            if module in catalog:
                want(module, "feature %s" % feature)
            elif module not in builtins:
                missing[module] = package_for(module)
        for module in spec.get("optional", []):
            if module in catalog and module not in excluded:
                want(module, "feature %s" % feature)
        for pattern in spec.get("patterns", []):
            for module in sorted(catalog):
                if fnmatch.fnmatchcase(module, pattern) and module not in excluded:
                    want(module, "feature %s" % feature)
        for other, modules in spec.get("with", {}).items():
            if other in selected:
                for module in modules:
                    if module in excluded:
                        continue
                    if module in catalog:
                        want(module, "features %s + %s" % (feature, other))
                    else:
                        missing[module] = package_for(module)

    for index, module in enumerate(extra or []):
        name = bare(module)
        if name in catalog or name in builtins:
            want(name, "asterisk_modules_extra")
            continue
        if name in REMOVED and major is not None and int(major) >= 21:
            raise PlanError("asterisk_modules_extra[%d]: %s." % (index, REMOVED[name]))
        if name in PACKAGES:
            missing[name] = PACKAGES[name]
            continue
        hint = difflib.get_close_matches(name, list(catalog), n=1)
        raise PlanError("asterisk_modules_extra[%d]: %r is not an installed Asterisk module%s. Use the "
                        "module's file name without path (e.g. app_echo.so)." % (
                            index, module, " (did you mean %r?)" % (hint[0] + ".so") if hint else ""))

    for module in list(missing):
        if module in REMOVED and major is not None and int(major) >= 21:
            raise PlanError("%s: %s." % (features_var, REMOVED[module]))

    # Closure over hard dependencies (requires + enhances), breadth first.
    queue = list(wanted)
    while queue:
        module = queue.pop(0)
        info = catalog.get(module, {})
        for dep in list(info.get("requires", [])) + list(info.get("enhances", [])):
            if dep in builtins or dep in wanted:
                continue
            if dep in excluded:
                raise PlanError("asterisk_modules_exclude: %s.so is required by %s.so (%s); remove it from "
                                "asterisk_modules_exclude or drop what needs it." % (dep, module, reasons[module]))
            if dep not in catalog:
                missing[dep] = package_for(dep)
                continue
            want(dep, "required by %s" % module)
            queue.append(dep)

    return {
        "features": selected,
        "stubs": sorted({CONFIG_STUBS[m] for m in wanted if m in CONFIG_STUBS}),
        "modules": [m + ".so" for m in load_order(wanted, catalog)],
        "missing": missing,
        "reasons": {m + ".so": r for m, r in reasons.items()},
    }


def load_order(modules, catalog):
    """Dependencies first (requires/enhances, and optional ones that are in the list), otherwise
    alphabetical: a stable order for modules.conf and for loading at runtime."""
    members = set(modules)
    deps = {}
    for module in members:
        info = catalog.get(module, {})
        deps[module] = {d for d in list(info.get("requires", [])) + list(info.get("enhances", []))
                        + list(info.get("optional", [])) if d in members and d != module}
    ordered, done = [], set()
    while len(done) < len(members):
        ready = sorted(m for m in members - done if deps[m] <= done)
        if not ready:  # a dependency cycle: break it alphabetically
            ready = [sorted(members - done)[0]]
        for module in ready:
            ordered.append(module)
            done.add(module)
    return ordered


def modules_conf(header, result, mode, noload, requests):
    """The text of modules.conf for a plan() result: in C(explicit) mode the load list (dependencies
    first, each with why it is there), in C(autoload) mode the modules never loaded (`noload`).
    `requests`: the features other roles asked for ({requester: [features]}), named in the header."""
    lines = [header, "; vpbx.hardened: rendered by the vpbx.hardened.asterisk_modules role; local changes are "
             "overwritten.", "; Features: %s" % ", ".join(result["features"])]
    if requests:
        lines.append("; Requested by roles: %s" % "; ".join(
            "%s (%s)" % (requester, ", ".join(requests[requester])) for requester in sorted(requests)))
    lines += ["", "[modules]"]
    if mode == "explicit":
        lines += ["; Only what is listed is loaded: the features' modules and every module they require,",
                  "; dependencies first (read from the installed modules by vpbx.hardened.asterisk_modules_apply).",
                  "autoload = no"]
        lines += ["load => %s ; %s" % (module, result["reasons"][module]) for module in result["modules"]]
    else:
        names = sorted({name if name.endswith(".so") else name + ".so" for name in noload})
        lines += ["; Everything installed is loaded except this list.", "autoload = yes"]
        lines += ["noload => %s" % name for name in names]
    return "\n".join(lines) + "\n"
