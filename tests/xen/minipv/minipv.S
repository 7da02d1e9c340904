/*
 * minipv: a tiny 64-bit PV kernel that tests the tier-2 runner (goxen.xenrun) without Go.
 *
 * Booted as dom0, it prints "minipv: start", then acts on the first character of its command
 * line; the text from the third character on (after "X ") is printed as one console line first:
 *   e  print the text, then SCHEDOP_shutdown(poweroff)   ("e exit status 3" mimics a Go exit)
 *   c  print the text, then SCHEDOP_shutdown(crash)
 *   r  print the text, then SCHEDOP_shutdown(reboot)
 *   f  print the text, then write to an unmapped address (no trap table: Xen crashes the domain)
 *   s  print the text, then SCHEDOP_block forever (idle: the vCPU sleeps in Xen)
 *   b  print the text, then spin forever (busy: QEMU burns CPU)
 * Anything else prints "minipv: unknown action" and crashes.
 *
 * ABI (Xen public headers, xen/elfnote.h, xen/xen.h, xen/sched.h): ELF notes of name "Xen";
 * entry with %rsi = start_info, whose cmd_line is at offset 128; hypercall N is a call to
 * hypercall_page + 32*N with arguments in %rdi, %rsi, %rdx.
 */

#define NOTE_ENTRY              1
#define NOTE_HYPERCALL_PAGE     2
#define NOTE_VIRT_BASE          3
#define NOTE_PADDR_OFFSET       4
#define NOTE_XEN_VERSION        5
#define NOTE_GUEST_OS           6
#define NOTE_LOADER             8
#define NOTE_FEATURES           10
#define NOTE_SUPPORTED_FEATURES 17
#define XENFEAT_dom0            11

#define HYPERVISOR_console_io   18
#define HYPERVISOR_sched_op     29
#define CONSOLEIO_write         0
#define SCHEDOP_block           1
#define SCHEDOP_shutdown        2
#define SHUTDOWN_poweroff       0
#define SHUTDOWN_reboot         1
#define SHUTDOWN_crash          3

#define START_INFO_CMD_LINE     128
#define BASE                    0x400000

/* One note: namesz 4, descsz, type, "Xen\0", then the descriptor, padded to 4 bytes. */
#define XEN_NOTE(type, desc) \
	.balign 4; .long 4, 2f - 1f, type; .asciz "Xen"; 1: desc; 2: .balign 4

	.section .note.Xen, "a", @note
	XEN_NOTE(NOTE_GUEST_OS, .asciz "minipv")
	XEN_NOTE(NOTE_XEN_VERSION, .asciz "xen-3.0")
	XEN_NOTE(NOTE_LOADER, .asciz "generic")
	XEN_NOTE(NOTE_VIRT_BASE, .quad BASE)
	XEN_NOTE(NOTE_PADDR_OFFSET, .quad BASE)
	XEN_NOTE(NOTE_ENTRY, .quad _start)
	XEN_NOTE(NOTE_HYPERCALL_PAGE, .quad hypercall_page)
	XEN_NOTE(NOTE_FEATURES, .asciz "!writable_page_tables")
	XEN_NOTE(NOTE_SUPPORTED_FEATURES, .long (1 << XENFEAT_dom0))

	.text
	.globl _start
_start:
	lea stack_top(%rip), %rsp
	lea START_INFO_CMD_LINE(%rsi), %rbx	/* %rbx = command line */
	lea msg_start(%rip), %rdi
	call puts
	movzbl (%rbx), %r12d			/* %r12 = action */
	/* The text starts after "X "; an action letter alone has no text. */
	lea 2(%rbx), %r13
	cmpb $0, 1(%rbx)
	jne 1f
	lea 1(%rbx), %r13
1:	cmp $'e', %r12d
	je act_text
	cmp $'c', %r12d
	je act_text
	cmp $'r', %r12d
	je act_text
	cmp $'f', %r12d
	je act_text
	cmp $'s', %r12d
	je act_text
	cmp $'b', %r12d
	je act_text
	lea msg_unknown(%rip), %rdi
	call puts
	mov $SHUTDOWN_crash, %edi
	jmp shutdown

act_text:
	cmpb $0, (%r13)
	je 2f
	mov %r13, %rdi
	call puts
	lea msg_nl(%rip), %rdi
	call puts
2:	cmp $'e', %r12d
	je act_poweroff
	cmp $'c', %r12d
	je act_crash
	cmp $'r', %r12d
	je act_reboot
	cmp $'f', %r12d
	je act_fault
	cmp $'s', %r12d
	je act_sleep
busy:
	jmp busy

act_poweroff:
	mov $SHUTDOWN_poweroff, %edi
	jmp shutdown
act_crash:
	mov $SHUTDOWN_crash, %edi
	jmp shutdown
act_reboot:
	mov $SHUTDOWN_reboot, %edi
	jmp shutdown
act_fault:
	movabs $0x7ff000000000, %rax
	movq $1, (%rax)
	jmp act_crash
act_sleep:
	mov $SCHEDOP_block, %edi
	xor %esi, %esi
	call hypercall_page + 32 * HYPERVISOR_sched_op
	jmp act_sleep

/* shutdown(%edi = reason): SCHEDOP_shutdown(&sched_shutdown{reason}); never returns. */
shutdown:
	mov %edi, shutdown_reason(%rip)
	mov $SCHEDOP_shutdown, %edi
	lea shutdown_reason(%rip), %rsi
	call hypercall_page + 32 * HYPERVISOR_sched_op
	jmp busy

/* puts(%rdi = NUL-terminated string): CONSOLEIO_write(len, buf). */
puts:
	mov %rdi, %rdx
	xor %esi, %esi
3:	cmpb $0, (%rdi, %rsi)
	je 4f
	inc %rsi
	jmp 3b
4:	mov $CONSOLEIO_write, %edi
	call hypercall_page + 32 * HYPERVISOR_console_io
	ret

	.balign 4096
	.globl hypercall_page
hypercall_page:
	.skip 4096

	.section .rodata
msg_start:	.asciz "minipv: start\n"
msg_unknown:	.asciz "minipv: unknown action\n"
msg_nl:		.asciz "\n"

	.bss
	.balign 16
shutdown_reason:
	.long 0
	.balign 16
	.skip 16384
stack_top:
	.section .note.GNU-stack, "", @progbits
