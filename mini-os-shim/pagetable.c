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

long shim_pt_map_all(struct pt_builder *b)
{
	uint64_t pfn;
	long rc;

	b->nbatch = 0;
	b->tables_added = 0;
	b->ptes_written = 0;
	b->failed = 0;
	for (pfn = 0; pfn < b->nr_pages; pfn++) {
		uint64_t va = b->virt_base + (pfn << 12);
		uint64_t mfn = b->l4_mfn;
		const uint64_t *t;
		unsigned int idx;
		int shift;

		if (b->p2m[pfn] == PT_INVALID_MFN)
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
		idx = (unsigned int)(va >> 12) & (PT_ENTRIES - 1);
		t = b->table(b->ctx, mfn);
		if (t[idx] & PT_PRESENT)
			continue;
		b->batch[b->nbatch].ptr = ((mfn << 12) + idx * 8) | MMU_NORMAL_PT_UPDATE;
		b->batch[b->nbatch].val = (b->p2m[pfn] << 12) | PT_LEAF_FLAGS;
		if (++b->nbatch == PT_BATCH) {
			rc = flush(b);
			if (rc)
				return rc;
		}
	}
	return flush(b);
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
