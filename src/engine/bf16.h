/* bf16.h: bfloat16 conversion and C references of the NPU kernels' exact
 * arithmetic (kernels/cores/ sources). The emulated NPU (npu_emu.c) runs these; the
 * tests compare them with double precision, FFTW and libm.
 *
 * Tile sizes: this header is the ONE place they are defined. kernels/Makefile
 * and kernels/shapes.py
 * read the NPU_TILE_* / NPU_ROWS / NPU_COLS_* / NPU_CHUNK_M / NPU_MEL_*
 * values from here (grep), so the AIE designs and these references cannot
 * drift apart.
 *
 * GEMM order (what the AIE kernel mm_bf16_f32.cc does, per output element):
 *   C = 0
 *   for each k-tile t of NPU_TILE_K (in order):
 *       p = 0 (f32)
 *       for k in t (in order): p += bf16(a[k]) * bf16(w[k])   (exact product)
 *       C += p (f32)
 *   C += bias (f32, on the host)
 * Products of two bf16 values are exact in f32 (8+8 significant bits), so the
 * only roundings are the f32 additions. Caveat, stated plainly: the AIE MAC
 * unit combines 8 products per instruction (mmul<4,8,4>) and AMD does not
 * document that internal summation; the reference sums in order. On silicon
 * the results may therefore differ from this reference in the last bits of
 * each k-tile partial sum (well inside the bf16 input-rounding bound the
 * tests use); the emulator is bit-exact with this reference by construction.
 *
 * Thread-safety: everything here is reentrant (no globals).
 */
#ifndef LC_BF16_H
#define LC_BF16_H

#include <stdint.h>
#include <string.h>

/* --- tiling (kernels/gemm/gemm.py takes these via kernels/Makefile) --- */
#define NPU_TILE_M 64     /* rows of A per core per tile (m) */
#define NPU_TILE_K 64     /* k-tile: the unit of f32 partial accumulation (k) */
#define NPU_TILE_N 32     /* cols of C per core per tile (n); 64x32 f32 C double-buffered
                             + A 64x64 and B 64x32 bf16 double-buffered = 40 KiB of the
                             64 KiB core data memory */
#define NPU_ROWS 4        /* compute-tile rows used on both npu1 and npu2 */
#define NPU_COLS_NPU1 4   /* Phoenix/Hawk Point: 4 usable columns */
#define NPU_COLS_NPU2 4   /* Strix/Krackan have 8 columns; the first design uses 4 (kernels/gemm/gemm.py) */
#define NPU_CHUNK_M 1536  /* rows per launch: the encoder's 1500 rows padded to a multiple of
                             NPU_TILE_M*NPU_ROWS (256); longer A (conv1: 3000) is run in chunks */
/* mel front end as GEMMs (N_FFT 400, 201 bins, openai-whisper audio.py) */
#define NPU_MEL_M 512     /* frames per mel launch: mel.c hands over batches of 512 */
#define NPU_MEL_NFFT 400
#define NPU_MEL_BINS 201
#define NPU_MEL_K 448     /* 400 padded to NPU_TILE_K */
#define NPU_MEL_HALF 256  /* cos bins in cols [0,201), sin bins in [256,457) */
#define NPU_MEL_N 512     /* DFT GEMM width (2 * NPU_MEL_HALF) */
/* bf16x3 DFT: frames x and basis B are split into bf16 pairs, x = xh + xl,
 * B = Bh + Bl (hi = bf16(v), lo = bf16(v - hi)), and x·B is computed as
 * xh·Bh + xh·Bl + xl·Bh (xl·Bl, ~2^-18 relative, is dropped). That is ONE
 * GEMM of the same kernel with K = 3 segments of NPU_MEL_K:
 *   A = [xh | xh | xl]  (each 400 + 48 zeros),  B = [Bh ; Bl ; Bh].
 * Why: with a single bf16 rounding (2^-9) the DFT's error floor sits ~50 dB
 * under the frame's peak, inside Whisper's 80 dB window, and log10 amplifies
 * it in quiet bins; bf16x3 lowers that floor to ~2^-15 of the frame's L1
 * norm (docs/npu.md). The mel filter GEMM stays single bf16: its terms are
 * all non-negative, so its error is relative (2^-8) even in quiet bins. */
#define NPU_MEL_SPLIT 3
#define NPU_MEL_KX 1344   /* NPU_MEL_SPLIT * NPU_MEL_K: K of the DFT GEMM */

static inline int npu_round_up(int x, int m) { return (x + m - 1) / m * m; }

