#include "util/error.h"

#include <stdio.h>

int error_set(struct error *e, int code, const char *fmt, ...)
{
	if (e) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

int error_prepend(struct error *e, int code, const char *fmt, ...)
{
	if (e) {
		char old[sizeof(e->msg)];
		snprintf(old, sizeof(old), "%s", e->msg);
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
		/* Appended by hand: the result is truncated to fit, on purpose. */
		size_t at = n < 0 ? 0 : (size_t)n;
		const char *parts[2] = { ": ", old };
		for (int p = 0; p < 2; p++)
			for (const char *s = parts[p]; *s && at + 1 < sizeof(e->msg); s++)
				e->msg[at++] = *s;
		if (at < sizeof(e->msg))
			e->msg[at] = '\0';
	}
	return code;
}
