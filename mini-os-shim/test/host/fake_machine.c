/*
 * fake_machine.c: a pretend Xen for host tests of pagetable.c (cffi).
 *
 * Machine frames are allocated lazily (only page-table pages get memory).
 * The hooks check what Xen would refuse: tables read through non-table
 * frames, zeroing an unmapped or read-only page, hooking in a table page
 * that is not read-only or not zero, a writable mapping of a table page,
 * overwriting a present entry (a present leaf may change its flags, not its
 * frame, once allow_leaf_changes is set). The first violation is kept in fake.error
 * and the hook returns -22 (EINVAL).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pagetable.h"
#include "fake_machine.h"

struct fake fake;

static int violation(const char *msg, uint64_t a, uint64_t b)
{
	if (!fake.error[0])
		snprintf(fake.error, sizeof(fake.error), "%s (%#llx, %#llx)", msg,
			 (unsigned long long)a, (unsigned long long)b);
	return -22;
}

static uint64_t *frame(uint64_t mfn)
{
	if (!fake.frames[mfn])
		fake.frames[mfn] = calloc(PT_ENTRIES, sizeof(uint64_t));
	return fake.frames[mfn];
}

/* Leaf PTE mapping va, or 0. */
uint64_t fake_lookup(uint64_t va)
{
	uint64_t mfn = fake.l4_mfn, e = 0;
	int shift;

	for (shift = 39; shift >= 12; shift -= 9) {
		e = frame(mfn)[(va >> shift) & (PT_ENTRIES - 1)];
		if (!(e & PT_PRESENT))
			return 0;
		mfn = (e & PT_ADDR_MASK) >> 12;
	}
	return e;
}

static uint64_t *lookup_slot(uint64_t va)
{
	uint64_t mfn = fake.l4_mfn, e;
	int shift;

	for (shift = 39; shift > 12; shift -= 9) {
		e = frame(mfn)[(va >> shift) & (PT_ENTRIES - 1)];
		if (!(e & PT_PRESENT))
			return NULL;
		mfn = (e & PT_ADDR_MASK) >> 12;
	}
	return &frame(mfn)[(va >> 12) & (PT_ENTRIES - 1)];
}

static uint64_t next_lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

/* Take pfn for a bootstrap table page of the given level. */
static uint64_t boot_table(uint64_t *pfn_cursor, int level)
{
	uint64_t pfn = (*pfn_cursor)++, mfn = fake.p2m[pfn];

	fake.level[mfn] = level;
	frame(mfn);
	return mfn;
}

