"""Edits to upstream runtime files for GOOS=xen (format: see go-xen/README.md).

Reuse before rewrite: xen takes semaphore-based notes
(lock_sema.go) and a small heap address space. Threads, sysmon and preemption are Go's own
(the thread layer, runtime/thread_xen.go, makes Ms threads).
"""

EDITS = [
    # The OS memory layer is mem_xen.go's (arenas up, metadata down, over the pages the shim
    # mapped): xen is an sbrk platform (no arena hints) without mem_sbrk.go's single break.
    ("src/runtime/mem_nonsbrk.go", "//go:build !plan9 && !wasm\n", "//go:build !plan9 && !wasm && !xen\n"),
    # os_xen.go implements the OS entry points in Go (read, write1, exit, usleep, ...).
    ("src/runtime/stubs2.go",
     "//go:build !aix && !darwin && !js && !openbsd && !plan9 && !solaris && !wasip1 && !windows\n",
     "//go:build !aix && !darwin && !js && !openbsd && !plan9 && !solaris && !wasip1 && !windows && !xen\n"),
    # Notes over per-M semaphores (semasleep/semawakeup in os_xen.go).
    ("src/runtime/lock_sema.go",
     "//go:build aix || darwin || netbsd || openbsd || plan9 || solaris || windows\n",
     "//go:build aix || darwin || netbsd || openbsd || plan9 || solaris || windows || xen\n"),
    # A small heap address space: 36 bits (64 GiB) and 4 MiB arenas, so the arena
    # index is 128 KiB instead of 32 MiB, and no arena base offset (heap addresses
    # are low: 0x400000 + pfn*4096).
    ("src/runtime/malloc.go",
     "heapAddrBits = (_64bit*(1-goarch.IsWasm)*(1-goos.IsIos*goarch.IsArm64))*48 + ",
     "heapAddrBits = (_64bit*(1-goarch.IsWasm)*(1-goos.IsIos*goarch.IsArm64)*(1-goos.IsXen))*48 + 36*goos.IsXen + "),
    ("src/runtime/malloc.go",
     "logHeapArenaBytes = (6+20)*(_64bit*(1-goos.IsWindows)*(1-goarch.IsWasm)*(1-goos.IsIos*goarch.IsArm64)) + ",
     "logHeapArenaBytes = (6+20)*(_64bit*(1-goos.IsWindows)*(1-goarch.IsWasm)*(1-goos.IsIos*goarch.IsArm64)*(1-goos.IsXen)) + (2+20)*goos.IsXen + "),
    ("src/runtime/malloc.go",
     "arenaBaseOffset = 0xffff800000000000*goarch.IsAmd64 + ",
     "arenaBaseOffset = 0xffff800000000000*goarch.IsAmd64*(1-goos.IsXen) + "),
    # Xen delivers the event upcall and traps on the interrupted stack (a 56-byte frame,
    # before the handler moves to its own stack), as Windows and Plan 9 deliver exceptions and
    # notes: reserve room for it below every goroutine's stack guard.
    ("src/runtime/stack.go",
     "stackSystem = goos.IsWindows*4096 + goos.IsPlan9*512 + ",
     "stackSystem = goos.IsWindows*4096 + goos.IsPlan9*512 + goos.IsXen*512 + "),
    # The boot timeline (boottrace_xen.go; boottrace_stub.go elsewhere): stage 0 before the
    # packages' init functions, stage 1 before main.main.
    ("src/runtime/proc.go",
     "\tlast := lastmoduledatap // grab before loop starts.",
     "\tbootTraceStage(0)\n\tlast := lastmoduledatap // grab before loop starts."),
    ("src/runtime/proc.go",
     "\tfn := main_main // make an indirect call,",
     "\tbootTraceStage(1)\n\tfn := main_main // make an indirect call,"),
    # signal_recv must not block the only M: on xen it parks os/signal's goroutine through
    # the note hooks darwin uses (sigqueue_xen.go), so sigqueue_note.go's throwing ones go.
    ("src/runtime/sigqueue.go", 'if GOOS == "darwin" || GOOS == "ios" {',
     'if GOOS == "darwin" || GOOS == "ios" || GOOS == "xen" {', 3),
    ("src/runtime/sigqueue_note.go", "//go:build !darwin && !plan9\n",
     "//go:build !darwin && !plan9 && !xen\n"),
    # The memory profiler's bucket hash table is 179999 pointers (1.4 MiB), allocated whole at
    # the first sampled allocation: Linux backs the pages it touches, a Xen domain all of them
    # (mem_xen.go). 4093 chains (32 KiB) serve thousands of distinct stacks.
    ("src/runtime/mprof.go", '\t"internal/goarch"\n', '\t"internal/goarch"\n\t"internal/goos"\n'),
    ("src/runtime/mprof.go", "\tbuckHashSize = 179999\n",
     "\tbuckHashSize = 179999*(1-goos.IsXen) + 4093*goos.IsXen\n"),
    # Without GOMEMLIMIT, the soft memory limit comes from the OS: on xen 7/8 of the domain's
    # heap (mem_xen.go), so the GC collects before the heap goal outgrows the domain's pages;
    # elsewhere none (memlimit_other.go). GOMEMLIMIT=off still turns it off.
    ("src/runtime/mgcpacer.go",
     '\tif p == "" || p == "off" {\n\t\treturn math.MaxInt64\n\t}\n',
     '\tif p == "" {\n\t\treturn osDefaultMemoryLimit()\n\t}\n'
     '\tif p == "off" {\n\t\treturn math.MaxInt64\n\t}\n'),
    # runtime's own tests: the page allocator's fixtures place chunks at 192 GiB and, on
    # 64-bit platforms but iOS, 4 TiB apart; xen's heap addresses end at 64 GiB (36 bits).
    ("src/runtime/export_test.go",
     "\tif goos.IsAix != 0 {\n\t\tbaseAddr += arenaBaseOffset\n\t}\n",
     "\tif goos.IsAix != 0 {\n\t\tbaseAddr += arenaBaseOffset\n\t}\n"
     "\tif goos.IsXen != 0 {\n\t\tbaseAddr = 0x2000 * pallocChunkBytes // 32 GiB\n\t}\n"),
    ("src/runtime/mpagealloc_test.go",
     "\tif PageAlloc64Bit != 0 && goos.IsIos == 0 {\n",
     "\tif PageAlloc64Bit != 0 && goos.IsIos == 0 && goos.IsXen == 0 {\n", 2),
    ("src/runtime/mpagecache_test.go",
     "\tif PageAlloc64Bit != 0 && goos.IsIos == 0 {\n",
     "\tif PageAlloc64Bit != 0 && goos.IsIos == 0 && goos.IsXen == 0 {\n"),
    ("src/runtime/mgcscavenge_test.go",
     "\tif PageAlloc64Bit != 0 && goos.IsIos == 0 {\n",
     "\tif PageAlloc64Bit != 0 && goos.IsIos == 0 && goos.IsXen == 0 {\n"),
]
