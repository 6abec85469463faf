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
/* In place: x[i] = log10(max(x[i], floor)), floor > 0 and normal (the log-mel
 * clamp). Cephes-style polynomial on the mantissa: within 2.4e-7·(|y| + 1)
 * of the exact log10 (about 2 ulp; test_vecmath). */
void vm_log10(float *x, size_t n, float floor);
/* In place: nn.GELU() (erf form). */
void vm_gelu(float *x, size_t n);
/* In place: softmax of one row. */
void vm_softmax(float *x, int n);
/* One query row's attention: s[k] = scale·q·K_k for k < nk, s = softmax(s),
 * out = Σ_k s[k]·V_k, with K_k = K + k·ld (dh floats, V the same); s holds nk. */
void vm_attn_row(const float *q, const float *K, const float *V, size_t ld, int nk, int dh, float scale, float *s,
                 float *out);
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

/* Cross-attention over the window's K/V in int8, in blocks of VM_XBLK
 * positions (whisper.c writes them so, once per window), each block every
 * head's K and then (in V) every head's V, with a scale per position and
 * head (max|·|/127 of its dh values) in ks, vs. Within a block and head,
 * the two bytes of a pair are adjacent (a 16-bit multiply-add takes both):
 *   K(b, h)[i][j] = ks[(b·n_head + h)·VM_XBLK + j]
 *                   · K[((b·n_head + h)·dh + 2⌊i/2⌋)·VM_XBLK + 2j + i mod 2]
 *   V(b, h)[j][i] = vs[(b·n_head + h)·VM_XBLK + j]
 *                   · V[((b·n_head + h)·VM_XBLK + 2⌊j/2⌋)·dh + 2i + j mod 2]
 * for nblk blocks from K, V, ks, vs (the decoder splits blocks over
 * threads). The float operand is rounded to int16 against its largest
 * magnitude, Q(x)[i] = rint(x[i]·32767/m) with m = max|x| (relative error
 * ≤ 2^-16 of m, far below K's and V's own int8 rounding), so the integer
 * sums are exact and the same in every version:
 *   out[h·ostride + b·VM_XBLK + j] = scale · m_q/32767 · ks[..j] · Σ_i Q(q_h)[i]·K8(b, h)[i][j]
 *     (q_h = q[h·dh ..], its dh values);
 *   acc[h·dh + i] += m_w/32767 · Σ_j Q(w)[j]·V8(b, h)[j][i]
 *     (w[j] = p[h·pstride + b·VM_XBLK + j]·vs[..j], the block's 16 weights).
 * dh even and at most VM_XATTN_MAX_DH (whisper.c keeps f32 otherwise). */
#define VM_XBLK 16
#define VM_XATTN_MAX_DH 256   /* |Σ| ≤ 256 · 127 · 32767 < 2^31 */
#define VM_XATTN_MAX_HEADS 32 /* the vector kernels' q per call; more: scalar */
void vm_xattn_scores_blk(const int8_t *K, const float *ks, int nblk, const float *q, int n_head, int dh, float scale,
                         float *out, int ostride);
void vm_xattn_accum_blk(const int8_t *V, const float *vs, int nblk, const float *p, int pstride, int n_head, int dh,
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
    /* the same for 128 columns at a time (VNNI, cols % 128 == 0): a 64-byte
     * load's low nibbles (two pairs' first halves) against xd[128c, +64),
     * its high ones against xd[128c + 64, +64); lane L of both is block 4c + L/4 */
    int8_t xd[VM_Q4_MAX_COLS];
    int32_t cd[VM_Q4_MAX_COLS / 8], id[VM_Q4_MAX_COLS / 8];
    float sd[VM_Q4_MAX_COLS / 8];
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

/* Decoder block GEMVs in integer arithmetic (whisper.c, where fast): x
 * in 16 bits per block of 32 as two int8 (sx = max|x|/127, xq = round(x/sx),
 * xl = round(256·(x/sx − xq)), so |x − sx·(xq + xl/256)| ≤ sx/256), then
 *   y[r] = Σ_b scale[r·cols/32 + b] · sx_b/256 · Σ_{k in b} q[r][k]·(256·xq_k + xl_k)  (+ b[r])
 * with the inner sums exact in int32 (VNNI: two VPDPBUSD per 64 weights,
 * the weights offset to unsigned and the offset taken back through corr).
 * So |y − vm_gemv_i8(x)| ≤ Σ_b |scale_b|·(sx_b/256)·Σ_{k in b}|q_k| (+ f32
 * rounding). One byte of x (whisper.cpp's q8_0 dot products) flipped a
 * near-tie of a tiny.en model's tokens against f32; with the second byte
 * its tokens stay those of f32 x. cols: a multiple of 64, ≤
 * VM_I8X_MAX_COLS (large's MLP, 4·1280). vm_i8x_prepare runs once per
 * vector and serves any number of matrices. */
#define VM_I8X_MAX_COLS 5120
typedef struct vm_i8x {
    int8_t xq[VM_I8X_MAX_COLS];
    int8_t xl[VM_I8X_MAX_COLS];         /* round(256·(x/sx − xq)): x's next 8 bits */
    int32_t corr[VM_I8X_MAX_COLS / 4];  /* −128 · Σ of each 4-byte lane's 256·xq + xl */
    float sx[VM_I8X_MAX_COLS / 4];      /* each lane's block scale */
    int cols;
} vm_i8x;
void vm_i8x_prepare(const float *x, int cols, vm_i8x *p);
void vm_gemv_i8x(const int8_t *Q, const float *scale, int cols, int r0, int r1, const vm_i8x *x, const float *b,
                 float *y);
/* 1 where vm_gemv_i8x is vectorised (AVX-512 VNNI): there it needs a
 * third of vm_gemv_i8's instructions per weight, which were the limit. */
int vm_gemv_i8x_fast(void);

/* Name of the kernel set in use: "avx512", "avx2" or "scalar". */
const char *vm_isa(void);
/* 0 if $LIVECAP_ISA is unset, empty, or a kernel set this CPU runs
 * (scalar, avx2, avx512); else −1 and one line for the user in msg. */
int vm_isa_check(char *msg, size_t n);

#endif
