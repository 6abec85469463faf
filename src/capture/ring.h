/* ring.h: single-producer/single-consumer lock-free ring of float samples.
 *
 * The producer is a real-time audio callback (or the paced file thread);
 * the consumer is the pipeline worker. Exactly one thread may call the
 * producer functions and exactly one (possibly other) thread the consumer
 * functions; the "any thread" functions are safe everywhere.
 *
 * Ownership: ring_create allocates everything once; nothing else allocates,
 * locks or blocks. The caller owns the ring and destroys it after both
 * sides have stopped.
 *
 * Memory ordering (C11 <stdatomic.h>):
 *   - `head` (total samples written) is stored by the producer with release
 *     after the samples are copied, and loaded by the consumer with acquire
 *     before it copies them out: the consumer never sees a slot before its
 *     sample.
 *   - `tail` (total samples read) is stored by the consumer with release
 *     after it has copied the samples out, and loaded by the producer with
 *     acquire before it overwrites slots: the producer never overwrites a
 *     slot the consumer is still reading.
 *   - Both counters are 64-bit and only grow (no wrap in practice: 2^64
 *     samples is millions of years at 48 kHz); the slot is counter & mask.
 *   - The overrun counter and the write-time history are statistics, read
 *     with relaxed/seqlock ordering; they never gate access to samples.
 *
 * Latency bookkeeping: every ring_write that writes at least one sample
 * records (total written after it, CLOCK_MONOTONIC ns) in a small history
 * (RING_HISTORY writes, a seqlock per entry), so the consumer can ask when
 * sample #k (0-based, counting only samples that entered the ring) arrived.
 */
#ifndef LC_RING_H
#define LC_RING_H

#include <stddef.h>
#include <stdint.h>

/* Writes remembered for ring_time_of: 4096 audio callbacks is >= 20 s at
 * PortAudio's usual 256-frame/48 kHz buffers and 40 s at the file source's
 * 10 ms blocks, longer than any final can lag its audio. */
#define RING_HISTORY 4096

typedef struct lc_ring lc_ring;

/* Capacity is min_capacity rounded up to a power of two (>= 2). Returns NULL
 * on allocation failure or if min_capacity is 0 or absurd (> 2^31). */
lc_ring *ring_create(size_t min_capacity);
void ring_destroy(lc_ring *r);

/* Any thread. */
size_t   ring_capacity(const lc_ring *r);
uint64_t ring_overruns(const lc_ring *r);      /* samples refused by ring_write */
uint64_t ring_total_written(const lc_ring *r); /* samples that entered the ring */
uint64_t ring_total_read(const lc_ring *r);    /* samples consumed (read/skip) */

/* Producer. Copies min(n, free space) samples, never blocks, allocates or
 * locks; the samples that did not fit are dropped and added to the overrun
 * count. Returns the number written. */
size_t ring_write(lc_ring *r, const float *src, size_t n);
size_t ring_space(const lc_ring *r);           /* free slots right now */

/* Consumer. ring_read copies and consumes up to n samples, ring_peek copies
 * without consuming, ring_skip consumes without copying; each returns the
 * count. ring_available: samples ready now. */
size_t ring_read(lc_ring *r, float *dst, size_t n);
size_t ring_peek(const lc_ring *r, float *dst, size_t n);
size_t ring_skip(lc_ring *r, size_t n);
size_t ring_available(const lc_ring *r);

/* Any thread. CLOCK_MONOTONIC ns at which sample #k entered the ring (the end
 * of the ring_write that carried it); -1 if k has not been written yet or
 * is older than the last RING_HISTORY writes. ring_last_write_ns: time of
 * the newest write, 0 before the first. */
int64_t ring_time_of(const lc_ring *r, uint64_t k);
int64_t ring_last_write_ns(const lc_ring *r);

/* CLOCK_MONOTONIC now in ns (the clock every ring time is on). */
int64_t ring_now_ns(void);

#endif
