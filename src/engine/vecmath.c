/* vecmath.c: element-wise kernels and f16 GEMV (contract in vecmath.h). */
#include "engine/vecmath.h"

#include <immintrin.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/quant.h"

/* ---- scalar reference versions ---------------------------------------------- */

static float max_scalar(const float *x, int n)
{
    float m = -INFINITY;
    for (int i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}

static double exp_sum_scalar(float *x, int n, float mx)
{
    double s = 0;
    for (int i = 0; i < n; i++) { x[i] = expf(x[i] - mx); s += x[i]; }
    return s;
}

static void log10_scalar(float *x, size_t n, float floor)
{
    for (size_t i = 0; i < n; i++) x[i] = log10f(x[i] > floor ? x[i] : floor);
}

static void gelu_scalar(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * (float)M_SQRT1_2));
}

static void gemv_f16_scalar(const uint16_t *W, int cols, int r0, int r1, const float *x, const float *b, float *y)
{
    for (int r = r0; r < r1; r++) {
        const uint16_t *w = W + (size_t)r * cols;
        float s = 0;
        for (int k = 0; k < cols; k++) s += quant_f16_to_f32(w[k]) * x[k];
        y[r] = s + (b ? b[r] : 0.0f);
    }
}

static void gemv_i8_scalar(const int8_t *Q, const float *sc, int cols, int r0, int r1, const float *x,
                           const float *b, float *y, const float *hb, float *bnd)
{
    for (int r = r0; r < r1; r++) {
        const int8_t *q = Q + (size_t)r * cols;
        const float *s = sc + (size_t)r * cols / 32;
        float acc = 0, ba = 0;
        for (int k0 = 0; k0 < cols; k0 += 32) {
            float d = 0;
            for (int k = k0; k < k0 + 32; k++) d += (float)q[k] * x[k];
            acc += d * s[k0 / 32];
            if (bnd) ba += s[k0 / 32] * hb[k0 / 32];
        }
        y[r] = acc + (b ? b[r] : 0.0f);
        if (bnd) bnd[r] = ba;
    }
}

/* x for vm_gemv_i8x (vecmath.h): natural order; lane L of a 64-byte chunk
 * holds bytes 4L..4L+3, so lanes 0-7 are the chunk's first block of 32. */
static void i8x_prepare_scalar(const float *x, int cols, vm_i8x *p)
{
    const int nb = cols / 32;
    for (int b = 0; b < nb; b++) {
        const float *xb = x + 32 * b;
        float mx = 0;
        for (int k = 0; k < 32; k++) mx = fabsf(xb[k]) > mx ? fabsf(xb[k]) : mx;
        const float sc = mx / 127.0f, inv = sc > 0 ? 1.0f / sc : 0.0f;
        for (int k = 0; k < 32; k++) {
            const float t = xb[k] * inv;
            const long q = lrintf(t), r = lrintf((t - (float)q) * 256.0f);
            p->xq[32 * b + k] = (int8_t)(q > 127 ? 127 : q < -127 ? -127 : q);
            p->xl[32 * b + k] = (int8_t)(r > 127 ? 127 : r < -127 ? -127 : r);
        }
        for (int L = 0; L < 8; L++) {
            const int8_t *v = p->xq + 32 * b + 4 * L, *w = p->xl + 32 * b + 4 * L;
            p->corr[8 * b + L] = -128 * (256 * (v[0] + v[1] + v[2] + v[3]) + w[0] + w[1] + w[2] + w[3]);
            p->sx[8 * b + L] = sc;
        }
    }
    p->cols = cols;
}

static void gemv_i8x_scalar(const int8_t *Q, const float *sc, int cols, int r0, int r1, const vm_i8x *x,
                            const float *b, float *y)
{
    for (int r = r0; r < r1; r++) {
        const int8_t *q = Q + (size_t)r * cols;
        const float *s = sc + (size_t)r * cols / 32;
        float acc = 0;
        for (int k0 = 0; k0 < cols; k0 += 32) {
            int32_t d = 0;
            for (int k = k0; k < k0 + 32; k++) d += (int32_t)q[k] * (256 * x->xq[k] + x->xl[k]);
            acc += (float)d * (s[k0 / 32] * x->sx[k0 / 4] * (1.0f / 256));
        }
        y[r] = acc + (b ? b[r] : 0.0f);
    }
}

/* The 4-bit proxy (vecmath.h): pair p of blocks is 32 bytes of a row;
 * lane-order position t of the pair is byte t low nibble for t < 32, byte
 * t − 32 high nibble after, and x->xq holds x in that order. */
void vm_q4x_prepare(const float *x, int cols, vm_q4x *p)
{
    const int nb = cols / 32;
    int8_t xq[VM_Q4_MAX_COLS];
    float sx[VM_Q4_MAX_COLS / 32];
    double d2 = 0;
    for (int b = 0; b < nb; b++) {
        float mx = 0;
        for (int k = 0; k < 32; k++) mx = fabsf(x[32 * b + k]) > mx ? fabsf(x[32 * b + k]) : mx;
        const float sc = mx / 127.0f, inv = sc > 0 ? 1.0f / sc : 0.0f;
        sx[b] = sc;
        for (int k = 0; k < 32; k++) {
            const long q = lrintf(x[32 * b + k] * inv);
            xq[32 * b + k] = (int8_t)(q > 127 ? 127 : q < -127 ? -127 : q);
            const double d = (double)x[32 * b + k] - (double)sc * xq[32 * b + k];
            d2 += d * d;
        }
    }
    for (int pr = 0; pr < nb / 2; pr++) {
        for (int t = 0; t < 64; t++) {
            const int blk = 2 * pr + ((t / 16) & 1), val = (t < 32 ? 0 : 16) + t % 16;
            p->xq[64 * pr + t] = xq[32 * blk + val];
        }
        for (int L = 0; L < 16; L++) {
            const int blk = 2 * pr + ((L / 4) & 1);
            int sum = 0;
            for (int t = 4 * L; t < 4 * L + 4; t++) sum += p->xq[64 * pr + t];
            p->corr[16 * pr + L] = -8 * sum;
            p->sx[16 * pr + L] = sx[blk];
            p->idx[16 * pr + L] = blk % 16;
        }
    }
    /* 128 columns = pairs 2c and 2c+1: low nibbles of byte t < 32 are pair
     * 2c's position t, of byte 32 + t pair 2c+1's position t; high nibbles
     * the positions 32 + t. Lane L (bytes 4L..4L+3) is block 4c + L/4. */
    for (int c = 0; c < nb / 4; c++) {
        for (int t = 0; t < 64; t++) {
            const int pr = 2 * c + t / 32;
            p->xd[128 * c + t] = p->xq[64 * pr + t % 32];
            p->xd[128 * c + 64 + t] = p->xq[64 * pr + 32 + t % 32];
        }
        for (int L = 0; L < 16; L++) {
            int sum = 0;
            for (int t = 4 * L; t < 4 * L + 4; t++) sum += p->xd[128 * c + t] + p->xd[128 * c + 64 + t];
            p->cd[16 * c + L] = -8 * sum;
            p->sd[16 * c + L] = sx[4 * c + L / 4];
            p->id[16 * c + L] = (4 * c + L / 4) % 16;
        }
    }
    p->cols = cols;
    p->dnorm = (float)sqrt(d2);
}

static void gemv_q4_scalar(const uint8_t *Q, const uint16_t *S, int cols, int r0, int r1, const vm_q4x *x, float *y)
{
    const int nb = cols / 32;
    for (int r = r0; r < r1; r++) {
        const uint8_t *q = Q + (size_t)r * cols / 2;
        const uint16_t *s = S + (size_t)r * nb;
        float acc = 0;
        for (int pr = 0; pr < nb / 2; pr++)
            for (int L = 0; L < 16; L++) {
                int d = x->corr[16 * pr + L];
                for (int t = 4 * L; t < 4 * L + 4; t++) {
                    const int n = t < 32 ? q[32 * pr + t] & 15 : q[32 * pr + t - 32] >> 4;
                    d += n * x->xq[64 * pr + t];
                }
                acc += (float)d * (quant_f16_to_f32(s[2 * pr + ((L / 4) & 1)]) * x->sx[16 * pr + L]);
            }
        y[r] = acc;
    }
}

