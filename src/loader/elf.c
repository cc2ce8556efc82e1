#include "loader/elf.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "loader/layout.h"
#include "loader/le.h"

#define EHDR32_SIZE 52
#define EHDR64_SIZE 64
#define PHDR32_SIZE 32
#define PHDR64_SIZE 56
#define EM_386 3
#define EM_X86_64 62
#define PN_XNUM 0xffff
#define GIB4 (1ULL << 32)

int elf_is_elf(const uint8_t *img, size_t len)
{
	return len >= 16 && !memcmp(img, "\x7f" "ELF", 4);
}

int elf_open(struct elf_file *ef, const uint8_t *img, size_t len, const char *name,
	     struct error *e)
{
	memset(ef, 0, sizeof(*ef));
	if (!elf_is_elf(img, len))
		return error_set(e, -ENOEXEC, "%s: not an ELF file", name);
	if (img[4] != 1 && img[4] != 2)
		return error_set(e, -ENOEXEC, "%s: unknown ELF class %u", name, img[4]);
	ef->is64 = img[4] == 2;
	if (img[5] != 1)
		return error_set(e, -ENOEXEC, "%s: not a little-endian ELF file", name);
	size_t ehsize = ef->is64 ? EHDR64_SIZE : EHDR32_SIZE;
	if (len < ehsize)
		return error_set(e, -ENOEXEC, "%s: truncated ELF header", name);
	uint16_t machine = get_le16(img + 18);
	if (machine != EM_386 && machine != EM_X86_64)
		return error_set(e, -ENOEXEC, "%s: ELF machine %u is not x86", name, machine);
	if (ef->is64) {
		ef->entry = get_le64(img + 24);
		ef->phoff = get_le64(img + 32);
		ef->phentsize = get_le16(img + 54);
		ef->phnum = get_le16(img + 56);
	} else {
		ef->entry = get_le32(img + 24);
		ef->phoff = get_le32(img + 28);
		ef->phentsize = get_le16(img + 42);
		ef->phnum = get_le16(img + 44);
	}
	if (ef->phnum == PN_XNUM)
		return error_set(e, -ENOEXEC, "%s: extended program header count unsupported",
				 name);
	if (ef->phnum && ef->phentsize < (ef->is64 ? PHDR64_SIZE : PHDR32_SIZE))
		return error_set(e, -ENOEXEC, "%s: bad ELF program header size %u", name,
				 ef->phentsize);
	/* phnum and phentsize are 16-bit, so the product cannot overflow. */
	uint64_t table = (uint64_t)ef->phnum * ef->phentsize;
	if (ef->phoff > len || table > len - ef->phoff)
		return error_set(e, -ENOEXEC, "%s: ELF program headers lie outside the file",
				 name);
	ef->img = img;
	ef->len = len;
	return 0;
}

void elf_phdr(const struct elf_file *ef, uint32_t i, struct elf_phdr *ph)
{
	const uint8_t *p = ef->img + ef->phoff + (uint64_t)i * ef->phentsize;
	if (ef->is64) {
		*ph = (struct elf_phdr){
			.type = get_le32(p), .offset = get_le64(p + 8), .vaddr = get_le64(p + 16),
			.paddr = get_le64(p + 24), .filesz = get_le64(p + 32),
			.memsz = get_le64(p + 40), .align = get_le64(p + 48),
		};
	} else {
		*ph = (struct elf_phdr){
			.type = get_le32(p), .offset = get_le32(p + 4), .vaddr = get_le32(p + 8),
			.paddr = get_le32(p + 12), .filesz = get_le32(p + 16),
			.memsz = get_le32(p + 20), .align = get_le32(p + 28),
		};
	}
}

static int in_file(const struct elf_file *ef, uint64_t off, uint64_t size)
{
	return off <= ef->len && size <= ef->len - off;
}

