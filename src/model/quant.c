/* quant.c: half floats and ggml block formats; see quant.h for the layouts. */
#include "model/quant.h"

#include <float.h>
#include <math.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#include <stdatomic.h>
#define QUANT_X86 1
#endif

/* ---- half precision ---- */

float quant_f16_to_f32(uint16_t h)
{
    uint32_t s = (uint32_t)(h & 0x8000) << 16;
    uint32_t e = (h >> 10) & 0x1f, m = h & 0x3ff, bits;
    if (e == 0x1f) {
        /* inf, or NaN made quiet (as F16C's vcvtph2ps does) */
        bits = s | 0x7f800000u | (m << 13) | (m ? 0x400000u : 0);
    } else if (e == 0) {
        float v = (float)m * 0x1p-24f; /* subnormal: m units of 2^-24, exact */
        return s ? -v : v;
    } else {
        bits = s | ((e + 112) << 23) | (m << 13); /* 112 = 127 - 15 rebias */
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* Rounds m >> shift to nearest, ties to even. */
static uint32_t rne_shift(uint32_t m, unsigned shift)
{
    uint32_t q = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1))) q++;
    return q;
}

uint16_t quant_f32_to_f16(float f)
{
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) /* NaN: quiet, top 9 payload bits kept */
        return sign | 0x7e00 | ((ax >> 13) & 0x3ff);
    if (ax >= 0x477ff000u) /* >= 65520 = 65504 + half an ulp: rounds to inf */
        return sign | 0x7c00;
    if (ax < 0x38800000u) { /* below 2^-14: subnormal half or zero */
        if (ax <= 0x33000000u) return sign; /* <= 2^-25: ties to even 0 */
        uint32_t e = ax >> 23, m = (ax & 0x7fffffu) | 0x800000u;
        /* value = m * 2^(e-150) = m * 2^(e-126) units of 2^-24 */
        return sign | (uint16_t)rne_shift(m, 126 - e); /* may carry into 0x400: correct */
    }
    /* normal: rebias the exponent by (127-15) << 23, drop 13 mantissa bits;
     * a carry out of the mantissa correctly bumps the exponent (up to inf) */
    return sign | (uint16_t)rne_shift(ax - 0x38000000u, 13);
}

#ifdef QUANT_X86
__attribute__((target("avx,f16c")))
static void f16_to_f32_f16c(const uint16_t *src, float *dst, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    for (; i < n; i++) dst[i] = quant_f16_to_f32(src[i]);
}

__attribute__((target("avx,f16c")))
static void f32_to_f16_f16c(const float *src, uint16_t *dst, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(dst + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) dst[i] = quant_f32_to_f16(src[i]);
}

/* F16C is CPUID.1:ECX bit 29 (clang's __builtin_cpu_supports lacks "f16c");
 * "avx" also covers the OS saving the YMM registers. Cached: 0 unknown,
 * 1 no, 2 yes; racing first calls store the same value. */
static int have_f16c(void)
{
    static _Atomic int cached;
    int c = atomic_load_explicit(&cached, memory_order_relaxed);
    if (!c) {
        unsigned a, b, cx, d;
        int yes = __builtin_cpu_supports("avx") && __get_cpuid(1, &a, &b, &cx, &d) && (cx >> 29 & 1);
        c = yes ? 2 : 1;
        atomic_store_explicit(&cached, c, memory_order_relaxed);
    }
    return c == 2;
}
#endif

void quant_f16_to_f32_row(const uint16_t *src, float *dst, size_t n)
{
#ifdef QUANT_X86
    if (have_f16c()) { f16_to_f32_f16c(src, dst, n); return; }
#endif
    for (size_t i = 0; i < n; i++) dst[i] = quant_f16_to_f32(src[i]);
}

void quant_f32_to_f16_row(const float *src, uint16_t *dst, size_t n)
{
#ifdef QUANT_X86
    if (have_f16c()) { f32_to_f16_f16c(src, dst, n); return; }
#endif
    for (size_t i = 0; i < n; i++) dst[i] = quant_f32_to_f16(src[i]);
}

