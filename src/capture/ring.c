/* ring.c: SPSC lock-free float ring; the contract and memory ordering are
 * in ring.h. */
#include "capture/ring.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One remembered write. A seqlock (Boehm, "Can seqlocks get along with
 * programming language memory models?", 2012): seq is odd while the producer
 * rewrites the entry, 2*w+2 once write #w is in it. */
typedef struct ring_stamp {
    _Atomic uint64_t seq;
    _Atomic uint64_t end;   /* total written after this write */
    _Atomic int64_t  t_ns;  /* CLOCK_MONOTONIC when it completed */
} ring_stamp;

/* Producer- and consumer-owned counters on separate cache lines (64 bytes on
 * x86-64 and most arm64) so the two threads do not false-share. */
struct lc_ring {
    alignas(64) _Atomic uint64_t head;      /* written by the producer */
    alignas(64) _Atomic uint64_t tail;      /* written by the consumer */
    alignas(64) _Atomic uint64_t overruns;
    _Atomic uint64_t n_writes;              /* writes recorded in stamps */
    _Atomic int64_t last_ns;
    size_t cap, mask;
    float *buf;                             /* [cap] */
    ring_stamp stamps[RING_HISTORY];
};

int64_t ring_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* vDSO: no syscall, RT-safe */
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

lc_ring *ring_create(size_t min_capacity)
{
    if (min_capacity == 0 || min_capacity > ((size_t)1 << 31))
        return NULL;
    size_t cap = 2;
    while (cap < min_capacity)
        cap <<= 1;
    size_t sz = (sizeof(lc_ring) + 63) & ~(size_t)63; /* aligned_alloc wants a multiple */
    lc_ring *r = aligned_alloc(64, sz);
    if (!r)
        return NULL;
    memset(r, 0, sizeof *r);
    r->buf = calloc(cap, sizeof(float));
    if (!r->buf) {
        free(r);
        return NULL;
    }
    r->cap = cap;
    r->mask = cap - 1;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    atomic_init(&r->overruns, 0);
    atomic_init(&r->n_writes, 0);
    atomic_init(&r->last_ns, 0);
    for (size_t i = 0; i < RING_HISTORY; i++) {
        atomic_init(&r->stamps[i].seq, 0);
        atomic_init(&r->stamps[i].end, 0);
        atomic_init(&r->stamps[i].t_ns, 0);
    }
    return r;
}

void ring_destroy(lc_ring *r)
{
    if (!r)
        return;
    free(r->buf);
    free(r);
}

size_t ring_capacity(const lc_ring *r) { return r->cap; }

uint64_t ring_overruns(const lc_ring *r)
{
    return atomic_load_explicit(&((lc_ring *)r)->overruns, memory_order_relaxed);
}

uint64_t ring_total_written(const lc_ring *r)
{
    return atomic_load_explicit(&((lc_ring *)r)->head, memory_order_acquire);
}

uint64_t ring_total_read(const lc_ring *r)
{
    return atomic_load_explicit(&((lc_ring *)r)->tail, memory_order_acquire);
}

/* Producer only: publishes (end, t) as write #w (seqlock writer side). */
static void stamp_record(lc_ring *r, uint64_t end, int64_t t)
{
    uint64_t w = atomic_load_explicit(&r->n_writes, memory_order_relaxed);
    ring_stamp *s = &r->stamps[w % RING_HISTORY];
    atomic_store_explicit(&s->seq, 2 * w + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&s->end, end, memory_order_relaxed);
    atomic_store_explicit(&s->t_ns, t, memory_order_relaxed);
    atomic_store_explicit(&s->seq, 2 * w + 2, memory_order_release);
    atomic_store_explicit(&r->n_writes, w + 1, memory_order_release);
    atomic_store_explicit(&r->last_ns, t, memory_order_relaxed);
}

size_t ring_write(lc_ring *r, const float *src, size_t n)
{
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    size_t space = r->cap - (size_t)(head - tail);
    size_t m = n < space ? n : space;
    if (m < n)
        atomic_fetch_add_explicit(&r->overruns, n - m, memory_order_relaxed);
    if (m == 0)
        return 0;
    size_t off = (size_t)head & r->mask;
    size_t first = r->cap - off < m ? r->cap - off : m;
    memcpy(r->buf + off, src, first * sizeof(float));
    memcpy(r->buf, src + first, (m - first) * sizeof(float));
    /* Stamp before publishing head: whoever sees sample k also finds it in
     * the history (n_writes' release precedes head's). */
    stamp_record(r, head + m, ring_now_ns());
    atomic_store_explicit(&r->head, head + m, memory_order_release);
    return m;
}

