/*
 * 16550A UART. The transmitter is infinitely fast: a byte written to THR
 * reaches the chardev (or, in loopback, the receive FIFO) before the write
 * returns, so THR and the shift register always read as empty and the
 * divisor latch only needs to be remembered, never obeyed.
 *
 * Input arrives through uart_receive(), which the chardev calls with the
 * bus lock held; it takes only what fits in the receive FIFO (one byte in
 * 16450 mode) and the chardev keeps the rest until a guest read of RBR
 * makes room and we call chardev_accept_input().
 *
 * The interrupt output is level: it follows "some enabled source pending",
 * gated by MCR.OUT2 as the PC's serial port wiring does.
 */
#include "hw/isa/uart.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

/* Register offsets from the base port. */
enum {
	UART_RBR_THR = 0, /* DLL when LCR.DLAB */
	UART_IER = 1,     /* DLM when LCR.DLAB */
	UART_IIR_FCR = 2,
	UART_LCR = 3,
	UART_MCR = 4,
	UART_LSR = 5,
	UART_MSR = 6,
	UART_SCR = 7,
	UART_NREGS = 8,
};

#define IER_RDI 0x01  /* received data available */
#define IER_THRI 0x02 /* THR empty */
#define IER_RLSI 0x04 /* receiver line status */
#define IER_MSI 0x08  /* modem status */
#define IER_MASK 0x0f

#define IIR_NO_INT 0x01
#define IIR_MSI 0x00
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_RLSI 0x06
#define IIR_TIMEOUT 0x0c
#define IIR_FIFO_ENABLED 0xc0

#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define FCR_CLEAR_TX 0x04
#define FCR_DMA 0x08
#define FCR_TRIGGER 0xc0

#define LCR_DLAB 0x80

#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define MCR_MASK 0x1f

#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_PE 0x04
#define LSR_FE 0x08
#define LSR_BI 0x10
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define LSR_ERRORS (LSR_OE | LSR_PE | LSR_FE | LSR_BI)

#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80
#define MSR_DELTAS 0x0f

/* With a back end attached, the far end is always "ready". */
#define MSR_LINES_CONNECTED (MSR_CTS | MSR_DSR | MSR_DCD)

#define UART_FIFO_SIZE 16

struct uart {
	struct bus *pio;
	uint16_t base;
	struct irq_line irq;
	bool irq_level;
	struct chardev *chr;

	uint8_t rx[UART_FIFO_SIZE];
	unsigned rx_head, rx_count;
	uint8_t last_rx; /* RBR keeps its value once the FIFO drains */

	uint8_t ier, fcr, lcr, mcr, lsr_errors, msr, scr;
	uint8_t dll, dlm;
	/* THRE is an event, not a level: reading IIR can clear it while THR
	 * stays empty, and writing THR or enabling IER.THRI re-arms it. */
	bool thr_pending;
};

static bool uart_fifo_enabled(const struct uart *u)
{
	return u->fcr & FCR_ENABLE;
}

static unsigned uart_rx_capacity(const struct uart *u)
{
	return uart_fifo_enabled(u) ? UART_FIFO_SIZE : 1;
}

static unsigned uart_rx_trigger(const struct uart *u)
{
	static const unsigned levels[4] = { 1, 4, 8, 14 };
	return uart_fifo_enabled(u) ? levels[(u->fcr & FCR_TRIGGER) >> 6] : 1;
}

/* The highest-priority pending source, as IIR bits 3:0. */
static uint8_t uart_pending_source(const struct uart *u)
{
	if ((u->ier & IER_RLSI) && (u->lsr_errors & LSR_ERRORS))
		return IIR_RLSI;
	if ((u->ier & IER_RDI) && u->rx_count) {
		/* No character timer: data below the trigger level is reported
		 * as a timeout straight away so that it is never stranded. */
		return u->rx_count >= uart_rx_trigger(u) ? IIR_RDI : IIR_TIMEOUT;
	}
	if ((u->ier & IER_THRI) && u->thr_pending)
		return IIR_THRI;
	if ((u->ier & IER_MSI) && (u->msr & MSR_DELTAS))
		return IIR_MSI;
	return IIR_NO_INT;
}

