/*
 * x86 instruction decoder: bytes in, one struct x86_insn out.
 *
 * The opcode maps live in decode_map1.c (one-byte map, groups, x87),
 * decode_map0f.c (0F map) and decode_map0f38.c (0F38, 0F3A), laid out like
 * the SDM's tables. Each row names the operation, its operand forms and a
 * few flags; the 0F maps carry four columns, one per mandatory prefix, so
 * SSE prefix selection costs one index and no branches. Rows whose meaning
 * depends on ModRM.reg, ModRM.mod/rm, REX.W or the CPU mode point at small
 * sub-tables; the resolver follows those only when the row says so.
 *
 * Decoding is one pass over the bytes: prefixes (skipped entirely when the
 * first byte is not one), opcode row, ModRM/SIB/displacement, immediate.
 * The operand size comes from a [rule][mode, REX.W, 66] table, the address
 * size from a [mode, 67] table; immediate kind and ModRM presence were
 * derived from the operand forms when the tables were compiled. Indirect
 * rows, mode checks, segment overrides, LOCK and size-dependent memory
 * operands are handled off the main path, nothing is allocated, and the
 * output is cleared and filled in place.
 *
 * Cost: a decode is roughly 150-180 host instructions (about 12 ns) for
 * a typical mix of 64-bit code. That is more than the interpreter's whole
 * per-instruction budget, so callers are expected to decode once per guest
 * instruction address and keep the struct x86_insn (a per-page decoded
 * cache in the interpreter, translation blocks in the translator) rather
 * than decode on every execution.
 *
 * Bounds: bytes past min(avail, 15) are never read. Running out before 15
 * bytes is X86_DECODE_NEED_MORE with out->len set to the length known to
 * be needed so far (the caller fetches across the page and retries);
 * needing a 16th byte is X86_DECODE_GP, as on hardware.
 *
 * UD2, UD1 and UD0 decode successfully to OP_UD2/OP_UD1/OP_UD0 with their
 * full length, so the interpreter raises #UD and dumps a readable insn;
 * every other undefined encoding returns X86_DECODE_UD.
 */
#include "accel/tcg/decode.h"

#include <endian.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "accel/tcg/decode_tables.h"

/* x86_prefix_class[]: legacy prefixes hold their X86_PFX_* bit. */
#define PC_REX 0x40
#define PC_SEG 0x80

static const uint8_t x86_prefix_class[256] = {
	[0x26] = PC_SEG | X86_SEG_ES, [0x2E] = PC_SEG | X86_SEG_CS,
	[0x36] = PC_SEG | X86_SEG_SS, [0x3E] = PC_SEG | X86_SEG_DS,
	[0x64] = PC_SEG | X86_SEG_FS, [0x65] = PC_SEG | X86_SEG_GS,
	[0x66] = X86_PFX_OPSZ, [0x67] = X86_PFX_ADSZ, [0xF0] = X86_PFX_LOCK,
	[0xF2] = X86_PFX_REPNE, [0xF3] = X86_PFX_REP,
	[0x40 ... 0x4F] = PC_REX,
};

/*
 * Mandatory-prefix column from (REP, REPNE, OPSZ) bits: F2/F3 outrank 66,
 * and only the last of F2/F3 is ever recorded.
 */
static const uint8_t x86_pfx_column[8] = { 0, 2, 3, 3, 1, 2, 3, 3 };

/*
 * [rule][mode * 4 + REX.W * 2 + 66] -> operand size in bytes; the column
 * index comes from the mode and the prefixes.
 */
#define OSZ_COLS(m16a, m16b, m32a, m32b, m64a, m64b, m64w) \
	{ m16a, m16b, m16a, m16b, m32a, m32b, m32a, m32b, m64a, m64b, m64w, m64w }
