/* decode.c: one-window decoding (contract in decode.h). Each rule cites the
 * openai-whisper decoding.py class it reproduces. */
#include "decode/decode.h"
#include "engine/vecmath.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define TIME_PRECISION 0.02 /* CHUNK_LENGTH / n_audio_ctx = 30 s / 1500 */

typedef struct beam_cand {
    float score;
    int src, token, order;
} beam_cand;

typedef struct finished_seq {
    int *tok;                 /* sampled tokens incl. the final EOT */
    int n;
    float score;
} finished_seq;

struct lc_decoder {
    const lc_model *m;
    const lc_tokenizer *tok;
    lc_state *st;
    int max_group, n_ctx, n_vocab;
    int stride;               /* token rows hold n_ctx + 1 tokens and a final EOT */
    int suppress[256], n_suppress;
    int blank[8], n_blank;

    int *init;                /* [n_ctx] initial tokens */
    int *seqs, *seqs2;        /* [max_group, n_ctx] tokens per group member */
    float *sum_lp;            /* [max_group] */
    float *logits;            /* [max_group, n_vocab] filtered logits */
    float *logprobs;          /* [n_vocab] */
    int *slot;                /* KV cache slot of each member */
    beam_cand *cands;         /* [max_group · (max_group + 1)] */
    finished_seq *fin;        /* [2 · max_group] */
    int *fin_tok;             /* [2 · max_group, n_ctx] */
    int n_fin;
    int *result;              /* [n_ctx] */
    int rows_tok[DECODE_MAX_GROUP], rows_seq[DECODE_MAX_GROUP], rows_pos[DECODE_MAX_GROUP];
    int rows_out[DECODE_MAX_GROUP];
    /* compression_ratio: one deflate stream reused for every window (zlib
     * would allocate and fault in ~270 KiB of state per call otherwise) */
    z_stream zs;
    int zs_ok;
    unsigned char *zbuf;
    size_t zcap;
};

lc_state *decoder_state(lc_decoder *d) { return d->st; }

lc_decoder *decoder_create(const lc_model *m, const lc_tokenizer *tok, lc_backend *b,
                           int max_group, lc_err *e)
{
    if (max_group < 1) max_group = 1;
    if (max_group > DECODE_MAX_GROUP) max_group = DECODE_MAX_GROUP;
    lc_decoder *d = calloc(1, sizeof *d);
    if (!d) { lc_fail(e, "out of memory"); return NULL; }
    d->m = m;
    d->tok = tok;
    d->max_group = max_group;
    d->n_ctx = m->hp.n_text_ctx;
    d->n_vocab = m->hp.n_vocab;
    /* beams need two cache slots each: the old and the rearranged ones */
    d->st = state_create(m, b, 2 * max_group, e);
    if (!d->st) { free(d); return NULL; }
    d->stride = d->n_ctx + 2;
    size_t G = (size_t)max_group, C = (size_t)d->stride;
    d->init = malloc(C * sizeof(int));
    d->seqs = malloc(G * C * sizeof(int));
    d->seqs2 = malloc(G * C * sizeof(int));
    d->sum_lp = malloc(G * sizeof(float));
    d->logits = malloc(G * (size_t)d->n_vocab * sizeof(float));
    d->logprobs = malloc((size_t)d->n_vocab * sizeof(float));
    d->slot = malloc(G * sizeof(int));
    d->cands = malloc(G * (G + 1) * sizeof(beam_cand));
    d->fin = malloc(2 * G * sizeof(finished_seq));
    d->fin_tok = malloc(2 * G * C * sizeof(int));
    d->result = malloc(C * sizeof(int));
    if (!d->init || !d->seqs || !d->seqs2 || !d->sum_lp || !d->logits || !d->logprobs || !d->slot ||
        !d->cands || !d->fin || !d->fin_tok || !d->result) {
        decoder_free(d);
        lc_fail(e, "out of memory");
        return NULL;
    }
    d->n_suppress = tokenizer_suppress_tokens(tok, d->suppress, 256);
    d->n_blank = tokenizer_blank_tokens(tok, d->blank, 8);
    /* Python zlib.compress default: level -1 (Z_DEFAULT_COMPRESSION, 6);
     * without it (out of memory) each window uses compress2 instead */
    d->zs_ok = deflateInit(&d->zs, Z_DEFAULT_COMPRESSION) == Z_OK;
    return d;
}

