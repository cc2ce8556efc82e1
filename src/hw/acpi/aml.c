/*
 * AML encoder (ACPI spec, "ACPI Machine Language Specification" and
 * "Resource Data Types"). Everything is little-endian bytes; objects with
 * a PkgLength get it inserted in front of their contents when closed,
 * because its own size (1-4 bytes) depends on the length it encodes.
 */
#include "hw/acpi/aml.h"

#include <string.h>

enum {
	AML_ZERO_OP = 0x00,
	AML_ONE_OP = 0x01,
	AML_NAME_OP = 0x08,
	AML_BYTE_PREFIX = 0x0a,
	AML_WORD_PREFIX = 0x0b,
	AML_DWORD_PREFIX = 0x0c,
	AML_QWORD_PREFIX = 0x0e,
	AML_SCOPE_OP = 0x10,
	AML_BUFFER_OP = 0x11,
	AML_PACKAGE_OP = 0x12,
	AML_DUAL_NAME_PREFIX = 0x2e,
	AML_MULTI_NAME_PREFIX = 0x2f,
	AML_EXT_OP_PREFIX = 0x5b,
	AML_DEVICE_OP = 0x82, /* after AML_EXT_OP_PREFIX */
	AML_ROOT_CHAR = '\\',
	AML_PARENT_PREFIX = '^',
};

/* Resource descriptor tags and the address-space flags kemu uses. */
enum {
	RES_IRQ_NOFLAGS = 0x22,  /* small item 0x04, length 2 */
	RES_IO = 0x47,           /* small item 0x08, length 7 */
	RES_END_TAG = 0x79,      /* small item 0x0f, length 1 */
	RES_DWORD_ADDR = 0x87,   /* large item, length 23 */
	RES_WORD_ADDR = 0x88,    /* large item, length 13 */
	RES_SPACE_MEMORY = 0,
	RES_SPACE_IO = 1,
	RES_SPACE_BUS = 2,
	/* A root bridge produces its windows: fixed min and max, positive decode. */
	RES_FLAGS_PRODUCER_FIXED = 0x0c,
	RES_IO_ENTIRE_RANGE = 0x03,
	RES_MEM_RW_NONCACHEABLE = 0x01,
};

void aml_init(struct aml *a, void *buf, size_t cap)
{
	a->buf = buf;
	a->cap = cap;
	a->len = 0;
	a->overflow = false;
}

