/* backend.h: the one ops table behind which the accelerators hide.
 *
 * The encoder and the mel front end call backend_gemm()/backend_mel_power();
 * they never know whether OpenBLAS, an XRT NPU or the emulated NPU did the
 * work (cmus op.h style). Only backend_cpu.c knows OpenBLAS/FFTW; only the
 * npu* files know XRT.
 *
 * Ops (each may be routed to a different device, see lc_backend.route):
 *   GEMM       C[M,N] = A[M,K] · W[N,K]ᵀ (+ bias[N]), row-major, f32 in/out.
 *              NPU devices compute it with bf16 inputs and f32 accumulation.
 *   MEL_POWER  out[n, n_mels] = |rfft(frames[n, 400])|² · filtersᵀ, where the
 *              frames are already Hann-windowed (N_FFT 400, 201 bins).
 *
 * Fallback: when a device op fails (open, load, timeout, bad state) the
 * router reruns that op on the CPU device, so no window is lost, counts it
 * in `fallbacks`, and switches the device off after LC_NPU_MAX_FAILS.
 *
 * Thread-safety: one lc_backend per stream; calls on it are not reentrant.
 * backend_stats() and backend_where() may be called from any thread (the
 * counters are C11 atomics, last_error is copied under a mutex).
 *
 * The decoder's per-token GEMVs stay on the CPU: a GEMV moves every weight
 * once per token, each NPU launch costs tens of µs, and the NPU reads DDR at
 * the same bandwidth as the CPU, so it cannot be faster (docs/npu.md).
 */
#ifndef LC_BACKEND_H
#define LC_BACKEND_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include "util/err.h"

enum lc_op { LC_OP_GEMM, LC_OP_MEL_POWER, LC_OP_COUNT };

/* A weight matrix [rows=N, cols=K] as the model holds it (f32, row-major).
 * `dev` is a slot the accelerator may fill in lc_device.prepare() with its
 * own copy (e.g. bf16 tiles), `cpu` the same for the CPU device (AMX tiles,
 * amx.h); each is freed by its device's release(). */
typedef struct lc_mat {
    const float *w;
    int rows, cols;
    void *dev;
    void *cpu;
} lc_mat;

/* One device: a table of function pointers and its private context. */
typedef struct lc_device {
    const char *name;   /* "cpu", "npu", "npu-emu" */
    const char *label;  /* for UI/JSON/logs: "CPU", "NPU", "NPU (emulated)" */
    int is_npu;         /* counts toward util.npu */
    void *ctx;
    /* Optional: convert/upload a weight once at model bind time. */
    int (*prepare)(void *ctx, lc_mat *m, lc_err *e); /* fills m->dev (m->cpu: CPU device) */
    void (*release)(void *ctx, lc_mat *m);
    int (*gemm)(void *ctx, int M, const float *A, int lda, const lc_mat *W,
                const float *bias, float *C, int ldc, lc_err *e);
    int (*mel_power)(void *ctx, int n, const float *frames, int n_mels,
                     const float *filters /* [n_mels, 201] */, float *out, lc_err *e);
    void (*destroy)(void *ctx);
} lc_device;

#define LC_NPU_MAX_FAILS 3 /* consecutive failures before the NPU is turned off */

typedef struct lc_backend {
    lc_device *cpu;              /* always present */
    lc_device *accel;            /* NULL when none */
    _Atomic(lc_device *) route[LC_OP_COUNT]; /* where each op runs now */
    /* Published counters (read by stats with relaxed atomics). */
    _Atomic uint64_t fallbacks;  /* ops rerun on the CPU after a device error */
    _Atomic uint64_t accel_busy_ns; /* wall time with a device op in flight (CLOCK_MONOTONIC) */
    _Atomic uint64_t accel_ops;  /* ops completed on the device */
    _Atomic uint64_t accel_fails; /* device errors (ops and prepares) */
    _Atomic int accel_off;       /* 1 once switched off after LC_NPU_MAX_FAILS */
    int consecutive_fails;       /* stream thread only */
    char last_error[256];        /* last device error, for the status line (under err_lock) */
    pthread_mutex_t err_lock;
} lc_backend;

