/*
 * The decoder's private table format, shared by decode.c and the opcode
 * map files (decode_map1.c, decode_map0f.c, decode_map0f38.c). Rows are
 * written with the R0..R3 macros, which derive everything that follows
 * from the operand forms (ModRM presence, immediate kind, operand-size
 * rule) at compile time so a row reads like a line of the SDM's map.
 */
#ifndef KEMU_ACCEL_TCG_DECODE_TABLES_H
#define KEMU_ACCEL_TCG_DECODE_TABLES_H

#include "accel/tcg/decode.h"

struct x86_row {
	const struct x86_row *sub; /* next table for indirect kinds */
	uint16_t op;
	uint8_t opnd[3];
	uint8_t imm;               /* enum x86_imm_kind */
	uint16_t flags;
};

/* How a row selects its final row; the resolver walks until K_DIRECT. */
enum x86_row_kind {
	K_DIRECT, /* this row is the instruction */
	K_REG,    /* sub[ModRM.reg], 8 rows */
	K_MODREG, /* sub[(mod == 3) * 8 + ModRM.reg], 16 rows */
	K_RM,     /* sub[ModRM.rm], 8 rows (under mod == 3) */
	K_MODE,   /* sub[mode == 64], 2 rows */
	K_MOD,    /* sub[mod == 3], 2 rows */
	K_W,      /* sub[REX.W], 2 rows */
	K_NOP90,  /* sub[XCHG r8 / NOP / PAUSE] */
};

/* The operand-size rule of a row; decode.c turns it into bytes by table. */
enum x86_osz {
	OSZ_AUTO, /* only in macro arguments: derive from the operand forms */
	OSZ_V,    /* 16/32/64 from mode, 66 and REX.W */
	OSZ_BYTE,
	OSZ_Y,    /* 32, or 64 with REX.W; 66 is a mandatory prefix here */
	OSZ_XMM,
	OSZ_MMX,
	OSZ_D64,  /* 64 by default in 64-bit mode, 66 gives 16 */
	OSZ_F64,  /* always 64 in 64-bit mode (Intel ignores 66 on branches) */
	OSZ_Z,    /* 16 or 32, never 64 (IN/OUT/INS/OUTS) */
};

enum x86_imm_kind {
	IMM_NONE,
	IMM_B = 1,  /* 8 bits zero-extended */
	IMM_W = 2,  /* 16 bits zero-extended */
	IMM_WB = 3, /* ENTER: Iw into imm, Ib into imm2 (IMM_W | IMM_B) */
	IMM_BS,     /* 8 bits sign-extended */
	IMM_Z,      /* 16 or 32 bits by operand size, sign-extended */
	IMM_V,      /* operand size bytes (MOV r, imm64) */
	IMM_MOFFS,  /* address size bytes */
	IMM_AP,     /* 16/32-bit offset, then 16-bit selector */
};

#define RF_KIND_MASK 0x0007
#define RF_OSZ_SHIFT 3
#define RF_OSZ_MASK 0x0078
#define RF_MODRM 0x0080
#define RF_I64 0x0100     /* #UD in 64-bit mode */
/* MMX, REP and PRIV sit where (flags >> 6) puts them on X86_INSN_* bits. */
#define RF_MMX 0x0200
#define RF_REP 0x0400     /* string instruction: REP/REPNE are meaningful */
#define RF_PRIV 0x0800
#define RF_INSN_SHIFT 6
#define RF_NOMOD 0x1000   /* ModRM.mod is ignored: always a register */
#define RF_MEMONLY 0x2000
#define RF_REGONLY 0x4000
#define RF_LOCK 0x8000    /* LOCK allowed when the ModRM operand is memory */

#define RF_OSZ(o) ((o) << RF_OSZ_SHIFT)

extern const struct x86_row x86_map_1byte[256];
extern const struct x86_row x86_map_0f[256][4];
extern const struct x86_row x86_map_0f38[256][4];
extern const struct x86_row x86_map_0f3a[256][4];

