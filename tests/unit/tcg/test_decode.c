/*
 * x86 decoder tests: a table of encodings with their expected length,
 * operation, operand and address size and memory operand, followed by
 * checks of the fields the table does not cover (immediates, registers,
 * segments, prefixes) and of the formatter. Lengths were cross-checked
 * with GNU objdump (see check_objdump.py); the expectations here are fixed.
 */
#include <stdlib.h>

#include "accel/tcg/decode.h"
#include "core/cpu_state.h"
#include "test.h"

#define NONE X86_REG_NONE
#define UD X86_DECODE_UD
#define GP X86_DECODE_GP
#define MORE X86_DECODE_NEED_MORE

struct dcase {
	int mode;         /* 16, 32, 64 */
	const char *hex;
	int status;
	unsigned len;     /* with MORE: the length asked for */
	unsigned op, osz, asz;
	int mem;          /* 0: no memory operand; 1: check the fields below */
	unsigned base, index, scale;
	int64_t disp;
	int rip;
	int memsize;      /* -1: not checked */
};

/* Register-only (or no-operand) instruction. */
#define R(m, hex, len, op, osz, asz) { m, hex, 0, len, op, osz, asz, 0, 0, 0, 0, 0, 0, -1 }
/* Memory operand: base, index, scale (log2), disp, memsize. */
#define M(m, hex, len, op, osz, asz, b, i, s, d, ms) \
	{ m, hex, 0, len, op, osz, asz, 1, b, i, s, d, 0, ms }
#define RIP(m, hex, len, op, osz, asz, d, ms) \
	{ m, hex, 0, len, op, osz, asz, 1, NONE, NONE, 0, d, 1, ms }
#define ERR(m, hex, st) { m, hex, st, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1 }
#define SHORT(m, hex, need) { m, hex, MORE, need, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1 }

