/*
 * The one-byte opcode map (SDM Vol. 2 Table A-2) with its ModRM.reg
 * groups (Table A-6) and the x87 escapes D8-DF (Tables ).
 * Group tables come first because the map rows point at them.
 */
#define X86_TABLE_SHORTHAND
#include "accel/tcg/decode_tables.h"

/* Group 1: 80-83, the eight ALU operations; CMP alone cannot be locked. */
#define GRP1(a, b, fl) { \
	R2(OP_ADD, a, b, LK | fl), R2(OP_OR, a, b, LK | fl), \
	R2(OP_ADC, a, b, LK | fl), R2(OP_SBB, a, b, LK | fl), \
	R2(OP_AND, a, b, LK | fl), R2(OP_SUB, a, b, LK | fl), \
	R2(OP_XOR, a, b, LK | fl), R2(OP_CMP, a, b, fl) }
static const struct x86_row grp1_80[8] = GRP1(Eb, Ib, 0);
static const struct x86_row grp1_81[8] = GRP1(Ev, Iz, 0);
/* 82 is an alias of 80 that 64-bit mode dropped. */
static const struct x86_row grp1_82[8] = GRP1(Eb, Ib, I64);
static const struct x86_row grp1_83[8] = GRP1(Ev, Ibs, 0);

/* Group 1A: 8F /0; the other encodings are AMD XOP. */
static const struct x86_row grp1a_8f[8] = { R1(OP_POP, Ev, D64) };

/* Group 2: shifts and rotates; /6 is an undocumented alias of SHL. */
#define GRP2(a, b) { \
	R2(OP_ROL, a, b, 0), R2(OP_ROR, a, b, 0), R2(OP_RCL, a, b, 0), \
	R2(OP_RCR, a, b, 0), R2(OP_SHL, a, b, 0), R2(OP_SHR, a, b, 0), \
	R2(OP_SHL, a, b, 0), R2(OP_SAR, a, b, 0) }
static const struct x86_row grp2_c0[8] = GRP2(Eb, Ib);
static const struct x86_row grp2_c1[8] = GRP2(Ev, Ib);
static const struct x86_row grp2_d0[8] = GRP2(Eb, I1);
static const struct x86_row grp2_d1[8] = GRP2(Ev, I1);
static const struct x86_row grp2_d2[8] = GRP2(Eb, CL);
static const struct x86_row grp2_d3[8] = GRP2(Ev, CL);

/* Group 3: F6/F7; /1 is an undocumented alias of TEST. */
#define GRP3(e, i) { \
	R2(OP_TEST, e, i, 0), R2(OP_TEST, e, i, 0), R1(OP_NOT, e, LK), \
	R1(OP_NEG, e, LK), R1(OP_MUL, e, 0), R1(OP_IMUL, e, 0), \
	R1(OP_DIV, e, 0), R1(OP_IDIV, e, 0) }
static const struct x86_row grp3_f6[8] = GRP3(Eb, Ib);
static const struct x86_row grp3_f7[8] = GRP3(Ev, Iz);

/* Group 4 (FE) and 5 (FF). */
static const struct x86_row grp4_fe[8] = {
	R1(OP_INC, Eb, LK), R1(OP_DEC, Eb, LK),
};
static const struct x86_row grp5_ff[8] = {
	R1(OP_INC, Ev, LK), R1(OP_DEC, Ev, LK), R1(OP_CALL, Ev, F64),
	R1(OP_CALLF, Mp, 0), R1(OP_JMP, Ev, F64), R1(OP_JMPF, Mp, 0),
	R1(OP_PUSH, Ev, D64), UD,
};

/* Group 11: C6/C7 /0; /7 holds XABORT/XBEGIN (RTM, not offered). */
static const struct x86_row grp11_c6[8] = { R2(OP_MOV, Eb, Ib, 0) };
static const struct x86_row grp11_c7[8] = { R2(OP_MOV, Ev, Iz, 0) };

/*
 * 62, C4 and C5 became EVEX/VEX escapes: always in 64-bit mode, and in
 * the other modes when ModRM.mod is 11 (which BOUND/LES/LDS cannot use).
 * kemu offers no AVX, so those encodings are #UD.
 */
