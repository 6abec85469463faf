/* test_tokenizer.c: byte-level BPE against values openai-whisper/tiktoken
 * produce with the real GPT-2 and multilingual vocabularies (the fixture
 * models carry them), and Python's UTF-8 "replace" decoding. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/tokenizer.h"
#include "test.h"

/* tokenizer.non_speech_tokens + specials, as DecodingTask suppresses them
 * (openai-whisper; the same list ships as suppress_tokens in the models'
 * generation configs). */
static const int EN_SUPPRESS[] = {
    1, 2, 7, 8, 9, 10, 14, 25, 26, 27, 28, 29, 31, 58, 59, 60, 61, 62, 63, 90, 91, 92, 93, 357, 366, 438, 532,
    685, 705, 796, 930, 1058, 1220, 1267, 1279, 1303, 1343, 1377, 1391, 1635, 1782, 1875, 2162, 2361, 2488,
    3467, 4008, 4211, 4600, 4808, 5299, 5855, 6329, 7203, 9609, 9959, 10563, 10786, 11420, 11709, 11907,
    13163, 13697, 13700, 14808, 15306, 16410, 16791, 17992, 19203, 19510, 20724, 22305, 22935, 27007, 30109,
    30420, 33409, 34949, 40283, 40493, 40549, 47282, 49146, 50257, 50357, 50358, 50359, 50360, 50361 };
static const int ML_SUPPRESS_TEXT[] = {
    1, 2, 7, 8, 9, 10, 14, 25, 26, 27, 28, 29, 31, 58, 59, 60, 61, 62, 63, 90, 91, 92, 93, 359, 503, 522, 542,
    873, 893, 902, 918, 922, 931, 1350, 1853, 1982, 2460, 2627, 3246, 3253, 3268, 3536, 3846, 3961, 4183,
    4667, 6585, 6647, 7273, 9061, 9383, 10428, 10929, 11938, 12033, 12331, 12562, 13793, 14157, 14635, 15265,
    15618, 16553, 16604, 18362, 18956, 20075, 21675, 22520, 26130, 26161, 26435, 28279, 29464, 31650, 32302,
    32470, 36865, 42863, 47425, 49870, 50254 };

static lc_model *load(const char *sub)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s/model-f32.bin", fixtures_dir(), sub);
    lc_err e;
    lc_model *m = model_load(p, &e);
    CHECKF(m != NULL, "%s", e.msg);
    return m;
}

static int find_byte_token(const lc_model *m, unsigned char b)
{
    for (int i = 0; i < m->sp.eot; i++)
        if (m->vocab[i].len == 1 && (unsigned char)m->vocab[i].bytes[0] == b) return i;
    return -1;
}

int main(void)
{
    /* Python: bytes.decode("utf-8", "replace") */
    struct { const char *in; const char *out; } u[] = {
        { "abc", "abc" }, { "\xc3\xa9", "\xc3\xa9" }, { "\xc3", "\xef\xbf\xbd" },
        { "\xe2\x99" "a", "\xef\xbf\xbd" "a" }, { "\xf0\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
        { "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, { "\xff" "-", "\xef\xbf\xbd" "-" },
        { "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80" }, { "\xf0\x9f\x98", "\xef\xbf\xbd" },
    };
    for (size_t i = 0; i < sizeof u / sizeof *u; i++) {
        char out[64];
        utf8_decode_replace((const unsigned char *)u[i].in, strlen(u[i].in), out);
        CHECKF(!strcmp(out, u[i].out), "case %zu", i);
    }

    /* Python str.isspace() */
    CHECK(utf8_space_len(" x") == 1 && utf8_space_len("\x1f") == 1 && utf8_space_len("\v") == 1);
    CHECK(utf8_space_len("\xc2\xa0") == 2 && utf8_space_len("\xe3\x80\x80") == 3);
    CHECK(utf8_space_len("\xe2\x80\x8a") == 3 && utf8_space_len("\xe2\x80\x8b") == 0); /* U+200A yes, U+200B no */
    CHECK(utf8_space_len("x") == 0 && utf8_space_len("\xc3\xa9") == 0 && utf8_space_len("") == 0);
    const char *st;
    CHECK(utf8_strip("\xe3\x80\x80 caf\xc3\xa9 \xc2\xa0\n", &st) == 5 && !strncmp(st, "caf\xc3\xa9", 5));
    CHECK(utf8_strip(" \t ", &st) == 0);

    lc_model *m = load("micro-en");
    lc_err e;
    lc_tokenizer *t = m ? tokenizer_create(m, &e) : NULL;
    if (t) {
        int s[256], n = tokenizer_suppress_tokens(t, s, 256);
        CHECKF(n == (int)(sizeof EN_SUPPRESS / sizeof *EN_SUPPRESS), "%d suppressed tokens", n);
        CHECK(!memcmp(s, EN_SUPPRESS, sizeof EN_SUPPRESS));
        int x[32];
        /* tiktoken gpt2: "Hello world, it's 2024!" */
        const int want[] = { 15496, 995, 11, 340, 338, 48609, 0 };
        n = tokenizer_encode(t, "Hello world, it's 2024!", x, 32);
        CHECK(n == 7 && !memcmp(x, want, sizeof want));
        n = tokenizer_blank_tokens(t, x, 8);
        CHECK(n == 2 && x[0] == 220 && x[1] == m->sp.eot);
        /* round trips, including multi-byte characters and runs of spaces */
        const char *texts[] = { " And so, my fellow Americans", "  two  spaces\n", " naïve café 日本語 ♪", "x" };
        for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
            int ids[128];
            int k = tokenizer_encode(t, texts[i], ids, 128);
            char *back = tokenizer_decode(t, ids, k, m->sp.eot);
            CHECKF(back && !strcmp(back, texts[i]), "round trip '%s' -> '%s'", texts[i], back ? back : "");
            free(back);
        }
        /* a character split across two byte tokens comes out whole */
        int split[2] = { find_byte_token(m, 0xc3), find_byte_token(m, 0xa9) };
        CHECK(split[0] >= 0 && split[1] >= 0);
        char *s2 = tokenizer_decode(t, split, 2, m->sp.eot);
        CHECK(s2 && !strcmp(s2, "\xc3\xa9"));
        free(s2);
        /* text decoding drops specials below the cut; tokenizer.decode keeps <|xx|> */
        int mixed[3] = { 15496, m->sp.lang0 + 27, 995 };
        char *a = tokenizer_decode(t, mixed, 3, m->sp.eot), *b = tokenizer_decode(t, mixed, 3, m->sp.ts_begin);
        CHECK(a && !strcmp(a, "Hello world"));
        CHECK(b && !strcmp(b, "Hello<|hu|> world"));
        free(a);
        free(b);
    }
    tokenizer_free(t);
    model_free(m);

    m = load("micro-v3");
    t = m ? tokenizer_create(m, &e) : NULL;
    if (t) {
        int s[256], n = tokenizer_suppress_tokens(t, s, 256);
        int nt = (int)(sizeof ML_SUPPRESS_TEXT / sizeof *ML_SUPPRESS_TEXT);
        CHECKF(n == nt + 6, "%d suppressed tokens", n);
        CHECK(!memcmp(s, ML_SUPPRESS_TEXT, sizeof ML_SUPPRESS_TEXT));
        const lc_specials *sp = &m->sp;
        int specials[6] = { sp->sot, sp->translate, sp->transcribe, sp->sot_lm, sp->sot_prev, sp->no_speech };
        CHECK(n == nt + 6 && !memcmp(s + nt, specials, sizeof specials));
    }
    tokenizer_free(t);
    model_free(m);
    TEST_DONE();
}
