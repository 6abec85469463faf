/* model.c: loader for whisper.cpp ggml model files (layout in model.h).
 *
 * Every read goes through a bounds-checked cursor; every count and size is
 * validated before it is used to allocate or index. All tensors are
 * dequantised into one f32 arena whose size is computed from the (validated)
 * hyper-parameters, so a hostile file cannot make us allocate more than the
 * model it claims to be.
 */
#include "model/model.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/quant.h"
#include "util/mem.h"

#define GGML_MAGIC 0x67676d6cu     /* "ggml", whisper.cpp */
#define N_FFT_BINS 201              /* N_FFT/2 + 1, openai-whisper audio.py */
#define QNT_VERSION_FACTOR 1000     /* ggml.h GGML_QNT_VERSION_FACTOR */
#define MAX_TENSOR_NAME 128
#define MAX_TOKEN_BYTES 1024        /* real BPE tokens are < 130 bytes */

/* openai-whisper tokenizer.py LANGUAGES, in token order. */
static const char *const LANGS[] = {
    "en", "zh", "de", "es", "ru", "ko", "fr", "ja", "pt", "tr", "pl", "ca", "nl",
    "ar", "sv", "it", "id", "hi", "fi", "vi", "he", "uk", "el", "ms", "cs", "ro",
    "da", "hu", "ta", "no", "th", "ur", "hr", "bg", "lt", "la", "mi", "ml", "cy",
    "sk", "te", "fa", "lv", "bn", "sr", "az", "sl", "kn", "et", "mk", "br", "eu",
    "is", "hy", "ne", "mn", "bs", "kk", "sq", "sw", "gl", "mr", "pa", "si", "km",
    "sn", "yo", "so", "af", "oc", "ka", "be", "tg", "sd", "gu", "am", "yi", "lo",
    "uz", "fo", "ht", "ps", "tk", "nn", "mt", "sa", "lb", "my", "bo", "tl", "mg",
    "as", "tt", "haw", "ln", "ha", "ba", "jw", "su", "yue",
};
#define N_LANGS_MAX ((int)(sizeof LANGS / sizeof LANGS[0]))

const char *model_lang_code(int i) { return i >= 0 && i < N_LANGS_MAX ? LANGS[i] : NULL; }

int model_lang_index(const char *code)
{
    for (int i = 0; i < N_LANGS_MAX; i++)
        if (!strcmp(LANGS[i], code)) return i;
    return -1;
}

/* ---- bounds-checked cursor ------------------------------------------------ */

typedef struct cursor {
    const unsigned char *p;
    size_t len, off;
    const char *name;
    lc_err *e;
} cursor;

static int cur_need(cursor *c, size_t n, const char *what)
{
    if (n > c->len - c->off)
        return lc_fail(c->e, "%s: truncated at byte %zu (reading %s; file has %zu bytes)",
                       c->name, c->off, what, c->len);
    return 0;
}

