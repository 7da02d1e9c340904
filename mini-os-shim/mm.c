/*
 * mm.c: shared_info mapping and the direct map of all domain memory.
 *
 * Xen's bootstrap mapping (kernel, modules, p2m, start_info, page tables,
 * boot stack, padding up to a 4 MiB boundary) already follows the layout
 * va = VIRT_BASE + pfn*4096. pagetable.c extends it to every pfn below
 * nr_pages, taking new table pages from the pfns after Xen's boot stack
 * page (the first pfn after the page tables, as in Mini-OS, plus one).
 */
#include "shim.h"
#include "hypercall.h"
#include "pagetable.h"

/* Page-aligned hole in our image that shared_info is mapped over (as Mini-OS does). */
static char shared_info_page[4096]
	__attribute__((aligned(4096), section(".bss.xen_shared_info")));

static struct pt_builder ptb;

void shim_mm_map_shared_info(start_info_t *si)
{
	long rc;

	rc = HYPERVISOR_update_va_mapping((unsigned long)shared_info_page,
					  si->shared_info | PT_LEAF_FLAGS, UVMF_INVLPG);
	if (rc)
		shim_fail("update_va_mapping(shared_info)", rc);
	shim_shared_info = (shared_info_t *)shared_info_page;
	xen_boot.shared_info = (uint64_t)(unsigned long)shared_info_page;
}

static const uint64_t *hook_table(void *ctx, uint64_t mfn)
{
	(void)ctx;
	return (const uint64_t *)pfn_to_va(SHIM_M2P[mfn]);
}

static void hook_zero_page(void *ctx, uint64_t pfn)
{
	unsigned long dst = pfn_to_va(pfn), n = PAGE_SIZE / 8;

	(void)ctx;
	__asm__ __volatile__("rep stosq" : "+D"(dst), "+c"(n) : "a"(0UL) : "memory");
}

static long hook_protect(void *ctx, uint64_t pfn)
{
	struct pt_builder *b = ctx;

	return HYPERVISOR_update_va_mapping(pfn_to_va(pfn),
					    (b->p2m[pfn] << PAGE_SHIFT) | PT_RO_FLAGS,
					    UVMF_INVLPG);
}

static long hook_update(void *ctx, mmu_update_t *req, unsigned int count)
{
	unsigned int done = 0;
	long rc;

	(void)ctx;
	rc = HYPERVISOR_mmu_update(req, count, &done, DOMID_SELF);
	if (rc == 0 && done != count)
		rc = -1;
	return rc;
}

void shim_mm_map_all(start_info_t *si)
{
	struct pt_builder *b = &ptb;
	unsigned long pt_pfn = va_to_pfn(si->pt_base);
	long rc;

	b->virt_base = XEN_BOOT_VIRT_BASE;
	b->nr_pages = si->nr_pages;
	b->p2m = (const uint64_t *)si->mfn_list;
	b->l4_mfn = b->p2m[pt_pfn];
	/* Skip Xen's page tables and the boot stack page that follows them. */
	b->next_free_pfn = pt_pfn + si->nr_pt_frames + 1;
	b->ctx = b;
	b->table = hook_table;
	b->zero_page = hook_zero_page;
	b->protect = hook_protect;
	b->update = hook_update;
	rc = shim_pt_map_all(b);
	if (rc)
		shim_fail(b->failed, rc);
	xen_boot.heap_start = pfn_to_va(b->next_free_pfn);
	xen_boot.heap_end = pfn_to_va(si->nr_pages);
}

uint64_t shim_mm_tables_added(void)
{
	return ptb.tables_added;
}
