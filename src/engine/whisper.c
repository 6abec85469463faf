/* whisper.c: encoder and decoder forward passes (contract in whisper.h).
 * Weight GEMMs of the encoder go through the backend (CPU or NPU); the
 * decoder and attention's activation products run on the CPU (blas.h). */
#include "engine/whisper.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/blas.h"
#include "engine/pool.h"
#include "engine/amx.h"
#include "engine/vecmath.h"
#include "model/quant.h"
#include "util/mem.h"

#define LN_EPS 1e-5 /* torch.nn.LayerNorm default, used by openai-whisper */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- element-wise kernels, split by rows over the compute pool ---------------- */

typedef void (*rows_fn)(void *ctx, int lo, int hi);
typedef struct rows_job { int rows; rows_fn fn; void *ctx; } rows_job;

static void rows_tramp(void *vctx, int ith, int nth)
{
    rows_job *j = vctx;
    int lo, hi;
    pool_range(j->rows, ith, nth, &lo, &hi);
    if (hi > lo) j->fn(j->ctx, lo, hi);
}

/* Runs fn over [0, rows) in parallel when there is enough work to share. */
static void par_rows(int rows, size_t work_per_row, rows_fn fn, void *ctx)
{
    rows_job j = { rows, fn, ctx };
    pool_run((size_t)rows * work_per_row >= 32768 ? blas_pool() : NULL, rows_tramp, &j);
}

static void layer_norm_rows(const float *x, float *y, int lo, int hi, int n, const float *w, const float *b)
{
    for (int r = lo; r < hi; r++) {
        const float *xr = x + (size_t)r * n;
        float *yr = y + (size_t)r * n;
        double mean = 0, var = 0;
        for (int i = 0; i < n; i++) mean += xr[i];
        mean /= n;
        for (int i = 0; i < n; i++) { double d = xr[i] - mean; var += d * d; }
        var /= n;
        const float inv = (float)(1.0 / sqrt(var + LN_EPS)), mu = (float)mean;
        for (int i = 0; i < n; i++) yr[i] = (xr[i] - mu) * inv * w[i] + b[i];
    }
}

typedef struct ln_job { const float *x; float *y; int n; const float *w, *b; } ln_job;
static void ln_part(void *c, int lo, int hi)
{
    ln_job *j = c;
    layer_norm_rows(j->x, j->y, lo, hi, j->n, j->w, j->b);
}

static void layer_norm(const float *x, float *y, int rows, int n, const float *w, const float *b)
{
    ln_job j = { x, y, n, w, b };
    par_rows(rows, (size_t)n * 4, ln_part, &j);
}

typedef struct ew_job { float *x; const float *y; int n; } ew_job;
static void gelu_part(void *c, int lo, int hi)
{
    ew_job *j = c;
    vm_gelu(j->x + (size_t)lo * j->n, (size_t)(hi - lo) * j->n);
}
static void add_part(void *c, int lo, int hi)
{
    ew_job *j = c;
    vm_add(j->x + (size_t)lo * j->n, j->y + (size_t)lo * j->n, (size_t)(hi - lo) * j->n);
}

/* nn.GELU() default: the exact erf form. x is [rows, n]. */
static void gelu(float *x, int rows, int n)
{
    ew_job j = { x, NULL, n };
    par_rows(rows, (size_t)n * 16, gelu_part, &j);
}

static void add_in_place(float *x, const float *y, int rows, int n)
{
    ew_job j = { x, y, n };
    par_rows(rows, (size_t)n, add_part, &j);
}

/* C[M,N] = A[M,K]·Wᵀ + bias on the CPU (decoder path). */
static void dense_cpu(int M, const float *A, const lc_mat *W, const float *bias, float *C)
{
    const int N = W->rows, K = W->cols;
    if (bias)
        for (int i = 0; i < M; i++) memcpy(C + (size_t)i * N, bias, (size_t)N * sizeof(float));
    blas_sgemm(0, 1, M, N, K, 1.0f, A, K, W->w, K, bias ? 1.0f : 0.0f, C, N);
}

/* Decoder GEMV on compact f16 weights, W's rows split over the pool. */
typedef struct gemv_job {
    const lc_mat16 *W;
    const float *x, *b;
    float *y;
    const float *hb;            /* with bnd: int8 logits and their bounds */
    float *bnd;
    const vm_i8x *xq;           /* x in int8 (vm_gemv_i8x), or NULL */
    int gelu;                   /* then GELU on the rows made (the MLP's first layer) */
    atomic_int next;            /* the first row not yet taken (rows_take) */
} gemv_job;

static void gemv_rows(const gemv_job *j, int lo, int hi);

/* The next rows [*lo, *hi) of `rows` shared by the pool's threads through
 * *next (a CAS), 0 when none are left: what remains over 2·threads, at
 * least `min`, in whole units of `unroll` (the kernel's), so a core the
 * host slows takes fewer rows instead of making the other wait at the
 * join. The bounds do not depend on which thread takes them. Decoder GEMVs
 * and the encoder's bands (enc_band). */
static int rows_take(atomic_int *next, int rows, int unroll, int min, int nth, int *lo, int *hi)
{
    int l = atomic_load_explicit(next, memory_order_relaxed), h;
    do {
        if (l >= rows) return 0;
        int n = (rows - l) / (2 * nth);
        n = n < min ? min : (n + unroll - 1) / unroll * unroll;
        h = rows - l < n ? rows : l + n;
    } while (!atomic_compare_exchange_weak_explicit(next, &l, h, memory_order_relaxed, memory_order_relaxed));
    *lo = l;
    *hi = h;
    return 1;
}

#define GEMV_TAKE_MIN 64 /* rows per take at least: 32 KB of base's int8 rows, ~2 µs */

static void gemv_part(void *c, int ith, int nth)
{
    gemv_job *j = c;
    int lo, hi;
    while (rows_take(&j->next, j->W->rows, 4, GEMV_TAKE_MIN, nth, &lo, &hi)) gemv_rows(j, lo, hi);
}

static void gemv_rows(const gemv_job *j, int lo, int hi)
{
    if (j->bnd) vm_gemv_i8_bound(j->W->q, j->W->scale, j->W->cols, lo, hi, j->x, j->hb, j->y, j->bnd);
    else if (j->xq) vm_gemv_i8x(j->W->q, j->W->scale, j->W->cols, lo, hi, j->xq, j->b, j->y);
    else if (j->W->q) vm_gemv_i8(j->W->q, j->W->scale, j->W->cols, lo, hi, j->x, j->b, j->y);
    else vm_gemv_f16(j->W->w, j->W->cols, lo, hi, j->x, j->b, j->y);
    if (j->gelu) vm_gelu(j->y + lo, (size_t)(hi - lo)); /* element-wise: no second fork-join for it */
}

/* The bound's factor: |w − s·q| ≤ s/2 for q = round(w/s); the 2% on top
 * covers q computed with a rounded 1/s and the f32 sums (≤ ~cols·2^-24
 * relative, far below 1% of s/2 per weight for cols ≤ 1280). */
#define LOGIT_BOUND_K 0.51f
/* The 4-bit proxy's margin in standard deviations of its error (whisper.h) */
#define LOGIT_Q4_SIGMAS 10.0

/* The logits' 4-bit proxy, rows in pairs (the kernel's unroll) over the pool,
 * with each row's margin c·e4[r] (whisper.h). */
typedef struct q4_job {
    const lc_mat16 *W;
    const vm_q4x *x;
    float *y, *bnd;
    float ce, cw;               /* margin = ce·e4[r] + cw·w4[r] */
    atomic_int next;            /* rows_take */
} q4_job;

