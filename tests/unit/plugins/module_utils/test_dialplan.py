# SPDX-License-Identifier: GPL-3.0-or-later
"""The dialplan model's safety rules and its rendering (roles/asterisk_dialplan uses it)."""

from __future__ import annotations

import pytest

from ansible_collections.vpbx.hardened.plugins.module_utils import dialplan
from ansible_collections.vpbx.hardened.plugins.module_utils import numbering
from ansible_collections.vpbx.hardened.plugins.module_utils import sip_model

SECRET = "Unit-test-Secret-alpha-q9"


def sip(driver="pjsip"):
    return sip_model.normalize(
        [{"extension": "1001", "secret": SECRET, "context": "homeoffice", "permit": ["192.0.2.0/24"]},
         {"extension": "1002", "secret": SECRET, "context": "homeoffice", "permit": ["192.0.2.0/24"],
          "voicemail": True, "voicemail_pin": "480315"},
         {"extension": "1003", "secret": SECRET, "context": "guest", "permit": ["192.0.2.0/24"]}],
        [{"name": "sipnet", "host": "198.51.100.7", "context": "sipnet-trunk"}],
        settings={"driver": driver, "major": 16})


CONTEXTS = [{"name": "homeoffice", "routes": ["ru"]}, {"name": "guest"}]
ROUTES = [{"name": "ru", "pattern": "_8[34]XXXXXXXXX", "trunk": "sipnet", "strip": 1, "prepend": "7"}]
INBOUND = [{"trunk": "sipnet", "did": "74951234567", "subscriber": "1002"}]


# The first two steps of every call a phone makes: its max_calls, counted over its calls out and in.
CALLER_LIMIT = "\n same => n,".join(dialplan.CALLER_LIMIT)


def build(contexts=None, routes=None, inbound=None, driver="pjsip"):
    return dialplan.normalize(sip(driver), CONTEXTS if contexts is None else contexts,
                              ROUTES if routes is None else routes, INBOUND if inbound is None else inbound)


def section(sections, name):
    return next(s for s in sections if s["name"] == name)


def test_the_how_tos_office_renders():
    sections = dialplan.render(build())
    assert section(sections, "general")["lines"] == ["static=yes", "writeprotect=no", "priorityjumping=no",
                                                     "autofallthrough=yes", "clearglobalvars=no"]
    assert any("Busy" in line for line in section(sections, "default")["lines"])
    home = "\n".join(section(sections, "homeoffice")["lines"])
    assert (' same => n,Dial(PJSIP/1002,30)\n same => n,VoiceMail(1002@default,${IF($["${DIALSTATUS}" = '
            '"BUSY"]?b:u)})\n same => n,Hangup()') in home
    assert "exten => _8[34]XXXXXXXXX,1,Set(VPBX_NUMBER=${FILTER(0-9,${EXTEN})})" in home
    assert "Set(VPBX_NUMBER=7${VPBX_NUMBER:1})" in home
    assert "Dial(PJSIP/${VPBX_NUMBER}@sipnet,60,S(7200))" in home
    assert "GROUP_COUNT(homeoffice@vpbx-calls)} > 10" in home
    assert "exten => *97,1," in home and "VoiceMailMain(${VPBX_CALLER}@default)" in home
    guest = "\n".join(section(sections, "guest")["lines"])
    assert "sipnet" not in guest and "exten => 1001," in guest  # internal calls only
    inbound = "\n".join(section(sections, "sipnet-trunk")["lines"])
    assert "exten => 74951234567,1,Set(GROUP(vpbx-phone-in)=1002)" in inbound and "Dial(PJSIP/1002,30)" in inbound


def test_exten_never_reaches_dial():
    for driver in ("pjsip", "chan_sip"):
        for s in dialplan.render(build(driver=driver)):
            for line in s["lines"]:
                if "Dial(" in line:
                    assert "${EXTEN" not in line, line


def test_chan_sip_dial_strings():
    home = "\n".join(section(dialplan.render(build(driver="chan_sip")), "homeoffice")["lines"])
    assert "Dial(SIP/1001,30)" in home and "Dial(SIP/sipnet/${VPBX_NUMBER},60,S(7200))" in home


