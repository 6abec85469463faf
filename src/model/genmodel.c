/* genmodel.c: random-weight Whisper models in ggml format (see genmodel.h). */
#include "model/genmodel.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/quant.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "genmodel writes float data in host order; ggml files are little-endian"
#endif

#define GGML_MAGIC 0x67676d6cu      /* "ggml" */
#define N_VOCAB_EN 51864            /* English-only *.en models */
#define N_VOCAB_ML 51865            /* multilingual tiny … large-v2 */
#define N_VOCAB_V3 51866            /* large-v3 (one more language token) */
#define MAX_TOKEN_LEN 4096          /* sanity bound for --vocab-from */
#define CHUNK_ELEMS (1 << 18)       /* floats generated per write */

/* ---- PRNG: splitmix64 seeds xoshiro256** (Blackman & Vigna) ---- */

typedef struct rng { uint64_t s[4]; int has_spare; float spare; } rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void rng_seed(rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ull);
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
    r->has_spare = 0;
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t; s[3] = rotl(s[3], 45);
    return out;
}

static double rng_unit(rng *r) { return (double)(rng_next(r) >> 11) * 0x1p-53; } /* [0,1) */
static unsigned rng_below(rng *r, unsigned n) { return (unsigned)(rng_unit(r) * n); }

/* Standard normal by Marsaglia's polar form of Box–Muller (both values used):
 * one log and one sqrt per pair, no sin/cos, so a large model is quick. */
static float rng_gauss(rng *r)
{
    if (r->has_spare) { r->has_spare = 0; return r->spare; }
    /* float math is ample for weights, and logf is several times faster */
    float u, v, s;
    do {
        uint64_t x = rng_next(r); /* two 24-bit uniforms from one draw */
        u = (float)(x >> 40) * 0x1p-23f - 1.0f;
        v = (float)((x >> 16) & 0xffffff) * 0x1p-23f - 1.0f;
        s = u * u + v * v;
    } while (s >= 1.0f || s == 0.0f);
    float k = sqrtf(-2.0f * logf(s) / s);
    r->spare = v * k;
    r->has_spare = 1;
    return u * k;
}

/* ---- shapes ---- */

typedef struct shape {
    const char *name;
    int state, head, layer, text_layer, mels, vocab;
} shape;

/* openai-whisper's ModelDimensions for each released checkpoint. */
static const shape shapes[] = {
    { "tiny",   384,  6,  4,  4,  80, N_VOCAB_ML }, { "tiny.en",   384,  6,  4,  4,  80, N_VOCAB_EN },
    { "base",   512,  8,  6,  6,  80, N_VOCAB_ML }, { "base.en",   512,  8,  6,  6,  80, N_VOCAB_EN },
    { "small",  768, 12, 12, 12,  80, N_VOCAB_ML }, { "small.en",  768, 12, 12, 12,  80, N_VOCAB_EN },
    { "medium", 1024, 16, 24, 24, 80, N_VOCAB_ML }, { "medium.en", 1024, 16, 24, 24, 80, N_VOCAB_EN },
    { "large",  1280, 20, 32, 32, 80, N_VOCAB_ML }, { "large.en",  1280, 20, 32, 32, 80, N_VOCAB_EN },
    { "large-v1", 1280, 20, 32, 32, 80, N_VOCAB_ML }, { "large-v2", 1280, 20, 32, 32, 80, N_VOCAB_ML },
    { "large-v3", 1280, 20, 32, 32, 128, N_VOCAB_V3 },
    { "large-v3-turbo", 1280, 20, 32, 4, 128, N_VOCAB_V3 },
    { "turbo",  1280, 20, 32, 4, 128, N_VOCAB_V3 },
};

const char *genmodel_shape_names(void)
{
    return "tiny, base, small, medium, large (each also .en), large-v1, large-v2, "
           "large-v3, large-v3-turbo (turbo)";
}

int genmodel_set_shape(lc_genmodel_opts *o, const char *name)
{
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const shape *s = &shapes[i];
        if (strcmp(name, s->name)) continue;
        o->n_audio_state = o->n_text_state = s->state;
        o->n_audio_head = o->n_text_head = s->head;
        o->n_audio_layer = s->layer;
        o->n_text_layer = s->text_layer;
        o->n_mels = s->mels;
        o->n_vocab = s->vocab;
        return 0;
    }
    return -1;
}

void genmodel_opts_init(lc_genmodel_opts *o)
{
    memset(o, 0, sizeof *o);
    genmodel_set_shape(o, "tiny");
    o->ftype = QUANT_FTYPE_F16;
    o->seed = 1;
}

int genmodel_vocab_count(int n_vocab)
{
    /* GPT-2's 50256 byte-level BPE tokens; the multilingual tokenizer has one
     * more (stored empty by whisper.cpp's converter, see micro-v3). */
    return n_vocab >= N_VOCAB_ML ? 50257 : 50256;
}