static void q4_part(void *vc, int ith, int nth)
{
    q4_job *j = vc;
    int lo, hi;
    while (rows_take(&j->next, j->W->rows, 2, GEMV_TAKE_MIN, nth, &lo, &hi)) {
        vm_gemv_q4(j->W->q4, j->W->s4, j->W->cols, lo, hi, j->x, j->y);
        for (int r = lo; r < hi; r++) j->bnd[r] = j->ce * j->W->e4[r] + j->cw * j->W->w4[r];
    }
}

/* Rows of a decoder step: compact GEMVs for a few rows (single tokens,
 * beams), f32 GEMM for batches (the prompt). */
#define GEMV_MAX_ROWS 4

/* x in int8 for the VNNI kernel (st->i8x, NULL where not used): int8
 * weights, a width the kernel takes */
static const vm_i8x *dec_xq(lc_state *st, const lc_mat16 *W16, const float *x)
{
    if (!st->i8x || !W16 || !W16->q || W16->cols % 64 || W16->cols > VM_I8X_MAX_COLS) return NULL;
    vm_i8x_prepare(x, W16->cols, st->i8x);
    return st->i8x;
}

/* C = A·Wᵀ + bias, then GELU in place if `act` */
static void dense_dec_act(lc_state *st, int M, const float *A, const lc_mat *W, const lc_mat16 *W16,
                          const float *bias, float *C, int act)
{
    if (!W16 || (M > GEMV_MAX_ROWS && W->w)) {
        dense_cpu(M, A, W, bias, C);
        if (act) gelu(C, M, W->rows);
        return;
    }
    for (int i = 0; i < M; i++) {
        const float *x = A + (size_t)i * W->cols;
        gemv_job j = { W16, x, bias, C + (size_t)i * W->rows, NULL, NULL, dec_xq(st, W16, x), act, 0 };
        /* below ~64k weights (128 KB of f16) a fork-join costs more than the
         * second core saves (measured on tiny.en: 2^14 and 2^20 are both slower) */
        pool_run((size_t)W->rows * W->cols >= (1u << 16) ? blas_pool() : NULL, gemv_part, &j);
    }
}

static void dense_dec(lc_state *st, int M, const float *A, const lc_mat *W, const lc_mat16 *W16, const float *bias,
                      float *C)
{
    dense_dec_act(st, M, A, W, W16, bias, C, 0);
}

/* q, k and v of one decoder row in a single fork-join (they read the same
 * input; one dispatch instead of three, and one wait for the slower core) */
typedef struct gemv3_job { gemv_job j[3]; } gemv3_job;

static void gemv3_part(void *c, int ith, int nth)
{
    gemv3_job *g = c;
    for (int i = 0; i < 3; i++) gemv_part(&g->j[i], ith, nth);
}

static void dense_dec_qkv(lc_state *st, int M, const float *A, const lc_attn_w *W, const lc_dec16 *C, float *q,
                          float *k, float *v)
{
    if (!C || (M > GEMV_MAX_ROWS && W->q.w)) {
        dense_dec(st, M, A, &W->q, C ? &C->q : NULL, W->q_b, q);
        dense_dec(st, M, A, &W->k, C ? &C->k : NULL, NULL, k);
        dense_dec(st, M, A, &W->v, C ? &C->v : NULL, W->v_b, v);
        return;
    }
    const int ts = W->q.cols;
    for (int i = 0; i < M; i++) {
        const float *x = A + (size_t)i * ts;
        const vm_i8x *xq = dec_xq(st, &C->q, x); /* q, k and v share x's int8 form */
        gemv3_job g = { { { &C->q, x, W->q_b, q + (size_t)i * W->q.rows, NULL, NULL, xq, 0, 0 },
                          { &C->k, x, NULL, k + (size_t)i * W->k.rows, NULL, NULL, xq, 0, 0 },
                          { &C->v, x, W->v_b, v + (size_t)i * W->v.rows, NULL, NULL, xq, 0, 0 } } };
        pool_run(blas_pool(), gemv3_part, &g);
    }
}

/* the encoder's attention scores: rows padded to whole AMX tiles (32) */
static int enc_ldsc(int A) { return (A + 31) / 32 * 32; }

/* ---- cross K/V in blocks (vecmath.h's layout) -------------------------------------- */

/* position blocks of VM_XBLK covering n positions (the last one padded) */
static int xblocks(int n) { return (n + VM_XBLK - 1) / VM_XBLK; }

/* One position's dh values as int8 with their scale (max|x|/127).
 * Rounding: adding and subtracting 1.5·2^23 leaves x rounded to the
 * nearest integer, ties to even, for |x| < 2^22 (here ≤ 127.00002), which
 * is lrintf's result in the default rounding mode without its library call
 * (a call per value: 27.6 M of them per small window). */
static void q8_row(const float *x, int dh, int8_t *q, size_t qstride, float *scale)
{
    float mx = 0;
    for (int i = 0; i < dh; i++) mx = fabsf(x[i]) > mx ? fabsf(x[i]) : mx;
    const float s = mx / 127.0f, inv = s > 0 ? 1.0f / s : 0.0f;
    const float rnd = 12582912.0f; /* not folded: C without -ffast-math keeps (a + c) − c */
    for (int i = 0; i < dh; i++) q[i * qstride] = (int8_t)(int)((x[i] * inv + rnd) - rnd);
    *scale = s;
}

/* offsets of dim i, position j inside a block-head (vecmath.h's layout) */
#define XK(i, j) ((size_t)((i) & ~1) * VM_XBLK + 2 * (j) + ((i) & 1))
#define XV(i, j, dh) ((size_t)((j) & ~1) * (dh) + 2 * (i) + ((j) & 1))

/* f32 row-major K and V [A][ts] into the blocked int8 layout (vecmath.h);
 * the padding positions get zeros (a zero V row adds nothing, whatever its
 * weight). int8 per position and head: half the f16 bytes read per token;
 * tiny, tiny.en and base random models keep f32's tokens over 66 s. */
typedef struct xkv_job {
    const float *k, *v;
    int A, ts, H;
    int8_t *kb, *vb;
    float *ks, *vs;
} xkv_job;

static void xkv_block_rows(void *ctx, int lo, int hi)
{
    const xkv_job *x = ctx;
    const float *k = x->k, *v = x->v;
    const int A = x->A, ts = x->ts, H = x->H, dh = ts / H;
    int8_t *kb = x->kb, *vb = x->vb;
    float *ks = x->ks, *vs = x->vs;
    int8_t t[VM_XATTN_MAX_DH];
    for (int b = lo; b < hi; b++)
        for (int h = 0; h < H; h++) {
            const size_t o = ((size_t)b * H + h) * dh * VM_XBLK, so = ((size_t)b * H + h) * VM_XBLK;
            for (int j = 0; j < VM_XBLK; j++) {
                const int p = b * VM_XBLK + j;
                if (p < A) {
                    q8_row(k + (size_t)p * ts + h * dh, dh, t, 1, ks + so + j);
                    for (int i = 0; i < dh; i++) kb[o + XK(i, j)] = t[i]; /* K transposed, dims in pairs */
                    q8_row(v + (size_t)p * ts + h * dh, dh, t, 1, vs + so + j);
                    for (int i = 0; i < dh; i++) vb[o + XV(i, j, dh)] = t[i]; /* positions in pairs */
                } else {
                    for (int i = 0; i < dh; i++) kb[o + XK(i, j)] = vb[o + XV(i, j, dh)] = 0;
                    ks[so + j] = vs[so + j] = 0.0f;
                }
            }
        }
}

/* position blocks split over the compute pool (a small window: 27.6 M values) */
static void xkv_block(const float *k, const float *v, int A, int ts, int H, int8_t *kb, int8_t *vb, float *ks,
                      float *vs)
{
    xkv_job j = { k, v, A, ts, H, kb, vb, ks, vs };
    par_rows(xblocks(A), (size_t)VM_XBLK * 2 * ts, xkv_block_rows, &j);
}

