"""romfs image writer (and a small checking reader): a directory -> one read-only image.

The format is romfs/FORMAT.md (version 1). Usage:

    python -m goxen.romfs pack DIR OUT [--align N] [--mtime SECONDS] [--follow-symlinks]
    python -m goxen.romfs list IMAGE

Output is deterministic: entries are sorted by the bytes of their UTF-8 names and numbered
breadth-first, and every byte of padding is zero, so the same tree gives the same image. Each
entry's mtime is recorded (nanoseconds) unless SOURCE_DATE_EPOCH is set in the environment or
mtime= is given, in which case every entry gets that time: a fresh checkout then packs to the
same bytes as any other. Permission bits (0o777) are kept; owners are not.

Symbolic links are refused (the guest's file layer resolves no links) unless follow_symlinks is
set; then a link whose target lies inside the packed directory is stored as a copy of the target
and a link leading outside it, or into a loop, is an error. Devices, FIFOs and sockets are
refused. Every refusal is a RomfsError naming the path and the reason.
"""

import argparse
import os
import stat
import struct
import sys
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

MAGIC = b"GOXROMFS"
VERSION = 1
HEADER_SIZE = 64
NODE_SIZE = 48
DEFAULT_ALIGN = 16
MIN_ALIGN, MAX_ALIGN = 8, 65536
MAX_NAME = 255
MAX_PATH = 4096
MAX_DEPTH = 255
MAX_NODES = 2**31 - 1
MAX_INDEX = 2**32 - 1
MAX_FILE = 2**62

S_IFDIR = 0o040000
S_IFREG = 0o100000

# header: magic, version, header_size, node_size, flags, image_size, node_count, names_off,
# names_size, data_off, data_align, reserved, data_size, reserved, index_crc
_HEADER = struct.Struct("<8sHHHHQIIIIIIQII")
# node: name_off, name_len, reserved, mode, parent, mtime, off, size, data_crc, reserved
_NODE = struct.Struct("<IHHIIqQQII")
assert _HEADER.size == HEADER_SIZE and _NODE.size == NODE_SIZE

_CHUNK = 1 << 20


class RomfsError(Exception):
    """A tree cannot be packed or an image cannot be read; str() names the path and the reason."""


@dataclass
class _Node:
    name: bytes            # UTF-8, b"" for the root
    path: str              # path relative to the packed directory, "." for the root
    source: Path           # where the contents come from (the link target when following)
    mode: int
    mtime_ns: int
    parent: int = 0
    size: int = 0          # file: bytes; directory: number of children
    off: int = 0           # file: data offset; directory: first child
    crc: int = 0
    children: list = field(default_factory=list)   # directories only, while walking


def _mtime_override(mtime):
    """Return the forced mtime in ns, or None: mtime= wins over SOURCE_DATE_EPOCH."""
    if mtime is None:
        env = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
        if not env:
            return None
        try:
            mtime = int(env)
        except ValueError:
            raise RomfsError(f"SOURCE_DATE_EPOCH={env!r} is not a whole number of seconds") from None
    return int(mtime) * 1_000_000_000


def _encode_name(name, relpath):
    raw = os.fsencode(name)
    try:
        raw.decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        raise RomfsError(f"{relpath!r}: the name is not valid UTF-8") from None
    if not raw or raw in (b".", b"..") or b"/" in raw or b"\0" in raw:
        raise RomfsError(f"{relpath!r}: invalid name")
    if len(raw) > MAX_NAME:
        raise RomfsError(f"{relpath}: name is {len(raw)} bytes long (at most {MAX_NAME})")
    return raw


