"""Tier 3: the toolstack's shutdown requests as SIGTERM (os/signal on xen).

`xl shutdown` / `xl reboot` write control/shutdown in xenstore; a guest that called
signal.Notify for SIGTERM gets the signal, finishes its work and exits, and the domain then
ends with the requested reason (poweroff or reboot; the bed preserves domains so the
reason can be read). Without Notify the domain shuts down at once (also
test_bed_domu.test_xl_shutdown_powers_off_a_sleeping_guest); after signal.Ignore the
request is ignored; a second request while SIGTERM is being handled is ignored.

Programs: tests/xen/progs/sigterm and apps/httpd (graceful shutdown: a download in
progress completes, then the server stops; the domain powers off only once netstack has
delivered the last bytes, see go-xen/overlay/src/net/drain_xen.go)."""

import hashlib
import subprocess
import sys

import pytest

XL = "memory = 32\nvcpus = 1\n"


def _finish(testbed, ip, port=7000):
    """Send "finish" over UDP until the guest answers "finishing" (ARP, or a lost datagram,
    may need a retry)."""
    script = (
        "import socket, sys\n"
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "s.settimeout(1)\n"
        "for i in range(30):\n"
        "    s.sendto(b'finish', (sys.argv[1], int(sys.argv[2])))\n"
        "    try:\n"
        "        if s.recv(64) == b'finishing':\n"
        "            print('finished'); break\n"
        "    except socket.timeout:\n"
        "        pass\n")
    out = testbed.netns.run([sys.executable, "-c", script, ip, str(port)], capture_output=True,
                            text=True, timeout=60)
    assert out.stdout.strip() == "finished", out.stdout + out.stderr


def _after(dom, pattern, index, timeout=60):
    """The first console line matching pattern after line index; returns its index."""
    line = dom.wait_for(pattern, timeout=timeout, start=index)
    return dom.lines.index(line)


def test_xl_shutdown_delivers_sigterm_and_the_guest_exits_cleanly(testbed, domu, go_build):
    dom = domu("sigterm", go_build("sigterm"), XL)
    dom.wait_for(r"^waiting for SIGTERM, mode $", timeout=60)
    dom.shutdown().check()
    i = _after(dom, r"^xen: poweroff requested by the toolstack: SIGTERM delivered to the program$", 0)
    i = _after(dom, r"^got signal: terminated$", i)
    i = _after(dom, r"^cleanup done$", i)
    info = dom.wait_shutdown(timeout=60)
    assert info.reason == "poweroff", f"{info}\n{dom.console}"
    assert dom.exit_status == 0, dom.console
    steps = [l.text for l in dom.lines if l.text.startswith("cleanup step")]
    assert steps == ["cleanup step 1", "cleanup step 2", "cleanup step 3"], dom.console


def test_xl_reboot_as_sigterm_ends_with_reason_reboot_and_a_second_request_is_ignored(
        testbed, domu, go_build):
    ip = "10.0.0.41"
    dom = domu("sigterm-reboot", go_build("sigterm"), XL,
               extra=f"ip={ip}/24 gw=10.0.0.1 env.SIGTERM_FINISH=:7000")
    dom.wait_for(r"^waiting for SIGTERM, mode $", timeout=60)
    testbed.sh(f"xl reboot {dom.name}").check()
    i = _after(dom, r"^xen: reboot requested by the toolstack: SIGTERM delivered to the program$", 0)
    i = _after(dom, r"^got signal: terminated$", i)
    i = _after(dom, r"^waiting for finish on ", i)
    # The program is handling SIGTERM (waiting for "finish"): a second request changes nothing.
    dom.shutdown().check()
    i = _after(dom, r"^xen: poweroff requested by the toolstack again: ignored, the program is "
                    r"handling SIGTERM$", i)
    assert not dom.info().shutdown, dom.console
    _finish(testbed, ip)
    _after(dom, r"^cleanup done$", i)
    info = dom.wait_shutdown(timeout=60)
    assert info.reason == "reboot", f"{info}\n{dom.console}"
    assert dom.exit_status == 0, dom.console
    # The clean exit disconnected netfront from netback (XenbusStateClosed on both sides).
    front = f"/local/domain/{info.domid}/device/vif/0/state"
    back = f"/local/domain/0/backend/vif/{info.domid}/0/state"
    states = testbed.sh(f"xenstore-read {front} {back}", check=True).output.split()
    assert states == ["6", "6"], f"frontend/backend states {states}\n{dom.console}"