static float dot_q8lo_scalar(const int8_t *q, const int8_t *lo, const float *sc, const float *x, int cols)
{
    double acc = 0;
    for (int b = 0; b < cols / 32; b++) {
        float d = 0;
        for (int k = b * 32; k < (b + 1) * 32; k++) d += ((float)q[k] + (float)lo[k] * (1.0f / 254.0f)) * x[k];
        acc += (double)d * sc[b];
    }
    return (float)acc;
}

/* ---- AVX2 + FMA --------------------------------------------------------------- */

#define AVX2 __attribute__((target("avx2,fma,f16c")))

/* GEMV rows are prefetched this many rows ahead: with only the hardware
 * prefetcher a core streamed f16 weights at 7.6 GB/s; with it, 25 GB/s
 * (51864 x 384 logits matrix, measured here). */
#define PREFETCH_AHEAD 8

/* exp(x) for 8 lanes: x = n·ln2 + r, |r| ≤ ln2/2, e^r by a degree-6
 * polynomial (Cephes expf coefficients), times 2^n built in the exponent. */
AVX2 static inline __m256 exp8(__m256 x)
{
    const __m256 hi = _mm256_set1_ps(88.3762626647949f), lo = _mm256_set1_ps(-87.3365447504f);
    x = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

AVX2 static float hmax8(__m256 v)
{
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
    return _mm_cvtss_f32(m);
}

AVX2 static double hsum8d(__m256 v)
{
    float t[8];
    _mm256_storeu_ps(t, v);
    double s = 0;
    for (int i = 0; i < 8; i++) s += t[i];
    return s;
}

AVX2 static float max_avx2(const float *x, int n)
{
    int i = 0;
    float m = -INFINITY;
    if (n >= 8) {
        __m256 v = _mm256_loadu_ps(x);
        for (i = 8; i + 8 <= n; i += 8) v = _mm256_max_ps(v, _mm256_loadu_ps(x + i));
        m = hmax8(v);
    }
    for (; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}

AVX2 static double exp_sum_avx2(float *x, int n, float mx)
{
    __m256 s = _mm256_setzero_ps(), vm = _mm256_set1_ps(mx);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm));
        _mm256_storeu_ps(x + i, e);
        s = _mm256_add_ps(s, e);
    }
    double sum = hsum8d(s);
    for (; i < n; i++) { x[i] = expf(x[i] - mx); sum += x[i]; }
    return sum;
}

/* erf(x) ≈ sign(x)·(1 − poly(t)·e^{−x²}), t = 1/(1 + p|x|): A&S 7.1.26. */
AVX2 static inline __m256 erf8(__m256 x)
{
    const __m256 sign = _mm256_and_ps(x, _mm256_set1_ps(-0.0f));
    const __m256 ax = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
    __m256 t = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_fmadd_ps(_mm256_set1_ps(0.3275911f), ax, _mm256_set1_ps(1.0f)));
    __m256 p = _mm256_set1_ps(1.061405429f);
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-1.453152027f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.421413741f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-0.284496736f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.254829592f));
    p = _mm256_mul_ps(p, t);
    __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(ax, ax)));
    __m256 y = _mm256_fnmadd_ps(p, e, _mm256_set1_ps(1.0f));
    return _mm256_or_ps(y, sign);
}

AVX2 static void gelu_avx2(float *x, size_t n)
{
    size_t i = 0;
    const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f), rs2 = _mm256_set1_ps((float)M_SQRT1_2);
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256 g = _mm256_mul_ps(_mm256_mul_ps(half, v), _mm256_add_ps(one, erf8(_mm256_mul_ps(v, rs2))));
        _mm256_storeu_ps(x + i, g);
    }
    _mm256_zeroupper(); /* GCC omits it before a tail call: SSE code after dirty AVX-512 state runs ~30x slower */
    gelu_scalar(x + i, n - i);
}

AVX2 static void gemv_f16_avx2(const uint16_t *W, int cols, int r0, int r1, const float *x, const float *b, float *y)
{
    int r = r0;
    for (; r + 4 <= r1; r += 4) {
        const uint16_t *w0 = W + (size_t)r * cols, *w1 = w0 + cols, *w2 = w1 + cols, *w3 = w2 + cols;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        int k = 0;
        for (; k + 8 <= cols; k += 8) {
            _mm_prefetch((const char *)(w0 + k + PREFETCH_AHEAD * cols), _MM_HINT_T0);
            _mm_prefetch((const char *)(w1 + k + PREFETCH_AHEAD * cols), _MM_HINT_T0);
            _mm_prefetch((const char *)(w2 + k + PREFETCH_AHEAD * cols), _MM_HINT_T0);
            _mm_prefetch((const char *)(w3 + k + PREFETCH_AHEAD * cols), _MM_HINT_T0);
            __m256 xv = _mm256_loadu_ps(x + k);
            a0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w0 + k))), xv, a0);
            a1 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w1 + k))), xv, a1);
            a2 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w2 + k))), xv, a2);
            a3 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w3 + k))), xv, a3);
        }
        float s[4] = { (float)hsum8d(a0), (float)hsum8d(a1), (float)hsum8d(a2), (float)hsum8d(a3) };
        for (; k < cols; k++) {
            s[0] += quant_f16_to_f32(w0[k]) * x[k]; s[1] += quant_f16_to_f32(w1[k]) * x[k];
            s[2] += quant_f16_to_f32(w2[k]) * x[k]; s[3] += quant_f16_to_f32(w3[k]) * x[k];
        }
        for (int j = 0; j < 4; j++) y[r + j] = s[j] + (b ? b[r + j] : 0.0f);
    }
    _mm256_zeroupper(); /* GCC omits it before a tail call: SSE code after dirty AVX-512 state runs ~30x slower */
    gemv_f16_scalar(W, cols, r, r1, x, b, y);
}

/* ---- AVX-512 GEMV (the decoder's bandwidth-bound kernel) ---------------------- */

#define AVX512 __attribute__((target("avx512f,fma,f16c")))

/* exp16/erf16: exp8/erf8 on 16 lanes, the same operations lane by lane
 * (so the same results); the element-wise passes of the encoder's softmax
 * and GELU ran at half width before. */
AVX512 static inline __m512 exp16(__m512 x)
{
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.3365447504f)), _mm512_set1_ps(88.3762626647949f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    return _mm512_mul_ps(p, _mm512_castsi512_ps(e));
}

AVX512 static float max_avx512(const float *x, int n)
{
    int i = 0;
    float m = -INFINITY;
    if (n >= 16) {
        __m512 v = _mm512_loadu_ps(x);
        for (i = 16; i + 16 <= n; i += 16) v = _mm512_max_ps(v, _mm512_loadu_ps(x + i));
        m = _mm512_reduce_max_ps(v);
    }
    for (; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}

AVX512 static double exp_sum_avx512(float *x, int n, float mx)
{
    __m512 s = _mm512_setzero_ps(), vm = _mm512_set1_ps(mx);
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 e = exp16(_mm512_sub_ps(_mm512_loadu_ps(x + i), vm));
        _mm512_storeu_ps(x + i, e);
        s = _mm512_add_ps(s, e);
    }
    float t[16];
    _mm512_storeu_ps(t, s);
    double sum = 0;
    for (int k = 0; k < 16; k++) sum += t[k];
    _mm256_zeroupper(); /* expf below: see gelu_avx2 */
    for (; i < n; i++) { x[i] = expf(x[i] - mx); sum += x[i]; }
    return sum;
}

AVX512 static void gelu_avx512(float *x, size_t n)
{
    size_t i = 0;
    const __m512 half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f), rs2 = _mm512_set1_ps((float)M_SQRT1_2);
    const __m512 a1 = _mm512_set1_ps(0.3275911f);
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i), z = _mm512_mul_ps(v, rs2);
        /* erf(z), as erf8 */
        const __m512 az = _mm512_abs_ps(z);
        __m512 t = _mm512_div_ps(one, _mm512_fmadd_ps(a1, az, one));
        __m512 p = _mm512_set1_ps(1.061405429f);
        p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-1.453152027f));
        p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.421413741f));
        p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-0.284496736f));
        p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.254829592f));
        p = _mm512_mul_ps(p, t);
        __m512 e = exp16(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_mul_ps(az, az)));
        __m512 y = _mm512_fnmadd_ps(p, e, one);
        __m512 erf = _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(y),
            _mm512_and_si512(_mm512_castps_si512(z), _mm512_set1_epi32((int)0x80000000u))));
        _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_mul_ps(half, v), _mm512_add_ps(one, erf)));
    }
    _mm256_zeroupper(); /* see gelu_avx2 */
    gelu_scalar(x + i, n - i);
}

