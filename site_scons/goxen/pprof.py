"""Read a Go CPU profile (runtime/pprof's gzipped profile.proto) without the pprof tool:
enough to tell where the samples are.

    stacks = goxen.pprof.stacks(data)    # one list of function names per sample, leaf first
"""

import gzip


def _varint(b, i):
    v = shift = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if c < 0x80:
            return v, i


def _fields(b):
    """(field number, wire type, value) of one protobuf message: value is an int (varint)
    or bytes (length-delimited)."""
    i = 0
    while i < len(b):
        key, i = _varint(b, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(b, i)
        elif wt == 2:
            n, i = _varint(b, i)
            v, i = b[i:i + n], i + n
        elif wt == 1:
            v, i = int.from_bytes(b[i:i + 8], "little"), i + 8
        elif wt == 5:
            v, i = int.from_bytes(b[i:i + 4], "little"), i + 4
        else:
            raise ValueError(f"wire type {wt}")
        yield num, wt, v


def _ints(wt, v):
    """A repeated integer field: packed (bytes) or one varint."""
    if wt == 0:
        return [v]
    out, i = [], 0
    while i < len(v):
        x, i = _varint(v, i)
        out.append(x)
    return out


def stacks(data):
    """(samples, functions): samples as lists of function names, leaf first (profile.proto:
    Profile.sample=2, location=4, function=5, string_table=6)."""
    strings, funcs, locs, samples = [], {}, {}, []
    for num, wt, v in _fields(gzip.decompress(data)):
        if num == 6:
            strings.append(v.decode())
        elif num == 5:
            f = {n: x for n, _, x in _fields(v)}
            funcs[f.get(1, 0)] = f.get(2, 0)
        elif num == 4:
            lid, fids = 0, []
            for n, w, x in _fields(v):
                if n == 1:
                    lid = x
                elif n == 4:
                    fids += [y for m, _, y in _fields(x) if m == 1]
            locs[lid] = fids
        elif num == 2:
            ids, vals = [], []
            for n, w, x in _fields(v):
                if n == 1:
                    ids += _ints(w, x)
                elif n == 2:
                    vals += _ints(w, x)
            samples.append((ids, vals))
    stacks = []
    for ids, vals in samples:
        names = [strings[funcs[f]] for lid in ids for f in locs.get(lid, [])]
        stacks += [names] * (vals[0] if vals else 1)
    return stacks