@pytest.mark.parametrize("contexts, routes, inbound, message", [
    (None, [dict(ROUTES[0], trunk="nowhere")], None, "asterisk_dialplan_routes[0] (ru).trunk: 'nowhere' is not a trunk"),
    (None, [dict(ROUTES[0], pattern="_X.")], None, "asterisk_dialplan_routes[0] (ru).pattern: '_X.' matches any number"),
    (None, [dict(ROUTES[0], pattern="_8[3-7X")], None, "asterisk_dialplan_routes[0] (ru).pattern: '_8[3-7X': '[' without"),
    (None, [dict(ROUTES[0], pattern="_8XXXXXXXXXX")], None,
     "asterisk_dialplan_routes[0] (ru).pattern: '_8XXXXXXXXXX' can reach an international number"),
    (None, [dict(ROUTES[0], pattern="_8XXXXXXXXXX", international=True)], None,
     "asterisk_dialplan_contexts[0] (homeoffice).routes[0]: route 'ru' dials international/premium numbers"),
    ([{"name": "homeoffice", "routes": ["nope"]}, {"name": "guest"}], None, None,
     "asterisk_dialplan_contexts[0] (homeoffice).routes[0]: 'nope' is not a route"),
    ([{"name": "homeoffice", "routes": ["ru"]}], None, None,
     "asterisk_sip_subscribers (extension 1003).context: 'guest' is not a context"),
    (CONTEXTS + [{"name": "sipnet-trunk"}], None, None, "asterisk_sip_trunks (sipnet).context: 'sipnet-trunk' is a subscriber context"),
    ([{"name": "default"}] + CONTEXTS, None, None, "asterisk_dialplan_contexts[0] (default).name: 'default' is reserved"),
    (None, [dict(ROUTES[0], strip=11)], None, "asterisk_dialplan_routes[0] (ru).strip: 11 would strip every digit"),
    (None, [dict(ROUTES[0], prepend="7;x")], None, "asterisk_dialplan_routes[0] (ru).prepend:"),
    (None, [dict(ROUTES[0], chars=["&"])], None, "asterisk_dialplan_routes[0] (ru).chars: '&'"),
    (None, None, [{"trunk": "sipnet", "subscriber": "1009"}], "asterisk_dialplan_inbound[0].subscriber: '1009'"),
    (None, None, [{"trunk": "sipnet", "voicemail": "1001"}], "asterisk_dialplan_inbound[0].voicemail: subscriber 1001 has no"),
    (None, None, [{"trunk": "sipnet"}], "asterisk_dialplan_inbound[0]: needs exactly one destination"),
    (None, None, [{"trunk": "x", "hangup": True}], "asterisk_dialplan_inbound[0].trunk: 'x' is not a trunk"),
    (None, [dict(ROUTES[0], via="x")], None, "asterisk_dialplan_routes[0] (ru): unknown field(s) via"),
])
def test_bad_input_names_the_variable(contexts, routes, inbound, message):
    with pytest.raises(dialplan.DialplanError) as exc:
        build(contexts, routes, inbound)
    assert any(e.startswith(message) for e in exc.value.errors), exc.value.errors


def test_catch_all_with_opt_in_is_accepted_and_still_filtered():
    routes = [dict(ROUTES[0], pattern="_X.", catch_all=True, international=True, strip=0, prepend="")]
    contexts = [{"name": "homeoffice", "routes": ["ru"], "international": True}, {"name": "guest"}]
    home = "\n".join(section(dialplan.render(build(contexts, routes)), "homeoffice")["lines"])
    assert "exten => _X.,1,Set(VPBX_NUMBER=${FILTER(0-9,${EXTEN})})" in home


# --- voicemail, recording, queues, conferences -------------------------------------------------

QUEUES = [{"name": "support", "extension": "600", "members": ["1001", "1002"], "strategy": "rrmemory"}]
CONFERENCES = [{"name": "board", "extension": "700", "pin": "804512", "record": True}]


def full(driver="pjsip", subscribers_extra=None, **kw):
    subs = [{"extension": "1001", "secret": SECRET, "context": "homeoffice", "permit": ["192.0.2.0/24"],
             "record": True},
            {"extension": "1002", "name": "Secretary", "secret": SECRET, "context": "homeoffice",
             "permit": ["192.0.2.0/24"], "voicemail": True, "voicemail_pin": "480315"},
            {"extension": "1003", "secret": SECRET, "context": "guest", "permit": ["192.0.2.0/24"]}]
    model = sip_model.normalize(subs + (subscribers_extra or []),
                                [{"name": "sipnet", "host": "198.51.100.7", "context": "sipnet-trunk"}],
                                settings={"driver": driver, "major": 16})
    args = dict(contexts=CONTEXTS, routes=[dict(ROUTES[0], record=True)],
                inbound=INBOUND + [{"trunk": "sipnet", "did": "74950000600", "queue": "support"},
                                   {"trunk": "sipnet", "did": "74950000700", "conference": "board"}],
                queues=QUEUES, conferences=CONFERENCES)
    args.update(kw)
    return dialplan.normalize(model, **args)


def conf_text(sections):
    return "\n".join("[%s]\n" % s["name"] + "\n".join(
        "%s%s%s" % (k, s.get("separator", "="), v) for k, v in s.get("options", [])) for s in sections)


def test_voicemail_conf_has_one_box_per_subscriber_with_voicemail():
    text = conf_text(dialplan.voicemail_conf(full()))
    assert "1002 => 480315,Secretary," in text
    assert "1001 =>" not in text and "1003 =>" not in text
    assert "maxlogins=3" in text
    # A PIN changed from the box's menu is held to the model's 4 digits (Asterisk's default is none).
    assert "minpassword=4" in text


def test_recording_goes_through_one_subroutine_with_trusted_flags():
    sections = dialplan.render(full())
    home = "\n".join(section(sections, "homeoffice")["lines"])
    # 1001 records: calls to 1001 always, calls to 1002 only when the caller's driver said so.
    assert "exten => 1001,1,%s\n same => n,Gosub(vpbx-record,s,1(yes,1001))" % CALLER_LIMIT in home
    assert "exten => 1002,1,%s\n same => n,Gosub(vpbx-record,s,1(no,1002))" % CALLER_LIMIT in home
    assert "Gosub(vpbx-record,s,1(yes,route-ru))\n same => n,Dial(PJSIP/${VPBX_NUMBER}@sipnet,60,S(7200))" in home
    record = "\n".join(section(sections, "vpbx-record")["lines"])
    assert '"${VPBX_RECORD}" = "yes"' in record
    assert "n(record),MixMonitor(${STRFTIME(${EPOCH},,%Y%m%d-%H%M%S)}-${UNIQUEID}-${ARG2}.wav)" in record
    # The flag comes from the driver, per subscriber, on both drivers.
    for driver, key in (("pjsip", "set_var"), ("chan_sip", "setvar")):
        model = sip_model.normalize([{"extension": "1001", "secret": SECRET, "permit": ["192.0.2.0/24"],
                                      "record": True}], settings={"driver": driver, "major": 16})
        rendered = sip_model.render(model, {})
        options = [o for s in rendered["sections"] for o in s["options"] if o[0] == key]
        assert [key, "VPBX_RECORD=yes"] in options and [key, "VPBX_CALLER=1001"] in options


