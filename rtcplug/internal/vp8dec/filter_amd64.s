//go:build amd64 && !purego

#include "textflag.h"

// The normal loop filter of RFC 6386 section 15.3 on 16 positions at once,
// the edge functions of filter_amd64.go. Registers X0..X7 hold the pixels
// p3 p2 p1 p0 q0 q1 q2 q3 across the edge, one position per byte.

DATA c80<>+0(SB)/8, $0x8080808080808080
DATA c80<>+8(SB)/8, $0x8080808080808080
GLOBL c80<>(SB), RODATA|NOPTR, $16

DATA c7f<>+0(SB)/8, $0x7f7f7f7f7f7f7f7f
DATA c7f<>+8(SB)/8, $0x7f7f7f7f7f7f7f7f
GLOBL c7f<>(SB), RODATA|NOPTR, $16

DATA c1f<>+0(SB)/8, $0x1f1f1f1f1f1f1f1f
DATA c1f<>+8(SB)/8, $0x1f1f1f1f1f1f1f1f
GLOBL c1f<>(SB), RODATA|NOPTR, $16

DATA c10<>+0(SB)/8, $0x1010101010101010
DATA c10<>+8(SB)/8, $0x1010101010101010
GLOBL c10<>(SB), RODATA|NOPTR, $16

DATA c04<>+0(SB)/8, $0x0404040404040404
DATA c04<>+8(SB)/8, $0x0404040404040404
GLOBL c04<>(SB), RODATA|NOPTR, $16

DATA c03<>+0(SB)/8, $0x0303030303030303
DATA c03<>+8(SB)/8, $0x0303030303030303
GLOBL c03<>(SB), RODATA|NOPTR, $16

// Words 9 and 63 for the macroblock filter's taps.
DATA w9<>+0(SB)/8, $0x0009000900090009
DATA w9<>+8(SB)/8, $0x0009000900090009
GLOBL w9<>(SB), RODATA|NOPTR, $16

DATA w63<>+0(SB)/8, $0x003f003f003f003f
DATA w63<>+8(SB)/8, $0x003f003f003f003f
GLOBL w63<>(SB), RODATA|NOPTR, $16

// SPLAT spreads lims (in X13: edge limit, interior limit, hev threshold in
// bytes 0, 1, 2) to all bytes of X13, X14 and X15 respectively.
#define SPLAT \
	PUNPCKLBW X13, X13; \
	PUNPCKLWL X13, X13; \
	PSHUFD    $0x55, X13, X14; \
	PSHUFD    $0xaa, X13, X15; \
	PSHUFD    $0x00, X13, X13

// ABSD sets d to |a-b| of unsigned bytes; t is clobbered.
#define ABSD(a, b, d, t) \
	MOVO    a, d; \
	PSUBUSB b, d; \
	MOVO    b, t; \
	PSUBUSB a, t; \
	POR     t, d

// MASK sets X8 to all ones where the position is filtered (every interior
// difference within the interior limit X14, the edge difference
// |p0-q0|*2 + |p1-q1|/2 within the edge limit X13) and X11 to all ones where
// the edge variance is not high (within X15). The unsigned saturation of
// the edge difference does not change the comparison: limits are below 255.
#define MASK \
	ABSD(X0, X1, X8, X9); \
	ABSD(X1, X2, X9, X10); \
	PMAXUB  X9, X8; \
	ABSD(X2, X3, X11, X10); \
	PMAXUB  X11, X8; \
	ABSD(X5, X4, X12, X10); \
	PMAXUB  X12, X8; \
	PMAXUB  X12, X11; \
	ABSD(X6, X5, X9, X10); \
	PMAXUB  X9, X8; \
	ABSD(X7, X6, X9, X10); \
	PMAXUB  X9, X8; \
	PSUBUSB X14, X8; \
	PSUBUSB X15, X11; \
	ABSD(X3, X4, X9, X10); \
	PADDUSB X9, X9; \
	ABSD(X2, X5, X10, X12); \
	PSRLW   $1, X10; \
	PAND    c7f<>(SB), X10; \
	PADDUSB X10, X9; \
	PSUBUSB X13, X9; \
	POR     X9, X8; \
	PXOR    X9, X9; \
	PCMPEQB X9, X8; \
	PCMPEQB X9, X11

