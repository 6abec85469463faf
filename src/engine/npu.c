/* npu.c: the NPU device (see npu.h): prepare = pack W as bf16 Kp x Np into
 * its own B buffer once; gemm = pack A chunk -> sync -> launch -> sync back ->
 * add bias; mel_power = bf16x3 DFT GEMM (bf16.h) -> f32 power on the host ->
 * mel GEMM.
 * device_npu_create() finds the amdxdna device and dlopen()s libcapnpu.so. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/bf16.h"
#include "engine/npu.h"
#include "engine/npu_discover.h"

#define NPU_MAX_KERNELS 16     /* distinct GEMM shapes of one model + mel: ~8 */
#define NPU_TIMEOUT_MS 2000    /* a 1536x1280x5120 GEMM (20 GFLOP) needs ~10 ms at 2 TFLOP/s */

typedef struct npu_kern {
    int Mp, Kp, Np;
    npu_shim_kernel *k;
    npu_shim_bo *a, *c;        /* [Mp, Kp] bf16, [Mp, Np] f32 */
    uint16_t *a_host;
    float *c_host;
} npu_kern;

typedef struct npu_w {          /* lc_mat.dev: a weight resident in its own B buffer */
    npu_kern *kern;
    npu_shim_bo *b;             /* [split * kp, Np] bf16 = Wᵀ (bf16.h packing) */
    int K, N;
    int kp;                     /* K padded to NPU_TILE_K: one segment */
} npu_w;

typedef struct npu_ctx {
    npu_shim_api api;
    npu_shim_dev *dev;
    void *dl;
    char artifacts[512];
    int cols;
    int split;                  /* 1 (bf16) or NPU_SPLIT_BF16X3, for GEMMs and the mel filter */
    unsigned timeout_ms;
    npu_kern kern[NPU_MAX_KERNELS];
    int nkern;
    npu_w dft;                  /* DFT basis, built at the first mel call */
    npu_w mel;                  /* mel filters, re-packed when the pointer changes */
    const float *mel_filters;
    int mel_n;
    char err[256];
} npu_ctx;

void npu_artifact_paths(const char *dir, int Mp, int Kp, int Np, char *xclbin, char *insts, size_t len)
{
    snprintf(xclbin, len, "%s/gemm_%dx%dx%d.xclbin", dir, Mp, Kp, Np);
    snprintf(insts, len, "%s/gemm_%dx%dx%d.insts.bin", dir, Mp, Kp, Np);
}

static npu_kern *kern_get(npu_ctx *c, int Mp, int Kp, int Np, lc_err *e)
{
    for (int i = 0; i < c->nkern; i++)
        if (c->kern[i].Mp == Mp && c->kern[i].Kp == Kp && c->kern[i].Np == Np) return &c->kern[i];
    if (c->nkern == NPU_MAX_KERNELS)
        return lc_fail(e, "npu: more than %d GEMM shapes", NPU_MAX_KERNELS), NULL;
    char xp[640], ip[640];
    npu_artifact_paths(c->artifacts, Mp, Kp, Np, xp, ip, sizeof xp);
    npu_kern *k = &c->kern[c->nkern];
    memset(k, 0, sizeof *k);
    k->k = c->api.load(c->dev, xp, ip, c->err, sizeof c->err);
    if (!k->k) return lc_fail(e, "npu: %s", c->err), NULL;
    k->a = c->api.bo_alloc(k->k, 0, (size_t)Mp * Kp * sizeof(uint16_t), c->err, sizeof c->err);
    k->c = k->a ? c->api.bo_alloc(k->k, 2, (size_t)Mp * Np * sizeof(float), c->err, sizeof c->err) : NULL;
    if (!k->a || !k->c) {
        if (k->a) c->api.bo_free(k->a);
        c->api.unload(k->k);
        return lc_fail(e, "npu: %s", c->err), NULL;
    }
    k->a_host = c->api.bo_map(k->a);
    k->c_host = c->api.bo_map(k->c);
    k->Mp = Mp;
    k->Kp = Kp;
    k->Np = Np;
    c->nkern++;
    return k;
}

