/* test_amx.c: the AMX split-bf16 GEMM (src/engine/amx.h) against double
 * precision on the encoder's shapes and on awkward ones (M, N, K not
 * multiples of the tiles, strided A and C, bias, a last block of rows that
 * goes through scratch), with the bound derived for bf16x3 in
 * tests/test_bf16.c: |err| ≤ 2^-15 Σ|a·w| per output; padding columns of
 * C are never written. Through the ops table: --cpu-gemm's modes, and the
 * CPU device's GEMM on packed weights equals amx_gemm. On a CPU without
 * AMX it checks that packing declines and that asking for AMX is refused
 * with a message naming the option. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/amx.h"
#include "engine/backend.h"
#include "test.h"

static unsigned long long rs = 0x2545F4914F6CDD1Dull;
static float frand(void)
{
    rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17;
    return (float)((double)(rs >> 11) * 0x1.0p-52 - 1.0);
}

static void check(int M, int N, int K, int lda, int ldc, int with_bias)
{
    float *A = malloc(sizeof(float) * (size_t)M * lda), *W = malloc(sizeof(float) * (size_t)N * K);
    float *bias = malloc(sizeof(float) * N), *C = malloc(sizeof(float) * (size_t)M * ldc);
    for (size_t i = 0; i < (size_t)M * lda; i++) A[i] = frand();
    for (size_t i = 0; i < (size_t)N * K; i++) W[i] = 0.1f * frand();
    for (int i = 0; i < N; i++) bias[i] = frand();
    for (size_t i = 0; i < (size_t)M * ldc; i++) C[i] = -777.0f;
    amx_w *w = amx_pack(W, N, K);
    CHECK(w != NULL && amx_bytes(w) >= (size_t)N * K * 4);
    CHECK(amx_gemm(w, M, A, lda, with_bias ? bias : NULL, C, ldc) == 0);
    int over = 0, touched = 0;
    double worst = 0;
    for (int i = 0; i < M; i++) {
        for (int n = 0; n < N; n++) {
            double ref = with_bias ? bias[n] : 0, mag = 0;
            for (int k = 0; k < K; k++) {
                const double p = (double)A[(size_t)i * lda + k] * W[(size_t)n * K + k];
                ref += p;
                mag += fabs(p);
            }
            const double err = fabs(C[(size_t)i * ldc + n] - ref);
            if (!(err <= 0x1p-15 * mag + 1e-6 * fabs(ref))) over++;
            if (err / (mag + 1e-30) > worst) worst = err / (mag + 1e-30);
        }
        for (int n = N; n < ldc; n++) touched += C[(size_t)i * ldc + n] != -777.0f;
    }
    printf("amx bf16x3 %dx%dx%d (lda %d, ldc %d%s): worst |err|/sum|a*w| = %.2e (bound 2^-15 = %.2e)\n",
           M, N, K, lda, ldc, with_bias ? ", bias" : "", worst, 0x1p-15);
    CHECKF(over == 0, "%dx%dx%d: %d outputs over the bound", M, N, K, over);
    CHECKF(touched == 0, "%dx%dx%d: %d padding outputs written", M, N, K, touched);
    amx_free(w);
    free(A); free(W); free(bias); free(C);
}

/* Operands packed per call into caller memory (the encoder's attention):
 * W[n][k] = S[n·ldn + k·ldk] for rows of a wider matrix (ldk 1: a head's
 * K), its transpose (ldn 1: a head's Vᵀ) and other strides (the scalar
 * path); with amx_gemm_padded, C's columns [N, Np) may be written, none
 * past them. The same bound as check(). */
static void check_view(int M, int N, int K, size_t ldn, size_t ldk, int padded)
{
    const int Np = (N + 31) / 32 * 32, ldc = padded ? Np + 3 : N;
    size_t ns = (size_t)(N - 1) * ldn + (size_t)(K - 1) * ldk + 1;
    float *A = malloc(sizeof(float) * (size_t)M * K), *S = malloc(sizeof(float) * ns);
    float *C = malloc(sizeof(float) * (size_t)M * ldc);
    uint16_t *buf = aligned_alloc(64, (amx_pack_bytes(N, K) + 63) / 64 * 64);
    for (size_t i = 0; i < (size_t)M * K; i++) A[i] = frand();
    for (size_t i = 0; i < ns; i++) S[i] = 0.1f * frand();
    for (size_t i = 0; i < (size_t)M * ldc; i++) C[i] = -777.0f;
    amx_w w;
    CHECK(amx_pack_view(&w, buf, S, N, K, ldn, ldk) == 0 && w.Np == Np);
    CHECK((padded ? amx_gemm_padded(&w, M, A, K, C, ldc) : amx_gemm(&w, M, A, K, NULL, C, ldc)) == 0);
    int over = 0, touched = 0;
    for (int i = 0; i < M; i++) {
        for (int n = 0; n < N; n++) {
            double ref = 0, mag = 0;
            for (int k = 0; k < K; k++) {
                const double p = (double)A[(size_t)i * K + k] * S[(size_t)n * ldn + (size_t)k * ldk];
                ref += p;
                mag += fabs(p);
            }
            if (!(fabs(C[(size_t)i * ldc + n] - ref) <= 0x1p-15 * mag + 1e-6 * fabs(ref))) over++;
        }
        for (int n = padded ? Np : N; n < ldc; n++) touched += C[(size_t)i * ldc + n] != -777.0f;
    }
    printf("amx view %dx%dx%d (ldn %zu, ldk %zu%s): %d over the bound, %d past the columns\n", M, N, K, ldn, ldk,
           padded ? ", padded C" : "", over, touched);
    CHECKF(over == 0 && touched == 0, "view %dx%dx%d: %d over, %d touched", M, N, K, over, touched);
    CHECK(amx_gemm_padded(&w, M, A, K, C, Np - 1) == -1); /* C without room for Np columns */
    free(A); free(S); free(C); free(buf);
}

