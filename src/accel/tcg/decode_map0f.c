/*
 * The two-byte opcode map 0F xx (SDM Vol. 2 Table A-3) and its groups.
 * Every opcode has four columns, one per mandatory prefix as the SDM
 * prints them: none, 66, F3, F2. Instructions that take no mandatory
 * prefix repeat one row across the columns (ALL), so the decoder never
 * needs to know which opcodes are prefix-sensitive.
 */
#define X86_TABLE_SHORTHAND
#include "accel/tcg/decode_tables.h"

/* Group 6: 0F 00. The register forms of SLDT/STR write a full GPR. */
static const struct x86_row grp6[8] = {
	R1(OP_SLDT, Ew, 0), R1(OP_STR, Ew, 0), R1(OP_LLDT, Ew, PRIV),
	R1(OP_LTR, Ew, PRIV), R1(OP_VERR, Ew, 0), R1(OP_VERW, Ew, 0),
};

/*
 * Group 7: 0F 01. The register forms are individual instructions chosen
 * by ModRM.rm; VMX, SVM, RTM, PKU and ENCLS encodings are #UD because the
 * CPU model offers none of them.
 */
static const struct x86_row grp7_c8[8] = {
	R0(OP_MONITOR, 0), R0(OP_MWAIT, 0), R0(OP_CLAC, PRIV), R0(OP_STAC, PRIV),
};
static const struct x86_row grp7_d0[8] = { R0(OP_XGETBV, 0), R0(OP_XSETBV, PRIV) };
static const struct x86_row swapgs_mode[2] = { UD, R0(OP_SWAPGS, PRIV) };
static const struct x86_row grp7_f8[8] = {
	{ .sub = swapgs_mode, .flags = K_MODE }, R0(OP_RDTSCP, 0),
};
static const struct x86_row grp7[16] = {
	R1(OP_SGDT, Ms, F64), R1(OP_SIDT, Ms, F64), R1(OP_LGDT, Ms, F64 | PRIV),
	R1(OP_LIDT, Ms, F64 | PRIV), R1(OP_SMSW, Ew, 0), UD,
	R1(OP_LMSW, Ew, PRIV), R1(OP_INVLPG, M, PRIV),
	UD, BYRM(grp7_c8), BYRM(grp7_d0), UD, R1(OP_SMSW, Ew, 0), UD,
	R1(OP_LMSW, Ew, PRIV), BYRM(grp7_f8),
};

/* 0F 0D: AMD's PREFETCH/PREFETCHW; Intel documents /1 and /2. */
static const struct x86_row grp_0d[16] = {
	R1(OP_PREFETCH, M, 0), R1(OP_PREFETCHW, M, 0), R1(OP_PREFETCHW, M, 0),
	R1(OP_PREFETCH, M, 0), R1(OP_PREFETCH, M, 0), R1(OP_PREFETCH, M, 0),
	R1(OP_PREFETCH, M, 0), R1(OP_PREFETCH, M, 0),
	R1(OP_NOP, Ev, 0), R1(OP_NOP, Ev, 0), R1(OP_NOP, Ev, 0),
	R1(OP_NOP, Ev, 0), R1(OP_NOP, Ev, 0), R1(OP_NOP, Ev, 0),
	R1(OP_NOP, Ev, 0), R1(OP_NOP, Ev, 0),
};

/* Group 16: 0F 18, prefetch hints /0-/3; the rest are reserved NOPs. */
static const struct x86_row grp16[16] = {
	R1(OP_PREFETCH, M, 0), R1(OP_PREFETCH, M, 0), R1(OP_PREFETCH, M, 0),
	R1(OP_PREFETCH, M, 0), R1(OP_NOP, Ev, 0), R1(OP_NOP, Ev, 0),
	R1(OP_NOP, Ev, 0), R1(OP_NOP, Ev, 0),
	R1(OP_NOP, Ev, 0), R1(OP_NOP, Ev, 0), R1(OP_NOP, Ev, 0),
	R1(OP_NOP, Ev, 0), R1(OP_NOP, Ev, 0), R1(OP_NOP, Ev, 0),
	R1(OP_NOP, Ev, 0), R1(OP_NOP, Ev, 0),
};

