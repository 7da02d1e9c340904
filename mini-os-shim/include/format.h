/*
 * format.h: the shim's small printf engine, portable (no Xen calls), so the
 * host tests can drive it. Conversions: %s %c %d %i %u %x %p %%, flags '#'
 * (0x prefix for %x) and '0', a field width, length 'l'/'ll'/'z'.
 */
#ifndef SHIM_FORMAT_H
#define SHIM_FORMAT_H

#include <stdarg.h>

#pragma GCC visibility push(hidden)

struct fmt_sink {
	char *buf;
	unsigned int size;
	unsigned int n;
	/* called when buf is full; must empty it (n = 0). NULL: drop what does not fit */
	void (*flush)(struct fmt_sink *s);
};

void shim_vformat(struct fmt_sink *s, const char *fmt, va_list ap);

#pragma GCC visibility pop

#endif
