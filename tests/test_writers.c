/* test_writers: txt/srt/vtt/json writers and util/json escaping. The
 * outputs are parsed back (small SRT/VTT and JSON parsers below) and compared
 * with the transcript they came from. */
#include "test.h"
#include "out/writers.h"
#include "util/json.h"

#include <locale.h>
#include <string.h>

/* ---- a minimal strict JSON parser (RFC 8259) -------------------------- */

typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } jtype;
typedef struct jv {
    jtype t;
    double num;
    char *str;          /* J_STR: decoded UTF-8 */
    struct jv *items;   /* J_ARR / J_OBJ values */
    char **keys;        /* J_OBJ */
    int n;
} jv;

typedef struct { const char *p; int depth; } jp;

static void j_ws(jp *c) { while (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r') c->p++; }

static void put_utf8(char **o, unsigned cp)
{
    unsigned char *u = (unsigned char *)*o;
    if (cp < 0x80) { *u++ = (unsigned char)cp; }
    else if (cp < 0x800) { *u++ = (unsigned char)(0xC0 | cp >> 6); *u++ = (unsigned char)(0x80 | (cp & 63)); }
    else if (cp < 0x10000) { *u++ = (unsigned char)(0xE0 | cp >> 12); *u++ = (unsigned char)(0x80 | (cp >> 6 & 63)); *u++ = (unsigned char)(0x80 | (cp & 63)); }
    else { *u++ = (unsigned char)(0xF0 | cp >> 18); *u++ = (unsigned char)(0x80 | (cp >> 12 & 63)); *u++ = (unsigned char)(0x80 | (cp >> 6 & 63)); *u++ = (unsigned char)(0x80 | (cp & 63)); }
    *o = (char *)u;
}

/* Strings must also be valid UTF-8 (checked by the byte-level rule: every
 * multi-byte lead has the right continuation count, no overlong/surrogate). */
static int j_utf8_ok(const unsigned char *s, size_t *len)
{
    unsigned c = s[0], cp, n, min;
    if (c < 0x80) { *len = 1; return 1; }
    if (c >= 0xC2 && c < 0xE0) { n = 2; min = 0x80; cp = c & 31; }
    else if (c >= 0xE0 && c < 0xF0) { n = 3; min = 0x800; cp = c & 15; }
    else if (c >= 0xF0 && c < 0xF5) { n = 4; min = 0x10000; cp = c & 7; }
    else return 0;
    for (unsigned i = 1; i < n; i++) { if ((s[i] & 0xC0) != 0x80) return 0; cp = cp << 6 | (s[i] & 63); }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000)) return 0;
    *len = n;
    return 1;
}

static int j_hex4(const char *p, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char ch = p[i];
        unsigned d = ch >= '0' && ch <= '9' ? (unsigned)(ch - '0') : ch >= 'a' && ch <= 'f' ? (unsigned)(ch - 'a' + 10)
                   : ch >= 'A' && ch <= 'F' ? (unsigned)(ch - 'A' + 10) : 99;
        if (d == 99) return 0;
        *v = *v << 4 | d;
    }
    return 1;
}

