/* backend_cpu.c: the CPU device of the ops table: OpenBLAS sgemm (or
 * bf16x3 on AMX tiles, amx.h) and an FFTW3 real FFT. The only file of the
 * backend that knows OpenBLAS/FFTW. */
#include <cblas.h>
#include <fftw3.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "engine/amx.h"
#include "engine/backend.h"
#include "engine/blas.h"
#include "engine/pool.h"

#define N_FFT 400            /* 25 ms at 16 kHz, openai-whisper audio.py */
#define N_BINS (N_FFT / 2 + 1)
#define MEL_BATCH 256         /* frames per FFTW plan execution */

typedef struct cpu_ctx {
    fftwf_plan plan;
    float *in;                /* [MEL_BATCH, N_FFT] */
    fftwf_complex *out;       /* [MEL_BATCH, N_BINS] */
    float *power;             /* [MEL_BATCH, N_BINS] */
    int amx;                  /* weight GEMMs in bf16x3 on AMX (prepare packs them) */
} cpu_ctx;

/* FFTW's planner is not thread-safe; plans are made under this lock. */
static pthread_mutex_t plan_lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct gemm_job {
    int M;
    const float *A;
    int lda;
    const lc_mat *W;
    const float *bias;
    float *C;
    int ldc;
    atomic_int failed;        /* AMX scratch could not grow and no f32 copy */
} gemm_job;

/* One pool thread's block of rows: OpenBLAS is single-threaded in here. */
static void gemm_rows(void *ctx, int ith, int nth)
{
    gemm_job *j = ctx;
    const int N = j->W->rows, K = j->W->cols;
    int lo, hi;
    pool_range(j->M, ith, nth, &lo, &hi);
    if (hi <= lo) return;
    float *C = j->C + (size_t)lo * j->ldc;
    if (j->W->cpu) {
        if (amx_gemm(j->W->cpu, hi - lo, j->A + (size_t)lo * j->lda, j->lda, j->bias, C, j->ldc) == 0) return;
        if (!j->W->w) { atomic_store(&j->failed, 1); return; } /* released (whisper_prepare) */
    }
    if (j->bias)
        for (int i = lo; i < hi; i++) memcpy(j->C + (size_t)i * j->ldc, j->bias, (size_t)N * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, hi - lo, N, K, 1.0f, j->A + (size_t)lo * j->lda, j->lda,
                j->W->w, K, j->bias ? 1.0f : 0.0f, C, j->ldc);
}

static int cpu_gemm(void *ctx, int M, const float *A, int lda, const lc_mat *W,
                    const float *bias, float *C, int ldc, lc_err *e)
{
    (void)ctx;
    gemm_job j = { M, A, lda, W, bias, C, ldc, 0 };
    /* small M (decoder rows) is not worth a fork-join */
    pool_run(M >= 64 ? blas_pool() : NULL, gemm_rows, &j);
    return atomic_load(&j.failed) ? lc_fail(e, "out of memory for the AMX GEMM's scratch (%d rows)", M) : 0;
}

static int cpu_prepare(void *vctx, lc_mat *m, lc_err *e)
{
    const cpu_ctx *c = vctx;
    if (!c->amx || !m->w) return 0;
    if (!(m->cpu = amx_pack(m->w, m->rows, m->cols)))
        return lc_fail(e, "out of memory for the AMX copy of a %d x %d weight", m->rows, m->cols);
    return 0;
}

static void cpu_release(void *vctx, lc_mat *m)
{
    (void)vctx;
    amx_free(m->cpu);
    m->cpu = NULL;
}

int device_cpu_set_amx(lc_device *d, int on)
{
    cpu_ctx *c = d->ctx;
    if (on && !amx_usable()) return -1;
    c->amx = on;
    return 0;
}

int device_cpu_amx(const lc_device *d) { return ((const cpu_ctx *)d->ctx)->amx; }

