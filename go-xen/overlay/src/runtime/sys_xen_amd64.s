// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Xen entry points used by the runtime. A hypercall is a call into the hypercall
// page Xen filled (32 bytes per hypercall), arguments in DI, SI, DX, R10, R8, result
// in AX (xen/include/public/arch-x86/xen-x86_64.h).

#include "go_asm.h"
#include "go_tls.h"
#include "textflag.h"

// func hypercall(op, a1, a2, a3 uintptr) uintptr
TEXT runtime·hypercall(SB),NOSPLIT,$0-40
	MOVQ	op+0(FP), AX
	SHLQ	$5, AX
	LEAQ	xen_hypercall_page(SB), CX
	ADDQ	CX, AX
	MOVQ	a1+8(FP), DI
	MOVQ	a2+16(FP), SI
	MOVQ	a3+24(FP), DX
	CALL	AX
	MOVQ	AX, ret+32(FP)
	RET

// func xenBootAddr() uintptr
TEXT runtime·xenBootAddr(SB),NOSPLIT,$0-8
	LEAQ	xen_boot(SB), AX
	MOVQ	AX, ret+0(FP)
	RET

// settls(DI): point the FS base at DI+8 so that g lives at -8(FS), as on ELF
// systems, with set_segment_base(SEGBASE_FS) (PV) or the FS base MSR (PVH, ring 0).
TEXT runtime·settls(SB),NOSPLIT,$0
	ADDQ	$8, DI
	CMPB	runtime·xenPVH(SB), $0
	JEQ	pv
	MOVQ	DI, AX
	MOVQ	DI, DX
	SHRQ	$32, DX
	MOVL	$const_msrFSBase, CX
	WRMSR
	RET
pv:
	MOVQ	DI, SI
	MOVQ	$const__SEGBASE_FS, DI
	LEAQ	xen_hypercall_page(SB), AX
	ADDQ	$(const__HYPERVISOR_set_segment_base*32), AX
	CALL	AX
	TESTQ	AX, AX
	JZ	2(PC)
	CALL	runtime·abort(SB)
	RET

// func nanotime1() int64
TEXT runtime·nanotime1(SB),NOSPLIT,$0-8
	JMP	runtime·xenNanotime(SB)

// func walltime() (sec int64, nsec int32)
TEXT runtime·walltime(SB),NOSPLIT,$0-12
	JMP	runtime·xenWalltime(SB)

// func rdtsc() uint64
TEXT runtime·rdtsc(SB),NOSPLIT,$0-8
	LFENCE
	RDTSC
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, ret+0(FP)
	RET

// func hasRDRAND() bool
TEXT runtime·hasRDRAND(SB),NOSPLIT,$0-1
	MOVL	$1, AX
	MOVL	$0, CX
	CPUID
	SHRL	$30, CX
	ANDL	$1, CX
	MOVB	CX, ret+0(FP)
	RET

// func rdrand64() (v uint64, ok bool)
TEXT runtime·rdrand64(SB),NOSPLIT,$0-9
	RDRANDQ	AX
	SETCS	ok+8(FP)
	MOVQ	AX, v+0(FP)
	RET

// xenFaultTramp: the shim's trap handler makes a fault in Go code look like a call
// from the faulting pc to here (the pc is at 0(SP)). Record the fault in g and
// continue in sigpanic as a Unix signal handler would; sigpanic does not return.
TEXT runtime·xenFaultTramp(SB),NOSPLIT|NOFRAME,$0
	get_tls(R14)
	MOVQ	g(R14), R14
	XORPS	X15, X15
	CALL	runtime·xenFault<ABIInternal>(SB)
	JMP	runtime·sigpanic<ABIInternal>(SB)

// The thread layer's context switches (thread_xen.go). A thread's context is saved into
// *xenCurThread (struct xenContext, first in struct xthread) in two ways, then xenSchedule runs
// on the scheduler's stack and xenResume restores the context of the thread it chose.

#define SAVE_GPRS_BUT_AX(R) \
	MOVQ	BX, xenContext_rbx(R); \
	MOVQ	CX, xenContext_rcx(R); \
	MOVQ	DX, xenContext_rdx(R); \
	MOVQ	SI, xenContext_rsi(R); \
	MOVQ	DI, xenContext_rdi(R); \
	MOVQ	BP, xenContext_rbp(R); \
	MOVQ	R8, xenContext_r8(R); \
	MOVQ	R9, xenContext_r9(R); \
	MOVQ	R10, xenContext_r10(R); \
	MOVQ	R11, xenContext_r11(R); \
	MOVQ	R12, xenContext_r12(R); \
	MOVQ	R13, xenContext_r13(R); \
	MOVQ	R14, xenContext_r14(R); \
	MOVQ	R15, xenContext_r15(R)