/* 0F 12 and 0F 16 without prefix: the register form is a different move. */
static const struct x86_row movlps_12[2] = {
	R2(OP_MOVLPS, V, Mq, 0), R2(OP_MOVHLPS, V, Ux, 0),
};
static const struct x86_row movhps_16[2] = {
	R2(OP_MOVHPS, V, Mq, 0), R2(OP_MOVLHPS, V, Ux, 0),
};

/* Groups 12-14: shifts by immediate, register operand only. */
static const struct x86_row grp12_mmx[8] = {
	UD, UD, R2(OP_PSRLW, Nq, Ib, 0), UD, R2(OP_PSRAW, Nq, Ib, 0), UD,
	R2(OP_PSLLW, Nq, Ib, 0),
};
static const struct x86_row grp12_sse[8] = {
	UD, UD, R2(OP_PSRLW, Ux, Ib, 0), UD, R2(OP_PSRAW, Ux, Ib, 0), UD,
	R2(OP_PSLLW, Ux, Ib, 0),
};
static const struct x86_row grp13_mmx[8] = {
	UD, UD, R2(OP_PSRLD, Nq, Ib, 0), UD, R2(OP_PSRAD, Nq, Ib, 0), UD,
	R2(OP_PSLLD, Nq, Ib, 0),
};
static const struct x86_row grp13_sse[8] = {
	UD, UD, R2(OP_PSRLD, Ux, Ib, 0), UD, R2(OP_PSRAD, Ux, Ib, 0), UD,
	R2(OP_PSLLD, Ux, Ib, 0),
};
static const struct x86_row grp14_mmx[8] = {
	UD, UD, R2(OP_PSRLQ, Nq, Ib, 0), UD, UD, UD, R2(OP_PSLLQ, Nq, Ib, 0),
};
static const struct x86_row grp14_sse[8] = {
	UD, UD, R2(OP_PSRLQ, Ux, Ib, 0), R2(OP_PSRLDQ, Ux, Ib, 0), UD, UD,
	R2(OP_PSLLQ, Ux, Ib, 0), R2(OP_PSLLDQ, Ux, Ib, 0),
};

/* Group 8: 0F BA, bit tests with an immediate bit number. */
static const struct x86_row grp8[8] = {
	UD, UD, UD, UD, R2(OP_BT, Ev, Ib, 0), R2(OP_BTS, Ev, Ib, LK),
	R2(OP_BTR, Ev, Ib, LK), R2(OP_BTC, Ev, Ib, LK),
};

/*
 * Group 9: 0F C7. CMPXCHG16B is the REX.W form of CMPXCHG8B; its operand
 * size reads 8 (the width of each half). XSAVES/XRSTORS/XSAVEC and the
 * VMX pointer instructions are #UD.
 */
static const struct x86_row cmpxchg8b_w[2] = {
	R1(OP_CMPXCHG8B, Mq, LK), R1(OP_CMPXCHG16B, Mx, LK | OV),
};
static const struct x86_row grp9[16] = {
	UD, BYW(cmpxchg8b_w), UD, UD, UD, UD, UD, UD,
	UD, UD, UD, UD, UD, UD, R1(OP_RDRAND, Rv, 0), R1(OP_RDSEED, Rv, 0),
};
static const struct x86_row grp9_f3[16] = {
	UD, BYW(cmpxchg8b_w), UD, UD, UD, UD, UD, UD,
	UD, UD, UD, UD, UD, UD, R1(OP_RDRAND, Rv, 0), R1(OP_RDPID, Rv, F64),
};