/* A consistent copy of the counters for the UI/JSON (any thread). */
typedef struct lc_backend_stats {
    const char *where[LC_OP_COUNT]; /* labels, as backend_where() */
    const char *accel_label;     /* NULL when no accelerator */
    int accel_emulated;          /* the accelerator is "NPU (emulated)" */
    int accel_off;
    uint64_t fallbacks, accel_ops, accel_fails, accel_busy_ns;
    /* drm-engine-npu-amdxdna from /proc/self/fdinfo (real NPU only), or -1 */
    int64_t driver_busy_ns;
    char last_error[256];
} lc_backend_stats;

void backend_stats(const lc_backend *b, lc_backend_stats *out);

/* Creates the backend named by `which`: "cpu", "npu", "npu-emu" or "auto".
 * "auto" uses the NPU when present with its artifacts, else the CPU, and
 * writes why into `why` (may be NULL). `npu_precision` is the NPU GEMMs'
 * arithmetic: "bf16x3" (NULL or "": the default) or "bf16" (bf16.h).
 * Returns NULL and fills e on error (e.g. "npu" asked for but absent). */
lc_backend *backend_create(const char *which, int threads, const char *npu_precision,
                           char *why, size_t whylen, lc_err *e);
void backend_destroy(lc_backend *b);

/* The CPU device's weight GEMMs: OpenBLAS sgemm (f32), or bf16x3 on AMX
 * tiles (amx.h: ~2^-16 relative, the NPU's default arithmetic), for CPUs
 * that have AMX. `mode`: "sgemm", "amx-bf16x3", or "auto" = AMX when the
 * CPU has it and `exact` is 0 (the caller passes 1 for f32 model files and
 * --precise, whose weights are meant to be multiplied in f32). Call before
 * backend_prepare. -1 + e: unknown mode, or AMX asked for and absent. */
int backend_cpu_gemm(lc_backend *b, const char *mode, int exact, lc_err *e);
/* "sgemm" or "AMX bf16x3": what the CPU device's GEMMs use (any thread). */
const char *backend_cpu_gemm_name(const lc_backend *b);
/* 1 when they use AMX (the encoder's attention follows the same mode). */
int backend_cpu_amx(const lc_backend *b);

/* Hands a weight to the accelerator once (bf16 copy in its own buffer), or
 * when there is none (or it declines) to the CPU device (AMX tiles in
 * bf16x3 mode). A device failure here is not an error: it is counted and
 * recorded, and that weight's GEMMs run on the CPU. Returns -1 only on a
 * CPU-side error, or for a weight without f32 data (released after an AMX
 * packing by whisper_prepare: such a model binds to one backend). */
int  backend_prepare(lc_backend *b, lc_mat *m, lc_err *e);
void backend_release(lc_backend *b, lc_mat *m);

/* Routed ops with CPU fallback. They fail only if the CPU fails too. */
int backend_gemm(lc_backend *b, int M, const float *A, int lda, const lc_mat *W,
                 const float *bias, float *C, int ldc, lc_err *e);
int backend_mel_power(lc_backend *b, int n, const float *frames, int n_mels,
                      const float *filters, float *out, lc_err *e);

/* Label of the device an op runs on ("CPU", "NPU (emulated)", …). */
const char *backend_where(const lc_backend *b, enum lc_op op);

/* Device constructors. The CPU one never fails. */
lc_device *device_cpu_create(int threads);
/* backend_cpu.c: the CPU device's GEMM mode (backend_cpu_gemm resolves "auto") */
int device_cpu_set_amx(lc_device *cpu, int on);   /* -1 if on and no AMX */
int device_cpu_amx(const lc_device *cpu);
/* npu.c: real XRT device via the dlopen'ed shim; NULL + why if unavailable. */
lc_device *device_npu_create(int split, char *why, size_t whylen);
/* npu_emu.c: emulated NPU (C references of the kernels' exact arithmetic).
 * _open reports why it failed (bad LIVECAP_NPU_FAULT); _create is _open(NULL).
 * split: 1 = bf16 GEMMs, NPU_SPLIT_BF16X3 = bf16x3 (bf16.h). */
lc_device *device_npu_emu_create(int split);
lc_device *device_npu_emu_open(int split, lc_err *e);

#endif
