/*
 * Error reporting without exiting: functions that can fail take a
 * struct error and return a negative errno; only main() decides to exit.
 */
#ifndef KEMU_UTIL_ERROR_H
#define KEMU_UTIL_ERROR_H

#include <stdarg.h>

struct error {
	char msg[512];
};

/* Formats the message into e (if non-NULL) and returns code (a negative errno). */
int error_set(struct error *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Puts "prefix: " (formatted) in front of e's message; returns code. */
int error_prepend(struct error *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
