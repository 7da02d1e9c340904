"""TCP through package net on GOOS=xen over the loopback interface, in dom0 (no vifs):
listen/accept/dial, "localhost" from the generated /etc/hosts, 1 MB each way byte-exact, half-close,
CloseRead, ECONNREFUSED on a closed port, ECONNRESET, EADDRINUSE, deadlines (net.Error
Timeout), DialContext cancellation and DialTimeout against a listener whose accept queue is
full, net.ErrClosed, socket options, UDP, TCP and UDP over ::1 with a dual-stack listener, net/http (keep-alive and a 200 kB body) and
crypto/tls (TLS 1.3 echo and https with a self-signed certificate made in the guest). The
cases are the tests of tests/xen/gopkgs/netloop, run with `go test -exec go_xen_exec`."""

import subprocess

from goxen.xenrun import Outcome

from xentest import explain

CASES = ("Interfaces", "Ephemeral", "Localhost", "Echo1M", "HalfClose", "CloseRead", "Refused",
         "Reset", "AddrInUse", "Deadlines", "DialContext", "Closed", "Options", "UDP", "Loopback6",
         "HTTP", "TLS")


def test_tcp_over_loopback(exec_env, repo):
    proc = subprocess.run(["go", "test", "-exec", "go_xen_exec", "-count=1", "-v",
                           "./tests/xen/gopkgs/netloop"], cwd=repo, env=exec_env,
                          capture_output=True, text=True, timeout=900)
    out = proc.stdout
    print(out, proc.stderr)
    assert proc.returncode == 0, out + proc.stderr
    for case in CASES:
        assert f"--- PASS: Test{case} " in out, out
    lines = out.splitlines()
    assert "interfaces: lo" in lines, out
    # The errors read as on Linux.
    for want in ("read: connection reset by peer", "connect: connection refused",
                 "bind: address already in use"):
        assert any(want in line for line in lines), (want, out)
    assert any(line.startswith("tls: TLS 1.3 ") for line in lines), out


def test_netstack_limits_from_the_command_line(boot):
    """netconns= caps the stack's TCP connections (a dial past it fails with ENOBUFS, room
    again after a close); with netbudget=256K, 3 MiB written to late readers all arrive;
    SetReadBuffer/SetWriteBuffer on TCP (progs/netlimits)."""
    r = boot("netlimits", ["netconns=10", "netbudget=256K"], timeout=180)
    assert r.outcome is Outcome.EXIT and r.status == 0, explain(r)
    lines = r.guest_lines
    for want in ("conns: 5 full: true", "reopen: ok", "budget: ok", "buffers: ok", "netstack: ok"):
        assert want in lines, explain(r)


def test_connections_refused_under_memory_pressure(boot):
    """With netconns= far above what the heap holds and 256 KiB kept live per accepted
    connection, dials go on until the stack refuses one for memory (tcp.Options.MemoryPressure):
    the guest does not run out of memory, every open connection answers, closing half makes
    room again, TCP.PressureRefused counts it (progs/netpressure)."""
    r = boot("netpressure", ["netconns=100000"], timeout=300)
    assert r.outcome is Outcome.EXIT and r.status == 0, explain(r)
    lines = r.guest_lines
    assert any(line.startswith("refused after ") and ": refused: " in line for line in lines), \
        explain(r)
    for want in ("open: ok", "room again: ok", "PressureRefused: ok"):
        assert want in lines, explain(r)
