/*
 * pagetable.h: portable builder for the guest's direct map.
 *
 * Maps pfn 0..nr_pages-1 at virt_base + pfn*4096 in the 4-level table whose
 * top page is l4_mfn, adding missing L3/L2/L1 pages taken from
 * next_free_pfn upwards. Each new table page is zeroed, made read-only in
 * its own mapping, then hooked into its parent; leaf PTEs go to Xen in
 * batches. Entries that are already present are left alone, so Xen's
 * bootstrap mapping is kept as it is.
 *
 * All machine access goes through the hooks, so the same code runs against
 * Xen (mm.c) and against a fake machine in the host tests.
 */
#ifndef SHIM_PAGETABLE_H
#define SHIM_PAGETABLE_H

#include <stdint.h>

#ifndef __XEN_INTERFACE_VERSION__
#define __XEN_INTERFACE_VERSION__ 0x00040e00
#endif
#include <xen/xen.h>

#pragma GCC visibility push(hidden)

/* x86-64 page-table entry bits (architectural, not part of Xen's headers). */
#define PT_PRESENT  0x001UL
#define PT_RW       0x002UL
#define PT_USER     0x004UL
#define PT_ACCESSED 0x020UL
#define PT_DIRTY    0x040UL
#define PT_NX       (1UL << 63)
#define PT_ADDR_MASK 0x000ffffffffff000UL

#define PT_LEAF_FLAGS  (PT_PRESENT | PT_RW | PT_USER | PT_ACCESSED | PT_DIRTY)
#define PT_TABLE_FLAGS (PT_PRESENT | PT_RW | PT_USER | PT_ACCESSED | PT_DIRTY)
#define PT_RO_FLAGS    (PT_PRESENT | PT_USER | PT_ACCESSED)

#define PT_ENTRIES 512
#define PT_BATCH 512
#define PT_INVALID_MFN (~0UL)

struct pt_builder {
	/* inputs */
	uint64_t virt_base;      /* va of pfn 0 */
	uint64_t nr_pages;       /* map pfns [0, nr_pages) */
	const uint64_t *p2m;     /* pfn -> mfn (start_info.mfn_list) */
	uint64_t l4_mfn;         /* top-level table */
	uint64_t next_free_pfn;  /* allocation cursor for new table pages */
	void *ctx;
	/* readable view of the table page with this mfn (512 entries) */
	const uint64_t *(*table)(void *ctx, uint64_t mfn);
	/* zero the page (it is mapped writable) */
	void (*zero_page)(void *ctx, uint64_t pfn);
	/* make the page's own mapping read-only; 0 or an error code */
	long (*protect)(void *ctx, uint64_t pfn);
	/* apply `count` MMU_NORMAL_PT_UPDATE requests; 0 or an error code */
	long (*update)(void *ctx, mmu_update_t *req, unsigned int count);
	/* outputs */
	uint64_t tables_added;   /* table pages taken from next_free_pfn */
	uint64_t ptes_written;   /* leaf entries written */
	const char *failed;      /* which step failed, when shim_pt_map_all returns nonzero */
	uint64_t window_pfn;     /* shim_pt_map_window: the first pfn the window maps */
	uint64_t window_pages;   /* shim_pt_map_window: how many */
	/* internal */
	unsigned int nbatch;
	mmu_update_t batch[PT_BATCH];
};

/* 0 on success, else the failing hook's error code (or -1: no free page). */
long shim_pt_map_all(struct pt_builder *b);

/*
 * The heap window (after shim_pt_map_all, with the same hooks): map the free pfns a second
 * time, contiguously from va (which the caller aligns as the heap needs: the Go runtime's
 * 4 MiB arenas), with leaf flags. The window's own table pages are taken first, from
 * next_free_pfn; window_pfn is then the first pfn mapped at va and window_pages the number
 * mapped, up to nr_pages. 0 on success, else as shim_pt_map_all.
 */
long shim_pt_map_window(struct pt_builder *b, uint64_t va, uint64_t flags);

/* A loaded part of the kernel image, [start, end) in virtual addresses. */
struct pt_segment {
	uint64_t start, end;
	int writable, executable;
};

/*
 * Tighten the leaf entries of every mapped pfn below nr_pages (after
 * shim_pt_map_all, with the same hooks): a page that only read-only segments
 * touch loses PT_RW; a page that no executable segment touches gets nx (pass
 * PT_NX, or 0 when the CPU has no NX and only write protection is wanted).
 * Pages outside every segment (the rest of memory) count as writable and not
 * executable. PT_RW is only ever cleared, never set, so Xen's read-only
 * mappings of page tables stay as they are. Entries that do not change are
 * not written. Returns 0 or the update hook's error code.
 */
long shim_pt_protect(struct pt_builder *b, const struct pt_segment *segs, unsigned int nsegs,
		     uint64_t nx);

#pragma GCC visibility pop

#endif