static int j_string(jp *c, char **out)
{
    if (*c->p != '"') return 0;
    const char *s = ++c->p;
    char *buf = malloc(strlen(s) + 1), *o = buf;
    for (;;) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"') break;
        if (ch < 0x20) { free(buf); return 0; } /* includes the NUL */
        if (ch == '\\') {
            s++;
            switch (*s) {
            case '"': *o++ = '"'; break;   case '\\': *o++ = '\\'; break;
            case '/': *o++ = '/'; break;   case 'b': *o++ = '\b'; break;
            case 'f': *o++ = '\f'; break;  case 'n': *o++ = '\n'; break;
            case 'r': *o++ = '\r'; break;  case 't': *o++ = '\t'; break;
            case 'u': {
                unsigned v, lo;
                if (!j_hex4(s + 1, &v)) { free(buf); return 0; }
                s += 4;
                if (v >= 0xD800 && v < 0xDC00 && s[1] == '\\' && s[2] == 'u' && j_hex4(s + 3, &lo) &&
                    lo >= 0xDC00 && lo < 0xE000) { v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00); s += 6; }
                else if (v >= 0xD800 && v < 0xE000) { free(buf); return 0; }
                put_utf8(&o, v);
                break;
            }
            default: free(buf); return 0;
            }
            s++;
        } else {
            size_t n;
            if (!j_utf8_ok((const unsigned char *)s, &n)) { free(buf); return 0; }
            memcpy(o, s, n); o += n; s += n;
        }
    }
    *o = '\0';
    c->p = s + 1;
    *out = buf;
    return 1;
}

static int j_value(jp *c, jv *v);

static int j_number(jp *c, jv *v)
{
    const char *s = c->p;
    if (*s == '-') s++;
    if (*s == '0') s++;
    else if (*s >= '1' && *s <= '9') while (*s >= '0' && *s <= '9') s++;
    else return 0;
    if (*s == '.') { s++; if (!(*s >= '0' && *s <= '9')) return 0; while (*s >= '0' && *s <= '9') s++; }
    if (*s == 'e' || *s == 'E') { s++; if (*s == '+' || *s == '-') s++; if (!(*s >= '0' && *s <= '9')) return 0; while (*s >= '0' && *s <= '9') s++; }
    v->t = J_NUM;
    v->num = strtod(c->p, NULL);
    c->p = s;
    return 1;
}

static int j_list(jp *c, jv *v, int obj)
{
    char close = obj ? '}' : ']';
    c->p++;
    v->t = obj ? J_OBJ : J_ARR;
    j_ws(c);
    if (*c->p == close) { c->p++; return 1; }
    for (;;) {
        v->items = realloc(v->items, (size_t)(v->n + 1) * sizeof *v->items);
        v->keys = realloc(v->keys, (size_t)(v->n + 1) * sizeof *v->keys);
        memset(&v->items[v->n], 0, sizeof *v->items);
        v->keys[v->n] = NULL;
        v->n++;
        j_ws(c);
        if (obj) {
            if (!j_string(c, &v->keys[v->n - 1])) return 0;
            j_ws(c);
            if (*c->p++ != ':') return 0;
        }
        if (!j_value(c, &v->items[v->n - 1])) return 0;
        j_ws(c);
        if (*c->p == ',') { c->p++; continue; }
        if (*c->p == close) { c->p++; return 1; }
        return 0;
    }
}

static int j_value(jp *c, jv *v)
{
    j_ws(c);
    if (++c->depth > 64) return 0;
    int ok;
    if (*c->p == '{') ok = j_list(c, v, 1);
    else if (*c->p == '[') ok = j_list(c, v, 0);
    else if (*c->p == '"') { v->t = J_STR; ok = j_string(c, &v->str); }
    else if (!strncmp(c->p, "null", 4)) { v->t = J_NULL; c->p += 4; ok = 1; }
    else if (!strncmp(c->p, "true", 4)) { v->t = J_BOOL; v->num = 1; c->p += 4; ok = 1; }
    else if (!strncmp(c->p, "false", 5)) { v->t = J_BOOL; v->num = 0; c->p += 5; ok = 1; }
    else ok = j_number(c, v);
    c->depth--;
    return ok;
}

/* Parses a whole document; returns 0 on success. */
static int json_parse(const char *text, jv *out)
{
    memset(out, 0, sizeof *out);
    jp c = {text, 0};
    if (!j_value(&c, out)) return -1;
    j_ws(&c);
    return *c.p ? -1 : 0;
}

static void jv_free(jv *v)
{
    for (int i = 0; i < v->n; i++) { jv_free(&v->items[i]); if (v->keys) free(v->keys[i]); }
    free(v->items); free(v->keys); free(v->str);
}