/* Finds the kernel for a [N, K] weight run with `split` K segments and
 * allocates its B buffer (unfilled). */
static int w_alloc(npu_ctx *c, npu_w *w, int Mp, int N, int K, int split, lc_err *e)
{
    const int kp = npu_round_up(K, NPU_TILE_K), Np = npu_round_up(N, NPU_TILE_N * c->cols);
    npu_kern *k = kern_get(c, Mp, split * kp, Np, e);
    if (!k) return -1;
    w->b = c->api.bo_alloc(k->k, 1, (size_t)k->Kp * Np * sizeof(uint16_t), c->err, sizeof c->err);
    if (!w->b) return lc_fail(e, "npu: %s", c->err);
    w->kern = k;
    w->K = K;
    w->N = N;
    w->kp = kp;
    return 0;
}

static void w_free(npu_ctx *c, npu_w *w)
{
    if (w->b) c->api.bo_free(w->b);
    memset(w, 0, sizeof *w);
}

static int w_upload(npu_ctx *c, npu_w *w, lc_err *e)
{
    if (c->api.bo_sync(w->b, 1, c->err, sizeof c->err)) return lc_fail(e, "npu: %s", c->err);
    return 0;
}

static int npu_prepare(void *vctx, lc_mat *m, lc_err *e)
{
    npu_ctx *c = vctx;
    npu_w *w = calloc(1, sizeof *w);
    if (!w) return lc_fail(e, "npu: out of memory");
    if (w_alloc(c, w, NPU_CHUNK_M, m->rows, m->cols, c->split, e) ||
        (bf16_pack_t(m->w, m->rows, m->cols, m->cols, c->api.bo_map(w->b),
                     w->kp, w->kern->Np, c->split), w_upload(c, w, e))) {
        w_free(c, w);
        free(w);
        return -1;
    }
    m->dev = w;
    return 0;
}

static void npu_release(void *vctx, lc_mat *m)
{
    if (!m->dev) return;
    w_free(vctx, m->dev);
    free(m->dev);
    m->dev = NULL;
}

/* One launch on rows already packed into k->a_host; C lands in k->c_host. */
static int launch(npu_ctx *c, npu_kern *k, npu_shim_bo *b, lc_err *e)
{
    int rc = c->api.bo_sync(k->a, 1, c->err, sizeof c->err);
    if (!rc) rc = c->api.run(k->k, k->a, b, k->c, c->timeout_ms, c->err, sizeof c->err);
    if (!rc) rc = c->api.bo_sync(k->c, 0, c->err, sizeof c->err);
    if (rc) return lc_fail(e, "npu: %s", c->err);
    return 0;
}

static int npu_gemm(void *vctx, int M, const float *A, int lda, const lc_mat *W,
                    const float *bias, float *C, int ldc, lc_err *e)
{
    npu_ctx *c = vctx;
    const npu_w *w = W->dev;
    if (!w) return lc_fail(e, "npu: weight [%d, %d] not prepared", W->rows, W->cols);
    npu_kern *k = w->kern;
    for (int m0 = 0; m0 < M; m0 += k->Mp) {
        const int rows = M - m0 < k->Mp ? M - m0 : k->Mp;
        bf16_pack(A + (size_t)m0 * lda, rows, w->K, lda, k->a_host, k->Mp, w->kp, k->Kp / w->kp);
        if (launch(c, k, w->b, e)) return -1;
        for (int i = 0; i < rows; i++) {
            const float *src = k->c_host + (size_t)i * k->Np;
            float *dst = C + (size_t)(m0 + i) * ldc;
            if (bias) for (int n = 0; n < w->N; n++) dst[n] = src[n] + bias[n];
            else memcpy(dst, src, (size_t)w->N * sizeof *dst);
        }
    }
    return 0;
}

