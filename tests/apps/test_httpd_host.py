"""httpd on linux/amd64, serving apps/httpd/site/www, against curl and Python's http.client."""

import gzip
import hashlib
import http.client
import json
import os
import signal
import socket
import subprocess
import time

import pytest

import goapps
from goapps import REPO

SITE = REPO / "apps" / "httpd" / "site" / "www"


@pytest.fixture(scope="module")
def httpd_bin(tmp_path_factory):
    return goapps.build("httpd", tmp_path_factory.mktemp("httpd"))


def start(binary):
    port = goapps.free_port()
    env = dict(os.environ, HTTPD_ADDR=f"127.0.0.1:{port}", HTTPD_ROOT=str(SITE))
    proc = subprocess.Popen([str(binary)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    goapps.wait_tcp(port, proc)
    return proc, port


@pytest.fixture
def httpd(httpd_bin):
    proc, port = start(httpd_bin)
    yield port
    goapps.stop(proc)


def curl(port, path, *args):
    """(status, headers dict with lower-case names, body bytes) from curl."""
    r = subprocess.run(["curl", "-sS", "-D", "-", "-o", "/dev/stdout", *args,
                        f"http://127.0.0.1:{port}{path}"], capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    head, _, body = r.stdout.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        headers[k.strip().lower()] = v.strip()
    return int(lines[0].split()[1]), headers, body


def test_go_unit_tests(tmp_path):
    r = goapps.go_test("./apps/httpd", tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("path,ctype", [
    ("/", "text/html; charset=utf-8"), ("/css/style.css", "text/css; charset=utf-8"),
    ("/js/stats.js", "text/javascript; charset=utf-8"), ("/img/dot.png", "image/png"),
    ("/lines.txt", "text/plain; charset=utf-8")])
def test_content_types_and_bodies(httpd, path, ctype):
    status, h, body = curl(httpd, path)
    want = (SITE / (path.strip("/") or "index.html")).read_bytes()
    assert (status, h["content-type"], body) == (200, ctype, want)


def test_etag_if_none_match(httpd):
    status, h, _ = curl(httpd, "/css/style.css")
    etag = h["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    status, h2, body = curl(httpd, "/css/style.css", "-H", f"If-None-Match: {etag}")
    assert status == 304 and body == b"" and h2["etag"] == etag
    status, _, _ = curl(httpd, "/css/style.css", "-H", 'If-None-Match: "other"')
    assert status == 200


def test_range_requests(httpd):
    data = (SITE / "lines.txt").read_bytes()
    status, h, body = curl(httpd, "/lines.txt", "-r", "100-199")
    assert status == 206 and body == data[100:200]
    assert h["content-range"] == f"bytes 100-199/{len(data)}"
    status, h, body = curl(httpd, "/lines.txt", "-r", "-10")
    assert status == 206 and body == data[-10:]
    status, h, _ = curl(httpd, "/lines.txt", "-r", f"{len(data) + 5}-")
    assert status == 416


def test_gzip(httpd):
    data = (SITE / "lines.txt").read_bytes()
    status, h, body = curl(httpd, "/lines.txt", "-H", "Accept-Encoding: gzip")
    assert status == 200 and h["content-encoding"] == "gzip" and "Accept-Encoding" in h["vary"]
    assert gzip.decompress(body) == data and len(body) < len(data) // 5
    r = subprocess.run(["curl", "-sS", "--compressed", f"http://127.0.0.1:{httpd}/lines.txt"],
                       capture_output=True, timeout=30, check=True)
    assert r.stdout == data
    gz_etag = h["etag"]
    status, _, _ = curl(httpd, "/lines.txt", "-H", "Accept-Encoding: gzip",
                        "-H", f"If-None-Match: {gz_etag}")
    assert status == 304
    status, h, _ = curl(httpd, "/img/dot.png", "-H", "Accept-Encoding: gzip")
    assert "content-encoding" not in h


def test_http_client_keepalive_and_stats(httpd):
    c = http.client.HTTPConnection("127.0.0.1", httpd, timeout=10)
    for _ in range(3):
        c.request("GET", "/index.html")
        r = c.getresponse()
        assert r.status == 200 and r.read() == (SITE / "index.html").read_bytes()
    c.request("GET", "/missing")
    r = c.getresponse()
    r.read()
    assert r.status == 404
    c.request("POST", "/index.html", body=b"x")
    r = c.getresponse()
    r.read()
    assert r.status == 405
    c.request("GET", "/api/stats")
    r = c.getresponse()
    assert r.status == 200 and r.getheader("Content-Type") == "application/json"
    st = json.loads(r.read())
    assert st["requests"] == 6 and st["status"]["200"] == 3 and st["status"]["404"] == 1
    assert st["goos"] == "linux" and st["bytes_sent"] > 0
    c.close()


def test_sigterm_shuts_down_gracefully(httpd_bin):
    proc, port = start(httpd_bin)
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("GET", "/lines.txt")
        r = c.getresponse()
        assert r.status == 200 and r.read() == (SITE / "lines.txt").read_bytes()
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
        assert proc.returncode == 0, out
        assert "terminated: shutting down" in out and "httpd: stopped" in out
        assert c.sock.recv(1) == b""                # the idle keep-alive connection was closed
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2)
    finally:
        goapps.stop(proc)