// SHIFT3 shifts the signed bytes of r right by 3, arithmetically: with x+128
// shifted logically, less 128>>3. X15 holds 0x80 bytes.
#define SHIFT3(r) \
	PXOR  X15, r; \
	PSRLW $3, r; \
	PAND  c1f<>(SB), r; \
	PSUBB c10<>(SB), r

// ROUND7 sets lo to the bytes (lo+63)>>7, (hi+63)>>7 of signed words.
#define ROUND7(lo, hi) \
	PADDW    w63<>(SB), lo; \
	PADDW    w63<>(SB), hi; \
	PSRAW    $7, lo; \
	PSRAW    $7, hi; \
	PACKSSWB hi, lo

// FILTERMB is the macroblock edge filter on X1..X6 given MASK's X8 and
// X11: at high edge variance p0 and q0 move by the common adjustment w, as
// in the subblock filter; otherwise p2..q2 move by 27, 18 and 9 /128 of w.
#define FILTERMB \
	MOVOU  c80<>(SB), X15; \
	PXOR   X15, X1; \
	PXOR   X15, X2; \
	PXOR   X15, X3; \
	PXOR   X15, X4; \
	PXOR   X15, X5; \
	PXOR   X15, X6; \
	MOVO   X2, X9; \
	PSUBSB X5, X9; \
	MOVO   X4, X10; \
	PSUBSB X3, X10; \
	PADDSB X10, X9; \
	PADDSB X10, X9; \
	PADDSB X10, X9; \
	PAND   X8, X9; \
	MOVO   X11, X12; \
	PANDN  X9, X12; \
	PAND   X11, X9; \
	MOVO   X12, X13; \
	PADDSB c04<>(SB), X13; \
	SHIFT3(X13); \
	PSUBSB X13, X4; \
	PADDSB c03<>(SB), X12; \
	SHIFT3(X12); \
	PADDSB X12, X3; \
	MOVO   X9, X10; \
	PUNPCKLBW X10, X10; \
	PSRAW  $8, X10; \
	PUNPCKHBW X9, X9; \
	PSRAW  $8, X9; \
	PMULLW w9<>(SB), X10; \
	PMULLW w9<>(SB), X9; \
	MOVO   X10, X12; \
	MOVO   X9, X13; \
	ROUND7(X12, X13); \
	PSUBSB X12, X6; \
	PADDSB X12, X1; \
	MOVO   X10, X12; \
	PADDW  X12, X12; \
	MOVO   X9, X13; \
	PADDW  X13, X13; \
	PADDW  X12, X10; \
	PADDW  X13, X9; \
	ROUND7(X12, X13); \
	PSUBSB X12, X5; \
	PADDSB X12, X2; \
	ROUND7(X10, X9); \
	PSUBSB X10, X4; \
	PADDSB X10, X3; \
	PXOR   X15, X1; \
	PXOR   X15, X2; \
	PXOR   X15, X3; \
	PXOR   X15, X4; \
	PXOR   X15, X5; \
	PXOR   X15, X6

