/*
 * The x86 instruction decoder of the software CPU. x86_decode() turns the
 * bytes at the guest instruction pointer into one struct x86_insn; the
 * interpreter dispatches on insn->op through a flat table of handlers and
 * the translator reads the same value, so nothing downstream ever looks at
 * instruction bytes again. See decode.c for how the tables are laid out.
 */
#ifndef KEMU_ACCEL_TCG_DECODE_H
#define KEMU_ACCEL_TCG_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum x86_mode {
	X86_MODE_16, /* real mode, vm86, 16-bit protected-mode code */
	X86_MODE_32,
	X86_MODE_64, /* long mode with CS.L=1 */
};

enum x86_decode_status {
	X86_DECODE_OK = 0,
	X86_DECODE_UD = -1,        /* undefined or unsupported: raise #UD */
	X86_DECODE_GP = -2,        /* longer than 15 bytes: raise #GP(0) */
	X86_DECODE_NEED_MORE = -3, /* out->len says how many bytes to supply */
};

#define X86_MAX_INSN_LEN 15
#define X86_REG_NONE 0xff

/* Segment register numbers as ModRM.reg encodes them (MOV Sw). */
enum x86_seg_reg {
	X86_SEG_ES, X86_SEG_CS, X86_SEG_SS, X86_SEG_DS, X86_SEG_FS, X86_SEG_GS,
};

enum x86_map {
	X86_MAP_1BYTE, X86_MAP_0F, X86_MAP_0F38, X86_MAP_0F3A,
};

/* insn->prefixes: the legacy prefixes seen (the last of F2/F3 wins). */
#define X86_PFX_LOCK 0x01
#define X86_PFX_REP 0x02   /* F3 */
#define X86_PFX_REPNE 0x04 /* F2 */
#define X86_PFX_OPSZ 0x08  /* 66 */
#define X86_PFX_ADSZ 0x10  /* 67 */
#define X86_PFX_SEG 0x20   /* a segment override took effect, see insn->seg */

/* insn->flags */
#define X86_INSN_MODRM 0x01  /* a ModRM byte was present */
#define X86_INSN_MEM 0x02    /* base/index/scale/disp/seg describe an operand */
#define X86_INSN_RIPREL 0x04 /* address is disp + address of the next insn */
#define X86_INSN_MMX 0x08    /* uses an MMX register: x87 state goes MMX */
#define X86_INSN_REP 0x10    /* string instruction that honours REP/REPNE */
#define X86_INSN_PRIV 0x20   /* always needs CPL 0 (IOPL-dependent ones not) */

/*
 * Operand forms, named as in the SDM's opcode maps: the letter says where
 * the operand comes from, the suffix its size. The ModRM forms come first
 * so that the tables can test "needs ModRM" with a range.
 */