def test_no_recording_configured_means_no_mixmonitor_anywhere():
    sections = dialplan.render(build())
    assert "MixMonitor" not in repr(sections) and "vpbx-record" not in repr(sections)
    assert "recording" not in dialplan.features(build())


def test_queue_and_conference_are_dialled_and_rendered():
    model = full()
    sections = dialplan.render(model)
    home = "\n".join(section(sections, "homeoffice")["lines"])
    assert "exten => 600,1,%s\n same => n,Answer()\n same => n,Gosub(vpbx-record,s,1(no,queue-support))\n" \
           " same => n,Queue(support,,,,300)" % CALLER_LIMIT in home
    # board has a PIN: asked by the dialplan, compared with the secret rooms file's, never written here.
    assert ("exten => 700,1,%s\n same => n,Answer()\n same => n,Set(VPBX_TRIES=0)\n"
            " same => n(pin),Read(VPBX_PIN,conf-getpin,12,,1,10)\n"
            ' same => n,GotoIf($["${VPBX_PIN}" != "" & "${VPBX_PIN}" = "${AST_CONFIG(vpbx-rooms.conf,board,pin)}"]'
            "?member)" % CALLER_LIMIT) in home
    assert " same => n(member),ConfBridge(board,vpbx-board-bridge,vpbx-board-user)\n same => n,Hangup()" in home
    assert "804512" not in repr(sections)
    inbound = "\n".join(section(sections, "sipnet-trunk")["lines"])
    assert "exten => 74950000600,1,Answer()" in inbound and "Queue(support" in inbound
    assert "exten => 74950000700,1,Answer()\n same => n,Set(VPBX_TRIES=0)" in inbound
    queues = conf_text(dialplan.queues_conf(model))
    assert "[support]\nstrategy=rrmemory" in queues
    assert "member=PJSIP/1001,0,1001" in queues and "member=PJSIP/1002,0,Secretary" in queues
    chan_sip = conf_text(dialplan.queues_conf(full("chan_sip")))
    assert "member=SIP/1002,0,Secretary" in chan_sip
    bridge = conf_text(dialplan.confbridge_conf(model))
    assert "[vpbx-board-user]\ntype=user\nannounce_user_count=yes" in bridge and "804512" not in bridge
    assert "record_conference=yes" in bridge
    assert conf_text(dialplan.rooms_conf(model)) == "[board]\npin=804512"


def test_a_queue_that_cannot_take_a_call_logs_why_and_sends_it_to_its_fallback():
    queues = [dict(QUEUES[0], max_callers=2, wrapup_seconds=5, announce_position=True,
                   fallback={"voicemail": "1002"}),
              {"name": "sales", "extension": "601", "members": ["1001"], "fallback": {"subscriber": "1002"}},
              {"name": "night", "extension": "602", "members": ["1001"]}]
    model = full(queues=queues)
    home = "\n".join(section(dialplan.render(model), "homeoffice")["lines"])
    after_queue = (" same => n,Queue(support,,,,300)\n same => n,GotoIf($[\"${QUEUESTATUS}\" != \"\"]?fallback)\n"
                   " same => n,Hangup()\n same => n(fallback),QueueLog(support,${UNIQUEID},NONE,VPBX-FALLBACK,"
                   "${QUEUESTATUS})\n")
    assert after_queue in home
    assert "queue's fallback)\n same => n,VoiceMail(1002@default,u)\n same => n,Hangup()" in home
    # A subscriber fallback rings it (its max_calls counted), then its voicemail.
    sales = home[home.index("exten => 601,"):home.index("exten => 602,")]
    assert "n(fallback),QueueLog(sales," in sales and "Dial(PJSIP/1002,30)" in sales and "VoiceMail(1002@default," in sales
    # The default fallback hangs up: nothing is dialled after the queue.
    night = home[home.index("exten => 602,"):]
    night = night[:night.index("exten =>", 1)]
    assert "Dial(" not in night and "VoiceMail(" not in night and "VPBX-FALLBACK" in night
    text = conf_text(dialplan.queues_conf(model))
    support = text[text.index("[support]"):text.index("[sales]")]
    assert "maxlen=2\n" in support and "wrapuptime=5\n" in support and "announce-position=yes\n" in support
    sales = text[text.index("[sales]"):text.index("[night]")]
    assert "maxlen=0\n" in sales and "wrapuptime=0\n" in sales and "announce-position" not in sales


@pytest.mark.parametrize("driver, tech", [("pjsip", "PJSIP"), ("chan_sip", "SIP")])
def test_login_queue_members_log_in_and_out_by_feature_code_and_no_one_else(driver, tech):
    queues = [dict(QUEUES[0], login=True), {"name": "sales", "extension": "601", "members": ["1003"], "login": True}]
    model = full(driver, queues=queues, contexts=CONTEXTS)
    sections = dialplan.render(model)
    home = "\n".join(section(sections, "homeoffice")["lines"])
    guest = "\n".join(section(sections, "guest")["lines"])
    # Each member's own context offers the code; the member is the driver's interface for the caller.
    assert ("exten => *45600,1,%s\n same => n,Set(VPBX_MEMBER=${IF($[\"${VPBX_CALLER}\" = \"1001\"]?%s/1001:)}"
            "${IF($[\"${VPBX_CALLER}\" = \"1002\"]?%s/1002:)})" % (CALLER_LIMIT, tech, tech)) in home
    assert "AddQueueMember(support,${VPBX_MEMBER})" in home and "RemoveQueueMember(support,${VPBX_MEMBER})" in home
    assert 'GotoIf($["${VPBX_MEMBER}" = ""]?refused)' in home and "login refused" in home
    assert "*45601" not in home and "exten => *45601," in guest and "*45600" not in guest
    # No static member in a login queue; the other queues keep theirs.
    text = conf_text(dialplan.queues_conf(model))
    assert "member=" not in text
    assert "member=%s/1001" % tech in conf_text(dialplan.queues_conf(full(driver)))
    assert "CALLERID" not in home


