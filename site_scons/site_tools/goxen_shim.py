"""SCons tool `goxen_shim`: the boot shim, mini-os-shim/*.c and *.S -> one relocatable object.

    env.GoxenShim(target='#build/shim/shim_xen_amd64.o', sources=None)

gcc compiles each source freestanding and position independent (Go's internal linker handles
R_X86_64_PC32/PLT32, not the R_X86_64_32S of -fno-pic), against Xen's public headers from
Debian's libxen-dev (goxen.debian.xen_include(), fetched on first use); `ld -r` combines the
objects into <target>-all.o, and `objcopy --localize-hidden` writes the target, in which only
default-visibility symbols (the shim's contract: xen_shim_init, xen_shim_suspend, xen_boot, xen_hypercall_page)
stay global. The target is then checked: only relocations Go's ELF loader links
(R_X86_64_PC32, PLT32, 64) and no undefined symbols (mini-os-shim/build.sh does the same).

Variables: $GOXEN_SHIM_CC, $GOXEN_SHIM_CFLAGS, $GOXEN_SHIM_ASFLAGS (.S only: -D__ASSEMBLY__,
the guard Xen's public headers use), $GOXEN_SHIM_CPPPATH, $GOXEN_SHIM_LD, $GOXEN_SHIM_OBJCOPY;
commands $GOXEN_SHIMCCCOM, $GOXEN_SHIMASCOM, $GOXEN_SHIMCOM,
$GOXEN_SHIMLOCALCOM with quiet ...COMSTR variants.
"""

import sys
from pathlib import Path

_SITE = Path(__file__).resolve().parents[1]
if str(_SITE) not in sys.path:
    sys.path.insert(0, str(_SITE))

import SCons.Action
import SCons.Builder
import SCons.Errors
import SCons.Scanner
from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection

from goxen import debian, paths

CFLAGS = [
    "-O2", "-g0", "-ffreestanding", "-fpie", "-fvisibility=hidden", "-mno-red-zone",
    "-mgeneral-regs-only", "-fno-stack-protector", "-fno-asynchronous-unwind-tables",
    "-fno-builtin", "-fno-common", "-Wall", "-Werror",
]
SUFFIXES = [".c", ".S"]
# x86-64 relocation types Go's internal linker takes from an ELF object (psABI numbers).
GO_RELOCS = {1: "R_X86_64_64", 2: "R_X86_64_PC32", 4: "R_X86_64_PLT32"}

_include_scanner = SCons.Scanner.ClassicCPP(
    "GoxenShimScanner", SUFFIXES, "GOXEN_SHIM_CPPPATH",
    r'^[ \t]*#[ \t]*(?:include|import)[ \t]*(<|")([^>"]+)(>|")')


def _xen_include(target, source, env, for_signature):
    # Lazy: the Debian headers are fetched only when a shim source is actually compiled.
    return str(debian.xen_include())


def _no_sources(target, source, env):
    print(f"goxen_shim: no *.c or *.S sources in {env.subst('$GOXEN_SHIM_SRCDIR')}", file=sys.stderr)
    return 1


def check_object(path):
    """Problems that keep Go's internal linker from linking the object at path, as strings."""
    problems = []
    with open(path, "rb") as f:
        elf = ELFFile(f)
        for sec in elf.iter_sections():
            if isinstance(sec, RelocationSection):
                for rel in sec.iter_relocations():
                    t = rel["r_info_type"]
                    if t not in GO_RELOCS:
                        problems.append(f"relocation type {t} in {sec.name} (Go links only "
                                        f"{', '.join(GO_RELOCS.values())}; build with -fpie)")
        symtab = elf.get_section_by_name(".symtab")
        for sym in symtab.iter_symbols() if symtab else []:
            if sym.name and sym["st_shndx"] == "SHN_UNDEF":
                problems.append(f"undefined symbol {sym.name}")
    return sorted(set(problems))


def _check_shim(target, source, env):
    problems = check_object(target[0].abspath)
    for p in problems:
        print(f"goxen_shim: {target[0]}: {p}", file=sys.stderr)
    if problems:
        Path(target[0].abspath).unlink(missing_ok=True)
    return 1 if problems else 0


