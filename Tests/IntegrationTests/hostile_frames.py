#!/usr/bin/env python3
"""Sends a stream of malformed frames at a kernel through a tap device.

Usage: hostile_frames.py TAP KERNEL_IP KERNEL_MAC COUNT SEED

Every frame is addressed to the kernel (its MAC, its IP) so that it gets
past the first checks and into the parsers: scapy's fuzz() of each layer,
truncations at every length, wrong lengths and checksums, bad IP options,
overlapping and endless fragments, TCP with every flag combination and
garbage options, ARP with odd sizes. Prints how many frames were sent.
"""
import random
import time
import sys

import socket

from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, Raw, conf, fuzz

tap, kernel_ip, kernel_mac, count, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
random.seed(seed)
conf.verb = 0
host_mac = "02:00:00:00:00:99"
host_ip = kernel_ip.rsplit(".", 1)[0] + ".1"


def ether(payload_type=0x0800):
    return Ether(src=host_mac, dst=kernel_mac, type=payload_type)


def frames():
    while True:
        kind = random.randrange(10)
        if kind == 0:
            yield ether() / fuzz(IP(dst=kernel_ip, src=host_ip))
        elif kind == 1:
            yield ether() / IP(dst=kernel_ip, src=host_ip) / fuzz(TCP(dport=random.choice([7, 80, 5001])))
        elif kind == 2:
            yield ether() / IP(dst=kernel_ip, src=host_ip) / fuzz(UDP())
        elif kind == 3:
            yield ether() / IP(dst=kernel_ip, src=host_ip) / fuzz(ICMP())
        elif kind == 4:
            yield ether(0x0806) / fuzz(ARP(pdst=kernel_ip))
        elif kind == 5:
            # Truncated somewhere in a valid TCP segment.
            good = bytes(ether() / IP(dst=kernel_ip, src=host_ip) / TCP(dport=7, flags="S") / Raw(b"x" * 20))
            yield good[: random.randrange(1, len(good))]
        elif kind == 6:
            # Wrong IP total length, header length and checksum.
            yield ether() / IP(dst=kernel_ip, src=host_ip, len=random.randrange(0, 65536),
                               ihl=random.randrange(0, 16), chksum=random.randrange(65536)) / Raw(b"y" * 30)
        elif kind == 7:
            # Fragments that overlap, run past 65535, or never end.
            identification = random.randrange(65536)
            yield ether() / IP(dst=kernel_ip, src=host_ip, id=identification, flags="MF",
                               frag=random.randrange(8192), proto=random.choice([1, 6, 17])) / Raw(b"z" * random.choice([8, 16, 1400]))
        elif kind == 8:
            # Every TCP flag combination with garbage options.
            options = bytes(random.randrange(256) for _ in range(random.choice([0, 4, 12, 40])))
            segment = TCP(dport=7, flags=random.randrange(256), seq=random.randrange(2**32),
                          ack=random.randrange(2**32), window=random.randrange(65536))
            raw = bytearray(bytes(segment) + options)
            raw[12] = ((5 + len(options) // 4) & 0xF) << 4 | (raw[12] & 0x0F)
            yield ether() / IP(dst=kernel_ip, src=host_ip, proto=6) / Raw(bytes(raw))
        else:
            # Random bytes after a valid Ethernet header.
            yield ether(random.choice([0x0800, 0x0806, 0x86DD, 0x8100])) / Raw(
                bytes(random.randrange(256) for _ in range(random.randrange(0, 1500))))


# Frames go out as bytes through a packet socket: some are too broken for
# scapy to parse back, and that is the point.
link = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
link.bind((tap, 0))
sent = 0
for frame in frames():
    data = frame if isinstance(frame, (bytes, bytearray)) else bytes(frame)
    if not data:
        continue
    try:
        link.send(data)
    except OSError:
        # The tap's queue is full: give the kernel a moment.
        time.sleep(0.01)
        continue
    sent += 1
    if sent >= count:
        break
print(f"sent {sent} frames")
