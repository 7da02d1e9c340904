"""A soak of a memcached server (kvstore on the bed) with a verifying model. Run inside the
test namespace:

    python kvsoak.py IP PORT SECONDS OUT.json

For SECONDS, at once:
  - 6 TCP workers, each owning 150 keys: random set / get / delete / append / incr with
    random flags and sizes up to 4 KB; every answer is checked against the worker's model of
    its keys (a key only its worker touches, so the model is exact). Each worker reconnects
    every 100 to 300 operations (connection churn).
  - 2 UDP workers, each owning 50 keys, set and get values up to 1 KB over memcached's UDP
    framing; a request without an answer in 1 s is sent again (set and get are idempotent),
    so every acknowledged set is checked by a later get.
  - a churn client: connect, one `version`, close, as fast as it goes.
  - a sampler: every few seconds `stats` and `stats netstack` on its own connection: the
    guest's heap, connections, items, evictions and netstack's budget in use.
"Lost" is an acknowledged write whose value a later get did not return; "wrong" is any other
answer the model did not expect. The model holds ~2.5 MB, below kvstore's KV_MEMORY, and
evictions are sampled: with evictions the model would not be exact (the test checks 0).
Writes OUT.json: counts per kind, lost, wrong (first 20), errors, samples."""

import json
import random
import socket
import struct
import sys
import threading
import time

IP, PORT, SECONDS, OUT = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
DEADLINE = time.monotonic() + SECONDS
lock = threading.Lock()
counts, lost, wrong, errors = {}, [], [], []


def count(kind, n=1):
    with lock:
        counts[kind] = counts.get(kind, 0) + n


def note(where, what):
    with lock:
        (lost if where == "lost" else wrong if where == "wrong" else errors).append(what)