def GoxenShim(env, target="#build/shim/shim_xen_amd64.o", sources=None):
    """Compile the shim sources (default: every *.c and *.S in $GOXEN_SHIM_SRCDIR) into target."""
    target = env.File(target)
    if sources is None:
        srcdir = Path(env.subst("$GOXEN_SHIM_SRCDIR"))
        sources = sorted(p for s in SUFFIXES for p in srcdir.glob("*" + s))
    sources = env.arg2nodes(sources, env.File)
    if not sources:
        return env.Command(target, [], SCons.Action.Action(_no_sources, "  CC      (no sources)"))
    objdir = target.dir.Dir("obj")
    objs = [env.GoxenShimObject(objdir.File(src.name + ".o"), src)[0] for src in sources]
    combined = env.GoxenShimLink(target.dir.File(target.name[:-2] + "-all.o"), objs)
    return env.GoxenShimLocalize(target, combined)


def generate(env, **kw):
    env.SetDefault(
        GOXEN_SRC=str(paths.REPO),
        GOXEN_SHIM_SRCDIR="$GOXEN_SRC/mini-os-shim",
        GOXEN_SHIM_CC="gcc",
        GOXEN_SHIM_LD="ld",
        GOXEN_SHIM_OBJCOPY="objcopy",
        GOXEN_SHIM_CFLAGS=list(CFLAGS),
        GOXEN_XEN_INCLUDE=_xen_include,
        GOXEN_SHIM_CPPPATH=["$GOXEN_XEN_INCLUDE", "$GOXEN_SHIM_SRCDIR/include"],
        _GOXEN_SHIM_INCFLAGS='${_concat("-I", GOXEN_SHIM_CPPPATH, "", __env__)}',
        GOXEN_SHIM_ASFLAGS=["-D__ASSEMBLY__"],
        GOXEN_SHIMCCCOM="$GOXEN_SHIM_CC $GOXEN_SHIM_CFLAGS $_GOXEN_SHIM_INCFLAGS -c -o $TARGET $SOURCE",
        GOXEN_SHIMASCOM="$GOXEN_SHIM_CC $GOXEN_SHIM_CFLAGS $GOXEN_SHIM_ASFLAGS $_GOXEN_SHIM_INCFLAGS "
                        "-c -o $TARGET $SOURCE",
        GOXEN_SHIMCOM="$GOXEN_SHIM_LD -r -o $TARGET $SOURCES",
        GOXEN_SHIMLOCALCOM="$GOXEN_SHIM_OBJCOPY --localize-hidden $SOURCE $TARGET",
    )
    if not kw.get("verbose", False):
        env.SetDefault(GOXEN_SHIMCCCOMSTR="  CC      $SOURCE",
                       GOXEN_SHIMASCOMSTR="  AS      $SOURCE",
                       GOXEN_SHIMCOMSTR="  LD -r   $TARGET",
                       GOXEN_SHIMLOCALCOMSTR="  OBJCOPY $TARGET",
                       GOXEN_SHIMCHECKCOMSTR="  CHECK   $TARGET")
    env["BUILDERS"]["GoxenShimObject"] = SCons.Builder.Builder(
        action={".c": SCons.Action.Action("$GOXEN_SHIMCCCOM", "$GOXEN_SHIMCCCOMSTR"),
                ".S": SCons.Action.Action("$GOXEN_SHIMASCOM", "$GOXEN_SHIMASCOMSTR")},
        source_scanner=_include_scanner, suffix=".o", src_suffix=SUFFIXES)
    env["BUILDERS"]["GoxenShimLink"] = SCons.Builder.Builder(
        action=SCons.Action.Action("$GOXEN_SHIMCOM", "$GOXEN_SHIMCOMSTR"), suffix=".o")
    env["BUILDERS"]["GoxenShimLocalize"] = SCons.Builder.Builder(
        action=[SCons.Action.Action("$GOXEN_SHIMLOCALCOM", "$GOXEN_SHIMLOCALCOMSTR"),
                SCons.Action.Action(_check_shim, "$GOXEN_SHIMCHECKCOMSTR")], suffix=".o")
    env.AddMethod(GoxenShim, "GoxenShim")


def exists(env):
    return bool(env.WhereIs("gcc") and env.WhereIs("ld") and env.WhereIs("objcopy"))
