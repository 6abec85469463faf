/* test_npu_emu.c: the NPU path without hardware: the emulated device
 * ("NPU (emulated)") through the router against the CPU device and the bf16
 * references, fault injection and fallback, discovery on a fake sysfs tree,
 * fdinfo parsing, and the --backend npu / auto behaviour on this machine. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/backend.h"
#include "engine/bf16.h"
#include "engine/npu_discover.h"
#include "test.h"

static uint64_t rs = 0x9e3779b97f4a7c15ull;
static float frand(void)
{
    rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17;
    return (float)((double)(rs >> 11) * 0x1.0p-52 - 1.0);
}
static float *rnd(size_t n, float scale)
{
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++) p[i] = scale * frand();
    return p;
}

static lc_backend *mk_prec(const char *which, const char *fault, const char *prec)
{
    if (fault) setenv("LIVECAP_NPU_FAULT", fault, 1);
    else unsetenv("LIVECAP_NPU_FAULT");
    lc_err e = {{0}};
    char why[512] = "";
    lc_backend *b = backend_create(which, 1, prec, why, sizeof why, &e);
    CHECKF(b != NULL, "backend_create(%s, %s): %s", which, fault ? fault : "-", e.msg);
    return b;
}
static lc_backend *mk(const char *which, const char *fault) { return mk_prec(which, fault, NULL); }

/* C from the emulated NPU vs the CPU device: the bf16 or bf16x3 bound
 * (tests/test_bf16.c), correlation, and bit equality with the C reference
 * of the kernel. */
static void check_gemm(lc_backend *b, int split, int M, int K, int N, int lda, int ldc)
{
    float *A = rnd((size_t)M * lda, 1.0f), *W = rnd((size_t)N * K, 0.1f), *bias = rnd(N, 1.0f);
    float *C = calloc((size_t)M * ldc, sizeof *C), *Cc = calloc((size_t)M * ldc, sizeof *C);
    float *R = malloc(sizeof(float) * M * N);
    lc_mat m = {W, N, K, NULL, NULL};
    lc_err e;
    CHECK(backend_prepare(b, &m, &e) == 0);
    CHECK(m.dev != NULL);
    CHECK(backend_gemm(b, M, A, lda, &m, bias, C, ldc, &e) == 0);
    CHECK(b->cpu->gemm(b->cpu->ctx, M, A, lda, &m, bias, Cc, ldc, &e) == 0);
    bf16ref_gemm(M, N, K, A, lda, W, K, bias, R, N, split);
    const double rel = split == 1 ? 0x1p-7 : 0x1p-15;
    int over = 0, diff = 0;
    double sx = 0, sy = 0, sxy = 0, sxx = 0, syy = 0;
    for (int i = 0; i < M; i++)
        for (int n = 0; n < N; n++) {
            double mag = 0;
            for (int k = 0; k < K; k++) mag += fabs((double)A[(size_t)i * lda + k] * W[(size_t)n * K + k]);
            const double x = C[(size_t)i * ldc + n], y = Cc[(size_t)i * ldc + n];
            if (fabs(x - y) > rel * mag + 1e-6 * fabs(y)) over++;
            diff += x != R[(size_t)i * N + n];
            sx += x; sy += y; sxy += x * y; sxx += x * x; syy += y * y;
        }
    const double n = (double)M * N;
    const double corr = (sxy - sx * sy / n) / sqrt((sxx - sx * sx / n) * (syy - sy * sy / n));
    CHECKF(over == 0, "%dx%dx%d split %d: %d outputs beyond the bound vs CPU", M, K, N, split, over);
    CHECKF(corr > (split == 1 ? 0.9999 : 0.99999999), "%dx%dx%d: correlation with CPU %.9f", M, K, N, corr);
    CHECKF(diff == 0, "%dx%dx%d: %d outputs differ from bf16ref_gemm", M, K, N, diff);
    /* padding columns of C (ldc > N) are never written */
    int touched = 0;
    for (int i = 0; i < M; i++)
        for (int j = N; j < ldc; j++) touched += C[(size_t)i * ldc + j] != 0.0f;
    CHECK(touched == 0);
    printf("npu-emu gemm (%s) %dx%dx%d: corr vs CPU %.10f\n", split == 1 ? "bf16" : "bf16x3", M, K, N, corr);
    backend_release(b, &m);
    CHECK(m.dev == NULL);
    free(A); free(W); free(bias); free(C); free(Cc); free(R);
}

