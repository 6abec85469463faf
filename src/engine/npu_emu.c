/* npu_emu.c: the emulated NPU ("NPU (emulated)", --backend npu-emu).
 *
 * It implements the npu_shim_api table in-process and hands it to the same
 * device code as the real NPU (npu.c), so tiling, bf16 packing, buffer
 * objects, syncs and launches follow the real call sequence. A BO has a host
 * side and a "device" side; only bo_sync copies between them, so a missing
 * sync gives wrong results in the tests, as it would on silicon. A launch
 * runs bf16_array_gemm (the kernel's exact arithmetic) on the device sides.
 *
 * Fault injection, LIVECAP_NPU_FAULT (comma-separated):
 *   timeout@N[,M…]  the Nth (Mth, …) launch times out (C is left as NaN)
 *   load            every xclbin load fails
 *   random:P        each launch fails with probability P (0..1), seeded by
 *                   LIVECAP_NPU_FAULT_SEED (default 1)
 * A value that does not parse makes creation fail with a line naming it.
 *
 * Thread-safety: one caller thread per device, like the real one.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/bf16.h"
#include "engine/npu.h"

#define EMU_MAX_TIMEOUTS 16

struct npu_shim_dev {
    unsigned long jobs;                  /* launches so far */
    unsigned long timeout_at[EMU_MAX_TIMEOUTS];
    int n_timeouts;
    int fail_load;
    double p_fail;
    uint64_t rng;
};

struct npu_shim_kernel {
    npu_shim_dev *d;
    int Mp, Kp, Np;
    float *scratch;                      /* (NPU_TILE_K + 1) * Np */
};

struct npu_shim_bo {
    npu_shim_kernel *k;
    int arg;
    size_t bytes;
    void *host, *dev;
};

static void emsg(char *err, size_t len, const char *m) { snprintf(err, len, "%s", m); }

static int emu_abi(void) { return NPU_SHIM_ABI; }

static npu_shim_dev *emu_open(unsigned index, char *err, size_t errlen)
{
    (void)index;
    npu_shim_dev *d = calloc(1, sizeof *d);
    if (!d) emsg(err, errlen, "emulated NPU: out of memory");
    return d;
}

static void emu_close(npu_shim_dev *d) { free(d); }

static npu_shim_kernel *emu_load(npu_shim_dev *d, const char *xclbin, const char *insts,
                                 char *err, size_t errlen)
{
    if (d->fail_load) {
        snprintf(err, errlen, "%s: xclbin load failed (emulated fault, LIVECAP_NPU_FAULT=load)", xclbin);
        return NULL;
    }
    /* the shape is in the artifact name, as the real build names them */
    const char *base = strrchr(xclbin, '/') ? strrchr(xclbin, '/') + 1 : xclbin;
    int M, K, N;
    char tail[16];
    if (sscanf(base, "gemm_%dx%dx%d.%15s", &M, &K, &N, tail) != 4 || strcmp(tail, "xclbin") != 0 ||
        !strstr(insts, "insts") || M <= 0 || K <= 0 || N <= 0 || M % (NPU_TILE_M * NPU_ROWS) ||
        K % NPU_TILE_K || N % NPU_TILE_N) {
        snprintf(err, errlen, "%s: not a gemm artifact of this design", xclbin);
        return NULL;
    }
    npu_shim_kernel *k = calloc(1, sizeof *k);
    if (k) k->scratch = malloc(sizeof(float) * (NPU_TILE_K + 1) * (size_t)N);
    if (!k || !k->scratch) {
        if (k) free(k);
        emsg(err, errlen, "emulated NPU: out of memory");
        return NULL;
    }
    k->d = d;
    k->Mp = M;
    k->Kp = K;
    k->Np = N;
    return k;
}

static void emu_unload(npu_shim_kernel *k)
{
    if (!k) return;
    free(k->scratch);
    free(k);
}

static npu_shim_bo *emu_bo_alloc(npu_shim_kernel *k, int arg, size_t bytes, char *err, size_t errlen)
{
    npu_shim_bo *b = calloc(1, sizeof *b);
    if (b) {
        b->host = calloc(1, bytes);
        b->dev = calloc(1, bytes);
    }
    if (!b || !b->host || !b->dev) {
        if (b) { free(b->host); free(b->dev); free(b); }
        emsg(err, errlen, "emulated NPU: out of memory for a buffer object");
        return NULL;
    }
    b->k = k;
    b->arg = arg;
    b->bytes = bytes;
    return b;
}

static void *emu_bo_map(npu_shim_bo *b) { return b->host; }

static int emu_bo_sync(npu_shim_bo *b, int to_device, char *err, size_t errlen)
{
    (void)err; (void)errlen;
    if (to_device) memcpy(b->dev, b->host, b->bytes);
    else memcpy(b->host, b->dev, b->bytes);
    return 0;
}

