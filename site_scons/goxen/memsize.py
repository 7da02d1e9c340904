"""How much memory a GOOS=xen kernel needs: checked when the build writes the xl config.

A PV domain's memory holds, in this order (Xen's domain builder, libxenguest xc_dom_x86.c):
the kernel image (every PT_LOAD segment, BSS included: Xen backs all of it with real pages at
load time), then the builder's start-of-day pages (the p2m list, 8 bytes per page; start_info,
the xenstore and console rings; the bootstrap page tables and stack), and the rest is the Go
heap, mapped at the image's base + its offset in the domain. The runtime (mem_xen.go) puts heap
arenas at 4 MiB boundaries from the bottom of that range up and its metadata from the top down;
the last arena may be partly backed. So a kernel starts when the heap range reaches at least
ARENA_MIN_USE into its first 4 MiB boundary and holds RUNTIME_MIN_HEAP in all.

    need = requirement(kernel, memory_mib)   -> Requirement(image, start_of_day, heap, minimum_mib)
    warnings = check(kernel, memory_mib, where="configs/x.yaml")   # raises MemoryTooSmall

Measured (hello, tier 2, 2026-12-05): image 1.76 MiB at 4 MiB, so its heap starts near
5.9 MiB and its first arena at 8 MiB: it boots with 5M (1 MiB of that arena backed, 3.1 MiB
of heap in all) and not with 4M (no arena page at all). httpd (7.3 MiB image) serves GET /
with 14M.
"""

from dataclasses import dataclass

from elftools.elf.elffile import ELFFile

MIB = 1 << 20
PAGE = 4096
#: Heap arenas are 4 MiB, aligned (the runtime's heapArenaBytes on xen).
ARENA = 4 * MIB
#: Pages of the first arena the runtime uses before main.
ARENA_MIN_USE = 1 * MIB
#: The heap range (arena pages + runtime metadata) the runtime needs before main.
RUNTIME_MIN_HEAP = 3 * MIB
#: Below this much heap a build succeeds with a warning: the program has little room for data.
LOW_HEAP = 8 * MIB
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
    """Bytes of the domain builder's pages for a domain of memory_bytes: the p2m list (8 bytes a
    page) plus the fixed part; the shim's own page tables (8 bytes a page) are counted too."""
    return memory_bytes // PAGE * 16 + START_OF_DAY_FIXED


def _starts(base, image, memory_bytes):
    """Does a domain of memory_bytes start the runtime? (see the module's doc)"""
    heap_start = base + image + start_of_day(memory_bytes)
    heap_end = base + memory_bytes
    first_arena = (heap_start + ARENA - 1) // ARENA * ARENA
    return (heap_end - heap_start >= RUNTIME_MIN_HEAP
            and heap_end - first_arena >= ARENA_MIN_USE)


def requirement(kernel, memory_mib):
    base, image = image_layout(kernel)
    mem = int(memory_mib) * MIB
    sod = start_of_day(mem)
    mib = 1
    while not _starts(base, image, mib * MIB):
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
            f"runtime needs {_mib(RUNTIME_MIN_HEAP)} of heap, {_mib(ARENA_MIN_USE)} of it in "
            f"its first 4 MiB-aligned arena, to start; at least "
            f"{r.minimum_mib}M")
    if r.heap < LOW_HEAP:
        return [f"{where}: {memory_mib}M leaves {_mib(r.heap)} for the Go heap after the "
                f"{_mib(r.image)} image ({_mib(RUNTIME_MIN_HEAP)} of it for the runtime's "
                f"start); the program has little room for data"]
    return []
