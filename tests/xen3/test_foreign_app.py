"""Tier 3: an app in a module of its own, outside this repository, as a new user writes it: a
go.mod, a net/http server with a romfs site and a JSON endpoint, and a YAML beside it, built
with `scons app=/path/to/app.yaml` (the package as `.`, `./` or a subdirectory), its Linux
baseline built with `scons baseline`, and the unikernel serving on the bed in 16 MB (net/http
imports crypto; the FIPS entropy buffer would need 32 MiB more, see go-xen/edits/std_fips.py).
A directory named x.go in the module must not confuse the build."""

import json
import os
import subprocess
import sys

import pytest

from goxen import paths

MAIN = """\
package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
)

func main() {
	http.Handle("/", http.FileServer(http.Dir("/www")))
	http.HandleFunc("/hello.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"hello": "xen", "from": "%(name)s"})
	})
	ln, err := net.Listen("tcp", ":80")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("mine: serving") // once listening: a ping can be answered before that
	if err := http.Serve(ln, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
"""

VARIANTS = {
    # name: (package as written in the YAML, the package's directory in the module)
    "mine-dot": (".", ""),
    "mine-dotslash": ("./", ""),
    "mine-sub": ("./app", "app"),
}


def _module(root, name, package, pkgdir, ip):
    (root / pkgdir).mkdir(parents=True, exist_ok=True)
    (root / "go.mod").write_text("module example.com/mine\n\ngo 1.27\n")
    (root / pkgdir / "main.go").write_text(MAIN % {"name": name})
    (root / "site" / "www").mkdir(parents=True)
    (root / "site" / "www" / "index.html").write_text(f"<h1>{name}</h1>\n")
    (root / "notes" / "x.go").mkdir(parents=True)   # a directory named like a Go file
    (root / "notes" / "x.go" / "README").write_text("not Go\n")
    cfg = root / f"{name}.yaml"
    cfg.write_text(f"version: 1\nname: {name}\npackage: {package}\nmemory: 32M\n"
                   f"romfs: ./site\nnetwork:\n  - ip: {ip}/24\n    gateway: 10.0.0.1\n")
    return cfg


def _scons(*args):
    # The repository's own SConstruct; the toolchain is already built (./scons test needs it).
    r = subprocess.run([sys.executable, "-m", "SCons", "-Q", *args], cwd=paths.REPO,
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, f"scons {' '.join(args)} failed:\n{r.stdout}{r.stderr}"
    return r


@pytest.mark.parametrize("name", list(VARIANTS))
def test_an_app_outside_the_repository_builds_and_serves(testbed, domu, toolchain, tmp_path, name):
    package, pkgdir = VARIANTS[name]
    ip = f"10.0.0.{60 + list(VARIANTS).index(name)}"   # 60-62: no other test uses them
    cfg = _module(tmp_path / "mine", name, package, pkgdir, ip)
    _scons(f"app={cfg}")
    out = paths.BUILD / name
    kernel, xl = out / f"{name}.xen", out / f"{name}.xl"
    assert kernel.is_file() and "memory = 32" in xl.read_text()
    _scons(f"app={cfg}", "baseline")
    assert (out / "baseline" / name).is_file() and (out / "baseline" / f"{name}.cpio.gz").is_file()
    dom = domu(name, kernel, xl)
    dom.wait_for(r"^mine: serving$", timeout=120)
    testbed.ping(ip, timeout=90)
    curl = [*testbed.netns.exec_prefix(), "curl", "-sS", "-m", "60"]
    r = subprocess.run([*curl, f"http://{ip}/hello.json"], capture_output=True, text=True, timeout=90)
    assert r.returncode == 0 and json.loads(r.stdout) == {"hello": "xen", "from": name}, r
    r = subprocess.run([*curl, f"http://{ip}/"], capture_output=True, text=True, timeout=90)
    assert r.stdout == f"<h1>{name}</h1>\n", r
