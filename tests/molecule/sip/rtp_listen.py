# SPDX-License-Identifier: GPL-3.0-or-later
"""What a phone hears: the A-law RTP one address (the PBX) sends to this host for SECONDS, per
destination port, with the share of two tones in it - 425 Hz (invite.xml's tone) and 1000 Hz -
as JSON on stdout. Reads a raw socket (CAP_NET_RAW, which Docker gives a container); bounded by
SECONDS. Usage: rtp_listen.py SOURCE_IP SECONDS"""

import json
import math
import socket
import struct
import sys
import time
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # Debian 12's Python 3.11 still has it
    import audioop

TONES = (425, 1000)


def share(samples, freq, rate=8000):
    """The part of the signal's energy at `freq` (Goertzel): about 0.5 for a pure tone, 0 without it."""
    coeff = 2 * math.cos(2 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - coeff * s1 * s2
    energy = sum(x * x for x in samples)
    return round(power / (len(samples) * energy), 4) if energy else 0.0


def main(source, seconds):
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(0x0800))
    sock.settimeout(0.5)
    streams = {}
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            frame = sock.recv(65535)
        except socket.timeout:
            continue
        ip = frame[14:]
        if len(ip) < 28 or ip[9] != 17 or socket.inet_ntoa(ip[12:16]) != source:
            continue
        udp = ip[(ip[0] & 15) * 4:]
        port, rtp = struct.unpack("!H", udp[2:4])[0], udp[8:]
        # RTP version 2, payload type 8 (PCMA); SIP and RTCP are left out.
        if len(rtp) < 12 or rtp[0] >> 6 != 2 or rtp[1] & 0x7F != 8:
            continue
        streams.setdefault(port, bytearray()).extend(rtp[12 + 4 * (rtp[0] & 15):])
    out = {}
    for port, data in streams.items():
        pcm = audioop.alaw2lin(bytes(data), 2)
        samples = struct.unpack("<%dh" % (len(pcm) // 2), pcm)
        out[str(port)] = dict({"seconds": round(len(data) / 8000.0, 2), "rms": audioop.rms(pcm, 2)},
                              **{str(f): share(samples, f) for f in TONES})
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1], min(float(sys.argv[2]), 30.0))