enum x86_opnd {
	X86_O_NONE,
	/* ModRM.rm: general register or memory */
	X86_O_Eb, X86_O_Ew, X86_O_Ed, X86_O_Eq, X86_O_Ev, X86_O_Ey,
	X86_O_Edb,  /* r32 or m8 (PEXTRB, PINSRB) */
	X86_O_Edw,  /* r32 or m16 (PEXTRW, PINSRW) */
	/* ModRM.rm: vector register or memory */
	X86_O_Wx,   /* xmm or m128 */
	X86_O_Wq,   /* xmm or m64 */
	X86_O_Wd,   /* xmm or m32 */
	X86_O_Ww,   /* xmm or m16 */
	X86_O_Qq,   /* mm or m64 */
	X86_O_Qd,   /* mm or m32 */
	/* ModRM.rm: memory only (register forms are #UD) */
	X86_O_M,    /* only the address matters: LEA, INVLPG, CLFLUSH */
	X86_O_Mb, X86_O_Mw, X86_O_Md, X86_O_Mq, X86_O_Mv, X86_O_My, X86_O_Mx,
	X86_O_Mt,   /* 80-bit x87 */
	X86_O_Mp,   /* far pointer: offset of operand size, then selector */
	X86_O_Ms,   /* descriptor-table register image: 6 bytes, 10 in 64-bit */
	X86_O_Ma,   /* BOUND's pair of operand-size bounds */
	X86_O_Menv, /* x87 environment, 14 or 28 bytes */
	X86_O_Mst,  /* x87 state, 94 or 108 bytes */
	X86_O_Mfx,  /* FXSAVE area, 512 bytes */
	X86_O_Mxs,  /* XSAVE area, size set by XCR0 */
	/* ModRM.rm: register only (memory forms are #UD) */
	X86_O_Rv, X86_O_Ux, X86_O_Nq,
	X86_O_STi,  /* x87 ST(rm) */
	/* ModRM.reg */
	X86_O_Gb, X86_O_Gw, X86_O_Gd, X86_O_Gv, X86_O_Gy,
	X86_O_Sw, X86_O_Cd, X86_O_Dd,
	X86_O_V,    /* xmm */
	X86_O_P,    /* mm */
	/* immediates: Ib zero-extends, Ibs/Iz/Iv/J sign-extend to 64 bits */
	X86_O_Ib, X86_O_Ibs, X86_O_Iw, X86_O_Iz, X86_O_Iv, X86_O_I1,
	X86_O_Jb, X86_O_Jz,
	X86_O_Ap,   /* far pointer: offset in imm, selector in imm2 */
	X86_O_Ob, X86_O_Ov, /* moffs: decoded as a memory operand, disp only */
	/* implied registers */
	X86_O_AL, X86_O_CL, X86_O_DX, X86_O_AX, X86_O_rAX, X86_O_eAX,
	X86_O_ES, X86_O_CS, X86_O_SS, X86_O_DS, X86_O_FS, X86_O_GS,
	X86_O_Zb, X86_O_Zv, X86_O_Zy, /* opcode low bits | REX.B, in insn->reg */
	X86_O_XMM0, X86_O_ST0,
	/* string operands DS:rSI (segment overridable) and ES:rDI */
	X86_O_Xb, X86_O_Xv, X86_O_Xz, X86_O_Yb, X86_O_Yv, X86_O_Yz,
	X86_O_COUNT
};

/* Which CPUID feature an instruction belongs to (what the CPU model gates). */
enum x86_isa {
	X86_ISA_BASE, X86_ISA_X87, X86_ISA_MMX, X86_ISA_SSE, X86_ISA_SSE2,
	X86_ISA_SSE3, X86_ISA_SSSE3, X86_ISA_SSE41, X86_ISA_SSE42,
	X86_ISA_POPCNT, X86_ISA_LZCNT, X86_ISA_BMI1, X86_ISA_MOVBE,
	X86_ISA_CX16, X86_ISA_RDRAND, X86_ISA_RDSEED, X86_ISA_RDTSCP,
	X86_ISA_RDPID, X86_ISA_MONITOR, X86_ISA_SMAP, X86_ISA_XSAVE,
	X86_ISA_XSAVEOPT, X86_ISA_FSGSBASE, X86_ISA_CLFLUSHOPT, X86_ISA_CLWB,
	X86_ISA_SYSCALL, X86_ISA_SEP, X86_ISA_LM,
};

/*
 * Operation ids: one per instruction, not per encoding; the operand forms
 * and operand size tell encodings apart. MMX and SSE forms of the same
 * integer operation share an id (opsize 8 versus 16).
 */
