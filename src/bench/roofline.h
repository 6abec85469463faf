/* roofline.h: the machine's two ceilings for `livecap bench` (SPEC §5):
 * dense float32 matrix multiply throughput (what the encoder can reach)
 * and memory read bandwidth (what bounds decoding one token, which streams
 * every decoder weight once).
 *
 * Both measure on `threads` threads (≤ 0: every online core), best of a few
 * repetitions, and take well under a second each on a laptop. They are
 * figures, not tests: nothing here checks a time limit.
 *
 * Thread-safety: call from one thread at a time. roofline_sgemm_gflops sets
 * OpenBLAS's global thread count to `threads` and leaves it so (the encoder
 * measured next should run with the same setting).
 */
#ifndef LC_ROOFLINE_H
#define LC_ROOFLINE_H

/* Sizes of the sgemm probe: a 30-s encoder window (1500 frames) times a
 * square weight of the width of the larger Whisper models. */
#define ROOFLINE_GEMM_M 1500
#define ROOFLINE_GEMM_N 1024
#define ROOFLINE_GEMM_K 1024

/* Size of the bandwidth probe: far beyond any last-level cache. */
#define ROOFLINE_MEM_BYTES (256u << 20)

/* GFLOP/s of cblas_sgemm (row-major, C = A·Bᵀ as in a Linear layer,
 * M×K by N×K), 2·M·N·K flops per call, best of 5 after a warm-up.
 * Returns 0 if the buffers cannot be allocated. */
double roofline_sgemm_gflops(int threads);

/* GB/s (10^9 bytes) of summing a ROOFLINE_MEM_BYTES float array split
 * over `threads` threads (AVX2 when the CPU has it), best of 5 passes after
 * a warm-up. Returns 0 if the buffer or the threads cannot be had. */
double roofline_mem_gbps(int threads);

#endif
