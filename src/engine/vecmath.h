/* vecmath.h: the engine's element-wise kernels and decoder GEMVs, in
 * AVX2/FMA or AVX-512 with a scalar fallback, chosen once at run time
 * (__builtin_cpu_supports). All are pure functions of their arguments;
 * safe from any thread; no allocation.
 *
 * Accuracy: exp has ≤ 2 ulp relative error (Cephes-style polynomial on a
 * range-reduced argument); erf ≤ 1.5e-7 absolute (Abramowitz & Stegun
 * 7.1.26), so GELU stays within 1e-7·|x| of PyTorch's erf GELU.
 */
#ifndef LC_VECMATH_H
#define LC_VECMATH_H

#include <stddef.h>
#include <stdint.h>

float vm_max(const float *x, int n);
/* x[i] = exp(x[i] − mx); returns Σ x[i] (accumulated per lane, summed in double). */
double vm_exp_sum(float *x, int n, float mx);
void vm_scale(float *x, int n, float s);
/* In place: nn.GELU() (erf form). */
void vm_gelu(float *x, size_t n);
/* In place: softmax of one row. */
void vm_softmax(float *x, int n);
/* x += y */
void vm_add(float *x, const float *y, size_t n);

/* y[r] = Σ_k W[r][k]·x[k] (+ b[r]) for rows [r0, r1) of an f16 matrix with
 * `cols` columns (row-major, IEEE half). x is f32. */
void vm_gemv_f16(const uint16_t *W, int cols, int r0, int r1, const float *x, const float *b, float *y);

/* The same for an int8 matrix with one f32 scale per 32 weights
 * (scale[(r·cols + k) / 32]); cols must be a multiple of 32. */
void vm_gemv_i8(const int8_t *Q, const float *scale, int cols, int r0, int r1, const float *x, const float *b,
                float *y);

/* vm_gemv_i8 without bias that also writes bnd[r] = Σ_b scale[r][b]·hb[b]
 * for the blocks b of 32 columns, hb[b] = Σ_{k in b} |x[k]| (the caller's):
 * with q = round(w/scale), |y[r] − Σ_k w[r][k]·x[k]| ≤ bnd[r]/2 (+ f32
 * rounding), which whisper.c turns into exact logits where they matter. */
void vm_gemv_i8_bound(const int8_t *Q, const float *scale, int cols, int r0, int r1, const float *x,
                      const float *hb, float *y, float *bnd);

/* Attention over f16 rows (the decoder's cross-attention K/V), whole rows,
 * every head of a position at once (K and V stream through contiguously;
 * the decoder splits positions over threads):
 *   out[h·ostride + j] = scale · Σ_i q[h·dh + i]·K[j·ld + h·dh + i]
 *   acc[h·dh + i]     += Σ_j p[h·pstride + j]·V[j·ld + h·dh + i]
 * for j < n, h < n_head, i < dh. */
void vm_xattn_scores_f16(const uint16_t *K, int ld, int n, const float *q, int n_head, int dh, float scale,
                         float *out, int ostride);
void vm_xattn_accum_f16(const uint16_t *V, int ld, int n, const float *p, int pstride, int n_head, int dh,
                        float *acc);

/* max_i (l[i] − c·b[i]), and the indices i (ascending, into idx, which
 * holds n) with l[i] + c·b[i] ≥ thr; returns their count. For the int8
 * logits' bounds (whisper.c); −inf entries of l are never selected. */
float vm_bound_max(const float *l, const float *b, float c, int n);
int vm_bound_select(const float *l, const float *b, float c, float thr, int n, int *idx);

/* The logits' 4-bit proxy (whisper.c, model.h): with x quantised to int8
 * per block of 32 (sx = max|x|/127, xq = round(x/sx)),
 *   y[r] = Σ_b f16(scale[r·cols/32 + b]) · sx_b · Σ_{k in b} (n_k − 8)·xq_k
 * for rows [r0, r1). Block b of a row is 16 bytes, byte j holding n_j in
 * its low nibble and n_{j+16} in its high one (0 ≤ n ≤ 15); scale must be
 * readable 16 halves past its end. cols: a multiple of 64, ≤ VM_Q4_MAX_COLS.
 * vm_q4x_prepare makes x's part once per vector (dnorm = ‖x − sx·xq‖₂). */
#define VM_Q4_MAX_COLS 2048
typedef struct vm_q4x {
    int8_t xq[VM_Q4_MAX_COLS];          /* xq in the kernel's lane order */
    int32_t corr[VM_Q4_MAX_COLS / 4];   /* −8 · Σ of each lane's 4 xq */
    float sx[VM_Q4_MAX_COLS / 4];       /* each lane's block scale */
    int32_t idx[VM_Q4_MAX_COLS / 4];    /* each lane's block, mod 16 */
    int cols;
    float dnorm;
} vm_q4x;
void vm_q4x_prepare(const float *x, int cols, vm_q4x *p);
void vm_gemv_q4(const uint8_t *Q, const uint16_t *scale, int cols, int r0, int r1, const vm_q4x *x, float *y);
/* 1 where vm_gemv_q4 is vectorised (AVX-512 VNNI): there it reads half the
 * int8 bytes as fast per byte; elsewhere int8 is the faster proxy. */
int vm_gemv_q4_fast(void);
/* Σ_b scale[b] · Σ_{k in b} (q[k] + lo[k]/254)·x[k]: an int8 logits row
 * with its residual (model.h LC_Q8_LO), for the tokens rescored. */
float vm_dot_q8lo(const int8_t *q, const int8_t *lo, const float *scale, const float *x, int cols);

/* Name of the kernel set in use: "avx512", "avx2" or "scalar". */
const char *vm_isa(void);

#endif