static const struct x86_row bound_mod[2] = { R2(OP_BOUND, Gv, Ma, 0), UD };
static const struct x86_row les_mod[2] = { R2(OP_LES, Gv, Mp, 0), UD };
static const struct x86_row lds_mod[2] = { R2(OP_LDS, Gv, Mp, 0), UD };
static const struct x86_row op62_mode[2] = { BYMOD(bound_mod), UD };
static const struct x86_row opc4_mode[2] = { BYMOD(les_mod), UD };
static const struct x86_row opc5_mode[2] = { BYMOD(lds_mod), UD };
/* 63: ARPL outside 64-bit mode, MOVSXD in it. */
static const struct x86_row op63_mode[2] = {
	R2(OP_ARPL, Ew, Gw, 0), R2(OP_MOVSXD, Gv, Ed, OV),
};

/* 90 is XCHG rAX, rAX only with REX.B (r8); otherwise NOP, or F3 PAUSE. */
static const struct x86_row op90[3] = {
	R2(OP_XCHG, Zv, rAX, 0), R0(OP_NOP, 0), R0(OP_PAUSE, 0),
};

/*
 * x87. Each escape is a K_MODREG table: rows 0-7 are the memory forms by
 * ModRM.reg, rows 8-15 the register forms, some of which select further by
 * ModRM.rm. FSUB/FSUBR and FDIV/FDIVR follow Intel's naming for the
 * ST(i), ST(0) forms (AT&T tools swap them).
 */
#define X87_ARITH(m) \
	R1(OP_FADD, m, 0), R1(OP_FMUL, m, 0), R1(OP_FCOM, m, 0), \
	R1(OP_FCOMP, m, 0), R1(OP_FSUB, m, 0), R1(OP_FSUBR, m, 0), \
	R1(OP_FDIV, m, 0), R1(OP_FDIVR, m, 0)
#define X87_IARITH(m) \
	R1(OP_FIADD, m, 0), R1(OP_FIMUL, m, 0), R1(OP_FICOM, m, 0), \
	R1(OP_FICOMP, m, 0), R1(OP_FISUB, m, 0), R1(OP_FISUBR, m, 0), \
	R1(OP_FIDIV, m, 0), R1(OP_FIDIVR, m, 0)

static const struct x86_row x87_d8[16] = {
	X87_ARITH(Md),
	R2(OP_FADD, ST0, STi, 0), R2(OP_FMUL, ST0, STi, 0),
	R1(OP_FCOM, STi, 0), R1(OP_FCOMP, STi, 0),
	R2(OP_FSUB, ST0, STi, 0), R2(OP_FSUBR, ST0, STi, 0),
	R2(OP_FDIV, ST0, STi, 0), R2(OP_FDIVR, ST0, STi, 0),
};

static const struct x86_row x87_d9_d0[8] = { R0(OP_FNOP, 0) };
static const struct x86_row x87_d9_e0[8] = {
	R0(OP_FCHS, 0), R0(OP_FABS, 0), UD, UD, R0(OP_FTST, 0), R0(OP_FXAM, 0),
};
static const struct x86_row x87_d9_e8[8] = {
	R0(OP_FLD1, 0), R0(OP_FLDL2T, 0), R0(OP_FLDL2E, 0), R0(OP_FLDPI, 0),
	R0(OP_FLDLG2, 0), R0(OP_FLDLN2, 0), R0(OP_FLDZ, 0), UD,
};
static const struct x86_row x87_d9_f0[8] = {
	R0(OP_F2XM1, 0), R0(OP_FYL2X, 0), R0(OP_FPTAN, 0), R0(OP_FPATAN, 0),
	R0(OP_FXTRACT, 0), R0(OP_FPREM1, 0), R0(OP_FDECSTP, 0),
	R0(OP_FINCSTP, 0),
};
static const struct x86_row x87_d9_f8[8] = {
	R0(OP_FPREM, 0), R0(OP_FYL2XP1, 0), R0(OP_FSQRT, 0), R0(OP_FSINCOS, 0),
	R0(OP_FRNDINT, 0), R0(OP_FSCALE, 0), R0(OP_FSIN, 0), R0(OP_FCOS, 0),
};
static const struct x86_row x87_d9[16] = {
	R1(OP_FLD, Md, 0), UD, R1(OP_FST, Md, 0), R1(OP_FSTP, Md, 0),
	R1(OP_FLDENV, Menv, 0), R1(OP_FLDCW, Mw, 0), R1(OP_FNSTENV, Menv, 0),
	R1(OP_FNSTCW, Mw, 0),
	R1(OP_FLD, STi, 0), R1(OP_FXCH, STi, 0), BYRM(x87_d9_d0), UD,
	BYRM(x87_d9_e0), BYRM(x87_d9_e8), BYRM(x87_d9_f0), BYRM(x87_d9_f8),
};

