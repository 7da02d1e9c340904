"""Load generators and probes of `./scons bench`, run as a script inside the test bed's network
namespace (`ip netns exec NS python loadgen.py MODE ...`). Standard library only. Each mode
prints one JSON object on stdout (the last line); times are CLOCK_MONOTONIC seconds
(time.monotonic(), the same clock in every process of the machine).

    probe ADDR PORT SECONDS           ICMP echo and a kvstore UDP `version` every 10 ms until both
                                      answered: {"icmp": t, "udp": t} (null: no answer)
    smoke ADDR PORT SECONDS           kvstore UDP set/get until it works: {"ok": bool, "error"}
    kvfill ADDR PORT KEYS [START]     sets of keys START..KEYS-1 over UDP, 10 per datagram:
                                      {"keys", "seconds", "resent"}
    kvstats ADDR PORT                 `stats` over UDP: {"stats": {name: value}}
    kvudp ADDR PORT CLIENTS SECONDS   closed-loop get/set (9:1) load, one request in flight per
                                      client socket: {"ops", "seconds", "errors", "timeouts"}
    kvtcp ADDR PORT CLIENTS SECONDS   the same over CLIENTS TCP connections
    udpecho ADDR PORT CLIENTS SECONDS echo round trips: {"ops", "seconds", "errors", "timeouts"}
    tcpsink ADDR PORT SECONDS         send for SECONDS, CloseWrite, read the sink's byte count:
                                      {"bytes", "acked", "seconds"}
    tcpsource ADDR PORT SECONDS       receive for SECONDS: {"bytes", "seconds"}
    idlehold ADDR PORT MOST STEP      open idle TCP connections to kvstore STEP at a time until
                                      MOST or the guest refuses one; then every one must answer
                                      `version`: {"held", "answered", "survived", "stop", ...}
    gap ADDR PORT SECONDS             a kvstore UDP `version` every 10 ms for SECONDS, or until
                                      a line on stdin (prints "gap started" first): the longest
                                      time between two replies: {"max_gap", "sent", "answered",
                                      "gap_at"}

A mode that cannot connect prints {"error": "..."} and exits 1.
"""

import errno
import json
import os
import random
import selectors
import socket
import struct
import sys
import time

KEYSPACE = 1000         # keys the kvudp/kvtcp load uses (preloaded by the load itself)
VALUE = b"v" * 100
RETRY = 1.0             # a UDP request unanswered this long is sent again (counted)
STALL = 20.0            # kvfill gives up after this long without a reply
BATCH = 10              # kvfill's sets per datagram (10 x 124 bytes fit 1400)


def _out(obj, rc=0):
    print(json.dumps(obj), flush=True)
    sys.exit(rc)


def _checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def icmp_echo(ident, seq, payload=b"goxen-bench"):
    """An ICMP echo request (RFC 792: type 8, code 0, checksum, identifier, sequence)."""
    head = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    csum = _checksum(head + payload)
    return struct.pack("!BBHHH", 8, 0, csum, ident, seq) + payload


def udp_frame(rid, payload):
    """memcached's UDP frame header: request id, sequence 0, 1 datagram, reserved."""
    return struct.pack(">HHHH", rid & 0xFFFF, 0, 1, 0) + payload