static void make_filters(int n_mels, float *F)
{
    memset(F, 0, sizeof(float) * n_mels * NPU_MEL_BINS);
    for (int m = 0; m < n_mels; m++)
        for (int f = 2 * m; f < 2 * m + 5 && f < NPU_MEL_BINS; f++) F[m * NPU_MEL_BINS + f] = 0.01f * (1 + (f - 2 * m) % 3);
}

static void check_mel(lc_backend *b, int split)
{
    enum { NF = 700, NM = 80 }; /* 700 frames: a full 512-frame launch and a partial one */
    float *fr = malloc(sizeof(float) * NF * NPU_MEL_NFFT), *F = malloc(sizeof(float) * NM * NPU_MEL_BINS);
    float *o = malloc(sizeof(float) * NF * NM), *oc = malloc(sizeof(float) * NF * NM), *r = malloc(sizeof(float) * NF * NM);
    for (int i = 0; i < NF * NPU_MEL_NFFT; i++) {
        const int k = i % NPU_MEL_NFFT;
        fr[i] = (float)((0.5 - 0.5 * cos(2 * M_PI * k / NPU_MEL_NFFT)) *
                        (0.4 * sin(0.07 * i) + 0.05 * frand()));
    }
    make_filters(NM, F);
    lc_err e;
    CHECK(backend_mel_power(b, NF, fr, NM, F, o, &e) == 0);
    CHECK(b->cpu->mel_power(b->cpu->ctx, NF, fr, NM, F, oc, &e) == 0);
    bf16ref_mel_power(NF, fr, NM, F, r, split);
    int diff = 0, over = 0;
    for (int i = 0; i < NF; i++) {
        double S = 0;
        for (int k = 0; k < NPU_MEL_NFFT; k++) S += fabs(fr[i * NPU_MEL_NFFT + k]);
        for (int m = 0; m < NM; m++) {
            diff += o[i * NM + m] != r[i * NM + m];
            double fsum = 0;
            for (int f = 0; f < NPU_MEL_BINS; f++) fsum += F[m * NPU_MEL_BINS + f];
            /* the bf16x3 bound of tests/test_bf16.c, Σ_f F (2^-6 P + 2^-13 S √P
             * + 2^-28 S²), with the CPU's mel m = Σ_f F P standing in for the
             * exact one (FFTW's f32 error, ~2^-20 S, is inside the slack):
             * Σ_f F √P <= √(fsum · m) by Cauchy-Schwarz */
            const double mc = oc[i * NM + m] > 0 ? oc[i * NM + m] : 0;
            const double tol = (split == 1 ? 0x1p-6 : 0x1p-14) * mc + 0x1p-12 * S * sqrt(fsum * mc) + 0x1p-27 * fsum * S * S;
            if (fabs(o[i * NM + m] - oc[i * NM + m]) > tol) over++;
        }
    }
    CHECKF(diff == 0, "mel: %d outputs differ from bf16ref_mel_power", diff);
    CHECKF(over == 0, "mel: %d outputs beyond the stated tolerance vs CPU (FFTW)", over);
    free(fr); free(F); free(o); free(oc); free(r);
}