static int cur_i32(cursor *c, int32_t *v, const char *what)
{
    if (cur_need(c, 4, what)) return -1;
    const unsigned char *b = c->p + c->off;
    *v = (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
    c->off += 4;
    return 0;
}

/* ---- hyper-parameters ------------------------------------------------------ */

static const char *ftype_name(int ftype)
{
    switch (ftype) {
    case 0: return "f32";  case 1: return "f16";  case 2: return "q4_0";
    case 3: return "q4_1"; case 7: return "q8_0"; case 8: return "q5_0";
    case 9: return "q5_1"; default: return NULL;
    }
}

static const char *model_type_name(const lc_hparams *hp)
{
    /* Official shapes (openai-whisper __init__.py _MODELS dims). */
    switch (hp->n_audio_layer) {
    case 4:  return hp->n_audio_state == 384 ? "tiny" : "custom";
    case 6:  return hp->n_audio_state == 512 ? "base" : "custom";
    case 12: return hp->n_audio_state == 768 ? "small" : "custom";
    case 24: return hp->n_audio_state == 1024 ? "medium" : "custom";
    case 32: return hp->n_audio_state != 1280 ? "custom" : hp->n_text_layer == 4 ? "large-v3-turbo"
                  : hp->n_mels == 128 ? "large-v3" : "large";
    default: return hp->n_audio_layer <= 2 ? "micro" : "custom";
    }
}

static int check_range(lc_err *e, const char *file, const char *key, int v, int lo, int hi)
{
    if (v < lo || v > hi)
        return lc_fail(e, "%s: bad hyper-parameter %s = %d (expected %d..%d)", file, key, v, lo, hi);
    return 0;
}

static int check_hparams(lc_model *m, const char *f, lc_err *e)
{
    lc_hparams *hp = &m->hp;
    /* Bounds: generous above the largest official model (large: 1280 state,
     * 20 heads, 32 layers), tight enough that sizes cannot overflow. */
    if (check_range(e, f, "n_vocab", hp->n_vocab, 51864, 51866) ||
        check_range(e, f, "n_audio_ctx", hp->n_audio_ctx, 1500, 1500) || /* 3000 mel frames / conv stride 2 */
        check_range(e, f, "n_audio_state", hp->n_audio_state, 1, 8192) ||
        check_range(e, f, "n_audio_head", hp->n_audio_head, 1, 256) ||
        check_range(e, f, "n_audio_layer", hp->n_audio_layer, 1, 256) ||
        check_range(e, f, "n_text_ctx", hp->n_text_ctx, 4, 4096) ||
        check_range(e, f, "n_text_state", hp->n_text_state, 1, 8192) ||
        check_range(e, f, "n_text_head", hp->n_text_head, 1, 256) ||
        check_range(e, f, "n_text_layer", hp->n_text_layer, 1, 256) ||
        check_range(e, f, "n_mels", hp->n_mels, 1, 512))
        return -1;
    if (hp->n_audio_state % hp->n_audio_head)
        return lc_fail(e, "%s: inconsistent hyper-parameters: n_audio_head %d does not divide n_audio_state %d",
                       f, hp->n_audio_head, hp->n_audio_state);
    if (hp->n_text_state % hp->n_text_head)
        return lc_fail(e, "%s: inconsistent hyper-parameters: n_text_head %d does not divide n_text_state %d",
                       f, hp->n_text_head, hp->n_text_state);
    if (hp->n_text_state != hp->n_audio_state)
        return lc_fail(e, "%s: inconsistent hyper-parameters: n_text_state %d != n_audio_state %d "
                       "(cross-attention needs them equal)", f, hp->n_text_state, hp->n_audio_state);
    int ft = hp->ftype < 0 ? -1 : hp->ftype % QNT_VERSION_FACTOR;
    if (ft < 0 || !ftype_name(ft))
        return lc_fail(e, "%s: unknown file type (ftype %d)", f, hp->ftype);
    m->ftype_name = ftype_name(ft);
    return 0;
}

/* Special ids as openai-whisper tokenizer.py lays them out after the BPE
 * ranks: <|endoftext|>, <|startoftranscript|>, languages, translate,
 * transcribe, startoflm, startofprev, nospeech, notimestamps, 1501 times. */
static void derive_specials(lc_model *m)
{
    lc_specials *s = &m->sp;
    m->multilingual = m->hp.n_vocab >= 51865;
    s->eot = m->multilingual ? 50257 : 50256;
    s->sot = s->eot + 1;
    s->lang0 = s->sot + 1;
    s->n_langs = m->hp.n_vocab - 51765 - m->multilingual; /* whisper/model.py num_languages */
    s->translate = s->lang0 + s->n_langs;
    s->transcribe = s->translate + 1;
    s->sot_lm = s->translate + 2;
    s->sot_prev = s->translate + 3;
    s->no_speech = s->translate + 4;
    s->no_timestamps = s->translate + 5;
    s->ts_begin = s->translate + 6;
}

/* ---- vocabulary ------------------------------------------------------------ */

static int load_vocab(lc_model *m, cursor *c)
{
    int32_t n_words;
    if (cur_i32(c, &n_words, "vocabulary size")) return -1;
    if (n_words < 0 || n_words > m->hp.n_vocab)
        return lc_fail(c->e, "%s: bad vocabulary size %d (n_vocab is %d)", c->name, n_words, m->hp.n_vocab);
    /* First pass: validate lengths and total size. */
    size_t start = c->off, total = 0;
    for (int i = 0; i < n_words; i++) {
        int32_t len;
        if (cur_i32(c, &len, "vocabulary entry length")) return -1;
        if (len < 0 || len > MAX_TOKEN_BYTES)
            return lc_fail(c->e, "%s: vocabulary entry %d has bad length %d", c->name, i, len);
        if ((size_t)len > c->len - c->off)
            return lc_fail(c->e, "%s: vocabulary entry %d runs past the end of the file", c->name, i);
        c->off += (size_t)len;
        total += (size_t)len;
    }
    const lc_specials *s = &m->sp;
    size_t special_bytes = (size_t)(m->hp.n_vocab) * 24; /* "<|startoftranscript|>" is the longest */
    m->vocab = calloc((size_t)m->hp.n_vocab, sizeof *m->vocab);
    m->vocab_bytes = malloc(total + special_bytes + 1);
    if (!m->vocab || !m->vocab_bytes) return lc_fail(c->e, "%s: out of memory for the vocabulary", c->name);
    char *dst = m->vocab_bytes;
    c->off = start;
    for (int i = 0; i < n_words; i++) {
        int32_t len;
        cur_i32(c, &len, "vocabulary entry length");
        if (i < s->eot) { /* ids ≥ eot are specials, whatever the file says */
            memcpy(dst, c->p + c->off, (size_t)len);
            m->vocab[i].bytes = dst;
            m->vocab[i].len = len;
            dst += len;
        }
        c->off += (size_t)len;
    }
    for (int i = 0; i < m->hp.n_vocab; i++) {
        if (i < s->eot && m->vocab[i].bytes) continue;
        char name[32] = "";
        if (i == s->eot) strcpy(name, "<|endoftext|>");
        else if (i == s->sot) strcpy(name, "<|startoftranscript|>");
        else if (i >= s->lang0 && i < s->lang0 + s->n_langs)
            snprintf(name, sizeof name, "<|%s|>", model_lang_code(i - s->lang0) ? model_lang_code(i - s->lang0) : "?");
        else if (i == s->translate) strcpy(name, "<|translate|>");
        else if (i == s->transcribe) strcpy(name, "<|transcribe|>");
        else if (i == s->sot_lm) strcpy(name, "<|startoflm|>");
        else if (i == s->sot_prev) strcpy(name, "<|startofprev|>");
        else if (i == s->no_speech) strcpy(name, "<|nospeech|>");
        else if (i == s->no_timestamps) strcpy(name, "<|notimestamps|>");
        else if (i >= s->ts_begin) snprintf(name, sizeof name, "<|%.2f|>", (i - s->ts_begin) * 0.02);
        size_t len = strlen(name);
        memcpy(dst, name, len);
        m->vocab[i].bytes = dst;
        m->vocab[i].len = (int)len;
        dst += len;
    }
    return 0;
}

/* ---- tensors --------------------------------------------------------------- */

typedef struct tensor_slot {
    char name[64];
    int ne[3];          /* expected ggml shape, ne[0] contiguous; 0 = unused dim */
    float *dst;         /* where the f32 data goes in the arena */
    int seen;
} tensor_slot;

typedef struct slot_table {
    tensor_slot *s;
    int n, cap;
    float *next;        /* arena cursor */
} slot_table;

static float *slot_add(slot_table *t, const char *name, int ne0, int ne1, int ne2)
{
    tensor_slot *s = &t->s[t->n++];
    LC_ASSERT(t->n <= t->cap);
    snprintf(s->name, sizeof s->name, "%s", name);
    s->ne[0] = ne0; s->ne[1] = ne1; s->ne[2] = ne2;
    s->dst = t->next;
    size_t n = (size_t)ne0 * (size_t)(ne1 ? ne1 : 1) * (size_t)(ne2 ? ne2 : 1);
    t->next += n;
    return s->dst;
}

static lc_mat slot_mat(slot_table *t, const char *name, int rows, int cols)
{
    lc_mat m = { .w = slot_add(t, name, cols, rows, 0), .rows = rows, .cols = cols, .dev = NULL };
    return m;
}

/* "prefix.attn.query.weight" etc. for one attention sub-block named nm
 * ("attn" or "cross_attn"); shapes from whisper.cpp whisper_model_load(). */
static void slots_attn(slot_table *t, const char *prefix, const char *nm, int s, lc_attn_w *a)
{
    char n[96];
#define P(suffix) (snprintf(n, sizeof n, "%s.%s.%s", prefix, nm, suffix), n)
    a->q = slot_mat(t, P("query.weight"), s, s);
    a->q_b = slot_add(t, P("query.bias"), s, 0, 0);
    a->k = slot_mat(t, P("key.weight"), s, s);
    a->v = slot_mat(t, P("value.weight"), s, s);
    a->v_b = slot_add(t, P("value.bias"), s, 0, 0);
    a->o = slot_mat(t, P("out.weight"), s, s);
    a->o_b = slot_add(t, P("out.bias"), s, 0, 0);
#undef P
    snprintf(n, sizeof n, "%s.%s_ln.weight", prefix, nm);
    a->ln_w = slot_add(t, n, s, 0, 0);
    snprintf(n, sizeof n, "%s.%s_ln.bias", prefix, nm);
    a->ln_b = slot_add(t, n, s, 0, 0);
}

static void slots_mlp(slot_table *t, const char *prefix, int s, lc_mlp_w *m)
{
    char n[96];
#define P(suffix) (snprintf(n, sizeof n, "%s.%s", prefix, suffix), n)
    m->fc1 = slot_mat(t, P("mlp.0.weight"), 4 * s, s);
    m->fc1_b = slot_add(t, P("mlp.0.bias"), 4 * s, 0, 0);
    m->fc2 = slot_mat(t, P("mlp.2.weight"), s, 4 * s);
    m->fc2_b = slot_add(t, P("mlp.2.bias"), s, 0, 0);
    m->ln_w = slot_add(t, P("mlp_ln.weight"), s, 0, 0);
    m->ln_b = slot_add(t, P("mlp_ln.bias"), s, 0, 0);
#undef P
}

/* Registers every tensor the model must contain, with its shape and its
 * place in the arena. Names and shapes: whisper.cpp whisper_model_load(). */
static void build_slots(lc_model *m, slot_table *t)
{
    const lc_hparams *hp = &m->hp;
    const int s = hp->n_audio_state, ts = hp->n_text_state;
    char pre[48];
    m->enc_pos = slot_add(t, "encoder.positional_embedding", s, hp->n_audio_ctx, 0);
    m->conv1 = (lc_mat){ slot_add(t, "encoder.conv1.weight", 3, hp->n_mels, s), s, 3 * hp->n_mels, NULL, NULL };
    m->conv1_b = slot_add(t, "encoder.conv1.bias", 1, s, 0);
    m->conv2 = (lc_mat){ slot_add(t, "encoder.conv2.weight", 3, s, s), s, 3 * s, NULL, NULL };
    m->conv2_b = slot_add(t, "encoder.conv2.bias", 1, s, 0);
    for (int i = 0; i < hp->n_audio_layer; i++) {
        snprintf(pre, sizeof pre, "encoder.blocks.%d", i);
        slots_attn(t, pre, "attn", s, &m->enc[i].attn);
        slots_mlp(t, pre, s, &m->enc[i].mlp);
    }
    m->ln_post_w = slot_add(t, "encoder.ln_post.weight", s, 0, 0);
    m->ln_post_b = slot_add(t, "encoder.ln_post.bias", s, 0, 0);

    m->dec_pos = slot_add(t, "decoder.positional_embedding", ts, hp->n_text_ctx, 0);
    m->tok_emb = slot_mat(t, "decoder.token_embedding.weight", hp->n_vocab, ts);
    for (int i = 0; i < hp->n_text_layer; i++) {
        snprintf(pre, sizeof pre, "decoder.blocks.%d", i);
        slots_attn(t, pre, "attn", ts, &m->dec[i].attn);
        slots_attn(t, pre, "cross_attn", ts, &m->dec[i].cross);
        slots_mlp(t, pre, ts, &m->dec[i].mlp);
    }
    m->dec_ln_w = slot_add(t, "decoder.ln.weight", ts, 0, 0);
    m->dec_ln_b = slot_add(t, "decoder.ln.bias", ts, 0, 0);
}

static size_t arena_size(const lc_hparams *hp)
{
    size_t s = (size_t)hp->n_audio_state, ts = (size_t)hp->n_text_state;
    /* per block: 4 attention + 8 MLP matrices of s², 12 vectors of s
     * (q/v/o biases, 2 LNs × 2, MLP biases 4s + s); the decoder adds the
     * cross-attention's 4 matrices and 5 vectors. */
    size_t enc = s * (size_t)hp->n_audio_ctx + 3 * s * (size_t)hp->n_mels + s + 3 * s * s + s
               + (size_t)hp->n_audio_layer * (12 * s * s + 12 * s) + 2 * s;
    size_t dec = ts * (size_t)hp->n_text_ctx + ts * (size_t)hp->n_vocab
               + (size_t)hp->n_text_layer * (16 * ts * ts + 17 * ts) + 2 * ts;
    return enc + dec + (size_t)hp->n_mels * N_FFT_BINS;
}

static int shape_matches(const tensor_slot *s, int nd, const int32_t *ne)
{
    int want_nd = s->ne[2] ? 3 : s->ne[1] ? 2 : 1;
    /* Conv biases are (1, n) in whisper.cpp files; accept a plain (n) too. */
    if (want_nd == 2 && s->ne[0] == 1 && nd == 1) return ne[0] == s->ne[1];
    if (nd != want_nd) return 0;
    for (int i = 0; i < nd; i++)
        if (ne[i] != s->ne[i]) return 0;
    return 1;
}

static void fmt_shape(char *buf, size_t len, int nd, const int32_t *ne)
{
    int o = snprintf(buf, len, "(");
    for (int i = 0; i < nd && o < (int)len; i++) o += snprintf(buf + o, len - (size_t)o, i ? ", %d" : "%d", ne[i]);
    if (o < (int)len) snprintf(buf + o, len - (size_t)o, ")");
}

static int load_tensor(lc_model *m, cursor *c, slot_table *t, int *n_loaded)
{
    size_t at = c->off;
    int32_t nd, name_len, type, ne[4] = {1, 1, 1, 1};
    if (cur_i32(c, &nd, "tensor header") || cur_i32(c, &name_len, "tensor header") ||
        cur_i32(c, &type, "tensor header"))
        return -1;
    if (nd < 1 || nd > 3)
        return lc_fail(c->e, "%s: tensor at byte %zu has %d dimensions (expected 1..3)", c->name, at, nd);
    if (name_len < 1 || name_len > MAX_TENSOR_NAME)
        return lc_fail(c->e, "%s: tensor at byte %zu has a bad name length %d", c->name, at, name_len);
    for (int i = 0; i < nd; i++) {
        if (cur_i32(c, &ne[i], "tensor shape")) return -1;
        if (ne[i] < 1 || ne[i] > (1 << 24))
            return lc_fail(c->e, "%s: tensor at byte %zu has a bad dimension %d", c->name, at, ne[i]);
    }
    if (cur_need(c, (size_t)name_len, "tensor name")) return -1;
    char name[MAX_TENSOR_NAME + 1];
    memcpy(name, c->p + c->off, (size_t)name_len);
    name[name_len] = 0;
    c->off += (size_t)name_len;
    for (int i = 0; i < name_len; i++)
        if ((unsigned char)name[i] < 0x20 || (unsigned char)name[i] > 0x7e) name[i] = '?';

    tensor_slot *s = NULL;
    for (int i = 0; i < t->n && !s; i++)
        if (!strcmp(t->s[i].name, name)) s = &t->s[i];
    if (!s) return lc_fail(c->e, "%s: unknown tensor '%s'", c->name, name);
    if (s->seen) return lc_fail(c->e, "%s: duplicate tensor '%s'", c->name, name);
    if (!shape_matches(s, nd, ne)) {
        char got[64], want[64];
        int32_t w[3] = { s->ne[0], s->ne[1], s->ne[2] };
        fmt_shape(got, sizeof got, nd, ne);
        fmt_shape(want, sizeof want, s->ne[2] ? 3 : s->ne[1] ? 2 : 1, w);
        return lc_fail(c->e, "%s: tensor '%s' has shape %s, expected %s", c->name, name, got, want);
    }
    if (!quant_type_valid(type))
        return lc_fail(c->e, "%s: tensor '%s' has unknown type %d", c->name, name, type);
    int row = ne[0];
    size_t rows = (size_t)ne[1] * (size_t)ne[2];
    if (quant_block_elems(type) > 1 && row % quant_block_elems(type))
        return lc_fail(c->e, "%s: tensor '%s': row of %d is not a multiple of the %s block size",
                       c->name, name, row, quant_type_name(type));
    size_t row_bytes = quant_row_size(type, row);
    if (rows > (c->len - c->off) / row_bytes)
        return lc_fail(c->e, "%s: truncated in the data of tensor '%s' (byte %zu)", c->name, name, c->off);
    for (size_t r = 0; r < rows; r++) {
        quant_dequantize_row(type, c->p + c->off, s->dst + r * (size_t)row, row);
        c->off += row_bytes;
    }
    s->seen = 1;
    (*n_loaded)++;
    return 0;
}

/* openai publishes English-only (n_vocab 51864) tiny to medium: "tiny.en" … */
static void guess_type(lc_model *m)
{
    static const char *const en[][2] = { { "tiny", "tiny.en" }, { "base", "base.en" },
                                          { "small", "small.en" }, { "medium", "medium.en" } };
    m->type = model_type_name(&m->hp);
    for (size_t i = 0; i < sizeof en / sizeof en[0] && !m->multilingual; i++)
        if (!strcmp(m->type, en[i][0])) m->type = en[i][1];
}

lc_model *model_load_mem(const unsigned char *buf, size_t len, const char *name, lc_err *e)
{
    cursor c = { buf, len, 0, name, e };
    lc_model *m = calloc(1, sizeof *m);
    slot_table t = {0};
    if (!m) { lc_fail(e, "%s: out of memory", name); return NULL; }
    snprintf(m->path, sizeof m->path, "%s", name);
    m->file_bytes = len;

    int32_t magic;
    if (len < 4) { lc_fail(e, "%s: not a ggml model file (only %zu bytes)", name, len); goto fail; }
    cur_i32(&c, &magic, "magic");
    if ((uint32_t)magic != GGML_MAGIC) {
        lc_fail(e, "%s: not a ggml Whisper model (bad magic 0x%08x, expected 0x%08x)", name,
                (uint32_t)magic, GGML_MAGIC);
        goto fail;
    }
    int32_t hp[11];
    for (int i = 0; i < 11; i++)
        if (cur_i32(&c, &hp[i], "hyper-parameters")) goto fail;
    m->hp = (lc_hparams){ hp[0], hp[1], hp[2], hp[3], hp[4], hp[5], hp[6], hp[7], hp[8], hp[9], hp[10] };
    if (check_hparams(m, name, e)) goto fail;
    derive_specials(m);
    guess_type(m);

    int32_t n_mel, n_fft;
    if (cur_i32(&c, &n_mel, "mel filters") || cur_i32(&c, &n_fft, "mel filters")) goto fail;
    if (n_mel != m->hp.n_mels || n_fft != N_FFT_BINS) {
        lc_fail(e, "%s: mel filterbank is %d x %d, expected %d x %d", name, n_mel, n_fft, m->hp.n_mels, N_FFT_BINS);
        goto fail;
    }
    size_t filt_bytes = (size_t)n_mel * N_FFT_BINS * 4;
    if (cur_need(&c, filt_bytes, "mel filters")) goto fail;
    size_t filt_off = c.off;
    c.off += filt_bytes;

    if (load_vocab(m, &c)) goto fail;

    m->enc = calloc((size_t)m->hp.n_audio_layer, sizeof *m->enc);
    m->dec = calloc((size_t)m->hp.n_text_layer, sizeof *m->dec);
    t.cap = 6 + 15 * m->hp.n_audio_layer + 4 + 24 * m->hp.n_text_layer + 2;
    t.s = calloc((size_t)t.cap, sizeof *t.s);
    m->arena_floats = arena_size(&m->hp);
    /* A hostile header can claim a model far larger than the file: every
     * weight needs at least half a byte (Q4_0), so refuse up front. */
    if (m->arena_floats / 2 > len) {
        lc_fail(e, "%s: truncated: hyper-parameters describe %zu weights but the file has %zu bytes",
                name, m->arena_floats, len);
        goto fail;
    }
    m->arena = malloc(m->arena_floats * sizeof(float));
    if (!m->enc || !m->dec || !t.s || !m->arena) { lc_fail(e, "%s: out of memory", name); goto fail; }
    memcpy(m->arena, buf + filt_off, filt_bytes); /* little-endian hosts only (x86-64, arm64) */
    m->mel_filters = m->arena;
    t.next = m->arena + (size_t)n_mel * N_FFT_BINS;
    build_slots(m, &t);
    LC_ASSERT((size_t)(t.next - m->arena) == m->arena_floats);

    int n_loaded = 0;
    while (c.off < c.len)
        if (load_tensor(m, &c, &t, &n_loaded)) goto fail;
    for (int i = 0; i < t.n; i++)
        if (!t.s[i].seen) { lc_fail(e, "%s: missing tensor '%s'", name, t.s[i].name); goto fail; }
    free(t.s);
    return m;
fail:
    free(t.s);
    model_free(m);
    return NULL;
}

lc_model *model_load(const char *path, lc_err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f) { lc_fail(e, "%s: cannot open model: %s", path, strerror(errno)); return NULL; }
    unsigned char *buf = NULL;
    long len = -1;
    if (fseek(f, 0, SEEK_END) == 0) len = ftell(f);
    if (len < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        lc_fail(e, "%s: cannot read model (not a regular file?)", path);
        return NULL;
    }
    buf = malloc(len ? (size_t)len : 1);
    if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
        free(buf);
        fclose(f);
        lc_fail(e, "%s: cannot read model: %s", path, buf ? "read error" : "out of memory");
        return NULL;
    }
    fclose(f);
    lc_model *m = model_load_mem(buf, (size_t)len, path, e);
    free(buf);
    return m;
}

