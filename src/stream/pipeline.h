/* pipeline.h: the live captioning pipeline (SPEC §1 `live`, §4).
 *
 *   capture ──ring──▶ mel worker ──audio+mel buffer──▶ decode worker ──▶ sink
 *   (callback)        resample 16 kHz mono, VAD,        encoder, decoder,
 *                     log-mel frames incrementally      LocalAgreement-2
 *
 * Threads. The capture callback only writes the lock-free ring. The mel
 * worker reads the ring, resamples, runs the VAD and appends raw log10 mel
 * frames to a rolling buffer (≤ 30 s of window + a backlog bound); a frame
 * is computed once, when the 200 samples of look-ahead it needs are in. The
 * decode worker sleeps on a condition variable until the next window
 * boundary has mel frames: step_ms after the last decoded sample, or where
 * the VAD decided speech ended, or the end of the input. Boundaries are
 * sample positions, so the same audio gives the same windows however it
 * arrives, while the decoder keeps up (pipeline.c, window_end); a decoder
 * a whole step behind takes all there is. It copies the window's
 * frames under the buffer mutex, normalizes the copy (max−8 clamp over the
 * window, (x+4)/4), zero-pads it to 3000 frames, encodes, decodes (greedy
 * at T=0, timestamps on, prompt = recent committed text, max_tokens cap)
 * and feeds the words to the policy. The mel worker keeps computing while
 * the decode worker decodes.
 *
 * Hypothesis → words: segments are delimited by timestamp tokens (0.02 s
 * each, relative to the window start); a segment's text is split at spaces
 * (Whisper words carry their leading space) and its [t0, t1] is shared out
 * among its words in proportion to their byte length. This is an
 * approximation (no DTW word alignment, which random-weight models could
 * not support anyway). While speech goes on, the last segment without a
 * closing timestamp is left out of the hypothesis (its end is unknown) and
 * only shown in the partial; when the window is closed (speech end, end of
 * input) it ends at the window's end. Times are rounded to the millisecond.
 * A window whose no_speech_prob > no_speech_threshold and avg_logprob <
 * logprob_threshold has no words. A window the VAD calls silence is never
 * decoded (no text on silence); a speech end decodes once more, flushes the
 * policy and trims the buffer. A stop (pipeline_stop: Ctrl-C, SIGTERM)
 * commits the partial on screen, open segment included.
 *
 * A capture device that stops (unplugged, its server gone) is not the end
 * of the input: the mel worker waits for more audio while the owner
 * retries capture_reopen, and the snapshot's status says what is wrong.
 * Only a file source's end ends the pipeline.
 *
 * Falling behind: when more than 2 × max_window_s of captured audio has not
 * been decoded yet, the oldest undecoded audio is dropped (after flushing
 * the policy), counted in dropped_ms; ring overruns count there too.
 *
 * Sink: final/partial callbacks run on the decode worker (and on the thread
 * calling pipeline_stop, for the last flush); they must not call back into
 * the pipeline except pipeline_snapshot.
 *
 * For a UI thread (cmus player_info_snapshot style): pipeline_snapshot()
 * copies the statistics and the current partial under one short mutex, and
 * pipeline_finals() copies the finals the caller has not seen yet, so a
 * frame costs a few hundred bytes of copying. The pipeline keeps the last
 * PIPELINE_KEEP_FINALS finals for this.
 *
 * Ownership: the caller owns the model, backend, tokenizer, capture and
 * ring; they must outlive the pipeline. The pipeline creates its own
 * decoder, mel state, VAD, policy and resampler. All buffers are allocated
 * in pipeline_create; the workers do not allocate (the tokenizer's decode
 * of a window's text is the one malloc per step).
 *
 * Threads calling the API: create/start/stop/free and pause from one owner
 * thread (the one that owns the capture); snapshot/finals/wait from any
 * thread.
 */
#ifndef LC_PIPELINE_H
#define LC_PIPELINE_H

#include <stdint.h>

#include "capture/capture.h"
#include "decode/decode.h"
#include "stream/policy.h"
#include "stream/stats.h"

#define PIPELINE_KEEP_FINALS 256

typedef struct lc_pipeline lc_pipeline;