AVX512 static void gemv_f16_avx512(const uint16_t *W, int cols, int r0, int r1, const float *x, const float *b, float *y)
{
    int r = r0;
    for (; r + 4 <= r1; r += 4) {
        const uint16_t *w0 = W + (size_t)r * cols, *w1 = w0 + cols, *w2 = w1 + cols, *w3 = w2 + cols;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        int k = 0;
        for (; k + 16 <= cols; k += 16) {
            /* the same 4 rows' lines PREFETCH_AHEAD rows on: the hardware
             * prefetcher alone leaves one core well under its bandwidth */
            _mm_prefetch((const char *)(w0 + k + PREFETCH_AHEAD * cols), _MM_HINT_T0);
            _mm_prefetch((const char *)(w1 + k + PREFETCH_AHEAD * cols), _MM_HINT_T0);
            _mm_prefetch((const char *)(w2 + k + PREFETCH_AHEAD * cols), _MM_HINT_T0);
            _mm_prefetch((const char *)(w3 + k + PREFETCH_AHEAD * cols), _MM_HINT_T0);
            __m512 xv = _mm512_loadu_ps(x + k);
            a0 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(w0 + k))), xv, a0);
            a1 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(w1 + k))), xv, a1);
            a2 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(w2 + k))), xv, a2);
            a3 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(w3 + k))), xv, a3);
        }
        float s[4] = { _mm512_reduce_add_ps(a0), _mm512_reduce_add_ps(a1), _mm512_reduce_add_ps(a2),
                       _mm512_reduce_add_ps(a3) };
        for (; k < cols; k++) {
            s[0] += quant_f16_to_f32(w0[k]) * x[k]; s[1] += quant_f16_to_f32(w1[k]) * x[k];
            s[2] += quant_f16_to_f32(w2[k]) * x[k]; s[3] += quant_f16_to_f32(w3[k]) * x[k];
        }
        for (int j = 0; j < 4; j++) y[r + j] = s[j] + (b ? b[r + j] : 0.0f);
    }
    _mm256_zeroupper(); /* GCC omits it before a tail call: SSE code after dirty AVX-512 state runs ~30x slower */
    gemv_f16_scalar(W, cols, r, r1, x, b, y);
}

#define AVX512VNNI __attribute__((target("avx512f,avx512bw,avx512vnni,fma,f16c")))

/* Two rows at a time; per pair of blocks: the 64 nibbles as unsigned bytes
 * (low nibbles, then high ones), one VPDPBUSD against x's int8 (its
 * accumulator starts at −8·Σxq, the nibbles' offset), then each lane's
 * scale s4·sx. ~10 instructions per 64 weights: the loop keeps up with
 * memory, which the float version of it (4x the instructions) did not. */
AVX512VNNI static void gemv_q4_vnni(const uint8_t *Q, const uint16_t *S, int cols, int r0, int r1,
                                    const vm_q4x *x, float *y)
{
    const int nb = cols / 32, np = nb / 2, nv = (nb + 15) / 16;
    const size_t rb = (size_t)cols / 2; /* bytes per row */
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    int r = r0;
    if (cols % 128 == 0) { /* 128 weights per load: both nibbles into one accumulator */
        const __m512i m4z = _mm512_set1_epi8(0x0f);
        for (; r + 2 <= r1; r += 2) {
            const uint8_t *q0 = Q + (size_t)r * rb, *q1 = q0 + rb;
            __m512 f0[VM_Q4_MAX_COLS / 512], f1[VM_Q4_MAX_COLS / 512];
            for (int c = 0; c < nv; c++) { /* S is padded by 16 halves (model.c) */
                f0[c] = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(S + (size_t)r * nb + 16 * c)));
                f1[c] = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(S + (size_t)(r + 1) * nb + 16 * c)));
            }
            __m512 a0 = _mm512_setzero_ps(), a1 = a0;
            for (int c = 0; c < cols / 128; c++) {
                _mm_prefetch((const char *)(q0 + 64 * c + PREFETCH_AHEAD * rb), _MM_HINT_T0);
                _mm_prefetch((const char *)(q1 + 64 * c + PREFETCH_AHEAD * rb), _MM_HINT_T0);
                const __m512i p0 = _mm512_loadu_si512(q0 + 64 * c), p1 = _mm512_loadu_si512(q1 + 64 * c);
                const __m512i XL = _mm512_loadu_si512(x->xd + 128 * c), XH = _mm512_loadu_si512(x->xd + 128 * c + 64);
                const __m512i C = _mm512_loadu_si512(x->cd + 16 * c), id = _mm512_loadu_si512(x->id + 16 * c);
                const __m512 sx = _mm512_loadu_ps(x->sd + 16 * c);
                const __m512i d0 = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(C, _mm512_and_si512(p0, m4z), XL),
                                                       _mm512_and_si512(_mm512_srli_epi16(p0, 4), m4z), XH);
                const __m512i d1 = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(C, _mm512_and_si512(p1, m4z), XL),
                                                       _mm512_and_si512(_mm512_srli_epi16(p1, 4), m4z), XH);
                a0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d0), _mm512_mul_ps(_mm512_permutexvar_ps(id, f0[c / 4]), sx), a0);
                a1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d1), _mm512_mul_ps(_mm512_permutexvar_ps(id, f1[c / 4]), sx), a1);
            }
            y[r] = _mm512_reduce_add_ps(a0);
            y[r + 1] = _mm512_reduce_add_ps(a1);
        }
    }
    for (; r + 2 <= r1; r += 2) {
        const uint8_t *q0 = Q + (size_t)r * rb, *q1 = q0 + rb;
        __m512 f0[VM_Q4_MAX_COLS / 512], f1[VM_Q4_MAX_COLS / 512];
        for (int c = 0; c < nv; c++) { /* S is padded by 16 halves (model.c): whole loads are safe */
            f0[c] = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(S + (size_t)r * nb + 16 * c)));
            f1[c] = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(S + (size_t)(r + 1) * nb + 16 * c)));
        }
        __m512 a0 = _mm512_setzero_ps(), a1 = a0;
        for (int p = 0; p < np; p++) {
            _mm_prefetch((const char *)(q0 + 32 * p + PREFETCH_AHEAD * rb), _MM_HINT_T0);
            _mm_prefetch((const char *)(q1 + 32 * p + PREFETCH_AHEAD * rb), _MM_HINT_T0);
            const __m256i p0 = _mm256_loadu_si256((const __m256i *)(q0 + 32 * p));
            const __m256i p1 = _mm256_loadu_si256((const __m256i *)(q1 + 32 * p));
            const __m512i u0 = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_and_si256(p0, m4)),
                                                  _mm256_and_si256(_mm256_srli_epi16(p0, 4), m4), 1);
            const __m512i u1 = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_and_si256(p1, m4)),
                                                  _mm256_and_si256(_mm256_srli_epi16(p1, 4), m4), 1);
            const __m512i X = _mm512_loadu_si512(x->xq + 64 * p), C = _mm512_loadu_si512(x->corr + 16 * p);
            const __m512i id = _mm512_loadu_si512(x->idx + 16 * p);
            const __m512 sx = _mm512_loadu_ps(x->sx + 16 * p);
            const __m512 s0 = _mm512_mul_ps(_mm512_permutexvar_ps(id, f0[p / 8]), sx);
            const __m512 s1 = _mm512_mul_ps(_mm512_permutexvar_ps(id, f1[p / 8]), sx);
            a0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_dpbusd_epi32(C, u0, X)), s0, a0);
            a1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_dpbusd_epi32(C, u1, X)), s1, a1);
        }
        y[r] = _mm512_reduce_add_ps(a0);
        y[r + 1] = _mm512_reduce_add_ps(a1);
    }
    _mm256_zeroupper();
    gemv_q4_scalar(Q, S, cols, r, r1, x, y);
}

/* vm_i8x_prepare in vectors, the same operations as the scalar version
 * (max|x|/127, its reciprocal, round to nearest even), so the same bytes:
 * it runs once per GEMV, serially, on the decoder's critical path. */
