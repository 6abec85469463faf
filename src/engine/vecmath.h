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

/* Name of the kernel set in use: "avx512", "avx2" or "scalar". */
const char *vm_isa(void);

#endif