typedef struct compact_cursor { uint16_t *h; int8_t *q, *lo; float *scale; int kind; } compact_cursor;

/* with_lo: also store the residual (the logits matrix, model.h LC_Q8_LO) */
static lc_mat16 compact_mat(compact_cursor *c, const lc_mat *m, int with_lo)
{
    lc_mat16 r = { NULL, NULL, NULL, NULL, m->rows, m->cols, NULL, NULL, NULL, NULL };
    const size_t n = (size_t)m->rows * m->cols;
    if (c->kind == LC_COMPACT_F16) {
        quant_f32_to_f16_row(m->w, c->h, n);
        r.w = c->h;
        c->h += n;
        return r;
    }
    /* int8, symmetric per block of 32: scale = max|w| / 127 (ggml Q8_0) */
    for (size_t b0 = 0; b0 < n; b0 += LC_Q8_BLOCK) {
        const float *w = m->w + b0;
        float mx = 0;
        for (int k = 0; k < LC_Q8_BLOCK; k++) mx = fabsf(w[k]) > mx ? fabsf(w[k]) : mx;
        const float s = mx / 127.0f, inv = s > 0 ? 1.0f / s : 0.0f;
        c->scale[b0 / LC_Q8_BLOCK] = s;
        for (int k = 0; k < LC_Q8_BLOCK; k++) {
            const int q = (int)lrintf(w[k] * inv);
            c->q[b0 + k] = (int8_t)q;
            if (with_lo) { /* |w - s·q| <= s/2 (+ rounding of inv), so |lo| <= 127 */
                long lo = s > 0 ? lrintf((w[k] - s * (float)q) / s * LC_Q8_LO) : 0;
                c->lo[b0 + k] = (int8_t)(lo > 127 ? 127 : lo < -127 ? -127 : lo);
            }
        }
    }
    r.q = c->q;
    r.scale = c->scale;
    c->q += n;
    c->scale += n / LC_Q8_BLOCK;
    if (with_lo) {
        r.lo = c->lo;
        c->lo += n;
    }
    return r;
}

