"""The romfs writer (site_scons/goxen/romfs.py): determinism, the format's fields, refusals."""

import os
import struct
import subprocess
import sys
import zlib

import pytest

from goxen import romfs


def make(root, files):
    """files: {relative path: bytes or None (a directory)}."""
    for rel, data in files.items():
        p = root / rel
        if data is None:
            p.mkdir(parents=True, exist_ok=True)
        else:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
    return root


TREE = {"b.txt": b"bee", "a/x": b"x" * 100, "a/empty": b"", "c": None, "é/日本": b"u"}


def test_pack_layout(tmp_path):
    src = make(tmp_path / "src", TREE)
    out = tmp_path / "img"
    size = romfs.pack(src, out, mtime=1700000000)
    b = out.read_bytes()
    assert len(b) == size
    magic, version, hsize, nsize, flags, image_size, count, names_off, names_size, data_off, \
        align, _, data_size, _, crc = struct.unpack_from("<8sHHHHQIIIIIIQII", b)
    assert (magic, version, hsize, nsize, flags) == (b"GOXROMFS", 1, 64, 48, 0)
    assert image_size == len(b) and count == 8 and names_off == 64 + 48 * 8
    assert data_off % align == 0 and align == 16 and data_size == len(b) - data_off
    assert crc == zlib.crc32(b[64:data_off], zlib.crc32(b[:60]))
    entries = romfs.read(b)
    # breadth-first, sorted by UTF-8 bytes within each directory
    assert [e.path for e in entries] == [".", "a", "b.txt", "c", "é", "a/empty", "a/x", "é/日本"]
    by = {e.path: e for e in entries}
    assert by["a/x"].data == b"x" * 100 and by["a/empty"].data == b"" and by["c"].size == 0
    assert all(e.mtime_ns == 1700000000 * 10**9 for e in entries)
    assert by["b.txt"].mode == 0o100000 | (os.stat(src / "b.txt").st_mode & 0o777)


def test_deterministic_across_copies(tmp_path, monkeypatch):
    a = make(tmp_path / "a", TREE)
    b = make(tmp_path / "b", dict(reversed(list(TREE.items()))))
    os.utime(b / "b.txt", (1, 1))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1234567890")
    romfs.pack(a, tmp_path / "1")
    romfs.pack(b, tmp_path / "2")
    romfs.pack(a, tmp_path / "3")
    assert (tmp_path / "1").read_bytes() == (tmp_path / "2").read_bytes() == (tmp_path / "3").read_bytes()


def test_mtimes_recorded_without_epoch(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    src = make(tmp_path / "src", {"f": b"1"})
    os.utime(src / "f", ns=(5, 1_600_000_000_123_456_789))
    romfs.pack(src, tmp_path / "img")
    f = {e.path: e for e in romfs.read((tmp_path / "img").read_bytes())}["f"]
    assert f.mtime_ns == 1_600_000_000_123_456_789


def test_bad_epoch(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(romfs.RomfsError, match="SOURCE_DATE_EPOCH"):
        romfs.pack(make(tmp_path / "s", {"f": b""}), tmp_path / "img")


def test_alignment(tmp_path):
    src = make(tmp_path / "src", {"a": b"1", "b": b"22", "c": b"333"})
    romfs.pack(src, tmp_path / "img", align=4096)
    b = (tmp_path / "img").read_bytes()
    for i in range(1, 4):
        off = struct.unpack_from("<Q", b, 64 + 48 * i + 24)[0]
        assert off % 4096 == 0
    with pytest.raises(romfs.RomfsError, match="power of two"):
        romfs.pack(src, tmp_path / "img2", align=24)


def test_symlink_refused_with_reason(tmp_path):
    src = make(tmp_path / "src", {"real": b"r"})
    (src / "link").symlink_to("real")
    with pytest.raises(romfs.RomfsError, match=r"link: symbolic link to 'real'.*--follow-symlinks"):
        romfs.pack(src, tmp_path / "img")
    assert not (tmp_path / "img").exists()


def test_symlink_followed_inside_root(tmp_path):
    src = make(tmp_path / "src", {"real": b"r", "d/f": b"df"})
    (src / "link").symlink_to("real")
    (src / "dlink").symlink_to("d")
    romfs.pack(src, tmp_path / "img", follow_symlinks=True)
    by = {e.path: e for e in romfs.read((tmp_path / "img").read_bytes())}
    assert by["link"].data == b"r" and by["dlink/f"].data == b"df"


def test_symlink_escaping_root_refused(tmp_path):
    (tmp_path / "outside").write_bytes(b"secret")
    src = make(tmp_path / "src", {"f": b""})
    (src / "esc").symlink_to("../outside")
    with pytest.raises(romfs.RomfsError, match="esc: symbolic link to '../outside' leads outside"):
        romfs.pack(src, tmp_path / "img", follow_symlinks=True)


def test_symlink_loop_refused(tmp_path):
    src = make(tmp_path / "src", {"d/f": b""})
    (src / "d" / "up").symlink_to("..")
    with pytest.raises(romfs.RomfsError, match="d/up: .* makes a loop"):
        romfs.pack(src, tmp_path / "img", follow_symlinks=True)


def test_special_files_refused(tmp_path):
    src = make(tmp_path / "src", {"f": b""})
    os.mkfifo(src / "pipe")
    with pytest.raises(romfs.RomfsError, match="pipe: FIFO: romfs stores only regular files"):
        romfs.pack(src, tmp_path / "img")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path):
    src = make(tmp_path / "src", {"locked": b"x"})
    (src / "locked").chmod(0)
    with pytest.raises(romfs.RomfsError, match="locked: cannot read: Permission denied"):
        romfs.pack(src, tmp_path / "img")


def test_unreadable_file_error_path(tmp_path, monkeypatch):
    """Whoever runs the tests (root too): a read error names the file and the reason."""
    src = make(tmp_path / "src", {"locked": b"x"})
    real_open = open

    def fake_open(path, *a, **kw):
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *a, **kw)
    monkeypatch.setattr("builtins.open", fake_open)
    with pytest.raises(romfs.RomfsError, match="locked: cannot read: Permission denied"):
        romfs.pack(src, tmp_path / "img")


