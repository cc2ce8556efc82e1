/* Diagnostics on stderr, each prefixed "kemu: ". */
#ifndef KEMU_UTIL_LOG_H
#define KEMU_UTIL_LOG_H

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Debug messages appear only when KEMU_DEBUG is set in the environment. */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
