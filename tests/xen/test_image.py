"""The hello image carries the Xen ELF notes (read with pyelftools) and Xen's own readnotes
(from xen-utils-4.17) accepts it."""

import subprocess

from elftools.elf.elffile import ELFFile

from goxen import debian, elfnotes

PAGE = 4096


def test_xen_notes_present(go_build):
    kernel = go_build("hello")
    notes = elfnotes.check(kernel)   # raises, naming every missing or bad note
    with open(kernel, "rb") as f:
        elf = ELFFile(f)
        assert any(seg["p_type"] == "PT_NOTE" for seg in elf.iter_segments())
        entry = elf["e_entry"]
        text = [(s["p_vaddr"], s["p_vaddr"] + s["p_memsz"]) for s in elf.iter_segments()
                if s["p_type"] == "PT_LOAD" and s["p_flags"] & 1]
    assert notes["GUEST_OS"] and notes["XEN_VERSION"] == "xen-3.0"
    assert notes["LOADER"] == "generic"
    assert notes["VIRT_BASE"] == notes["PADDR_OFFSET"] == 0x400000
    assert notes["ENTRY"] == entry
    hc = notes["HYPERCALL_PAGE"]
    assert hc % PAGE == 0
    assert any(lo <= hc and hc + PAGE <= hi for lo, hi in text), "hypercall page not in text"
    assert notes["SUPPORTED_FEATURES"][0] & (1 << elfnotes.XENFEAT_DOM0)


def test_readnotes_accepts_hello(go_build):
    kernel = go_build("hello")
    proc = subprocess.run(debian.readnotes() + [str(kernel)], env=debian.readnotes_env(),
                          capture_output=True, text=True, timeout=120)
    print(proc.stdout, proc.stderr)
    assert proc.returncode == 0, proc.stderr
    for key in ("GUEST_OS:", "XEN_VERSION: xen-3.0", "LOADER: generic", "VIRT_BASE:",
                "PADDR_OFFSET:", "ENTRY:", "HYPERCALL_PAGE:", "FEATURES:"):
        assert key in proc.stdout, f"readnotes output lacks {key!r}:\n{proc.stdout}"
