/* events.h: where the live pipeline's output goes (SPEC §1 `--headless`,
 * `--jsonl`, `--save`; SPEC §4 event stream).
 *
 *   headless  each final on stdout as "[hh:mm:ss.mmm --> hh:mm:ss.mmm] text"
 *             (text stripped like the txt writer), flushed per line.
 *   jsonl     start / partial / final / stats / end events, one JSON object
 *             per line, flushed per line. Every event also carries
 *             "wall_ms": monotonic ms since events_open (an added field).
 *             Times t0/t1 are printed to the millisecond.
 *   save      the committed transcript in the format of the extension
 *             (writers_format_for_path): txt, srt, vtt, or jsonl (final
 *             events only). Each final is appended, fflush'ed and fsync'ed
 *             as it is committed, so a signal or a crash leaves a complete,
 *             valid file with every final emitted so far.
 *
 * Thread-safety: every function takes the sink's mutex, so finals and
 * partials (decode worker) and stats (main thread) may interleave safely.
 * Errors: events_open fails with one line naming the file; a later write
 * error is remembered and reported by events_close (-1).
 */
#ifndef LC_EVENTS_H
#define LC_EVENTS_H

#include "stream/pipeline.h"
#include "util/err.h"

typedef struct lc_events lc_events;

/* headless: lines on stdout. jsonl: path, "-" = stdout, "" = none. save:
 * path or "" (unknown extension: error). */
lc_events *events_open(int headless, const char *jsonl, const char *save, lc_err *e);

void events_start(lc_events *ev, const char *model, const char *backend, const char *device,
                  int sample_rate);
void events_final(lc_events *ev, const lc_final *f, double latency_ms);
void events_partial(lc_events *ev, const lc_final *p, double latency_ms);
void events_stats(lc_events *ev, const lc_pipeline_snapshot *s);
void events_end(lc_events *ev, double audio_s, long finals);

/* Finals written so far. */
long events_finals(lc_events *ev);

/* Closes the files; returns -1 (with e naming the file) if any write failed. */
int events_close(lc_events *ev, lc_err *e);

/* pipeline sink adapters: ctx is the lc_events. */
void events_sink_final(void *ctx, const lc_final *f, double latency_ms);
void events_sink_partial(void *ctx, const lc_final *p, double latency_ms);

#endif
