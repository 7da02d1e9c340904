/*
 * pvh.c: the PVH platform layer (the same image as PV; pvh_entry.S brings us here).
 *
 * A PVH guest is an HVM container without emulated devices: it runs in ring 0 on its own
 * page tables over guest-physical memory (auto-translated: a frame number is a pfn), takes
 * interrupts through its own IDT and reaches Xen through a hypercall page it asks for by
 * MSR. The shim hides the difference from the runtime where it can:
 *
 *   - memory: va = pa (xen_boot.direct_map = 0). The first 4 MiB stay unmapped (nil
 *     pointers fault, as in PV); the image keeps its link address; the rest of the low 4 GiB
 *     and all RAM above are mapped with 2 MiB pages, the image with 4 KiB pages so that text
 *     is read-only and data no-execute. The tables live in RAM below the image.
 *   - start_info: made up here for the runtime (pvh_si): nr_pages, the command line, the
 *     first boot module as a pfn, and the xenstore and console rings and ports from HVM
 *     params (HVM_PARAM_STORE_PFN, ...), as guest frames.
 *   - events: HVM_PARAM_CALLBACK_IRQ delivers them on a vector whose stub pushes rcx and
 *     r11 as Xen does for a PV upcall and jumps through xen_boot.upcall; masking is
 *     RFLAGS.IF (Xen ignores evtchn_upcall_mask for HVM).
 *   - shared_info: XENMEM_add_to_physmap(XENMAPSPACE_shared_info) over the same .bss page
 *     PV maps it at (mm.c).
 *
 * References: xen/include/public/arch-x86/hvm/start_info.h, hvm/params.h, hvm/hvm_op.h,
 * memory.h; the hypervisor CPUID leaves in arch-x86/cpuid.h.
 */
#include "shim.h"
#include "hypercall.h"
#include "pagetable.h"
#include <xen/memory.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>
#include <xen/arch-x86/hvm/start_info.h>

int shim_pvh;

/* The event callback's vector (any vector above the exceptions; no APIC is involved). */
#define PVH_UPCALL_VECTOR 0xf3

/* Page-table pages: RAM below pvh_entry.S's scratch pages, above the first MiB. */
#define PVH_TABLES_START 0x100000UL
#define PVH_TABLES_END   (XEN_BOOT_VIRT_BASE - 0x10000UL)
/* Nothing is mapped below this: nil pointers and small offsets from them fault. */
#define PVH_LOW_HOLE     XEN_BOOT_VIRT_BASE

#define MSR_EFER 0xc0000080
#define EFER_NXE (1UL << 11)
#define CR0_MP (1UL << 1)
#define CR0_EM (1UL << 2)
#define CR0_TS (1UL << 3)
#define CR0_NE (1UL << 5)
#define CR0_WP (1UL << 16)
#define CR4_OSFXSR (1UL << 9)
#define CR4_OSXMMEXCPT (1UL << 10)

#define PDE_LARGE 0x80UL
#define PVH_LEAF   (PT_PRESENT | PT_RW | PT_ACCESSED | PT_DIRTY)
#define PVH_TABLE  (PT_PRESENT | PT_RW | PT_ACCESSED)
#define SIZE_2M    (2UL << 20)

static start_info_t pvh_si;

/* Flat 64-bit code (0x08) and data (0x10), ring 0. */
static uint64_t pvh_gdt[3] = {0, 0x00af9a000000ffffUL, 0x00cf92000000ffffUL};

struct idt_gate {
	uint16_t off0, sel;
	uint8_t ist, type;
	uint16_t off1;
	uint32_t off2, reserved;
};
static struct idt_gate pvh_idt[256] __attribute__((aligned(16)));

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

