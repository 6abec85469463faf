/* events.h: where the live pipeline's output goes (SPEC §1 `--headless`,
 * `--jsonl`, `--save`; SPEC §4 event stream).
 *
 *   headless  each final on stdout as "[hh:mm:ss.mmm --> hh:mm:ss.mmm] text"
 *             (text stripped like the txt writer), flushed per line.
 *   jsonl     start / partial / final / stats / end events, one JSON object
 *             per line, flushed per line. Every event also carries
 *             "wall_ms": monotonic ms since events_open (an added field).
 *             Times t0/t1 are printed to the millisecond. A stats event
 *             carries "status" (a string, added) only while the capture is
 *             in trouble, e.g. the device stopped and is being reopened.
 *   save      the committed transcript in the format of the extension
 *             (writers_format_for_path): txt, srt, vtt, or jsonl (final
 *             events only). Each final is appended, fflush'ed and fsync'ed
 *             as it is committed, so a signal or a crash leaves a complete,
 *             valid file with every final emitted so far.
 *
 * Save failures (disk full, unwritable, I/O error, including at fsync):
 * every final is also kept in memory. On the first failed write, ONE line
 * is reported (stderr, "livecap: --save PATH: cannot write (No space left
 * on device); the transcript is kept in memory and written to FALLBACK",
 * or the events_on_error callback instead, for a TUI status line), the
 * whole transcript so far is written to the fallback file
 * ${TMPDIR:-/tmp}/livecap-rescue-<pid>.<ext> in the same format, and later
 * finals are appended there. If the fallback fails too, one more line says
 * the transcript is in memory only. events_close then returns -1 with an
 * EMPTY message (the failure was already reported): the command exits 1
 * without printing a second line.
 *
 * Thread-safety: every function takes the sink's mutex, so finals and
 * partials (decode worker) and stats (main thread) may interleave safely.
 * The save file's fsync runs after the mutex is released, so stats never
 * wait for the disk (SPEC §4: stats at least once a second).
 * Errors: events_open fails with one line naming the file (including a
 * --save file that refuses its first write); a later --jsonl or stdout
 * write error is remembered and reported by events_close (-1).
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
/* One caller at a time (the pipeline's decode side), never after
 * events_close: the save file's fsync runs outside the lock. */
void events_final(lc_events *ev, const lc_final *f, double latency_ms);
void events_partial(lc_events *ev, const lc_final *p, double latency_ms);
void events_stats(lc_events *ev, const lc_pipeline_snapshot *s);
void events_end(lc_events *ev, double audio_s, long finals);

/* Where save failures are reported instead of stderr (called with the
 * sink's mutex held, on the decode worker or the closing thread: it must
 * only copy the message). NULL restores stderr. */
void events_on_error(lc_events *ev, void (*fn)(void *ctx, const char *msg), void *ctx);

/* The fallback file the transcript went to after a --save failure, or
 * NULL when the save file is fine (or nothing could be written). */
const char *events_rescue_path(lc_events *ev);

/* Finals written so far. */
long events_finals(lc_events *ev);

/* Closes the files; returns -1 (with e naming the file) if any write failed. */
int events_close(lc_events *ev, lc_err *e);

/* pipeline sink adapters: ctx is the lc_events. */
void events_sink_final(void *ctx, const lc_final *f, double latency_ms);
void events_sink_partial(void *ctx, const lc_final *p, double latency_ms);

#endif
