#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""A tiny DNS server for the feedcache address tests, run only inside a
network namespace a test made (it refuses any with an interface but lo).

    python3 dns.py ANSWER_FILE [PORT_FILE]

Listens on 127.0.0.1:53 (UDP). A question for an A record of any name
gets the IPv4 address written in ANSWER_FILE at that moment (read for
every query, so a test changes the answer between fetches: that is DNS
rebinding), with TTL 0; AAAA and other types get an empty answer. Writes
"53" to PORT_FILE once listening. Python 3 stdlib only.
"""
import socket
import struct
import sys


def name_end(msg, off):
    """Offset just past the question name at off (no compression)."""
    while off < len(msg):
        n = msg[off]
        if n == 0:
            return off + 1
        off += 1 + n
    raise ValueError("name runs past the message")


def answer(msg, answer_file):
    if len(msg) < 12:
        return None
    qid, flags, qd = struct.unpack("!HHH", msg[:6])
    if qd != 1 or flags & 0x8000:
        return None
    end = name_end(msg, 12)
    qtype = struct.unpack("!H", msg[end:end + 2])[0]
    question = msg[12:end + 4]
    rd = flags & 0x0100
    records = b""
    count = 0
    if qtype == 1:
        with open(answer_file) as f:
            addr = f.read().strip()
        records = (b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 0, 4) +
                   socket.inet_aton(addr))
        count = 1
    head = struct.pack("!HHHHHH", qid, 0x8000 | 0x0400 | rd | 0x0080, 1,
                       count, 0, 0)
    return head + question + records


def main():
    with open("/proc/net/dev") as f:
        ifaces = [l.split(":")[0].strip() for l in f.readlines()[2:]]
    if ifaces != ["lo"]:
        sys.exit("dns.py: only in a network namespace whose one interface "
                 "is lo (a test's own)")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 53))
    if len(sys.argv) > 2:
        with open(sys.argv[2], "w") as f:
            f.write("53\n")
    for _ in range(100000):
        msg, peer = s.recvfrom(2048)
        try:
            reply = answer(msg, sys.argv[1])
        except (ValueError, OSError, struct.error):
            reply = None
        if reply is not None:
            s.sendto(reply, peer)


if __name__ == "__main__":
    main()
