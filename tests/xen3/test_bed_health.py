"""The bed's own health check: QEMU must keep each process's FPU/SSE state across the context
switches of the Linux baseline domU (and of the dom0, whose xl it runs).

QEMU 7.2's TCG corrupts XSAVE state across process switches: with `-cpu max,-smap,-avx,-avx2`
a Linux domU running three processes that hash and copy 1 MiB buffers got about 1 round in 120
wrong, and Debian's xl in the dom0 died now and then (rc 134/139). goxen.xenrun.QEMU_CPU turns
XSAVE off (Xen and Linux then use FXSAVE); this test fails when a change of QEMU or of those
flags brings the corruption back, instead of letting it show as random crashes elsewhere.
"""

import re

from goxen import xenrun
from goxen.testbed import image

SECONDS = 40
WORKERS = 3
#: The fewest checked rounds that make a verdict: about 1,300 rounds ran in 60 s on a quiet
#: machine, so this holds with the machine loaded several times over.
MIN_ROUNDS = 100


def test_qemu_cpu_hides_the_features_that_corrupt_state():
    flags = xenrun.QEMU_CPU.split(",")
    for f in ("-smap", "-avx", "-avx2", "-xsave", "-rdtscp"):
        assert f in flags, xenrun.QEMU_CPU


def test_linux_processes_keep_their_fpu_state_across_switches(testbed, domu, go_build, tmp_path):
    app = go_build("fpstress", goos="linux")
    ramdisk = image.baseline_initramfs(tmp_path / "fpstress.cpio.gz", app)
    xl = image.baseline_xl("fpstress-linux", testbed.kernel, ramdisk, 128,
                           f"-seconds={SECONDS} -workers={WORKERS}")
    dom = domu("fpstress-linux", testbed.kernel, xl, ramdisk=ramdisk, network=False)
    # The workers run SECONDS of wall time each; the boot before them takes seconds to tens of
    # seconds depending on the machine's load.
    line = dom.wait_for(r"^FPSTRESS total ", timeout=SECONDS + 300)
    m = re.search(r"rounds=(\d+) wrong=(\d+) workers=(\d+)", line.text)
    assert m, line.text
    rounds, wrong = int(m.group(1)), int(m.group(2))
    wrongs = [l for l in dom.console.splitlines() if l.startswith("FPSTRESS wrong")]
    errors = [l for l in dom.console.splitlines() if l.startswith("FPSTRESS error")]
    assert not errors, dom.console
    assert wrong == 0, (f"{wrong} of {rounds} rounds computed wrong results in the Linux domU "
                        f"(QEMU {xenrun.QEMU_CPU}):\n" + "\n".join(wrongs[:20]))
    assert rounds >= MIN_ROUNDS, f"only {rounds} rounds ran: no verdict\n{dom.console}"
    print(f"{rounds} rounds in {WORKERS} processes over {SECONDS} s, none wrong")