static void test_emu_ops(const char *prec)
{
    lc_backend *b = mk_prec("npu-emu", NULL, prec);
    if (!b) return;
    const int split = prec && !strcmp(prec, "bf16") ? 1 : NPU_SPLIT_BF16X3;
    CHECK(strcmp(backend_where(b, LC_OP_GEMM), "NPU (emulated)") == 0);
    CHECK(strcmp(backend_where(b, LC_OP_MEL_POWER), "NPU (emulated)") == 0);
    check_gemm(b, split, 1500, 64, 64, 64, 64);
    check_gemm(b, split, 1500, 64, 256, 64, 256);
    check_gemm(b, split, 1500, 256, 64, 256, 64);
    check_gemm(b, split, 3000, 240, 64, 243, 70);   /* conv1 im2col: 2 launches, strided A and C */
    check_gemm(b, split, 7, 100, 33, 100, 33);      /* small and unaligned */
    check_mel(b, split);
    lc_backend_stats st;
    backend_stats(b, &st);
    CHECK(st.accel_busy_ns > 0);
    CHECK(st.accel_ops == 6);
    CHECK(st.fallbacks == 0);
    CHECK(st.accel_emulated == 1);
    CHECK(st.driver_busy_ns == -1);          /* no fdinfo for the emulator */
    CHECK(st.accel_label && strcmp(st.accel_label, "NPU (emulated)") == 0);
    backend_destroy(b);

    b = mk("cpu", NULL);
    if (!b) return;
    float *A = rnd(64 * 64, 1), *W = rnd(64 * 64, 1), *C = malloc(sizeof(float) * 64 * 64);
    lc_mat m = {W, 64, 64, NULL, NULL};
    lc_err e;
    CHECK(backend_prepare(b, &m, &e) == 0 && m.dev == NULL);
    CHECK(backend_gemm(b, 64, A, 64, &m, NULL, C, 64, &e) == 0);
    backend_stats(b, &st);
    CHECK(st.accel_busy_ns == 0 && st.accel_ops == 0 && st.accel_label == NULL);
    CHECK(strcmp(backend_where(b, LC_OP_GEMM), "CPU") == 0);
    free(A); free(W); free(C);
    backend_destroy(b);
}

/* 1500x64x64 gemm through the backend and directly on its CPU device */
typedef struct job { float *A, *W, *bias, *C, *Cc; lc_mat m; } job;
static void job_init(job *j)
{
    j->A = rnd(1500 * 64, 1); j->W = rnd(64 * 64, 0.1f); j->bias = rnd(64, 1);
    j->C = malloc(sizeof(float) * 1500 * 64); j->Cc = malloc(sizeof(float) * 1500 * 64);
    j->m = (lc_mat){j->W, 64, 64, NULL, NULL};
}
static void job_free(job *j) { free(j->A); free(j->W); free(j->bias); free(j->C); free(j->Cc); }
static int job_run(lc_backend *b, job *j)  /* 1 = equals CPU bit for bit */
{
    lc_err e;
    for (int i = 0; i < 1500 * 64; i++) j->C[i] = -12345.0f;
    CHECK(backend_gemm(b, 1500, j->A, 64, &j->m, j->bias, j->C, 64, &e) == 0);
    b->cpu->gemm(b->cpu->ctx, 1500, j->A, 64, &j->m, j->bias, j->Cc, 64, &e);
    return memcmp(j->C, j->Cc, sizeof(float) * 1500 * 64) == 0;
}

