/* tokenizer.c: byte-level BPE encode/decode (contract in tokenizer.h). */
#include "decode/tokenizer.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lc_tokenizer {
    const lc_model *m;
    int n_ranked;           /* ids < n_ranked are BPE tokens (the eot id) */
    int *slots;             /* open-addressing hash: bytes → id, -1 empty */
    size_t mask;
};

static uint64_t hash_bytes(const unsigned char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) { h ^= p[i]; h *= 1099511628211ull; }
    return h;
}

static int rank_of(const lc_tokenizer *t, const unsigned char *p, size_t n)
{
    for (size_t i = hash_bytes(p, n) & t->mask;; i = (i + 1) & t->mask) {
        int id = t->slots[i];
        if (id < 0) return -1;
        const lc_vocab_entry *v = &t->m->vocab[id];
        if ((size_t)v->len == n && !memcmp(v->bytes, p, n)) return id;
    }
}

lc_tokenizer *tokenizer_create(const lc_model *m, lc_err *e)
{
    lc_tokenizer *t = calloc(1, sizeof *t);
    if (!t) { lc_fail(e, "out of memory"); return NULL; }
    t->m = m;
    t->n_ranked = m->sp.eot;
    size_t cap = 1;
    while (cap < (size_t)t->n_ranked * 2) cap <<= 1;
    t->mask = cap - 1;
    t->slots = malloc(cap * sizeof *t->slots);
    if (!t->slots) { free(t); lc_fail(e, "out of memory"); return NULL; }
    memset(t->slots, 0xff, cap * sizeof *t->slots);
    for (int id = 0; id < t->n_ranked; id++) {
        const lc_vocab_entry *v = &m->vocab[id];
        if (v->len == 0) continue;
        if (rank_of(t, (const unsigned char *)v->bytes, (size_t)v->len) >= 0) continue; /* first rank wins */
        size_t i = hash_bytes((const unsigned char *)v->bytes, (size_t)v->len) & t->mask;
        while (t->slots[i] >= 0) i = (i + 1) & t->mask;
        t->slots[i] = id;
    }
    return t;
}

void tokenizer_free(lc_tokenizer *t)
{
    if (!t) return;
    free(t->slots);
    free(t);
}

/* ---- UTF-8 ------------------------------------------------------------------ */

/* Length of the well-formed sequence starting at p (Unicode Table 3-7), or
 * the negated length of its maximal ill-formed subpart (≥ 1 byte). */
static int utf8_seq(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    if (c < 0x80) return 1;
    int len;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c == 0xE0) { len = 3; lo = 0xA0; }
    else if (c == 0xED) { len = 3; hi = 0x9F; }
    else if (c >= 0xE1 && c <= 0xEF) len = 3;
    else if (c == 0xF0) { len = 4; lo = 0x90; }
    else if (c == 0xF4) { len = 4; hi = 0x8F; }
    else if (c >= 0xF1 && c <= 0xF3) len = 4;
    else return -1;
    for (int i = 1; i < len; i++) {
        if ((size_t)i >= n) return -i;
        unsigned b = p[i];
        if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xBF)) return -i;
    }
    return len;
}

size_t utf8_decode_replace(const unsigned char *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        int k = utf8_seq(in + i, n - i);
        if (k > 0) {
            memcpy(out + o, in + i, (size_t)k);
            o += (size_t)k;
            i += (size_t)k;
        } else {
            memcpy(out + o, "\xEF\xBF\xBD", 3); /* U+FFFD */
            o += 3;
            i += (size_t)-k;
        }
    }
    out[o] = 0;
    return o;
}

char *tokenizer_decode(const lc_tokenizer *t, const int *tok, int n, int below)
{
    const lc_model *m = t->m;
    size_t total = 0;
    for (int i = 0; i < n; i++)
        if (tok[i] >= 0 && tok[i] < below && tok[i] < m->hp.n_vocab) total += (size_t)m->vocab[tok[i]].len;
    unsigned char *raw = malloc(total + 1);
    char *out = malloc(3 * total + 1);
    if (!raw || !out) { free(raw); free(out); return NULL; }
    size_t o = 0;
    for (int i = 0; i < n; i++) {
        if (tok[i] < 0 || tok[i] >= below || tok[i] >= m->hp.n_vocab) continue;
        memcpy(raw + o, m->vocab[tok[i]].bytes, (size_t)m->vocab[tok[i]].len);
        o += (size_t)m->vocab[tok[i]].len;
    }
    utf8_decode_replace(raw, o, out);
    free(raw);
    return out;
}

