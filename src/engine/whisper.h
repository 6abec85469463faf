/* whisper.h: the Whisper network's forward passes, in float32.
 *
 * The model (weights, hyper-parameters) is shared and read-only; an
 * lc_state holds everything one stream mutates: scratch, the encoder
 * output, the cross-attention K/V of the current window and the self-
 * attention KV caches of up to n_seq decoding sequences (beams/samples).
 * All memory is allocated in state_create(); the forward passes allocate
 * nothing. One lc_state must not be used by two threads at once; several
 * states may share one lc_model.
 *
 * Encoder (openai-whisper model.py AudioEncoder): conv1(k3,p1)+GELU,
 * conv2(k3,s2,p1)+GELU, + positional embedding, pre-LN residual blocks,
 * ln_post. Decoder (TextDecoder): token + positional embedding, blocks of
 * masked self-attention (KV cache), cross-attention, MLP; final LN; logits
 * against the token embedding.
 */
#ifndef LC_WHISPER_H
#define LC_WHISPER_H

#include <stdint.h>
#include "engine/backend.h"
#include "model/model.h"

typedef struct lc_stage_ms {
    double mel, encode, decode;  /* cumulative wall ms spent per stage */
    long decode_tokens;          /* tokens run through the decoder */
} lc_stage_ms;

typedef struct lc_state {
    const lc_model *m;
    lc_backend *b;
    int n_seq;                   /* KV caches available */
    int max_rows;                /* decoder rows per call (≤ n_text_ctx) */

    /* encoder scratch */
    float *im2col;               /* [3000, 3·max(n_mels, n_state)] */
    float *x3000;                /* [3000, n_state] conv1 output */
    float *x, *h, *q, *k, *v, *att; /* [1500, n_state] */
    float *mlp;                  /* [1500, 4·n_state] */
    float *scores;               /* [1500, 1500] one head at a time */
    float *enc_out;              /* [1500, n_state] */

    /* cross-attention K/V per decoder layer, for the current window */
    float *cross_k, *cross_v;    /* [n_text_layer, 1500, n_state]; NULL when compact (int8 below) */
    /* compact models: int8 with a scale per position and head, per layer in
     * blocks of VM_XBLK positions (the last padded with zeros) laid out as
     * vecmath.h's vm_xattn_*_blk read them */
    int8_t *cross_k8, *cross_v8;
    float *cross_ks, *cross_vs;

    /* self-attention caches */
    float *kv_k, *kv_v;          /* [n_seq, n_text_layer, n_text_ctx, n_state] */

    /* decoder scratch (max_rows rows) */
    float *dx, *dh, *dq, *dk, *dv, *datt, *dmlp, *dscores;
    size_t dscores_cap;          /* floats in dscores */
    float *logits;               /* [max_rows, n_vocab] */
    /* int8 logits (model_compact INT8): logits are approximate, row i off
     * by at most logit_bnd[i·n_vocab + v] (0 once rescored exactly);
     * logits_approx says the last whisper_decode left them so. */
    float *logit_bnd;            /* [max_rows, n_vocab] */
    float *hb;                   /* [n_text_state / 32] block sums of |h| */
    int *cand;                   /* [n_vocab] candidates being rescored */
    int logits_approx;
    /* the logits pass reads the 4-bit proxy (model.h) instead of int8: set
     * by state_create where vm_gemv_q4_fast(); its B is a statistical
     * margin, not a bound (whisper_logits_refine) */
    int logits_q4;
    struct vm_q4x *q4x;          /* the final hidden state, prepared for it */
    /* int8 block weights meet int8 activations (vm_gemv_i8x) where the CPU
     * has VNNI: set by state_create; i8x holds the row being multiplied */
    struct vm_i8x *i8x;
    /* the encoder's attention on AMX (whisper.c enc_pack): per head K and
     * Vᵀ packed, attn_pack_head u16 each; NULL without AMX */
    uint16_t *attn_pack;
    size_t attn_pack_head;
    struct amx_w *attn_pk, *attn_pv;

    lc_stage_ms t;
} lc_state;

lc_state *state_create(const lc_model *m, lc_backend *b, int n_seq, lc_err *e);
void state_free(lc_state *s);

/* Binds the model's encoder weights to the backend (bf16 copies on an NPU).
 * Call once per (model, backend) before whisper_encode. */
int whisper_prepare(lc_model *m, lc_backend *b, lc_err *e);
void whisper_release(lc_model *m, lc_backend *b);

/* Runs the encoder on one window, mel frame-major [3000, n_mels], and
 * computes every decoder layer's cross-attention K/V from it. */
int whisper_encode(lc_state *s, const float *mel, lc_err *e);

/* Runs n decoder rows. Row r feeds token tok[r] of sequence seq[r] at
 * position pos[r]; rows of one sequence must be contiguous with
 * consecutive positions, and each row sees its sequence's cache up to
 * and including its own position (the causal mask). Logits for the rows
 * listed in out_rows (n_out of them) are written to s->logits, one
 * [n_vocab] row each, in that order. n ≤ s->max_rows. */
int whisper_decode(lc_state *s, int n, const int *tok, const int *seq, const int *pos,
                   int n_out, const int *out_rows, lc_err *e);

/* With approximate logits (s->logits_approx): makes exact every token of
 * l[lo, hi) that could be among the k best there, i.e. each v with
 * l[v] + B[v] ≥ the k-th largest l[u] − B[u] (B the bound of output row
 * `out`, -inf entries skipped), rescoring it with the int8 residual
 * (model.h LC_Q8_LO). `l` is output row `out` of s->logits itself or a copy
 * of it (with filters applied); rescored values go to both, so later
 * copies inherit them. So the argmax/top-k of l equals what the full-precision
 * logits give, up to the residual's 2^-8 of int8 rounding. Returns the
 * number of tokens rescored; 0 and no effect when the logits are exact.
 * k > 16 rescores every token of the range.
 * B is a bound for the int8 proxy. For the 4-bit proxy (s->logits_q4) no
 * useful bound exists (the worst case exceeds the logits' spread), so B is
 * a margin of LOGIT_Q4_SIGMAS standard deviations of the proxy's error,
 * e4[v]·‖h‖₂/√n_state for rounding errors spread evenly over the row: the
 * error of 2 million proxy logits of random tiny models stayed under 4.9 of
 * them; a token outside it would have to beat the best by 10σ of error. */
int whisper_logits_refine(lc_state *s, int out, float *l, int lo, int hi, int k);
/* How far logit v of output row `out` may be from its exact value: the
 * LOGIT_BOUND_K·B the refinement compares with (a bound for int8, a margin
 * for the 4-bit proxy); 0 once rescored, or when the logits are exact. */
float whisper_logit_margin(const lc_state *s, int out, int v);

/* The same for sampling: makes exact every token that could be within
 * `below` of the best (for a temperature T, 20·T leaves out tokens whose
 * probability is under e^-20 of the best's). */
int whisper_logits_refine_near(lc_state *s, int out, float *l, int lo, int hi, float below);

/* Copies the first n_pos cached positions of sequence src into dst. */
void whisper_kv_copy(lc_state *s, int dst, int src, int n_pos);

#endif