size_t aml_pkglen_encode(uint8_t out[4], size_t content_len)
{
	/* The encoded length counts the PkgLength bytes themselves. */
	if (content_len + 1 <= 0x3f) {
		out[0] = (uint8_t)(content_len + 1);
		return 1;
	}
	for (size_t n = 2; n <= 4; n++) {
		size_t total = content_len + n;
		if (total >> (4 + 8 * (n - 1)))
			continue;
		/* Lead byte: count of following bytes in bits 7:6, low nibble in 3:0. */
		out[0] = (uint8_t)(((n - 1) << 6) | (total & 0x0f));
		for (size_t i = 1; i < n; i++)
			out[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
		return n;
	}
	return 0;
}

static void aml_put(struct aml *a, const void *p, size_t n)
{
	if (a->overflow || n > a->cap - a->len) {
		a->overflow = true;
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

static void aml_insert(struct aml *a, size_t at, const void *p, size_t n)
{
	if (a->overflow || at > a->len || n > a->cap - a->len) {
		a->overflow = true;
		return;
	}
	memmove(a->buf + at + n, a->buf + at, a->len - at);
	memcpy(a->buf + at, p, n);
	a->len += n;
}

static void aml_le(struct aml *a, uint64_t v, size_t n)
{
	uint8_t b[8];
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	aml_put(a, b, n);
}

void aml_byte(struct aml *a, uint8_t b)
{
	aml_put(a, &b, 1);
}

void aml_byte_const(struct aml *a, uint8_t v)
{
	aml_byte(a, AML_BYTE_PREFIX);
	aml_le(a, v, 1);
}

void aml_word_const(struct aml *a, uint16_t v)
{
	aml_byte(a, AML_WORD_PREFIX);
	aml_le(a, v, 2);
}

void aml_dword_const(struct aml *a, uint32_t v)
{
	aml_byte(a, AML_DWORD_PREFIX);
	aml_le(a, v, 4);
}

void aml_integer(struct aml *a, uint64_t v)
{
	if (v == 0) {
		aml_byte(a, AML_ZERO_OP);
	} else if (v == 1) {
		aml_byte(a, AML_ONE_OP);
	} else if (v <= 0xff) {
		aml_byte_const(a, (uint8_t)v);
	} else if (v <= 0xffff) {
		aml_word_const(a, (uint16_t)v);
	} else if (v <= 0xffffffff) {
		aml_dword_const(a, (uint32_t)v);
	} else {
		aml_byte(a, AML_QWORD_PREFIX);
		aml_le(a, v, 8);
	}
}

static bool name_lead_char(char c)
{
	return (c >= 'A' && c <= 'Z') || c == '_';
}

static bool name_char(char c)
{
	return name_lead_char(c) || (c >= '0' && c <= '9');
}

void aml_name_string(struct aml *a, const char *path)
{
	const char *p = path;
	if (*p == AML_ROOT_CHAR) {
		aml_byte(a, AML_ROOT_CHAR);
		p++;
	} else {
		while (*p == AML_PARENT_PREFIX)
			aml_byte(a, (uint8_t)*p++);
	}
	if (!*p) {
		aml_byte(a, AML_ZERO_OP); /* NullName */
		return;
	}

	char segs[255][4];
	size_t nsegs = 0;
	while (*p) {
		size_t n = 0;
		if (nsegs == 255 || !name_lead_char(*p)) {
			a->overflow = true;
			return;
		}
		while (p[n] && p[n] != '.') {
			if (n == 4 || !name_char(p[n])) {
				a->overflow = true;
				return;
			}
			n++;
		}
		memset(segs[nsegs], '_', 4);
		memcpy(segs[nsegs], p, n);
		nsegs++;
		p += n;
		if (*p == '.' && !*++p) {
			a->overflow = true; /* trailing dot */
			return;
		}
	}
	if (nsegs == 2) {
		aml_byte(a, AML_DUAL_NAME_PREFIX);
	} else if (nsegs > 2) {
		aml_byte(a, AML_MULTI_NAME_PREFIX);
		aml_byte(a, (uint8_t)nsegs);
	}
	aml_put(a, segs, nsegs * 4);
}

void aml_name(struct aml *a, const char *name)
{
	aml_byte(a, AML_NAME_OP);
	aml_name_string(a, name);
}

uint32_t aml_eisaid(const char *id)
{
	/* Three letters of 5 bits each ('A' = 1), then four hex digits. */
	if (strlen(id) != 7)
		return 0;
	uint32_t letters = 0, product = 0;
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z')
			return 0;
		letters = (letters << 5) | (uint32_t)(id[i] - '@');
	}
	for (int i = 3; i < 7; i++) {
		char c = id[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return 0;
		product = (product << 4) | d;
	}
	/* Stored big-endian as bytes, so the little-endian DWord is byte-swapped. */
	uint8_t b[4] = { (uint8_t)(letters >> 8), (uint8_t)letters, (uint8_t)(product >> 8),
			 (uint8_t)product };
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

size_t aml_scope_begin(struct aml *a, const char *path)
{
	aml_byte(a, AML_SCOPE_OP);
	size_t mark = a->len;
	aml_name_string(a, path);
	return mark;
}

size_t aml_device_begin(struct aml *a, const char *path)
{
	aml_byte(a, AML_EXT_OP_PREFIX);
	aml_byte(a, AML_DEVICE_OP);
	size_t mark = a->len;
	aml_name_string(a, path);
	return mark;
}

size_t aml_package_begin(struct aml *a, uint8_t nelems)
{
	aml_byte(a, AML_PACKAGE_OP);
	size_t mark = a->len;
	aml_byte(a, nelems);
	return mark;
}

void aml_end(struct aml *a, size_t mark)
{
	if (a->overflow || mark > a->len) {
		a->overflow = true;
		return;
	}
	uint8_t pl[4];
	size_t n = aml_pkglen_encode(pl, a->len - mark);
	if (!n) {
		a->overflow = true;
		return;
	}
	aml_insert(a, mark, pl, n);
}

size_t aml_resource_begin(struct aml *a)
{
	aml_byte(a, AML_BUFFER_OP);
	return a->len;
}

void aml_resource_end(struct aml *a, size_t mark)
{
	/* End Tag; a zero checksum means "treat as valid". */
	aml_byte(a, RES_END_TAG);
	aml_byte(a, 0);
	if (a->overflow || mark > a->len) {
		a->overflow = true;
		return;
	}
	/* Buffer := BufferOp PkgLength BufferSize ByteList */
	uint8_t tmp[9];
	struct aml size;
	aml_init(&size, tmp, sizeof(tmp));
	aml_integer(&size, a->len - mark);
	aml_insert(a, mark, tmp, size.len);
	aml_end(a, mark);
}

void aml_res_io(struct aml *a, uint16_t min, uint16_t max, uint8_t align, uint8_t len)
{
	aml_byte(a, RES_IO);
	aml_byte(a, 0x01); /* decodes 16 address bits */
	aml_le(a, min, 2);
	aml_le(a, max, 2);
	aml_byte(a, align);
	aml_byte(a, len);
}

void aml_res_irq_noflags(struct aml *a, unsigned irq)
{
	if (irq > 15) {
		a->overflow = true;
		return;
	}
	aml_byte(a, RES_IRQ_NOFLAGS);
	aml_le(a, 1u << irq, 2);
}

static void aml_res_word_addr(struct aml *a, uint8_t space, uint8_t type_flags, uint16_t min,
			      uint16_t max)
{
	if (min > max) {
		a->overflow = true;
		return;
	}
	aml_byte(a, RES_WORD_ADDR);
	aml_le(a, 13, 2);
	aml_byte(a, space);
	aml_byte(a, RES_FLAGS_PRODUCER_FIXED);
	aml_byte(a, type_flags);
	aml_le(a, 0, 2);                       /* granularity */
	aml_le(a, min, 2);
	aml_le(a, max, 2);
	aml_le(a, 0, 2);                       /* translation offset */
	aml_le(a, (uint32_t)max - min + 1, 2); /* length; 0x10000 cannot be expressed */
}

void aml_res_word_bus_number(struct aml *a, uint16_t min, uint16_t max)
{
	aml_res_word_addr(a, RES_SPACE_BUS, 0, min, max);
}

void aml_res_word_io(struct aml *a, uint16_t min, uint16_t max)
{
	if (min == 0 && max == 0xffff) {
		a->overflow = true;
		return;
	}
	aml_res_word_addr(a, RES_SPACE_IO, RES_IO_ENTIRE_RANGE, min, max);
}

void aml_res_dword_memory(struct aml *a, uint32_t min, uint32_t max)
{
	if (min > max || (min == 0 && max == 0xffffffff)) {
		a->overflow = true;
		return;
	}
	aml_byte(a, RES_DWORD_ADDR);
	aml_le(a, 23, 2);
	aml_byte(a, RES_SPACE_MEMORY);
	aml_byte(a, RES_FLAGS_PRODUCER_FIXED);
	aml_byte(a, RES_MEM_RW_NONCACHEABLE);
	aml_le(a, 0, 4); /* granularity */
	aml_le(a, min, 4);
	aml_le(a, max, 4);
	aml_le(a, 0, 4); /* translation offset */
	aml_le(a, (uint64_t)max - min + 1, 4);
}
