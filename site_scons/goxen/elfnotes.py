"""Check the Xen ELF notes a 64-bit PV kernel must carry (Xen public/elfnote.h).

pyelftools finds the PT_NOTE segments (and SHT_NOTE sections, which Xen's loader reads when
there is no note segment); the notes themselves are decoded here, because pyelftools maps
note types 1-5 to GNU meanings whatever the owner.

    check(path) -> notes          {"ENTRY": 0x..., "XEN_VERSION": "xen-3.0", ...}; raises
                                  ElfNoteError naming every missing or bad note
    read_notes(path) -> (notes, facts, problems)   the raw decoding, without the checks
"""

import struct

from elftools.elf.elffile import ELFFile

XEN_OWNER = b"Xen"
XENFEAT_DOM0 = 11

# number -> (name, kind); kind "str" = NUL-terminated string, "num" = little-endian integer,
# "words" = array of 32-bit words.
NOTE_TYPES = {
    1: ("ENTRY", "num"),
    2: ("HYPERCALL_PAGE", "num"),
    3: ("VIRT_BASE", "num"),
    4: ("PADDR_OFFSET", "num"),
    5: ("XEN_VERSION", "str"),
    6: ("GUEST_OS", "str"),
    7: ("GUEST_VERSION", "str"),
    8: ("LOADER", "str"),
    9: ("PAE_MODE", "str"),
    10: ("FEATURES", "str"),
    11: ("BSD_SYMTAB", "str"),
    12: ("HV_START_LOW", "num"),
    13: ("L1_MFN_VALID", "words"),
    14: ("SUSPEND_CANCEL", "num"),
    15: ("INIT_P2M", "num"),
    16: ("MOD_START_PFN", "num"),
    17: ("SUPPORTED_FEATURES", "words"),
    18: ("PHYS32_ENTRY", "num"),
}

REQUIRED = ["GUEST_OS", "XEN_VERSION", "LOADER", "VIRT_BASE", "PADDR_OFFSET", "ENTRY",
            "HYPERCALL_PAGE", "FEATURES", "SUPPORTED_FEATURES"]
#: What a kernel needs besides to boot as PVH too (every GOOS=xen image: check(pvh=True)).
REQUIRED_PVH = ["PHYS32_ENTRY"]


class ElfNoteError(Exception):
    """The kernel's Xen notes are missing or wrong; the message lists every problem."""


def _align4(n):
    return (n + 3) & ~3


def parse_note_data(data, little=True):
    """Yield (owner bytes, type, desc bytes) for each note in a note segment/section."""
    end = "<" if little else ">"
    off = 0
    while off + 12 <= len(data):
        namesz, descsz, ntype = struct.unpack_from(end + "III", data, off)
        off += 12
        name = data[off:off + namesz].rstrip(b"\0")
        off += _align4(namesz)
        desc = data[off:off + descsz]
        off += _align4(descsz)
        if len(desc) < descsz:
            raise ElfNoteError(f"truncated note (type {ntype})")
        yield name, ntype, desc


def _decode(kind, desc):
    if kind == "str":
        return desc.split(b"\0", 1)[0].decode("ascii", "replace")
    if kind == "num":
        if len(desc) not in (1, 2, 4, 8):
            raise ValueError(f"numeric note of {len(desc)} bytes (want 1, 2, 4 or 8)")
        return int.from_bytes(desc, "little")
    if len(desc) % 4:
        raise ValueError(f"word-array note of {len(desc)} bytes (want a multiple of 4)")
    return [int.from_bytes(desc[i:i + 4], "little") for i in range(0, len(desc), 4)]


def read_notes(path):
    """Return ({name: value}, ELF facts, decoding problems) for the Xen notes at path."""
    notes, problems = {}, []
    with open(path, "rb") as f:
        elf = ELFFile(f)
        little = elf.little_endian
        blobs = [seg.data() for seg in elf.iter_segments() if seg["p_type"] == "PT_NOTE"]
        if not blobs:
            blobs = [sec.data() for sec in elf.iter_sections() if sec["sh_type"] == "SHT_NOTE"]
        loads = [(seg["p_vaddr"], seg["p_vaddr"] + seg["p_memsz"], seg["p_flags"])
                 for seg in elf.iter_segments() if seg["p_type"] == "PT_LOAD"]
        facts = {"class": elf.elfclass, "machine": elf["e_machine"], "entry": elf["e_entry"],
                 "loads": loads}
    for blob in blobs:
        for owner, ntype, desc in parse_note_data(blob, little):
            if owner != XEN_OWNER or ntype not in NOTE_TYPES:
                continue
            name, kind = NOTE_TYPES[ntype]
            try:
                notes[name] = _decode(kind, desc)
            except ValueError as e:
                problems.append(f"{name}: {e}")
    return notes, facts, problems


