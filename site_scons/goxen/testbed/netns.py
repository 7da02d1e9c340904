"""The host side of the test bed's network: a network namespace holding one TAP device.

QEMU runs inside the namespace (`ip netns exec NS qemu ...`), so its `-netdev tap` attaches to
the TAP there; host-side tools run there too (`Netns.exec_prefix()`). Nothing is configured
outside the namespace, and deleting it removes the TAP with it.

Names are `gxbed<PID>-<N>`: a namespace whose creating process is gone is stale and
`remove_stale()` deletes it (e.g. after the runner was SIGKILLed).
"""

import ipaddress
import os
import re
import subprocess

PREFIX = "gxbed"
TAP = "gxtap0"
_NAME_RE = re.compile(rf"^{PREFIX}(\d+)-(\d+)$")
_counter = 0


class NetnsError(RuntimeError):
    pass


def _ip(*args, ns=None, check=True):
    cmd = ["ip", *(["-n", ns] if ns else []), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise NetnsError(f"{' '.join(cmd)} failed: {proc.stderr.strip()}")
    return proc


def list_namespaces():
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale():
    """Delete test-bed namespaces whose creating process no longer exists; return their names."""
    gone = []
    for name in list_namespaces():
        m = _NAME_RE.match(name)
        if m and not _alive(int(m.group(1))):
            _ip("netns", "del", name, check=False)
            gone.append(name)
    return gone


def new_name():
    global _counter
    _counter += 1
    return f"{PREFIX}{os.getpid()}-{_counter}"


class Netns:
    """A namespace NAME with TAP (host_addr on it, e.g. 10.0.0.1/24) and lo up."""

    def __init__(self, host_addr, name=None, tap=TAP):
        self.name = name or new_name()
        self.tap = tap
        self.host_iface = ipaddress.ip_interface(host_addr)
        self.created = False

    def create(self):
        remove_stale()
        _ip("netns", "add", self.name)
        self.created = True
        try:
            _ip("link", "set", "lo", "up", ns=self.name)
            _ip("tuntap", "add", "dev", self.tap, "mode", "tap", ns=self.name)
            _ip("addr", "add", str(self.host_iface), "dev", self.tap, ns=self.name)
            _ip("link", "set", self.tap, "up", ns=self.name)
        except Exception:
            self.delete()
            raise
        return self

    def delete(self):
        if self.created:
            _ip("netns", "del", self.name, check=False)
            self.created = False

    def exists(self):
        return self.name in list_namespaces()

    def exec_prefix(self):
        """argv prefix that runs a command inside the namespace."""
        return ["ip", "netns", "exec", self.name]

    def run(self, argv, **kw):
        """subprocess.run(argv) inside the namespace."""
        return subprocess.run([*self.exec_prefix(), *argv], **kw)

    def ping(self, addr, count=1, wait=1, busybox=None):
        """True when addr answers count ICMP echo requests (each waiting wait seconds).

        Uses busybox's ping (the static one from the bed's Debian packages by default), so the
        host needs no ping of its own.
        """
        if busybox is None:
            from goxen import debian
            busybox = debian.fetch(["busybox-static"]) / "bin" / "busybox"
        proc = self.run([str(busybox), "ping", "-q", "-c", str(count), "-W", str(wait),
                         str(addr)], capture_output=True, text=True)
        return proc.returncode == 0

    def __enter__(self):
        return self.create()

    def __exit__(self, *exc):
        self.delete()
        return False
