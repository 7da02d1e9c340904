/*
 * rt0.S: stand-in for Go's _rt0_amd64_xen, for the standalone shim test.
 * Xen enters here with %rsi = start_info; like Go's rt0 we move to our own
 * 64 KiB boot stack, call xen_shim_init(si), then run test_main(si).
 */
	.text
	.globl _rt0_amd64_xen
_rt0_amd64_xen:
	leaq	boot_stack_top(%rip), %rsp
	movq	%rsi, %rbx
	movq	%rsi, %rdi
	call	xen_shim_init
	movq	%rbx, %rdi
	call	test_main
	ud2

/* Entered "as if called" from the faulting pc by the shim's fault redirect. */
	.globl test_fault_entry
test_fault_entry:
	andq	$-16, %rsp
	call	test_after_fault
	ud2

	.bss
	.balign 16
boot_stack:
	.skip	65536
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
