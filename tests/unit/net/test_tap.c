/*
 * The tap back end. In-process: the error paths name the input (an
 * interface name too long for the kernel, a missing tun device). Then,
 * when the test may create a network namespace (root, or a user
 * namespace), a child process enters a fresh one, creates a tap
 * interface there, and checks frames both ways against a packet socket
 * on that interface: guest -> host with the virtio header stripped by the
 * kernel, host -> guest through the event loop with a header added, and
 * backpressure (no room: the frame waits in the kernel until rx_resume).
 * Nothing outside that namespace is touched; without the privilege the
 * namespace part is skipped.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <net/ethernet.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/event.h"
#include "core/timer.h"
#include "net/net.h"
#include "test.h"

static struct event_loop loop;
static struct timer_list timers;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static bool room = true;
static int received, refused, flushes, can_calls;
static uint8_t last[2048];
static size_t last_len;

#define TEST_ETHERTYPE 0x88b5 /* IEEE local experimental: the kernel leaves it alone */

static bool t_can_receive(void *opaque)
{
	(void)opaque;
	can_calls++;
	return room;
}

static int t_receive(void *opaque, uint8_t *frame, size_t len)
{
	(void)opaque;
	if (!room) {
		refused++;
		return -EAGAIN;
	}
	/* Only our frames: the kernel may send its own (IPv6 solicitations). */
	if (len >= NET_HDR_LEN + 14 && frame[NET_HDR_LEN + 12] == (TEST_ETHERTYPE >> 8) &&
	    frame[NET_HDR_LEN + 13] == (TEST_ETHERTYPE & 0xff) && len <= sizeof(last)) {
		received++;
		memcpy(last, frame, len);
		last_len = len;
	}
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

static void test_errors(void)
{
	struct net_backend *be = NULL;
	struct error e = { "" };
	struct netdev_config cfg = { .kind = NETDEV_TAP, .id = "n0" };

	/* 16 characters, no terminator: longer than IFNAMSIZ allows. */
	memset(cfg.ifname, 'a', sizeof(cfg.ifname));
	CHECK_EQ(net_tap_open(&cfg, "/dev/net/tun", &env, &client, &be, &e), -EINVAL);
	CHECK(be == NULL);
	CHECK_STR(e.msg, "-netdev tap,id=n0,ifname=aaaaaaaaaaaaaaaa: interface name too long "
			 "(at most 15 characters)");

	snprintf(cfg.ifname, sizeof(cfg.ifname), "tap0");
	CHECK_EQ(net_tap_open(&cfg, "/nonexistent/net/tun", &env, &client, &be, &e), -ENOENT);
	CHECK(be == NULL);
	CHECK_STR(e.msg, "-netdev tap,id=n0,ifname=tap0: /nonexistent/net/tun: No such file or directory");

	/* Not a tun device at all: TUNSETIFF fails, the message says which interface. */
	CHECK(net_tap_open(&cfg, "/dev/null", &env, &client, &be, &e) < 0);
	CHECK(be == NULL);
	CHECK(strstr(e.msg, "-netdev tap,id=n0,ifname=tap0: cannot attach to interface tap0") == e.msg);

	cfg.ifname[0] = 0;
	CHECK_EQ(net_tap_open(&cfg, "/dev/net/tun", &env, &client, &be, &e), -EINVAL);
	CHECK_STR(e.msg, "-netdev tap,id=n0,ifname=: ifname= is required");
}

static void run_until(int *counter, int want, int ms)
{
	uint64_t deadline = clock_ns() + (uint64_t)ms * 1000000ULL;
	while (*counter < want && clock_ns() < deadline)
		event_loop_poll(&loop, 20);
}

static bool if_up(const char *name)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	bool ok = s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0;
	ifr.ifr_flags |= IFF_UP;
	ok = ok && ioctl(s, SIOCSIFFLAGS, &ifr) == 0;
	if (s >= 0)
		close(s);
	return ok;
}

