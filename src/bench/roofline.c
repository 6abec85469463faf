/* roofline.c: sgemm and memory-bandwidth ceilings (see roofline.h). */
#include "bench/roofline.h"
#include "util/mem.h"

#include <cblas.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define ROOFLINE_X86 1
#endif

void openblas_set_num_threads(int num_threads); /* OpenBLAS; not in netlib's cblas.h */

#define REPS 15 /* best of: the machines are noisy and one run takes ~20 ms */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int resolve_threads(int threads)
{
    if (threads > 0) return threads;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

double roofline_sgemm_gflops(int threads)
{
    const int M = ROOFLINE_GEMM_M, N = ROOFLINE_GEMM_N, K = ROOFLINE_GEMM_K;
    float *a = malloc(sizeof *a * (size_t)M * K);
    float *b = malloc(sizeof *b * (size_t)N * K);
    float *c = malloc(sizeof *c * (size_t)M * N);
    double best = 0;
    if (!a || !b || !c) goto out;
    /* small, varied values: denormals or NaNs would slow some CPUs down */
    for (size_t i = 0; i < (size_t)M * K; i++) a[i] = (float)((int)(i % 17) - 8) * 0.01f;
    for (size_t i = 0; i < (size_t)N * K; i++) b[i] = (float)((int)(i % 13) - 6) * 0.01f;
    openblas_set_num_threads(resolve_threads(threads));
    for (int r = 0; r <= REPS; r++) { /* r = 0 warms up threads and caches */
        double t0 = now_s();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, a, K, b, K, 0.0f, c, N);
        double dt = now_s() - t0;
        double gf = 2.0 * M * N * K / dt * 1e-9;
        if (r > 0 && dt > 0 && gf > best) best = gf;
    }
    /* back to how the engine runs it: one OpenBLAS thread per pool thread */
    openblas_set_num_threads(1);
out:
    free(a); free(b); free(c);
    return best;
}

/* ---- bandwidth ---- */

static float sum_scalar(const float *p, size_t n)
{
    /* independent accumulators so the adds do not serialise */
    float s[8] = { 0 };
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) s[k] += p[i + k];
    for (; i < n; i++) s[0] += p[i];
    return s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
}

#ifdef ROOFLINE_X86
__attribute__((target("avx2")))
static float sum_avx2(const float *p, size_t n)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_add_ps(s0, _mm256_loadu_ps(p + i));
        s1 = _mm256_add_ps(s1, _mm256_loadu_ps(p + i + 8));
        s2 = _mm256_add_ps(s2, _mm256_loadu_ps(p + i + 16));
        s3 = _mm256_add_ps(s3, _mm256_loadu_ps(p + i + 24));
    }
    float t[8];
    _mm256_storeu_ps(t, _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7] + sum_scalar(p + i, n - i);
}
#endif

typedef struct mem_job {
    const float *p;
    size_t n;
    float (*sum)(const float *, size_t);
    float result;
} mem_job;

static void *mem_worker(void *arg)
{
    mem_job *j = arg;
    j->result = j->sum(j->p, j->n);
    return NULL;
}

/* One pass over the whole array on nt threads; seconds, or -1. Creating and
 * joining the threads costs tens of microseconds against ~10 ms of reading. */
static double mem_pass(mem_job *jobs, pthread_t *tid, int nt)
{
    int started = 0;
    double t0 = now_s();
    for (; started < nt; started++)
        if (pthread_create(&tid[started], NULL, mem_worker, &jobs[started])) break;
    for (int t = 0; t < started; t++) pthread_join(tid[t], NULL);
    double dt = now_s() - t0;
    return started == nt ? dt : -1;
}

double roofline_mem_gbps(int threads)
{
    int nt = resolve_threads(threads);
    size_t n = ROOFLINE_MEM_BYTES / sizeof(float);
    float *p = lc_alloc_huge(ROOFLINE_MEM_BYTES); /* the decoder streams from huge pages too (util/mem.h) */
    mem_job *jobs = calloc((size_t)nt, sizeof *jobs);
    pthread_t *tid = calloc((size_t)nt, sizeof *tid);
    double best = 0;
    if (!p || !jobs || !tid) goto out;
    for (size_t i = 0; i < n; i++) p[i] = (float)(i & 255) * (1.0f / 256); /* touch every page */

    float (*sum)(const float *, size_t) = sum_scalar;
#ifdef ROOFLINE_X86
    if (__builtin_cpu_supports("avx2")) sum = sum_avx2;
#endif
    size_t per = (n / (size_t)nt) & ~(size_t)15; /* 64-byte aligned slices */
    for (int t = 0; t < nt; t++) {
        size_t first = per * (size_t)t;
        jobs[t] = (mem_job){ p + first, t == nt - 1 ? n - first : per, sum, 0 };
    }
    volatile float sink = 0; /* keeps the sums, so the reads stay */
    for (int r = 0; r <= REPS; r++) { /* r = 0 warms up */
        double dt = mem_pass(jobs, tid, nt);
        if (dt < 0) { best = 0; break; }
        for (int t = 0; t < nt; t++) sink += jobs[t].result;
        double gbps = (double)ROOFLINE_MEM_BYTES / dt * 1e-9;
        if (r > 0 && dt > 0 && gbps > best) best = gbps;
    }
    (void)sink;
out:
    free(p); free(jobs); free(tid);
    return best;
}
