# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

from ansible_collections.vpbx.hardened.plugins.filter.ss_listeners import ss_listeners

SS = """\
udp   UNCONN 0      0            0.0.0.0:5060       0.0.0.0:*    users:(("asterisk",pid=3517,fd=20)) uid:104 ino:1 sk:1
tcp   LISTEN 0      10         127.0.0.1:5038       0.0.0.0:*    users:(("asterisk",pid=3517,fd=8))
tcp   LISTEN 0      128             [::]:22            [::]:*    users:(("sshd",pid=1,fd=4))
tcp   LISTEN 0      4096   127.0.0.53%lo:53         0.0.0.0:*
udp   UNCONN 0      0                 [::]:45966            [::]:* uid:104 ino:723569 sk:3 v6only:1 <->
"""


def test_ss_listeners():
    assert ss_listeners(SS.splitlines()) == [
        {"proto": "udp", "address": "0.0.0.0", "port": 5060, "process": "asterisk", "uid": 104},
        {"proto": "tcp", "address": "127.0.0.1", "port": 5038, "process": "asterisk", "uid": None},
        {"proto": "tcp", "address": "::", "port": 22, "process": "sshd", "uid": None},
        {"proto": "tcp", "address": "127.0.0.53%lo", "port": 53, "process": "", "uid": None},
        {"proto": "udp", "address": "::", "port": 45966, "process": "", "uid": 104},
    ]


def test_ss_listeners_ignores_short_lines():
    assert ss_listeners(["", "garbage"]) == []