/* Walks the notes of one PT_NOTE segment; all arithmetic stays within it. */
static int note_pvh_entry(const uint8_t *p, uint64_t size, uint64_t align, uint64_t *entry)
{
	/* The gABI says 8 for ELF64, but most producers align notes to 4. */
	uint64_t a = align == 8 ? 8 : 4;
	uint64_t off = 0;
	while (size - off >= 12) {
		uint32_t namesz = get_le32(p + off), descsz = get_le32(p + off + 4);
		uint32_t type = get_le32(p + off + 8);
		uint64_t name_off = off + 12;
		if (namesz > size - name_off)
			return -ENOENT;
		/* Padding is relative to the note's start, which is aligned. */
		uint64_t desc_off = (name_off + namesz + a - 1) & ~(a - 1);
		if (desc_off > size || descsz > size - desc_off)
			return -ENOENT;
		int is_xen = namesz == 4 && !memcmp(p + name_off, "Xen", 4);
		if (is_xen && type == XEN_ELFNOTE_PHYS32_ENTRY && (descsz == 4 || descsz == 8)) {
			*entry = descsz == 4 ? get_le32(p + desc_off) : get_le64(p + desc_off);
			return 0;
		}
		uint64_t next = (desc_off + descsz + a - 1) & ~(a - 1);
		if (next > size)
			return -ENOENT;
		off = next;
	}
	return -ENOENT;
}

int elf_pvh_entry(const struct elf_file *ef, uint64_t *entry)
{
	for (uint32_t i = 0; i < ef->phnum; i++) {
		struct elf_phdr ph;
		elf_phdr(ef, i, &ph);
		if (ph.type != ELF_PT_NOTE || !in_file(ef, ph.offset, ph.filesz))
			continue;
		if (!note_pvh_entry(ef->img + ph.offset, ph.filesz, ph.align, entry))
			return 0;
	}
	return -ENOENT;
}

int elf_load(const struct guest_mem *m, const struct elf_file *ef, const char *name,
	     uint64_t *end, struct error *e)
{
	uint64_t top = 0;
	int nload = 0;
	/* Validate everything first so a bad image leaves guest RAM untouched. */
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t i = 0; i < ef->phnum; i++) {
			struct elf_phdr ph;
			elf_phdr(ef, i, &ph);
			if (ph.type != ELF_PT_LOAD)
				continue;
			if (pass == 1) {
				uint8_t *dst = guest_ptr(m, ph.paddr, ph.memsz);
				memcpy(dst, ef->img + ph.offset, ph.filesz);
				memset(dst + ph.filesz, 0, ph.memsz - ph.filesz);
				continue;
			}
			if (ph.filesz > ph.memsz)
				return error_set(e, -ENOEXEC,
						 "%s: segment %u file size exceeds memory size",
						 name, i);
			if (!in_file(ef, ph.offset, ph.filesz))
				return error_set(e, -ENOEXEC,
						 "%s: segment %u lies outside the file", name, i);
			if (ph.paddr < LAYOUT_KERNEL)
				return error_set(e, -EFAULT,
						 "%s: segment %u at 0x%" PRIx64
						 " is below 1 MiB, where boot data lives",
						 name, i, ph.paddr);
			if (ph.paddr >= GIB4 || ph.memsz > GIB4 - ph.paddr ||
			    !guest_ptr(m, ph.paddr, ph.memsz))
				return error_set(e, -EFAULT,
						 "%s: segment %u (0x%" PRIx64 "+0x%" PRIx64
						 ") is not in guest RAM below 4 GiB",
						 name, i, ph.paddr, ph.memsz);
			if (ph.paddr + ph.memsz > top)
				top = ph.paddr + ph.memsz;
			nload++;
		}
		if (!nload)
			return error_set(e, -ENOEXEC, "%s: no loadable ELF segments", name);
	}
	*end = top;
	return 0;
}

uint64_t elf_virt_to_phys(const struct elf_file *ef, uint64_t vaddr)
{
	for (uint32_t i = 0; i < ef->phnum; i++) {
		struct elf_phdr ph;
		elf_phdr(ef, i, &ph);
		if (ph.type == ELF_PT_LOAD && vaddr >= ph.vaddr && vaddr - ph.vaddr < ph.memsz)
			return ph.paddr + (vaddr - ph.vaddr);
	}
	return vaddr;
}