/* ---- pre-tokenizer (GPT-2 pattern) -------------------------------------------
 * 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * Unicode classes are approximated: ASCII exactly; above ASCII, Unicode
 * spaces are \s, the punctuation/symbol blocks are neither L nor N, and the
 * rest counts as a letter. */

enum cls { C_SPACE, C_LETTER, C_NUMBER, C_OTHER };

static unsigned decode_cp(const unsigned char *p, size_t n, int *len)
{
    int k = utf8_seq(p, n);
    if (k <= 0) { *len = 1; return 0xFFFD; }
    *len = k;
    if (k == 1) return p[0];
    if (k == 2) return (p[0] & 0x1Fu) << 6 | (p[1] & 0x3Fu);
    if (k == 3) return (p[0] & 0x0Fu) << 12 | (p[1] & 0x3Fu) << 6 | (p[2] & 0x3Fu);
    return (p[0] & 0x07u) << 18 | (p[1] & 0x3Fu) << 12 | (p[2] & 0x3Fu) << 6 | (p[3] & 0x3Fu);
}

int utf8_space_len(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    if (*p == ' ' || (*p >= 0x09 && *p <= 0x0d) || (*p >= 0x1c && *p <= 0x1f)) return 1;
    if (*p < 0x80) return 0;
    int len;
    unsigned cp = decode_cp(p, strlen(s), &len);
    if (cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
        cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000)
        return len;
    return 0;
}

size_t utf8_strip(const char *s, const char **start)
{
    int k;
    while ((k = utf8_space_len(s)) > 0) s += k;
    *start = s;
    size_t end = 0;
    for (size_t i = 0; s[i];) {
        if ((k = utf8_space_len(s + i)) > 0) { i += (size_t)k; continue; }
        i++;
        while (s[i] && ((unsigned char)s[i] & 0xC0) == 0x80) i++;
        end = i; /* just past the last non-space character */
    }
    return end;
}

static enum cls classify(unsigned cp)
{
    if (cp < 0x80) {
        if (cp == ' ' || (cp >= 9 && cp <= 13)) return C_SPACE;
        if ((cp | 32) >= 'a' && (cp | 32) <= 'z') return C_LETTER;
        if (cp >= '0' && cp <= '9') return C_NUMBER;
        return C_OTHER;
    }
    if (cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
        cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000)
        return C_SPACE;
    if ((cp >= 0x80 && cp <= 0xBF && cp != 0xAA && cp != 0xB5 && cp != 0xBA) || cp == 0xD7 || cp == 0xF7 ||
        (cp >= 0x2000 && cp <= 0x2BFF) || (cp >= 0x3000 && cp <= 0x303F) || (cp >= 0xFF00 && cp <= 0xFF0F) ||
        (cp >= 0xFF1A && cp <= 0xFF20) || (cp >= 0xFE30 && cp <= 0xFE4F) || cp == 0xFFFD)
        return C_OTHER;
    if (cp >= 0xFF10 && cp <= 0xFF19) return C_NUMBER;
    return C_LETTER;
}

/* Length in bytes of the next pre-token at s[i..n). */
static size_t next_piece(const unsigned char *s, size_t n, size_t i)
{
    static const char *const contractions[] = { "'s", "'t", "'re", "'ve", "'m", "'ll", "'d" };
    for (size_t c = 0; c < sizeof contractions / sizeof *contractions; c++) {
        size_t l = strlen(contractions[c]);
        if (n - i >= l && !memcmp(s + i, contractions[c], l)) return l;
    }
    int len;
    size_t j = i;
    unsigned cp = decode_cp(s + j, n - j, &len);
    enum cls c0 = classify(cp);
    if (cp == ' ' && j + 1 < n) { /* " ?X+" forms take one optional leading space */
        int l2;
        enum cls c1 = classify(decode_cp(s + j + 1, n - j - 1, &l2));
        if (c1 != C_SPACE) { j += 1; c0 = c1; len = l2; }
    }
    if (c0 != C_SPACE) {
        j += (size_t)len;
        while (j < n) {
            int l;
            if (classify(decode_cp(s + j, n - j, &l)) != c0) break;
            j += (size_t)l;
        }
        return j - i;
    }
    /* \s+(?!\S) | \s+ : a run of spaces, leaving the last one to prefix a word */
    size_t end = j;
    size_t last_start = j;
    while (end < n) {
        int l;
        if (classify(decode_cp(s + end, n - end, &l)) != C_SPACE) break;
        last_start = end;
        end += (size_t)l;
    }
    if (end < n && last_start > i) return last_start - i;
    return end - i;
}

