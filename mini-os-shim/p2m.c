/*
 * p2m.c: publish the guest's pfn-to-mfn table for the toolstack.
 *
 * To save a PV domain (xl save, migration), libxenguest reads the guest's p2m
 * (start_info.mfn_list, one machine frame number per pfn) through a three-level
 * tree the guest publishes in shared_info (public/arch-x86/xen.h, struct
 * arch_shared_info): max_pfn is the number of pfns; pfn_to_mfn_frame_list_list
 * is the mfn of a page of mfns of "frame list" pages, each a page of the mfns of
 * 512 p2m pages (tools/libs/guest/xg_sr_save_x86_pv.c, map_p2m_tree). The tree
 * holds machine frame numbers, which change when the domain is restored, so it is
 * rebuilt after every resume. Its pages are in the shim's .bss: one top page and
 * up to P2M_FRAME_LISTS frame-list pages, enough for 16 GiB (512 * 512 pfns each).
 */
#include "shim.h"

#define P2M_PER_PAGE (PAGE_SIZE / sizeof(unsigned long))
#define P2M_FRAME_LISTS 16

static unsigned long p2m_top[P2M_PER_PAGE] __attribute__((aligned(4096)));
static unsigned long p2m_lists[P2M_FRAME_LISTS][P2M_PER_PAGE] __attribute__((aligned(4096)));

static unsigned long va_to_mfn(const void *va, const unsigned long *p2m)
{
	return p2m[va_to_pfn((unsigned long)va)];
}

int shim_p2m_publish(start_info_t *si)
{
	const unsigned long *p2m = (const unsigned long *)si->mfn_list;
	unsigned long pages = (si->nr_pages + P2M_PER_PAGE - 1) / P2M_PER_PAGE;
	unsigned long lists = (pages + P2M_PER_PAGE - 1) / P2M_PER_PAGE;
	unsigned long i;

	if (lists > P2M_FRAME_LISTS) {
		shim_printf("xen: shim: %lu pages: too many to publish the p2m, "
			    "save and migration are unavailable\n", si->nr_pages);
		return -1;
	}
	for (i = 0; i < pages; i++)
		p2m_lists[i / P2M_PER_PAGE][i % P2M_PER_PAGE] =
			va_to_mfn(p2m + i * P2M_PER_PAGE, p2m);
	for (i = 0; i < lists; i++)
		p2m_top[i] = va_to_mfn(p2m_lists[i], p2m);
	barrier();
	shim_shared_info->arch.max_pfn = si->nr_pages;
	shim_shared_info->arch.pfn_to_mfn_frame_list_list = va_to_mfn(p2m_top, p2m);
	return 0;
}