@pytest.mark.parametrize("pin, admin_pin", [("804512", "615203"), (None, "615203"), ("804512", None)])
def test_a_rooms_pin_and_admin_pin_are_asked_by_the_dialplan_and_kept_in_the_rooms_file(pin, admin_pin):
    room = {"name": "board", "extension": "700", "pin": pin, "admin_pin": admin_pin}
    model = full(conferences=[room])
    home = "\n".join(section(dialplan.render(model), "homeoffice")["lines"])
    room_steps = home[home.index("exten => 700,"):]
    room_steps = room_steps[:room_steps.index("exten =>", 1)]
    admin = '"${AST_CONFIG(vpbx-rooms.conf,board,admin_pin)}"]?admin)'
    member = '"${AST_CONFIG(vpbx-rooms.conf,board,pin)}"]?member)'
    assert (admin in room_steps) is bool(admin_pin) and (member in room_steps) is bool(pin)
    # Without a PIN, # alone (nothing entered) joins as a member; with one, nothing entered is wrong.
    assert ('GotoIf($["${VPBX_PIN}" = ""]?member)' in room_steps) is (not pin)
    assert "n(member),ConfBridge(board,vpbx-board-bridge,vpbx-board-user)" in room_steps
    assert ("n(admin),ConfBridge(board,vpbx-board-bridge,vpbx-board-admin,vpbx-admin-menu)" in room_steps) \
        is bool(admin_pin)
    # Three wrong PINs and the call ends; each is logged with the phone the driver named.
    assert 'GotoIf($[${VPBX_TRIES} < 3]?pin)\n same => n,Hangup()' in room_steps
    assert "wrong PIN from ${VPBX_CALLER} on ${CHANNEL}" in room_steps
    rendered = repr(dialplan.render(model)) + conf_text(dialplan.confbridge_conf(model))
    assert "804512" not in rendered and "615203" not in rendered
    rooms = conf_text(dialplan.rooms_conf(model))
    assert rooms == "[board]\n" + "\n".join(["pin=%s" % pin] * bool(pin) + ["admin_pin=%s" % admin_pin] * bool(admin_pin))
    bridge = conf_text(dialplan.confbridge_conf(model))
    assert ("[vpbx-board-admin]\ntype=user\nannounce_user_count=yes\nadmin=yes\nmarked=yes" in bridge) is bool(admin_pin)
    assert ("admin_toggle_conference_lock" in bridge) is bool(admin_pin)


def test_an_open_room_is_joined_straight_away():
    model = full(conferences=[{"name": "board", "extension": "701", "max_members": 2}])
    home = "\n".join(section(dialplan.render(model), "homeoffice")["lines"])
    assert "exten => 701,1,%s\n same => n,Answer()\n same => n,ConfBridge(board,vpbx-board-bridge,vpbx-board-user)\n" \
        " same => n,Hangup()" % CALLER_LIMIT in home
    assert "Read(" not in home and dialplan.rooms_conf(model) == []
    assert "max_members=2" in conf_text(dialplan.confbridge_conf(model))


def test_features_and_files_follow_what_is_used():
    assert dialplan.features(full()) == ["voicemail", "recording", "queues", "conference"]
    assert [f["file"] for f in dialplan.files(full())] == ["extensions.conf", "voicemail.conf", "queues.conf",
                                                           "confbridge.conf", "vpbx-rooms.conf"]
    assert [f["secret"] for f in dialplan.files(full())] == [False, True, False, False, True]
    plain = dialplan.normalize(sip_model.normalize(
        [{"extension": "1001", "secret": SECRET, "permit": ["192.0.2.0/24"]}], settings={"major": 22}),
        [{"name": "internal", "echo_test": True}])
    assert dialplan.features(plain) == ["echo_test"]
    assert [f["file"] for f in dialplan.files(plain)] == ["extensions.conf"]


def test_star97_trusts_the_driver_not_the_caller_id():
    home = "\n".join(section(dialplan.render(full()), "homeoffice")["lines"])
    assert "exten => *97,1,%s\n same => n,VoiceMailMain(${VPBX_CALLER}@default)" % CALLER_LIMIT in home
    assert "CALLERID" not in home


