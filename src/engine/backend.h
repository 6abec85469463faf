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
 */
#ifndef LC_BACKEND_H
#define LC_BACKEND_H

#include <stdint.h>
#include "util/err.h"

enum lc_op { LC_OP_GEMM, LC_OP_MEL_POWER, LC_OP_COUNT };

/* A weight matrix [rows=N, cols=K] as the model holds it (f32, row-major).
 * `dev` is a slot a device may fill in lc_device.prepare() with its own copy
 * (e.g. bf16 tiles); it is freed by lc_device.release(). */
typedef struct lc_mat {
    const float *w;
    int rows, cols;
    void *dev;
} lc_mat;

/* One device: a table of function pointers and its private context. */
typedef struct lc_device {
    const char *name;   /* "cpu", "npu", "npu-emu" */
    const char *label;  /* for UI/JSON/logs: "CPU", "NPU", "NPU (emulated)" */
    int is_npu;         /* counts toward util.npu */
    void *ctx;
    /* Optional: convert/upload a weight once at model bind time. */
    int (*prepare)(void *ctx, lc_mat *m, lc_err *e);
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
    lc_device *route[LC_OP_COUNT]; /* where each op runs now */
    /* Published counters (read by stats with relaxed atomics). */
    uint64_t fallbacks;          /* ops rerun on the CPU after a device error */
    uint64_t accel_busy_ns;      /* wall time with a device job in flight */
    int consecutive_fails;
    char last_error[256];        /* last device error, for the status line */
} lc_backend;

/* Creates the backend named by `which`: "cpu", "npu", "npu-emu" or "auto".
 * "auto" uses the NPU when present with its artifacts, else the CPU, and
 * writes why into `why` (may be NULL). Returns NULL and fills e on error
 * (e.g. "npu" asked for but absent). */
lc_backend *backend_create(const char *which, int threads, char *why, size_t whylen, lc_err *e);
void backend_destroy(lc_backend *b);

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
/* npu.c: real XRT device via the dlopen'ed shim; NULL + why if unavailable. */
lc_device *device_npu_create(char *why, size_t whylen);
/* npu_emu.c: emulated NPU (C references of the kernels' exact arithmetic). */
lc_device *device_npu_emu_create(void);

#endif