void decoder_free(lc_decoder *d)
{
    if (!d) return;
    state_free(d->st);
    free(d->init); free(d->seqs); free(d->seqs2); free(d->sum_lp); free(d->logits);
    free(d->logprobs); free(d->slot); free(d->cands); free(d->fin); free(d->fin_tok);
    free(d->result);
    if (d->zs_ok) deflateEnd(&d->zs);
    free(d->zbuf);
    free(d);
}

/* ---- logit filters ---------------------------------------------------------- */


/* log Σ exp(x[i]) with the vector exp (vecmath.h), summed in double per
 * 512 values so no float lane adds more than 64 terms (−inf entries give
 * ~1e-38 each, nothing beside the max's 1). tmp holds n floats. Why not
 * log_softmax: a token's log-probability is x[t] − this, and libm's double
 * exp over the whole vocabulary twice per token cost ~1 ms. */
static double log_sum_exp(const float *x, int n, float *tmp)
{
    const float mx = n > 0 ? vm_max(x, n) : -INFINITY;
    if (mx == -INFINITY) return -INFINITY;
    memcpy(tmp, x, sizeof(float) * (size_t)n);
    double s = 0;
    for (int i = 0; i < n; i += 512) s += vm_exp_sum(tmp + i, n - i < 512 ? n - i : 512, mx);
    return mx + log(s);
}

/* log_softmax(x) into out (n floats; out may not alias x) */
static void log_softmax(const float *x, int n, float *out)
{
    const float lse = (float)log_sum_exp(x, n, out);
    for (int i = 0; i < n; i++) out[i] = x[i] - lse;
}

static void mask_range(float *l, int lo, int hi)
{
    for (int i = lo; i < hi; i++) l[i] = -INFINITY;
}

/* Compact logits (whisper.h): could the exact logits decide the timestamp
 * rule otherwise? Its timestamps' log-sum-exp lies between that of l − m
 * and that of l + m, m the margins; open if `text` (exact) is in between. */
static int ts_rule_open(const lc_decoder *d, int out, const float *l, int tb, int V, float text)
{
    float hi_max = -INFINITY, lo_max = -INFINITY;
    for (int v = tb; v < V; v++) {
        if (l[v] == -INFINITY) continue;
        const float m = whisper_logit_margin(d->st, out, v);
        hi_max = fmaxf(hi_max, l[v] + m);
        lo_max = fmaxf(lo_max, l[v] - m);
    }
    if (hi_max == -INFINITY) return 0;
    double hs = 0, ls = 0;
    for (int v = tb; v < V; v++) {
        if (l[v] == -INFINITY) continue;
        const float m = whisper_logit_margin(d->st, out, v);
        hs += exp((double)l[v] + m - hi_max);
        ls += exp((double)l[v] - m - lo_max);
    }
    return text >= lo_max + log(ls) && text <= hi_max + log(hs);
}

/* SuppressBlank, SuppressTokens and ApplyTimestampRules, in that order,
 * on one member's logits (output row `out`); `sampled` are its tokens
 * since sample_begin. */
