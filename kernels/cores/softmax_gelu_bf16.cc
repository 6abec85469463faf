// softmax_gelu_bf16.cc: AIE core kernels for softmax (one row) and GELU,
// bf16 in and out, f32 inside. Scalar f32 code with the exact operation
// sequence of bf16ref_exp / bf16ref_softmax / bf16ref_gelu in
// src/engine/bf16.c (build with -ffp-contract=off so no FMA is formed), so
// the C references predict the results, assuming IEEE f32 add/mul/div on the
// core (Peano's soft-float where the scalar unit has none). Not routed by
// the backend yet: the encoder's softmax/GELU run on the CPU (docs/npu.md).
#include <aie_api/aie.hpp>
#include <stdint.h>
#include <string.h>

#ifndef ROW_LEN
#error "build with -DROW_LEN=… (kernels/Makefile)"
#endif

static inline float bf16_to_f(bfloat16 h)
{
    uint16_t b;
    memcpy(&b, &h, 2);
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline bfloat16 f_to_bf16(float f) // round to nearest even, NaN kept
{
    uint32_t u;
    memcpy(&u, &f, 4);
    uint16_t b;
    if ((u & 0x7fffffffu) > 0x7f800000u) b = (uint16_t)((u >> 16) | 0x40u);
    else b = (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
    bfloat16 h;
    memcpy(&h, &b, 2);
    return h;
}

static inline float k_exp(float x) // == bf16ref_exp
{
    if (x != x) return x;
    if (x > 88.0f) x = 88.0f;
    if (x < -87.0f) x = -87.0f;
    const float t = x * 1.44269504f;
    const int n = (int)(t + (t >= 0.0f ? 0.5f : -0.5f));
    const float fn = (float)n;
    float r = x - fn * 0.693359375f;
    r = r - fn * -2.12194440e-4f;
    float p = 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    const uint32_t bits = (uint32_t)(n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, 4);
    return p * scale;
}

extern "C" {

// y[ROW_LEN] = softmax(x[ROW_LEN]); `tmp` is ROW_LEN f32 of core memory.
void softmax_bf16(const bfloat16 *__restrict x, bfloat16 *__restrict y, float *__restrict tmp)
{
    float mx = bf16_to_f(x[0]);
    for (int i = 1; i < ROW_LEN; i++) {
        const float v = bf16_to_f(x[i]);
        if (v > mx) mx = v;
    }
    float sum = 0.0f;
    for (int i = 0; i < ROW_LEN; i++) {
        tmp[i] = k_exp(bf16_to_f(x[i]) - mx);
        sum += tmp[i];
    }
    const float inv = 1.0f / sum;
    for (int i = 0; i < ROW_LEN; i++) y[i] = f_to_bf16(tmp[i] * inv);
}

// y = GELU(x), tanh approximation (== bf16ref_gelu), ROW_LEN elements.
void gelu_bf16(const bfloat16 *__restrict x, bfloat16 *__restrict y)
{
    for (int i = 0; i < ROW_LEN; i++) {
        const float v = bf16_to_f(x[i]);
        const float x3 = v * v * v;
        const float inner = v + 0.044715f * x3;
        const float u = 0.7978845608f * inner;
        float t;
        if (u >= 9.0f) t = 1.0f;
        else if (u <= -9.0f) t = -1.0f;
        else {
            const float e = k_exp(2.0f * u);
            t = (e - 1.0f) / (e + 1.0f);
        }
        y[i] = f_to_bf16(0.5f * v * (1.0f + t));
    }
}

} // extern "C"