static void uart_update_irq(struct uart *u)
{
	bool level = uart_pending_source(u) != IIR_NO_INT && (u->mcr & MCR_OUT2);
	if (level != u->irq_level) {
		u->irq_level = level;
		irq_line_set(&u->irq, level);
	}
}

static void uart_rx_clear(struct uart *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
}

/* Returns false (and records an overrun) when there is no room. */
static bool uart_rx_push(struct uart *u, uint8_t byte)
{
	if (u->rx_count >= uart_rx_capacity(u)) {
		u->lsr_errors |= LSR_OE;
		return false;
	}
	u->rx[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = byte;
	u->rx_count++;
	return true;
}

static uint8_t uart_rx_pop(struct uart *u)
{
	if (!u->rx_count)
		return u->last_rx;
	u->last_rx = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
	u->rx_count--;
	return u->last_rx;
}

/* Pulls in input the chardev had to hold back while the FIFO was full. */
static void uart_pull_input(struct uart *u)
{
	if (u->chr && !(u->mcr & MCR_LOOP))
		chardev_accept_input(u->chr);
}

/* Modem input lines (MSR bits 7:4) as the guest would see them now. */
static uint8_t uart_modem_lines(const struct uart *u)
{
	if (!(u->mcr & MCR_LOOP))
		return MSR_LINES_CONNECTED;
	uint8_t m = 0;
	if (u->mcr & MCR_RTS)
		m |= MSR_CTS;
	if (u->mcr & MCR_DTR)
		m |= MSR_DSR;
	if (u->mcr & MCR_OUT1)
		m |= MSR_RI;
	if (u->mcr & MCR_OUT2)
		m |= MSR_DCD;
	return m;
}

static void uart_set_modem_lines(struct uart *u, uint8_t lines)
{
	uint8_t old = u->msr & ~MSR_DELTAS;
	uint8_t changed = old ^ lines;
	uint8_t deltas = 0;
	if (changed & MSR_CTS)
		deltas |= MSR_DCTS;
	if (changed & MSR_DSR)
		deltas |= MSR_DDSR;
	if ((old & MSR_RI) && !(lines & MSR_RI)) /* trailing edge only */
		deltas |= MSR_TERI;
	if (changed & MSR_DCD)
		deltas |= MSR_DDCD;
	u->msr = lines | ((u->msr | deltas) & MSR_DELTAS);
}

static void uart_transmit(struct uart *u, uint8_t byte)
{
	if (u->mcr & MCR_LOOP)
		uart_rx_push(u, byte);
	else if (u->chr)
		chardev_write(u->chr, &byte, 1);
	/* The byte is gone already, so THR is empty again at once. */
	u->thr_pending = true;
}

static size_t uart_receive(void *opaque, const uint8_t *buf, size_t n)
{
	struct uart *u = opaque;
	size_t took = 0;
	/* In loopback the serial input pin is disconnected from the line. */
	if (u->mcr & MCR_LOOP)
		return 0;
	while (took < n && u->rx_count < uart_rx_capacity(u))
		uart_rx_push(u, buf[took++]);
	if (took)
		uart_update_irq(u);
	return took;
}

static void uart_write_fcr(struct uart *u, uint8_t v)
{
	bool was_enabled = uart_fifo_enabled(u);
	if (!(v & FCR_ENABLE)) {
		/* The other bits only take effect together with FIFO enable. */
		u->fcr = 0;
		if (was_enabled)
			uart_rx_clear(u);
	} else {
		/* Toggling FIFO mode empties the FIFOs, per the data sheet. */
		if (!was_enabled || (v & FCR_CLEAR_RX))
			uart_rx_clear(u);
		/* Bit 5 (the 16750's 64-byte FIFO) stays clear so Linux does
		 * not take us for a 16750. */
		u->fcr = v & (FCR_ENABLE | FCR_DMA | FCR_TRIGGER);
	}
	uart_pull_input(u);
}

static void uart_write_ier(struct uart *u, uint8_t v)
{
	uint8_t old = u->ier;
	u->ier = v & IER_MASK;
	/* Enabling THRI with THR empty raises THRE at once; Linux's probe
	 * checks this, and that an IIR read clears it until re-armed. */
	if ((u->ier & IER_THRI) && !(old & IER_THRI))
		u->thr_pending = true;
}

static void uart_write_mcr(struct uart *u, uint8_t v)
{
	bool was_loop = u->mcr & MCR_LOOP;
	u->mcr = v & MCR_MASK;
	uart_set_modem_lines(u, uart_modem_lines(u));
	if (was_loop && !(u->mcr & MCR_LOOP))
		uart_pull_input(u);
}

static uint8_t uart_read_reg(struct uart *u, unsigned reg)
{
	uint8_t v = 0xff;
	switch (reg) {
	case UART_RBR_THR:
		if (u->lcr & LCR_DLAB)
			return u->dll;
		v = uart_rx_pop(u);
		uart_pull_input(u);
		break;
	case UART_IER:
		return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
	case UART_IIR_FCR: {
		uint8_t src = uart_pending_source(u);
		/* Reading IIR is how the guest acknowledges THRE. */
		if (src == IIR_THRI)
			u->thr_pending = false;
		v = src | (uart_fifo_enabled(u) ? IIR_FIFO_ENABLED : 0);
		break;
	}
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		v = u->lsr_errors | LSR_THRE | LSR_TEMT | (u->rx_count ? LSR_DR : 0);
		u->lsr_errors = 0;
		break;
	case UART_MSR:
		v = u->msr;
		u->msr &= ~MSR_DELTAS;
		break;
	case UART_SCR:
		return u->scr;
	}
	uart_update_irq(u);
	return v;
}

static void uart_write_reg(struct uart *u, unsigned reg, uint8_t v)
{
	switch (reg) {
	case UART_RBR_THR:
		if (u->lcr & LCR_DLAB) {
			u->dll = v;
			return;
		}
		uart_transmit(u, v);
		break;
	case UART_IER:
		if (u->lcr & LCR_DLAB) {
			u->dlm = v;
			return;
		}
		uart_write_ier(u, v);
		break;
	case UART_IIR_FCR:
		uart_write_fcr(u, v);
		break;
	case UART_LCR:
		u->lcr = v;
		return;
	case UART_MCR:
		uart_write_mcr(u, v);
		break;
	case UART_LSR:
	case UART_MSR:
		return; /* read-only here; factory-test writes are not modelled */
	case UART_SCR:
		u->scr = v;
		return;
	}
	uart_update_irq(u);
}

/* Wider accesses behave as consecutive byte accesses, as on the ISA bus. */
static uint64_t uart_io_read(void *opaque, uint64_t offset, unsigned size)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < size && i < 8; i++) {
		uint64_t reg = offset + i;
		uint8_t b = reg < UART_NREGS ? uart_read_reg(opaque, (unsigned)reg) : 0xff;
		v |= (uint64_t)b << (8 * i);
	}
	return v;
}