static const struct dcase cases[] = {
	/* --- one-byte ALU, operand size from 66 / REX.W --- */
	R(64, "01 d8", 2, OP_ADD, 4, 8),
	R(64, "48 01 d8", 3, OP_ADD, 8, 8),
	R(64, "66 01 d8", 3, OP_ADD, 2, 8),
	R(64, "66 48 01 d8", 4, OP_ADD, 8, 8),
	R(64, "00 c0", 2, OP_ADD, 1, 8),
	R(64, "04 7f", 2, OP_ADD, 1, 8),
	R(64, "05 78 56 34 12", 5, OP_ADD, 4, 8),
	R(64, "48 05 ff ff ff ff", 6, OP_ADD, 8, 8),
	R(64, "66 05 34 12", 4, OP_ADD, 2, 8),
	R(64, "83 c0 ff", 3, OP_ADD, 4, 8),
	R(64, "80 c0 ff", 3, OP_ADD, 1, 8),
	M(64, "81 38 00 00 00 80", 6, OP_CMP, 4, 8, R_RAX, NONE, 0, 0, 4),
	R(64, "0c 01", 2, OP_OR, 1, 8),
	R(64, "15 01 00 00 00", 5, OP_ADC, 4, 8),
	R(64, "1c 01", 2, OP_SBB, 1, 8),
	R(64, "25 ff 00 00 00", 5, OP_AND, 4, 8),
	R(64, "29 c8", 2, OP_SUB, 4, 8),
	R(64, "31 c0", 2, OP_XOR, 4, 8),
	R(64, "3a c1", 2, OP_CMP, 1, 8),
	R(64, "85 c0", 2, OP_TEST, 4, 8),
	R(64, "0f af c1", 3, OP_IMUL, 4, 8),
	R(64, "6b c0 10", 3, OP_IMUL, 4, 8),
	R(64, "69 c0 00 01 00 00", 6, OP_IMUL, 4, 8),
	R(16, "69 c0 00 01", 4, OP_IMUL, 2, 2),
	R(32, "66 69 c0 00 01", 5, OP_IMUL, 2, 4),

	/* --- 32/64-bit addressing --- */
	M(64, "8d 04 24", 3, OP_LEA, 4, 8, R_RSP, NONE, 0, 0, 0),
	RIP(64, "48 8d 05 00 10 00 00", 7, OP_LEA, 8, 8, 0x1000, 0),
	M(64, "8b 04 25 44 33 22 11", 7, OP_MOV, 4, 8, NONE, NONE, 0, 0x11223344, 4),
	RIP(64, "8b 05 44 33 22 11", 6, OP_MOV, 4, 8, 0x11223344, 4),
	RIP(64, "8b 05 fc ff ff ff", 6, OP_MOV, 4, 8, -4, 4),
	M(64, "8b 45 00", 3, OP_MOV, 4, 8, R_RBP, NONE, 0, 0, 4),
	M(64, "41 8b 45 00", 4, OP_MOV, 4, 8, R_R13, NONE, 0, 0, 4),
	M(64, "41 8b 04 24", 4, OP_MOV, 4, 8, R_R12, NONE, 0, 0, 4),
	RIP(64, "41 8b 05 10 00 00 00", 7, OP_MOV, 4, 8, 0x10, 4),
	M(64, "42 8b 04 20", 4, OP_MOV, 4, 8, R_RAX, R_R12, 0, 0, 4),
	M(64, "8b 04 60", 3, OP_MOV, 4, 8, R_RAX, NONE, 1, 0, 4),
	M(64, "4a 8b 04 e5 00 00 00 00", 8, OP_MOV, 8, 8, NONE, R_R12, 3, 0, 8),
	M(64, "43 8b 44 3d 08", 5, OP_MOV, 4, 8, R_R13, R_R15, 0, 8, 4),
	M(64, "41 8b 44 25 08", 5, OP_MOV, 4, 8, R_R13, NONE, 0, 8, 4),
	M(64, "43 8b 04 2c", 4, OP_MOV, 4, 8, R_R12, R_R13, 0, 0, 4),
	M(64, "41 8b 04 25 00 01 00 00", 8, OP_MOV, 4, 8, NONE, NONE, 0, 0x100, 4),
	M(64, "8b 84 88 78 56 34 12", 7, OP_MOV, 4, 8, R_RAX, R_RCX, 2, 0x12345678, 4),
	M(64, "8b 44 88 f0", 4, OP_MOV, 4, 8, R_RAX, R_RCX, 2, -16, 4),
	M(64, "8b 80 00 00 00 80", 6, OP_MOV, 4, 8, R_RAX, NONE, 0, -0x80000000LL, 4),
	M(64, "67 8b 00", 3, OP_MOV, 4, 4, R_RAX, NONE, 0, 0, 4),
	RIP(64, "67 8b 05 10 00 00 00", 7, OP_MOV, 4, 4, 0x10, 4),
	M(64, "64 8b 04 25 28 00 00 00", 8, OP_MOV, 4, 8, NONE, NONE, 0, 0x28, 4),
	M(64, "2e 8b 00", 3, OP_MOV, 4, 8, R_RAX, NONE, 0, 0, 4),
	M(64, "65 48 8b 04 25 00 00 00 00", 9, OP_MOV, 8, 8, NONE, NONE, 0, 0, 8),
	M(32, "8b 04 8d 00 10 00 00", 7, OP_MOV, 4, 4, NONE, R_RCX, 2, 0x1000, 4),
	M(32, "8b 05 00 10 00 00", 6, OP_MOV, 4, 4, NONE, NONE, 0, 0x1000, 4),
	M(32, "8b 44 24 04", 4, OP_MOV, 4, 4, R_RSP, NONE, 0, 4, 4),
	M(32, "8b 45 08", 3, OP_MOV, 4, 4, R_RBP, NONE, 0, 8, 4),
	M(32, "8b 04 2c", 3, OP_MOV, 4, 4, R_RSP, R_RBP, 0, 0, 4),
	M(32, "8b 04 25 00 10 00 00", 7, OP_MOV, 4, 4, NONE, NONE, 0, 0x1000, 4),
	M(32, "8b 4c 24 fc", 4, OP_MOV, 4, 4, R_RSP, NONE, 0, -4, 4),
	M(32, "8b 44 ad 00", 4, OP_MOV, 4, 4, R_RBP, R_RBP, 2, 0, 4),
	M(32, "67 8b 46 02", 4, OP_MOV, 4, 2, R_RBP, NONE, 0, 2, 4),
	M(32, "66 8b 00", 3, OP_MOV, 2, 4, R_RAX, NONE, 0, 0, 2),

	/* --- 16-bit addressing --- */
	M(16, "8b 00", 2, OP_MOV, 2, 2, R_RBX, R_RSI, 0, 0, 2),
	M(16, "8b 01", 2, OP_MOV, 2, 2, R_RBX, R_RDI, 0, 0, 2),
	M(16, "8b 02", 2, OP_MOV, 2, 2, R_RBP, R_RSI, 0, 0, 2),
	M(16, "8b 03", 2, OP_MOV, 2, 2, R_RBP, R_RDI, 0, 0, 2),
	M(16, "8b 04", 2, OP_MOV, 2, 2, R_RSI, NONE, 0, 0, 2),
	M(16, "8b 05", 2, OP_MOV, 2, 2, R_RDI, NONE, 0, 0, 2),
	M(16, "8b 06 34 12", 4, OP_MOV, 2, 2, NONE, NONE, 0, 0x1234, 2),
	M(16, "8b 07", 2, OP_MOV, 2, 2, R_RBX, NONE, 0, 0, 2),
	M(16, "8b 46 fe", 3, OP_MOV, 2, 2, R_RBP, NONE, 0, -2, 2),
	M(16, "8b 87 00 80", 4, OP_MOV, 2, 2, R_RBX, NONE, 0, -0x8000, 2),
	M(16, "8b 40 7f", 3, OP_MOV, 2, 2, R_RBX, R_RSI, 0, 0x7f, 2),
	M(16, "66 8b 00", 3, OP_MOV, 4, 2, R_RBX, R_RSI, 0, 0, 4),
	M(16, "67 8b 00", 3, OP_MOV, 2, 4, R_RAX, NONE, 0, 0, 2),
	M(16, "67 8b 04 24", 4, OP_MOV, 2, 4, R_RSP, NONE, 0, 0, 2),
	M(16, "67 66 8b 44 8b 04", 6, OP_MOV, 4, 4, R_RBX, R_RCX, 2, 4, 4),

	/* --- REX placement and byte registers --- */
	R(64, "48 66 01 d8", 4, OP_ADD, 2, 8),
	R(64, "48 f3 90", 3, OP_PAUSE, 4, 8),
	R(64, "40 88 e0", 3, OP_MOV, 1, 8),
	R(64, "88 e0", 2, OP_MOV, 1, 8),
	R(64, "90", 1, OP_NOP, 4, 8),
	R(64, "48 90", 2, OP_NOP, 8, 8),
	R(64, "f3 90", 2, OP_PAUSE, 4, 8),
	R(64, "41 90", 2, OP_XCHG, 4, 8),
	R(64, "49 90", 2, OP_XCHG, 8, 8),
	R(64, "66 90", 2, OP_NOP, 2, 8),
	R(64, "87 c1", 2, OP_XCHG, 4, 8),
	R(32, "91", 1, OP_XCHG, 4, 4),

	/* --- prefix repetition and ordering --- */
	R(64, "66 66 66 01 d8", 5, OP_ADD, 2, 8),
	R(64, "f2 f3 a4", 3, OP_MOVS, 1, 8),
	R(64, "f3 f2 a6", 3, OP_CMPS, 1, 8),
	R(64, "f3 48 a5", 3, OP_MOVS, 8, 8),
	M(64, "f0 f0 01 00", 4, OP_ADD, 4, 8, R_RAX, NONE, 0, 0, 4),
	M(64, "26 2e 36 3e 64 8b 00", 7, OP_MOV, 4, 8, R_RAX, NONE, 0, 0, 4),
	M(32, "64 26 8b 00", 4, OP_MOV, 4, 4, R_RAX, NONE, 0, 0, 4),
	R(64, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 90", 15, OP_NOP, 2, 8),

	/* --- 15-byte limit --- */
	ERR(64, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 90", GP),
	ERR(64, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 05 00 00", GP),
	ERR(64, "67 67 67 67 67 67 67 67 67 67 67 67 67 8b 04 25 00 00 00 00", GP),
	ERR(64, "f0 f0 f0 f0 f0 f0 f0 f0 f0 f0 48 81 00 00 00 00 00", GP),
	ERR(64, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 66", GP),
	M(64, "f0 f0 f0 f0 f0 f0 f0 f0 48 81 00 00 00 00 00", 15, OP_ADD, 8, 8, R_RAX, NONE, 0, 0, 8),
	ERR(64, "f0 f0 f0 f0 f0 f0 f0 f0 f0 48 81 00 00 00 00 00", GP),

	/* --- truncated input --- */
	SHORT(64, "", 1),
	SHORT(64, "48", 2),
	SHORT(64, "66 48", 3),
	SHORT(64, "0f", 2),
	SHORT(64, "0f 38", 3),
	SHORT(64, "66 0f 3a 0f c1", 6),
	SHORT(64, "8b", 2),
	SHORT(64, "8b 04", 3),
	SHORT(64, "8b 84 88 78", 7),
	SHORT(64, "8b 45", 3),
	SHORT(64, "05 78 56", 5),
	SHORT(64, "48 b8 11 22 33", 10),
	SHORT(64, "e8 00 00", 5),
	SHORT(64, "c8 10 00", 4),
	SHORT(16, "8b 06 34", 4),
	SHORT(32, "9a 00 00 00 00 00", 7),

	/* --- undefined and invalid encodings --- */
	R(64, "0f 0b", 2, OP_UD2, 4, 8),
	ERR(64, "0f 04", UD),
	ERR(64, "0f 0a", UD),
	ERR(64, "0f 0e", UD),
	ERR(64, "0f 37", UD),
	ERR(64, "0f 24 c0", UD),
	ERR(64, "0f 01 c1", UD),
	ERR(64, "0f a6", UD),
	ERR(64, "06", UD),
	ERR(64, "07", UD),
	ERR(64, "0e", UD),
	ERR(64, "16", UD),
	ERR(64, "17", UD),
	ERR(64, "1e", UD),
	ERR(64, "1f", UD),
	ERR(64, "27", UD),
	ERR(64, "2f", UD),
	ERR(64, "37", UD),
	ERR(64, "3f", UD),
	ERR(64, "60", UD),
	ERR(64, "61", UD),
	ERR(64, "62 00", UD),
	ERR(64, "82 c0 01", UD),
	ERR(64, "9a 00 00 00 00 00 00", UD),
	ERR(64, "ce", UD),
	ERR(64, "d4 0a", UD),
	ERR(64, "d5 0a", UD),
	ERR(64, "d6", UD),
	ERR(64, "ea 00 00 00 00 00 00", UD),
	ERR(64, "c4 e2 79 00 c0", UD),
	ERR(64, "c5 f8 77", UD),
	ERR(64, "c4 00", UD),
	ERR(32, "c5 c0", UD),
	ERR(32, "62 c0", UD),
	ERR(64, "f0 01 c0", UD),
	ERR(64, "f0 89 00", UD),
	ERR(64, "f0 38 00", UD),
	ERR(64, "f0 03 00", UD),
	ERR(64, "f0 0f a3 00", UD),
	ERR(64, "f0 f6 00 01", UD),
	ERR(64, "f0 90", UD),
	ERR(64, "f0 0f 20 c0", UD),
	ERR(64, "0f c7 c8", UD),
	ERR(64, "8d c0", UD),
	ERR(64, "c4 c0", UD),
	ERR(64, "fe d0", UD),
	ERR(64, "ff f8", UD),
	ERR(64, "ff d8", UD),
	ERR(64, "8f c8", UD),
	ERR(64, "c6 f8 00", UD),
	ERR(64, "c7 f8 00 00 00 00", UD),
	ERR(64, "0f b8 c1", UD),
	ERR(32, "0f 01 f8", UD),
	ERR(32, "f3 0f ae c0", UD),
	SHORT(64, "0f ba e0", 4),
	ERR(64, "0f ba c0 01", UD),
	ERR(64, "66 0f 73 18 08", UD),
	ERR(64, "0f 73 d8 08", UD),
	ERR(64, "0f 38 17 c1", UD),
	ERR(64, "f2 0f 6f 00", UD),
	ERR(64, "66 0f 12 c1", UD),
	ERR(64, "0f 13 c0", UD),
	ERR(64, "0f c3 c0", UD),
	ERR(64, "66 0f e7 c0", UD),
	ERR(64, "d9 d1", UD),
	ERR(64, "d9 08", UD),
	ERR(64, "dd c8", UD),
	ERR(64, "0f 00 f0", UD),
	ERR(64, "0f 01 28", UD),
	ERR(64, "0f 38 db c1", UD),

	/* --- valid only outside 64-bit mode, and mode-dependent meanings --- */
	R(32, "06", 1, OP_PUSH, 4, 4),
	R(32, "07", 1, OP_POP, 4, 4),
	R(16, "1e", 1, OP_PUSH, 2, 2),
	R(32, "27", 1, OP_DAA, 4, 4),
	R(32, "37", 1, OP_AAA, 4, 4),
	R(32, "60", 1, OP_PUSHA, 4, 4),
	R(16, "61", 1, OP_POPA, 2, 2),
	M(32, "62 00", 2, OP_BOUND, 4, 4, R_RAX, NONE, 0, 0, 8),
	R(32, "9a 78 56 34 12 cd ab", 7, OP_CALLF, 4, 4),
	R(16, "ea 00 7c 00 00", 5, OP_JMPF, 2, 2),
	R(32, "ce", 1, OP_INTO, 4, 4),
	R(32, "d4 0a", 2, OP_AAM, 4, 4),
	R(32, "d5 0a", 2, OP_AAD, 4, 4),
	R(32, "82 c0 01", 3, OP_ADD, 1, 4),
	M(32, "c4 00", 2, OP_LES, 4, 4, R_RAX, NONE, 0, 0, 6),
	M(16, "c5 1e 00 10", 4, OP_LDS, 2, 2, NONE, NONE, 0, 0x1000, 4),
	SHORT(64, "40", 2),
	R(32, "40", 1, OP_INC, 4, 4),
	R(32, "4f", 1, OP_DEC, 4, 4),
	R(16, "40", 1, OP_INC, 2, 2),
	R(64, "63 c1", 2, OP_MOVSXD, 4, 8),
	R(64, "48 63 c1", 3, OP_MOVSXD, 8, 8),
	R(32, "63 c1", 2, OP_ARPL, 4, 4),

	/* --- stack, branches, default and forced 64-bit size --- */
	R(64, "50", 1, OP_PUSH, 8, 8),
	R(64, "41 57", 2, OP_PUSH, 8, 8),
	R(64, "66 50", 2, OP_PUSH, 2, 8),
	R(64, "48 50", 2, OP_PUSH, 8, 8),
	R(32, "50", 1, OP_PUSH, 4, 4),
	R(16, "50", 1, OP_PUSH, 2, 2),
	R(64, "5d", 1, OP_POP, 8, 8),
	R(64, "6a ff", 2, OP_PUSH, 8, 8),
	R(64, "68 00 00 00 80", 5, OP_PUSH, 8, 8),
	R(64, "66 68 34 12", 4, OP_PUSH, 2, 8),
	M(64, "ff 30", 2, OP_PUSH, 8, 8, R_RAX, NONE, 0, 0, 8),
	M(64, "8f 00", 2, OP_POP, 8, 8, R_RAX, NONE, 0, 0, 8),
	R(64, "0f a0", 2, OP_PUSH, 8, 8),
	R(64, "0f a9", 2, OP_POP, 8, 8),
	R(64, "e8 00 00 00 00", 5, OP_CALL, 8, 8),
	R(64, "66 e8 00 00 00 00", 6, OP_CALL, 8, 8),
	R(32, "66 e8 00 00", 4, OP_CALL, 2, 4),
	R(16, "e8 fd ff", 3, OP_CALL, 2, 2),
	R(16, "66 e8 00 00 00 00", 6, OP_CALL, 4, 2),
	R(64, "eb fe", 2, OP_JMP, 8, 8),
	R(64, "e9 00 00 00 00", 5, OP_JMP, 8, 8),
	R(64, "74 05", 2, OP_JCC, 8, 8),
	R(64, "0f 85 00 01 00 00", 6, OP_JCC, 8, 8),
	R(16, "0f 85 00 01", 4, OP_JCC, 2, 2),
	R(64, "e3 10", 2, OP_JCXZ, 8, 8),
	R(64, "67 e3 10", 3, OP_JCXZ, 8, 4),
	R(64, "e2 fe", 2, OP_LOOP, 8, 8),
	R(64, "e0 fe", 2, OP_LOOPNE, 8, 8),
	R(64, "e1 fe", 2, OP_LOOPE, 8, 8),
	R(64, "c3", 1, OP_RET, 8, 8),
	R(64, "c2 08 00", 3, OP_RET, 8, 8),
	R(64, "cb", 1, OP_RETF, 4, 8),
	R(64, "48 cb", 2, OP_RETF, 8, 8),
	R(64, "ca 04 00", 3, OP_RETF, 4, 8),
	R(64, "cf", 1, OP_IRET, 4, 8),
	R(64, "48 cf", 2, OP_IRET, 8, 8),
	R(64, "ff d0", 2, OP_CALL, 8, 8),
	R(64, "41 ff e3", 3, OP_JMP, 8, 8),
	M(64, "ff 18", 2, OP_CALLF, 4, 8, R_RAX, NONE, 0, 0, 6),
	M(64, "48 ff 28", 3, OP_JMPF, 8, 8, R_RAX, NONE, 0, 0, 10),
	M(16, "ff 2e 67 04", 4, OP_JMPF, 2, 2, NONE, NONE, 0, 0x467, 4),
	R(64, "c8 10 00 01", 4, OP_ENTER, 8, 8),
	R(64, "c9", 1, OP_LEAVE, 8, 8),
	R(64, "9c", 1, OP_PUSHF, 8, 8),
	R(32, "9d", 1, OP_POPF, 4, 4),
	R(16, "66 9c", 2, OP_PUSHF, 4, 2),

	/* --- moves --- */
	R(64, "48 b8 11 22 33 44 55 66 77 88", 10, OP_MOV, 8, 8),
	R(64, "49 bf 00 00 00 00 00 00 00 80", 10, OP_MOV, 8, 8),
	R(64, "b8 78 56 34 12", 5, OP_MOV, 4, 8),
	R(64, "66 b8 34 12", 4, OP_MOV, 2, 8),
	R(16, "b8 34 12", 3, OP_MOV, 2, 2),
	R(64, "b4 12", 2, OP_MOV, 1, 8),
	R(64, "41 b4 12", 3, OP_MOV, 1, 8),
	M(64, "a0 88 77 66 55 44 33 22 11", 9, OP_MOV, 1, 8, NONE, NONE, 0, 0x1122334455667788LL, 1),
	M(64, "67 a1 44 33 22 11", 6, OP_MOV, 4, 4, NONE, NONE, 0, 0x11223344, 4),
	M(64, "48 a3 00 00 00 00 00 00 00 80", 10, OP_MOV, 8, 8, NONE, NONE, 0, INT64_MIN, 8),
	M(32, "a3 44 33 22 11", 5, OP_MOV, 4, 4, NONE, NONE, 0, 0x11223344, 4),
	M(16, "a1 34 12", 3, OP_MOV, 2, 2, NONE, NONE, 0, 0x1234, 2),
	M(16, "a0 00 80", 3, OP_MOV, 1, 2, NONE, NONE, 0, 0x8000, 1),
	M(64, "c7 00 78 56 34 12", 6, OP_MOV, 4, 8, R_RAX, NONE, 0, 0, 4),
	M(64, "c7 40 08 78 56 34 12", 7, OP_MOV, 4, 8, R_RAX, NONE, 0, 8, 4),
	RIP(64, "c7 05 f6 ff ff ff 01 00 00 00", 10, OP_MOV, 4, 8, -10, 4),
	RIP(64, "66 c7 05 f6 ff ff ff 01 00", 9, OP_MOV, 2, 8, -10, 2),
	R(64, "48 c7 c0 ff ff ff ff", 7, OP_MOV, 8, 8),
	M(64, "c6 00 ff", 3, OP_MOV, 1, 8, R_RAX, NONE, 0, 0, 1),
	R(64, "8c d8", 2, OP_MOV_FROM_SEG, 4, 8),
	R(64, "8e d8", 2, OP_MOV_TO_SEG, 4, 8),
	M(64, "8c 18", 2, OP_MOV_FROM_SEG, 4, 8, R_RAX, NONE, 0, 0, 2),
	R(64, "0f b6 c0", 3, OP_MOVZX, 4, 8),
	R(64, "48 0f bf c0", 4, OP_MOVSX, 8, 8),
	M(64, "0f b7 00", 3, OP_MOVZX, 4, 8, R_RAX, NONE, 0, 0, 2),
	M(64, "48 0f be 00", 4, OP_MOVSX, 8, 8, R_RAX, NONE, 0, 0, 1),
	M(64, "86 00", 2, OP_XCHG, 1, 8, R_RAX, NONE, 0, 0, 1),
	R(64, "0f c8", 2, OP_BSWAP, 4, 8),
	R(64, "49 0f cf", 3, OP_BSWAP, 8, 8),
	M(64, "f0 0f c1 00", 4, OP_XADD, 4, 8, R_RAX, NONE, 0, 0, 4),
	M(64, "f0 0f b1 0a", 4, OP_CMPXCHG, 4, 8, R_RDX, NONE, 0, 0, 4),
	M(64, "f0 0f b0 0a", 4, OP_CMPXCHG, 1, 8, R_RDX, NONE, 0, 0, 1),
	R(64, "98", 1, OP_CBW, 4, 8),
	R(64, "48 98", 2, OP_CBW, 8, 8),
	R(64, "48 99", 2, OP_CWD, 8, 8),
	R(64, "0f 44 c1", 3, OP_CMOVCC, 4, 8),
	R(64, "0f 94 c0", 3, OP_SETCC, 1, 8),
	R(64, "9e", 1, OP_SAHF, 4, 8),
	R(64, "9f", 1, OP_LAHF, 4, 8),

	/* --- groups: shifts, unary, bit tests --- */
	R(64, "d1 e0", 2, OP_SHL, 4, 8),
	R(64, "d1 f0", 2, OP_SHL, 4, 8),
	R(64, "c1 f8 03", 3, OP_SAR, 4, 8),
	R(64, "d3 e8", 2, OP_SHR, 4, 8),
	R(64, "d0 c0", 2, OP_ROL, 1, 8),
	R(64, "d2 c8", 2, OP_ROR, 1, 8),
	R(64, "d1 d0", 2, OP_RCL, 4, 8),
	R(64, "c0 d8 02", 3, OP_RCR, 1, 8),
	R(64, "f7 d8", 2, OP_NEG, 4, 8),
	R(64, "f7 d0", 2, OP_NOT, 4, 8),
	R(64, "f7 e1", 2, OP_MUL, 4, 8),
	R(64, "f7 e9", 2, OP_IMUL, 4, 8),
	R(64, "f7 f1", 2, OP_DIV, 4, 8),
	R(64, "48 f7 f9", 3, OP_IDIV, 8, 8),
	R(64, "f6 c4 01", 3, OP_TEST, 1, 8),
	R(64, "f7 c0 01 00 00 00", 6, OP_TEST, 4, 8),
	R(64, "66 f7 c0 01 00", 5, OP_TEST, 2, 8),
	R(64, "fe c0", 2, OP_INC, 1, 8),
	R(64, "ff c8", 2, OP_DEC, 4, 8),
	M(64, "f0 fe 00", 3, OP_INC, 1, 8, R_RAX, NONE, 0, 0, 1),
	M(64, "f0 f6 10", 3, OP_NOT, 1, 8, R_RAX, NONE, 0, 0, 1),
	M(64, "f0 48 f7 18", 4, OP_NEG, 8, 8, R_RAX, NONE, 0, 0, 8),
	R(64, "0f ba e0 05", 4, OP_BT, 4, 8),
	M(64, "f0 0f ba 28 05", 5, OP_BTS, 4, 8, R_RAX, NONE, 0, 0, 4),
	M(64, "f0 0f ab 00", 4, OP_BTS, 4, 8, R_RAX, NONE, 0, 0, 4),
	M(64, "f0 0f b3 00", 4, OP_BTR, 4, 8, R_RAX, NONE, 0, 0, 4),
	M(64, "f0 0f bb 00", 4, OP_BTC, 4, 8, R_RAX, NONE, 0, 0, 4),
	R(64, "0f a3 c8", 3, OP_BT, 4, 8),
	M(64, "f0 87 00", 3, OP_XCHG, 4, 8, R_RAX, NONE, 0, 0, 4),
	M(64, "f0 48 0f c7 08", 5, OP_CMPXCHG16B, 8, 8, R_RAX, NONE, 0, 0, 16),
	M(64, "0f c7 0e", 3, OP_CMPXCHG8B, 4, 8, R_RSI, NONE, 0, 0, 8),
	R(64, "0f a4 c2 04", 4, OP_SHLD, 4, 8),
	R(64, "0f a5 c2", 3, OP_SHLD, 4, 8),
	R(64, "48 0f ac c2 04", 5, OP_SHRD, 8, 8),
	R(64, "0f bc c1", 3, OP_BSF, 4, 8),
	R(64, "66 0f bd c1", 4, OP_BSR, 2, 8),
	R(64, "f3 0f bc c1", 4, OP_TZCNT, 4, 8),
	R(64, "f3 48 0f bd c1", 5, OP_LZCNT, 8, 8),
	R(64, "f3 0f b8 c1", 4, OP_POPCNT, 4, 8),
	R(64, "66 f3 0f b8 c1", 5, OP_POPCNT, 2, 8),
	M(64, "0f 38 f0 00", 4, OP_MOVBE, 4, 8, R_RAX, NONE, 0, 0, 4),
	M(64, "66 0f 38 f1 00", 5, OP_MOVBE, 2, 8, R_RAX, NONE, 0, 0, 2),
	R(64, "f2 0f 38 f0 c1", 5, OP_CRC32, 4, 8),
	R(64, "f2 48 0f 38 f1 c1", 6, OP_CRC32, 8, 8),
	R(64, "66 f2 0f 38 f1 c1", 6, OP_CRC32, 2, 8),

	/* --- strings and I/O --- */
	R(64, "a4", 1, OP_MOVS, 1, 8),
	R(64, "48 ab", 2, OP_STOS, 8, 8),
	R(64, "66 ad", 2, OP_LODS, 2, 8),
	R(64, "ae", 1, OP_SCAS, 1, 8),
	R(64, "67 f3 a4", 3, OP_MOVS, 1, 4),
	R(32, "f3 6c", 2, OP_INS, 1, 4),
	R(64, "6d", 1, OP_INS, 4, 8),
	R(64, "66 6d", 2, OP_INS, 2, 8),
	R(64, "48 6d", 2, OP_INS, 4, 8),
	R(16, "6f", 1, OP_OUTS, 2, 2),
	R(64, "ec", 1, OP_IN, 1, 8),
	R(64, "ed", 1, OP_IN, 4, 8),
	R(64, "e4 60", 2, OP_IN, 1, 8),
	R(64, "e6 80", 2, OP_OUT, 1, 8),
	R(16, "ef", 1, OP_OUT, 2, 2),
	R(64, "d7", 1, OP_XLAT, 1, 8),

	/* --- system --- */
	M(64, "0f 01 10", 3, OP_LGDT, 8, 8, R_RAX, NONE, 0, 0, 10),
	M(32, "0f 01 10", 3, OP_LGDT, 4, 4, R_RAX, NONE, 0, 0, 6),
	M(16, "0f 01 1e 00 10", 5, OP_LIDT, 2, 2, NONE, NONE, 0, 0x1000, 6),
	M(64, "0f 01 00", 3, OP_SGDT, 8, 8, R_RAX, NONE, 0, 0, 10),
	M(64, "0f 01 08", 3, OP_SIDT, 8, 8, R_RAX, NONE, 0, 0, 10),
	R(64, "0f 01 f8", 3, OP_SWAPGS, 4, 8),
	R(64, "0f 01 f9", 3, OP_RDTSCP, 4, 8),
	R(64, "0f 01 d0", 3, OP_XGETBV, 4, 8),
	R(64, "0f 01 d1", 3, OP_XSETBV, 4, 8),
	R(64, "0f 01 c8", 3, OP_MONITOR, 4, 8),
	R(64, "0f 01 c9", 3, OP_MWAIT, 4, 8),
	R(64, "0f 01 ca", 3, OP_CLAC, 4, 8),
	R(64, "0f 01 cb", 3, OP_STAC, 4, 8),
	M(64, "0f 01 38", 3, OP_INVLPG, 4, 8, R_RAX, NONE, 0, 0, 0),
	R(64, "0f 01 f0", 3, OP_LMSW, 4, 8),
	R(64, "0f 01 e0", 3, OP_SMSW, 4, 8),
	M(64, "0f 01 20", 3, OP_SMSW, 4, 8, R_RAX, NONE, 0, 0, 2),
	R(64, "0f 00 d8", 3, OP_LTR, 4, 8),
	R(64, "0f 00 d0", 3, OP_LLDT, 4, 8),
	R(64, "0f 00 c0", 3, OP_SLDT, 4, 8),
	R(64, "0f 00 c8", 3, OP_STR, 4, 8),
	R(64, "0f 00 e0", 3, OP_VERR, 4, 8),
	R(64, "0f 02 c1", 3, OP_LAR, 4, 8),
	R(64, "0f 03 c1", 3, OP_LSL, 4, 8),
	R(64, "0f 22 d8", 3, OP_MOV_TO_CR, 8, 8),
	R(64, "0f 20 18", 3, OP_MOV_FROM_CR, 8, 8),
	R(64, "44 0f 20 c0", 4, OP_MOV_FROM_CR, 8, 8),
	R(64, "66 0f 20 c0", 4, OP_MOV_FROM_CR, 8, 8),
	R(32, "0f 22 c0", 3, OP_MOV_TO_CR, 4, 4),
	R(64, "0f 23 f8", 3, OP_MOV_TO_DR, 8, 8),
	R(64, "0f 21 c0", 3, OP_MOV_FROM_DR, 8, 8),
	R(64, "0f 30", 2, OP_WRMSR, 4, 8),
	R(64, "0f 32", 2, OP_RDMSR, 4, 8),
	R(64, "0f 31", 2, OP_RDTSC, 4, 8),
	R(64, "0f 33", 2, OP_RDPMC, 4, 8),
	R(64, "0f a2", 2, OP_CPUID, 4, 8),
	R(64, "0f 05", 2, OP_SYSCALL, 4, 8),
	R(64, "48 0f 07", 3, OP_SYSRET, 8, 8),
	R(32, "0f 34", 2, OP_SYSENTER, 4, 4),
	R(32, "0f 35", 2, OP_SYSEXIT, 4, 4),
	R(64, "0f 06", 2, OP_CLTS, 4, 8),
	R(64, "0f 08", 2, OP_INVD, 4, 8),
	R(64, "0f 09", 2, OP_WBINVD, 4, 8),
	R(64, "0f aa", 2, OP_RSM, 4, 8),
	R(64, "f4", 1, OP_HLT, 4, 8),
	R(64, "fa", 1, OP_CLI, 4, 8),
	R(64, "fb", 1, OP_STI, 4, 8),
	R(64, "fc", 1, OP_CLD, 4, 8),
	R(64, "fd", 1, OP_STD, 4, 8),
	R(64, "f5", 1, OP_CMC, 4, 8),
	R(64, "f8", 1, OP_CLC, 4, 8),
	R(64, "f9", 1, OP_STC, 4, 8),
	R(64, "cc", 1, OP_INT3, 4, 8),
	R(64, "cd 80", 2, OP_INT, 4, 8),
	R(64, "f1", 1, OP_INT1, 4, 8),
	R(64, "0f c7 f0", 3, OP_RDRAND, 4, 8),
	R(64, "48 0f c7 f8", 4, OP_RDSEED, 8, 8),
	R(64, "f3 0f c7 f8", 4, OP_RDPID, 8, 8),
	R(64, "0f ae e8", 3, OP_LFENCE, 4, 8),
	R(64, "0f ae f0", 3, OP_MFENCE, 4, 8),
	R(64, "0f ae f8", 3, OP_SFENCE, 4, 8),
	M(64, "0f ae 38", 3, OP_CLFLUSH, 1, 8, R_RAX, NONE, 0, 0, 1),
	M(64, "66 0f ae 38", 4, OP_CLFLUSHOPT, 1, 8, R_RAX, NONE, 0, 0, 1),
	M(64, "0f ae 00", 3, OP_FXSAVE, 4, 8, R_RAX, NONE, 0, 0, 512),
	M(64, "48 0f ae 08", 4, OP_FXRSTOR, 8, 8, R_RAX, NONE, 0, 0, 512),
	M(64, "0f ae 10", 3, OP_LDMXCSR, 4, 8, R_RAX, NONE, 0, 0, 4),
	M(64, "0f ae 5c 24 fc", 5, OP_STMXCSR, 4, 8, R_RSP, NONE, 0, -4, 4),
	M(64, "0f ae 21", 3, OP_XSAVE, 4, 8, R_RCX, NONE, 0, 0, 0),
	M(64, "48 0f ae 29", 4, OP_XRSTOR, 8, 8, R_RCX, NONE, 0, 0, 0),
	R(64, "f3 48 0f ae c0", 5, OP_RDFSBASE, 8, 8),
	R(64, "f3 0f ae d9", 4, OP_WRGSBASE, 4, 8),
	M(64, "0f 18 00", 3, OP_PREFETCH, 4, 8, R_RAX, NONE, 0, 0, 0),
	M(64, "0f 0d 08", 3, OP_PREFETCHW, 4, 8, R_RAX, NONE, 0, 0, 0),
	M(64, "0f 1f 00", 3, OP_NOP, 4, 8, R_RAX, NONE, 0, 0, 4),
	M(64, "0f 1f 44 00 00", 5, OP_NOP, 4, 8, R_RAX, R_RAX, 0, 0, 4),
	M(64, "66 0f 1f 84 00 00 00 00 00", 9, OP_NOP, 2, 8, R_RAX, R_RAX, 0, 0, 2),
	M(64, "66 2e 0f 1f 84 00 00 00 00 00", 10, OP_NOP, 2, 8, R_RAX, R_RAX, 0, 0, 2),
	R(64, "f3 0f 1e fa", 4, OP_NOP, 4, 8),
	R(32, "f3 0f 1e fb", 4, OP_NOP, 4, 4),
	R(64, "0f ff c0", 3, OP_UD0, 4, 8),
	M(64, "0f b9 00", 3, OP_UD1, 4, 8, R_RAX, NONE, 0, 0, 4),

	/* --- x87 --- */
	R(64, "d9 e8", 2, OP_FLD1, 4, 8),
	R(64, "d9 ee", 2, OP_FLDZ, 4, 8),
	R(64, "d9 ea", 2, OP_FLDL2E, 4, 8),
	R(64, "d9 c9", 2, OP_FXCH, 4, 8),
	R(64, "d9 c1", 2, OP_FLD, 4, 8),
	R(64, "d9 e0", 2, OP_FCHS, 4, 8),
	R(64, "d9 e1", 2, OP_FABS, 4, 8),
	R(64, "d9 e4", 2, OP_FTST, 4, 8),
	R(64, "d9 e5", 2, OP_FXAM, 4, 8),
	R(64, "d9 fa", 2, OP_FSQRT, 4, 8),
	R(64, "d9 fc", 2, OP_FRNDINT, 4, 8),
	R(64, "d9 fd", 2, OP_FSCALE, 4, 8),
	R(64, "d9 f8", 2, OP_FPREM, 4, 8),
	R(64, "d9 f5", 2, OP_FPREM1, 4, 8),
	R(64, "d9 d0", 2, OP_FNOP, 4, 8),
	R(64, "dd d8", 2, OP_FSTP, 4, 8),
	R(64, "dd d1", 2, OP_FST, 4, 8),
	R(64, "dd c1", 2, OP_FFREE, 4, 8),
	R(64, "dd e1", 2, OP_FUCOM, 4, 8),
	R(64, "df e0", 2, OP_FNSTSW, 4, 8),
	R(64, "9b", 1, OP_FWAIT, 4, 8),
	R(64, "db e3", 2, OP_FNINIT, 4, 8),
	R(64, "db e2", 2, OP_FNCLEX, 4, 8),
	R(64, "de d9", 2, OP_FCOMPP, 4, 8),
	R(64, "da e9", 2, OP_FUCOMPP, 4, 8),
	R(64, "db e9", 2, OP_FUCOMI, 4, 8),
	R(64, "db f1", 2, OP_FCOMI, 4, 8),
	R(64, "df e9", 2, OP_FUCOMIP, 4, 8),
	R(64, "df f1", 2, OP_FCOMIP, 4, 8),
	R(64, "da c1", 2, OP_FCMOVB, 4, 8),
	R(64, "da d9", 2, OP_FCMOVU, 4, 8),
	R(64, "db d1", 2, OP_FCMOVNBE, 4, 8),
	R(64, "d8 c1", 2, OP_FADD, 4, 8),
	R(64, "dc c1", 2, OP_FADD, 4, 8),
	R(64, "de c1", 2, OP_FADDP, 4, 8),
	R(64, "de e9", 2, OP_FSUBP, 4, 8),
	R(64, "de e1", 2, OP_FSUBRP, 4, 8),
	R(64, "dc e9", 2, OP_FSUB, 4, 8),
	R(64, "dc e1", 2, OP_FSUBR, 4, 8),
	R(64, "d8 e1", 2, OP_FSUB, 4, 8),
	R(64, "d8 f9", 2, OP_FDIVR, 4, 8),
	R(64, "de f9", 2, OP_FDIVP, 4, 8),
	R(64, "d8 d1", 2, OP_FCOM, 4, 8),
	M(64, "d9 00", 2, OP_FLD, 4, 8, R_RAX, NONE, 0, 0, 4),
	M(64, "dd 00", 2, OP_FLD, 4, 8, R_RAX, NONE, 0, 0, 8),
	M(64, "db 28", 2, OP_FLD, 4, 8, R_RAX, NONE, 0, 0, 10),
	M(64, "db 38", 2, OP_FSTP, 4, 8, R_RAX, NONE, 0, 0, 10),
	M(64, "d9 18", 2, OP_FSTP, 4, 8, R_RAX, NONE, 0, 0, 4),
	M(64, "dd 10", 2, OP_FST, 4, 8, R_RAX, NONE, 0, 0, 8),
	M(64, "df 28", 2, OP_FILD, 4, 8, R_RAX, NONE, 0, 0, 8),
	M(64, "df 00", 2, OP_FILD, 4, 8, R_RAX, NONE, 0, 0, 2),
	M(64, "db 00", 2, OP_FILD, 4, 8, R_RAX, NONE, 0, 0, 4),
	M(64, "db 08", 2, OP_FISTTP, 4, 8, R_RAX, NONE, 0, 0, 4),
	M(64, "dd 08", 2, OP_FISTTP, 4, 8, R_RAX, NONE, 0, 0, 8),
	M(64, "df 38", 2, OP_FISTP, 4, 8, R_RAX, NONE, 0, 0, 8),
	M(64, "db 10", 2, OP_FIST, 4, 8, R_RAX, NONE, 0, 0, 4),
	M(64, "d9 7c 24 fe", 4, OP_FNSTCW, 4, 8, R_RSP, NONE, 0, -2, 2),
	M(64, "d9 6c 24 fe", 4, OP_FLDCW, 4, 8, R_RSP, NONE, 0, -2, 2),
	M(64, "dd 38", 2, OP_FNSTSW, 4, 8, R_RAX, NONE, 0, 0, 2),
	M(64, "d9 30", 2, OP_FNSTENV, 4, 8, R_RAX, NONE, 0, 0, 28),
	M(64, "66 d9 30", 3, OP_FNSTENV, 2, 8, R_RAX, NONE, 0, 0, 14),
	M(64, "dd 30", 2, OP_FNSAVE, 4, 8, R_RAX, NONE, 0, 0, 108),
	M(64, "dd 20", 2, OP_FRSTOR, 4, 8, R_RAX, NONE, 0, 0, 108),
	M(64, "d8 08", 2, OP_FMUL, 4, 8, R_RAX, NONE, 0, 0, 4),
	M(64, "dc 30", 2, OP_FDIV, 4, 8, R_RAX, NONE, 0, 0, 8),
	M(64, "da 00", 2, OP_FIADD, 4, 8, R_RAX, NONE, 0, 0, 4),
	M(64, "de 38", 2, OP_FIDIVR, 4, 8, R_RAX, NONE, 0, 0, 2),
	M(64, "df 20", 2, OP_FBLD, 4, 8, R_RAX, NONE, 0, 0, 10),

	/* --- SSE: mandatory prefixes select the instruction --- */
	M(64, "0f 10 00", 3, OP_MOVUPS, 16, 8, R_RAX, NONE, 0, 0, 16),
	M(64, "66 0f 10 00", 4, OP_MOVUPD, 16, 8, R_RAX, NONE, 0, 0, 16),
	M(64, "f3 0f 10 00", 4, OP_MOVSS, 16, 8, R_RAX, NONE, 0, 0, 4),
	M(64, "f2 0f 10 00", 4, OP_MOVSD, 16, 8, R_RAX, NONE, 0, 0, 8),
	M(64, "66 f3 0f 10 00", 5, OP_MOVSS, 16, 8, R_RAX, NONE, 0, 0, 4),
	R(64, "66 f2 0f 10 c1", 5, OP_MOVSD, 16, 8),
	R(64, "f2 f3 0f 10 c1", 5, OP_MOVSS, 16, 8),
	M(64, "0f 11 00", 3, OP_MOVUPS, 16, 8, R_RAX, NONE, 0, 0, 16),
	M(64, "f2 44 0f 11 3c 24", 6, OP_MOVSD, 16, 8, R_RSP, NONE, 0, 0, 8),
	R(64, "0f 12 c1", 3, OP_MOVHLPS, 16, 8),
	M(64, "0f 12 00", 3, OP_MOVLPS, 16, 8, R_RAX, NONE, 0, 0, 8),
	R(64, "0f 16 c1", 3, OP_MOVLHPS, 16, 8),
	M(64, "66 0f 16 00", 4, OP_MOVHPD, 16, 8, R_RAX, NONE, 0, 0, 8),
	R(64, "0f 28 c1", 3, OP_MOVAPS, 16, 8),
	M(64, "66 0f 29 00", 4, OP_MOVAPD, 16, 8, R_RAX, NONE, 0, 0, 16),
	R(64, "0f 57 c0", 3, OP_XORPS, 16, 8),
	R(64, "66 0f 54 c0", 4, OP_ANDPD, 16, 8),
	R(64, "f2 0f 58 c1", 4, OP_ADDSD, 16, 8),
	R(64, "f3 0f 59 c1", 4, OP_MULSS, 16, 8),
	R(64, "66 0f 5e c1", 4, OP_DIVPD, 16, 8),
	R(64, "0f 5d c1", 3, OP_MINPS, 16, 8),
	R(64, "f3 0f 5a c1", 4, OP_CVTSS2SD, 16, 8),
	R(64, "f3 0f 5b c1", 4, OP_CVTTPS2DQ, 16, 8),
	R(64, "66 0f ef c0", 4, OP_PXOR, 16, 8),
	R(64, "0f ef c0", 3, OP_PXOR, 8, 8),
	M(64, "66 0f 6f 04 24", 5, OP_MOVDQA, 16, 8, R_RSP, NONE, 0, 0, 16),
	M(64, "f3 0f 6f 00", 4, OP_MOVDQU, 16, 8, R_RAX, NONE, 0, 0, 16),
	M(64, "f3 0f 7f 40 10", 5, OP_MOVDQU, 16, 8, R_RAX, NONE, 0, 0x10, 16),
	R(64, "0f 6f c1", 3, OP_MOVQ, 8, 8),
	R(64, "66 0f 6e c0", 4, OP_MOVD, 4, 8),
	R(64, "66 48 0f 6e c0", 5, OP_MOVD, 8, 8),
	R(64, "66 0f 7e c0", 4, OP_MOVD, 4, 8),
	R(64, "0f 7e c0", 3, OP_MOVD, 4, 8),
	M(64, "f3 0f 7e 00", 4, OP_MOVQ, 16, 8, R_RAX, NONE, 0, 0, 8),
	M(64, "66 0f d6 00", 4, OP_MOVQ, 16, 8, R_RAX, NONE, 0, 0, 8),
	R(64, "66 0f 70 c1 1b", 5, OP_PSHUFD, 16, 8),
	R(64, "f2 0f 70 c1 1b", 5, OP_PSHUFLW, 16, 8),
	R(64, "66 0f 73 d8 08", 5, OP_PSRLDQ, 16, 8),
	R(64, "66 0f 73 f8 08", 5, OP_PSLLDQ, 16, 8),
	R(64, "66 0f 71 d0 02", 5, OP_PSRLW, 16, 8),
	R(64, "0f 72 e0 02", 4, OP_PSRAD, 8, 8),
	R(64, "66 0f d7 c0", 4, OP_PMOVMSKB, 4, 8),
	R(64, "66 0f da c1", 4, OP_PMINUB, 16, 8),
	R(64, "66 0f 74 c1", 4, OP_PCMPEQB, 16, 8),
	R(64, "66 0f 60 c1", 4, OP_PUNPCKLBW, 16, 8),
	M(64, "0f 60 00", 3, OP_PUNPCKLBW, 8, 8, R_RAX, NONE, 0, 0, 4),
	R(64, "66 0f 6c c1", 4, OP_PUNPCKLQDQ, 16, 8),
	R(64, "66 0f d4 c1", 4, OP_PADDQ, 16, 8),
	R(64, "66 0f fe c1", 4, OP_PADDD, 16, 8),
	R(64, "66 0f f8 c1", 4, OP_PSUBB, 16, 8),
	R(64, "66 0f eb c1", 4, OP_POR, 16, 8),
	R(64, "66 0f db c1", 4, OP_PAND, 16, 8),
	R(64, "66 0f df c1", 4, OP_PANDN, 16, 8),
	R(64, "66 0f f4 c1", 4, OP_PMULUDQ, 16, 8),
	R(64, "0f c2 c1 00", 4, OP_CMPPS, 16, 8),
	M(64, "f2 0f c2 00 01", 5, OP_CMPSD, 16, 8, R_RAX, NONE, 0, 0, 8),
	R(64, "f2 0f 2c c0", 4, OP_CVTTSD2SI, 4, 8),
	R(64, "f2 48 0f 2c c0", 5, OP_CVTTSD2SI, 8, 8),
	R(64, "f2 0f 2a c0", 4, OP_CVTSI2SD, 4, 8),
	M(64, "f3 48 0f 2a 00", 5, OP_CVTSI2SS, 8, 8, R_RAX, NONE, 0, 0, 8),
	R(64, "66 0f 2e c1", 4, OP_UCOMISD, 16, 8),
	M(64, "0f 2f 00", 3, OP_COMISS, 16, 8, R_RAX, NONE, 0, 0, 4),
	R(64, "0f 50 c1", 3, OP_MOVMSKPS, 4, 8),
	R(64, "0f 77", 2, OP_EMMS, 4, 8),
	R(64, "66 0f c5 c0 01", 5, OP_PEXTRW, 4, 8),
	R(64, "66 0f c4 c0 01", 5, OP_PINSRW, 4, 8),
	M(64, "66 0f c4 00 01", 5, OP_PINSRW, 4, 8, R_RAX, NONE, 0, 0, 2),
	R(64, "0f c6 c1 44", 4, OP_SHUFPS, 16, 8),
	M(64, "0f c3 00", 3, OP_MOVNTI, 4, 8, R_RAX, NONE, 0, 0, 4),
	M(64, "48 0f c3 00", 4, OP_MOVNTI, 8, 8, R_RAX, NONE, 0, 0, 8),
	M(64, "66 0f e7 00", 4, OP_MOVNTDQ, 16, 8, R_RAX, NONE, 0, 0, 16),
	M(64, "0f 2b 00", 3, OP_MOVNTPS, 16, 8, R_RAX, NONE, 0, 0, 16),
	M(64, "f2 0f f0 00", 4, OP_LDDQU, 16, 8, R_RAX, NONE, 0, 0, 16),
	R(64, "f2 0f 7c c1", 4, OP_HADDPS, 16, 8),
	R(64, "66 0f d0 c1", 4, OP_ADDSUBPD, 16, 8),
	R(64, "f3 0f d6 c1", 4, OP_MOVQ2DQ, 16, 8),
	R(64, "66 0f f7 c1", 4, OP_MASKMOVDQU, 16, 8),
	R(64, "0f f7 c1", 3, OP_MASKMOVQ, 8, 8),
	R(64, "66 0f e6 c1", 4, OP_CVTTPD2DQ, 16, 8),
	R(64, "f3 0f e6 c1", 4, OP_CVTDQ2PD, 16, 8),

	/* --- SSSE3 / SSE4.1 / SSE4.2 (0F 38, 0F 3A) --- */
	R(64, "66 0f 38 00 c1", 5, OP_PSHUFB, 16, 8),
	R(64, "0f 38 00 c1", 4, OP_PSHUFB, 8, 8),
	R(64, "66 0f 3a 0f c1 08", 6, OP_PALIGNR, 16, 8),
	R(64, "0f 3a 0f c1 08", 5, OP_PALIGNR, 8, 8),
	R(64, "66 0f 38 17 c1", 5, OP_PTEST, 16, 8),
	R(64, "66 0f 38 29 c1", 5, OP_PCMPEQQ, 16, 8),
	R(64, "66 0f 38 1c c1", 5, OP_PABSB, 16, 8),
	R(64, "66 0f 38 3a c1", 5, OP_PMINUW, 16, 8),
	R(64, "66 0f 38 10 c1", 5, OP_PBLENDVB, 16, 8),
	R(64, "66 0f 3a 63 c1 0c", 6, OP_PCMPISTRI, 16, 8),
	R(64, "66 0f 3a 61 c1 0c", 6, OP_PCMPESTRI, 16, 8),
	M(64, "66 0f 38 30 00", 5, OP_PMOVZXBW, 16, 8, R_RAX, NONE, 0, 0, 8),
	M(64, "66 0f 38 22 00", 5, OP_PMOVSXBQ, 16, 8, R_RAX, NONE, 0, 0, 2),
	M(64, "66 0f 38 2a 00", 5, OP_MOVNTDQA, 16, 8, R_RAX, NONE, 0, 0, 16),
	R(64, "66 0f 3a 16 c0 01", 6, OP_PEXTRD, 4, 8),
	R(64, "66 48 0f 3a 16 c0 01", 7, OP_PEXTRD, 8, 8),
	M(64, "66 0f 3a 20 00 05", 6, OP_PINSRB, 4, 8, R_RAX, NONE, 0, 0, 1),
	M(64, "66 0f 3a 14 00 05", 6, OP_PEXTRB, 4, 8, R_RAX, NONE, 0, 0, 1),
	R(64, "66 0f 3a 0b c1 04", 6, OP_ROUNDSD, 16, 8),
	RIP(64, "66 0f 3a 0e 05 00 00 00 00 0f", 10, OP_PBLENDW, 16, 8, 0, 16),
	R(32, "66 0f 38 00 c1", 5, OP_PSHUFB, 16, 4),
};

static void parse_hex(const char *s, uint8_t *out, size_t *n)
{
	*n = 0;
	while (*s) {
		char *end;
		unsigned long v = strtoul(s, &end, 16);

		if (end == s)
			break;
		out[(*n)++] = (uint8_t)v;
		s = end;
	}
}

static enum x86_mode mode_of(int m)
{
	return m == 16 ? X86_MODE_16 : m == 32 ? X86_MODE_32 : X86_MODE_64;
}

static int decode_hex(struct x86_insn *insn, int mode, const char *hex)
{
	uint8_t bytes[32];
	size_t n;

	parse_hex(hex, bytes, &n);
	return x86_decode(insn, bytes, n, mode_of(mode));
}

static void run_case(const struct dcase *c)
{
	struct x86_insn insn;
	char text[96];
	int r = decode_hex(&insn, c->mode, c->hex);
	int failures = test_failures;

	x86_insn_format(&insn, text, sizeof(text));
	CHECK_EQ(r, c->status);
	if (c->status == MORE)
		CHECK_EQ(insn.len, c->len);
	if (c->status == 0 && r == 0) {
		CHECK_EQ(insn.len, c->len);
		CHECK_EQ(insn.op, c->op);
		CHECK_EQ(insn.opsize, c->osz);
		CHECK_EQ(insn.addrsize, c->asz);
		CHECK_EQ(x86_insn_is_mem(&insn), c->mem);
		if (c->mem) {
			CHECK_EQ(insn.base, c->base);
			CHECK_EQ(insn.index, c->index);
			if (c->index != NONE)
				CHECK_EQ(insn.scale, c->scale);
			CHECK_EQ(insn.disp, c->disp);
			CHECK_EQ(x86_insn_riprel(&insn), c->rip);
			if (c->memsize >= 0)
				CHECK_EQ(insn.memsize, c->memsize);
		}
	}
	if (test_failures != failures)
		fprintf(stderr, "  ^ mode %d, bytes %s: status %d len %u '%s' (%s)\n",
			c->mode, c->hex, r, insn.len, r == 0 ? text : "-", x86_op_name(insn.op));
}

/* Fields the table does not cover. */
static void test_fields(void)
{
	struct x86_insn i;

	CHECK_EQ(decode_hex(&i, 64, "48 b8 11 22 33 44 55 66 77 88"), 0);
	CHECK_EQ(i.imm, 0x8877665544332211ULL);
	CHECK_EQ(i.reg, R_RAX);
	CHECK_EQ(decode_hex(&i, 64, "49 bf 00 00 00 00 00 00 00 80"), 0);
	CHECK_EQ(i.reg, R_R15);
	CHECK_EQ(decode_hex(&i, 64, "41 57"), 0);
	CHECK_EQ(i.reg, R_R15);
	CHECK_EQ(decode_hex(&i, 64, "49 0f cf"), 0);
	CHECK_EQ(i.reg, R_R15);
	CHECK_EQ(decode_hex(&i, 64, "41 b4 12"), 0);
	CHECK_EQ(i.reg, R_R12);
	CHECK_EQ(i.imm, 0x12);

	/* immediates: Ib zero-extends, Ibs/Iz sign-extend */
	CHECK_EQ(decode_hex(&i, 64, "80 c0 ff"), 0);
	CHECK_EQ(i.imm, 0xff);
	CHECK_EQ(decode_hex(&i, 64, "83 c0 ff"), 0);
	CHECK_EQ(i.imm, UINT64_MAX);
	CHECK_EQ(decode_hex(&i, 64, "68 00 00 00 80"), 0);
	CHECK_EQ(i.imm, 0xffffffff80000000ULL);
	CHECK_EQ(decode_hex(&i, 64, "66 68 34 12"), 0);
	CHECK_EQ(i.imm, 0x1234);
	CHECK_EQ(decode_hex(&i, 64, "eb fe"), 0);
	CHECK_EQ((int64_t)i.imm, -2);
	CHECK_EQ(decode_hex(&i, 16, "e8 fd ff"), 0);
	CHECK_EQ((int64_t)i.imm, -3);
	CHECK_EQ(decode_hex(&i, 64, "c2 08 00"), 0);
	CHECK_EQ(i.imm, 8);
	CHECK_EQ(decode_hex(&i, 64, "c8 10 00 01"), 0);
	CHECK_EQ(i.imm, 0x10);
	CHECK_EQ(i.imm2, 1);
	CHECK_EQ(decode_hex(&i, 32, "9a 78 56 34 12 cd ab"), 0);
	CHECK_EQ(i.imm, 0x12345678);
	CHECK_EQ(i.imm2, 0xabcd);
	CHECK_EQ(decode_hex(&i, 16, "ea 00 7c 00 f0"), 0);
	CHECK_EQ(i.imm, 0x7c00);
	CHECK_EQ(i.imm2, 0xf000);
	CHECK_EQ(decode_hex(&i, 64, "cd 80"), 0);
	CHECK_EQ(i.imm, 0x80);
	CHECK_EQ(decode_hex(&i, 64, "66 0f 3a 0f c1 08"), 0);
	CHECK_EQ(i.imm, 8);
	CHECK_EQ(decode_hex(&i, 64, "c7 40 08 78 56 34 12"), 0);
	CHECK_EQ(i.imm, 0x12345678);
	CHECK_EQ(i.disp, 8);

	/* condition codes */
	CHECK_EQ(decode_hex(&i, 64, "74 05"), 0);
	CHECK_EQ(i.cc, 4);
	CHECK_EQ(decode_hex(&i, 64, "0f 8f 00 00 00 00"), 0);
	CHECK_EQ(i.cc, 0xf);
	CHECK_EQ(decode_hex(&i, 64, "0f 92 c0"), 0);
	CHECK_EQ(i.cc, 2);
	CHECK_EQ(decode_hex(&i, 64, "0f 4c c1"), 0);
	CHECK_EQ(i.cc, 0xc);

	/* ModRM fields with REX.R/REX.B; control register numbers */
	CHECK_EQ(decode_hex(&i, 64, "4d 01 c8"), 0);
	CHECK_EQ(i.reg, R_R9);
	CHECK_EQ(i.rm, R_R8);
	CHECK_EQ(i.rex, 0x4d);
	CHECK_EQ(decode_hex(&i, 64, "44 0f 20 c0"), 0);
	CHECK_EQ(i.reg, 8);
	CHECK_EQ(i.rm, R_RAX);
	CHECK_EQ(decode_hex(&i, 64, "0f 20 18"), 0);
	CHECK_EQ(i.reg, 3);
	CHECK(!x86_insn_is_mem(&i));
	CHECK_EQ(decode_hex(&i, 64, "8e d8"), 0);
	CHECK_EQ(i.reg, X86_SEG_DS);

	/* byte registers: AH without REX, SPL with it */
	CHECK_EQ(decode_hex(&i, 64, "88 e0"), 0);
	CHECK(x86_insn_byte_reg_is_high(&i, i.reg));
	CHECK_EQ(decode_hex(&i, 64, "40 88 e0"), 0);
	CHECK(!x86_insn_byte_reg_is_high(&i, i.reg));
	CHECK_EQ(i.rex, 0x40);

	/* REX followed by a legacy prefix is ignored */
	CHECK_EQ(decode_hex(&i, 64, "48 66 01 d8"), 0);
	CHECK_EQ(i.rex, 0);
	CHECK_EQ(decode_hex(&i, 32, "48"), 0);
	CHECK_EQ(i.op, OP_DEC);

	/* segments: defaults, overrides, 64-bit mode ignoring CS/DS/ES/SS */
	CHECK_EQ(decode_hex(&i, 64, "8b 45 00"), 0);
	CHECK_EQ(i.seg, X86_SEG_SS);
	CHECK_EQ(decode_hex(&i, 64, "41 8b 45 00"), 0);
	CHECK_EQ(i.seg, X86_SEG_DS);
	CHECK_EQ(decode_hex(&i, 64, "41 8b 04 24"), 0);
	CHECK_EQ(i.seg, X86_SEG_DS);
	CHECK_EQ(decode_hex(&i, 64, "8b 04 24"), 0);
	CHECK_EQ(i.seg, X86_SEG_SS);
	CHECK_EQ(decode_hex(&i, 16, "8b 46 fe"), 0);
	CHECK_EQ(i.seg, X86_SEG_SS);
	CHECK_EQ(decode_hex(&i, 16, "8b 06 34 12"), 0);
	CHECK_EQ(i.seg, X86_SEG_DS);
	CHECK_EQ(decode_hex(&i, 32, "8b 04 2c"), 0);
	CHECK_EQ(i.seg, X86_SEG_SS);
	CHECK_EQ(decode_hex(&i, 32, "3e 8b 45 08"), 0);
	CHECK_EQ(i.seg, X86_SEG_DS);
	CHECK(i.prefixes & X86_PFX_SEG);
	CHECK_EQ(decode_hex(&i, 64, "2e 8b 00"), 0);
	CHECK_EQ(i.seg, X86_SEG_DS);
	CHECK(!(i.prefixes & X86_PFX_SEG));
	CHECK_EQ(decode_hex(&i, 64, "65 48 8b 04 25 00 00 00 00"), 0);
	CHECK_EQ(i.seg, X86_SEG_GS);
	CHECK_EQ(decode_hex(&i, 64, "26 2e 36 3e 64 8b 00"), 0);
	CHECK_EQ(i.seg, X86_SEG_FS);
	CHECK_EQ(decode_hex(&i, 32, "64 26 8b 00"), 0);
	CHECK_EQ(i.seg, X86_SEG_ES);
	CHECK_EQ(decode_hex(&i, 32, "26 a4"), 0);
	CHECK_EQ(i.seg, X86_SEG_ES);

	/* prefixes: last of F2/F3 wins; LOCK recorded */
	CHECK_EQ(decode_hex(&i, 64, "f2 f3 a4"), 0);
	CHECK_EQ(i.prefixes & (X86_PFX_REP | X86_PFX_REPNE), X86_PFX_REP);
	CHECK(i.flags & X86_INSN_REP);
	CHECK_EQ(decode_hex(&i, 64, "f3 f2 a6"), 0);
	CHECK_EQ(i.prefixes & (X86_PFX_REP | X86_PFX_REPNE), X86_PFX_REPNE);
	CHECK_EQ(decode_hex(&i, 64, "f0 0f c1 00"), 0);
	CHECK(x86_insn_lock(&i));

	/* maps, flags */
	CHECK_EQ(decode_hex(&i, 64, "66 0f 3a 63 c1 0c"), 0);
	CHECK_EQ(i.map, X86_MAP_0F3A);
	CHECK_EQ(i.opcode, 0x63);
	CHECK_EQ(x86_insn_isa(&i), X86_ISA_SSE42);
	CHECK_EQ(decode_hex(&i, 64, "66 0f 38 00 c1"), 0);
	CHECK_EQ(i.map, X86_MAP_0F38);
	CHECK_EQ(x86_insn_isa(&i), X86_ISA_SSSE3);
	CHECK_EQ(decode_hex(&i, 64, "0f 38 00 c1"), 0);
	CHECK(i.flags & X86_INSN_MMX);
	CHECK_EQ(x86_insn_isa(&i), X86_ISA_MMX);
	CHECK_EQ(decode_hex(&i, 64, "66 0f ef c0"), 0);
	CHECK(!(i.flags & X86_INSN_MMX));
	CHECK_EQ(x86_insn_isa(&i), X86_ISA_SSE2);
	CHECK_EQ(decode_hex(&i, 64, "f3 0f bc c1"), 0);
	CHECK_EQ(x86_insn_isa(&i), X86_ISA_BMI1);
	CHECK_EQ(decode_hex(&i, 64, "0f 22 d8"), 0);
	CHECK(i.flags & X86_INSN_PRIV);
	CHECK_EQ(decode_hex(&i, 64, "0f 31"), 0);
	CHECK(!(i.flags & X86_INSN_PRIV));
	CHECK_EQ(decode_hex(&i, 64, "d9 e8"), 0);
	CHECK_EQ(x86_insn_isa(&i), X86_ISA_X87);
	CHECK_EQ(i.flags & X86_INSN_MODRM, X86_INSN_MODRM);
	CHECK_EQ(i.modrm, 0xe8);

	/* a decode never reads past avail, and NEED_MORE reports progress */
	{
		static const uint8_t jmp[] = { 0xe9, 0x00, 0x00, 0x00, 0x00 };

		for (size_t n = 0; n < sizeof(jmp); n++) {
			CHECK_EQ(x86_decode(&i, jmp, n, X86_MODE_64), MORE);
			CHECK_EQ(i.len, n ? 5 : 1);
		}
		CHECK_EQ(x86_decode(&i, jmp, sizeof(jmp), X86_MODE_64), 0);
	}
}

static void check_format(int mode, const char *hex, const char *want)
{
	struct x86_insn i;
	char text[96];

	CHECK_EQ(decode_hex(&i, mode, hex), 0);
	x86_insn_format(&i, text, sizeof(text));
	CHECK_STR(text, want);
}

static void test_format(void)
{
	check_format(64, "48 8b 43 08", "mov rax, qword ptr [rbx+0x8]");
	check_format(64, "8b 44 88 f0", "mov eax, dword ptr [rax+rcx*4-0x10]");
	check_format(64, "48 8d 05 00 10 00 00", "lea rax, [rip+0x1000]");
	check_format(64, "64 8b 04 25 28 00 00 00", "mov eax, dword ptr fs:[0x28]");
	check_format(64, "40 88 e0", "mov al, spl");
	check_format(64, "88 e0", "mov al, ah");
	check_format(64, "f0 0f b1 0a", "lock cmpxchg dword ptr [rdx], ecx");
	check_format(64, "f3 48 a5", "rep movsq");
	check_format(64, "74 05", "je $+0x7");
	check_format(64, "eb fe", "jmp $+0x0");
	check_format(64, "0f 94 c0", "sete al");
	check_format(64, "48 98", "cdqe");
	check_format(64, "0f 22 d8", "mov cr3, rax");
	check_format(64, "66 0f 6f 04 24", "movdqa xmm0, xmmword ptr [rsp]");
	check_format(64, "66 48 0f 6e c0", "movq xmm0, rax");
	check_format(64, "83 c0 ff", "add eax, -0x1");
	check_format(64, "c8 10 00 01", "enter 0x10, 0x1");
	check_format(64, "dc e9", "fsub st(1), st(0)");
	check_format(64, "df e0", "fnstsw ax");
	check_format(16, "8b 46 fe", "mov ax, word ptr [bp-0x2]");
	check_format(16, "ea 00 7c 00 f0", "jmpf 0xf000:0x7c00");
	check_format(32, "0f 01 15 00 10 00 00", "lgdt [0x1000]");

	/* a short buffer truncates but stays terminated */
	{
		struct x86_insn i;
		char small[8];

		CHECK_EQ(decode_hex(&i, 64, "48 8b 43 08"), 0);
		x86_insn_format(&i, small, sizeof(small));
		CHECK_STR(small, "mov rax");
	}
}

/* Every operation id has a name, and the tables only use named ids. */
static void test_names(void)
{
	for (unsigned op = 1; op < OP_COUNT; op++) {
		const char *n = x86_op_name(op);

		if (!n || !strcmp(n, "(bad)"))
			fprintf(stderr, "op %u has no name\n", op);
		CHECK(n && strcmp(n, "(bad)"));
	}
	CHECK_STR(x86_op_name(OP_COUNT), "(bad)");
	CHECK_EQ(x86_op_isa(OP_PCMPISTRI), X86_ISA_SSE42);
	CHECK_EQ(x86_op_isa(OP_ADD), X86_ISA_BASE);
}

int main(void)
{
	unsigned n = sizeof(cases) / sizeof(cases[0]);

	for (unsigned k = 0; k < n; k++)
		run_case(&cases[k]);
	fprintf(stderr, "%u decode cases\n", n);
	test_fields();
	test_format();
	test_names();
	return test_exit();
}