// FILTERSUB is the subblock edge filter on X2..X5 given MASK's X8 and X11:
// p0 and q0 move by the common adjustment, p1 and q1 by half of it when the
// edge variance is not high. (a+1)>>1 of a signed byte a is
// avg(a+128, 128)-128, with avg rounding up.
#define FILTERSUB \
	MOVOU  c80<>(SB), X15; \
	PXOR   X15, X2; \
	PXOR   X15, X3; \
	PXOR   X15, X4; \
	PXOR   X15, X5; \
	MOVO   X2, X9; \
	PSUBSB X5, X9; \
	MOVO   X11, X12; \
	PANDN  X9, X12; \
	MOVO   X4, X10; \
	PSUBSB X3, X10; \
	PADDSB X10, X12; \
	PADDSB X10, X12; \
	PADDSB X10, X12; \
	PAND   X8, X12; \
	MOVO   X12, X13; \
	PADDSB c04<>(SB), X13; \
	SHIFT3(X13); \
	PSUBSB X13, X4; \
	PADDSB c03<>(SB), X12; \
	SHIFT3(X12); \
	PADDSB X12, X3; \
	PXOR   X15, X13; \
	PAVGB  X15, X13; \
	PXOR   X15, X13; \
	PAND   X11, X13; \
	PSUBSB X13, X5; \
	PADDSB X13, X2; \
	PXOR   X15, X2; \
	PXOR   X15, X3; \
	PXOR   X15, X4; \
	PXOR   X15, X5

// LOADH loads the 8 rows across a horizontal luma edge: SI is the q0 row,
// BX the stride, CX 3 strides; DI is set to the p3 row.
#define LOADH \
	LEAQ  (BX)(BX*2), CX; \
	MOVQ  SI, DI; \
	SUBQ  CX, DI; \
	SUBQ  BX, DI; \
	MOVOU (DI), X0; \
	MOVOU (DI)(BX*1), X1; \
	MOVOU (DI)(BX*2), X2; \
	MOVOU (DI)(CX*1), X3; \
	MOVOU (SI), X4; \
	MOVOU (SI)(BX*1), X5; \
	MOVOU (SI)(BX*2), X6; \
	MOVOU (SI)(CX*1), X7

// LOADC and STOREC move 8 pixels at a to the low half of r, 8 at b to the
// high half, and back.
#define LOADC(r, a, b) \
	MOVQ   a, r; \
	MOVHPS b, r

#define STOREC(r, a, b) \
	MOVQ   r, a; \
	MOVHPS r, b

// LOADHC is LOADH for chroma: 8 pixels of a row from SI (q0 row of u) and
// 8 from DX (of v); DI and R8 are set to the p3 rows.
#define LOADHC \
	LEAQ  (BX)(BX*2), CX; \
	MOVQ  SI, DI; \
	SUBQ  CX, DI; \
	SUBQ  BX, DI; \
	MOVQ  DX, R8; \
	SUBQ  CX, R8; \
	SUBQ  BX, R8; \
	LOADC(X0, (DI), (R8)); \
	LOADC(X1, (DI)(BX*1), (R8)(BX*1)); \
	LOADC(X2, (DI)(BX*2), (R8)(BX*2)); \
	LOADC(X3, (DI)(CX*1), (R8)(CX*1)); \
	LOADC(X4, (SI), (DX)); \
	LOADC(X5, (SI)(BX*1), (DX)(BX*1)); \
	LOADC(X6, (SI)(BX*2), (DX)(BX*2)); \
	LOADC(X7, (SI)(CX*1), (DX)(CX*1))

