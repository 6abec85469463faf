/* whisper.c: encoder and decoder forward passes (contract in whisper.h).
 * Weight GEMMs of the encoder go through the backend (CPU or NPU); the
 * decoder and attention's activation products run on the CPU (blas.h). */
#include "engine/whisper.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/blas.h"

#define LN_EPS 1e-5 /* torch.nn.LayerNorm default, used by openai-whisper */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- elementwise kernels ----------------------------------------------------- */

static void layer_norm(const float *x, float *y, int rows, int n, const float *w, const float *b)
{
    for (int r = 0; r < rows; r++) {
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

/* nn.GELU() default: the exact erf form. */
static void gelu(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * (float)M_SQRT1_2));
}

static void softmax_row(float *x, int n)
{
    float mx = -INFINITY;
    for (int i = 0; i < n; i++) mx = x[i] > mx ? x[i] : mx;
    double sum = 0;
    for (int i = 0; i < n; i++) { x[i] = expf(x[i] - mx); sum += x[i]; }
    const float inv = (float)(1.0 / sum);
    for (int i = 0; i < n; i++) x[i] *= inv;
}

static void add_in_place(float *x, const float *y, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] += y[i];
}

/* C[M,N] = A[M,K]·Wᵀ + bias on the CPU (decoder path). */
static void dense_cpu(int M, const float *A, const lc_mat *W, const float *bias, float *C)
{
    const int N = W->rows, K = W->cols;
    if (bias)
        for (int i = 0; i < M; i++) memcpy(C + (size_t)i * N, bias, (size_t)N * sizeof(float));
    blas_sgemm(0, 1, M, N, K, 1.0f, A, K, W->w, K, bias ? 1.0f : 0.0f, C, N);
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
#define ALLOC(p, n) if (!((p) = malloc(sizeof(float) * (n)))) goto oom
    ALLOC(st->im2col, F * cin);
    ALLOC(st->x3000, F * s);
    ALLOC(st->x, A * s); ALLOC(st->h, A * s); ALLOC(st->q, A * s);
    ALLOC(st->k, A * s); ALLOC(st->v, A * s); ALLOC(st->att, A * s);
    ALLOC(st->mlp, A * 4 * s);
    ALLOC(st->scores, A * A);
    ALLOC(st->enc_out, A * s);
    ALLOC(st->cross_k, L * A * ts); ALLOC(st->cross_v, L * A * ts);
    ALLOC(st->kv_k, (size_t)n_seq * L * hp->n_text_ctx * ts);
    ALLOC(st->kv_v, (size_t)n_seq * L * hp->n_text_ctx * ts);
    ALLOC(st->dx, R * ts); ALLOC(st->dh, R * ts); ALLOC(st->dq, R * ts);
    ALLOC(st->dk, R * ts); ALLOC(st->dv, R * ts); ALLOC(st->datt, R * ts);
    ALLOC(st->dmlp, R * 4 * ts);
    ALLOC(st->dscores, R * sc);
    ALLOC(st->logits, R * (size_t)hp->n_vocab);
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
    free(st);
}

/* Every matrix the encoder (and the per-window cross K/V) multiplies by. */
#define FOR_EACH_ENCODER_MAT(m, X) do {                                         \
    X(&(m)->conv1); X(&(m)->conv2);                                             \
    for (int i_ = 0; i_ < (m)->hp.n_audio_layer; i_++) {                        \
        lc_enc_layer *L_ = &(m)->enc[i_];                                       \
        X(&L_->q); X(&L_->k); X(&L_->v); X(&L_->o); X(&L_->mlp0); X(&L_->mlp2); \
    }                                                                           \
    for (int i_ = 0; i_ < (m)->hp.n_text_layer; i_++) {                         \
        X(&(m)->dec[i_].ck); X(&(m)->dec[i_].cv);                               \
    }                                                                           \
} while (0)

