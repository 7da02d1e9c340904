/*
 * traps.c: the trap table and the C side of fault handling.
 *
 * A fault either becomes a call into Go's handler (xen_boot.fault_handler,
 * first fault only, from kernel context) or a register dump on the console
 * followed by SCHEDOP_shutdown(SHUTDOWN_crash). The asm stubs (entry.S)
 * have already moved to the trap stack and built a shim_trap_frame.
 */
#include "shim.h"
#include "hypercall.h"

/* Layout pushed by entry.S trap_common, lowest address first. */
struct shim_trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rdi, rsi, rbp, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss; /* iretq frame */
};

_Static_assert(offsetof(struct shim_trap_frame, vector) == 15 * 8, "frame layout");
_Static_assert(sizeof(struct shim_trap_frame) == 22 * 8, "frame size");

void shim_trap(struct shim_trap_frame *f);
void shim_failsafe(uint64_t *frame) __attribute__((noreturn));

/* entry.S */
#define STUB(n) extern char shim_trap_##n[];
STUB(0) STUB(1) STUB(2) STUB(3) STUB(4) STUB(5) STUB(6) STUB(7) STUB(8) STUB(9)
STUB(10) STUB(11) STUB(12) STUB(13) STUB(14) STUB(15) STUB(16) STUB(17) STUB(18) STUB(19)
#undef STUB

#define NR_TRAPS 20

static const char *const trap_names[NR_TRAPS] = {
	"divide error", "debug", "nmi", "int3", "overflow", "bounds",
	"invalid opcode", "device not available", "double fault",
	"coprocessor segment overrun", "invalid TSS", "segment not present",
	"stack segment", "general protection", "page fault", "spurious interrupt",
	"x87 floating point", "alignment check", "machine check", "SIMD floating point",
};

static trap_info_t trap_table[NR_TRAPS + 1];

/* RFLAGS.IF in a frame Xen saved: events were enabled (upcall mask clear). */
#define X86_EFLAGS_IF_BIT (1UL << 9)

/* Flag bit 2: mask events on entry (so cr2 in vcpu_info stays valid). */
#define TI_MASK_EVENTS 4

static void set_trap(int i, int dpl, char *handler)
{
	trap_table[i].vector = (uint8_t)i;
	trap_table[i].flags = (uint8_t)(dpl | TI_MASK_EVENTS);
	trap_table[i].cs = FLAT_KERNEL_CS;
	trap_table[i].address = (unsigned long)handler;
}

void shim_traps_init(void)
{
	long rc;

	/* Filled at run time: the addresses are PC-relative leas, no data relocations. */
	set_trap(0, 0, shim_trap_0);
	set_trap(1, 0, shim_trap_1);
	set_trap(2, 0, shim_trap_2);
	set_trap(3, 3, shim_trap_3);
	set_trap(4, 3, shim_trap_4);
	set_trap(5, 3, shim_trap_5);
	set_trap(6, 0, shim_trap_6);
	set_trap(7, 0, shim_trap_7);
	set_trap(8, 0, shim_trap_8);
	set_trap(9, 0, shim_trap_9);
	set_trap(10, 0, shim_trap_10);
	set_trap(11, 0, shim_trap_11);
	set_trap(12, 0, shim_trap_12);
	set_trap(13, 0, shim_trap_13);
	set_trap(14, 0, shim_trap_14);
	set_trap(15, 0, shim_trap_15);
	set_trap(16, 0, shim_trap_16);
	set_trap(17, 0, shim_trap_17);
	set_trap(18, 0, shim_trap_18);
	set_trap(19, 0, shim_trap_19);
	/* trap_table[NR_TRAPS] stays zero: the terminator. */
	rc = HYPERVISOR_set_trap_table(trap_table);
	if (rc)
		shim_fail("set_trap_table", rc);
}

/* The same table in a new vCPU's context (cpu.c): trap_ctxt is indexed by vector. */
void shim_traps_fill(struct trap_info *table)
{
	int i;

	for (i = 0; i < NR_TRAPS; i++)
		table[i] = trap_table[i];
}