/* Compile-time classification of operand forms (see enum x86_opnd order). */
#define XO_MODRM(f) ((f) >= X86_O_Eb && (f) <= X86_O_P)
#define XO_MEMONLY(f) ((f) >= X86_O_M && (f) <= X86_O_Mxs)
#define XO_REGONLY(f) ((f) == X86_O_Rv || (f) == X86_O_Ux || (f) == X86_O_Nq)
#define XO_MMX(f) ((f) == X86_O_P || (f) == X86_O_Qq || (f) == X86_O_Qd || \
		   (f) == X86_O_Nq)
#define XO_XMM(f) ((f) == X86_O_V || ((f) >= X86_O_Wx && (f) <= X86_O_Ww) || \
		   (f) == X86_O_Ux || (f) == X86_O_Mx || (f) == X86_O_XMM0)
#define XO_Y(f) ((f) == X86_O_Ey || (f) == X86_O_Gy || (f) == X86_O_Gd || \
		 (f) == X86_O_Edb || (f) == X86_O_Edw || \
		 (f) == X86_O_My || (f) == X86_O_Zy)
#define XO_Z(f) ((f) == X86_O_eAX || (f) == X86_O_Xz || (f) == X86_O_Yz)
#define XO_BYTE(f) ((f) == X86_O_Eb || (f) == X86_O_Gb || (f) == X86_O_AL || \
		    (f) == X86_O_Zb || (f) == X86_O_Ob || (f) == X86_O_Xb || \
		    (f) == X86_O_Yb || (f) == X86_O_Mb)
/* A first operand that carries no size of its own (OUT Ib, AL). */
#define XO_UNSIZED(f) ((f) == X86_O_Ib || (f) == X86_O_DX || (f) == X86_O_NONE)

#define XO_IMM(f) \
	((f) == X86_O_Ib ? IMM_B : \
	 (f) == X86_O_Iw ? IMM_W : \
	 (f) == X86_O_Ibs || (f) == X86_O_Jb ? IMM_BS : \
	 (f) == X86_O_Iz || (f) == X86_O_Jz ? IMM_Z : \
	 (f) == X86_O_Iv ? IMM_V : \
	 (f) == X86_O_Ob || (f) == X86_O_Ov ? IMM_MOFFS : \
	 (f) == X86_O_Ap ? IMM_AP : IMM_NONE)

#define XO_ANY(p, a, b, c) (p(a) || p(b) || p(c))

#define XO_OSZ(a, b, c) \
	(XO_BYTE(a) || (XO_UNSIZED(a) && XO_BYTE(b)) ? OSZ_BYTE : \
	 XO_ANY(XO_Y, a, b, c) ? OSZ_Y : \
	 XO_ANY(XO_XMM, a, b, c) ? OSZ_XMM : \
	 XO_ANY(XO_MMX, a, b, c) ? OSZ_MMX : \
	 XO_ANY(XO_Z, a, b, c) ? OSZ_Z : OSZ_V)

#define X86_ROW(op_, a, b, c, fl) { \
	.op = (op_), .opnd = { (a), (b), (c) }, \
	.imm = XO_IMM(a) | XO_IMM(b) | XO_IMM(c), \
	.flags = (fl) | \
		(((fl) & RF_OSZ_MASK) ? 0 : RF_OSZ(XO_OSZ(a, b, c))) | \
		(XO_ANY(XO_MODRM, a, b, c) ? RF_MODRM : 0) | \
		(XO_ANY(XO_MEMONLY, a, b, c) ? RF_MEMONLY : 0) | \
		(XO_ANY(XO_REGONLY, a, b, c) ? RF_REGONLY : 0) | \
		(XO_ANY(XO_MMX, a, b, c) ? RF_MMX : 0) }

/*
 * Shorthand for the map files only: rows there read like the SDM, e.g.
 * R2(OP_ADD, Eb, Gb, LK).
 */
