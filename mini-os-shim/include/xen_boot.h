/*
 * xen_boot.h: the record the boot shim hands to the Go runtime.
 *
 * The shim's xen_shim_init() fills `xen_boot` before Go's rt0 runs; the
 * runtime reads it by byte offset (go-xen mirrors the offsets below), so
 * every field has a fixed offset, checked at compile time. Only append.
 * Virtual addresses follow the boot layout: pfn N lives at
 * XEN_BOOT_VIRT_BASE + N * 4096.
 */
#ifndef XEN_BOOT_H
#define XEN_BOOT_H

#define XEN_BOOT_VIRT_BASE 0x400000UL

#define XEN_BOOT_FLAG_DOM0 (1u << 0) /* start_info.flags has SIF_INITDOMAIN */
#define XEN_BOOT_FLAG_NX   (1u << 1) /* the heap is mapped no-execute (the CPU has NX) */
#define XEN_BOOT_FLAG_PVH  (1u << 2) /* booted as PVH (pvh.c): ring 0, auto-translated, direct map va = pa */
#define XEN_MAX_CPUS 16              /* vCPUs the shim and runtime serve (more are left offline) */

#ifndef __ASSEMBLER__
#include <stddef.h>
#include <stdint.h>
#include <xen/xen.h>

/* Filled by the trap handler for the most recent fault. */
struct xen_fault {
	uint64_t vector;     /* exception vector, 0-19 */
	uint64_t error_code; /* hardware error code, 0 when the vector has none */
	uint64_t rip;        /* faulting instruction */
	uint64_t rsp;        /* stack pointer at the fault */
	uint64_t cr2;        /* faulting address (vector 14 only, else 0) */
	uint64_t nesting;    /* >0 while Go's fault_handler runs; Go resets it to 0 */
};

struct xen_boot {
	uint64_t start_info;      /*  0: va of start_info_t */
	uint64_t shared_info;     /*  8: va of the mapped shared_info page */
	uint64_t heap_start;      /* 16: the heap window: free pages, 4 MiB-aligned va */
	uint64_t heap_end;        /* 24: its end (exclusive) */
	uint32_t timer_port;      /* 32: event channel bound to VIRQ_TIMER, vcpu 0 */
	uint32_t flags;           /* 36: XEN_BOOT_FLAG_* */
	uint64_t console_ring;    /* 40: domU: va of struct xencons_interface; 0 for dom0 */
	uint32_t console_port;    /* 48: domU console event channel */
	uint32_t reserved;        /* 52 */
	uint64_t fault_handler;   /* 56: set by Go; 0 = dump registers and crash */
	struct xen_fault fault;   /* 64: see struct xen_fault */
	uint64_t upcall_count;    /* 112: event upcalls taken (incremented by the callback) */
	uint64_t fault_events;    /* 120: 1 if events were enabled where the fault hit; the
				   * redirect into fault_handler runs with events masked (so the
				   * fault record is not overwritten by another thread's fault)
				   * and Go re-enables them once it has copied the record */
	uint64_t heap_pfn;        /* 128: the pfn mapped at heap_start (the heap window maps
				   * pfns heap_pfn.. contiguously; see mm.c) */
	uint64_t direct_map;      /* 136: va of pfn 0: XEN_BOOT_VIRT_BASE (PV), 0 (PVH) */
	uint64_t upcall;          /* 144: PVH: where the callback vector's stub jumps, with
				   * rcx and r11 pushed as Xen pushes them for a PV upcall (Go
				   * sets it; the shim's own handler until then) */
	uint64_t entry_tsc;       /* 152: PVH: the TSC at the first instruction (the 32-bit
				   * entry), for the boot timeline; 0 for PV */
	uint64_t cpus;            /* 160: va of xen_cpus[XEN_MAX_CPUS] (struct xen_cpu) */
	uint32_t nr_cpus;         /* 168: the domain's vCPUs the shim serves (cpu.c) */
	uint32_t reserved2;       /* 172 */
	uint64_t ap_entry;        /* 176: where a started vCPU > 0 goes, events masked, on its
				   * struct xen_cpu's GS base (Go sets it) */
};