// RESTORE_GPRS_BUT_AX_BX: the general registers but AX and BX from the context at R.
#define RESTORE_GPRS_BUT_AX_BX(R) \
	MOVQ	xenContext_r15(R), R15; \
	MOVQ	xenContext_r14(R), R14; \
	MOVQ	xenContext_r13(R), R13; \
	MOVQ	xenContext_r12(R), R12; \
	MOVQ	xenContext_r11(R), R11; \
	MOVQ	xenContext_r10(R), R10; \
	MOVQ	xenContext_r9(R), R9; \
	MOVQ	xenContext_r8(R), R8; \
	MOVQ	xenContext_rdi(R), DI; \
	MOVQ	xenContext_rsi(R), SI; \
	MOVQ	xenContext_rbp(R), BP; \
	MOVQ	xenContext_rdx(R), DX; \
	MOVQ	xenContext_rcx(R), CX

// The running vCPU's xenCPU (thread_xen.go): the GS base is its struct xen_cpu, whose go
// field points at it; one instruction, so a thread that moves meanwhile reads one or the
// other, never a mix.
#define GET_CPU(R) MOVQ const__xen_cpu_go(GS), R

// SAVE_GPRS_TO_CURRENT: all general registers into the vCPU's cur thread, left in AX.
#define SAVE_GPRS_TO_CURRENT \
	PUSHQ	AX; \
	GET_CPU(AX); \
	MOVQ	xenCPU_cur(AX), AX; \
	SAVE_GPRS_BUT_AX(AX); \
	POPQ	BX; \
	MOVQ	BX, xenContext_rax(AX)

// xenUpcall is the event callback (CALLBACKTYPE_event). Xen enters it with events masked on
// the interrupted stack: RCX, R11, then RIP, CS, RFLAGS, RSP, SS (CS with the RPL cleared,
// RFLAGS.IF = events were enabled). The interrupted context goes into the current thread.
TEXT runtime·xenUpcall(SB),NOSPLIT|NOFRAME,$0
	POPQ	CX
	POPQ	R11
	SAVE_GPRS_TO_CURRENT
	MOVQ	0(SP), BX
	MOVQ	BX, xenContext_rip(AX)
	MOVQ	8(SP), BX
	MOVQ	BX, xenContext_cs(AX)
	MOVQ	16(SP), BX
	MOVQ	BX, xenContext_rflags(AX)
	MOVQ	24(SP), BX
	MOVQ	BX, xenContext_rsp(AX)
	MOVQ	32(SP), BX
	MOVQ	BX, xenContext_ss(AX)
	MOVQ	$0, xenContext_flags(AX)
	MOVQ	$0, xenContext_voluntary(AX)
	MOVL	$0, BX
	JMP	xenEnterSched<>(SB)

// func xenSwitch(): the running thread gives up its vCPU (events masked, xenSchedLock held,
// its state set). The saved context returns from this call, events still masked, the lock
// not held.
TEXT runtime·xenSwitch(SB),NOSPLIT|NOFRAME,$0-0
	SAVE_GPRS_TO_CURRENT
	MOVQ	0(SP), BX	// return address
	MOVQ	BX, xenContext_rip(AX)
	LEAQ	8(SP), BX	// SP after the return
	MOVQ	BX, xenContext_rsp(AX)
	MOVQ	runtime·xenKernelCS(SB), BX
	MOVQ	BX, xenContext_cs(AX)
	MOVQ	runtime·xenKernelSS(SB), BX
	MOVQ	BX, xenContext_ss(AX)
	PUSHFQ
	POPQ	BX
	ANDQ	$~const_rflagsIF, BX	// resume with events masked
	MOVQ	BX, xenContext_rflags(AX)
	MOVQ	$0, xenContext_flags(AX)
	MOVQ	$1, xenContext_voluntary(AX)
	MOVL	$1, BX
	JMP	xenEnterSched<>(SB)

// AX: the thread whose registers are saved; BX: 1 for a voluntary switch. Saves the FPU/SSE
// state and the TLS g, runs xenSchedule on the vCPU's scheduler stack (g = its schedGp), puts
// the old thread's g back into its TLS, releases xenSchedLock (from here on another vCPU may
// resume the old thread) and resumes the chosen thread.
TEXT xenEnterSched<>(SB),NOSPLIT|NOFRAME,$0
	MOVQ	xenContext_fx(AX), CX
	FXSAVE64	(CX)
	get_tls(CX)
	MOVQ	g(CX), DX
	MOVQ	DX, xenContext_g(AX)
	GET_CPU(SI)
	MOVQ	xenCPU_schedGp(SI), DX
	MOVQ	DX, g(CX)
	MOVQ	xenCPU_schedStackHi(SI), SP
	SUBQ	$16, SP
	MOVQ	AX, 8(SP)
	MOVB	BX, 0(SP)
	CALL	runtime·xenSchedule(SB)
	MOVQ	8(SP), AX
	get_tls(CX)
	MOVQ	xenContext_g(AX), DX
	MOVQ	DX, g(CX)
	MOVL	$0, runtime·xenSchedLock(SB)	// a store releases on x86
	// The same thread goes on (most upcalls): its FS base is loaded already.
	GET_CPU(SI)
	CMPQ	AX, xenCPU_cur(SI)
	JNE	2(PC)
	JMP	xenResumeSameTLS<>(SB)
	JMP	runtime·xenResume(SB)

