/* test_vecmath.c: the vector kernels against scalar libm/f32 references,
 * and the compute pool covering every part exactly once. */
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/pool.h"
#include "engine/vecmath.h"
#include "model/quant.h"
#include "test.h"
#include "util/mem.h"

static float frand(unsigned *s) { *s = *s * 1664525u + 1013904223u; return (float)(*s >> 8) / 16777216.0f * 2 - 1; }

static atomic_int hits[64];
static void mark(void *ctx, int ith, int nth)
{
    (void)ctx;
    int lo, hi;
    pool_range(1000, ith, nth, &lo, &hi);
    for (int i = lo; i < hi; i++) atomic_fetch_add(&hits[i % 64], 1);
}

/* Every narrower kernel set this CPU runs (vecmath.c's LIVECAP_ISA), each
 * in a child running this same program: 0 if all passed. */
static int other_isas(void)
{
    const char *sets[] = { "scalar", "avx2", "avx512" };
    int bad = 0;
    for (int i = 0; i < 3; i++) {
        if ((i == 1 && !__builtin_cpu_supports("avx2")) || (i == 2 && !__builtin_cpu_supports("avx512f"))) continue;
        char cmd[4200];
        char self[4096];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0) return 1;
        self[n] = 0;
        snprintf(cmd, sizeof cmd, "LIVECAP_ISA=%s '%s'", sets[i], self);
        const int rc = system(cmd);
        printf("== LIVECAP_ISA=%s: %s\n", sets[i], rc == 0 ? "passed" : "FAILED");
        bad += rc != 0;
    }
    return bad;
}

