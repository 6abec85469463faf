/* stats.c: log-bucket histograms, the 30-s RTF window, thread CPU time. */
#include "stream/stats.h"

#include <math.h>
#include <string.h>
#include <time.h>

/* ln(MAX/MIN) spread over the buckets: bucket i covers
 * [MIN·r^i, MIN·r^(i+1)), r = (MAX/MIN)^(1/BUCKETS). Values below MIN go to
 * bucket 0 and above MAX to the last one (their min/max stay exact). */
static double log_span(void) { return log(STATS_MAX_MS / STATS_MIN_MS); }

static int bucket_of(double ms)
{
    if (!(ms > STATS_MIN_MS)) return 0;
    int i = (int)(log(ms / STATS_MIN_MS) / log_span() * STATS_BUCKETS);
    return i < 0 ? 0 : i >= STATS_BUCKETS ? STATS_BUCKETS - 1 : i;
}

static double bucket_centre(int i)
{
    return STATS_MIN_MS * exp((i + 0.5) / STATS_BUCKETS * log_span());
}

void stats_hist_reset(lc_hist *h) { memset(h, 0, sizeof *h); }

void stats_hist_add(lc_hist *h, double ms)
{
    if (!isfinite(ms)) return;
    if (ms < 0) ms = 0;
    if (h->n == 0 || ms < h->min) h->min = ms;
    if (h->n == 0 || ms > h->max) h->max = ms;
    h->count[bucket_of(ms)]++;
    h->n++;
    h->sum += ms;
}

double stats_hist_quantile(const lc_hist *h, double q)
{
    if (h->n == 0) return 0;
    if (q <= 0) return h->min;
    if (q >= 1) return h->max;
    uint64_t rank = (uint64_t)ceil(q * (double)h->n), seen = 0; /* nearest rank, 1-based */
    if (rank < 1) rank = 1;
    for (int i = 0; i < STATS_BUCKETS; i++) {
        seen += h->count[i];
        if (seen >= rank) {
            double v = bucket_centre(i);
            return v < h->min ? h->min : v > h->max ? h->max : v;
        }
    }
    return h->max;
}

void stats_rtf_reset(lc_rtf *r)
{
    memset(r, 0, sizeof *r);
    for (int i = 0; i <= STATS_RTF_SECONDS; i++) r->slot_sec[i] = -1;
}

void stats_rtf_add(lc_rtf *r, double audio_s, double compute_s)
{
    if (audio_s < 0) audio_s = 0;
    int64_t sec = (int64_t)audio_s;
    int slot = (int)(sec % (STATS_RTF_SECONDS + 1));
    if (r->slot_sec[slot] != sec) { r->slot_sec[slot] = sec; r->compute_s[slot] = 0; }
    r->compute_s[slot] += compute_s;
}

double stats_rtf(const lc_rtf *r, double audio_s)
{
    if (audio_s <= 0) return 0;
    int64_t now = (int64_t)audio_s;
    double lo = audio_s - STATS_RTF_SECONDS, sum = 0;
    if (lo < 0) lo = 0;
    for (int i = 0; i <= STATS_RTF_SECONDS; i++) {
        int64_t s = r->slot_sec[i];
        /* slots strictly inside the window; the oldest partial second is
         * counted whole (≤ 1/30 error) */
        if (s >= 0 && s <= now && (double)s + 1 > lo) sum += r->compute_s[i];
    }
    return sum / (audio_s - lo);
}

int64_t stats_thread_cpu_ns(pthread_t t)
{
    clockid_t cid;
    struct timespec ts;
    if (pthread_getcpuclockid(t, &cid) != 0 || clock_gettime(cid, &ts) != 0) return -1;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t stats_process_cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0) return -1;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

const char *stats_stage_name(int stage)
{
    static const char *const names[LC_STAGE_COUNT] = { "capture", "mel", "encoder", "decoder", "policy" };
    return stage >= 0 && stage < LC_STAGE_COUNT ? names[stage] : "?";
}
