/*
 * i8042 keyboard controller with a minimal keyboard behind it and an aux
 * (mouse) port with nothing plugged in. It exists so that guests find a
 * controller when they probe and, above all, so that the classic reset
 * paths (command 0xfe, any output port pulse or write that drops bit 0)
 * reboot the machine.
 *
 * Bytes for the guest (command replies, keyboard ACKs, loopback bytes)
 * queue in a small output buffer read at port 0x60; status bit 0 says it
 * is non-empty and bit 5 that the byte at its head is aux data. The byte
 * at the head drives one line: IRQ 1 for keyboard data (controller
 * replies count as keyboard data) if command byte bit 0 is set, IRQ 12 for
 * aux data if bit 1 is. Reading port 0x60 drops the line; if more bytes
 * wait, the next one raises it again, as a real controller refills its
 * one-byte buffer.
 *
 * What Linux's probe needs, so that it finishes without timeouts: the
 * self-test (0xaa), command byte access, the aux interface test (0xa9)
 * and aux loopback (0xd3), whose byte comes back as aux data with IRQ 12 -
 * that is how Linux checks the aux interrupt is wired. Bytes sent to the
 * absent mouse (0xd4) are answered at once with 0xfe and the status
 * timeout bit, which is what a controller reports when no device clocks
 * the byte in; psmouse then gives up immediately instead of waiting.
 */
#include "hw/isa/i8042.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT 0x64

#define STS_OBF 0x01
#define STS_SYS 0x04
#define STS_CMD 0x08 /* last write went to the command port */
#define STS_UNLOCKED 0x10
#define STS_AUXB 0x20 /* the byte at the head came from the aux port */
#define STS_TIMEOUT 0x40 /* the device did not answer */

#define CTR_KBD_INT 0x01
#define CTR_AUX_INT 0x02
#define CTR_SYS 0x04
#define CTR_KBD_DISABLE 0x10
#define CTR_AUX_DISABLE 0x20
#define CTR_XLATE 0x40

#define OUTPORT_RESET 0x01 /* active low: clearing it resets the CPU */
#define OUTPORT_A20 0x02

#define KBD_ACK 0xfa
#define AUX_NO_DEVICE 0xfe /* with STS_TIMEOUT: nobody answered on the aux port */

#define OUT_QUEUE_SIZE 16
#define RAM_SIZE 32

/* What the next byte written to port 0x60 is for. */
enum i8042_expect {
	EXPECT_KBD_CMD,     /* a keyboard command */
	EXPECT_KBD_PARAM,   /* the parameter of a keyboard command */
	EXPECT_RAM,         /* controller RAM (0x60-0x7f commands) */
	EXPECT_OUTPORT,     /* 0xd1 */
	EXPECT_KBD_ECHO,    /* 0xd2 */
	EXPECT_AUX_ECHO,    /* 0xd3 */
	EXPECT_AUX_DEVICE,  /* 0xd4: nobody is there */
};

struct i8042 {
	struct vm *vm;
	struct irq_line kbd_irq, aux_irq;
	bool kbd_level, aux_level;
	int registered; /* port ranges claimed, for a partial create */
	struct {
		uint8_t byte;
		bool aux;
		bool timeout;
	} out[OUT_QUEUE_SIZE];
	unsigned out_head, out_count;
	uint8_t last_out;
	uint8_t ram[RAM_SIZE]; /* ram[0] is the command byte */
	uint8_t outport;
	uint8_t status_flags; /* STS_SYS and STS_CMD */
	enum i8042_expect expect;
	uint8_t ram_index;
	uint8_t kbd_cmd; /* awaiting its parameter */
};

static void i8042_set_line(const struct irq_line *l, bool *cur, bool level)
{
	if (*cur != level) {
		*cur = level;
		irq_line_set(l, level);
	}
}

/* The lines follow the byte at the head of the buffer and the enable bits. */
static void i8042_update_irq(struct i8042 *k)
{
	bool kbd = false, aux = false;
	if (k->out_count) {
		if (k->out[k->out_head].aux)
			aux = k->ram[0] & CTR_AUX_INT;
		else
			kbd = k->ram[0] & CTR_KBD_INT;
	}
	i8042_set_line(&k->kbd_irq, &k->kbd_level, kbd);
	i8042_set_line(&k->aux_irq, &k->aux_level, aux);
}