static int mel_setup(npu_ctx *c, int n_mels, const float *filters, lc_err *e)
{
    if (!c->dft.b) {
        /* bf16x3 DFT: K = 3 segments of NPU_MEL_K (bf16.h) */
        if (w_alloc(c, &c->dft, NPU_MEL_M, NPU_MEL_N, NPU_MEL_KX, 1, e)) return -1;
        bf16_pack_mel_basis(c->api.bo_map(c->dft.b)); /* [NPU_MEL_KX, NPU_MEL_N] */
        if (w_upload(c, &c->dft, e)) { w_free(c, &c->dft); return -1; }
    }
    if (c->mel.b && (c->mel_filters != filters || c->mel_n != n_mels)) w_free(c, &c->mel);
    if (!c->mel.b) {
        /* K = the 201 bins, padded to NPU_MEL_HALF (256) like the DFT output */
        if (w_alloc(c, &c->mel, NPU_MEL_M, n_mels, NPU_MEL_HALF, c->split, e)) return -1;
        c->mel.K = NPU_MEL_BINS;
        bf16_pack_t(filters, n_mels, NPU_MEL_BINS, NPU_MEL_BINS, c->api.bo_map(c->mel.b),
                    c->mel.kp, c->mel.kern->Np, c->split);
        if (w_upload(c, &c->mel, e)) { w_free(c, &c->mel); return -1; }
        c->mel_filters = filters;
        c->mel_n = n_mels;
    }
    return 0;
}

static int npu_mel_power(void *vctx, int n, const float *frames, int n_mels,
                         const float *filters, float *out, lc_err *e)
{
    npu_ctx *c = vctx;
    if (mel_setup(c, n_mels, filters, e)) return -1;
    npu_kern *kd = c->dft.kern, *km = c->mel.kern;
    for (int f0 = 0; f0 < n; f0 += NPU_MEL_M) {
        const int rows = n - f0 < NPU_MEL_M ? n - f0 : NPU_MEL_M;
        bf16_pack_mel_frames(frames + (size_t)f0 * NPU_MEL_NFFT, rows, kd->a_host, NPU_MEL_M);
        if (launch(c, kd, c->dft.b, e)) return -1;
        /* power in f32 on the host, packed (bf16 or bf16x3) as the mel GEMM's A */
        float pw[NPU_MEL_BINS];
        memset(km->a_host, 0, (size_t)NPU_MEL_M * km->Kp * sizeof *km->a_host);
        for (int i = 0; i < rows; i++) {
            const float *re = kd->c_host + (size_t)i * kd->Np, *im = re + NPU_MEL_HALF;
            for (int f = 0; f < NPU_MEL_BINS; f++) {
                const float rr = re[f] * re[f], ii = im[f] * im[f];
                pw[f] = rr + ii;
            }
            bf16_pack(pw, 1, NPU_MEL_BINS, NPU_MEL_BINS, km->a_host + (size_t)i * km->Kp, 1,
                      c->mel.kp, c->split);
        }
        if (launch(c, km, c->mel.b, e)) return -1;
        for (int i = 0; i < rows; i++)
            memcpy(out + (size_t)(f0 + i) * n_mels, km->c_host + (size_t)i * km->Np,
                   (size_t)n_mels * sizeof *out);
    }
    return 0;
}

static void npu_destroy(void *vctx)
{
    npu_ctx *c = vctx;
    if (!c) return;
    w_free(c, &c->dft);
    w_free(c, &c->mel);
    for (int i = 0; i < c->nkern; i++) {
        c->api.bo_free(c->kern[i].a);
        c->api.bo_free(c->kern[i].c);
        c->api.unload(c->kern[i].k);
    }
    if (c->dev) c->api.close(c->dev);
    if (c->dl) dlclose(c->dl);
    free(c);
}

