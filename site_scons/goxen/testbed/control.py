"""The control channel to the test bed's dom0: one shell command per request.

The host listens on a unix socket that QEMU connects a virtio-serial port (`goxen.ctl`) to; in
the dom0, goxen/dom0/agent reads `TAG SECONDS COMMAND` lines, runs each command in its own
process group (killed after SECONDS), and answers with `TAG|output` lines and
`TAG END rc=N t0=UPTIME t1=UPTIME`. Errors of the whole bed live here too (BedError).
"""

import re
import socket
import threading
import time
from dataclasses import dataclass


class BedError(RuntimeError):
    """The bed could not boot, or a dom0 command failed."""


class CommandTimeout(BedError):
    """A dom0 command ran out of time; the dom0 agent killed it (its process group), and the
    message carries what the hung processes were doing."""


#: Seconds the host waits for the agent's answer beyond a command's own timeout (the agent
#: needs a moment to kill a hung command and describe it).
AGENT_GRACE = 30.0


@dataclass(frozen=True)
class CommandResult:
    command: str
    rc: int
    output: str
    t0: float       # dom0 uptime when the command started
    t1: float       # dom0 uptime when it ended

    def check(self):
        if self.rc != 0:
            raise BedError(f"dom0 command failed (rc={self.rc}): {self.command}\n{self.output}")
        return self


class Control:
    """The host side of the virtio-serial control channel."""

    def __init__(self, path):
        self.path = path
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        self.server.listen(1)
        self.conn = None
        self.buf = b""
        self.lock = threading.Lock()
        self.seq = 0
        self.stuck = None           # why the agent is considered gone, once it is

    def accept(self, timeout, alive=lambda: True):
        """Wait for QEMU's connection; alive() false (QEMU ended) stops the wait early."""
        end = time.monotonic() + timeout
        self.server.settimeout(0.5)
        while self.conn is None:
            try:
                self.conn, _ = self.server.accept()
            except socket.timeout:
                if not alive():
                    raise BedError("QEMU ended before it connected to the control socket")
                if time.monotonic() >= end:
                    raise BedError(f"QEMU did not connect to the control socket within "
                                   f"{timeout} s")
        self.conn.settimeout(None)

    def readline(self, deadline):
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            self.conn.settimeout(left)
            try:
                data = self.conn.recv(65536)
            except socket.timeout:
                raise TimeoutError
            if not data:
                raise BedError("the control channel closed (QEMU or the dom0 agent ended)")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode("utf-8", "replace").rstrip("\r")

    def wait_line(self, text, timeout):
        deadline = time.monotonic() + timeout
        while True:
            if self.readline(deadline) == text:
                return

    def call(self, command, timeout):
        """Run command in the dom0; the agent kills it after timeout seconds (CommandTimeout).
        An agent that does not answer at all within AGENT_GRACE more seconds sets self.stuck
        and raises BedError: the bed then needs a restart."""
        if "\n" in command:
            raise ValueError("dom0 commands are single lines")
        secs = max(1, int(-(-timeout // 1)))
        with self.lock:
            if self.stuck:
                raise BedError(f"the dom0 agent stopped answering earlier ({self.stuck}); "
                               f"not running: {command}")
            self.seq += 1
            tag = f"c{self.seq}"
            self.conn.sendall(f"{tag} {secs} {command}\n".encode())
            deadline = time.monotonic() + secs + AGENT_GRACE
            out = []
            end_re = re.compile(rf"^{tag} END rc=(\d+) t0=([\d.]+) t1=([\d.]+)$")
            while True:
                try:
                    line = self.readline(deadline)
                except TimeoutError:
                    self.stuck = f"no answer to {command!r} within {secs + AGENT_GRACE:.0f} s"
                    raise BedError(f"the dom0 agent did not answer within "
                                   f"{secs + AGENT_GRACE:.0f} s: {command}\n"
                                   + "".join(o + "\n" for o in out)) from None
                if line.startswith(tag + "|"):
                    out.append(line[len(tag) + 1:])
                    continue
                m = end_re.match(line)
                if m:
                    text = "".join(o + "\n" for o in out)
                    if "goxen-agent: TIMEOUT" in text:
                        raise CommandTimeout(f"dom0 command timed out after {secs} s and was "
                                             f"killed: {command}\n{text}")
                    return CommandResult(command, int(m.group(1)), text,
                                         float(m.group(2)), float(m.group(3)))
                # Anything else is left over from an earlier, timed-out command.

    def close(self):
        for s in (self.conn, self.server):
            if s is not None:
                try:
                    s.close()
                except OSError:
                    pass
