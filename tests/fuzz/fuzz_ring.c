/* fuzz_ring.c: libFuzzer target for the boundary conditions of the ring
 * buffer (capture/ring.h) and the streaming resampler (audiofile.h).
 *
 * First byte: bit 0 picks the ring (0) or the resampler (1).
 *
 * Ring: capacity from the next byte (1 .. 2^13 requested), then a list of
 * 3-byte operations (op, n as u16) run against a reference model: a FIFO
 * of sample numbers. Checked after each op: counts returned, the samples
 * read/peeked are exactly the next ones in order, available + space ==
 * capacity, totals and the overrun count match the model, ring_time_of is
 * -1 for unwritten samples.
 *
 * Resampler: rate and channels from the next bytes (rates from a list
 * that includes the extremes, or an arbitrary one in 62.5 Hz .. 384 kHz),
 * then chunks of (u16 frames, sample bytes) processed with out_cap exactly
 * resampler_out_max, and sometimes one too small; flush and reset at
 * random points. Checked: a call with out_max room never fails, never
 * writes more than out_max, output is finite; a call with too little room
 * fails or fits.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/audiofile.h"
#include "capture/ring.h"

#define MAX_N 20000

/* Resampler output: the most a call can give, at the highest ratio (256,
 * 62.5 Hz in) for MAX_N / 8 input frames plus the 4096-frame slack of
 * resampler_out_max: about 1.7 M samples. */
#define MAX_OUT (((size_t)MAX_N / 8 + 4096 + 64) * 256 + 64)

static float buf[MAX_N], ref[MAX_N], rsout[MAX_OUT];

static void fuzz_ring(const uint8_t *d, size_t n)
{
    if (n < 1) return;
    size_t want = ((size_t)d[0] << 5) + (d[0] & 31) + 1; /* 1 .. 8192 */
    d++, n--;
    lc_ring *r = ring_create(want);
    if (!r) abort();
    size_t cap = ring_capacity(r);
    if (cap < want || (cap & (cap - 1)) || cap < 2) abort();
    uint64_t written = 0, readn = 0, overruns = 0;
    float next_val = 0;
    for (size_t i = 0; i + 3 <= n; i += 3) {
        size_t k = (size_t)(d[i + 1] | d[i + 2] << 8) % MAX_N;
        size_t avail = (size_t)(written - readn), got;
        switch (d[i] % 5) {
        case 0: /* write k samples numbered from the producer's count */
            for (size_t j = 0; j < k; j++) buf[j] = next_val + (float)j;
            got = ring_write(r, buf, k);
            if (got != (k < cap - avail ? k : cap - avail)) abort();
            /* samples are numbered by what entered, so the next write
             * continues from the last accepted one */
            next_val += (float)got;
            written += got;
            overruns += k - got;
            break;
        case 1:
        case 2: { /* read or peek */
            int peek = d[i] % 5 == 2;
            got = peek ? ring_peek(r, buf, k) : ring_read(r, buf, k);
            if (got != (k < avail ? k : avail)) abort();
            for (size_t j = 0; j < got; j++)
                if (buf[j] != (float)(readn + j)) abort();
            if (!peek) readn += got;
            break;
        }
        case 3:
            got = ring_skip(r, k);
            if (got != (k < avail ? k : avail)) abort();
            readn += got;
            break;
        default:
            if (ring_time_of(r, written + k) != -1) abort();
            if (written && ring_time_of(r, written - 1) <= 0) abort();
            break;
        }
        if (ring_available(r) != written - readn) abort();
        if (ring_available(r) + ring_space(r) != cap) abort();
        if (ring_total_written(r) != written || ring_total_read(r) != readn) abort();
        if (ring_overruns(r) != overruns) abort();
    }
    ring_destroy(r);
}

static const double rates[] = { 62.5, 63, 8000, 11025, 16000, 22050, 32000, 44100, 48000,
                                88200, 96000, 192000, 384000, 15999.9, 16000.1 };

static void fuzz_resampler(const uint8_t *d, size_t n)
{
    if (n < 3) return;
    double rate;
    if (d[0] < 0xc0) rate = rates[d[0] % (sizeof rates / sizeof rates[0])];
    else rate = 62.5 + (double)(d[1] | d[2] << 8) * 5.86; /* up to ~384 kHz */
    int ch = 1 + d[1] % 8;
    d += 3, n -= 3;
    lc_err e = {{0}};
    lc_resampler *rs = resampler_new(rate, ch, &e);
    if (!rs) abort(); /* every rate above is in range */
    /* SINC_BEST is the costly part (a long filter per output sample):
     * bound the output per input (~0.1 M samples) so one
     * input stays far below the 10 s timeout and the fuzzer keeps a
     * useful pace (the boundaries are at chunk edges, not in bulk) */
    double ratio = 16000.0 / rate;
    size_t i = 0, total = 0;
    while (i + 3 <= n && total < 100000) {
        uint8_t op = d[i];
        size_t frames = (size_t)(d[i + 1] | d[i + 2] << 8) % (MAX_N / 8 / (size_t)ch + 1);
        if ((double)frames * ratio > 8000) frames = (size_t)(8000 / ratio);
        total += (size_t)((double)frames * ratio) + 4096;
        i += 3;
        /* samples from the input bytes (repeated), in [-2, 2] to include
         * out-of-range values a device never sends but a file may */
        for (size_t j = 0; j < frames * (size_t)ch; j++)
            ref[j] = n > i ? ((float)d[i + j % (n - i)] - 128.0f) / 64.0f : 0.0f;
        size_t max = resampler_out_max(rs, frames), w = (size_t)-1;
        if (max > MAX_OUT || resampler_out_max(rs, 0) > MAX_OUT) abort();
        switch (op % 8) {
        case 0:
            if (resampler_flush(rs, rsout, resampler_out_max(rs, 0), &w) || w > resampler_out_max(rs, 0)) abort();
            resampler_reset(rs);
            break;
        case 1:
            resampler_reset(rs);
            break;
        case 2: /* too little room: must fail cleanly or fit */
            if (max > 0 && resampler_process(rs, ref, frames, rsout, max / 2, &w) == 0 && w > max / 2) abort();
            break;
        default:
            if (resampler_process(rs, ref, frames, rsout, max, &w) || w > max) abort();
            for (size_t j = 0; j < w; j++)
                if (!isfinite(rsout[j])) abort();
        }
    }
    size_t w;
    if (resampler_flush(rs, rsout, resampler_out_max(rs, 0), &w)) abort();
    resampler_free(rs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    if (data[0] & 1) fuzz_resampler(data + 1, size - 1);
    else fuzz_ring(data + 1, size - 1);
    return 0;
}