@pytest.mark.parametrize("kw, message", [
    ({"queues": [dict(QUEUES[0], members=["1009"])]}, "asterisk_dialplan_queues[0] (support).members[0]: '1009'"),
    ({"queues": [dict(QUEUES[0], members=[])]}, "asterisk_dialplan_queues[0] (support).members: is empty"),
    ({"queues": [dict(QUEUES[0], extension="1002")]},
     "asterisk_dialplan_queues[0] (support).extension: 1002 is already subscriber 1002"),
    ({"queues": [dict(QUEUES[0], strategy="fastest")]}, "asterisk_dialplan_queues[0] (support).strategy: 'fastest'"),
    ({"queues": [dict(QUEUES[0], contexts=["nowhere"])]},
     "asterisk_dialplan_queues[0] (support).contexts[0]: 'nowhere' is not a context"),
    ({"conferences": [dict(CONFERENCES[0], extension="600")]},
     "asterisk_dialplan_conferences[0] (board).extension: 600 is already asterisk_dialplan_queues[0] (support)"),
    ({"conferences": [dict(CONFERENCES[0], pin="12a4")]}, "asterisk_dialplan_conferences[0] (board).pin: must be"),
    ({"conferences": [dict(CONFERENCES[0], extension="7x")]}, "asterisk_dialplan_conferences[0] (board).extension"),
    ({"conferences": [dict(CONFERENCES[0], pin="1111")]}, "asterisk_dialplan_conferences[0] (board).pin: is trivial"),
    ({"conferences": [dict(CONFERENCES[0], pin="456789")]},
     "asterisk_dialplan_conferences[0] (board).pin: is trivial"),
    ({"conferences": [dict(CONFERENCES[0], pin="2580")]}, "asterisk_dialplan_conferences[0] (board).pin: is trivial"),
    ({"conferences": [dict(CONFERENCES[0], pin="197004")]},
     "asterisk_dialplan_conferences[0] (board).pin: is trivial"),
    ({"conferences": [dict(CONFERENCES[0], admin_pin="1234")]},
     "asterisk_dialplan_conferences[0] (board).admin_pin: is trivial"),
    ({"conferences": [dict(CONFERENCES[0], admin_pin="61x203")]},
     "asterisk_dialplan_conferences[0] (board).admin_pin: must be 4-12 digits"),
    ({"conferences": [dict(CONFERENCES[0], admin_pin="804512")]},
     "asterisk_dialplan_conferences[0] (board).admin_pin: is the room's pin"),
    ({"queues": [dict(QUEUES[0], fallback={"voicemail": "1001"})]},
     "asterisk_dialplan_queues[0] (support).fallback.voicemail: subscriber 1001 has no voicemail box"),
    ({"queues": [dict(QUEUES[0], fallback={"subscriber": "1009"})]},
     "asterisk_dialplan_queues[0] (support).fallback.subscriber: '1009' is not a subscriber's extension"),
    ({"queues": [dict(QUEUES[0], fallback={"subscriber": "1002", "hangup": True})]},
     "asterisk_dialplan_queues[0] (support).fallback: needs exactly one destination"),
    ({"queues": [dict(QUEUES[0], fallback={"queue": "sales"})]},
     "asterisk_dialplan_queues[0] (support).fallback: unknown field(s) queue"),
    ({"queues": [dict(QUEUES[0], fallback="1002")]}, "asterisk_dialplan_queues[0] (support).fallback: must be a mapping"),
    ({"queues": [dict(QUEUES[0], max_callers=-1)]}, "asterisk_dialplan_queues[0] (support).max_callers"),
    ({"queues": [dict(QUEUES[0], wrapup_seconds=601)]}, "asterisk_dialplan_queues[0] (support).wrapup_seconds"),
    ({"queues": [dict(QUEUES[0], login="sometimes")]}, "asterisk_dialplan_queues[0] (support).login"),
    ({"inbound": [{"trunk": "sipnet", "queue": "sales"}]}, "asterisk_dialplan_inbound[0].queue: 'sales' is not in "
                                                           "asterisk_dialplan_queues (support)"),
    ({"inbound": [{"trunk": "sipnet", "queue": "support", "hangup": True}]},
     "asterisk_dialplan_inbound[0]: needs exactly one destination"),
])
def test_bad_feature_input_names_the_variable(kw, message):
    with pytest.raises(dialplan.DialplanError) as exc:
        full(**kw)
    assert any(e.startswith(message) for e in exc.value.errors), exc.value.errors


@pytest.mark.parametrize("pin, message", [
    (None, "is missing"), ("", "is missing"), ("12345", "is trivial"), ("0000", "is trivial"),
    ("98765", "is trivial"), ("1002", "is trivial"), ("2580", "is trivial"), ("12ab", "is not 4-12 digits"),
    ("123", "is not 4-12 digits"),
])
def test_voicemail_pins_are_refused_when_guessable(pin, message):
    with pytest.raises(sip_model.ModelError) as exc:
        sip_model.normalize([{"extension": "1002", "secret": SECRET, "permit": ["192.0.2.0/24"],
                              "voicemail": True, "voicemail_pin": pin}], settings={"major": 22})
    assert any(e.startswith("asterisk_sip_subscribers[0] (extension 1002).voicemail_pin: " + message)
               for e in exc.value.errors), exc.value.errors


@pytest.mark.parametrize("pin, extension, trivial", [
    ("804512", "700", False), ("7000", "700", True), ("0700", "700", True), ("70", "700", True),
    ("1234", "", True), ("4321", "", True), ("9999", "", True), ("112233", "", True),
    # An extension of one or two digits is in too many PINs to count.
    ("804512", "45", False), ("804512", "4", False), ("4590", "45", False),
    # A group of digits repeated is as easy to guess as one digit repeated.
    ("4545", "", True), ("839839", "", True), ("83988398", "", True), ("839838", "", False),
    ("480315", "1002", False), ("10027", "1002", True),
])
def test_trivial_pins_are_one_rule_for_boxes_and_rooms(pin, extension, trivial):
    assert sip_model.pin_is_trivial(pin, extension) is trivial


def test_an_open_room_or_a_random_room_pin_passes():
    rooms = full(conferences=[dict(CONFERENCES[0], pin=None), {"name": "sales", "extension": "701",
                                                               "pin": "3917"}])["conferences"]
    assert [(c["name"], c["pin"]) for c in rooms] == [("board", ""), ("sales", "3917")]


def test_a_pin_without_a_box_is_refused():
    with pytest.raises(sip_model.ModelError) as exc:
        sip_model.normalize([{"extension": "1002", "secret": SECRET, "permit": ["192.0.2.0/24"],
                              "voicemail_pin": "480315"}], settings={"major": 22})
    assert any("voicemail_pin: is set but the subscriber has no box" in e for e in exc.value.errors)


