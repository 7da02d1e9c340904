"""Malformed frames for netstack, written raw to a TAP device from Linux's side with an
AF_PACKET socket. Run inside the test's namespace:
    python3 rawframes.py IFACE STACK_MAC STACK_IP HOST_IP
Prints one line per frame: its name."""

import socket
import struct
import sys


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4(a):
    return socket.inet_aton(a)


def ipv4(src, dst, proto, payload, ident=1, frag=0, ttl=64, options=b"", total=None, ihl=None,
         version=4, bad_csum=False):
    hl = 20 + len(options)
    ihl = hl // 4 if ihl is None else ihl
    total = hl + len(payload) if total is None else total
    h = struct.pack("!BBHHHBBH4s4s", version << 4 | ihl, 0, total, ident, frag, ttl, proto, 0,
                    ip4(src), ip4(dst)) + options
    c = csum(h)
    if bad_csum:
        c ^= 0x5555
    return h[:10] + struct.pack("!H", c) + h[12:] + payload


def udp(src, dst, sport, dport, data, length=None, bad_csum=False):
    length = 8 + len(data) if length is None else length
    u = struct.pack("!HHHH", sport, dport, length, 0) + data
    c = csum(ip4(src) + ip4(dst) + struct.pack("!BBH", 0, 17, len(u)) + u) or 0xFFFF
    if bad_csum:
        c ^= 0x00FF
    return u[:6] + struct.pack("!H", c) + u[8:]


def echo(ident, seq, data, bad_csum=False):
    m = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + data
    c = csum(m) ^ (1 if bad_csum else 0)
    return m[:2] + struct.pack("!H", c) + m[4:]


def frames(smac, hmac, sip, hip):
    def eth(payload, typ=0x0800, dst=smac):
        return dst + hmac + struct.pack("!H", typ) + payload

    ping = echo(7, 1, b"x" * 32)
    good = ipv4(hip, sip, 1, ping)
    big = echo(7, 2, bytes(range(256)) * 8)  # 2056 bytes: needs two fragments
    yield "ethernet-header-only", eth(b"")  # runts below 14 bytes: AF_PACKET refuses them
    yield "truncated-ip-header", eth(good[:14])
    yield "total-length-beyond-frame", eth(ipv4(hip, sip, 1, ping, total=1400))
    yield "total-length-below-header", eth(ipv4(hip, sip, 1, ping, total=12))
    yield "ihl-below-5", eth(ipv4(hip, sip, 1, ping, ihl=3))
    yield "ihl-beyond-packet", eth(ipv4(hip, sip, 1, b"", ihl=15))
    yield "bogus-options", eth(ipv4(hip, sip, 1, ping, options=b"\x44\x30\x00\x00"))
    yield "version-6-in-ipv4", eth(ipv4(hip, sip, 1, ping, version=6))
    yield "bad-ip-checksum", eth(ipv4(hip, sip, 1, ping, bad_csum=True))
    yield "bad-icmp-checksum", eth(ipv4(hip, sip, 1, echo(7, 3, b"y" * 8, bad_csum=True)))
    yield "truncated-icmp", eth(ipv4(hip, sip, 1, b"\x08\x00"))
    yield "bad-udp-checksum", eth(ipv4(hip, sip, 17, udp(hip, sip, 4000, 7, b"abc", bad_csum=True)))
    yield "udp-length-beyond", eth(ipv4(hip, sip, 17, udp(hip, sip, 4000, 7, b"abc", length=200)))
    yield "udp-truncated", eth(ipv4(hip, sip, 17, b"\x0f\xa0\x00"))
    yield "fragment-beyond-64k", eth(ipv4(hip, sip, 1, b"z" * 64, ident=90, frag=8180))
    # Overlapping fragments: [0, 1480) then [8, 24) with other bytes, then the rest.
    first, rest = big[:1480], big[1480:]
    yield "overlap-first", eth(ipv4(hip, sip, 1, first, ident=91, frag=0x2000))
    yield "overlap-evil", eth(ipv4(hip, sip, 1, b"\xee" * 16, ident=91, frag=0x2000 | 1))
    yield "overlap-last", eth(ipv4(hip, sip, 1, rest, ident=91, frag=1480 // 8))
    yield "arp-truncated", eth(b"\x00\x01\x08\x00\x06\x04\x00\x01", typ=0x0806, dst=b"\xff" * 6)
    yield "unknown-ethertype", eth(b"\x00" * 46, typ=0x88B5)
    yield "other-destination-mac", eth(good, dst=b"\x02\x99\x99\x99\x99\x99")


def main():
    iface, smac, sip, hip = sys.argv[1:5]
    smac = bytes.fromhex(smac.replace(":", ""))
    with open(f"/sys/class/net/{iface}/address") as f:
        hmac = bytes.fromhex(f.read().strip().replace(":", ""))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    for name, frame in frames(smac, hmac, sip, hip):
        s.send(frame)
        print(name, flush=True)


if __name__ == "__main__":
    main()
