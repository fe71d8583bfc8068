# SPDX-License-Identifier: GPL-3.0-or-later
"""Write a pcap of RFC 2833/4733 DTMF events that types KEYS (digits, * and #) for sipp's
play_pcap_audio: one event per key, 300 ms apart, each with its own RTP timestamp (sipp's own
dtmf_2833_<key>.pcap recordings all share one timestamp, so Asterisk takes the second key of a
PIN for a repeat of the first and drops it). Payload type 101, as invite.xml offers.
Usage: dtmf_pcap.py KEYS OUT.pcap"""

import struct
import sys

EVENTS = {str(d): d for d in range(10)}
EVENTS.update({"*": 10, "#": 11})


def packets(keys):
    """(seconds, RTP packet) of every key's event: 5 updates every 20 ms, then 3 ends."""
    seq, stamp, clock, out = 1000, 80000, 0.0, []
    for key in keys:
        for n in range(8):
            end = n >= 5
            duration = 160 * min(n + 1, 5)
            header = struct.pack("!BBHII", 0x80, (0x80 if n == 0 else 0) | 101, seq, stamp, 0x5650425)
            payload = struct.pack("!BBH", EVENTS[key], (0x80 if end else 0) | 10, duration)
            out.append((clock + 0.02 * min(n, 5), header + payload))
            seq += 1
        stamp += 2400
        clock += 0.3
    return out


def pcap(keys):
    data = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for seconds, rtp in packets(keys):
        udp = struct.pack("!HHHH", 6000, 6000, 8 + len(rtp), 0) + rtp
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, bytes(4), bytes(4)) + udp
        frame = bytes(12) + b"\x08\x00" + ip
        data.append(struct.pack("<IIII", int(seconds), int((seconds % 1) * 1e6), len(frame), len(frame)) + frame)
    return b"".join(data)


if __name__ == "__main__":
    if not all(key in EVENTS for key in sys.argv[1]):
        sys.exit("dtmf_pcap.py: keys are digits, * and #")
    with open(sys.argv[2], "wb") as handle:
        handle.write(pcap(sys.argv[1]))