AVX512VNNI static void i8x_prepare_vnni(const float *x, int cols, vm_i8x *p)
{
    const __m512i ones = _mm512_set1_epi8(1);
    for (int c = 0; c < cols / 64; c++) {
        for (int h = 0; h < 2; h++) {
            const int b = 2 * c + h;
            const __m512 x0 = _mm512_loadu_ps(x + 32 * b), x1 = _mm512_loadu_ps(x + 32 * b + 16);
            const float mx = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(x0), _mm512_abs_ps(x1)));
            const float sc = mx / 127.0f, inv = sc > 0 ? 1.0f / sc : 0.0f;
            const __m512 vi = _mm512_set1_ps(inv), k256 = _mm512_set1_ps(256.0f);
            for (int o = 0; o < 32; o += 16) {
                const __m512 t = _mm512_mul_ps(o ? x1 : x0, vi);
                const __m512i q = _mm512_cvtps_epi32(t);
                const __m512i r = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_sub_ps(t, _mm512_cvtepi32_ps(q)), k256));
                _mm_storeu_si128((__m128i *)(p->xq + 32 * b + o), _mm512_cvtsepi32_epi8(_mm512_max_epi32(_mm512_min_epi32(q, _mm512_set1_epi32(127)), _mm512_set1_epi32(-127))));
                _mm_storeu_si128((__m128i *)(p->xl + 32 * b + o), _mm512_cvtsepi32_epi8(_mm512_max_epi32(_mm512_min_epi32(r, _mm512_set1_epi32(127)), _mm512_set1_epi32(-127))));
            }
            _mm256_storeu_ps(p->sx + 8 * b, _mm256_set1_ps(sc));
        }
        const __m512i s4 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, _mm512_loadu_si512(p->xq + 64 * c));
        const __m512i l4 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, _mm512_loadu_si512(p->xl + 64 * c));
        const __m512i t4 = _mm512_add_epi32(_mm512_slli_epi32(s4, 8), l4);
        _mm512_storeu_si512(p->corr + 16 * c, _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_slli_epi32(t4, 7)));
    }
    p->cols = cols;
    _mm256_zeroupper();
}

/* Two rows at a time; per 64 weights and row: the bytes offset to
 * unsigned (w ^ 0x80 = w + 128), a VPDPBUSD against xq and one against xl
 * from corr (the offset's share), and each lane's scale s_w·s_x. */
AVX512VNNI static void gemv_i8x_vnni(const int8_t *Q, const float *S, int cols, int r0, int r1, const vm_i8x *x,
                                     const float *b, float *y)
{
    const int nc = cols / 64;
    const __m512i off = _mm512_set1_epi8((char)0x80);
    int r = r0;
    for (; r + 2 <= r1; r += 2) {
        const int8_t *q0 = Q + (size_t)r * cols, *q1 = q0 + cols;
        const float *s0 = S + (size_t)r * cols / 32, *s1 = s0 + cols / 32;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0;
        for (int c = 0; c < nc; c++) {
            _mm_prefetch((const char *)(q0 + 64 * c + PREFETCH_AHEAD * cols), _MM_HINT_T0);
            _mm_prefetch((const char *)(q1 + 64 * c + PREFETCH_AHEAD * cols), _MM_HINT_T0);
            const __m512i X = _mm512_loadu_si512(x->xq + 64 * c), XL = _mm512_loadu_si512(x->xl + 64 * c);
            const __m512i C = _mm512_loadu_si512(x->corr + 16 * c), Z = _mm512_setzero_si512();
            const __m512 sx = _mm512_loadu_ps(x->sx + 16 * c);
            const __m512i u0 = _mm512_xor_si512(_mm512_loadu_si512(q0 + 64 * c), off);
            const __m512i u1 = _mm512_xor_si512(_mm512_loadu_si512(q1 + 64 * c), off);
            const __m512 w0 = _mm512_mask_blend_ps(0xFF00, _mm512_set1_ps(s0[2 * c]), _mm512_set1_ps(s0[2 * c + 1]));
            const __m512 w1 = _mm512_mask_blend_ps(0xFF00, _mm512_set1_ps(s1[2 * c]), _mm512_set1_ps(s1[2 * c + 1]));
            /* 256·(u·xq) + u·xl − 128·(256·Σxq + Σxl): |·| < 2^25, exact in int32 */
            const __m512i d0 = _mm512_add_epi32(_mm512_slli_epi32(_mm512_dpbusd_epi32(Z, u0, X), 8), _mm512_dpbusd_epi32(C, u0, XL));
            const __m512i d1 = _mm512_add_epi32(_mm512_slli_epi32(_mm512_dpbusd_epi32(Z, u1, X), 8), _mm512_dpbusd_epi32(C, u1, XL));
            a0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d0), _mm512_mul_ps(w0, sx), a0);
            a1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d1), _mm512_mul_ps(w1, sx), a1);
        }
        y[r] = _mm512_reduce_add_ps(a0) * (1.0f / 256) + (b ? b[r] : 0.0f);
        y[r + 1] = _mm512_reduce_add_ps(a1) * (1.0f / 256) + (b ? b[r + 1] : 0.0f);
    }
    _mm256_zeroupper();
    gemv_i8x_scalar(Q, S, cols, r, r1, x, b, y);
}

AVX512 static float dot_q8lo_avx512(const int8_t *q, const int8_t *lo, const float *sc, const float *x, int cols)
{
#define I8(p) _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(p))))
    const __m512 r = _mm512_set1_ps(1.0f / 254.0f);
    __m512 acc = _mm512_setzero_ps();
    for (int k = 0; k < cols; k += 32) {
        const __m512 w0 = _mm512_fmadd_ps(I8(lo + k), r, I8(q + k));
        const __m512 w1 = _mm512_fmadd_ps(I8(lo + k + 16), r, I8(q + k + 16));
        const __m512 d = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x + k + 16), _mm512_mul_ps(w0, _mm512_loadu_ps(x + k)));
        acc = _mm512_fmadd_ps(d, _mm512_set1_ps(sc[k / 32]), acc);
    }
#undef I8
    const float v = _mm512_reduce_add_ps(acc);
    _mm256_zeroupper();
    return v;
}

AVX512 static void gemv_i8_avx512(const int8_t *Q, const float *sc, int cols, int r0, int r1, const float *x,
                                  const float *b, float *y, const float *hb, float *bnd)
{
    int r = r0;
#define I8(p) _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(p))))
    for (; r + 2 <= r1; r += 2) {
        const int8_t *q0 = Q + (size_t)r * cols, *q1 = q0 + cols;
        const float *s0 = sc + (size_t)r * cols / 32, *s1 = s0 + cols / 32;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0;
        if (bnd) { /* the scales are in cache now: Σ_b s_b·hb_b costs nothing */
            float b0 = 0, b1 = 0;
            for (int k = 0; k < cols / 32; k++) { b0 += s0[k] * hb[k]; b1 += s1[k] * hb[k]; }
            bnd[r] = b0;
            bnd[r + 1] = b1;
        }
        for (int k = 0; k < cols; k += 32) {
            _mm_prefetch((const char *)(q0 + k + PREFETCH_AHEAD * cols), _MM_HINT_T0);
            _mm_prefetch((const char *)(q1 + k + PREFETCH_AHEAD * cols), _MM_HINT_T0);
            __m512 x0 = _mm512_loadu_ps(x + k), x1 = _mm512_loadu_ps(x + k + 16);
            __m512 d0 = _mm512_fmadd_ps(I8(q0 + k + 16), x1, _mm512_mul_ps(I8(q0 + k), x0));
            __m512 d1 = _mm512_fmadd_ps(I8(q1 + k + 16), x1, _mm512_mul_ps(I8(q1 + k), x0));
            a0 = _mm512_fmadd_ps(d0, _mm512_set1_ps(s0[k / 32]), a0);
            a1 = _mm512_fmadd_ps(d1, _mm512_set1_ps(s1[k / 32]), a1);
        }
        y[r] = _mm512_reduce_add_ps(a0) + (b ? b[r] : 0.0f);
        y[r + 1] = _mm512_reduce_add_ps(a1) + (b ? b[r + 1] : 0.0f);
    }
#undef I8
    _mm256_zeroupper(); /* GCC omits it before a tail call: SSE code after dirty AVX-512 state runs ~30x slower */
    gemv_i8_scalar(Q, sc, cols, r, r1, x, b, y, hb, bnd);
}

