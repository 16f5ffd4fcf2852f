#!/usr/bin/env python3
"""Writes the fuzz targets' seed inputs, Fuzz/<Name>/seeds/*: a few valid
inputs of each kind, for libFuzzer to start from (docs/fuzzing.md). The
seeds are committed; run this again only to change them."""
import os
import struct

ROOT = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    folder = os.path.join(ROOT, target, "seeds")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ip(a):
    return bytes(int(x) for x in a.split("."))


US_MAC = bytes([2, 0, 0, 0, 0, 2])
PEER_MAC = bytes([2, 0, 0, 0, 0, 1])
BROADCAST = b"\xff" * 6
US, PEER = "10.0.0.2", "10.0.0.1"


def ethernet(dst, src, ethertype, payload):
    return dst + src + struct.pack("!H", ethertype) + payload


def arp(op, sha, spa, tha, tpa):
    return struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + sha + ip(spa) + tha + ip(tpa)


def ipv4(src, dst, proto, payload, ident=1, flags_offset=0, options=b"", total=None):
    ihl = 5 + len(options) // 4
    length = total if total is not None else 20 + len(options) + len(payload)
    header = struct.pack(
        "!BBHHHBBH4s4s", 0x40 | ihl, 0, length, ident, flags_offset, 64, proto, 0, ip(src), ip(dst)
    ) + options
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return header + payload


def icmp(type_, code, rest, data):
    message = struct.pack("!BBHI", type_, code, 0, rest) + data
    return message[:2] + struct.pack("!H", checksum(message)) + message[4:]


def pseudo(src, dst, proto, length):
    return ip(src) + ip(dst) + struct.pack("!BBH", 0, proto, length)


def udp(src, dst, sport, dport, data):
    datagram = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    value = checksum(pseudo(src, dst, 17, len(datagram)) + datagram) or 0xFFFF
    return datagram[:6] + struct.pack("!H", value) + datagram[8:]


def tcp(src, dst, sport, dport, seq, ack, flags, window, options, data):
    offset = (20 + len(options)) // 4
    segment = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, offset << 4, flags, window, 0, 0)
    segment += options + data
    value = checksum(pseudo(src, dst, 6, len(segment)) + segment)
    return segment[:16] + struct.pack("!H", value) + segment[18:]


SYN_OPTIONS = bytes([2, 4, 0x05, 0xB4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7])
SACK_OPTIONS = bytes([1, 1, 8, 10, 0, 0, 0, 2, 0, 0, 0, 1, 1, 1, 5, 18]) + struct.pack(
    "!IIII", 1000, 2000, 3000, 4000
)


def dns_name(name):
    out = b""
    for label in name.split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def dhcp(op, message_type, options, yiaddr="0.0.0.0"):
    fixed = struct.pack("!BBBBIHH", op, 1, 6, 0, 0x12345678, 0, 0x8000)
    fixed += ip("0.0.0.0") + ip(yiaddr) + ip("0.0.0.0") + ip("0.0.0.0")
    fixed += PEER_MAC + b"\0" * 10 + b"\0" * 64 + b"\0" * 128 + struct.pack("!I", 0x63825363)
    body = bytes([53, 1, message_type]) + options + b"\xff"
    return (fixed + body).ljust(300, b"\0")


