/* bf16.c: the kernels' arithmetic in C (see bf16.h for the order contract).
 * Compiled with -std=c11, which makes GCC keep a*b+c as two roundings
 * (-ffp-contract=off), as the AIE kernels are built (kernels/Makefile). */
#include <math.h>

#include "engine/bf16.h"

void bf16_pack(const float *src, int rows, int cols, int ld, uint16_t *dst, int rows_p, int kp, int split)
{
    const size_t w = (size_t)split * kp;
    memset(dst + (size_t)(rows < rows_p ? rows : rows_p) * w, 0,
           (size_t)(rows < rows_p ? rows_p - rows : 0) * w * sizeof *dst);
    for (int i = 0; i < rows && i < rows_p; i++) {
        const float *s = src + (size_t)i * ld;
        uint16_t *d = dst + (size_t)i * w;
        if (split == 1) {
            for (int j = 0; j < cols; j++) d[j] = bf16_from_f32(s[j]);
        } else {
            for (int j = 0; j < cols; j++) {
                uint16_t hi, lo;
                bf16_split(s[j], &hi, &lo);
                d[j] = hi;                    /* segment 0: Ah (· Wh) */
                d[kp + j] = hi;               /* segment 1: Ah (· Wl) */
                d[2 * (size_t)kp + j] = lo;   /* segment 2: Al (· Wh) */
            }
        }
        for (int s0 = 0; s0 < split; s0++)
            memset(d + (size_t)s0 * kp + cols, 0, (size_t)(kp - cols) * sizeof *d);
    }
}

void bf16_pack_t(const float *W, int N, int K, int ldw, uint16_t *dst, int kp, int Np, int split)
{
    memset(dst, 0, (size_t)split * kp * Np * sizeof *dst);
    for (int n = 0; n < N; n++)
        for (int k = 0; k < K; k++) {
            uint16_t hi, lo;
            bf16_split(W[(size_t)n * ldw + k], &hi, &lo);
            dst[(size_t)k * Np + n] = hi;
            if (split == 1) continue;
            dst[(size_t)(kp + k) * Np + n] = lo;        /* segment 1: Wl */
            dst[(size_t)(2 * kp + k) * Np + n] = hi;    /* segment 2: Wh */
        }
}

/* p[0..NPU_TILE_N) += a * q[...]: independent lanes, no reassociation */
static inline void axpy_tile(float *restrict p, const float *restrict q, float a)
{
    for (int j = 0; j < NPU_TILE_N; j++) p[j] += a * q[j];
}

/* k-tile outermost so each B tile is widened to f32 once; every output still
 * sees its partial sums added in k-tile order, and each partial sum in k
 * order, so the loop order changes no result. The inner loop runs across n
 * (independent accumulators), which the compiler can vectorise without
 * reassociating any sum. */
void bf16_array_gemm(int Mp, int Kp, int Np, const uint16_t *A, const uint16_t *B,
                     float *C, float *scratch)
{
    float *restrict bt = scratch;                               /* [NPU_TILE_K, Np] */
    float *restrict part = scratch + (size_t)NPU_TILE_K * Np;   /* [Np] */
    memset(C, 0, (size_t)Mp * Np * sizeof *C);
    for (int kt = 0; kt < Kp; kt += NPU_TILE_K) {
        for (int k = 0; k < NPU_TILE_K; k++) {
            const uint16_t *restrict b = B + (size_t)(kt + k) * Np;
            float *restrict d = bt + (size_t)k * Np;
            for (int n = 0; n < Np; n++) d[n] = bf16_to_f32(b[n]);
        }
        for (int i = 0; i < Mp; i++) {
            const uint16_t *a = A + (size_t)i * Kp + kt;
            /* An all-zero A tile row gives a +0 partial, and C (which starts
             * at +0 and is never -0: x + y = -0 needs both -0) does not
             * change, so skipping it changes no bit. It makes the padded
             * rows of partial launches (live mel batches) cheap. */
            int nz = 0;
            for (int k = 0; k < NPU_TILE_K && !nz; k++) nz = (a[k] & 0x7fffu) != 0;
            if (!nz) continue;
            memset(part, 0, (size_t)Np * sizeof *part);
            for (int k = 0; k < NPU_TILE_K; k++) {
                const float av = bf16_to_f32(a[k]);
                const float *restrict b = bt + (size_t)k * Np;
                /* Np is a multiple of NPU_TILE_N: a fixed inner trip count
                 * lets -O2 vectorise */
                for (int n0 = 0; n0 < Np; n0 += NPU_TILE_N) axpy_tile(part + n0, b + n0, av);
            }
            float *restrict c = C + (size_t)i * Np;
            for (int n = 0; n < Np; n++) c[n] += part[n];
        }
    }
}