def probe(addr, port, seconds):
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    raw.setblocking(False)
    udp.setblocking(False)
    ident = os.getpid() & 0xFFFF
    got = {"icmp": None, "udp": None}
    print("probe started", flush=True)
    end = time.monotonic() + seconds
    seq = 0
    sel = selectors.DefaultSelector()
    sel.register(raw, selectors.EVENT_READ, "icmp")
    sel.register(udp, selectors.EVENT_READ, "udp")
    nxt = 0.0
    while time.monotonic() < end and None in got.values():
        now = time.monotonic()
        if now >= nxt:
            seq = (seq + 1) & 0xFFFF
            try:
                if got["icmp"] is None:
                    raw.sendto(icmp_echo(ident, seq), (addr, 0))
                if got["udp"] is None:
                    udp.sendto(udp_frame(seq, b"version\r\n"), (addr, port))
            except OSError:
                pass            # no ARP answer yet (EHOSTUNREACH): keep probing
            nxt = now + 0.01
        for key, _ in sel.select(max(0.0, nxt - time.monotonic())):
            t = time.monotonic()
            try:
                data, frm = key.fileobj.recvfrom(65536)
            except OSError:
                continue
            if frm[0] != addr:
                continue
            if key.data == "icmp":
                ihl = (data[0] & 0xF) * 4
                typ, _, _, rid, _ = struct.unpack("!BBHHH", data[ihl:ihl + 8])
                if typ == 0 and rid == ident and got["icmp"] is None:
                    got["icmp"] = t
            elif data[8:16] == b"VERSION " and got["udp"] is None:
                got["udp"] = t
    _out(got)


def _udp_req(sock, rid, payload, timeout):
    """Send one framed request and collect every datagram of its reply."""
    sock.settimeout(timeout)
    sock.send(udp_frame(rid, payload))
    parts, total = {}, None
    while total is None or len(parts) < total:
        d = sock.recv(65536)
        r, seq, n, _ = struct.unpack(">HHHH", d[:8])
        if r != rid & 0xFFFF:
            continue
        total, parts[seq] = n, d[8:]
    return b"".join(parts[i] for i in range(total))


def smoke(addr, port, seconds):
    end = time.monotonic() + seconds
    err = "no answer"
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((addr, port))
    rid = 0
    while time.monotonic() < end:
        rid += 2
        try:
            r1 = _udp_req(s, rid, b"set smoke 0 0 5\r\nhello\r\n", 1.0)
            r2 = _udp_req(s, rid + 1, b"get smoke\r\n", 1.0)
            if r1 == b"STORED\r\n" and r2 == b"VALUE smoke 0 5\r\nhello\r\nEND\r\n":
                _out({"ok": True})
            err = f"unexpected replies {r1[:40]!r} {r2[:40]!r}"
        except (OSError, socket.timeout) as e:
            err = f"{type(e).__name__}: {e}"
            time.sleep(0.2)
    _out({"ok": False, "error": err})


def kvkeep(addr, port, write):
    """write=1: set the key "lifecycle" to "kept"; write=0: read it back ({"value": ...})."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((addr, port))
    req = b"set lifecycle 0 0 4\r\nkept\r\n" if write else b"get lifecycle\r\n"
    for attempt in range(5):
        try:
            reply = _udp_req(s, 7100 + attempt, req, 3.0)
            break
        except socket.timeout:
            continue
    else:
        _out({"error": "no answer"}, 1)
    if write:
        _out({"ok": reply == b"STORED\r\n"})
    lines = reply.split(b"\r\n")
    _out({"value": lines[1].decode() if lines[0].startswith(b"VALUE ") else None})


def _stats(addr, port, tries=5):
    """kvstore's `stats` over UDP as {name: value}, or None when it does not answer."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((addr, port))
    try:
        for attempt in range(tries):
            try:
                reply = _udp_req(s, 7000 + attempt, b"stats\r\n", 3.0)
                break
            except (socket.timeout, ConnectionRefusedError):
                continue
        else:
            return None
    finally:
        s.close()
    stats = {}
    for line in reply.decode().splitlines():
        w = line.split()
        if len(w) == 3 and w[0] == "STAT":
            stats[w[1]] = int(w[2]) if w[2].isdigit() else w[2]
    return stats


def kvstats(addr, port):
    stats = _stats(addr, port)
    if stats is None:
        _out({"error": "no answer to stats"}, 1)
    _out({"stats": stats})


#: What idlehold keeps of each `stats` reply: memory (see run.py's _resident) and connections.
IDLE_STATS = ("go_sys", "go_heap_inuse", "mem_used", "rss", "curr_connections",
              "rejected_connections")