static uint64_t pt_next = PVH_TABLES_START;
static uint64_t *pml4;
static uint64_t tables_used;

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ __volatile__("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static inline void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	__asm__ __volatile__("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

static void __attribute__((noreturn)) halt(void)
{
	for (;;)
		__asm__ __volatile__("cli; hlt");
}

/* The hypercall page: Xen writes it when told its address through the MSR its CPUID leaves
 * name (base + 2: EBX). Before that no hypercall, and so no console, works. */
static void hypercall_page_init(void)
{
	uint32_t base, a, b, c, d;

	for (base = 0x40000000; base < 0x40010000; base += 0x100) {
		cpuid(base, &a, &b, &c, &d);
		/* "XenVMMXenVMM" */
		if (b == 0x566e6558 && c == 0x65584d4d && d == 0x4d4d566e && a - base >= 2) {
			cpuid(base + 2, &a, &b, &c, &d);
			wrmsr(b, (uint64_t)(unsigned long)xen_hypercall_page);
			return;
		}
	}
	halt(); /* not on Xen: nobody to tell */
}

static uint64_t hvm_param(uint32_t index)
{
	struct xen_hvm_param p;
	long rc;

	p.domid = DOMID_SELF;
	p.index = index;
	p.value = 0;
	rc = HYPERVISOR_hvm_op(HVMOP_get_param, &p);
	if (rc)
		shim_fail("hvm_op(get_param)", rc);
	return p.value;
}

static void hvm_set_param(uint32_t index, uint64_t value, const char *what)
{
	struct xen_hvm_param p;
	long rc;

	p.domid = DOMID_SELF;
	p.index = index;
	p.value = value;
	rc = HYPERVISOR_hvm_op(HVMOP_set_param, &p);
	if (rc)
		shim_fail(what, rc);
}

/* The xenstore and console rings and ports, as start_info carries them for PV. Also after a
 * restore, when the ports may have changed. */
static void rings_from_params(start_info_t *si)
{
	si->store_mfn = hvm_param(HVM_PARAM_STORE_PFN);
	si->store_evtchn = (uint32_t)hvm_param(HVM_PARAM_STORE_EVTCHN);
	si->console.domU.mfn = hvm_param(HVM_PARAM_CONSOLE_PFN);
	si->console.domU.evtchn = (uint32_t)hvm_param(HVM_PARAM_CONSOLE_EVTCHN);
}

/* The memory map: from the start info (version 1), else from Xen. */
#define MAX_MEMMAP 64
static struct hvm_memmap_table_entry memmap[MAX_MEMMAP];
static unsigned int nr_memmap;

static void memmap_init(const struct hvm_start_info *hsi)
{
	unsigned int i;

	if (hsi->version >= 1 && hsi->memmap_paddr && hsi->memmap_entries) {
		const struct hvm_memmap_table_entry *e =
			(const void *)(unsigned long)hsi->memmap_paddr;

		for (i = 0; i < hsi->memmap_entries && i < MAX_MEMMAP; i++)
			memmap[i] = e[i];
		nr_memmap = i;
		return;
	}
	{
		/* struct e820entry: addr, size (u64), type (u32), packed. */
		static struct __attribute__((packed)) { uint64_t addr, size; uint32_t type; } e820[MAX_MEMMAP];
		struct xen_memory_map map;
		long rc;

		map.nr_entries = MAX_MEMMAP;
		set_xen_guest_handle(map.buffer, e820);
		rc = HYPERVISOR_memory_op(XENMEM_memory_map, &map);
		if (rc)
			shim_fail("memory_op(memory_map)", rc);
		for (i = 0; i < map.nr_entries && i < MAX_MEMMAP; i++) {
			memmap[i].addr = e820[i].addr;
			memmap[i].size = e820[i].size;
			memmap[i].type = e820[i].type;
		}
		nr_memmap = i;
	}
}

/* The RAM entry holding [start, end), or NULL. */
static const struct hvm_memmap_table_entry *ram_holding(uint64_t start, uint64_t end)
{
	unsigned int i;

	for (i = 0; i < nr_memmap; i++)
		if (memmap[i].type == XEN_HVM_MEMMAP_TYPE_RAM && memmap[i].addr <= start &&
		    end <= memmap[i].addr + memmap[i].size)
			return &memmap[i];
	return NULL;
}

static uint64_t *pt_alloc(void)
{
	uint64_t *p = (uint64_t *)pt_next;
	unsigned long dst = pt_next, n = PAGE_SIZE / 8;

	if (pt_next >= PVH_TABLES_END)
		shim_fail("pvh: page tables (no room below the image)", -1);
	pt_next += PAGE_SIZE;
	tables_used++;
	__asm__ __volatile__("rep stosq" : "+D"(dst), "+c"(n) : "a"(0UL) : "memory");
	return p;
}

/* The entry at level (3: PML4 .. 1: PD) for va, with the table below it made if missing. */
static uint64_t *pt_next_level(uint64_t *table, uint64_t va, int shift)
{
	uint64_t *e = &table[(va >> shift) & 511];

	if (!(*e & PT_PRESENT))
		*e = (uint64_t)(unsigned long)pt_alloc() | PVH_TABLE;
	return (uint64_t *)(unsigned long)(*e & PT_ADDR_MASK);
}

static uint64_t *pd_entry(uint64_t va)
{
	uint64_t *pdpt = pt_next_level(pml4, va, 39);
	uint64_t *pd = pt_next_level(pdpt, va, 30);

	return &pd[(va >> 21) & 511];
}

/* Leaf flags of the 4 KiB page at pa, by the image's segments (the rule of pagetable.c's
 * shim_pt_protect: read-only unless a writable segment or none touches it, no-execute
 * unless an executable one does). */
static uint64_t page_flags(uint64_t pa, const struct pt_segment *segs, unsigned int n, uint64_t nx)
{
	int touched = 0, writable = 0, executable = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (segs[i].end <= pa || segs[i].start >= pa + PAGE_SIZE)
			continue;
		touched = 1;
		writable |= segs[i].writable;
		executable |= segs[i].executable;
	}
	if (!touched)
		writable = 1;
	return (PVH_LEAF & ~(writable ? 0 : PT_RW)) | (executable ? 0 : nx);
}

