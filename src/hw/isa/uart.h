/*
 * 16550A UART (COM1 at 0x3f8, IRQ 4 on a PC): divisor latch, FIFOs with
 * trigger levels, line/modem status, interrupt identification, scratch.
 * Transmitted bytes go straight to the chardev; received bytes come from
 * it through uart_receive() (attached by uart_create()).
 */
#ifndef KEMU_HW_ISA_UART_H
#define KEMU_HW_ISA_UART_H

#include <stdint.h>

#include "core/bus.h"
#include "core/chardev.h"
#include "core/irq.h"
#include "util/error.h"

struct uart;

struct uart *uart_create(struct bus *pio, uint16_t base, struct irq_line irq,
			 struct chardev *chr, struct error *e);
void uart_destroy(struct uart *u);

#endif
