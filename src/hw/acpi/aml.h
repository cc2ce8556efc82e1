/*
 * A small AML byte emitter for the DSDT: just the constructs kemu's tables
 * use (names, integers, packages, scopes, devices, and resource-template
 * buffers). Output goes into a caller-supplied buffer; running out of room
 * sets a sticky overflow flag instead of failing each call, so a table is
 * written straight through and checked once at the end.
 *
 * Length-prefixed objects (Scope, Device, Package, Buffer) are opened with
 * an *_begin call that returns a mark, and closed with the matching *_end
 * once their contents are known; the PkgLength is inserted then.
 */
#ifndef KEMU_HW_ACPI_AML_H
#define KEMU_HW_ACPI_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct aml {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool overflow; /* out of room, or a malformed name or length */
};

void aml_init(struct aml *a, void *buf, size_t cap);

/* PkgLength for content_len bytes following it: writes 1-4 bytes, returns 0 if too long. */
size_t aml_pkglen_encode(uint8_t out[4], size_t content_len);

void aml_byte(struct aml *a, uint8_t b);
void aml_byte_const(struct aml *a, uint8_t v);
void aml_word_const(struct aml *a, uint16_t v);
void aml_dword_const(struct aml *a, uint32_t v);
/* The shortest encoding: Zero, One, or Byte/Word/DWord/QWord constant. */
void aml_integer(struct aml *a, uint64_t v);

/* A NameString: "\\_SB.PCI0", "^FOO", "_S5"; short segments are '_'-padded. */
void aml_name_string(struct aml *a, const char *path);
/* Name(name, ...): the caller emits the object next. */
void aml_name(struct aml *a, const char *name);
/* EISAID("PNP0A03"): the compressed id, to emit with aml_dword_const; 0 if malformed. */
uint32_t aml_eisaid(const char *id);

size_t aml_scope_begin(struct aml *a, const char *path);
size_t aml_device_begin(struct aml *a, const char *path);
size_t aml_package_begin(struct aml *a, uint8_t nelems);
void aml_end(struct aml *a, size_t mark);

/* ResourceTemplate(): a Buffer of descriptors closed by an End Tag. */
size_t aml_resource_begin(struct aml *a);
void aml_resource_end(struct aml *a, size_t mark);
void aml_res_io(struct aml *a, uint16_t min, uint16_t max, uint8_t align, uint8_t len);
void aml_res_irq_noflags(struct aml *a, unsigned irq);
void aml_res_word_bus_number(struct aml *a, uint16_t min, uint16_t max);
void aml_res_word_io(struct aml *a, uint16_t min, uint16_t max);
void aml_res_dword_memory(struct aml *a, uint32_t min, uint32_t max);

#endif
