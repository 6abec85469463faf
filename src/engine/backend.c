/* backend.c: the router of the ops table (backend.h): picks the devices,
 * routes each op, reruns a failed device op on the CPU, switches the device
 * off after LC_NPU_MAX_FAILS consecutive failures, and keeps the counters
 * the status line and util.npu are made of. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/backend.h"
#include "engine/amx.h"
#include "engine/bf16.h"
#include "engine/npu_discover.h"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void say(char *why, size_t whylen, const char *fmt, const char *a)
{
    if (why && whylen) snprintf(why, whylen, fmt, a);
}

lc_backend *backend_create(const char *which, int threads, const char *npu_precision,
                           char *why, size_t whylen, lc_err *e)
{
    if (!which || !*which) which = "auto";
    int split = NPU_SPLIT_BF16X3;
    if (npu_precision && *npu_precision && strcmp(npu_precision, "bf16x3")) {
        if (strcmp(npu_precision, "bf16"))
            return lc_fail(e, "--npu-precision: unknown value '%s' (want bf16x3 or bf16)", npu_precision), NULL;
        split = 1;
    }
    const int is_cpu = !strcmp(which, "cpu"), is_npu = !strcmp(which, "npu"),
              is_emu = !strcmp(which, "npu-emu"), is_auto = !strcmp(which, "auto");
    if (!is_cpu && !is_npu && !is_emu && !is_auto)
        return lc_fail(e, "--backend: unknown value '%s' (want auto, cpu, npu or npu-emu)", which), NULL;
    lc_backend *b = calloc(1, sizeof *b);
    if (!b) return lc_fail(e, "backend: out of memory"), NULL;
    pthread_mutex_init(&b->err_lock, NULL);
    b->cpu = device_cpu_create(threads);
    if (!b->cpu) { free(b); return lc_fail(e, "backend: cannot create the CPU device (out of memory)"), NULL; }

    char r[512] = "";
    if (is_cpu) {
        say(why, whylen, "%s", "backend cpu: asked for");
    } else if (is_emu) {
        lc_err de;
        b->accel = device_npu_emu_open(split, &de);
        if (!b->accel) {
            backend_destroy(b);
            return lc_fail(e, "--backend npu-emu: %s", de.msg), NULL;
        }
        say(why, whylen, "%s", "backend npu-emu: NPU (emulated) - the kernels' arithmetic run on the CPU, not a real NPU");
    } else {
        b->accel = device_npu_create(split, r, sizeof r);
        if (!b->accel && is_npu) {
            backend_destroy(b);
            return lc_fail(e, "--backend npu: %s (use --backend cpu, or npu-emu for the emulated device)", r), NULL;
        }
        if (b->accel) say(why, whylen, "backend NPU: %s", r);
        else say(why, whylen, "backend CPU: %s", r);
    }
    for (int op = 0; op < LC_OP_COUNT; op++) atomic_init(&b->route[op], b->cpu);
    if (b->accel) {
        if (b->accel->gemm) atomic_init(&b->route[LC_OP_GEMM], b->accel);
        if (b->accel->mel_power) atomic_init(&b->route[LC_OP_MEL_POWER], b->accel);
    }
    return b;
}

void backend_destroy(lc_backend *b)
{
    if (!b) return;
    if (b->accel) b->accel->destroy(b->accel->ctx);
    free(b->accel);
    if (b->cpu) b->cpu->destroy(b->cpu->ctx);
    free(b->cpu);
    pthread_mutex_destroy(&b->err_lock);
    free(b);
}

/* A device error: remember it, and after LC_NPU_MAX_FAILS in a row route
 * everything to the CPU for the rest of the session. */
static void device_failed(lc_backend *b, const char *msg)
{
    atomic_fetch_add_explicit(&b->accel_fails, 1, memory_order_relaxed);
    const int off = ++b->consecutive_fails >= LC_NPU_MAX_FAILS;
    pthread_mutex_lock(&b->err_lock);
    if (off)
        snprintf(b->last_error, sizeof b->last_error, "%s off after %d failures: %.180s",
                 b->accel->label, LC_NPU_MAX_FAILS, msg);
    else snprintf(b->last_error, sizeof b->last_error, "%s", msg);
    pthread_mutex_unlock(&b->err_lock);
    if (off) {
        for (int op = 0; op < LC_OP_COUNT; op++) atomic_store(&b->route[op], b->cpu);
        atomic_store(&b->accel_off, 1);
    }
}

int backend_cpu_gemm(lc_backend *b, const char *mode, int exact, lc_err *e)
{
    if (!mode || !*mode || !strcmp(mode, "auto")) {
        device_cpu_set_amx(b->cpu, !exact && amx_usable());
        return 0;
    }
    if (!strcmp(mode, "sgemm")) return device_cpu_set_amx(b->cpu, 0);
    if (!strcmp(mode, "amx-bf16x3")) {
        if (device_cpu_set_amx(b->cpu, 1))
            return lc_fail(e, "--cpu-gemm amx-bf16x3: this CPU (or kernel) has no AMX-BF16 (use auto or sgemm)");
        return 0;
    }
    return lc_fail(e, "--cpu-gemm: unknown value '%s' (want auto, sgemm or amx-bf16x3)", mode);
}