def test_name_limits(tmp_path, monkeypatch):
    src = make(tmp_path / "src", {"x" * 255: b""})
    romfs.pack(src, tmp_path / "img")     # Linux's own limit is the format's: 255 bytes
    monkeypatch.setattr(romfs, "MAX_NAME", 10)
    os.mkdir(src / ("é" * 6))              # 12 bytes of UTF-8
    with pytest.raises(romfs.RomfsError, match="name is 12 bytes long"):
        romfs.pack(src, tmp_path / "img")


def test_depth_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(romfs, "MAX_DEPTH", 4)   # "1/2/3/f" has 4 path elements
    make(tmp_path / "src", {"1/2/3/f": b""})
    romfs.pack(tmp_path / "src", tmp_path / "img")
    make(tmp_path / "src", {"1/2/3/4/f": b""})
    with pytest.raises(romfs.RomfsError, match="deeper than 4"):
        romfs.pack(tmp_path / "src", tmp_path / "img")


def test_non_utf8_name_refused(tmp_path):
    src = make(tmp_path / "src", {"f": b""})
    (src / os.fsdecode(b"bad\xff")).write_bytes(b"")
    with pytest.raises(romfs.RomfsError, match="not valid UTF-8"):
        romfs.pack(src, tmp_path / "img")


def test_not_a_directory(tmp_path):
    (tmp_path / "f").write_bytes(b"")
    with pytest.raises(romfs.RomfsError, match="not a directory"):
        romfs.pack(tmp_path / "f", tmp_path / "img")
    with pytest.raises(romfs.RomfsError, match="No such file"):
        romfs.pack(tmp_path / "missing", tmp_path / "img")


def test_read_rejects_corruption(tmp_path):
    src = make(tmp_path / "src", TREE)
    romfs.pack(src, tmp_path / "img")
    b = bytearray((tmp_path / "img").read_bytes())
    b[100] ^= 1
    with pytest.raises(romfs.RomfsError, match="index checksum"):
        romfs.read(b)
    b[100] ^= 1
    b[-1] ^= 1 if b[-1] else 0
    b[len(b) - 16] ^= 0   # data padding untouched
    assert romfs.read(b)


def test_sources_lists_inputs(tmp_path):
    src = make(tmp_path / "src", TREE)
    got = sorted(str(p.relative_to(src)) for p in romfs.sources(src))
    assert got == sorted([".", "a", "a/empty", "a/x", "b.txt", "c", "é", "é/日本"])


def test_cli(tmp_path, repo):
    src = make(tmp_path / "src", TREE)
    env = dict(os.environ, PYTHONPATH=str(repo / "site_scons"))
    run = subprocess.run([sys.executable, "-m", "goxen.romfs", "pack", str(src), str(tmp_path / "o.img"),
                          "--mtime", "0"], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    ls = subprocess.run([sys.executable, "-m", "goxen.romfs", "list", str(tmp_path / "o.img")],
                        env=env, capture_output=True, text=True)
    assert "a/x" in ls.stdout and ls.returncode == 0
    (src / "l").symlink_to("b.txt")
    bad = subprocess.run([sys.executable, "-m", "goxen.romfs", "pack", str(src), str(tmp_path / "p.img")],
                         env=env, capture_output=True, text=True)
    assert bad.returncode == 1 and "romfs: l: symbolic link" in bad.stderr


def test_embed_overlay(tmp_path):
    pkg = tmp_path / "apps" / "web"
    pkg.mkdir(parents=True)
    (tmp_path / "romfs.img").write_bytes(b"GOXROMFS")
    overlay = romfs.embed_overlay(tmp_path / "romfs.img", pkg, tmp_path / "gen")
    import json
    replace = json.loads(overlay.read_text())["Replace"]
    assert replace == {str(pkg / romfs.EMBED_GO): str(tmp_path / "gen" / romfs.EMBED_GO),
                       str(pkg / romfs.EMBED_IMG): str(tmp_path / "romfs.img")}
    go = (tmp_path / "gen" / romfs.EMBED_GO).read_text()
    assert "//go:build xen\n\npackage main\n" in go
    assert "//go:linkname goxenRomfsImage syscall.romfsImage\n//go:embed zz_goxen_romfs.img\n" \
           "var goxenRomfsImage string\n" in go
    assert not list(pkg.iterdir())     # nothing written into the source tree
