/*
 * Character back ends for serial-like devices: the terminal (stdio, raw,
 * with QEMU's Ctrl-A escapes), a file, or nothing.
 *
 * Output: the device calls chardev_write(). Input: the event loop calls
 * chardev_on_readable(); bytes go to the attached device's receive hook,
 * which takes as many as its FIFO has room for. The rest waits in the
 * chardev until the device calls chardev_accept_input().
 */
#ifndef KEMU_CORE_CHARDEV_H
#define KEMU_CORE_CHARDEV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/event.h"
#include "util/error.h"

enum chardev_kind { CHARDEV_NONE, CHARDEV_STDIO, CHARDEV_FILE };

struct chardev {
	enum chardev_kind kind;
	int in_fd;  /* -1 when there is no input */
	int out_fd; /* -1 when output is discarded */
	bool escape; /* saw Ctrl-A */
	bool mux_escapes; /* interpret Ctrl-A sequences (the terminal) */
	/* Device side, set by chardev_attach(); called with *lock held. */
	size_t (*receive)(void *opaque, const uint8_t *buf, size_t n);
	void *dev;
	pthread_mutex_t *lock;
	/* Called (without the lock) when the user types Ctrl-A x. */
	void (*quit)(void *opaque);
	void *quit_opaque;
	uint8_t pending[256];
	size_t npending;
	struct event_loop *loop;
	bool paused; /* input fd removed from the loop while pending is full */
};

int chardev_open(struct chardev *c, enum chardev_kind kind, const char *path, struct error *e);
void chardev_close(struct chardev *c);
void chardev_attach(struct chardev *c, size_t (*receive)(void *, const uint8_t *, size_t),
		    void *dev, pthread_mutex_t *lock);
void chardev_write(struct chardev *c, const void *buf, size_t n);
/* Starts delivering input from in_fd through the event loop. */
int chardev_start(struct chardev *c, struct event_loop *loop);
/* The device made room: deliver what is pending. Caller holds the lock. */
void chardev_accept_input(struct chardev *c);
/* Restores the terminal if a chardev put it in raw mode; async-signal-safe. */
void chardev_restore_terminal(void);

#endif
