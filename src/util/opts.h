/*
 * QEMU-style option strings: "driver,key=value,key2=value2".
 * The first element may be a bare word (the driver or type name).
 */
#ifndef KEMU_UTIL_OPTS_H
#define KEMU_UTIL_OPTS_H

#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

#define OPTS_MAX 16

struct opts {
	char *head; /* bare first element, or NULL */
	int n;
	struct {
		char *key;
		char *value; /* "" for a bare key after the first element */
		bool used;
	} kv[OPTS_MAX];
	char *buf; /* owned copy of the string */
};

/* Splits s; with want_head the first element is the bare name. */
int opts_parse(struct opts *o, const char *s, bool want_head, struct error *e);
void opts_free(struct opts *o);
/* Returns the value of key (marking it used) or NULL. */
const char *opts_get(struct opts *o, const char *key);
/* Parses an unsigned number (0x.., decimal); -EINVAL on garbage. */
int opts_get_u64(struct opts *o, const char *key, uint64_t *out, bool *present, struct error *e);
int opts_get_bool(struct opts *o, const char *key, bool *out, struct error *e);
/* Fails naming the first key nobody asked for. */
int opts_check_unused(const struct opts *o, const char *what, struct error *e);

/* "512M", "2G", "1024" (MiB when no suffix, as QEMU's -m) */
int parse_size(const char *s, uint64_t default_unit, uint64_t *out);
/* Strict unsigned parse of a whole string, base auto-detected. */
int parse_u64(const char *s, uint64_t *out);

#endif