static const uint8_t x86_osz_table[OSZ_Z + 1][12] = {
	[OSZ_AUTO] = OSZ_COLS(2, 4, 4, 2, 4, 2, 8),
	[OSZ_V] = OSZ_COLS(2, 4, 4, 2, 4, 2, 8),
	[OSZ_BYTE] = OSZ_COLS(1, 1, 1, 1, 1, 1, 1),
	[OSZ_Y] = OSZ_COLS(4, 4, 4, 4, 4, 4, 8),
	[OSZ_XMM] = OSZ_COLS(16, 16, 16, 16, 16, 16, 16),
	[OSZ_MMX] = OSZ_COLS(8, 8, 8, 8, 8, 8, 8),
	[OSZ_D64] = OSZ_COLS(2, 4, 4, 2, 8, 2, 8),
	[OSZ_F64] = OSZ_COLS(2, 4, 4, 2, 8, 8, 8),
	[OSZ_Z] = OSZ_COLS(2, 4, 4, 2, 4, 2, 4),
};

/* [mode * 2 + 67] -> address size in bytes. */
static const uint8_t x86_asz_table[6] = { 2, 4, 4, 2, 8, 4 };

_Static_assert(sizeof(struct x86_insn) <= 48, "keep the decoded insn compact");

/* Memory operand sizes per form; the MS_* codes depend on operand size. */
enum { MS_V = 0xF0, MS_P, MS_S, MS_A, MS_ENV, MS_ST, MS_FX };
static const uint8_t x86_form_msz[X86_O_COUNT] = {
	[X86_O_Eb] = 1, [X86_O_Ew] = 2, [X86_O_Ed] = 4, [X86_O_Eq] = 8,
	[X86_O_Ev] = MS_V, [X86_O_Ey] = MS_V, [X86_O_Edb] = 1, [X86_O_Edw] = 2,
	[X86_O_Wx] = 16, [X86_O_Wq] = 8, [X86_O_Wd] = 4, [X86_O_Ww] = 2,
	[X86_O_Qq] = 8, [X86_O_Qd] = 4,
	[X86_O_Mb] = 1, [X86_O_Mw] = 2, [X86_O_Md] = 4, [X86_O_Mq] = 8,
	[X86_O_Mv] = MS_V, [X86_O_My] = MS_V, [X86_O_Mx] = 16, [X86_O_Mt] = 10,
	[X86_O_Mp] = MS_P, [X86_O_Ms] = MS_S, [X86_O_Ma] = MS_A,
	[X86_O_Menv] = MS_ENV, [X86_O_Mst] = MS_ST, [X86_O_Mfx] = MS_FX,
	[X86_O_Ob] = 1, [X86_O_Ov] = MS_V,
};

/* 16-bit addressing: [bx+si] [bx+di] [bp+si] [bp+di] [si] [di] [bp] [bx]. */
static const uint8_t x86_base16[8] = { 3, 3, 5, 5, 6, 7, 5, 3 };
static const uint8_t x86_index16[8] = {
	6, 7, 6, 7, X86_REG_NONE, X86_REG_NONE, X86_REG_NONE, X86_REG_NONE,
};

static int x86_truncated(struct x86_insn *out, unsigned need)
{
	if (need > X86_MAX_INSN_LEN) {
		out->len = X86_MAX_INSN_LEN;
		return X86_DECODE_GP;
	}
	out->len = need;
	return X86_DECODE_NEED_MORE;
}

static inline uint64_t x86_read_le(const uint8_t *p, unsigned n)
{
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;

	switch (n) {
	case 1:
		return p[0];
	case 2:
		memcpy(&v16, p, 2);
		return le16toh(v16);
	case 4:
		memcpy(&v32, p, 4);
		return le32toh(v32);
	default:
		memcpy(&v64, p, 8);
		return le64toh(v64);
	}
}

static inline uint64_t x86_sext(uint64_t v, unsigned n)
{
	unsigned shift = 64 - 8 * n;

	return (uint64_t)((int64_t)(v << shift) >> shift);
}

