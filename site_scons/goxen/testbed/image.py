"""Images of the tier-3 test bed, made from Debian bookworm packages (goxen.debian):

    dom0_kernel(out)        uncompressed vmlinux ELF of Debian's 6.1 kernel (the dom0 kernel and
                            the kernel of the Linux baseline domU)
    dom0_initramfs(out)     busybox, xl, xenstored, xenconsoled, the Xen libraries, the modules
                            (netback, bridge, virtio net/console/9p) and goxen/dom0's scripts
    baseline_initramfs(out, app_binary)
                            a Linux PV domU: busybox, xen-netfront and a linux/amd64 program
                            run by goxen/dom0/baseline-init with the domU's `ip=`/`gw=` words

Nothing is installed on the host. `inputs_digest()` hashes everything an image is made of (the
package names and .deb file names, the data files and this module), so the SCons tool can key
its cache on it. Files are written atomically (`out.tmp`, then rename).
"""

import fcntl
import functools
import hashlib
import lzma
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

from goxen import debian
from goxen.testbed.cpio import Archive

#: Debian's kernel ABI; the metapackage linux-image-amd64 names the current one.
DEFAULT_KERNEL_ABI = "6.1.0-56"
XEN_BIN = f"usr/lib/xen-{debian.XEN_VERSION}/bin"
DATA = Path(__file__).resolve().parents[1] / "dom0"
LIB_DIRS = ("lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu")

#: Packages of the dom0 besides the kernel (libraries: what xl, xenstored and xenconsoled link,
#: plus libgcc_s, which glibc dlopens for pthread_cancel: xl aborts without it).
DOM0_PACKAGES = [
    "busybox-static", f"xen-utils-{debian.XEN_VERSION}", "xen-utils-common", "xenstore-utils",
    f"libxenmisc{debian.XEN_VERSION}", "libxencall1", "libxendevicemodel1", "libxenevtchn1",
    "libxenforeignmemory1", "libxengnttab1", "libxenhypfs1", "libxenstore4", "libxentoolcore1",
    "libxentoollog1", "libyajl2", "libc6", "libgcc-s1", "libuuid1", "zlib1g", "liblzma5",
    "libzstd1",
]
DOM0_BINARIES = ["xl", "xenstored", "xenconsoled", "xen-init-dom0", "libxl-save-helper"]
XENSTORE_TOOLS = ["read", "write", "rm", "ls", "list", "exists", "watch", "chmod"]
#: Loaded in this order by the dom0's /init (dependencies are added before each one).
DOM0_MODULES = ["xen-privcmd", "xenfs", "xen-evtchn", "xen-gntdev", "xen-gntalloc",
                "xen-netback", "bridge", "virtio_pci", "virtio_net", "virtio_console",
                "9pnet_virtio", "9p"]
BASELINE_MODULES = ["xen-netfront"]
EXTRA_LIBS = ["libgcc_s.so.1"]


class ImageError(RuntimeError):
    """An image cannot be made from the unpacked packages."""


def _progress(msg):
    print(f"goxen: {msg}", file=sys.stderr, flush=True)


@functools.lru_cache(maxsize=None)
def kernel_abi():
    """The kernel ABI (e.g. 6.1.0-56): $GOXEN_KERNEL_ABI, else the newest one already unpacked
    in the cache (so a Debian kernel update does not change a working bed by surprise), else
    what apt's linux-image-amd64 depends on, else DEFAULT_KERNEL_ABI."""
    abi = os.environ.get("GOXEN_KERNEL_ABI")
    if abi:
        return abi
    cached = [m.group(1) for p in debian.STAMPS.glob("linux-image-*-amd64")
              if (m := re.fullmatch(r"linux-image-([0-9.]+-[0-9]+)-amd64", p.name))]
    if cached:
        return max(cached, key=lambda v: [int(x) for x in re.split(r"[.-]", v)])
    try:
        out = subprocess.run(["apt-cache", "show", "--no-all-versions", "linux-image-amd64"],
                             capture_output=True, text=True, timeout=30).stdout
        m = re.search(r"^Depends:.*\blinux-image-([0-9.]+-[0-9]+)-amd64\b", out, re.M)
        if m:
            return m.group(1)
    except (OSError, subprocess.SubprocessError):
        pass
    return DEFAULT_KERNEL_ABI