/* ---- types ---- */

int quant_type_valid(int type)
{
    switch (type) {
    case QUANT_F32: case QUANT_F16: case QUANT_Q4_0: case QUANT_Q4_1:
    case QUANT_Q5_0: case QUANT_Q5_1: case QUANT_Q8_0:
        return 1;
    }
    return 0;
}

const char *quant_type_name(int type)
{
    switch (type) {
    case QUANT_F32:  return "f32";
    case QUANT_F16:  return "f16";
    case QUANT_Q4_0: return "q4_0";
    case QUANT_Q4_1: return "q4_1";
    case QUANT_Q5_0: return "q5_0";
    case QUANT_Q5_1: return "q5_1";
    case QUANT_Q8_0: return "q8_0";
    }
    return "?";
}

int quant_block_elems(int type)
{
    if (!quant_type_valid(type)) return 0;
    return type == QUANT_F32 || type == QUANT_F16 ? 1 : QUANT_QK;
}

size_t quant_block_bytes(int type)
{
    switch (type) {
    case QUANT_F32:  return 4;
    case QUANT_F16:  return 2;
    case QUANT_Q4_0: return 2 + QUANT_QK / 2;
    case QUANT_Q4_1: return 4 + QUANT_QK / 2;
    case QUANT_Q5_0: return 2 + 4 + QUANT_QK / 2;
    case QUANT_Q5_1: return 4 + 4 + QUANT_QK / 2;
    case QUANT_Q8_0: return 2 + QUANT_QK;
    }
    return 0;
}

size_t quant_row_size(int type, int64_t n)
{
    int be = quant_block_elems(type);
    if (!be || n < 0 || n % be) return 0;
    return (size_t)(n / be) * quant_block_bytes(type);
}

/* ---- ftype ---- */

int quant_ftype_to_type(int ftype)
{
    if (ftype >= QUANT_FTYPE_QNT_FACTOR) ftype %= QUANT_FTYPE_QNT_FACTOR;
    switch (ftype) {
    case QUANT_FTYPE_F32:  return QUANT_F32;
    case QUANT_FTYPE_F16:  return QUANT_F16;
    case QUANT_FTYPE_Q4_0: return QUANT_Q4_0;
    case QUANT_FTYPE_Q4_1: return QUANT_Q4_1;
    case QUANT_FTYPE_Q8_0: return QUANT_Q8_0;
    case QUANT_FTYPE_Q5_0: return QUANT_Q5_0;
    case QUANT_FTYPE_Q5_1: return QUANT_Q5_1;
    }
    return -1;
}

const char *quant_ftype_name(int ftype)
{
    int t = quant_ftype_to_type(ftype);
    return t < 0 ? "?" : quant_type_name(t);
}

int quant_ftype_from_name(const char *name)
{
    static const int all[] = { QUANT_FTYPE_F32, QUANT_FTYPE_F16, QUANT_FTYPE_Q4_0,
                               QUANT_FTYPE_Q4_1, QUANT_FTYPE_Q8_0, QUANT_FTYPE_Q5_0,
                               QUANT_FTYPE_Q5_1 };
    for (size_t i = 0; name && i < sizeof all / sizeof all[0]; i++)
        if (!strcmp(name, quant_ftype_name(all[i]))) return all[i];
    return -1;
}

/* ---- blocks ---- */

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static float getf16(const uint8_t *p) { return quant_f16_to_f32(get16(p)); }

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The element with the largest magnitude, sign kept (Q4_0/Q5_0 scale). */
static float signed_absmax(const float *x)
{
    float amax = 0, max = 0;
    for (int j = 0; j < QUANT_QK; j++)
        if (amax < fabsf(x[j])) { amax = fabsf(x[j]); max = x[j]; }
    return max;
}