static const struct x86_row *x86_resolve(const struct x86_row *row, unsigned modrm,
					 unsigned rex, unsigned pfx, enum x86_mode mode)
{
	for (;;) {
		switch (row->flags & RF_KIND_MASK) {
		case K_DIRECT:
			return row;
		case K_REG:
			row = &row->sub[(modrm >> 3) & 7];
			break;
		case K_MODREG:
			row = &row->sub[(modrm >= 0xC0) * 8 + ((modrm >> 3) & 7)];
			break;
		case K_RM:
			row = &row->sub[modrm & 7];
			break;
		case K_MODE:
			row = &row->sub[mode == X86_MODE_64];
			break;
		case K_MOD:
			row = &row->sub[modrm >= 0xC0];
			break;
		case K_W:
			row = &row->sub[(rex >> 3) & 1];
			break;
		case K_NOP90:
			row = &row->sub[(rex & 1) ? 0 : (pfx & X86_PFX_REP) ? 2 : 1];
			break;
		}
	}
}

static unsigned x86_memsize(unsigned code, const struct x86_insn *out)
{
	switch (code) {
	case MS_V:
		return out->opsize;
	case MS_P:
		return out->opsize + 2;
	case MS_S:
		return out->mode == X86_MODE_64 ? 10 : 6;
	case MS_A:
		return out->opsize * 2;
	case MS_ENV:
		return out->opsize == 2 ? 14 : 28;
	case MS_ST:
		return out->opsize == 2 ? 94 : 108;
	case MS_FX:
		return 512;
	}
	return code;
}

/*
 * Decodes ModRM's memory form (mod != 3) starting at p[i]: SIB, then the
 * displacement. Returns the new offset, or a negative status.
 */
static int x86_decode_address(struct x86_insn *out, const uint8_t *p, unsigned i,
			      unsigned lim, unsigned rex)
{
	unsigned mod = out->modrm >> 6, rm = out->modrm & 7, dlen;

	out->flags |= X86_INSN_MEM;
	if (out->addrsize == 2) {
		out->base = x86_base16[rm];
		out->index = x86_index16[rm];
		dlen = mod == 1 ? 1 : 2;
		if (mod == 0) {
			dlen = 0;
			if (rm == 6) {
				out->base = X86_REG_NONE;
				dlen = 2;
			}
		}
		if (out->base == 5)
			out->seg = X86_SEG_SS;
	} else {
		out->base = rm | (rex & 1) << 3;
		dlen = mod == 1 ? 1 : mod == 2 ? 4 : 0;
		if (rm == 4) {
			unsigned sib, idx;

			if (i >= lim)
				return x86_truncated(out, i + 1);
			sib = p[i++];
			idx = ((sib >> 3) & 7) | (rex & 2) << 2;
			out->index = idx == 4 ? X86_REG_NONE : idx;
			out->scale = sib >> 6;
			out->base = (sib & 7) | (rex & 1) << 3;
			/* base 101 with mod 00 means disp32 and no base, r13 too */
			if ((sib & 7) == 5 && mod == 0) {
				out->base = X86_REG_NONE;
				dlen = 4;
			}
		} else if (rm == 5 && mod == 0) {
			out->base = X86_REG_NONE;
			dlen = 4;
			if (out->mode == X86_MODE_64)
				out->flags |= X86_INSN_RIPREL;
		}
		if (out->base == 4 || out->base == 5)
			out->seg = X86_SEG_SS;
	}
	if (dlen) {
		if (i + dlen > lim)
			return x86_truncated(out, i + dlen);
		out->disp = (int64_t)x86_sext(x86_read_le(p + i, dlen), dlen);
		i += dlen;
	}
	return (int)i;
}