static uint64_t fault_cr2(uint64_t vector)
{
	uint64_t cr2;

	if (vector != 14)
		return 0;
	if (shim_pvh) {
		/* Ring 0 on its own IDT: the CPU's cr2 (interrupts stay off until it is read). */
		__asm__ __volatile__("mov %%cr2, %0" : "=r"(cr2));
		return cr2;
	}
	return shim_this_cpu()->vcpu_info.arch.cr2;
}

static void dump(struct shim_trap_frame *f, uint64_t cr2, struct xen_cpu *c)
{
	const char *name = f->vector < NR_TRAPS ? trap_names[f->vector] : "unknown";

	shim_printf("xen: fault: %s (vector %lu) error %#lx on vCPU %u\n", name,
		    (unsigned long)f->vector, (unsigned long)f->error_code, c->id);
	shim_printf("rip %016lx rsp %016lx cr2 %016lx\n", f->rip, f->rsp, cr2);
	shim_printf("rflags %016lx cs %04lx ss %04lx nesting %lu\n", f->rflags,
		    f->cs & 0xffff, f->ss & 0xffff, (unsigned long)c->fault.nesting);
	shim_printf("rax %016lx rbx %016lx rcx %016lx\n", f->rax, f->rbx, f->rcx);
	shim_printf("rdx %016lx rsi %016lx rdi %016lx\n", f->rdx, f->rsi, f->rdi);
	shim_printf("rbp %016lx r8  %016lx r9  %016lx\n", f->rbp, f->r8, f->r9);
	shim_printf("r10 %016lx r11 %016lx r12 %016lx\n", f->r10, f->r11, f->r12);
	shim_printf("r13 %016lx r14 %016lx r15 %016lx\n", f->r13, f->r14, f->r15);
}

void shim_trap(struct shim_trap_frame *f)
{
	struct xen_cpu *c = shim_this_cpu();
	uint64_t cr2;

	if (c->in_trap) {
		/* Fault while handling a fault: the trap stack is no longer trustworthy. */
		shim_printf("xen: fault: vector %lu at %lx while handling a fault\n",
			    (unsigned long)f->vector, f->rip);
		shim_crash();
	}
	c->in_trap = 1;

	cr2 = fault_cr2(f->vector);
	c->fault.vector = f->vector;
	c->fault.error_code = f->error_code;
	c->fault.rip = f->rip;
	c->fault.rsp = f->rsp;
	c->fault.cr2 = cr2;

	/* Kernel context: Xen cleared the RPL of the saved CS. */
	if (xen_boot.fault_handler != 0 && c->fault.nesting == 0 && (f->cs & 3) == 0) {
		c->fault.nesting++;
		/* Make it look as if the faulting pc called the handler. */
		f->rsp -= 8;
		*(uint64_t *)f->rsp = f->rip;
		f->rip = xen_boot.fault_handler;
		/* Resume with events masked (HYPERVISOR_iret takes the mask from IF): the
		 * thread stays on this vCPU, whose record it reads, until Go has copied it. */
		c->fault_events = (f->rflags & X86_EFLAGS_IF_BIT) != 0;
		f->rflags &= ~X86_EFLAGS_IF_BIT;
		c->in_trap = 0;
		return;
	}

	dump(f, cr2, c);
	shim_crash();
}

void shim_failsafe(uint64_t *frame)
{
	/* frame: RCX, R11, DS, ES, FS, GS, RIP, CS, RFLAGS, RSP, SS */
	shim_this_cpu()->in_trap = 1;
	shim_printf("xen: failsafe callback: rip %016lx cs %04lx rsp %016lx ss %04lx\n",
		    frame[6], frame[7] & 0xffff, frame[9], frame[10] & 0xffff);
	shim_printf("ds %04lx es %04lx fs %04lx gs %04lx\n", frame[2] & 0xffff,
		    frame[3] & 0xffff, frame[4] & 0xffff, frame[5] & 0xffff);
	shim_crash();
}