enum x86_op {
	OP_INVALID,
	/* integer arithmetic and logic */
	OP_ADD, OP_OR, OP_ADC, OP_SBB, OP_AND, OP_SUB, OP_XOR, OP_CMP, OP_TEST,
	OP_INC, OP_DEC, OP_NOT, OP_NEG, OP_MUL, OP_IMUL, OP_DIV, OP_IDIV,
	OP_ROL, OP_ROR, OP_RCL, OP_RCR, OP_SHL, OP_SHR, OP_SAR, OP_SHLD, OP_SHRD,
	OP_DAA, OP_DAS, OP_AAA, OP_AAS, OP_AAM, OP_AAD, OP_SALC,
	OP_BT, OP_BTS, OP_BTR, OP_BTC, OP_BSF, OP_BSR,
	OP_TZCNT, OP_LZCNT, OP_POPCNT, OP_CRC32,
	/* data movement */
	OP_MOV, OP_MOVZX, OP_MOVSX, OP_MOVSXD, OP_LEA, OP_XCHG, OP_CMPXCHG,
	OP_XADD, OP_BSWAP, OP_MOVBE, OP_CMOVCC, OP_SETCC, OP_MOVNTI,
	OP_CMPXCHG8B, OP_CMPXCHG16B,
	OP_CBW,  /* CBW/CWDE/CDQE by operand size */
	OP_CWD,  /* CWD/CDQ/CQO */
	OP_MOV_FROM_SEG, OP_MOV_TO_SEG, OP_MOV_FROM_CR, OP_MOV_TO_CR,
	OP_MOV_FROM_DR, OP_MOV_TO_DR,
	OP_LES, OP_LDS, OP_LSS, OP_LFS, OP_LGS,
	/* stack and flags */
	OP_PUSH, OP_POP, OP_PUSHA, OP_POPA, OP_PUSHF, OP_POPF, OP_ENTER,
	OP_LEAVE, OP_LAHF, OP_SAHF, OP_CMC, OP_CLC, OP_STC, OP_CLI, OP_STI,
	OP_CLD, OP_STD,
	/* control transfer */
	OP_JCC, OP_JMP, OP_CALL, OP_RET, OP_JMPF, OP_CALLF, OP_RETF, OP_IRET,
	OP_LOOP, OP_LOOPE, OP_LOOPNE, OP_JCXZ, OP_INT3, OP_INT, OP_INTO,
	OP_INT1, OP_BOUND, OP_SYSCALL, OP_SYSRET, OP_SYSENTER, OP_SYSEXIT,
	/* strings and I/O */
	OP_MOVS, OP_CMPS, OP_STOS, OP_LODS, OP_SCAS, OP_INS, OP_OUTS,
	OP_IN, OP_OUT, OP_XLAT,
	/* hints and misc */
	OP_NOP, OP_PAUSE, OP_PREFETCH, OP_PREFETCHW, OP_HLT, OP_CPUID,
	OP_RDTSC, OP_RDTSCP, OP_RDPMC, OP_RDMSR, OP_WRMSR, OP_RDRAND,
	OP_RDSEED, OP_RDPID, OP_UD0, OP_UD1, OP_UD2,
	/* system */
	OP_SLDT, OP_STR, OP_LLDT, OP_LTR, OP_VERR, OP_VERW, OP_SGDT, OP_SIDT,
	OP_LGDT, OP_LIDT, OP_SMSW, OP_LMSW, OP_INVLPG, OP_SWAPGS, OP_MONITOR,
	OP_MWAIT, OP_CLAC, OP_STAC, OP_XGETBV, OP_XSETBV, OP_LAR, OP_LSL,
	OP_ARPL, OP_CLTS, OP_INVD, OP_WBINVD, OP_RSM,
	OP_RDFSBASE, OP_RDGSBASE, OP_WRFSBASE, OP_WRGSBASE,
	OP_FXSAVE, OP_FXRSTOR, OP_LDMXCSR, OP_STMXCSR, OP_XSAVE, OP_XRSTOR,
	OP_XSAVEOPT, OP_CLFLUSH, OP_CLFLUSHOPT, OP_CLWB, OP_LFENCE,
	OP_MFENCE, OP_SFENCE,
	/* x87 */
	OP_FWAIT, OP_FLD, OP_FST, OP_FSTP, OP_FILD, OP_FIST, OP_FISTP,
	OP_FISTTP, OP_FBLD, OP_FBSTP, OP_FADD, OP_FMUL, OP_FCOM, OP_FCOMP,
	OP_FSUB, OP_FSUBR, OP_FDIV, OP_FDIVR, OP_FADDP, OP_FMULP, OP_FSUBP,
	OP_FSUBRP, OP_FDIVP, OP_FDIVRP, OP_FIADD, OP_FIMUL, OP_FICOM,
	OP_FICOMP, OP_FISUB, OP_FISUBR, OP_FIDIV, OP_FIDIVR, OP_FCOMPP,
	OP_FUCOM, OP_FUCOMP, OP_FUCOMPP, OP_FCOMI, OP_FCOMIP, OP_FUCOMI,
	OP_FUCOMIP, OP_FXCH, OP_FCHS, OP_FABS, OP_FTST, OP_FXAM, OP_FLD1,
	OP_FLDL2T, OP_FLDL2E, OP_FLDPI, OP_FLDLG2, OP_FLDLN2, OP_FLDZ,
	OP_F2XM1, OP_FYL2X, OP_FPTAN, OP_FPATAN, OP_FXTRACT, OP_FPREM1,
	OP_FDECSTP, OP_FINCSTP, OP_FPREM, OP_FYL2XP1, OP_FSQRT, OP_FSINCOS,
	OP_FRNDINT, OP_FSCALE, OP_FSIN, OP_FCOS, OP_FNOP, OP_FLDENV, OP_FLDCW,
	OP_FNSTENV, OP_FNSTCW, OP_FNSTSW, OP_FNCLEX, OP_FNINIT, OP_FRSTOR,
	OP_FNSAVE, OP_FFREE, OP_FFREEP, OP_FCMOVB, OP_FCMOVE, OP_FCMOVBE,
	OP_FCMOVU, OP_FCMOVNB, OP_FCMOVNE, OP_FCMOVNBE, OP_FCMOVNU,
	/* SSE/SSE2/SSE3 floating point and moves */
	OP_MOVUPS, OP_MOVUPD, OP_MOVSS, OP_MOVSD, OP_MOVLPS, OP_MOVLPD,
	OP_MOVHLPS, OP_MOVHPS, OP_MOVHPD, OP_MOVLHPS, OP_MOVSLDUP,
	OP_MOVSHDUP, OP_MOVDDUP, OP_UNPCKLPS, OP_UNPCKLPD, OP_UNPCKHPS,
	OP_UNPCKHPD, OP_MOVAPS, OP_MOVAPD, OP_MOVNTPS, OP_MOVNTPD,
	OP_CVTPI2PS, OP_CVTPI2PD, OP_CVTSI2SS, OP_CVTSI2SD, OP_CVTTPS2PI,
	OP_CVTTPD2PI, OP_CVTTSS2SI, OP_CVTTSD2SI, OP_CVTPS2PI, OP_CVTPD2PI,
	OP_CVTSS2SI, OP_CVTSD2SI, OP_UCOMISS, OP_UCOMISD, OP_COMISS,
	OP_COMISD, OP_MOVMSKPS, OP_MOVMSKPD, OP_SQRTPS, OP_SQRTPD, OP_SQRTSS,
	OP_SQRTSD, OP_RSQRTPS, OP_RSQRTSS, OP_RCPPS, OP_RCPSS, OP_ANDPS,
	OP_ANDPD, OP_ANDNPS, OP_ANDNPD, OP_ORPS, OP_ORPD, OP_XORPS, OP_XORPD,
	OP_ADDPS, OP_ADDPD, OP_ADDSS, OP_ADDSD, OP_MULPS, OP_MULPD, OP_MULSS,
	OP_MULSD, OP_CVTPS2PD, OP_CVTPD2PS, OP_CVTSS2SD, OP_CVTSD2SS,
	OP_CVTDQ2PS, OP_CVTPS2DQ, OP_CVTTPS2DQ, OP_SUBPS, OP_SUBPD, OP_SUBSS,
	OP_SUBSD, OP_MINPS, OP_MINPD, OP_MINSS, OP_MINSD, OP_DIVPS, OP_DIVPD,
	OP_DIVSS, OP_DIVSD, OP_MAXPS, OP_MAXPD, OP_MAXSS, OP_MAXSD,
	OP_HADDPD, OP_HADDPS, OP_HSUBPD, OP_HSUBPS, OP_CMPPS, OP_CMPPD,
	OP_CMPSS, OP_CMPSD, OP_SHUFPS, OP_SHUFPD, OP_ADDSUBPD, OP_ADDSUBPS,
	OP_CVTTPD2DQ, OP_CVTDQ2PD, OP_CVTPD2DQ, OP_LDDQU,
	/* MMX/SSE2 integer */
	OP_EMMS, OP_MOVD, /* MOVD, or MOVQ to/from a GPR when opsize is 8 */
	OP_MOVQ, OP_MOVDQA, OP_MOVDQU, OP_MOVQ2DQ, OP_MOVDQ2Q, OP_MOVNTQ,
	OP_MOVNTDQ, OP_MASKMOVQ, OP_MASKMOVDQU, OP_PMOVMSKB,
	OP_PUNPCKLBW, OP_PUNPCKLWD, OP_PUNPCKLDQ, OP_PACKSSWB, OP_PCMPGTB,
	OP_PCMPGTW, OP_PCMPGTD, OP_PACKUSWB, OP_PUNPCKHBW, OP_PUNPCKHWD,
	OP_PUNPCKHDQ, OP_PACKSSDW, OP_PUNPCKLQDQ, OP_PUNPCKHQDQ,
	OP_PSHUFW, OP_PSHUFD, OP_PSHUFHW, OP_PSHUFLW, OP_PSRLW, OP_PSRAW,
	OP_PSLLW, OP_PSRLD, OP_PSRAD, OP_PSLLD, OP_PSRLQ, OP_PSLLQ, OP_PSRLDQ,
	OP_PSLLDQ, OP_PCMPEQB, OP_PCMPEQW, OP_PCMPEQD, OP_PINSRW, OP_PEXTRW,
	OP_PADDQ, OP_PMULLW, OP_PSUBUSB, OP_PSUBUSW, OP_PMINUB, OP_PAND,
	OP_PADDUSB, OP_PADDUSW, OP_PMAXUB, OP_PANDN, OP_PAVGB, OP_PAVGW,
	OP_PMULHUW, OP_PMULHW, OP_PSUBSB, OP_PSUBSW, OP_PMINSW, OP_POR,
	OP_PADDSB, OP_PADDSW, OP_PMAXSW, OP_PXOR, OP_PMULUDQ, OP_PMADDWD,
	OP_PSADBW, OP_PSUBB, OP_PSUBW, OP_PSUBD, OP_PSUBQ, OP_PADDB, OP_PADDW,
	OP_PADDD,
	/* SSSE3 */
	OP_PSHUFB, OP_PHADDW, OP_PHADDD, OP_PHADDSW, OP_PMADDUBSW, OP_PHSUBW,
	OP_PHSUBD, OP_PHSUBSW, OP_PSIGNB, OP_PSIGNW, OP_PSIGND, OP_PMULHRSW,
	OP_PABSB, OP_PABSW, OP_PABSD, OP_PALIGNR,
	/* SSE4.1 */
	OP_PBLENDVB, OP_BLENDVPS, OP_BLENDVPD, OP_PTEST, OP_PMOVSXBW,
	OP_PMOVSXBD, OP_PMOVSXBQ, OP_PMOVSXWD, OP_PMOVSXWQ, OP_PMOVSXDQ,
	OP_PMULDQ, OP_PCMPEQQ, OP_MOVNTDQA, OP_PACKUSDW, OP_PMOVZXBW,
	OP_PMOVZXBD, OP_PMOVZXBQ, OP_PMOVZXWD, OP_PMOVZXWQ, OP_PMOVZXDQ,
	OP_PMINSB, OP_PMINSD, OP_PMINUW, OP_PMINUD, OP_PMAXSB, OP_PMAXSD,
	OP_PMAXUW, OP_PMAXUD, OP_PMULLD, OP_PHMINPOSUW, OP_ROUNDPS,
	OP_ROUNDPD, OP_ROUNDSS, OP_ROUNDSD, OP_BLENDPS, OP_BLENDPD,
	OP_PBLENDW, OP_PEXTRB, OP_PEXTRD, /* PEXTRQ when opsize is 8 */
	OP_EXTRACTPS, OP_PINSRB, OP_INSERTPS, OP_PINSRD, /* PINSRQ likewise */
	OP_DPPS, OP_DPPD, OP_MPSADBW,
	/* SSE4.2 (decoded; the CPU model does not advertise SSE4.2) */
	OP_PCMPGTQ, OP_PCMPESTRM, OP_PCMPESTRI, OP_PCMPISTRM, OP_PCMPISTRI,
	OP_COUNT
};

