/*
 * entry.S: where Xen enters the guest besides the ELF entry.
 *
 * Xen delivers traps and callbacks on the current (guest kernel) stack:
 *     rsp -> RCX, R11, [error code], RIP, CS, RFLAGS, RSP, SS
 * (CS/SS with RPL 0 for kernel context; bits 32-39 of the CS slot hold the
 * saved upcall mask; RFLAGS.IF says whether events were enabled). Traps return
 * with HYPERVISOR_iret, which restores that mask too.
 *
 * Traps leave the interrupted (Go) stack at once: the stubs restore rcx and
 * r11, push the vector and an error code, and trap_common copies the frame
 * and all registers onto the vCPU's 16 KiB trap stack (struct xen_cpu at the
 * GS base, cpu.c), where the C handler
 * shim_trap() runs. If it returns, it has rewritten the copied frame (to
 * redirect into Go's fault handler) and we return through it.
 */
#include "xen_boot.h"

/* __HYPERVISOR_iret (xen/xen.h) * 32: its entry in the hypercall page. */
#define HYPERCALL_IRET (23 * 32)

	.text

/* Trap stubs: no error code pushed by the CPU -> push 0. */
.macro TRAP_NOERR vec
	.globl shim_trap_\vec
	.hidden shim_trap_\vec
shim_trap_\vec:
	popq	%rcx
	popq	%r11
	pushq	$0
	pushq	$\vec
	jmp	trap_common
.endm

.macro TRAP_ERR vec
	.globl shim_trap_\vec
	.hidden shim_trap_\vec
shim_trap_\vec:
	popq	%rcx
	popq	%r11
	pushq	$\vec
	jmp	trap_common
.endm

	TRAP_NOERR 0
	TRAP_NOERR 1
	TRAP_NOERR 2
	TRAP_NOERR 3
	TRAP_NOERR 4
	TRAP_NOERR 5
	TRAP_NOERR 6
	TRAP_NOERR 7
	TRAP_ERR 8
	TRAP_NOERR 9
	TRAP_ERR 10
	TRAP_ERR 11
	TRAP_ERR 12
	TRAP_ERR 13
	TRAP_ERR 14
	TRAP_NOERR 15
	TRAP_NOERR 16
	TRAP_ERR 17
	TRAP_NOERR 18
	TRAP_NOERR 19

/*
 * On entry: rsp -> vector, error, RIP, CS, RFLAGS, RSP, SS (interrupted
 * stack); all general registers hold the interrupted values.
 * Builds a struct shim_trap_frame (traps.c) on the trap stack.
 */
trap_common:
	movq	%rax, %gs:XEN_CPU_OFF_SCRATCH
	movq	%rsp, %rax
	movq	%gs:XEN_CPU_OFF_TRAP_STACK_TOP, %rsp
	pushq	48(%rax)	/* ss */
	pushq	40(%rax)	/* rsp */
	pushq	32(%rax)	/* rflags */
	pushq	24(%rax)	/* cs */
	pushq	16(%rax)	/* rip */
	pushq	8(%rax)		/* error code */
	pushq	0(%rax)		/* vector */
	pushq	%gs:XEN_CPU_OFF_SCRATCH	/* rax */
	pushq	%rbx
	pushq	%rcx
	pushq	%rdx
	pushq	%rbp
	pushq	%rsi
	pushq	%rdi
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, %rdi
	call	shim_trap	/* returns only to resume via the (edited) frame */
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rdi
	popq	%rsi
	popq	%rbp
	popq	%rdx
	popq	%rcx
	popq	%rbx
	popq	%rax
	addq	$16, %rsp	/* vector, error code */
	testl	$XEN_BOOT_FLAG_PVH, xen_boot+XEN_BOOT_OFF_FLAGS(%rip)
	jz	1f
	iretq			/* PVH: ring 0, the frame is the CPU's (IF restores the mask) */
1:
	/*
	 * HYPERVISOR_iret, not iretq: it also restores the event mask from the frame's
	 * RFLAGS.IF (TI_MASK_EVENTS masked events for the trap, and Go code runs with
	 * them enabled). The hypercall page's stub pushes rcx, r11, rax; the frame is
	 * flags (0: not in a syscall), rip, cs, rflags, rsp, ss.
	 */
	pushq	$0
	jmp	xen_hypercall_page + HYPERCALL_IRET

