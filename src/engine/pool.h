/* pool.h: livecap's one compute thread pool.
 *
 * The engine splits every parallel step (GEMM row blocks, attention heads,
 * softmax/GELU/LayerNorm rows, decoder GEMV row blocks) across n threads:
 * the caller plus n−1 workers. OpenBLAS itself is kept single-threaded
 * (blas_set_threads(1)) so the two never fight over the 2 cores; idle
 * workers sleep on a condition variable after a short spin, so a pool that
 * has nothing to do costs nothing.
 *
 * pool_run() is not reentrant: call it from one thread at a time (the
 * stream's compute thread). The job function must not call pool_run.
 */
#ifndef LC_POOL_H
#define LC_POOL_H

typedef void (*pool_fn)(void *ctx, int ith, int nth);

typedef struct lc_pool lc_pool;

/* n ≤ 0: one thread per online core. Returns NULL on failure. */
lc_pool *pool_create(int n);
void pool_free(lc_pool *p);
int pool_threads(const lc_pool *p);

/* Runs fn(ctx, i, nth) for i in [0, nth) and returns when all are done.
 * The caller runs i = 0. NULL pool: runs fn(ctx, 0, 1). */
void pool_run(lc_pool *p, pool_fn fn, void *ctx);

/* Splits [0, n) into nth nearly equal parts; part ith is [*lo, *hi). */
static inline void pool_range(int n, int ith, int nth, int *lo, int *hi)
{
    *lo = (int)((long long)n * ith / nth);
    *hi = (int)((long long)n * (ith + 1) / nth);
}

#endif
