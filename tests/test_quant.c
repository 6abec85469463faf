/* test_quant: half-float conversion (exhaustive) and ggml block formats
 * (hand-computed bytes, then quantize→dequantize error bounds). */
#include <stdint.h>
#include <string.h>

#include "model/quant.h"
#include "test.h"

static uint32_t fbits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static int h_isnan(uint16_t h) { return (h & 0x7c00) == 0x7c00 && (h & 0x3ff); }

static void test_f16_exhaustive(void)
{
    static uint16_t hs[65536], back[65536];
    static float fs[65536], frow[65536];
    int bad = 0, badrow = 0, badnan = 0;
    for (uint32_t h = 0; h < 65536; h++) hs[h] = (uint16_t)h;
    quant_f16_to_f32_row(hs, frow, 65536);
    for (uint32_t h = 0; h < 65536; h++) {
        fs[h] = quant_f16_to_f32((uint16_t)h);
        if (fbits(fs[h]) != fbits(frow[h])) badrow++;
        uint16_t r = quant_f32_to_f16(fs[h]);
        if (h_isnan((uint16_t)h)) {
            if (!isnan(fs[h]) || !h_isnan(r) || (r & 0x8000) != (h & 0x8000)) badnan++;
        } else if (r != h) {
            bad++;
        }
    }
    quant_f32_to_f16_row(fs, back, 65536);
    for (uint32_t h = 0; h < 65536; h++)
        if (back[h] != quant_f32_to_f16(fs[h])) badrow++;
    CHECKF(bad == 0, "%d halves do not round-trip", bad);
    CHECKF(badnan == 0, "%d NaN halves lost", badnan);
    CHECKF(badrow == 0, "%d row/scalar mismatches", badrow);
    /* a few values by hand */
    CHECK(quant_f16_to_f32(0x3c00) == 1.0f);
    CHECK(quant_f16_to_f32(0xc000) == -2.0f);
    CHECK(quant_f16_to_f32(0x7bff) == 65504.0f);
    CHECK(quant_f16_to_f32(0x0001) == 0x1p-24f);
    CHECK(quant_f16_to_f32(0x0400) == 0x1p-14f);
    CHECK(isinf(quant_f16_to_f32(0xfc00)) && quant_f16_to_f32(0xfc00) < 0);
    CHECK(quant_f32_to_f16(0.1f) == 0x2e66);
    CHECK(quant_f32_to_f16(1e-8f) == 0x0000);
    CHECK(quant_f32_to_f16(-3e-8f) == 0x8001);
    CHECK(quant_f32_to_f16(1e6f) == 0x7c00);
    CHECK(quant_f32_to_f16(-INFINITY) == 0xfc00);
    CHECK(h_isnan(quant_f32_to_f16(NAN)));
    CHECK(quant_f32_to_f16(-0.0f) == 0x8000);
}

/* Every tie between two consecutive finite halves (both signs) goes to the
 * even one; one float ulp either side goes to the nearer one. */
