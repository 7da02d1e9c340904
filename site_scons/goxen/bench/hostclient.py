"""The client of `./scons bench`'s host part (host.py), run inside the client's network
namespace: one measurement, one JSON line {"ok", "secs", "value", ...}.

    python hostclient.py send ADDR MB     TCP bulk to ADDR:9 (the peer's sink, which answers
                                          with the sha256 of what it read: checked)
    python hostclient.py recv ADDR MB     GET /bytes/N from ADDR:80, checked against
                                          /bytes/N/sha256
    python hostclient.py udp ADDR SECONDS 64-byte UDP echo round trips to ADDR:7, one at a time
"""

import hashlib, http.client, json, os, socket, sys, time
mode, addr, arg = sys.argv[1], sys.argv[2], float(sys.argv[3])
if mode == "send":
    n = int(arg) << 20
    block = os.urandom(1 << 20)
    h = hashlib.sha256()
    for _ in range(n >> 20):
        h.update(block)
    t0 = time.monotonic()
    s = socket.create_connection((addr, 9), timeout=60)
    for _ in range(n >> 20):
        s.sendall(block)
    s.shutdown(socket.SHUT_WR)
    reply = b""
    while True:
        b = s.recv(256)
        if not b:
            break
        reply += b
    secs = time.monotonic() - t0
    ok = reply.decode() == h.hexdigest()
    print(json.dumps({"ok": ok, "secs": secs, "value": n / secs / 1e6}))
elif mode == "recv":
    n = int(arg) << 20
    c = http.client.HTTPConnection(addr, 80, timeout=60)
    t0 = time.monotonic()
    c.request("GET", f"/bytes/{n}")
    r = c.getresponse()
    chunks, got = [], 0
    while True:
        b = r.read(1 << 20)
        if not b:
            break
        chunks.append(b)
        got += len(b)
    secs = time.monotonic() - t0
    h = hashlib.sha256()
    for b in chunks:
        h.update(b)
    c.request("GET", f"/bytes/{n}/sha256")
    ok = got == n and c.getresponse().read().decode() == h.hexdigest()
    print(json.dumps({"ok": ok, "secs": secs, "value": got / secs / 1e6}))
elif mode == "udp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((addr, 7))
    s.settimeout(2)
    msg, n, lost = b"x" * 64, 0, 0
    t0 = time.monotonic()
    end = t0 + arg
    while time.monotonic() < end:
        s.send(msg)
        try:
            ok = s.recv(2048) == msg
        except socket.timeout:
            lost += 1
            continue
        n += ok
    secs = time.monotonic() - t0
    print(json.dumps({"ok": lost == 0, "secs": secs, "value": n / secs, "lost": lost}))
