/*
 * main.c: standalone test of the boot shim on real Xen (as dom0 in QEMU).
 *
 * After xen_shim_init it checks xen_boot, writes and reads back every heap
 * page (see test_memory), checks the pvclock advances, blocks once on a
 * 100 ms timer, takes page faults through the fault_handler redirect (an
 * unmapped address, a write to text, a jump into data when the CPU has NX), and
 * finally faults with no handler so the shim dumps the registers and
 * crashes the domain.
 * Output lines start with "test: "; the last one before the dump is
 * "test: PASS" or "test: FAIL (n)".
 */
#include "shim.h"
#include "hypercall.h"

void test_main(start_info_t *si);
void test_after_fault(void);
extern char test_fault_entry[];

static int failures;

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond)) {                                             \
			failures++;                                        \
			shim_printf("test: check failed: %s (line %d)\n", #cond, __LINE__); \
		}                                                          \
	} while (0)

#define FAULT_ADDR 0x18UL

static void test_boot_record(start_info_t *si)
{
	shim_printf("test: start_info %#lx shared_info %#lx heap %#lx-%#lx\n",
		    (unsigned long)xen_boot.start_info, (unsigned long)xen_boot.shared_info,
		    (unsigned long)xen_boot.heap_start, (unsigned long)xen_boot.heap_end);
	shim_printf("test: timer_port %u flags %#x console_ring %#lx upcall_mask %u\n",
		    xen_boot.timer_port, xen_boot.flags, (unsigned long)xen_boot.console_ring,
		    xen_cpus[0].vcpu_info.evtchn_upcall_mask);
	CHECK(xen_boot.start_info == (unsigned long)si);
	CHECK(xen_boot.shared_info != 0 && (xen_boot.shared_info & 4095) == 0);
	/* The heap window: from the first 4 MiB boundary above the direct map, pfns heap_pfn..
	 * nr_pages-1, each also at its direct-map address. */
	CHECK((xen_boot.heap_start & ((4UL << 20) - 1)) == 0);
	CHECK(xen_boot.heap_start >= XEN_BOOT_VIRT_BASE + si->nr_pages * 4096);
	CHECK(xen_boot.heap_start < XEN_BOOT_VIRT_BASE + si->nr_pages * 4096 + (4UL << 20));
	CHECK(xen_boot.heap_pfn > (si->pt_base - XEN_BOOT_VIRT_BASE) / 4096);
	CHECK(xen_boot.heap_end == xen_boot.heap_start + (si->nr_pages - xen_boot.heap_pfn) * 4096);
	CHECK(xen_boot.heap_start < xen_boot.heap_end);
	CHECK(xen_cpus[0].vcpu_info.evtchn_upcall_mask == 1);
	CHECK(!!(xen_boot.flags & XEN_BOOT_FLAG_DOM0) == !!(si->flags & SIF_INITDOMAIN));
	/* vCPU 0's record: the GS base, its vcpu_info registered there (cpu.c). */
	CHECK(shim_this_cpu() == &xen_cpus[0] && xen_cpus[0].id == 0);
	CHECK(xen_boot.cpus == (unsigned long)xen_cpus);
	CHECK(xen_boot.nr_cpus >= 1 && xen_boot.nr_cpus <= XEN_MAX_CPUS);
	CHECK(xen_cpus[0].timer_port == xen_boot.timer_port && xen_cpus[0].ipi_port != 0);
	CHECK(xen_cpus[0].vcpu_info.time.version != 0);
}

static uint64_t pattern(uint64_t va, unsigned int i)
{
	return va ^ ((uint64_t)i * 0x9e3779b97f4a7c15UL);
}

/*
 * Every heap page gets a va-dependent pattern in its first and last word (so a page mapped
 * twice or at the wrong frame shows), the first 256 pages in every word.
 */
