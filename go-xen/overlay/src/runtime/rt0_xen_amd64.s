// Copyright 2026 The go-xen Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

#include "go_asm.h"
#include "textflag.h"

// _rt0_amd64_xen is the PV entry point: the ELF entry and Xen's XEN_ELFNOTE_ENTRY. A PVH
// boot gets here too, from the shim's 32-bit entry (mini-os-shim/pvh_entry.S), in long mode
// with %rsi = a start_info the shim made up.
// Xen enters in ring 3 with %rsi = start_info (virtual), %rsp in its bootstrap region
// and events masked (xen/include/public/xen.h, "Start-of-day memory layout").
// We move to our own boot stack (which becomes g0's stack), let the shim set up the
// domain (xen_shim_init, mini-os-shim/setup.c), give ourselves a clean FPU, and enter
// the runtime's rt0_go with no argc/argv: os.Args come from the command line (goenvs).
TEXT _rt0_amd64_xen(SB),NOSPLIT|NOFRAME|TOPFRAME,$0
	// The boot timeline's entry stage (boottrace_xen.go): the TSC, before anything else.
	// RDTSC touches only AX and DX; SI (start_info) is still intact.
	RDTSC
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, runtime·xenEntryTSC(SB)
	LEAQ	runtime·xenBootStack+131072(SB), SP
	ANDQ	$~15, SP
	MOVQ	SI, DI
	CALL	xen_shim_init(SB)

	// Booted as PVH (mini-os-shim/pvh.c): ring 0 on our own page tables, IDT and FS base
	// MSR; the shim already cleared CR0.TS. Its first instruction was the 32-bit entry.
	LEAQ	xen_boot(SB), AX
	TESTL	$const__XEN_BOOT_FLAG_PVH, const__xen_boot_flags(AX)
	JZ	pv
	MOVB	$1, runtime·xenPVH(SB)
	MOVQ	const__xen_boot_entry_tsc(AX), AX
	MOVQ	AX, runtime·xenEntryTSC(SB)
	JMP	fpu

pv:
	// fpu_taskswitch(0): clear CR0.TS so SSE does not trap (xen/include/public/xen.h).
	MOVQ	$0, DI
	LEAQ	xen_hypercall_page(SB), AX
	ADDQ	$(const__HYPERVISOR_fpu_taskswitch*32), AX
	CALL	AX
fpu:
	BYTE	$0xDB; BYTE $0xE3	// FNINIT
	SUBQ	$16, SP
	MOVL	$0x1F80, 0(SP)	// MXCSR power-on default: all exceptions masked
	LDMXCSR	0(SP)
	ADDQ	$16, SP

	MOVQ	$0, DI
	LEAQ	runtime·xenArgv(SB), SI
	JMP	runtime·rt0_go(SB)