/* Map [PVH_LOW_HOLE, top) at va = pa, switch to it. */
static void page_tables_init(uint64_t top)
{
	struct pt_segment segs[SHIM_MAX_SEGMENTS];
	unsigned int n, i;
	uint64_t nx = 0, img_start = ~0UL, img_end = 0, va, cr0, cr4;

	if (shim_cpu_has_nx()) {
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
		nx = PT_NX;
		xen_boot.flags |= XEN_BOOT_FLAG_NX;
	}
	n = shim_image_segments(segs, SHIM_MAX_SEGMENTS);
	for (i = 0; i < n; i++) {
		if (segs[i].start < img_start)
			img_start = segs[i].start;
		if (segs[i].end > img_end)
			img_end = segs[i].end;
	}
	img_start &= ~(SIZE_2M - 1);
	img_end = (img_end + SIZE_2M - 1) & ~(SIZE_2M - 1);

	pml4 = pt_alloc();
	for (va = PVH_LOW_HOLE; va < top; va += SIZE_2M) {
		uint64_t *pde = pd_entry(va), *pt, pa;

		if (va < img_start || va >= img_end) {
			*pde = va | PVH_LEAF | PDE_LARGE | nx;
			continue;
		}
		pt = pt_alloc();
		for (pa = va; pa < va + SIZE_2M; pa += PAGE_SIZE)
			pt[(pa >> 12) & 511] = pa | page_flags(pa, segs, n, nx);
		*pde = (uint64_t)(unsigned long)pt | PVH_TABLE;
	}

	/* Ring 0 honours read-only pages only with CR0.WP; SSE needs OSFXSR and no EM/TS. */
	__asm__ __volatile__("mov %%cr0, %0" : "=r"(cr0));
	cr0 = (cr0 | CR0_WP | CR0_NE | CR0_MP) & ~(CR0_EM | CR0_TS);
	__asm__ __volatile__("mov %0, %%cr0" ::"r"(cr0));
	__asm__ __volatile__("mov %%cr4, %0" : "=r"(cr4));
	cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
	__asm__ __volatile__("mov %0, %%cr4" ::"r"(cr4));
	__asm__ __volatile__("mov %0, %%cr3" ::"r"((uint64_t)(unsigned long)pml4) : "memory");
}

static void set_gate(unsigned int vec, void *handler)
{
	uint64_t a = (uint64_t)(unsigned long)handler;

	pvh_idt[vec].off0 = (uint16_t)a;
	pvh_idt[vec].sel = 0x08;
	pvh_idt[vec].ist = 0;
	pvh_idt[vec].type = 0x8e; /* present, DPL 0, 64-bit interrupt gate (IF cleared) */
	pvh_idt[vec].off1 = (uint16_t)(a >> 16);
	pvh_idt[vec].off2 = (uint32_t)(a >> 32);
}

extern char shim_pvh_traps[];     /* entry.S: 20 stubs, 16 bytes apart */
extern char shim_pvh_upcall[];    /* entry.S: the callback vector's stub */
extern char shim_pvh_boot_upcall[];

