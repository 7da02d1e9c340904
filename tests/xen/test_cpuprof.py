"""Tier 2: runtime/pprof CPU profiles inside a guest. The thread layer samples the running
thread every 1/hz of busy vCPU time and hands the interrupted context to sigprof, as SIGPROF
does on Unix (runtime/thread_xen.go, xenProfTick). The guest (progs/cpuprof) profiles a
goroutine burning CPU in main.burnCPU next to one sleeping in a loop and prints the profile;
here it is decoded (gzipped profile.proto) and most samples must have main.burnCPU on their
stack."""

import base64
import re

from goxen import pprof
from goxen.xenrun import Outcome

from xentest import explain


def test_cpu_profile_attributes_samples_to_the_burning_function(boot):
    r = boot("cpuprof", cmdline=["seconds=3"], timeout=180)
    assert r.outcome is Outcome.EXIT and r.status == 0, explain(r)
    out = r.guest_output
    m = re.search(r"^cpuprof: profile begin\n(.*?)^cpuprof: profile end$", out, re.M | re.S)
    assert m, explain(r)
    stacks = pprof.stacks(base64.b64decode("".join(m.group(1).split())))
    burn = sum(1 for s in stacks if "main.burnCPU" in s)
    print(f"{len(stacks)} samples, {burn} in main.burnCPU; "
          + re.search(r"^cpuprof: hashes.*$", out, re.M).group(0))
    # 3 s of one busy goroutine at 100 Hz is ~300 samples; QEMU's pace varies.
    assert len(stacks) >= 60
    assert burn >= len(stacks) * 0.6
    assert re.search(r"sleeps=(\d+)", out) and int(re.search(r"sleeps=(\d+)", out).group(1)) >= 30