typedef struct lc_pipeline_sink {
    /* latency_ms: wall ms from the moment t1's last sample entered the ring
     * to now (SPEC §4); -1 when unknown (older than the ring's history). */
    void (*final)(void *ctx, const lc_final *f, double latency_ms);
    void (*partial)(void *ctx, const lc_final *p, double latency_ms);
    void *ctx;
} lc_pipeline_sink;

typedef struct lc_pipeline_opts {
    lc_model *model;
    lc_backend *backend;            /* encoder and decoder (decode worker) */
    lc_backend *mel_backend;        /* mel (mel worker); NULL = backend. A backend
                                     * is not reentrant, so pass a second one */
    const lc_tokenizer *tok;
    lc_capture *capture;            /* started by pipeline_start */
    lc_ring *ring;
    double in_rate;                 /* native rate and channels in the ring */
    int in_channels;
    int lang;                       /* language index, -1 = detect once */
    int translate;
    int beam;                       /* ≤ 1: greedy */
    int step_ms, max_window_s, max_tokens;
    double vad_threshold;
    int vad_hangover_ms;
    double no_speech_threshold, logprob_threshold;
    lc_pipeline_sink sink;
} lc_pipeline_opts;

typedef struct lc_stage_pct { double p50_ms, p95_ms; uint64_t n; } lc_stage_pct;

/* What a UI or the stats event shows; all times are copies. */
typedef struct lc_pipeline_snapshot {
    double audio_s;                 /* audio captured so far (16 kHz timeline) */
    double decoded_s;               /* end of the last decoded window */
    double rtf;                     /* compute s ÷ audio s, last 30 s of audio */
    double lag_ms;                  /* newest captured sample − end of last decoded window */
    double dropped_ms;              /* audio discarded (backlog drops + ring overruns) */
    lc_stage_pct stage[LC_STAGE_COUNT];
    lc_stage_pct final_latency, partial_latency;
    /* CPU use over the last ≥ 1 s (the first call: since start): each worker
     * as a fraction of one core; cpu_cores = process CPU time ÷ wall time
     * (OpenBLAS threads included); cpu = cpu_cores ÷ online cores (SPEC §4
     * util.cpu: a fraction of the whole machine). */
    double cpu_mel, cpu_decode, cpu_cores, cpu;
    int n_cores;
    /* Accelerator busy fraction over the same interval; < 0 = no NPU (JSON null). */
    double npu;
    double vad_level_db;
    int in_speech, paused, running, finished;
    /* capture trouble, one line ("" = fine): capture_status, e.g. the device
     * stopped; the owner retries capture_reopen meanwhile */
    char status[192];
    long n_finals;                  /* finals emitted so far */
    lc_final partial;               /* current partial (n_words 0 = none) */
} lc_pipeline_snapshot;

lc_pipeline *pipeline_create(const lc_pipeline_opts *o, lc_err *e);
/* Starts the workers, then the capture. */
int pipeline_start(lc_pipeline *p, lc_err *e);
/* Waits up to timeout_ms (condition variable) for the pipeline to finish
 * (end of input drained and flushed), or, after pipeline_request_stop, for
 * the decode worker to have left (it finishes the step it is in). Returns
 * 1 when so, else 0. */
int pipeline_wait(lc_pipeline *p, int timeout_ms);
/* Stops capture and tells the workers to stop; does not wait. The owner
 * keeps its loop (stats) going with pipeline_wait, then calls
 * pipeline_stop. */
void pipeline_request_stop(lc_pipeline *p);
/* Stops capture and both workers (no more decoding), then commits the
 * pending text through the sink's final callback. Idempotent. */
void pipeline_stop(lc_pipeline *p);
/* Pauses/resumes capture (capture_pause); paused audio is not captured. */
void pipeline_pause(lc_pipeline *p, int paused);
void pipeline_free(lc_pipeline *p);

/* Any thread, short mutex. */
void pipeline_snapshot(lc_pipeline *p, lc_pipeline_snapshot *out);
/* Copies finals with index ≥ from (0-based, in emission order), at most max;
 * returns how many were copied. Finals older than the last
 * PIPELINE_KEEP_FINALS are gone: *first gets the index of out[0]. */
int pipeline_finals(lc_pipeline *p, long from, lc_final *out, int max, long *first);

#endif
