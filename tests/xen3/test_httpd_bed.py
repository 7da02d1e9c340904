"""Tier 3: apps/httpd, built from configs/httpd.yaml with its romfs site linked in (the same
`go build -overlay` the SCons build uses), as a domU on the bed's bridge, against curl and
Python's http.client in the bed's namespace: content types, ETag/If-None-Match, Range, gzip,
/api/stats, every file of the site fetched with curl and compared byte for byte with the
host's copy (issue 7), and a keep-alive load run of Python clients (issue 6)."""

import hashlib
import json
import os
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import pytest

import httpload

from goxen import appconfig, romfs

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def config():
    return appconfig.load(REPO / "configs" / "httpd.yaml", top=REPO)


@pytest.fixture(scope="module")
def kernel(toolchain, config, tmp_path_factory):
    out = tmp_path_factory.mktemp("httpd")
    img = out / "romfs.img"
    romfs.pack(config.romfs_dir, img)
    overlay = romfs.embed_overlay(img, config.package_dir, out / "overlay")
    env = dict(os.environ, GOOS="xen", GOARCH="amd64", GOTOOLCHAIN="local", CGO_ENABLED="0")
    env.pop("GOROOT", None)
    t = time.monotonic()
    r = subprocess.run([str(toolchain / "bin" / "go"), "build", "-overlay", str(overlay), "-o",
                        str(out / "httpd.xen"), config.package], cwd=config.root, env=env,
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    print(f"built httpd.xen with its romfs in {time.monotonic() - t:.1f} s", flush=True)
    return out / "httpd.xen"


def curl(testbed, url, *args):
    r = subprocess.run([*testbed.netns.exec_prefix(), "curl", "-sS", "-m", "30", "-D", "-",
                        "-o", "/dev/stdout", *args, url], capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    head, _, body = r.stdout.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def test_httpd_serves_its_romfs_site(testbed, domu, kernel, config):
    site = config.romfs_dir / "www"
    ip = config.network[0].ip.split("/")[0]
    dom = domu("httpd", kernel, f"memory = {config.memory_mib}\n", extra=config.cmdline,
               network=True)
    files = sum(1 for p in site.rglob("*") if p.is_file())
    dom.wait_for(rf"^httpd: site /www: {files} files, ", timeout=60)
    line = dom.wait_for(r"^httpd: (serving|listen)", timeout=60).text
    assert line.startswith("httpd: serving /www on "), line
    testbed.ping(ip, timeout=90)
    base = f"http://{ip}"
    status, h, body = curl(testbed, base + "/")
    assert (status, h["content-type"], body) == (200, "text/html; charset=utf-8",
                                                 (site / "index.html").read_bytes())
    status, h, _ = curl(testbed, base + "/img/dot.png")
    assert h["content-type"] == "image/png"
    status, h, _ = curl(testbed, base + "/css/style.css")
    status, _, _ = curl(testbed, base + "/css/style.css", "-H", f"If-None-Match: {h['etag']}")
    assert status == 304
    data = (site / "lines.txt").read_bytes()
    status, h, body = curl(testbed, base + "/lines.txt", "-r", "1000-1999")
    assert status == 206 and body == data[1000:2000]
    status, h, body = curl(testbed, base + "/lines.txt", "--compressed")
    assert status == 200 and h["content-encoding"] == "gzip" and body == data
    status, h, body = curl(testbed, base + "/api/stats")
    st = json.loads(body)
    assert status == 200 and st["goos"] == "xen" and st["requests"] >= 6

    # Every file of the romfs site, through curl, byte for byte against the host's file.
    names = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())
    for name in names:
        status, _, body = curl(testbed, f"{base}/{quote(name)}")
        assert status == 200 and body == (site / name).read_bytes(), name
    print(f"{len(names)} files fetched and compared")

    # Python clients: 16 threads x 50 requests, each thread over one keep-alive connection.
    res = httpload.load(testbed.netns, ip, 16, 50, "/lines.txt")
    assert (res.ok, res.fail, res.conns) == (800, 0, 16), res.output
    assert res.digests == [hashlib.sha256(data).hexdigest()], res.output   # every body right

