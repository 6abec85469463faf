/* amx.h: the CPU device's encoder GEMM on Intel AMX tiles (Sapphire Rapids
 * and later), in split bf16 ("bf16x3"): with x = hi + lo, hi = bf16(x),
 * lo = bf16(x − hi),
 *     C = A·Wᵀ ≈ Ah·Whᵀ + Ah·Wlᵀ + Al·Whᵀ      (f32 accumulation)
 * the arithmetic of the NPU's default precision (bf16.h). The dropped
 * Al·Wl term and the roundings leave each output within ~2^-16 of
 * Σ|a·w| (tests/test_amx.c bounds it by 2^-15): far below the 2^-11 that
 * an f16 model file's weights already carry.
 *
 * Why: one TDPBF16PS does 16×16×32 multiply-adds; even three of them per
 * product outrun AVX-512 sgemm about twice on the encoder's 1500-row GEMMs
 * (`livecap bench` shows the ratio to sgemm measured in the same run).
 *
 * W is packed once (amx_pack, at model bind time) into the tiles' own
 * layout, hi and lo side by side: 4 bytes per weight, as f32. A is split
 * into hi/lo planes per call into a per-thread scratch that grows to the
 * largest band once and is then reused (freed when the thread exits).
 *
 * Thread-safety: amx_gemm is reentrant and runs on the calling thread only
 * (the CPU device calls it from every pool thread, each on its own rows).
 */
#ifndef LC_AMX_H
#define LC_AMX_H

#include <stddef.h>
#include <stdint.h>

/* A packed W operand: owned (amx_pack, amx_free) or a view of caller
 * memory (amx_pack_view). */
typedef struct amx_w {
    int N, K, Np, Kp, ks;    /* Np: N padded to 32; Kp: K padded to 32; ks = Kp / 32 */
    uint16_t *t;             /* [Np/16][ks][hi, lo][16 × 32] */
} amx_w;

/* 1 if this CPU has AMX-TILE and AMX-BF16 (and AVX-512BW for the splits),
 * the build has the intrinsics, and the kernel grants the process the tile
 * state (arch_prctl ARCH_REQ_XCOMP_PERM). Probed once, then cached.
 * LIVECAP_NO_AMX=1 in the environment makes it 0 (tests, comparisons). */
int amx_usable(void);

/* W[N, K] row-major (ld K) packed as bf16x3 tiles. NULL without AMX or
 * memory. amx_free(NULL) is a no-op. */
amx_w *amx_pack(const float *W, int N, int K);
void amx_free(amx_w *w);

/* Operands made per call (the encoder's attention: K per head, and V per
 * head as Vᵀ): W[n][k] = src[n·ldn + k·ldk] packed into buf, which holds
 * amx_pack_bytes(N, K) and is 64-byte aligned; *w describes it (never
 * amx_free it). Vectorised for ldk == 1 and for ldn == 1. Nothing is
 * allocated. Returns -1 without AMX. */
size_t amx_pack_bytes(int N, int K);
int amx_pack_view(amx_w *w, uint16_t *buf, const float *src, int N, int K, size_t ldn, size_t ldk);
size_t amx_bytes(const amx_w *w);

/* C[M, N] (ldc) = A[M, K] (lda) · Wᵀ (+ bias[N]). Returns -1 (and computes
 * nothing) if the scratch cannot grow; the caller then uses sgemm. */
int amx_gemm(const amx_w *w, int M, const float *A, int lda, const float *bias, float *C, int ldc);
/* The same without bias, for C with room for Np columns (ldc ≥ w->Np):
 * columns [N, Np) are overwritten (with the zero padding's products), so
 * no block goes through scratch. -1 if ldc < Np. */
int amx_gemm_padded(const amx_w *w, int M, const float *A, int lda, float *C, int ldc);

#endif