IDLE_CONNECT_TIMEOUT = 10.0     # a connect unanswered this long ends the opening
IDLE_ACCEPT_TIMEOUT = 20.0      # the app must count every connection within this
IDLE_ANSWER_TIMEOUT = 60.0      # every held connection must answer `version` within this
IDLE_SAMPLE = 20                # connections that must answer `version` after each step


def _open_batch(addr, port, n, timeout):
    """n non-blocking connects at once: (established sockets, first error or None)."""
    sel = selectors.DefaultSelector()
    pending, done, err = {}, [], None
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        rc = s.connect_ex((addr, port))
        if rc not in (0, errno.EINPROGRESS):
            s.close()
            err = err or f"connect: {os.strerror(rc)}"
            break
        pending[s.fileno()] = s
        sel.register(s, selectors.EVENT_WRITE)
    end = time.monotonic() + timeout
    while pending and time.monotonic() < end:
        for key, _ in sel.select(max(0.0, end - time.monotonic())):
            s = pending.pop(key.fd)
            sel.unregister(s)
            rc = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if rc:
                err = err or f"connect: {os.strerror(rc)}"
                s.close()
            else:
                done.append(s)
    if pending:
        err = err or f"connect: {len(pending)} unanswered after {timeout:.0f} s"
        for s in pending.values():
            s.close()
    sel.close()
    return done, err


def _closed_conns(socks):
    """How many of socks the far end has closed or reset (readable while idle: EOF, a reset,
    or an unasked reply such as kvstore's "too many connections")."""
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    n = len(sel.select(0))
    sel.close()
    return n


def _answer_all(socks, timeout):
    """Send `version` on every socket; how many answered "VERSION ..." within timeout."""
    sel = selectors.DefaultSelector()
    bufs = {}
    for s in socks:
        try:
            s.send(b"version\r\n")
        except OSError:
            continue
        bufs[s.fileno()] = b""
        sel.register(s, selectors.EVENT_READ)
    ok = 0
    end = time.monotonic() + timeout
    while bufs and time.monotonic() < end:
        for key, _ in sel.select(max(0.0, end - time.monotonic())):
            try:
                d = key.fileobj.recv(256)
            except OSError:
                d = b""
            b = bufs[key.fd] + d
            if not d or b"\r\n" in b:
                ok += b.startswith(b"VERSION ") and b"\r\n" in b
                del bufs[key.fd]
                sel.unregister(key.fileobj)
            else:
                bufs[key.fd] = b
    sel.close()
    return ok


def idlehold(addr, port, most, step):
    """Open idle TCP connections to kvstore, `step` at a time, until `most`, a connect fails,
    the guest closes one, does not count them all as open, or stops answering `stats`; then
    every connection still open must answer a `version`. {"held": connections open, counted by
    kvstore and a sample of IDLE_SAMPLE answering `version` after the last step that passed
    every check, "answered": how many answered
    `version` at the end, "survived": the guest still answered `stats`, "opened", "stop": why
    it ended, "rest": stats before, "steps": [{"conns", "seconds", stats...}]}."""
    import resource
    # The client's open files bound it too (a container may refuse to raise the hard limit).
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < most + 100:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (most + 100, most + 100))
            hard = most + 100
        except (ValueError, OSError):
            most = hard - 100
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    rest = _stats(addr, port)
    if rest is None:
        _out({"error": "no answer to stats before the first connection"}, 1)
    pick = lambda st: {k: st[k] for k in IDLE_STATS if k in st}
    base = rest.get("curr_connections", 0)
    socks, steps, stop = [], [], f"reached {most} connections (the client's bound)"
    held, rng = 0, random.Random(1)
    t0 = time.monotonic()
    while len(socks) < most:
        new, err = _open_batch(addr, port, min(step, most - len(socks)), IDLE_CONNECT_TIMEOUT)
        socks += new
        st, end = None, time.monotonic() + IDLE_ACCEPT_TIMEOUT
        while time.monotonic() < end:
            st = _stats(addr, port, tries=2)
            if st is None or st.get("curr_connections", 0) - base >= len(socks):
                break
            time.sleep(0.2)
        if st is None:
            stop = f"the guest stopped answering stats at {len(socks)} connections"
            break
        steps.append({"conns": len(socks), "seconds": round(time.monotonic() - t0, 2)} | pick(st))
        closed = _closed_conns(socks)
        counted = st.get("curr_connections", 0) - base
        if closed:
            stop = f"the guest closed {closed} of {len(socks)} connections"
            break
        if counted < len(socks):
            stop = f"kvstore counted {counted} of {len(socks)} connections"
            break
        sample = rng.sample(socks, min(IDLE_SAMPLE, len(socks)))
        ok = _answer_all(sample, IDLE_CONNECT_TIMEOUT)
        if ok < len(sample):
            stop = f"{len(sample) - ok} of {len(sample)} sampled connections did not answer"
            break
        held = len(socks)
        if err:
            stop = f"{err} (after {len(socks)} connections)"
            break
    answered = _answer_all(socks, IDLE_ANSWER_TIMEOUT)
    after = _stats(addr, port, tries=2)
    for s in socks:
        s.close()
    _out({"held": held, "answered": answered, "survived": after is not None,
          "opened": len(socks), "stop": stop, "rest": pick(rest),
          "steps": steps, "after": pick(after) if after else "no answer to stats",
          "seconds": round(time.monotonic() - t0, 2)})