/* ---- mel filterbank (librosa, Slaney scale and norm) ---- */

#define MEL_F_SP      (200.0 / 3)            /* Hz per mel below 1 kHz */
#define MEL_MIN_LOG_HZ 1000.0
#define MEL_MIN_LOG_MEL (MEL_MIN_LOG_HZ / MEL_F_SP) /* = 15 */
#define MEL_LOGSTEP   (log(6.4) / 27.0)      /* 6.4 = 6400/1000 over 27 mels */

static double hz_to_mel(double hz)
{
    if (hz < MEL_MIN_LOG_HZ) return hz / MEL_F_SP;
    return MEL_MIN_LOG_MEL + log(hz / MEL_MIN_LOG_HZ) / MEL_LOGSTEP;
}

static double mel_to_hz(double mel)
{
    if (mel < MEL_MIN_LOG_MEL) return MEL_F_SP * mel;
    return MEL_MIN_LOG_HZ * exp(MEL_LOGSTEP * (mel - MEL_MIN_LOG_MEL));
}

void genmodel_mel_filters(int n_mels, float *out)
{
    const int nb = GENMODEL_N_FFT_BINS;
    double *hz = malloc((size_t)(n_mels + 2) * sizeof *hz);
    if (!hz) { memset(out, 0, (size_t)n_mels * nb * sizeof *out); return; }
    /* n_mels + 2 points equally spaced in mel between 0 Hz and 8 kHz
     * (Nyquist at 16 kHz), as np.linspace computes them */
    double m0 = hz_to_mel(0.0), m1 = hz_to_mel(8000.0), step = (m1 - m0) / (n_mels + 1);
    for (int i = 0; i < n_mels + 2; i++) hz[i] = mel_to_hz(m0 + i * step);
    for (int m = 0; m < n_mels; m++) {
        double lo = hz[m + 1] - hz[m], hi = hz[m + 2] - hz[m + 1];
        double enorm = 2.0 / (hz[m + 2] - hz[m]); /* Slaney: equal area */
        for (int k = 0; k < nb; k++) {
            double f = k * 16000.0 / 400.0; /* rfft bin frequency */
            double lower = (f - hz[m]) / lo, upper = (hz[m + 2] - f) / hi;
            double w = fmax(0.0, fmin(lower, upper));
            /* librosa stores w as float32, then scales in float64 */
            out[m * nb + k] = (float)((double)(float)w * enorm);
        }
    }
    free(hz);
}

/* ---- vocabulary ---- */

typedef struct vocab {
    int n;
    uint32_t *off, *len;
    char *bytes;
    size_t used, cap;
    uint32_t *slots; /* hash set of token index + 1; 0 = empty */
    size_t mask;
} vocab;

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
    return h;
}

static int vocab_init(vocab *v, int max)
{
    memset(v, 0, sizeof *v);
    size_t nslots = 1;
    while (nslots < 2 * (size_t)max + 2) nslots <<= 1;
    v->mask = nslots - 1;
    v->cap = (size_t)max * 8 + 1024;
    v->off = malloc((size_t)max * sizeof *v->off);
    v->len = malloc((size_t)max * sizeof *v->len);
    v->bytes = malloc(v->cap);
    v->slots = calloc(nslots, sizeof *v->slots);
    return v->off && v->len && v->bytes && v->slots ? 0 : -1;
}

static void vocab_free(vocab *v)
{
    free(v->off); free(v->len); free(v->bytes); free(v->slots);
}

/* Appends a token; with `unique`, refuses (returns 1) one already present.
 * Returns -1 when out of memory. The caller bounds v->n by `max`. */
static int vocab_add(vocab *v, const char *s, size_t n, int unique)
{
    size_t slot = 0;
    if (unique) {
        slot = fnv1a(s, n) & v->mask;
        for (; v->slots[slot]; slot = (slot + 1) & v->mask) {
            uint32_t i = v->slots[slot] - 1;
            if (v->len[i] == n && !memcmp(v->bytes + v->off[i], s, n)) return 1;
        }
    }
    if (v->used + n > v->cap) {
        size_t cap = (v->cap + n) * 2;
        char *b = realloc(v->bytes, cap);
        if (!b) return -1;
        v->bytes = b;
        v->cap = cap;
    }
    memcpy(v->bytes + v->used, s, n);
    v->off[v->n] = (uint32_t)v->used;
    v->len[v->n] = (uint32_t)n;
    v->used += n;
    if (unique) v->slots[slot] = (uint32_t)v->n + 1;
    v->n++;
    return 0;
}

