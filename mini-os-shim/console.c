/*
 * console.c: early console output.
 *
 * Dom0 writes with HYPERVISOR_console_io(CONSOLEIO_write), which Xen sends
 * to its serial line. A domU writes its PV console ring (public/io/console.h)
 * and notifies the console event channel; xenconsoled drains it. The ring
 * page is found from start_info.console.domU.mfn through the M2P table.
 * shim_printf formats with format.c into a small buffer and writes it here.
 */
#include "shim.h"
#include "hypercall.h"
#include "format.h"

static struct xencons_interface *cons_ring;
static uint32_t cons_port;

void shim_console_init(start_info_t *si)
{
	if (si->flags & SIF_INITDOMAIN)
		return;
	cons_ring = (struct xencons_interface *)shim_ring_va(si->console.domU.mfn);
	cons_port = si->console.domU.evtchn;
	xen_boot.console_ring = (uint64_t)(unsigned long)cons_ring;
	xen_boot.console_port = cons_port;
}

static void ring_write(const char *buf, unsigned long len)
{
	struct xencons_interface *r = cons_ring;
	XENCONS_RING_IDX prod, cons;

	while (len > 0) {
		cons = r->out_cons;
		barrier();
		prod = r->out_prod;
		if (prod - cons >= sizeof(r->out)) {
			/* Full: let xenconsoled run. */
			shim_events_notify(cons_port);
			HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
			continue;
		}
		while (len > 0 && prod - cons < sizeof(r->out)) {
			r->out[MASK_XENCONS_IDX(prod, r->out)] = *buf++;
			prod++;
			len--;
		}
		barrier(); /* data before index (x86 keeps stores in order) */
		r->out_prod = prod;
		shim_events_notify(cons_port);
	}
}

void shim_console_write(const char *buf, unsigned long len)
{
	if (cons_ring)
		ring_write(buf, len);
	else
		HYPERVISOR_console_io(CONSOLEIO_write, len, buf);
}

static void flush_console(struct fmt_sink *s)
{
	shim_console_write(s->buf, s->n);
	s->n = 0;
}

void shim_printf(const char *fmt, ...)
{
	char buf[160];
	struct fmt_sink s;
	va_list ap;

	s.buf = buf;
	s.size = sizeof(buf);
	s.n = 0;
	s.flush = flush_console;
	va_start(ap, fmt);
	shim_vformat(&s, fmt, ap);
	va_end(ap);
	if (s.n)
		flush_console(&s);
}