def test_ignored_sigterm_ignores_the_request(testbed, domu, go_build):
    ip = "10.0.0.42"
    dom = domu("sigterm-ignore", go_build("sigterm"), XL,
               extra=f"ip={ip}/24 gw=10.0.0.1 env.SIGTERM_MODE=ignore env.SIGTERM_FINISH=:7000")
    dom.wait_for(r"^waiting for finish on ", timeout=60)
    dom.shutdown().check()
    i = _after(dom, r"^xen: poweroff requested by the toolstack: ignored, the program ignores "
                    r"SIGTERM$", 0)
    assert not dom.info().shutdown, dom.console
    _finish(testbed, ip)        # the program is still running and answers
    _after(dom, r"^still running after the request$", i)
    info = dom.wait_shutdown(timeout=60)
    assert info.reason == "poweroff", f"{info}\n{dom.console}"
    assert dom.exit_status == 0, dom.console
    assert not any(l.text.startswith("got signal") for l in dom.lines), dom.console


def test_reset_sigterm_shuts_down_at_once(testbed, domu, go_build):
    dom = domu("sigterm-reset", go_build("sigterm"), XL, extra="env.SIGTERM_MODE=reset")
    dom.wait_for(r"^waiting for SIGTERM, mode reset$", timeout=60)
    dom.shutdown().check()
    info = dom.wait_shutdown(timeout=60)
    assert info.reason == "poweroff", f"{info}\n{dom.console}"
    assert any(l.text == "xen: shutdown requested by the toolstack: poweroff" for l in dom.lines), \
        dom.console
    assert not any(l.text.startswith("got signal") for l in dom.lines), dom.console


def test_suspend_is_not_a_sigterm(testbed, domu, go_build):
    """A suspend request (here a checkpoint, xl save -c: the same domain goes on) suspends
    the domain (test_save_restore.py has the rest); the program's SIGTERM handler does not
    run, and the guest still answers a shutdown afterwards."""
    dom = domu("sigterm-suspend", go_build("sigterm"), XL)
    dom.wait_for(r"^waiting for SIGTERM, mode $", timeout=60)
    testbed.sh(f"xl save -c {dom.name} /tmp/sigterm.chk; rc=$?; rm -f /tmp/sigterm.chk; exit $rc",
               timeout=120).check()
    dom.wait_for(r"^xen: suspend cancelled, running on$", timeout=60)
    assert not dom.info().shutdown, dom.console
    assert not any(l.text.startswith("got signal") for l in dom.lines), dom.console
    dom.shutdown().check()      # still answers a shutdown afterwards
    dom.wait_for(r"^cleanup done$", timeout=60)
    assert dom.wait_shutdown(timeout=60).reason == "poweroff", dom.console


# --- apps/httpd: a download in progress completes during xl shutdown ---

# Runs in the namespace: a GET of PATH over a socket with a small receive buffer that stops
# reading after the first KiB ("started"), until a line arrives on stdin; then reads to the
# end and prints "status S bytes N sha256 H".
SLOW_CLIENT = r"""
import hashlib, socket, sys
ip, path = sys.argv[1], sys.argv[2]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.settimeout(60)
s.connect((ip, 80))
s.sendall(f"GET {path} HTTP/1.1\r\nHost: {ip}\r\nConnection: close\r\n\r\n".encode())
data = b""
while len(data) < 1024:
    chunk = s.recv(1024)
    if not chunk:
        break
    data += chunk
print("started", flush=True)
sys.stdin.readline()
s.settimeout(30)
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
head, _, body = data.partition(b"\r\n\r\n")
status = head.split(b" ")[1].decode()
print(f"status {status} bytes {len(body)} sha256 {hashlib.sha256(body).hexdigest()}", flush=True)
"""


def test_httpd_finishes_a_download_in_progress_on_xl_shutdown(testbed, domu, httpd_config, httpd_kernel):
    config, kernel = httpd_config, httpd_kernel
    ip = config.network[0].ip.split("/")[0]
    dom = domu("httpd-shutdown", kernel, f"memory = {config.memory_mib}\n", extra=config.cmdline,
               network=True)
    line = dom.wait_for(r"^httpd: (serving|listen)|^httpd: .*(not supported|unsupported)",
                        timeout=90).text
    if not line.startswith("httpd: serving"):
        pytest.skip(f"httpd cannot serve on xen yet: {line}")
    testbed.ping(ip, timeout=90)
    data = (config.romfs_dir / "www" / "lines.txt").read_bytes()
    client = subprocess.Popen([*testbed.netns.exec_prefix(), sys.executable, "-c", SLOW_CLIENT,
                               ip, "/lines.txt"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        assert client.stdout.readline().strip() == "started", client.stderr.read()
        dom.shutdown().check()
        i = _after(dom, r"^httpd: terminated: shutting down$", 0)
        client.stdin.write("go\n")
        client.stdin.flush()
        out, err = client.communicate(timeout=120)
    finally:
        if client.poll() is None:
            client.kill()
    assert out.strip() == (f"status 200 bytes {len(data)} "
                           f"sha256 {hashlib.sha256(data).hexdigest()}"), out + err
    _after(dom, r"^httpd: stopped$", i)
    info = dom.wait_shutdown(timeout=60)
    assert info.reason == "poweroff", f"{info}\n{dom.console}"
    assert dom.exit_status == 0, dom.console
