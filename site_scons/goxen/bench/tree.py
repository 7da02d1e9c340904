"""The 50 MB file tree of the romfs benchmark, generated deterministically (same seed, same
bytes) under build/, and the crc32 checksum apps/fsread prints for it.

    tree.ensure(root)  -> root/tree/... (rewritten only when its stamp does not match)
    tree.layout()      -> [(relative path, size)]
    tree.checksum(root/"tree") -> the 8-hex-digit value of apps/fsread's `crc32`
"""

import hashlib
import os
import random
import shutil
import zlib
from pathlib import Path

TOTAL = 50 << 20
SEED = 20261126
STAMP = ".goxen-tree"


def layout(total=TOTAL, seed=SEED):
    """[(path, size)]: 8 top directories, 3 levels deep, many small files, some medium ones
    and a few of several MB, summing to exactly total bytes."""
    rng = random.Random(seed)
    files = []
    left = total
    i = 0
    while left > 0:
        kind = rng.random()
        if kind < 0.75:
            size = rng.randint(1, 16 << 10)
        elif kind < 0.97:
            size = rng.randint(64 << 10, 512 << 10)
        else:
            size = rng.randint(2 << 20, 4 << 20)
        size = min(size, left)
        d = f"d{rng.randrange(8)}/s{rng.randrange(4)}/t{rng.randrange(3)}"
        files.append((f"{d}/f{i:05d}.dat", size))
        left -= size
        i += 1
    return files


def content(path, size, seed=SEED):
    """size bytes of hex text from a PRNG seeded by the path (compresses about 2:1)."""
    rng = random.Random(f"{seed}:{path}")
    return rng.randbytes((size + 1) // 2).hex().encode()[:size]


def _digest(files):
    return hashlib.sha256(repr((SEED, files)).encode()).hexdigest()


def ensure(root, total=TOTAL):
    """Write root/tree unless root/.goxen-tree already names this layout; return root/tree."""
    root = Path(root)
    files = layout(total)
    stamp = root / STAMP
    tree = root / "tree"
    if stamp.is_file() and stamp.read_text().strip() == _digest(files) and tree.is_dir():
        return tree
    if tree.exists():
        shutil.rmtree(tree)
    for rel, size in files:
        p = tree / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content(rel, size))
    stamp.write_text(_digest(files) + "\n")
    return tree


def checksum(tree):
    """What apps/fsread computes: over files in lexical walk order, crc32 folded over each
    relative path and then the big-endian crc32 of the file's bytes."""
    tree = Path(tree)
    crc = 0
    paths = []
    for dirpath, dirnames, filenames in os.walk(tree):
        dirnames.sort()
        for f in filenames:
            paths.append(os.path.relpath(os.path.join(dirpath, f), tree))
    # filepath.WalkDir visits a directory's entries in lexical order, files and directories
    # interleaved: sorting the full slash-separated paths by their components gives that order.
    for rel in sorted(paths, key=lambda p: p.split(os.sep)):
        data = (tree / rel).read_bytes()
        crc = zlib.crc32(rel.encode(), crc)
        crc = zlib.crc32(zlib.crc32(data).to_bytes(4, "big"), crc)
    return f"{crc:08x}"


def total_bytes(tree):
    return sum(p.stat().st_size for p in Path(tree).rglob("*") if p.is_file())