def _walk(root, follow_symlinks, mtime_ns):
    """The tree under root as a breadth-first list of _Node (index = node number)."""
    root = Path(root)
    try:
        st = os.stat(root)
    except OSError as e:
        raise RomfsError(f"{root}: {e.strerror}") from None
    if not stat.S_ISDIR(st.st_mode):
        raise RomfsError(f"{root}: not a directory")
    real_root = os.path.realpath(root)

    def make(name, relpath, path, st):
        t = mtime_ns if mtime_ns is not None else st.st_mtime_ns
        kind = S_IFDIR if stat.S_ISDIR(st.st_mode) else S_IFREG
        return _Node(name=name, path=relpath, source=Path(path), mode=kind | (st.st_mode & 0o777),
                     mtime_ns=t, size=0 if kind == S_IFDIR else st.st_size)

    nodes = [make(b"", ".", root, st)]
    # ancestors: the real paths of the directories leading to each directory (loop detection)
    ancestors = {0: (real_root,)}
    i = 0
    while i < len(nodes):
        d = nodes[i]
        if d.mode & S_IFDIR:
            depth = 0 if d.path == "." else d.path.count("/") + 1
            try:
                with os.scandir(d.source) as it:
                    entries = list(it)
            except OSError as e:
                raise RomfsError(f"{d.path}: cannot list the directory: {e.strerror}") from None
            named = sorted(((_encode_name(e.name, _join(d.path, e.name)), e) for e in entries),
                           key=lambda x: x[0])
            d.off = len(nodes)
            d.size = len(named)
            if named and depth + 1 > MAX_DEPTH:
                raise RomfsError(f"{d.path}: entries in it are deeper than {MAX_DEPTH} path elements")
            for raw, e in named:
                rel = _join(d.path, e.name)
                if len(os.fsencode(rel)) > MAX_PATH:
                    raise RomfsError(f"{rel[:64]}...: path longer than {MAX_PATH} bytes")
                path = Path(e.path)
                try:
                    lst = os.lstat(path)
                except OSError as err:
                    raise RomfsError(f"{rel}: {err.strerror}") from None
                chain = ancestors[i]
                if stat.S_ISLNK(lst.st_mode):
                    target = os.readlink(path)
                    if not follow_symlinks:
                        raise RomfsError(
                            f"{rel}: symbolic link to {target!r}: romfs stores no symbolic links "
                            "(the guest resolves none); copy the target or pack with "
                            "--follow-symlinks")
                    real = os.path.realpath(path)
                    if os.path.commonpath([real_root, real]) != real_root:
                        raise RomfsError(f"{rel}: symbolic link to {target!r} leads outside "
                                         f"the packed directory ({real})")
                    try:
                        st = os.stat(real)
                    except OSError as err:
                        raise RomfsError(f"{rel}: symbolic link to {target!r}: {err.strerror}") from None
                    if stat.S_ISDIR(st.st_mode) and real in chain:
                        raise RomfsError(f"{rel}: symbolic link to {target!r} makes a loop")
                    path = Path(real)
                else:
                    st = lst
                    real = os.path.join(chain[-1], e.name)
                if stat.S_ISDIR(st.st_mode):
                    ancestors[len(nodes)] = chain + (real,)
                elif not stat.S_ISREG(st.st_mode):
                    raise RomfsError(f"{rel}: {_kind(st.st_mode)}: romfs stores only regular "
                                     "files and directories")
                elif st.st_size > MAX_FILE:
                    raise RomfsError(f"{rel}: {st.st_size} bytes (at most {MAX_FILE})")
                n = make(raw, rel, path, st)
                n.parent = i
                nodes.append(n)
                if len(nodes) > MAX_NODES:
                    raise RomfsError(f"{root}: more than {MAX_NODES} entries")
        ancestors.pop(i, None)
        i += 1
    return nodes


def _join(parent, name):
    return name if parent == "." else f"{parent}/{name}"


