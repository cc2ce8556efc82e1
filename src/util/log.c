#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static void vlog(const char *level, const char *fmt, va_list ap)
{
	/* One fprintf per line keeps lines from different threads whole. */
	char buf[1024];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	fprintf(stderr, "kemu: %s%s\n", level, buf);
}

void log_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	static int enabled = -1;
	if (enabled < 0)
		enabled = getenv("KEMU_DEBUG") != NULL;
	if (!enabled)
		return;
	va_list ap;
	va_start(ap, fmt);
	vlog("debug: ", fmt, ap);
	va_end(ap);
}