/* The logits matrix is the largest tensor (80 MB of f32 for tiny); once
 * its compact copy exists nothing reads the f32 one, so its pages go back
 * to the system and the pointer is cleared so nothing can. Only pages
 * wholly inside the tensor: its neighbours in the arena stay. */
void model_release_f32(lc_mat *w)
{
    if (!w->w) return;
    const long page = sysconf(_SC_PAGESIZE);
    uintptr_t a = (uintptr_t)w->w, b = a + (size_t)w->rows * w->cols * sizeof(float);
    uintptr_t lo = (a + (uintptr_t)page - 1) & ~((uintptr_t)page - 1), hi = b & ~((uintptr_t)page - 1);
    if (page > 0 && hi > lo) madvise((void *)lo, hi - lo, MADV_DONTNEED);
    w->w = NULL;
}

int model_prefers_compact(const lc_model *m) { return strcmp(m->ftype_name, "f32") != 0; }

/* The logits' 4-bit proxy of w (model.h): per block of 32, s = f16(max|w|/7)
 * (the largest finite half if that overflows), n = clamp(round(w/s), −8, 7)
 * + 8, values j and j + 16 in one byte; and each row's error norm. */
static void compact_q4(const lc_mat *m, uint8_t *q4, uint16_t *s4, float *e4, float *w4)
{
    const int nb = m->cols / LC_Q8_BLOCK;
    for (int r = 0; r < m->rows; r++) {
        double e2 = 0, p2 = 0;
        for (int b = 0; b < nb; b++) {
            const float *w = m->w + (size_t)r * m->cols + (size_t)b * LC_Q8_BLOCK;
            float mx = 0;
            for (int k = 0; k < LC_Q8_BLOCK; k++) mx = fabsf(w[k]) > mx ? fabsf(w[k]) : mx;
            uint16_t sh = quant_f32_to_f16(mx / LC_Q4_MAX);
            if ((sh & 0x7c00) == 0x7c00) sh = 0x7bff; /* inf or NaN: 65504 */
            const float sc = quant_f16_to_f32(sh), inv = sc > 0 ? 1.0f / sc : 0.0f;
            s4[(size_t)r * nb + b] = sh;
            uint8_t n[LC_Q8_BLOCK];
            for (int k = 0; k < LC_Q8_BLOCK; k++) {
                long q = lrintf(w[k] * inv);
                q = q > 7 ? 7 : q < -8 ? -8 : q;
                n[k] = (uint8_t)(q + 8);
                const double d = (double)w[k] - (double)sc * (double)q;
                e2 += d * d;
                p2 += (double)sc * q * sc * q;
            }
            uint8_t *o = q4 + ((size_t)r * m->cols + (size_t)b * LC_Q8_BLOCK) / 2;
            for (int j = 0; j < 16; j++) o[j] = (uint8_t)(n[j] | n[j + 16] << 4);
        }
        e4[r] = (float)sqrt(e2);
        w4[r] = (float)sqrt(p2);
    }
}

