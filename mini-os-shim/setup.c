/*
 * setup.c: xen_shim_init, the one call Go's _rt0_amd64_xen makes.
 *
 * Entered on Go's boot stack with events masked and only Xen's bootstrap
 * mapping; returns with traps and callbacks installed, shared_info mapped,
 * all memory mapped, vCPU 0's record set up (cpu.c: GS base, vcpu_info,
 * periodic timer stopped, VIRQ_TIMER and an IPI port bound), the vCPUs counted
 * and xen_boot filled. Any failed hypercall prints its name and error code and
 * crashes the domain. See README.md for the contract.
 */
#include "shim.h"
#include "hypercall.h"

struct xen_boot xen_boot SHIM_EXPORT;

start_info_t *shim_start_info;
shared_info_t *shim_shared_info;

uint64_t shim_mm_tables_added(void);

void shim_crash(void)
{
	struct sched_shutdown sd;

	sd.reason = SHUTDOWN_crash;
	for (;;)
		HYPERVISOR_sched_op(SCHEDOP_shutdown, &sd);
}

void shim_fail(const char *what, long err)
{
	shim_printf("xen: shim: %s failed: error %ld\n", what, err);
	shim_crash();
}

void xen_shim_init(start_info_t *si)
{
	if (shim_pvh) {
		shim_pvh_init(si); /* pvh.c; shim_pvh_start did the rest before Go's entry */
		return;
	}
	xen_boot.direct_map = XEN_BOOT_VIRT_BASE;
	shim_start_info = si;
	xen_boot.start_info = (uint64_t)(unsigned long)si;
	if (si->flags & SIF_INITDOMAIN)
		xen_boot.flags |= XEN_BOOT_FLAG_DOM0;
	shim_cpu_early();
	shim_console_init(si);
	shim_traps_init();
	shim_events_init();
	shim_mm_map_shared_info(si);
	shim_shared_info->vcpu_info[0].evtchn_upcall_mask = 1;
	barrier();
	shim_mm_map_all(si);
	shim_p2m_publish(si);
	shim_cpu0_init(0);
	shim_printf("xen: shim: %lu pages, heap %#lx-%#lx, %lu page-table pages added\n",
		    si->nr_pages, (unsigned long)xen_boot.heap_start,
		    (unsigned long)xen_boot.heap_end, (unsigned long)shim_mm_tables_added());
	shim_mm_protect();
}
