"""Host tests of the shim's printf engine (mini-os-shim/format.c), compiled with cffi."""

import importlib.util

import pytest

cffi = pytest.importorskip("cffi")

from goxen import paths

SHIM = paths.REPO / "mini-os-shim"

SOURCE = r"""
#include <stdarg.h>
#include <string.h>
#include "format.h"

static char big[4096];
static unsigned int big_n;

static void flush_big(struct fmt_sink *s)
{
    memcpy(big + big_n, s->buf, s->n);
    big_n += s->n;
    s->n = 0;
}

/* Format with a sink of `size` bytes; flushes into `big` when `flush` is set. */
int fmt(char *out, unsigned int size, int flush, const char *f, ...)
{
    char buf[256];
    struct fmt_sink s = { buf, size, 0, flush ? flush_big : 0 };
    va_list ap;

    big_n = 0;
    va_start(ap, f);
    shim_vformat(&s, f, ap);
    va_end(ap);
    if (flush)
        flush_big(&s);
    else {
        memcpy(big, buf, s.n);
        big_n = s.n;
    }
    memcpy(out, big, big_n);
    out[big_n] = 0;
    return big_n;
}
"""


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    ffi = cffi.FFI()
    ffi.cdef("int fmt(char *out, unsigned int size, int flush, const char *f, ...);")
    ffi.set_source("_shim_format", SOURCE, sources=[str(SHIM / "format.c")],
                   include_dirs=[str(SHIM / "include")],
                   extra_compile_args=["-Wall", "-Werror", "-Wno-format"])
    out = tmp_path_factory.mktemp("shim_format")
    so = ffi.compile(tmpdir=str(out))
    spec = importlib.util.spec_from_file_location("_shim_format", so)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.ffi, mod.lib


def fmt(lib, f, *args, size=256, flush=True):
    ffi, l = lib
    out = ffi.new("char[4096]")
    n = l.fmt(out, size, int(flush), f.encode(), *args)
    return ffi.string(out, n).decode()


def u64(lib, v):
    return lib[0].cast("unsigned long", v)


def i32(lib, v):
    return lib[0].cast("int", v)


def test_hex_and_widths(lib):
    assert fmt(lib, "%lx", u64(lib, 0xdead0000)) == "dead0000"
    assert fmt(lib, "%016lx", u64(lib, 0x401828)) == "0000000000401828"
    assert fmt(lib, "%#lx", u64(lib, 0x463000)) == "0x463000"
    assert fmt(lib, "%#lx", u64(lib, 0)) == "0x0"
    assert fmt(lib, "%04lx", u64(lib, 0xe033)) == "e033"
    assert fmt(lib, "%x", lib[0].cast("unsigned int", 0xffffffff)) == "ffffffff"
    assert fmt(lib, "%lx", u64(lib, (1 << 64) - 1)) == "ffffffffffffffff"
    assert fmt(lib, "%p", lib[0].cast("void *", 0x1000)) == "0x1000"


def test_decimal(lib):
    assert fmt(lib, "%d", i32(lib, 0)) == "0"
    assert fmt(lib, "%d", i32(lib, -22)) == "-22"
    assert fmt(lib, "%ld", lib[0].cast("long", -(1 << 63))) == "-9223372036854775808"
    assert fmt(lib, "%lu", u64(lib, 18446744073709551615)) == "18446744073709551615"
    assert fmt(lib, "%5d|%-d", i32(lib, 42), i32(lib, 1)) == "   42|%-d"
    assert fmt(lib, "%05d", i32(lib, -42)) == "-0042"
    assert fmt(lib, "%u", lib[0].cast("unsigned int", 4000000000)) == "4000000000"


def test_strings_and_literals(lib):
    ffi = lib[0]
    assert fmt(lib, "xen: shim: %s failed: error %ld", ffi.new("char[]", b"mmu_update"),
               lib[0].cast("long", -14)) == "xen: shim: mmu_update failed: error -14"
    assert fmt(lib, "%s", ffi.NULL) == "(null)"
    assert fmt(lib, "%c%c", i32(lib, ord("o")), i32(lib, ord("k"))) == "ok"
    assert fmt(lib, "100%% %q") == "100% %q"
    assert fmt(lib, "trailing %") == "trailing "


def test_flushes_when_the_buffer_fills(lib):
    text = "abcdefghij" * 30
    assert fmt(lib, "%s|%lx", lib[0].new("char[]", text.encode()), u64(lib, 0xabc),
               size=7) == text + "|abc"


def test_truncates_without_a_flush(lib):
    assert fmt(lib, "%s", lib[0].new("char[]", b"0123456789"), size=4, flush=False) == "0123"