// LOADV loads 16 rows of the 8 pixels across a vertical edge, rows 0..7
// from SI and 8..15 from DX (both at q0), and transposes them: X0..X7 are
// the columns p3..q3. DI, R9, R8 and R10 are set to the p3 pixels of rows
// 0, 4, 8 and 12.
#define LOADV \
	LEAQ      (BX)(BX*2), CX; \
	LEAQ      -4(SI), DI; \
	LEAQ      -4(DX), R8; \
	LEAQ      (DI)(BX*4), R9; \
	LEAQ      (R8)(BX*4), R10; \
	MOVQ      (DI), X0; \
	MOVQ      (DI)(BX*1), X8; \
	PUNPCKLBW X8, X0; \
	MOVQ      (DI)(BX*2), X1; \
	MOVQ      (DI)(CX*1), X8; \
	PUNPCKLBW X8, X1; \
	MOVQ      (R9), X2; \
	MOVQ      (R9)(BX*1), X8; \
	PUNPCKLBW X8, X2; \
	MOVQ      (R9)(BX*2), X3; \
	MOVQ      (R9)(CX*1), X8; \
	PUNPCKLBW X8, X3; \
	MOVQ      (R8), X4; \
	MOVQ      (R8)(BX*1), X8; \
	PUNPCKLBW X8, X4; \
	MOVQ      (R8)(BX*2), X5; \
	MOVQ      (R8)(CX*1), X8; \
	PUNPCKLBW X8, X5; \
	MOVQ      (R10), X6; \
	MOVQ      (R10)(BX*1), X8; \
	PUNPCKLBW X8, X6; \
	MOVQ      (R10)(BX*2), X7; \
	MOVQ      (R10)(CX*1), X8; \
	PUNPCKLBW X8, X7; \
	MOVO      X0, X8; \
	PUNPCKLWL X1, X0; \
	PUNPCKHWL X1, X8; \
	MOVO      X2, X9; \
	PUNPCKLWL X3, X2; \
	PUNPCKHWL X3, X9; \
	MOVO      X4, X10; \
	PUNPCKLWL X5, X4; \
	PUNPCKHWL X5, X10; \
	MOVO      X6, X11; \
	PUNPCKLWL X7, X6; \
	PUNPCKHWL X7, X11; \
	MOVO      X0, X1; \
	PUNPCKLLQ X2, X0; \
	PUNPCKHLQ X2, X1; \
	MOVO      X4, X3; \
	PUNPCKLLQ X6, X4; \
	PUNPCKHLQ X6, X3; \
	MOVO      X8, X5; \
	PUNPCKLLQ X9, X8; \
	PUNPCKHLQ X9, X5; \
	MOVO      X10, X7; \
	PUNPCKLLQ X11, X10; \
	PUNPCKHLQ X11, X7; \
	MOVO      X0, X2; \
	PUNPCKHQDQ X4, X2; \
	PUNPCKLQDQ X4, X0; \
	MOVO      X1, X4; \
	PUNPCKHQDQ X3, X4; \
	PUNPCKLQDQ X3, X1; \
	MOVO      X8, X6; \
	PUNPCKLQDQ X10, X6; \
	PUNPCKHQDQ X10, X8; \
	MOVO      X5, X9; \
	PUNPCKLQDQ X7, X9; \
	PUNPCKHQDQ X7, X5; \
	MOVO      X5, X7; \
	MOVO      X4, X3; \
	MOVO      X8, X5; \
	MOVO      X6, X4; \
	MOVO      X9, X6; \
	MOVO      X1, X10; \
	MOVO      X2, X1; \
	MOVO      X10, X2

// STOREV transposes X0..X7 back into 16 rows and stores them where LOADV
// loaded them.
#define STOREV \
	MOVO      X0, X8; \
	PUNPCKLBW X1, X0; \
	PUNPCKHBW X1, X8; \
	MOVO      X2, X9; \
	PUNPCKLBW X3, X2; \
	PUNPCKHBW X3, X9; \
	MOVO      X4, X10; \
	PUNPCKLBW X5, X4; \
	PUNPCKHBW X5, X10; \
	MOVO      X6, X11; \
	PUNPCKLBW X7, X6; \
	PUNPCKHBW X7, X11; \
	MOVO      X0, X1; \
	PUNPCKLWL X2, X0; \
	PUNPCKHWL X2, X1; \
	MOVO      X4, X3; \
	PUNPCKLWL X6, X4; \
	PUNPCKHWL X6, X3; \
	MOVO      X8, X5; \
	PUNPCKLWL X9, X8; \
	PUNPCKHWL X9, X5; \
	MOVO      X10, X7; \
	PUNPCKLWL X11, X10; \
	PUNPCKHWL X11, X7; \
	MOVO      X0, X2; \
	PUNPCKLLQ X4, X0; \
	PUNPCKHLQ X4, X2; \
	MOVO      X1, X4; \
	PUNPCKLLQ X3, X1; \
	PUNPCKHLQ X3, X4; \
	MOVO      X8, X6; \
	PUNPCKLLQ X10, X8; \
	PUNPCKHLQ X10, X6; \
	MOVO      X5, X9; \
	PUNPCKLLQ X7, X5; \
	PUNPCKHLQ X7, X9; \
	STOREC(X0, (DI), (DI)(BX*1)); \
	STOREC(X2, (DI)(BX*2), (DI)(CX*1)); \
	STOREC(X1, (R9), (R9)(BX*1)); \
	STOREC(X4, (R9)(BX*2), (R9)(CX*1)); \
	STOREC(X8, (R8), (R8)(BX*1)); \
	STOREC(X6, (R8)(BX*2), (R8)(CX*1)); \
	STOREC(X5, (R10), (R10)(BX*1)); \
	STOREC(X9, (R10)(BX*2), (R10)(CX*1))