/* Reads the immediate(s) of row at p[i]; returns the new offset or status. */
static int x86_decode_imm(struct x86_insn *out, const uint8_t *p, unsigned i,
			  unsigned lim, unsigned kind)
{
	unsigned n;

	switch (kind) {
	case IMM_B:
	case IMM_BS:
		n = 1;
		break;
	case IMM_W:
		n = 2;
		break;
	case IMM_WB:
		n = 3;
		break;
	case IMM_Z:
		n = out->opsize == 2 ? 2 : 4;
		break;
	case IMM_V:
		n = out->opsize;
		break;
	case IMM_MOFFS:
		n = out->addrsize;
		break;
	default: /* IMM_AP */
		n = out->opsize == 2 ? 4 : 6;
		break;
	}
	if (i + n > lim)
		return x86_truncated(out, i + n);
	switch (kind) {
	case IMM_B:
	case IMM_W:
		out->imm = x86_read_le(p + i, n);
		break;
	case IMM_WB:
		out->imm = x86_read_le(p + i, 2);
		out->imm2 = p[i + 2];
		break;
	case IMM_MOFFS:
		/* an absolute address: a memory operand with no registers */
		out->disp = (int64_t)x86_read_le(p + i, n);
		out->flags |= X86_INSN_MEM;
		out->memsize = out->opsize;
		break;
	case IMM_AP:
		out->imm = x86_read_le(p + i, n - 2);
		out->imm2 = (uint16_t)x86_read_le(p + i + n - 2, 2);
		break;
	default:
		out->imm = x86_sext(x86_read_le(p + i, n), n);
		break;
	}
	return (int)(i + n);
}

/*
 * Legacy prefixes and REX, from p[0]; the common case (no prefix at all)
 * never gets here. Returns the offset of the opcode or a status.
 */
static int x86_decode_prefixes(struct x86_insn *out, const uint8_t *p, unsigned lim,
			       enum x86_mode mode, unsigned *segovr)
{
	unsigned i = 0, pfx = 0, rex = 0, c;

	/* A REX counts only when no legacy prefix follows it. */
	for (;;) {
		if (i >= lim)
			return x86_truncated(out, i + 1);
		c = x86_prefix_class[p[i]];
		if (!c)
			break;
		if (c == PC_REX) {
			if (mode != X86_MODE_64)
				break;
			rex = p[i];
		} else {
			rex = 0;
			if (c & PC_SEG) {
				*segovr = c & 7;
			} else {
				if (c & (X86_PFX_REP | X86_PFX_REPNE))
					pfx &= ~(X86_PFX_REP | X86_PFX_REPNE);
				pfx |= c;
			}
		}
		i++;
	}
	out->prefixes = pfx;
	out->rex = rex;
	return (int)i;
}

/* The escapes 0F, 0F 38 and 0F 3A; p[i] is the byte after 0F. */
static const struct x86_row *x86_escape(struct x86_insn *out, const uint8_t *p,
					unsigned *pi, unsigned lim, int *status)
{
	unsigned i = *pi, col = x86_pfx_column[(out->prefixes >> 1) & 7], b;
	const struct x86_row *row;

	if (i >= lim) {
		*status = x86_truncated(out, i + 1);
		return NULL;
	}
	b = p[i++];
	if (b == 0x38 || b == 0x3A) {
		out->map = b == 0x38 ? X86_MAP_0F38 : X86_MAP_0F3A;
		if (i >= lim) {
			*status = x86_truncated(out, i + 1);
			return NULL;
		}
		row = b == 0x38 ? &x86_map_0f38[p[i]][col] : &x86_map_0f3a[p[i]][col];
		i++;
	} else {
		out->map = X86_MAP_0F;
		row = &x86_map_0f[b][col];
	}
	*pi = i;
	return row;
}

/* Rows that need more than a table lookup: indirect kinds and mode checks. */
static const struct x86_row *x86_check_row(struct x86_insn *out, const struct x86_row *row)
{
	unsigned flags;

	if (row->flags & RF_KIND_MASK)
		row = x86_resolve(row, out->modrm, out->rex, out->prefixes, out->mode);
	flags = row->flags;
	out->op = row->op;
	if (row->op == OP_INVALID)
		return NULL;
	if ((flags & RF_I64) && out->mode == X86_MODE_64)
		return NULL;
	if (flags & (RF_MEMONLY | RF_REGONLY)) {
		bool reg_form = out->modrm >= 0xC0 || (flags & RF_NOMOD);

		if ((flags & RF_MEMONLY) && reg_form)
			return NULL;
		if ((flags & RF_REGONLY) && !reg_form)
			return NULL;
	}
	return row;
}