static const jv *jget(const jv *o, const char *key)
{
    if (!o || o->t != J_OBJ) return NULL;
    for (int i = 0; i < o->n; i++) if (!strcmp(o->keys[i], key)) return &o->items[i];
    return NULL;
}

/* ---- SRT / VTT parser ------------------------------------------------- */

typedef struct cue { int index; long t0_ms, t1_ms; char text[256]; } cue;

static int ts_parse(const char *s, char sep, long *ms)
{
    unsigned h, m, sec, f;
    char c1, c2, c3;
    if (sscanf(s, "%u%c%2u%c%2u%c%3u", &h, &c1, &m, &c2, &sec, &c3, &f) != 7) return 0;
    if (c1 != ':' || c2 != ':' || c3 != sep || m > 59 || sec > 59) return 0;
    *ms = (long)h * 3600000 + m * 60000 + sec * 1000 + f;
    return 1;
}

/* Parses cues from text the way players do: blocks separated by one blank
 * line; in each, [index line (srt)], a timing line, then text lines. Returns
 * the count, or -1 on a syntax error (including text left after the last
 * cue and an unterminated cue). */
static int cues_parse(char *text, int vtt, cue *cues, int max)
{
    char *p = text;
    int n = 0;
    if (vtt) {
        if (strncmp(p, "WEBVTT\n\n", 8)) return -1;
        p += 8;
    }
    while (*p) {
        if (n == max) return -1;
        cue *c = &cues[n++];
        memset(c, 0, sizeof *c);
        char *nl;
        if (!vtt) {
            c->index = (int)strtol(p, &nl, 10);
            if (*nl != '\n') return -1;
            p = nl + 1;
        }
        if (!(nl = strchr(p, '\n'))) return -1;
        *nl = '\0';
        char a[32], b[32], arrow[8];
        if (sscanf(p, "%31s %7s %31s", a, arrow, b) != 3 || strcmp(arrow, "-->") ||
            !ts_parse(a, vtt ? '.' : ',', &c->t0_ms) || !ts_parse(b, vtt ? '.' : ',', &c->t1_ms))
            return -1;
        p = nl + 1;
        char *end = strstr(p, "\n\n"); /* the blank line that ends the cue */
        if (!end) return -1;
        *end = '\0';
        if (strstr(p, "-->")) return -1;  /* would read as a timing line */
        snprintf(c->text, sizeof c->text, "%s", p);
        p = end + 2;
    }
    return n;
}

/* ---- fixtures --------------------------------------------------------- */

static const struct { double t0, t1; const char *text; int ntok; } segs[] = {
    {0.0, 2.5, " Hello, \"world\"!", 3},
    {2.5, 5.1234, " Ünïcödé — 日本語 🎉", 2},
    {5.1234, 7.0, " a --> b and c ---> d", 4},
    {3723.4565, 3725.0015, "  back\\slash\ttab \u00a0", 1},  /* > 1 hour */
    {3725.0015, 3726.0, " bad \xff\xc3 utf8 \x01 ctl", 2},
    {36000.0, 36001.999, " ten hours", 0},
};
#define N_SEGS ((int)(sizeof segs / sizeof segs[0]))

/* The text the srt/vtt/txt writers must produce for each segment. */
static const char *expect_text[N_SEGS] = {
    "Hello, \"world\"!", "Ünïcödé — 日本語 🎉", "a -> b and c -> d",
    "back\\slash\ttab", "bad \xff\xc3 utf8 \x01 ctl", "ten hours",
};
/* ... and the JSON-decoded text (invalid bytes became U+FFFD). */
static const char *expect_json_text[N_SEGS] = {
    " Hello, \"world\"!", " Ünïcödé — 日本語 🎉", " a --> b and c ---> d",
    "  back\\slash\ttab \u00a0", " bad \xef\xbf\xbd\xef\xbf\xbd utf8 \x01 ctl", " ten hours",
};