static void emu_bo_free(npu_shim_bo *b)
{
    if (!b) return;
    free(b->host);
    free(b->dev);
    free(b);
}

static double emu_uniform(uint64_t *s) /* xorshift64*, [0, 1) */
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (double)((*s * 2685821657736338717ull) >> 11) * 0x1.0p-53;
}

static int emu_run(npu_shim_kernel *k, npu_shim_bo *a, npu_shim_bo *b, npu_shim_bo *c,
                   unsigned timeout_ms, char *err, size_t errlen)
{
    npu_shim_dev *d = k->d;
    const unsigned long job = ++d->jobs;
    /* what XRT checks: each BO belongs to this kernel's argument group and
     * is large enough for the design's runtime sequence */
    if (a->arg != 0 || b->arg != 1 || c->arg != 2 ||
        a->bytes < (size_t)k->Mp * k->Kp * 2 || b->bytes < (size_t)k->Kp * k->Np * 2 ||
        c->bytes < (size_t)k->Mp * k->Np * 4) {
        snprintf(err, errlen, "emulated job %lu: buffer objects do not match kernel gemm_%dx%dx%d",
                 job, k->Mp, k->Kp, k->Np);
        return NPU_SHIM_ERR;
    }
    int fault = 0;
    for (int i = 0; i < d->n_timeouts; i++) fault |= d->timeout_at[i] == job;
    if (fault || (d->p_fail > 0 && emu_uniform(&d->rng) < d->p_fail)) {
        float *C = c->dev;
        for (size_t i = 0; i < c->bytes / sizeof *C; i++) C[i] = NAN; /* job did not finish */
        snprintf(err, errlen, "emulated job %lu timed out after %u ms (ERT_CMD_STATE_TIMEOUT, LIVECAP_NPU_FAULT)",
                 job, timeout_ms);
        return NPU_SHIM_TIMEOUT;
    }
    bf16_array_gemm(k->Mp, k->Kp, k->Np, a->dev, b->dev, c->dev, k->scratch);
    return 0;
}

/* Parses LIVECAP_NPU_FAULT into d; -1 with e naming the variable on error. */
static int emu_parse_faults(npu_shim_dev *d, lc_err *e)
{
    const char *spec = getenv("LIVECAP_NPU_FAULT");
    const char *seed = getenv("LIVECAP_NPU_FAULT_SEED");
    d->rng = 1;
    if (seed && *seed) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(seed, &end, 0);
        if (errno || *end || v == 0)
            return lc_fail(e, "LIVECAP_NPU_FAULT_SEED: bad value '%s' (want a non-zero integer)", seed);
        d->rng = v;
    }
    if (!spec || !*spec) return 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", spec);
    int in_timeouts = 0;
    for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *num = NULL, *end;
        if (strncmp(tok, "timeout@", 8) == 0) { num = tok + 8; in_timeouts = 1; }
        else if (in_timeouts && *tok >= '0' && *tok <= '9') num = tok;
        else if (strcmp(tok, "load") == 0) { d->fail_load = 1; in_timeouts = 0; continue; }
        else if (strncmp(tok, "random:", 7) == 0) {
            errno = 0;
            double p = strtod(tok + 7, &end);
            if (errno || end == tok + 7 || *end || !(p >= 0.0 && p <= 1.0)) goto bad;
            d->p_fail = p;
            in_timeouts = 0;
            continue;
        } else goto bad;
        errno = 0;
        unsigned long n = strtoul(num, &end, 10);
        if (errno || end == num || *end || n == 0 || d->n_timeouts == EMU_MAX_TIMEOUTS) goto bad;
        d->timeout_at[d->n_timeouts++] = n;
    }
    return 0;
bad:
    return lc_fail(e, "LIVECAP_NPU_FAULT: bad value '%s' (want timeout@N[,M...], load or random:P with 0<=P<=1)",
                   spec);
}

static const npu_shim_api emu_api = {
    emu_abi, emu_open, emu_close, emu_load, emu_unload,
    emu_bo_alloc, emu_bo_map, emu_bo_sync, emu_bo_free, emu_run,
};

lc_device *device_npu_emu_open(int split, lc_err *e)
{
    char err[256];
    npu_shim_dev *d = emu_open(0, err, sizeof err);
    if (!d) return lc_fail(e, "%s", err), NULL;
    if (emu_parse_faults(d, e)) { emu_close(d); return NULL; }
    npu_dev_cfg cfg = {
        .api = emu_api, .dev = d, .dl = NULL, .artifacts = "emulated",
        .cols = NPU_COLS_NPU1, /* emulates a Phoenix/Hawk Point (npu1) array */
        .timeout_ms = 0, .split = split, .name = "npu-emu", .label = "NPU (emulated)",
    };
    return npu_device_new(&cfg, e);
}

lc_device *device_npu_emu_create(int split)
{
    return device_npu_emu_open(split, NULL);
}