/* tiktoken byte_pair_merge over one piece; appends ids to out. */
static int bpe_piece(const lc_tokenizer *t, const unsigned char *p, size_t n, int *out, int max, int count)
{
    int whole = rank_of(t, p, n);
    if (whole >= 0) {
        if (count < max) out[count] = whole;
        return count + 1;
    }
    size_t *bound = malloc((n + 1) * sizeof *bound);
    if (!bound) return -1;
    size_t nb = n + 1;
    for (size_t i = 0; i <= n; i++) bound[i] = i;
    for (;;) {
        int best = -1;
        size_t bi = 0;
        for (size_t i = 0; i + 2 < nb; i++) {
            int r = rank_of(t, p + bound[i], bound[i + 2] - bound[i]);
            if (r >= 0 && (best < 0 || r < best)) { best = r; bi = i; }
        }
        if (best < 0) break;
        memmove(bound + bi + 1, bound + bi + 2, (nb - bi - 2) * sizeof *bound);
        nb--;
    }
    for (size_t i = 0; i + 1 < nb; i++) {
        int r = rank_of(t, p + bound[i], bound[i + 1] - bound[i]);
        if (r < 0) { free(bound); return -1; } /* a byte missing from the vocabulary */
        if (count < max) out[count] = r;
        count++;
    }
    free(bound);
    return count;
}

int tokenizer_encode(const lc_tokenizer *t, const char *text, int *out, int max)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t n = strlen(text), i = 0;
    int count = 0;
    while (i < n) {
        size_t len = next_piece(s, n, i);
        if (len == 0) len = 1;
        count = bpe_piece(t, s + i, len, out, max, count);
        if (count < 0) return -1;
        i += len;
    }
    return count;
}

static int add_unique(int *out, int n, int max, int id)
{
    for (int i = 0; i < n; i++)
        if (out[i] == id) return n;
    if (n < max) out[n++] = id;
    return n;
}

static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

int tokenizer_suppress_tokens(const lc_tokenizer *t, int *out, int max)
{
    /* tokenizer.py non_speech_tokens: symbols, and " "+symbol, that encode
     * to a single token; the first token of the musical symbols anyway. */
    static const char *const symbols[] = {
        "\"", "#", "(", ")", "*", "+", "/", ":", ";", "<", "=", ">", "@", "[", "\\", "]", "^",
        "_", "`", "{", "|", "}", "~", "\xe3\x80\x8c", "\xe3\x80\x8d", "\xe3\x80\x8e", "\xe3\x80\x8f",
        "<<", ">>", "<<<", ">>>", "--", "---", "-(", "-[", "('", "(\"", "((", "))", "(((", ")))",
        "[[", "]]", "{{", "}}", "\xe2\x99\xaa\xe2\x99\xaa", "\xe2\x99\xaa\xe2\x99\xaa\xe2\x99\xaa",
    };
    static const char *const misc[] = { /* ♩♪♫♬♭♮♯ */
        "\xe2\x99\xa9", "\xe2\x99\xaa", "\xe2\x99\xab", "\xe2\x99\xac", "\xe2\x99\xad", "\xe2\x99\xae", "\xe2\x99\xaf",
    };
    int n = 0, tok[64];
    char buf[32];
    const char *firsts[] = { " -", " '" };
    for (int i = 0; i < 2; i++)
        if (tokenizer_encode(t, firsts[i], tok, 64) >= 1) n = add_unique(out, n, max, tok[0]);
    for (size_t i = 0; i < sizeof symbols / sizeof *symbols; i++) {
        for (int sp = 0; sp < 2; sp++) {
            snprintf(buf, sizeof buf, "%s%s", sp ? " " : "", symbols[i]);
            if (tokenizer_encode(t, buf, tok, 64) == 1) n = add_unique(out, n, max, tok[0]);
        }
    }
    for (size_t i = 0; i < sizeof misc / sizeof *misc; i++) {
        for (int sp = 0; sp < 2; sp++) {
            snprintf(buf, sizeof buf, "%s%s", sp ? " " : "", misc[i]);
            if (tokenizer_encode(t, buf, tok, 64) >= 1) n = add_unique(out, n, max, tok[0]);
        }
    }
    const lc_specials *s = &t->m->sp;
    int specials[] = { s->transcribe, s->translate, s->sot, s->sot_prev, s->sot_lm, s->no_speech };
    for (size_t i = 0; i < sizeof specials / sizeof *specials; i++) n = add_unique(out, n, max, specials[i]);
    qsort(out, (size_t)n, sizeof *out, cmp_int);
    return n;
}

int tokenizer_blank_tokens(const lc_tokenizer *t, int *out, int max)
{
    int n = tokenizer_encode(t, " ", out, max - 1);
    if (n < 0) n = 0;
    if (n > max - 1) n = max - 1;
    out[n++] = t->m->sp.eot;
    return n;
}