def kernel_package(abi=None):
    return f"linux-image-{abi or kernel_abi()}-amd64"


def packages(abi=None):
    return [kernel_package(abi), *DOM0_PACKAGES]


def fetch(abi=None):
    """Download and unpack every package of the bed; return (root, abi)."""
    abi = abi or kernel_abi()
    return debian.fetch(packages(abi)), abi


def data_files():
    return sorted(p for p in DATA.iterdir() if p.is_file())


def inputs_digest(abi=None):
    """sha256 over what the images are made of; changes whenever any input changes."""
    abi = abi or kernel_abi()
    h = hashlib.sha256()
    root = debian.fetch(packages(abi))
    for pkg in packages(abi):
        h.update(f"pkg {pkg} {(debian.STAMPS / pkg).read_text().strip()}\n".encode())
    for path in [Path(__file__), Path(__file__).with_name("cpio.py"), *data_files()]:
        h.update(f"file {path.name}\n".encode())
        h.update(path.read_bytes())
    del root
    return h.hexdigest()


def _atomic_write(out, write):
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f"{out.name}.{os.getpid()}.tmp")
    write(tmp)
    tmp.replace(out)
    return out


# ---------------------------------------------------------------------------------------------
# Kernel

def extract_vmlinux(bzimage):
    """The ELF inside a bzImage whose payload is xz-compressed (Debian's kernels)."""
    data = Path(bzimage).read_bytes()
    start = data.find(b"\xfd7zXZ\x00")
    if start < 0:
        raise ImageError(f"{bzimage}: no xz payload found")
    elf = lzma.LZMADecompressor().decompress(data[start:])
    if elf[:4] != b"\x7fELF":
        raise ImageError(f"{bzimage}: the xz payload is not an ELF file")
    return elf


PT_LOAD, PT_NOTE = 1, 4


def compact_elf(elf):
    """A loadable-only copy of a 64-bit little-endian ELF executable: the program headers and
    each PT_LOAD's bytes without their trailing zeros (the loader zero-fills up to p_memsz), no
    section headers. Debian's vmlinux shrinks from 66 MB to 35 MB: its .bss is stored as zeros.
    PT_NOTE headers are moved with the PT_LOAD that holds them."""
    if elf[:4] != b"\x7fELF" or elf[4] != 2 or elf[5] != 1:
        raise ImageError("compact_elf: not a 64-bit little-endian ELF file")
    e_phoff, = struct.unpack_from("<Q", elf, 0x20)
    e_phentsize, e_phnum = struct.unpack_from("<HH", elf, 0x36)
    phdrs = [list(struct.unpack_from("<IIQQQQQQ", elf, e_phoff + i * e_phentsize))
             for i in range(e_phnum)]
    head = 64 + e_phnum * 56
    out = bytearray(head)
    moved = []          # (old offset, old end, new offset)
    for ph in phdrs:
        p_type, _, off, vaddr, _, filesz, _, _ = ph
        if p_type != PT_LOAD:
            continue
        data = elf[off:off + filesz].rstrip(b"\0")
        new_off = len(out) + (vaddr - len(out)) % 4096    # keep offset == vaddr (mod 4096)
        out += b"\0" * (new_off - len(out)) + data
        moved.append((off, off + filesz, new_off))
        ph[2], ph[5] = new_off, len(data)
    for ph in phdrs:
        p_type, off, filesz = ph[0], ph[2], ph[5]
        if p_type == PT_LOAD:
            continue
        for old, end, new in moved:
            if filesz and old <= off and off + filesz <= end:
                ph[2] = new + (off - old)
                break
        else:
            if p_type == PT_NOTE and filesz:
                raise ImageError("compact_elf: a PT_NOTE lies outside every PT_LOAD")
            ph[2] = 0
            ph[5] = 0
    out[:64] = elf[:64]
    struct.pack_into("<Q", out, 0x20, 64)           # e_phoff
    struct.pack_into("<Q", out, 0x28, 0)            # e_shoff
    struct.pack_into("<HHH", out, 0x3A, 0, 0, 0)    # e_shentsize, e_shnum, e_shstrndx
    struct.pack_into("<H", out, 0x38, e_phnum)
    struct.pack_into("<H", out, 0x36, 56)
    for i, ph in enumerate(phdrs):
        struct.pack_into("<IIQQQQQQ", out, 64 + i * 56, *ph)
    return bytes(out)