AVX2 static void gemv_i8_avx2(const int8_t *Q, const float *sc, int cols, int r0, int r1, const float *x,
                              const float *b, float *y, const float *hb, float *bnd)
{
    int r = r0;
#define I8(p) _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(p))))
    for (; r < r1; r++) {
        const int8_t *q = Q + (size_t)r * cols;
        const float *s = sc + (size_t)r * cols / 32;
        if (bnd) {
            float ba = 0;
            for (int k = 0; k < cols / 32; k++) ba += s[k] * hb[k];
            bnd[r] = ba;
        }
        __m256 a = _mm256_setzero_ps();
        for (int k = 0; k < cols; k += 32) {
            _mm_prefetch((const char *)(q + k + PREFETCH_AHEAD * cols), _MM_HINT_T0);
            __m256 d = _mm256_mul_ps(I8(q + k), _mm256_loadu_ps(x + k));
            d = _mm256_fmadd_ps(I8(q + k + 8), _mm256_loadu_ps(x + k + 8), d);
            d = _mm256_fmadd_ps(I8(q + k + 16), _mm256_loadu_ps(x + k + 16), d);
            d = _mm256_fmadd_ps(I8(q + k + 24), _mm256_loadu_ps(x + k + 24), d);
            a = _mm256_fmadd_ps(d, _mm256_set1_ps(s[k / 32]), a);
        }
        y[r] = (float)hsum8d(a) + (b ? b[r] : 0.0f);
    }
#undef I8
}

/* Cross-attention over whole f16 rows (all heads of a position at once, so
 * K and V stream through contiguously): see vecmath.h. */
/* Cross-attention on the blocked int8 layout (vecmath.h): per block of
 * VM_XBLK positions and head, K as dim pairs × positions (a position per
 * 32-bit lane, so the scores need no horizontal sums) and V as position
 * pairs × dims, each pair's two bytes adjacent: one 16-bit multiply-add
 * (PMADDWD; VPDPWSSD with VNNI) takes both. The other operand (q for the
 * scores, the softmax weights for V) is rounded to int16 against its
 * largest magnitude (vecmath.h), so every version forms the same integer
 * sums; they differ only in the last float steps. The float kernels these
 * replace converted each int8 to f32 (two operations, then an FMA, per
 * value) and ran at ~2/3 of the memory bandwidth the GEMVs reach. */
#define XQ16 32767.0f

/* v[i] = round(x[i]·32767/max|x|) for n values; returns max|x|/32767 (0: all zero) */
static float q16_scalar(const float *x, int n, int32_t *v)
{
    float m = 0.0f;
    for (int i = 0; i < n; i++) m = fabsf(x[i]) > m ? fabsf(x[i]) : m;
    const float inv = m > 0.0f ? XQ16 / m : 0.0f;
    for (int i = 0; i < n; i++) v[i] = (int32_t)lrintf(x[i] * inv);
    return m / XQ16;
}

static void xscores_scalar(const int8_t *K, const float *ks, int nblk, const float *q, int n_head, int dh,
                           float scale, float *out, int ostride)
{
    int32_t qv[VM_XATTN_MAX_DH];
    for (int h = 0; h < n_head; h++) {
        const float c = q16_scalar(q + h * dh, dh, qv) * scale;
        for (int b = 0; b < nblk; b++) {
            const int8_t *kb = K + ((size_t)b * n_head + h) * dh * VM_XBLK;
            const float *sb = ks + ((size_t)b * n_head + h) * VM_XBLK;
            for (int j = 0; j < VM_XBLK; j++) {
                int32_t a = 0;
                for (int i = 0; i < dh; i++) a += qv[i] * kb[(i & ~1) * VM_XBLK + 2 * j + (i & 1)];
                out[(size_t)h * ostride + b * VM_XBLK + j] = (float)a * (sb[j] * c);
            }
        }
    }
}

static void xaccum_scalar(const int8_t *V, const float *vs, int nblk, const float *p, int pstride, int n_head, int dh,
                          float *acc)
{
    for (int b = 0; b < nblk; b++)
        for (int h = 0; h < n_head; h++) {
            const int8_t *vb = V + ((size_t)b * n_head + h) * VM_XBLK * dh;
            const float *sb = vs + ((size_t)b * n_head + h) * VM_XBLK, *ph = p + (size_t)h * pstride + b * VM_XBLK;
            float w[VM_XBLK];
            int32_t wv[VM_XBLK];
            for (int j = 0; j < VM_XBLK; j++) w[j] = ph[j] * sb[j];
            const float sw = q16_scalar(w, VM_XBLK, wv);
            if (sw == 0.0f) continue; /* every weight 0: adds nothing */
            for (int i = 0; i < dh; i++) {
                int32_t a = 0;
                for (int j = 0; j < VM_XBLK; j++) a += wv[j] * vb[(j & ~1) * dh + 2 * i + (j & 1)];
                acc[h * dh + i] += (float)a * sw;
            }
        }
}

/* log(x) for normal x > 0 (Cephes logf): x = m·2^e with m in [√½, √2),
 * log(m) = f − f²/2 + f³·P(f) for f = m − 1, e·ln 2 in two parts. */
#define LOG_POLY(V, F, FMA, SET)                                                          \
    V p = SET(7.0376836292E-2f);                                                          \
    p = FMA(p, F, SET(-1.1514610310E-1f)); p = FMA(p, F, SET(1.1676998740E-1f));         \
    p = FMA(p, F, SET(-1.2420140846E-1f)); p = FMA(p, F, SET(1.4249322787E-1f));         \
    p = FMA(p, F, SET(-1.6668057665E-1f)); p = FMA(p, F, SET(2.0000714765E-1f));         \
    p = FMA(p, F, SET(-2.4999993993E-1f)); p = FMA(p, F, SET(3.3333331174E-1f))

AVX2 static void log10_avx2(float *x, size_t n, float floor)
{
    const __m256 fl = _mm256_set1_ps(floor), one = _mm256_set1_ps(1.0f), sqh = _mm256_set1_ps(0.707106781186547524f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_max_ps(_mm256_loadu_ps(x + i), fl);
        const __m256i b = _mm256_castps_si256(v);
        __m256 e = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(b, 23), _mm256_set1_epi32(126)));
        const __m256 m = _mm256_castsi256_ps(_mm256_or_si256(_mm256_and_si256(b, _mm256_set1_epi32(0x007fffff)),
                                                             _mm256_set1_epi32(0x3f000000))); /* [½, 1) */
        const __m256 lt = _mm256_cmp_ps(m, sqh, _CMP_LT_OQ);
        e = _mm256_sub_ps(e, _mm256_and_ps(lt, one));
        const __m256 f = _mm256_add_ps(_mm256_sub_ps(m, one), _mm256_and_ps(lt, m));
        const __m256 z = _mm256_mul_ps(f, f);
        LOG_POLY(__m256, f, _mm256_fmadd_ps, _mm256_set1_ps);
        __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, f), z);
        y = _mm256_fmadd_ps(e, _mm256_set1_ps(-2.12194440e-4f), y);
        y = _mm256_fmadd_ps(z, _mm256_set1_ps(-0.5f), y);
        const __m256 r = _mm256_fmadd_ps(e, _mm256_set1_ps(0.693359375f), _mm256_add_ps(f, y));
        _mm256_storeu_ps(x + i, _mm256_mul_ps(r, _mm256_set1_ps(0.434294481903251828f)));
    }
    log10_scalar(x + i, n - i, floor);
}

AVX512 static void log10_avx512(float *x, size_t n, float floor)
{
    const __m512 fl = _mm512_set1_ps(floor), one = _mm512_set1_ps(1.0f), sqh = _mm512_set1_ps(0.707106781186547524f);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 v = _mm512_max_ps(_mm512_loadu_ps(x + i), fl);
        const __m512i b = _mm512_castps_si512(v);
        __m512 e = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_srli_epi32(b, 23), _mm512_set1_epi32(126)));
        const __m512 m = _mm512_castsi512_ps(_mm512_or_si512(_mm512_and_si512(b, _mm512_set1_epi32(0x007fffff)),
                                                             _mm512_set1_epi32(0x3f000000)));
        const __mmask16 lt = _mm512_cmp_ps_mask(m, sqh, _CMP_LT_OQ);
        e = _mm512_mask_sub_ps(e, lt, e, one);
        const __m512 f = _mm512_mask_add_ps(_mm512_sub_ps(m, one), lt, _mm512_sub_ps(m, one), m);
        const __m512 z = _mm512_mul_ps(f, f);
        LOG_POLY(__m512, f, _mm512_fmadd_ps, _mm512_set1_ps);
        __m512 y = _mm512_mul_ps(_mm512_mul_ps(p, f), z);
        y = _mm512_fmadd_ps(e, _mm512_set1_ps(-2.12194440e-4f), y);
        y = _mm512_fmadd_ps(z, _mm512_set1_ps(-0.5f), y);
        const __m512 r = _mm512_fmadd_ps(e, _mm512_set1_ps(0.693359375f), _mm512_add_ps(f, y));
        _mm512_storeu_ps(x + i, _mm512_mul_ps(r, _mm512_set1_ps(0.434294481903251828f)));
    }
    _mm256_zeroupper();
    log10_scalar(x + i, n - i, floor);
}
#undef LOG_POLY

