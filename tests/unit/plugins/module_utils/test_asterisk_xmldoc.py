# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.vpbx.hardened.plugins.module_utils import asterisk_xmldoc as xd

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def fixture(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as handle:
        return handle.read()


# A documentation file in the form Asterisk's build writes it: module descriptions, elements with
# and without a module attribute, configInfo, info, agi, managerEvent, XIncludes between them.
DOC = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE docs SYSTEM "appdocsxml.dtd">
<?xml-stylesheet type="text/xsl" href="appdocsxml.xslt"?>
<docs xmlns:xi="http://www.w3.org/2001/XInclude">
<module language="en_US" name="app_dial">
\t<support_level>core</support_level>
</module>
\t<application name="Dial" language="en_US">
\t\t<synopsis>Attempt to connect to another device.</synopsis>
\t\t<syntax><xi:include xpointer="xpointer(/docs/application[@name='Queue']/syntax/parameter[@name='URL'])" /></syntax>
\t</application>
<module language="en_US" name="app_queue">
\t<support_level>core</support_level>
</module>
\t<application name="Queue" language="en_US">
\t\t<synopsis>Queue a call.</synopsis>
\t\t<syntax><parameter name="URL"/></syntax>
\t</application>
\t<application name="Festival" language="en_US">
\t\t<synopsis>Say text &amp; "quotes" &gt; to the user.</synopsis>
\t</application>
\t<function name="CALLERID" language="en_US">
\t\t<synopsis>Caller ID.</synopsis>
\t</function>
\t<function name="PJSIP_MOH_PASSTHROUGH" language="en_US">
\t\t<synopsis>Hold.</synopsis>
\t</function>
\t<function name="SHELL" language="en_US" module="func_shell">
\t\t<synopsis>Runs a command.</synopsis>
\t</function>
\t<manager name="Ping" language="en_US">
\t\t<synopsis>Keepalive.</synopsis>
\t\t<responses><xi:include xpointer="xpointer(/docs/managerEvent[@name='Pong'])" /></responses>
\t</manager>
\t<manager name="QueueStatus" language="en_US">
\t\t<synopsis>Queue status.</synopsis>
\t</manager>
\t<managerEvent name="Pong" language="en_US">
\t\t<synopsis>Answer.</synopsis>
\t</managerEvent>
\t<managerEvent name="QueueMemberAdded" language="en_US">
\t\t<synopsis>Added.</synopsis>
\t</managerEvent>
\t<managerEvent name="Hangup" language="en_US" module="chan_pjsip">
\t\t<synopsis>Gone.</synopsis>
\t</managerEvent>
\t<configInfo name="res_pjsip" language="en_US">
\t\t<synopsis>SIP Resource using PJProject</synopsis>
\t</configInfo>
\t<configInfo name="app_queue" language="en_US">
\t\t<synopsis>Queue configuration</synopsis>
\t</configInfo>
\t<info name="CHANNEL" language="en_US" tech="PJSIP">
\t\t<para>PJSIP notes</para>
\t</info>
\t<agi name="answer" language="en_US">
\t\t<synopsis>Answer channel</synopsis>
\t</agi>
\t<futureKind name="Something" language="en_US"/>
\t<manager name="Odd" language="en_US" note="a &gt; in an attribute" module="res_odd"/>
</docs>
"""

PBX = xd.registered(applications=["Dial", "Answer"], functions=["CALLERID", "PJSIP_MOH_PASSTHROUG"],
                    actions=["ping"], modules=["app_dial.so", "chan_pjsip.so"])


def names(data, tag):
    return sorted(e.get("name") for e in ET.fromstring(data).findall(tag))


def test_keeps_what_is_registered_and_what_it_includes():
    out, stats = xd.trim(DOC, PBX)
    assert stats["complete"]
    # Dial registered; Queue kept because Dial includes one of its parameters; Festival dropped.
    assert names(out, "application") == ["Dial", "Queue"]
    # CALLERID by name; the name cut at 20 characters by `core show functions` matches as a prefix;
    # SHELL's module is not loaded.
    assert names(out, "function") == ["CALLERID", "PJSIP_MOH_PASSTHROUGH"]
    # Ping registered (case-insensitive) and the event it includes; QueueStatus not registered.
    assert names(out, "manager") == ["Ping"]
    # Pong through the include, Hangup through its loaded module; QueueMemberAdded dropped.
    assert names(out, "managerEvent") == ["Hangup", "Pong"]
    # Every configInfo (a configuration-framework module refuses to load without it), every info,
    # unknown kinds; agi only with res_agi; module descriptions of loaded modules only.
    assert names(out, "configInfo") == ["app_queue", "res_pjsip"]
    assert names(out, "info") == ["CHANNEL"]
    assert names(out, "futureKind") == ["Something"]
    assert names(out, "agi") == []
    assert names(out, "module") == ["app_dial"]
    assert stats["kept"] == {"module": 1, "application": 2, "function": 2, "manager": 1, "managerEvent": 2,
                             "configInfo": 2, "info": 1, "futureKind": 1}
    assert stats["dropped"] == {"module": 1, "application": 1, "function": 1, "manager": 2, "managerEvent": 1,
                                "agi": 1}


def test_agi_and_module_attribute_follow_the_loaded_modules():
    used = xd.registered(applications=["Dial"], actions=["Ping"], modules=["res_agi", "res_odd.so", "func_shell"])
    out, _stats = xd.trim(DOC, used)
    assert names(out, "agi") == ["answer"]
    assert names(out, "function") == ["SHELL"]
    assert names(out, "manager") == ["Odd", "Ping"]  # the empty element with '>' in an attribute


def test_kept_bytes_are_the_source_bytes():
    out, stats = xd.trim(DOC, PBX)
    # Declaration, DOCTYPE, stylesheet and root kept byte for byte, the stamp after the declaration.
    lines = out.split(b"\n")
    assert lines[0] == b'<?xml version="1.0" encoding="UTF-8"?>'
    assert lines[1] == xd.stamp(stats["source_sha256"]).strip().encode()
    assert lines[2:5] == DOC.split(b"\n")[1:4]
    # Every kept element is a verbatim slice of the source (entities, tabs, quoting untouched).
    for element in xd.scan(out):
        assert out[element["start"]:element["end"]] in DOC
    # Dropped elements leave no blank line behind.
    assert b"\n\n" not in out
    assert b"Festival" not in out and b'&amp; "quotes" &gt;' not in out
    assert out.endswith(b"</docs>\n")


def test_stamp_names_the_source():
    out, stats = xd.trim(DOC, PBX)
    assert stats["source_sha256"] == xd.sha256(DOC)
    assert xd.read_stamp(out) == xd.sha256(DOC)
    assert xd.read_stamp(DOC) is None
    with pytest.raises(xd.DocumentationError, match="already a trimmed copy"):
        xd.trim(out, PBX)


def test_same_input_same_output():
    assert xd.trim(DOC, PBX)[0] == xd.trim(DOC, PBX)[0]


def test_no_declaration_gets_the_stamp_first():
    doc = DOC.split(b"\n", 1)[1]
    out, stats = xd.trim(doc, PBX)
    assert out.startswith(xd.stamp(stats["source_sha256"]).encode() + b"<!DOCTYPE")


def test_top_level_include_is_followed():
    doc = DOC.replace(b"</docs>", b"\t<xi:include xpointer=\"xpointer(/docs/application[@name='Festival'])\" />\n</docs>")
    out, stats = xd.trim(doc, PBX)
    assert stats["complete"] and "Festival" in names(out, "application")


def test_unfollowable_include_keeps_everything():
    doc = DOC.replace(b"xpointer(/docs/managerEvent[@name='Pong'])", b"xpointer(//managerEvent[1])")
    out, stats = xd.trim(doc, PBX)
    assert not stats["complete"]
    assert stats["dropped"] == {}
    assert out.split(b"\n", 2)[2] == doc.split(b"\n", 1)[1]


@pytest.mark.parametrize("data, message", [
    (b"<docs><application name='A'>", "not well-formed"),
    (b"<?xml version='1.0'?><html><body/></html>", "root element is <html>"),
])
def test_refuses_what_is_not_the_documentation(data, message):
    with pytest.raises(xd.DocumentationError, match=message):
        xd.trim(data, PBX)


def test_xpointer_forms():
    for pointer, target in [
        ("xpointer(/docs/configInfo[@name='res_pjsip']/configFile[@name='pjsip.conf']/configObject)",
         ("configInfo", "res_pjsip")),
        ('xpointer(/docs/manager[@name="Originate"]/syntax/parameter[@name="Channel"])', ("manager", "Originate")),
        ("xpointer(docs/managerEvent[@name='Newchannel']/managerEventInstance/syntax/parameter)",
         ("managerEvent", "Newchannel")),
    ]:
        match = xd.XPOINTER.match(pointer)
        assert (match.group(1), match.group(3)) == target


@pytest.mark.parametrize("version, applications, functions, actions", [
    ("16", 189, 202, 134),
    ("22", 182, 216, 128),
])
def test_parse_cli_of_stock_asterisk(version, applications, functions, actions):
    apps = xd.parse_applications(fixture("asterisk%s-applications.txt" % version))
    funcs = xd.parse_functions(fixture("asterisk%s-functions.txt" % version))
    acts = xd.parse_manager_commands(fixture("asterisk%s-managercommands.txt" % version))
    # The counts Asterisk prints itself.
    assert len(apps) == applications == int(re.search(r"(\d+) Applications Registered",
                                                      fixture("asterisk%s-applications.txt" % version)).group(1))
    assert len(funcs) == functions == int(re.search(r"(\d+) custom functions installed",
                                                    fixture("asterisk%s-functions.txt" % version)).group(1))
    assert len(acts) == actions
    assert "Dial" in apps and "Zapateller" in apps
    assert "Action" not in acts and "------" not in acts and "Ping" in acts
    # Names longer than the 20-character column come back whole from the syntax column.
    assert "CALENDAR_QUERY_RESULT" in funcs and "PJSIP_MOH_PASSTHROUGH" in funcs
    assert all(re.match(r"^[A-Za-z0-9_]+$", name) for name in apps + funcs + acts)


def test_parse_refuses_other_output():
    with pytest.raises(ValueError, match="not the expected CLI table"):
        xd.parse_functions("No such command 'core show functions'\n")
    with pytest.raises(ValueError, match="not the expected CLI table"):
        xd.parse_manager_commands("Unable to connect to remote asterisk\n")
