/* quant.h: IEEE half floats and ggml's block quantisations, bit-compatible
 * with the tensors in whisper.cpp model files.
 *
 * Type codes are ggml's `enum ggml_type` values, as stored in each tensor
 * header of a ggml model file. A file's `ftype` hparam is ggml's
 * `enum ggml_ftype` (a different numbering); quant_ftype_* map between them.
 * Files written by whisper.cpp's quantize tool store
 * ftype + GGML_QNT_VERSION (2) * 1000; quant_ftype_* accept both.
 *
 * Block layouts (QK = 32 elements per block, every field little-endian,
 * no padding; "fp16" is an IEEE binary16; element j of the block is x[j]):
 *
 *   Q4_0  18 bytes  { fp16 d; uint8 qs[16]; }
 *         x[j]    = ((qs[j] & 0xF) - 8) * d        j = 0..15
 *         x[j+16] = ((qs[j] >>  4) - 8) * d
 *   Q4_1  20 bytes  { fp16 d; fp16 m; uint8 qs[16]; }
 *         x[j]    = (qs[j] & 0xF) * d + m,  x[j+16] = (qs[j] >> 4) * d + m
 *   Q5_0  22 bytes  { fp16 d; uint8 qh[4]; uint8 qs[16]; }
 *         h = qh read as a little-endian uint32; bit j = 5th bit of x[j]
 *         x[j]    = (((qs[j] & 0xF) | ((h >> j)      & 1) << 4) - 16) * d
 *         x[j+16] = (((qs[j] >>  4) | ((h >> (j+16)) & 1) << 4) - 16) * d
 *   Q5_1  24 bytes  { fp16 d; fp16 m; uint8 qh[4]; uint8 qs[16]; }
 *         as Q5_0 without the -16, then * d + m
 *   Q8_0  34 bytes  { fp16 d; int8 qs[32]; }      x[j] = qs[j] * d
 *
 * Quantisation follows ggml's reference quantizers (quantize_row_*_ref):
 *   Q4_0/Q5_0: d = v / -8 (resp. -16) where v is the element of largest |v|
 *              (sign kept, so v itself maps to code 0), q = min(15|31,
 *              trunc(x/d + 8.5|16.5)).
 *   Q4_1/Q5_1: d = (max - min) / 15|31, m = min, q = trunc((x-m)/d + 0.5).
 *   Q8_0:      d = max|x| / 127, q = round(x/d).
 *   1/d is taken from the float d before it is rounded to fp16, as ggml does,
 *   so the bytes match ggml's for the same input.
 *
 * Thread-safety: every function is pure (no global state) and reentrant.
 */
#ifndef LC_QUANT_H
#define LC_QUANT_H

#include <stddef.h>
#include <stdint.h>

/* ggml_type values (ggml.h). 4 and 5 were Q4_2/Q4_3, removed from ggml. */
enum {
    QUANT_F32  = 0,
    QUANT_F16  = 1,
    QUANT_Q4_0 = 2,
    QUANT_Q4_1 = 3,
    QUANT_Q5_0 = 6,
    QUANT_Q5_1 = 7,
    QUANT_Q8_0 = 8,
};

#define QUANT_QK 32 /* elements per block, ggml's QK4_0 = QK5_0 = QK8_0 = 32 */

/* enum ggml_ftype values (the `ftype` hparam of a model file). */
enum {
    QUANT_FTYPE_F32  = 0,
    QUANT_FTYPE_F16  = 1,
    QUANT_FTYPE_Q4_0 = 2,
    QUANT_FTYPE_Q4_1 = 3,
    QUANT_FTYPE_Q8_0 = 7,
    QUANT_FTYPE_Q5_0 = 8,
    QUANT_FTYPE_Q5_1 = 9,
};
#define QUANT_FTYPE_QNT_FACTOR 1000 /* GGML_QNT_VERSION_FACTOR */
#define QUANT_QNT_VERSION      2    /* GGML_QNT_VERSION */

/* ---- half precision ---- */

/* Exact (every half is a float). NaN payloads are kept in the top bits. */
float quant_f16_to_f32(uint16_t h);
/* Round to nearest, ties to even; overflow gives ±inf, NaN stays NaN (quiet),
 * results below the half range become subnormals or ±0. */
uint16_t quant_f32_to_f16(float f);
/* Row versions: same results, F16C instructions when the CPU has them. */
void quant_f16_to_f32_row(const uint16_t *src, float *dst, size_t n);
void quant_f32_to_f16_row(const float *src, uint16_t *dst, size_t n);

/* ---- types ---- */

/* 1 if `type` is one of the QUANT_* types above. */
int quant_type_valid(int type);
/* "f32", "f16", "q4_0", …; "?" for an unknown type. */
const char *quant_type_name(int type);
/* Elements per block: 1 for F32/F16, QUANT_QK for the block types; 0 if unknown. */
int quant_block_elems(int type);
/* Bytes per block (4, 2, 18, 20, 22, 24, 34); 0 if unknown. */
size_t quant_block_bytes(int type);
/* Bytes of a row of n elements; 0 if the type is unknown or n is not a
 * multiple of the block size. */
size_t quant_row_size(int type, int64_t n);

/* ---- ftype ---- */

/* ggml_type of the matrices in a file of this ftype (accepts the +2000 of
 * quantized files); -1 if unknown. */
int quant_ftype_to_type(int ftype);
/* "f32", "f16", "q4_0", "q4_1", "q8_0", "q5_0", "q5_1"; "?" if unknown. */
const char *quant_ftype_name(int ftype);
/* Inverse of quant_ftype_name (base values 0..9, no +2000); -1 if unknown. */
int quant_ftype_from_name(const char *name);

/* ---- rows ---- */

/* Encodes n floats (n a multiple of quant_block_elems(type)) into dst, which
 * must hold quant_row_size(type, n) bytes. F32 copies, F16 rounds.
 * Returns 0, or -1 for an unknown type or a bad n (dst untouched). */
int quant_quantize_row(int type, const float *x, void *dst, int64_t n);
/* Decodes n elements from src into y. Returns 0, or -1 as above. */
int quant_dequantize_row(int type, const void *src, float *y, int64_t n);

#endif