/* One layer's blocked int8 K/V back to f32 rows [A][ts] (a prompt's batch). */
static void xkv_unblock(const int8_t *kb, const int8_t *vb, const float *ks, const float *vs, int A, int ts, int H,
                        float *k, float *v)
{
    const int dh = ts / H;
    for (int b = 0; b < xblocks(A); b++)
        for (int h = 0; h < H; h++) {
            const size_t o = ((size_t)b * H + h) * dh * VM_XBLK, so = ((size_t)b * H + h) * VM_XBLK;
            for (int j = 0; j < VM_XBLK && b * VM_XBLK + j < A; j++) {
                float *kr = k + (size_t)(b * VM_XBLK + j) * ts + h * dh, *vr = v + (size_t)(b * VM_XBLK + j) * ts + h * dh;
                for (int i = 0; i < dh; i++) {
                    kr[i] = ks[so + j] * kb[o + XK(i, j)];
                    vr[i] = vs[so + j] * vb[o + XV(i, j, dh)];
                }
            }
        }
}

/* ---- state ------------------------------------------------------------------ */

lc_state *state_create(const lc_model *m, lc_backend *b, int n_seq, lc_err *e)
{
    const lc_hparams *hp = &m->hp;
    const size_t s = (size_t)hp->n_audio_state, ts = (size_t)hp->n_text_state;
    const size_t A = (size_t)hp->n_audio_ctx, F = 2 * A; /* 1500 positions, 3000 frames */
    lc_state *st = calloc(1, sizeof *st);
    if (!st) { lc_fail(e, "out of memory for the decoder state"); return NULL; }
    st->m = m;
    st->b = b;
    st->n_seq = n_seq;
    st->max_rows = hp->n_text_ctx;
    size_t cin = 3 * (s > (size_t)hp->n_mels ? s : (size_t)hp->n_mels);
    size_t R = (size_t)st->max_rows, L = (size_t)hp->n_text_layer;
    size_t sc = A > (size_t)hp->n_text_ctx ? A : (size_t)hp->n_text_ctx;
    /* Every buffer is touched here, not just reserved (util/mem.h says why):
     * prompts, beams and fallbacks reach deeper into the KV caches over a
     * session. */
#define ALLOC(p, n) if (!((p) = lc_alloc_huge(sizeof(float) * (n)))) goto oom; else lc_prefault((p), sizeof(float) * (n))
    ALLOC(st->im2col, F * cin);
    ALLOC(st->x3000, F * s);
    ALLOC(st->x, A * s); ALLOC(st->h, A * s); ALLOC(st->q, A * s);
    ALLOC(st->k, A * s); ALLOC(st->v, A * s); ALLOC(st->att, A * s);
    ALLOC(st->mlp, A * 4 * s);
    ALLOC(st->scores, A * (size_t)enc_ldsc((int)A));
    if (amx_usable() && s % hp->n_audio_head == 0) {
        /* the encoder's attention on AMX (used when the CPU's GEMMs are):
         * each head's K and Vᵀ, packed per layer; pages touched only then */
        const size_t H = (size_t)hp->n_audio_head, dh = s / H;
        const size_t kb = amx_pack_bytes((int)A, (int)dh), vb = amx_pack_bytes((int)dh, (int)A);
        st->attn_pack_head = (kb > vb ? kb : vb) / sizeof(uint16_t);
        if (!(st->attn_pack = aligned_alloc(64, H * 2 * st->attn_pack_head * sizeof(uint16_t))) ||
            !(st->attn_pk = calloc(H, sizeof *st->attn_pk)) || !(st->attn_pv = calloc(H, sizeof *st->attn_pv)))
            goto oom;
    }
    ALLOC(st->enc_out, A * s);
    const int xdh = (int)ts / hp->n_text_head; /* int8 blocks: vecmath.h's limits (every Whisper size: 64) */
    if (!m->compact || xdh % 2 || xdh > VM_XATTN_MAX_DH) {
        ALLOC(st->cross_k, L * A * ts); ALLOC(st->cross_v, L * A * ts);
    } else {
        /* the decoder reads cross K/V once per token: a quarter of the
         * bytes in int8, and no f32 copy (18 MB for tiny): the encoder
         * stages a layer at a time, prompts widen a layer at a time
         * (whisper_decode) */
        const size_t n8 = L * xblocks(A) * VM_XBLK * ts, ns = L * xblocks(A) * VM_XBLK * hp->n_text_head;
        if (!(st->cross_k8 = lc_alloc_huge(n8)) || !(st->cross_v8 = lc_alloc_huge(n8)) ||
            !(st->cross_ks = malloc(sizeof(float) * ns)) || !(st->cross_vs = malloc(sizeof(float) * ns)))
            goto oom;
        lc_prefault(st->cross_k8, n8);
        lc_prefault(st->cross_v8, n8);
    }
    ALLOC(st->kv_k, (size_t)n_seq * L * hp->n_text_ctx * ts);
    ALLOC(st->kv_v, (size_t)n_seq * L * hp->n_text_ctx * ts);
    ALLOC(st->dx, R * ts); ALLOC(st->dh, R * ts); ALLOC(st->dq, R * ts);
    ALLOC(st->dk, R * ts); ALLOC(st->dv, R * ts); ALLOC(st->datt, R * ts);
    ALLOC(st->dmlp, R * 4 * ts);
    ALLOC(st->dscores, R * sc);
    st->dscores_cap = R * sc;
    /* The logits keep a row per position for callers that want them all
     * (the fixture tests); decoding asks for at most max(n_seq, 2) rows, so
     * only those are touched. */
    if (!(st->logits = malloc(sizeof(float) * R * (size_t)hp->n_vocab))) goto oom;
    lc_prefault(st->logits, sizeof(float) * (size_t)(n_seq > 2 ? n_seq : 2) * (size_t)hp->n_vocab);
    if (m->tok16.q4 && ts % 64 == 0 && ts <= VM_Q4_MAX_COLS) {
        if (!(st->q4x = aligned_alloc(64, (sizeof *st->q4x + 63) / 64 * 64))) goto oom;
        /* the scalar kernel is there for tests; rows under 256 columns spend
         * more on per-row work (scales, the final sum) than half the bytes
         * save (a 64-wide test model decoded 4x slower) */
        st->logits_q4 = vm_gemv_q4_fast() && ts >= 256;
    }
    /* i8x only for the block matrices: the logits keep x in f32 (their
     * bound, and the rescoring's exactness, are stated for it) */
    if (m->compact == LC_COMPACT_INT8 && vm_gemv_i8x_fast()) {
        if (!(st->i8x = aligned_alloc(64, (sizeof *st->i8x + 63) / 64 * 64))) goto oom;
    }
    if (m->tok16.lo) {
        if (!(st->logit_bnd = malloc(sizeof(float) * R * (size_t)hp->n_vocab)) ||
            !(st->hb = malloc(sizeof(float) * (ts / LC_Q8_BLOCK + 1))) ||
            !(st->cand = malloc(sizeof(int) * (size_t)hp->n_vocab)))
            goto oom;
        lc_prefault(st->logit_bnd, sizeof(float) * (size_t)(n_seq > 2 ? n_seq : 2) * (size_t)hp->n_vocab);
    }
#undef ALLOC
    return st;
oom:
    state_free(st);
    lc_fail(e, "out of memory for the decoder state (%d sequences)", n_seq);
    return NULL;
}