def dom0_kernel(out, abi=None):
    """Write the uncompressed vmlinux ELF (Xen and libxenguest then skip the xz step),
    compacted (compact_elf) so that loading it reads half as much."""
    root, abi = fetch(abi)
    src = root / "boot" / f"vmlinuz-{abi}-amd64"
    _progress(f"extracting {out} from {src.name}")
    return _atomic_write(out, lambda p: p.write_bytes(compact_elf(extract_vmlinux(src))))


# ---------------------------------------------------------------------------------------------
# Modules and libraries

def _modinfo(path):
    from elftools.elf.elffile import ELFFile
    with open(path, "rb") as f:
        sec = ELFFile(f).get_section_by_name(".modinfo")
        raw = sec.data() if sec is not None else b""
    info = {}
    for item in raw.split(b"\0"):
        if b"=" in item:
            k, v = item.decode(errors="replace").split("=", 1)
            info.setdefault(k, v)
    return info


def _module_index(root, abi):
    base = root / "lib" / "modules" / f"{abi}-amd64" / "kernel"
    if not base.is_dir():
        raise ImageError(f"{base} missing: is {kernel_package(abi)} unpacked?")
    return {p.name[:-3].replace("-", "_"): p for p in base.rglob("*.ko")}


def module_closure(root, abi, wanted):
    """Module files for wanted (names), dependencies first, each once."""
    index = _module_index(root, abi)
    order = []
    seen = set()

    def visit(name, chain):
        key = name.replace("-", "_")
        if key in seen:
            return
        if key not in index:
            raise ImageError(f"kernel module {name} not found in {kernel_package(abi)}"
                             + (f" (needed by {chain[-1]})" if chain else ""))
        seen.add(key)
        deps = _modinfo(index[key]).get("depends", "")
        for dep in filter(None, deps.split(",")):
            visit(dep, chain + [name])
        order.append(index[key])

    for name in wanted:
        visit(name, [])
    return order


def _find_lib(root, name):
    for d in LIB_DIRS:
        p = root / d / name
        if p.exists():
            return d, p.resolve()
    raise ImageError(f"library {name} not found in the unpacked packages ({', '.join(LIB_DIRS)})")


def _needed(path):
    from elftools.elf.dynamic import DynamicSection
    from elftools.elf.elffile import ELFFile
    with open(path, "rb") as f:
        elf = ELFFile(f)
        out = []
        for sec in elf.iter_sections():
            if isinstance(sec, DynamicSection):
                out += [t.needed for t in sec.iter_tags() if t.entry.d_tag == "DT_NEEDED"]
        return out


def library_closure(root, binaries, extra=()):
    """{soname: (dir, resolved path)} for everything binaries need, plus extra sonames."""
    libs = {}
    todo = list(extra)
    for b in binaries:
        todo += _needed(b)
    while todo:
        name = todo.pop()
        if name in libs:
            continue
        d, path = _find_lib(root, name)
        libs[name] = (d, path)
        todo += _needed(path)
    return libs


# ---------------------------------------------------------------------------------------------
# Initramfs pieces

def _busybox(arc, root):
    bb = root / "bin" / "busybox"
    arc.file("bin/busybox", bb.read_bytes(), 0o755)
    applets = subprocess.run([str(bb), "--list-full"], capture_output=True, text=True,
                             check=True).stdout.split()
    for full in sorted(applets):
        if full.endswith("/busybox") or full in arc:
            continue
        arc.symlink(full, "/bin/busybox")
    for d in ("proc", "sys", "dev", "tmp", "run", "root", "etc"):
        arc.dir(d)
    arc.chardev("dev/console", 5, 1)
    arc.chardev("dev/null", 1, 3, 0o666)


def _modules(arc, root, abi, wanted):
    names = []
    for path in module_closure(root, abi, wanted):
        arc.file(f"lib/modules/{path.name}", path.read_bytes())
        names.append(path.name)
    arc.file("etc/goxen/modules", "".join(n + "\n" for n in names).encode())


def _data(name):
    path = DATA / name
    if not path.is_file():
        raise ImageError(f"{path} missing")
    return path.read_bytes()