static const struct x86_row x87_da_e8[8] = { UD, R0(OP_FUCOMPP, 0) };
static const struct x86_row x87_da[16] = {
	X87_IARITH(Md),
	R2(OP_FCMOVB, ST0, STi, 0), R2(OP_FCMOVE, ST0, STi, 0),
	R2(OP_FCMOVBE, ST0, STi, 0), R2(OP_FCMOVU, ST0, STi, 0),
	UD, BYRM(x87_da_e8), UD, UD,
};

/* DB E0/E1/E4 are 8087/287 leftovers that later FPUs execute as FNOP. */
static const struct x86_row x87_db_e0[8] = {
	R0(OP_FNOP, 0), R0(OP_FNOP, 0), R0(OP_FNCLEX, 0), R0(OP_FNINIT, 0),
	R0(OP_FNOP, 0),
};
static const struct x86_row x87_db[16] = {
	R1(OP_FILD, Md, 0), R1(OP_FISTTP, Md, 0), R1(OP_FIST, Md, 0),
	R1(OP_FISTP, Md, 0), UD, R1(OP_FLD, Mt, 0), UD, R1(OP_FSTP, Mt, 0),
	R2(OP_FCMOVNB, ST0, STi, 0), R2(OP_FCMOVNE, ST0, STi, 0),
	R2(OP_FCMOVNBE, ST0, STi, 0), R2(OP_FCMOVNU, ST0, STi, 0),
	BYRM(x87_db_e0), R2(OP_FUCOMI, ST0, STi, 0), R2(OP_FCOMI, ST0, STi, 0),
	UD,
};

static const struct x86_row x87_dc[16] = {
	X87_ARITH(Mq),
	R2(OP_FADD, STi, ST0, 0), R2(OP_FMUL, STi, ST0, 0), UD, UD,
	R2(OP_FSUBR, STi, ST0, 0), R2(OP_FSUB, STi, ST0, 0),
	R2(OP_FDIVR, STi, ST0, 0), R2(OP_FDIV, STi, ST0, 0),
};

static const struct x86_row x87_dd[16] = {
	R1(OP_FLD, Mq, 0), R1(OP_FISTTP, Mq, 0), R1(OP_FST, Mq, 0),
	R1(OP_FSTP, Mq, 0), R1(OP_FRSTOR, Mst, 0), UD, R1(OP_FNSAVE, Mst, 0),
	R1(OP_FNSTSW, Mw, 0),
	R1(OP_FFREE, STi, 0), UD, R1(OP_FST, STi, 0), R1(OP_FSTP, STi, 0),
	R1(OP_FUCOM, STi, 0), R1(OP_FUCOMP, STi, 0), UD, UD,
};

static const struct x86_row x87_de_d8[8] = { UD, R0(OP_FCOMPP, 0) };
static const struct x86_row x87_de[16] = {
	X87_IARITH(Mw),
	R2(OP_FADDP, STi, ST0, 0), R2(OP_FMULP, STi, ST0, 0), UD,
	BYRM(x87_de_d8),
	R2(OP_FSUBRP, STi, ST0, 0), R2(OP_FSUBP, STi, ST0, 0),
	R2(OP_FDIVRP, STi, ST0, 0), R2(OP_FDIVP, STi, ST0, 0),
};

static const struct x86_row x87_df_e0[8] = { R1(OP_FNSTSW, AX, 0) };
static const struct x86_row x87_df[16] = {
	R1(OP_FILD, Mw, 0), R1(OP_FISTTP, Mw, 0), R1(OP_FIST, Mw, 0),
	R1(OP_FISTP, Mw, 0), R1(OP_FBLD, Mt, 0), R1(OP_FILD, Mq, 0),
	R1(OP_FBSTP, Mt, 0), R1(OP_FISTP, Mq, 0),
	R1(OP_FFREEP, STi, 0), UD, UD, UD, BYRM(x87_df_e0),
	R2(OP_FUCOMIP, ST0, STi, 0), R2(OP_FCOMIP, ST0, STi, 0), UD,
};

/* The eight ALU operations of 00-3F share one layout. */
#define ALU6(op, lk) \
	R2(op, Eb, Gb, lk), R2(op, Ev, Gv, lk), R2(op, Gb, Eb, 0), \
	R2(op, Gv, Ev, 0), R2(op, AL, Ib, 0), R2(op, rAX, Iz, 0)

#define JCC8 \
	R1(OP_JCC, Jb, F64), R1(OP_JCC, Jb, F64), R1(OP_JCC, Jb, F64), \
	R1(OP_JCC, Jb, F64), R1(OP_JCC, Jb, F64), R1(OP_JCC, Jb, F64), \
	R1(OP_JCC, Jb, F64), R1(OP_JCC, Jb, F64)