static void test_f16_ties(void)
{
    int bad = 0, badrow = 0;
    static float in[3 * 0x7c00];
    static uint16_t want[3 * 0x7c00], got[3 * 0x7c00];
    int n = 0;
    for (uint16_t h = 0; h < 0x7c00; h++) {
        uint16_t h1 = (uint16_t)(h + 1); /* 0x7c00 = inf for the last one */
        float a = quant_f16_to_f32(h);
        float b = h1 == 0x7c00 ? 65536.0f : quant_f16_to_f32(h1); /* inf's "neighbour" */
        float mid = (a + b) / 2; /* exact: 12 significant bits */
        uint16_t even = (h & 1) ? h1 : h;
        for (int s = 0; s < 2; s++) {
            uint16_t sg = s ? 0x8000 : 0;
            float m = s ? -mid : mid;
            float up = nextafterf(m, s ? -INFINITY : INFINITY), dn = nextafterf(m, 0);
            if (quant_f32_to_f16(m) != (even | sg)) bad++;
            if (quant_f32_to_f16(up) != (h1 | sg)) bad++;
            if (quant_f32_to_f16(dn) != (h | sg)) bad++;
            if (!s) {
                in[n] = m; want[n++] = even;
                in[n] = up; want[n++] = h1;
                in[n] = dn; want[n++] = h;
            }
        }
    }
    quant_f32_to_f16_row(in, got, (size_t)n);
    for (int i = 0; i < n; i++) if (got[i] != want[i]) badrow++;
    CHECKF(bad == 0, "%d ties/neighbours rounded wrong", bad);
    CHECKF(badrow == 0, "%d ties rounded wrong by the row version", badrow);
    CHECK(quant_f32_to_f16(65519.0f) == 0x7bff);
    CHECK(quant_f32_to_f16(65520.0f) == 0x7c00);
    CHECK(quant_f32_to_f16(1.0f + 0x1p-11f) == 0x3c00);        /* tie → even */
    CHECK(quant_f32_to_f16(1.0f + 3 * 0x1p-11f) == 0x3c02);    /* tie → even */
    CHECK(quant_f32_to_f16(0x1p-25f) == 0x0000);               /* tie → 0 */
    CHECK(quant_f32_to_f16(3 * 0x1p-25f) == 0x0002);           /* tie → even */
    CHECK(quant_f32_to_f16(0x1p-14f - 0x1p-26f) == 0x0400);    /* carry to normal */
}

static int bytes_eq(const uint8_t *a, const uint8_t *b, size_t n, const char *what)
{
    if (!memcmp(a, b, n)) return 1;
    fprintf(stderr, "%s: got ", what);
    for (size_t i = 0; i < n; i++) fprintf(stderr, "%02x", a[i]);
    fprintf(stderr, "\n%s: want ", what);
    for (size_t i = 0; i < n; i++) fprintf(stderr, "%02x", b[i]);
    fputc('\n', stderr);
    return 0;
}

/* Blocks whose bytes follow from quant.h's layout by hand (d = 1 so the
 * codes are the values plus the offset). */