void state_free(lc_state *st)
{
    if (!st) return;
    float *bufs[] = { st->im2col, st->x3000, st->x, st->h, st->q, st->k, st->v, st->att,
                      st->mlp, st->scores, st->enc_out, st->cross_k, st->cross_v, st->kv_k,
                      st->kv_v, st->dx, st->dh, st->dq, st->dk, st->dv, st->datt, st->dmlp,
                      st->dscores, st->logits };
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
    free(st->cross_k8);
    free(st->cross_v8);
    free(st->cross_ks);
    free(st->cross_vs);
    free(st->logit_bnd);
    free(st->hb);
    free(st->cand);
    free(st->q4x);
    free(st->i8x);
    free(st->attn_pack);
    free(st->attn_pk);
    free(st->attn_pv);
    free(st);
}

/* Every matrix the encoder (and the per-window cross K/V) multiplies by. */
#define FOR_EACH_ENCODER_MAT(m, X) do {                                         \
    X(&(m)->conv1); X(&(m)->conv2);                                             \
    for (int i_ = 0; i_ < (m)->hp.n_audio_layer; i_++) {                        \
        lc_enc_layer *L_ = &(m)->enc[i_];                                       \
        X(&L_->attn.q); X(&L_->attn.k); X(&L_->attn.v); X(&L_->attn.o); X(&L_->mlp.fc1); X(&L_->mlp.fc2); \
    }                                                                           \
    for (int i_ = 0; i_ < (m)->hp.n_text_layer; i_++) {                         \
        X(&(m)->dec[i_].cross.k); X(&(m)->dec[i_].cross.v);                               \
    }                                                                           \
} while (0)

int whisper_prepare(lc_model *m, lc_backend *b, lc_err *e)
{
    int rc = 0;
    /* a weight the CPU device packed (AMX tiles, amx.h) is read from that
     * copy only, so its f32 pages go (tiny's peak RSS stays under 300 MB) */
#define PREP(mat) do {                                                  \
        if (!rc && backend_prepare(b, (mat), e)) rc = -1;               \
        else if ((mat)->cpu) model_release_f32(mat);                    \
    } while (0)
    FOR_EACH_ENCODER_MAT(m, PREP);
#undef PREP
    return rc;
}

void whisper_release(lc_model *m, lc_backend *b)
{
#define REL(mat) backend_release(b, (mat))
    FOR_EACH_ENCODER_MAT(m, REL);
#undef REL
}

/* ---- encoder ---------------------------------------------------------------- */

/* im2col for a kernel-3, padding-1 conv1d: row t holds in[t·stride + k − 1][c]
 * at column c·3 + k, matching PyTorch's weight layout [out][in][k]. */
static void im2col3(const float *in, int n_in, int c_in, int stride, int n_out, float *col)
{
    for (int t = 0; t < n_out; t++) {
        float *row = col + (size_t)t * c_in * 3;
        for (int k = 0; k < 3; k++) {
            int src = t * stride + k - 1;
            if (src < 0 || src >= n_in) {
                for (int c = 0; c < c_in; c++) row[c * 3 + k] = 0.0f;
            } else {
                const float *x = in + (size_t)src * c_in;
                for (int c = 0; c < c_in; c++) row[c * 3 + k] = x[c];
            }
        }
    }
}

/* Multi-head attention of q over (k, v), all [n_q or n_kv, n_state] with
 * heads side by side; writes out [n_q, n_state]. scores: [n_q, n_kv]; each
 * pool thread owns a block of query rows (and their rows of scores). */
typedef struct attn_job {
    const float *q, *k, *v;
    int n_kv, n_state, n_head;
    float *scores, *out;
    int ldsc;                   /* scores' row stride: n_kv, or the encoder's A rounded up to 32 */
    const amx_w *pk, *pv;       /* per head: K and Vᵀ packed for AMX, or NULL (sgemm) */
} attn_job;

#define ATTN_MAX_ROWS 256 /* query rows per block: bounds the scores slice in cache */

static void attn_part(void *c, int lo, int hi)
{
    const attn_job *j = c;
    const int dh = j->n_state / j->n_head, n = hi - lo, ld = j->ldsc;
    const float scale = 1.0f / sqrtf((float)dh); /* (dh^-¼)² as in openai's qkv_attention */
    float *sc = j->scores + (size_t)lo * ld;
    float inv[ATTN_MAX_ROWS];
    for (int r0 = 0; r0 < n; r0 += ATTN_MAX_ROWS) {
        const int nr = n - r0 < ATTN_MAX_ROWS ? n - r0 : ATTN_MAX_ROWS;
        float *o0 = j->out + (size_t)(lo + r0) * j->n_state;
        for (int h = 0; h < j->n_head; h++) {
            const float *qh = j->q + (size_t)(lo + r0) * j->n_state + h * dh;
            /* AMX (the CPU's GEMM mode): scores and P·V in bf16x3 like the
             * weight GEMMs, the scores' rows padded to whole tiles (ld), q
             * already scaled (enc_phase2); sgemm otherwise */
            const int amx = j->pk && amx_gemm_padded(&j->pk[h], nr, qh, j->n_state, sc, ld) == 0;
            if (!amx)
                blas_sgemm(0, 1, nr, j->n_kv, dh, j->pk ? 1.0f : scale, qh, j->n_state, j->k + h * dh, j->n_state,
                           0.0f, sc, ld);
            /* unnormalised exp; the 1/Σ goes on the dh outputs, not the n_kv weights */
            for (int i = 0; i < nr; i++) {
                float *si = sc + (size_t)i * ld;
                inv[i] = (float)(1.0 / vm_exp_sum(si, j->n_kv, vm_max(si, j->n_kv)));
            }
            if (!amx || amx_gemm(&j->pv[h], nr, sc, ld, NULL, o0 + h * dh, j->n_state) != 0)
                blas_sgemm(0, 0, nr, dh, j->n_kv, 1.0f, sc, ld, j->v + h * dh, j->n_state, 0.0f, o0 + h * dh,
                           j->n_state);
            for (int i = 0; i < nr; i++) vm_scale(o0 + (size_t)i * j->n_state + h * dh, dh, inv[i]);
        }
    }
}

/* Few query rows (decoder steps): split the heads instead of the rows;
 * each thread gets its own [n_q, n_kv] block of scores. */
typedef struct heads_job { attn_job a; int n_q; } heads_job;

static void heads_part(void *c, int ith, int nth)
{
    const heads_job *j = c;
    const attn_job *a = &j->a;
    const int dh = a->n_state / a->n_head;
    const float scale = 1.0f / sqrtf((float)dh);
    float *sc = a->scores + (size_t)ith * j->n_q * a->n_kv;
    int h0, h1;
    pool_range(a->n_head, ith, nth, &h0, &h1);
    for (int h = h0; h < h1; h++) {
        for (int i = 0; i < j->n_q; i++) { /* GEMVs: no packing of K and V per call */
            float *si = sc + (size_t)i * a->n_kv;
            blas_sgemv(0, a->n_kv, dh, scale, a->k + h * dh, a->n_state, a->q + (size_t)i * a->n_state + h * dh,
                       0.0f, si);
            vm_softmax(si, a->n_kv);
            blas_sgemv(1, a->n_kv, dh, 1.0f, a->v + h * dh, a->n_state, si, 0.0f,
                       a->out + (size_t)i * a->n_state + h * dh);
        }
    }
}

#define FEW_ROWS 16 /* ≤ this many query rows: parallel over heads */

static void attention(const float *q, const float *k, const float *v, int n_q, int n_kv,
                      int n_state, int n_head, float *scores, float *out)
{
    attn_job j = { q, k, v, n_kv, n_state, n_head, scores, out, n_kv, NULL, NULL };
    if (n_q <= FEW_ROWS) {
        heads_job hj = { j, n_q };
        pool_run((size_t)n_q * n_kv * n_state >= 65536 ? blas_pool() : NULL, heads_part, &hj);
        return;
    }
    par_rows(n_q, (size_t)n_kv * n_state, attn_part, &j);
}

