"""Host tests of the shim's page-table builder (mini-os-shim/pagetable.c) against a fake Xen.

pagetable.c is compiled with cffi together with mini-os-shim/test/host/fake_machine.c, a pretend
machine that keeps page-table frames in memory and refuses what Xen refuses (table pages hooked
in while writable or not zeroed, writable mappings of table pages, overwritten entries). Each
case builds a Xen-like bootstrap mapping (tables at pt_pfn, boot stack after them), runs
shim_pt_map_all from the first pfn after the boot stack, then walks the fake tables for every pfn.
The protection pass (shim_pt_protect) runs on such a map with made-up image segments, and the
heap window (shim_pt_map_window) maps the free pfns again from a 4 MiB boundary.
"""

import importlib.util

import pytest

cffi = pytest.importorskip("cffi")

from goxen import debian, paths

SHIM = paths.REPO / "mini-os-shim"
HOST = SHIM / "test" / "host"

PT_PRESENT, PT_RW, PT_USER, PT_ACCESSED, PT_DIRTY = 0x1, 0x2, 0x4, 0x20, 0x40
LEAF = PT_PRESENT | PT_RW | PT_USER | PT_ACCESSED | PT_DIRTY
ADDR = 0x000FFFFFFFFFF000
INVALID = (1 << 64) - 1

CDEF = """
typedef struct { ...; } mmu_update_t;
struct pt_builder {
    uint64_t virt_base;
    uint64_t nr_pages;
    const uint64_t *p2m;
    uint64_t l4_mfn;
    uint64_t next_free_pfn;
    uint64_t tables_added;
    uint64_t ptes_written;
    const char *failed;
    uint64_t window_pfn;
    uint64_t window_pages;
    ...;
};
long shim_pt_map_all(struct pt_builder *b);
long shim_pt_map_window(struct pt_builder *b, uint64_t va, uint64_t flags);
struct pt_segment { uint64_t start, end; int writable, executable; };
long shim_pt_protect(struct pt_builder *b, const struct pt_segment *segs, unsigned int nsegs,
                     uint64_t nx);

struct fake {
    uint64_t virt_base, nr_pages, nr_mfns, l4_mfn, nr_pt_frames;
    uint64_t *p2m;
    uint64_t *m2p;
    int *level;
    char *ro;
    uint64_t update_calls, max_batch, fail_update_at;
    uint64_t zeroed, tables_hooked, leaves_written;
    uint64_t leaves_changed;
    int allow_leaf_changes;
    char error[256];
    ...;
};
extern struct fake fake;
int fake_init(uint64_t virt_base, uint64_t nr_pages, uint64_t nr_mfns, uint64_t boot_pages,
              uint64_t pt_pfn, uint64_t seed);
void fake_free(void);
void fake_builder(struct pt_builder *b, uint64_t next_free_pfn);
uint64_t fake_lookup(uint64_t va);
void fake_dirty(uint64_t pfn);
"""


@pytest.fixture(scope="module")
def pt(tmp_path_factory):
    """(ffi, lib) of pagetable.c + fake_machine.c, compiled once per module."""
    ffi = cffi.FFI()
    ffi.cdef(CDEF)
    ffi.set_source(
        "_shim_pagetable",
        '#include "pagetable.h"\n#include "fake_machine.h"\n',
        sources=[str(SHIM / "pagetable.c"), str(HOST / "fake_machine.c")],
        include_dirs=[str(debian.xen_include()), str(SHIM / "include"), str(HOST)],
        extra_compile_args=["-Wall", "-Werror", "-O1"],
    )
    out = tmp_path_factory.mktemp("shim_pagetable")
    so = ffi.compile(tmpdir=str(out))
    spec = importlib.util.spec_from_file_location("_shim_pagetable", so)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.ffi, mod.lib


class Run:
    def __init__(self, ffi, lib, *, nr_pages, boot_pages, pt_pfn, virt_base=0x400000,
                 extra_mfns=977, seed=7, invalid=(), fail_update_at=0, dirty=64):
        self.ffi, self.lib = ffi, lib
        self.virt_base, self.nr_pages = virt_base, nr_pages
        self.boot_pages, self.pt_pfn = boot_pages, pt_pfn
        assert lib.fake_init(virt_base, nr_pages, nr_pages + extra_mfns, boot_pages, pt_pfn,
                             seed) == 0
        self.nr_pt_frames = lib.fake.nr_pt_frames
        self.first_free = pt_pfn + self.nr_pt_frames + 1  # + Xen's boot stack page
        for pfn in invalid:
            lib.fake.p2m[pfn] = INVALID
        for pfn in range(self.first_free, min(self.first_free + dirty, boot_pages)):
            if lib.fake.p2m[pfn] != INVALID:
                lib.fake_dirty(pfn)  # so that a missing zero_page shows
        lib.fake.fail_update_at = fail_update_at
        self.b = ffi.new("struct pt_builder *")
        lib.fake_builder(self.b, self.first_free)
        self.rc = lib.shim_pt_map_all(self.b)
        self.error = ffi.string(lib.fake.error).decode()
        self.failed = ffi.string(self.b.failed).decode() if self.b.failed else None

    def va(self, pfn):
        return self.virt_base + pfn * 4096

    def expected_new_tables(self):
        """Table pages needed for the whole range minus those the bootstrap already has."""
        def tables(n):
            vas = [self.va(p) for p in range(n)]
            return sum(len({v >> s for v in vas}) for s in (21, 30, 39))
        return tables(self.nr_pages) - tables(self.boot_pages)