static void test_hand_blocks(void)
{
    float x[32], y[32];
    uint8_t b[64], w[64];

    /* Q8_0: d = 127/127 = 1 (fp16 0x3c00); roundf rounds halves away from 0 */
    memset(x, 0, sizeof x);
    x[0] = 127; x[1] = -127; x[3] = 1; x[4] = -1; x[5] = 2.4f; x[6] = 2.6f; x[7] = -2.5f; x[31] = 100;
    memset(w, 0, sizeof w);
    w[0] = 0x00; w[1] = 0x3c;
    w[2] = 0x7f; w[3] = 0x81; w[5] = 0x01; w[6] = 0xff; w[7] = 0x02; w[8] = 0x03; w[9] = 0xfd; w[33] = 100;
    CHECK(quant_quantize_row(QUANT_Q8_0, x, b, 32) == 0);
    CHECK(bytes_eq(b, w, 34, "q8_0"));
    CHECK(quant_dequantize_row(QUANT_Q8_0, w, y, 32) == 0);
    CHECK(y[0] == 127 && y[1] == -127 && y[7] == -3 && y[31] == 100 && y[2] == 0);

    /* Q4_0: x[0] = -8 is the largest magnitude, so d = -8/-8 = 1;
     * x[j] = j-8 → code j (low nibbles), x[16+j] = 7-j → 15-j (high);
     * x[5] = 8 → 16.5 → clamped to 15. */
    for (int j = 0; j < 16; j++) { x[j] = (float)(j - 8); x[16 + j] = (float)(7 - j); }
    x[5] = 8;
    w[0] = 0x00; w[1] = 0x3c;
    for (int j = 0; j < 16; j++) w[2 + j] = (uint8_t)(j | (15 - j) << 4);
    w[2 + 5] = 0xaf;
    CHECK(quant_quantize_row(QUANT_Q4_0, x, b, 32) == 0);
    CHECK(bytes_eq(b, w, 18, "q4_0"));
    CHECK(quant_dequantize_row(QUANT_Q4_0, w, y, 32) == 0);
    CHECK(y[0] == -8 && y[5] == 7 && y[16] == 7 && y[31] == -8 && y[9] == 1);

    /* Q4_1: min -1, max 14 → d = 1 (0x3c00), m = -1 (0xbc00);
     * x[j] = j-1 → j, x[16+j] = 14-j → 15-j; x[3] = 2.6 → 4.1 → 4. */
    for (int j = 0; j < 16; j++) { x[j] = (float)(j - 1); x[16 + j] = (float)(14 - j); }
    x[3] = 2.6f;
    w[0] = 0x00; w[1] = 0x3c; w[2] = 0x00; w[3] = 0xbc;
    for (int j = 0; j < 16; j++) w[4 + j] = (uint8_t)(j | (15 - j) << 4);
    w[4 + 3] = 0xc4;
    CHECK(quant_quantize_row(QUANT_Q4_1, x, b, 32) == 0);
    CHECK(bytes_eq(b, w, 20, "q4_1"));
    CHECK(quant_dequantize_row(QUANT_Q4_1, w, y, 32) == 0);
    CHECK(y[0] == -1 && y[3] == 3 && y[16] == 14 && y[31] == -1);

    /* Q5_0: x[0] = -16 → d = 1; x[j] = j-16 → j (5th bit 0),
     * x[16+j] = j → 16+j (5th bit 1, qh bits 16..31); x[1] = 15 → 31
     * (qh bit 1); x[17] = 16 → 32.5 → clamped to 31. */
    for (int j = 0; j < 16; j++) { x[j] = (float)(j - 16); x[16 + j] = (float)j; }
    x[1] = 15; x[17] = 16;
    w[0] = 0x00; w[1] = 0x3c; w[2] = 0x02; w[3] = 0x00; w[4] = 0xff; w[5] = 0xff;
    for (int j = 0; j < 16; j++) w[6 + j] = (uint8_t)(j | j << 4);
    w[6 + 1] = 0xff;
    CHECK(quant_quantize_row(QUANT_Q5_0, x, b, 32) == 0);
    CHECK(bytes_eq(b, w, 22, "q5_0"));
    CHECK(quant_dequantize_row(QUANT_Q5_0, w, y, 32) == 0);
    CHECK(y[0] == -16 && y[1] == 15 && y[17] == 15 && y[20] == 4 && y[5] == -11);

    /* Q5_1: min -1, max 30 → d = 1, m = -1; x[j] = j-1 → j,
     * x[16+j] = j+15 → 16+j. */
    for (int j = 0; j < 16; j++) { x[j] = (float)(j - 1); x[16 + j] = (float)(j + 15); }
    w[0] = 0x00; w[1] = 0x3c; w[2] = 0x00; w[3] = 0xbc;
    w[4] = 0x00; w[5] = 0x00; w[6] = 0xff; w[7] = 0xff;
    for (int j = 0; j < 16; j++) w[8 + j] = (uint8_t)(j | j << 4);
    CHECK(quant_quantize_row(QUANT_Q5_1, x, b, 32) == 0);
    CHECK(bytes_eq(b, w, 24, "q5_1"));
    CHECK(quant_dequantize_row(QUANT_Q5_1, w, y, 32) == 0);
    CHECK(y[0] == -1 && y[15] == 14 && y[16] == 15 && y[31] == 30);

    /* an all-zero block has d = 0 and decodes to zeros */
    memset(x, 0, sizeof x);
    CHECK(quant_quantize_row(QUANT_Q4_0, x, b, 32) == 0);
    CHECK(quant_dequantize_row(QUANT_Q4_0, b, y, 32) == 0);
    CHECK(y[0] == 0 && y[31] == 0);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static float frand(void) /* uniform in [-1, 1) */
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (float)((rng >> 40) * 0x1p-24) * 2 - 1;
}