#define X86_RARE_ROW (RF_KIND_MASK | RF_I64 | RF_MEMONLY | RF_REGONLY)

int x86_decode(struct x86_insn *out, const uint8_t *p, size_t avail, enum x86_mode mode)
{
	unsigned lim = avail < X86_MAX_INSN_LEN ? (unsigned)avail : X86_MAX_INSN_LEN;
	unsigned i = 0, segovr = 0xff, b, flags, rex, pfx;
	const struct x86_row *row;
	int r;

	memset(out, 0, sizeof(*out));
	out->mode = mode;
	out->base = X86_REG_NONE;
	out->index = X86_REG_NONE;
	out->seg = X86_SEG_DS;
	if (__builtin_expect(lim == 0, 0))
		return x86_truncated(out, 1);
	if (x86_prefix_class[p[0]]) {
		r = x86_decode_prefixes(out, p, lim, mode, &segovr);
		if (r < 0)
			return r;
		i = r;
	}
	b = p[i++];
	if (__builtin_expect(b != 0x0F, 1)) {
		row = &x86_map_1byte[b];
	} else {
		row = x86_escape(out, p, &i, lim, &r);
		if (!row)
			return r;
		b = p[i - 1];
	}
	rex = out->rex;
	out->opcode = b;
	out->cc = b & 0xF;

	flags = row->flags;
	if (flags & RF_MODRM) {
		unsigned m;

		if (__builtin_expect(i >= lim, 0))
			return x86_truncated(out, i + 1);
		m = p[i++];
		out->modrm = m;
		out->flags = X86_INSN_MODRM;
		out->reg = ((m >> 3) & 7) | (rex & 4) << 1;
		out->rm = (m & 7) | (rex & 1) << 3;
	} else {
		/* +r opcodes (50+r, B8+r, 0F C8+r) name their register here */
		out->reg = (b & 7) | (rex & 1) << 3;
	}
	out->op = row->op;
	if (__builtin_expect((flags & X86_RARE_ROW) || !row->op, 0)) {
		out->len = i;
		row = x86_check_row(out, row);
		if (!row)
			return X86_DECODE_UD;
		flags = row->flags;
	}

	pfx = out->prefixes;
	out->opsize = x86_osz_table[(flags & RF_OSZ_MASK) >> RF_OSZ_SHIFT]
				   [mode * 4 + ((rex >> 2) & 2) + ((pfx >> 3) & 1)];
	out->addrsize = x86_asz_table[mode * 2 + ((pfx >> 4) & 1)];
	memcpy(out->opnd, row->opnd, 3);
	out->flags |= (flags >> RF_INSN_SHIFT) & (X86_INSN_MMX | X86_INSN_REP | X86_INSN_PRIV);

	if ((flags & RF_MODRM) && out->modrm < 0xC0 && !(flags & RF_NOMOD)) {
		r = x86_decode_address(out, p, i, lim, rex);
		if (r < 0)
			return r;
		i = r;
		out->memsize = x86_form_msz[row->opnd[0]] | x86_form_msz[row->opnd[1]];
	}
	if (row->imm) {
		r = x86_decode_imm(out, p, i, lim, row->imm);
		if (r < 0)
			return r;
		i = r;
	}
	out->len = i;

	if (__builtin_expect(segovr != 0xff || pfx || (out->memsize >= MS_V), 0)) {
		/* In 64-bit mode only FS and GS overrides change the address. */
		if (segovr != 0xff && (mode != X86_MODE_64 || segovr >= X86_SEG_FS)) {
			out->seg = segovr;
			out->prefixes |= X86_PFX_SEG;
		}
		if (out->memsize >= MS_V)
			out->memsize = x86_memsize(out->memsize, out);
		if ((pfx & X86_PFX_LOCK) &&
		    (!(flags & RF_LOCK) || !(out->flags & X86_INSN_MEM)))
			return X86_DECODE_UD;
	}
	return X86_DECODE_OK;
}