int model_compact(lc_model *m, int kind, lc_err *e)
{
    if (m->arena16) return 0;
    const int q4 = kind == LC_COMPACT_INT8_Q4;
    if (q4) kind = LC_COMPACT_INT8;
    const size_t ts = (size_t)m->hp.n_text_state, L = (size_t)m->hp.n_text_layer;
    const size_t n = (size_t)m->hp.n_vocab * ts + L * 14 * ts * ts;
    if (kind == LC_COMPACT_INT8 && ts % LC_Q8_BLOCK)
        kind = LC_COMPACT_F16; /* rows must hold whole blocks */
    const size_t blocks = n / LC_Q8_BLOCK, n_logits = (size_t)m->hp.n_vocab * ts;
    const size_t V = (size_t)m->hp.n_vocab;
    /* int8: scales | q | the logits' lo | q4 | e4 | w4 | s4 + 16 halves of
     * padding (vm_gemv_q4 loads 16 at a time); each start aligned */
    size_t bytes = kind == LC_COMPACT_F16 ? n * sizeof(uint16_t) : blocks * sizeof(float) + n + n_logits;
    if (kind == LC_COMPACT_INT8 && q4)
        bytes += n_logits / 2 + 2 * V * sizeof(float) + (n_logits / LC_Q8_BLOCK + 16) * sizeof(uint16_t);
    m->arena16 = lc_alloc_huge(bytes);
    m->dec16 = calloc(L, sizeof *m->dec16);
    if (!m->arena16 || !m->dec16) {
        free(m->arena16); free(m->dec16);
        m->arena16 = NULL; m->dec16 = NULL;
        return lc_fail(e, "%s: out of memory for the compact decoder weights", m->path);
    }
    compact_cursor c = { m->arena16, NULL, NULL, NULL, kind };
    if (kind == LC_COMPACT_INT8) {
        c.scale = m->arena16;
        c.q = (int8_t *)(c.scale + blocks);
        c.lo = c.q + n;
    }
    m->tok16 = compact_mat(&c, &m->tok_emb, kind == LC_COMPACT_INT8);
    if (kind == LC_COMPACT_INT8 && q4) {
        uint8_t *q4p = (uint8_t *)c.lo; /* c.lo has moved past the logits' residual */
        float *e4 = (float *)(q4p + n_logits / 2);  /* n_logits/2 is a multiple of 16 */
        float *w4 = e4 + V;
        uint16_t *s4 = (uint16_t *)(w4 + V);
        compact_q4(&m->tok_emb, q4p, s4, e4, w4);
        memset(s4 + n_logits / LC_Q8_BLOCK, 0, 16 * sizeof(uint16_t));
        m->tok16.q4 = q4p;
        m->tok16.s4 = s4;
        m->tok16.e4 = e4;
        m->tok16.w4 = w4;
    }
    for (size_t l = 0; l < L; l++) {
        const lc_dec_layer *D = &m->dec[l];
        lc_dec16 *o = &m->dec16[l];
        o->q = compact_mat(&c, &D->attn.q, 0); o->k = compact_mat(&c, &D->attn.k, 0); o->v = compact_mat(&c, &D->attn.v, 0);
        o->o = compact_mat(&c, &D->attn.o, 0); o->cq = compact_mat(&c, &D->cross.q, 0); o->co = compact_mat(&c, &D->cross.o, 0);
        o->mlp0 = compact_mat(&c, &D->mlp.fc1, 0); o->mlp2 = compact_mat(&c, &D->mlp.fc2, 0);
    }
    m->compact = kind;
    model_release_f32(&m->tok_emb);
    return 0;
}