# The guards judge the number the trunk receives (after FILTER, strip and prepend), not only the
# dialled pattern.
@pytest.mark.parametrize("route, message", [
    ({"pattern": "_*.", "strip": 0, "prepend": ""}, "matches any number"),
    ({"pattern": "_*810X.", "strip": 0, "prepend": ""},
     "can reach an international number: international prefix: dialled as *81022 it goes to the trunk as 81022 "),
    ({"pattern": "_#00XXXXXXXX", "strip": 0, "prepend": ""},
     "can reach an international number: international prefix: dialled as #0022222222 it goes to the trunk as "
     "0022222222 "),
    ({"pattern": "_98XXXXXXXXXX", "strip": 1, "prepend": ""},
     "can reach an international number: KZ shares country code +7: dialled as 987222222222 it goes to the trunk "
     "as 87222222222 "),
    ({"pattern": "_98[0-68]XXXXXXXXX", "strip": 1, "prepend": ""}, "can reach an international number: "
     "international prefix: dialled as 981022222222 it goes to the trunk as 81022222222 "),
    ({"pattern": "_98[3-689]XXXXXXXXX", "strip": 1, "prepend": ""},
     "can reach a premium-rate number of RU: dialled as 988032222222 it goes to the trunk as 88032222222 "),
    ({"pattern": "_[1-7]XXXXXXXXX", "strip": 0, "prepend": "810"},
     "can reach an international number: international prefix: dialled as 2222222222 it goes to the trunk as "
     "8102222222222 "),
    ({"pattern": "_[1-7]XXXXXXXXX", "strip": 0, "prepend": "00"}, "can reach an international number: "
     "international prefix"),
    ({"pattern": "_[1-7]XXXXXXXXX", "strip": 0, "prepend": "+", "chars": ["+"]},
     "can reach an international number: another country code: dialled as 2222222222 it goes to the trunk as "
     "+2222222222 "),
    ({"pattern": "_[1*]XXXXXXXXX", "strip": 0, "prepend": ""}, "mixes characters the number filter removes"),
])
def test_the_number_sent_to_the_trunk_is_what_is_judged(route, message):
    with pytest.raises(dialplan.DialplanError) as exc:
        build(routes=[dict(ROUTES[0], **route)])
    assert any(e.startswith("asterisk_dialplan_routes[0] (ru).pattern: ") and message in e
               for e in exc.value.errors), exc.value.errors


def test_a_safe_prefix_route_stays_accepted():
    # 9 for an outside line, then Russian landlines: what reaches the trunk is 8[34]... -> 7[34]...
    plan = build(routes=[dict(ROUTES[0], pattern="_98[34]XXXXXXXXX", strip=2, prepend="7")])
    home = "\n".join(section(dialplan.render(plan), "homeoffice")["lines"])
    assert "Set(VPBX_NUMBER=7${VPBX_NUMBER:2})" in home


@pytest.mark.parametrize("context", ["default", "globals", "General", "vpbx-limit"])
def test_a_trunk_context_may_not_be_reserved(context):
    model = sip_model.normalize(
        [{"extension": "1001", "secret": SECRET, "context": "homeoffice", "permit": ["192.0.2.0/24"]}],
        [{"name": "sipnet", "host": "198.51.100.7", "context": context}], settings={"major": 22})
    with pytest.raises(dialplan.DialplanError) as exc:
        dialplan.normalize(model, [{"name": "homeoffice"}])
    assert any(e.startswith("asterisk_sip_trunks (sipnet).context: %r is reserved" % context)
               for e in exc.value.errors), exc.value.errors


def test_one_did_routed_twice_is_refused():
    with pytest.raises(dialplan.DialplanError) as exc:
        build(inbound=INBOUND + [{"trunk": "sipnet", "did": "74951234567", "hangup": True}])
    assert any(e.startswith("asterisk_dialplan_inbound[1].did: '74951234567' is already routed by "
                            "asterisk_dialplan_inbound[0]") for e in exc.value.errors), exc.value.errors


def test_a_comma_in_a_name_cannot_add_voicemail_fields():
    model = sip_model.normalize(
        [{"extension": "1002", "name": "Smith, x@evil.example", "secret": SECRET, "context": "homeoffice",
          "permit": ["192.0.2.0/24"], "voicemail": True, "voicemail_pin": "480315",
          "voicemail_email": "a@b.example"}], settings={"major": 22})
    text = conf_text(dialplan.voicemail_conf(dialplan.normalize(model, [{"name": "homeoffice"}])))
    assert "1002 => 480315,Smith  x@evil.example,a@b.example" in text


def test_inbound_calls_ring_as_long_as_configured():
    model = sip_model.normalize(
        [{"extension": "1002", "secret": SECRET, "context": "homeoffice", "permit": ["192.0.2.0/24"]}],
        [{"name": "sipnet", "host": "198.51.100.7", "context": "sipnet-trunk"}], settings={"major": 22})
    plan = dialplan.normalize(model, [{"name": "homeoffice"}], inbound=[{"trunk": "sipnet", "subscriber": "1002"}],
                              settings={"ring_seconds": 45})
    assert "Dial(PJSIP/1002,45)" in "\n".join(section(dialplan.render(plan), "sipnet-trunk")["lines"])


# --- toll fraud: the numbering plan's two guards, per-phone limits, call length, hours ----------

def plan_build(country="RU", routes=None, contexts=None, **settings):
    return dialplan.normalize(sip(), contexts or CONTEXTS, routes or ROUTES, INBOUND,
                              settings=dict(settings, country=country))