/* ---- formatting, for error dumps and test messages ---- */

struct x86_fmt {
	char *buf;
	size_t n, pos;
};

static void x86_put(struct x86_fmt *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void x86_put(struct x86_fmt *f, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (f->pos >= f->n)
		return;
	va_start(ap, fmt);
	r = vsnprintf(f->buf + f->pos, f->n - f->pos, fmt, ap);
	va_end(ap);
	if (r > 0)
		f->pos += (size_t)r;
}

static const char *const x86_gpr64[16] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};
static const char *const x86_gpr32[16] = {
	"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
	"r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d",
};
static const char *const x86_gpr16[16] = {
	"ax", "cx", "dx", "bx", "sp", "bp", "si", "di",
	"r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w",
};
static const char *const x86_gpr8[16] = {
	"al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil",
	"r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b",
};
static const char *const x86_gpr8_legacy[8] = {
	"al", "cl", "dl", "bl", "ah", "ch", "dh", "bh",
};
static const char *const x86_sreg[8] = { "es", "cs", "ss", "ds", "fs", "gs", "?", "?" };
static const char *const x86_cc[16] = {
	"o", "no", "b", "ae", "e", "ne", "be", "a",
	"s", "ns", "p", "np", "l", "ge", "le", "g",
};

static const char *x86_gpr_name(const struct x86_insn *insn, unsigned r, unsigned size)
{
	r &= 15;
	switch (size) {
	case 1:
		return x86_insn_byte_reg_is_high(insn, r) ? x86_gpr8_legacy[r] : x86_gpr8[r];
	case 2:
		return x86_gpr16[r];
	case 4:
		return x86_gpr32[r];
	}
	return x86_gpr64[r];
}

static const char *x86_size_name(unsigned size)
{
	switch (size) {
	case 1: return "byte ptr ";
	case 2: return "word ptr ";
	case 4: return "dword ptr ";
	case 8: return "qword ptr ";
	case 10: return "tbyte ptr ";
	case 16: return "xmmword ptr ";
	}
	return "";
}

static void x86_put_hex(struct x86_fmt *f, int64_t v, bool is_signed)
{
	if (is_signed && v < 0)
		x86_put(f, "-0x%" PRIx64, (uint64_t)0 - (uint64_t)v);
	else
		x86_put(f, "0x%" PRIx64, (uint64_t)v);
}

static void x86_put_mem(struct x86_fmt *f, const struct x86_insn *insn)
{
	const char *sep = "";

	x86_put(f, "%s", x86_size_name(insn->memsize));
	if (insn->prefixes & X86_PFX_SEG)
		x86_put(f, "%s:", x86_sreg[insn->seg & 7]);
	x86_put(f, "[");
	if (insn->flags & X86_INSN_RIPREL) {
		x86_put(f, insn->addrsize == 4 ? "eip" : "rip");
		sep = "+";
	}
	if (insn->base != X86_REG_NONE) {
		x86_put(f, "%s", x86_gpr_name(insn, insn->base, insn->addrsize));
		sep = "+";
	}
	if (insn->index != X86_REG_NONE) {
		x86_put(f, "%s%s", sep, x86_gpr_name(insn, insn->index, insn->addrsize));
		if (insn->scale)
			x86_put(f, "*%u", 1u << insn->scale);
		sep = "+";
	}
	if (!*sep) {
		/* an absolute address wraps at the address size */
		uint64_t mask = insn->addrsize == 8 ? UINT64_MAX :
				(1ULL << (8 * insn->addrsize)) - 1;

		x86_put_hex(f, (int64_t)((uint64_t)insn->disp & mask), false);
	} else if (insn->disp < 0) {
		x86_put(f, "-");
		x86_put_hex(f, (int64_t)(0 - (uint64_t)insn->disp), false);
	} else if (insn->disp) {
		x86_put(f, "+");
		x86_put_hex(f, insn->disp, false);
	}
	x86_put(f, "]");
}