size_t ring_space(const lc_ring *r)
{
    lc_ring *w = (lc_ring *)r;
    uint64_t head = atomic_load_explicit(&w->head, memory_order_relaxed);
    uint64_t tail = atomic_load_explicit(&w->tail, memory_order_acquire);
    return r->cap - (size_t)(head - tail);
}

size_t ring_available(const lc_ring *r)
{
    lc_ring *w = (lc_ring *)r;
    uint64_t head = atomic_load_explicit(&w->head, memory_order_acquire);
    uint64_t tail = atomic_load_explicit(&w->tail, memory_order_relaxed);
    return (size_t)(head - tail);
}

/* Consumer: copies up to n samples from the read position; returns count. */
static size_t ring_copy_out(const lc_ring *r, float *dst, size_t n, uint64_t *tail_out)
{
    lc_ring *w = (lc_ring *)r;
    uint64_t tail = atomic_load_explicit(&w->tail, memory_order_relaxed);
    uint64_t head = atomic_load_explicit(&w->head, memory_order_acquire);
    size_t avail = (size_t)(head - tail);
    size_t m = n < avail ? n : avail;
    if (dst && m) {
        size_t off = (size_t)tail & r->mask;
        size_t first = r->cap - off < m ? r->cap - off : m;
        memcpy(dst, r->buf + off, first * sizeof(float));
        memcpy(dst + first, r->buf, (m - first) * sizeof(float));
    }
    *tail_out = tail;
    return m;
}

size_t ring_read(lc_ring *r, float *dst, size_t n)
{
    uint64_t tail;
    size_t m = ring_copy_out(r, dst, n, &tail);
    atomic_store_explicit(&r->tail, tail + m, memory_order_release);
    return m;
}

size_t ring_peek(const lc_ring *r, float *dst, size_t n)
{
    uint64_t tail;
    return ring_copy_out(r, dst, n, &tail);
}

size_t ring_skip(lc_ring *r, size_t n) { return ring_read(r, NULL, n); }

int64_t ring_last_write_ns(const lc_ring *r)
{
    return atomic_load_explicit(&((lc_ring *)r)->last_ns, memory_order_relaxed);
}

/* Seqlock reader: 0 if write #w is still in its slot (fills end/t). */
static int stamp_get(const lc_ring *r, uint64_t w, uint64_t *end, int64_t *t)
{
    ring_stamp *s = (ring_stamp *)&r->stamps[w % RING_HISTORY];
    uint64_t s1 = atomic_load_explicit(&s->seq, memory_order_acquire);
    *end = atomic_load_explicit(&s->end, memory_order_relaxed);
    *t = atomic_load_explicit(&s->t_ns, memory_order_relaxed);
    atomic_thread_fence(memory_order_acquire);
    uint64_t s2 = atomic_load_explicit(&s->seq, memory_order_relaxed);
    return (s1 == s2 && s1 == 2 * w + 2) ? 0 : -1;
}

int64_t ring_time_of(const lc_ring *r, uint64_t k)
{
    uint64_t nw = atomic_load_explicit(&((lc_ring *)r)->n_writes, memory_order_acquire);
    if (nw == 0)
        return -1;
    uint64_t lo = nw > RING_HISTORY ? nw - RING_HISTORY : 0, hi = nw - 1;
    uint64_t end;
    int64_t t;
    if (stamp_get(r, hi, &end, &t) != 0 || end <= k)
        return -1; /* not written yet */
    /* Ends grow with w: binary-search the first write whose end > k. */
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (stamp_get(r, mid, &end, &t) != 0)
            return -1; /* lapped by the producer while searching: too old */
        if (end > k)
            hi = mid;
        else
            lo = mid + 1;
    }
    if (stamp_get(r, lo, &end, &t) != 0)
        return -1;
    /* The oldest remembered write may have started before k's write did:
     * only write #0 is known to start at sample 0. */
    if (lo > 0 && lo + RING_HISTORY == nw)
        return -1;
    return t;
}