lc_device *npu_device_new(const npu_dev_cfg *cfg, lc_err *e)
{
    lc_device *d = calloc(1, sizeof *d);
    npu_ctx *c = calloc(1, sizeof *c);
    if (!d || !c) {
        free(d);
        free(c);
        if (cfg->dev) cfg->api.close(cfg->dev);
        if (cfg->dl) dlclose(cfg->dl);
        return lc_fail(e, "npu: out of memory"), NULL;
    }
    c->api = cfg->api;
    c->dev = cfg->dev;
    c->dl = cfg->dl;
    snprintf(c->artifacts, sizeof c->artifacts, "%s", cfg->artifacts);
    c->cols = cfg->cols;
    c->split = cfg->split == 1 ? 1 : NPU_SPLIT_BF16X3;
    c->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : NPU_TIMEOUT_MS;
    d->name = cfg->name;
    d->label = cfg->label;
    d->is_npu = 1;
    d->ctx = c;
    d->prepare = npu_prepare;
    d->release = npu_release;
    d->gemm = npu_gemm;
    d->mel_power = npu_mel_power;
    d->destroy = npu_destroy;
    return d;
}

/* ---- the real device: discovery + dlopen of libcapnpu.so ---- */

static void *shim_dlopen(char *why, size_t whylen)
{
    char path[1024];
    void *h = NULL;
    if (npu_exe_dir(path, sizeof path) == 0) {
        size_t n = strlen(path);
        snprintf(path + n, sizeof path - n, "/libcapnpu.so");
        h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    }
    const char *env = getenv("LIVECAP_NPU_SHIM");
    if (!h && env && *env) h = dlopen(env, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        snprintf(why, whylen, "libcapnpu.so not loadable (%s); build it with make NPU=1 XRT_ROOT=/opt/xilinx/xrt or set LIVECAP_NPU_SHIM",
                 dlerror());
    return h;
}

static int shim_bind(void *h, npu_shim_api *a)
{
#define BIND(field, sym) (*(void **)&a->field = dlsym(h, sym)) != NULL
    return (BIND(abi, "npu_shim_abi") && BIND(open, "npu_shim_open") &&
            BIND(close, "npu_shim_close") && BIND(load, "npu_shim_load") &&
            BIND(unload, "npu_shim_unload") && BIND(bo_alloc, "npu_shim_bo_alloc") &&
            BIND(bo_map, "npu_shim_bo_map") && BIND(bo_sync, "npu_shim_bo_sync") &&
            BIND(bo_free, "npu_shim_bo_free") && BIND(run, "npu_shim_run")) ? 0 : -1;
#undef BIND
}

lc_device *device_npu_create(int split, char *why, size_t whylen)
{
    char tmp[512];
    if (!why) { why = tmp; whylen = sizeof tmp; }
    npu_info info;
    if (!npu_discover(&info, why, whylen)) return NULL;
    if (!info.artifacts_ok) {
        snprintf(why, whylen, "NPU %s at %s: artifacts missing in %s (run make -C kernels)",
                 info.target, info.node, info.artifacts);
        return NULL;
    }
    void *h = shim_dlopen(why, whylen);
    if (!h) return NULL;
    npu_dev_cfg cfg = {0};
    if (shim_bind(h, &cfg.api) || cfg.api.abi() != NPU_SHIM_ABI) {
        snprintf(why, whylen, "libcapnpu.so: missing symbols or ABI mismatch (want %d); rebuild it",
                 NPU_SHIM_ABI);
        dlclose(h);
        return NULL;
    }
    char err[256];
    cfg.dev = cfg.api.open(0, err, sizeof err);
    if (!cfg.dev) {
        snprintf(why, whylen, "NPU %s at %s: %s", info.target, info.node, err);
        dlclose(h);
        return NULL;
    }
    cfg.dl = h;
    cfg.artifacts = info.artifacts;
    cfg.cols = strcmp(info.target, "npu2") == 0 ? NPU_COLS_NPU2 : NPU_COLS_NPU1;
    cfg.split = split;
    cfg.name = "npu";
    cfg.label = "NPU";
    lc_err e;
    lc_device *d = npu_device_new(&cfg, &e);
    if (!d) { snprintf(why, whylen, "%s", e.msg); return NULL; }
    snprintf(why, whylen, "NPU %s at %s (artifacts %s)", info.target, info.node, info.artifacts);
    return d;
}
