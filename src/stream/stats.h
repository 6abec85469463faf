/* stats.h: the live pipeline's measurements (SPEC §4 "stats"): per-stage
 * latency histograms, the real-time factor over the last 30 s of audio,
 * and thread CPU time.
 *
 * Histograms: STATS_BUCKETS fixed log-spaced buckets from STATS_MIN_MS to
 * STATS_MAX_MS (ratio ≈ 1.12 between edges, so a percentile is within
 * ±6 % of the true value), plus exact min/max. Adding a sample is O(1),
 * never allocates and never locks: the owner serializes access (the
 * pipeline adds and copies under its stats mutex).
 *
 * Percentiles: the nearest-rank sample (rank ceil(q·n)) is located in its
 * bucket and reported as the bucket's geometric centre, clamped to the
 * exact [min, max] seen; 0 when empty.
 *
 * RTF window: compute seconds are attributed to the 1-s slot of audio time
 * at which they were spent; stats_rtf sums the last STATS_RTF_SECONDS slots
 * and divides by the audio seconds they cover.
 *
 * Thread-safety: plain data, no locks; callers serialize.
 */
#ifndef LC_STATS_H
#define LC_STATS_H

#include <pthread.h>
#include <stdint.h>

#define STATS_BUCKETS 160      /* 7 decades at ~23 buckets per decade */
#define STATS_MIN_MS 0.01      /* 10 µs: below any stage we time */
#define STATS_MAX_MS 100000.0  /* 100 s: above any sane stage time */
#define STATS_RTF_SECONDS 30   /* SPEC §4: rtf over the last 30 s of audio */

typedef struct lc_hist {
    uint32_t count[STATS_BUCKETS];
    uint64_t n;
    double min, max, sum;
} lc_hist;

void stats_hist_reset(lc_hist *h);
void stats_hist_add(lc_hist *h, double ms);
/* q in [0, 1]: 0.5 = p50, 0.95 = p95. */
double stats_hist_quantile(const lc_hist *h, double q);

typedef struct lc_rtf {
    double compute_s[STATS_RTF_SECONDS + 1]; /* per audio second, slot = sec % N */
    int64_t slot_sec[STATS_RTF_SECONDS + 1]; /* which audio second a slot holds */
} lc_rtf;

void stats_rtf_reset(lc_rtf *r);
/* compute_s seconds of work done when the newest audio was at audio_s. */
void stats_rtf_add(lc_rtf *r, double audio_s, double compute_s);
/* Compute seconds ÷ audio seconds over the last 30 s of audio up to audio_s
 * (less at the start); 0 before any audio. */
double stats_rtf(const lc_rtf *r, double audio_s);

/* CPU time (ns) a thread has used (pthread_getcpuclockid), -1 on error;
 * and the whole process's (CLOCK_PROCESS_CPUTIME_ID). */
int64_t stats_thread_cpu_ns(pthread_t t);
int64_t stats_process_cpu_ns(void);

/* The stages of SPEC §4 "stages", plus the policy. */
enum lc_stage { LC_STAGE_CAPTURE, LC_STAGE_MEL, LC_STAGE_ENCODER, LC_STAGE_DECODER,
                LC_STAGE_POLICY, LC_STAGE_COUNT };
/* JSON key of a stage: "capture", "mel", "encoder", "decoder", "policy". */
const char *stats_stage_name(int stage);

#endif
