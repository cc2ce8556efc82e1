/*
 * Checksum completion (net_csum_complete) on hand-built TCP and UDP
 * frames over IPv4 and IPv6: the "guest" leaves the pseudo-header sum in
 * the checksum field as a driver with checksum offload does, and the
 * result must equal the full checksum computed independently (the
 * constants were computed with a separate Python implementation).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>

#include "net/net.h"
#include "test.h"

static const uint8_t ip4_src[4] = { 10, 0, 2, 15 }, ip4_dst[4] = { 10, 0, 2, 2 };
static const uint8_t ip6_src[16] = { 0xfe, 0xc0, [15] = 0x15 };
static const uint8_t ip6_dst[16] = { 0xfe, 0xc0, [15] = 0x02 };
static const char payload_tcp[] = "hello, kemu!!"; /* 13 bytes: odd length */

/* Big-endian, byte at a time: deliberately unlike the code under test. */
static uint32_t ref_sum(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		s += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	return s;
}

static uint16_t ref_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Builds eth + IP + L4 + payload; returns the frame length, the L4 offset in *l4. */
static size_t build(uint8_t *f, bool v6, bool udp, const void *pl, size_t pl_len, size_t *l4)
{
	memset(f, 0, 256);
	const uint8_t dst_mac[6] = { 0x52, 0x55, 10, 0, 2, 2 }, src_mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
	memcpy(f, dst_mac, 6);
	memcpy(f + 6, src_mac, 6);
	size_t l4len = (udp ? 8 : 20) + pl_len, off;
	uint8_t proto = udp ? 17 : 6;
	if (!v6) {
		put16(f + 12, 0x0800);
		uint8_t *ip = f + 14;
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(20 + l4len));
		put16(ip + 4, 1);
		put16(ip + 6, 0x4000);
		ip[8] = 64;
		ip[9] = proto;
		memcpy(ip + 12, ip4_src, 4);
		memcpy(ip + 16, ip4_dst, 4);
		put16(ip + 10, (uint16_t)~ref_fold(ref_sum(0, ip, 20)));
		off = 34;
	} else {
		put16(f + 12, 0x86dd);
		uint8_t *ip = f + 14;
		ip[0] = 0x60;
		put16(ip + 4, (uint16_t)l4len);
		ip[6] = proto;
		ip[7] = 64;
		memcpy(ip + 8, ip6_src, 16);
		memcpy(ip + 24, ip6_dst, 16);
		off = 54;
	}
	uint8_t *l = f + off;
	if (udp) {
		put16(l, 68);
		put16(l + 2, 5353);
		put16(l + 4, (uint16_t)l4len);
		memcpy(l + 8, pl, pl_len);
	} else {
		put16(l, 12345);
		put16(l + 2, 80);
		l[7] = 1; /* seq 1 */
		put16(l + 12, 0x5018);
		put16(l + 14, 0xffff);
		memcpy(l + 20, pl, pl_len);
	}
	*l4 = off;
	return off + l4len;
}

/* The pseudo-header sum a driver leaves in the field (folded, not inverted). */
static uint16_t pseudo(bool v6, bool udp, size_t l4len)
{
	uint32_t s = 0;
	uint8_t tail[8] = { 0 };
	if (!v6) {
		s = ref_sum(s, ip4_src, 4);
		s = ref_sum(s, ip4_dst, 4);
		tail[1] = udp ? 17 : 6;
		put16(tail + 2, (uint16_t)l4len);
		s = ref_sum(s, tail, 4);
	} else {
		s = ref_sum(s, ip6_src, 16);
		s = ref_sum(s, ip6_dst, 16);
		put16(tail + 2, (uint16_t)l4len);
		tail[7] = udp ? 17 : 6;
		s = ref_sum(s, tail, 8);
	}
	return ref_fold(s);
}

/* The full checksum, computed from scratch with the field zeroed. */
static uint16_t reference(const uint8_t *f, size_t len, size_t l4, bool v6, bool udp)
{
	uint8_t copy[256];
	memcpy(copy, f, len);
	put16(copy + l4 + (udp ? 6 : 16), 0);
	uint32_t s = pseudo(v6, udp, len - l4);
	return (uint16_t)~ref_fold(ref_sum(s, copy + l4, len - l4));
}

static void check_case(bool v6, bool udp, const void *pl, size_t pl_len, uint16_t known)
{
	uint8_t f[256];
	size_t l4, len = build(f, v6, udp, pl, pl_len, &l4);
	size_t field = udp ? 6 : 16;
	put16(f + l4 + field, pseudo(v6, udp, len - l4));
	CHECK_EQ(net_csum_complete(f, len, l4, field), 0);
	CHECK_EQ(get16(f + l4 + field), known);
	CHECK_EQ(get16(f + l4 + field), reference(f, len, l4, v6, udp));
	/* A receiver verifying it sums to all ones. */
	CHECK_EQ(ref_fold(ref_sum(pseudo(v6, udp, len - l4), f + l4, len - l4)), 0xffff);
}

int main(void)
{
	check_case(false, false, payload_tcp, 13, 0x072d);
	check_case(false, true, "abc", 3, 0x0e38);
	check_case(true, false, payload_tcp, 13, 0x21a5);
	check_case(true, true, "abc", 3, 0x28b0);

	/* A UDP datagram whose checksum comes out 0 must carry 0xffff. */
	for (int v6 = 0; v6 < 2; v6++) {
		uint8_t f[256], pl[4] = { 1, 2, 0, 0 };
		size_t l4, len = build(f, v6, true, pl, 4, &l4);
		uint16_t c0 = reference(f, len, l4, v6, true);
		/* Making the last word equal the checksum brings the sum to ~0. */
		put16(pl + 2, c0);
		len = build(f, v6, true, pl, 4, &l4);
		CHECK_EQ(reference(f, len, l4, v6, true), 0);
		put16(f + l4 + 6, pseudo(v6, true, len - l4));
		CHECK_EQ(net_csum_complete(f, len, l4, 6), 0);
		CHECK_EQ(get16(f + l4 + 6), 0xffff);
	}

	/* Offsets outside the frame are refused and nothing is written. */
	uint8_t f[256];
	size_t l4, len = build(f, false, false, payload_tcp, 13, &l4);
	uint8_t before[256];
	memcpy(before, f, sizeof(f));
	CHECK_EQ(net_csum_complete(f, len, len, 0), -EINVAL);
	CHECK_EQ(net_csum_complete(f, len, len - 1, 0), -EINVAL);
	CHECK_EQ(net_csum_complete(f, len, l4, len - l4 - 1), -EINVAL);
	CHECK_EQ(net_csum_complete(f, len, l4, 0xffff), -EINVAL);
	CHECK_EQ(net_csum_complete(f, len, 0xffff, 16), -EINVAL);
	CHECK(memcmp(before, f, sizeof(f)) == 0);
	CHECK_EQ(net_csum_complete(f, len, l4, len - l4 - 2), 0); /* the last two bytes: fine */

	/* Sums over unaligned starts and odd lengths agree with the reference. */
	uint8_t buf[200];
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 37 + 11);
	for (size_t start = 0; start < 9; start++)
		for (size_t n = 0; n < 150; n += 7) {
			uint16_t got = net_csum_fold(net_csum_add(0, buf + start, n));
			uint16_t be = htons(got);
			CHECK_EQ((uint16_t)~be, ref_fold(ref_sum(0, buf + start, n)));
		}
	return test_exit();
}