// func mbEdgeHLuma(p *byte, s int, lims uint64)
TEXT ·mbEdgeHLuma(SB), NOSPLIT, $0-24
	MOVQ p+0(FP), SI
	MOVQ s+8(FP), BX
	MOVQ lims+16(FP), X13
	SPLAT
	LOADH
	MASK
	FILTERMB
	MOVOU X1, (DI)(BX*1)
	MOVOU X2, (DI)(BX*2)
	MOVOU X3, (DI)(CX*1)
	MOVOU X4, (SI)
	MOVOU X5, (SI)(BX*1)
	MOVOU X6, (SI)(BX*2)
	RET

// func subEdgeHLuma(p *byte, s int, lims uint64)
TEXT ·subEdgeHLuma(SB), NOSPLIT, $0-24
	MOVQ p+0(FP), SI
	MOVQ s+8(FP), BX
	MOVQ lims+16(FP), X13
	SPLAT
	LOADH
	MASK
	FILTERSUB
	MOVOU X2, (DI)(BX*2)
	MOVOU X3, (DI)(CX*1)
	MOVOU X4, (SI)
	MOVOU X5, (SI)(BX*1)
	RET

// func mbEdgeHChroma(u, v *byte, s int, lims uint64)
TEXT ·mbEdgeHChroma(SB), NOSPLIT, $0-32
	MOVQ u+0(FP), SI
	MOVQ v+8(FP), DX
	MOVQ s+16(FP), BX
	MOVQ lims+24(FP), X13
	SPLAT
	LOADHC
	MASK
	FILTERMB
	STOREC(X1, (DI)(BX*1), (R8)(BX*1))
	STOREC(X2, (DI)(BX*2), (R8)(BX*2))
	STOREC(X3, (DI)(CX*1), (R8)(CX*1))
	STOREC(X4, (SI), (DX))
	STOREC(X5, (SI)(BX*1), (DX)(BX*1))
	STOREC(X6, (SI)(BX*2), (DX)(BX*2))
	RET

// func subEdgeHChroma(u, v *byte, s int, lims uint64)
TEXT ·subEdgeHChroma(SB), NOSPLIT, $0-32
	MOVQ u+0(FP), SI
	MOVQ v+8(FP), DX
	MOVQ s+16(FP), BX
	MOVQ lims+24(FP), X13
	SPLAT
	LOADHC
	MASK
	FILTERSUB
	STOREC(X2, (DI)(BX*2), (R8)(BX*2))
	STOREC(X3, (DI)(CX*1), (R8)(CX*1))
	STOREC(X4, (SI), (DX))
	STOREC(X5, (SI)(BX*1), (DX)(BX*1))
	RET

// func mbEdgeV16(a, b *byte, s int, lims uint64)
TEXT ·mbEdgeV16(SB), NOSPLIT, $0-32
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DX
	MOVQ s+16(FP), BX
	MOVQ lims+24(FP), X13
	SPLAT
	LOADV
	MASK
	FILTERMB
	STOREV
	RET

// func subEdgeV16(a, b *byte, s int, lims uint64)
TEXT ·subEdgeV16(SB), NOSPLIT, $0-32
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DX
	MOVQ s+16(FP), BX
	MOVQ lims+24(FP), X13
	SPLAT
	LOADV
	MASK
	FILTERSUB
	STOREV
	RET
