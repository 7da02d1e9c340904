/*
 * time.c: the pvclock reader the shim uses for itself. (Timers: each vCPU's
 * periodic timer is stopped and its VIRQ_TIMER bound in cpu.c, so the only
 * timer events are the ones Go asks for with set_timer_op.)
 */
#include "shim.h"
#include "hypercall.h"

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* Xen system time in ns (public/xen.h struct vcpu_time_info). */
uint64_t shim_system_time(void)
{
	struct xen_cpu *c = shim_this_cpu();
	/* The registered vcpu_info (cpu.c) once there is one; shared_info's before. */
	volatile struct vcpu_time_info *t = c->vcpu_info.time.version ? &c->vcpu_info.time
								  : &shim_shared_info->vcpu_info[c->id].time;
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
