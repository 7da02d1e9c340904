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


def test_minimum_covers_image_start_of_day_and_first_arena(tmp_path):
    """32 MiB of image at 4 MiB: the heap starts past 36 MiB, its first arena at 40 MiB, and
    the runtime needs 1 MiB of that arena: memory reaching 41 MiB, 37M."""
    k = with_bss(tmp_path / "k", 32 * MIB)
    r = memsize.requirement(k, 64)
    assert r.minimum_mib == 37
    assert r.heap == 64 * MIB - r.image - r.start_of_day
    with pytest.raises(memsize.MemoryTooSmall, match=r"x.yaml: memory: 36M cannot hold .* at least 37M"):
        memsize.check(k, 36, "x.yaml: memory")
    assert memsize.check(k, 37, "m")             # fits, with a low-heap warning
    assert memsize.check(k, 64, "m") == []


def test_total_heap_counts_when_the_arena_is_near(tmp_path):
    """2.5 MiB of image at 4 MiB: the heap starts near 6.7 MiB, its first arena at 8 MiB is
    reached with 5M, but 3 MiB of heap in all needs 6M."""
    k = with_bss(tmp_path / "k", int(2.5 * MIB))
    assert memsize.requirement(k, 8).minimum_mib == 6


def test_hello_measured_floor(tmp_path):
    """hello (1.76 MiB image at 4 MiB) booted with 5M and not with 4M on tier 2 (2026-12-05):
    the model agrees."""
    k = with_bss(tmp_path / "k", int(1.76 * MIB))
    assert memsize.requirement(k, 8).minimum_mib == 5