typedef struct enc_job {
    lc_state *st;
    const lc_enc_layer *L;
    lc_err *e;
    atomic_int failed;          /* a band's GEMM failed (read by the other threads' loops) */
    int amx;                    /* attention on AMX: K and Vᵀ packed between the phases */
    atomic_int next[2];         /* the first row not yet taken, per phase */
} enc_job;

/* The next band of rows [*lo, *hi) for phase `ph`, 0 when none is left
 * (rows_take: what remains over 2·threads, at least ENC_BAND_MIN rows, in
 * AMX's 32-row blocks). Fixed halves left one core waiting for the other
 * ~15% of phase 2 (a host's steal and noise land on one core at a time);
 * smaller bands near the end even that out, while the first ones stay big
 * enough that a GEMM re-reads its weights rarely. Medians of interleaved
 * bench rounds: tiny 242 -> 199 ms (10 rounds), base 570 -> 522 (6),
 * small 2042 -> 1981 (5). */
#define ENC_BAND_MIN 64
static int enc_band(enc_job *j, int ph, int A, int nth, int *lo, int *hi)
{
    return rows_take(&j->next[ph], A, 32, ENC_BAND_MIN, nth, lo, hi);
}

/* Each head's K and Vᵀ packed for AMX once per layer (all rows exist now),
 * heads over the threads; attn_part's bands then share them. */
static void enc_pack(void *c, int ith, int nth)
{
    enc_job *j = c;
    lc_state *st = j->st;
    const int s = st->m->hp.n_audio_state, A = st->m->hp.n_audio_ctx, H = st->m->hp.n_audio_head, dh = s / H;
    int h0, h1;
    pool_range(H, ith, nth, &h0, &h1);
    for (int h = h0; h < h1; h++) {
        uint16_t *bk = st->attn_pack + (size_t)h * 2 * st->attn_pack_head, *bv = bk + st->attn_pack_head;
        amx_pack_view(&st->attn_pk[h], bk, st->k + h * dh, A, dh, (size_t)s, 1);
        amx_pack_view(&st->attn_pv[h], bv, st->v + h * dh, dh, A, 1, (size_t)s);
    }
}

static void enc_phase1(void *c, int ith, int nth)
{
    enc_job *j = c;
    lc_state *st = j->st;
    const int s = st->m->hp.n_audio_state, A = st->m->hp.n_audio_ctx;
    int lo, hi;
    while (enc_band(j, 0, A, nth, &lo, &hi)) {
        const int n = hi - lo;
        const size_t o = (size_t)lo * s;
        layer_norm_rows(st->x, st->h, lo, hi, s, j->L->attn.ln_w, j->L->attn.ln_b);
        /* inside a pool job the CPU GEMM runs single-threaded on this band */
        if (backend_gemm(st->b, n, st->h + o, s, &j->L->attn.q, j->L->attn.q_b, st->q + o, s, j->e) ||
            backend_gemm(st->b, n, st->h + o, s, &j->L->attn.k, NULL, st->k + o, s, j->e) ||
            backend_gemm(st->b, n, st->h + o, s, &j->L->attn.v, j->L->attn.v_b, st->v + o, s, j->e))
            j->failed = 1;
    }
}

/* phase 2 on rows [lo, hi) */
static void enc_rows2(enc_job *j, int lo, int hi)
{
    lc_state *st = j->st;
    const lc_enc_layer *L = j->L;
    const int s = st->m->hp.n_audio_state, A = st->m->hp.n_audio_ctx;
    const int n = hi - lo;
    const size_t o = (size_t)lo * s;
    attn_job aj = { st->q, st->k, st->v, A, s, st->m->hp.n_audio_head, st->scores, st->att, enc_ldsc(A),
                    j->amx ? st->attn_pk : NULL, j->amx ? st->attn_pv : NULL };
    /* AMX takes no alpha: the scale goes on q (n·s products, not n·A·heads) */
    if (j->amx) vm_scale(st->q + o, n * s, 1.0f / sqrtf((float)(s / st->m->hp.n_audio_head)));
    attn_part(&aj, lo, hi);
    if (backend_gemm(st->b, n, st->att + o, s, &L->attn.o, L->attn.o_b, st->h + o, s, j->e)) { j->failed = 1; return; }
    vm_add(st->x + o, st->h + o, (size_t)n * s);
    layer_norm_rows(st->x, st->h, lo, hi, s, L->mlp.ln_w, L->mlp.ln_b);
    float *mlp = st->mlp + (size_t)lo * 4 * s;
    if (backend_gemm(st->b, n, st->h + o, s, &L->mlp.fc1, L->mlp.fc1_b, mlp, 4 * s, j->e)) { j->failed = 1; return; }
    vm_gelu(mlp, (size_t)n * 4 * s);
    if (backend_gemm(st->b, n, mlp, 4 * s, &L->mlp.fc2, L->mlp.fc2_b, st->h + o, s, j->e)) { j->failed = 1; return; }
    vm_add(st->x + o, st->h + o, (size_t)n * s);
}

static void enc_phase2(void *c, int ith, int nth)
{
    enc_job *j = c;
    int lo, hi;
    while (!j->failed && enc_band(j, 1, j->st->m->hp.n_audio_ctx, nth, &lo, &hi)) enc_rows2(j, lo, hi);
}

int whisper_encode(lc_state *st, const float *mel, lc_err *e)
{
    const lc_model *m = st->m;
    const lc_hparams *hp = &m->hp;
    const int s = hp->n_audio_state, A = hp->n_audio_ctx, F = 2 * A;
    const size_t As = (size_t)A * s;
    lc_backend *b = st->b;
    double t0 = now_ms();

    im2col3(mel, F, hp->n_mels, 1, F, st->im2col);
    if (backend_gemm(b, F, st->im2col, 3 * hp->n_mels, &m->conv1, m->conv1_b, st->x3000, s, e)) return -1;
    gelu(st->x3000, F, s);
    im2col3(st->x3000, F, s, 2, A, st->im2col);
    if (backend_gemm(b, A, st->im2col, 3 * s, &m->conv2, m->conv2_b, st->x, s, e)) return -1;
    gelu(st->x, A, s);
    add_in_place(st->x, m->enc_pos, A, s);

    /* On the CPU, a block runs as two parallel regions in which the threads
     * take bands of rows (enc_band): (LN, q/k/v) then, once every k/v row exists,
     * (attention, out-proj, residual, LN, MLP, residual). Fewer fork-joins,
     * and a band's rows stay in one core's cache through a phase. A device GEMM (NPU) is not
     * reentrant, so then the ops run one after the other. */
    const int fused = !strcmp(backend_where(b, LC_OP_GEMM), b->cpu->label);
    for (int l = 0; l < hp->n_audio_layer; l++) {
        const lc_enc_layer *L = &m->enc[l];
        if (fused) {
            enc_job j = { st, L, e, 0, st->attn_pack && backend_cpu_amx(b), { 0, 0 } };
            pool_run(blas_pool(), enc_phase1, &j);
            if (j.amx && !j.failed) pool_run(blas_pool(), enc_pack, &j);
            pool_run(blas_pool(), enc_phase2, &j);
            if (j.failed) return -1;
            continue;
        }
        layer_norm(st->x, st->h, A, s, L->attn.ln_w, L->attn.ln_b);
        if (backend_gemm(b, A, st->h, s, &L->attn.q, L->attn.q_b, st->q, s, e) ||
            backend_gemm(b, A, st->h, s, &L->attn.k, NULL, st->k, s, e) ||
            backend_gemm(b, A, st->h, s, &L->attn.v, L->attn.v_b, st->v, s, e))
            return -1;
        attention(st->q, st->k, st->v, A, A, s, hp->n_audio_head, st->scores, st->att);
        if (backend_gemm(b, A, st->att, s, &L->attn.o, L->attn.o_b, st->h, s, e)) return -1;
        add_in_place(st->x, st->h, A, s);

        layer_norm(st->x, st->h, A, s, L->mlp.ln_w, L->mlp.ln_b);
        if (backend_gemm(b, A, st->h, s, &L->mlp.fc1, L->mlp.fc1_b, st->mlp, 4 * s, e)) return -1;
        gelu(st->mlp, A, 4 * s);
        if (backend_gemm(b, A, st->mlp, 4 * s, &L->mlp.fc2, L->mlp.fc2_b, st->h, s, e)) return -1;
        add_in_place(st->x, st->h, A, s);
    }
    layer_norm(st->x, st->enc_out, A, s, m->ln_post_w, m->ln_post_b);

    for (int l = 0; l < hp->n_text_layer; l++) {
        const lc_dec_layer *L = &m->dec[l];
        /* int8 K/V: staged in the encoder's scratch, a layer at a time */
        float *ck = st->cross_k8 ? st->q : st->cross_k + (size_t)l * As;
        float *cv = st->cross_k8 ? st->k : st->cross_v + (size_t)l * As;
        if (backend_gemm(b, A, st->enc_out, s, &L->cross.k, NULL, ck, s, e) ||
            backend_gemm(b, A, st->enc_out, s, &L->cross.v, L->cross.v_b, cv, s, e))
            return -1;
        if (st->cross_k8) {
            const size_t per = (size_t)xblocks(A) * VM_XBLK * s, sper = (size_t)xblocks(A) * VM_XBLK * hp->n_text_head;
            xkv_block(ck, cv, A, s, hp->n_text_head, st->cross_k8 + l * per, st->cross_v8 + l * per,
                      st->cross_ks + l * sper, st->cross_vs + l * sper);
        }
    }
    st->t.encode += now_ms() - t0;
    return 0;
}

