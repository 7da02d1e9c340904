/*
 * mm.c: shared_info mapping and the direct map of all domain memory.
 *
 * Xen's bootstrap mapping (kernel, modules, p2m, start_info, page tables,
 * boot stack, padding up to a 4 MiB boundary) already follows the layout
 * va = VIRT_BASE + pfn*4096. pagetable.c extends it to every pfn below
 * nr_pages, taking new table pages from the pfns after Xen's boot stack
 * page (the first pfn after the page tables, as in Mini-OS, plus one).
 *
 * The heap is the free pfns mapped a second time, in a window that starts at the first
 * 4 MiB boundary above the direct map: the Go runtime's heap arenas are 4 MiB and aligned
 * (runtime/mem_xen.go), so a heap that started wherever the image ends would strand up to
 * 4 MiB below its first arena.
 */
#include "shim.h"
#include "hypercall.h"
#include "pagetable.h"
#include <xen/memory.h>

/* Page-aligned hole in our image that shared_info is mapped over (as Mini-OS does). */
static char shared_info_page[4096]
	__attribute__((aligned(4096), section(".bss.xen_shared_info")));

static struct pt_builder ptb;

void shim_mm_map_shared_info(start_info_t *si)
{
	long rc;

	if (shim_pvh) {
		/* Auto-translated: Xen puts its frame at our page's pfn (va = pa). */
		struct xen_add_to_physmap xatp;

		xatp.domid = DOMID_SELF;
		xatp.size = 0;
		xatp.space = XENMAPSPACE_shared_info;
		xatp.idx = 0;
		xatp.gpfn = (unsigned long)shared_info_page >> PAGE_SHIFT;
		rc = HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp);
		if (rc)
			shim_fail("memory_op(add_to_physmap shared_info)", rc);
		shim_shared_info = (shared_info_t *)shared_info_page;
		xen_boot.shared_info = (uint64_t)(unsigned long)shared_info_page;
		return;
	}
	rc = HYPERVISOR_update_va_mapping((unsigned long)shared_info_page,
					  si->shared_info | PT_LEAF_FLAGS, UVMF_INVLPG);
	if (rc)
		shim_fail("update_va_mapping(shared_info)", rc);
	shim_shared_info = (shared_info_t *)shared_info_page;
	xen_boot.shared_info = (uint64_t)(unsigned long)shared_info_page;
}

/* Before a suspend: the save refuses page tables that map frames outside the domain's
 * p2m, and shared_info is Xen's. Nothing may touch shared_info until it is mapped again. */
void shim_mm_unmap_shared_info(void)
{
	long rc;

	rc = HYPERVISOR_update_va_mapping((unsigned long)shared_info_page, 0, UVMF_INVLPG);
	if (rc)
		shim_fail("update_va_mapping(shared_info, 0)", rc);
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

/* The Go runtime's heap arena (heapArenaBytes on xen): the heap window's alignment. */
#define HEAP_ALIGN (4UL << 20)

int shim_cpu_has_nx(void)
{
	uint32_t a = 0x80000000, b, c, d;

	__asm__ __volatile__("cpuid" : "+a"(a), "=b"(b), "=c"(c), "=d"(d));
	if (a < 0x80000001)
		return 0;
	a = 0x80000001;
	__asm__ __volatile__("cpuid" : "+a"(a), "=b"(b), "=c"(c), "=d"(d));
	return (d >> 20) & 1;
}

void shim_mm_map_all(start_info_t *si)
{
	struct pt_builder *b = &ptb;
	unsigned long pt_pfn = va_to_pfn(si->pt_base);
	uint64_t window;
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
	window = (pfn_to_va(si->nr_pages) + HEAP_ALIGN - 1) & ~(HEAP_ALIGN - 1);
	if (shim_cpu_has_nx())
		xen_boot.flags |= XEN_BOOT_FLAG_NX;
	rc = shim_pt_map_window(b, window, PT_LEAF_FLAGS | (shim_cpu_has_nx() ? PT_NX : 0));
	if (rc)
		shim_fail(b->failed, rc);
	xen_boot.heap_start = window;
	xen_boot.heap_end = window + (b->window_pages << PAGE_SHIFT);
	xen_boot.heap_pfn = b->window_pfn;
}

uint64_t shim_mm_tables_added(void)
{
	return ptb.tables_added;
}

/* ELF64 header and program header fields the protection pass reads (the ELF spec). */
#define ELF_PHOFF     32
#define ELF_PHENTSIZE 54
#define ELF_PHNUM     56
#define PT_LOAD 1
#define PF_X 1
#define PF_W 2

/*
 * The image's loaded segments, from the ELF program headers, which the text segment maps at
 * VIRT_BASE (Go's linker and the test kernel's linker script both put the file header
 * there). Returns how many (at most max); 0 when there is no ELF header.
 */
unsigned int shim_image_segments(struct pt_segment *segs, unsigned int max)
{
	const unsigned char *eh = (const unsigned char *)XEN_BOOT_VIRT_BASE;
	unsigned int n = 0, i, phnum, phentsize;
	uint64_t phoff;

	if (eh[0] != 0x7f || eh[1] != 'E' || eh[2] != 'L' || eh[3] != 'F' || eh[4] != 2)
		return 0;
	phoff = *(const uint64_t *)(eh + ELF_PHOFF);
	phentsize = *(const uint16_t *)(eh + ELF_PHENTSIZE);
	phnum = *(const uint16_t *)(eh + ELF_PHNUM);
	for (i = 0; i < phnum && n < max; i++) {
		const unsigned char *ph = eh + phoff + (uint64_t)i * phentsize;
		uint32_t flags = *(const uint32_t *)(ph + 4);

		if (*(const uint32_t *)ph != PT_LOAD)
			continue;
		segs[n].start = *(const uint64_t *)(ph + 16);
		segs[n].end = segs[n].start + *(const uint64_t *)(ph + 40);
		segs[n].writable = !!(flags & PF_W);
		segs[n].executable = !!(flags & PF_X);
		n++;
	}
	return n;
}

/*
 * Write-protect the image's read-only segments and make every page that no
 * executable segment covers no-execute.
 */
void shim_mm_protect(void)
{
	struct pt_segment segs[SHIM_MAX_SEGMENTS];
	unsigned int n;
	uint64_t nx;
	struct mmuext_op flush;
	long rc;

	n = shim_image_segments(segs, SHIM_MAX_SEGMENTS);
	if (n == 0) {
		shim_printf("xen: shim: no ELF header at %#lx, memory protection skipped\n",
			    (unsigned long)XEN_BOOT_VIRT_BASE);
		return;
	}
	nx = shim_cpu_has_nx() ? PT_NX : 0;
	rc = shim_pt_protect(&ptb, segs, n, nx);
	if (rc)
		shim_fail(ptb.failed, rc);
	/* mmu_update does not flush the TLB; stale writable entries would survive. */
	flush.cmd = MMUEXT_TLB_FLUSH_LOCAL;
	rc = HYPERVISOR_mmuext_op(&flush, 1, 0, DOMID_SELF);
	if (rc)
		shim_fail("mmuext_op(TLB_FLUSH_LOCAL)", rc);
	shim_printf("xen: shim: %u segments protected, %lu entries changed, nx %s\n", n,
		    (unsigned long)ptb.ptes_written, nx ? "on" : "unavailable");
}