/* Loads the GDT (reloading CS, DS, ES, SS from it) and the IDT on the calling vCPU. */
static void descriptors_load(void)
{
	struct desc_ptr gdtr = {sizeof(pvh_gdt) - 1, (uint64_t)(unsigned long)pvh_gdt};
	struct desc_ptr idtr = {sizeof(pvh_idt) - 1, (uint64_t)(unsigned long)pvh_idt};

	__asm__ __volatile__("lgdt %0\n\t"
			     "pushq $0x08\n\t"
			     "leaq 1f(%%rip), %%rax\n\t"
			     "pushq %%rax\n\t"
			     "lretq\n"
			     "1:\n\t"
			     "movl $0x10, %%eax\n\t"
			     "movl %%eax, %%ds\n\t"
			     "movl %%eax, %%es\n\t"
			     "movl %%eax, %%ss\n\t"
			     :
			     : "m"(gdtr)
			     : "rax", "memory");
	__asm__ __volatile__("lidt %0" ::"m"(idtr));
}

static void descriptors_init(void)
{
	unsigned int v;

	for (v = 0; v < 20; v++)
		set_gate(v, shim_pvh_traps + 16 * v);
	set_gate(PVH_UPCALL_VECTOR, shim_pvh_upcall);
	xen_boot.upcall = (uint64_t)(unsigned long)shim_pvh_boot_upcall;
	descriptors_load();
}

/* A vCPU > 0 (cpu.c started it in long mode on our page tables, interrupts off, on its
 * start stack; pvh_entry.S's shim_pvh_ap_entry calls this with its record): the GDT and
 * IDT vCPU 0 uses, its GS base, then the runtime. */
void __attribute__((noreturn)) shim_pvh_ap_start(struct xen_cpu *c)
{
	uint64_t v = (uint64_t)(unsigned long)c;

	descriptors_load();
	wrmsr(0xc0000101u, v); /* IA32_GS_BASE */
	__asm__ __volatile__("movq %0, %%rdi\n\tjmp *%1" ::"r"(v), "r"(xen_boot.ap_entry) : "rdi");
	__builtin_unreachable();
}

static void copy_cmdline(const struct hvm_start_info *hsi)
{
	const char *src = (const char *)(unsigned long)hsi->cmdline_paddr;
	unsigned int i = 0;

	if (src)
		for (; i < sizeof(pvh_si.cmd_line) - 1 && src[i]; i++)
			pvh_si.cmd_line[i] = src[i];
	pvh_si.cmd_line[i] = 0;
}