/* ---- decoder (cross-attention on int8) ------------------------------------------------ */

/* Cross-attention of a few rows over the window's int8 K/V, the position
 * blocks (vecmath.h) split over the pool so each thread streams its share
 * of K and V once, all heads of a block together. Each thread keeps, per row and
 * head, a partial softmax (its max m and sum l of exp(s − m)) and the
 * unnormalised P·V; xattn_merge combines them (split-K "flash decoding").
 * Why not heads over threads: a head is 128 bytes of every 768-byte row,
 * and that strided read ran at half the bandwidth. */
typedef struct xattn_job {
    const float *q;
    const int8_t *k, *v;        /* this layer's blocks (vecmath.h) */
    const float *ks, *vs;       /* and their scales */
    int n, n_kv, n_state, n_head;
    int chunk;                  /* positions per thread, at most */
    size_t per;                 /* work floats per thread */
    float *work;                /* per thread: scores [n_head, chunk], acc [n, n_state], m/l [n, 2·n_head] */
    int nth;                    /* threads that ran (written by thread 0) */
} xattn_job;

/* thread t's pieces of the work area */
static float *xattn_scores(const xattn_job *j, int t) { return j->work + (size_t)t * j->per; }
static float *xattn_acc(const xattn_job *j, int t, int r)
{
    return xattn_scores(j, t) + (size_t)j->n_head * j->chunk + (size_t)r * j->n_state;
}
static float *xattn_ml(const xattn_job *j, int t, int r) /* m[n_head] then l[n_head] */
{
    return xattn_acc(j, t, j->n) + (size_t)r * 2 * j->n_head;
}

static void xattn_part(void *c, int ith, int nth)
{
    xattn_job *j = c;
    const int H = j->n_head, ts = j->n_state, dh = ts / H;
    const float scale = 1.0f / sqrtf((float)dh);
    if (ith == 0) j->nth = nth;
    int b0, b1;
    pool_range(xblocks(j->n_kv), ith, nth, &b0, &b1);
    const int p0 = b0 * VM_XBLK, p1 = b1 * VM_XBLK < j->n_kv ? b1 * VM_XBLK : j->n_kv, np = p1 - p0;
    const size_t blk = (size_t)ts * VM_XBLK; /* elements per block */
    float *sc = xattn_scores(j, ith);
    for (int r = 0; r < j->n; r++) {
        float *ar = xattn_acc(j, ith, r), *mr = xattn_ml(j, ith, r);
        memset(ar, 0, sizeof(float) * (size_t)ts);
        if (np <= 0) {
            for (int h = 0; h < H; h++) { mr[h] = -INFINITY; mr[H + h] = 0.0f; }
            continue;
        }
        const size_t sblk = (size_t)H * VM_XBLK; /* scales per block */
        vm_xattn_scores_blk(j->k + b0 * blk, j->ks + b0 * sblk, b1 - b0, j->q + (size_t)r * ts, H, dh, scale, sc,
                            j->chunk);
        for (int h = 0; h < H; h++) {
            float *s = sc + (size_t)h * j->chunk;
            const float m = vm_max(s, np);
            mr[h] = m;
            mr[H + h] = (float)vm_exp_sum(s, np, m); /* s = exp(s − m) in place */
            for (int t = np; t < (b1 - b0) * VM_XBLK; t++) s[t] = 0.0f; /* the padding's weight */
        }
        vm_xattn_accum_blk(j->v + b0 * blk, j->vs + b0 * sblk, b1 - b0, sc, j->chunk, H, dh, ar);
    }
}

static void xattn_merge(const xattn_job *j, float *out)
{
    const int H = j->n_head, ts = j->n_state, dh = ts / H;
    for (int r = 0; r < j->n; r++)
        for (int h = 0; h < H; h++) {
            float M = -INFINITY;
            for (int t = 0; t < j->nth; t++) {
                const float m = xattn_ml(j, t, r)[h];
                M = m > M ? m : M;
            }
            float wt[64], L = 0.0f; /* pool threads: at most 64 here (checked by the caller) */
            for (int t = 0; t < j->nth; t++) {
                const float *ml = xattn_ml(j, t, r);
                wt[t] = ml[h] == -INFINITY ? 0.0f : expf(ml[h] - M);
                L += wt[t] * ml[H + h];
            }
            float *o = out + (size_t)r * ts + (size_t)h * dh;
            for (int i = 0; i < dh; i++) {
                float a = 0.0f;
                for (int t = 0; t < j->nth; t++) a += wt[t] * xattn_acc(j, t, r)[(size_t)h * dh + i];
                o[i] = a / L;
            }
        }
}

/* ---- decoder (self-attention) ---------------------------------------------------------------- */

static float *kv_row(const lc_state *st, float *base, int seq, int layer, int pos)
{
    const lc_hparams *hp = &st->m->hp;
    return base + (((size_t)seq * hp->n_text_layer + layer) * hp->n_text_ctx + pos) * hp->n_text_state;
}

/* Causal self-attention of each row over its own sequence's cache. Rows of
 * one sequence are contiguous with consecutive positions, so a run of rows
 * is one GEMM per head against the cache up to the run's last position,
 * with the entries past each row's own position masked out. */
typedef struct self_job {
    lc_state *st;
    int layer, r0, nr, p0, nk, slot;
} self_job;

