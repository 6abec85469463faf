/* test_genmodel: random-weight models have whisper.cpp's ggml structure
 * (checked with a reader of our own and against the fixtures written by
 * whisper.cpp's converter), are deterministic, and quantize consistently. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/genmodel.h"
#include "model/quant.h"
#include "test.h"

typedef struct rtensor {
    char name[96];
    int nd, type;
    int64_t ne[4];
    size_t off, bytes; /* data position in the file */
} rtensor;

typedef struct rmodel {
    uint8_t *d;
    size_t size;
    uint32_t magic;
    int32_t hp[11];
    int n_mel, n_fft;
    const float *filters; /* unaligned-safe: copied */
    float *filt;
    int n_tok;
    size_t *tok_off;
    uint32_t *tok_len;
    rtensor *t;
    int nt;
} rmodel;

static int32_t i32(const uint8_t *p) { int32_t v; memcpy(&v, p, 4); return v; }

static void rfree(rmodel *m) { free(m->d); free(m->filt); free(m->tok_off); free(m->tok_len); free(m->t); }

/* Parses the whole file; 0 if every byte is accounted for, -1 otherwise. */
static int rload(const char *path, rmodel *m)
{
    memset(m, 0, sizeof *m);
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    m->size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    m->d = malloc(m->size);
    if (!m->d || fread(m->d, 1, m->size, f) != m->size) { fclose(f); return -1; }
    fclose(f);
    size_t o = 0;
#define NEED(n) do { if (o + (size_t)(n) > m->size) return -1; } while (0)
    NEED(48);
    memcpy(&m->magic, m->d, 4);
    for (int i = 0; i < 11; i++) m->hp[i] = i32(m->d + 4 + 4 * i);
    o = 48;
    NEED(8);
    m->n_mel = i32(m->d + o); m->n_fft = i32(m->d + o + 4); o += 8;
    if (m->n_mel <= 0 || m->n_fft <= 0) return -1;
    NEED((size_t)m->n_mel * m->n_fft * 4);
    m->filt = malloc((size_t)m->n_mel * m->n_fft * 4);
    memcpy(m->filt, m->d + o, (size_t)m->n_mel * m->n_fft * 4);
    m->filters = m->filt;
    o += (size_t)m->n_mel * m->n_fft * 4;
    NEED(4);
    m->n_tok = i32(m->d + o); o += 4;
    if (m->n_tok < 0 || m->n_tok > 1000000) return -1;
    m->tok_off = malloc(sizeof *m->tok_off * (size_t)(m->n_tok + 1));
    m->tok_len = malloc(sizeof *m->tok_len * (size_t)(m->n_tok + 1));
    for (int i = 0; i < m->n_tok; i++) {
        NEED(4);
        uint32_t len = (uint32_t)i32(m->d + o); o += 4;
        NEED(len);
        m->tok_off[i] = o; m->tok_len[i] = len; o += len;
    }
    int cap = 64;
    m->t = malloc(sizeof *m->t * (size_t)cap);
    while (o < m->size) {
        if (m->nt == cap) { cap *= 2; m->t = realloc(m->t, sizeof *m->t * (size_t)cap); }
        rtensor *t = &m->t[m->nt++];
        NEED(12);
        t->nd = i32(m->d + o); int nl = i32(m->d + o + 4); t->type = i32(m->d + o + 8); o += 12;
        if (t->nd < 1 || t->nd > 4 || nl <= 0 || nl >= (int)sizeof t->name) return -1;
        NEED(4 * t->nd + nl);
        int64_t nel = 1;
        for (int k = 0; k < 4; k++) t->ne[k] = 1;
        for (int k = 0; k < t->nd; k++) { t->ne[k] = i32(m->d + o); nel *= t->ne[k]; o += 4; }
        memcpy(t->name, m->d + o, (size_t)nl); t->name[nl] = 0; o += (size_t)nl;
        t->bytes = quant_row_size(t->type, t->ne[0]) * (size_t)(nel / t->ne[0]);
        if (!t->bytes) return -1;
        NEED(t->bytes);
        t->off = o; o += t->bytes;
    }
    return o == m->size ? 0 : -1;
#undef NEED
}

