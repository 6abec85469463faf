/* test_stats.c: histogram percentiles against exact nearest-rank values,
 * the RTF window, thread CPU clocks. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stream/stats.h"
#include "test.h"

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double exact_q(double *v, int n, double q)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    int rank = (int)ceil(q * n);
    if (rank < 1) rank = 1;
    return v[rank - 1];
}

/* Bucket ratio (MAX/MIN)^(1/BUCKETS): a reported percentile is within
 * half a bucket (geometric) of the true one. */
static double rel_tol(void) { return pow(STATS_MAX_MS / STATS_MIN_MS, 0.5 / STATS_BUCKETS) - 1 + 1e-9; }

static void check_dist(const char *name, double *v, int n)
{
    lc_hist h;
    stats_hist_reset(&h);
    for (int i = 0; i < n; i++) stats_hist_add(&h, v[i]);
    CHECK(h.n == (uint64_t)n);
    const double qs[] = { 0.5, 0.95, 0.99 };
    for (int k = 0; k < 3; k++) {
        double want = exact_q(v, n, qs[k]), got = stats_hist_quantile(&h, qs[k]);
        CHECKF(fabs(got - want) <= rel_tol() * want, "%s q%.2f: got %g want %g", name, qs[k], got, want);
    }
}

int main(void)
{
    static double v[20000];
    /* empty: 0 */
    lc_hist h;
    stats_hist_reset(&h);
    CHECK(stats_hist_quantile(&h, 0.5) == 0);
    /* one value: exact (clamped to min/max) */
    stats_hist_add(&h, 123.4);
    CHECK(stats_hist_quantile(&h, 0.5) == 123.4 && stats_hist_quantile(&h, 0.95) == 123.4);
    /* 1..100 ms: p50 = 50, p95 = 95 within a bucket */
    for (int i = 0; i < 100; i++) v[i] = i + 1;
    check_dist("1..100", v, 100);
    /* uniform 0.1..1000 ms, log-normal, and a bimodal mix */
    srand(7);
    for (int i = 0; i < 20000; i++) v[i] = 0.1 + 999.9 * rand() / (double)RAND_MAX;
    check_dist("uniform", v, 20000);
    for (int i = 0; i < 20000; i++) {
        double u1 = (rand() + 1.0) / (RAND_MAX + 2.0), u2 = (rand() + 1.0) / (RAND_MAX + 2.0);
        v[i] = exp(3 + 1.5 * sqrt(-2 * log(u1)) * cos(2 * M_PI * u2));
    }
    check_dist("lognormal", v, 20000);
    for (int i = 0; i < 1000; i++) v[i] = i < 900 ? 2.0 + (i % 10) * 0.01 : 800 + i % 7;
    check_dist("bimodal", v, 1000);
    /* p95 of the bimodal mix lies in the slow mode, p50 in the fast one */
    stats_hist_reset(&h);
    for (int i = 0; i < 1000; i++) stats_hist_add(&h, v[i]);
    CHECK(stats_hist_quantile(&h, 0.5) < 3 && stats_hist_quantile(&h, 0.95) > 700);
    /* out of range and non-finite values */
    stats_hist_reset(&h);
    stats_hist_add(&h, 1e-6);
    stats_hist_add(&h, 1e9);
    stats_hist_add(&h, NAN);
    CHECK(h.n == 2 && h.min == 1e-6 && h.max == 1e9);
    CHECK(stats_hist_quantile(&h, 1.0) == 1e9);

    /* RTF: 0.25 s of compute per audio second -> 0.25; after 60 s only the
     * last 30 s count. */
    lc_rtf r;
    stats_rtf_reset(&r);
    CHECK(stats_rtf(&r, 0) == 0);
    for (int s = 0; s < 30; s++) stats_rtf_add(&r, s + 0.5, 0.25);
    CHECKF(fabs(stats_rtf(&r, 30.0) - 0.25) < 1e-9, "rtf %g", stats_rtf(&r, 30.0));
    for (int s = 30; s < 60; s++) stats_rtf_add(&r, s + 0.5, 0.5);
    CHECKF(fabs(stats_rtf(&r, 60.0) - 0.5) < 0.02, "rtf %g", stats_rtf(&r, 60.0));
    stats_rtf_reset(&r);
    stats_rtf_add(&r, 1.5, 1.0);
    CHECKF(fabs(stats_rtf(&r, 2.0) - 0.5) < 1e-9, "rtf %g", stats_rtf(&r, 2.0));

    /* CPU clocks: spinning makes this thread's clock advance */
    int64_t c0 = stats_thread_cpu_ns(pthread_self()), p0 = stats_process_cpu_ns();
    volatile double x = 0;
    for (long i = 0; i < 20000000; i++) x += i * 1e-9;
    int64_t c1 = stats_thread_cpu_ns(pthread_self()), p1 = stats_process_cpu_ns();
    CHECK(c0 >= 0 && c1 > c0 && p1 > p0);
    CHECK(!strcmp(stats_stage_name(LC_STAGE_DECODER), "decoder"));
    TEST_DONE();
}