@pytest.mark.parametrize("country, route, kind, dialled, sent", [
    ("DE", {"pattern": "_0[1-9]X.", "strip": 0, "prepend": ""}, "a premium-rate number of DE", "01377222222",
     "01377222222"),
    ("GB", {"pattern": "_0[1-9]XXXXXXXXX", "strip": 0, "prepend": ""}, "an international number: GG shares country "
     "code +44", "01481222222", "01481222222"),
    ("FR", {"pattern": "_0[1-9]XXXXXXXX", "strip": 0, "prepend": ""}, "a premium-rate number of FR", "0812222222",
     "0812222222"),
    ("US", {"pattern": "_1NXXNXXXXXX", "strip": 0, "prepend": ""}, "an international number: AG shares country code "
     "+1", "12682222222", "12682222222"),
    ("US", {"pattern": "_NXXNXXXXXX", "strip": 0, "prepend": "+1", "chars": ["+"]},
     "an international number: AG shares country code +1", "2682222222", "+12682222222"),
    ("RU", {"pattern": "_9[34]XXXXXXXXX", "strip": 1, "prepend": "8"}, None, None, None),
])
def test_a_route_that_can_reach_a_costly_number_is_refused_with_an_example(country, route, kind, dialled, sent):
    routes = [dict(ROUTES[0], **route)]
    if kind is None:
        plan_build(country, routes)
        return
    with pytest.raises(dialplan.DialplanError) as exc:
        plan_build(country, routes)
    assert exc.value.errors[0].startswith(
        "asterisk_dialplan_routes[0] (ru).pattern: %r can reach %s: dialled as %s it goes to the trunk as %s (%s plan, "
        "asterisk_dialplan_country). Narrow the pattern, or set international: true" % (
            route["pattern"], kind, dialled, sent, country)), exc.value.errors
    # The way out where no pattern can leave the ranges out: the call-time guard alone.
    plan_build(country, [dict(routes[0], call_time_guard_only=True)])


def test_the_call_time_guard_checks_the_sent_number_before_dial():
    built = plan_build("DE", [dict(ROUTES[0], pattern="_0X.", strip=0, prepend="", call_time_guard_only=True)])
    sections = dialplan.render(built)
    home = "\n".join(section(sections, "homeoffice")["lines"])
    steps = home[home.index("exten => _0X.,1,"):].split("\n")
    guard = steps.index(" same => n,GotoIf($[${DIALPLAN_EXISTS(vpbx-costly,${VPBX_NUMBER},1)}]?vpbx-costly,"
                        "${VPBX_NUMBER},1)")
    assert steps[guard - 1] == " same => n,Set(VPBX_GUARD=context homeoffice may not dial abroad)"
    # After the number is final (filter, strip, prepend) and before the Dial.
    assert guard > steps.index(" same => n,Set(VPBX_NUMBER=${VPBX_NUMBER:0})")
    assert steps[guard + 1].startswith(" same => n,Dial(PJSIP/${VPBX_NUMBER}@sipnet,60,S(7200))")
    costly = section(sections, "vpbx-costly")
    assert "exten => _0900[135]XXXXXX,1,Goto(vpbx-refused,premium-rate,1)" in costly["lines"]
    assert "exten => _+49900[135]XXXXXX,1,Goto(vpbx-refused,premium-rate,1)" in costly["lines"]
    assert "exten => _00.,1,Goto(vpbx-refused,international-prefix,1)" in costly["lines"]
    assert "libphonenumber metadata" in costly["comment"] and "DE" in costly["comment"]
    refused = "\n".join(section(sections, "vpbx-refused")["lines"])
    assert ("exten => premium-rate,1,Log(NOTICE,vpbx toll-fraud guard: ${VPBX_CALLER} on ${CHANNEL} dialled "
            "${VPBX_NUMBER} - a premium-rate number of DE - ${VPBX_GUARD} - refused)\n same => n,Hangup(21)") in refused
    # Each range leads to the refusal that names it.
    for entry in built["plan"]["ranges"]:
        line = "exten => %s,1,Log(NOTICE,vpbx toll-fraud guard: ${VPBX_CALLER} on ${CHANNEL} dialled ${VPBX_NUMBER} - %s -" \
            % (entry["name"], numbering.describe(entry, "DE"))
        assert "exten => %s,1,Goto(vpbx-refused,%s,1)" % (entry["pattern"], entry["name"]) in costly["lines"]
        assert line in refused, entry
    # Every range the preflight judges is in the context the call-time guard reads, and nothing else.
    assert sorted(line.split(",")[0][len("exten => "):] for line in costly["lines"]) == sorted(
        r["pattern"] for r in built["plan"]["ranges"])


def test_an_international_context_has_no_guard_unless_it_has_hours():
    routes = ROUTES + [{"name": "intl", "pattern": "_810X.", "trunk": "sipnet", "strip": 3, "prepend": "00",
                        "international": True}]
    contexts = [{"name": "homeoffice", "routes": ["ru"]},
                {"name": "guest", "routes": ["ru", "intl"], "international": True}]
    sections = dialplan.render(plan_build("RU", routes, contexts))
    guest = "\n".join(section(sections, "guest")["lines"])
    assert "DIALPLAN_EXISTS" not in guest and "GotoIfTime" not in guest
    contexts[1]["international_hours"] = ["08:00-19:00,mon-fri", "10:00-14:00,sat,1-15,jan-jun"]
    guest = "\n".join(section(dialplan.render(plan_build("RU", routes, contexts)), "guest")["lines"])
    intl = guest[guest.index("exten => _810X.,1,"):]
    assert (" same => n,GotoIfTime(08:00-19:00,mon-fri,*,*?allowed)\n"
            " same => n,GotoIfTime(10:00-14:00,sat,1-15,jan-jun?allowed)\n"
            " same => n,Set(VPBX_GUARD=outside the international hours of context guest)\n"
            " same => n,GotoIf($[${DIALPLAN_EXISTS(vpbx-costly,${VPBX_NUMBER},1)}]?vpbx-costly,${VPBX_NUMBER},1)\n"
            " same => n(allowed),Dial(PJSIP/${VPBX_NUMBER}@sipnet,60,S(7200))") in intl


