/* test_model_types.c: the loader reads every official layout (n_vocab
 * 51864/51865/51866, 80 or 128 mels, any layer count) and every tensor type
 * (F32, F16, Q8_0, Q5_0, Q5_1, Q4_0, Q4_1), with special ids derived as
 * openai-whisper's tokenizer derives them. Models come from our generator. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/genmodel.h"
#include "model/model.h"
#include "model/quant.h"
#include "test.h"

static char dir[] = "/tmp/livecap-typesXXXXXX";

static lc_model *gen_and_load(int vocab, int mels, int layers, int text_layers, const char *ftype, char *path)
{
    lc_genmodel_opts o;
    genmodel_opts_init(&o);
    o.n_vocab = vocab;
    o.n_mels = mels;
    o.n_audio_state = o.n_text_state = 64;
    o.n_audio_head = o.n_text_head = 4;
    o.n_audio_layer = layers;
    o.n_text_layer = text_layers;
    o.ftype = quant_ftype_from_name(ftype);
    o.seed = 7;
    sprintf(path, "%s/m-%d-%d-%d-%s.bin", dir, vocab, mels, layers, ftype);
    lc_err e = {{0}};
    CHECKF(genmodel_write(path, &o, &e) == 0, "%s", e.msg);
    lc_model *m = model_load(path, &e);
    CHECKF(m != NULL, "%s: %s", path, e.msg);
    return m;
}

int main(void)
{
    CHECK(mkdtemp(dir) != NULL);
    char path[256];

    /* layouts and specials: openai-whisper tokenizer.py */
    struct { int vocab, mels, multi, eot, sot, translate, transcribe, sot_prev, no_speech, no_ts, ts_begin, n_langs; } L[] = {
        { 51864, 80, 0, 50256, 50257, 50357, 50358, 50360, 50361, 50362, 50363, 99 },
        { 51865, 80, 1, 50257, 50258, 50358, 50359, 50361, 50362, 50363, 50364, 99 },
        { 51866, 128, 1, 50257, 50258, 50359, 50360, 50362, 50363, 50364, 50365, 100 },
    };
    for (size_t i = 0; i < sizeof L / sizeof *L; i++) {
        lc_model *m = gen_and_load(L[i].vocab, L[i].mels, 1 + (int)i, 3 - (int)i, "f16", path);
        if (!m) continue;
        const lc_specials *s = &m->sp;
        CHECK(m->multilingual == L[i].multi);
        CHECK(s->eot == L[i].eot && s->sot == L[i].sot && s->translate == L[i].translate);
        CHECK(s->transcribe == L[i].transcribe && s->sot_prev == L[i].sot_prev);
        CHECK(s->no_speech == L[i].no_speech && s->no_timestamps == L[i].no_ts && s->ts_begin == L[i].ts_begin);
        CHECK(s->n_langs == L[i].n_langs && s->ts_begin + 1501 == m->hp.n_vocab);
        CHECK(m->hp.n_audio_layer == 1 + (int)i && m->hp.n_text_layer == 3 - (int)i);
        CHECK(m->vocab[s->ts_begin + 50].len == 8 && !memcmp(m->vocab[s->ts_begin + 50].bytes, "<|1.00|>", 8));
        CHECK(!memcmp(m->vocab[s->lang0].bytes, "<|en|>", 6));
        model_free(m);
        unlink(path);
    }

    /* every tensor type dequantises close to the f32 weights of the same seed */
    lc_model *ref = gen_and_load(51864, 80, 2, 2, "f32", path);
    const char *types[] = { "f16", "q8_0", "q5_1", "q5_0", "q4_1", "q4_0" };
    /* relative to the block's max: half a step, except that the symmetric
     * formats clamp the extreme of the other sign by a whole step (1/16 for
     * Q5_0, 1/8 for Q4_0), as ggml's quantizers do */
    const double tol[] = { 1e-3, 0.01, 0.035, 0.065, 0.07, 0.13 };
    for (size_t t = 0; ref && t < sizeof types / sizeof *types; t++) {
        lc_model *m = gen_and_load(51864, 80, 2, 2, types[t], path);
        if (!m) continue;
        CHECK(!strcmp(m->ftype_name, types[t]));
        const lc_mat *a = &ref->enc[1].mlp.fc1, *b = &m->enc[1].mlp.fc1;
        double worst = 0;
        for (int r = 0; r < a->rows; r++) {
            double mx = 0, err = 0;
            for (int c = 0; c < a->cols; c++) {
                double x = a->w[(size_t)r * a->cols + c], y = b->w[(size_t)r * a->cols + c];
                mx = fabs(x) > mx ? fabs(x) : mx;
                err = fabs(x - y) > err ? fabs(x - y) : err;
            }
            worst = err / mx > worst ? err / mx : worst;
        }
        printf("%s: worst row error %.4f of the row max\n", types[t], worst);
        CHECKF(worst > 0 && worst <= tol[t], "%s: %g", types[t], worst);
        /* 1-D tensors stay f32, bit-exact */
        CHECK(!memcmp(ref->enc[0].attn.ln_w, m->enc[0].attn.ln_w, sizeof(float) * 64));
        model_free(m);
        unlink(path);
    }
    model_free(ref);
    unlink(path);
    rmdir(dir);
    TEST_DONE();
}