/*
 * One decoded instruction. Fields are plain so that the interpreter's hot
 * paths can read them directly; the inline accessors below are for the
 * cases where the encoding rules are easy to get wrong.
 */
struct x86_insn {
	int64_t disp;      /* memory displacement, sign-extended; moffs */
	uint64_t imm;      /* first immediate (see enum x86_opnd for extension) */
	uint16_t op;       /* enum x86_op */
	uint16_t imm2;     /* ENTER's nesting level, far pointer's selector */
	uint16_t memsize;  /* bytes the memory operand covers, 0 if unsized */
	uint8_t len;       /* bytes; with NEED_MORE, the length to supply */
	uint8_t opsize;    /* 1, 2, 4, 8; 16 for xmm forms, 8 for MMX forms */
	uint8_t addrsize;  /* 2, 4, 8 */
	uint8_t mode;      /* enum x86_mode */
	uint8_t map;       /* enum x86_map */
	uint8_t opcode;    /* last opcode byte */
	uint8_t prefixes;  /* X86_PFX_* */
	uint8_t rex;       /* the REX byte (0x40-0x4F) that applied, or 0 */
	uint8_t modrm;     /* raw byte, valid with X86_INSN_MODRM */
	uint8_t reg;       /* ModRM.reg | REX.R, or +r opcode bits | REX.B */
	uint8_t rm;        /* ModRM.rm | REX.B: the register of a register form */
	uint8_t base;      /* 0-15 or X86_REG_NONE */
	uint8_t index;     /* 0-15 or X86_REG_NONE */
	uint8_t scale;     /* log2 of the index multiplier */
	uint8_t seg;       /* effective segment (enum x86_seg_reg) */
	uint8_t cc;        /* condition for Jcc/SETcc/CMOVcc: low opcode nibble */
	uint8_t flags;     /* X86_INSN_* */
	uint8_t opnd[3];   /* enum x86_opnd, destination first */
};

int x86_decode(struct x86_insn *out, const uint8_t *bytes, size_t avail,
	       enum x86_mode mode);

/* Writes "add dword ptr [rax+rcx*4+0x10], edx"-style text; returns strlen. */
int x86_insn_format(const struct x86_insn *insn, char *buf, size_t n);

const char *x86_op_name(unsigned op);
enum x86_isa x86_op_isa(unsigned op);
/* The feature to check before executing: MMX for MMX-register forms. */
enum x86_isa x86_insn_isa(const struct x86_insn *insn);

static inline bool x86_insn_is_mem(const struct x86_insn *i)
{
	return i->flags & X86_INSN_MEM;
}

static inline bool x86_insn_riprel(const struct x86_insn *i)
{
	return i->flags & X86_INSN_RIPREL;
}

static inline bool x86_insn_lock(const struct x86_insn *i)
{
	return i->prefixes & X86_PFX_LOCK;
}

/*
 * Byte register numbers 4-7 name AH/CH/DH/BH unless any REX prefix is
 * present, in which case they are SPL/BPL/SIL/DIL.
 */
static inline bool x86_insn_byte_reg_is_high(const struct x86_insn *i, unsigned r)
{
	return !i->rex && r >= 4 && r < 8;
}

#endif