static uint64_t max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* Called by pvh_entry.S in long mode on the boot identity map, interrupts off. */
start_info_t *shim_pvh_start(uint64_t hsi_pa, uint64_t entry_tsc)
{
	const struct hvm_start_info *hsi = (const void *)(unsigned long)hsi_pa;
	const struct hvm_memmap_table_entry *ram;
	struct pt_segment segs[SHIM_MAX_SEGMENTS];
	uint64_t used_end = 0, top = 1UL << 32, pages = 0;
	unsigned int i, n;

	shim_pvh = 1;
	shim_cpu_early();
	xen_boot.flags |= XEN_BOOT_FLAG_PVH;
	xen_boot.direct_map = 0;
	xen_boot.entry_tsc = entry_tsc;
	hypercall_page_init();
	rings_from_params(&pvh_si);
	shim_console_init(&pvh_si);
	if (hsi->magic != XEN_HVM_START_MAGIC_VALUE)
		shim_fail("pvh: hvm_start_info magic", (long)hsi->magic);

	/* start_info for the runtime. */
	for (i = 0; i < sizeof(pvh_si.magic) - 1 && "xen-3.0-x86_64-pvh"[i]; i++)
		pvh_si.magic[i] = "xen-3.0-x86_64-pvh"[i];
	copy_cmdline(hsi);
	used_end = max64(hsi_pa + sizeof(*hsi), hsi->cmdline_paddr + sizeof(pvh_si.cmd_line));
	if (hsi->nr_modules && hsi->modlist_paddr) {
		const struct hvm_modlist_entry *m = (const void *)(unsigned long)hsi->modlist_paddr;

		pvh_si.mod_start = m[0].paddr >> PAGE_SHIFT;
		pvh_si.mod_len = m[0].size;
		pvh_si.flags |= SIF_MOD_START_PFN;
		used_end = max64(used_end, hsi->modlist_paddr + hsi->nr_modules * sizeof(*m));
		for (i = 0; i < hsi->nr_modules; i++)
			used_end = max64(used_end, m[i].paddr + m[i].size);
	}
	n = shim_image_segments(segs, SHIM_MAX_SEGMENTS);
	if (n == 0)
		shim_fail("pvh: no ELF header at VIRT_BASE", -1);
	for (i = 0; i < n; i++)
		used_end = max64(used_end, segs[i].end);

	memmap_init(hsi);
	if (hsi->version >= 1 && hsi->memmap_paddr)
		used_end = max64(used_end, hsi->memmap_paddr + hsi->memmap_entries * sizeof(memmap[0]));
	for (i = 0; i < nr_memmap; i++) {
		if (memmap[i].type != XEN_HVM_MEMMAP_TYPE_RAM)
			continue;
		pages += memmap[i].size >> PAGE_SHIFT;
		top = max64(top, (memmap[i].addr + memmap[i].size + SIZE_2M - 1) & ~(SIZE_2M - 1));
	}
	pvh_si.nr_pages = pages;
	if (!ram_holding(PVH_TABLES_START, XEN_BOOT_VIRT_BASE))
		shim_fail("pvh: no RAM below the image for the page tables", -1);

	/* The heap: from the first page above everything loaded to the end of that RAM entry,
	 * cut short by any other entry inside it (the runtime gives the part below its first
	 * 4 MiB arena to its metadata, runtime/mem_xen.go). Used at va = pa: a second mapping
	 * at a 4 MiB boundary, as PV's heap window, would give the arenas that part too, but it
	 * lost writes across `xl migrate` under load on the test bed (2026-12-05, kvstore's GC
	 * found pointers to freed objects on the target in 6 runs of 8, with 4 KiB and with
	 * 2 MiB pages; va = pa never; save/restore was intact either way; cause not found). */
	xen_boot.heap_start = (used_end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	ram = ram_holding(xen_boot.heap_start, xen_boot.heap_start + PAGE_SIZE);
	if (!ram)
		shim_fail("pvh: no RAM above the image for the heap", -1);
	xen_boot.heap_end = ram->addr + ram->size;
	for (i = 0; i < nr_memmap; i++)
		if (&memmap[i] != ram && memmap[i].addr > xen_boot.heap_start &&
		    memmap[i].addr < xen_boot.heap_end)
			xen_boot.heap_end = memmap[i].addr;
	xen_boot.heap_end &= ~(PAGE_SIZE - 1);
	xen_boot.heap_pfn = xen_boot.heap_start >> PAGE_SHIFT;

	page_tables_init(top);
	descriptors_init();
	return &pvh_si;
}

/* xen_shim_init's PVH half, on Go's boot stack: shared_info, the callback vector, timer. */
void shim_pvh_init(start_info_t *si)
{
	shim_start_info = si;
	xen_boot.start_info = (uint64_t)(unsigned long)si;
	shim_mm_map_shared_info(si);
	hvm_set_param(HVM_PARAM_CALLBACK_IRQ,
		      ((uint64_t)HVM_PARAM_CALLBACK_TYPE_VECTOR << 56) | PVH_UPCALL_VECTOR,
		      "hvm_op(set_param CALLBACK_IRQ)");
	shim_cpu0_init(0);
	shim_printf("xen: shim: pvh, %lu pages, heap %#lx-%#lx, %lu page-table pages, nx %s\n",
		    si->nr_pages, (unsigned long)xen_boot.heap_start,
		    (unsigned long)xen_boot.heap_end, (unsigned long)tables_used,
		    (xen_boot.flags & XEN_BOOT_FLAG_NX) ? "on" : "unavailable");
}

/* The suspend hypercall as PVH makes it (no start_info frame), and what a new domain needs
 * again: shared_info, the callback vector, the timer's VIRQ, the console's ring and port. */
long shim_pvh_suspend(void)
{
	struct sched_shutdown sd;
	long rc;

	sd.reason = SHUTDOWN_suspend;
	rc = HYPERVISOR_sched_op(SCHEDOP_shutdown, &sd);
	if (rc != 0)
		return rc;
	shim_mm_map_shared_info(shim_start_info);
	hvm_set_param(HVM_PARAM_CALLBACK_IRQ,
		      ((uint64_t)HVM_PARAM_CALLBACK_TYPE_VECTOR << 56) | PVH_UPCALL_VECTOR,
		      "hvm_op(set_param CALLBACK_IRQ)");
	rings_from_params(shim_start_info);
	shim_console_init(shim_start_info);
	shim_cpu0_init(1);
	shim_events_unmask(shim_start_info->console.domU.evtchn);
	shim_events_notify(shim_start_info->console.domU.evtchn);
	return 0;
}