static void test_memory(void)
{
	uint64_t va, pages = 0, bad = 0;
	unsigned int i, step;

	for (va = xen_boot.heap_start; va < xen_boot.heap_end; va += 4096) {
		volatile uint64_t *p = (volatile uint64_t *)va;
		step = pages < 256 ? 1 : 511;
		for (i = 0; i < 512; i += step)
			p[i] = pattern(va, i);
		pages++;
	}
	pages = 0;
	for (va = xen_boot.heap_start; va < xen_boot.heap_end; va += 4096) {
		volatile uint64_t *p = (volatile uint64_t *)va;
		step = pages < 256 ? 1 : 511;
		for (i = 0; i < 512; i += step)
			if (p[i] != pattern(va, i))
				bad++;
		pages++;
	}
	/* The same frames through the direct map. */
	pages = 0;
	for (va = xen_boot.heap_start; va < xen_boot.heap_end; va += 4096) {
		volatile uint64_t *d = (volatile uint64_t *)(XEN_BOOT_VIRT_BASE +
			(xen_boot.heap_pfn + pages) * 4096);
		if (d[0] != pattern(va, 0) || d[511] != pattern(va, 511))
			bad++;
		pages++;
	}
	shim_printf("test: memory: %lu heap pages written and read back, %lu bad words\n",
		    (unsigned long)pages, (unsigned long)bad);
	CHECK(bad == 0);
	CHECK(pages == (xen_boot.heap_end - xen_boot.heap_start) / 4096);
}

static void test_clock(void)
{
	uint64_t t0 = shim_system_time(), t1 = t0;
	unsigned long spins;

	for (spins = 0; spins < 100000000UL && t1 < t0 + 1000000; spins++)
		t1 = shim_system_time();
	shim_printf("test: pvclock: %lu ns -> %lu ns after %lu reads\n",
		    (unsigned long)t0, (unsigned long)t1, spins);
	CHECK(t1 >= t0 + 1000000);
}

/*
 * Consume every pending event as a runtime must: clear upcall_pending, take the whole
 * pending_sel word, clear the pending bits. Leaving a selector bit set (say for the domU
 * console port, which xenconsoled notifies) stops Xen from marking the vcpu pending for the
 * next event in that word, and SCHEDOP_block would never wake.
 * Returns whether the timer port was pending.
 */
