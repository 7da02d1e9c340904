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

// SAVE_GPRS_TO_CURRENT: all general registers into *xenCurThread, which is left in AX.
#define SAVE_GPRS_TO_CURRENT \
	PUSHQ	AX; \
	MOVQ	runtime·xenCurThread(SB), AX; \
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

// func xenSwitch(): the running thread gives up the vCPU (events masked, its state set). The
// saved context returns from this call, events still masked.
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
// state and the TLS g, runs xenSchedule on the scheduler's stack (g = xenSchedGp), puts the
// old thread's g back into its TLS and resumes the chosen thread.
TEXT xenEnterSched<>(SB),NOSPLIT|NOFRAME,$0
	MOVQ	xenContext_fx(AX), CX
	FXSAVE64	(CX)
	get_tls(CX)
	MOVQ	g(CX), DX
	MOVQ	DX, xenContext_g(AX)
	MOVQ	runtime·xenSchedGp(SB), DX
	MOVQ	DX, g(CX)
	MOVQ	runtime·xenSchedStackHi(SB), SP
	SUBQ	$16, SP
	MOVQ	AX, 8(SP)
	MOVB	BX, 0(SP)
	CALL	runtime·xenSchedule(SB)
	MOVQ	8(SP), AX
	get_tls(CX)
	MOVQ	xenContext_g(AX), DX
	MOVQ	DX, g(CX)
	// The same thread goes on (most upcalls): its FS base is loaded already.
	CMPQ	AX, runtime·xenCurThread(SB)
	JNE	2(PC)
	JMP	xenResumeSameTLS<>(SB)
	JMP	runtime·xenResume(SB)

// func xenResume(): restores *xenCurThread (events masked, on the scheduler's stack): its
// TLS, FPU/SSE state and registers, and returns to it with HYPERVISOR_iret, which takes
// rax, r11, rcx from the hypercall page's stub and flags, rip, cs, rflags, rsp, ss from the
// stack (here: inside the context itself) and sets the event mask from RFLAGS.IF. The
// context must stay in its order: rcx, rbx, rax, then flags..ss.
TEXT runtime·xenResume(SB),NOSPLIT|NOFRAME,$0-0
	MOVQ	runtime·xenCurThread(SB), BX
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
	MOVQ	runtime·xenCurThread(SB), BX
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

// func xenCli() (wasMasked uint8): PVH event masking is RFLAGS.IF. Returns 1 when
// interrupts were already off, as xenEventsMask returns the old upcall mask.
TEXT runtime·xenCli(SB),NOSPLIT,$0-1
	PUSHFQ
	POPQ	AX
	CLI
	SHRQ	$9, AX
	ANDQ	$1, AX
	XORQ	$1, AX
	MOVB	AX, ret+0(FP)
	RET

// func xenSti()
TEXT runtime·xenSti(SB),NOSPLIT,$0-0
	STI
	RET
