/* writers.c: txt/srt/vtt/json transcript writers (see writers.h). */
#include "out/writers.h"

#include <math.h>
#include <string.h>
#include <strings.h>

#include "util/json.h"

/* ---- text cleanup ----------------------------------------------------- */

/* Decodes one valid UTF-8 code point at s (at most `left` bytes); returns
 * its length, or 0 when the bytes there are not valid UTF-8. Only used to
 * recognise whitespace, so it need not report which bytes are bad. */
static size_t utf8_decode(const unsigned char *s, size_t left, unsigned *cp)
{
    unsigned c = s[0];
    size_t n;
    unsigned min;
    if (c < 0x80) { *cp = c; return 1; }
    else if (c >= 0xC2 && c < 0xE0) { n = 2; min = 0x80; *cp = c & 0x1F; }
    else if (c >= 0xE0 && c < 0xF0) { n = 3; min = 0x800; *cp = c & 0x0F; }
    else if (c >= 0xF0 && c < 0xF5) { n = 4; min = 0x10000; *cp = c & 0x07; }
    else return 0;
    if (n > left) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        *cp = *cp << 6 | (s[i] & 0x3F);
    }
    if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp < 0xE000)) return 0;
    return n;
}

/* Python's str.isspace(), which str.strip() uses (Unicode White_Space plus
 * the ASCII separators 0x1C..0x1F). */
static int py_isspace(unsigned cp)
{
    return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 ||
           cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

/* The [*b, *b + return) span of s without leading/trailing whitespace, as
 * Python's str.strip() would leave it. */
static size_t strip_span(const char *s, const char **b)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    const unsigned char *end = p + strlen((const char *)p);
    unsigned cp;
    size_t n;
    while (p < end && (n = utf8_decode(p, (size_t)(end - p), &cp)) && py_isspace(cp)) p += n;
    while (end > p) {
        const unsigned char *q = end - 1;
        while (q > p && end - q < 4 && (*q & 0xC0) == 0x80) q--; /* char start */
        n = utf8_decode(q, (size_t)(end - q), &cp);
        if (!n || q + n != end || !py_isspace(cp)) break;
        end = q;
    }
    *b = (const char *)p;
    return (size_t)(end - p);
}

/* Writes stripped cue text: "-->" (or any longer dash run before '>')
 * becomes "->", and runs of CR/LF become one '\n' (see writers.h). */
static void put_cue_text(FILE *f, const char *s)
{
    const char *p;
    size_t n = strip_span(s, &p);
    for (size_t i = 0; i < n;) {
        if (p[i] == '-') {
            size_t run = 0;
            while (i + run < n && p[i + run] == '-') run++;
            if (run >= 2 && i + run < n && p[i + run] == '>') fputc('-', f);
            else fwrite(p + i, 1, run, f);
            i += run;
        } else if (p[i] == '\n' || p[i] == '\r') {
            while (i < n && (p[i] == '\n' || p[i] == '\r')) i++;
            fputc('\n', f);
        } else {
            fputc(p[i++], f);
        }
    }
}

/* ---- timestamps ------------------------------------------------------- */

void writers_format_ts(double seconds, char sep, char out[WRITERS_TS_LEN])
{
    /* openai-whisper utils.format_timestamp: round(seconds * 1000.0); llrint
     * rounds half to even like Python's round(). */
    const long long max_ms = 99999LL * 3600000 + 3599999; /* fits out[16] */
    long long ms = isfinite(seconds) && seconds > 0 ? llrint(fmin(seconds * 1000.0, (double)max_ms)) : 0;
    /* The modulos are no-ops after the clamp; they show the compiler (and
     * the reader) that the text fits out[16]. */
    unsigned long long u = (unsigned long long)ms;
    unsigned h = (unsigned)(u / 3600000 % 100000), m = (unsigned)(u / 60000 % 60);
    unsigned s = (unsigned)(u / 1000 % 60), f = (unsigned)(u % 1000);
    snprintf(out, WRITERS_TS_LEN, "%02u:%02u:%02u%c%03u", h, m, s, sep, f);
}

/* ---- per-segment writers ---------------------------------------------- */

static int stream_ok(FILE *f) { return ferror(f) ? -1 : 0; }

int writers_txt_line(FILE *f, const char *text)
{
    const char *p;
    size_t n = strip_span(text, &p);
    fwrite(p, 1, n, f);
    fputc('\n', f);
    return stream_ok(f);
}

static void put_timing_line(FILE *f, double t0, double t1, char sep)
{
    char a[WRITERS_TS_LEN], b[WRITERS_TS_LEN];
    writers_format_ts(t0, sep, a);
    writers_format_ts(t1, sep, b);
    fprintf(f, "%s --> %s\n", a, b);
}

int writers_srt_cue(FILE *f, int index, double t0, double t1, const char *text)
{
    fprintf(f, "%d\n", index);
    put_timing_line(f, t0, t1, ',');
    put_cue_text(f, text);
    fputs("\n\n", f);
    return stream_ok(f);
}

int writers_vtt_header(FILE *f)
{
    fputs("WEBVTT\n\n", f);
    return stream_ok(f);
}