def kvfill(addr, port, keys, start=0):
    """Keys start..keys-1 (distinct 100-byte values) over UDP, 16 datagrams in flight, lost ones
    resent; gives up when nothing is stored for STALL seconds (a crashed guest)."""
    window = 16
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((addr, port))
    s.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ)
    pending = {}            # rid -> (first key index, sent at)
    nxt, done, resent, rid = start, start, 0, 0
    t0 = last = time.monotonic()

    # BATCH sets per datagram (memcached's UDP requests may carry several commands); the
    # reply is one STORED line per key.
    def send(k):
        nonlocal rid
        rid = (rid + 1) & 0xFFFF
        n = min(BATCH, keys - k)
        body = b"".join(b"set key%06d 0 0 100\r\n" % i + VALUE + b"\r\n" for i in range(k, k + n))
        s.send(udp_frame(rid, body))
        pending[rid] = (k, time.monotonic())
    while done < keys:
        now = time.monotonic()
        if now - last > STALL:
            _out({"error": f"kvfill: no reply for {STALL} s after {done} keys"}, 1)
        while nxt < keys and len(pending) < window:
            send(nxt)
            nxt += BATCH
        for r, (k, at) in list(pending.items()):
            if now - at > RETRY:
                del pending[r]
                send(k)
                resent += 1
        for _ in sel.select(0.05):
            while True:
                try:
                    d = s.recv(65536)
                except BlockingIOError:
                    break
                r = struct.unpack(">H", d[:2])[0]
                if r in pending:
                    n = min(BATCH, keys - pending[r][0])
                    if d[8:] == b"STORED\r\n" * n:
                        del pending[r]
                        done += n
                        last = time.monotonic()
    _out({"keys": keys - start, "seconds": time.monotonic() - t0, "resent": resent})


def _request(i, rng):
    k = rng.randrange(KEYSPACE)
    if rng.random() < 0.1:
        return b"set k%04d 0 0 100\r\n" % k + VALUE + b"\r\n", b"STORED\r\n"
    return b"get k%04d\r\n" % k, b"END\r\n"


