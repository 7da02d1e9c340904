/*
 * console.c: early console output and a small formatter.
 *
 * Dom0 writes with HYPERVISOR_console_io(CONSOLEIO_write), which Xen sends
 * to its serial line. A domU writes its PV console ring (public/io/console.h)
 * and notifies the console event channel; xenconsoled drains it. The ring
 * page is found from start_info.console.domU.mfn through the M2P table.
 */
#include "shim.h"
#include "hypercall.h"

static struct xencons_interface *cons_ring;
static uint32_t cons_port;

void shim_console_init(start_info_t *si)
{
	if (si->flags & SIF_INITDOMAIN)
		return;
	cons_ring = (struct xencons_interface *)pfn_to_va(SHIM_M2P[si->console.domU.mfn]);
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

/* Formatter: %s %c %d %i %u %x %p %%, flags '#' '0', width, 'l'/'ll'/'z'. */

struct outbuf {
	char buf[160];
	unsigned int n;
};

static void out_flush(struct outbuf *o)
{
	if (o->n) {
		shim_console_write(o->buf, o->n);
		o->n = 0;
	}
}

static void out_char(struct outbuf *o, char c)
{
	if (o->n == sizeof(o->buf))
		out_flush(o);
	o->buf[o->n++] = c;
}

static void out_num(struct outbuf *o, unsigned long v, unsigned int base, int neg,
		    int width, char pad, const char *prefix)
{
	char tmp[24];
	int i = 0, w;

	do {
		tmp[i++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	w = i + neg + (prefix ? 2 : 0);
	if (pad == ' ')
		for (; w < width; w++)
			out_char(o, ' ');
	if (neg)
		out_char(o, '-');
	if (prefix) {
		out_char(o, prefix[0]);
		out_char(o, prefix[1]);
	}
	for (; w < width; w++)
		out_char(o, '0');
	while (i > 0)
		out_char(o, tmp[--i]);
}

static void vformat(struct outbuf *o, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		int alt = 0, width = 0, lng = 0;
		char pad = ' ';

		if (*fmt != '%') {
			out_char(o, *fmt);
			continue;
		}
		fmt++;
		if (*fmt == '#') {
			alt = 1;
			fmt++;
		}
		if (*fmt == '0') {
			pad = '0';
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l' || *fmt == 'z') {
			lng = 1;
			fmt++;
		}
		switch (*fmt) {
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			while (*s)
				out_char(o, *s++);
			break;
		}
		case 'c':
			out_char(o, (char)va_arg(ap, int));
			break;
		case 'd':
		case 'i': {
			long v = lng ? va_arg(ap, long) : va_arg(ap, int);
			unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;
			out_num(o, u, 10, v < 0, width, pad, NULL);
			break;
		}
		case 'u':
			out_num(o, lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int),
				10, 0, width, pad, NULL);
			break;
		case 'x':
			out_num(o, lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int),
				16, 0, width, pad, alt ? "0x" : NULL);
			break;
		case 'p':
			out_num(o, (unsigned long)va_arg(ap, void *), 16, 0, width, pad, "0x");
			break;
		case '%':
			out_char(o, '%');
			break;
		case '\0':
			return;
		default:
			out_char(o, '%');
			out_char(o, *fmt);
			break;
		}
	}
}

void shim_printf(const char *fmt, ...)
{
	struct outbuf o;
	va_list ap;

	o.n = 0;
	va_start(ap, fmt);
	vformat(&o, fmt, ap);
	va_end(ap);
	out_flush(&o);
}