int writers_vtt_cue(FILE *f, double t0, double t1, const char *text)
{
    put_timing_line(f, t0, t1, '.');
    put_cue_text(f, text);
    fputs("\n\n", f);
    return stream_ok(f);
}

/* ---- json (SPEC §2) --------------------------------------------------- */

static void put_model(FILE *f, const lc_model_info *mi)
{
    if (!mi) { fputs("null", f); return; }
    fputs("{\"path\": ", f);
    json_write_string(f, mi->path);
    fputs(", \"type\": ", f);
    json_write_string(f, mi->type);
    fprintf(f, ", \"multilingual\": %s, \"n_mels\": %d, \"n_vocab\": %d, \"ftype\": ",
            mi->multilingual ? "true" : "false", mi->n_mels, mi->n_vocab);
    json_write_string(f, mi->ftype);
    fputc('}', f);
}

/* Seconds to the millisecond, rounded exactly as writers_format_ts rounds
 * (not as %.3f would), so json and srt/vtt agree on every time. */
static void put_seconds(FILE *f, double v)
{
    if (!isfinite(v) || fabs(v) > 1e12) { json_write_number(f, v); return; }
    long long ms = llrint(v * 1000.0);
    unsigned long long a = (unsigned long long)(ms < 0 ? -ms : ms);
    fprintf(f, "%s%llu.%03llu", ms < 0 ? "-" : "", a / 1000, a % 1000);
}

static void put_segment(FILE *f, const lc_segment *s)
{
    fputs("{\"start\": ", f);
    put_seconds(f, s->start);
    fputs(", \"end\": ", f);
    put_seconds(f, s->end);
    fputs(", \"text\": ", f);
    json_write_string(f, s->text ? s->text : "");
    fputs(", \"tokens\": [", f);
    for (int i = 0; i < s->n_tokens; i++) fprintf(f, i ? ", %d" : "%d", s->tokens[i]);
    fputs("],\n     \"avg_logprob\": ", f);
    json_write_number(f, s->avg_logprob);
    fputs(", \"no_speech_prob\": ", f);
    json_write_number(f, s->no_speech_prob);
    fputs(", \"temperature\": ", f);
    json_write_number(f, s->temperature);
    fputc('}', f);
}

static void put_timing(FILE *f, const lc_timing *tm)
{
    const struct { const char *key; double v; } kv[] = {
        {"audio_s", tm->audio_s},     {"load_ms", tm->load_ms},
        {"mel_ms", tm->mel_ms},       {"encode_ms", tm->encode_ms},
        {"decode_ms", tm->decode_ms}, {"total_ms", tm->total_ms},
    };
    fputc('{', f);
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
        fprintf(f, "%s\"%s\": ", i ? ", " : "", kv[i].key);
        json_write_fixed(f, kv[i].v, 3); /* microseconds are plenty */
    }
    fputc('}', f);
}

static void write_json(FILE *f, const lc_transcript *t, const lc_model_info *mi)
{
    char lang[sizeof t->language + 1];
    memcpy(lang, t->language, sizeof t->language); /* may lack its NUL */
    lang[sizeof t->language] = '\0';

    fputs("{\n  \"model\": ", f);
    put_model(f, mi);
    fputs(",\n  \"language\": ", f);
    json_write_string(f, lang);
    fputs(",\n  \"segments\": [", f);
    for (int i = 0; i < t->n_seg; i++) {
        fputs(i ? ",\n    " : "\n    ", f);
        put_segment(f, &t->seg[i]);
    }
    fputs(t->n_seg ? "\n  ],\n  \"timing\": " : "],\n  \"timing\": ", f);
    put_timing(f, &t->timing);
    fputs("\n}\n", f);
}

/* ---- whole transcript ------------------------------------------------- */

int writers_write(FILE *f, const char *format, const lc_transcript *t,
                  const lc_model_info *mi, lc_err *e)
{
    const char *fmt = format ? format : "(null)";
    if (!strcmp(fmt, "txt")) {
        for (int i = 0; i < t->n_seg; i++) writers_txt_line(f, t->seg[i].text);
    } else if (!strcmp(fmt, "srt")) {
        for (int i = 0; i < t->n_seg; i++)
            writers_srt_cue(f, i + 1, t->seg[i].start, t->seg[i].end, t->seg[i].text);
    } else if (!strcmp(fmt, "vtt")) {
        writers_vtt_header(f);
        for (int i = 0; i < t->n_seg; i++)
            writers_vtt_cue(f, t->seg[i].start, t->seg[i].end, t->seg[i].text);
    } else if (!strcmp(fmt, "json")) {
        write_json(f, t, mi);
    } else {
        return lc_fail(e, "output format '%s': unknown (use txt, srt, vtt or json)", fmt);
    }
    if (fflush(f) != 0 || ferror(f))
        return lc_fail(e, "writing the %s transcript failed", fmt);
    return 0;
}

const char *writers_format_for_path(const char *path)
{
    static const char *const known[] = {"txt", "srt", "vtt", "jsonl"};
    const char *dot = path ? strrchr(path, '.') : NULL;
    if (!dot || strchr(dot, '/')) return NULL;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strcasecmp(dot + 1, known[i])) return known[i];
    return NULL;
}