@pytest.mark.parametrize("hours, message", [
    ("25:00-26:00,mon-fri", "'25:00-26:00' is not valid times"),
    ("08:00-19:00,monday", "'monday' is not valid weekdays"),
    ("08:00-19:00,mon-fri,32", "'32' is not valid days of the month"),
    ("08:00-19:00,mon-fri,*,june", "'june' is not valid months"),
    ("08:00-19:00,mon-fri,*,*,Europe/Berlin", "write times,weekdays"),
    (42, "must be a window"),
])
def test_international_hours_are_asterisk_time_syntax(hours, message):
    contexts = [{"name": "homeoffice", "routes": ["ru"], "international": True, "international_hours": hours},
                {"name": "guest"}]
    with pytest.raises(dialplan.DialplanError) as exc:
        plan_build("RU", None, contexts)
    assert any(e.startswith("asterisk_dialplan_contexts[0] (homeoffice).international_hours") and message in e
               for e in exc.value.errors), exc.value.errors


def test_hours_need_a_context_that_may_dial_abroad():
    with pytest.raises(dialplan.DialplanError) as exc:
        plan_build("RU", None, [{"name": "homeoffice", "routes": ["ru"], "international_hours": "08:00-19:00,*"},
                                {"name": "guest"}])
    assert exc.value.errors == ["asterisk_dialplan_contexts[0] (homeoffice).international_hours: only a context with "
                                "international: true has international calls to restrict: set international: true "
                                "or leave the hours out"]


@pytest.mark.parametrize("settings, message", [
    ({"country": "ZZ"}, "asterisk_dialplan_country: 'ZZ' is not a country"),
    ({"country": "US", "domestic_regions": ["GB"]}, "asterisk_dialplan_domestic_regions[0]: 'GB' does not share US's"),
    ({"international_prefixes": ["0 0"]}, "asterisk_dialplan_international_prefixes[0]: '0 0'"),
    ({"max_call_seconds": 5}, "asterisk_dialplan_max_call_seconds: 5 must be a whole number from 10 to 86400"),
])
def test_bad_plan_settings_name_the_variable(settings, message):
    with pytest.raises(dialplan.DialplanError) as exc:
        dialplan.normalize(sip(), CONTEXTS, ROUTES, INBOUND, settings=settings)
    assert any(e.startswith(message) for e in exc.value.errors), exc.value.errors


def test_a_route_s_calls_end_after_its_maximum_length():
    routes = [dict(ROUTES[0], max_call_seconds=900), dict(ROUTES[0], name="ru2", pattern="_89XXXXXXXXX")]
    contexts = [{"name": "homeoffice", "routes": ["ru", "ru2"]}, {"name": "guest"}]
    home = "\n".join(section(dialplan.render(plan_build("RU", routes, contexts, max_call_seconds=3600)),
                             "homeoffice")["lines"])
    assert "Dial(PJSIP/${VPBX_NUMBER}@sipnet,60,S(900))" in home and "Dial(PJSIP/${VPBX_NUMBER}@sipnet,60,S(3600))" in home


def test_a_phone_s_calls_out_and_in_count_against_its_max_calls():
    sections = dialplan.render(build())
    home = "\n".join(section(sections, "homeoffice")["lines"])
    # Out: every call the phone makes starts with its count, from the driver's variables.
    for ext in ("1001", "1002", "*97"):
        assert "exten => %s,1,%s" % (ext, CALLER_LIMIT) in home, ext
    route = home[home.index("exten => _8[34]XXXXXXXXX,1,"):]
    assert route.index(CALLER_LIMIT) < route.index("Dial(")
    assert "> 0${VPBX_MAX_CALLS}]?vpbx-limit,phone,1)" in CALLER_LIMIT
    # In: a call to 1002 (max_calls 2) is busy - its voicemail - once 2 of its calls are up.
    assert ("same => n,Set(GROUP(vpbx-phone-in)=1002)\n same => n,GotoIf($[${GROUP_COUNT(1002@vpbx-phone-in)} + "
            "${GROUP_COUNT(1002@vpbx-phone-out)} > 2]?busy)") in home
    assert "same => n(busy),Log(NOTICE,vpbx call limit: 1002 has 2 call(s) up" in home
    assert "VoiceMail(1002@default,b)" in home
    limit = "\n".join(section(sections, "vpbx-limit")["lines"])
    assert "exten => phone,1,Log(NOTICE,vpbx call limit: ${VPBX_CALLER}" in limit and "Congestion(5)" in limit
    inbound = "\n".join(section(sections, "sipnet-trunk")["lines"])
    assert "Set(GROUP(vpbx-phone-in)=1002)" in inbound and "GROUP(vpbx-phone-out)=${VPBX_CALLER}" not in inbound
    # The driver gives the dialplan the phone's limit, which the phone cannot change.
    for driver, key in (("pjsip", "set_var"), ("chan_sip", "setvar")):
        rendered = sip_model.render(sip(driver), {})
        options = [o for s in rendered["sections"] for o in s["options"] if o[0] == key]
        assert [key, "VPBX_MAX_CALLS=2"] in options, options


def test_no_route_no_guard_contexts():
    sections = dialplan.render(dialplan.normalize(sip(), [{"name": "homeoffice"}, {"name": "guest"}], [], INBOUND))
    assert not {"vpbx-costly", "vpbx-refused"} & {s["name"] for s in sections}