// func xenResume(): restores the vCPU's cur thread (events masked, on the scheduler's or a
// start stack): its TLS, FPU/SSE state and registers, and returns to it with HYPERVISOR_iret,
// which takes rax, r11, rcx from the hypercall page's stub and flags, rip, cs, rflags, rsp, ss
// from the stack (here: inside the context itself) and sets the event mask from RFLAGS.IF.
// The context must stay in its order: rcx, rbx, rax, then flags..ss.
TEXT runtime·xenResume(SB),NOSPLIT|NOFRAME,$0-0
	GET_CPU(BX)
	MOVQ	xenCPU_cur(BX), BX
	CMPB	runtime·xenPVH(SB), $0
	JEQ	pv
	MOVQ	xenContext_fsbase(BX), AX
	MOVQ	AX, DX
	SHRQ	$32, DX
	MOVL	$const_msrFSBase, CX
	WRMSR
	JMP	xenResumeSameTLS<>(SB)
pv:
	MOVQ	$const__SEGBASE_FS, DI
	MOVQ	xenContext_fsbase(BX), SI
	LEAQ	xen_hypercall_page(SB), AX
	ADDQ	$(const__HYPERVISOR_set_segment_base*32), AX
	CALL	AX
	TESTQ	AX, AX
	JZ	2(PC)
	CALL	runtime·abort(SB)
	JMP	xenResumeSameTLS<>(SB)

// The rest of xenResume, for a thread whose FS base is loaded.
TEXT xenResumeSameTLS<>(SB),NOSPLIT|NOFRAME,$0
	GET_CPU(BX)
	MOVQ	xenCPU_cur(BX), BX
	MOVQ	xenContext_fx(BX), AX
	FXRSTOR64	(AX)
	CMPB	runtime·xenPVH(SB), $0
	JEQ	2(PC)
	JMP	xenResumeIretq<>(SB)
	// The jump to the iret stub is a RET: its address goes into the rax slot, just below
	// the frame, and rax's value into the g slot (not needed once the thread is chosen).
	MOVQ	xenContext_rax(BX), AX
	MOVQ	AX, xenContext_g(BX)
	LEAQ	xen_hypercall_page(SB), AX
	ADDQ	$(const__HYPERVISOR_iret*32), AX
	MOVQ	AX, xenContext_rax(BX)
	LEAQ	xenContext_rax(BX), SP
	RESTORE_GPRS_BUT_AX_BX(BX)
	MOVQ	xenContext_g(BX), AX
	MOVQ	xenContext_rbx(BX), BX
	RET	// into the iret stub, SP = &flags; never returns

// PVH: the context's rip..ss is the frame IRETQ takes (ring 0, our own GDT's selectors);
// IRETQ restores RFLAGS.IF, the event mask.
TEXT xenResumeIretq<>(SB),NOSPLIT|NOFRAME,$0
	LEAQ	xenContext_rip(BX), SP
	RESTORE_GPRS_BUT_AX_BX(BX)
	MOVQ	xenContext_rax(BX), AX
	MOVQ	xenContext_rbx(BX), BX
	IRETQ

// func xenAPEntry(): where a vCPU > 0 starts (xen_boot.ap_entry; mini-os-shim/cpu.c), events
// masked, the GS base at its struct xen_cpu: it resumes its cur, its idle thread.
TEXT runtime·xenAPEntry(SB),NOSPLIT|NOFRAME,$0-0
	JMP	runtime·xenResume(SB)

// func xenPark(id uint32, tlsG, gp uintptr): the end of xenParkLocked, on the vCPU's scheduler
// stack with events masked: puts the parked thread's g back into its TLS slot (*tlsG = gp),
// releases xenSchedLock and takes the vCPU down (xen_shim_cpu_down, System V ABI); when it is
// brought up again it starts over at xenAPEntry.
TEXT runtime·xenPark(SB),NOSPLIT|NOFRAME,$0-24
	MOVQ	tlsG+8(FP), AX
	MOVQ	gp+16(FP), BX
	MOVL	id+0(FP), DI
	MOVQ	BX, 0(AX)
	MOVL	$0, runtime·xenSchedLock(SB)
	ANDQ	$~15, SP
	CALL	xen_shim_cpu_down(SB)
	JMP	runtime·xenAPEntry(SB)