void model_free(lc_model *m)
{
    if (!m) return;
    free(m->arena16);
    free(m->dec16);
    free(m->enc);
    free(m->dec);
    free(m->vocab);
    free(m->vocab_bytes);
    free(m->arena);
    free(m);
}

size_t model_decoder_weight_bytes(const lc_model *m, int logits_q4)
{
    const size_t n = model_decoder_weight_floats(m);
    /* int8: a byte per weight and a 4-byte scale per 32 (the logits' residual
     * is read only for the few tokens rescored); with the logits' 4-bit
     * proxy, half a byte, a 2-byte scale per 32 and two norms per row */
    if (m->compact == LC_COMPACT_INT8 && logits_q4 && m->tok16.q4) {
        const size_t nl = (size_t)m->hp.n_vocab * m->hp.n_text_state, nbk = n - nl;
        return nbk + nbk / LC_Q8_BLOCK * sizeof(float) + nl / 2 + nl / LC_Q8_BLOCK * sizeof(uint16_t) +
               2 * (size_t)m->hp.n_vocab * sizeof(float);
    }
    if (m->compact == LC_COMPACT_INT8) return n + n / LC_Q8_BLOCK * sizeof(float);
    return n * (m->compact == LC_COMPACT_F16 ? 2 : 4);
}

size_t model_decoder_weight_floats(const lc_model *m)
{
    size_t ts = (size_t)m->hp.n_text_state;
    /* per token: self q,k,v,o + cross q,o (cross k,v are per window) + mlp, and the logits matrix */
    return (size_t)m->hp.n_text_layer * (6 * ts * ts + 8 * ts * ts) + (size_t)m->hp.n_vocab * ts;
}