static const rtensor *rfind(const rmodel *m, const char *name)
{
    for (int i = 0; i < m->nt; i++) if (!strcmp(m->t[i].name, name)) return &m->t[i];
    return NULL;
}

static char dir[] = "/tmp/lc_genmodel_XXXXXX";

static int gen(const char *name, int state, int heads, int la, int lt, int mels, int vocab,
               int ftype, uint64_t seed, const char *vocab_from, char *path)
{
    lc_genmodel_opts o;
    genmodel_opts_init(&o);
    o.n_audio_state = o.n_text_state = state;
    o.n_audio_head = o.n_text_head = heads;
    o.n_audio_layer = la; o.n_text_layer = lt;
    o.n_mels = mels; o.n_vocab = vocab; o.ftype = ftype; o.seed = seed;
    o.vocab_from = vocab_from;
    snprintf(path, 256, "%s/%s", dir, name);
    lc_err e = { { 0 } };
    int rc = genmodel_write(path, &o, &e);
    if (rc) fprintf(stderr, "genmodel_write %s: %s\n", name, e.msg);
    return rc;
}

/* Expected shape/type of each tensor, from whisper.cpp's converter rules. */
static void check_structure(const rmodel *m, int state, int la, int lt, int mels, int vocab, int ftype)
{
    int wtype = quant_ftype_to_type(ftype), quantized = quant_block_elems(wtype) > 1;
    CHECK(m->magic == 0x67676d6c);
    CHECK(m->hp[0] == vocab && m->hp[1] == 1500 && m->hp[2] == state && m->hp[4] == la);
    CHECK(m->hp[5] == 448 && m->hp[6] == state && m->hp[8] == lt && m->hp[9] == mels);
    CHECKF(m->hp[10] == (quantized ? ftype + 2000 : ftype), "ftype %d", m->hp[10]);
    CHECK(m->n_mel == mels && m->n_fft == 201);
    CHECK(m->n_tok == (vocab >= 51865 ? 50257 : 50256));
    CHECKF(m->nt == 11 + 15 * la + 24 * lt, "%d tensors", m->nt);
    int bad = 0;
    for (int i = 0; i < m->nt; i++) {
        const rtensor *t = &m->t[i];
        int pos = strstr(t->name, "positional_embedding") != NULL;
        int convb = !strcmp(t->name, "encoder.conv1.bias") || !strcmp(t->name, "encoder.conv2.bias");
        int want = QUANT_F32;
        if (ftype != 0 && t->nd == 3) want = QUANT_F16;
        else if (ftype != 0 && t->nd == 2 && !pos && !convb) want = wtype;
        if (t->type != want) { bad++; fprintf(stderr, "%s: type %d, want %d\n", t->name, t->type, want); }
        int64_t in = t->ne[0], out = t->ne[1];
        if (strstr(t->name, "mlp.0.weight") && !(in == state && out == 4 * state && t->nd == 2)) bad++;
        if (strstr(t->name, "mlp.2.weight") && !(in == 4 * state && out == state)) bad++;
        if (strstr(t->name, "query.weight") && !(in == state && out == state)) bad++;
        if (strstr(t->name, "_ln.weight") && !(t->nd == 1 && in == state)) bad++;
        if (convb && !(t->nd == 2 && in == 1 && out == state)) bad++;
        if (!strcmp(t->name, "encoder.conv1.weight") && !(t->nd == 3 && in == 3 && out == mels && t->ne[2] == state)) bad++;
        if (!strcmp(t->name, "encoder.conv2.weight") && !(in == 3 && out == state && t->ne[2] == state)) bad++;
        if (!strcmp(t->name, "encoder.positional_embedding") && !(in == state && out == 1500)) bad++;
        if (!strcmp(t->name, "decoder.positional_embedding") && !(in == state && out == 448)) bad++;
        if (!strcmp(t->name, "decoder.token_embedding.weight") && !(in == state && out == vocab)) bad++;
        if (strstr(t->name, "key.bias")) bad++; /* openai's key projection has no bias */
    }
    CHECKF(bad == 0, "%d tensors with a wrong type or shape", bad);
    CHECK(!strcmp(m->t[0].name, "encoder.positional_embedding"));
    CHECK(!strcmp(m->t[m->nt - 1].name, "decoder.ln.bias"));
    char last_enc[64], last_dec[64];
    snprintf(last_enc, sizeof last_enc, "encoder.blocks.%d.mlp_ln.bias", la - 1);
    snprintf(last_dec, sizeof last_dec, "decoder.blocks.%d.cross_attn.out.weight", lt - 1);
    CHECK(rfind(m, last_enc) && rfind(m, last_dec) && rfind(m, "encoder.ln_post.weight"));
}