static void apply_filters(lc_decoder *d, const lc_decode_opts *o, float *l, int out, const int *sampled, int n)
{
    const lc_specials *sp = &d->m->sp;
    const int V = d->n_vocab, tb = sp->ts_begin;
    if (n == 0)
        for (int i = 0; i < d->n_blank; i++) l[d->blank[i]] = -INFINITY;
    for (int i = 0; i < d->n_suppress; i++) l[d->suppress[i]] = -INFINITY;
    if (o->without_timestamps) return;

    l[sp->no_timestamps] = -INFINITY;
    int last_ts = n >= 1 && sampled[n - 1] >= tb;
    int penult_ts = n < 2 || sampled[n - 2] >= tb;
    if (last_ts) {
        if (penult_ts) mask_range(l, tb, V);   /* has to be non-timestamp */
        else mask_range(l, 0, sp->eot);        /* cannot be normal text */
    }
    int last_stamp = -1;
    for (int i = 0; i < n; i++)
        if (sampled[i] >= tb) last_stamp = sampled[i];
    if (last_stamp >= 0) {
        /* timestamps never decrease, and a segment has non-zero length */
        int limit = (last_ts && !penult_ts) ? last_stamp : last_stamp + 1;
        mask_range(l, tb, limit < V ? limit : V);
    }
    if (n == 0) {
        mask_range(l, 0, tb); /* the first sampled token is a timestamp */
        if (o->max_initial_timestamp >= 0) {
            int last_allowed = tb + (int)lround(o->max_initial_timestamp / TIME_PRECISION);
            if (last_allowed + 1 < V) mask_range(l, last_allowed + 1, V);
        }
    }
    /* if the timestamps' total probability beats every text token, force
     * one: logsumexp(logprobs[tb:]) > max(logprobs[:tb]), where both sides
     * carry the same −lse, so it is compared on the logits themselves.
     * Compact logits decide it as exact ones would: the best text token
     * (after the masks) is made exact, and the timestamps too where their
     * margins leave the comparison open (a 4-bit proxy's errors over 1501
     * timestamps moved their sum enough to flip it on a tiny.en model). */
    whisper_logits_refine(d->st, out, l, 0, tb, 1);
    double ts_lse = log_sum_exp(l + tb, V - tb, d->logprobs);
    const float text_max = tb > 0 ? vm_max(l, tb) : -INFINITY;
    if (d->st->logits_approx && ts_lse > -INFINITY && ts_rule_open(d, out, l, tb, V, text_max)) {
        whisper_logits_refine(d->st, out, l, tb, V, V);
        ts_lse = log_sum_exp(l + tb, V - tb, d->logprobs);
    }
    if (ts_lse > -INFINITY && ts_lse > text_max) mask_range(l, 0, tb);
}

/* ---- helpers ----------------------------------------------------------------- */

