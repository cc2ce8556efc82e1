/*
 * kemu: a virtual machine monitor. main() parses the command line into a
 * validated config, picks the accelerator, and runs the machine; a guest
 * reset tears the machine down and builds it again from the same config.
 * This is the only place that decides to exit.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "accel/accel.h"
#include "board/board.h"
#include "config.h"
#include "util/log.h"

/* SIGINT/SIGTERM/SIGHUP end the guest cleanly, as in QEMU. */
struct signal_watch {
	int fd;
	struct vm *vm;
	bool *terminated; /* outlives the machine: a signal that races a reset still ends kemu */
};

static void on_signal(void *opaque, uint32_t events)
{
	struct signal_watch *w = opaque;
	struct signalfd_siginfo si;
	(void)events;
	if (read(w->fd, &si, sizeof(si)) == sizeof(si)) {
		log_info("terminating on signal %u", si.ssi_signo);
		*w->terminated = true;
		vm_request_shutdown(w->vm, 0);
	}
}

int main(int argc, char **argv)
{
	struct config cfg;
	struct error e = { "" };
	int r = config_parse(&cfg, argc, argv, &e);
	if (r == CONFIG_EXIT || r < 0) {
		if (r < 0)
			log_error("%s", e.msg);
		config_free(&cfg);
		return r < 0 ? 1 : 0;
	}
	if (r == CONFIG_ACCEL_HELP) {
		printf("Accelerators supported in this kemu binary:\n");
		for (enum accel_kind k = ACCEL_KVM; k <= ACCEL_TCG; k++)
			if (accel_lookup(k))
				printf("%s\n", accel_lookup(k)->name);
		return 0;
	}
	const struct accel_ops *accel = accel_select(&cfg, &e);
	if (!accel) {
		log_error("%s", e.msg);
		config_free(&cfg);
		return 1;
	}

	/* Blocked in every thread (vCPU threads inherit the mask), read via signalfd. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	int sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);

	struct chardev serial;
	if (chardev_open(&serial, cfg.serial, cfg.serial_path, &e)) {
		log_error("-serial: %s", e.msg);
		if (sfd >= 0)
			close(sfd);
		config_free(&cfg);
		return 1;
	}

	int status;
	bool terminated = false;
	for (;;) {
		struct vm vm;
		struct board *board;
		if (board_create(&board, &vm, &cfg, accel, &serial, &e)) {
			log_error("%s", e.msg);
			board_destroy(board);
			status = 1;
			break;
		}
		struct signal_watch watch = { sfd, &vm, &terminated };
		if (sfd >= 0)
			event_add_fd(&vm.loop, sfd, EPOLLIN, on_signal, &watch);
		enum vm_stop why = vm_run(&vm);
		status = why == VM_STOP_SHUTDOWN ? vm.exit_status : why == VM_STOP_RESET ? 0 : 1;
		board_destroy(board);
		if (terminated && why == VM_STOP_RESET)
			status = 0; /* the reset won the race with SIGTERM/SIGINT */
		if (why != VM_STOP_RESET || cfg.no_reboot || terminated)
			break;
		log_debug("guest reset: rebuilding the machine");
	}
	chardev_close(&serial);
	chardev_restore_terminal();
	if (sfd >= 0)
		close(sfd);
	config_free(&cfg);
	return status;
}