/* A full queue drops the byte: the guest is not reading its replies. */
static void i8042_queue_flags(struct i8042 *k, uint8_t byte, bool aux, bool timeout)
{
	if (k->out_count >= OUT_QUEUE_SIZE)
		return;
	unsigned tail = (k->out_head + k->out_count) % OUT_QUEUE_SIZE;
	k->out[tail].byte = byte;
	k->out[tail].aux = aux;
	k->out[tail].timeout = timeout;
	k->out_count++;
	i8042_update_irq(k);
}

static void i8042_queue(struct i8042 *k, uint8_t byte, bool aux)
{
	i8042_queue_flags(k, byte, aux, false);
}

static uint8_t i8042_dequeue(struct i8042 *k)
{
	if (k->out_count) {
		k->last_out = k->out[k->out_head].byte;
		k->out_head = (k->out_head + 1) % OUT_QUEUE_SIZE;
		k->out_count--;
		/* Drop the line first so that a next byte raises a fresh edge. */
		i8042_set_line(&k->kbd_irq, &k->kbd_level, false);
		i8042_set_line(&k->aux_irq, &k->aux_level, false);
		i8042_update_irq(k);
	}
	return k->last_out;
}

static void i8042_reset_cpu(struct i8042 *k)
{
	vm_request_reset(k->vm);
}

static void i8042_write_outport(struct i8042 *k, uint8_t v)
{
	k->outport = v;
	if (!(v & OUTPORT_RESET))
		i8042_reset_cpu(k);
}

static void i8042_kbd_command(struct i8042 *k, uint8_t cmd)
{
	switch (cmd) {
	case 0xed: /* set LEDs */
	case 0xf0: /* get/set scan code set */
	case 0xf3: /* set typematic rate */
		i8042_queue(k, KBD_ACK, false);
		k->kbd_cmd = cmd;
		k->expect = EXPECT_KBD_PARAM;
		return;
	case 0xee: /* echo */
		i8042_queue(k, 0xee, false);
		return;
	case 0xf2: /* identify: an MF2 keyboard, as the controller translates it */
		i8042_queue(k, KBD_ACK, false);
		i8042_queue(k, 0xab, false);
		i8042_queue(k, (k->ram[0] & CTR_XLATE) ? 0x41 : 0x83, false);
		return;
	case 0xff: /* reset: ACK, then self-test passed */
		i8042_queue(k, KBD_ACK, false);
		i8042_queue(k, 0xaa, false);
		return;
	default: /* enable, disable, defaults and the rest: just agree */
		i8042_queue(k, KBD_ACK, false);
		return;
	}
}

static void i8042_kbd_param(struct i8042 *k, uint8_t param)
{
	i8042_queue(k, KBD_ACK, false);
	if (k->kbd_cmd == 0xf0 && param == 0)
		i8042_queue(k, 0x02, false); /* scan code set 2 */
}

static void i8042_write_data(struct i8042 *k, uint8_t v)
{
	enum i8042_expect what = k->expect;
	k->expect = EXPECT_KBD_CMD;
	k->status_flags &= ~STS_CMD;
	switch (what) {
	case EXPECT_KBD_CMD:
		i8042_kbd_command(k, v);
		break;
	case EXPECT_KBD_PARAM:
		i8042_kbd_param(k, v);
		break;
	case EXPECT_RAM:
		k->ram[k->ram_index % RAM_SIZE] = v;
		if (k->ram_index == 0) {
			k->status_flags = (k->status_flags & ~STS_SYS) | (v & CTR_SYS);
			i8042_update_irq(k); /* the interrupt enables may have changed */
		}
		break;
	case EXPECT_OUTPORT:
		i8042_write_outport(k, v);
		break;
	case EXPECT_KBD_ECHO:
		i8042_queue(k, v, false);
		break;
	case EXPECT_AUX_ECHO:
		i8042_queue(k, v, true);
		break;
	case EXPECT_AUX_DEVICE:
		i8042_queue_flags(k, AUX_NO_DEVICE, true, true);
		break;
	}
}