#define REG8(op, a, b, fl) \
	R2(op, a, b, fl), R2(op, a, b, fl), R2(op, a, b, fl), R2(op, a, b, fl), \
	R2(op, a, b, fl), R2(op, a, b, fl), R2(op, a, b, fl), R2(op, a, b, fl)

/*
 * Prefix bytes (26 2E 36 3E 40-4F in 64-bit mode, 64-67, F0 F2 F3) are
 * consumed before the map is consulted, so their rows are never read; the
 * 40-4F rows are INC/DEC for the other modes.
 */
const struct x86_row x86_map_1byte[256] = {
	/* 00 */ ALU6(OP_ADD, LK), R1(OP_PUSH, ES, I64), R1(OP_POP, ES, I64),
	/* 08 */ ALU6(OP_OR, LK), R1(OP_PUSH, CS, I64), UD /* 0F escape */,
	/* 10 */ ALU6(OP_ADC, LK), R1(OP_PUSH, SS, I64), R1(OP_POP, SS, I64),
	/* 18 */ ALU6(OP_SBB, LK), R1(OP_PUSH, DS, I64), R1(OP_POP, DS, I64),
	/* 20 */ ALU6(OP_AND, LK), UD, R0(OP_DAA, I64),
	/* 28 */ ALU6(OP_SUB, LK), UD, R0(OP_DAS, I64),
	/* 30 */ ALU6(OP_XOR, LK), UD, R0(OP_AAA, I64),
	/* 38 */ ALU6(OP_CMP, 0), UD, R0(OP_AAS, I64),
	/* 40 */ R1(OP_INC, Zv, I64), R1(OP_INC, Zv, I64), R1(OP_INC, Zv, I64),
	R1(OP_INC, Zv, I64), R1(OP_INC, Zv, I64), R1(OP_INC, Zv, I64),
	R1(OP_INC, Zv, I64), R1(OP_INC, Zv, I64),
	/* 48 */ R1(OP_DEC, Zv, I64), R1(OP_DEC, Zv, I64), R1(OP_DEC, Zv, I64),
	R1(OP_DEC, Zv, I64), R1(OP_DEC, Zv, I64), R1(OP_DEC, Zv, I64),
	R1(OP_DEC, Zv, I64), R1(OP_DEC, Zv, I64),
	/* 50 */ R1(OP_PUSH, Zv, D64), R1(OP_PUSH, Zv, D64), R1(OP_PUSH, Zv, D64),
	R1(OP_PUSH, Zv, D64), R1(OP_PUSH, Zv, D64), R1(OP_PUSH, Zv, D64),
	R1(OP_PUSH, Zv, D64), R1(OP_PUSH, Zv, D64),
	/* 58 */ R1(OP_POP, Zv, D64), R1(OP_POP, Zv, D64), R1(OP_POP, Zv, D64),
	R1(OP_POP, Zv, D64), R1(OP_POP, Zv, D64), R1(OP_POP, Zv, D64),
	R1(OP_POP, Zv, D64), R1(OP_POP, Zv, D64),
	/* 60 */ R0(OP_PUSHA, I64), R0(OP_POPA, I64), BYMODE(op62_mode),
	BYMODE(op63_mode), UD, UD, UD, UD,
	/* 68 */ R1(OP_PUSH, Iz, D64), R3(OP_IMUL, Gv, Ev, Iz, 0),
	R1(OP_PUSH, Ibs, D64), R3(OP_IMUL, Gv, Ev, Ibs, 0),
	R2(OP_INS, Yb, DX, REP), R2(OP_INS, Yz, DX, REP),
	R2(OP_OUTS, DX, Xb, REP), R2(OP_OUTS, DX, Xz, REP),
	/* 70 */ JCC8,
	/* 78 */ JCC8,
	/* 80 */ GRP(grp1_80), GRP(grp1_81), GRP(grp1_82),
	GRP(grp1_83), R2(OP_TEST, Eb, Gb, 0), R2(OP_TEST, Ev, Gv, 0),
	R2(OP_XCHG, Eb, Gb, LK), R2(OP_XCHG, Ev, Gv, LK),
	/* 88 */ R2(OP_MOV, Eb, Gb, 0), R2(OP_MOV, Ev, Gv, 0),
	R2(OP_MOV, Gb, Eb, 0), R2(OP_MOV, Gv, Ev, 0),
	R2(OP_MOV_FROM_SEG, Ew, Sw, OV), R2(OP_LEA, Gv, M, 0),
	R2(OP_MOV_TO_SEG, Sw, Ew, OV), GRP(grp1a_8f),
	/* 90 */ { .sub = op90, .flags = K_NOP90 }, R2(OP_XCHG, Zv, rAX, 0),
	R2(OP_XCHG, Zv, rAX, 0), R2(OP_XCHG, Zv, rAX, 0),
	R2(OP_XCHG, Zv, rAX, 0), R2(OP_XCHG, Zv, rAX, 0),
	R2(OP_XCHG, Zv, rAX, 0), R2(OP_XCHG, Zv, rAX, 0),
	/* 98 */ R0(OP_CBW, 0), R0(OP_CWD, 0), R1(OP_CALLF, Ap, I64),
	R0(OP_FWAIT, 0), R0(OP_PUSHF, D64), R0(OP_POPF, D64), R0(OP_SAHF, 0),
	R0(OP_LAHF, 0),
	/* A0 */ R2(OP_MOV, AL, Ob, 0), R2(OP_MOV, rAX, Ov, 0),
	R2(OP_MOV, Ob, AL, 0), R2(OP_MOV, Ov, rAX, 0),
	R2(OP_MOVS, Yb, Xb, REP), R2(OP_MOVS, Yv, Xv, REP),
	R2(OP_CMPS, Xb, Yb, REP), R2(OP_CMPS, Xv, Yv, REP),
	/* A8 */ R2(OP_TEST, AL, Ib, 0), R2(OP_TEST, rAX, Iz, 0),
	R2(OP_STOS, Yb, AL, REP), R2(OP_STOS, Yv, rAX, REP),
	R2(OP_LODS, AL, Xb, REP), R2(OP_LODS, rAX, Xv, REP),
	R2(OP_SCAS, AL, Yb, REP), R2(OP_SCAS, rAX, Yv, REP),
	/* B0 */ REG8(OP_MOV, Zb, Ib, 0),
	/* B8 */ REG8(OP_MOV, Zv, Iv, 0),
	/* C0 */ GRP(grp2_c0), GRP(grp2_c1), R1(OP_RET, Iw, F64), R0(OP_RET, F64),
	BYMODE(opc4_mode), BYMODE(opc5_mode), GRP(grp11_c6), GRP(grp11_c7),
	/* C8 */ R2(OP_ENTER, Iw, Ib, D64), R0(OP_LEAVE, D64),
	R1(OP_RETF, Iw, 0), R0(OP_RETF, 0), R0(OP_INT3, 0), R1(OP_INT, Ib, 0),
	R0(OP_INTO, I64), R0(OP_IRET, 0),
	/* D0 */ GRP(grp2_d0), GRP(grp2_d1), GRP(grp2_d2), GRP(grp2_d3),
	R1(OP_AAM, Ib, I64), R1(OP_AAD, Ib, I64), R0(OP_SALC, I64),
	R1(OP_XLAT, AL, 0),
	/* D8 */ GRPM(x87_d8), GRPM(x87_d9), GRPM(x87_da), GRPM(x87_db),
	GRPM(x87_dc), GRPM(x87_dd), GRPM(x87_de), GRPM(x87_df),
	/* E0 */ R1(OP_LOOPNE, Jb, F64), R1(OP_LOOPE, Jb, F64),
	R1(OP_LOOP, Jb, F64), R1(OP_JCXZ, Jb, F64),
	R2(OP_IN, AL, Ib, 0), R2(OP_IN, eAX, Ib, 0),
	R2(OP_OUT, Ib, AL, 0), R2(OP_OUT, Ib, eAX, 0),
	/* E8 */ R1(OP_CALL, Jz, F64), R1(OP_JMP, Jz, F64), R1(OP_JMPF, Ap, I64),
	R1(OP_JMP, Jb, F64), R2(OP_IN, AL, DX, 0), R2(OP_IN, eAX, DX, 0),
	R2(OP_OUT, DX, AL, 0), R2(OP_OUT, DX, eAX, 0),
	/* F0 */ UD, R0(OP_INT1, 0), UD, UD, R0(OP_HLT, PRIV), R0(OP_CMC, 0),
	GRP(grp3_f6), GRP(grp3_f7),
	/* F8 */ R0(OP_CLC, 0), R0(OP_STC, 0), R0(OP_CLI, 0), R0(OP_STI, 0),
	R0(OP_CLD, 0), R0(OP_STD, 0), GRP(grp4_fe), GRP(grp5_ff),
};
