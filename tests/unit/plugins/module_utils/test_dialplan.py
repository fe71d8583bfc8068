# SPDX-License-Identifier: GPL-3.0-or-later
"""The dialplan model's safety rules and its rendering (the role that uses it comes with issue 6)."""

from __future__ import annotations

import pytest

from ansible_collections.vpbx.hardened.plugins.module_utils import dialplan
from ansible_collections.vpbx.hardened.plugins.module_utils import sip_model

SECRET = "Unit-test-Secret-alpha-q9"


def sip(driver="pjsip"):
    return sip_model.normalize(
        [{"extension": "1001", "secret": SECRET, "context": "homeoffice", "permit": ["192.0.2.0/24"]},
         {"extension": "1002", "secret": SECRET, "context": "homeoffice", "permit": ["192.0.2.0/24"],
          "voicemail": True},
         {"extension": "1003", "secret": SECRET, "context": "guest", "permit": ["192.0.2.0/24"]}],
        [{"name": "sipnet", "host": "198.51.100.7", "context": "sipnet-trunk"}],
        settings={"driver": driver, "major": 16})


CONTEXTS = [{"name": "homeoffice", "routes": ["ru"]}, {"name": "guest"}]
ROUTES = [{"name": "ru", "pattern": "_8[3-7]XXXXXXXXX", "trunk": "sipnet", "strip": 1, "prepend": "7"}]
INBOUND = [{"trunk": "sipnet", "did": "74951234567", "subscriber": "1002"}]


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
    assert "exten => 1002,1,Dial(PJSIP/1002,30)\n same => n,VoiceMail(1002@default,u)" in home
    assert "exten => _8[3-7]XXXXXXXXX,1,Set(VPBX_NUMBER=${FILTER(0-9,${EXTEN})})" in home
    assert "Set(VPBX_NUMBER=7${VPBX_NUMBER:1})" in home
    assert "Dial(PJSIP/${VPBX_NUMBER}@sipnet,60)" in home
    assert "GROUP_COUNT(homeoffice@vpbx-calls)} > 10" in home
    assert "exten => *97,1,VoiceMailMain" in home
    guest = "\n".join(section(sections, "guest")["lines"])
    assert "sipnet" not in guest and "exten => 1001," in guest  # internal calls only
    inbound = "\n".join(section(sections, "sipnet-trunk")["lines"])
    assert "exten => 74951234567,1,Dial(PJSIP/1002,30)" in inbound


def test_exten_never_reaches_dial():
    for driver in ("pjsip", "chan_sip"):
        for s in dialplan.render(build(driver=driver)):
            for line in s["lines"]:
                if "Dial(" in line:
                    assert "${EXTEN" not in line, line


def test_chan_sip_dial_strings():
    home = "\n".join(section(dialplan.render(build(driver="chan_sip")), "homeoffice")["lines"])
    assert "Dial(SIP/1001,30)" in home and "Dial(SIP/sipnet/${VPBX_NUMBER},60)" in home


@pytest.mark.parametrize("contexts, routes, inbound, message", [
    (None, [dict(ROUTES[0], trunk="nowhere")], None, "asterisk_dialplan_routes[0] (ru).trunk: 'nowhere' is not a trunk"),
    (None, [dict(ROUTES[0], pattern="_X.")], None, "asterisk_dialplan_routes[0] (ru).pattern: '_X.' matches any number"),
    (None, [dict(ROUTES[0], pattern="_8[3-7X")], None, "asterisk_dialplan_routes[0] (ru).pattern: '_8[3-7X': '[' without"),
    (None, [dict(ROUTES[0], pattern="_8XXXXXXXXXX")], None,
     "asterisk_dialplan_routes[0] (ru).pattern: '_8XXXXXXXXXX' can dial 810..."),
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