// func xenShimCPUUp(id uint32, fresh int32) int64: xen_shim_cpu_up (mini-os-shim/cpu.c)
// with the System V ABI, on a 16-byte aligned stack; R12 is callee-saved there.
TEXT runtime·xenShimCPUUp(SB),NOSPLIT,$0-16
	MOVL	id+0(FP), DI
	MOVL	fresh+4(FP), SI
	MOVQ	SP, R12
	ANDQ	$~15, SP
	CALL	xen_shim_cpu_up(SB)
	MOVQ	R12, SP
	MOVQ	AX, ret+8(FP)
	RET

// func xenMe() *xenCPU: the running vCPU's (stable while events are masked).
TEXT runtime·xenMe(SB),NOSPLIT,$0-8
	GET_CPU(AX)
	MOVQ	AX, ret+0(FP)
	RET

// func xenVcpuInfo() uintptr: the running vCPU's vcpu_info, first in its struct xen_cpu.
TEXT runtime·xenVcpuInfo(SB),NOSPLIT,$0-8
	MOVQ	const__xen_cpu_self(GS), AX
	MOVQ	AX, ret+0(FP)
	RET

// func xenEventsMask() (old uint8): masks event delivery on the running vCPU and returns
// the previous mask: the vcpu_info's upcall mask, swapped in one instruction at %gs:
// (a thread that moved vCPU between a load and a store would mask the wrong one), or
// RFLAGS.IF as PVH.
TEXT runtime·xenEventsMask(SB),NOSPLIT,$0-1
	CMPB	runtime·xenPVH(SB), $0
	JEQ	pv
	PUSHFQ
	POPQ	AX
	CLI
	SHRQ	$9, AX
	ANDQ	$1, AX
	XORQ	$1, AX
	MOVB	AX, ret+0(FP)
	RET
pv:
	MOVL	$1, AX
	XCHGB	AX, const__vcpu_info_upcall_mask(GS)
	MOVB	AX, ret+0(FP)
	RET

// func xenEventsRestore(old uint8): restores the mask xenEventsMask returned; when that
// unmasks events that became pending meanwhile, a trivial hypercall makes Xen deliver them
// (PV); as PVH, a pending callback vector is taken right after STI.
TEXT runtime·xenEventsRestore(SB),NOSPLIT,$0-1
	CMPB	old+0(FP), $0
	JNE	done
	CMPB	runtime·xenPVH(SB), $0
	JEQ	pv
	STI
	RET
pv:
	MOVB	$0, const__vcpu_info_upcall_mask(GS)
	CMPB	const__vcpu_info_upcall_pending(GS), $0
	JEQ	done
	MOVQ	$0, DI
	MOVQ	$0, SI
	LEAQ	xen_hypercall_page(SB), AX
	ADDQ	$(const__HYPERVISOR_xen_version*32), AX
	CALL	AX
done:
	RET

// func xenIdleLoop(): the idle thread blocks the vCPU until an event (its upcall decides):
// SCHEDOP_block (PV), which unmasks events as it blocks, or STI; HLT (PVH: the STI shadow
// keeps an interrupt from slipping in between).
TEXT runtime·xenIdleLoop(SB),NOSPLIT|NOFRAME,$0-0
	CMPB	runtime·xenPVH(SB), $0
	JEQ	loop
hlt:
	STI
	HLT
	JMP	hlt
loop:
	MOVQ	$const__SCHEDOP_block, DI
	MOVQ	$0, SI
	LEAQ	xen_hypercall_page(SB), AX
	ADDQ	$(const__HYPERVISOR_sched_op*32), AX
	CALL	AX
	JMP	loop

// func xenThreadStart(): a new M's first instructions (R13 = m, R9 = m.g0), as the child of
// clone does on Linux: g into TLS, then mstart on g0's stack.
TEXT runtime·xenThreadStart(SB),NOSPLIT|NOFRAME|TOPFRAME,$0-0
	get_tls(CX)
	MOVQ	R13, g_m(R9)
	MOVQ	R9, g(CX)
	MOVQ	R9, R14
	CALL	runtime·mstart(SB)
	CALL	runtime·abort(SB)	// not reached

// func xenFxsave(p uintptr)
TEXT runtime·xenFxsave(SB),NOSPLIT,$0-8
	MOVQ	p+0(FP), AX
	FXSAVE64	(AX)
	RET

// func xenShimSuspend() int64: xen_shim_suspend (mini-os-shim/suspend.c) with the System V
// ABI, on a 16-byte aligned stack; R12 is callee-saved there.
TEXT runtime·xenShimSuspend(SB),NOSPLIT,$0-8
	MOVQ	SP, R12
	ANDQ	$~15, SP
	CALL	xen_shim_suspend(SB)
	MOVQ	R12, SP
	MOVQ	AX, ret+0(FP)
	RET
