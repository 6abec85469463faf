/* test_ring.c: the SPSC ring under a real producer/consumer race, at its
 * wrap-around boundaries, with overrun counting and write-time history. */
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <stdint.h>
#include <string.h>

#include "capture/ring.h"
#include "test.h"

/* Sequence numbers stay below 2^24 so every one is exact as a float. */
#define SEQ_MOD (1u << 24)
#define N_SAMPLES 10000000u

static float seq_val(uint64_t i) { return (float)(i % SEQ_MOD); }

/* Deterministic uneven chunk sizes (LCG, Numerical Recipes constants). */
static uint32_t lcg(uint32_t *s) { *s = *s * 1664525u + 1013904223u; return *s >> 8; }

typedef struct race {
    lc_ring *r;
    uint64_t refused;      /* producer: samples ring_write did not take */
    uint64_t bad, got;     /* consumer */
    uint64_t first_bad;
    int64_t stamp_bad;
} race;

static void *producer(void *arg)
{
    race *x = arg;
    float chunk[1500];
    uint32_t s = 1;
    uint64_t i = 0;
    while (i < N_SAMPLES) {
        size_t n = 1 + lcg(&s) % 1500;
        if (n > N_SAMPLES - i)
            n = (size_t)(N_SAMPLES - i);
        for (size_t j = 0; j < n; j++)
            chunk[j] = seq_val(i + j);
        size_t done = 0;
        while (done < n) { /* retry what did not fit: a lossless stream */
            size_t w = ring_write(x->r, chunk + done, n - done);
            x->refused += (n - done) - w;
            done += w;
            if (w == 0)
                sched_yield();
        }
        i += n;
    }
    return NULL;
}

static void *consumer(void *arg)
{
    race *x = arg;
    float buf[977];
    uint32_t s = 7;
    while (x->got < N_SAMPLES) {
        size_t want = 1 + lcg(&s) % 977;
        size_t n = ring_read(x->r, buf, want);
        if (n == 0) {
            sched_yield();
            continue;
        }
        /* Every sample we hold was stamped before it became visible. */
        if (ring_time_of(x->r, x->got + n - 1) < 0)
            x->stamp_bad++;
        for (size_t j = 0; j < n; j++) {
            if (buf[j] != seq_val(x->got + j) && x->bad++ == 0)
                x->first_bad = x->got + j;
        }
        x->got += n;
    }
    return NULL;
}

static void test_race(void)
{
    race x = {0};
    x.r = ring_create(1000); /* -> 1024: many wraps, chunks bigger than it */
    CHECK(x.r && ring_capacity(x.r) == 1024);
    pthread_t p, c;
    pthread_create(&c, NULL, consumer, &x);
    pthread_create(&p, NULL, producer, &x);
    pthread_join(p, NULL);
    pthread_join(c, NULL);
    CHECKF(x.bad == 0, "%llu samples out of order, first at #%llu",
           (unsigned long long)x.bad, (unsigned long long)x.first_bad);
    CHECK(x.got == N_SAMPLES);
    CHECK(ring_total_written(x.r) == N_SAMPLES);
    CHECK(ring_total_read(x.r) == N_SAMPLES);
    CHECK(ring_available(x.r) == 0);
    /* Refusals the producer saw are exactly what the ring counted. */
    CHECKF(ring_overruns(x.r) == x.refused, "overruns %llu, refused %llu",
           (unsigned long long)ring_overruns(x.r), (unsigned long long)x.refused);
    CHECKF(x.stamp_bad == 0, "%lld reads without a write stamp", (long long)x.stamp_bad);
    ring_destroy(x.r);
}

/* Walk the write position across the end of the buffer at every offset. */
static void test_wrap(void)
{
    lc_ring *r = ring_create(16);
    CHECK(r && ring_capacity(r) == 16);
    float in[16], out[16];
    uint64_t next = 0, expect = 0;
    int bad = 0;
    for (int round = 0; round < 64; round++) {
        size_t n = 1 + (size_t)(round * 5) % 16;  /* 1..16, hits every offset */
        for (size_t j = 0; j < n; j++)
            in[j] = seq_val(next + j);
        if (ring_write(r, in, n) != n)
            bad++;
        next += n;
        if (ring_available(r) != n)
            bad++;
        memset(out, 0, sizeof out);
        if (ring_peek(r, out, 16) != n || out[0] != seq_val(expect))
            bad++;
        if (ring_read(r, out, 16) != n)
            bad++;
        for (size_t j = 0; j < n; j++)
            if (out[j] != seq_val(expect + j))
                bad++;
        expect += n;
    }
    CHECKF(bad == 0, "%d wrap-around mismatches", bad);
    /* Exact full buffer starting mid-array: write 16 at offset 'next & 15'. */
    for (size_t j = 0; j < 16; j++)
        in[j] = (float)(100 + j);
    CHECK(ring_write(r, in, 16) == 16);
    CHECK(ring_space(r) == 0);
    CHECK(ring_skip(r, 3) == 3);
    CHECK(ring_read(r, out, 16) == 13 && out[0] == 103.f && out[12] == 115.f);
    CHECK(ring_overruns(r) == 0);
    ring_destroy(r);
}

static void test_overrun(void)
{
    lc_ring *r = ring_create(64);
    float in[100];
    for (int j = 0; j < 100; j++)
        in[j] = (float)j;
    CHECK(ring_write(r, in, 40) == 40);
    CHECK(ring_write(r, in + 40, 40) == 24);   /* 16 refused */
    CHECK(ring_overruns(r) == 16);
    CHECK(ring_write(r, in, 7) == 0);          /* full: all 7 refused */
    CHECK(ring_overruns(r) == 23);
    CHECK(ring_total_written(r) == 64);
    float out[64];
    CHECK(ring_read(r, out, 64) == 64);
    int bad = 0;
    for (int j = 0; j < 64; j++)
        bad += out[j] != (float)j;             /* the prefix, nothing of the excess */
    CHECK(bad == 0);
    CHECK(ring_write(r, in, 64) == 64 && ring_overruns(r) == 23);
    ring_destroy(r);
    CHECK(ring_create(0) == NULL);
}

static void test_stamps(void)
{
    lc_ring *r = ring_create(1 << 16);
    float z[10] = {0};
    CHECK(ring_time_of(r, 0) == -1 && ring_last_write_ns(r) == 0);
    int64_t t0 = ring_now_ns();
    ring_write(r, z, 10);                  /* samples 0..9 */
    struct timespec d = {0, 2000000};
    nanosleep(&d, NULL);
    ring_write(r, z, 5);                   /* samples 10..14 */
    int64_t a = ring_time_of(r, 9), b = ring_time_of(r, 10), c = ring_time_of(r, 14);
    CHECK(a >= t0 && b - a >= 2000000 && b == c);
    CHECK(ring_time_of(r, 0) == a);
    CHECK(ring_time_of(r, 15) == -1);       /* not written yet */
    CHECK(ring_last_write_ns(r) == c);
    /* Fill the history: the first writes fall out of it. */
    for (int i = 0; i < RING_HISTORY; i++)
        ring_write(r, z, 1);
    CHECK(ring_time_of(r, 0) == -1);
    CHECK(ring_time_of(r, 15 + RING_HISTORY - 1) == ring_last_write_ns(r));
    CHECK(ring_time_of(r, 15 + 5) > 0);
    ring_destroy(r);
}

int main(void)
{
    test_wrap();
    test_overrun();
    test_stamps();
    test_race();
    TEST_DONE();
}