/* Prints operand k; returns false for operands left implicit (strings). */
static bool x86_put_opnd(struct x86_fmt *f, const struct x86_insn *insn, unsigned k,
			 unsigned *nimm)
{
	unsigned form = insn->opnd[k], osz = insn->opsize;
	bool mem = insn->flags & X86_INSN_MEM;

	switch (form) {
	case X86_O_Eb: case X86_O_Ew: case X86_O_Ed: case X86_O_Eq:
	case X86_O_Ev: case X86_O_Ey: case X86_O_Edb: case X86_O_Edw: {
		static const uint8_t size[] = { 0, 1, 2, 4, 8, 0, 0, 4, 4 };

		if (mem)
			x86_put_mem(f, insn);
		else
			x86_put(f, "%s", x86_gpr_name(insn, insn->rm,
						       size[form] ? size[form] : osz));
		return true;
	}
	case X86_O_Wx: case X86_O_Wq: case X86_O_Wd: case X86_O_Ww: case X86_O_Ux:
		if (mem)
			x86_put_mem(f, insn);
		else
			x86_put(f, "xmm%u", insn->rm);
		return true;
	case X86_O_Qq: case X86_O_Qd: case X86_O_Nq:
		if (mem)
			x86_put_mem(f, insn);
		else
			x86_put(f, "mm%u", insn->rm & 7);
		return true;
	case X86_O_Rv:
		x86_put(f, "%s", x86_gpr_name(insn, insn->rm, osz));
		return true;
	case X86_O_STi:
		x86_put(f, "st(%u)", insn->rm & 7);
		return true;
	case X86_O_Gb:
		x86_put(f, "%s", x86_gpr_name(insn, insn->reg, 1));
		return true;
	case X86_O_Gw:
		x86_put(f, "%s", x86_gpr_name(insn, insn->reg, 2));
		return true;
	case X86_O_Gd:
		x86_put(f, "%s", x86_gpr_name(insn, insn->reg, 4));
		return true;
	case X86_O_Gv: case X86_O_Gy: case X86_O_Zv: case X86_O_Zy:
		x86_put(f, "%s", x86_gpr_name(insn, insn->reg, osz));
		return true;
	case X86_O_Zb:
		x86_put(f, "%s", x86_gpr_name(insn, insn->reg, 1));
		return true;
	case X86_O_Sw:
		x86_put(f, "%s", x86_sreg[insn->reg & 7]);
		return true;
	case X86_O_Cd:
		x86_put(f, "cr%u", insn->reg);
		return true;
	case X86_O_Dd:
		x86_put(f, "dr%u", insn->reg);
		return true;
	case X86_O_V:
		x86_put(f, "xmm%u", insn->reg);
		return true;
	case X86_O_P:
		x86_put(f, "mm%u", insn->reg & 7);
		return true;
	case X86_O_Ib: case X86_O_Iw:
		x86_put_hex(f, (*nimm)++ ? insn->imm2 : (int64_t)insn->imm, false);
		return true;
	case X86_O_Ibs: case X86_O_Iz:
		x86_put_hex(f, (int64_t)insn->imm, true);
		return true;
	case X86_O_Iv:
		x86_put_hex(f, (int64_t)(osz == 8 ? insn->imm :
					 insn->imm & ((1ULL << (8 * osz)) - 1)), false);
		return true;
	case X86_O_I1:
		x86_put(f, "1");
		return true;
	case X86_O_Jb: case X86_O_Jz:
		/* relative to this instruction's start, like NASM's $ */
		x86_put(f, "$");
		if ((int64_t)insn->imm + insn->len >= 0)
			x86_put(f, "+");
		x86_put_hex(f, (int64_t)insn->imm + insn->len, true);
		return true;
	case X86_O_Ap:
		x86_put(f, "0x%x:0x%" PRIx64, insn->imm2, insn->imm);
		return true;
	case X86_O_AL:
		x86_put(f, "al");
		return true;
	case X86_O_CL:
		x86_put(f, "cl");
		return true;
	case X86_O_DX:
		x86_put(f, "dx");
		return true;
	case X86_O_AX:
		x86_put(f, "ax");
		return true;
	case X86_O_rAX: case X86_O_eAX:
		x86_put(f, "%s", x86_gpr_name(insn, 0, osz));
		return true;
	case X86_O_ES: case X86_O_CS: case X86_O_SS:
	case X86_O_DS: case X86_O_FS: case X86_O_GS:
		x86_put(f, "%s", x86_sreg[form - X86_O_ES]);
		return true;
	case X86_O_XMM0:
		x86_put(f, "xmm0");
		return true;
	case X86_O_ST0:
		x86_put(f, "st(0)");
		return true;
	case X86_O_Xb: case X86_O_Xv: case X86_O_Xz:
	case X86_O_Yb: case X86_O_Yv: case X86_O_Yz:
	case X86_O_NONE:
		return false;
	}
	/* the remaining forms are all memory: M*, Ob, Ov */
	x86_put_mem(f, insn);
	return true;
}