static void test_roundtrip(int type)
{
    enum { N = 32 * 64 };
    static float x[N], y[N];
    static uint8_t q[N * 2];
    int bad = 0;
    double sumerr = 0, sumabs = 0;
    for (int i = 0; i < N; i++) {
        float scale = (float)(1 + (i / 32) % 7) * 0.1f; /* blocks of different ranges */
        x[i] = frand() * scale + ((i / 32) % 3 == 2 ? 0.5f * scale : 0); /* some off-centre */
    }
    CHECK(quant_row_size(type, N) == N / 32 * quant_block_bytes(type));
    CHECK(quant_quantize_row(type, x, q, N) == 0);
    CHECK(quant_dequantize_row(type, q, y, N) == 0);
    size_t bb = quant_block_bytes(type);
    for (int blk = 0; blk < N / 32; blk++) {
        const uint8_t *p = q + blk * bb;
        float d = fabsf(quant_f16_to_f32((uint16_t)(p[0] | p[1] << 8)));
        float m = (type == QUANT_Q4_1 || type == QUANT_Q5_1)
                      ? fabsf(quant_f16_to_f32((uint16_t)(p[2] | p[3] << 8))) : 0;
        int levels = type == QUANT_Q8_0 ? 128 : (type == QUANT_Q4_0 || type == QUANT_Q4_1) ? 16 : 32;
        /* half a step, plus fp16 rounding of d (and m) over all levels;
         * the symmetric 4/5-bit formats clamp +|max| to one step below */
        float step = (type == QUANT_Q4_0 || type == QUANT_Q5_0) ? d : d / 2;
        float bound = step + (float)levels * d * 0x1p-11f + m * 0x1p-11f + 1e-6f;
        for (int j = 0; j < 32; j++) {
            float err = fabsf(x[blk * 32 + j] - y[blk * 32 + j]);
            sumerr += err; sumabs += fabsf(x[blk * 32 + j]);
            if (err > bound) bad++;
        }
    }
    CHECKF(bad == 0, "%s: %d elements beyond the bound", quant_type_name(type), bad);
    double rel = sumerr / sumabs;
    double lim = type == QUANT_Q8_0 ? 0.01 : (type == QUANT_Q4_0 || type == QUANT_Q4_1) ? 0.12 : 0.06;
    CHECKF(rel < lim, "%s: mean relative error %g", quant_type_name(type), rel);
    /* bad sizes are refused */
    CHECK(quant_quantize_row(type, x, q, 33) == -1);
    CHECK(quant_row_size(type, 31) == 0);
}

static void test_tables(void)
{
    CHECK(quant_block_bytes(QUANT_Q4_0) == 18 && quant_block_bytes(QUANT_Q4_1) == 20);
    CHECK(quant_block_bytes(QUANT_Q5_0) == 22 && quant_block_bytes(QUANT_Q5_1) == 24);
    CHECK(quant_block_bytes(QUANT_Q8_0) == 34);
    CHECK(quant_row_size(QUANT_F16, 3) == 6 && quant_row_size(QUANT_F32, 3) == 12);
    CHECK(quant_row_size(QUANT_Q8_0, 64) == 68);
    CHECK(!quant_type_valid(4) && !quant_type_valid(5) && quant_row_size(4, 32) == 0);
    CHECK(quant_ftype_to_type(7) == QUANT_Q8_0 && quant_ftype_to_type(2008) == QUANT_Q5_0);
    CHECK(quant_ftype_to_type(9) == QUANT_Q5_1 && quant_ftype_to_type(5) == -1);
    CHECK(quant_ftype_from_name("q5_1") == 9 && quant_ftype_from_name("q4_1") == 3);
    CHECK(quant_ftype_from_name("f16") == 1 && quant_ftype_from_name("q6_k") == -1);
    CHECK(!strcmp(quant_ftype_name(2002), "q4_0"));
    float in[3] = { 1.5f, -2, 0.25f }, out[3];
    uint8_t raw[7];
    CHECK(quant_quantize_row(QUANT_F16, in, raw + 1, 3) == 0); /* unaligned dst */
    CHECK(quant_dequantize_row(QUANT_F16, raw + 1, out, 3) == 0);
    CHECK(out[0] == 1.5f && out[1] == -2 && out[2] == 0.25f);
    CHECK(raw[1] == 0x00 && raw[2] == 0x3e); /* 1.5 = 0x3e00, little-endian */
}

int main(void)
{
    test_f16_exhaustive();
    test_f16_ties();
    test_hand_blocks();
    test_tables();
    int types[] = { QUANT_Q8_0, QUANT_Q4_0, QUANT_Q4_1, QUANT_Q5_0, QUANT_Q5_1 };
    for (int i = 0; i < 5; i++) test_roundtrip(types[i]);
    TEST_DONE();
}