static size_t put_utf8(char *p, uint32_t cp)
{
    if (cp < 0x80) { p[0] = (char)cp; return 1; }
    if (cp < 0x800) { p[0] = (char)(0xc0 | cp >> 6); p[1] = (char)(0x80 | (cp & 0x3f)); return 2; }
    p[0] = (char)(0xe0 | cp >> 12);
    p[1] = (char)(0x80 | (cp >> 6 & 0x3f));
    p[2] = (char)(0x80 | (cp & 0x3f));
    return 3;
}

static size_t pseudo_word(rng *r, char *p, int max_syl)
{
    static const char *cons[] = { "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p",
                                  "r", "s", "t", "v", "w", "z", "th", "st", "ch", "sh", "pr",
                                  "tr", "gr", "bl" };
    static const char *vows[] = { "a", "e", "i", "o", "u", "ou", "ea", "y", "ai", "io" };
    size_t n = 0;
    int syl = 1 + (int)rng_below(r, (unsigned)max_syl);
    for (int i = 0; i < syl; i++) {
        const char *c = cons[rng_below(r, sizeof cons / sizeof *cons)];
        const char *w = vows[rng_below(r, sizeof vows / sizeof *vows)];
        memcpy(p + n, c, strlen(c)); n += strlen(c);
        memcpy(p + n, w, strlen(w)); n += strlen(w);
    }
    if (rng_below(r, 3) == 0) { p[n++] = "nrstlmk"[rng_below(r, 7)]; }
    return n;
}

/* One synthetic token candidate (≤ 40 bytes) into p; returns its length. */
static size_t synth_token(rng *r, char *p)
{
    static const uint32_t accents[] = { 0xe9, 0xe8, 0xfc, 0xf1, 0xe7, 0xe0, 0xf6, 0xe5, 0xf8, 0xdf };
    static const char *punct[] = { ".", ",", "!", "?", ":", ";", "'", "\"", "(", ")", "-", "...", "[", "]" };
    size_t n = 0;
    unsigned cat = rng_below(r, 100);
    if (cat < 40) { /* " word", sometimes capitalised */
        p[n++] = ' ';
        size_t w = pseudo_word(r, p + n, 3);
        if (rng_below(r, 5) == 0) p[n] = (char)(p[n] - 'a' + 'A');
        return n + w;
    }
    if (cat < 64) return pseudo_word(r, p, 2); /* word piece */
    if (cat < 70) { /* numbers */
        if (rng_below(r, 2)) p[n++] = ' ';
        int d = 1 + (int)rng_below(r, 3);
        for (int i = 0; i < d; i++) p[n++] = (char)('0' + rng_below(r, 10));
        return n;
    }
    if (cat < 76) { /* punctuation runs */
        if (rng_below(r, 2)) p[n++] = ' ';
        int k = 1 + (int)rng_below(r, 3);
        for (int i = 0; i < k; i++) {
            const char *s = punct[rng_below(r, sizeof punct / sizeof *punct)];
            memcpy(p + n, s, strlen(s)); n += strlen(s);
        }
        return n;
    }
    if (rng_below(r, 2)) p[n++] = ' ';
    if (cat < 80) { /* Latin word with an accented letter: " café" */
        n += pseudo_word(r, p + n, 2);
        return n + put_utf8(p + n, accents[rng_below(r, sizeof accents / sizeof *accents)]);
    }
    if (cat < 84) { /* Cyrillic */
        int k = 2 + (int)rng_below(r, 4);
        for (int i = 0; i < k; i++) n += put_utf8(p + n, 0x430 + rng_below(r, 32));
        return n;
    }
    if (cat < 86) { /* Greek */
        int k = 2 + (int)rng_below(r, 4);
        for (int i = 0; i < k; i++) n += put_utf8(p + n, 0x3b1 + rng_below(r, 25));
        return n;
    }
    if (cat < 92) { /* CJK ideographs or hiragana: "日本" */
        int k = 1 + (int)rng_below(r, 3);
        int kana = rng_below(r, 3) == 0;
        for (int i = 0; i < k; i++)
            n += put_utf8(p + n, kana ? 0x3041 + rng_below(r, 83) : 0x4e00 + rng_below(r, 0x51a6));
        return n;
    }
    /* a UTF-8 character split across tokens, as byte-level BPE does:
     * the first two bytes of a CJK character, or its last byte glued to
     * the next character */
    char c[4];
    put_utf8(c, 0x4e00 + rng_below(r, 0x51a6));
    if (cat < 96) { memcpy(p + n, c, 2); return n + 2; }
    p[n++] = c[2];
    put_utf8(c, 0x4e00 + rng_below(r, 0x51a6));
    memcpy(p + n, c, 3);
    return n + 3;
}

