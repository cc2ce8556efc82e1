/*
 * The three-byte opcode maps 0F 38 xx and 0F 3A xx (SDM Vol. 2 Tables
 * ), limited to what glibc's string and memory routines and the
 * Linux kernel use: SSSE3, SSE4.1, the SSE4.2 string compares, CRC32 and
 * MOVBE. AES, SHA, PCLMULQDQ and ADX are left #UD since the CPU model
 * does not offer them. Columns are none, 66, F3, F2 as in decode_map0f.c.
 */
#define X86_TABLE_SHORTHAND
#include "accel/tcg/decode_tables.h"

/* SSSE3 ops exist as MMX (no prefix) and SSE (66) forms. */
#define MMXSSE(op) { R2(op, P, Qq, 0), R2(op, V, Wx, 0), UD, UD }
#define ONLY66(op, a, b) { UD, R2(op, a, b, 0), UD, UD }
#define ONLY66_3(op, a, b, c) { UD, R3(op, a, b, c, 0), UD, UD }

const struct x86_row x86_map_0f38[256][4] = {
	[0x00] = MMXSSE(OP_PSHUFB),
	[0x01] = MMXSSE(OP_PHADDW),
	[0x02] = MMXSSE(OP_PHADDD),
	[0x03] = MMXSSE(OP_PHADDSW),
	[0x04] = MMXSSE(OP_PMADDUBSW),
	[0x05] = MMXSSE(OP_PHSUBW),
	[0x06] = MMXSSE(OP_PHSUBD),
	[0x07] = MMXSSE(OP_PHSUBSW),
	[0x08] = MMXSSE(OP_PSIGNB),
	[0x09] = MMXSSE(OP_PSIGNW),
	[0x0A] = MMXSSE(OP_PSIGND),
	[0x0B] = MMXSSE(OP_PMULHRSW),
	/* The SSE4.1 blends take XMM0 as an implied selector. */
	[0x10] = ONLY66_3(OP_PBLENDVB, V, Wx, XMM0),
	[0x14] = ONLY66_3(OP_BLENDVPS, V, Wx, XMM0),
	[0x15] = ONLY66_3(OP_BLENDVPD, V, Wx, XMM0),
	[0x17] = ONLY66(OP_PTEST, V, Wx),
	[0x1C] = MMXSSE(OP_PABSB),
	[0x1D] = MMXSSE(OP_PABSW),
	[0x1E] = MMXSSE(OP_PABSD),
	/* Widening moves read only as much memory as they widen. */
	[0x20] = ONLY66(OP_PMOVSXBW, V, Wq),
	[0x21] = ONLY66(OP_PMOVSXBD, V, Wd),
	[0x22] = ONLY66(OP_PMOVSXBQ, V, Ww),
	[0x23] = ONLY66(OP_PMOVSXWD, V, Wq),
	[0x24] = ONLY66(OP_PMOVSXWQ, V, Wd),
	[0x25] = ONLY66(OP_PMOVSXDQ, V, Wq),
	[0x28] = ONLY66(OP_PMULDQ, V, Wx),
	[0x29] = ONLY66(OP_PCMPEQQ, V, Wx),
	[0x2A] = ONLY66(OP_MOVNTDQA, V, Mx),
	[0x2B] = ONLY66(OP_PACKUSDW, V, Wx),
	[0x30] = ONLY66(OP_PMOVZXBW, V, Wq),
	[0x31] = ONLY66(OP_PMOVZXBD, V, Wd),
	[0x32] = ONLY66(OP_PMOVZXBQ, V, Ww),
	[0x33] = ONLY66(OP_PMOVZXWD, V, Wq),
	[0x34] = ONLY66(OP_PMOVZXWQ, V, Wd),
	[0x35] = ONLY66(OP_PMOVZXDQ, V, Wq),
	[0x37] = ONLY66(OP_PCMPGTQ, V, Wx),
	[0x38] = ONLY66(OP_PMINSB, V, Wx),
	[0x39] = ONLY66(OP_PMINSD, V, Wx),
	[0x3A] = ONLY66(OP_PMINUW, V, Wx),
	[0x3B] = ONLY66(OP_PMINUD, V, Wx),
	[0x3C] = ONLY66(OP_PMAXSB, V, Wx),
	[0x3D] = ONLY66(OP_PMAXSD, V, Wx),
	[0x3E] = ONLY66(OP_PMAXUW, V, Wx),
	[0x3F] = ONLY66(OP_PMAXUD, V, Wx),
	[0x40] = ONLY66(OP_PMULLD, V, Wx),
	[0x41] = ONLY66(OP_PHMINPOSUW, V, Wx),
	/*
	 * MOVBE keeps 66 as an operand-size prefix; CRC32's F2 is mandatory
	 * and a 66 on top selects the 16-bit source (operand size 2).
	 */
	[0xF0] = { R2(OP_MOVBE, Gv, Mv, 0), R2(OP_MOVBE, Gv, Mv, 0), UD,
		   R2(OP_CRC32, Gy, Eb, 0) },
	[0xF1] = { R2(OP_MOVBE, Mv, Gv, 0), R2(OP_MOVBE, Mv, Gv, 0), UD,
		   R2(OP_CRC32, Gy, Ev, OV) },
};

const struct x86_row x86_map_0f3a[256][4] = {
	[0x08] = ONLY66_3(OP_ROUNDPS, V, Wx, Ib),
	[0x09] = ONLY66_3(OP_ROUNDPD, V, Wx, Ib),
	[0x0A] = ONLY66_3(OP_ROUNDSS, V, Wd, Ib),
	[0x0B] = ONLY66_3(OP_ROUNDSD, V, Wq, Ib),
	[0x0C] = ONLY66_3(OP_BLENDPS, V, Wx, Ib),
	[0x0D] = ONLY66_3(OP_BLENDPD, V, Wx, Ib),
	[0x0E] = ONLY66_3(OP_PBLENDW, V, Wx, Ib),
	[0x0F] = { R3(OP_PALIGNR, P, Qq, Ib, 0), R3(OP_PALIGNR, V, Wx, Ib, 0), UD, UD },
	[0x14] = ONLY66_3(OP_PEXTRB, Edb, V, Ib),
	[0x15] = ONLY66_3(OP_PEXTRW, Edw, V, Ib),
	[0x16] = ONLY66_3(OP_PEXTRD, Ey, V, Ib),
	[0x17] = ONLY66_3(OP_EXTRACTPS, Ed, V, Ib),
	[0x20] = ONLY66_3(OP_PINSRB, V, Edb, Ib),
	[0x21] = ONLY66_3(OP_INSERTPS, V, Wd, Ib),
	[0x22] = ONLY66_3(OP_PINSRD, V, Ey, Ib),
	[0x40] = ONLY66_3(OP_DPPS, V, Wx, Ib),
	[0x41] = ONLY66_3(OP_DPPD, V, Wx, Ib),
	[0x42] = ONLY66_3(OP_MPSADBW, V, Wx, Ib),
	[0x60] = ONLY66_3(OP_PCMPESTRM, V, Wx, Ib),
	[0x61] = ONLY66_3(OP_PCMPESTRI, V, Wx, Ib),
	[0x62] = ONLY66_3(OP_PCMPISTRM, V, Wx, Ib),
	[0x63] = ONLY66_3(OP_PCMPISTRI, V, Wx, Ib),
};