static void self_heads(void *c, int ith, int nth)
{
    const self_job *j = c;
    lc_state *st = j->st;
    const lc_hparams *hp = &st->m->hp;
    const int ts = hp->n_text_state, nh = hp->n_text_head, dh = ts / nh;
    const float scale = 1.0f / sqrtf((float)dh);
    const float *K0 = kv_row(st, st->kv_k, j->slot, j->layer, 0), *V0 = kv_row(st, st->kv_v, j->slot, j->layer, 0);
    float *sc = st->dscores + (size_t)ith * j->nr * j->nk;
    int h0, h1;
    pool_range(nh, ith, nth, &h0, &h1);
    for (int h = h0; h < h1; h++) {
        if (j->nr == 1) { /* one token (greedy, each beam): nk = its own position + 1 */
            vm_attn_row(st->dq + (size_t)j->r0 * ts + h * dh, K0 + h * dh, V0 + h * dh, (size_t)ts, j->nk, dh, scale,
                        sc, st->datt + (size_t)j->r0 * ts + h * dh);
            continue;
        }
        blas_sgemm(0, 1, j->nr, j->nk, dh, scale, st->dq + (size_t)j->r0 * ts + h * dh, ts, K0 + h * dh, ts,
                   0.0f, sc, j->nk);
        for (int i = 0; i < j->nr; i++) {
            float *si = sc + (size_t)i * j->nk;
            const int own = j->p0 + i + 1; /* keys this row may see */
            for (int k = own; k < j->nk; k++) si[k] = 0.0f;
            vm_softmax(si, own);
        }
        blas_sgemm(0, 0, j->nr, dh, j->nk, 1.0f, sc, j->nk, V0 + h * dh, ts, 0.0f,
                   st->datt + (size_t)j->r0 * ts + h * dh, ts);
    }
}

static void self_attention(lc_state *st, int layer, int n, const int *seq, const int *pos)
{
    const lc_hparams *hp = &st->m->hp;
    for (int r0 = 0; r0 < n;) {
        int r1 = r0 + 1;
        while (r1 < n && seq[r1] == seq[r0] && pos[r1] == pos[r1 - 1] + 1) r1++;
        self_job j = { st, layer, r0, r1 - r0, pos[r0], pos[r1 - 1] + 1, seq[r0] };
        /* scores: one [nr, nk] block per pool thread, inside dscores. Over
         * the pool from 8k cached floats (16 positions of base): the f32
         * cache comes from memory, not cache, each token (the weights'
         * stream evicts it), and one core reads it at ~60% of two cores'
         * bandwidth (base's decoder step 3.2 -> 3.05 ms with 64k) */
        size_t need = (size_t)pool_threads(blas_pool()) * j.nr * j.nk;
        lc_pool *p = need <= st->dscores_cap && (size_t)j.nr * j.nk * hp->n_text_state >= 8192 ? blas_pool() : NULL;
        pool_run(p, self_heads, &j);
        r0 = r1;
    }
}

int whisper_decode(lc_state *st, int n, const int *tok, const int *seq, const int *pos,
                   int n_out, const int *out_rows, lc_err *e)
{
    const lc_model *m = st->m;
    const lc_hparams *hp = &m->hp;
    const int ts = hp->n_text_state, A = hp->n_audio_ctx;
    double t0 = now_ms();

    if (n < 1 || n > st->max_rows) return lc_fail(e, "decoder: %d rows (max %d)", n, st->max_rows);
    for (int r = 0; r < n; r++) {
        if (tok[r] < 0 || tok[r] >= hp->n_vocab) return lc_fail(e, "decoder: token %d out of range", tok[r]);
        if (pos[r] < 0 || pos[r] >= hp->n_text_ctx)
            return lc_fail(e, "decoder: position %d past the text context (%d)", pos[r], hp->n_text_ctx);
        if (seq[r] < 0 || seq[r] >= st->n_seq) return lc_fail(e, "decoder: sequence %d out of range", seq[r]);
        const float *pe = m->dec_pos + (size_t)pos[r] * ts;
        float *x = st->dx + (size_t)r * ts;
        if (m->tok_emb.w) {
            const float *te = m->tok_emb.w + (size_t)tok[r] * ts;
            for (int i = 0; i < ts; i++) x[i] = te[i] + pe[i];
        } else { /* compacted: the f32 embedding was released */
            const lc_mat16 *T = &m->tok16;
            for (int i = 0; i < ts; i++) {
                size_t k = (size_t)tok[r] * ts + i;
                /* int8: with the residual (model.h), a row per token is cheap */
                float w = !T->q ? quant_f16_to_f32(T->w[k])
                        : T->scale[k / LC_Q8_BLOCK] *
                              ((float)T->q[k] + (T->lo ? (float)T->lo[k] * (1.0f / LC_Q8_LO) : 0.0f));
                x[i] = w + pe[i];
            }
        }
    }

    for (int l = 0; l < hp->n_text_layer; l++) {
        const lc_dec_layer *L = &m->dec[l];
        const lc_dec16 *C = m->dec16 ? &m->dec16[l] : NULL;
        layer_norm(st->dx, st->dh, n, ts, L->attn.ln_w, L->attn.ln_b);
        dense_dec_qkv(st, n, st->dh, &L->attn, C, st->dq, st->dk, st->dv);
        for (int r = 0; r < n; r++) {
            memcpy(kv_row(st, st->kv_k, seq[r], l, pos[r]), st->dk + (size_t)r * ts, sizeof(float) * ts);
            memcpy(kv_row(st, st->kv_v, seq[r], l, pos[r]), st->dv + (size_t)r * ts, sizeof(float) * ts);
        }
        self_attention(st, l, n, seq, pos);
        dense_dec(st, n, st->datt, &L->attn.o, C ? &C->o : NULL, L->attn.o_b, st->dh);
        add_in_place(st->dx, st->dh, n, ts);

        layer_norm(st->dx, st->dh, n, ts, L->cross.ln_w, L->cross.ln_b);
        dense_dec(st, n, st->dh, &L->cross.q, C ? &C->cq : NULL, L->cross.q_b, st->dq);
        lc_pool *xp = blas_pool();
        const int xn = pool_threads(xp);
        const int xchunk = (xblocks(A) + xn - 1) / xn * VM_XBLK; /* whole blocks per thread */
        const size_t xper = (size_t)hp->n_text_head * xchunk + (size_t)n * ts + (size_t)n * 2 * hp->n_text_head;
        const size_t xl = (size_t)l * xblocks(A) * VM_XBLK * ts; /* a layer's blocks */
        const size_t xs = (size_t)l * xblocks(A) * VM_XBLK * hp->n_text_head; /* and its scales */
        const int8_t *k8 = st->cross_k8 ? st->cross_k8 + xl : NULL, *v8 = st->cross_v8 ? st->cross_v8 + xl : NULL;
        const float *ks = st->cross_ks ? st->cross_ks + xs : NULL, *vs = st->cross_vs ? st->cross_vs + xs : NULL;
        if (k8 && n <= FEW_ROWS && xn <= 64 && xper * xn <= st->dscores_cap) {
            xattn_job xj = { st->dq, k8, v8, ks, vs, n, A, ts, hp->n_text_head, xchunk, xper, st->dscores, 1 };
            pool_run(xp, xattn_part, &xj);
            xattn_merge(&xj, st->datt);
        } else if (k8) {
            /* a prompt's many rows: this layer's K/V widened to f32 in the
             * encoder's scratch (free while decoding), then batched GEMMs */
            xkv_unblock(k8, v8, ks, vs, A, ts, hp->n_text_head, st->k, st->v);
            attention(st->dq, st->k, st->v, n, A, ts, hp->n_text_head, st->dscores, st->datt);
        } else {
            attention(st->dq, st->cross_k + (size_t)l * A * ts, st->cross_v + (size_t)l * A * ts, n, A,
                      ts, hp->n_text_head, st->dscores, st->datt);
        }
        dense_dec(st, n, st->datt, &L->cross.o, C ? &C->co : NULL, L->cross.o_b, st->dh);
        add_in_place(st->dx, st->dh, n, ts);

        layer_norm(st->dx, st->dh, n, ts, L->mlp.ln_w, L->mlp.ln_b);
        dense_dec_act(st, n, st->dh, &L->mlp.fc1, C ? &C->mlp0 : NULL, L->mlp.fc1_b, st->dmlp, 1);
        dense_dec(st, n, st->dmlp, &L->mlp.fc2, C ? &C->mlp2 : NULL, L->mlp.fc2_b, st->dh);
        add_in_place(st->dx, st->dh, n, ts);
    }
    for (int i = 0; i < n_out; i++) {
        int r = out_rows[i];
        LC_ASSERT(r >= 0 && r < n);
        layer_norm(st->dx + (size_t)r * ts, st->dh + (size_t)i * ts, 1, ts, m->dec_ln_w, m->dec_ln_b);
    }
    st->logits_approx = 0;
    if (n_out > 0 && m->tok16.lo) {
        /* int8 logits with bounds, or the 4-bit proxy with its margins
         * (whisper_logits_refine makes the best exact) */
        const int nb = ts / LC_Q8_BLOCK, V = hp->n_vocab;
        for (int i = 0; i < n_out; i++) {
            const float *h = st->dh + (size_t)i * ts;
            if (st->logits_q4) {
                /* error = (w − w4)·h + w4·(h − hq): each σ·√ts ≈ the norms'
                 * product for errors spread evenly; refine compares
                 * l ± LOGIT_BOUND_K·B */
                double h2 = 0;
                for (int k = 0; k < ts; k++) h2 += (double)h[k] * h[k];
                vm_q4x_prepare(h, ts, st->q4x);
                const double c = LOGIT_Q4_SIGMAS / sqrt((double)ts) / LOGIT_BOUND_K;
                q4_job j = { &m->tok16, st->q4x, st->logits + (size_t)i * V, st->logit_bnd + (size_t)i * V,
                             (float)(c * sqrt(h2)), (float)(c * st->q4x->dnorm), 0 };
                pool_run(blas_pool(), q4_part, &j);
                continue;
            }
            for (int b = 0; b < nb; b++) {
                float a = 0;
                for (int k = 0; k < LC_Q8_BLOCK; k++) a += fabsf(h[b * LC_Q8_BLOCK + k]);
                st->hb[b] = a;
            }
            gemv_job j = { &m->tok16, h, NULL, st->logits + (size_t)i * V, st->hb, st->logit_bnd + (size_t)i * V, NULL, 0, 0 };
            pool_run(blas_pool(), gemv_part, &j);
        }
        st->logits_approx = 1;
    } else if (n_out > 0) {
        dense_dec(st, n_out, st->dh, &m->tok_emb, m->arena16 ? &m->tok16 : NULL, NULL, st->logits);
    }
    st->t.decode += now_ms() - t0;
    st->t.decode_tokens += n;
    return 0;
}