void bf16_dft_basis(int f, int k, float *c, float *s)
{
    /* reduce first so the angle is exact: 2π·((f·k) mod 400)/400 */
    const double ang = 2.0 * M_PI * (double)((f * k) % NPU_MEL_NFFT) / NPU_MEL_NFFT;
    *c = (float)cos(ang);
    *s = (float)sin(ang);
}

/* one k-tiled dot product of bf16-rounded x with w (every reference GEMM) */
static float tiled_dot(int K, const float *x, const float *w)
{
    float acc = 0.0f;
    for (int kt = 0; kt < K; kt += NPU_TILE_K) {
        const int ke = kt + NPU_TILE_K < K ? kt + NPU_TILE_K : K;
        float p = 0.0f;
        for (int k = kt; k < ke; k++) p += bf16_round(x[k]) * bf16_round(w[k]);
        acc += p;
    }
    return acc;
}

/* tiled_dot in bf16x3: segments hi·hi, hi·lo, lo·hi, one accumulator */
static float tiled_dot_x3(int K, const float *x, const float *w)
{
    float acc = 0.0f;
    for (int s = 0; s < NPU_SPLIT_BF16X3; s++)
        for (int kt = 0; kt < K; kt += NPU_TILE_K) {
            const int ke = kt + NPU_TILE_K < K ? kt + NPU_TILE_K : K;
            float p = 0.0f;
            for (int k = kt; k < ke; k++) {
                uint16_t xh, xl, wh, wl;
                bf16_split(x[k], &xh, &xl);
                bf16_split(w[k], &wh, &wl);
                p += bf16_to_f32(s == 2 ? xl : xh) * bf16_to_f32(s == 1 ? wl : wh);
            }
            acc += p;
        }
    return acc;
}

void bf16ref_gemm(int M, int N, int K, const float *A, int lda, const float *W, int ldw,
                  const float *bias, float *C, int ldc, int split)
{
    for (int i = 0; i < M; i++) {
        const float *a = A + (size_t)i * lda;
        for (int n = 0; n < N; n++) {
            const float *w = W + (size_t)n * ldw;
            const float acc = split == 1 ? tiled_dot(K, a, w) : tiled_dot_x3(K, a, w);
            C[(size_t)i * ldc + n] = bias ? acc + bias[n] : acc;
        }
    }
}


void bf16_pack_mel_frames(const float *frames, int rows, uint16_t *dst, int rows_p)
{
    memset(dst, 0, (size_t)rows_p * NPU_MEL_KX * sizeof *dst);
    for (int i = 0; i < rows; i++) {
        const float *x = frames + (size_t)i * NPU_MEL_NFFT;
        uint16_t *d = dst + (size_t)i * NPU_MEL_KX;
        for (int k = 0; k < NPU_MEL_NFFT; k++) {
            uint16_t hi, lo;
            bf16_split(x[k], &hi, &lo);
            d[k] = hi;                       /* segment 0: xh (· Bh) */
            d[NPU_MEL_K + k] = hi;           /* segment 1: xh (· Bl) */
            d[2 * NPU_MEL_K + k] = lo;       /* segment 2: xl (· Bh) */
        }
    }
}

void bf16_pack_mel_basis(uint16_t *dst)
{
    memset(dst, 0, (size_t)NPU_MEL_KX * NPU_MEL_N * sizeof *dst);
    for (int k = 0; k < NPU_MEL_NFFT; k++)
        for (int f = 0; f < NPU_MEL_BINS; f++) {
            float cs, sn;
            uint16_t ch, cl, sh, sl;
            bf16_dft_basis(f, k, &cs, &sn);
            bf16_split(cs, &ch, &cl);
            bf16_split(sn, &sh, &sl);
            const uint16_t hi[2] = {ch, sh}, lo[2] = {cl, sl};
            for (int part = 0; part < 2; part++) {
                const int col = part * NPU_MEL_HALF + f;
                dst[(size_t)k * NPU_MEL_N + col] = hi[part];
                dst[(size_t)(NPU_MEL_K + k) * NPU_MEL_N + col] = lo[part];
                dst[(size_t)(2 * NPU_MEL_K + k) * NPU_MEL_N + col] = hi[part];
            }
        }
}

/* x·row f of the basis in bf16x3, in the DFT GEMM's order: segments hi·hi,
 * hi·lo, lo·hi, each in k-tiles of NPU_TILE_K (the 48 zero-padded k of each
 * segment add exact zeros), one f32 partial per tile. */