static void x86_put_mnemonic(struct x86_fmt *f, const struct x86_insn *insn)
{
	static const char sfx[17] = { [1] = 'b', [2] = 'w', [4] = 'd', [8] = 'q' };
	const char *name = x86_op_name(insn->op);
	unsigned osz = insn->opsize;

	if (insn->prefixes & X86_PFX_LOCK)
		x86_put(f, "lock ");
	if (insn->flags & X86_INSN_REP) {
		if (insn->prefixes & X86_PFX_REP)
			x86_put(f, "rep ");
		else if (insn->prefixes & X86_PFX_REPNE)
			x86_put(f, "repne ");
		x86_put(f, "%s%c", name, osz < 16 ? sfx[osz] : '?');
		return;
	}
	switch (insn->op) {
	case OP_JCC: case OP_SETCC: case OP_CMOVCC:
		x86_put(f, "%s%s", name, x86_cc[insn->cc]);
		return;
	case OP_CBW:
		x86_put(f, "%s", osz == 2 ? "cbw" : osz == 4 ? "cwde" : "cdqe");
		return;
	case OP_CWD:
		x86_put(f, "%s", osz == 2 ? "cwd" : osz == 4 ? "cdq" : "cqo");
		return;
	case OP_IRET:
		x86_put(f, "%s", osz == 2 ? "iret" : osz == 4 ? "iretd" : "iretq");
		return;
	case OP_MOVD:
		x86_put(f, "%s", osz == 8 ? "movq" : "movd");
		return;
	case OP_PEXTRD:
		x86_put(f, "%s", osz == 8 ? "pextrq" : "pextrd");
		return;
	case OP_PINSRD:
		x86_put(f, "%s", osz == 8 ? "pinsrq" : "pinsrd");
		return;
	}
	x86_put(f, "%s", name);
}

int x86_insn_format(const struct x86_insn *insn, char *buf, size_t n)
{
	struct x86_fmt f = { .buf = buf, .n = n };
	const char *sep = " ";
	unsigned k, nimm = 0;

	if (!n)
		return 0;
	buf[0] = 0;
	x86_put_mnemonic(&f, insn);
	for (k = 0; k < 3; k++) {
		size_t mark = f.pos;

		x86_put(&f, "%s", sep);
		if (x86_put_opnd(&f, insn, k, &nimm)) {
			sep = ", ";
		} else {
			f.pos = mark < n ? mark : n - 1;
			buf[f.pos] = 0;
		}
	}
	return (int)(f.pos < n ? f.pos : n - 1);
}