static int cpu_mel_power(void *vctx, int n, const float *frames, int n_mels,
                         const float *filters, float *out, lc_err *e)
{
    cpu_ctx *c = vctx;
    for (int f0 = 0; f0 < n; f0 += MEL_BATCH) {
        int nb = n - f0 < MEL_BATCH ? n - f0 : MEL_BATCH;
        memcpy(c->in, frames + (size_t)f0 * N_FFT, (size_t)nb * N_FFT * sizeof(float));
        fftwf_execute(c->plan); /* whole batch; frames past nb are ignored */
        for (int i = 0; i < nb; i++) {
            /* fftwf_complex may be C99 complex (cblas.h pulls in complex.h)
             * or float[2]; both are laid out as interleaved re, im. */
            const float *X = (const float *)(c->out + (size_t)i * N_BINS);
            float *p = c->power + (size_t)i * N_BINS;
            for (int k = 0; k < N_BINS; k++)
                p[k] = X[2 * k] * X[2 * k] + X[2 * k + 1] * X[2 * k + 1];
        }
        /* [nb, n_mels] = power[nb, 201] · filters[n_mels, 201]ᵀ */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, n_mels, N_BINS, 1.0f,
                    c->power, N_BINS, filters, N_BINS, 0.0f, out + (size_t)f0 * n_mels, n_mels);
    }
    (void)e;
    return 0;
}

static void cpu_destroy(void *vctx)
{
    cpu_ctx *c = vctx;
    if (!c) return;
    pthread_mutex_lock(&plan_lock);
    if (c->plan) fftwf_destroy_plan(c->plan);
    pthread_mutex_unlock(&plan_lock);
    fftwf_free(c->in);
    fftwf_free(c->out);
    free(c->power);
    free(c);
}


lc_device *device_cpu_create(int threads)
{
    blas_set_threads(threads);
    lc_device *d = calloc(1, sizeof *d);
    cpu_ctx *c = calloc(1, sizeof *c);
    if (!d || !c) { free(d); free(c); return NULL; }
    c->in = fftwf_malloc(sizeof(float) * MEL_BATCH * N_FFT);
    c->out = fftwf_malloc(sizeof(fftwf_complex) * MEL_BATCH * N_BINS);
    c->power = malloc(sizeof(float) * MEL_BATCH * N_BINS);
    if (!c->in || !c->out || !c->power) { cpu_destroy(c); free(d); return NULL; }
    int nfft = N_FFT;
    pthread_mutex_lock(&plan_lock);
    c->plan = fftwf_plan_many_dft_r2c(1, &nfft, MEL_BATCH, c->in, NULL, 1, N_FFT,
                                      c->out, NULL, 1, N_BINS, FFTW_ESTIMATE);
    pthread_mutex_unlock(&plan_lock);
    if (!c->plan) { cpu_destroy(c); free(d); return NULL; }
    d->name = "cpu";
    d->label = "CPU";
    d->ctx = c;
    d->prepare = cpu_prepare;
    d->release = cpu_release;
    d->gemm = cpu_gemm;
    d->mel_power = cpu_mel_power;
    d->destroy = cpu_destroy;
    return d;
}


/* ---- blas.h ---------------------------------------------------------------- */
#include "engine/blas.h"

void blas_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha,
                const float *A, int lda, const float *B, int ldb, float beta,
                float *C, int ldc)
{
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb,
                beta, C, ldc);
}

void blas_sgemv(int trans, int rows, int cols, float alpha, const float *A, int lda,
                const float *x, float beta, float *y)
{
    cblas_sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, rows, cols, alpha, A, lda, x, 1, beta, y, 1);
}

static lc_pool *g_pool;
static pthread_once_t g_pool_once = PTHREAD_ONCE_INIT;
static int g_pool_n;

/* Joins the workers at exit, so leak checkers (valgrind) see every
 * thread's memory returned. */
static void pool_at_exit(void)
{
    pool_free(g_pool);
    g_pool = NULL;
}

static void pool_init_once(void)
{
    g_pool = pool_create(g_pool_n);
    openblas_set_num_threads(1);
    atexit(pool_at_exit);
}

void blas_set_threads(int n)
{
    g_pool_n = n;
    pthread_once(&g_pool_once, pool_init_once);
}

struct lc_pool *blas_pool(void) { return g_pool; }