static void build(lc_transcript *t)
{
    memset(t, 0, sizeof *t);
    for (int i = 0; i < N_SEGS; i++) {
        int tok[8];
        for (int k = 0; k < segs[i].ntok; k++) tok[k] = 50364 + 100 * i + k;
        transcript_add(t, segs[i].t0, segs[i].t1, segs[i].text, tok, segs[i].ntok,
                       -0.25 - i * 0.1, 0.001 * i, i == 4 ? 0.2 : 0.0, 1.5);
    }
    strcpy(t->language, "en");
    t->timing = (lc_timing){53.0, 12.5, 4.25, 290.125, 1234.5, 1541.375};
}

static char *render(const char *fmt, const lc_transcript *t, const lc_model_info *mi, int *rc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    lc_err e = {{0}};
    *rc = writers_write(f, fmt, t, mi, &e);
    fclose(f);
    return buf;
}

static long ms_of(double s) { return llrint(s * 1000.0); }

/* ---- tests ------------------------------------------------------------ */

static void test_timestamps(void)
{
    char b[WRITERS_TS_LEN];
    writers_format_ts(0.0, ',', b);        CHECK(!strcmp(b, "00:00:00,000"));
    writers_format_ts(3723.456, '.', b);   CHECK(!strcmp(b, "01:02:03.456"));
    writers_format_ts(59.9996, ',', b);    CHECK(!strcmp(b, "00:01:00,000"));
    writers_format_ts(-1.0, ',', b);       CHECK(!strcmp(b, "00:00:00,000"));
    writers_format_ts(0.0125, ',', b);     CHECKF(!strcmp(b, "00:00:00,012"), "%s", b); /* 12.5 ms: half to even */
    writers_format_ts(360000.0, '.', b);   CHECKF(!strcmp(b, "100:00:00.000"), "%s", b);
    writers_format_ts(1e300, '.', b);      CHECKF(strlen(b) < WRITERS_TS_LEN, "%s", b);
}

static void test_txt(const lc_transcript *t)
{
    int rc;
    char *out = render("txt", t, NULL, &rc);
    CHECK(rc == 0);
    char expect[1024] = "";
    for (int i = 0; i < N_SEGS; i++) {
        /* txt keeps "-->" as openai's WriteTXT does; only cues change it. */
        strcat(expect, i == 2 ? "a --> b and c ---> d" : expect_text[i]);
        strcat(expect, "\n");
    }
    CHECKF(out && !strcmp(out, expect), "txt:\n%s", out);
    free(out);
}

static void test_cues(const lc_transcript *t, int vtt)
{
    int rc;
    char *out = render(vtt ? "vtt" : "srt", t, NULL, &rc);
    CHECK(rc == 0);
    CHECK(out && !strncmp(out, vtt ? "WEBVTT\n\n00:00:00.000 --> 00:00:02.500\nHello" : "1\n00:00:00,000 --> 00:00:02,500\nHello", 20));
    /* A blank line ends every cue, and none appears inside one. */
    CHECK(out && strstr(out, "\n\n\n") == NULL);
    cue cues[16];
    int n = out ? cues_parse(out, vtt, cues, 16) : -1;
    CHECKF(n == N_SEGS, "%s: %d cues", vtt ? "vtt" : "srt", n);
    for (int i = 0; i < n && i < N_SEGS; i++) {
        if (!vtt) CHECKF(cues[i].index == i + 1, "cue %d numbered %d", i, cues[i].index);
        CHECKF(cues[i].t0_ms == ms_of(segs[i].t0) && cues[i].t1_ms == ms_of(segs[i].t1),
               "cue %d: %ld..%ld", i, cues[i].t0_ms, cues[i].t1_ms);
        CHECKF(!strcmp(cues[i].text, expect_text[i]), "cue %d text '%s'", i, cues[i].text);
    }
    free(out);
}

