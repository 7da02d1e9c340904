/*
 * hypercall_page.S: the page Xen fills with hypercall stubs.
 *
 * The HYPERCALL_PAGE ELF note carries this symbol's address; the domain
 * builder writes one 32-byte stub per hypercall number into it before the
 * guest runs. It has its own 4096-aligned executable section so that no
 * linker can move other code into it.
 */
	.section .text.xen_hypercall_page, "ax", @progbits
	.balign 4096
	.globl xen_hypercall_page
	.type xen_hypercall_page, @object
xen_hypercall_page:
	.fill 4096, 1, 0xcc	/* int3 until Xen overwrites it */
	.size xen_hypercall_page, 4096

	.section .note.GNU-stack, "", @progbits
