/*
 * suspend.c: xen_shim_suspend, the suspend hypercall with what must surround it.
 *
 * Called by the Go runtime with events masked, after the drivers have let go of
 * what a save cannot carry (grant-table mappings). A PV save (xl save, migration;
 * tools/libs/guest/xg_sr_save_x86_pv.c) converts every machine frame number it finds
 * to a pfn: page-table entries, the start_info mfn passed with the hypercall, and
 * start_info's xenstore and console frames, which the guest must turn into pfns
 * itself. Entries mapping frames outside the domain (shared_info) make it fail.
 *
 * Returns the hypercall's result. 1: the suspend was cancelled (xl save -c, a
 * failed save) and the same domain goes on: the frames are put back. 0: this is a
 * new domain, restored from the image (docs: Xen's xg_sr_restore_x86_pv.c and
 * handle_shared_info): a fresh shared_info with every port masked, no event channels
 * but the toolstack's new xenstore and console ones, Xen's 10 ms periodic timer
 * running again, no one-shot timer, start_info.flags zeroed, and new machine frames
 * under every pfn (the p2m, start_info.mfn_list, already says which). The trap
 * table, callbacks, FS and GS bases and page tables are restored with the vcpu;
 * the vcpu_info registration is not. Here the shim re-establishes its part
 * (shared_info, the published p2m, vCPU 0's vcpu_info and ports, the console);
 * the Go runtime the other vCPUs (xen_shim_cpu_up), the drivers the rest.
 * Called on vCPU 0 with the others down. PVH: pvh.c's shim_pvh_suspend.
 */
#include "shim.h"
#include "hypercall.h"

long xen_shim_suspend(void)
{
	start_info_t *si = shim_start_info;
	const unsigned long *p2m = (const unsigned long *)si->mfn_list;
	struct sched_shutdown sd;
	uint64_t store_mfn = si->store_mfn, console_mfn = si->console.domU.mfn;
	uint32_t flags = si->flags;
	int domu = !(flags & SIF_INITDOMAIN);
	long rc;

	if (shim_pvh)
		return shim_pvh_suspend(); /* pvh.c */
	xen_cpus[0].vcpu_info.evtchn_upcall_mask = 1;
	barrier();
	if (domu) {
		si->store_mfn = SHIM_M2P[store_mfn];
		si->console.domU.mfn = SHIM_M2P[console_mfn];
	}
	shim_mm_unmap_shared_info();
	sd.reason = SHUTDOWN_suspend;
	rc = HYPERVISOR_suspend(&sd, p2m[va_to_pfn((unsigned long)si)]);
	shim_mm_map_shared_info(si);
	if (rc != 0) {
		/* Cancelled (or refused): the same domain, its frames and ports as they were. */
		if (domu) {
			si->store_mfn = store_mfn;
			si->console.domU.mfn = console_mfn;
		}
		shim_p2m_publish(si);
		return rc;
	}
	si->flags = flags;
	shim_p2m_publish(si);
	shim_cpu0_init(1);
	if (domu) {
		shim_console_init(si);
		shim_events_unmask(si->console.domU.evtchn);
		shim_events_notify(si->console.domU.evtchn);
	}
	return 0;
}