static void test_json(const lc_transcript *t)
{
    lc_model_info mi = {"/models/ggml \"tiny\".bin", "tiny", "f16", 1, 80, 51865};
    int rc;
    char *out = render("json", t, &mi, &rc);
    CHECK(rc == 0);
    jv root;
    int ok = out && json_parse(out, &root) == 0;
    CHECKF(ok, "json does not parse:\n%s", out);
    if (!ok) { free(out); return; }
    const jv *m = jget(&root, "model");
    CHECK(m && jget(m, "path") && !strcmp(jget(m, "path")->str, mi.path));
    CHECK(jget(m, "type") && !strcmp(jget(m, "type")->str, "tiny"));
    CHECK(jget(m, "ftype") && !strcmp(jget(m, "ftype")->str, "f16"));
    CHECK(jget(m, "multilingual") && jget(m, "multilingual")->t == J_BOOL && jget(m, "multilingual")->num == 1);
    CHECK(jget(m, "n_mels") && jget(m, "n_mels")->num == 80);
    CHECK(jget(m, "n_vocab") && jget(m, "n_vocab")->num == 51865);
    CHECK(jget(&root, "language") && !strcmp(jget(&root, "language")->str, "en"));
    const jv *sg = jget(&root, "segments");
    CHECK(sg && sg->t == J_ARR && sg->n == N_SEGS);
    for (int i = 0; sg && i < sg->n && i < N_SEGS; i++) {
        const jv *s = &sg->items[i];
        CHECK(s->n == 7); /* exactly the SPEC §2 keys */
        CHECKF(jget(s, "start") && llrint(jget(s, "start")->num * 1000) == ms_of(segs[i].t0), "seg %d start", i);
        CHECKF(jget(s, "end") && llrint(jget(s, "end")->num * 1000) == ms_of(segs[i].t1), "seg %d end", i);
        CHECKF(jget(s, "text") && !strcmp(jget(s, "text")->str, expect_json_text[i]), "seg %d text", i);
        const jv *tk = jget(s, "tokens");
        CHECKF(tk && tk->t == J_ARR && tk->n == segs[i].ntok, "seg %d tokens", i);
        for (int k = 0; tk && k < tk->n; k++) CHECK(tk->items[k].num == 50364 + 100 * i + k);
        CHECK(jget(s, "avg_logprob") && jget(s, "avg_logprob")->num == t->seg[i].avg_logprob);
        CHECK(jget(s, "no_speech_prob") && jget(s, "no_speech_prob")->num == t->seg[i].no_speech_prob);
        CHECK(jget(s, "temperature") && jget(s, "temperature")->num == t->seg[i].temperature);
    }
    const jv *tm = jget(&root, "timing");
    CHECK(tm && tm->n == 6);
    CHECK(jget(tm, "audio_s") && jget(tm, "audio_s")->num == 53.0);
    CHECK(jget(tm, "encode_ms") && jget(tm, "encode_ms")->num == 290.125);
    CHECK(jget(tm, "total_ms") && jget(tm, "total_ms")->num == 1541.375);
    jv_free(&root);
    free(out);

    /* No model info, no segments: still valid, with null and []. */
    lc_transcript empty = {0};
    out = render("json", &empty, NULL, &rc);
    CHECK(rc == 0 && out && json_parse(out, &root) == 0);
    CHECK(jget(&root, "model") && jget(&root, "model")->t == J_NULL);
    CHECK(jget(&root, "segments") && jget(&root, "segments")->n == 0);
    jv_free(&root);
    free(out);
}

