/*
 * pvh_entry.S: the PVH entry (XEN_ELFNOTE_PHYS32_ENTRY), from 32-bit protected mode to the
 * Go entry in long mode.
 *
 * Xen enters a PVH guest (xen/include/public/arch-x86/hvm/start_info.h, "PVH entry"):
 * 32-bit protected mode, paging off, flat 4 GiB cs/ds/es/ss, interrupts off, ebx = the
 * physical address of struct hvm_start_info; esp is undefined. The image is loaded at its
 * ELF p_paddr, which equals its link address (VIRT_BASE = PADDR_OFFSET), so once paging
 * maps va = pa the code runs where it was linked.
 *
 * Go's linker takes only PC-relative and 64-bit relocations from this object, so the
 * 32-bit part names no symbol: it works in the free RAM just below the image (PVH's memory
 * map starts with RAM at 0 and the domain builder puts nothing below the kernel), builds
 * an identity map of the first 4 GiB there with 2 MiB pages, enters long mode and finds
 * its own 64-bit half with call/pop. The 64-bit half runs shim_pvh_start (pvh.c) on a
 * stack in .bss; it builds the real page tables, GDT and IDT and returns the start_info
 * it made up for the runtime. Then it jumps to the ELF entry (Go's _rt0_amd64_xen) with
 * rsi = that start_info, as Xen enters a PV guest.
 */
#include "xen_boot.h"

/* Scratch pages below the image: PML4, PDPT, 4 PDs, then the GDT. */
#define SCRATCH      (XEN_BOOT_VIRT_BASE - 0x10000)
#define SCRATCH_PML4 (SCRATCH)
#define SCRATCH_PDPT (SCRATCH + 0x1000)
#define SCRATCH_PD   (SCRATCH + 0x2000)
#define SCRATCH_GDT  (SCRATCH + 0x6000)
#define SCRATCH_GDTR (SCRATCH + 0x6100)

#define CR0_PE 0x00000001
#define CR0_PG 0x80000000
#define CR4_PAE 0x00000020
#define MSR_EFER 0xc0000080
#define EFER_LME 0x00000100
#define PDE_2M (0x1 | 0x2 | 0x80) /* present, writable, 2 MiB page */

	.text
	.code32
	.globl	xen_pvh_entry
	.type	xen_pvh_entry, @function
xen_pvh_entry:
	cld
	movl	$XEN_BOOT_VIRT_BASE, %esp	/* grows down into free RAM below the image */
	rdtsc
	movl	%eax, %esi			/* entry TSC, for the boot timeline */
	movl	%edx, %ebp

	/* Zero the six table pages. */
	movl	$SCRATCH, %edi
	movl	$(6 * 1024), %ecx
	xorl	%eax, %eax
	rep stosl

	movl	$(SCRATCH_PDPT | 0x3), SCRATCH_PML4
	movl	$(SCRATCH_PD + 0x0000 | 0x3), SCRATCH_PDPT + 0
	movl	$(SCRATCH_PD + 0x1000 | 0x3), SCRATCH_PDPT + 8
	movl	$(SCRATCH_PD + 0x2000 | 0x3), SCRATCH_PDPT + 16
	movl	$(SCRATCH_PD + 0x3000 | 0x3), SCRATCH_PDPT + 24
	movl	$SCRATCH_PD, %edi
	movl	$PDE_2M, %eax
	movl	$2048, %ecx
1:	movl	%eax, (%edi)
	addl	$0x200000, %eax
	addl	$8, %edi
	loop	1b

	/* GDT: null, 64-bit code (0x08), data (0x10). */
	movl	$0x0000ffff, SCRATCH_GDT + 8
	movl	$0x00af9a00, SCRATCH_GDT + 12
	movl	$0x0000ffff, SCRATCH_GDT + 16
	movl	$0x00cf9200, SCRATCH_GDT + 20
	movw	$23, SCRATCH_GDTR
	movl	$SCRATCH_GDT, SCRATCH_GDTR + 2
	lgdt	SCRATCH_GDTR

	movl	%cr4, %eax
	orl	$CR4_PAE, %eax
	movl	%eax, %cr4
	movl	$SCRATCH_PML4, %eax
	movl	%eax, %cr3
	movl	$MSR_EFER, %ecx
	rdmsr
	orl	$EFER_LME, %eax
	wrmsr
	movl	%cr0, %eax
	orl	$(CR0_PG | CR0_PE), %eax
	movl	%eax, %cr0

	/* Far return into the 64-bit half: its address from our own. */
	call	2f
2:	popl	%eax
	addl	$(pvh_long - 2b), %eax
	pushl	$0x08
	pushl	%eax
	lret

	.code64
pvh_long:
	movl	$0x10, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	xorl	%eax, %eax
	movl	%eax, %fs
	movl	%eax, %gs
	leaq	shim_pvh_stack_top(%rip), %rsp
	movl	%ebx, %edi			/* hvm_start_info (physical = virtual) */
	shlq	$32, %rbp
	movl	%esi, %esi
	orq	%rbp, %rsi			/* entry TSC */
	xorl	%ebp, %ebp
	call	shim_pvh_start			/* returns the start_info for the runtime */
	movq	%rax, %rsi
	movq	XEN_BOOT_VIRT_BASE + 24, %rax	/* e_entry of the ELF header at VIRT_BASE */
	jmp	*%rax
	.size	xen_pvh_entry, . - xen_pvh_entry

	.bss
	.balign	16
shim_pvh_stack:
	.skip	16384
shim_pvh_stack_top:

/*
 * A vCPU > 0 as PVH (cpu.c): Xen starts it in long mode with flat segments but no GDT or
 * IDT of ours, interrupts off, %rdi = its struct xen_cpu, %rsp = its start stack.
 */
	.text
	.globl	shim_pvh_ap_entry
	.hidden	shim_pvh_ap_entry
shim_pvh_ap_entry:
	cld
	call	shim_pvh_ap_start	/* does not return */
	ud2

	.section .note.GNU-stack, "", @progbits
