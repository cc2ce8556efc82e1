/*
 * Little-endian field access for parsing untrusted images: byte loads keep
 * unaligned fields legal, and callers bound-check before calling.
 * Guest structures are written as packed C structs, which is only right on
 * a little-endian host; the assertion keeps that assumption visible.
 */
#ifndef KEMU_LOADER_LE_H
#define KEMU_LOADER_LE_H

#include <stdint.h>

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "loaders assume a little-endian host");

static inline uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

#endif
