/*
 * The user (libslirp) back end end to end, without a guest: a fake guest
 * sends a DHCP discover through ops->send and the offer must come back
 * through the receive callback (proving slirp_input, the callbacks, the
 * kick/poll adapter and timers on a real event loop). The offer first
 * meets a full device (-EAGAIN) and is delivered on rx_resume. A host
 * forward must accept a connection on loopback and make slirp look for
 * the guest (an ARP request), and a forward on a port already in use must
 * fail with a message naming the rule.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/event.h"
#include "core/timer.h"
#include "net/net.h"
#include "test.h"

static struct event_loop loop;
static struct timer_list timers;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static bool room = true;
static int refused, received, flushes, offers, arps;
static uint8_t offer_yiaddr[4], arp_target[4];

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static bool t_can_receive(void *opaque)
{
	(void)opaque;
	return room;
}

static void parse(const uint8_t *f, size_t len)
{
	if (len < 14)
		return;
	uint16_t type = (uint16_t)(f[12] << 8 | f[13]);
	if (type == 0x0806 && len >= 42) {
		/* ARP request: opcode 1, target IP at 38. */
		if (f[20] == 0 && f[21] == 1) {
			arps++;
			memcpy(arp_target, f + 38, 4);
		}
		return;
	}
	if (type != 0x0800 || len < 14 + 20 + 8)
		return;
	const uint8_t *ip = f + 14;
	size_t ihl = (size_t)(ip[0] & 0xf) * 4;
	if (ip[9] != 17 || len < 14 + ihl + 8 + 240)
		return;
	const uint8_t *udp = ip + ihl, *bp = udp + 8;
	if (udp[1] != 67 || udp[3] != 68 || bp[0] != 2)
		return;
	/* Options after the magic cookie: look for 53 (message type). */
	const uint8_t *o = bp + 240, *end = f + len;
	while (o < end && *o != 255) {
		if (*o == 0) {
			o++;
			continue;
		}
		if (o + 2 > end || o + 2 + o[1] > end)
			break;
		if (o[0] == 53 && o[1] == 1 && o[2] == 2) {
			offers++;
			memcpy(offer_yiaddr, bp + 16, 4);
		}
		o += 2 + o[1];
	}
}

static int t_receive(void *opaque, uint8_t *frame, size_t len)
{
	(void)opaque;
	CHECK(pthread_mutex_trylock(&lock) == EBUSY); /* called with the lock held */
	if (!room) {
		refused++;
		return -EAGAIN;
	}
	received++;
	CHECK(len >= NET_HDR_LEN);
	struct virtio_net_hdr h;
	memcpy(&h, frame, NET_HDR_LEN);
	CHECK_EQ(h.gso_type, NET_HDR_GSO_NONE);
	CHECK_EQ(h.flags & NET_HDR_F_NEEDS_CSUM, 0);
	parse(frame + NET_HDR_LEN, len - NET_HDR_LEN);
	return 0;
}

static void t_flush(void *opaque)
{
	(void)opaque;
	flushes++;
}

static const struct net_client client = {
	.can_receive = t_can_receive,
	.receive = t_receive,
	.receive_flush = t_flush,
};

static const struct net_env env = { .loop = &loop, .timers = &timers, .lock = &lock };

static void run_until(int *counter, int want, int ms)
{
	uint64_t deadline = clock_ns() + (uint64_t)ms * 1000000ULL;
	while (*counter < want && clock_ns() < deadline)
		event_loop_poll(&loop, 20);
}

static uint16_t ip_csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* A DHCPDISCOVER as a fresh client sends it, behind a zero virtio header. */
static size_t build_discover(uint8_t *buf)
{
	memset(buf, 0, 1024);
	uint8_t *f = buf + NET_HDR_LEN;
	memset(f, 0xff, 6);
	memcpy(f + 6, guest_mac, 6);
	f[12] = 0x08;
	uint8_t *ip = f + 14, *udp = ip + 20, *bp = udp + 8;
	size_t bootp_len = 236 + 4 + 312 - 4; /* fixed part, cookie, options */
	size_t udp_len = 8 + bootp_len, ip_len = 20 + udp_len;
	ip[0] = 0x45;
	ip[2] = (uint8_t)(ip_len >> 8);
	ip[3] = (uint8_t)ip_len;
	ip[8] = 64;
	ip[9] = 17;
	memset(ip + 16, 0xff, 4);
	uint16_t c = ip_csum(ip, 20);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	udp[1] = 68;
	udp[3] = 67;
	udp[4] = (uint8_t)(udp_len >> 8);
	udp[5] = (uint8_t)udp_len; /* checksum 0: none, legal for UDP/IPv4 */
	bp[0] = 1; /* BOOTREQUEST */
	bp[1] = 1;
	bp[2] = 6;
	bp[4] = 0x12, bp[5] = 0x34, bp[6] = 0x56, bp[7] = 0x78; /* xid */
	memcpy(bp + 28, guest_mac, 6);
	uint8_t *o = bp + 236;
	*o++ = 99, *o++ = 130, *o++ = 83, *o++ = 99;
	*o++ = 53, *o++ = 1, *o++ = 1; /* DHCPDISCOVER */
	*o++ = 255;
	return NET_HDR_LEN + 14 + ip_len;
}

