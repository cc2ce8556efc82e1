/*
 * Internet checksums for the frames a guest hands over with a partial
 * checksum (virtio NEEDS_CSUM): the user back end must finish them before
 * slirp sees the frame, and the device finishes them when a back end
 * delivers such a frame to a guest that did not accept checksum offload.
 */
#include "net/net.h"

#include <errno.h>
#include <string.h>

uint32_t net_csum_add(uint32_t sum, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	/* 64-bit accumulator: no carry handling inside the loop. */
	uint64_t s = sum;
	while (len >= 8) {
		uint32_t a, b;
		memcpy(&a, p, 4);
		memcpy(&b, p + 4, 4);
		s += (uint64_t)a + b;
		p += 8;
		len -= 8;
	}
	while (len >= 2) {
		uint16_t w;
		memcpy(&w, p, 2);
		s += w;
		p += 2;
		len -= 2;
	}
	if (len) {
		/* The odd byte is the high-order byte of a zero-padded word
		 * in network order, i.e. the low byte in host (LE) order. */
		s += *p;
	}
	while (s >> 32)
		s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
}

/* Sums are accumulated in host (little-endian) word order; the folded
 * result is stored back with memcpy, so byte order works out. */
uint16_t net_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Is the transport at csum_start UDP? Only plain IPv4/IPv6 (optionally
 * one VLAN tag) is recognised; anything else is treated as not UDP. */
static bool frame_is_udp(const uint8_t *f, size_t len, size_t csum_start)
{
	size_t off = 12;
	if (len < 14)
		return false;
	uint16_t type = (uint16_t)(f[off] << 8 | f[off + 1]);
	off += 2;
	if (type == 0x8100) {
		if (len < off + 4)
			return false;
		type = (uint16_t)(f[off + 2] << 8 | f[off + 3]);
		off += 4;
	}
	if (type == 0x0800 && len >= off + 20)
		return f[off + 9] == 17 && off + (size_t)(f[off] & 0xf) * 4 == csum_start;
	if (type == 0x86dd && len >= off + 40)
		return f[off + 6] == 17 && off + 40 == csum_start;
	return false;
}

int net_csum_complete(uint8_t *frame, size_t len, size_t csum_start, size_t csum_offset)
{
	if (csum_start >= len || csum_offset > len - csum_start ||
	    len - csum_start - csum_offset < 2)
		return -EINVAL;
	uint16_t c = net_csum_fold(net_csum_add(0, frame + csum_start, len - csum_start));
	if (c == 0 && frame_is_udp(frame, len, csum_start))
		c = 0xffff;
	memcpy(frame + csum_start + csum_offset, &c, 2);
	return 0;
}
