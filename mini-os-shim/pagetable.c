/*
 * pagetable.c: build the direct map (see include/pagetable.h).
 * Portable C: no hypercalls here, only the builder's hooks.
 */
#include "pagetable.h"

static long flush(struct pt_builder *b)
{
	long rc;

	if (b->nbatch == 0)
		return 0;
	rc = b->update(b->ctx, b->batch, b->nbatch);
	if (rc) {
		b->failed = "mmu_update (leaf entries)";
		return rc;
	}
	b->ptes_written += b->nbatch;
	b->nbatch = 0;
	return 0;
}

/* Is the page at pfn mapped? Only mapped pages can be zeroed and made read-only. */
static int mapped(struct pt_builder *b, uint64_t pfn)
{
	uint64_t va = b->virt_base + (pfn << 12), mfn = b->l4_mfn, e = 0;
	int shift;

	for (shift = 39; shift >= 12; shift -= 9) {
		e = b->table(b->ctx, mfn)[(va >> shift) & (PT_ENTRIES - 1)];
		if (!(e & PT_PRESENT))
			return 0;
		mfn = (e & PT_ADDR_MASK) >> 12;
	}
	return 1;
}

/* Add a table page for entry idx of the table at table_mfn; returns its mfn. */
static long add_table(struct pt_builder *b, uint64_t table_mfn, unsigned int idx,
		      uint64_t *new_mfn)
{
	mmu_update_t req;
	uint64_t pfn, mfn;
	long rc;

	/* Pending leaf entries first: the new page may lie in the range they map. */
	rc = flush(b);
	if (rc)
		return rc;
	for (;;) {
		if (b->next_free_pfn >= b->nr_pages) {
			b->failed = "no free page for a page table";
			return -1;
		}
		pfn = b->next_free_pfn++;
		mfn = b->p2m[pfn];
		if (mfn == PT_INVALID_MFN)
			continue;
		if (!mapped(b, pfn)) {
			/* Xen leaves >= 512 KiB of mapped padding, so this needs a tiny domain. */
			b->failed = "no mapped free page for a page table";
			return -1;
		}
		break;
	}
	b->zero_page(b->ctx, pfn);
	rc = b->protect(b->ctx, pfn);
	if (rc) {
		b->failed = "update_va_mapping (table page read-only)";
		return rc;
	}
	req.ptr = ((table_mfn << 12) + idx * 8) | MMU_NORMAL_PT_UPDATE;
	req.val = (mfn << 12) | PT_TABLE_FLAGS;
	rc = b->update(b->ctx, &req, 1);
	if (rc) {
		b->failed = "mmu_update (hook table page)";
		return rc;
	}
	b->tables_added++;
	*new_mfn = mfn;
	return 0;
}

/* Map count pfns from first_pfn at va0 + i*4096 with leaf flags, adding missing tables; with
 * first_pfn == TABLES_ONLY only the tables the range needs are added. Present leaf entries and
 * pfns without a frame are left alone. */
#define TABLES_ONLY (~0UL)

static long map_range(struct pt_builder *b, uint64_t va0, uint64_t first_pfn, uint64_t count,
		      uint64_t flags)
{
	uint64_t i;
	long rc;

	for (i = 0; i < count; i++) {
		uint64_t va = va0 + (i << 12);
		uint64_t pfn = first_pfn + i;
		uint64_t mfn = b->l4_mfn;
		const uint64_t *t;
		unsigned int idx;
		int shift;

		if (first_pfn != TABLES_ONLY && b->p2m[pfn] == PT_INVALID_MFN)
			continue;
		for (shift = 39; shift > 12; shift -= 9) {
			uint64_t e;

			idx = (unsigned int)(va >> shift) & (PT_ENTRIES - 1);
			e = b->table(b->ctx, mfn)[idx];
			if (e & PT_PRESENT) {
				mfn = (e & PT_ADDR_MASK) >> 12;
				continue;
			}
			rc = add_table(b, mfn, idx, &mfn);
			if (rc)
				return rc;
		}
		if (first_pfn == TABLES_ONLY)
			continue;
		idx = (unsigned int)(va >> 12) & (PT_ENTRIES - 1);
		t = b->table(b->ctx, mfn);
		if (t[idx] & PT_PRESENT)
			continue;
		b->batch[b->nbatch].ptr = ((mfn << 12) + idx * 8) | MMU_NORMAL_PT_UPDATE;
		b->batch[b->nbatch].val = (b->p2m[pfn] << 12) | flags;
		if (++b->nbatch == PT_BATCH) {
			rc = flush(b);
			if (rc)
				return rc;
		}
	}
	return flush(b);
}

long shim_pt_map_all(struct pt_builder *b)
{
	b->nbatch = 0;
	b->tables_added = 0;
	b->ptes_written = 0;
	b->failed = 0;
	return map_range(b, b->virt_base, 0, b->nr_pages, PT_LEAF_FLAGS);
}

long shim_pt_map_window(struct pt_builder *b, uint64_t va, uint64_t flags)
{
	long rc;

	b->nbatch = 0;
	b->failed = 0;
	if (b->next_free_pfn >= b->nr_pages) {
		b->failed = "no free page for the heap window";
		return -1;
	}
	/* Its tables first: they come from next_free_pfn, which the window then starts after. */
	rc = map_range(b, va, TABLES_ONLY, b->nr_pages - b->next_free_pfn, 0);
	if (rc)
		return rc;
	if (b->next_free_pfn >= b->nr_pages) {
		b->failed = "no free page left for the heap window";
		return -1;
	}
	b->window_pfn = b->next_free_pfn;
	b->window_pages = b->nr_pages - b->window_pfn;
	return map_range(b, va, b->window_pfn, b->window_pages, flags);
}

long shim_pt_protect(struct pt_builder *b, const struct pt_segment *segs, unsigned int nsegs,
		     uint64_t nx)
{
	uint64_t pfn;

	b->nbatch = 0;
	b->failed = 0;
	b->ptes_written = 0;
	for (pfn = 0; pfn < b->nr_pages; pfn++) {
		uint64_t va = b->virt_base + (pfn << 12), mfn = b->l4_mfn, e = 0, n;
		int shift, covered = 0, w = 0, x = 0;
		unsigned int i;

		for (shift = 39; shift >= 12; shift -= 9) {
			e = b->table(b->ctx, mfn)[(va >> shift) & (PT_ENTRIES - 1)];
			if (!(e & PT_PRESENT))
				break;
			if (shift > 12)
				mfn = (e & PT_ADDR_MASK) >> 12;
		}
		if (!(e & PT_PRESENT))
			continue;
		for (i = 0; i < nsegs; i++) {
			if (segs[i].start >= va + 4096 || segs[i].end <= va)
				continue;
			covered = 1;
			w |= segs[i].writable;
			x |= segs[i].executable;
		}
		if (!covered)
			w = 1;
		n = e;
		if (!w)
			n &= ~PT_RW;
		if (x)
			n &= ~PT_NX;
		else
			n |= nx;
		if (n == e)
			continue;
		b->batch[b->nbatch].ptr = ((mfn << 12) + ((va >> 12) & (PT_ENTRIES - 1)) * 8) |
					  MMU_NORMAL_PT_UPDATE;
		b->batch[b->nbatch].val = n;
		if (++b->nbatch == PT_BATCH) {
			long rc = flush(b);
			if (rc) {
				b->failed = "mmu_update (protect)";
				return rc;
			}
		}
	}
	if (b->nbatch) {
		long rc = flush(b);
		if (rc) {
			b->failed = "mmu_update (protect)";
			return rc;
		}
	}
	return 0;
}
