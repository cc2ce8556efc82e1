/*
 * Guest-style register access for device unit tests: port I/O and the
 * local APIC window, each access checked to have reached a device.
 */
#ifndef KEMU_TESTS_HWTEST_H
#define KEMU_TESTS_HWTEST_H

#include <stdint.h>

#include "core/bus.h"
#include "core/vm.h"
#include "test.h"

static inline void hwtest_outb(struct bus *pio, uint16_t port, uint8_t v)
{
	CHECK(bus_write(pio, port, &v, 1));
}

static inline uint8_t hwtest_inb(struct bus *pio, uint16_t port)
{
	uint8_t v = 0;
	CHECK(bus_read(pio, port, &v, 1));
	return v;
}

/* A 32-bit access to the local APIC page as vCPU cpu makes it: the
 * window picks the APIC by the calling vCPU. */
static inline uint32_t hwtest_lapic_read(struct vm *vm, uint64_t base, int cpu, unsigned reg)
{
	uint32_t v = 0;
	current_vcpu = &vm->vcpus[cpu];
	CHECK(bus_read(&vm->mmio, base + reg, &v, 4));
	current_vcpu = NULL;
	return v;
}

static inline void hwtest_lapic_write(struct vm *vm, uint64_t base, int cpu, unsigned reg,
				      uint32_t v)
{
	current_vcpu = &vm->vcpus[cpu];
	CHECK(bus_write(&vm->mmio, base + reg, &v, 4));
	current_vcpu = NULL;
}

#endif