def value(key, version, size):
    head = f"{key}:{version}:".encode()
    return (head * (size // len(head) + 1))[:size]


class Conn:
    def __init__(self):
        self.s = socket.create_connection((IP, PORT), timeout=30)
        self.f = self.s.makefile("rb")

    def close(self):
        self.f.close()
        self.s.close()

    def call(self, req):
        self.s.sendall(req)
        return self.f.readline()

    def get(self, key):
        """(flags, data) or None."""
        self.s.sendall(b"get %s\r\n" % key)
        line = self.f.readline()
        if line == b"END\r\n":
            return None
        w = line.split()
        if len(w) != 4 or w[0] != b"VALUE" or w[1] != key:
            raise ValueError(f"get {key}: {line!r}")
        data = self.f.read(int(w[3]) + 2)[:-2]
        end = self.f.readline()
        if end != b"END\r\n":
            raise ValueError(f"get {key}: end {end!r}")
        return int(w[2]), data


def check_get(c, key, model):
    got = c.get(key)
    want = model.get(key)
    count("get")
    if got != want:
        kind = "lost" if want is not None and got is None else "wrong"
        note(kind, f"get {key.decode()}: {str(got)[:60]} want {str(want)[:60]}")


def tcp_worker(w, rnd):
    keys = [b"t%d-%d" % (w, i) for i in range(150)]
    model = {}
    version = 0
    c, left = Conn(), rnd.randrange(100, 300)
    for k in keys:  # warm-up: every key holds a value before the run is measured
        version += 1
        v, fl = value(k.decode(), version, rnd.randrange(1, 4096)), rnd.randrange(1 << 16)
        if c.call(b"set %s %d 0 %d\r\n%s\r\n" % (k, fl, len(v), v)) == b"STORED\r\n":
            model[k] = (fl, v)
    while time.monotonic() < DEADLINE:
        try:
            if left == 0:
                c.close()
                c, left = Conn(), rnd.randrange(100, 300)
                count("reconnect")
            left -= 1
            k = rnd.choice(keys)
            op = rnd.random()
            if op < 0.35:
                version += 1
                v, fl = value(k.decode(), version, rnd.randrange(1, 4096)), rnd.randrange(1 << 16)
                r = c.call(b"set %s %d 0 %d\r\n%s\r\n" % (k, fl, len(v), v))
                count("set")
                if r == b"STORED\r\n":
                    model[k] = (fl, v)
                else:
                    note("wrong", f"set {k}: {r!r}")
            elif op < 0.75:
                check_get(c, k, model)
            elif op < 0.83:
                r = c.call(b"delete %s\r\n" % k)
                count("delete")
                want = b"DELETED\r\n" if k in model else b"NOT_FOUND\r\n"
                model.pop(k, None)
                if r != want:
                    note("lost" if want == b"DELETED\r\n" else "wrong", f"delete {k}: {r!r}")
            elif op < 0.92:
                tail = b"+%d" % version
                r = c.call(b"append %s 0 0 %d\r\n%s\r\n" % (k, len(tail), tail))
                count("append")
                cur = model.get(k)
                want = b"STORED\r\n" if cur is not None else b"NOT_STORED\r\n"
                if r != want:
                    note("lost" if cur is not None else "wrong", f"append {k}: {r!r}")
                elif cur is not None:
                    model[k] = (cur[0], cur[1] + tail)
            else:
                ck = b"n%d" % w
                if ck not in model:
                    if c.call(b"set %s 0 0 1\r\n0\r\n" % ck) != b"STORED\r\n":
                        note("wrong", f"set {ck}")
                    model[ck] = (0, b"0")
                d = rnd.randrange(1, 1000)
                r = c.call(b"incr %s %d\r\n" % (ck, d))
                count("incr")
                want = int(model[ck][1]) + d
                if r != b"%d\r\n" % want:
                    note("wrong", f"incr {ck}: {r!r} want {want}")
                    want = int(r) if r.strip().isdigit() else want
                model[ck] = (0, b"%d" % want)
        except (OSError, ValueError) as e:
            note("error", f"tcp worker {w}: {e!r}")
            try:
                c.close()
            except OSError:
                pass
            c, left = Conn(), rnd.randrange(100, 300)
    for k in keys:  # every acknowledged write must still be there
        check_get(c, k, model)
    c.close()


def udp_call(s, rid, req):
    """The reply to req, sent again every second until it comes (30 tries)."""
    for attempt in range(30):
        s.sendto(struct.pack(">HHHH", rid, 0, 1, 0) + req, (IP, PORT))
        if attempt:
            count("udp_retry")
        parts, total, t = {}, None, time.monotonic() + 1
        try:
            while total is None or len(parts) < total:
                s.settimeout(max(0.01, t - time.monotonic()))
                d = s.recv(65536)
                r, seq, n, _ = struct.unpack(">HHHH", d[:8])
                if r == rid:
                    total, parts[seq] = n, d[8:]
        except socket.timeout:
            continue
        return b"".join(parts[i] for i in range(total))
    raise OSError(f"no UDP answer to {req[:30]!r} in 30 tries")


def udp_worker(w, rnd):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    keys = [b"u%d-%d" % (w, i) for i in range(50)]
    model, version, rid = {}, 0, 0
    while time.monotonic() < DEADLINE:
        rid = (rid + 1) & 0xFFFF
        k = rnd.choice(keys)
        try:
            if rnd.random() < 0.5:
                version += 1
                v = value(k.decode(), version, rnd.randrange(1, 1024))
                r = udp_call(s, rid, b"set %s 7 0 %d\r\n%s\r\n" % (k, len(v), v))
                count("udp_set")
                if r == b"STORED\r\n":
                    model[k] = v
                else:
                    note("wrong", f"udp set {k}: {r[:40]!r}")
            else:
                r = udp_call(s, rid, b"get %s\r\n" % k)
                count("udp_get")
                want = b"END\r\n" if k not in model else \
                    b"VALUE %s 7 %d\r\n%s\r\nEND\r\n" % (k, len(model[k]), model[k])
                if r != want:
                    note("lost" if r == b"END\r\n" else "wrong", f"udp get {k}: {r[:60]!r}")
        except OSError as e:
            note("error", f"udp worker {w}: {e!r}")


def churn():
    while time.monotonic() < DEADLINE:
        try:
            c = Conn()
            r = c.call(b"version\r\n")
            c.close()
            count("churn")
            if not r.startswith(b"VERSION "):
                note("wrong", f"churn version: {r!r}")
        except OSError as e:
            note("error", f"churn: {e!r}")
            time.sleep(0.5)


def stats(c, what):
    c.s.sendall(what)
    out = {}
    while (line := c.f.readline()) not in (b"END\r\n", b""):
        w = line.split()
        if len(w) == 3 and w[0] == b"STAT":
            out[w[1].decode()] = w[2].decode()
    return out


samples = []


def sampler(every):
    c = Conn()
    t0 = time.monotonic()
    while True:
        try:
            g, n = stats(c, b"stats\r\n"), stats(c, b"stats netstack\r\n")
        except OSError as e:
            note("error", f"sampler: {e!r}")
            c = Conn()
            continue
        samples.append({"t": round(time.monotonic() - t0, 1),
                        **{k: int(g[k]) for k in ("go_heap_alloc", "go_heap_inuse", "go_sys",
                                                  "curr_connections", "curr_items", "evictions")
                           if k in g},
                        **{k: int(n[k]) for k in ("Budget.Used", "TCP.Connections") if k in n}})
        if time.monotonic() >= DEADLINE:
            break
        time.sleep(min(every, max(0.0, DEADLINE - time.monotonic())))
    c.close()


def main():
    rnd = random.Random(14)
    threads = [threading.Thread(target=tcp_worker, args=(w, random.Random(rnd.random())))
               for w in range(6)]
    threads += [threading.Thread(target=udp_worker, args=(w, random.Random(rnd.random())))
                for w in range(2)]
    threads += [threading.Thread(target=churn)]
    threads += [threading.Thread(target=sampler, args=(max(2.0, SECONDS / 200),))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with open(OUT, "w") as f:
        json.dump({"seconds": SECONDS, "counts": counts, "lost": lost[:20], "lost_total": len(lost),
                   "wrong": wrong[:20], "wrong_total": len(wrong), "errors": errors[:20],
                   "errors_total": len(errors), "samples": samples}, f, indent=1)
    print("counts", counts, "lost", len(lost), "wrong", len(wrong), "errors", len(errors), flush=True)


if __name__ == "__main__":
    main()
