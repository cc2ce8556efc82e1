#include "util/opts.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int parse_u64(const char *s, uint64_t *out)
{
	if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

int parse_size(const char *s, uint64_t default_unit, uint64_t *out)
{
	if (!s || !*s || !isdigit((unsigned char)*s))
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	uint64_t unit = default_unit;
	if (*end) {
		switch (toupper((unsigned char)*end)) {
		case 'B': unit = 1; break;
		case 'K': unit = 1ULL << 10; break;
		case 'M': unit = 1ULL << 20; break;
		case 'G': unit = 1ULL << 30; break;
		case 'T': unit = 1ULL << 40; break;
		default: return -EINVAL;
		}
		end++;
		if (*end == 'i' || *end == 'I')
			end++;
		if ((*end == 'B' || *end == 'b') && unit != 1)
			end++;
		if (*end)
			return -EINVAL;
	}
	if (v && unit > UINT64_MAX / v)
		return -ERANGE;
	*out = v * unit;
	return 0;
}

int opts_parse(struct opts *o, const char *s, bool want_head, struct error *e)
{
	memset(o, 0, sizeof(*o));
	o->buf = strdup(s);
	if (!o->buf)
		return error_set(e, -ENOMEM, "out of memory");
	char *save = NULL;
	bool first = true;
	for (char *tok = strtok_r(o->buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		if (first && want_head && !eq) {
			o->head = tok;
			first = false;
			continue;
		}
		first = false;
		if (o->n == OPTS_MAX) {
			opts_free(o);
			return error_set(e, -E2BIG, "too many options in '%s'", s);
		}
		if (eq)
			*eq = '\0';
		if (!*tok) {
			opts_free(o);
			return error_set(e, -EINVAL, "empty option name in '%s'", s);
		}
		o->kv[o->n].key = tok;
		o->kv[o->n].value = eq ? eq + 1 : tok + strlen(tok);
		o->n++;
	}
	if (want_head && !o->head) {
		opts_free(o);
		return error_set(e, -EINVAL, "missing name in '%s'", s);
	}
	return 0;
}

void opts_free(struct opts *o)
{
	free(o->buf);
	memset(o, 0, sizeof(*o));
}

const char *opts_get(struct opts *o, const char *key)
{
	const char *v = NULL;
	for (int i = 0; i < o->n; i++) {
		if (!strcmp(o->kv[i].key, key)) {
			o->kv[i].used = true;
			v = o->kv[i].value; /* last one wins, as in QEMU */
		}
	}
	return v;
}

int opts_get_u64(struct opts *o, const char *key, uint64_t *out, bool *present, struct error *e)
{
	const char *v = opts_get(o, key);
	if (present)
		*present = v != NULL;
	if (!v)
		return 0;
	if (parse_u64(v, out))
		return error_set(e, -EINVAL, "invalid number '%s' for '%s'", v, key);
	return 0;
}

int opts_get_bool(struct opts *o, const char *key, bool *out, struct error *e)
{
	const char *v = opts_get(o, key);
	if (!v)
		return 0;
	if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "yes") || !*v)
		*out = true;
	else if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "no"))
		*out = false;
	else
		return error_set(e, -EINVAL, "invalid boolean '%s' for '%s'", v, key);
	return 0;
}

int opts_check_unused(const struct opts *o, const char *what, struct error *e)
{
	for (int i = 0; i < o->n; i++)
		if (!o->kv[i].used)
			return error_set(e, -EINVAL, "%s: unknown property '%s'", what, o->kv[i].key);
	return 0;
}