int main(void)
{
    const int top = getenv("LIVECAP_ISA") == NULL;
    printf("kernels: %s\n", vm_isa());
    unsigned s = 42;
    /* GELU vs erf form, over a wide range */
    enum { N = 4099 };
    static float x[N], y[N];
    for (int i = 0; i < N; i++) x[i] = (i - N / 2) * 0.005f; /* −10 … 10 */
    memcpy(y, x, sizeof x);
    vm_gelu(y, N);
    double worst = 0;
    for (int i = 0; i < N; i++) {
        double ref = 0.5 * x[i] * (1 + erf(x[i] / sqrt(2.0)));
        double err = fabs(y[i] - ref) / (fabs(x[i]) + 1e-3);
        worst = err > worst ? err : worst;
    }
    printf("gelu worst error / |x|: %.3g\n", worst);
    CHECKF(worst < 5e-7, "gelu %g", worst);

    /* log10 with the mel clamp: powers from 1e-14 to 1e6 (the floor and
     * below it included), every tail length */
    {
        static float lx[4099];
        double werr = 0;
        int below = 0;
        for (int i = 0; i < 4099; i++) lx[i] = powf(10.0f, -14.0f + 20.0f * (float)i / 4098.0f) * (1 + 0.3f * frand(&s));
        for (int len = 4099; len >= 4080; len--) {
            static float ly[4099];
            memcpy(ly, lx, sizeof(float) * len);
            vm_log10(ly, (size_t)len, 1e-10f);
            for (int i = 0; i < len; i++) {
                const double ref = log10(lx[i] > 1e-10f ? (double)lx[i] : 1e-10);
                werr = fmax(werr, fabs(ly[i] - ref) / (fabs(ref) + 1)); /* 2 ulp ≈ 2.4e-7 relative */
                below += lx[i] < 1e-10f && ly[i] != (float)-10.0;
            }
        }
        printf("log10 (clamped at 1e-10) worst error / (|log10| + 1): %.3g\n", werr);
        CHECKF(werr < 2.4e-7 && below == 0, "log10: %g, %d under the floor not -10", werr, below);
    }

    /* softmax: sums to 1, matches exp() */
    for (int i = 0; i < N; i++) x[i] = frand(&s) * 30;
    memcpy(y, x, sizeof x);
    vm_softmax(y, N);
    float mx = -INFINITY;
    for (int i = 0; i < N; i++) mx = x[i] > mx ? x[i] : mx;
    double sum = 0, ref_sum = 0;
    for (int i = 0; i < N; i++) ref_sum += exp((double)x[i] - mx);
    worst = 0;
    for (int i = 0; i < N; i++) {
        double ref = exp((double)x[i] - mx) / ref_sum;
        sum += y[i];
        double err = fabs(y[i] - ref) / ref;
        worst = err > worst ? err : worst;
    }
    printf("softmax worst relative error %.3g, sum %.9f\n", worst, sum);
    /* x − max is rounded to f32 first (as torch does): with |x| ≤ 60 that is
     * up to ulp(60) = 3.8e-6 of relative error in exp, whatever exp does */
    CHECKF(worst < 5e-6 && fabs(sum - 1) < 1e-5, "softmax %g %g", worst, sum);

    /* GEMVs vs f32 math on the same (rounded) weights; odd row counts */
    enum { R = 103, C = 384 };
    static float W[R * C], xv[C], bias[R], out[R], ref[R];
    static uint16_t W16[R * C];
    static int8_t Q[R * C];
    static float sc[R * C / 32];
    for (int i = 0; i < R * C; i++) W[i] = frand(&s) * 0.1f;
    for (int i = 0; i < C; i++) xv[i] = frand(&s);
    for (int i = 0; i < R; i++) bias[i] = frand(&s);
    quant_f32_to_f16_row(W, W16, R * C);
    for (int r = 0; r < R; r++) {
        double a = 0;
        for (int k = 0; k < C; k++) a += (double)quant_f16_to_f32(W16[r * C + k]) * xv[k];
        ref[r] = (float)(a + bias[r]);
    }
    vm_gemv_f16(W16, C, 0, R, xv, bias, out);
    worst = 0;
    for (int r = 0; r < R; r++) worst = fabs(out[r] - ref[r]) > worst ? fabs(out[r] - ref[r]) : worst;
    printf("gemv f16 worst abs error %.3g\n", worst);
    CHECKF(worst < 1e-4, "gemv f16 %g", worst);
    for (int b0 = 0; b0 < R * C; b0 += 32) {
        float m = 0;
        for (int k = 0; k < 32; k++) m = fabsf(W[b0 + k]) > m ? fabsf(W[b0 + k]) : m;
        sc[b0 / 32] = m / 127;
        for (int k = 0; k < 32; k++) Q[b0 + k] = (int8_t)lrintf(W[b0 + k] / sc[b0 / 32]);
    }
    for (int r = 0; r < R; r++) {
        double a = 0;
        for (int k = 0; k < C; k++) a += (double)Q[r * C + k] * sc[(r * C + k) / 32] * xv[k];
        ref[r] = (float)(a + bias[r]);
    }
    vm_gemv_i8(Q, sc, C, 0, R, xv, bias, out);
    worst = 0;
    for (int r = 0; r < R; r++) worst = fabs(out[r] - ref[r]) > worst ? fabs(out[r] - ref[r]) : worst;
    printf("gemv int8 worst abs error %.3g\n", worst);
    CHECKF(worst < 1e-4, "gemv int8 %g", worst);
    {   /* the bound variant: same y (no bias), bnd = Σ_b scale·hb */
        static float hb[C / 32], y2[R], bnd[R];
        for (int b = 0; b < C / 32; b++) hb[b] = 0.5f + b;
        vm_gemv_i8_bound(Q, sc, C, 0, R, xv, hb, y2, bnd);
        int bad = 0;
        for (int r = 0; r < R; r++) {
            double bb = 0;
            for (int b = 0; b < C / 32; b++) bb += (double)sc[(r * C) / 32 + b] * hb[b];
            bad += fabs(y2[r] - (out[r] - bias[r])) > 1e-4 || fabs(bnd[r] - bb) > 1e-5 * bb;
        }
        CHECKF(bad == 0, "gemv int8 with bounds: %d rows off", bad);
    }
    /* a sub-range touches only its rows */
    for (int r = 0; r < R; r++) out[r] = -99;
    vm_gemv_f16(W16, C, 10, 17, xv, NULL, out);
    CHECK(out[9] == -99 && out[17] == -99 && out[10] != -99 && out[16] != -99);

    /* int8 logits' candidate scans vs scalar loops (odd n, -inf entries) */
    {
        enum { NB = 1003 };
        static float l[NB], bb[NB];
        static int idx[NB];
        for (int i = 0; i < NB; i++) { l[i] = 10 * frand(&s); bb[i] = 0.5f + 0.5f * frand(&s); }
        for (int i = 0; i < NB; i += 7) l[i] = -INFINITY;
        float m = -INFINITY;
        for (int i = 0; i < NB; i++) m = fmaxf(m, l[i] - 0.51f * bb[i]);
        CHECKF(vm_bound_max(l, bb, 0.51f, NB) == m, "bound max %g vs %g", vm_bound_max(l, bb, 0.51f, NB), m);
        int k = vm_bound_select(l, bb, 0.51f, m, NB, idx), want = 0, bad = 0;
        for (int i = 0; i < NB; i++)
            if (l[i] + 0.51f * bb[i] >= m) { bad += want >= k || idx[want] != i; want++; }
        CHECKF(k == want && bad == 0, "bound select: %d of %d, %d misplaced", k, want, bad);
        CHECK(k >= 1 && k < NB / 4);
    }
    /* cross-attention on the blocked int8 layout (vecmath.h), every head:
     * scores and accumulation vs the header's definition (pairs of bytes,
     * the float side rounded to int16) in double, relative to the sum of
     * the terms' magnitudes; dh = 64 (every Whisper size: the vector
     * kernels), 32 (the micro fixtures) and 6 (scalar). A block whose
     * weights are all 0 adds nothing; the int16 rounding is checked to be
     * there (the exact f32 product differs by more than the tolerance). */
    for (int dh = 64; dh >= 6; dh = dh == 64 ? 32 : dh == 32 ? 6 : 0) {
        enum { NB = 3, H = 3, OS = 50 };
        const int ts = H * dh;
        static int8_t K8[NB * VM_XBLK * H * 64], V8[NB * VM_XBLK * H * 64];
        static float ks[NB * H * VM_XBLK], vs[NB * H * VM_XBLK];
        static float q[H * 64], p[H * OS], sc[H * OS], acc[H * 64];
        for (int i = 0; i < NB * VM_XBLK * ts; i++) { K8[i] = (int8_t)(127 * frand(&s)); V8[i] = (int8_t)(127 * frand(&s)); }
        for (int i = 0; i < NB * H * VM_XBLK; i++) { ks[i] = 0.01f * (1 + fabsf(frand(&s))); vs[i] = 0.01f * (1 + fabsf(frand(&s))); }
        for (int i = 0; i < ts; i++) { q[i] = frand(&s); acc[i] = 0.5f; }
        for (int i = 0; i < H * OS; i++) { p[i] = frand(&s); sc[i] = -99; }
        for (int j = 0; j < VM_XBLK; j++) p[1 * OS + VM_XBLK + j] = 0.0f; /* head 1, block 1: all 0 */
        vm_xattn_scores_blk(K8, ks, NB, q, H, dh, 0.125f, sc, OS);
        vm_xattn_accum_blk(V8, vs, NB, p, OS, H, dh, acc);
        double e1 = 0, e2 = 0, f1 = 0; /* worst errors / Σ|terms|; f1: the unrounded q's */
        for (int h = 0; h < H; h++) {
            double mq = 0;
            for (int i = 0; i < dh; i++) mq = fmax(mq, fabsf(q[h * dh + i]));
            const float iq = (float)(32767.0 / mq);
            for (int j = 0; j < NB * VM_XBLK; j++) {
                const int b = j / VM_XBLK, jj = j % VM_XBLK;
                double a = 0, mag = 0, exact = 0;
                for (int i = 0; i < dh; i++) {
                    const double k8 = K8[((size_t)b * H + h) * dh * VM_XBLK + (size_t)(i & ~1) * VM_XBLK + 2 * jj + (i & 1)];
                    const double t = rint(q[h * dh + i] * iq) * (mq / 32767.0) * ks[(b * H + h) * VM_XBLK + jj] * k8;
                    a += t;
                    mag += fabs(t);
                    exact += (double)q[h * dh + i] * ks[(b * H + h) * VM_XBLK + jj] * k8;
                }
                e1 = fmax(e1, fabs(a * 0.125 - sc[h * OS + j]) / (mag * 0.125));
                f1 = fmax(f1, fabs(exact * 0.125 - sc[h * OS + j]) / (mag * 0.125));
            }
            e1 = fmax(e1, sc[h * OS + NB * VM_XBLK] == -99 ? 0 : 1); /* nothing past the blocks */
            for (int i = 0; i < dh; i++) {
                double a = 0.5, mag = 0.5;
                for (int b = 0; b < NB; b++) {
                    double w[VM_XBLK], mw = 0;
                    for (int jj = 0; jj < VM_XBLK; jj++) {
                        w[jj] = (float)(p[h * OS + b * VM_XBLK + jj] * vs[(b * H + h) * VM_XBLK + jj]);
                        mw = fmax(mw, fabs(w[jj]));
                    }
                    if (mw == 0) continue;
                    const float iw = (float)(32767.0 / mw);
                    for (int jj = 0; jj < VM_XBLK; jj++) {
                        const double v8 = V8[((size_t)b * H + h) * VM_XBLK * dh + (size_t)(jj & ~1) * dh + 2 * i + (jj & 1)];
                        const double t = rint((float)w[jj] * iw) * (mw / 32767.0) * v8;
                        a += t;
                        mag += fabs(t);
                    }
                }
                e2 = fmax(e2, fabs(a - acc[h * dh + i]) / mag);
            }
        }
        printf("int8 blocked cross-attention (%d heads of %d): scores err %.3g (%.3g from unrounded q), accumulate err %.3g\n",
               H, dh, e1, f1, e2);
        CHECKF(e1 < 1e-6 && e2 < 1e-6, "xattn blocks, dh %d: %g %g", dh, e1, e2);
        CHECKF(f1 > 1e-7, "xattn blocks, dh %d: q not rounded to int16? %g", dh, f1);
    }

    /* the logits' 4-bit proxy: the kernel in use (VNNI where there) against
     * its definition in double, from x's own quantisation; odd row counts
     * and sub-ranges; the dot with the int8 residual likewise */
    for (int ci = 0; ci < 3; ci++) {
        const int cols = ci == 0 ? 384 : ci == 1 ? 1280 : 64, rows = 38; /* 37 rows: the last one in the scalar tail */
        uint8_t *q = malloc((size_t)rows * cols / 2);
        uint16_t *sc4 = malloc(sizeof(uint16_t) * ((size_t)rows * cols / 32 + 16));
        float *x = malloc(sizeof(float) * cols), *y = malloc(sizeof(float) * rows);
        vm_q4x *px = malloc(sizeof *px);
        for (int i = 0; i < rows * cols / 2; i++) q[i] = (uint8_t)(s = s * 1664525u + 1013904223u) >> 3;
        for (int i = 0; i < rows * cols / 32 + 16; i++) sc4[i] = quant_f32_to_f16(0.01f + 0.02f * fabsf(frand(&s)));
        for (int i = 0; i < cols; i++) x[i] = 3 * frand(&s);
        x[5] = 0; /* a zero, and a block of zeros (sx = 0) */
        for (int i = 32; i < 64 && cols > 64; i++) x[i] = 0;
        vm_q4x_prepare(x, cols, px);
        double d2 = 0, worst_rel = 0;
        int8_t xq[2048];
        float sxb[64];
        for (int b = 0; b < cols / 32; b++) {
            float m = 0;
            for (int k = 0; k < 32; k++) m = fmaxf(m, fabsf(x[32 * b + k]));
            sxb[b] = m / 127;
            for (int k = 0; k < 32; k++) {
                xq[32 * b + k] = (int8_t)(m > 0 ? lrintf(x[32 * b + k] / sxb[b]) : 0);
                d2 += pow(x[32 * b + k] - (double)sxb[b] * xq[32 * b + k], 2);
            }
        }
        CHECK(fabs(px->dnorm - sqrt(d2)) <= 1e-6 * (sqrt(d2) + 1e-6));
        for (int r = 0; r < rows; r++) y[r] = -99;
        vm_gemv_q4(q, sc4, cols, 1, rows, px, y);
        CHECK(y[0] == -99);
        for (int r = 1; r < rows; r++) {
            double a = 0, mag = 0;
            for (int b = 0; b < cols / 32; b++)
                for (int k = 0; k < 32; k++) {
                    const uint8_t by = q[((size_t)r * cols + 32 * b) / 2 + k % 16];
                    const int n = (k < 16 ? by & 15 : by >> 4) - 8;
                    const double t = (double)quant_f16_to_f32(sc4[(size_t)r * cols / 32 + b]) * sxb[b] * n * xq[32 * b + k];
                    a += t;
                    mag += fabs(t);
                }
            worst_rel = fmax(worst_rel, fabs(y[r] - a) / (mag + 1e-30));
        }
        printf("gemv 4-bit (%d cols, %s): worst |err| / sum|terms| %.3g\n", cols, vm_gemv_q4_fast() ? "vnni" : "scalar", worst_rel);
        CHECKF(worst_rel < 1e-6, "gemv q4 %d cols: %g", cols, worst_rel);
        free(q); free(sc4); free(x); free(y); free(px);
    }
    /* int8 weights x 2-byte activations (the decoder's block GEMVs where
     * VNNI is): x's bytes and corrections from their definition; y against
     * the exact integer sums in double; and y against the f32-x int8 GEMV
     * within the activations' rounding bound (vecmath.h). Widths: tiny,
     * large's MLP, the smallest; odd rows, a bias, sub-ranges. */
    for (int ci = 0; ci < 3; ci++) {
        const int cols = ci == 0 ? 384 : ci == 1 ? 5120 : 64, rows = 37;
        int8_t *q = malloc((size_t)rows * cols);
        float *sc = malloc(sizeof(float) * rows * cols / 32), *x = malloc(sizeof(float) * cols);
        float *y = malloc(sizeof(float) * rows), *yf = malloc(sizeof(float) * rows), bias[37];
        vm_i8x *px = malloc(sizeof *px);
        for (int i = 0; i < rows * cols; i++) q[i] = (int8_t)((int)((s = s * 1664525u + 1013904223u) >> 24) - 128);
        for (int i = 0; i < rows * cols / 32; i++) sc[i] = 0.001f + 0.01f * fabsf(frand(&s));
        for (int i = 0; i < cols; i++) x[i] = 4 * frand(&s);
        for (int r = 0; r < rows; r++) bias[r] = frand(&s);
        x[3] = 0;
        for (int i = 32; i < 64 && cols > 64; i++) x[i] = 0; /* a zero block: sx = 0 */
        vm_i8x_prepare(x, cols, px);
        int bad_x = 0;
        for (int b = 0; b < cols / 32; b++) {
            float m = 0;
            for (int k = 0; k < 32; k++) m = fmaxf(m, fabsf(x[32 * b + k]));
            const float sxb = m / 127.0f;
            for (int k = 0; k < 32; k++) {
                const float t = m > 0 ? x[32 * b + k] * (1.0f / sxb) : 0.0f;
                const long xq = lrintf(t), xl = lrintf((t - (float)xq) * 256.0f);
                bad_x += px->xq[32 * b + k] != xq || px->xl[32 * b + k] != (xl > 127 ? 127 : xl < -127 ? -127 : xl);
            }
            for (int L = 0; L < 8; L++) {
                const int8_t *v = px->xq + 32 * b + 4 * L, *w = px->xl + 32 * b + 4 * L;
                bad_x += px->sx[8 * b + L] != sxb ||
                         px->corr[8 * b + L] != -128 * (256 * (v[0] + v[1] + v[2] + v[3]) + w[0] + w[1] + w[2] + w[3]);
            }
        }
        CHECKF(bad_x == 0, "i8x prepare (%d cols): %d entries differ", cols, bad_x);
        for (int r = 0; r < rows; r++) y[r] = yf[r] = -99;
        vm_gemv_i8x(q, sc, cols, 1, rows, px, bias, y);
        vm_gemv_i8(q, sc, cols, 1, rows, x, bias, yf);
        CHECK(y[0] == -99);
        double worst_rel = 0, worst_bnd = 0;
        for (int r = 1; r < rows; r++) {
            double a = bias[r], mag = fabs(bias[r]), bnd = 0;
            for (int b = 0; b < cols / 32; b++) {
                const double sw = sc[(size_t)r * cols / 32 + b], sxb = px->sx[8 * b];
                long d = 0, aq = 0;
                for (int k = 32 * b; k < 32 * b + 32; k++) {
                    const long xk = 256L * px->xq[k] + px->xl[k];
                    d += (long)q[(size_t)r * cols + k] * xk;
                    aq += labs((long)q[(size_t)r * cols + k]);
                    mag += fabs(sw * sxb / 256 * q[(size_t)r * cols + k] * xk);
                }
                a += sw * sxb / 256 * (double)d;
                bnd += sw * sxb / 256 * (double)aq;
            }
            worst_rel = fmax(worst_rel, fabs(y[r] - a) / (mag + 1e-30));
            worst_bnd = fmax(worst_bnd, fabs(y[r] - yf[r]) / (bnd + 1e-6 * mag));
        }
        printf("gemv int8 x 2-byte x (%d cols, %s): worst |err| / sum|terms| %.3g, vs f32 x: %.3g of the bound\n", cols,
               vm_gemv_i8x_fast() ? "vnni" : "scalar", worst_rel, worst_bnd);
        CHECKF(worst_rel < 1e-6, "gemv i8x %d cols: %g", cols, worst_rel);
        CHECKF(worst_bnd <= 1.0, "gemv i8x %d cols: %g of the rounding bound", cols, worst_bnd);
        free(q); free(sc); free(x); free(y); free(yf); free(px);
    }
    {
        enum { CC = 384 };
        static int8_t q8[CC], lo8[CC];
        static float sc8[CC / 32], x8[CC];
        for (int i = 0; i < CC; i++) { q8[i] = (int8_t)(127 * frand(&s)); lo8[i] = (int8_t)(127 * frand(&s)); x8[i] = frand(&s); }
        for (int b = 0; b < CC / 32; b++) sc8[b] = 0.01f * (1 + b);
        double a = 0, mag = 0;
        for (int k = 0; k < CC; k++) {
            const double t = sc8[k / 32] * (q8[k] + lo8[k] / 254.0) * x8[k];
            a += t;
            mag += fabs(t);
        }
        const float d = vm_dot_q8lo(q8, lo8, sc8, x8, CC);
        CHECKF(fabs(d - a) <= 1e-6 * mag, "dot int8 + residual: %g vs %g", d, a);
    }

    /* one row's attention against a reference in double: dh 64 (the
     * vector kernels), 20 (scalar fallback), keys 1 (softmax of one) to 300,
     * rows strided as in the KV cache (ld > dh) */
    {
        enum { LD = 200, NK = 300 };
        static float K[NK * LD], V[NK * LD], q[64], sc[NK], out[64];
        for (int i = 0; i < NK * LD; i++) { K[i] = frand(&s); V[i] = frand(&s); }
        for (int i = 0; i < 64; i++) q[i] = 2 * frand(&s);
        const int dhs[] = { 64, 20 }, nks[] = { 1, 7, 96, NK };
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 4; b++) {
                const int dh = dhs[a], nk = nks[b];
                const float scale = 1.0f / sqrtf((float)dh);
                out[0] = NAN;
                vm_attn_row(q, K + 3, V + 3, LD, nk, dh, scale, sc, out);
                double w[NK], mx = -INFINITY, sum = 0, worst = 0, psum = 0;
                for (int k = 0; k < nk; k++) {
                    double d = 0;
                    for (int i = 0; i < dh; i++) d += (double)q[i] * K[k * LD + 3 + i];
                    w[k] = d * scale;
                    mx = w[k] > mx ? w[k] : mx;
                }
                for (int k = 0; k < nk; k++) sum += w[k] = exp(w[k] - mx);
                for (int k = 0; k < nk; k++) psum += sc[k];
                for (int i = 0; i < dh; i++) {
                    double o = 0;
                    for (int k = 0; k < nk; k++) o += w[k] / sum * V[k * LD + 3 + i];
                    worst = fmax(worst, fabs(o - out[i]));
                }
                CHECKF(worst < 2e-6 && fabs(psum - 1) < 1e-5, "attn row dh %d, %d keys: %g (weights sum %g)", dh,
                       nk, worst, psum);
            }
    }

    /* huge-page buffers: aligned to 2 MB when at least that big (the
     * madvise is a hint the kernel may ignore: not checked), plain below;
     * writable to the last byte, released with free() */
    {
        unsigned char *big = lc_alloc_huge(5 * LC_HUGE_PAGE + 123), *small = lc_alloc_huge(1000);
        CHECK(big && ((uintptr_t)big % LC_HUGE_PAGE) == 0 && small);
        if (big) { big[0] = 1; big[5 * LC_HUGE_PAGE + 122] = 2; }
        if (small) small[999] = 3;
        free(big);
        free(small);
    }

    /* pool: every index exactly once, many times in a row */
    lc_pool *p = pool_create(3);
    CHECK(p && pool_threads(p) == 3);
    for (int rep = 0; rep < 200; rep++) pool_run(p, mark, NULL);
    int ok = 1;
    for (int i = 0; i < 64; i++) ok &= atomic_load(&hits[i]) == 200 * (1000 / 64 + (i < 1000 % 64));
    CHECK(ok);
    pool_free(p);
    if (top) CHECKF(other_isas() == 0, "a narrower kernel set failed (above)");
    TEST_DONE();
}