static void test_faults(void)
{
    lc_backend_stats st;
    lc_err e;
    job j;
    job_init(&j);

    lc_backend *b = mk("npu-emu", "timeout@2");
    if (b) {
        CHECK(backend_prepare(b, &j.m, &e) == 0 && j.m.dev);
        CHECK(job_run(b, &j) == 0);                  /* 1st launch: on the NPU (bf16) */
        CHECK(job_run(b, &j) == 1);                  /* 2nd: timed out, rerun on the CPU */
        backend_stats(b, &st);
        CHECK(st.fallbacks == 1);
        CHECKF(strstr(st.last_error, "timed out") != NULL, "last_error '%s'", st.last_error);
        CHECK(job_run(b, &j) == 0);                  /* 3rd: back on the NPU */
        CHECK(strcmp(backend_where(b, LC_OP_GEMM), "NPU (emulated)") == 0);
        backend_release(b, &j.m);
        backend_destroy(b);
    }

    b = mk("npu-emu", "random:1.0");
    if (b) {
        CHECK(backend_prepare(b, &j.m, &e) == 0);
        for (int i = 0; i < LC_NPU_MAX_FAILS; i++) CHECK(job_run(b, &j) == 1);
        backend_stats(b, &st);
        CHECK(st.fallbacks == LC_NPU_MAX_FAILS);
        CHECK(st.accel_off == 1);
        CHECK(strcmp(backend_where(b, LC_OP_GEMM), "CPU") == 0);
        CHECK(strcmp(backend_where(b, LC_OP_MEL_POWER), "CPU") == 0);
        CHECK(job_run(b, &j) == 1);                  /* now straight to the CPU */
        backend_stats(b, &st);
        CHECK(st.fallbacks == LC_NPU_MAX_FAILS);
        CHECKF(strstr(st.last_error, "off after") != NULL, "last_error '%s'", st.last_error);
        backend_release(b, &j.m);
        backend_destroy(b);
    }

    b = mk("npu-emu", "load");                        /* xclbin load fails at prepare */
    if (b) {
        for (int i = 0; i < LC_NPU_MAX_FAILS; i++) {
            CHECK(backend_prepare(b, &j.m, &e) == 0);  /* not an error for the engine */
            CHECK(j.m.dev == NULL);
        }
        CHECK(job_run(b, &j) == 1);
        backend_stats(b, &st);
        CHECK(st.accel_off == 1 && st.accel_fails == LC_NPU_MAX_FAILS && st.fallbacks == 0);
        backend_destroy(b);
    }

    b = mk("npu-emu", "random:0.5");                  /* seeded: any mix, never a lost op */
    if (b) {
        setenv("LIVECAP_NPU_FAULT_SEED", "7", 1);
        CHECK(backend_prepare(b, &j.m, &e) == 0);
        for (int i = 0; i < 6; i++) job_run(b, &j);
        backend_stats(b, &st);
        CHECK(st.accel_ops + st.fallbacks == 6 || st.accel_off);
        unsetenv("LIVECAP_NPU_FAULT_SEED");
        backend_release(b, &j.m);
        backend_destroy(b);
    }

    const char *bad[] = {"timeout@", "timeout@x", "timeout@0", "random:2", "random:", "bogus", "load,7"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        setenv("LIVECAP_NPU_FAULT", bad[i], 1);
        lc_err e2 = {{0}};
        lc_backend *x = backend_create("npu-emu", 1, NULL, NULL, 0, &e2);
        CHECKF(x == NULL, "LIVECAP_NPU_FAULT=%s accepted", bad[i]);
        CHECKF(strstr(e2.msg, "LIVECAP_NPU_FAULT") && !strchr(e2.msg, '\n'), "message '%s'", e2.msg);
        backend_destroy(x);
    }
    setenv("LIVECAP_NPU_FAULT", "timeout@2,5", 1);
    lc_backend *x = backend_create("npu-emu", 1, NULL, NULL, 0, &e);
    CHECK(x != NULL);
    backend_destroy(x);
    unsetenv("LIVECAP_NPU_FAULT");
    job_free(&j);
}

static void test_no_hardware(void)
{
    npu_info info;
    char why[256];
    if (npu_discover(&info, why, sizeof why)) {
        printf("an amdxdna NPU is present (%s): skipping the no-hardware checks\n", info.node);
        return;
    }
    lc_err e = {{0}};
    char w[512] = "";
    lc_backend *b = backend_create("npu", 1, NULL, w, sizeof w, &e);
    CHECK(b == NULL);
    CHECKF(strstr(e.msg, "--backend npu") && strstr(e.msg, why) && !strchr(e.msg, '\n'), "'%s'", e.msg);
    printf("--backend npu here: %s\n", e.msg);
    b = backend_create("auto", 1, NULL, w, sizeof w, &e);
    CHECK(b != NULL);
    if (b) {
        CHECK(strcmp(backend_where(b, LC_OP_GEMM), "CPU") == 0);
        CHECK(b->accel == NULL);
        CHECKF(strstr(w, "CPU") && strstr(w, why), "why '%s'", w);
        printf("--backend auto here: %s\n", w);
        backend_destroy(b);
    }
    CHECK(backend_create("gpu", 1, NULL, w, sizeof w, &e) == NULL && strstr(e.msg, "gpu"));
    CHECK(backend_create("npu-emu", 1, "fp8", w, sizeof w, &e) == NULL &&
          strstr(e.msg, "--npu-precision") && strstr(e.msg, "fp8"));
}

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) { fputs(text, f); fclose(f); }
}