/* Group 15: 0F AE, state save/restore, MXCSR, fences, FS/GS base. */
static const struct x86_row grp15[16] = {
	R1(OP_FXSAVE, Mfx, 0), R1(OP_FXRSTOR, Mfx, 0), R1(OP_LDMXCSR, Md, 0),
	R1(OP_STMXCSR, Md, 0), R1(OP_XSAVE, Mxs, 0), R1(OP_XRSTOR, Mxs, 0),
	R1(OP_XSAVEOPT, Mxs, 0), R1(OP_CLFLUSH, Mb, 0),
	UD, UD, UD, UD, UD, R0(OP_LFENCE, 0), R0(OP_MFENCE, 0), R0(OP_SFENCE, 0),
};
static const struct x86_row grp15_66[16] = {
	UD, UD, UD, UD, UD, UD, R1(OP_CLWB, Mb, 0), R1(OP_CLFLUSHOPT, Mb, 0),
};
static const struct x86_row rdfsbase_mode[2] = { UD, R1(OP_RDFSBASE, Rv, 0) };
static const struct x86_row rdgsbase_mode[2] = { UD, R1(OP_RDGSBASE, Rv, 0) };
static const struct x86_row wrfsbase_mode[2] = { UD, R1(OP_WRFSBASE, Rv, 0) };
static const struct x86_row wrgsbase_mode[2] = { UD, R1(OP_WRGSBASE, Rv, 0) };
static const struct x86_row grp15_f3[16] = {
	UD, UD, UD, UD, UD, UD, UD, UD,
	{ .sub = rdfsbase_mode, .flags = K_MODE },
	{ .sub = rdgsbase_mode, .flags = K_MODE },
	{ .sub = wrfsbase_mode, .flags = K_MODE },
	{ .sub = wrgsbase_mode, .flags = K_MODE },
};

/* Column helpers for the SSE rows. */
#define FP4(ps, pd, ss, sd) { \
	R2(ps, V, Wx, 0), R2(pd, V, Wx, 0), R2(ss, V, Wd, 0), R2(sd, V, Wq, 0) }
#define FP2(ps, pd) { R2(ps, V, Wx, 0), R2(pd, V, Wx, 0), UD, UD }
/* An integer op with an MMX form (no prefix) and an SSE2 form (66). */
#define MMXSSE(op) { R2(op, P, Qq, 0), R2(op, V, Wx, 0), UD, UD }
/* The low unpacks read only 32 bits of an MMX memory operand. */
#define MMXSSE_LO(op) { R2(op, P, Qd, 0), R2(op, V, Wx, 0), UD, UD }
#define ONLY66(op, a, b) { UD, R2(op, a, b, 0), UD, UD }
#define ALL_NOP ALL(R1(OP_NOP, Ev, 0))
#define ALL_JCC ALL(R1(OP_JCC, Jz, F64))
#define ALL_SETCC ALL(R1(OP_SETCC, Eb, 0))
#define ALL_CMOV ALL(R2(OP_CMOVCC, Gv, Ev, 0))
#define ALL_BSWAP ALL(R1(OP_BSWAP, Zy, 0))

