/*
 * time.c: timer setup and the pvclock reader the shim uses for itself.
 *
 * Xen starts every PV vcpu with a 10 ms periodic timer; we stop it, so the
 * only timer events are the ones Go asks for with set_timer_op. VIRQ_TIMER
 * is bound on vcpu 0 and its port left unmasked (per port), so that a
 * set_timer_op deadline wakes SCHEDOP_block.
 */
#include "shim.h"
#include "hypercall.h"

void shim_time_init(void)
{
	long rc;
	uint32_t port;

	rc = HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL);
	if (rc && !shim_pvh) /* PVH has no periodic timer to stop */
		shim_fail("vcpu_op(stop_periodic_timer)", rc);
	port = shim_events_bind_virq(VIRQ_TIMER);
	shim_events_unmask(port);
	xen_boot.timer_port = port;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* Xen system time in ns (public/xen.h struct vcpu_time_info). */
uint64_t shim_system_time(void)
{
	volatile struct vcpu_time_info *t = &shim_shared_info->vcpu_info[0].time;
	uint32_t version, mul;
	uint64_t stamp, sys, delta;
	int8_t shift;

	do {
		version = t->version;
		barrier();
		stamp = t->tsc_timestamp;
		sys = t->system_time;
		mul = t->tsc_to_system_mul;
		shift = t->tsc_shift;
		delta = rdtsc() - stamp;
		barrier();
	} while ((version & 1) || version != t->version);
	if (shift < 0)
		delta >>= -shift;
	else
		delta <<= shift;
	return sys + (uint64_t)(((unsigned __int128)delta * mul) >> 32);
}