static int drain_events(uint32_t timer_port)
{
	vcpu_info_t *v = &xen_cpus[0].vcpu_info;
	int timer = 0;
	unsigned int i;

	v->evtchn_upcall_pending = 0;
	__atomic_exchange_n(&v->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
	for (i = 0; i < sizeof(shim_shared_info->evtchn_pending) / 8; i++) {
		xen_ulong_t p = __atomic_exchange_n(&shim_shared_info->evtchn_pending[i], 0,
						    __ATOMIC_SEQ_CST);
		if (i == timer_port / 64 && (p & (1UL << (timer_port % 64))))
			timer = 1;
	}
	return timer;
}

static void test_block(void)
{
	vcpu_info_t *v = &xen_cpus[0].vcpu_info;
	uint32_t port = xen_boot.timer_port;
	uint64_t start, deadline, end, upcalls0 = xen_boot.upcall_count;
	int blocks = 0, pending = 0;
	long rc;

	drain_events(port);
	start = shim_system_time();
	deadline = start + 100000000UL;
	rc = HYPERVISOR_set_timer_op(deadline);
	CHECK(rc == 0);
	while (shim_system_time() < deadline && blocks < 50) {
		HYPERVISOR_sched_op(SCHEDOP_block, NULL);
		blocks++;
		pending |= drain_events(port);
	}
	end = shim_system_time();
	shim_printf("test: block: woke after %lu us, %d block calls, timer pending %d, "
		    "upcalls %lu, mask %u\n", (unsigned long)((end - start) / 1000), blocks,
		    pending, (unsigned long)(xen_boot.upcall_count - upcalls0),
		    v->evtchn_upcall_mask);
	CHECK(end >= deadline);
	CHECK(end - start < 1000000000UL);
	CHECK(pending);
	CHECK(blocks >= 1 && blocks < 50);
	CHECK(xen_boot.upcall_count > upcalls0);
	CHECK(v->evtchn_upcall_mask == 1);
}

/*
 * Faults taken through the fault_handler redirect, one per stage: a write to an
 * unmapped address, a write to the (read-only) text, a jump into a (no-execute)
 * data page. test_after_fault checks each and starts the next.
 */
static int stage;
static int have_nx;
static unsigned char data_ret[64] __attribute__((aligned(64))) = {0xc3};

static int cpu_nx(void)
{
	uint32_t a = 0x80000001, b, c, d;

	__asm__ __volatile__("cpuid" : "+a"(a), "=b"(b), "=c"(c), "=d"(d));
	return (d >> 20) & 1;
}

static void fault_stage(void) __attribute__((noreturn));
static void fault_stage(void)
{
	volatile uint64_t *bad = (volatile uint64_t *)FAULT_ADDR;

	xen_boot.fault_handler = (uint64_t)(unsigned long)test_fault_entry;
	switch (stage) {
	case 0:
		__asm__("" : "+r"(bad)); /* hide the constant address from the compiler */
		*bad = 1;
		break;
	case 1:
		bad = (volatile uint64_t *)(unsigned long)test_main;
		__asm__("" : "+r"(bad));
		*bad = 1;
		break;
	case 2: {
		void (*fn)(void) = (void (*)(void))(unsigned long)data_ret;

		__asm__("" : "+r"(fn));
		fn();
		break;
	}
	}
	shim_printf("test: check failed: fault stage %d did not redirect\n", stage);
	shim_crash();
}

void test_main(start_info_t *si)
{
	shim_printf("test: shim test kernel running, %lu pages\n", si->nr_pages);
	test_boot_record(si);
	test_memory();
	test_clock();
	test_block();
	have_nx = cpu_nx();
	fault_stage();
}

void test_after_fault(void)
{
	shim_printf("test: redirected fault %d: vector %lu error %#lx rip %#lx rsp %#lx cr2 %#lx "
		    "nesting %lu\n", stage, (unsigned long)xen_cpus[0].fault.vector,
		    (unsigned long)xen_cpus[0].fault.error_code, (unsigned long)xen_cpus[0].fault.rip,
		    (unsigned long)xen_cpus[0].fault.rsp, (unsigned long)xen_cpus[0].fault.cr2,
		    (unsigned long)xen_cpus[0].fault.nesting);
	CHECK(xen_cpus[0].fault.vector == 14);
	CHECK(xen_cpus[0].fault.nesting == 1);
	switch (stage) {
	case 0:
		CHECK(xen_cpus[0].fault.cr2 == FAULT_ADDR);
		CHECK(xen_cpus[0].fault.error_code & 2); /* write access */
		CHECK(xen_cpus[0].fault.rip >= XEN_BOOT_VIRT_BASE && xen_cpus[0].fault.rip < xen_boot.heap_start);
		break;
	case 1:
		CHECK(xen_cpus[0].fault.cr2 == (unsigned long)test_main);
		CHECK((xen_cpus[0].fault.error_code & 3) == 3); /* write to a present page */
		shim_printf("test: text is read-only\n");
		break;
	case 2:
		CHECK(xen_cpus[0].fault.cr2 == (unsigned long)data_ret);
		CHECK(xen_cpus[0].fault.rip == (unsigned long)data_ret);
		CHECK((xen_cpus[0].fault.error_code & 0x11) == 0x11); /* fetch from a present page */
		shim_printf("test: data is no-execute\n");
		break;
	}
	xen_cpus[0].fault.nesting = 0;
	xen_boot.fault_handler = 0;
	stage++;
	if (stage < 2 || (stage == 2 && have_nx))
		fault_stage();
	if (!have_nx)
		shim_printf("test: the CPU has no NX; no-execute not checked\n");

	if (failures)
		shim_printf("test: FAIL (%d)\n", failures);
	else
		shim_printf("test: PASS\n");

	/* No handler: the shim dumps registers (r12-r15 carry markers) and crashes. */
	shim_printf("test: faulting on purpose at %#lx with no handler\n", 0xdead0000UL);
	__asm__ __volatile__("movq $0x1212121212121212, %%r12\n\t"
			     "movq $0x1313131313131313, %%r13\n\t"
			     "movq $0x1414141414141414, %%r14\n\t"
			     "movq $0x1515151515151515, %%r15\n\t"
			     "movq (%0), %%rax"
			     : : "r"(0xdead0000UL) : "rax", "r12", "r13", "r14", "r15", "memory");
	shim_crash();
}