static void uart_io_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	for (unsigned i = 0; i < size && i < 8; i++) {
		uint64_t reg = offset + i;
		if (reg < UART_NREGS)
			uart_write_reg(opaque, (unsigned)reg, (uint8_t)(value >> (8 * i)));
	}
}

static const struct bus_ops uart_ops = {
	.read = uart_io_read,
	.write = uart_io_write,
};

struct uart *uart_create(struct bus *pio, uint16_t base, struct irq_line irq,
			 struct chardev *chr, struct error *e)
{
	struct uart *u = calloc(1, sizeof(*u));
	if (!u) {
		error_set(e, -ENOMEM, "uart at 0x%x: out of memory", base);
		return NULL;
	}
	u->pio = pio;
	u->base = base;
	u->irq = irq;
	u->chr = chr;
	u->dll = 0x0c; /* 9600 baud, what firmware usually leaves behind */
	u->msr = uart_modem_lines(u);
	int r = bus_register(pio, base, UART_NREGS, &uart_ops, u, "uart");
	if (r) {
		error_set(e, r, "uart at 0x%x: cannot claim ports 0x%x-0x%x", base, base,
			  base + UART_NREGS - 1);
		free(u);
		return NULL;
	}
	if (chr)
		chardev_attach(chr, uart_receive, u, pio->lock);
	return u;
}

void uart_destroy(struct uart *u)
{
	if (!u)
		return;
	if (u->chr)
		chardev_attach(u->chr, NULL, NULL, NULL);
	bus_unregister(u->pio, u->base);
	free(u);
}