static void test_json_util(void)
{
    /* Every byte value and some nasty sequences come out as a valid JSON
     * string; valid UTF-8 is kept as is. */
    char in[300], out[2048];
    for (int i = 1; i < 256; i++) in[i - 1] = (char)i;
    in[255] = '\0';
    size_t need = json_escape(out, sizeof out, in);
    CHECK(need == strlen(out));
    jv v;
    CHECKF(json_parse(out, &v) == 0 && v.t == J_STR, "%s", out);
    jv_free(&v);
    const char *nasty[] = {"\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80", "\xe2\x82", "\xf0\x9f\x8e",
                           "ok \xe6\x97\xa5 \xf0\x9f\x8e\x89"};
    for (size_t i = 0; i < sizeof nasty / sizeof nasty[0]; i++) {
        json_escape(out, sizeof out, nasty[i]);
        CHECKF(json_parse(out, &v) == 0, "nasty %zu: %s", i, out);
        jv_free(&v);
    }
    CHECK(!strcmp(out, "\"ok \xe6\x97\xa5 \xf0\x9f\x8e\x89\""));
    json_escape(out, sizeof out, "\xe2\x82x");   /* truncated 3-byte seq: one U+FFFD, x kept */
    CHECKF(!strcmp(out, "\"\xef\xbf\xbdx\""), "%s", out);
    json_escape(out, sizeof out, "a\"b\\c\n\x1f");
    CHECK(!strcmp(out, "\"a\\\"b\\\\c\\n\\u001f\""));
    /* Truncation: snprintf-like. */
    char small[5];
    CHECK(json_escape(small, sizeof small, "abcdef") == 8 && !strcmp(small, "\"abc"));
    CHECK(json_format_number(out, sizeof out, 0.1) == 3 && !strcmp(out, "0.1"));
    CHECK(json_format_number(out, sizeof out, 0.0) == 3 && !strcmp(out, "0.0"));
    json_format_number(out, sizeof out, 1e16);
    CHECKF(!strcmp(out, "1e+16"), "%s", out);
    json_format_number(out, sizeof out, 1.0 / 3.0);
    CHECK(strtod(out, NULL) == 1.0 / 3.0);
    json_format_number(out, sizeof out, NAN);
    CHECK(!strcmp(out, "null"));
    /* A comma locale must not leak into JSON numbers. */
    if (setlocale(LC_NUMERIC, "de_DE.UTF-8") || setlocale(LC_NUMERIC, "fr_FR.UTF-8")) {
        json_format_fixed(out, sizeof out, 0.64, 3);
        CHECKF(!strcmp(out, "0.640"), "%s", out);
        json_format_number(out, sizeof out, -0.04);
        CHECKF(!strcmp(out, "-0.04"), "%s", out);
        setlocale(LC_NUMERIC, "C");
    }
}

static void test_misc(const lc_transcript *t)
{
    int rc;
    char *out = render("docx", t, NULL, &rc);
    CHECK(rc == -1);
    free(out);
    CHECK(writers_format_for_path("a/b.srt") && !strcmp(writers_format_for_path("a/b.srt"), "srt"));
    CHECK(writers_format_for_path("x.JSONL") && !strcmp(writers_format_for_path("x.JSONL"), "jsonl"));
    CHECK(writers_format_for_path("x.wav") == NULL && writers_format_for_path("dir.txt/x") == NULL);
    /* The per-cue helpers produce the same bytes as the whole writer. */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    for (int i = 0; i < t->n_seg; i++) writers_srt_cue(f, i + 1, t->seg[i].start, t->seg[i].end, t->seg[i].text);
    fclose(f);
    out = render("srt", t, NULL, &rc);
    CHECK(buf && out && !strcmp(buf, out));
    free(buf);
    free(out);
}

int main(void)
{
    lc_transcript t;
    build(&t);
    CHECK(t.n_seg == N_SEGS);
    test_timestamps();
    test_txt(&t);
    test_cues(&t, 0);
    test_cues(&t, 1);
    test_json(&t);
    test_json_util();
    test_misc(&t);
    transcript_free(&t);
    TEST_DONE();
}
