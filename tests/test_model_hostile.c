/* test_model_hostile.c: the model loader treats the file as hostile. Every
 * damaged variant of a valid model must be refused with one line naming the
 * file, never crash or read out of bounds (run under SANITIZE=address). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "test.h"

static unsigned char *orig;
static size_t orig_len;
static size_t off_filters, off_vocab, off_tensors; /* section starts */
static size_t tensor_off[8];                        /* first tensors' headers */
static size_t last_tensor_off;

static int32_t rd32(const unsigned char *p) { int32_t v; memcpy(&v, p, 4); return v; }
static void wr32(unsigned char *p, int32_t v) { memcpy(p, &v, 4); }

static void index_file(void)
{
    off_filters = 4 + 11 * 4;
    int32_t n_mel = rd32(orig + off_filters), n_fft = rd32(orig + off_filters + 4);
    off_vocab = off_filters + 8 + (size_t)n_mel * n_fft * 4;
    int32_t n_words = rd32(orig + off_vocab);
    size_t o = off_vocab + 4;
    for (int i = 0; i < n_words; i++) o += 4 + (size_t)rd32(orig + o);
    off_tensors = o;
    int k = 0;
    while (o < orig_len) {
        if (k < 8) tensor_off[k] = o;
        k++;
        last_tensor_off = o;
        int32_t nd = rd32(orig + o), nl = rd32(orig + o + 4), ty = rd32(orig + o + 8);
        size_t n = 1;
        for (int i = 0; i < nd; i++) n *= (size_t)rd32(orig + o + 12 + 4 * i);
        o += 12 + 4 * (size_t)nd + (size_t)nl + n * (ty == 0 ? 4 : 2);
    }
}

/* Loads a variant; it must fail with a message naming the file. */
static void expect_fail(const unsigned char *buf, size_t len, const char *what)
{
    lc_err e = {{0}};
    lc_model *m = model_load_mem(buf, len, "bad.bin", &e);
    CHECKF(m == NULL, "%s: loaded", what);
    CHECKF(!strncmp(e.msg, "bad.bin: ", 9), "%s: message does not name the file: '%s'", what, e.msg);
    CHECKF(!strchr(e.msg, '\n'), "%s: message is not one line", what);
    model_free(m);
}

static unsigned char *copy(void)
{
    unsigned char *b = malloc(orig_len + 4096);
    memcpy(b, orig, orig_len);
    return b;
}