/* The same in AVX2, PMADDWD on 8 lanes: q's pairs broadcast against a pair-of-dims row of 8
 * positions (scores), a position pair's weights against 8 dims' pairs (V). */
AVX2 static float q16_avx2(const float *x, int n, int32_t *v) /* n a multiple of 8 */
{
    __m256 mx = _mm256_setzero_ps();
    const __m256 abs = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    for (int i = 0; i < n; i += 8) mx = _mm256_max_ps(mx, _mm256_and_ps(_mm256_loadu_ps(x + i), abs));
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    const float m = _mm_cvtss_f32(_mm_max_ss(m4, _mm_movehdup_ps(m4)));
    const __m256 inv = _mm256_set1_ps(m > 0.0f ? XQ16 / m : 0.0f);
    for (int i = 0; i < n; i += 8)
        _mm256_storeu_si256((__m256i *)(v + i), _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + i), inv)));
    return m / XQ16;
}

/* v[i/2] = the int16 pair (v32[i], v32[i+1]) in one 32-bit word */
static void pairs16(const int32_t *v32, int n, uint32_t *v)
{
    for (int i = 0; i < n; i += 2) v[i / 2] = (uint16_t)v32[i] | (uint32_t)(uint16_t)v32[i + 1] << 16;
}

AVX2 static void xscores_avx2(const int8_t *K, const float *ks, int nblk, const float *q, int n_head, int dh,
                              float scale, float *out, int ostride)
{
    if (dh % 8 || n_head > VM_XATTN_MAX_HEADS) { xscores_scalar(K, ks, nblk, q, n_head, dh, scale, out, ostride); return; }
    uint32_t qp[VM_XATTN_MAX_HEADS][VM_XATTN_MAX_DH / 2];
    float c[VM_XATTN_MAX_HEADS];
    for (int h = 0; h < n_head; h++) {
        int32_t v[VM_XATTN_MAX_DH];
        c[h] = q16_avx2(q + h * dh, dh, v) * scale;
        pairs16(v, dh, qp[h]);
    }
    for (int b = 0; b < nblk; b++)
        for (int h = 0; h < n_head; h++) {
            const int8_t *kb = K + ((size_t)b * n_head + h) * dh * VM_XBLK;
            const float *sb = ks + ((size_t)b * n_head + h) * VM_XBLK;
            __m256i a0 = _mm256_setzero_si256(), a1 = a0;
            for (int ip = 0; ip < dh / 2; ip++) {
                const __m256i w = _mm256_set1_epi32((int)qp[h][ip]);
                const __m128i *r = (const __m128i *)(kb + ip * 2 * VM_XBLK);
                a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128(r)), w));
                a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128(r + 1)), w));
            }
            const __m256 ch = _mm256_set1_ps(c[h]);
            float *o = out + (size_t)h * ostride + b * VM_XBLK;
            _mm256_storeu_ps(o, _mm256_mul_ps(_mm256_cvtepi32_ps(a0), _mm256_mul_ps(_mm256_loadu_ps(sb), ch)));
            _mm256_storeu_ps(o + 8, _mm256_mul_ps(_mm256_cvtepi32_ps(a1), _mm256_mul_ps(_mm256_loadu_ps(sb + 8), ch)));
        }
}

AVX2 static void xaccum_avx2(const int8_t *V, const float *vs, int nblk, const float *p, int pstride, int n_head,
                             int dh, float *acc)
{
    if (dh % 8) { xaccum_scalar(V, vs, nblk, p, pstride, n_head, dh, acc); return; }
    for (int b = 0; b < nblk; b++)
        for (int h = 0; h < n_head; h++) {
            const int8_t *vb = V + ((size_t)b * n_head + h) * VM_XBLK * dh;
            const float *sb = vs + ((size_t)b * n_head + h) * VM_XBLK, *ph = p + (size_t)h * pstride + b * VM_XBLK;
            float w[VM_XBLK];
            int32_t wv[VM_XBLK];
            uint32_t wp[VM_XBLK / 2];
            for (int j = 0; j < VM_XBLK; j++) w[j] = ph[j] * sb[j];
            const float sw = q16_avx2(w, VM_XBLK, wv);
            if (sw == 0.0f) continue;
            pairs16(wv, VM_XBLK, wp);
            for (int i = 0; i < dh; i += 8) {
                __m256i a = _mm256_setzero_si256();
                for (int jp = 0; jp < VM_XBLK / 2; jp++) {
                    const __m128i r = _mm_loadu_si128((const __m128i *)(vb + jp * 2 * dh + 2 * i));
                    a = _mm256_add_epi32(a, _mm256_madd_epi16(_mm256_cvtepi8_epi16(r), _mm256_set1_epi32((int)wp[jp])));
                }
                _mm256_storeu_ps(acc + h * dh + i, _mm256_fmadd_ps(_mm256_cvtepi32_ps(a), _mm256_set1_ps(sw),
                                                                 _mm256_loadu_ps(acc + h * dh + i)));
            }
        }
}

/* dh = 64 (every Whisper size) with VNNI: VPDPWSSD multiplies 32 int16
 * pairs and adds them into 16 int32 lanes, one operation for what took
 * three per value in f32. Scores: 4 independent chains of 8 over a block's
 * 32 dim pairs; V: 4 accumulators of 16 dims over its 8 position pairs. */
#define I8X32(p) _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(p)))
AVX512VNNI static float q16_avx512(const float *x, int n, int32_t *v) /* n a multiple of 16 */
{
    __m512 mx = _mm512_setzero_ps();
    for (int i = 0; i < n; i += 16) mx = _mm512_max_ps(mx, _mm512_abs_ps(_mm512_loadu_ps(x + i)));
    const float m = _mm512_reduce_max_ps(mx);
    const __m512 inv = _mm512_set1_ps(m > 0.0f ? XQ16 / m : 0.0f);
    for (int i = 0; i < n; i += 16)
        _mm512_storeu_si512(v + i, _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + i), inv)));
    return m / XQ16;
}

AVX512VNNI static void xscores_vnni(const int8_t *K, const float *ks, int nblk, const float *q, int n_head, int dh,
                                    float scale, float *out, int ostride)
{
    if (dh != 64 || n_head > VM_XATTN_MAX_HEADS) { xscores_scalar(K, ks, nblk, q, n_head, dh, scale, out, ostride); return; }
    uint32_t qp[VM_XATTN_MAX_HEADS][32];
    float c[VM_XATTN_MAX_HEADS];
    for (int h = 0; h < n_head; h++) {
        int32_t v[64];
        c[h] = q16_avx512(q + h * 64, 64, v) * scale;
        pairs16(v, 64, qp[h]);
    }
    for (int b = 0; b < nblk; b++)
        for (int h = 0; h < n_head; h++) {
            const int8_t *kb = K + ((size_t)b * n_head + h) * 64 * VM_XBLK;
            _mm_prefetch((const char *)(kb + 2 * n_head * 64 * VM_XBLK), _MM_HINT_T0);
            __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
            for (int ip = 0; ip < 32; ip += 4) {
                a0 = _mm512_dpwssd_epi32(a0, I8X32(kb + (ip + 0) * 32), _mm512_set1_epi32((int)qp[h][ip + 0]));
                a1 = _mm512_dpwssd_epi32(a1, I8X32(kb + (ip + 1) * 32), _mm512_set1_epi32((int)qp[h][ip + 1]));
                a2 = _mm512_dpwssd_epi32(a2, I8X32(kb + (ip + 2) * 32), _mm512_set1_epi32((int)qp[h][ip + 2]));
                a3 = _mm512_dpwssd_epi32(a3, I8X32(kb + (ip + 3) * 32), _mm512_set1_epi32((int)qp[h][ip + 3]));
            }
            const __m512i sum = _mm512_add_epi32(_mm512_add_epi32(a0, a1), _mm512_add_epi32(a2, a3));
            const __m512 sb = _mm512_loadu_ps(ks + ((size_t)b * n_head + h) * VM_XBLK);
            _mm512_storeu_ps(out + (size_t)h * ostride + b * VM_XBLK,
                             _mm512_mul_ps(_mm512_cvtepi32_ps(sum), _mm512_mul_ps(sb, _mm512_set1_ps(c[h]))));
        }
}