static int vocab_synth(vocab *v, int count)
{
    /* GPT-2 bytes_to_unicode order: printable ranges first, then the rest */
    int order[256], k = 0, seen[256] = { 0 };
    for (int b = '!'; b <= '~'; b++) order[k++] = b;
    for (int b = 0xa1; b <= 0xac; b++) order[k++] = b;
    for (int b = 0xae; b <= 0xff; b++) order[k++] = b;
    for (int i = 0; i < k; i++) seen[order[i]] = 1;
    for (int b = 0; b < 256; b++) if (!seen[b]) order[k++] = b;
    for (int i = 0; i < 256 && v->n < count; i++) {
        char c = (char)order[i];
        if (vocab_add(v, &c, 1, 1) < 0) return -1;
    }
    static const char *fixed[] = { " the", " a", " and", "ing", "é", " é", " café", "日本",
                                   " 日本語", "\xe6\x97", "\xa5\xe6\x9c\xac" };
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed && v->n < count; i++)
        if (vocab_add(v, fixed[i], strlen(fixed[i]), 1) < 0) return -1;
    /* the vocabulary does not depend on --seed: one fixed stream */
    rng r;
    rng_seed(&r, 0x766f636162ull /* "vocab" */, 0);
    int last_empty = count == 50257; /* as the multilingual fixture stores it */
    while (v->n < count - last_empty) {
        char buf[64];
        size_t n = synth_token(&r, buf);
        if (vocab_add(v, buf, n, 1) < 0) return -1;
    }
    if (last_empty && v->n < count && vocab_add(v, "", 0, 0) < 0) return -1;
    return 0;
}