static void test_discovery(void)
{
    char root[] = "/tmp/lc_npu_sysXXXXXX", p[700], art[100];
    if (!mkdtemp(root)) { CHECK(0); return; }
    snprintf(p, sizeof p, "%s/accel0", root); mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/accel0/device", root); mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/accel0/device/driver", root);
    CHECK(symlink("../../bus/pci/drivers/habanalabs", p) == 0);
    npu_info info;
    char why[256];
    CHECK(npu_discover_at(root, "/dev/accel", &info, why, sizeof why) == 0);
    CHECKF(strstr(why, "habanalabs") != NULL, "why '%s'", why);

    snprintf(p, sizeof p, "%s/accel1", root); mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/accel1/device", root); mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/accel1/device/driver", root);
    CHECK(symlink("../../bus/pci/drivers/amdxdna", p) == 0);
    snprintf(p, sizeof p, "%s/accel1/device/device", root);
    put(p, "0x17f0\n");
    snprintf(art, sizeof art, "%s/art", root); mkdir(art, 0755);
    setenv("LIVECAP_NPU_ARTIFACTS", art, 1);
    CHECK(npu_discover_at(root, "/dev/accel", &info, why, sizeof why) == 1);
    CHECK(strcmp(info.target, "npu2") == 0 && info.pci_device == 0x17f0);
    CHECK(strcmp(info.node, "/dev/accel/accel1") == 0);
    CHECK(info.artifacts_ok == 0);
    snprintf(p, sizeof p, "%s/gemm_1536x64x256.xclbin", art);
    put(p, "x");
    CHECK(npu_discover_at(root, "/dev/accel", &info, why, sizeof why) == 1 && info.artifacts_ok == 1);
    snprintf(p, sizeof p, "%s/accel1/device/device", root);
    put(p, "0x1502\n");
    CHECK(npu_discover_at(root, "/dev/accel", &info, why, sizeof why) == 1 && strcmp(info.target, "npu1") == 0);
    put(p, "0x1234\n");
    CHECK(npu_discover_at(root, "/dev/accel", &info, why, sizeof why) == 0 && strstr(why, "0x1234"));
    unsetenv("LIVECAP_NPU_ARTIFACTS");
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    CHECK(system(cmd) == 0);

    uint64_t ns = 0;
    CHECK(npu_fdinfo_parse("pos:\t0\nflags:\t02\ndrm-driver:\tamdxdna\ndrm-engine-npu-amdxdna:\t123456 ns\n", &ns) == 1);
    CHECK(ns == 123456);
    CHECK(npu_fdinfo_parse("drm-driver:\ti915\ndrm-engine-render:\t5 ns\n", &ns) == 0);
    CHECK(npu_fdinfo_parse("xdrm-engine-npu-amdxdna: 5 ns\n", &ns) == 0);  /* must start a line */
}

/* An encoder's worth of GEMMs for a 64-state, 2-layer model on npu-emu
 * (printed, not asserted: a benchmark is not a test). */
static void time_micro_encoder(void)
{
    lc_backend *b = mk("npu-emu", NULL);
    if (!b) return;
    const int s = 64, nm = 80;
    struct { int M, K, N; } sh[] = {{3000, 3 * nm, s}, {1500, 3 * s, s},
        {1500, s, s}, {1500, s, s}, {1500, s, s}, {1500, s, s}, {1500, s, 4 * s}, {1500, 4 * s, s},
        {1500, s, s}, {1500, s, s}, {1500, s, s}, {1500, s, s}, {1500, s, 4 * s}, {1500, 4 * s, s}};
    const int n = sizeof sh / sizeof *sh;
    float *A = rnd((size_t)3000 * 4 * s, 1), *C = malloc(sizeof(float) * 3000 * 4 * s);
    lc_mat m[14];
    lc_err e;
    for (int i = 0; i < n; i++) {
        m[i] = (lc_mat){rnd((size_t)sh[i].N * sh[i].K, 0.1f), sh[i].N, sh[i].K, NULL, NULL};
        backend_prepare(b, &m[i], &e);
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < n; i++) CHECK(backend_gemm(b, sh[i].M, A, sh[i].K, &m[i], NULL, C, sh[i].N, &e) == 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("npu-emu: micro encoder GEMMs (64 state, 2 layers, 1500 rows): %.1f ms (emulated, on the CPU)\n",
           (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
    for (int i = 0; i < n; i++) { backend_release(b, &m[i]); free((void *)m[i].w); }
    free(A); free(C);
    backend_destroy(b);
}

int main(void)
{
    test_emu_ops(NULL);      /* the default: bf16x3 */
    test_emu_ops("bf16");
    test_faults();
    test_no_hardware();
    test_discovery();
    time_micro_encoder();
    TEST_DONE();
}
