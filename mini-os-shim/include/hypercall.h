/*
 * hypercall.h: calls through Xen's hypercall page.
 *
 * Hypercall N is `call xen_hypercall_page + N*32`, arguments in rdi, rsi,
 * rdx, r10, r8, result in rax (public/arch-x86/xen-x86_64.h). Xen may
 * clobber the argument registers (debug builds poison them) and the
 * syscall instruction clobbers rcx and r11.
 */
#ifndef SHIM_HYPERCALL_H
#define SHIM_HYPERCALL_H

#include "shim.h"

extern char xen_hypercall_page[4096] SHIM_EXPORT;

#define HCALL_STR_(x) #x
#define HCALL_STR(x) HCALL_STR_(x)

#define _hypercall(nr, a1, a2, a3, a4, a5)                                   \
	({                                                                   \
		register unsigned long _a1 __asm__("rdi") = (unsigned long)(a1); \
		register unsigned long _a2 __asm__("rsi") = (unsigned long)(a2); \
		register unsigned long _a3 __asm__("rdx") = (unsigned long)(a3); \
		register unsigned long _a4 __asm__("r10") = (unsigned long)(a4); \
		register unsigned long _a5 __asm__("r8") = (unsigned long)(a5);  \
		long _res;                                                   \
		__asm__ __volatile__("call xen_hypercall_page + " HCALL_STR(nr) "*32" \
				     : "=a"(_res), "+r"(_a1), "+r"(_a2),     \
				       "+r"(_a3), "+r"(_a4), "+r"(_a5)       \
				     :                                       \
				     : "rcx", "r11", "memory");              \
		_res;                                                        \
	})

static inline long HYPERVISOR_set_trap_table(const trap_info_t *t)
{
	return _hypercall(__HYPERVISOR_set_trap_table, t, 0, 0, 0, 0);
}

static inline long HYPERVISOR_mmu_update(mmu_update_t *req, unsigned int count,
					 unsigned int *done, domid_t dom)
{
	return _hypercall(__HYPERVISOR_mmu_update, req, count, done, dom, 0);
}

static inline long HYPERVISOR_mmuext_op(struct mmuext_op *op, unsigned int count,
					 unsigned int *done, domid_t dom)
{
	return _hypercall(__HYPERVISOR_mmuext_op, op, count, done, dom, 0);
}

static inline long HYPERVISOR_update_va_mapping(unsigned long va, uint64_t pte,
						unsigned long flags)
{
	return _hypercall(__HYPERVISOR_update_va_mapping, va, pte, flags, 0, 0);
}

static inline long HYPERVISOR_set_timer_op(uint64_t abs_ns)
{
	return _hypercall(__HYPERVISOR_set_timer_op, abs_ns, 0, 0, 0, 0);
}

static inline long HYPERVISOR_console_io(int cmd, unsigned long count, const char *buf)
{
	return _hypercall(__HYPERVISOR_console_io, cmd, count, buf, 0, 0);
}

static inline long HYPERVISOR_vcpu_op(int cmd, unsigned int vcpu, void *arg)
{
	return _hypercall(__HYPERVISOR_vcpu_op, cmd, vcpu, arg, 0, 0);
}

static inline long HYPERVISOR_set_segment_base(int which, unsigned long base)
{
	return _hypercall(__HYPERVISOR_set_segment_base, which, base, 0, 0, 0);
}

static inline long HYPERVISOR_sched_op(int cmd, void *arg)
{
	return _hypercall(__HYPERVISOR_sched_op, cmd, arg, 0, 0, 0);
}

/* SCHEDOP_shutdown with reason suspend: x86 PV guests pass the mfn of their start_info
 * page as the third argument (public/sched.h). Returns 0 in the new domain after a restore,
 * 1 when the suspend was cancelled (the same domain goes on). */
static inline long HYPERVISOR_suspend(struct sched_shutdown *sd, unsigned long start_info_mfn)
{
	return _hypercall(__HYPERVISOR_sched_op, SCHEDOP_shutdown, sd, start_info_mfn, 0, 0);
}

static inline long HYPERVISOR_callback_op(int cmd, void *arg)
{
	return _hypercall(__HYPERVISOR_callback_op, cmd, arg, 0, 0, 0);
}

static inline long HYPERVISOR_event_channel_op(int cmd, void *arg)
{
	return _hypercall(__HYPERVISOR_event_channel_op, cmd, arg, 0, 0, 0);
}

static inline long HYPERVISOR_memory_op(unsigned int cmd, void *arg)
{
	return _hypercall(__HYPERVISOR_memory_op, cmd, arg, 0, 0, 0);
}

static inline long HYPERVISOR_hvm_op(unsigned int op, void *arg)
{
	return _hypercall(__HYPERVISOR_hvm_op, op, arg, 0, 0, 0);
}

#endif
