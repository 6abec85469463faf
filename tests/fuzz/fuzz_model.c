/* fuzz_model.c: libFuzzer target for the ggml model loader (model_load_mem).
 *
 * The first byte picks what the rest of the input is:
 *   0  a whole model file, as found on disk;
 *   1  the tensor section of a model whose header is valid (state 1: f32
 *      and f16 rows), after a fixed prefix built here;
 *   2  the same with state 32, 1 mel, so Q4/Q5/Q8 rows are legal.
 * Modes 1 and 2 exist because a header that passes check_hparams needs the
 * file to be at least half the model's weight count in bytes (27 KB for
 * the smallest shape), far more than mutations would grow by themselves:
 * the prefix lets the fuzzer spend its time on tensor records (names,
 * shapes, types, truncated data), the part that fails "later".
 * Success frees the model; every failure must leave e.msg set.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

static unsigned char *prefix[3];
static size_t prefix_len[3];

static void put_i32(unsigned char **p, int32_t v) { memcpy(*p, &v, 4); *p += 4; }

/* magic, hparams (vocab 51864, ctx 1500, state, 1 head, 1 layer, text ctx
 * 4, state, 1 head, 1 layer, 1 mel, f32), 1 × 201 mel filter, then empty
 * vocabulary entries and 1024-byte ones until the file is big enough for
 * the size check in model_load_mem. */
static void build_prefix(int mode, int state)
{
    size_t weights = (size_t)state * 1500 + 3 * (size_t)state + state + 3 * (size_t)state * state + state +
                     12 * (size_t)state * state + 12 * (size_t)state + 2 * (size_t)state +
                     (size_t)state * 4 + (size_t)state * 51864 + 16 * (size_t)state * state +
                     17 * (size_t)state + 2 * (size_t)state + 201;
    int n_words = (int)(weights / 2 / 1028) + 1;
    size_t len = 4 + 11 * 4 + 8 + 201 * 4 + 4 + (size_t)n_words * 1028;
    unsigned char *b = calloc(1, len), *p = b;
    if (!b) abort();
    put_i32(&p, 0x67676d6c);
    int32_t hp[11] = { 51864, 1500, state, 1, 1, 4, state, 1, 1, 1, 0 };
    for (int i = 0; i < 11; i++) put_i32(&p, hp[i]);
    put_i32(&p, 1);
    put_i32(&p, 201);
    for (int i = 0; i < 201; i++) { float f = 0.01f * (float)i; memcpy(p, &f, 4); p += 4; }
    put_i32(&p, n_words);
    for (int i = 0; i < n_words; i++) { put_i32(&p, 1024); memset(p, 'a' + i % 26, 1024); p += 1024; }
    prefix[mode] = b;
    prefix_len[mode] = len;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    build_prefix(1, 1);
    build_prefix(2, 32);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int mode = data[0] % 3;
    data++, size--;
    lc_err e = {{0}};
    lc_model *m;
    if (mode == 0) {
        m = model_load_mem(data, size, "fuzz.bin", &e);
    } else {
        unsigned char *buf = malloc(prefix_len[mode] + size + 1);
        if (!buf) return 0;
        memcpy(buf, prefix[mode], prefix_len[mode]);
        memcpy(buf + prefix_len[mode], data, size);
        m = model_load_mem(buf, prefix_len[mode] + size, "fuzz.bin", &e);
        free(buf);
    }
    if (m) model_free(m);
    else if (!e.msg[0] || strchr(e.msg, '\n')) { /* failures are ONE line */
        fprintf(stderr, "model_load_mem failed with message [%s]\n", e.msg);
        abort();
    }
    return 0;
}