/* Same hparams, same tensor headers in the same order, same data size: the
 * structure whisper.cpp's converter wrote. */
static void compare_with_fixture(const rmodel *m, const char *fixture)
{
    rmodel f;
    if (rload(fixture, &f)) { printf("skip: %s not readable\n", fixture); rfree(&f); return; }
    CHECK(memcmp(m->hp, f.hp, sizeof m->hp) == 0);
    CHECK(m->n_tok == f.n_tok && m->n_mel == f.n_mel && m->n_fft == f.n_fft);
    CHECKF(m->nt == f.nt, "%d tensors, fixture %d", m->nt, f.nt);
    int diff = 0;
    for (int i = 0; i < m->nt && i < f.nt; i++) {
        const rtensor *a = &m->t[i], *b = &f.t[i];
        if (strcmp(a->name, b->name) || a->nd != b->nd || a->type != b->type ||
            memcmp(a->ne, b->ne, sizeof a->ne) || a->bytes != b->bytes) {
            diff++;
            fprintf(stderr, "tensor %d: %s vs fixture %s\n", i, a->name, b->name);
        }
    }
    CHECKF(diff == 0, "%d tensor headers differ from %s", diff, fixture);
    /* the mel filterbank is the real one */
    double worst = 0;
    for (int i = 0; i < m->n_mel * m->n_fft && m->n_mel == f.n_mel; i++) {
        double a = m->filters[i], b = f.filters[i];
        double err = fabs(a - b) / (fabs(b) > 1e-4 ? fabs(b) : 1e-4);
        if (err > worst) worst = err;
    }
    CHECKF(worst < 1e-6, "mel filters differ from %s: rel %g", fixture, worst);
    /* the encoder's sinusoids (fixture computed by torch in float32; the
     * arguments reach ~1500 rad, so 2 float ulps of argument ≈ 1.2e-4) */
    const rtensor *pa = rfind(m, "encoder.positional_embedding"), *pb = rfind(&f, "encoder.positional_embedding");
    if (pa && pb && pa->bytes == pb->bytes) {
        float worstp = 0;
        for (size_t i = 0; i < pa->bytes / 4; i++) {
            float x, y;
            memcpy(&x, m->d + pa->off + 4 * i, 4);
            memcpy(&y, f.d + pb->off + 4 * i, 4);
            if (fabsf(x - y) > worstp) worstp = fabsf(x - y);
        }
        CHECKF(worstp < 2e-4f, "positional embedding differs by %g", worstp);
    }
    rfree(&f);
}

static const rmodel *tokcmp_m;
static int tokcmp(const void *a, const void *b)
{
    int i = *(const int *)a, j = *(const int *)b;
    const rmodel *m = tokcmp_m;
    size_t li = m->tok_len[i], lj = m->tok_len[j];
    int c = memcmp(m->d + m->tok_off[i], m->d + m->tok_off[j], li < lj ? li : lj);
    return c ? c : (li > lj) - (li < lj);
}