int fake_init(uint64_t virt_base, uint64_t nr_pages, uint64_t nr_mfns, uint64_t boot_pages,
	      uint64_t pt_pfn, uint64_t seed)
{
	uint64_t *perm, i, cursor = pt_pfn, pfn;

	memset(&fake, 0, sizeof(fake));
	fake.virt_base = virt_base;
	fake.nr_pages = nr_pages;
	fake.nr_mfns = nr_mfns;
	fake.frames = calloc(nr_mfns, sizeof(uint64_t *));
	fake.p2m = malloc(nr_pages * sizeof(uint64_t));
	fake.m2p = malloc(nr_mfns * sizeof(uint64_t));
	fake.level = calloc(nr_mfns, sizeof(int));
	fake.ro = calloc(nr_pages, sizeof(char));
	perm = malloc(nr_mfns * sizeof(uint64_t));
	for (i = 0; i < nr_mfns; i++) {
		perm[i] = i;
		fake.m2p[i] = PT_INVALID_MFN;
	}
	for (i = nr_mfns - 1; i > 0; i--) {
		uint64_t j = next_lcg(&seed) % (i + 1), t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	for (i = 0; i < nr_pages; i++) {
		fake.p2m[i] = perm[i];
		fake.m2p[perm[i]] = i;
	}
	free(perm);

	/* Bootstrap mapping of pfns [0, boot_pages), tables at pt_pfn upwards, like Xen. */
	fake.l4_mfn = boot_table(&cursor, 4);
	for (pfn = 0; pfn < boot_pages; pfn++) {
		uint64_t va = virt_base + (pfn << 12), mfn = fake.l4_mfn;
		int shift;

		for (shift = 39; shift > 12; shift -= 9) {
			uint64_t *slot = &frame(mfn)[(va >> shift) & (PT_ENTRIES - 1)];
			if (!(*slot & PT_PRESENT)) {
				uint64_t n = boot_table(&cursor, fake.level[mfn] - 1);
				*slot = (n << 12) | PT_TABLE_FLAGS;
			}
			mfn = (*slot & PT_ADDR_MASK) >> 12;
		}
		frame(mfn)[(va >> 12) & (PT_ENTRIES - 1)] = (fake.p2m[pfn] << 12) | PT_LEAF_FLAGS;
	}
	fake.nr_pt_frames = cursor - pt_pfn;
	/* Table pages are read-only in the bootstrap mapping. */
	for (pfn = pt_pfn; pfn < cursor; pfn++) {
		uint64_t *slot = lookup_slot(virt_base + (pfn << 12));
		if (!slot || pfn >= boot_pages)
			return -1; /* bootstrap region too small for its own tables */
		*slot &= ~PT_RW;
		fake.ro[pfn] = 1;
	}
	return 0;
}

void fake_free(void)
{
	uint64_t i;

	for (i = 0; i < fake.nr_mfns; i++)
		free(fake.frames[i]);
	free(fake.frames);
	free(fake.p2m);
	free(fake.m2p);
	free(fake.level);
	free(fake.ro);
	memset(&fake, 0, sizeof(fake));
}

static const uint64_t *hook_table(void *ctx, uint64_t mfn)
{
	(void)ctx;
	if (mfn >= fake.nr_mfns || !fake.level[mfn])
		violation("table() on a frame that is not a page table", mfn, 0);
	return frame(mfn < fake.nr_mfns ? mfn : 0);
}

static void hook_zero_page(void *ctx, uint64_t pfn)
{
	uint64_t pte = fake_lookup(fake.virt_base + (pfn << 12));

	(void)ctx;
	fake.zeroed++;
	if (!(pte & PT_PRESENT) || !(pte & PT_RW) || ((pte & PT_ADDR_MASK) >> 12) != fake.p2m[pfn]) {
		violation("zero_page on a page that is not mapped writable", pfn, pte);
		return;
	}
	memset(frame(fake.p2m[pfn]), 0, PAGE_BYTES);
	/* Dirty it first in a real machine; here it must now read as zero. */
}

static long hook_protect(void *ctx, uint64_t pfn)
{
	uint64_t *slot = lookup_slot(fake.virt_base + (pfn << 12));

	(void)ctx;
	if (!slot || !(*slot & PT_PRESENT))
		return violation("protect on an unmapped page", pfn, 0);
	*slot &= ~PT_RW;
	fake.ro[pfn] = 1;
	return 0;
}

static long hook_update(void *ctx, mmu_update_t *req, unsigned int count)
{
	unsigned int i;

	(void)ctx;
	fake.update_calls++;
	if (count > fake.max_batch)
		fake.max_batch = count;
	if (fake.fail_update_at && fake.update_calls == fake.fail_update_at)
		return -12;
	for (i = 0; i < count; i++) {
		uint64_t ptr = req[i].ptr, val = req[i].val;
		uint64_t tmfn = ptr >> 12, nmfn = (val & PT_ADDR_MASK) >> 12;
		uint64_t *slot;
		int lvl;

		if ((ptr & 7) != MMU_NORMAL_PT_UPDATE || tmfn >= fake.nr_mfns || nmfn >= fake.nr_mfns)
			return violation("malformed mmu_update", ptr, val);
		lvl = fake.level[tmfn];
		if (!lvl)
			return violation("mmu_update into a frame that is not a page table", ptr, val);
		slot = &frame(tmfn)[(ptr & 4095) / 8];
		if (*slot & PT_PRESENT) {
			if (lvl != 1 || !fake.allow_leaf_changes)
				return violation("mmu_update overwrote a present entry", ptr, *slot);
			if ((*slot & PT_ADDR_MASK) != (val & PT_ADDR_MASK) || !(val & PT_PRESENT))
				return violation("mmu_update changed a present leaf's frame", ptr, val);
			if ((val & PT_RW) && fake.level[nmfn])
				return violation("writable mapping of a page table", ptr, val);
			fake.leaves_changed++;
			*slot = val;
			continue;
		}
		if (lvl > 1) {
			uint64_t npfn = fake.m2p[nmfn], j;

			if (npfn == PT_INVALID_MFN || !fake.ro[npfn])
				return violation("table page hooked in while writable", ptr, val);
			if (fake.level[nmfn])
				return violation("table page hooked in twice", ptr, val);
			for (j = 0; j < PT_ENTRIES; j++)
				if (frame(nmfn)[j])
					return violation("table page hooked in not zeroed", ptr, val);
			fake.level[nmfn] = lvl - 1;
			fake.tables_hooked++;
		} else if ((val & PT_RW) && fake.level[nmfn]) {
			return violation("writable mapping of a page table", ptr, val);
		} else {
			fake.leaves_written++;
		}
		*slot = val;
	}
	return 0;
}

void fake_builder(struct pt_builder *b, uint64_t next_free_pfn)
{
	memset(b, 0, sizeof(*b));
	b->virt_base = fake.virt_base;
	b->nr_pages = fake.nr_pages;
	b->p2m = fake.p2m;
	b->l4_mfn = fake.l4_mfn;
	b->next_free_pfn = next_free_pfn;
	b->table = hook_table;
	b->zero_page = hook_zero_page;
	b->protect = hook_protect;
	b->update = hook_update;
}

/* Fill every not-yet-table frame's page with garbage, so zeroing is observable. */
void fake_dirty(uint64_t pfn)
{
	uint64_t *p = frame(fake.p2m[pfn]), j;

	for (j = 0; j < PT_ENTRIES; j++)
		p[j] = 0xdeadbeefdeadbeefULL;
}