int main(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/micro-en/model-f32.bin", fixtures_dir());
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (!f) TEST_DONE();
    fseek(f, 0, SEEK_END);
    orig_len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    orig = malloc(orig_len);
    CHECK(fread(orig, 1, orig_len, f) == orig_len);
    fclose(f);
    index_file();

    /* the intact file loads */
    lc_err e = {{0}};
    lc_model *m = model_load_mem(orig, orig_len, "good.bin", &e);
    CHECKF(m != NULL, "%s", e.msg);
    model_free(m);

    /* truncated at every byte of the header, around every section boundary,
     * inside the first tensors, and at spread-out points of the data */
    char what[128];
    for (size_t n = 0; n < 200; n++) { snprintf(what, sizeof what, "truncated at %zu", n); expect_fail(orig, n, what); }
    size_t cuts[] = { off_filters + 4, off_filters + 9, off_vocab - 1, off_vocab + 2, off_vocab + 5,
                      off_tensors - 1, off_tensors + 3, off_tensors + 13, off_tensors + 30,
                      last_tensor_off + 7, orig_len - 1, orig_len - 4 };
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        snprintf(what, sizeof what, "truncated at %zu", cuts[i]);
        expect_fail(orig, cuts[i], what);
    }
    for (int k = 0; k < 8; k++)
        for (size_t d = 0; d < 40; d += 3) {
            snprintf(what, sizeof what, "truncated in tensor %d header+%zu", k, d);
            expect_fail(orig, tensor_off[k] + d + 1, what);
        }
    uint64_t s = 12345;
    for (int i = 0; i < 60; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        size_t cut = off_tensors + (size_t)(s >> 33) % (orig_len - off_tensors);
        snprintf(what, sizeof what, "truncated at %zu", cut);
        expect_fail(orig, cut, what);
    }

    unsigned char *b = copy();
    b[0] ^= 0xff;
    expect_fail(b, orig_len, "bad magic");
    free(b);

    /* absurd or inconsistent hyper-parameters */
    const int32_t bad_values[] = { 0, -1, -2147483647 - 1, 2147483647, 1 << 20 };
    for (int h = 0; h < 10; h++)
        for (size_t v = 0; v < sizeof bad_values / sizeof *bad_values; v++) {
            b = copy();
            wr32(b + 4 + 4 * h, bad_values[v]);
            snprintf(what, sizeof what, "hparam %d = %d", h, bad_values[v]);
            expect_fail(b, orig_len, what);
            free(b);
        }
    b = copy(); wr32(b + 4 + 4 * 3, 3); expect_fail(b, orig_len, "audio heads do not divide state"); free(b);
    b = copy(); wr32(b + 4 + 4 * 7, 5); expect_fail(b, orig_len, "text heads do not divide state"); free(b);
    b = copy(); wr32(b + 4 + 4 * 10, 5); expect_fail(b, orig_len, "unknown ftype"); free(b);
    b = copy(); wr32(b + 4 + 4 * 9, 128); expect_fail(b, orig_len, "n_mels disagrees with the filters"); free(b);
    b = copy(); wr32(b + 4 + 4 * 4, 3); expect_fail(b, orig_len, "more layers than tensors"); free(b);

    /* vocabulary */
    b = copy(); wr32(b + off_vocab, 60000); expect_fail(b, orig_len, "vocab count > n_vocab"); free(b);
    b = copy(); wr32(b + off_vocab, -5); expect_fail(b, orig_len, "negative vocab count"); free(b);
    b = copy(); wr32(b + off_vocab + 4, 2147483647); expect_fail(b, orig_len, "vocab entry runs past the end"); free(b);
    expect_fail(orig, off_vocab + 4 + 4 + 1 + 2, "vocab cut inside an entry");

    /* tensors */
    size_t t0 = tensor_off[0];
    b = copy(); wr32(b + t0 + 8, 99); expect_fail(b, orig_len, "unknown tensor type"); free(b);
    b = copy(); wr32(b + t0 + 8, 4); expect_fail(b, orig_len, "removed tensor type 4"); free(b);
    b = copy(); wr32(b + t0 + 12, rd32(orig + t0 + 12) + 1); expect_fail(b, orig_len, "wrong tensor shape"); free(b);
    b = copy(); wr32(b + t0, 4); expect_fail(b, orig_len, "4 dimensions"); free(b);
    b = copy(); wr32(b + t0, 0); expect_fail(b, orig_len, "0 dimensions"); free(b);
    b = copy(); wr32(b + t0 + 4, 100000); expect_fail(b, orig_len, "huge name length"); free(b);
    b = copy(); wr32(b + t0 + 12, -7); expect_fail(b, orig_len, "negative dimension"); free(b);
    b = copy(); b[t0 + 12 + 4 * rd32(orig + t0) + 2] ^= 0x20; expect_fail(b, orig_len, "unknown tensor name"); free(b);
    b = copy(); wr32(b + t0 + 8, 8); expect_fail(b, orig_len, "quantized type with a bad size"); free(b);
    expect_fail(orig, last_tensor_off, "missing tensor");
    b = copy();
    memcpy(b + orig_len, orig + last_tensor_off, orig_len - last_tensor_off < 4096 ? orig_len - last_tensor_off : 0);
    if (orig_len - last_tensor_off < 4096)
        expect_fail(b, orig_len + (orig_len - last_tensor_off), "duplicate tensor");
    free(b);

    free(orig);
    TEST_DONE();
}