#ifdef X86_TABLE_SHORTHAND
#define R0(op, fl) X86_ROW(op, X86_O_NONE, X86_O_NONE, X86_O_NONE, fl)
#define R1(op, a, fl) X86_ROW(op, a, X86_O_NONE, X86_O_NONE, fl)
#define R2(op, a, b, fl) X86_ROW(op, a, b, X86_O_NONE, fl)
#define R3(op, a, b, c, fl) X86_ROW(op, a, b, c, fl)
#define UD { 0 }
/* Indirect rows; the ModRM-selected ones make the opcode take a ModRM. */
#define GRP(t) { .sub = (t), .flags = K_REG | RF_MODRM }
#define GRPM(t) { .sub = (t), .flags = K_MODREG | RF_MODRM }
#define BYRM(t) { .sub = (t), .flags = K_RM | RF_MODRM }
#define BYMOD(t) { .sub = (t), .flags = K_MOD | RF_MODRM }
#define BYMODE(t) { .sub = (t), .flags = K_MODE | RF_MODRM }
#define BYW(t) { .sub = (t), .flags = K_W | RF_MODRM }
/* The same row under every mandatory-prefix column (none, 66, F3, F2). */
#define ALL(r) { r, r, r, r }

#define LK RF_LOCK
#define I64 RF_I64
#define REP RF_REP
#define PRIV RF_PRIV
#define NOMOD RF_NOMOD
#define D64 RF_OSZ(OSZ_D64)
#define F64 RF_OSZ(OSZ_F64)
#define BYTE RF_OSZ(OSZ_BYTE)
#define OV RF_OSZ(OSZ_V)

#define Eb X86_O_Eb
#define Ew X86_O_Ew
#define Ed X86_O_Ed
#define Eq X86_O_Eq
#define Ev X86_O_Ev
#define Ey X86_O_Ey
#define Edb X86_O_Edb
#define Edw X86_O_Edw
#define Wx X86_O_Wx
#define Wq X86_O_Wq
#define Wd X86_O_Wd
#define Ww X86_O_Ww
#define Qq X86_O_Qq
#define Qd X86_O_Qd
#define M X86_O_M
#define Mb X86_O_Mb
#define Mw X86_O_Mw
#define Md X86_O_Md
#define Mq X86_O_Mq
#define Mv X86_O_Mv
#define My X86_O_My
#define Mx X86_O_Mx
#define Mt X86_O_Mt
#define Mp X86_O_Mp
#define Ms X86_O_Ms
#define Ma X86_O_Ma
#define Menv X86_O_Menv
#define Mst X86_O_Mst
#define Mfx X86_O_Mfx
#define Mxs X86_O_Mxs
#define Rv X86_O_Rv
#define Ux X86_O_Ux
#define Nq X86_O_Nq
#define STi X86_O_STi
#define Gb X86_O_Gb
#define Gw X86_O_Gw
#define Gd X86_O_Gd
#define Gv X86_O_Gv
#define Gy X86_O_Gy
#define Sw X86_O_Sw
#define Cd X86_O_Cd
#define Dd X86_O_Dd
#define V X86_O_V
#define P X86_O_P
#define Ib X86_O_Ib
#define Ibs X86_O_Ibs
#define Iw X86_O_Iw
#define Iz X86_O_Iz
#define Iv X86_O_Iv
#define I1 X86_O_I1
#define Jb X86_O_Jb
#define Jz X86_O_Jz
#define Ap X86_O_Ap
#define Ob X86_O_Ob
#define Ov X86_O_Ov
#define AL X86_O_AL
#define CL X86_O_CL
#define DX X86_O_DX
#define AX X86_O_AX
#define rAX X86_O_rAX
#define eAX X86_O_eAX
#define ES X86_O_ES
#define CS X86_O_CS
#define SS X86_O_SS
#define DS X86_O_DS
#define FS X86_O_FS
#define GS X86_O_GS
#define Zb X86_O_Zb
#define Zv X86_O_Zv
#define Zy X86_O_Zy
#define XMM0 X86_O_XMM0
#define ST0 X86_O_ST0
#define Xb X86_O_Xb
#define Xv X86_O_Xv
#define Xz X86_O_Xz
#define Yb X86_O_Yb
#define Yv X86_O_Yv
#define Yz X86_O_Yz
#endif

#endif
