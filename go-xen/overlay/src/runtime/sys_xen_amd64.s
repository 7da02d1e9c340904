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
// systems, with set_segment_base(SEGBASE_FS).
TEXT runtime·settls(SB),NOSPLIT,$0
	ADDQ	$8, DI
	MOVQ	DI, SI
	MOVQ	$const__SEGBASE_FS, DI
	LEAQ	xen_hypercall_page(SB), AX
	ADDQ	$(const__HYPERVISOR_set_segment_base*32), AX
	CALL	AX
	TESTQ	AX, AX
	JZ	2(PC)
	CALL	runtime·abort(SB)
	RET

// func osyield()
TEXT runtime·osyield(SB),NOSPLIT,$0
	MOVQ	$const__SCHEDOP_yield, DI
	MOVQ	$0, SI
	LEAQ	xen_hypercall_page(SB), AX
	ADDQ	$(const__HYPERVISOR_sched_op*32), AX
	CALL	AX
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
