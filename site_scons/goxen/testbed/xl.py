"""xl, the dom0's toolstack, as the test bed and the bench drive it: reading `xl list -v`,
editing xl configs, and the one retry policy for xl's failures (run_xl).

Debian's xl 4.17 now and then corrupts its own heap: it dies of a signal ("malloc(): corrupted
top size", rc 134; 137 and 139 seen too) or hangs (the dom0 agent kills it after its timeout:
CommandTimeout). run_xl repeats such a run unless the command's effect is there already, and
counts every retry (RETRIES), so that a regression shows as a number, not as luck.
"""

import collections
import ipaddress
import re
import sys
import time
from dataclasses import dataclass

from goxen.testbed.control import CommandResult, CommandTimeout

SHUTDOWN_REASONS = {0: "poweroff", 1: "reboot", 2: "suspend", 3: "crash", 4: "watchdog",
                    5: "soft_reset"}


@dataclass(frozen=True)
class DomainInfo:
    name: str
    domid: int
    state: str          # xl's flags, e.g. "-b----", "---s--"
    reason: str | None  # shutdown reason once the domain has shut down (state has s or c)

    @property
    def shutdown(self):
        return "s" in self.state or "c" in self.state


def quote(text):
    return "'" + str(text).replace("'", "'\\''") + "'"


def parse_xl_list(text):
    """{name: DomainInfo} from `xl list -v` output."""
    out = {}
    for line in text.splitlines()[1:]:
        parts = line.split()
        if len(parts) < 8 or not parts[1].isdigit():
            continue
        name, domid, state, code = parts[0], int(parts[1]), parts[4], parts[7]
        reason = None
        if ("s" in state or "c" in state) and code.lstrip("-").isdigit():
            reason = SHUTDOWN_REASONS.get(int(code), f"code {code}")
        if "c" in state and reason is None:
            reason = "crash"
        out[name] = DomainInfo(name, domid, state, reason)
    return out


_XL_LINE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*?)\s*$")


def rewrite_xl(text, overrides):
    """xl config text with keys replaced (or appended) by overrides {key: xl value text};
    a value of None removes the key."""
    lines = []
    done = set()
    for line in text.splitlines():
        m = _XL_LINE.match(line)
        if m and m.group(1) in overrides:
            key = m.group(1)
            if overrides[key] is not None and key not in done:
                lines.append(f"{key} = {overrides[key]}")
            done.add(key)
            continue
        lines.append(line)
    for key, value in overrides.items():
        if key not in done and value is not None:
            lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n"


def xl_value(text, key):
    """The value of key in xl config text, with one level of quotes removed; None if absent."""
    for line in text.splitlines():
        m = _XL_LINE.match(line)
        if m and m.group(1) == key:
            v = m.group(2)
            if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
                v = v[1:-1]
            return v
    return None


def cmdline_ip(cmdline):
    """The address of `ip=ADDR/PREFIX` in a guest command line, or None (also for ip=dhcp)."""
    for word in (cmdline or "").split():
        if word.startswith("ip="):
            try:
                return str(ipaddress.ip_interface(word[3:]).ip)
            except ValueError:
                return None
    return None


def create_command(name, local, prefix="", before_unpause=""):
    """The dom0 command that creates domain name from /host/domains/NAME/config.xl, paused
    and then unpaused (a guest that ends at once, such as hello, otherwise races xl's
    domain-watching child while it daemonizes, which then dies and makes `xl create` fail
    although the guest ran), and removes the staged files in local afterwards.
    before_unpause is a shell command run while the domain is paused, its devices' backends
    ready and the guest not yet started ($DOMID is its domain id)."""
    between = f"DOMID=$(xl domid {name}) && {before_unpause} && " if before_unpause else ""
    return (f"{prefix}xl create -p /host/domains/{name}/config.xl && {between}xl unpause {name}; "
            f"rc=$?; rm -rf {local}; exit $rc")


def run_xl(sh, command, *, timeout=30.0, attempts=3, settled=None, cleanup=None,
           kind="xl failed"):
    """Run an xl command in the dom0 (sh(command, timeout=...) -> CommandResult) with the
    bed's one retry policy, and return its CommandResult.

    A run that dies of a signal (rc >= 128) or hangs (CommandTimeout) is a failure of xl, not
    an answer: then, if settled() says the command's effect is there already (a shutdown
    that reached the guest), that counts as success; otherwise cleanup() undoes what the
    failed run may have left (a half-created domain) and the command runs again, at most
    attempts runs in all. The last failure is returned (rc >= 128) or raised
    (CommandTimeout). Every retry is counted in RETRIES under kind and said on stderr."""
    for attempt in range(1, attempts + 1):
        try:
            res = sh(command, timeout=timeout)
            if res.rc < 128:
                return res
            failure, why = None, f"died (rc {res.rc}): {res.output.strip()[:300]}"
        except CommandTimeout as e:
            res, failure, why = None, e, f"hung and was killed:\n{e}"
        if settled is not None and settled():
            retried(kind, f"{command} {why}; its effect is there all the same")
            return CommandResult(command, 0, res.output if res else "", 0.0, 0.0)
        if attempt == attempts:
            if failure is not None:
                raise failure
            return res
        retried(kind, f"{command} {why}; retrying (attempt {attempt} of {attempts})")
        if cleanup is not None:
            cleanup()
        time.sleep(1)
    raise AssertionError("unreachable")


#: Every defensive retry of this process's beds, by kind: a hung or dying xl repeated, a bed
#: booted again. They exist to survive QEMU's emulation faults; with XSAVE off (xenrun.QEMU_CPU)
#: none should happen. Reported at the end of a test session (tests/conftest.py) and of a bench
#: run (results.json meta.retries), so that a regression shows as a number, not as luck.
RETRIES = collections.Counter()


def retried(kind, text):
    """Count one retry of kind and say why on stderr."""
    RETRIES[kind] += 1
    _warn(f"{text} [retry: {kind}]")


def retry_report(counter=None):
    """One line: how many retries, and of which kinds."""
    counter = RETRIES if counter is None else counter
    total = sum(counter.values())
    kinds = ", ".join(f"{k}: {n}" for k, n in sorted(counter.items()) if n)
    return f"test-bed retries: {total}" + (f" ({kinds})" if kinds else "")


def _warn(text):
    print(f"testbed: {text}", file=sys.stderr, flush=True)