/* f32 -> bf16, round to nearest even; NaN stays NaN (quieted, sign kept). */
static inline uint16_t bf16_from_f32(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x0040u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

static inline float bf16_to_f32(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline float bf16_round(float f) { return bf16_to_f32(bf16_from_f32(f)); }

/* x ≈ hi + lo, both bf16: hi = bf16(x), lo = bf16(x - hi). x - hi is exact
 * in f32 (it is x's low 16 significand bits), so |x - hi - lo| <= 2^-18 |x|
 * for finite x whose hi does not overflow. */
static inline void bf16_split(float x, uint16_t *hi, uint16_t *lo)
{
    *hi = bf16_from_f32(x);
    *lo = bf16_from_f32(x - bf16_to_f32(*hi));
}

/* --- split-bf16 GEMM (--npu-precision bf16x3, the default) ---
 * The same bf16 kernel computes A·Wᵀ to ~2^-16 instead of ~2^-8 relative
 * by running over K' = 3 Kp (the DFT trick above, applied to every GEMM):
 *   A' = [Ah | Ah | Al]  (each segment Kp wide, zero padded)
 *   B' = [Wh ; Wl ; Wh]  (each segment Kp rows)
 * Why it is the default: with plain bf16 the encoder output moves by ~2^-8,
 * which flips a few tokens against the CPU on some models; then a fault
 * that reruns one GEMM on the CPU changes the transcript, and the same
 * audio captions differently on a laptop with and without an NPU. bf16x3
 * costs 3x the NPU MACs (no extra host work beyond packing) and keeps the
 * transcript the CPU's. split = 1 is plain bf16 (--npu-precision bf16). */
#define NPU_SPLIT_BF16X3 3

/* --- packing, as the host does before a launch (zero padding) --- */
/* dst[rows_p, split * kp]: segment s (each kp wide) of row i holds
 * bf16(src[i, 0..cols)) for s = 0 and 1 and its lo part for s = 2 (split 3),
 * zeros past cols and for rows past `rows`. split 1: plain bf16(src). */
void bf16_pack(const float *src, int rows, int cols, int ld, uint16_t *dst, int rows_p, int kp, int split);
/* dst[split * kp, Np]: the kernel's B operand (K x N, row-major) for
 * W[N, K]: segment s holds Wᵀ's hi part for s = 0 and 2 and its lo part for
 * s = 1 (split 3); split 1: bf16(Wᵀ). */
void bf16_pack_t(const float *W, int N, int K, int ldw, uint16_t *dst, int kp, int Np, int split);

/* The emulated AIE array: C[Mp, Np] = A[Mp, Kp] · B[Kp, Np] in the order
 * above. Kp must be a multiple of NPU_TILE_K. `scratch` holds
 * (NPU_TILE_K + 1) * Np floats (no allocation here). */
void bf16_array_gemm(int Mp, int Kp, int Np, const uint16_t *A, const uint16_t *B,
                     float *C, float *scratch);

/* The DFT basis value the host packs: cos/sin(2π f k / 400) in double,
 * rounded to f32 (then split into bf16 hi + lo by the packer). */
void bf16_dft_basis(int f, int k, float *c, float *s);
/* The bf16x3 DFT GEMM's operands (layout above NPU_MEL_SPLIT):
 * A: dst[rows_p, NPU_MEL_KX] = [xh | xh | xl] of frames[rows, 400], zero
 *    rows past `rows`; B: dst[NPU_MEL_KX, NPU_MEL_N] = [Bh ; Bl ; Bh] with
 *    cos in columns [0, 201) and sin in [NPU_MEL_HALF, NPU_MEL_HALF + 201). */
void bf16_pack_mel_frames(const float *frames, int rows, uint16_t *dst, int rows_p);
void bf16_pack_mel_basis(uint16_t *dst);

/* --- references on unpacked f32 data (tests; no allocation) --- */
/* C[M, N] = A[M, K] · W[N, K]ᵀ (+ bias) with the kernel's arithmetic, in
 * plain bf16 (split 1) or bf16x3 (split 3: segments hi·hi, hi·lo, lo·hi,
 * each in k-tiles, one f32 accumulator across all of them). */
void bf16ref_gemm(int M, int N, int K, const float *A, int lda, const float *W, int ldw,
                  const float *bias, float *C, int ldc, int split);
/* out[n, n_mels]: frames (Hann-windowed, 400) x DFT basis in bf16x3 ->
 * re, im (f32 acc, k-tiles in segment order hi·hi, hi·lo, lo·hi) ->
 * power = re*re + im*im (f32) -> the filter GEMM power · filtersᵀ with
 * `split` (1: bf16 x bf16; 3: bf16x3 as bf16ref_gemm). */
void bf16ref_mel_power(int n, const float *frames, int n_mels, const float *filters, float *out, int split);

/* exp as the softmax/GELU kernels compute it: range reduction by ln 2
 * (Cody-Waite, 2 constants) + degree-6 Taylor polynomial, f32 throughout,
 * no FMA. Max relative error vs libm ~2e-7 on [-87, 88]. */
float bf16ref_exp(float x);
/* Row softmax: inputs bf16, max subtracted, f32 exp and in-order sum,
 * y = e * (1/sum), output rounded to bf16. */
void bf16ref_softmax(int n, const float *x, float *y);
/* GELU as the AIE kernel computes it: the TANH approximation
 * 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), tanh(u) = (e-1)/(e+1) with
 * e = bf16ref_exp(2u) (|u| >= 9 saturates to ±1), input and output bf16.
 * The CPU engine uses erf-GELU (openai-whisper); the difference is measured
 * in tests/test_bf16.c. This kernel is NOT routed by backend.h (the encoder's
 * GELU runs on the CPU), so it changes no transcript. */
float bf16ref_gelu(float x);

#endif
