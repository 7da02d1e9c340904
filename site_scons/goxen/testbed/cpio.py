"""A deterministic writer of Linux initramfs archives (cpio "newc", gzip-compressed).

    arc = Archive()
    arc.dir("bin")
    arc.file("bin/busybox", data, mode=0o755)
    arc.symlink("bin/sh", "busybox")
    arc.write_gz(path)      # every entry owned by root, mtime 0, in the order added

Parent directories are added automatically; adding the same path twice is an error, so two
parts of an image can never silently overwrite each other.
"""

import gzip
import io
import stat
from pathlib import PurePosixPath

TRAILER = "TRAILER!!!"


class Archive:
    def __init__(self):
        self._entries = []      # (name, mode, data)
        self._names = {}

    def __contains__(self, name):
        return _norm(name) in self._names

    def names(self):
        return [e[0] for e in self._entries]

    def _add(self, name, mode, data):
        name = _norm(name)
        parent = str(PurePosixPath(name).parent)
        if parent != "." and parent not in self._names:
            self.dir(parent)
        if name in self._names:
            raise ValueError(f"initramfs: {name} added twice")
        self._names[name] = mode
        self._entries.append((name, mode, data))

    def dir(self, name, mode=0o755):
        name = _norm(name)
        if self._names.get(name, None) is not None and stat.S_ISDIR(self._names[name]):
            return
        self._add(name, stat.S_IFDIR | mode, b"")

    def file(self, name, data, mode=0o644):
        self._add(name, stat.S_IFREG | mode, bytes(data))

    def symlink(self, name, target):
        self._add(name, stat.S_IFLNK | 0o777, target.encode())

    def chardev(self, name, major, minor, mode=0o600):
        self._add(name, stat.S_IFCHR | mode, (major, minor))

    def to_bytes(self):
        out = io.BytesIO()
        ino = 1
        for name, mode, data in self._entries + [(TRAILER, 0, b"")]:
            rdev = (0, 0)
            if stat.S_ISCHR(mode):
                rdev, data = data, b""
            nlink = 2 if stat.S_ISDIR(mode) else 1
            _header(out, ino, mode, nlink, len(data), rdev, name)
            out.write(data)
            _pad(out)
            ino += 1
        return out.getvalue()

    def write_gz(self, path, level=6):
        with open(path, "wb") as f:
            # mtime=0 and no file name keep the output byte-for-byte reproducible.
            with gzip.GzipFile(fileobj=f, mode="wb", compresslevel=level, mtime=0,
                               filename="") as gz:
                gz.write(self.to_bytes())


def _norm(name):
    name = str(PurePosixPath("/" + str(name))).lstrip("/")
    if not name or name == ".":
        raise ValueError("initramfs: empty path")
    return name


def _header(out, ino, mode, nlink, size, rdev, name):
    encoded = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, nlink, 0, size, 0, 0, rdev[0], rdev[1], len(encoded), 0]
    out.write(b"070701" + b"".join(b"%08X" % v for v in fields))
    out.write(encoded)
    _pad(out)


def _pad(out):
    out.write(b"\0" * (-out.tell() % 4))
