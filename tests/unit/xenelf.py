"""A tiny ELF64 writer for tests: one executable PT_LOAD and one PT_NOTE with Xen notes."""

import struct

BASE = 0x400000
TEXT = BASE + 0x1000          # entry point
HYPERCALL = BASE + 0x2000     # hypercall page (4096-aligned)
SIZE = 0x3000                 # file and memory size of the PT_LOAD


def note(ntype, desc, owner=b"Xen"):
    name = owner + b"\0"
    pad = lambda b: b + b"\0" * (-len(b) % 4)
    return struct.pack("<III", len(name), len(desc), ntype) + pad(name) + pad(desc)


def good_notes():
    """{type: desc bytes} for a kernel Xen accepts as a PV dom0 and a PVH domU."""
    return {
        6: b"GoXen\0",
        5: b"xen-3.0\0",
        8: b"generic\0",
        3: struct.pack("<Q", BASE),
        4: struct.pack("<Q", BASE),
        1: struct.pack("<Q", TEXT),
        18: struct.pack("<I", TEXT + 0x10),
        2: struct.pack("<Q", HYPERCALL),
        10: b"!writable_page_tables|pae_pgdir_above_4gb\0",
        17: struct.pack("<I", 1 << 11),
    }


def write(path, notes=None, machine=62):
    """Write an ELF64 x86-64 executable whose PT_NOTE holds notes ({type: desc})."""
    notes = good_notes() if notes is None else notes
    blob = b"".join(note(t, d) for t, d in notes.items())
    ehsize, phentsize, phnum = 64, 56, 2
    note_off = ehsize + phentsize * phnum
    assert note_off + len(blob) <= 0x1000
    ehdr = struct.pack("<4sBBBBB7sHHIQQQIHHHHHH", b"\x7fELF", 2, 1, 1, 0, 0, b"\0" * 7,
                       2, machine, 1, TEXT, ehsize, 0, 0, ehsize, phentsize, phnum, 64, 0, 0)
    load = struct.pack("<IIQQQQQQ", 1, 5, 0, BASE, BASE, SIZE, SIZE, 0x1000)   # PT_LOAD, R+X
    pnote = struct.pack("<IIQQQQQQ", 4, 4, note_off, BASE + note_off, BASE + note_off,
                        len(blob), len(blob), 4)
    image = bytearray(SIZE)
    head = ehdr + load + pnote + blob
    image[:len(head)] = head
    image[0x1000:0x1002] = b"\xeb\xfe"                      # _start: jmp _start
    image[0x2000:0x3000] = b"\xc3" * 0x1000                 # hypercall page
    with open(path, "wb") as f:
        f.write(image)
    return path
