"""A domU on the test bed: its console (xenconsoled's log, followed by the bed) and what xl
does to it (info, shutdown, destroy)."""

import re
import time
from dataclasses import dataclass

from goxen.testbed.control import BedError
from goxen.testbed.xl import quote, run_xl


@dataclass(frozen=True)
class ConsoleLine:
    text: str
    elapsed: float      # host seconds since the domain was created
    wall: float         # host time.time() when the line was read


class Domain:
    """A domU created on the bed; console lines arrive through the bed's log follower."""

    def __init__(self, bed, name, log, ip=None):
        self.bed = bed
        self.name = name
        self.ip = ip
        self.log = log
        self.lines = []
        self.created = time.monotonic()
        self.create_result = None
        self.on_line = None
        self._pos = 0
        self._partial = b""
        self.destroyed = False

    # -- console --

    def _poll(self):
        """Read new console bytes; called with the bed's condition held."""
        try:
            with open(self.log, "rb") as f:
                f.seek(self._pos)
                data = f.read()
        except FileNotFoundError:
            return False
        if not data:
            return False
        self._pos += len(data)
        data = self._partial + data
        *complete, self._partial = data.split(b"\n")
        for raw in complete:
            text = raw.decode("utf-8", "replace").rstrip("\r")
            line = ConsoleLine(text, time.monotonic() - self.created, time.time())
            self.lines.append(line)
            if self.on_line is not None:
                try:
                    self.on_line(line)
                except Exception:
                    self.on_line = None
        return bool(complete)

    @property
    def console(self):
        with self.bed._cond:
            self._poll()
            return "".join(line.text + "\n" for line in self.lines) + \
                self._partial.decode("utf-8", "replace")

    def wait_for(self, pattern, timeout=30.0, start=0):
        """The first console line (from index start) matching pattern (re.search)."""
        rx = re.compile(pattern)
        end = time.monotonic() + timeout
        i = start
        with self.bed._cond:
            while True:
                self._poll()
                while i < len(self.lines):
                    i += 1
                    if rx.search(self.lines[i - 1].text):
                        return self.lines[i - 1]
                if time.monotonic() >= end:
                    raise BedError(f"domain {self.name}: no console line matching {pattern!r} "
                                   f"within {timeout} s\n--- console ---\n{self._tail()}"
                                   f"--- end ---")
                self.bed._check_alive()
                self.bed._cond.wait(0.05)

    @property
    def exit_status(self):
        """N of the last `exit status N` console line (the Go runtime's and the baseline's
        final line), or None."""
        with self.bed._cond:
            self._poll()
            for line in reversed(self.lines):
                m = re.fullmatch(r"exit status (\d+)", line.text)
                if m:
                    return int(m.group(1))
        return None

    def _tail(self, n=40):
        return "".join(line.text + "\n" for line in self.lines[-n:])

    # -- toolstack --

    def info(self):
        """DomainInfo from `xl list -v`, or None when the domain no longer exists."""
        return self.bed.list().get(self.name)

    def wait_shutdown(self, timeout=30.0):
        """Wait until the domain has shut down (it is preserved); return its DomainInfo."""
        end = time.monotonic() + timeout
        while True:
            info = self.info()
            if info is None:
                raise BedError(f"domain {self.name} disappeared\n{self._tail()}")
            if info.shutdown:
                return info
            if time.monotonic() >= end:
                raise BedError(f"domain {self.name} still running after {timeout} s "
                               f"(state {info.state})\n--- console ---\n{self.console}")
            time.sleep(0.3)

    def shutdown(self):
        """`xl shutdown` (asks the guest through xenstore control/shutdown; does not wait).

        xl sometimes fails in this command after the request reached the guest, and asked
        again, a domain that has shut down meanwhile never acknowledges the request, so xl
        then hangs: a failed run counts as success once the domain has shut down (or is
        gone), by the bed's retry policy (xl.run_xl)."""
        def settled():
            info = self.info()
            return info is None or info.shutdown
        return run_xl(self.bed.sh, f"xl shutdown {quote(self.name)}", timeout=30, attempts=3,
                      settled=settled, kind="xl shutdown failed")

    def destroy(self):
        """`xl destroy`; afterwards the domain is gone."""
        res = self.bed.sh(f"xl destroy {quote(self.name)}")
        with self.bed._cond:
            self._poll()            # the last lines xenconsoled wrote
            self.destroyed = True
        return res

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if not self.destroyed and self.bed.running:
            try:
                if self.info() is not None:
                    self.destroy()
            except BedError:
                pass
        return False
