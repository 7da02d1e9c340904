"""The Xen ELF note checker, on synthetic kernels written by xenelf.py."""

import struct
import subprocess

import pytest

import xenelf
from goxen import elfnotes
from goxen.elfnotes import ElfNoteError


def kernel(tmp_path, notes=None, **kw):
    return xenelf.write(tmp_path / "k.xen", notes, **kw)


def problems(tmp_path, notes, **kw):
    with pytest.raises(ElfNoteError) as e:
        elfnotes.check(kernel(tmp_path, notes, **kw))
    return str(e.value)


def test_good_kernel(tmp_path):
    notes = elfnotes.check(kernel(tmp_path))
    assert notes["XEN_VERSION"] == "xen-3.0"
    assert notes["ENTRY"] == xenelf.TEXT
    assert notes["HYPERCALL_PAGE"] == xenelf.HYPERCALL
    assert notes["SUPPORTED_FEATURES"] == [1 << 11]


@pytest.mark.parametrize("ntype,name", [(t, elfnotes.NOTE_TYPES[t][0]) for t in xenelf.good_notes()])
def test_each_missing_note_is_named(tmp_path, ntype, name):
    notes = xenelf.good_notes()
    del notes[ntype]
    assert f"{name}: missing" in problems(tmp_path, notes)


@pytest.mark.parametrize("ntype,desc,expect", [
    (5, b"xen-2.0\0", "XEN_VERSION"),
    (8, b"special\0", "LOADER"),
    (17, struct.pack("<I", 1), "XENFEAT_dom0"),
    (2, struct.pack("<Q", xenelf.HYPERCALL + 8), "not 4096-aligned"),
    (2, struct.pack("<Q", 0x10000000), "HYPERCALL_PAGE"),
    (1, struct.pack("<Q", 0x10000000), "ENTRY"),
    (18, struct.pack("<I", 0x10000000), "PHYS32_ENTRY: 0x10000000 is not inside"),
    (4, struct.pack("<Q", 0), "PADDR_OFFSET differs from VIRT_BASE"),
    (3, b"\0" * 3, "VIRT_BASE: numeric note of 3 bytes"),
])
def test_bad_note_is_named(tmp_path, ntype, desc, expect):
    notes = xenelf.good_notes()
    notes[ntype] = desc
    assert expect in problems(tmp_path, notes)


def test_all_problems_reported_at_once(tmp_path):
    notes = xenelf.good_notes()
    del notes[5], notes[8]
    msg = problems(tmp_path, notes)
    assert "XEN_VERSION: missing" in msg and "LOADER: missing" in msg


def test_other_owners_are_ignored(tmp_path):
    notes = xenelf.good_notes()
    path = tmp_path / "k.xen"
    xenelf.write(path, notes)
    data = path.read_bytes().replace(b"Xen\0xen-3.0", b"Gnu\0xen-3.0")
    path.write_bytes(data)
    with pytest.raises(ElfNoteError, match="XEN_VERSION: missing"):
        elfnotes.check(path)


def test_wrong_machine_and_not_elf(tmp_path):
    assert "not an x86-64" in problems(tmp_path, None, machine=3)
    junk = tmp_path / "junk"
    junk.write_bytes(b"not an elf at all" * 10)
    with pytest.raises(ElfNoteError, match="junk"):
        elfnotes.check(junk)


def test_xen_readnotes_agrees(tmp_path):
    """Xen's own parser (readnotes from xen-utils) reads the synthetic kernel the same way."""
    from goxen import debian
    path = kernel(tmp_path)
    out = subprocess.run(debian.readnotes() + [str(path)], env=debian.readnotes_env(),
                         capture_output=True, text=True, check=True).stdout
    assert "XEN_VERSION: xen-3.0" in out and "LOADER: generic" in out
    assert f"{xenelf.HYPERCALL:#x}" in out and f"{xenelf.TEXT:#x}" in out