def _kind(mode):
    for test, name in ((stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"),
                       (stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket")):
        if test(mode):
            return name
    return f"file of type {stat.S_IFMT(mode):o}"


def _align(n, a):
    return (n + a - 1) // a * a


def _check_align(align):
    if not (MIN_ALIGN <= align <= MAX_ALIGN) or align & (align - 1):
        raise RomfsError(f"data alignment {align}: a power of two from {MIN_ALIGN} to {MAX_ALIGN}")


def sources(root, follow_symlinks=False):
    """Every regular file and directory an image of root is made from (for build scanners)."""
    return [n.source for n in _walk(root, follow_symlinks, 0)]


def manifest(root, follow_symlinks=False):
    """(files, text) for build tools: the regular files packed from root, and a text naming
    every entry with its mode and the mtime the image will record (so that a chmod or touch
    shows). Raises RomfsError for a tree the writer refuses."""
    nodes = _walk(root, follow_symlinks, _mtime_override(None))
    files = [n.source for n in nodes if not n.mode & S_IFDIR]
    return files, "\n".join(f"{n.path}\0{n.mode:o}\0{n.mtime_ns}" for n in nodes)


def pack(root, out, align=DEFAULT_ALIGN, mtime=None, follow_symlinks=False, progress=None):
    """Pack the directory root into the image file out (written atomically). Returns its size.

    mtime: seconds since the epoch for every entry (default: SOURCE_DATE_EPOCH, else each
    entry's own). progress: optional callable(str) for progress lines on big trees.
    """
    _check_align(align)
    nodes = _walk(root, follow_symlinks, _mtime_override(mtime))
    names = bytearray()
    name_offs = []
    for n in nodes:
        name_offs.append(len(names))
        names += n.name
    names_off = HEADER_SIZE + NODE_SIZE * len(nodes)
    data_off = _align(names_off + len(names), align)
    if data_off > MAX_INDEX:
        raise RomfsError(f"{root}: the index needs {data_off} bytes (at most {MAX_INDEX})")
    pos = data_off
    for n in nodes:
        if not n.mode & S_IFDIR:
            n.off = pos if n.size else data_off
            pos = _align(pos + n.size, align)
    image_size = pos

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=out.name + ".", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.truncate(image_size)
            f.seek(data_off)
            done = 0
            for n in nodes:
                if n.mode & S_IFDIR or not n.size:
                    continue
                f.seek(n.off)
                n.crc = _copy(n, f)
                done += n.size
                if progress and n.size >= 16 * _CHUNK:
                    progress(f"romfs: {n.path} ({n.size} bytes)")
            index = bytearray(data_off)
            for i, n in enumerate(nodes):
                _NODE.pack_into(index, HEADER_SIZE + NODE_SIZE * i, name_offs[i], len(n.name), 0,
                                n.mode, n.parent, n.mtime_ns, n.off, n.size, n.crc, 0)
            index[names_off:names_off + len(names)] = names
            _HEADER.pack_into(index, 0, MAGIC, VERSION, HEADER_SIZE, NODE_SIZE, 0, image_size,
                              len(nodes), names_off, len(names), data_off, align, 0,
                              image_size - data_off, 0, 0)
            crc = zlib.crc32(bytes(index[HEADER_SIZE:data_off]), zlib.crc32(bytes(index[:60])))
            struct.pack_into("<I", index, 60, crc)
            f.seek(0)
            f.write(index)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        os.unlink(tmp)
        raise
    return image_size


def _copy(n, f):
    """Copy n's contents to f; return their crc32. The file must still have its walked size."""
    crc = 0
    left = n.size
    try:
        with open(n.source, "rb") as src:
            while left:
                chunk = src.read(min(left, _CHUNK))
                if not chunk:
                    break
                crc = zlib.crc32(chunk, crc)
                f.write(chunk)
                left -= len(chunk)
            extra = src.read(1)
    except OSError as e:
        raise RomfsError(f"{n.path}: cannot read: {e.strerror}") from None
    if left or extra:
        raise RomfsError(f"{n.path}: changed size while being packed")
    return crc


#: The std symbol an application's image is pushed into (GOOS=xen syscall: `var romfsImage
#: string`, an empty BSS definition that a definition with content replaces at link time).
EMBED_SYMBOL = "syscall.romfsImage"
EMBED_GO = "zz_goxen_romfs_xen.go"
EMBED_IMG = "zz_goxen_romfs.img"

_EMBED_TEMPLATE = """\
// Code generated by goxen.romfs for the go-xen image build; DO NOT EDIT.
// It is not in the source tree: go build -overlay adds it to the package.

//go:build xen

package {package}

import (
	_ "embed"
	_ "unsafe"
)

// goxenRomfsImage is this program's romfs image (romfs/FORMAT.md). The linker lets this
// definition, which has content, replace the empty one in {symbol_pkg}.
//
//go:linkname goxenRomfsImage {symbol}
//go:embed {image}
var goxenRomfsImage string
"""


def embed_overlay(image, package_dir, out_dir, symbol=EMBED_SYMBOL, package="main"):
    """Write a `go build -overlay` file that links image into the Go package at package_dir.

    Two virtual files join the package: EMBED_IMG (the image) and EMBED_GO, which embeds it
    into a string and pushes that string, with //go:linkname, into symbol. Nothing is written
    into the source tree; out_dir receives the generated Go file and overlay.json, whose path
    is returned. Paths in the overlay are absolute.
    """
    pkg = Path(package_dir).resolve()
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    gofile = out / EMBED_GO
    gofile.write_text(_EMBED_TEMPLATE.format(package=package, symbol=symbol, image=EMBED_IMG,
                                             symbol_pkg=symbol.rsplit(".", 1)[0]))
    overlay = out / "overlay.json"
    import json
    overlay.write_text(json.dumps({"Replace": {
        str(pkg / EMBED_GO): str(gofile),
        str(pkg / EMBED_IMG): str(Path(image).resolve()),
    }}, indent=1, sort_keys=True) + "\n")
    return overlay


@dataclass(frozen=True)
class Entry:
    path: str       # "." for the root, else relative with "/"
    mode: int
    mtime_ns: int
    size: int       # file bytes or number of children
    data: bytes     # file contents (b"" for directories)


def read(image):
    """Parse and check an image (bytes); return its entries in node order. For tests and `list`."""
    b = bytes(image)
    if len(b) < HEADER_SIZE:
        raise RomfsError(f"image is {len(b)} bytes, shorter than the header")
    (magic, version, hsize, nsize, flags, image_size, count, names_off, names_size, data_off,
     align, _, data_size, _, crc) = _HEADER.unpack_from(b)
    if magic != MAGIC:
        raise RomfsError(f"bad magic {magic!r}")
    if version != VERSION:
        raise RomfsError(f"image version {version}, this reader knows version {VERSION}")
    if (hsize, nsize, flags) != (HEADER_SIZE, NODE_SIZE, 0) or len(b) < image_size \
            or data_off > image_size or names_off + names_size > data_off:
        raise RomfsError("inconsistent header")
    if zlib.crc32(b[HEADER_SIZE:data_off], zlib.crc32(b[:60])) != crc:
        raise RomfsError("index checksum mismatch")
    names = b[names_off:names_off + names_size]
    raw = [_NODE.unpack_from(b, HEADER_SIZE + NODE_SIZE * i) for i in range(count)]
    paths = ["."]
    out = []
    for i, (noff, nlen, _, mode, parent, mtime, off, size, dcrc, _) in enumerate(raw):
        if i:
            paths.append(_join(paths[parent], names[noff:noff + nlen].decode("utf-8")))
        data = b""
        if mode & S_IFREG == S_IFREG:
            data = b[off:off + size]
            if zlib.crc32(data) != dcrc:
                raise RomfsError(f"{paths[i]}: data checksum mismatch")
        out.append(Entry(paths[i], mode, mtime, size, data))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m goxen.romfs", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pack", help="pack DIR into the image OUT")
    p.add_argument("dir")
    p.add_argument("out")
    p.add_argument("--align", type=int, default=DEFAULT_ALIGN, help="file data alignment (bytes)")
    p.add_argument("--mtime", type=int, default=None,
                   help="mtime for every entry, in seconds (default: $SOURCE_DATE_EPOCH or recorded)")
    p.add_argument("--follow-symlinks", action="store_true",
                   help="store copies of symlink targets inside DIR instead of refusing links")
    ls = sub.add_parser("list", help="check IMAGE and list its entries")
    ls.add_argument("image")
    a = ap.parse_args(argv)
    try:
        if a.cmd == "pack":
            size = pack(a.dir, a.out, align=a.align, mtime=a.mtime,
                        follow_symlinks=a.follow_symlinks, progress=print)
            print(f"romfs: {a.out}: {size} bytes")
        else:
            for e in read(Path(a.image).read_bytes()):
                kind = "d" if e.mode & S_IFDIR else "-"
                print(f"{kind}{e.mode & 0o777:04o} {e.size:>12} {e.path}")
    except RomfsError as e:
        print(f"romfs: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
