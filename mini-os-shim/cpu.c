/*
 * cpu.c: the domain's vCPUs. One struct xen_cpu each (xen_boot.h), found through the GS base
 * on the vCPU that runs; vCPU 0 is set up at boot, the others when the runtime starts them.
 *
 * Per vCPU (xen/include/public/vcpu.h, event_channel.h):
 *   - its vcpu_info moves into its struct xen_cpu (VCPUOP_register_vcpu_info), so the event
 *     mask and pending flags are at fixed offsets from the GS base;
 *   - VIRQ_TIMER is bound to it (set_timer_op arms the calling vCPU's one-shot timer), and
 *     an IPI port (EVTCHNOP_bind_ipi) lets another vCPU interrupt it;
 *   - Xen's 10 ms periodic timer is stopped (PV starts every vCPU with it);
 *   - vCPUs > 0 start with VCPUOP_initialise and VCPUOP_up: a PV context on the page tables
 *     and trap table vCPU 0 uses, or a PVH one in long mode on pvh.c's tables, entering the
 *     runtime at xen_boot.ap_entry with events masked.
 * How many vCPUs the domain has: VCPUOP_is_up answers -ENOENT past the last (as Linux's
 * xen_filter_cpu_maps asks).
 */
#include "shim.h"
#include "hypercall.h"
#include <xen/hvm/hvm_vcpu.h>

struct xen_cpu xen_cpus[XEN_MAX_CPUS];
static uint8_t trap_stacks[XEN_MAX_CPUS][16384] __attribute__((aligned(16)));
static uint8_t ap_stacks[XEN_MAX_CPUS][4096] __attribute__((aligned(16)));

static void set_gs_base(struct xen_cpu *c)
{
	if (shim_pvh) {
		uint64_t v = (uint64_t)(unsigned long)c;

		__asm__ __volatile__("wrmsr" ::"c"(0xc0000101u), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
		return;
	}
	long rc = HYPERVISOR_set_segment_base(SEGBASE_GS_KERNEL, (unsigned long)c);
	if (rc)
		shim_fail("set_segment_base(GS_KERNEL)", rc);
}

/* The frame of the page holding va, as Xen wants it for vcpu_info and cr3: a gfn for PVH
 * (va = pa), an mfn for PV. */
static uint64_t frame_of(unsigned long va)
{
	if (shim_pvh)
		return va >> PAGE_SHIFT;
	return ((const unsigned long *)shim_start_info->mfn_list)[va_to_pfn(va)];
}

/* Boot, on vCPU 0, first thing: its record and the GS base, before any trap can come. */
void shim_cpu_early(void)
{
	unsigned int i;

	for (i = 0; i < XEN_MAX_CPUS; i++) {
		xen_cpus[i].self = (uint64_t)(unsigned long)&xen_cpus[i];
		xen_cpus[i].id = i;
		xen_cpus[i].trap_stack_top = (uint64_t)(unsigned long)(trap_stacks[i] + sizeof(trap_stacks[i]));
	}
	xen_boot.cpus = (uint64_t)(unsigned long)xen_cpus;
	set_gs_base(&xen_cpus[0]);
}

/* Moves vCPU id's vcpu_info into its record, masked (Xen copies the old one over). */
static long register_vcpu_info(unsigned int id)
{
	struct vcpu_register_vcpu_info info;
	unsigned long va = (unsigned long)&xen_cpus[id].vcpu_info;

	info.mfn = frame_of(va);
	info.offset = va & (PAGE_SIZE - 1);
	info.rsvd = 0;
	return HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, id, &info);
}

/* Per-vCPU ports (again after a restore: a new domain has none). */
static void bind_ports(unsigned int id)
{
	evtchn_bind_virq_t virq;
	evtchn_bind_ipi_t ipi;
	long rc;

	virq.virq = VIRQ_TIMER;
	virq.vcpu = id;
	rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &virq);
	if (rc)
		shim_fail("event_channel_op(bind_virq TIMER)", rc);
	xen_cpus[id].timer_port = virq.port;
	shim_events_unmask(virq.port);
	ipi.vcpu = id;
	rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_ipi, &ipi);
	if (rc)
		shim_fail("event_channel_op(bind_ipi)", rc);
	xen_cpus[id].ipi_port = ipi.port;
	shim_events_unmask(ipi.port);
	if (id == 0)
		xen_boot.timer_port = virq.port;
}

static void stop_periodic(unsigned int id)
{
	long rc = HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, id, NULL);

	if (rc && !shim_pvh) /* PVH has no periodic timer to stop */
		shim_fail("vcpu_op(stop_periodic_timer)", rc);
}

/*
 * vCPU 0, once shared_info is mapped (and again in a restored domain, restored = 1): its
 * vcpu_info into its record, the periodic timer off, its ports; counts the vCPUs at boot.
 */
void shim_cpu0_init(int restored)
{
	long rc;
	unsigned int n;

	shim_shared_info->vcpu_info[0].evtchn_upcall_mask = 1;
	barrier();
	rc = register_vcpu_info(0);
	if (rc && !(restored && rc == -22)) /* -EINVAL: a restored PVH domain kept it */
		shim_fail("vcpu_op(register_vcpu_info 0)", rc);
	xen_cpus[0].vcpu_info.evtchn_upcall_mask = 1;
	stop_periodic(0);
	bind_ports(0);
	if (restored)
		return;
	for (n = 1; n < XEN_MAX_CPUS; n++)
		if (HYPERVISOR_vcpu_op(VCPUOP_is_up, n, NULL) < 0)
			break;
	xen_boot.nr_cpus = n;
	if (n == XEN_MAX_CPUS && HYPERVISOR_vcpu_op(VCPUOP_is_up, n, NULL) >= 0)
		shim_printf("xen: shim: more than %d vCPUs: the rest stay offline\n", XEN_MAX_CPUS);
}