static int valid_utf8(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        int k = s[i] < 0x80 ? 1 : (s[i] >> 5) == 6 ? 2 : (s[i] >> 4) == 14 ? 3 : (s[i] >> 3) == 30 ? 4 : 0;
        if (!k || i + (size_t)k > n) return 0;
        for (int j = 1; j < k; j++) if ((s[i + j] & 0xc0) != 0x80) return 0;
        i += (size_t)k;
    }
    return 1;
}

static void check_vocab(const rmodel *m)
{
    int seen[256] = { 0 }, singles = 0;
    for (int i = 0; i < 256; i++)
        if (m->tok_len[i] == 1 && !seen[m->d[m->tok_off[i]]]++) singles++;
    CHECK(singles == 256);
    CHECK(m->tok_len[0] == 1 && m->d[m->tok_off[0]] == '!'); /* GPT-2 byte order */
    CHECK(m->tok_len[188] == 1 && m->d[m->tok_off[188]] == 0);
    int space = 0, nonascii = 0, broken = 0, empty = 0;
    for (int i = 256; i < m->n_tok; i++) {
        const uint8_t *s = m->d + m->tok_off[i];
        size_t n = m->tok_len[i];
        if (!n) { empty++; continue; }
        if (s[0] == ' ') space++;
        for (size_t k = 0; k < n; k++) if (s[k] >= 0x80) { nonascii++; break; }
        if (!valid_utf8(s, n)) broken++;
    }
    CHECKF(space > m->n_tok / 4 && nonascii > 1000 && broken > 100,
           "space %d, non-ASCII %d, split UTF-8 %d", space, nonascii, broken);
    CHECK(empty == (m->n_tok == 50257)); /* only the multilingual extra token */
    /* distinct tokens (the empty one aside) */
    int *idx = malloc(sizeof *idx * (size_t)m->n_tok), n = 0;
    for (int i = 0; i < m->n_tok; i++) if (m->tok_len[i]) idx[n++] = i;
    tokcmp_m = m;
    qsort(idx, (size_t)n, sizeof *idx, tokcmp);
    int dups = 0;
    for (int i = 1; i < n; i++) if (!tokcmp(&idx[i - 1], &idx[i])) dups++;
    CHECKF(dups == 0, "%d duplicate tokens", dups);
    free(idx);
}

static int files_equal(const char *a, const char *b)
{
    rmodel x, y;
    int eq = !rload(a, &x) && !rload(b, &y) && x.size == y.size && !memcmp(x.d, y.d, x.size);
    rfree(&x); rfree(&y);
    return eq;
}

/* The quantized tensors hold the f32 model's values (same seed). */
static void check_quant_values(const rmodel *q, const rmodel *f32m, const char *name, float tol_rel)
{
    const rtensor *a = rfind(q, name), *b = rfind(f32m, name);
    CHECK(a && b);
    if (!a || !b) return;
    int64_t n = a->ne[0] * a->ne[1] * a->ne[2];
    float *y = malloc(sizeof *y * (size_t)n), *x = malloc(sizeof *x * (size_t)n);
    CHECK(quant_dequantize_row(a->type, q->d + a->off, y, n) == 0);
    memcpy(x, f32m->d + b->off, sizeof *x * (size_t)n);
    double amax = 0, emax = 0;
    for (int64_t i = 0; i < n; i++) {
        if (fabs(x[i]) > amax) amax = fabs(x[i]);
        if (fabs(x[i] - y[i]) > emax) emax = fabs(x[i] - y[i]);
    }
    CHECKF(emax <= tol_rel * amax && amax > 0, "%s as %s: max err %g of %g", name,
           quant_type_name(a->type), emax, amax);
    free(x); free(y);
}

