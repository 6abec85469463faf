/* json.c: JSON string escaping and number formatting (see json.h). */
#include "util/json.h"

#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* One output: either a FILE* or a bounded buffer that counts what it would
 * have needed, so the FILE and buffer variants share one escaper. */
typedef struct sink {
    FILE *f;
    char *buf;
    size_t cap, len;
} sink;

static void sink_put(sink *s, const char *p, size_t n)
{
    if (s->f) {
        fwrite(p, 1, n, s->f);
    } else if (s->cap > 0 && s->len < s->cap - 1) {
        size_t room = s->cap - 1 - s->len;
        memcpy(s->buf + s->len, p, n < room ? n : room);
    }
    s->len += n;
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if the bytes there
 * are not one. *bad_len gets how many bytes to replace with U+FFFD: the
 * "maximal subpart" of Unicode §3.9 (lead byte plus the continuation bytes
 * that were still plausible), so one bad byte never swallows good text. */
static size_t utf8_seq(const unsigned char *p, size_t *bad_len)
{
    unsigned c = p[0];
    size_t n;
    unsigned lo = 0x80, hi = 0xBF; /* allowed range of the 2nd byte */
    *bad_len = 1;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c == 0xE0) { n = 3; lo = 0xA0; }          /* no overlongs */
    else if (c >= 0xE1 && c <= 0xEC) n = 3;
    else if (c == 0xED) { n = 3; hi = 0x9F; }          /* no surrogates */
    else if (c >= 0xEE && c <= 0xEF) n = 3;
    else if (c == 0xF0) { n = 4; lo = 0x90; }          /* no overlongs */
    else if (c >= 0xF1 && c <= 0xF3) n = 4;
    else if (c == 0xF4) { n = 4; hi = 0x8F; }          /* <= U+10FFFF */
    else return 0;                                     /* 80..C1, F5..FF */
    for (size_t i = 1; i < n; i++) {
        unsigned b = p[i]; /* a NUL terminator fails this test too */
        if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) {
            *bad_len = i;
            return 0;
        }
    }
    return n;
}

static void escape_to(sink *s, const char *str)
{
    static const char hex[] = "0123456789abcdef";
    static const char fffd[] = "\xEF\xBF\xBD"; /* U+FFFD in UTF-8 */
    if (!str) { sink_put(s, "null", 4); return; }
    const unsigned char *p = (const unsigned char *)str;
    sink_put(s, "\"", 1);
    while (*p) {
        /* Copy the longest run that needs no escaping in one call. */
        const unsigned char *run = p;
        while (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') p++;
        if (p > run) sink_put(s, (const char *)run, (size_t)(p - run));
        if (!*p) break;
        unsigned c = *p;
        if (c >= 0x80) {
            size_t bad, n = utf8_seq(p, &bad);
            if (n) sink_put(s, (const char *)p, n);
            else sink_put(s, fffd, 3);
            p += n ? n : bad;
            continue;
        }
        char e[6] = {'\\', 0};
        size_t el = 2;
        switch (c) {
        case '"':  e[1] = '"'; break;
        case '\\': e[1] = '\\'; break;
        case '\n': e[1] = 'n'; break;
        case '\r': e[1] = 'r'; break;
        case '\t': e[1] = 't'; break;
        case '\b': e[1] = 'b'; break;
        case '\f': e[1] = 'f'; break;
        default:
            memcpy(e, "\\u00", 4);
            e[4] = hex[c >> 4];
            e[5] = hex[c & 15];
            el = 6;
        }
        sink_put(s, e, el);
        p++;
    }
    sink_put(s, "\"", 1);
}

void json_write_string(FILE *f, const char *s)
{
    sink k = {.f = f};
    escape_to(&k, s);
}

size_t json_escape(char *dst, size_t cap, const char *s)
{
    sink k = {.buf = dst, .cap = cap};
    escape_to(&k, s);
    if (cap > 0) dst[k.len < cap ? k.len : cap - 1] = '\0';
    return k.len;
}

/* printf honours LC_NUMERIC, and a UI that calls setlocale(LC_ALL, "") may
 * get "0,64". JSON needs '.', so put it back whatever the locale says. */
static void fix_decimal_point(char *s)
{
    const char *dp = localeconv()->decimal_point;
    size_t dl = strlen(dp);
    if (dl == 0 || strcmp(dp, ".") == 0) return;
    char *at = strstr(s, dp);
    if (!at) return;
    *at = '.';
    memmove(at + 1, at + dl, strlen(at + dl) + 1);
}

static size_t copy_out(char *dst, size_t cap, const char *tmp)
{
    size_t n = strlen(tmp);
    if (cap > 0) {
        size_t k = n < cap - 1 ? n : cap - 1;
        memcpy(dst, tmp, k);
        dst[k] = '\0';
    }
    return n;
}

size_t json_format_number(char *dst, size_t cap, double v)
{
    char tmp[40];
    if (!isfinite(v)) return copy_out(dst, cap, "null");
    /* 15 significant digits always survive a round trip through text;
     * some doubles need 17 (IEEE 754 §5.12.2). Prefer the short form. The
     * round-trip check runs before fix_decimal_point, so strtod sees the
     * same locale as snprintf. */
    snprintf(tmp, sizeof tmp, "%.15g", v);
    if (strtod(tmp, NULL) != v) snprintf(tmp, sizeof tmp, "%.17g", v);
    fix_decimal_point(tmp);
    /* Look like a float, as Python's repr does ("0.0", not "0"), so readers
     * that care about types see the same ones openai-whisper gives. */
    if (!strpbrk(tmp, ".eEn")) strcat(tmp, ".0");
    return copy_out(dst, cap, tmp);
}

size_t json_format_fixed(char *dst, size_t cap, double v, int decimals)
{
    char tmp[64];
    if (!isfinite(v)) return copy_out(dst, cap, "null");
    if (decimals < 0) decimals = 0;
    if (decimals > 17) decimals = 17;
    /* %.*f of a huge value would not fit; such values are nonsense here,
     * but the output must stay a valid number. */
    if (fabs(v) >= 1e15) snprintf(tmp, sizeof tmp, "%.17g", v);
    else snprintf(tmp, sizeof tmp, "%.*f", decimals, v);
    fix_decimal_point(tmp);
    return copy_out(dst, cap, tmp);
}

void json_write_number(FILE *f, double v)
{
    char tmp[40];
    json_format_number(tmp, sizeof tmp, v);
    fputs(tmp, f);
}

void json_write_fixed(FILE *f, double v, int decimals)
{
    char tmp[64];
    json_format_fixed(tmp, sizeof tmp, v, decimals);
    fputs(tmp, f);
}