const struct x86_row x86_map_0f[256][4] = {
	[0x00] = ALL(GRP(grp6)),
	[0x01] = ALL(GRPM(grp7)),
	[0x02] = ALL(R2(OP_LAR, Gv, Ew, 0)),
	[0x03] = ALL(R2(OP_LSL, Gv, Ew, 0)),
	/* SYSCALL/SYSRET outside 64-bit mode are AMD-only: the CPU decides. */
	[0x05] = ALL(R0(OP_SYSCALL, 0)),
	[0x06] = ALL(R0(OP_CLTS, PRIV)),
	[0x07] = ALL(R0(OP_SYSRET, PRIV)),
	[0x08] = ALL(R0(OP_INVD, PRIV)),
	[0x09] = ALL(R0(OP_WBINVD, PRIV)),
	[0x0B] = ALL(R0(OP_UD2, 0)),
	[0x0D] = ALL(GRPM(grp_0d)),

	[0x10] = { R2(OP_MOVUPS, V, Wx, 0), R2(OP_MOVUPD, V, Wx, 0),
		   R2(OP_MOVSS, V, Wd, 0), R2(OP_MOVSD, V, Wq, 0) },
	[0x11] = { R2(OP_MOVUPS, Wx, V, 0), R2(OP_MOVUPD, Wx, V, 0),
		   R2(OP_MOVSS, Wd, V, 0), R2(OP_MOVSD, Wq, V, 0) },
	[0x12] = { BYMOD(movlps_12), R2(OP_MOVLPD, V, Mq, 0),
		   R2(OP_MOVSLDUP, V, Wx, 0), R2(OP_MOVDDUP, V, Wq, 0) },
	[0x13] = { R2(OP_MOVLPS, Mq, V, 0), R2(OP_MOVLPD, Mq, V, 0), UD, UD },
	[0x14] = FP2(OP_UNPCKLPS, OP_UNPCKLPD),
	[0x15] = FP2(OP_UNPCKHPS, OP_UNPCKHPD),
	[0x16] = { BYMOD(movhps_16), R2(OP_MOVHPD, V, Mq, 0),
		   R2(OP_MOVSHDUP, V, Wx, 0), UD },
	[0x17] = { R2(OP_MOVHPS, Mq, V, 0), R2(OP_MOVHPD, Mq, V, 0), UD, UD },
	[0x18] = ALL(GRPM(grp16)),
	/* Reserved-NOP space; F3 0F 1E FA/FB are ENDBR64/ENDBR32. */
	[0x19] = ALL_NOP, [0x1A] = ALL_NOP, [0x1B] = ALL_NOP,
	[0x1C] = ALL_NOP, [0x1D] = ALL_NOP, [0x1E] = ALL_NOP,
	[0x1F] = ALL_NOP,

	/* MOV to/from CR and DR ignore ModRM.mod: always register operands. */
	[0x20] = ALL(R2(OP_MOV_FROM_CR, Rv, Cd, F64 | NOMOD | PRIV)),
	[0x21] = ALL(R2(OP_MOV_FROM_DR, Rv, Dd, F64 | NOMOD | PRIV)),
	[0x22] = ALL(R2(OP_MOV_TO_CR, Cd, Rv, F64 | NOMOD | PRIV)),
	[0x23] = ALL(R2(OP_MOV_TO_DR, Dd, Rv, F64 | NOMOD | PRIV)),
	[0x28] = FP2(OP_MOVAPS, OP_MOVAPD),
	[0x29] = { R2(OP_MOVAPS, Wx, V, 0), R2(OP_MOVAPD, Wx, V, 0), UD, UD },
	[0x2A] = { R2(OP_CVTPI2PS, V, Qq, 0), R2(OP_CVTPI2PD, V, Qq, 0),
		   R2(OP_CVTSI2SS, V, Ey, 0), R2(OP_CVTSI2SD, V, Ey, 0) },
	[0x2B] = { R2(OP_MOVNTPS, Mx, V, 0), R2(OP_MOVNTPD, Mx, V, 0), UD, UD },
	[0x2C] = { R2(OP_CVTTPS2PI, P, Wq, 0), R2(OP_CVTTPD2PI, P, Wx, 0),
		   R2(OP_CVTTSS2SI, Gy, Wd, 0), R2(OP_CVTTSD2SI, Gy, Wq, 0) },
	[0x2D] = { R2(OP_CVTPS2PI, P, Wq, 0), R2(OP_CVTPD2PI, P, Wx, 0),
		   R2(OP_CVTSS2SI, Gy, Wd, 0), R2(OP_CVTSD2SI, Gy, Wq, 0) },
	[0x2E] = { R2(OP_UCOMISS, V, Wd, 0), R2(OP_UCOMISD, V, Wq, 0), UD, UD },
	[0x2F] = { R2(OP_COMISS, V, Wd, 0), R2(OP_COMISD, V, Wq, 0), UD, UD },

	[0x30] = ALL(R0(OP_WRMSR, PRIV)),
	[0x31] = ALL(R0(OP_RDTSC, 0)),
	[0x32] = ALL(R0(OP_RDMSR, PRIV)),
	[0x33] = ALL(R0(OP_RDPMC, 0)),
	[0x34] = ALL(R0(OP_SYSENTER, 0)),
	[0x35] = ALL(R0(OP_SYSEXIT, PRIV)),
	/* 0x38 and 0x3A escape to decode_map0f38.c. */

	[0x40] = ALL_CMOV, [0x41] = ALL_CMOV, [0x42] = ALL_CMOV,
	[0x43] = ALL_CMOV, [0x44] = ALL_CMOV, [0x45] = ALL_CMOV,
	[0x46] = ALL_CMOV, [0x47] = ALL_CMOV, [0x48] = ALL_CMOV,
	[0x49] = ALL_CMOV, [0x4A] = ALL_CMOV, [0x4B] = ALL_CMOV,
	[0x4C] = ALL_CMOV, [0x4D] = ALL_CMOV, [0x4E] = ALL_CMOV,
	[0x4F] = ALL_CMOV,

	[0x50] = { R2(OP_MOVMSKPS, Gd, Ux, 0), R2(OP_MOVMSKPD, Gd, Ux, 0), UD, UD },
	[0x51] = FP4(OP_SQRTPS, OP_SQRTPD, OP_SQRTSS, OP_SQRTSD),
	[0x52] = { R2(OP_RSQRTPS, V, Wx, 0), UD, R2(OP_RSQRTSS, V, Wd, 0), UD },
	[0x53] = { R2(OP_RCPPS, V, Wx, 0), UD, R2(OP_RCPSS, V, Wd, 0), UD },
	[0x54] = FP2(OP_ANDPS, OP_ANDPD),
	[0x55] = FP2(OP_ANDNPS, OP_ANDNPD),
	[0x56] = FP2(OP_ORPS, OP_ORPD),
	[0x57] = FP2(OP_XORPS, OP_XORPD),
	[0x58] = FP4(OP_ADDPS, OP_ADDPD, OP_ADDSS, OP_ADDSD),
	[0x59] = FP4(OP_MULPS, OP_MULPD, OP_MULSS, OP_MULSD),
	[0x5A] = { R2(OP_CVTPS2PD, V, Wq, 0), R2(OP_CVTPD2PS, V, Wx, 0),
		   R2(OP_CVTSS2SD, V, Wd, 0), R2(OP_CVTSD2SS, V, Wq, 0) },
	[0x5B] = { R2(OP_CVTDQ2PS, V, Wx, 0), R2(OP_CVTPS2DQ, V, Wx, 0),
		   R2(OP_CVTTPS2DQ, V, Wx, 0), UD },
	[0x5C] = FP4(OP_SUBPS, OP_SUBPD, OP_SUBSS, OP_SUBSD),
	[0x5D] = FP4(OP_MINPS, OP_MINPD, OP_MINSS, OP_MINSD),
	[0x5E] = FP4(OP_DIVPS, OP_DIVPD, OP_DIVSS, OP_DIVSD),
	[0x5F] = FP4(OP_MAXPS, OP_MAXPD, OP_MAXSS, OP_MAXSD),

	[0x60] = MMXSSE_LO(OP_PUNPCKLBW),
	[0x61] = MMXSSE_LO(OP_PUNPCKLWD),
	[0x62] = MMXSSE_LO(OP_PUNPCKLDQ),
	[0x63] = MMXSSE(OP_PACKSSWB),
	[0x64] = MMXSSE(OP_PCMPGTB),
	[0x65] = MMXSSE(OP_PCMPGTW),
	[0x66] = MMXSSE(OP_PCMPGTD),
	[0x67] = MMXSSE(OP_PACKUSWB),
	[0x68] = MMXSSE(OP_PUNPCKHBW),
	[0x69] = MMXSSE(OP_PUNPCKHWD),
	[0x6A] = MMXSSE(OP_PUNPCKHDQ),
	[0x6B] = MMXSSE(OP_PACKSSDW),
	[0x6C] = ONLY66(OP_PUNPCKLQDQ, V, Wx),
	[0x6D] = ONLY66(OP_PUNPCKHQDQ, V, Wx),
	[0x6E] = { R2(OP_MOVD, P, Ey, 0), R2(OP_MOVD, V, Ey, 0), UD, UD },
	[0x6F] = { R2(OP_MOVQ, P, Qq, 0), R2(OP_MOVDQA, V, Wx, 0),
		   R2(OP_MOVDQU, V, Wx, 0), UD },

	[0x70] = { R3(OP_PSHUFW, P, Qq, Ib, 0), R3(OP_PSHUFD, V, Wx, Ib, 0),
		   R3(OP_PSHUFHW, V, Wx, Ib, 0), R3(OP_PSHUFLW, V, Wx, Ib, 0) },
	[0x71] = { GRP(grp12_mmx), GRP(grp12_sse), UD, UD },
	[0x72] = { GRP(grp13_mmx), GRP(grp13_sse), UD, UD },
	[0x73] = { GRP(grp14_mmx), GRP(grp14_sse), UD, UD },
	[0x74] = MMXSSE(OP_PCMPEQB),
	[0x75] = MMXSSE(OP_PCMPEQW),
	[0x76] = MMXSSE(OP_PCMPEQD),
	[0x77] = { R0(OP_EMMS, 0), UD, UD, UD },
	[0x7C] = { UD, R2(OP_HADDPD, V, Wx, 0), UD, R2(OP_HADDPS, V, Wx, 0) },
	[0x7D] = { UD, R2(OP_HSUBPD, V, Wx, 0), UD, R2(OP_HSUBPS, V, Wx, 0) },
	[0x7E] = { R2(OP_MOVD, Ey, P, 0), R2(OP_MOVD, Ey, V, 0),
		   R2(OP_MOVQ, V, Wq, 0), UD },
	[0x7F] = { R2(OP_MOVQ, Qq, P, 0), R2(OP_MOVDQA, Wx, V, 0),
		   R2(OP_MOVDQU, Wx, V, 0), UD },

	[0x80] = ALL_JCC, [0x81] = ALL_JCC, [0x82] = ALL_JCC, [0x83] = ALL_JCC,
	[0x84] = ALL_JCC, [0x85] = ALL_JCC, [0x86] = ALL_JCC, [0x87] = ALL_JCC,
	[0x88] = ALL_JCC, [0x89] = ALL_JCC, [0x8A] = ALL_JCC, [0x8B] = ALL_JCC,
	[0x8C] = ALL_JCC, [0x8D] = ALL_JCC, [0x8E] = ALL_JCC, [0x8F] = ALL_JCC,

	[0x90] = ALL_SETCC, [0x91] = ALL_SETCC, [0x92] = ALL_SETCC,
	[0x93] = ALL_SETCC, [0x94] = ALL_SETCC, [0x95] = ALL_SETCC,
	[0x96] = ALL_SETCC, [0x97] = ALL_SETCC, [0x98] = ALL_SETCC,
	[0x99] = ALL_SETCC, [0x9A] = ALL_SETCC, [0x9B] = ALL_SETCC,
	[0x9C] = ALL_SETCC, [0x9D] = ALL_SETCC, [0x9E] = ALL_SETCC,
	[0x9F] = ALL_SETCC,

	[0xA0] = ALL(R1(OP_PUSH, FS, D64)),
	[0xA1] = ALL(R1(OP_POP, FS, D64)),
	[0xA2] = ALL(R0(OP_CPUID, 0)),
	[0xA3] = ALL(R2(OP_BT, Ev, Gv, 0)),
	[0xA4] = ALL(R3(OP_SHLD, Ev, Gv, Ib, 0)),
	[0xA5] = ALL(R3(OP_SHLD, Ev, Gv, CL, 0)),
	[0xA8] = ALL(R1(OP_PUSH, GS, D64)),
	[0xA9] = ALL(R1(OP_POP, GS, D64)),
	[0xAA] = ALL(R0(OP_RSM, 0)),
	[0xAB] = ALL(R2(OP_BTS, Ev, Gv, LK)),
	[0xAC] = ALL(R3(OP_SHRD, Ev, Gv, Ib, 0)),
	[0xAD] = ALL(R3(OP_SHRD, Ev, Gv, CL, 0)),
	[0xAE] = { GRPM(grp15), GRPM(grp15_66), GRPM(grp15_f3), UD },
	[0xAF] = ALL(R2(OP_IMUL, Gv, Ev, 0)),

	[0xB0] = ALL(R2(OP_CMPXCHG, Eb, Gb, LK)),
	[0xB1] = ALL(R2(OP_CMPXCHG, Ev, Gv, LK)),
	[0xB2] = ALL(R2(OP_LSS, Gv, Mp, 0)),
	[0xB3] = ALL(R2(OP_BTR, Ev, Gv, LK)),
	[0xB4] = ALL(R2(OP_LFS, Gv, Mp, 0)),
	[0xB5] = ALL(R2(OP_LGS, Gv, Mp, 0)),
	[0xB6] = ALL(R2(OP_MOVZX, Gv, Eb, 0)),
	[0xB7] = ALL(R2(OP_MOVZX, Gv, Ew, 0)),
	/* The unprefixed B8 is IA-64's JMPE. */
	[0xB8] = { UD, UD, R2(OP_POPCNT, Gv, Ev, 0), UD },
	[0xB9] = ALL(R2(OP_UD1, Gv, Ev, 0)),
	[0xBA] = ALL(GRP(grp8)),
	[0xBB] = ALL(R2(OP_BTC, Ev, Gv, LK)),
	/* F3 turns BSF/BSR into TZCNT/LZCNT; 66 keeps its operand-size role. */
	[0xBC] = { R2(OP_BSF, Gv, Ev, 0), R2(OP_BSF, Gv, Ev, 0),
		   R2(OP_TZCNT, Gv, Ev, 0), R2(OP_BSF, Gv, Ev, 0) },
	[0xBD] = { R2(OP_BSR, Gv, Ev, 0), R2(OP_BSR, Gv, Ev, 0),
		   R2(OP_LZCNT, Gv, Ev, 0), R2(OP_BSR, Gv, Ev, 0) },
	[0xBE] = ALL(R2(OP_MOVSX, Gv, Eb, 0)),
	[0xBF] = ALL(R2(OP_MOVSX, Gv, Ew, 0)),

	[0xC0] = ALL(R2(OP_XADD, Eb, Gb, LK)),
	[0xC1] = ALL(R2(OP_XADD, Ev, Gv, LK)),
	[0xC2] = { R3(OP_CMPPS, V, Wx, Ib, 0), R3(OP_CMPPD, V, Wx, Ib, 0),
		   R3(OP_CMPSS, V, Wd, Ib, 0), R3(OP_CMPSD, V, Wq, Ib, 0) },
	[0xC3] = { R2(OP_MOVNTI, My, Gy, 0), UD, UD, UD },
	[0xC4] = { R3(OP_PINSRW, P, Edw, Ib, 0), R3(OP_PINSRW, V, Edw, Ib, 0), UD, UD },
	[0xC5] = { R3(OP_PEXTRW, Gd, Nq, Ib, 0), R3(OP_PEXTRW, Gd, Ux, Ib, 0), UD, UD },
	[0xC6] = { R3(OP_SHUFPS, V, Wx, Ib, 0), R3(OP_SHUFPD, V, Wx, Ib, 0), UD, UD },
	[0xC7] = { GRPM(grp9), GRPM(grp9), GRPM(grp9_f3), GRPM(grp9) },
	[0xC8] = ALL_BSWAP, [0xC9] = ALL_BSWAP, [0xCA] = ALL_BSWAP,
	[0xCB] = ALL_BSWAP, [0xCC] = ALL_BSWAP, [0xCD] = ALL_BSWAP,
	[0xCE] = ALL_BSWAP, [0xCF] = ALL_BSWAP,

	[0xD0] = { UD, R2(OP_ADDSUBPD, V, Wx, 0), UD, R2(OP_ADDSUBPS, V, Wx, 0) },
	[0xD1] = MMXSSE(OP_PSRLW),
	[0xD2] = MMXSSE(OP_PSRLD),
	[0xD3] = MMXSSE(OP_PSRLQ),
	[0xD4] = MMXSSE(OP_PADDQ),
	[0xD5] = MMXSSE(OP_PMULLW),
	[0xD6] = { UD, R2(OP_MOVQ, Wq, V, 0), R2(OP_MOVQ2DQ, V, Nq, 0),
		   R2(OP_MOVDQ2Q, P, Ux, 0) },
	[0xD7] = { R2(OP_PMOVMSKB, Gd, Nq, 0), R2(OP_PMOVMSKB, Gd, Ux, 0), UD, UD },
	[0xD8] = MMXSSE(OP_PSUBUSB),
	[0xD9] = MMXSSE(OP_PSUBUSW),
	[0xDA] = MMXSSE(OP_PMINUB),
	[0xDB] = MMXSSE(OP_PAND),
	[0xDC] = MMXSSE(OP_PADDUSB),
	[0xDD] = MMXSSE(OP_PADDUSW),
	[0xDE] = MMXSSE(OP_PMAXUB),
	[0xDF] = MMXSSE(OP_PANDN),

	[0xE0] = MMXSSE(OP_PAVGB),
	[0xE1] = MMXSSE(OP_PSRAW),
	[0xE2] = MMXSSE(OP_PSRAD),
	[0xE3] = MMXSSE(OP_PAVGW),
	[0xE4] = MMXSSE(OP_PMULHUW),
	[0xE5] = MMXSSE(OP_PMULHW),
	[0xE6] = { UD, R2(OP_CVTTPD2DQ, V, Wx, 0), R2(OP_CVTDQ2PD, V, Wq, 0),
		   R2(OP_CVTPD2DQ, V, Wx, 0) },
	[0xE7] = { R2(OP_MOVNTQ, Mq, P, 0), R2(OP_MOVNTDQ, Mx, V, 0), UD, UD },
	[0xE8] = MMXSSE(OP_PSUBSB),
	[0xE9] = MMXSSE(OP_PSUBSW),
	[0xEA] = MMXSSE(OP_PMINSW),
	[0xEB] = MMXSSE(OP_POR),
	[0xEC] = MMXSSE(OP_PADDSB),
	[0xED] = MMXSSE(OP_PADDSW),
	[0xEE] = MMXSSE(OP_PMAXSW),
	[0xEF] = MMXSSE(OP_PXOR),

	[0xF0] = { UD, UD, UD, R2(OP_LDDQU, V, Mx, 0) },
	[0xF1] = MMXSSE(OP_PSLLW),
	[0xF2] = MMXSSE(OP_PSLLD),
	[0xF3] = MMXSSE(OP_PSLLQ),
	[0xF4] = MMXSSE(OP_PMULUDQ),
	[0xF5] = MMXSSE(OP_PMADDWD),
	[0xF6] = MMXSSE(OP_PSADBW),
	[0xF7] = { R2(OP_MASKMOVQ, P, Nq, 0), R2(OP_MASKMOVDQU, V, Ux, 0), UD, UD },
	[0xF8] = MMXSSE(OP_PSUBB),
	[0xF9] = MMXSSE(OP_PSUBW),
	[0xFA] = MMXSSE(OP_PSUBD),
	[0xFB] = MMXSSE(OP_PSUBQ),
	[0xFC] = MMXSSE(OP_PADDB),
	[0xFD] = MMXSSE(OP_PADDW),
	[0xFE] = MMXSSE(OP_PADDD),
	[0xFF] = ALL(R2(OP_UD0, Gv, Ev, 0)),
};
