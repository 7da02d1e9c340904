"""The boot shim object as Go's internal linker sees it (mini-os-shim/build.sh output).

Go's ELF loader takes R_X86_64_PC32, PLT32 and 64 only (a GOTPCREL or 32S would be rejected or
mislinked); only the contract symbols may be global; the hypercall page and the
shared_info hole must keep their 4096-byte alignment; no TLS, constructors or common symbols.
"""

import subprocess

import pytest

from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection

from goxen import debian, paths

SHIM = paths.REPO / "mini-os-shim"
ALLOWED_RELOCS = {"R_X86_64_PC32", "R_X86_64_PLT32", "R_X86_64_64"}
EXPORTS = {"xen_shim_init", "xen_shim_suspend", "xen_shim_cpu_up", "xen_shim_cpu_down",
           "xen_boot", "xen_hypercall_page", "xen_pvh_entry"}
# x86-64 relocation type numbers (ELF psABI)
RELOC_NAMES = {1: "R_X86_64_64", 2: "R_X86_64_PC32", 4: "R_X86_64_PLT32",
               9: "R_X86_64_GOTPCREL", 11: "R_X86_64_32S", 10: "R_X86_64_32",
               41: "R_X86_64_GOTPCRELX", 42: "R_X86_64_REX_GOTPCRELX"}


@pytest.fixture(scope="module")
def shim(tmp_path_factory):
    out = tmp_path_factory.mktemp("shim")
    subprocess.run([str(SHIM / "build.sh"), str(debian.xen_include()), str(out)], check=True,
                   capture_output=True, text=True)
    f = open(out / "shim_xen_amd64.o", "rb")
    yield ELFFile(f)
    f.close()


def test_relocations_are_ones_go_links(shim):
    seen = set()
    for sec in shim.iter_sections():
        if isinstance(sec, RelocationSection):
            for rel in sec.iter_relocations():
                t = rel["r_info_type"]
                seen.add(RELOC_NAMES.get(t, f"type {t}"))
    assert seen and seen <= ALLOWED_RELOCS, seen - ALLOWED_RELOCS


def test_only_the_contract_symbols_are_global(shim):
    symtab = shim.get_section_by_name(".symtab")
    glob = {s.name: s for s in symtab.iter_symbols()
            if s["st_info"]["bind"] in ("STB_GLOBAL", "STB_WEAK")}
    assert set(glob) == EXPORTS
    for s in glob.values():
        assert s["st_shndx"] != "SHN_UNDEF"
        assert s["st_shndx"] != "SHN_COMMON"
        assert s["st_other"]["visibility"] == "STV_DEFAULT"
    assert glob["xen_hypercall_page"]["st_size"] == 4096


def test_page_aligned_sections(shim):
    page = shim.get_section_by_name(".text.xen_hypercall_page")
    assert page is not None and page["sh_addralign"] == 4096 and page["sh_size"] == 4096
    assert page["sh_flags"] & 0x4  # SHF_EXECINSTR
    hole = shim.get_section_by_name(".bss.xen_shared_info")
    assert hole is not None and hole["sh_addralign"] == 4096


def test_no_tls_constructors_or_common(shim):
    names = {s.name for s in shim.iter_sections()}
    for bad in (".init_array", ".fini_array", ".ctors", ".dtors", ".tdata", ".tbss", ".got",
                ".plt", ".eh_frame"):
        assert bad not in names
    for sym in shim.get_section_by_name(".symtab").iter_symbols():
        assert sym["st_info"]["type"] != "STT_TLS"
        assert sym["st_shndx"] != "SHN_COMMON"