def check(path, pvh=True):
    """Check that path is a 64-bit kernel Xen can boot as PV (also as dom0) and, with pvh, as
    PVH; return its notes."""
    try:
        notes, facts, problems = read_notes(path)
    except (OSError, ElfNoteError) as e:
        raise ElfNoteError(f"{path}: cannot read Xen notes: {e}") from None
    except Exception as e:  # pyelftools raises its own errors on non-ELF input
        raise ElfNoteError(f"{path}: not a readable ELF file: {e}") from None
    if facts["class"] != 64 or facts["machine"] != "EM_X86_64":
        problems.append(f"not an x86-64 ELF64 file ({facts['machine']}, ELF{facts['class']})")
    for name in REQUIRED + (REQUIRED_PVH if pvh else []):
        if name not in notes and not any(p.startswith(name + ":") for p in problems):
            problems.append(f"{name}: missing")

    def in_load(addr, exec_only=False):
        return any(lo <= addr < hi and (not exec_only or flags & 1) for lo, hi, flags in facts["loads"])

    def bad(name, why):
        problems.append(f"{name}: {why}")

    if "XEN_VERSION" in notes and not notes["XEN_VERSION"].startswith("xen-3.0"):
        bad("XEN_VERSION", f"{notes['XEN_VERSION']!r} does not start with 'xen-3.0'")
    if "LOADER" in notes and not notes["LOADER"].startswith("generic"):
        bad("LOADER", f"{notes['LOADER']!r} does not start with 'generic'")
    if "GUEST_OS" in notes and not notes["GUEST_OS"]:
        bad("GUEST_OS", "empty")
    if "ENTRY" in notes and not in_load(notes["ENTRY"], exec_only=True):
        bad("ENTRY", f"{notes['ENTRY']:#x} is not inside an executable PT_LOAD segment")
    if "PHYS32_ENTRY" in notes:
        # PVH enters at this physical address; the image is loaded at its link address
        # (PADDR_OFFSET = VIRT_BASE), so it must also be an executable virtual one below 4 GiB.
        pe = notes["PHYS32_ENTRY"]
        if notes.get("PADDR_OFFSET") != notes.get("VIRT_BASE"):
            bad("PHYS32_ENTRY", "PADDR_OFFSET differs from VIRT_BASE: the PVH load address "
                "would not be the link address")
        elif pe >= 1 << 32 or not in_load(pe, exec_only=True):
            bad("PHYS32_ENTRY", f"{pe:#x} is not inside an executable PT_LOAD segment below 4 GiB")
    if "HYPERCALL_PAGE" in notes:
        hp = notes["HYPERCALL_PAGE"]
        if hp % 4096:
            bad("HYPERCALL_PAGE", f"{hp:#x} is not 4096-aligned")
        elif not in_load(hp):
            bad("HYPERCALL_PAGE", f"{hp:#x} is not inside a PT_LOAD segment")
    if "VIRT_BASE" in notes and "PADDR_OFFSET" in notes and notes["PADDR_OFFSET"] > notes["VIRT_BASE"]:
        bad("PADDR_OFFSET", f"{notes['PADDR_OFFSET']:#x} is above VIRT_BASE {notes['VIRT_BASE']:#x}")
    if "SUPPORTED_FEATURES" in notes:
        words = notes["SUPPORTED_FEATURES"]
        if not words or not words[0] >> XENFEAT_DOM0 & 1:
            bad("SUPPORTED_FEATURES", f"XENFEAT_dom0 (bit {XENFEAT_DOM0}) not set in {words}")
    if problems:
        raise ElfNoteError(f"{path}: bad Xen ELF notes:\n  " + "\n  ".join(problems))
    return notes