static int argmax(const float *x, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

static double rng_uniform(uint64_t *s)
{
    /* splitmix64: our sampler cannot reproduce torch's RNG stream anyway */
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

#define SAMPLE_SPAN 20.0 /* logits this far below the best, /T, carry < e^-20 of its probability */

static int sample_token(const float *l, int n, double temperature, uint64_t *rng)
{
    double mx = -INFINITY;
    for (int i = 0; i < n; i++) mx = l[i] > mx ? l[i] : mx;
    double total = 0;
    for (int i = 0; i < n; i++) total += exp((l[i] - mx) / temperature);
    double u = rng_uniform(rng) * total, acc = 0;
    int last = 0;
    for (int i = 0; i < n; i++) {
        if (l[i] == -INFINITY) continue;
        acc += exp((l[i] - mx) / temperature);
        last = i;
        if (acc >= u) return i;
    }
    return last;
}

/* len(text) / len(zlib.compress(text)) on a stream made by deflateInit(level
 * -1), as Python's zlib.compress: a reset stream keeps the level, window and
 * memLevel, so the decoder reuses one for every window. */
static double ratio_on(z_stream *zs, unsigned char **buf, size_t *cap, const char *text)
{
    size_t n = strlen(text);
    if (n == 0) return 0.0;
    if (deflateReset(zs) != Z_OK) return 0.0;
    size_t need = deflateBound(zs, (uLong)n);
    if (need > *cap) { /* grows once to the longest window text */
        unsigned char *nb = realloc(*buf, need);
        if (!nb) return 0.0;
        *buf = nb;
        *cap = need;
    }
    zs->next_in = (Bytef *)text;
    zs->avail_in = (uInt)n;
    zs->next_out = *buf;
    zs->avail_out = (uInt)*cap;
    if (deflate(zs, Z_FINISH) != Z_STREAM_END || zs->total_out == 0) return 0.0;
    return (double)n / (double)zs->total_out;
}

double decode_compression_ratio(const char *text)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    /* Python zlib.compress default: level −1 → Z_DEFAULT_COMPRESSION (6) */
    if (deflateInit(&zs, Z_DEFAULT_COMPRESSION) != Z_OK) return 0.0;
    unsigned char *buf = NULL;
    size_t cap = 0;
    const double r = ratio_on(&zs, &buf, &cap, text);
    deflateEnd(&zs);
    free(buf);
    return r;
}

/* Python str.strip(), in place. */
static char *strip_ws(char *s)
{
    const char *start;
    size_t n = utf8_strip(s, &start);
    ((char *)start)[n] = 0;
    return (char *)start;
}

/* ---- the main loop ----------------------------------------------------------- */

static int build_initial(lc_decoder *d, const lc_decode_opts *o, int *sot_index)
{
    const lc_specials *sp = &d->m->sp;
    int n = 0;
    if (o->prompt && o->n_prompt > 0) {
        int keep = d->n_ctx / 2 - 1; /* prompt_tokens[-(n_ctx // 2 - 1):] */
        int from = o->n_prompt > keep ? o->n_prompt - keep : 0;
        d->init[n++] = sp->sot_prev;
        for (int i = from; i < o->n_prompt; i++) d->init[n++] = o->prompt[i];
    }
    *sot_index = n;
    d->init[n++] = sp->sot;
    if (d->m->multilingual) {
        if (o->lang >= 0) d->init[n++] = sp->lang0 + o->lang;
        d->init[n++] = o->translate ? sp->translate : sp->transcribe;
    }
    if (o->without_timestamps) d->init[n++] = sp->no_timestamps;
    return n;
}

/* Runs the initial tokens on slot 0; returns no_speech_prob, and leaves the
 * last row's raw logits in d->st->logits[1·V]. */
static int run_initial(lc_decoder *d, int n0, int sot_index, double *no_speech, lc_err *e)
{
    lc_state *st = d->st;
    int *seq = malloc(sizeof(int) * (size_t)n0), *pos = malloc(sizeof(int) * (size_t)n0);
    if (!seq || !pos) { free(seq); free(pos); return lc_fail(e, "out of memory"); }
    for (int i = 0; i < n0; i++) { seq[i] = 0; pos[i] = i; }
    int outs[2] = { sot_index, n0 - 1 };
    int rc = whisper_decode(st, n0, d->init, seq, pos, 2, outs, e);
    free(seq);
    free(pos);
    if (rc) return -1;
    /* no_speech_prob: softmax of the raw logits at the SOT position (int8
     * logits: the best and the no-speech token exact; the sum's other terms
     * are within their bounds) */
    whisper_logits_refine(st, 0, st->logits, 0, d->n_vocab, 1);
    whisper_logits_refine(st, 0, st->logits, d->m->sp.no_speech, d->m->sp.no_speech + 1, 1);
    const float *ls = st->logits;
    float mx = -INFINITY;
    for (int i = 0; i < d->n_vocab; i++) mx = ls[i] > mx ? ls[i] : mx;
    double sum = 0;
    for (int i = 0; i < d->n_vocab; i++) sum += exp((double)ls[i] - mx);
    *no_speech = exp((double)ls[d->m->sp.no_speech] - mx) / sum;
    return 0;
}

static int cmp_cand(const void *a, const void *b)
{
    const beam_cand *x = a, *y = b;
    if (x->score != y->score) return x->score < y->score ? 1 : -1;
    return x->order - y->order; /* Python's sorted() is stable */
}

static int same_prefix(const int *a, const int *b, int n)
{
    return !memcmp(a, b, sizeof(int) * (size_t)n);
}

/* One BeamSearchDecoder.update. Returns 1 when enough sequences finished. */
static int beam_update(lc_decoder *d, int B, int len, int max_cand)
{
    const int V = d->n_vocab, C = d->stride, eot = d->m->sp.eot;
    int nc = 0;
    for (int j = 0; j < B; j++) {
        log_softmax(d->logits + (size_t)j * V, V, d->logprobs);
        /* topk(beam_size + 1): descending, lower index first on ties */
        int top[DECODE_MAX_GROUP + 1], nt = 0;
        for (int k = 0; k <= B; k++) {
            int best = -1;
            for (int i = 0; i < V; i++) {
                int used = 0;
                for (int q = 0; q < nt; q++) used |= top[q] == i;
                if (used) continue;
                if (best < 0 || d->logprobs[i] > d->logprobs[best]) best = i;
            }
            top[nt++] = best;
        }
        for (int k = 0; k < nt; k++) {
            float score = d->sum_lp[j] + d->logprobs[top[k]];
            /* a dict keyed by sequence: a repeat keeps its first position */
            int dup = -1;
            for (int c = 0; c < nc && dup < 0; c++)
                if (d->cands[c].token == top[k] &&
                    same_prefix(d->seqs + (size_t)d->cands[c].src * C, d->seqs + (size_t)j * C, len))
                    dup = c;
            if (dup >= 0) { d->cands[dup].score = score; d->cands[dup].src = j; continue; }
            d->cands[nc] = (beam_cand){ score, j, top[k], nc };
            nc++;
        }
    }
    qsort(d->cands, (size_t)nc, sizeof *d->cands, cmp_cand);
    int saved = 0;
    float new_lp[DECODE_MAX_GROUP];
    int new_src[DECODE_MAX_GROUP];
    finished_seq newly[2 * DECODE_MAX_GROUP + 2];
    int n_new = 0;
    for (int c = 0; c < nc && saved < B; c++) {
        const beam_cand *k = &d->cands[c];
        if (k->token == eot) {
            newly[n_new++] = (finished_seq){ NULL, k->src, k->score };
        } else {
            int *dst = d->seqs2 + (size_t)saved * C;
            memcpy(dst, d->seqs + (size_t)k->src * C, sizeof(int) * (size_t)len);
            dst[len] = k->token;
            new_lp[saved] = k->score;
            new_src[saved] = k->src;
            saved++;
        }
    }
    /* newly finished, best first, while the candidate list has room */
    for (int i = 0; i < n_new && d->n_fin < max_cand; i++) {
        finished_seq *f = &d->fin[d->n_fin];
        f->tok = d->fin_tok + (size_t)d->n_fin * C;
        memcpy(f->tok, d->seqs + (size_t)newly[i].n * C, sizeof(int) * (size_t)len);
        f->tok[len] = eot;
        f->n = len + 1;
        f->score = newly[i].score;
        d->n_fin++;
    }
    /* rearrange the KV caches: beam j now continues source new_src[j] */
    int other = d->slot[0] == 0 ? B : 0;
    for (int j = 0; j < saved; j++) whisper_kv_copy(d->st, other + j, d->slot[new_src[j]], len);
    for (int j = 0; j < saved; j++) { d->slot[j] = other + j; d->sum_lp[j] = new_lp[j]; }
    int *t = d->seqs; d->seqs = d->seqs2; d->seqs2 = t;
    return d->n_fin >= max_cand;
}

int decode_window(lc_decoder *d, const lc_decode_opts *o, lc_decode_result *r, lc_err *e)
{
    const lc_specials *sp = &d->m->sp;
    const int V = d->n_vocab, C = d->stride, eot = sp->eot;
    const int beam = o->temperature == 0 && o->beam_size > 1;
    int G = beam ? o->beam_size : (o->temperature > 0 && o->best_of > 1 ? o->best_of : 1);
    if (G > d->max_group) return lc_fail(e, "beam size/best_of %d exceeds %d", G, d->max_group);
    int sample_len = o->sample_len > 0 ? o->sample_len : d->n_ctx / 2;
    int sot_index, n0 = build_initial(d, o, &sot_index);
    double no_speech = 0;
    if (run_initial(d, n0, sot_index, &no_speech, e)) return -1;

    for (int g = 0; g < G; g++) {
        memcpy(d->seqs + (size_t)g * C, d->init, sizeof(int) * (size_t)n0);
        d->sum_lp[g] = 0.0f;
        d->slot[g] = g;
        whisper_kv_copy(d->st, g, 0, n0);
    }
    d->n_fin = 0;
    int max_cand = (int)lround(G * (o->patience > 0 ? o->patience : 1.0));
    int len = n0;
    for (int i = 0; i < sample_len; i++) {
        if (i > 0) {
            /* one decoder row per live member */
            int n = 0;
            for (int g = 0; g < G; g++) {
                if (!beam && d->seqs[(size_t)g * C + len - 1] == eot) continue;
                d->rows_tok[n] = d->seqs[(size_t)g * C + len - 1];
                d->rows_seq[n] = d->slot[g];
                d->rows_pos[n] = len - 1;
                d->rows_out[n] = n;
                n++;
            }
            if (whisper_decode(d->st, n, d->rows_tok, d->rows_seq, d->rows_pos, n, d->rows_out, e)) return -1;
        }
        /* compact logits (whisper.h): apply_filters makes what the
         * timestamp rule compares exact, then the tokens that can win */
        const int kk = beam ? G + 1 : 1;
        for (int g = 0, row = 0; g < G; g++) {
            float *l = d->logits + (size_t)g * V;
            if (!beam && d->seqs[(size_t)g * C + len - 1] == eot && i > 0) continue;
            const int out = i == 0 ? 1 : row;
            float *src = d->st->logits + (size_t)out * V;
            memcpy(l, src, sizeof(float) * (size_t)V);
            row++;
            apply_filters(d, o, l, out, d->seqs + (size_t)g * C + n0, len - n0);
            if (o->temperature == 0) whisper_logits_refine(d->st, out, l, 0, V, kk);
            /* sampling: every token with a share of the probability exact
             * (the 4-bit proxy's errors would skew it, whisper.h) */
            else whisper_logits_refine_near(d->st, out, l, 0, V, (float)(SAMPLE_SPAN * o->temperature));
        }
        int completed;
        if (beam) {
            completed = beam_update(d, G, len, max_cand);
        } else {
            completed = 1;
            for (int g = 0; g < G; g++) {
                int *sq = d->seqs + (size_t)g * C;
                int next = eot;
                if (sq[len - 1] != eot || len == n0) {
                    float *l = d->logits + (size_t)g * V;
                    next = o->temperature == 0 ? argmax(l, V) : sample_token(l, V, o->temperature, o->rng);
                    d->sum_lp[g] += (float)(l[next] - log_sum_exp(l, V, d->logprobs));
                }
                sq[len] = next;
                completed &= next == eot;
            }
        }
        len++;
        int n_sampled = len - n0;
        if (o->max_tokens > 0 && n_sampled >= o->max_tokens) break;
        /* openai: `if completed or tokens.shape[-1] > self.n_ctx: break`, so a
         * sequence may reach n_ctx + 1 tokens, the last one predicted at
         * position n_ctx − 1 (long prompts in later windows get there) */
        if (completed || len > d->n_ctx) break;
    }

    /* finalize: candidates (tokens up to the first EOT) and their scores */
    int best = 0, best_n = 0;
    float best_lp = 0;
    if (beam) {
        if (d->n_fin < G) {
            int order[DECODE_MAX_GROUP];
            for (int j = 0; j < G; j++) order[j] = j;
            for (int a = 0; a < G; a++) /* argsort descending */
                for (int b2 = a + 1; b2 < G; b2++)
                    if (d->sum_lp[order[b2]] > d->sum_lp[order[a]]) { int t = order[a]; order[a] = order[b2]; order[b2] = t; }
            for (int k = 0; k < G && d->n_fin < 2 * d->max_group; k++) {
                finished_seq *f = &d->fin[d->n_fin];
                f->tok = d->fin_tok + (size_t)d->n_fin * C;
                memcpy(f->tok, d->seqs + (size_t)order[k] * C, sizeof(int) * (size_t)len);
                f->tok[len] = eot;
                f->n = len + 1;
                f->score = d->sum_lp[order[k]];
                d->n_fin++;
                if (d->n_fin >= G) break;
            }
        }
        double best_score = -INFINITY;
        for (int k = 0; k < d->n_fin; k++) {
            int n = 0;
            while (n0 + n < d->fin[k].n && d->fin[k].tok[n0 + n] != eot) n++;
            double pen = o->length_penalty < 0 ? n : pow((5.0 + n) / 6.0, o->length_penalty);
            double sc = d->fin[k].score / pen;
            if (k == 0 || sc > best_score) { best_score = sc; best = k; best_n = n; }
        }
        memcpy(d->result, d->fin[best].tok + n0, sizeof(int) * (size_t)best_n);
        best_lp = d->fin[best].score;
    } else {
        double best_score = -INFINITY;
        for (int g = 0; g < G; g++) {
            const int *sq = d->seqs + (size_t)g * C + n0;
            int n = 0;
            while (n < len - n0 && sq[n] != eot) n++;
            double pen = o->length_penalty < 0 ? n : pow((5.0 + n) / 6.0, o->length_penalty);
            double sc = d->sum_lp[g] / pen;
            if (g == 0 || sc > best_score) { best_score = sc; best = g; best_n = n; }
        }
        memcpy(d->result, d->seqs + (size_t)best * C + n0, sizeof(int) * (size_t)best_n);
        best_lp = d->sum_lp[best];
    }
    r->tokens = d->result;
    r->n_tokens = best_n;
    r->sum_logprob = best_lp;
    r->avg_logprob = (double)best_lp / (best_n + 1);
    r->no_speech_prob = no_speech;
    r->temperature = o->temperature;
    char *text = tokenizer_decode(d->tok, d->result, best_n, sp->ts_begin);
    if (text)
        r->compression_ratio = d->zs_ok ? ratio_on(&d->zs, &d->zbuf, &d->zcap, strip_ws(text))
                                        : decode_compression_ratio(strip_ws(text));
    else r->compression_ratio = 0.0;
    free(text);
    return 0;
}

int decode_detect_language(lc_decoder *d, double *probs, lc_err *e)
{
    const lc_specials *sp = &d->m->sp;
    int tok = sp->sot, seq = 0, pos = 0, out = 0;
    if (whisper_decode(d->st, 1, &tok, &seq, &pos, 1, &out, e)) return -1;
    /* int8 logits: every language token exact (a hundred dot products) */
    whisper_logits_refine(d->st, 0, d->st->logits, sp->lang0, sp->lang0 + sp->n_langs, sp->n_langs);
    const float *l = d->st->logits + sp->lang0;
    float mx = -INFINITY;
    for (int i = 0; i < sp->n_langs; i++) mx = l[i] > mx ? l[i] : mx;
    double sum = 0;
    for (int i = 0; i < sp->n_langs; i++) sum += exp((double)l[i] - mx);
    int best = 0;
    for (int i = 0; i < sp->n_langs; i++) {
        probs[i] = exp((double)l[i] - mx) / sum;
        if (l[i] > l[best]) best = i;
    }
    return best;
}
