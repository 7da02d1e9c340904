/*
 * notes.S: the Xen ELF notes of the standalone test kernel
 * (public/elfnote.h). Go's linker emits the same set for GOOS=xen.
 */
#include <xen/elfnote.h>
#include <xen/features.h>

/* Note header "Xen" + type; the descriptor follows, then XEN_NOTE_END. */
.macro XEN_NOTE type
	.pushsection .note.Xen, "a", @note
	.balign 4
	.long	2f - 1f		/* namesz */
	.long	4f - 3f		/* descsz */
	.long	\type
1:	.asciz	"Xen"
2:	.balign	4
3:
.endm

.macro XEN_NOTE_END
4:	.balign	4
	.popsection
.endm

.macro XEN_NOTE_STR type, str
	XEN_NOTE \type
	.asciz	"\str"
	XEN_NOTE_END
.endm

.macro XEN_NOTE_QUAD type, value
	XEN_NOTE \type
	.quad	\value
	XEN_NOTE_END
.endm

	XEN_NOTE_STR XEN_ELFNOTE_GUEST_OS, "Go"
	XEN_NOTE_STR XEN_ELFNOTE_XEN_VERSION, "xen-3.0"
	XEN_NOTE_STR XEN_ELFNOTE_LOADER, "generic"
	XEN_NOTE_QUAD XEN_ELFNOTE_VIRT_BASE, 0x400000
	XEN_NOTE_QUAD XEN_ELFNOTE_PADDR_OFFSET, 0x400000
	XEN_NOTE_QUAD XEN_ELFNOTE_ENTRY, _rt0_amd64_xen
	XEN_NOTE_QUAD XEN_ELFNOTE_HYPERCALL_PAGE, xen_hypercall_page
	XEN_NOTE_STR XEN_ELFNOTE_FEATURES, "!writable_page_tables|pae_pgdir_above_4gb"
	XEN_NOTE XEN_ELFNOTE_SUPPORTED_FEATURES
	.long	(1 << XENFEAT_dom0)
	XEN_NOTE_END

	.section .note.GNU-stack, "", @progbits