/* Logit of token v from output row `out` with q + lo/LC_Q8_LO (model.h). */
static float logit_exact(const lc_state *st, int out, int v)
{
    const lc_mat16 *T = &st->m->tok16;
    const int ts = T->cols;
    return vm_dot_q8lo(T->q + (size_t)v * ts, T->lo + (size_t)v * ts, T->scale + (size_t)v * ts / LC_Q8_BLOCK,
                       st->dh + (size_t)out * ts, ts);
}

/* The candidates' exact logits: each row is 768+ bytes at a random place,
 * so the rows a few candidates ahead are prefetched (one at a time, 373
 * candidates of tiny.en took 0.24 ms, mostly DRAM latency). */
#define RESCORE_AHEAD 4
#define RESCORE_PAR 64  /* candidates worth a fork-join */

typedef struct rescore_job {
    const lc_state *st;
    int out, lo, nsel;
    float *l, *src, *bnd;
    atomic_int n;
} rescore_job;

static void rescore_part(void *vc, int ith, int nth)
{
    rescore_job *j = vc;
    const lc_mat16 *T = &j->st->m->tok16;
    const size_t ts = (size_t)T->cols;
    int c0, c1, n = 0;
    pool_range(j->nsel, ith, nth, &c0, &c1);
    for (int c = c0; c < c1; c++) {
        if (c + RESCORE_AHEAD < c1) {
            const size_t w = (size_t)(j->lo + j->st->cand[c + RESCORE_AHEAD]) * ts;
            for (size_t b = 0; b < ts; b += 64) {
                __builtin_prefetch(T->q + w + b, 0, 3);
                __builtin_prefetch(T->lo + w + b, 0, 3);
            }
        }
        const int v = j->lo + j->st->cand[c];
        if (j->l[v] == -INFINITY || j->bnd[v] == 0.0f) continue;
        const float x = logit_exact(j->st, j->out, v);
        j->src[v] = x;
        j->l[v] = x;
        j->bnd[v] = 0.0f;
        n++;
    }
    atomic_fetch_add(&j->n, n);
}

static int refine(lc_state *st, int out, float *l, int lo, int hi, int k, float below)
{
    if (!st->logits_approx || k < 1 || lo >= hi) return 0;
    const int V = st->m->hp.n_vocab;
    float *src = st->logits + (size_t)out * V, *bnd = st->logit_bnd + (size_t)out * V;
    /* the k largest lower bounds l − B (ascending in top[]; k is a beam + 1) */
    enum { KMAX = 16 };
    float top[KMAX];
    int nt = 0;
    if (k > KMAX) { /* every token */
        top[0] = -INFINITY;
        nt = 1;
        k = 0;
    }
    if (k == 1) { /* greedy: the largest lower bound, vectorised */
        top[0] = vm_bound_max(l + lo, bnd + lo, LOGIT_BOUND_K, hi - lo);
        nt = top[0] > -INFINITY;
        k = 0;
    }
    for (int v = lo; v < hi && k > 0; v++) {
        if (l[v] == -INFINITY) continue;
        const float low = l[v] - LOGIT_BOUND_K * bnd[v];
        if (nt < k) {
            int i = nt++;
            while (i > 0 && top[i - 1] > low) { top[i] = top[i - 1]; i--; }
            top[i] = low;
        } else if (low > top[0]) {
            int i = 0;
            while (i + 1 < k && top[i + 1] < low) { top[i] = top[i + 1]; i++; }
            top[i] = low;
        }
    }
    if (nt == 0) return 0;
    const float thr = top[0] - below; /* the k-th largest (or the smallest of fewer) */
    const int nsel = vm_bound_select(l + lo, bnd + lo, LOGIT_BOUND_K, thr, hi - lo, st->cand);
    rescore_job j = { st, out, lo, nsel, l, src, bnd, 0 };
    /* hundreds of candidates (the 4-bit proxy's margins): both cores */
    pool_run(nsel >= RESCORE_PAR ? blas_pool() : NULL, rescore_part, &j);
    return atomic_load(&j.n);
}

float whisper_logit_margin(const lc_state *st, int out, int v)
{
    if (!st->logits_approx) return 0.0f;
    return LOGIT_BOUND_K * st->logit_bnd[(size_t)out * st->m->hp.n_vocab + v];
}

int whisper_logits_refine(lc_state *st, int out, float *l, int lo, int hi, int k)
{
    return refine(st, out, l, lo, hi, k, 0.0f);
}

int whisper_logits_refine_near(lc_state *st, int out, float *l, int lo, int hi, float below)
{
    return refine(st, out, l, lo, hi, 1, below > 0 ? below : 0.0f);
}

void whisper_kv_copy(lc_state *st, int dst, int src, int n_pos)
{
    if (dst == src || n_pos <= 0) return;
    const lc_hparams *hp = &st->m->hp;
    for (int l = 0; l < hp->n_text_layer; l++) {
        size_t bytes = sizeof(float) * (size_t)n_pos * hp->n_text_state;
        memcpy(kv_row(st, st->kv_k, dst, l, 0), kv_row(st, st->kv_k, src, l, 0), bytes);
        memcpy(kv_row(st, st->kv_v, dst, l, 0), kv_row(st, st->kv_v, src, l, 0), bytes);
    }
}
