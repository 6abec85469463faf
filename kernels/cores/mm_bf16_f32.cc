// mm_bf16_f32.cc: AIE core kernel of livecap's NPU GEMM (kernels/gemm/gemm.py).
// bf16 inputs, f32 accumulation. Tile sizes come from the build
// (-DDIM_M/-DDIM_K/-DDIM_N = NPU_TILE_M/K/N of src/engine/bf16.h) and the MAC
// shape from the target (-DMMUL_R/-DMMUL_S/-DMMUL_T: 4x8x4 on AIE2/npu1,
// 4x8x8 on AIE2P/npu2).
//
// Order contract (bf16.h, reproduced by bf16_array_gemm on the CPU): for each
// output block, the k-tile's products are accumulated in a fresh f32
// accumulator, then that partial sum is added to C (which the core zeroed
// before the first k-tile). Within one mmul the hardware sums MMUL_S products
// internally; that internal order is not documented by AMD (see bf16.h).
// Build with -ffp-contract=off so scalar code matches the C reference.
#include <aie_api/aie.hpp>
#include <stdint.h>

#ifndef DIM_M
#error "build with -DDIM_M=… -DDIM_K=… -DDIM_N=… (kernels/Makefile)"
#endif

template <unsigned m, unsigned k, unsigned n, unsigned r, unsigned s, unsigned t>
static inline void mm_tile(const bfloat16 *__restrict A, const bfloat16 *__restrict B,
                           float *__restrict C)
{
    static_assert(m % r == 0 && k % s == 0 && n % t == 0, "tile not a multiple of the MAC shape");
    using MMUL = aie::mmul<r, s, t, bfloat16, bfloat16, accfloat>;
    // Layouts (made by the memory-tile DMAs of gemm.py):
    //   A: [m/r][k/s][r][s]   B: [k/s][n/t][s][t]   C: [m/r][n/t][r][t]
    for (unsigned z = 0; z < m / r; z++) {
        for (unsigned j = 0; j < n / t; j++) {
            const bfloat16 *__restrict pA = A + z * (k / s) * MMUL::size_A;
            const bfloat16 *__restrict pB = B + j * MMUL::size_B;
            MMUL acc; // the k-tile partial: starts from the first product
            acc.mul(aie::load_v<MMUL::size_A>(pA), aie::load_v<MMUL::size_B>(pB));
            for (unsigned i = 1; i < k / s; i++) {
                pA += MMUL::size_A;
                pB += (n / t) * MMUL::size_B;
                acc.mac(aie::load_v<MMUL::size_A>(pA), aie::load_v<MMUL::size_B>(pB));
            }
            float *__restrict pC = C + (z * (n / t) + j) * MMUL::size_C;
            aie::vector<float, MMUL::size_C> c = aie::load_v<MMUL::size_C>(pC);
            aie::store_v(pC, aie::add(c, acc.template to_vector<float>()));
        }
    }
}

extern "C" {

void zero_f32(float *__restrict C)
{
    const aie::vector<float, 16> z = aie::zeros<float, 16>();
    for (unsigned i = 0; i < DIM_M * DIM_N; i += 16) aie::store_v(C + i, z);
}

void matmul_bf16_f32(const bfloat16 *__restrict A, const bfloat16 *__restrict B, float *__restrict C)
{
    mm_tile<DIM_M, DIM_K, DIM_N, MMUL_R, MMUL_S, MMUL_T>(A, B, C);
}

} // extern "C"