/*
 * PVH exception stubs (pvh.c puts them in its IDT, 16 bytes apart): the CPU pushes
 * [error code], RIP, CS, RFLAGS, RSP, SS on the current stack (ring 0, no stack switch)
 * and leaves every register as it was, which is where trap_common wants to start.
 */
.macro PVH_TRAP vec, has_err
	.balign 16
.if \has_err
	pushq	$\vec
.else
	pushq	$0
	pushq	$\vec
.endif
	jmp	trap_common
.endm

	.balign 16
	.globl shim_pvh_traps
	.hidden shim_pvh_traps
shim_pvh_traps:
	PVH_TRAP 0, 0
	PVH_TRAP 1, 0
	PVH_TRAP 2, 0
	PVH_TRAP 3, 0
	PVH_TRAP 4, 0
	PVH_TRAP 5, 0
	PVH_TRAP 6, 0
	PVH_TRAP 7, 0
	PVH_TRAP 8, 1
	PVH_TRAP 9, 0
	PVH_TRAP 10, 1
	PVH_TRAP 11, 1
	PVH_TRAP 12, 1
	PVH_TRAP 13, 1
	PVH_TRAP 14, 1
	PVH_TRAP 15, 0
	PVH_TRAP 16, 0
	PVH_TRAP 17, 1
	PVH_TRAP 18, 0
	PVH_TRAP 19, 0

/*
 * PVH event callback vector (HVM_PARAM_CALLBACK_IRQ): the CPU pushed RIP, CS, RFLAGS, RSP,
 * SS and cleared IF. Push r11 and rcx so the stack looks as Xen leaves it for a PV upcall
 * (rsp -> RCX, R11, RIP, ...) and go to xen_boot.upcall: the Go thread layer's xenUpcall
 * once it runs, the boot handler below until then.
 */
	.globl shim_pvh_upcall
	.hidden shim_pvh_upcall
shim_pvh_upcall:
	/* A delivery whose frame says interrupts were off is not one to take (seen under QEMU's
	 * TCG: the vector delivered again before this stub's first instruction ran, or into
	 * code running with interrupts off): go back at once. Xen raises the vector again
	 * while evtchn_upcall_pending is set, once interrupts are on. */
	testl	$0x200, 16(%rsp)
	jz	1f
	pushq	%r11
	pushq	%rcx
	jmp	*xen_boot+XEN_BOOT_OFF_UPCALL(%rip)
1:	iretq

/* Boot: interrupts are off while the shim runs, so this only counts strays. The pending
 * flag is left alone: whoever enables interrupts scans events first. */
	.globl shim_pvh_boot_upcall
	.hidden shim_pvh_boot_upcall
shim_pvh_boot_upcall:
	popq	%rcx
	popq	%r11
	lock incq xen_boot+XEN_BOOT_OFF_UPCALL_COUNT(%rip)
	iretq

/*
 * Event upcall. Xen only delivers it while events are unmasked, which in
 * this design happens only inside SCHEDOP_block; it enters with
 * upcall_mask = 1. We count it and return, leaving the mask at 1: Go scans
 * the pending bits itself.
 */
	.globl shim_hypervisor_callback
	.hidden shim_hypervisor_callback
shim_hypervisor_callback:
	popq	%rcx
	popq	%r11
	lock incq xen_boot+XEN_BOOT_OFF_UPCALL_COUNT(%rip)
	orb	$3, 8(%rsp)
	orb	$3, 32(%rsp)
	iretq

/*
 * Failsafe callback: Xen could not restore a segment register or return
 * frame. Nothing sensible to resume: report and crash.
 */
	.globl shim_failsafe_callback
	.hidden shim_failsafe_callback
shim_failsafe_callback:
	movq	%rsp, %rdi
	movq	%gs:XEN_CPU_OFF_TRAP_STACK_TOP, %rsp
	call	shim_failsafe
	ud2

	.section .note.GNU-stack, "", @progbits
