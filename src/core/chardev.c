#include "core/chardev.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <termios.h>
#include <unistd.h>

/* One terminal per process: the saved mode lives here for signal handlers. */
static struct termios saved_tio;
static volatile sig_atomic_t tio_saved;

void chardev_restore_terminal(void)
{
	if (tio_saved) {
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
		tio_saved = 0;
	}
}

static void fatal_signal(int sig)
{
	chardev_restore_terminal();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void terminal_raw(void)
{
	if (!isatty(STDIN_FILENO) || tio_saved)
		return;
	if (tcgetattr(STDIN_FILENO, &saved_tio) < 0)
		return;
	struct termios t = saved_tio;
	/* Raw input so the guest sees every key (Ctrl-C included); output
	 * post-processing stays on so host messages still start a new line. */
	t.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
	t.c_lflag &= ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	t.c_cflag &= ~(CSIZE | PARENB);
	t.c_cflag |= CS8;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	tio_saved = 1;
	atexit(chardev_restore_terminal);
	static const int sigs[] = { SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction sa = { .sa_handler = fatal_signal };
		sigaction(sigs[i], &sa, NULL);
	}
	tcsetattr(STDIN_FILENO, TCSANOW, &t);
}

int chardev_open(struct chardev *c, enum chardev_kind kind, const char *path, struct error *e)
{
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->in_fd = c->out_fd = -1;
	switch (kind) {
	case CHARDEV_NONE:
		break;
	case CHARDEV_STDIO:
		c->in_fd = STDIN_FILENO;
		c->out_fd = STDOUT_FILENO;
		c->mux_escapes = true;
		fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);
		terminal_raw();
		break;
	case CHARDEV_FILE:
		c->out_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (c->out_fd < 0)
			return error_set(e, -errno, "%s: %s", path, strerror(errno));
		break;
	}
	return 0;
}

void chardev_close(struct chardev *c)
{
	if (c->kind == CHARDEV_FILE && c->out_fd >= 0)
		close(c->out_fd);
	if (c->kind == CHARDEV_STDIO)
		fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) & ~O_NONBLOCK);
	c->in_fd = c->out_fd = -1;
}

void chardev_attach(struct chardev *c, size_t (*receive)(void *, const uint8_t *, size_t),
		    void *dev, pthread_mutex_t *lock)
{
	c->receive = receive;
	c->dev = dev;
	c->lock = lock;
}

void chardev_write(struct chardev *c, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	while (c->out_fd >= 0 && n) {
		ssize_t w = write(c->out_fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				usleep(1000); /* a slow terminal: wait rather than lose output */
				continue;
			}
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

static void chardev_on_readable(void *opaque, uint32_t events);

void chardev_accept_input(struct chardev *c)
{
	if (!c->npending || !c->receive)
		return;
	size_t took = c->receive(c->dev, c->pending, c->npending);
	memmove(c->pending, c->pending + took, c->npending - took);
	c->npending -= took;
	/* Backpressure: leave further input in the kernel until the device
	 * has taken this backlog, rather than spinning on a ready fd. */
	if (c->npending && !c->paused && c->loop) {
		event_del_fd(c->loop, c->in_fd);
		c->paused = true;
	} else if (!c->npending && c->paused) {
		c->paused = false;
		event_add_fd(c->loop, c->in_fd, EPOLLIN, chardev_on_readable, c);
	}
}

int chardev_start(struct chardev *c, struct event_loop *loop)
{
	c->loop = loop;
	/* The serial chardev outlives the machine it was paused on. */
	c->paused = false;
	c->escape = false;
	if (c->in_fd < 0)
		return 0;
	int r = event_add_fd(loop, c->in_fd, EPOLLIN, chardev_on_readable, c);
	/* stdin from /dev/null or a regular file cannot be polled: no input. */
	return r == -EPERM ? 0 : r;
}

static void chardev_on_readable(void *opaque, uint32_t events)
{
	struct chardev *c = opaque;
	(void)events;
	uint8_t buf[sizeof(c->pending)];
	bool quit = false;
	if (c->lock)
		pthread_mutex_lock(c->lock);
	/* A vCPU may have paused input after epoll reported it: leave it in
	 * the kernel. Read no more than the backlog has room for. */
	ssize_t n = 0;
	if (!c->paused && c->npending < sizeof(c->pending))
		n = read(c->in_fd, buf, sizeof(c->pending) - c->npending);
	if (n == 0 && !c->paused && c->npending < sizeof(c->pending)) {
		/* End of input (stdin closed): stop watching it. */
		event_del_fd(c->loop, c->in_fd);
	}
	for (ssize_t i = 0; i < n; i++) {
		uint8_t ch = buf[i];
		if (c->mux_escapes) {
			if (c->escape) {
				c->escape = false;
				if (ch == 'x' || ch == 'X') {
					quit = true;
					break;
				}
				if (ch != 0x01)
					continue; /* unknown escape: swallowed, as in QEMU */
			} else if (ch == 0x01) {
				c->escape = true;
				continue;
			}
		}
		/* Nobody to take input (device gone), or the backlog is full: drop. */
		if (c->receive && c->npending < sizeof(c->pending))
			c->pending[c->npending++] = ch;
	}
	if (n > 0)
		chardev_accept_input(c);
	if (c->lock)
		pthread_mutex_unlock(c->lock);
	if (quit && c->quit)
		c->quit(c->quit_opaque);
}