AVX512VNNI static void xaccum_vnni(const int8_t *V, const float *vs, int nblk, const float *p, int pstride, int n_head,
                                   int dh, float *acc)
{
    if (dh != 64) { xaccum_scalar(V, vs, nblk, p, pstride, n_head, dh, acc); return; }
    for (int b = 0; b < nblk; b++)
        for (int h = 0; h < n_head; h++) {
            const int8_t *vb = V + ((size_t)b * n_head + h) * VM_XBLK * 64;
            const float *ph = p + (size_t)h * pstride + b * VM_XBLK, *sb = vs + ((size_t)b * n_head + h) * VM_XBLK;
            _mm_prefetch((const char *)(vb + 2 * n_head * 64 * VM_XBLK), _MM_HINT_T0);
            float w[VM_XBLK];
            int32_t wv[VM_XBLK];
            uint32_t wp[VM_XBLK / 2];
            _mm512_storeu_ps(w, _mm512_mul_ps(_mm512_loadu_ps(ph), _mm512_loadu_ps(sb)));
            const float sw = q16_avx512(w, VM_XBLK, wv);
            if (sw == 0.0f) continue;
            _mm256_storeu_si256((__m256i *)wp, _mm512_cvtepi32_epi16(_mm512_loadu_si512(wv))); /* the pairs, in order */
            float *ah = acc + h * 64;
            __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
            for (int jp = 0; jp < VM_XBLK / 2; jp++) {
                const __m512i w2 = _mm512_set1_epi32((int)wp[jp]);
                const int8_t *r = vb + jp * 128;
                a0 = _mm512_dpwssd_epi32(a0, I8X32(r), w2);
                a1 = _mm512_dpwssd_epi32(a1, I8X32(r + 32), w2);
                a2 = _mm512_dpwssd_epi32(a2, I8X32(r + 64), w2);
                a3 = _mm512_dpwssd_epi32(a3, I8X32(r + 96), w2);
            }
            const __m512 s = _mm512_set1_ps(sw);
            _mm512_storeu_ps(ah, _mm512_fmadd_ps(_mm512_cvtepi32_ps(a0), s, _mm512_loadu_ps(ah)));
            _mm512_storeu_ps(ah + 16, _mm512_fmadd_ps(_mm512_cvtepi32_ps(a1), s, _mm512_loadu_ps(ah + 16)));
            _mm512_storeu_ps(ah + 32, _mm512_fmadd_ps(_mm512_cvtepi32_ps(a2), s, _mm512_loadu_ps(ah + 32)));
            _mm512_storeu_ps(ah + 48, _mm512_fmadd_ps(_mm512_cvtepi32_ps(a3), s, _mm512_loadu_ps(ah + 48)));
        }
}
#undef I8X32

/* One query row's attention over a few f32 keys (the decoder's self-
 * attention of one token against its cache): OpenBLAS's small-matrix path
 * cost ~2 µs a call there, 16 calls per layer (two per head). The three
 * versions share the softmax (max, exp_sum, ×1/Σ as vm_softmax) and differ
 * only in the order of the dot products' f32 sums. */
#define ATTN_ROW_BODY(DOT, AXPY, MAX, EXPSUM)                                        \
    for (int k = 0; k < nk; k++) s[k] = scale * DOT(q, K + (size_t)k * ld, dh);       \
    const float mx = MAX(s, nk);                                                      \
    const float inv = (float)(1.0 / EXPSUM(s, nk, mx));                              \
    for (int k = 0; k < nk; k++) s[k] *= inv;                                         \
    for (int i = 0; i < dh; i++) out[i] = 0.0f;                                       \
    for (int k = 0; k < nk; k++) AXPY(out, s[k], V + (size_t)k * ld, dh);

static inline float dot_scalar(const float *a, const float *b, int n)
{
    float t = 0.0f;
    for (int i = 0; i < n; i++) t += a[i] * b[i];
    return t;
}

static inline void axpy_scalar(float *y, float a, const float *x, int n)
{
    for (int i = 0; i < n; i++) y[i] += a * x[i];
}

static void attn_row_scalar(const float *q, const float *K, const float *V, size_t ld, int nk, int dh, float scale,
                            float *s, float *out)
{
    ATTN_ROW_BODY(dot_scalar, axpy_scalar, max_scalar, exp_sum_scalar)
}

AVX2 static inline float dot_avx2(const float *a, const float *b, int n)
{
    __m256 t = _mm256_setzero_ps();
    for (int i = 0; i < n; i += 8) t = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), t);
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    return _mm_cvtss_f32(_mm_add_ss(h, _mm_movehdup_ps(h)));
}

AVX2 static inline void axpy_avx2(float *y, float a, const float *x, int n)
{
    const __m256 va = _mm256_set1_ps(a);
    for (int i = 0; i < n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
}

AVX2 static void attn_row_avx2(const float *q, const float *K, const float *V, size_t ld, int nk, int dh, float scale,
                               float *s, float *out)
{
    if (dh % 8) { attn_row_scalar(q, K, V, ld, nk, dh, scale, s, out); return; }
    ATTN_ROW_BODY(dot_avx2, axpy_avx2, max_avx2, exp_sum_avx2)
}

AVX512 static inline float dot_avx512(const float *a, const float *b, int n)
{
    __m512 t = _mm512_setzero_ps();
    for (int i = 0; i < n; i += 16) t = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), t);
    return _mm512_reduce_add_ps(t);
}

