"""How much memory a GOOS=xen kernel needs: checked when the build writes the xl config.

A PV domain's memory holds, in this order (Xen's domain builder, libxenguest xc_dom_x86.c):
the kernel image (every PT_LOAD segment, BSS included: Xen backs all of it with real pages at
load time), then the builder's start-of-day pages (the p2m list, 8 bytes per page; start_info,
the xenstore and console rings; the bootstrap page tables and stack), and the rest is the Go
heap. The shim maps the heap's pages a second time from a 4 MiB boundary (mini-os-shim/mm.c),
where the runtime (mem_xen.go) puts its 4 MiB heap arenas from the bottom up and its metadata
from the top down, the last arena partly backed: every heap page is usable, so a kernel starts
when RUNTIME_MIN_HEAP is left.

    need = requirement(kernel, memory_mib)   -> Requirement(image, start_of_day, heap, minimum_mib)
    warnings = check(kernel, memory_mib, where="configs/x.yaml")   # raises MemoryTooSmall

Measured (tier 2, 2026-12-05): hello (2.2 MiB image) boots with 4M, 1.7 MiB of heap, of which
the runtime's metadata took 668 KiB; Xen refuses 3M for the image itself. httpd serves GET / with
14M (the bench's min-memory row).
"""

from dataclasses import dataclass

from elftools.elf.elffile import ELFFile

MIB = 1 << 20
PAGE = 4096
#: The heap the runtime needs before main (hello starts with 1.7 MiB; its metadata is 668 KiB).
RUNTIME_MIN_HEAP = 1536 * 1024
#: Below this much heap a build succeeds with a warning: the program has little room for data.
LOW_HEAP = 8 * MIB
#: Start-of-day pages beyond the per-page part: start_info, xenstore/console rings, the
#: bootstrap page tables and stack, the upper-level tables of the shim's two maps (a generous
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


def image_layout(kernel):
    """(base, span): the first PT_LOAD page's address and the bytes the loaded image occupies
    from there (PT_LOAD segments page-rounded, BSS included)."""
    with open(kernel, "rb") as f:
        elf = ELFFile(f)
        loads = [s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"]
        if not loads:
            raise MemoryTooSmall(f"{kernel}: no PT_LOAD segment")
        lo = min(s["p_vaddr"] for s in loads) // PAGE * PAGE
        hi = max(s["p_vaddr"] + s["p_memsz"] for s in loads)
    return lo, (hi - lo + PAGE - 1) // PAGE * PAGE


def image_span(kernel):
    """Bytes the loaded image occupies: its PT_LOAD segments, page-rounded, BSS included."""
    return image_layout(kernel)[1]


def start_of_day(memory_bytes):
    """Bytes of the domain builder's and the shim's pages for a domain of memory_bytes: 8 bytes
    a page for the p2m list, 8 for the shim's direct map and 8 for its heap window, plus the
    fixed part."""
    return memory_bytes // PAGE * 24 + START_OF_DAY_FIXED


#: The runtime's heap arenas: 4 MiB, aligned (runtime/mem_xen.go).
ARENA = 4 * MIB


def start_of_day_pvh(base, image):
    """The same for PVH, where there is no p2m and no second map: the image is loaded at its
    link address (base) and the RAM below it is not heap (the shim's page tables use it), and
    the heap is used at va = pa, so its arenas start at the first 4 MiB boundary after the
    image (the runtime's metadata takes the part below, which is counted here as not heap)."""
    return -(-(base + image + START_OF_DAY_FIXED) // ARENA) * ARENA - image


def requirement(kernel, memory_mib, pvh=False):
    """What kernel needs in memory_mib (booted as PVH with pvh)."""
    base, image = image_layout(kernel)

    def sod(mem):
        return start_of_day_pvh(base, image) if pvh else start_of_day(mem)
    mem = int(memory_mib) * MIB
    mib = 1
    while mib * MIB - image - sod(mib * MIB) < RUNTIME_MIN_HEAP:
        mib += 1
    return Requirement(image=image, start_of_day=sod(mem), heap=mem - image - sod(mem),
                       minimum_mib=mib)


def _mib(n):
    return f"{n / MIB:.1f} MiB"


def check(kernel, memory_mib, where="memory", pvh=False):
    """Raise MemoryTooSmall when memory_mib cannot start kernel (as PVH with pvh); return
    warnings (strings) when it leaves little heap. where names the setting (file and key) in
    the messages."""
    r = requirement(kernel, memory_mib, pvh)
    below = ("the RAM below the image, the start-of-day pages and the way to the first "
             "4 MiB-aligned heap arena (PVH)") if pvh else "Xen's start-of-day pages"
    if int(memory_mib) < r.minimum_mib:
        raise MemoryTooSmall(
            f"{where}: {memory_mib}M cannot hold {kernel}: the image takes {_mib(r.image)} "
            f"(BSS included), {below} {_mib(r.start_of_day)}, and the Go "
            f"runtime needs {_mib(RUNTIME_MIN_HEAP)} of heap to start; at least "
            f"{r.minimum_mib}M")
    if r.heap < LOW_HEAP:
        return [f"{where}: {memory_mib}M leaves {_mib(r.heap)} for the Go heap after the "
                f"{_mib(r.image)} image ({_mib(RUNTIME_MIN_HEAP)} of it for the runtime's "
                f"start); the program has little room for data"]
    return []