/* Runs in a child inside a fresh network namespace. */
static int tap_in_namespace(void)
{
	struct netdev_config cfg = { .kind = NETDEV_TAP, .id = "t0", .ifname = "kemutap0" };
	struct net_backend *be = NULL;
	struct error e = { "" };
	CHECK_EQ(event_loop_init(&loop), 0);
	CHECK_EQ(timer_list_init(&timers, &loop, &lock), 0);
	CHECK_EQ(net_tap_open(&cfg, "/dev/net/tun", &env, &client, &be, &e), 0);
	if (!be) {
		fprintf(stderr, "tap open: %s\n", e.msg);
		return test_exit();
	}
	CHECK(be->caps & NET_CAP_CSUM);
	CHECK(if_up("kemutap0"));
	int ifindex = (int)if_nametoindex("kemutap0");
	int ps = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(TEST_ETHERTYPE));
	CHECK(ps >= 0);
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(TEST_ETHERTYPE),
				   .sll_ifindex = ifindex };
	CHECK_EQ(bind(ps, (struct sockaddr *)&sll, sizeof(sll)), 0);

	/* Guest -> host: header plus frame in, the bare frame out. */
	uint8_t frame[NET_HDR_LEN + 64] = { 0 };
	uint8_t *eth = frame + NET_HDR_LEN;
	memset(eth, 0xff, 6);
	eth[6] = 0x52, eth[7] = 0x54, eth[11] = 1;
	eth[12] = TEST_ETHERTYPE >> 8, eth[13] = TEST_ETHERTYPE & 0xff;
	for (int i = 14; i < 64; i++)
		eth[i] = (uint8_t)i;
	struct iovec iov[2] = { { frame, NET_HDR_LEN }, { eth, 64 } };
	pthread_mutex_lock(&lock);
	CHECK_EQ(be->ops->send(be, iov, 2), 0);
	pthread_mutex_unlock(&lock);
	uint8_t got[256];
	ssize_t n = -1;
	for (int i = 0; i < 100 && n < 0; i++) {
		n = recv(ps, got, sizeof(got), 0);
		if (n < 0)
			usleep(10000);
	}
	CHECK_EQ(n, 64);
	CHECK(n == 64 && memcmp(got, eth, 64) == 0);

	/* Host -> guest: the frame arrives through the event loop. */
	uint8_t out[64];
	memcpy(out, eth, 64);
	out[20] = 0xaa;
	struct sockaddr_ll to = sll;
	to.sll_halen = 6;
	memset(to.sll_addr, 0xff, 6);
	CHECK_EQ(sendto(ps, out, 64, 0, (struct sockaddr *)&to, sizeof(to)), 64);
	run_until(&received, 1, 2000);
	CHECK_EQ(received, 1);
	CHECK_EQ(last_len, NET_HDR_LEN + 64);
	CHECK(memcmp(last + NET_HDR_LEN, out, 64) == 0);
	CHECK(flushes >= 1);

	/* No room: the frame stays in the kernel until rx_resume. */
	room = false;
	out[20] = 0xbb;
	CHECK_EQ(sendto(ps, out, 64, 0, (struct sockaddr *)&to, sizeof(to)), 64);
	int c0 = can_calls;
	run_until(&can_calls, c0 + 1, 2000);
	for (int i = 0; i < 5; i++)
		event_loop_poll(&loop, 10);
	CHECK_EQ(received, 1);
	room = true;
	pthread_mutex_lock(&lock);
	be->ops->rx_resume(be);
	pthread_mutex_unlock(&lock);
	CHECK_EQ(received, 2);
	CHECK_EQ(last[NET_HDR_LEN + 20], 0xbb);

	pthread_mutex_lock(&lock);
	be->ops->set_offload(be, NET_OFFLOAD_CSUM | NET_OFFLOAD_TSO4);
	be->ops->set_offload(be, 0);
	pthread_mutex_unlock(&lock);
	close(ps);
	net_backend_close(be);
	return test_exit();
}

static void test_namespace(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (unshare(CLONE_NEWNET) < 0) {
			fprintf(stderr, "tap namespace test skipped: unshare: %s\n", strerror(errno));
			_exit(77);
		}
		if (access("/dev/net/tun", R_OK | W_OK) < 0) {
			fprintf(stderr, "tap namespace test skipped: /dev/net/tun: %s\n", strerror(errno));
			_exit(77);
		}
		_exit(tap_in_namespace());
	}
	int st = 0;
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st));
	CHECK(WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 77);
}

int main(void)
{
	test_errors();
	test_namespace();
	return test_exit();
}
