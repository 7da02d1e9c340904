/*
 * format.c: printf engine for the shim's console output (see include/format.h).
 * Portable C: no Xen calls, tested on the host.
 */
#include "format.h"

static void out_char(struct fmt_sink *s, char c)
{
	if (s->n == s->size) {
		if (!s->flush)
			return;
		s->flush(s);
	}
	s->buf[s->n++] = c;
}

static void out_num(struct fmt_sink *s, unsigned long v, unsigned int base, int neg,
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
			out_char(s, ' ');
	if (neg)
		out_char(s, '-');
	if (prefix) {
		out_char(s, prefix[0]);
		out_char(s, prefix[1]);
	}
	for (; w < width; w++)
		out_char(s, '0');
	while (i > 0)
		out_char(s, tmp[--i]);
}

void shim_vformat(struct fmt_sink *s, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		int alt = 0, width = 0, lng = 0;
		char pad = ' ';

		if (*fmt != '%') {
			out_char(s, *fmt);
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
			const char *str = va_arg(ap, const char *);

			if (!str)
				str = "(null)";
			while (*str)
				out_char(s, *str++);
			break;
		}
		case 'c':
			out_char(s, (char)va_arg(ap, int));
			break;
		case 'd':
		case 'i': {
			long v = lng ? va_arg(ap, long) : va_arg(ap, int);
			unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;

			out_num(s, u, 10, v < 0, width, pad, 0);
			break;
		}
		case 'u':
			out_num(s, lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int),
				10, 0, width, pad, 0);
			break;
		case 'x':
			out_num(s, lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int),
				16, 0, width, pad, alt ? "0x" : 0);
			break;
		case 'p':
			out_num(s, (unsigned long)va_arg(ap, void *), 16, 0, width, pad, "0x");
			break;
		case '%':
			out_char(s, '%');
			break;
		case '\0':
			return;
		default:
			out_char(s, '%');
			out_char(s, *fmt);
			break;
		}
	}
}