static int rd_i32(FILE *f, int32_t *v)
{
    uint8_t b[4];
    if (fread(b, 1, 4, f) != 4) return -1;
    *v = (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
    return 0;
}

/* Copies the token list of an existing ggml Whisper model; every count and
 * length is checked before use (the file is untrusted). */
static int vocab_from_file(vocab *v, const char *path, int n_vocab, lc_err *e)
{
    memset(v, 0, sizeof *v); /* vocab_free is safe on every path */
    FILE *f = fopen(path, "rb");
    if (!f) return lc_fail(e, "%s: %s", path, strerror(errno));
    int32_t x, hp[11], n_mel, n_fft, count;
    int rc = -1;
    char *buf = NULL;
    if (rd_i32(f, &x) || (uint32_t)x != GGML_MAGIC) { lc_fail(e, "%s: not a ggml model (bad magic)", path); goto out; }
    for (int i = 0; i < 11; i++)
        if (rd_i32(f, &hp[i])) { lc_fail(e, "%s: truncated header", path); goto out; }
    if (rd_i32(f, &n_mel) || rd_i32(f, &n_fft) || n_mel <= 0 || n_mel > 1024 || n_fft <= 0 || n_fft > 4096) {
        lc_fail(e, "%s: bad mel filter header", path); goto out;
    }
    if (fseek(f, (long)n_mel * n_fft * 4, SEEK_CUR) || rd_i32(f, &count) || count < 0) {
        lc_fail(e, "%s: truncated before the vocabulary", path); goto out;
    }
    if (count > n_vocab) {
        lc_fail(e, "%s: its %d tokens do not fit n_vocab %d (use --vocab)", path, (int)count, n_vocab);
        goto out;
    }
    if (vocab_init(v, count > 0 ? count : 1) || !(buf = malloc(MAX_TOKEN_LEN))) {
        lc_fail(e, "%s: out of memory", path); goto out;
    }
    for (int i = 0; i < count; i++) {
        int32_t len;
        if (rd_i32(f, &len) || len < 0 || len > MAX_TOKEN_LEN || fread(buf, 1, (size_t)len, f) != (size_t)len) {
            lc_fail(e, "%s: token %d is truncated or too long", path, i); goto out;
        }
        if (vocab_add(v, buf, (size_t)len, 0) < 0) { lc_fail(e, "%s: out of memory", path); goto out; }
    }
    rc = 0;
out:
    free(buf);
    fclose(f);
    return rc;
}

/* ---- tensors ---- */

enum { INIT_GAUSS, INIT_SINUSOID };

typedef struct tensor {
    char name[64];
    int nd;
    int64_t ne[3];
    int init;
    float mean, std;
} tensor;

typedef struct tlist { tensor *t; int n, cap; } tlist;

static void tl_add(tlist *l, const char *name, int nd, int64_t ne0, int64_t ne1, int64_t ne2,
                   int init, float mean, float std)
{
    if (l->n >= l->cap) return; /* capacity is computed exactly by the caller */
    tensor *t = &l->t[l->n++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->nd = nd; t->ne[0] = ne0; t->ne[1] = ne1; t->ne[2] = ne2;
    t->init = init; t->mean = mean; t->std = std;
}

/* PyTorch's default Linear/Conv1d init is U(±1/sqrt(fan_in)): std 1/sqrt(3 fan_in). */
static float init_std(int64_t fan_in) { return (float)(1.0 / sqrt(3.0 * (double)fan_in)); }

#define ENC_BIAS_STD 0.2f  /* the fixtures' encoder biases and LN offsets */
#define DEC_BIAS_STD 0.02f /* the fixtures hold zeros; small, non-zero, so a
                              loader that mixes biases up shows it */
#define LN_STD       0.2f  /* LN weights 1 ± 0.2 in the fixtures */
#define DEC_POS_STD  4.0f  /* the fixtures' decoder positional embedding */

static void tl_linear(tlist *l, const char *p, const char *nm, int64_t in, int64_t out, int bias, float bstd)
{
    char n[64];
    snprintf(n, sizeof n, "%.30s.%.24s.weight", p, nm);
    tl_add(l, n, 2, in, out, 1, INIT_GAUSS, 0, init_std(in)); /* [out, in] */
    if (!bias) return;
    snprintf(n, sizeof n, "%.30s.%.24s.bias", p, nm);
    tl_add(l, n, 1, out, 1, 1, INIT_GAUSS, 0, bstd);
}

static void tl_ln(tlist *l, const char *p, const char *nm, int64_t n_state, float bstd)
{
    char n[64];
    snprintf(n, sizeof n, "%.30s.%.24s.weight", p, nm);
    tl_add(l, n, 1, n_state, 1, 1, INIT_GAUSS, 1, LN_STD);
    snprintf(n, sizeof n, "%.30s.%.24s.bias", p, nm);
    tl_add(l, n, 1, n_state, 1, 1, INIT_GAUSS, 0, bstd);
}

/* Self- or cross-attention: key has no bias (openai MultiHeadAttention). */
static void tl_attn(tlist *l, const char *p, const char *nm, int64_t s, float bstd)
{
    char q[64];
    snprintf(q, sizeof q, "%s.%s", p, nm);
    tl_linear(l, q, "query", s, s, 1, bstd);
    tl_linear(l, q, "key", s, s, 0, bstd);
    tl_linear(l, q, "value", s, s, 1, bstd);
    tl_linear(l, q, "out", s, s, 1, bstd);
}

static int tl_build(tlist *l, const lc_genmodel_opts *o)
{
    l->cap = 11 + 15 * o->n_audio_layer + 24 * o->n_text_layer;
    l->n = 0;
    l->t = calloc((size_t)l->cap, sizeof *l->t);
    if (!l->t) return -1;
    int64_t s = o->n_audio_state, st = o->n_text_state;
    char p[64];
    tl_add(l, "encoder.positional_embedding", 2, s, GENMODEL_N_AUDIO_CTX, 1, INIT_SINUSOID, 0, 0);
    tl_add(l, "encoder.conv1.weight", 3, 3, o->n_mels, s, INIT_GAUSS, 0, init_std(3 * o->n_mels));
    tl_add(l, "encoder.conv1.bias", 2, 1, s, 1, INIT_GAUSS, 0, ENC_BIAS_STD); /* [n, 1] */
    tl_add(l, "encoder.conv2.weight", 3, 3, s, s, INIT_GAUSS, 0, init_std(3 * s));
    tl_add(l, "encoder.conv2.bias", 2, 1, s, 1, INIT_GAUSS, 0, ENC_BIAS_STD);
    for (int i = 0; i < o->n_audio_layer; i++) {
        snprintf(p, sizeof p, "encoder.blocks.%d", i);
        tl_attn(l, p, "attn", s, ENC_BIAS_STD);
        tl_ln(l, p, "attn_ln", s, ENC_BIAS_STD);
        tl_linear(l, p, "mlp.0", s, 4 * s, 1, ENC_BIAS_STD);
        tl_linear(l, p, "mlp.2", 4 * s, s, 1, ENC_BIAS_STD);
        tl_ln(l, p, "mlp_ln", s, ENC_BIAS_STD);
    }
    tl_ln(l, "encoder", "ln_post", s, ENC_BIAS_STD);
    tl_add(l, "decoder.positional_embedding", 2, st, GENMODEL_N_TEXT_CTX, 1, INIT_GAUSS, 0, DEC_POS_STD);
    tl_add(l, "decoder.token_embedding.weight", 2, st, o->n_vocab, 1, INIT_GAUSS, 0, 1);
    for (int i = 0; i < o->n_text_layer; i++) {
        snprintf(p, sizeof p, "decoder.blocks.%d", i);
        tl_attn(l, p, "attn", st, DEC_BIAS_STD);
        tl_ln(l, p, "attn_ln", st, DEC_BIAS_STD);
        tl_attn(l, p, "cross_attn", st, DEC_BIAS_STD);
        tl_ln(l, p, "cross_attn_ln", st, DEC_BIAS_STD);
        tl_linear(l, p, "mlp.0", st, 4 * st, 1, DEC_BIAS_STD);
        tl_linear(l, p, "mlp.2", 4 * st, st, 1, DEC_BIAS_STD);
        tl_ln(l, p, "mlp_ln", st, DEC_BIAS_STD);
    }
    tl_ln(l, "decoder", "ln", st, DEC_BIAS_STD);
    return l->n == l->cap ? 0 : -1;
}

static int is_unquantized_2d(const char *name)
{
    /* kept F32 by whisper.cpp's converter and skipped by its quantizer */
    return !strcmp(name, "encoder.conv1.bias") || !strcmp(name, "encoder.conv2.bias") ||
           !strcmp(name, "encoder.positional_embedding") || !strcmp(name, "decoder.positional_embedding");
}

static int tensor_type(const tensor *t, int ftype)
{
    if (ftype == QUANT_FTYPE_F32 || t->nd < 2 || is_unquantized_2d(t->name)) return QUANT_F32;
    if (ftype == QUANT_FTYPE_F16 || t->nd == 3) return QUANT_F16; /* conv kernels stay F16 */
    return quant_ftype_to_type(ftype);
}

/* openai whisper/model.py sinusoids(length, channels), in float32 as torch
 * computes it: row t = [sin(t * inv), cos(t * inv)], inv[j] =
 * exp(-ln(10000) / (channels/2 - 1) * j). */
static void fill_sinusoid(float *x, int64_t first, int64_t n, int64_t channels)
{
    int64_t half = channels / 2;
    float inc = (float)(log(10000.0) / (double)(half > 1 ? half - 1 : 1));
    for (int64_t i = 0; i < n; i++) {
        int64_t t = (first + i) / channels, c = (first + i) % channels;
        float inv = expf(-inc * (float)(c % half));
        float a = (float)t * inv;
        x[i] = c < half ? sinf(a) : cosf(a);
    }
}

/* ---- writing ---- */

typedef struct writer { FILE *f; int err; } writer;

static void w_bytes(writer *w, const void *p, size_t n)
{
    if (!w->err && n && fwrite(p, 1, n, w->f) != n) w->err = errno ? errno : EIO;
}

static void w_i32(writer *w, int32_t v)
{
    uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    w_bytes(w, b, 4);
}

static int write_tensor(writer *w, const tensor *t, int type, uint64_t seed, int index)
{
    int64_t ne0 = t->ne[0], nel = t->ne[0] * t->ne[1] * t->ne[2];
    size_t nlen = strlen(t->name);
    w_i32(w, t->nd);
    w_i32(w, (int32_t)nlen);
    w_i32(w, type);
    for (int d = 0; d < t->nd; d++) w_i32(w, (int32_t)t->ne[d]);
    w_bytes(w, t->name, nlen);

    /* whole rows per chunk, so quantized blocks never straddle a chunk */
    int64_t rows = ne0 >= CHUNK_ELEMS ? 1 : CHUNK_ELEMS / ne0;
    int64_t chunk = rows * ne0;
    float *x = malloc((size_t)chunk * sizeof *x);
    void *q = malloc(quant_row_size(type, chunk) + 1);
    if (!x || !q) { free(x); free(q); return -1; }
    rng r;
    rng_seed(&r, seed, (uint64_t)index + 1);
    for (int64_t first = 0; first < nel && !w->err; first += chunk) {
        int64_t n = nel - first < chunk ? nel - first : chunk;
        if (t->init == INIT_SINUSOID) {
            fill_sinusoid(x, first, n, ne0);
        } else {
            for (int64_t i = 0; i < n; i++) x[i] = t->mean + t->std * rng_gauss(&r);
        }
        quant_quantize_row(type, x, q, n);
        w_bytes(w, q, quant_row_size(type, n));
    }
    free(x);
    free(q);
    return 0;
}

static int check_opts(const lc_genmodel_opts *o, lc_err *e)
{
    if (o->n_audio_state <= 0 || o->n_audio_head <= 0 || o->n_audio_state % o->n_audio_head)
        return lc_fail(e, "--state %d: must be a positive multiple of --heads %d", o->n_audio_state, o->n_audio_head);
    if (o->n_text_state != o->n_audio_state || o->n_text_head <= 0 || o->n_text_state % o->n_text_head)
        return lc_fail(e, "text state %d / heads %d: the decoder must have the encoder's width", o->n_text_state, o->n_text_head);
    if (o->n_audio_state % 2 || o->n_audio_state > 65536)
        return lc_fail(e, "--state %d: must be even and at most 65536", o->n_audio_state);
    if (o->n_audio_layer < 1 || o->n_audio_layer > 256 || o->n_text_layer < 1 || o->n_text_layer > 256)
        return lc_fail(e, "--layers/--text-layers: must be between 1 and 256");
    if (o->n_mels < 1 || o->n_mels > 512)
        return lc_fail(e, "--mels %d: must be between 1 and 512 (80 or 128 for real models)", o->n_mels);
    if (o->n_vocab < N_VOCAB_EN || o->n_vocab > (1 << 20))
        return lc_fail(e, "--vocab %d: must be at least %d (Whisper's token layout)", o->n_vocab, N_VOCAB_EN);
    int t = quant_ftype_to_type(o->ftype);
    if (t < 0 || o->ftype >= QUANT_FTYPE_QNT_FACTOR)
        return lc_fail(e, "ftype %d: unknown (f32, f16, q8_0, q5_0, q5_1, q4_0, q4_1)", o->ftype);
    if (quant_block_elems(t) > 1 && o->n_audio_state % QUANT_QK)
        return lc_fail(e, "--ftype %s: --state %d must be a multiple of %d", quant_ftype_name(o->ftype),
                       o->n_audio_state, QUANT_QK);
    return 0;
}

static int write_all(writer *w, const lc_genmodel_opts *o, const vocab *v, const tlist *tl, lc_err *e)
{
    int t = quant_ftype_to_type(o->ftype);
    int ftype = quant_block_elems(t) > 1 ? o->ftype + QUANT_QNT_VERSION * QUANT_FTYPE_QNT_FACTOR : o->ftype;
    int32_t hp[11] = { o->n_vocab, GENMODEL_N_AUDIO_CTX, o->n_audio_state, o->n_audio_head, o->n_audio_layer,
                       GENMODEL_N_TEXT_CTX, o->n_text_state, o->n_text_head, o->n_text_layer, o->n_mels, ftype };
    w_i32(w, (int32_t)GGML_MAGIC);
    for (int i = 0; i < 11; i++) w_i32(w, hp[i]);

    size_t nf = (size_t)o->n_mels * GENMODEL_N_FFT_BINS;
    float *filters = malloc(nf * sizeof *filters);
    if (!filters) return lc_fail(e, "out of memory");
    genmodel_mel_filters(o->n_mels, filters);
    w_i32(w, o->n_mels);
    w_i32(w, GENMODEL_N_FFT_BINS);
    w_bytes(w, filters, nf * sizeof *filters);
    free(filters);

    w_i32(w, v->n);
    for (int i = 0; i < v->n; i++) {
        w_i32(w, (int32_t)v->len[i]);
        w_bytes(w, v->bytes + v->off[i], v->len[i]);
    }
    for (int i = 0; i < tl->n && !w->err; i++)
        if (write_tensor(w, &tl->t[i], tensor_type(&tl->t[i], o->ftype), o->seed, i))
            return lc_fail(e, "out of memory");
    return 0;
}

int genmodel_write(const char *path, const lc_genmodel_opts *o, lc_err *e)
{
    if (check_opts(o, e)) return -1;
    vocab v;
    int rc = -1;
    tlist tl = { 0 };
    if (o->vocab_from) {
        if (vocab_from_file(&v, o->vocab_from, o->n_vocab, e)) { vocab_free(&v); return -1; }
    } else {
        int count = genmodel_vocab_count(o->n_vocab);
        if (vocab_init(&v, count) || vocab_synth(&v, count)) {
            vocab_free(&v);
            return lc_fail(e, "out of memory building the vocabulary");
        }
    }
    if (tl_build(&tl, o)) { lc_fail(e, "out of memory"); goto out; }

    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.part", path) >= (int)sizeof tmp) { lc_fail(e, "%s: path too long", path); goto out; }
    writer w = { fopen(tmp, "wb"), 0 };
    if (!w.f) { lc_fail(e, "%s: %s", tmp, strerror(errno)); goto out; }
    setvbuf(w.f, NULL, _IOFBF, 1 << 20);
    errno = 0;
    if (write_all(&w, o, &v, &tl, e)) { fclose(w.f); remove(tmp); goto out; }
    if (fflush(w.f) && !w.err) w.err = errno ? errno : EIO;
    if (fclose(w.f) && !w.err) w.err = errno ? errno : EIO;
    if (w.err) { lc_fail(e, "%s: %s", path, strerror(w.err)); remove(tmp); goto out; }
    if (rename(tmp, path)) { lc_fail(e, "%s: %s", path, strerror(errno)); remove(tmp); goto out; }
    rc = 0;
out:
    free(tl.t);
    vocab_free(&v);
    return rc;
}

/* ---- `livecap genmodel` ---- */

static void usage(FILE *f)
{
    fprintf(f,
        "usage: livecap genmodel [options] OUT.bin\n"
        "Writes a Whisper model with random weights (ggml format) for tests and benchmarks.\n"
        "  --shape NAME       %s (default tiny)\n"
        "  --ftype T          f32, f16, q8_0, q5_0, q5_1, q4_0, q4_1 (default f16)\n"
        "  --seed N           weights are a function of the seed (default 1)\n"
        "  --state N --heads N --layers N --text-layers N --mels N --vocab N\n"
        "                     override the shape's dimensions (--layers sets both stacks\n"
        "                     unless --text-layers is given)\n"
        "  --vocab-from FILE  copy the tokens of an existing ggml model (default: a\n"
        "                     synthetic vocabulary whose text is nonsense by design)\n",
        genmodel_shape_names());
}

static int parse_int(const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "livecap: genmodel %s '%s': expected an integer in %ld..%ld\n", opt, s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int genmodel_main(int argc, char **argv)
{
    static const char *int_opts[] = { "--state", "--heads", "--layers", "--text-layers", "--mels", "--vocab" };
    long ints[6] = { -1, -1, -1, -1, -1, -1 };
    const char *shape_name = "tiny", *ftype_name = "f16", *out = NULL, *vocab_from = NULL;
    uint64_t seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        if (a[0] != '-' || a[1] == 0) {
            if (out) { fprintf(stderr, "livecap: genmodel: one output file expected, got '%s' and '%s'\n", out, a); return 2; }
            out = a;
            continue;
        }
        char name[32];
        const char *eq = strchr(a, '=');
        size_t nl = eq ? (size_t)(eq - a) : strlen(a);
        if (nl >= sizeof name) nl = sizeof name - 1;
        memcpy(name, a, nl);
        name[nl] = 0;
        if (eq) val = eq + 1;
        else if (i + 1 < argc) val = argv[++i];
        if (!val) { fprintf(stderr, "livecap: genmodel %s: missing value\n", name); return 2; }
        int k = -1;
        for (int j = 0; j < 6; j++) if (!strcmp(name, int_opts[j])) k = j;
        if (k >= 0) {
            if (parse_int(name, val, 1, 1 << 20, &ints[k])) return 2;
        } else if (!strcmp(name, "--shape")) {
            shape_name = val;
        } else if (!strcmp(name, "--ftype")) {
            ftype_name = val;
        } else if (!strcmp(name, "--seed")) {
            char *end;
            errno = 0;
            seed = strtoull(val, &end, 0);
            if (errno || end == val || *end) { fprintf(stderr, "livecap: genmodel --seed '%s': expected an integer\n", val); return 2; }
        } else if (!strcmp(name, "--vocab-from")) {
            vocab_from = val;
        } else {
            fprintf(stderr, "livecap: genmodel: unknown option '%s' (try livecap genmodel --help)\n", name);
            return 2;
        }
    }
    if (!out) { fprintf(stderr, "livecap: genmodel: no output file (usage: livecap genmodel [options] OUT.bin)\n"); return 2; }
    lc_genmodel_opts o;
    genmodel_opts_init(&o);
    if (genmodel_set_shape(&o, shape_name)) {
        fprintf(stderr, "livecap: genmodel --shape '%s': unknown (%s)\n", shape_name, genmodel_shape_names());
        return 2;
    }
    if ((o.ftype = quant_ftype_from_name(ftype_name)) < 0) {
        fprintf(stderr, "livecap: genmodel --ftype '%s': unknown (f32, f16, q8_0, q5_0, q5_1, q4_0, q4_1)\n", ftype_name);
        return 2;
    }
    if (ints[0] > 0) o.n_audio_state = o.n_text_state = (int)ints[0];
    if (ints[1] > 0) o.n_audio_head = o.n_text_head = (int)ints[1];
    if (ints[2] > 0) o.n_audio_layer = o.n_text_layer = (int)ints[2];
    if (ints[3] > 0) o.n_text_layer = (int)ints[3];
    if (ints[4] > 0) o.n_mels = (int)ints[4];
    if (ints[5] > 0) o.n_vocab = (int)ints[5];
    o.seed = seed;
    o.vocab_from = vocab_from;
    lc_err e = { { 0 } };
    if (check_opts(&o, &e)) { fprintf(stderr, "livecap: genmodel %s\n", e.msg); return 2; }
    if (genmodel_write(out, &o, &e)) { fprintf(stderr, "livecap: genmodel: %s\n", e.msg); return 1; }
    fprintf(stderr, "livecap: wrote %s (state %d, heads %d, layers %d/%d, mels %d, vocab %d, %s, seed %" PRIu64 ")\n",
            out, o.n_audio_state, o.n_audio_head, o.n_audio_layer, o.n_text_layer, o.n_mels, o.n_vocab,
            quant_ftype_name(o.ftype), o.seed);
    return 0;
}
