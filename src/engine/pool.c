/* pool.c: a minimal fork-join pool (contract in pool.h). */
#include "engine/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

/* The pause instruction in spin loops: on a CPU with SMT a bare spin takes
 * issue slots and load ports from the sibling hyperthread doing the work
 * (Intel's optimization manual, "spin-wait loops"). The CI machines' two
 * vCPUs are separate cores (lscpu: one thread per core), where it only
 * saves power. */
#if defined(__x86_64__) || defined(__i386__)
#define CPU_RELAX() __builtin_ia32_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

#define SPIN_ITERS 2000 /* ≈ 50–100 µs of spinning (a pause is ~140 cycles on
                           Skylake and later) before sleeping: decoder steps
                           come back-to-back, and a condvar wake-up costs
                           more than that */

struct lc_pool {
    int n;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_uint gen;         /* bumped for every job */
    atomic_int pending;      /* workers still running the current job */
    atomic_int quit;
    atomic_flag busy;        /* a second caller runs its job inline */
    pool_fn fn;
    void *ctx;
};

typedef struct worker_arg { lc_pool *p; int ith; } worker_arg;

static void *worker_main(void *arg)
{
    worker_arg *w = arg;
    lc_pool *p = w->p;
    const int ith = w->ith;
    free(w);
    unsigned seen = 0;
    for (;;) {
        unsigned g;
        int spins = 0;
        while ((g = atomic_load_explicit(&p->gen, memory_order_acquire)) == seen &&
               !atomic_load_explicit(&p->quit, memory_order_relaxed)) {
            if (++spins < SPIN_ITERS) { CPU_RELAX(); continue; }
            pthread_mutex_lock(&p->mu);
            while (atomic_load(&p->gen) == seen && !atomic_load(&p->quit)) pthread_cond_wait(&p->cv, &p->mu);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->quit)) return NULL;
        seen = g;
        p->fn(p->ctx, ith, p->n);
        atomic_fetch_sub_explicit(&p->pending, 1, memory_order_acq_rel);
    }
}

lc_pool *pool_create(int n)
{
    if (n <= 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n = c > 0 ? (int)c : 1;
    }
    lc_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->n = n;
    atomic_flag_clear(&p->busy);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->threads = calloc((size_t)n, sizeof *p->threads);
    if (!p->threads) { free(p); return NULL; }
    for (int i = 1; i < n; i++) {
        worker_arg *w = malloc(sizeof *w);
        if (!w) { p->n = i; break; }
        w->p = p;
        w->ith = i;
        if (pthread_create(&p->threads[i], NULL, worker_main, w) != 0) { free(w); p->n = i; break; }
    }
    return p;
}

int pool_threads(const lc_pool *p) { return p ? p->n : 1; }

void pool_run(lc_pool *p, pool_fn fn, void *ctx)
{
    if (!p || p->n == 1 || atomic_flag_test_and_set_explicit(&p->busy, memory_order_acquire)) {
        fn(ctx, 0, 1);
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    atomic_store_explicit(&p->pending, p->n - 1, memory_order_relaxed);
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    fn(ctx, 0, p->n);
    while (atomic_load_explicit(&p->pending, memory_order_acquire) > 0) CPU_RELAX(); /* workers finish within the step */
    atomic_flag_clear_explicit(&p->busy, memory_order_release);
}

void pool_free(lc_pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->quit, 1);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n; i++) pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->threads);
    free(p);
}