/* The CPU device with --cpu-gemm amx-bf16x3 packs at prepare and its
 * routed GEMM (split over the pool's threads) gives amx_gemm's values. */
static void check_device(void)
{
    lc_err e;
    lc_backend *b = backend_create("cpu", 2, NULL, NULL, 0, &e);
    CHECK(b != NULL);
    if (!b) return;
    const int M = 1500, N = 96, K = 160;
    float *A = malloc(sizeof(float) * M * K), *W = malloc(sizeof(float) * N * K), *bias = malloc(sizeof(float) * N);
    float *C1 = malloc(sizeof(float) * M * N), *C2 = malloc(sizeof(float) * M * N);
    for (int i = 0; i < M * K; i++) A[i] = frand();
    for (int i = 0; i < N * K; i++) W[i] = frand();
    for (int i = 0; i < N; i++) bias[i] = frand();
    lc_mat m = { W, N, K, NULL, NULL };
    CHECK(backend_cpu_gemm(b, "sgemm", 0, &e) == 0 && !strcmp(backend_cpu_gemm_name(b), "sgemm"));
    CHECK(backend_prepare(b, &m, &e) == 0 && m.cpu == NULL); /* sgemm: no copy */
    CHECK(backend_cpu_gemm(b, "auto", 1, &e) == 0 && !strcmp(backend_cpu_gemm_name(b), "sgemm")); /* exact */
    CHECK(backend_cpu_gemm(b, "auto", 0, &e) == 0 && !strcmp(backend_cpu_gemm_name(b), "AMX bf16x3"));
    CHECK(backend_cpu_gemm(b, "amx-bf16x3", 1, &e) == 0);
    CHECK(backend_prepare(b, &m, &e) == 0 && m.cpu != NULL);
    CHECK(backend_gemm(b, M, A, K, &m, bias, C1, N, &e) == 0);
    CHECK(amx_gemm(m.cpu, M, A, K, bias, C2, N) == 0);
    CHECK(memcmp(C1, C2, sizeof(float) * M * N) == 0);
    backend_release(b, &m);
    CHECK(m.cpu == NULL);
    /* a weight whose f32 pages were given back cannot be bound again */
    lc_mat gone = { NULL, N, K, NULL, NULL };
    CHECK(backend_prepare(b, &gone, &e) == -1 && strstr(e.msg, "no f32 copy left") && gone.cpu == NULL);
    CHECK(backend_cpu_gemm(b, "fp8", 0, &e) == -1 && strstr(e.msg, "--cpu-gemm") && strstr(e.msg, "fp8"));
    backend_destroy(b);
    free(A); free(W); free(bias); free(C1); free(C2);
}

int main(void)
{
    if (!amx_usable()) {
        float w[32 * 32] = {0};
        CHECK(amx_pack(w, 32, 32) == NULL);
        lc_err e;
        lc_backend *b = backend_create("cpu", 2, NULL, NULL, 0, &e);
        CHECK(b && backend_cpu_gemm(b, "auto", 0, &e) == 0 && !strcmp(backend_cpu_gemm_name(b), "sgemm"));
        CHECK(b && backend_cpu_gemm(b, "amx-bf16x3", 0, &e) == -1 && strstr(e.msg, "--cpu-gemm amx-bf16x3"));
        backend_destroy(b);
        printf("no AMX on this CPU: packing declines, auto means sgemm, amx-bf16x3 is refused\n");
        TEST_DONE();
    }
    check(1500, 64, 64, 64, 64, 1);
    check(750, 384, 384, 384, 384, 0);       /* tiny's attention projections, one thread's band */
    check(1500, 96, 1536, 1536, 96, 1);      /* the MLP's second GEMM, K = 4d */
    check(200, 64, 3072, 3072, 64, 1);       /* small's: K in four chunks (K_SPLIT_STEPS) */
    check(45, 40, 2100, 2100, 41, 1);        /* three K chunks, the last partial; unaligned N
                                                and a partial row block kept in scratch */
    check(3000, 64, 240, 243, 70, 1);        /* conv1 im2col: K = 3·80, strided A and C */
    check(37, 40, 33, 33, 41, 1);            /* nothing aligned */
    check(700, 40, 1000, 1000, 41, 1);       /* unaligned N over three row panels (A_PANEL_BYTES) */
    check(5, 40, 33, 33, 40, 0);             /* fewer rows than one tile */
    check(64, 2048, 512, 512, 2048, 1);      /* eight passes over W (W_CHUNK_BYTES) */
    check_view(100, 1500, 64, 384, 1, 1);    /* tiny's scores: a head's K in [pos][384] */
    check_view(100, 64, 1500, 1, 384, 0);    /* P·V: a head's Vᵀ */
    check_view(70, 64, 2200, 1, 64, 1);      /* a longer Vᵀ (K in chunks) into padded C */
    check_view(45, 70, 50, 1, 77, 1);        /* Vᵀ-like, nothing aligned */
    check_view(33, 40, 33, 3, 130, 0);       /* other strides: the scalar packer */
    check_device();
    TEST_DONE();
}