def dom0_archive(abi=None):
    root, abi = fetch(abi)
    arc = Archive()
    _busybox(arc, root)
    arc.file("init", _data("init"), 0o755)
    arc.file("etc/goxen/agent", _data("agent"), 0o755)
    binaries = []
    for b in DOM0_BINARIES:
        src = root / XEN_BIN / b
        arc.file(f"{XEN_BIN}/{b}", src.read_bytes(), 0o755)
        arc.symlink(f"usr/sbin/{b}", f"../lib/xen-{debian.XEN_VERSION}/bin/{b}")
        binaries.append(src)
    xs = root / "usr" / "bin" / "xenstore"
    arc.file("usr/bin/xenstore", xs.read_bytes(), 0o755)
    binaries.append(xs)
    for t in XENSTORE_TOOLS:
        arc.symlink(f"usr/bin/xenstore-{t}", "xenstore")
    for soname, (d, path) in sorted(library_closure(root, binaries, EXTRA_LIBS).items()):
        arc.file(f"{d}/{soname}", path.read_bytes(), 0o755)
    arc.symlink("lib64/ld-linux-x86-64.so.2", "../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2")
    arc.file("etc/xen/scripts/vif-goxen", _data("vif-goxen"), 0o755)
    arc.file("etc/xen/xl.conf", _data("xl.conf"))
    for d in ("var/lib/xen", "var/log/xen", "var/lib/xenstored", "host"):
        arc.dir(d)
    arc.symlink("var/run", "../run")
    arc.symlink("var/lock", "../run/lock")
    _modules(arc, root, abi, DOM0_MODULES)
    return arc


def dom0_initramfs(out, abi=None):
    _progress(f"building the dom0 initramfs {out}")
    arc = dom0_archive(abi)
    return _atomic_write(out, lambda p: arc.write_gz(p))


def baseline_archive(app_binary, abi=None):
    root, abi = fetch(abi)
    arc = Archive()
    _busybox(arc, root)
    arc.file("init", _data("baseline-init"), 0o755)
    arc.file("app", Path(app_binary).read_bytes(), 0o755)
    _modules(arc, root, abi, BASELINE_MODULES)
    return arc


def baseline_initramfs(out, app_binary, abi=None):
    """The Linux baseline domU's initramfs running app_binary (a static linux/amd64 program)."""
    _progress(f"building the baseline initramfs {out}")
    arc = baseline_archive(app_binary, abi)
    return _atomic_write(out, lambda p: arc.write_gz(p))


# ---------------------------------------------------------------------------------------------
# Cached outputs (the SCons tool and the tier-3 fixtures share these)

BED_KERNEL = "vmlinux"
BED_INITRAMFS = "dom0.cpio.gz"
STAMP = "inputs.sha256"
#: A Linux baseline domU needs more memory than a unikernel; this is its floor.
BASELINE_MIN_MEMORY_MIB = 128


def bed_images(outdir, force=False):
    """(vmlinux, dom0 initramfs) in outdir, rebuilt when inputs_digest() changed (or force)."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    kernel, initramfs, stamp = outdir / BED_KERNEL, outdir / BED_INITRAMFS, outdir / STAMP
    abi = kernel_abi()
    digest = inputs_digest(abi)
    # One builder at a time (SCons, several pytest sessions); the others then find it fresh.
    with open(outdir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        fresh = (kernel.is_file() and initramfs.is_file() and stamp.is_file()
                 and stamp.read_text().strip() == digest)
        if force or not fresh:
            stamp.unlink(missing_ok=True)
            dom0_kernel(kernel, abi)
            dom0_initramfs(initramfs, abi)
            stamp.write_text(digest + "\n")
    return kernel, initramfs


def baseline_xl(name, kernel, ramdisk, memory_mib, cmdline=""):
    """xl config text of a Linux baseline domU."""
    if '"' in cmdline or "\n" in cmdline:
        raise ImageError("the command line may not contain double quotes or newlines")
    memory = max(int(memory_mib), BASELINE_MIN_MEMORY_MIB)
    extra = " ".join(w for w in ["console=hvc0", "loglevel=4", "cryptomgr.notests", cmdline]
                     if w)
    return (f"# xl config of the Linux baseline of {name}, generated by goxen.testbed.image\n"
            f'name = "{name}"\ntype = "pv"\nkernel = "{kernel}"\nramdisk = "{ramdisk}"\n'
            f'memory = {memory}\nvcpus = 1\non_poweroff = "destroy"\non_reboot = "destroy"\n'
            f'on_crash = "destroy"\nextra = "{extra}"\n')
