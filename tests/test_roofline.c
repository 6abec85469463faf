/* test_roofline: the bench ceilings run and give plausible figures. No time
 * limits (STYLE.md: a benchmark is not a test); only sanity bounds. */
#include "bench/roofline.h"
#include "test.h"

int main(void)
{
    double g1 = roofline_sgemm_gflops(1), m1 = roofline_mem_gbps(1);
    double g0 = roofline_sgemm_gflops(0), m2 = roofline_mem_gbps(2);
    printf("sgemm %.1f GFLOP/s (1 thread), %.1f (all); memory %.1f GB/s (1), %.1f (2)\n", g1, g0, m1, m2);
    /* finite, positive, and below anything a CPU core can do (10 TFLOP/s,
     * 10 TB/s): catches unit slips of 1e3 and unmeasured zeros */
    CHECKF(isfinite(g1) && g1 > 0.1 && g1 < 1e4, "sgemm 1 thread: %g", g1);
    CHECKF(isfinite(g0) && g0 > 0.1 && g0 < 1e5, "sgemm all threads: %g", g0);
    CHECKF(isfinite(m1) && m1 > 0.1 && m1 < 1e4, "bandwidth 1 thread: %g", m1);
    CHECKF(isfinite(m2) && m2 > 0.1 && m2 < 1e4, "bandwidth 2 threads: %g", m2);
    TEST_DONE();
}
