"""The goxen_romfs SCons tool in a throw-away project: build, no-op rebuild, and rebuilds on an
edited, added or removed file and on a chmod; a refused tree fails the build with the reason."""

import os
import subprocess
import sys

import pytest

from goxen import romfs

SCONSTRUCT = """\
env = Environment(tools=[("goxen_romfs", {{"verbose": False}})], toolpath=[{toolpath!r}])
env.Default(env.GoxenRomfs("#build/app/romfs.img", "www"))
"""


@pytest.fixture
def project(tmp_path, repo, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    (tmp_path / "SConstruct").write_text(
        SCONSTRUCT.format(toolpath=str(repo / "site_scons" / "site_tools")))
    (tmp_path / "www" / "css").mkdir(parents=True)
    (tmp_path / "www" / "index.html").write_text("<h1>hi</h1>\n")
    (tmp_path / "www" / "css" / "a.css").write_text("a{}\n")
    return tmp_path


def scons(project, ok=True):
    r = subprocess.run([sys.executable, "-m", "SCons", "-Q"], cwd=project, capture_output=True,
                       text=True, timeout=120)
    if ok:
        assert r.returncode == 0, r.stdout + r.stderr
    return r


def image(project):
    return {e.path: e for e in romfs.read((project / "build" / "app" / "romfs.img").read_bytes())}


def test_build_and_rebuild(project):
    r = scons(project)
    assert "ROMFS   build/app/romfs.img (www)" in r.stdout
    assert image(project)["css/a.css"].data == b"a{}\n"
    assert "up to date" in scons(project).stdout

    (project / "www" / "css" / "a.css").write_text("b{}\n")
    assert "ROMFS" in scons(project).stdout
    assert image(project)["css/a.css"].data == b"b{}\n"

    (project / "www" / "new.txt").write_text("new")
    assert "ROMFS" in scons(project).stdout
    assert "new.txt" in image(project)

    (project / "www" / "new.txt").unlink()
    assert "ROMFS" in scons(project).stdout
    assert "new.txt" not in image(project)

    os.chmod(project / "www" / "index.html", 0o600)
    assert "ROMFS" in scons(project).stdout
    assert image(project)["index.html"].mode & 0o777 == 0o600
    assert "up to date" in scons(project).stdout


def test_refused_tree_fails_with_reason(project):
    (project / "www" / "link").symlink_to("index.html")
    r = scons(project, ok=False)
    assert r.returncode != 0
    assert "link: symbolic link to 'index.html'" in r.stderr
    assert not (project / "build" / "app" / "romfs.img").exists()
