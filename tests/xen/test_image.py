"""The hello image carries the Xen ELF notes (read with pyelftools) and Xen's own readnotes
(from xen-utils-4.17) accepts it."""

import subprocess

import pytest

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


#: Xen backs every BSS byte with a real page at load time (Linux does so lazily), so one large
#: zeroed array costs every guest its size in memory; 1 MiB is far above any the port needs.
MAX_BSS_SYMBOL = 1 << 20


def bss_symbols(kernel):
    """[(size, name)] of the kernel's symbols in .bss and .noptrbss, largest first."""
    with open(kernel, "rb") as f:
        elf = ELFFile(f)
        bss = {i for i, s in enumerate(elf.iter_sections()) if s.name in (".bss", ".noptrbss")}
        syms = elf.get_section_by_name(".symtab")
        out = [(s["st_size"], s.name) for s in syms.iter_symbols()
               if isinstance(s["st_shndx"], int) and s["st_shndx"] in bss]
    return sorted(out, reverse=True)


@pytest.mark.parametrize("app", ["hello", "kvstore", "httpd"])
def test_no_large_bss_symbol(go_build, app):
    """crypto/internal/fips140/drbg.memory (32 MiB) once made every app importing crypto need
    40 MB; go-xen/edits/std_fips.py leaves it out as Go does on wasm."""
    syms = bss_symbols(go_build(app))
    print(f"{app}: largest BSS symbols: " + ", ".join(f"{n} {s}" for s, n in syms[:8]))
    big = [(n, s) for s, n in syms if s > MAX_BSS_SYMBOL]
    assert not big, f"BSS symbols over {MAX_BSS_SYMBOL} bytes in {app}: {big}"
