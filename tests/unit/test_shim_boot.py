"""Boot the shim's standalone test kernel (mini-os-shim/test) as Xen's dom0 in QEMU.

This is a tier-2 check of the shim alone, without Go: the kernel prints `test: PASS` after
checking xen_boot, every heap page, the pvclock, a timer wakeup from SCHEDOP_block and faults
redirected to a handler (an unmapped address, a write to the read-only text, a jump into
no-execute data), then faults with no handler, so the shim must print the register dump
and crash the domain. Needs qemu-system-x86_64 (skipped without it unless CI=true or
GOXEN_REQUIRE_XEN=1).
"""

import os
import re
import shutil
import subprocess

import pytest

from goxen import debian, paths, xenrun

SHIM = paths.REPO / "mini-os-shim"


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    if not shutil.which(xenrun.QEMU):
        if os.environ.get("CI") == "true" or os.environ.get("GOXEN_REQUIRE_XEN") == "1":
            pytest.fail("qemu-system-x86_64 missing")
        pytest.skip("qemu-system-x86_64 missing")
    out = tmp_path_factory.mktemp("shim-test")
    subprocess.run([str(SHIM / "test" / "build.sh"), str(debian.xen_include()), str(out)],
                   check=True, capture_output=True, text=True)
    return out / "shim-test.elf"


@pytest.mark.parametrize("mem", [64, 1200])  # 1200 MiB: the direct map crosses 1 GiB
def test_shim_boots_and_crashes_cleanly(kernel, mem):
    result = xenrun.run_kernel(kernel, mem=mem, timeout=240)
    out = result.guest_output
    why = f"{result.summary()}\n{result.console}"
    pages = mem * 256
    m = re.search(r"^xen: shim: (\d+) pages, heap 0x([0-9a-f]+)-0x([0-9a-f]+), (\d+) page-table "
                  r"pages added$", out, re.M)
    assert m, why
    assert int(m.group(1)) == pages
    # The heap window: from the first 4 MiB boundary above the direct map.
    window = (0x400000 + pages * 4096 + (4 << 20) - 1) // (4 << 20) * (4 << 20)
    assert int(m.group(2), 16) == window
    assert int(m.group(3), 16) < window + pages * 4096
    m = re.search(r"^xen: shim: 2 segments protected, (\d+) entries changed, nx (on|unavailable)$",
                  out, re.M)
    assert m, why
    assert "test: text is read-only" in result.guest_lines, why
    if m.group(2) == "on":
        assert int(m.group(1)) == pages, why
        assert "test: data is no-execute" in result.guest_lines, why
    assert "test: PASS" in result.guest_lines, why
    assert "test: check failed" not in out, why
    # the no-handler fault: dump with the marker registers, then a crash
    assert "xen: fault: page fault (vector 14)" in out, why
    assert re.search(r"cr2 00000000dead0000", out), why
    assert "r12 1212121212121212" in out and "r15 1515151515151515" in out, why
    assert result.outcome is xenrun.Outcome.CRASH, why