_Static_assert(offsetof(struct xen_boot, start_info) == 0, "start_info");
_Static_assert(offsetof(struct xen_boot, shared_info) == 8, "shared_info");
_Static_assert(offsetof(struct xen_boot, heap_start) == 16, "heap_start");
_Static_assert(offsetof(struct xen_boot, heap_end) == 24, "heap_end");
_Static_assert(offsetof(struct xen_boot, timer_port) == 32, "timer_port");
_Static_assert(offsetof(struct xen_boot, flags) == 36, "flags");
_Static_assert(offsetof(struct xen_boot, console_ring) == 40, "console_ring");
_Static_assert(offsetof(struct xen_boot, console_port) == 48, "console_port");
_Static_assert(offsetof(struct xen_boot, reserved) == 52, "reserved");
_Static_assert(offsetof(struct xen_boot, fault_handler) == 56, "fault_handler");
_Static_assert(offsetof(struct xen_boot, fault) == 64, "fault");
_Static_assert(offsetof(struct xen_boot, fault.vector) == 64, "fault.vector");
_Static_assert(offsetof(struct xen_boot, fault.error_code) == 72, "fault.error_code");
_Static_assert(offsetof(struct xen_boot, fault.rip) == 80, "fault.rip");
_Static_assert(offsetof(struct xen_boot, fault.rsp) == 88, "fault.rsp");
_Static_assert(offsetof(struct xen_boot, fault.cr2) == 96, "fault.cr2");
_Static_assert(offsetof(struct xen_boot, fault.nesting) == 104, "fault.nesting");
_Static_assert(offsetof(struct xen_boot, upcall_count) == 112, "upcall_count");
_Static_assert(offsetof(struct xen_boot, fault_events) == 120, "fault_events");
_Static_assert(offsetof(struct xen_boot, heap_pfn) == 128, "heap_pfn");
_Static_assert(offsetof(struct xen_boot, direct_map) == 136, "direct_map");
_Static_assert(offsetof(struct xen_boot, upcall) == 144, "upcall");
_Static_assert(offsetof(struct xen_boot, entry_tsc) == 152, "entry_tsc");
_Static_assert(offsetof(struct xen_boot, cpus) == 160, "cpus");
_Static_assert(offsetof(struct xen_boot, nr_cpus) == 168, "nr_cpus");
_Static_assert(offsetof(struct xen_boot, ap_entry) == 176, "ap_entry");
_Static_assert(sizeof(struct xen_boot) == 184, "size");

/*
 * One per vCPU (cpu.c). The GS base points at it (set_segment_base SEGBASE_GS_KERNEL for
 * PV, the GS base MSR for PVH), so that one instruction reaches the running vCPU's record
 * however the thread that runs it moves between vCPUs: the vcpu_info Xen writes for this
 * vCPU comes first (VCPUOP_register_vcpu_info, xen/include/public/vcpu.h), which makes the
 * event mask %gs:1. The fault record of xen_boot moved here (a fault per vCPU at a time).
 */
struct xen_cpu {
	struct vcpu_info vcpu_info; /*   0: registered with Xen (64 bytes, one cache line) */
	uint64_t self;              /*  64: va of this record */
	uint64_t go;                /*  72: the runtime's per-vCPU record (Go sets it) */
	uint64_t trap_stack_top;    /*  80: this vCPU's trap stack (entry.S) */
	uint64_t scratch;           /*  88: the trap entry's spill slot */
	uint32_t id;                /*  96: vCPU id */
	uint32_t timer_port;        /* 100: VIRQ_TIMER bound to this vCPU */
	uint32_t ipi_port;          /* 104: an IPI port bound to this vCPU (EVTCHNOP_bind_ipi) */
	uint32_t in_trap;           /* 108: a fault is being handled on this vCPU */
	struct xen_fault fault;     /* 112: see struct xen_fault */
	uint64_t fault_events;      /* 160: as xen_boot.fault_events was */
	uint64_t reserved[3];       /* 168 */
} __attribute__((aligned(64)));
_Static_assert(offsetof(struct xen_cpu, self) == 64, "xen_cpu.self");
_Static_assert(offsetof(struct xen_cpu, go) == 72, "xen_cpu.go");
_Static_assert(offsetof(struct xen_cpu, trap_stack_top) == 80, "xen_cpu.trap_stack_top");
_Static_assert(offsetof(struct xen_cpu, scratch) == 88, "xen_cpu.scratch");
_Static_assert(offsetof(struct xen_cpu, id) == 96, "xen_cpu.id");
_Static_assert(offsetof(struct xen_cpu, fault) == 112, "xen_cpu.fault");
_Static_assert(offsetof(struct xen_cpu, fault_events) == 160, "xen_cpu.fault_events");
_Static_assert(sizeof(struct xen_cpu) == 192, "xen_cpu size");

extern struct xen_boot xen_boot __attribute__((visibility("default")));
#endif /* !__ASSEMBLER__ */

/* Offsets for assembly (entry.S). */
#define XEN_BOOT_OFF_FLAGS 36
#define XEN_BOOT_OFF_FAULT_HANDLER 56
#define XEN_BOOT_OFF_UPCALL_COUNT 112
#define XEN_BOOT_OFF_UPCALL 144
#define XEN_BOOT_OFF_ENTRY_TSC 152
#define XEN_BOOT_OFF_AP_ENTRY 176
#define XEN_CPU_OFF_SELF 64
#define XEN_CPU_OFF_TRAP_STACK_TOP 80
#define XEN_CPU_OFF_SCRATCH 88

#endif