@pytest.fixture
def run(pt):
    ffi, lib = pt
    runs = []

    def make(**kw):
        r = Run(ffi, lib, **kw)
        runs.append(r)
        return r
    yield make
    lib.fake_free()


def check_direct_map(r):
    lib = r.lib
    table_pfns = []
    for pfn in range(r.nr_pages):
        mfn = lib.fake.p2m[pfn]
        pte = lib.fake_lookup(r.va(pfn))
        if mfn == INVALID:
            if pfn < r.boot_pages:
                continue  # invalidated after the fake bootstrap mapping was built
            assert not pte & PT_PRESENT, f"pfn {pfn} with no mfn is mapped"
            continue
        assert pte & PT_PRESENT, f"pfn {pfn} (va {r.va(pfn):#x}) not mapped"
        assert (pte & ADDR) >> 12 == mfn, f"pfn {pfn} maps the wrong frame"
        if lib.fake.level[mfn]:
            table_pfns.append(pfn)
            assert not pte & PT_RW, f"page-table page pfn {pfn} is writable"
            assert lib.fake.ro[pfn]
        else:
            assert pte & LEAF == LEAF, f"pfn {pfn} flags {pte & 0xfff:#x}"
    return table_pfns


@pytest.mark.parametrize("nr_pages,boot_pages,pt_pfn", [
    (16384, 1024, 0x3f),      # 64 MiB dom0 shape: bootstrap ends at 8 MiB
    (2048, 1024, 0x3f),       # small domain
    (307200, 2048, 0x276),    # 1.2 GiB: crosses a 1 GiB (L3 entry) boundary
])
def test_maps_every_page(run, nr_pages, boot_pages, pt_pfn):
    r = run(nr_pages=nr_pages, boot_pages=boot_pages, pt_pfn=pt_pfn)
    assert r.rc == 0 and not r.error, (r.rc, r.failed, r.error)
    tables = check_direct_map(r)
    new = r.expected_new_tables()
    assert r.b.tables_added == new == r.lib.fake.tables_hooked
    assert r.lib.fake.zeroed == new
    # New tables come from consecutive pfns right after Xen's boot stack page.
    assert r.b.next_free_pfn == r.first_free + new
    assert sorted(tables) == list(range(pt_pfn, pt_pfn + r.nr_pt_frames)) + \
        list(range(r.first_free, r.first_free + new))
    assert r.b.ptes_written == r.lib.fake.leaves_written == nr_pages - boot_pages
    assert r.lib.fake.max_batch <= 512
    # one call per table hook-in plus leaf batches of up to 512
    assert r.lib.fake.update_calls <= new + (nr_pages - boot_pages) // 512 + new + 1


def test_crosses_an_l4_slot(run):
    """A base 4 MiB below 512 GiB: the map needs a new L3 (and L2, L1s) under a new L4 entry."""
    r = run(nr_pages=4096, boot_pages=1024, pt_pfn=0x20, virt_base=(512 << 30) - (4 << 20))
    assert r.rc == 0 and not r.error, (r.rc, r.failed, r.error)
    check_direct_map(r)
    assert r.b.tables_added == r.expected_new_tables() == 1 + 1 + 6


def test_already_mapped_is_left_alone(run):
    r = run(nr_pages=1024, boot_pages=1024, pt_pfn=0x3f)
    assert r.rc == 0 and not r.error
    assert r.b.tables_added == 0 and r.b.ptes_written == 0
    assert r.lib.fake.update_calls == 0
    check_direct_map(r)


def test_pfns_without_a_frame_are_skipped(run):
    # 0x3f + 5 pt frames + stack = 0x45 is the first free pfn; make it and a heap pfn invalid.
    r = run(nr_pages=8192, boot_pages=1024, pt_pfn=0x3f, invalid=(0x45, 5000))
    assert r.rc == 0 and not r.error, (r.failed, r.error)
    check_direct_map(r)
    assert r.b.next_free_pfn == r.first_free + 1 + r.b.tables_added
    assert r.b.ptes_written == 8192 - 1024 - 1


def test_update_failure_is_reported(run):
    r = run(nr_pages=16384, boot_pages=1024, pt_pfn=0x3f, fail_update_at=3)
    assert r.rc == -12
    assert r.failed.startswith("mmu_update")


def test_no_mapped_room_for_tables(run):
    """No free pfn left in the bootstrap mapping: a clear error, never an unmapped table page."""
    r = run(nr_pages=2048, boot_pages=1024, pt_pfn=0x3f, invalid=range(0x45, 1024))
    assert r.rc == -1 and not r.error, r.error
    assert r.failed == "no mapped free page for a page table"



