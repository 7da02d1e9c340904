"""goxen.memsize: the memory a kernel needs, from its PT_LOAD segments (BSS included)."""

import struct

import pytest

import xenelf
from goxen import memsize

MIB = 1 << 20


def with_bss(path, memsz):
    """A xenelf kernel whose PT_LOAD has memsz bytes in memory (the rest of the file BSS)."""
    xenelf.write(path)
    data = bytearray(path.read_bytes())
    phoff, phentsize, phnum = struct.unpack_from("<Q", data, 32)[0], *struct.unpack_from("<HH", data, 54)
    for i in range(phnum):
        off = phoff + i * phentsize
        if struct.unpack_from("<I", data, off)[0] == 1:         # PT_LOAD
            struct.pack_into("<Q", data, off + 40, memsz)        # p_memsz
    path.write_bytes(bytes(data))
    return path


def test_image_span_counts_bss(tmp_path):
    k = with_bss(tmp_path / "k", 32 * MIB + 5)
    assert memsize.image_span(k) == 32 * MIB + 4096


def test_minimum_covers_image_start_of_day_and_runtime_heap(tmp_path):
    """32 MiB of image: 32 + start-of-day (24 bytes a page + 128 KiB) + 1.5 MiB -> 34M."""
    k = with_bss(tmp_path / "k", 32 * MIB)
    r = memsize.requirement(k, 64)
    assert r.minimum_mib == 34
    assert r.heap == 64 * MIB - r.image - r.start_of_day
    with pytest.raises(memsize.MemoryTooSmall, match=r"x.yaml: memory: 33M cannot hold .* at least 34M"):
        memsize.check(k, 33, "x.yaml: memory")
    assert memsize.check(k, 34, "m")             # fits, with a low-heap warning
    assert memsize.check(k, 64, "m") == []


def test_start_of_day_grows_with_memory(tmp_path):
    """24 bytes a page: the p2m list and the shim's two maps (direct and heap window)."""
    assert memsize.start_of_day(1024 * MIB) - memsize.start_of_day(0) == 262144 * 24


def test_hello_measured_floor(tmp_path):
    """hello (2.2 MiB image) booted with 4M on tier 2 (2026-12-05): the model agrees."""
    k = with_bss(tmp_path / "k", int(2.2 * MIB))
    assert memsize.requirement(k, 8).minimum_mib == 4


def test_pvh_counts_the_ram_below_the_image(tmp_path):
    """As PVH the image sits at its link address (4 MiB here), the RAM below is not heap, and
    the heap's arenas start at the first 4 MiB boundary after the image: hello's floor moves
    from 4M to 10M."""
    k = with_bss(tmp_path / "k", int(2.2 * MIB))
    base, _ = memsize.image_layout(k)
    r = memsize.requirement(k, 16, pvh=True)
    assert r.heap == 16 * MIB - 8 * MIB                 # arenas from 8 MiB on
    assert r.start_of_day == 16 * MIB - r.image - r.heap
    assert (r.minimum_mib, memsize.requirement(k, 16).minimum_mib) == (10, 4)
    with pytest.raises(memsize.MemoryTooSmall, match=r"RAM below the image.*\(PVH\)"):
        memsize.check(k, r.minimum_mib - 1, "m", pvh=True)


def test_pvh_an_image_ending_just_below_an_arena_boundary(tmp_path):
    """An image (with the start info after it) ending at 15.9 MiB leaves no arena below
    16M: the app outside the repository (tests/xen3/test_foreign_app.py) did not start in
    16M as PVH, 2026-12-05; the model now refuses that."""
    k = with_bss(tmp_path / "k", int(11.9 * MIB) - memsize.START_OF_DAY_FIXED)
    assert memsize.requirement(k, 16, pvh=True).heap == 0
    with pytest.raises(memsize.MemoryTooSmall):
        memsize.check(k, 16, "m", pvh=True)