static void minmax(const float *x, float *mn, float *mx)
{
    *mn = FLT_MAX; *mx = -FLT_MAX;
    for (int j = 0; j < QUANT_QK; j++) {
        if (x[j] < *mn) *mn = x[j];
        if (x[j] > *mx) *mx = x[j];
    }
}

/* Symmetric 4/5-bit codes: bits = 4 or 5, offset 8 or 16. */
static void q_sym(const float *x, uint8_t *b, int bits)
{
    const int off = 1 << (bits - 1), qmax = (1 << bits) - 1;
    const float bias = (float)off + 0.5f; /* ggml adds 8.5f / 16.5f in one step */
    float d = signed_absmax(x) / (float)-off, id = d != 0 ? 1.0f / d : 0.0f;
    put16(b, quant_f32_to_f16(d));
    uint8_t *qs = b + (bits == 5 ? 6 : 2);
    uint32_t qh = 0;
    for (int j = 0; j < QUANT_QK / 2; j++) {
        /* x*id lies in [-off, off]; the truncation is a floor there */
        int q0 = (int)(x[j] * id + bias);
        int q1 = (int)(x[j + 16] * id + bias);
        if (q0 > qmax) q0 = qmax;
        if (q1 > qmax) q1 = qmax;
        qs[j] = (uint8_t)((q0 & 0xf) | (q1 & 0xf) << 4);
        qh |= (uint32_t)(q0 >> 4 & 1) << j | (uint32_t)(q1 >> 4 & 1) << (j + 16);
    }
    if (bits == 5) put32(b + 2, qh);
}

/* Asymmetric (min + scale) 4/5-bit codes. */
static void q_asym(const float *x, uint8_t *b, int bits)
{
    const int qmax = (1 << bits) - 1;
    float mn, mx;
    minmax(x, &mn, &mx);
    float d = (mx - mn) / (float)qmax, id = d != 0 ? 1.0f / d : 0.0f;
    put16(b, quant_f32_to_f16(d));
    put16(b + 2, quant_f32_to_f16(mn));
    uint8_t *qs = b + (bits == 5 ? 8 : 4);
    uint32_t qh = 0;
    for (int j = 0; j < QUANT_QK / 2; j++) {
        int q0 = (int)((x[j] - mn) * id + 0.5f);
        int q1 = (int)((x[j + 16] - mn) * id + 0.5f);
        if (q0 > qmax) q0 = qmax;
        if (q1 > qmax) q1 = qmax;
        qs[j] = (uint8_t)((q0 & 0xf) | (q1 & 0xf) << 4);
        qh |= (uint32_t)(q0 >> 4 & 1) << j | (uint32_t)(q1 >> 4 & 1) << (j + 16);
    }
    if (bits == 5) put32(b + 4, qh);
}

static void q8_0(const float *x, uint8_t *b)
{
    float amax = 0;
    for (int j = 0; j < QUANT_QK; j++)
        if (fabsf(x[j]) > amax) amax = fabsf(x[j]);
    float d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
    put16(b, quant_f32_to_f16(d));
    for (int j = 0; j < QUANT_QK; j++)
        b[2 + j] = (uint8_t)(int8_t)roundf(x[j] * id);
}

static void dq_4_0(const uint8_t *b, float *y)
{
    float d = getf16(b);
    const uint8_t *qs = b + 2;
    for (int j = 0; j < 16; j++) {
        y[j] = (float)((qs[j] & 0xf) - 8) * d;
        y[j + 16] = (float)((qs[j] >> 4) - 8) * d;
    }
}

static void dq_4_1(const uint8_t *b, float *y)
{
    float d = getf16(b), m = getf16(b + 2);
    const uint8_t *qs = b + 4;
    for (int j = 0; j < 16; j++) {
        y[j] = (float)(qs[j] & 0xf) * d + m;
        y[j + 16] = (float)(qs[j] >> 4) * d + m;
    }
}