NX = 1 << 63


def protect(r, segments, nx=NX):
    """Run shim_pt_protect on a finished map; segments are (start_pfn, end_va_offset, w, x)."""
    segs = r.ffi.new("struct pt_segment[]", len(segments))
    for s, (start, end, w, x) in zip(segs, segments):
        s.start, s.end, s.writable, s.executable = start, end, w, x
    r.lib.fake.allow_leaf_changes = 1
    rc = r.lib.shim_pt_protect(r.b, segs, len(segments), nx)
    return rc, r.ffi.string(r.lib.fake.error).decode()


@pytest.mark.parametrize("nx", [NX, 0])
def test_protect_follows_the_image_segments(run, nx):
    r = run(nr_pages=16384, boot_pages=1024, pt_pfn=0x3f)
    assert r.rc == 0 and not r.error
    va = r.va
    # Like Go's ELF: text (headers included) R E ending mid-page, rodata R, data+bss RW.
    rc, err = protect(r, [(va(0), va(3) + 100, 0, 1), (va(4), va(6), 0, 0),
                          (va(6), va(8) + 10, 1, 0)], nx)
    assert rc == 0 and not err, (rc, r.b.failed, err)
    tables = set()
    for pfn in range(r.nr_pages):
        pte = r.lib.fake_lookup(va(pfn))
        mfn = r.lib.fake.p2m[pfn]
        assert (pte & ADDR) >> 12 == mfn and pte & PT_PRESENT, pfn
        if r.lib.fake.level[mfn]:
            tables.add(pfn)
        if pfn <= 3:
            assert not pte & PT_RW and not pte & NX, f"text pfn {pfn}: {pte:#x}"
        elif pfn <= 5:
            assert not pte & PT_RW and pte & NX == nx, f"rodata pfn {pfn}: {pte:#x}"
        else:
            assert pte & NX == nx, f"pfn {pfn}: {pte:#x}"
            assert bool(pte & PT_RW) == (r.lib.fake.level[mfn] == 0), f"pfn {pfn}: {pte:#x}"
    assert tables, "no page-table pages in the map"
    changed = r.lib.fake.leaves_changed
    assert r.b.ptes_written == changed == (r.nr_pages if nx else 6)
    assert r.lib.fake.max_batch <= 512
    # A second pass has nothing left to change.
    rc, err = protect(r, [(va(0), va(3) + 100, 0, 1), (va(4), va(6), 0, 0),
                          (va(6), va(8) + 10, 1, 0)], nx)
    assert rc == 0 and not err and r.b.ptes_written == 0


def test_protect_reports_update_failure(run):
    r = run(nr_pages=4096, boot_pages=1024, pt_pfn=0x3f)
    assert r.rc == 0
    r.lib.fake.fail_update_at = r.lib.fake.update_calls + 2
    rc, _ = protect(r, [(r.va(0), r.va(4), 0, 1)])
    assert rc == -12 and r.ffi.string(r.b.failed).decode() == "mmu_update (protect)"


@pytest.mark.parametrize("nr_pages", [4096, 16384, 307200])
def test_heap_window(run, nr_pages):
    """After the direct map, the free pfns are mapped again from the first 4 MiB boundary
    above it: the window's tables come first (read-only in the direct map, not in the window),
    then every remaining pfn, in order, with the given flags."""
    r = run(nr_pages=nr_pages, boot_pages=1024, pt_pfn=0x3f)
    assert r.rc == 0 and not r.error
    free = r.b.next_free_pfn
    window = (r.va(nr_pages) + (4 << 20) - 1) // (4 << 20) * (4 << 20)
    nx = 1 << 63
    rc = r.lib.shim_pt_map_window(r.b, window, LEAF | nx)
    assert rc == 0 and not r.ffi.string(r.lib.fake.error), r.ffi.string(r.lib.fake.error)
    n = nr_pages - free
    vas = [window + i * 4096 for i in range(n)]
    direct = [r.va(p) for p in range(nr_pages)]
    # L1s, L2s and L3s the window needs beyond those the direct map has (an L2 may be shared).
    tables = sum(len({v >> s for v in vas} - {v >> s for v in direct}) for s in (21, 30, 39))
    assert r.b.window_pfn == free + tables == r.b.next_free_pfn
    assert r.b.window_pages == nr_pages - r.b.window_pfn
    for i in range(r.b.window_pages):
        pte = r.lib.fake_lookup(window + i * 4096)
        assert pte & PT_PRESENT and (pte & ADDR) >> 12 == r.lib.fake.p2m[r.b.window_pfn + i], i
        assert pte & (LEAF | nx) == LEAF | nx
    assert not r.lib.fake_lookup(window + r.b.window_pages * 4096) & PT_PRESENT
    tables_in_direct_map = check_direct_map(r)        # the window's tables: read-only there
    assert set(range(free, r.b.window_pfn)) <= set(tables_in_direct_map)
