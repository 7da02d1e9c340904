"""SCons tool `goxen_romfs`: a directory -> a romfs image (romfs/FORMAT.md).

    img = env.GoxenRomfs('#build/httpd/romfs.img', 'apps/httpd/static')
    img = env.GoxenRomfs('#build/x/romfs.img', 'www', follow_symlinks=True, align=4096)

The image is written by goxen.romfs.pack ($GOXEN_ROMFSCOMSTR). The source directory's scanner
lists every file the writer packs (goxen.romfs.sources), so an edited, added or removed file
rebuilds the image; a Value source carries what content signatures miss (names, modes, mtimes
unless SOURCE_DATE_EPOCH normalises them, the options), so a chmod or touch rebuilds it too.
A tree the writer refuses (a symbolic link without follow_symlinks, a FIFO, an unreadable file)
fails the build with the writer's message naming the path.
"""

import os
import sys
from pathlib import Path

_SITE = Path(__file__).resolve().parents[1]
if str(_SITE) not in sys.path:
    sys.path.insert(0, str(_SITE))

import SCons.Action
import SCons.Builder
import SCons.Node.FS
import SCons.Scanner

from goxen import romfs


def _walk(env, root):
    """(files, manifest) for the tree at root: the writer's view, [] when it refuses the tree
    (the build action then fails with the writer's message)."""
    try:
        return romfs.manifest(root, bool(env.get("GOXEN_ROMFS_FOLLOW", False)))
    except romfs.RomfsError as e:
        return [], f"refused: {e}"


def _dir_scan(node, env, path):
    if not isinstance(node, SCons.Node.FS.Dir):
        return []
    files, _ = _walk(env, node.abspath)
    return [env.File(str(p)) for p in files]


def _pack(target, source, env):
    out = target[0].abspath
    try:
        romfs.pack(source[0].abspath, out, align=int(env["GOXEN_ROMFS_ALIGN"]),
                   follow_symlinks=bool(env.get("GOXEN_ROMFS_FOLLOW", False)))
    except romfs.RomfsError as e:
        print(f"goxen_romfs: {source[0]}: {e}", file=sys.stderr)
        return 1
    return 0


def GoxenRomfs(env, target, source, follow_symlinks=False, align=None):
    """Pack the directory source into the image target."""
    root = env.arg2nodes(source, env.Dir)[0]
    align = int(align if align is not None else env["GOXEN_ROMFS_ALIGN"])
    env = env.Clone(GOXEN_ROMFS_FOLLOW=follow_symlinks, GOXEN_ROMFS_ALIGN=align)
    _, manifest = _walk(env, root.abspath) if os.path.isdir(root.abspath) else ([], "missing")
    stamp = env.Value(f"romfs v{romfs.VERSION} align={align} follow={follow_symlinks}\n{manifest}")
    return env.GoxenRomfsBuild(target, [root, stamp])


def generate(env, **kw):
    env.SetDefault(GOXEN_ROMFS_ALIGN=romfs.DEFAULT_ALIGN)
    if not kw.get("verbose", False):
        env.SetDefault(GOXEN_ROMFSCOMSTR="  ROMFS   $TARGET ($SOURCE)")
    else:
        env.SetDefault(GOXEN_ROMFSCOMSTR="goxen.romfs.pack($SOURCE, $TARGET)")
    env["BUILDERS"]["GoxenRomfsBuild"] = SCons.Builder.Builder(
        action=SCons.Action.Action(_pack, "$GOXEN_ROMFSCOMSTR"),
        source_factory=env.Dir, target_factory=env.File,
        source_scanner=SCons.Scanner.Scanner(_dir_scan, name="GoxenRomfsScanner"))
    env.AddMethod(GoxenRomfs, "GoxenRomfs")


def exists(env):
    return True