static float dft_bf16x3(const float *xh, const float *xl, const float *th, const float *tl, int f)
{
    const float *xs[NPU_MEL_SPLIT] = {xh, xh, xl}, *ts[NPU_MEL_SPLIT] = {th, tl, th};
    float acc = 0.0f;
    for (int s = 0; s < NPU_MEL_SPLIT; s++)
        for (int kt = 0; kt < NPU_MEL_NFFT; kt += NPU_TILE_K) {
            const int ke = kt + NPU_TILE_K < NPU_MEL_NFFT ? kt + NPU_TILE_K : NPU_MEL_NFFT;
            float p = 0.0f;
            for (int k = kt; k < ke; k++) p += xs[s][k] * ts[s][(f * k) % NPU_MEL_NFFT];
            acc += p;
        }
    return acc;
}

void bf16ref_mel_power(int n, const float *frames, int n_mels, const float *filters, float *out, int split)
{
    /* basis tables by (f·k) mod 400, split as bf16_pack_mel_basis does */
    float ch[NPU_MEL_NFFT], cl[NPU_MEL_NFFT], sh[NPU_MEL_NFFT], sl[NPU_MEL_NFFT];
    float xh[NPU_MEL_NFFT], xl[NPU_MEL_NFFT], pw[NPU_MEL_BINS];
    for (int j = 0; j < NPU_MEL_NFFT; j++) {
        float cs, sn;
        uint16_t h, l;
        bf16_dft_basis(1, j, &cs, &sn);
        bf16_split(cs, &h, &l);
        ch[j] = bf16_to_f32(h);
        cl[j] = bf16_to_f32(l);
        bf16_split(sn, &h, &l);
        sh[j] = bf16_to_f32(h);
        sl[j] = bf16_to_f32(l);
    }
    for (int i = 0; i < n; i++) {
        const float *x = frames + (size_t)i * NPU_MEL_NFFT;
        for (int k = 0; k < NPU_MEL_NFFT; k++) {
            uint16_t h, l;
            bf16_split(x[k], &h, &l);
            xh[k] = bf16_to_f32(h);
            xl[k] = bf16_to_f32(l);
        }
        for (int f = 0; f < NPU_MEL_BINS; f++) {
            const float re = dft_bf16x3(xh, xl, ch, cl, f);
            const float im = dft_bf16x3(xh, xl, sh, sl, f);
            const float rr = re * re, ii = im * im;
            pw[f] = rr + ii;
        }
        for (int m = 0; m < n_mels; m++)
            out[(size_t)i * n_mels + m] = split == 1
                ? tiled_dot(NPU_MEL_BINS, pw, filters + (size_t)m * NPU_MEL_BINS)
                : tiled_dot_x3(NPU_MEL_BINS, pw, filters + (size_t)m * NPU_MEL_BINS);
    }
}

float bf16ref_exp(float x)
{
    if (x != x) return x;
    if (x > 88.0f) x = 88.0f;   /* e^88 < FLT_MAX; keeps 2^n normal */
    if (x < -87.0f) x = -87.0f; /* e^-87 > FLT_MIN */
    const float t = x * 1.44269504f;                 /* log2(e) */
    const int n = (int)(t + (t >= 0.0f ? 0.5f : -0.5f));
    const float fn = (float)n;
    /* Cody-Waite: ln 2 = 0.693359375 - 2.12194440e-4 (the first is exact in
     * 9 bits, so fn*C1 is exact) */
    float r = x - fn * 0.693359375f;
    r = r - fn * -2.12194440e-4f;
    float p = 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    const uint32_t bits = (uint32_t)(n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

void bf16ref_softmax(int n, const float *x, float *y)
{
    if (n <= 0) return;
    float mx = bf16_round(x[0]);
    for (int i = 1; i < n; i++) {
        const float v = bf16_round(x[i]);
        if (v > mx) mx = v;
    }
    float sum = 0.0f;
    for (int i = 0; i < n; i++) {
        y[i] = bf16ref_exp(bf16_round(x[i]) - mx);
        sum += y[i];
    }
    const float inv = 1.0f / sum;
    for (int i = 0; i < n; i++) y[i] = bf16_round(y[i] * inv);
}

float bf16ref_gelu(float x)
{
    x = bf16_round(x);
    const float x3 = x * x * x;
    const float inner = x + 0.044715f * x3;
    const float u = 0.7978845608f * inner; /* sqrt(2/pi) */
    float t;
    if (u >= 9.0f) t = 1.0f;       /* tanh(9) = 1 - 3e-8: 1.0f in f32 */
    else if (u <= -9.0f) t = -1.0f;
    else {
        const float e = bf16ref_exp(2.0f * u);
        t = (e - 1.0f) / (e + 1.0f);
    }
    return bf16_round(0.5f * x * (1.0f + t));
}