const char *backend_cpu_gemm_name(const lc_backend *b) { return device_cpu_amx(b->cpu) ? "AMX bf16x3" : "sgemm"; }
int backend_cpu_amx(const lc_backend *b) { return device_cpu_amx(b->cpu); }

int backend_prepare(lc_backend *b, lc_mat *m, lc_err *e)
{
    /* whisper_prepare gives back the f32 pages of what the CPU packed for
     * AMX: such a model binds to one backend (and nothing may reach sgemm
     * with a NULL weight) */
    if (!m->w)
        return lc_fail(e, "a %d x %d encoder weight has no f32 copy left: a model packed for AMX binds to one backend",
                       m->rows, m->cols);
    m->dev = NULL;
    m->cpu = NULL;
    if (b->accel && b->accel->prepare && !atomic_load(&b->accel_off)) {
        lc_err de;
        if (b->accel->prepare(b->accel->ctx, m, &de)) {
            m->dev = NULL;      /* this weight's GEMMs run on the CPU */
            device_failed(b, de.msg);
        } else {
            b->consecutive_fails = 0;
        }
    }
    /* the CPU's own copy only where it does the work (a device's fallback
     * runs sgemm on the f32 weights) */
    if (!m->dev && b->cpu->prepare && b->cpu->prepare(b->cpu->ctx, m, e)) return -1;
    return 0;
}

void backend_release(lc_backend *b, lc_mat *m)
{
    if (b->accel && b->accel->release && m->dev) b->accel->release(b->accel->ctx, m);
    if (b->cpu->release && m->cpu) b->cpu->release(b->cpu->ctx, m);
    m->dev = NULL;
    m->cpu = NULL;
}

/* Runs on the device with accounting; 0 on success, else the device error
 * has been recorded and the caller reruns the op on the CPU. */
#define ON_DEVICE(b, d, call)                                                   \
    do {                                                                        \
        lc_err de_;                                                             \
        const uint64_t t0_ = now_ns();                                          \
        const int rc_ = (call);                                                 \
        atomic_fetch_add_explicit(&(b)->accel_busy_ns, now_ns() - t0_, memory_order_relaxed); \
        if (rc_ == 0) {                                                         \
            atomic_fetch_add_explicit(&(b)->accel_ops, 1, memory_order_relaxed); \
            (b)->consecutive_fails = 0;                                         \
            return 0;                                                           \
        }                                                                       \
        atomic_fetch_add_explicit(&(b)->fallbacks, 1, memory_order_relaxed);    \
        device_failed((b), de_.msg);                                            \
    } while (0)

int backend_gemm(lc_backend *b, int M, const float *A, int lda, const lc_mat *W,
                 const float *bias, float *C, int ldc, lc_err *e)
{
    lc_device *d = atomic_load_explicit(&b->route[LC_OP_GEMM], memory_order_relaxed);
    if (d != b->cpu && W->dev)
        ON_DEVICE(b, d, d->gemm(d->ctx, M, A, lda, W, bias, C, ldc, &de_));
    return b->cpu->gemm(b->cpu->ctx, M, A, lda, W, bias, C, ldc, e);
}

int backend_mel_power(lc_backend *b, int n, const float *frames, int n_mels,
                      const float *filters, float *out, lc_err *e)
{
    lc_device *d = atomic_load_explicit(&b->route[LC_OP_MEL_POWER], memory_order_relaxed);
    if (d != b->cpu)
        ON_DEVICE(b, d, d->mel_power(d->ctx, n, frames, n_mels, filters, out, &de_));
    return b->cpu->mel_power(b->cpu->ctx, n, frames, n_mels, filters, out, e);
}

const char *backend_where(const lc_backend *b, enum lc_op op)
{
    if (op < 0 || op >= LC_OP_COUNT) return "?";
    lc_device *d = atomic_load_explicit(&((lc_backend *)b)->route[op], memory_order_relaxed);
    return d->label;
}

void backend_stats(const lc_backend *cb, lc_backend_stats *out)
{
    lc_backend *b = (lc_backend *)cb; /* atomics and the mutex are not const */
    memset(out, 0, sizeof *out);
    for (int op = 0; op < LC_OP_COUNT; op++) out->where[op] = backend_where(b, (enum lc_op)op);
    out->accel_label = b->accel ? b->accel->label : NULL;
    out->accel_emulated = b->accel && !strcmp(b->accel->name, "npu-emu");
    out->accel_off = atomic_load(&b->accel_off);
    out->fallbacks = atomic_load_explicit(&b->fallbacks, memory_order_relaxed);
    out->accel_ops = atomic_load_explicit(&b->accel_ops, memory_order_relaxed);
    out->accel_fails = atomic_load_explicit(&b->accel_fails, memory_order_relaxed);
    out->accel_busy_ns = atomic_load_explicit(&b->accel_busy_ns, memory_order_relaxed);
    uint64_t v;
    out->driver_busy_ns = (b->accel && !strcmp(b->accel->name, "npu") && npu_fdinfo_busy_ns(&v))
                              ? (int64_t)v : -1;
    pthread_mutex_lock(&b->err_lock);
    memcpy(out->last_error, b->last_error, sizeof out->last_error);
    pthread_mutex_unlock(&b->err_lock);
}
