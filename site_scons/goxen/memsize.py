"""How much memory a GOOS=xen kernel needs: checked when the build writes the xl config.

A PV domain's memory holds, in this order (Xen's domain builder, libxenguest xc_dom_x86.c):
the kernel image (every PT_LOAD segment, BSS included: Xen backs all of it with real pages at
load time), then the builder's start-of-day pages (the p2m list, 8 bytes per page; start_info,
the xenstore and console rings; the bootstrap page tables and stack), and the rest is the Go
heap. The runtime's start needs a heap of its own before main runs.

    need = requirement(kernel, memory_mib)   -> Requirement(image, start_of_day, heap, minimum_mib)
    warnings = check(kernel, memory_mib, where="configs/x.yaml")   # raises MemoryTooSmall

Measured (hello, tier 2, 2026-12): image 1.76 MiB, start-of-day pages 52 KiB at 7 MiB; the
runtime's first allocations need 6 MiB of heap (5 MiB fails with "out of memory: heap needs
6 MiB"), so hello boots with 8M and not with 7M.
"""

from dataclasses import dataclass

from elftools.elf.elffile import ELFFile

MIB = 1 << 20
PAGE = 4096
#: The heap the runtime needs before main: its first arena-metadata block is 4 MiB.
RUNTIME_MIN_HEAP = 6 * MIB
#: Below this much heap a build succeeds with a warning: the program has little room for data.
LOW_HEAP = 16 * MIB
#: Start-of-day pages beyond the p2m list: start_info, xenstore/console rings, the bootstrap
#: page tables and stack, and the page tables with which the shim maps the rest (a generous
#: bound: 13 pages were used at 7 MiB).
START_OF_DAY_FIXED = 128 * 1024


class MemoryTooSmall(Exception):
    """The configured memory cannot hold the image and the runtime's start."""


@dataclass(frozen=True)
class Requirement:
    image: int          # bytes from the first PT_LOAD page to the end of the last one
    start_of_day: int   # bytes of Xen's start-of-day pages at this memory size
    heap: int           # bytes left for the Go heap (negative: does not fit)
    minimum_mib: int    # the smallest memory= that starts the runtime


def image_span(kernel):
    """Bytes the loaded image occupies: its PT_LOAD segments, page-rounded, BSS included."""
    with open(kernel, "rb") as f:
        elf = ELFFile(f)
        loads = [s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"]
        if not loads:
            raise MemoryTooSmall(f"{kernel}: no PT_LOAD segment")
        lo = min(s["p_vaddr"] for s in loads) // PAGE * PAGE
        hi = max(s["p_vaddr"] + s["p_memsz"] for s in loads)
    return (hi - lo + PAGE - 1) // PAGE * PAGE


def start_of_day(memory_bytes):
    """Bytes of the domain builder's pages for a domain of memory_bytes: the p2m list (8 bytes a
    page) plus the fixed part; the shim's own page tables (8 bytes a page) are counted too."""
    return memory_bytes // PAGE * 16 + START_OF_DAY_FIXED


def requirement(kernel, memory_mib):
    image = image_span(kernel)
    mem = int(memory_mib) * MIB
    sod = start_of_day(mem)
    mib = 1
    while mib * MIB < image + start_of_day(mib * MIB) + RUNTIME_MIN_HEAP:
        mib += 1
    return Requirement(image=image, start_of_day=sod, heap=mem - image - sod, minimum_mib=mib)


def _mib(n):
    return f"{n / MIB:.1f} MiB"


def check(kernel, memory_mib, where="memory"):
    """Raise MemoryTooSmall when memory_mib cannot start kernel; return warnings (strings) when
    it leaves little heap. where names the setting (file and key) in the messages."""
    r = requirement(kernel, memory_mib)
    if int(memory_mib) < r.minimum_mib:
        raise MemoryTooSmall(
            f"{where}: {memory_mib}M cannot hold {kernel}: the image takes {_mib(r.image)} "
            f"(BSS included), Xen's start-of-day pages {_mib(r.start_of_day)}, and the Go "
            f"runtime needs {_mib(RUNTIME_MIN_HEAP)} of heap to start; at least "
            f"{r.minimum_mib}M")
    if r.heap < LOW_HEAP:
        return [f"{where}: {memory_mib}M leaves {_mib(r.heap)} for the Go heap after the "
                f"{_mib(r.image)} image ({_mib(RUNTIME_MIN_HEAP)} of it for the runtime's "
                f"start); the program has little room for data"]
    return []