static void dq_5_0(const uint8_t *b, float *y)
{
    float d = getf16(b);
    uint32_t qh = get32(b + 2);
    const uint8_t *qs = b + 6;
    for (int j = 0; j < 16; j++) {
        int q0 = (qs[j] & 0xf) | (int)(qh >> j & 1) << 4;
        int q1 = (qs[j] >> 4) | (int)(qh >> (j + 16) & 1) << 4;
        y[j] = (float)(q0 - 16) * d;
        y[j + 16] = (float)(q1 - 16) * d;
    }
}

static void dq_5_1(const uint8_t *b, float *y)
{
    float d = getf16(b), m = getf16(b + 2);
    uint32_t qh = get32(b + 4);
    const uint8_t *qs = b + 8;
    for (int j = 0; j < 16; j++) {
        int q0 = (qs[j] & 0xf) | (int)(qh >> j & 1) << 4;
        int q1 = (qs[j] >> 4) | (int)(qh >> (j + 16) & 1) << 4;
        y[j] = (float)q0 * d + m;
        y[j + 16] = (float)q1 * d + m;
    }
}

static void dq_8_0(const uint8_t *b, float *y)
{
    float d = getf16(b);
    for (int j = 0; j < QUANT_QK; j++) y[j] = (float)(int8_t)b[2 + j] * d;
}

/* ---- rows ---- */

int quant_quantize_row(int type, const float *x, void *dst, int64_t n)
{
    size_t rs = quant_row_size(type, n);
    if (!rs && n != 0) return -1;
    if (!quant_type_valid(type)) return -1;
    uint8_t *b = dst;
    size_t bb = quant_block_bytes(type);
    int64_t nb = n / quant_block_elems(type);
    switch (type) {
    case QUANT_F32: memcpy(dst, x, (size_t)n * sizeof *x); return 0;
    case QUANT_F16: {
        uint16_t tmp[256]; /* dst may be unaligned for uint16_t */
        for (int64_t i = 0; i < n; i += 256) {
            size_t k = (size_t)(n - i < 256 ? n - i : 256);
            quant_f32_to_f16_row(x + i, tmp, k);
            memcpy(b + 2 * i, tmp, 2 * k);
        }
        return 0;
    }
    }
    for (int64_t i = 0; i < nb; i++, x += QUANT_QK, b += bb) {
        switch (type) {
        case QUANT_Q4_0: q_sym(x, b, 4); break;
        case QUANT_Q5_0: q_sym(x, b, 5); break;
        case QUANT_Q4_1: q_asym(x, b, 4); break;
        case QUANT_Q5_1: q_asym(x, b, 5); break;
        case QUANT_Q8_0: q8_0(x, b); break;
        }
    }
    return 0;
}

int quant_dequantize_row(int type, const void *src, float *y, int64_t n)
{
    size_t rs = quant_row_size(type, n);
    if (!rs && n != 0) return -1;
    if (!quant_type_valid(type)) return -1;
    const uint8_t *b = src;
    switch (type) {
    case QUANT_F32: memcpy(y, src, (size_t)n * sizeof *y); return 0;
    case QUANT_F16:
        if (((uintptr_t)src & 1) == 0) {
            quant_f16_to_f32_row(src, y, (size_t)n);
        } else {
            for (int64_t i = 0; i < n; i++) y[i] = getf16(b + 2 * i);
        }
        return 0;
    }
    size_t bb = quant_block_bytes(type);
    int64_t nb = n / QUANT_QK;
    void (*dq)(const uint8_t *, float *) =
        type == QUANT_Q4_0 ? dq_4_0 : type == QUANT_Q4_1 ? dq_4_1 :
        type == QUANT_Q5_0 ? dq_5_0 : type == QUANT_Q5_1 ? dq_5_1 : dq_8_0;
    for (int64_t i = 0; i < nb; i++) dq(b + (size_t)i * bb, y + i * QUANT_QK);
    return 0;
}
