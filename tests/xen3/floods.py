"""Hostile traffic against a guest on the bed, from the test namespace, while a normal client
works (issue 14). Run inside the namespace as root:

    python floods.py IFACE GUEST_IP PORT

PORT is a memcached server's (kvstore's) TCP and UDP port. In order, each while a normal TCP
client keeps storing and reading back values on a connection it opened before:

    udp    100,000 datagrams to PORT, at most ~20,000 a second (faster, QEMU's TAP drops most
           before they reach the guest): a third memcached
           `get` requests (each asks for a reply), a third empty, a third random bytes
    syn    10,000 SYNs to PORT with random ports and sequence numbers, half from this
           namespace's address (its kernel resets the SYN-ACKs), half from 100 addresses
           in the subnet that do not exist (the guest's SYN-ACKs and ARP requests go nowhere)
    fuzz   3,000 frames from scapy's fuzz(): TCP, UDP, ICMP, IPv4 with options and fragment
           fields, and ARP, addressed to the guest's MAC and IPv4 address, random otherwise

Then a new TCP client and a UDP client (with retries: a flood may still be draining) must be
served. Prints "sent KIND N" per flood, "normal ok N bad M" for the normal client, "after tcp
..." and "after udp ..." with the replies; exits 0 once it has printed everything (the test
judges the lines)."""

import os
import random
import socket
import struct
import subprocess
import sys
import threading
import time

from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, Raw, conf, fuzz

WANT_TCP = b"STORED\r\nVALUE k 0 5\r\nhello\r\nEND\r\n"


def guest_mac(iface, ip):
    """The guest's MAC from the namespace's neighbour table (a datagram resolves it first)."""
    for _ in range(20):
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"", (ip, 9))
        time.sleep(0.5)
        out = subprocess.run(["ip", "neigh", "show", ip, "dev", iface], capture_output=True,
                             text=True).stdout.split()
        if "lladdr" in out:
            return out[out.index("lladdr") + 1]
    sys.exit(f"no neighbour entry for {ip} on {iface}")


class Normal(threading.Thread):
    """The normal client: set + get of a fresh value, again and again, on one connection."""

    def __init__(self, ip, port):
        super().__init__(daemon=True)
        self.sock = socket.create_connection((ip, port), timeout=60)
        self.f = self.sock.makefile("rb")
        self.ok, self.bad, self.stop = 0, [], threading.Event()

    def run(self):
        i = 0
        while not self.stop.is_set():
            v = b"v%07d" % i
            try:
                self.sock.sendall(b"set n 0 0 %d\r\n%s\r\nget n\r\n" % (len(v), v))
                want = b"STORED\r\nVALUE n 0 %d\r\n%s\r\nEND\r\n" % (len(v), v)
                got = self.f.read(len(want))
            except OSError as e:
                self.bad.append(repr(e))
                return
            if got == want:
                self.ok += 1
            else:
                self.bad.append(repr(got))
                return
            i += 1
            time.sleep(0.05)


def udp_flood(ip, port, n=100_000):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    rnd = random.Random(1)
    get = struct.pack(">HHHH", 7, 0, 1, 0) + b"get k\r\n"
    sent = 0
    for i in range(n):
        kind = i % 3
        d = get if kind == 0 else b"" if kind == 1 else rnd.randbytes(rnd.randrange(1, 1400))
        try:
            s.sendto(d, (ip, port))
            sent += 1
        except (BlockingIOError, OSError):
            pass  # the namespace's queue is full: that datagram is lost, as in any flood
        if i % 100 == 99:
            time.sleep(0.005)  # at most ~20,000 a second: what QEMU's TAP can carry, about
    return sent


def l2_send(iface, frames):
    s = conf.L2socket(iface=iface)
    sent = 0
    try:
        for f in frames:
            try:
                s.send(f)
                sent += 1
            except OSError:
                time.sleep(0.0005)
    finally:
        s.close()
    return sent


def syn_flood(iface, mac, own_ip, ip, port, n=10_000):
    rnd = random.Random(2)
    net = own_ip.rsplit(".", 1)[0]
    frames = []
    for i in range(n):
        src = own_ip if i % 2 == 0 else f"{net}.{150 + rnd.randrange(100)}"
        frames.append(bytes(Ether(dst=mac) / IP(src=src, dst=ip) /
                            TCP(sport=rnd.randrange(1024, 65536), dport=port, flags="S",
                                seq=rnd.getrandbits(32), options=[("MSS", 1460)])))
    return l2_send(iface, frames)


def fuzz_frames(iface, mac, ip, port, n=3_000):
    kinds = [
        lambda: Ether(dst=mac) / fuzz(IP(dst=ip) / TCP(dport=port)),
        lambda: Ether(dst=mac) / fuzz(IP(dst=ip) / UDP(dport=port) / Raw(b"get k\r\n")),
        lambda: Ether(dst=mac) / fuzz(IP(dst=ip) / ICMP()),
        lambda: Ether(dst=mac) / fuzz(IP(dst=ip, options=b"\x07\x07\x04\x00\x00\x00\x00\x00")),
        lambda: Ether(dst=mac) / fuzz(IP(dst=ip, flags="MF", proto=17)) / Raw(os.urandom(64)),
        lambda: Ether(dst=mac) / fuzz(ARP(pdst=ip)),
    ]
    frames = []
    for i in range(n):
        try:
            frames.append(bytes(kinds[i % len(kinds)]()))
        except Exception:   # a fuzzed value scapy itself cannot encode: draw again next time
            continue
    return l2_send(iface, frames)


def udp_after(ip, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    for attempt in range(10):
        rid = 100 + attempt
        s.sendto(struct.pack(">HHHH", rid, 0, 1, 0) + b"version\r\n", (ip, port))
        try:
            while True:
                d = s.recv(2048)
                if struct.unpack(">H", d[:2])[0] == rid:
                    return attempt, d[8:]
        except socket.timeout:
            continue
    return None, b"no answer"


def main():
    iface, ip, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    own_ip = subprocess.run(["ip", "-4", "-o", "addr", "show", "dev", iface], capture_output=True,
                            text=True).stdout.split()[3].split("/")[0]
    mac = guest_mac(iface, ip)
    print("guest", ip, mac, "from", own_ip, flush=True)
    normal = Normal(ip, port)
    normal.start()
    t = time.monotonic()
    print("sent udp", udp_flood(ip, port), "in %.1f s" % (time.monotonic() - t), flush=True)
    t = time.monotonic()
    print("sent syn", syn_flood(iface, mac, own_ip, ip, port), "in %.1f s" % (time.monotonic() - t),
          flush=True)
    t = time.monotonic()
    print("sent fuzz", fuzz_frames(iface, mac, ip, port), "in %.1f s" % (time.monotonic() - t),
          flush=True)
    time.sleep(2)
    normal.stop.set()
    normal.join(60)
    print("normal ok", normal.ok, "bad", len(normal.bad), normal.bad[:3], flush=True)
    c = socket.create_connection((ip, port), timeout=60)
    c.sendall(b"set k 0 0 5\r\nhello\r\nget k\r\n")
    print("after tcp", c.makefile("rb").read(len(WANT_TCP)), flush=True)
    attempt, reply = udp_after(ip, port)
    print("after udp", reply, "attempt", attempt, flush=True)
    c.sendall(b"stats netstack\r\n")
    f = c.makefile("rb")
    while (line := f.readline()) and line != b"END\r\n":
        print(line.decode().strip(), flush=True)


if __name__ == "__main__":
    main()