# --- fuzz-net: the first byte chooses the parser -------------------------
request = arp(1, PEER_MAC, PEER, b"\0" * 6, US)
write("Net", "00-ethernet", b"\x00" + ethernet(BROADCAST, PEER_MAC, 0x0806, request))
write("Net", "01-arp-request", b"\x01" + request)
write("Net", "01-arp-reply", b"\x01" + arp(2, US_MAC, US, PEER_MAC, PEER))
udp_packet = udp(PEER, US, 5353, 53, b"hello")
write("Net", "02-ipv4-udp", b"\x02" + ipv4(PEER, US, 17, udp_packet))
write("Net", "02-ipv4-options", b"\x02" + ipv4(PEER, US, 17, udp_packet, options=b"\x01\x01\x01\x00"))
write("Net", "02-ipv4-fragment", b"\x02" + ipv4(PEER, US, 1, b"\0" * 16, ident=7, flags_offset=0x2000 | 2))
write("Net", "03-icmp-echo", b"\x03" + icmp(8, 0, 0x00010002, b"0123456789abcdef"))
quoted = ipv4(US, PEER, 17, udp(US, PEER, 40000, 53, b"query"))[:28]
write("Net", "03-icmp-unreachable", b"\x03" + icmp(3, 3, 0, quoted))
write("Net", "03-icmp-fragmentation-needed", b"\x03" + icmp(3, 4, 1400, quoted))
write("Net", "03-icmp-time-exceeded", b"\x03" + icmp(11, 0, 0, quoted))
write("Net", "03-icmp-timestamp", b"\x03" + icmp(13, 0, 0x00010001, b"\0" * 12))
write("Net", "04-udp", b"\x04" + udp(PEER, US, 5353, 53, b"hello"))
write("Net", "05-tcp-syn", b"\x05" + tcp(PEER, US, 49152, 80, 100, 0, 0x02, 64240, SYN_OPTIONS, b""))
write("Net", "05-tcp-sack", b"\x05" + tcp(PEER, US, 49152, 80, 101, 5001, 0x18, 502, SACK_OPTIONS, b"GET /"))
write("Net", "06-tcp-options", b"\x06" + SYN_OPTIONS)
write("Net", "06-tcp-options-sack", b"\x06" + SACK_OPTIONS)
offer = (
    bytes([54, 4]) + ip("10.0.0.1") + bytes([51, 4]) + struct.pack("!I", 3600)
    + bytes([1, 4]) + ip("255.255.255.0") + bytes([3, 4]) + ip("10.0.0.1")
    + bytes([6, 8]) + ip("10.0.0.1") + ip("9.9.9.9")
    + bytes([58, 4]) + struct.pack("!I", 1800) + bytes([59, 4]) + struct.pack("!I", 3150)
)
write("Net", "07-dhcp-offer", b"\x07" + dhcp(2, 2, offer, yiaddr="10.0.0.2"))
discover = bytes([61, 7, 1]) + PEER_MAC + bytes([55, 3, 1, 3, 6, 50, 4]) + ip("10.0.0.2")
write("Net", "07-dhcp-discover", b"\x07" + dhcp(1, 1, discover))
write("Net", "08-dns-header", b"\x08" + struct.pack("!HHHHHH", 0x1234, 0x8180, 1, 2, 0, 0))
question = dns_name("www.example.com") + struct.pack("!HH", 1, 1)
cname = dns_name("example")[:-1] + b"\xc0\x10"  # "example" + pointer to "com" in the question
response = struct.pack("!HHHHHH", 0x1234, 0x8180, 1, 2, 0, 0) + question
alias_at = len(response) + 12
response += b"\xc0\x0c" + struct.pack("!HHIH", 5, 1, 300, len(cname)) + cname
response += struct.pack("!H", 0xC000 | alias_at) + struct.pack("!HHIH", 1, 1, 60, 4) + ip("93.184.216.34")
write("Net", "09-dns-response", b"\x09" + response)
write("Net", "09-dns-nxdomain", b"\x09" + struct.pack("!HHHHHH", 0x1234, 0x8183, 0, 0, 0, 0))
write("Net", "10-ipv4-address", b"\x0a" + b"192.168.1.20")
write("Net", "10-ipv4-cidr", b"\x0a" + b"10.0.0.0/8")
write("Net", "10-dns-name", b"\x0a" + b"www.example.com")
# virtio-net headers (little-endian): a plain one, and a 64 KiB TCP segment
# from the host with a checksum to complete (NEEDS_CSUM at 34 + 16).
segment = ethernet(US_MAC, PEER_MAC, 0x0800, ipv4("10.0.0.1", "10.0.0.2", 6, tcp("10.0.0.1", "10.0.0.2", 80, 7, 1, 1, 0x10, 65535, b"", bytes(2896))))
write("Net", "11-virtio-plain", b"\x0b" + bytes(12) + segment)
write("Net", "11-virtio-gso", b"\x0b" + struct.pack("<BBHHHHH", 1, 1, 54, 1448, 34, 16, 0) + segment)


# --- fuzz-ethernet: frames as [half-seconds][length][frame] ----------------
def frames(*items, delay=0):
    return b"".join(bytes([delay]) + struct.pack("!H", len(f)) + f for f in items)


def to_us(payload):
    return ethernet(US_MAC, PEER_MAC, 0x0800, payload)