def _preload(addr, port):
    """Store the KEYSPACE keys over UDP (each set tried up to 5 times); give up after STALL
    seconds in all: a lossy server then serves misses (still a measured get)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((addr, port))
    end = time.monotonic() + STALL
    for k in range(KEYSPACE):
        for attempt in range(5):
            if time.monotonic() >= end:
                return
            try:
                if _udp_req(s, k, b"set k%04d 0 0 100\r\n" % k + VALUE + b"\r\n", 0.5) == b"STORED\r\n":
                    break
            except socket.timeout:
                continue


def _preload_tcp(addr, port):
    """Store the KEYSPACE keys over one TCP connection, pipelined."""
    with socket.create_connection((addr, port), timeout=STALL) as s:
        s.sendall(b"".join(b"set k%04d 0 0 100\r\n" % k + VALUE + b"\r\n"
                           for k in range(KEYSPACE)))
        want, got = b"STORED\r\n" * KEYSPACE, b""
        while len(got) < len(want):
            d = s.recv(65536)
            if not d:
                break
            got += d
        if got != want:
            _out({"error": f"preload over TCP: {len(got)} of {len(want)} reply bytes, "
                           f"first {got[:60]!r}"}, 1)


def _closed_loop(socks, make, check, seconds, udp):
    """One request in flight per socket for SECONDS; returns counts and the round-trip times'
    median and 99th percentile (ms) of the answered requests."""
    sel = selectors.DefaultSelector()
    rng = random.Random(1)
    state = {}
    ops = errors = timeouts = 0
    rtts = []
    rid = 0

    def drop(s):
        """A dead or stuck TCP connection: given up."""
        sel.unregister(s)
        del state[s]

    def send(s):
        nonlocal rid, errors
        rid = (rid + 1) & 0xFFFF
        req, want = make(rid, rng)
        state[s] = [rid, want, time.monotonic(), b"", req]
        try:
            if udp:
                s.send(udp_frame(rid, req))
            else:
                s.sendall(req)
        except OSError:
            if not udp:
                errors += 1
                drop(s)
    for s in socks:
        s.setblocking(False) if udp else None
        sel.register(s, selectors.EVENT_READ)
        send(s)
    t0 = time.monotonic()
    end = t0 + seconds
    while True:
        now = time.monotonic()
        if now >= end:
            break
        if udp:
            for s, st in state.items():
                if now - st[2] > RETRY:
                    timeouts += 1
                    rtts.append(now - st[2])    # unanswered: at least this long
                    send(s)
        else:
            for s, st in list(state.items()):
                if now - st[2] > STALL:
                    timeouts += 1
                    drop(s)
            if not state:
                break
        for key, _ in sel.select(0.05):
            s = key.fileobj
            st = state[s]
            try:
                d = s.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                errors += 1
                drop(s)
                continue
            if udp:
                if struct.unpack(">H", d[:2])[0] != st[0]:
                    continue            # a late reply to a resent request
                body = d[8:]
            else:
                if not d:
                    errors += 1
                    drop(s)
                    continue
                st[3] += d
                if not st[3].endswith(st[1]):
                    continue            # the rest of the reply is still coming
                body, st[3] = st[3], b""
            if check(body, st[1]):
                ops += 1
                rtts.append(time.monotonic() - st[2])
            else:
                errors += 1
            send(s)
    out = {"ops": ops, "seconds": time.monotonic() - t0, "errors": errors, "timeouts": timeouts}
    if rtts:
        rtts.sort()
        out["rtt_p50_ms"] = rtts[len(rtts) // 2] * 1000
        out["rtt_p99_ms"] = rtts[min(len(rtts) - 1, len(rtts) * 99 // 100)] * 1000
    return out


def _kv_check(body, want):
    return body.endswith(want)


def kvudp(addr, port, clients, seconds):
    _preload(addr, port)
    socks = []
    for _ in range(clients):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect((addr, port))
        socks.append(s)
    _out(_closed_loop(socks, lambda rid, rng: _request(rid, rng), _kv_check, seconds, True))


def kvtcp(addr, port, clients, seconds):
    try:
        _preload_tcp(addr, port)
    except OSError as e:
        _out({"error": f"preload over TCP {addr}:{port}: {e}"}, 1)
    socks = []
    for _ in range(clients):
        try:
            s = socket.create_connection((addr, port), timeout=10)
        except OSError as e:
            _out({"error": f"connect {addr}:{port}: {e}"}, 1)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        socks.append(s)
    _out(_closed_loop(socks, lambda rid, rng: _request(rid, rng), _kv_check, seconds, False))


def udpecho(addr, port, clients, seconds):
    socks = []
    for _ in range(clients):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect((addr, port))
        socks.append(s)

    def make(rid, rng):
        payload = b"%08d" % rid + b"e" * 56
        return payload, payload
    # The echo server returns the whole datagram, frame header included.
    _out(_closed_loop(socks, make, lambda body, want: body == want, seconds, True))


def tcpsink(addr, port, seconds):
    try:
        s = socket.create_connection((addr, port), timeout=10)
    except OSError as e:
        _out({"error": f"connect {addr}:{port}: {e}"}, 1)
    buf = bytes(range(256)) * 256
    sent = 0
    t0 = time.monotonic()
    end = t0 + seconds
    s.settimeout(30)
    while time.monotonic() < end:
        sent += s.send(buf)
    s.shutdown(socket.SHUT_WR)
    reply = b""
    while not reply.endswith(b"\n"):
        d = s.recv(100)
        if not d:
            break
        reply += d
    t = time.monotonic() - t0
    acked = int(reply) if reply.strip().isdigit() else None
    _out({"bytes": sent, "acked": acked, "seconds": t})


def tcpsource(addr, port, seconds):
    try:
        s = socket.create_connection((addr, port), timeout=10)
    except OSError as e:
        _out({"error": f"connect {addr}:{port}: {e}"}, 1)
    s.settimeout(30)
    got = 0
    t0 = time.monotonic()
    end = t0 + seconds
    while time.monotonic() < end:
        d = s.recv(1 << 20)
        if not d:
            break
        got += len(d)
    t = time.monotonic() - t0
    s.close()
    _out({"bytes": got, "seconds": t})


def gap(addr, port, seconds):
    """The longest silence of a service that should answer every 10 ms: a migration's
    downtime as a client sees it (replies are matched by request id)."""
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.setblocking(False)
    stop = []

    def watch_stdin():
        if sys.stdin is not None and sys.stdin.readline():    # EOF (no stdin): run on
            stop.append(True)
    import threading
    threading.Thread(target=watch_stdin, daemon=True).start()
    print("gap started", flush=True)
    end = time.monotonic() + seconds
    sent = answered = 0
    last = max_gap = gap_at = None
    nxt = 0.0
    sel = selectors.DefaultSelector()
    sel.register(udp, selectors.EVENT_READ)
    while time.monotonic() < end and not stop:
        now = time.monotonic()
        if now >= nxt:
            try:
                udp.sendto(udp_frame(sent, b"version\r\n"), (addr, port))
                sent += 1
            except OSError:
                pass
            nxt = now + 0.01
        for _ in sel.select(max(0.0, nxt - time.monotonic())):
            try:
                data, frm = udp.recvfrom(65536)
            except OSError:
                continue
            if frm[0] != addr or data[8:16] != b"VERSION ":
                continue
            t = time.monotonic()
            answered += 1
            if last is not None and (max_gap is None or t - last > max_gap):
                max_gap, gap_at = t - last, last
            last = t
    _out({"max_gap": max_gap, "gap_at": gap_at, "sent": sent, "answered": answered})


def main(argv):
    if len(argv) < 3:
        _out({"error": "usage: loadgen.py MODE ADDR PORT ..."}, 2)
    mode, addr, port, rest = argv[0], argv[1], int(argv[2]), argv[3:]
    nums = [float(x) if "." in x else int(x) for x in rest]
    modes = {"probe": probe, "smoke": smoke, "kvfill": kvfill, "kvstats": kvstats, "kvkeep": kvkeep,
             "kvudp": kvudp, "kvtcp": kvtcp, "udpecho": udpecho, "tcpsink": tcpsink,
             "tcpsource": tcpsource, "gap": gap, "idlehold": idlehold}
    if mode not in modes:
        _out({"error": f"unknown mode {mode!r}"}, 2)
    modes[mode](addr, port, *nums)


if __name__ == "__main__":
    main(sys.argv[1:])