static void i8042_write_command(struct i8042 *k, uint8_t cmd)
{
	k->status_flags |= STS_CMD;
	k->expect = EXPECT_KBD_CMD;
	if (cmd >= 0x20 && cmd <= 0x3f) { /* read controller RAM */
		i8042_queue(k, k->ram[cmd & (RAM_SIZE - 1)], false);
		return;
	}
	if (cmd >= 0x60 && cmd <= 0x7f) { /* write controller RAM */
		k->ram_index = cmd & (RAM_SIZE - 1);
		k->expect = EXPECT_RAM;
		return;
	}
	if (cmd >= 0xf0) {
		/* Pulse the output port lines whose command bits are 0. */
		if (!(cmd & OUTPORT_RESET))
			i8042_reset_cpu(k);
		return;
	}
	switch (cmd) {
	case 0xa7:
		k->ram[0] |= CTR_AUX_DISABLE;
		break;
	case 0xa8:
		k->ram[0] &= ~CTR_AUX_DISABLE;
		break;
	case 0xa9: /* aux interface test: no error */
	case 0xab: /* keyboard interface test: no error */
		i8042_queue(k, 0x00, false);
		break;
	case 0xaa: /* controller self-test */
		k->status_flags |= STS_SYS;
		i8042_queue(k, 0x55, false);
		break;
	case 0xad:
		k->ram[0] |= CTR_KBD_DISABLE;
		break;
	case 0xae:
		k->ram[0] &= ~CTR_KBD_DISABLE;
		break;
	case 0xc0: /* read input port: nothing interesting asserted */
		i8042_queue(k, 0x00, false);
		break;
	case 0xd0:
		i8042_queue(k, k->outport, false);
		break;
	case 0xd1:
		k->expect = EXPECT_OUTPORT;
		break;
	case 0xd2:
		k->expect = EXPECT_KBD_ECHO;
		break;
	case 0xd3:
		k->expect = EXPECT_AUX_ECHO;
		break;
	case 0xd4:
		k->expect = EXPECT_AUX_DEVICE;
		break;
	case 0xe0: /* read test inputs */
		i8042_queue(k, 0x00, false);
		break;
	default:
		break; /* unknown commands are ignored, as real controllers do */
	}
}

static uint8_t i8042_status(const struct i8042 *k)
{
	uint8_t s = k->status_flags | STS_UNLOCKED;
	if (k->out_count) {
		s |= STS_OBF;
		if (k->out[k->out_head].aux)
			s |= STS_AUXB;
		if (k->out[k->out_head].timeout)
			s |= STS_TIMEOUT;
	}
	return s;
}

static uint64_t i8042_data_read(void *opaque, uint64_t offset, unsigned size)
{
	(void)offset;
	(void)size;
	return i8042_dequeue(opaque);
}

static void i8042_data_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	(void)offset;
	(void)size;
	i8042_write_data(opaque, (uint8_t)value);
}

static uint64_t i8042_cmd_read(void *opaque, uint64_t offset, unsigned size)
{
	(void)offset;
	(void)size;
	return i8042_status(opaque);
}

static void i8042_cmd_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	(void)offset;
	(void)size;
	i8042_write_command(opaque, (uint8_t)value);
}

/* Two one-byte ranges: 0x61-0x63 in between belong to other devices. */
static const struct bus_ops i8042_data_ops = {
	.read = i8042_data_read,
	.write = i8042_data_write,
};

static const struct bus_ops i8042_cmd_ops = {
	.read = i8042_cmd_read,
	.write = i8042_cmd_write,
};

struct i8042 *i8042_create(struct vm *vm, struct irq_line kbd_irq, struct irq_line aux_irq,
			   struct error *e)
{
	struct i8042 *k = calloc(1, sizeof(*k));
	if (!k) {
		error_set(e, -ENOMEM, "i8042: out of memory");
		return NULL;
	}
	k->vm = vm;
	k->kbd_irq = kbd_irq;
	k->aux_irq = aux_irq;
	k->ram[0] = CTR_KBD_INT | CTR_SYS | CTR_XLATE;
	k->status_flags = STS_SYS;
	k->outport = OUTPORT_RESET | OUTPORT_A20;
	int r = bus_register(&vm->pio, I8042_DATA_PORT, 1, &i8042_data_ops, k, "i8042-data");
	if (r) {
		error_set(e, r, "i8042: cannot claim port 0x%x", I8042_DATA_PORT);
		i8042_destroy(k);
		return NULL;
	}
	k->registered = 1;
	r = bus_register(&vm->pio, I8042_CMD_PORT, 1, &i8042_cmd_ops, k, "i8042-cmd");
	if (r) {
		error_set(e, r, "i8042: cannot claim port 0x%x", I8042_CMD_PORT);
		i8042_destroy(k);
		return NULL;
	}
	k->registered = 2;
	return k;
}

void i8042_destroy(struct i8042 *k)
{
	if (!k)
		return;
	if (k->registered >= 2)
		bus_unregister(&k->vm->pio, I8042_CMD_PORT);
	if (k->registered >= 1)
		bus_unregister(&k->vm->pio, I8042_DATA_PORT);
	free(k);
}