AVX512 static inline void axpy_avx512(float *y, float a, const float *x, int n)
{
    const __m512 va = _mm512_set1_ps(a);
    for (int i = 0; i < n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_fmadd_ps(va, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
}

AVX512 static void attn_row_avx512(const float *q, const float *K, const float *V, size_t ld, int nk, int dh,
                                   float scale, float *s, float *out)
{
    if (dh % 16) { attn_row_scalar(q, K, V, ld, nk, dh, scale, s, out); return; }
    ATTN_ROW_BODY(dot_avx512, axpy_avx512, max_avx512, exp_sum_avx512)
}
#undef ATTN_ROW_BODY

/* int8 logits' candidates (whisper_logits_refine): the largest lower bound
 * l − c·b, then the indices whose upper bound l + c·b reaches thr. −inf
 * entries (masked tokens) fall out of both by themselves. */
static float bmax_scalar(const float *l, const float *b, float c, int n)
{
    float m = -INFINITY;
    for (int i = 0; i < n; i++) {
        const float x = l[i] - c * b[i];
        m = x > m ? x : m;
    }
    return m;
}

static int bsel_scalar(const float *l, const float *b, float c, float thr, int n, int *idx)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        if (l[i] + c * b[i] >= thr) idx[k++] = i;
    return k;
}

AVX512 static float bmax_avx512(const float *l, const float *b, float c, int n)
{
    __m512 m = _mm512_set1_ps(-INFINITY);
    const __m512 vc = _mm512_set1_ps(c);
    int i = 0;
    for (; i + 16 <= n; i += 16)
        m = _mm512_max_ps(m, _mm512_fnmadd_ps(vc, _mm512_loadu_ps(b + i), _mm512_loadu_ps(l + i)));
    float r = _mm512_reduce_max_ps(m);
    _mm256_zeroupper();
    const float t = bmax_scalar(l + i, b + i, c, n - i);
    return t > r ? t : r;
}

AVX512 static int bsel_avx512(const float *l, const float *b, float c, float thr, int n, int *idx)
{
    const __m512 vc = _mm512_set1_ps(c), vt = _mm512_set1_ps(thr);
    __m512i iv = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i step = _mm512_set1_epi32(16);
    int i = 0, k = 0;
    for (; i + 16 <= n; i += 16, iv = _mm512_add_epi32(iv, step)) {
        const __mmask16 mk = _mm512_cmp_ps_mask(_mm512_fmadd_ps(vc, _mm512_loadu_ps(b + i), _mm512_loadu_ps(l + i)),
                                                vt, _CMP_GE_OQ);
        if (mk) {
            _mm512_mask_compressstoreu_epi32(idx + k, mk, iv);
            k += __builtin_popcount(mk);
        }
    }
    _mm256_zeroupper();
    const int t = bsel_scalar(l + i, b + i, c, thr, n - i, idx + k);
    for (int j = 0; j < t; j++) idx[k + j] += i;
    return k + t;
}

/* ---- dispatch ------------------------------------------------------------------- */

typedef struct vm_ops {
    const char *isa;
    float (*max)(const float *, int);
    double (*exp_sum)(float *, int, float);
    void (*gelu)(float *, size_t);
    void (*gemv_f16)(const uint16_t *, int, int, int, const float *, const float *, float *);
    void (*gemv_i8)(const int8_t *, const float *, int, int, int, const float *, const float *, float *,
                    const float *, float *);
    void (*xscores)(const int8_t *, const float *, int, const float *, int, int, float, float *, int);
    void (*xaccum)(const int8_t *, const float *, int, const float *, int, int, int, float *);
    float (*bmax)(const float *, const float *, float, int);
    int (*bsel)(const float *, const float *, float, float, int, int *);
    void (*gemv_q4)(const uint8_t *, const uint16_t *, int, int, int, const vm_q4x *, float *);
    float (*dot_q8lo)(const int8_t *, const int8_t *, const float *, const float *, int);
    void (*gemv_i8x)(const int8_t *, const float *, int, int, int, const vm_i8x *, const float *, float *);
    void (*i8x_prep)(const float *, int, vm_i8x *);
    void (*log10)(float *, size_t, float);
    void (*attn_row)(const float *, const float *, const float *, size_t, int, int, float, float *, float *);
    int q4_fast;                /* VPDPBUSD: the integer kernels (4-bit proxy, i8x) outrun the float ones */
} vm_ops;

/* $LIVECAP_ISA as a set: 0 scalar, 1 avx2, 2 avx512 (without VNNI), -1
 * unset or empty (the best the CPU has), -2 unknown or beyond this CPU. */
static int isa_env(int has2, int has512)
{
    const char *f = getenv("LIVECAP_ISA");
    if (!f || !*f) return -1;
    if (!strcmp(f, "scalar")) return 0;
    if (!strcmp(f, "avx2")) return has2 ? 1 : -2;
    if (!strcmp(f, "avx512")) return has512 ? 2 : -2;
    return -2;
}

static const vm_ops *ops(void)
{
    static const vm_ops scalar = { "scalar", max_scalar, exp_sum_scalar, gelu_scalar, gemv_f16_scalar, gemv_i8_scalar, xscores_scalar, xaccum_scalar, bmax_scalar, bsel_scalar, gemv_q4_scalar, dot_q8lo_scalar, gemv_i8x_scalar, i8x_prepare_scalar, log10_scalar, attn_row_scalar, 0 };
    static const vm_ops avx2 = { "avx2", max_avx2, exp_sum_avx2, gelu_avx2, gemv_f16_avx2, gemv_i8_avx2, xscores_avx2, xaccum_avx2, bmax_scalar, bsel_scalar, gemv_q4_scalar, dot_q8lo_scalar, gemv_i8x_scalar, i8x_prepare_scalar, log10_avx2, attn_row_avx2, 0 };
    static const vm_ops avx512 = { "avx512", max_avx512, exp_sum_avx512, gelu_avx512, gemv_f16_avx512, gemv_i8_avx512, xscores_avx2, xaccum_avx2, bmax_avx512, bsel_avx512, gemv_q4_scalar, dot_q8lo_avx512, gemv_i8x_scalar, i8x_prepare_scalar, log10_avx512, attn_row_avx512, 0 };
    static const vm_ops avx512vnni = { "avx512", max_avx512, exp_sum_avx512, gelu_avx512, gemv_f16_avx512, gemv_i8_avx512, xscores_vnni, xaccum_vnni, bmax_avx512, bsel_avx512, gemv_q4_vnni, dot_q8lo_avx512, gemv_i8x_vnni, i8x_prepare_vnni, log10_avx512, attn_row_avx512, 1 };
    static const vm_ops *chosen;
    if (!chosen) { /* benign race: every thread picks the same table */
        __builtin_cpu_init();
        int has2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        int has512 = has2 && __builtin_cpu_supports("avx512f");
        int vnni = has512 && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni");
        const vm_ops *best = vnni ? &avx512vnni : has512 ? &avx512 : has2 ? &avx2 : &scalar;
        /* LIVECAP_ISA=scalar|avx2|avx512: a narrower set than the CPU has
         * (tests run every version this machine can; a suspected kernel bug
         * can be ruled in or out). Never a wider one: main() refuses a value
         * isa_env() rejects (vm_isa_check) before any kernel runs. */
        const int want = isa_env(has2, has512);
        chosen = want == 0 ? &scalar : want == 1 ? &avx2 : want == 2 ? &avx512 : best;
    }
    return chosen;
}

int vm_isa_check(char *msg, size_t n)
{
    __builtin_cpu_init();
    const int has2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (isa_env(has2, has2 && __builtin_cpu_supports("avx512f")) != -2) return 0;
    snprintf(msg, n, "LIVECAP_ISA: must be scalar, avx2 or avx512, and one this CPU runs, got \"%s\"",
             getenv("LIVECAP_ISA"));
    return -1;
}

const char *vm_isa(void) { return ops()->isa; }
int vm_gemv_i8x_fast(void) { return ops()->q4_fast; }
void vm_i8x_prepare(const float *x, int cols, vm_i8x *p) { ops()->i8x_prep(x, cols, p); }

void vm_gemv_i8x(const int8_t *Q, const float *scale, int cols, int r0, int r1, const vm_i8x *x, const float *b,
                 float *y)
{
    ops()->gemv_i8x(Q, scale, cols, r0, r1, x, b, y);
}
float vm_max(const float *x, int n) { return ops()->max(x, n); }
double vm_exp_sum(float *x, int n, float mx) { return ops()->exp_sum(x, n, mx); }
void vm_gelu(float *x, size_t n) { ops()->gelu(x, n); }
void vm_log10(float *x, size_t n, float floor) { ops()->log10(x, n, floor); }

void vm_gemv_f16(const uint16_t *W, int cols, int r0, int r1, const float *x, const float *b, float *y)
{
    ops()->gemv_f16(W, cols, r0, r1, x, b, y);
}

void vm_scale(float *x, int n, float s)
{
    for (int i = 0; i < n; i++) x[i] *= s;
}

void vm_attn_row(const float *q, const float *K, const float *V, size_t ld, int nk, int dh, float scale, float *s,
                 float *out)
{
    ops()->attn_row(q, K, V, ld, nk, dh, scale, s, out);
}

void vm_softmax(float *x, int n)
{
    float mx = vm_max(x, n);
    double sum = vm_exp_sum(x, n, mx);
    vm_scale(x, n, (float)(1.0 / sum));
}

void vm_add(float *x, const float *y, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] += y[i];
}

void vm_gemv_i8(const int8_t *Q, const float *scale, int cols, int r0, int r1, const float *x, const float *b,
                float *y)
{
    ops()->gemv_i8(Q, scale, cols, r0, r1, x, b, y, NULL, NULL);
}

void vm_gemv_i8_bound(const int8_t *Q, const float *scale, int cols, int r0, int r1, const float *x,
                      const float *hb, float *y, float *bnd)
{
    ops()->gemv_i8(Q, scale, cols, r0, r1, x, NULL, y, hb, bnd);
}

void vm_xattn_scores_blk(const int8_t *K, const float *ks, int nblk, const float *q, int n_head, int dh, float scale,
                         float *out, int ostride)
{
    ops()->xscores(K, ks, nblk, q, n_head, dh, scale, out, ostride);
}

void vm_xattn_accum_blk(const int8_t *V, const float *vs, int nblk, const float *p, int pstride, int n_head, int dh,
                        float *acc)
{
    ops()->xaccum(V, vs, nblk, p, pstride, n_head, dh, acc);
}

float vm_bound_max(const float *l, const float *b, float c, int n) { return ops()->bmax(l, b, c, n); }

void vm_gemv_q4(const uint8_t *Q, const uint16_t *scale, int cols, int r0, int r1, const vm_q4x *x, float *y)
{
    ops()->gemv_q4(Q, scale, cols, r0, r1, x, y);
}

int vm_gemv_q4_fast(void) { return ops()->q4_fast; }

float vm_dot_q8lo(const int8_t *q, const int8_t *lo, const float *scale, const float *x, int cols)
{
    return ops()->dot_q8lo(q, lo, scale, x, cols);
}

int vm_bound_select(const float *l, const float *b, float c, float thr, int n, int *idx)
{
    return ops()->bsel(l, b, c, thr, n, idx);
}