arp_frame = ethernet(BROADCAST, PEER_MAC, 0x0806, request)
echo = icmp(8, 0, 0x00010001, bytes(range(56)))
echo_frame = to_us(ipv4(PEER, US, 1, echo))
write("Ethernet", "arp-request", frames(arp_frame))
write("Ethernet", "echo-request", frames(echo_frame))
write("Ethernet", "arp-then-echo", frames(arp_frame, echo_frame, ethernet(US_MAC, PEER_MAC, 0x0806, arp(2, PEER_MAC, PEER, US_MAC, US))))
# An echo request in two fragments, then one of 3000 bytes in three, whose
# reply does not fit in one frame.
write("Ethernet", "echo-fragments", frames(
    to_us(ipv4(PEER, US, 1, echo[:32], ident=9, flags_offset=0x2000)),
    to_us(ipv4(PEER, US, 1, echo[32:], ident=9, flags_offset=4)),
))
big = icmp(8, 0, 0x00010002, bytes(i % 251 for i in range(2992)))
write("Ethernet", "echo-large", frames(
    to_us(ipv4(PEER, US, 1, big[:1480], ident=10, flags_offset=0x2000)),
    to_us(ipv4(PEER, US, 1, big[1480:2960], ident=10, flags_offset=0x2000 | 185)),
    to_us(ipv4(PEER, US, 1, big[2960:], ident=10, flags_offset=370)),
))


# --- fuzz-tender: 0 kernel file, 1 manifest note, 2 command line -----------
def le32(v):
    return struct.pack("<I", v)


def note(owner, type_, desc):
    name = owner.encode() + b"\0"
    out = le32(len(name)) + le32(len(desc)) + le32(type_) + name
    out += b"\0" * (-len(out) % 4) + desc
    return out + b"\0" * (-len(out) % 4)


def manifest(*devices):
    entries = [(b"", 1 << 30)] + [(n.encode(), t) for n, t in devices]
    out = le32(1) + le32(len(entries))
    for name, type_ in entries:
        raw = bytearray(104)
        raw[: len(name)] = name
        raw[68:72] = le32(type_)
        out += bytes(raw)
    return out


def elf(programs, entry=0x100010):
    header_size, table = 64, 64
    offset = table + 56 * len(programs)
    headers, data = b"", b""
    for type_, flags, vaddr, content, memsize, align in programs:
        pad = -offset % 8
        data += b"\0" * pad
        offset += pad
        headers += struct.pack("<IIQQQQQQ", type_, flags, offset, vaddr, vaddr, len(content), memsize, align)
        data += content
        offset += len(content)
    ident = b"\x7fELF" + bytes([2, 1, 1]) + b"\0" * 9
    head = ident + struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, entry, table, 0, 0, header_size, 56, len(programs), 64, 0, 0)
    return head + headers + data


mft = manifest(("service", 2), ("storage", 1))
notes = note("Solo5", 0x31494241, le32(1) + le32(2) + le32(0) + le32(0))
notes += note("Solo5", 0x3154464D, b"\0\0\0\0" + mft)
kernel = elf([
    (1, 5, 0x100000, b"\x90" * 0x40, 0x40, 4096),
    (1, 6, 0x101000, bytes(range(1, 9)), 0x2000, 4096),
    (4, 4, 0, notes, 0, 4),
])
write("Tender", "0-kernel", b"\x00" + kernel)
write("Tender", "1-manifest", b"\x01" + b"\0\0\0\0" + mft)
write("Tender", "2-options", b"\x02" + b"\0".join([
    b"--mem=16", b"--net:service=tap0", b"--net-mac:service=02:00:00:00:00:01",
    b"--block:storage=disk.img", b"--block-sector-size:storage=4096", b"--", b"hello.hvt", b"--count=2",
]))

# --- fuzz-unikernel-manifest: unikernel.toml ---------------------------------
write("UnikernelManifest", "echo.toml", b'''# A network service.
name = "echo"
entry = "Echo"

[[device]]
name = "service"
kind = "net"

[[device]]
name = "storage"
kind = "block"

[hvt]
memory = 32
''')
write("UnikernelManifest", "values.toml", b'''name = "hello" # a comment
entry = "Hello"
list = [1, 2_000, "a\\tb\\"c\\\\", true, false]
[hvt]
memory = 2
''')

# --- fuzz-runtime-arguments: words separated by NUL --------------------------
write("RuntimeArguments", "values", b"\0".join([
    b"--count=7", b"--name=a=b", b"--verbose", b"-l", b"*:info,tcp:debug", b"--logs=net:debug",
]))
write("RuntimeArguments", "mistakes", b"\0".join([b"--verbose=false", b"--count=x", b"stray", b"--help"]))
