"""Keep-alive HTTP load from the test namespace: load(netns, ...) from a test, or as a script

    python httpload.py IP THREADS REQUESTS PATH

THREADS threads each send REQUESTS GETs of PATH to IP:80 over one http.client connection.
Prints the SHA-256 of every distinct body ("digests D1 D2 ...") and "ok N fail M conns C":
N answers with status 200, M failures (errors are printed), C distinct sockets used (THREADS
when no connection was ever replaced).
"""

import hashlib
import http.client
import re
import subprocess
import sys
import threading
from dataclasses import dataclass


@dataclass
class Result:
    ok: int
    fail: int
    conns: int
    digests: list       # SHA-256 hex of each distinct body
    output: str


def load(netns, ip, threads, requests, path, timeout=600):
    """Run the load inside netns (a goxen.testbed.netns.Netns); its Result."""
    r = subprocess.run([*netns.exec_prefix(), sys.executable, __file__, ip, str(threads),
                        str(requests), path], capture_output=True, text=True, timeout=timeout)
    out = r.stdout + r.stderr
    print(out)
    m = re.search(r"^ok (\d+) fail (\d+) conns (\d+)$", r.stdout, re.M)
    d = re.search(r"^digests(.*)$", r.stdout, re.M)
    assert r.returncode == 0 and m and d, out
    return Result(int(m[1]), int(m[2]), int(m[3]), d[1].split(), out)


def main(ip, threads, requests, path):
    ok = fail = 0
    socks, digests = set(), set()
    lock = threading.Lock()

    def run():
        nonlocal ok, fail
        c = http.client.HTTPConnection(ip, 80, timeout=60)
        for _ in range(requests):
            try:
                c.request("GET", path)
                r = c.getresponse()
                body = r.read()
            except Exception as e:
                print("error", repr(e), flush=True)
                c.close()
                with lock:
                    fail += 1
                continue
            with lock:
                socks.add(id(c.sock))
                digests.add(hashlib.sha256(body).hexdigest())
                if r.status == 200:
                    ok += 1
                else:
                    fail += 1
        c.close()

    ts = [threading.Thread(target=run) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("digests", *sorted(digests))
    print(f"ok {ok} fail {fail} conns {len(socks)}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