/* The PV context a new vCPU starts from (static: 5 KiB, and only vCPU 0 starts others). */
static struct vcpu_guest_context pv_ctx;

void shim_traps_fill(struct trap_info *table); /* traps.c */
extern char shim_failsafe_callback[];          /* entry.S */
extern char shim_pvh_ap_entry[];               /* pvh_entry.S */

static long initialise(unsigned int id)
{
	struct xen_cpu *c = &xen_cpus[id];
	uint64_t sp = (uint64_t)(unsigned long)(ap_stacks[id] + sizeof(ap_stacks[id]));

	if (shim_pvh) {
		struct vcpu_hvm_context h;
		uint64_t cr0, cr3, cr4;
		uint32_t lo, hi;

		__builtin_memset(&h, 0, sizeof(h));
		__asm__ __volatile__("mov %%cr0, %0" : "=r"(cr0));
		__asm__ __volatile__("mov %%cr3, %0" : "=r"(cr3));
		__asm__ __volatile__("mov %%cr4, %0" : "=r"(cr4));
		__asm__ __volatile__("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0xc0000080u));
		h.mode = VCPU_HVM_MODE_64B;
		h.cpu_regs.x86_64.rip = (uint64_t)(unsigned long)shim_pvh_ap_entry;
		h.cpu_regs.x86_64.rsp = sp;
		h.cpu_regs.x86_64.rdi = (uint64_t)(unsigned long)c;
		h.cpu_regs.x86_64.rflags = 2; /* interrupts off */
		h.cpu_regs.x86_64.cr0 = cr0;
		h.cpu_regs.x86_64.cr3 = cr3;
		h.cpu_regs.x86_64.cr4 = cr4;
		h.cpu_regs.x86_64.efer = ((uint64_t)hi << 32) | lo;
		return HYPERVISOR_vcpu_op(VCPUOP_initialise, id, &h);
	}
	__builtin_memset(&pv_ctx, 0, sizeof(pv_ctx));
	pv_ctx.flags = VGCF_in_kernel; /* not VGCF_i387_valid: Xen sets the default FPU state */
	pv_ctx.user_regs.rip = xen_boot.ap_entry;
	pv_ctx.user_regs.rsp = sp;
	pv_ctx.user_regs.rdi = (uint64_t)(unsigned long)c;
	pv_ctx.user_regs.cs = FLAT_KERNEL_CS;
	pv_ctx.user_regs.ss = FLAT_KERNEL_SS;
	pv_ctx.user_regs.ds = pv_ctx.user_regs.es = FLAT_KERNEL_DS;
	pv_ctx.user_regs.rflags = 2;
	shim_traps_fill(pv_ctx.trap_ctxt);
	pv_ctx.kernel_ss = FLAT_KERNEL_SS;
	pv_ctx.kernel_sp = sp;
	pv_ctx.ctrlreg[3] = frame_of(shim_start_info->pt_base) << PAGE_SHIFT; /* xen_pfn_to_cr3 */
	pv_ctx.event_callback_eip = xen_boot.upcall;
	pv_ctx.failsafe_callback_eip = (unsigned long)shim_failsafe_callback;
	pv_ctx.gs_base_kernel = (uint64_t)(unsigned long)c;
	return HYPERVISOR_vcpu_op(VCPUOP_initialise, id, &pv_ctx);
}

/*
 * xen_shim_cpu_up starts vCPU id (0 < id < nr_cpus) at xen_boot.ap_entry, with %rdi and the
 * GS base at its struct xen_cpu and events masked. fresh = 1 at boot and in a domain
 * restored from a save, which has no ports and no vcpu_info registration for it, and may or
 * may not have its context (a vCPU that was down when saved has none: -EEXIST from
 * VCPUOP_initialise says it has one, and it goes on from xen_shim_cpu_down, which the
 * runtime treats as a new start too). fresh = 0 after a cancelled suspend: everything is
 * as it was, the vCPU is only down. Returns 0 or Xen's error.
 */
long xen_shim_cpu_up(uint32_t id, int fresh)
{
	long rc;

	if (id == 0 || id >= xen_boot.nr_cpus)
		return -22; /* EINVAL */
	if (fresh) {
		rc = register_vcpu_info(id);
		if (rc && rc != -22) /* -EINVAL: registered already (kept across a restore) */
			return rc;
		xen_cpus[id].vcpu_info.evtchn_upcall_mask = 1;
		stop_periodic(id);
		bind_ports(id);
		rc = initialise(id);
		if (rc && rc != -17) /* EEXIST */
			return rc;
	}
	return HYPERVISOR_vcpu_op(VCPUOP_up, id, NULL);
}

/* xen_shim_cpu_down takes the calling vCPU offline (the runtime's park before a suspend);
 * it returns when another vCPU brings it up again with its context intact. */
long xen_shim_cpu_down(uint32_t id)
{
	return HYPERVISOR_vcpu_op(VCPUOP_down, id, NULL);
}
