/*
 * shim.h: internal declarations shared by the shim's C files.
 *
 * Everything declared after the visibility pragma is hidden, so that
 * -fpie code reaches it PC-relative (no GOT). The three symbols Go links
 * against (xen_shim_init, xen_shim_suspend, xen_boot, xen_hypercall_page) carry explicit
 * default visibility.
 */
#ifndef SHIM_H
#define SHIM_H

#ifndef __XEN_INTERFACE_VERSION__
#define __XEN_INTERFACE_VERSION__ 0x00040e00
#endif

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <xen/xen.h>
#include <xen/callback.h>
#include <xen/event_channel.h>
#include <xen/sched.h>
#include <xen/vcpu.h>
#include <xen/io/console.h>

#include "xen_boot.h"

#define SHIM_EXPORT __attribute__((visibility("default")))

void xen_shim_init(start_info_t *si) SHIM_EXPORT;
long xen_shim_suspend(void) SHIM_EXPORT;
long xen_shim_cpu_up(uint32_t id, int fresh) SHIM_EXPORT;
long xen_shim_cpu_down(uint32_t id) SHIM_EXPORT;
extern struct xen_cpu xen_cpus[XEN_MAX_CPUS]; /* runtime: through xen_boot.cpus */

#pragma GCC visibility push(hidden)

#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)

/* The M2P table Xen maps read-only into every 64-bit PV guest. */
#define SHIM_M2P ((const unsigned long *)0xFFFF800000000000UL)

static inline unsigned long pfn_to_va(unsigned long pfn)
{
	return XEN_BOOT_VIRT_BASE + (pfn << PAGE_SHIFT);
}

static inline unsigned long va_to_pfn(unsigned long va)
{
	return (va - XEN_BOOT_VIRT_BASE) >> PAGE_SHIFT;
}

#define barrier() __asm__ __volatile__("" ::: "memory")

/* setup.c */
extern start_info_t *shim_start_info;
extern shared_info_t *shim_shared_info;
void shim_fail(const char *what, long err) __attribute__((noreturn));
void shim_crash(void) __attribute__((noreturn));

/* console.c */
void shim_console_init(start_info_t *si);
void shim_console_write(const char *buf, unsigned long len);
void shim_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* traps.c */
void shim_traps_init(void);

/* events.c */
void shim_events_init(void);
uint32_t shim_events_bind_virq(uint32_t virq);
void shim_events_unmask(uint32_t port);
void shim_events_notify(uint32_t port);

/* time.c */
void shim_cpu_early(void);
void shim_cpu0_init(int restored);
/* The running vCPU's record (the GS base). */
static inline struct xen_cpu *shim_this_cpu(void)
{
	struct xen_cpu *c;

	__asm__ __volatile__("movq %%gs:64, %0" : "=r"(c));
	return c;
}
uint64_t shim_system_time(void);

/* p2m.c */
int shim_p2m_publish(start_info_t *si);

/* mm.c */
void shim_mm_map_shared_info(start_info_t *si);
void shim_mm_unmap_shared_info(void);
void shim_mm_map_all(start_info_t *si);
void shim_mm_protect(void);
int shim_cpu_has_nx(void);
#define SHIM_MAX_SEGMENTS 16
struct pt_segment;
unsigned int shim_image_segments(struct pt_segment *segs, unsigned int max);

/* pvh.c */
extern int shim_pvh;
start_info_t *shim_pvh_start(uint64_t start_info_pa, uint64_t entry_tsc);
void shim_pvh_init(start_info_t *si);
long shim_pvh_suspend(void);

/* The direct-mapped address of frame f of a xenstore or console ring in start_info: PV
 * gives machine frames (through the M2P), PVH guest frames (va = pa). */
static inline unsigned long shim_ring_va(unsigned long f)
{
	return shim_pvh ? f << PAGE_SHIFT : pfn_to_va(SHIM_M2P[f]);
}

#pragma GCC visibility pop

#endif