int main(void)
{
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    char fx[512], p32[256], p16[256], pv3[256], pq8[256], pq4[256], pq51[256], pa[256], pb[256], pc[256];

    /* the micro fixtures' dims: same structure as whisper.cpp's converter */
    CHECK(gen("en32.bin", 64, 2, 2, 2, 80, 51864, 0, 1, NULL, p32) == 0);
    CHECK(gen("en16.bin", 64, 2, 2, 2, 80, 51864, 1, 1, NULL, p16) == 0);
    CHECK(gen("v3.bin", 64, 2, 2, 2, 128, 51866, 0, 1, NULL, pv3) == 0);
    rmodel m32, m16, mv3;
    CHECK(rload(p32, &m32) == 0);
    CHECK(rload(p16, &m16) == 0);
    CHECK(rload(pv3, &mv3) == 0);
    check_structure(&m32, 64, 2, 2, 80, 51864, 0);
    check_structure(&m16, 64, 2, 2, 80, 51864, 1);
    check_structure(&mv3, 64, 2, 2, 128, 51866, 0);
    check_vocab(&m32);
    check_vocab(&mv3);
    snprintf(fx, sizeof fx, "%s/micro-en/model-f32.bin", fixtures_dir());
    compare_with_fixture(&m32, fx);
    snprintf(fx, sizeof fx, "%s/micro-en/model-f16.bin", fixtures_dir());
    compare_with_fixture(&m16, fx);
    snprintf(fx, sizeof fx, "%s/micro-v3/model-f32.bin", fixtures_dir());
    compare_with_fixture(&mv3, fx);

    /* genmodel_mel_filters (the API) gives what the file holds */
    float *fb = malloc(sizeof *fb * 128 * 201);
    genmodel_mel_filters(128, fb);
    CHECK(memcmp(fb, mv3.filters, sizeof *fb * 128 * 201) == 0);
    double area = 0; /* Slaney norm: each triangle's peak is 2/(width in Hz) */
    for (int k = 0; k < 201; k++) area += fb[10 * 201 + k];
    CHECK(area > 0 && fb[0] == 0);
    free(fb);

    /* quantized files: other layer counts, stacks of different depth */
    CHECK(gen("q8.bin", 64, 2, 1, 3, 80, 51865, QUANT_FTYPE_Q8_0, 1, NULL, pq8) == 0);
    CHECK(gen("q4.bin", 64, 2, 1, 3, 80, 51865, QUANT_FTYPE_Q4_0, 1, NULL, pq4) == 0);
    CHECK(gen("q51.bin", 64, 2, 1, 3, 80, 51865, QUANT_FTYPE_Q5_1, 1, NULL, pq51) == 0);
    CHECK(gen("f32b.bin", 64, 2, 1, 3, 80, 51865, 0, 1, NULL, pa) == 0);
    rmodel mq8, mq4, mq51, mf;
    CHECK(rload(pq8, &mq8) == 0 && rload(pq4, &mq4) == 0 && rload(pq51, &mq51) == 0 && rload(pa, &mf) == 0);
    check_structure(&mq8, 64, 1, 3, 80, 51865, QUANT_FTYPE_Q8_0);
    check_structure(&mq4, 64, 1, 3, 80, 51865, QUANT_FTYPE_Q4_0);
    check_structure(&mq51, 64, 1, 3, 80, 51865, QUANT_FTYPE_Q5_1);
    check_quant_values(&mq8, &mf, "decoder.token_embedding.weight", 0.01f);
    check_quant_values(&mq8, &mf, "encoder.blocks.0.mlp.0.weight", 0.01f);
    check_quant_values(&mq4, &mf, "decoder.blocks.2.attn.query.weight", 0.15f);
    check_quant_values(&mq51, &mf, "decoder.blocks.1.mlp.2.weight", 0.05f);
    check_quant_values(&mq8, &mf, "encoder.conv1.weight", 0.001f);      /* F16 */
    check_quant_values(&mq8, &mf, "decoder.positional_embedding", 0.0f); /* F32 */
    check_quant_values(&mq4, &mf, "encoder.blocks.0.mlp_ln.weight", 0.0f);
    rfree(&mq8); rfree(&mq4); rfree(&mq51); rfree(&mf);

    /* determinism */
    CHECK(gen("a.bin", 64, 2, 2, 2, 80, 51864, 0, 1, NULL, pa) == 0);
    CHECK(gen("b.bin", 64, 2, 2, 2, 80, 51864, 0, 2, NULL, pb) == 0);
    CHECK(files_equal(pa, p32));
    CHECK(!files_equal(pa, pb));

    /* --vocab-from copies a real token list */
    snprintf(fx, sizeof fx, "%s/micro-en/model-f32.bin", fixtures_dir());
    if (access(fx, R_OK) == 0) {
        CHECK(gen("vf.bin", 64, 2, 2, 2, 80, 51864, 0, 1, fx, pc) == 0);
        rmodel mv, mfx;
        CHECK(rload(pc, &mv) == 0 && rload(fx, &mfx) == 0);
        int same = mv.n_tok == mfx.n_tok;
        for (int i = 0; same && i < mv.n_tok; i++)
            same = mv.tok_len[i] == mfx.tok_len[i] &&
                   !memcmp(mv.d + mv.tok_off[i], mfx.d + mfx.tok_off[i], mv.tok_len[i]);
        CHECK(same);
        rfree(&mv); rfree(&mfx);
    }

    /* bad options fail with a message and leave no file */
    lc_genmodel_opts o;
    lc_err e = { { 0 } };
    genmodel_opts_init(&o);
    o.n_audio_state = o.n_text_state = 48; o.n_audio_head = o.n_text_head = 2;
    o.ftype = QUANT_FTYPE_Q4_0;
    snprintf(pc, sizeof pc, "%s/bad.bin", dir);
    CHECK(genmodel_write(pc, &o, &e) == -1 && strstr(e.msg, "--state"));
    CHECK(access(pc, F_OK) != 0);
    genmodel_opts_init(&o);
    o.vocab_from = "/nonexistent/model.bin";
    CHECK(genmodel_write(pc, &o, &e) == -1 && strstr(e.msg, "/nonexistent/model.bin"));
    CHECK(access(pc, F_OK) != 0);
    CHECK(genmodel_set_shape(&o, "large-v3-turbo") == 0 && o.n_text_layer == 4 && o.n_mels == 128 &&
          o.n_vocab == 51866 && o.n_audio_layer == 32);
    CHECK(genmodel_set_shape(&o, "base.en") == 0 && o.n_audio_state == 512 && o.n_vocab == 51864);
    CHECK(genmodel_set_shape(&o, "huge") == -1);

    /* the command line */
    char *argv1[] = { "genmodel", "--shape", "tiny.en", "--state=64", "--heads", "2", "--layers", "1",
                      "--text-layers", "2", "--ftype", "q5_0", "--seed", "7", pc, NULL };
    CHECK(genmodel_main(15, argv1) == 0);
    rmodel mc;
    CHECK(rload(pc, &mc) == 0);
    check_structure(&mc, 64, 1, 2, 80, 51864, QUANT_FTYPE_Q5_0);
    rfree(&mc);
    char *argv2[] = { "genmodel", "--ftype", "q6_k", pc, NULL };
    CHECK(genmodel_main(4, argv2) == 2);
    char *argv3[] = { "genmodel", "--bogus", "1", pc, NULL };
    CHECK(genmodel_main(4, argv3) == 2);
    char *argv4[] = { "genmodel", "--shape", "tiny", NULL };
    CHECK(genmodel_main(3, argv4) == 2);

    rfree(&m32); rfree(&m16); rfree(&mv3);
    const char *names[] = { "en32.bin", "en16.bin", "v3.bin", "q8.bin", "q4.bin", "q51.bin", "f32b.bin",
                            "a.bin", "b.bin", "vf.bin", "bad.bin" };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        snprintf(pc, sizeof pc, "%s/%s", dir, names[i]);
        unlink(pc);
    }
    rmdir(dir);
    TEST_DONE();
}