int whisper_prepare(lc_model *m, lc_backend *b, lc_err *e)
{
    int rc = 0;
#define PREP(mat) if (!rc && backend_prepare(b, (mat), e)) rc = -1
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
 * heads side by side; writes out [n_q, n_state]. scores: [n_q, n_kv]. */
static void attention(const float *q, const float *k, const float *v, int n_q, int n_kv,
                      int n_state, int n_head, float *scores, float *out)
{
    const int dh = n_state / n_head;
    const float scale = 1.0f / sqrtf((float)dh); /* (dh^-¼)² as in openai's qkv_attention */
    for (int h = 0; h < n_head; h++) {
        blas_sgemm(0, 1, n_q, n_kv, dh, scale, q + h * dh, n_state, k + h * dh, n_state,
                   0.0f, scores, n_kv);
        for (int i = 0; i < n_q; i++) softmax_row(scores + (size_t)i * n_kv, n_kv);
        blas_sgemm(0, 0, n_q, dh, n_kv, 1.0f, scores, n_kv, v + h * dh, n_state, 0.0f,
                   out + h * dh, n_state);
    }
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
    gelu(st->x3000, (size_t)F * s);
    im2col3(st->x3000, F, s, 2, A, st->im2col);
    if (backend_gemm(b, A, st->im2col, 3 * s, &m->conv2, m->conv2_b, st->x, s, e)) return -1;
    gelu(st->x, As);
    add_in_place(st->x, m->enc_pos, As);

    for (int l = 0; l < hp->n_audio_layer; l++) {
        const lc_enc_layer *L = &m->enc[l];
        layer_norm(st->x, st->h, A, s, L->attn_ln_w, L->attn_ln_b);
        if (backend_gemm(b, A, st->h, s, &L->q, L->q_b, st->q, s, e) ||
            backend_gemm(b, A, st->h, s, &L->k, NULL, st->k, s, e) ||
            backend_gemm(b, A, st->h, s, &L->v, L->v_b, st->v, s, e))
            return -1;
        attention(st->q, st->k, st->v, A, A, s, hp->n_audio_head, st->scores, st->att);
        if (backend_gemm(b, A, st->att, s, &L->o, L->o_b, st->h, s, e)) return -1;
        add_in_place(st->x, st->h, As);

        layer_norm(st->x, st->h, A, s, L->mlp_ln_w, L->mlp_ln_b);
        if (backend_gemm(b, A, st->h, s, &L->mlp0, L->mlp0_b, st->mlp, 4 * s, e)) return -1;
        gelu(st->mlp, As * 4);
        if (backend_gemm(b, A, st->mlp, 4 * s, &L->mlp2, L->mlp2_b, st->h, s, e)) return -1;
        add_in_place(st->x, st->h, As);
    }
    layer_norm(st->x, st->enc_out, A, s, m->ln_post_w, m->ln_post_b);

    for (int l = 0; l < hp->n_text_layer; l++) {
        const lc_dec_layer *L = &m->dec[l];
        if (backend_gemm(b, A, st->enc_out, s, &L->ck, NULL, st->cross_k + (size_t)l * As, s, e) ||
            backend_gemm(b, A, st->enc_out, s, &L->cv, L->cv_b, st->cross_v + (size_t)l * As, s, e))
            return -1;
    }
    st->t.encode += now_ms() - t0;
    return 0;
}

/* ---- decoder ---------------------------------------------------------------- */

static float *kv_row(const lc_state *st, float *base, int seq, int layer, int pos)
{
    const lc_hparams *hp = &st->m->hp;
    return base + (((size_t)seq * hp->n_text_layer + layer) * hp->n_text_ctx + pos) * hp->n_text_state;
}

/* Causal self-attention of each row over its own sequence's cache. */
static void self_attention(lc_state *st, int layer, int n, const int *seq, const int *pos)
{
    const lc_hparams *hp = &st->m->hp;
    const int ts = hp->n_text_state, nh = hp->n_text_head, dh = ts / nh;
    const float scale = 1.0f / sqrtf((float)dh);
    for (int r = 0; r < n; r++) {
        const float *q = st->dq + (size_t)r * ts;
        float *out = st->datt + (size_t)r * ts;
        float *sc = st->dscores;
        const float *K0 = kv_row(st, st->kv_k, seq[r], layer, 0);
        const float *V0 = kv_row(st, st->kv_v, seq[r], layer, 0);
        const int nk = pos[r] + 1;
        for (int h = 0; h < nh; h++) {
            for (int j = 0; j < nk; j++) {
                const float *kj = K0 + (size_t)j * ts + h * dh;
                float d = 0;
                for (int i = 0; i < dh; i++) d += q[h * dh + i] * kj[i];
                sc[j] = d * scale;
            }
            softmax_row(sc, nk);
            float *o = out + h * dh;
            memset(o, 0, sizeof(float) * dh);
            for (int j = 0; j < nk; j++) {
                const float *vj = V0 + (size_t)j * ts + h * dh;
                for (int i = 0; i < dh; i++) o[i] += sc[j] * vj[i];
            }
        }
    }
}

int whisper_decode(lc_state *st, int n, const int *tok, const int *seq, const int *pos,
                   int n_out, const int *out_rows, lc_err *e)
{
    const lc_model *m = st->m;
    const lc_hparams *hp = &m->hp;
    const int ts = hp->n_text_state, A = hp->n_audio_ctx;
    const size_t nts = (size_t)n * ts;
    double t0 = now_ms();

    if (n < 1 || n > st->max_rows) return lc_fail(e, "decoder: %d rows (max %d)", n, st->max_rows);
    for (int r = 0; r < n; r++) {
        if (tok[r] < 0 || tok[r] >= hp->n_vocab) return lc_fail(e, "decoder: token %d out of range", tok[r]);
        if (pos[r] < 0 || pos[r] >= hp->n_text_ctx)
            return lc_fail(e, "decoder: position %d past the text context (%d)", pos[r], hp->n_text_ctx);
        if (seq[r] < 0 || seq[r] >= st->n_seq) return lc_fail(e, "decoder: sequence %d out of range", seq[r]);
        const float *te = m->tok_emb.w + (size_t)tok[r] * ts, *pe = m->dec_pos + (size_t)pos[r] * ts;
        float *x = st->dx + (size_t)r * ts;
        for (int i = 0; i < ts; i++) x[i] = te[i] + pe[i];
    }

    for (int l = 0; l < hp->n_text_layer; l++) {
        const lc_dec_layer *L = &m->dec[l];
        layer_norm(st->dx, st->dh, n, ts, L->attn_ln_w, L->attn_ln_b);
        dense_cpu(n, st->dh, &L->q, L->q_b, st->dq);
        dense_cpu(n, st->dh, &L->k, NULL, st->dk);
        dense_cpu(n, st->dh, &L->v, L->v_b, st->dv);
        for (int r = 0; r < n; r++) {
            memcpy(kv_row(st, st->kv_k, seq[r], l, pos[r]), st->dk + (size_t)r * ts, sizeof(float) * ts);
            memcpy(kv_row(st, st->kv_v, seq[r], l, pos[r]), st->dv + (size_t)r * ts, sizeof(float) * ts);
        }
        self_attention(st, l, n, seq, pos);
        dense_cpu(n, st->datt, &L->o, L->o_b, st->dh);
        add_in_place(st->dx, st->dh, nts);

        layer_norm(st->dx, st->dh, n, ts, L->cross_ln_w, L->cross_ln_b);
        dense_cpu(n, st->dh, &L->cq, L->cq_b, st->dq);
        attention(st->dq, st->cross_k + (size_t)l * A * ts, st->cross_v + (size_t)l * A * ts, n, A,
                  ts, hp->n_text_head, st->dscores, st->datt);
        dense_cpu(n, st->datt, &L->co, L->co_b, st->dh);
        add_in_place(st->dx, st->dh, nts);

        layer_norm(st->dx, st->dh, n, ts, L->mlp_ln_w, L->mlp_ln_b);
        dense_cpu(n, st->dh, &L->mlp0, L->mlp0_b, st->dmlp);
        gelu(st->dmlp, nts * 4);
        dense_cpu(n, st->dmlp, &L->mlp2, L->mlp2_b, st->dh);
        add_in_place(st->dx, st->dh, nts);
    }
    for (int i = 0; i < n_out; i++) {
        int r = out_rows[i];
        LC_ASSERT(r >= 0 && r < n);
        layer_norm(st->dx + (size_t)r * ts, st->dh + (size_t)i * ts, 1, ts, m->dec_ln_w, m->dec_ln_b);
    }
    if (n_out > 0) dense_cpu(n_out, st->dh, &m->tok_emb, NULL, st->logits);
    st->t.decode += now_ms() - t0;
    st->t.decode_tokens += n;
    return 0;
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