static void test_dhcp(void)
{
	struct netdev_config cfg = { .kind = NETDEV_USER, .id = "n0" };
	struct net_backend *be = NULL;
	struct error e = { "" };
	CHECK_EQ(net_user_open(&cfg, &env, &client, &be, &e), 0);
	if (!be) {
		fprintf(stderr, "open: %s\n", e.msg);
		return;
	}
	CHECK(be->caps & NET_CAP_CSUM);
	CHECK(be->caps & NET_CAP_TSO4);
	CHECK(!(be->caps & NET_CAP_TSO6));
	CHECK(!(be->caps & NET_CAP_RX_TSO));

	uint8_t buf[1024];
	size_t len = build_discover(buf);
	struct iovec iov[2] = { { buf, NET_HDR_LEN }, { buf + NET_HDR_LEN, len - NET_HDR_LEN } };
	room = false;
	pthread_mutex_lock(&lock);
	CHECK_EQ(be->ops->send(be, iov, 2), 0);
	pthread_mutex_unlock(&lock);
	run_until(&refused, 1, 3000);
	CHECK(refused >= 1);
	CHECK_EQ(offers, 0);

	/* The guest posts buffers: the queued offer comes through. */
	room = true;
	int f0 = flushes;
	pthread_mutex_lock(&lock);
	be->ops->rx_resume(be);
	pthread_mutex_unlock(&lock);
	CHECK_EQ(offers, 1);
	CHECK(flushes > f0);
	CHECK_EQ(offer_yiaddr[0], 10);
	CHECK_EQ(offer_yiaddr[1], 0);
	CHECK_EQ(offer_yiaddr[2], 2);
	CHECK_EQ(offer_yiaddr[3], 15);

	/* Frames that cannot be real are dropped, not passed to slirp. */
	pthread_mutex_lock(&lock);
	CHECK(be->ops->send(be, iov, 1) < 0); /* header only */
	struct virtio_net_hdr bad = { .flags = NET_HDR_F_NEEDS_CSUM, .csum_start = 2000 };
	memcpy(buf, &bad, sizeof(bad));
	CHECK(be->ops->send(be, iov, 2) < 0); /* checksum offsets beyond the frame */
	struct virtio_net_hdr gso = { .gso_type = NET_HDR_GSO_TCPV4 };
	memcpy(buf, &gso, sizeof(gso));
	CHECK(be->ops->send(be, iov, 2) < 0); /* GSO without a partial checksum */
	gso = (struct virtio_net_hdr){ .flags = NET_HDR_F_NEEDS_CSUM,
				       .gso_type = NET_HDR_GSO_TCPV6,
				       .csum_start = 14 + 40, .csum_offset = 16 };
	memcpy(buf, &gso, sizeof(gso));
	CHECK(be->ops->send(be, iov, 2) < 0); /* TSO6 is not offered */
	gso.gso_type = NET_HDR_GSO_UDP;
	memcpy(buf, &gso, sizeof(gso));
	CHECK(be->ops->send(be, iov, 2) < 0); /* nor UFO */
	pthread_mutex_unlock(&lock);
	net_backend_close(be);
}

static uint16_t free_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	bind(s, (struct sockaddr *)&a, sizeof(a));
	getsockname(s, (struct sockaddr *)&a, &al);
	close(s);
	return ntohs(a.sin_port);
}

static void test_hostfwd(void)
{
	struct netdev_config cfg = { .kind = NETDEV_USER, .id = "n1", .nhostfwd = 1 };
	uint16_t port = free_port();
	cfg.hostfwd[0] = (struct hostfwd){ .host_addr = htonl(INADDR_LOOPBACK), .host_port = port,
					   .guest_port = 22 };
	struct net_backend *be = NULL;
	struct error e = { "" };
	CHECK_EQ(net_user_open(&cfg, &env, &client, &be, &e), 0);
	if (!be) {
		fprintf(stderr, "open: %s\n", e.msg);
		return;
	}
	/* A host client connects; slirp accepts and looks for 10.0.2.15. */
	int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int r = connect(c, (struct sockaddr *)&a, sizeof(a));
	CHECK(r == 0 || errno == EINPROGRESS);
	arps = 0;
	run_until(&arps, 1, 3000);
	CHECK(arps >= 1);
	CHECK_EQ(arp_target[0], 10);
	CHECK_EQ(arp_target[3], 15);
	close(c);

	/* The same port again, while the first instance holds it. */
	struct netdev_config cfg2 = cfg;
	snprintf(cfg2.id, sizeof(cfg2.id), "n2");
	struct net_backend *be2 = NULL;
	CHECK(net_user_open(&cfg2, &env, &client, &be2, &e) < 0);
	CHECK(be2 == NULL);
	char want[128];
	snprintf(want, sizeof(want), "-netdev user,id=n2: hostfwd tcp:127.0.0.1:%u-:22: address in use",
		 port);
	CHECK_STR(e.msg, want);
	net_backend_close(be);
}

int main(void)
{
	CHECK_EQ(event_loop_init(&loop), 0);
	CHECK_EQ(timer_list_init(&timers, &loop, &lock), 0);
	test_dhcp();
	test_hostfwd();
	timer_list_destroy(&timers);
	event_loop_destroy(&loop);
	return test_exit();
}
