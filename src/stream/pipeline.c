/* pipeline.c: the live pipeline's two workers (see pipeline.h). */
#include "stream/pipeline.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture/audiofile.h"
#include "mel/mel.h"
#include "stream/vad.h"
#include "util/mem.h"

#define SR MEL_SAMPLE_RATE
#define HOP MEL_HOP
#define LOOKAHEAD (MEL_N_FFT / 2)   /* a centred frame needs 200 samples past its centre */
#define READ_FRAMES 4800            /* native frames per ring read: 100 ms at 48 kHz */
#define RING_POLL_MS 10             /* the file source's block, PortAudio's usual period */
#define PREROLL (SR * 3 / 10)       /* 300 ms kept before speech: vad.h's unvoiced onsets */
#define TS_STEP 0.02                /* seconds per timestamp token (openai) */
#define MAX_PROMPT 224              /* openai: the last n_text_ctx/2 − 1 prompt tokens */

struct lc_pipeline {
    lc_pipeline_opts o;
    int n_mels;
    lc_decoder *dec;
    lc_mel *mel;
    lc_vad *vad;
    lc_policy *pol;
    lc_resampler *rs;

    /* mel worker scratch */
    float *in_buf, *rs_out;
    size_t rs_cap;

    /* the rolling buffer, under mu. Absolute sample/frame indices on the
     * 16 kHz timeline since capture started; audio[0] is sample buf_start
     * (a multiple of HOP), melbuf[0] is frame buf_start / HOP. */
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_done;
    float *audio, *melbuf;
    int64_t audio_cap, buf_start, buf_end, mel_end;
    int64_t decoded_end;          /* end of the last window decoded (or skipped as silence) */
    int64_t seg_start;            /* start of the speech in progress (vad_speech_start) */
    int64_t speech_last;          /* end of the last finished speech (vad_speech_end) */
    int64_t close_at;             /* where the VAD decided that speech ended (pending close) */
    int in_speech, speech_end_pending, eof_in, stop, finished, paused, dec_exited;
    double vad_level;
    double dropped_ms;
    uint64_t overrun_frames;

    /* decode worker scratch */
    float *win;                   /* [3000, n_mels] */
    int prompt[MAX_PROMPT + 8];
    lc_word *words;
    int n_words;
    uint64_t rng;
    char last_partial[2048];

    /* published stats, under smu */
    pthread_mutex_t smu;
    lc_hist hist[LC_STAGE_COUNT], h_final, h_partial;
    lc_rtf rtf;
    lc_final partial;
    lc_final *finals;             /* ring of PIPELINE_KEEP_FINALS */
    long n_finals;
    int64_t tick_wall, tick_proc, tick_mel, tick_dec, tick_npu;
    double u_mel, u_dec, u_cores, u_npu;
    int have_util;

    pthread_t th_mel, th_dec;
    int started, joined;
};

static double ms_since(int64_t t0) { return (ring_now_ns() - t0) / 1e6; }

/* ---- stats ------------------------------------------------------------------ */

static void stat_add(lc_pipeline *p, int stage, double ms, double compute_s_audio_at)
{
    pthread_mutex_lock(&p->smu);
    stats_hist_add(&p->hist[stage], ms);
    if (stage != LC_STAGE_CAPTURE) stats_rtf_add(&p->rtf, compute_s_audio_at, ms / 1e3);
    pthread_mutex_unlock(&p->smu);
}

/* Wall ms since sample t1 (seconds, 16 kHz timeline) entered the ring. */
static double latency_of(const lc_pipeline *p, double t1)
{
    uint64_t frames = (uint64_t)llround(t1 * p->o.in_rate);
    uint64_t k = frames * (uint64_t)p->o.in_channels, w = ring_total_written(p->o.ring);
    if (k == 0) k = 1;
    if (k > w) k = w;
    if (k == 0) return -1;
    int64_t t = ring_time_of(p->o.ring, k - 1);
    return t < 0 ? -1 : (ring_now_ns() - t) / 1e6;
}

static void emit_final(lc_pipeline *p, const lc_final *f)
{
    double lat = latency_of(p, f->t1);
    pthread_mutex_lock(&p->smu);
    p->finals[p->n_finals % PIPELINE_KEEP_FINALS] = *f;
    p->n_finals++;
    if (lat >= 0) stats_hist_add(&p->h_final, lat);
    pthread_mutex_unlock(&p->smu);
    if (p->o.sink.final) p->o.sink.final(p->o.sink.ctx, f, lat);
}

static void emit_partial(lc_pipeline *p, const lc_final *f)
{
    if (!strcmp(f->text, p->last_partial)) return; /* only changes are news */
    snprintf(p->last_partial, sizeof p->last_partial, "%s", f->text);
    double lat = f->n_words ? latency_of(p, f->t1) : -1;
    pthread_mutex_lock(&p->smu);
    p->partial = *f;
    if (lat >= 0) stats_hist_add(&p->h_partial, lat);
    pthread_mutex_unlock(&p->smu);
    if (p->o.sink.partial) p->o.sink.partial(p->o.sink.ctx, f, lat);
}

static void flush_policy(lc_pipeline *p)
{
    static const lc_final empty;
    lc_final *f = malloc(sizeof *f); /* off the hot path: speech end, stop */
    if (!f) return;
    while (policy_flush(p->pol, f) > 0) emit_final(p, f);
    free(f);
    emit_partial(p, &empty);
}

/* ---- the rolling buffer (mu held) ------------------------------------------ */

/* Forgets everything before sample `to` (rounded down to a frame). */
static void buf_trim(lc_pipeline *p, int64_t to)
{
    to -= to % HOP;
    if (to <= p->buf_start) return;
    if (to > p->buf_end) to = p->buf_end - p->buf_end % HOP;
    int64_t d = to - p->buf_start, df = d / HOP;
    int64_t keep = p->buf_end - to;
    if (keep > 0) memmove(p->audio, p->audio + d, sizeof(float) * (size_t)keep);
    int64_t f0 = p->buf_start / HOP, keep_f = p->mel_end - f0 - df;
    if (keep_f > 0) memmove(p->melbuf, p->melbuf + df * p->n_mels, sizeof(float) * (size_t)(keep_f * p->n_mels));
    p->buf_start = to;
    if (p->mel_end < to / HOP) p->mel_end = to / HOP;
    if (p->decoded_end < to) p->decoded_end = to;
}

/* Computes the frames whose look-ahead is in (all of them at the end). */
static void buf_frames(lc_pipeline *p, int at_end)
{
    int64_t f0 = p->buf_start / HOP;
    int64_t last = at_end ? (p->buf_end + HOP - 1) / HOP : (p->buf_end - LOOKAHEAD) / HOP + 1;
    if (last > f0 + p->audio_cap / HOP) last = f0 + p->audio_cap / HOP;
    if (last <= p->mel_end) return;
    long n = (long)(p->buf_end - p->buf_start);
    if (n <= 0) return;
    lc_err e;
    if (mel_log10(p->mel, p->audio, n, (long)(p->mel_end - f0), (long)(last - p->mel_end),
                  p->melbuf + (p->mel_end - f0) * p->n_mels, &e) == 0)
        p->mel_end = last;
}

/* ---- mel worker ---------------------------------------------------------------- */

/* Where the next window ends (a frame index), or -1 when none is due yet;
 * *closed says whether it closes the speech (VAD end, end of input).
 *
 * Windows end on sample positions fixed by the audio alone: every step
 * after the last decoded sample, and where the VAD decided that speech
 * ended. A window is due once its end has mel frames. While the decoder
 * keeps up it wakes for one boundary at a time, so the same audio gives the
 * same windows, and the same finals, however it arrives: a file at any
 * speed, a device with 10-ms periods or bursty ones (a capture xrun
 * delivers 100 ms at once). Taking all the audio there is at wake-up, as
 * before, made the windows depend on scheduling. The cost: at most one
 * capture block of audio waits for the next window. A decoder that comes
 * back late, but by less than a step, still ends its window on the
 * boundary (a step can take longer than usual on a loaded machine: 200 ms
 * of slack was not enough on CI at 4x speed); the lateness then adds to
 * that window's latency. Later than a whole step, it is not keeping up: it
 * takes all the audio there is and closes the window if speech ended in it
 * (one decode, not one to the close point and one after it: a machine that
 * cannot keep up must not be given more windows). The windows then depend
 * on timing, as they must when the machine cannot keep up. */
static int64_t window_end(const lc_pipeline *p, int *closed)
{
    const int64_t stepf = ((int64_t)p->o.step_ms * SR / 1000 + HOP - 1) / HOP;
    const int64_t d0 = p->decoded_end / HOP, me = p->mel_end;
    *closed = 1;
    if (p->eof_in) return me;
    int64_t c = INT64_MAX;
    if (p->speech_end_pending) {
        c = (p->close_at + HOP - 1) / HOP;
        if (c < d0) c = d0; /* already decoded past it (a catch-up window): close now */
    }
    int64_t b = d0 + stepf < c ? d0 + stepf : c;
    if (me < b) return -1;
    if (me - b > stepf) { /* behind: all there is, closed if speech ended in it */
        *closed = c <= me;
        return me;
    }
    *closed = b == c;
    return b;
}

static int decode_due(const lc_pipeline *p)
{
    int closed;
    return window_end(p, &closed) >= 0;
}

static void mel_append(lc_pipeline *p, const float *x, size_t n, int at_end)
{
    int ev = n ? vad_process(p->vad, x, n) : 0;
    pthread_mutex_lock(&p->mu);
    if (p->buf_end + (int64_t)n - p->buf_start > p->audio_cap) {
        /* The decode worker did not trim (it enforces a tighter bound, so
         * this is a stall): drop the oldest audio, visibly. */
        int64_t to = p->buf_end + (int64_t)n - p->audio_cap + SR;
        int64_t from = p->decoded_end > p->buf_start ? p->decoded_end : p->buf_start;
        if (to > from) p->dropped_ms += (to - from) * 1000.0 / SR;
        buf_trim(p, to);
    }
    memcpy(p->audio + (p->buf_end - p->buf_start), x, sizeof(float) * n);
    p->buf_end += (int64_t)n;
    if (ev & LC_VAD_SPEECH_END) {
        int64_t end = vad_speech_end(p->vad);
        if (end > p->speech_last) p->speech_last = end;
        p->close_at = vad_end_decided(p->vad);
        p->speech_end_pending = 1;
    }
    if (ev & LC_VAD_SPEECH_START) p->seg_start = vad_speech_start(p->vad);
    p->in_speech = vad_is_speech(p->vad);
    p->vad_level = vad_level_db(p->vad);
    buf_frames(p, at_end);
    if (at_end) p->eof_in = 1;
    if (decode_due(p)) pthread_cond_signal(&p->cv_work);
    pthread_mutex_unlock(&p->mu);
}

static void *mel_main(void *arg)
{
    lc_pipeline *p = arg;
    const int ch = p->o.in_channels;
    pthread_mutex_lock(&p->mu);
    while (!p->stop) {
        size_t avail = ring_available(p->o.ring);
        avail -= avail % (size_t)ch;
        if (avail == 0) {
            /* a device in trouble is not the end of the input (see pipeline.h) */
            if (capture_eof(p->o.capture) && !capture_status(p->o.capture, NULL, 0)) break;
            /* The ring has no wake-up (its producer is a real-time callback
             * that must not touch a mutex), so look again after one
             * capture period; stop wakes this wait at once. */
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_nsec += RING_POLL_MS * 1000000L;
            if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
            pthread_cond_timedwait(&p->cv_work, &p->mu, &ts);
            continue;
        }
        pthread_mutex_unlock(&p->mu);
        size_t frames = avail / (size_t)ch;
        if (frames > READ_FRAMES) frames = READ_FRAMES;
        size_t got = ring_read(p->o.ring, p->in_buf, frames * (size_t)ch);
        int64_t t0 = ring_now_ns();
        int64_t wt = ring_time_of(p->o.ring, ring_total_read(p->o.ring) - 1);
        if (wt >= 0) stat_add(p, LC_STAGE_CAPTURE, (t0 - wt) / 1e6, 0);
        size_t out = 0;
        if (resampler_process(p->rs, p->in_buf, got / (size_t)ch, p->rs_out, p->rs_cap, &out) == 0)
            mel_append(p, p->rs_out, out, 0);
        stat_add(p, LC_STAGE_MEL, ms_since(t0), (double)p->buf_end / SR);
        pthread_mutex_lock(&p->mu);
    }
    int stopping = p->stop;
    pthread_mutex_unlock(&p->mu);
    if (!stopping) { /* end of input: the resampler's tail, then the last frames */
        size_t out = 0;
        if (resampler_flush(p->rs, p->rs_out, p->rs_cap, &out) != 0) out = 0;
        mel_append(p, p->rs_out, out, 1);
    }
    return NULL;
}

/* ---- hypothesis → words ---------------------------------------------------------- */

static void add_words(lc_pipeline *p, const char *text, double t0, double t1)
{
    size_t len = strlen(text);
    if (!len) return;
    size_t start = 0;
    while (start < len && p->n_words < POLICY_MAX_WORDS) {
        size_t end = start + 1;
        while (end < len && text[end] != ' ') end++;
        /* share [t0, t1] out by byte length (an approximation, see pipeline.h) */
        lc_word *w = &p->words[p->n_words++];
        w->t0 = t0 + (t1 - t0) * (double)start / (double)len;
        w->t1 = t0 + (t1 - t0) * (double)end / (double)len;
        w->t0 = llround(w->t0 * 1000) / 1000.0;
        w->t1 = llround(w->t1 * 1000) / 1000.0;
        size_t n = end - start;
        if (n > sizeof w->text - 1) { /* cut at a UTF-8 boundary */
            n = sizeof w->text - 1;
            while (n > 0 && ((unsigned char)text[start + n] & 0xC0) == 0x80) n--;
        }
        memcpy(w->text, text + start, n);
        w->text[n] = 0;
        if (!n) p->n_words--;
        start = end;
    }
}

/* Turns the decoded tokens into words (absolute times) in p->words; the
 * text of the open last segment, if the window is open, goes to *open_text
 * (malloc'ed) with its start in *open_t0. */
static void tokens_to_words(lc_pipeline *p, const int *tk, int n, double w0, double wlen, int closed,
                            char **open_text, double *open_t0)
{
    const lc_model *m = p->o.model;
    const int tsb = m->sp.ts_begin, eot = m->sp.eot;
    p->n_words = 0;
    *open_text = NULL;
    int seg_from = -1; /* first text token of the segment being read */
    double seg_t0 = 0; /* its start: the last timestamp (0 if none yet) */
    for (int i = 0; i < n; i++) {
        if (tk[i] < tsb) {
            if (seg_from < 0) seg_from = i;
            continue;
        }
        double t = (tk[i] - tsb) * TS_STEP;
        if (t > wlen) t = wlen;
        if (seg_from >= 0) { /* <|t0|> text <|t1|>: a closed segment */
            char *txt = tokenizer_decode(p->o.tok, tk + seg_from, i - seg_from, eot);
            if (txt) add_words(p, txt, w0 + (seg_t0 < t ? seg_t0 : t), w0 + t);
            free(txt);
            seg_from = -1;
        }
        seg_t0 = t;
    }
    if (seg_from >= 0) { /* the last segment has no closing timestamp */
        char *txt = tokenizer_decode(p->o.tok, tk + seg_from, n - seg_from, eot);
        if (txt && closed) {
            add_words(p, txt, w0 + seg_t0, w0 + wlen);
            free(txt);
        } else {
            *open_text = txt;
            *open_t0 = w0 + seg_t0;
        }
    }
}

/* ---- decode worker ----------------------------------------------------------------- */

/* Tokens a window of wlen seconds may produce: speech runs at about 3–4
 * tokens/s plus two timestamps per segment, so 6/s + 16 never cuts real
 * text, while a model stuck in a repetition loop (or a random-weight one,
 * which always writes to the cap) stops early instead of decoding 128
 * tokens for every half-second step. */
static int window_token_cap(int max_tokens, double wlen)
{
    int cap = 16 + (int)(6.0 * wlen);
    return cap < max_tokens ? cap : max_tokens;
}

/* Encodes and decodes the window already copied to p->win (nf frames from
 * sample w_start), updates the policy and emits. mu is not held. */
static void decode_step(lc_pipeline *p, int64_t w_start, int64_t nf, int closed)
{
    const lc_model *m = p->o.model;
    const size_t cnt = (size_t)nf * (size_t)p->n_mels;
    const double w0 = (double)w_start / SR, wlen = (double)nf * HOP / SR, at = w0 + wlen;
    lc_err e;
    mel_normalize(p->win, cnt, mel_max(p->win, cnt));
    memset(p->win + cnt, 0, sizeof(float) * ((size_t)MEL_N_FRAMES * p->n_mels - cnt)); /* pad_or_trim */

    int64_t t0 = ring_now_ns();
    if (whisper_encode(decoder_state(p->dec), p->win, &e)) return;
    if (p->o.lang < 0) { /* detect once, on the first window with speech */
        double probs[256];
        if (m->sp.n_langs <= 256) p->o.lang = decode_detect_language(p->dec, probs, &e);
        if (p->o.lang < 0) p->o.lang = 0;
    }
    stat_add(p, LC_STAGE_ENCODER, ms_since(t0), at);

    t0 = ring_now_ns();
    int np = tokenizer_encode(p->o.tok, policy_prompt(p->pol), p->prompt, MAX_PROMPT);
    if (np < 0) np = 0;
    if (np > MAX_PROMPT) np = MAX_PROMPT; /* the first ones; decode keeps the last n_ctx/2−1 anyway */
    lc_decode_opts o = {
        .lang = p->o.lang, .translate = p->o.translate, .temperature = 0,
        .beam_size = p->o.beam > 1 ? p->o.beam : 0, .patience = 1.0, .length_penalty = -1,
        .prompt = p->prompt, .n_prompt = np, .max_initial_timestamp = 1.0,
        .max_tokens = window_token_cap(p->o.max_tokens, wlen), .rng = &p->rng,
    };
    lc_decode_result r;
    int rc = decode_window(p->dec, &o, &r, &e);
    stat_add(p, LC_STAGE_DECODER, ms_since(t0), at);
    if (rc) return;

    t0 = ring_now_ns();
    char *open_text = NULL;
    double open_t0 = 0;
    p->n_words = 0;
    int silent = r.no_speech_prob > p->o.no_speech_threshold && r.avg_logprob < p->o.logprob_threshold;
    if (!silent) tokens_to_words(p, r.tokens, r.n_tokens, w0, wlen, closed, &open_text, &open_t0);
    lc_final f;
    if (policy_update(p->pol, p->words, p->n_words, &f) > 0) emit_final(p, &f);
    if (closed) {
        flush_policy(p);
    } else {
        /* the partial: the policy's tentative tail, then the open segment */
        policy_partial(p->pol, &f);
        if (open_text && open_text[0]) {
            size_t l = strlen(f.text), add = strlen(open_text);
            if (l + add < sizeof f.text) {
                memcpy(f.text + l, open_text, add + 1);
                if (!f.n_words) f.t0 = open_t0 < f.t0 || f.t0 == 0 ? open_t0 : f.t0;
                f.n_words++;
                f.t1 = llround(at * 1000) / 1000.0;
            }
        }
        emit_partial(p, &f);
    }
    free(open_text);
    stat_add(p, LC_STAGE_POLICY, ms_since(t0), at);
}

static void *dec_main(void *arg)
{
    lc_pipeline *p = arg;
    const int64_t maxwin = (int64_t)p->o.max_window_s * SR, step = (int64_t)p->o.step_ms * SR / 1000;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && !decode_due(p)) pthread_cond_wait(&p->cv_work, &p->mu);
        if (p->stop) break;
        if (p->buf_end - p->decoded_end > 2 * maxwin) {
            /* Fallen behind by more than two windows: commit what is
             * pending, drop the oldest undecoded audio, say so. */
            pthread_mutex_unlock(&p->mu);
            flush_policy(p);
            pthread_mutex_lock(&p->mu);
            int64_t from = p->decoded_end > p->buf_start ? p->decoded_end : p->buf_start;
            int64_t to = p->buf_end - maxwin;
            if (to > from) p->dropped_ms += (to - from) * 1000.0 / SR;
            buf_trim(p, to);
        }
        int at_eof = p->eof_in, closed;
        const int64_t w_start = p->buf_start, f0 = w_start / HOP;
        int64_t nf = window_end(p, &closed) - f0;
        if (nf > maxwin / HOP) { nf = maxwin / HOP; closed = 0; }
        if (closed) p->speech_end_pending = 0;
        const int64_t w_end = (f0 + nf) * HOP;
        /* speech in [w_start, w_end): the speech in progress began before
         * its end, or the last one ended after its start */
        const int speech = (p->in_speech && p->seg_start < w_end) || p->speech_last > w_start;
        if (!speech || nf <= 0) {
            /* silence: nothing to decode (no hallucinated text), keep a pre-roll */
            if (w_end > p->decoded_end) p->decoded_end = w_end;
            buf_trim(p, w_end - PREROLL);
        } else {
            memcpy(p->win, p->melbuf, sizeof(float) * (size_t)(nf * p->n_mels));
            pthread_mutex_unlock(&p->mu);
            /* No commit within a whole window: force one, the open segment
             * (no end timestamp yet) included, as at a speech end; the
             * trim below would otherwise drop its words unsaid. */
            const int forced = !closed && w_end - w_start >= maxwin - step;
            decode_step(p, w_start, nf, closed || forced);
            int64_t cu = llround(policy_committed_until(p->pol) * SR);
            pthread_mutex_lock(&p->mu);
            if (w_end > p->decoded_end) p->decoded_end = w_end;
            if (cu > w_end) cu = w_end;
            if (closed) buf_trim(p, cu > w_end - PREROLL ? cu : w_end - PREROLL);
            else if (forced) buf_trim(p, cu > w_start + maxwin / 2 ? cu : w_start + maxwin / 2);
            else if (w_end - w_start > maxwin / 2) buf_trim(p, cu); /* whisper_streaming trims at ~15 s */
        }
        if (at_eof && p->decoded_end >= p->mel_end * HOP) break;
    }
    int stopped = p->stop;
    pthread_mutex_unlock(&p->mu);
    if (!stopped) flush_policy(p);
    pthread_mutex_lock(&p->mu);
    if (!stopped) p->finished = 1;
    p->dec_exited = 1;
    pthread_cond_broadcast(&p->cv_done);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* ---- API ------------------------------------------------------------------------------ */

lc_pipeline *pipeline_create(const lc_pipeline_opts *o, lc_err *e)
{
    if (o->in_channels < 1 || o->in_rate <= 0 || o->max_window_s < 1 || o->max_window_s > 30 ||
        o->step_ms < 1) {
        lc_fail(e, "live: bad pipeline settings (rate %g, channels %d, window %d s)", o->in_rate,
                o->in_channels, o->max_window_s);
        return NULL;
    }
    lc_pipeline *p = calloc(1, sizeof *p);
    if (!p) { lc_fail(e, "out of memory"); return NULL; }
    p->o = *o;
    if (!p->o.mel_backend) p->o.mel_backend = o->backend;
    p->n_mels = o->model->hp.n_mels;
    p->rng = 0x5eed;
    pthread_mutex_init(&p->mu, NULL);
    pthread_mutex_init(&p->smu, NULL);
    /* timed waits on CLOCK_MONOTONIC: a wall clock stepped back (NTP, a
     * VM resynchronised after a pause) would stretch the mel worker's poll
     * and the stats timer by the size of the step */
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cv_work, &ca);
    pthread_cond_init(&p->cv_done, &ca);
    pthread_condattr_destroy(&ca);
    /* window (≤ 30 s) + the 2-window backlog bound + 2 s of slack */
    p->audio_cap = (int64_t)(3 * o->max_window_s + 2) * SR;
    p->rs_cap = 0;
    if (!(p->dec = decoder_create(o->model, o->tok, o->backend, o->beam > 1 ? o->beam : 1, e)) ||
        !(p->mel = mel_create(o->model->mel_filters, p->n_mels, p->o.mel_backend, e)) ||
        !(p->rs = resampler_new(o->in_rate, o->in_channels, e)))
        goto fail;
    p->rs_cap = resampler_out_max(p->rs, READ_FRAMES);
    size_t fl = resampler_out_max(p->rs, 0);
    if (fl > p->rs_cap) p->rs_cap = fl;
    p->vad = vad_create(o->vad_threshold, o->vad_hangover_ms);
    p->pol = policy_create();
    p->in_buf = malloc(sizeof(float) * READ_FRAMES * (size_t)o->in_channels);
    p->rs_out = malloc(sizeof(float) * p->rs_cap);
    p->audio = malloc(sizeof(float) * (size_t)p->audio_cap);
    p->melbuf = malloc(sizeof(float) * (size_t)(p->audio_cap / HOP + 2) * (size_t)p->n_mels);
    p->win = malloc(sizeof(float) * MEL_N_FRAMES * (size_t)p->n_mels);
    p->words = malloc(sizeof(lc_word) * POLICY_MAX_WORDS);
    p->finals = calloc(PIPELINE_KEEP_FINALS, sizeof(lc_final));
    if (!p->vad || !p->pol || !p->in_buf || !p->rs_out || !p->audio || !p->melbuf || !p->win ||
        !p->words || !p->finals) {
        lc_fail(e, "out of memory");
        goto fail;
    }
    /* back the rolling buffers now (util/mem.h): the window fills up only
     * over the first half minute */
    lc_prefault(p->audio, sizeof(float) * (size_t)p->audio_cap);
    lc_prefault(p->melbuf, sizeof(float) * (size_t)(p->audio_cap / HOP + 2) * (size_t)p->n_mels);
    lc_prefault(p->win, sizeof(float) * MEL_N_FRAMES * (size_t)p->n_mels);
    for (int s = 0; s < LC_STAGE_COUNT; s++) stats_hist_reset(&p->hist[s]);
    stats_hist_reset(&p->h_final);
    stats_hist_reset(&p->h_partial);
    stats_rtf_reset(&p->rtf);
    return p;
fail:
    pipeline_free(p);
    return NULL;
}

static int64_t npu_busy_ns(const lc_pipeline *p, int *present)
{
    lc_backend_stats s;
    int64_t busy = 0;
    *present = 0;
    const lc_backend *bs[2] = { p->o.backend, p->o.mel_backend != p->o.backend ? p->o.mel_backend : NULL };
    for (int i = 0; i < 2; i++) {
        if (!bs[i] || !bs[i]->accel || !bs[i]->accel->is_npu) continue;
        backend_stats(bs[i], &s);
        *present = 1;
        busy += (int64_t)s.accel_busy_ns;
    }
    return busy;
}

int pipeline_start(lc_pipeline *p, lc_err *e)
{
    int present;
    p->tick_wall = ring_now_ns();
    p->tick_proc = stats_process_cpu_ns();
    p->tick_npu = npu_busy_ns(p, &present);
    if (pthread_create(&p->th_mel, NULL, mel_main, p) != 0) return lc_fail(e, "live: cannot start the mel thread");
    if (pthread_create(&p->th_dec, NULL, dec_main, p) != 0) {
        pthread_mutex_lock(&p->mu);
        p->stop = 1;
        pthread_cond_broadcast(&p->cv_work);
        pthread_mutex_unlock(&p->mu);
        pthread_join(p->th_mel, NULL);
        return lc_fail(e, "live: cannot start the decode thread");
    }
    p->started = 1;
    if (capture_start(p->o.capture, e)) { pipeline_stop(p); return -1; }
    return 0;
}

int pipeline_wait(lc_pipeline *p, int timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
    pthread_mutex_lock(&p->mu);
    int rc = 0;
    while (!p->finished && !p->dec_exited && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&p->cv_done, &p->mu, &ts);
    int done = p->finished || p->dec_exited;
    pthread_mutex_unlock(&p->mu);
    return done;
}

void pipeline_request_stop(lc_pipeline *p)
{
    if (!p || !p->started || p->joined) return;
    capture_stop(p->o.capture);
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->cv_work);
    pthread_mutex_unlock(&p->mu);
}

void pipeline_stop(lc_pipeline *p)
{
    if (!p || !p->started || p->joined) return;
    pipeline_request_stop(p);
    pthread_join(p->th_mel, NULL);
    pthread_join(p->th_dec, NULL);
    p->joined = 1;
    /* What the user last saw is committed, never lost. The partial is the
     * policy's tail plus the open segment (words with no end timestamp
     * yet), which the policy does not hold, so flushing the policy alone
     * would drop the open segment's words: commit the partial instead.
     * (At end of input the last window is decoded closed, so there is no
     * open segment; this is for a stop mid-speech: Ctrl-C, SIGTERM.) */
    lc_final *f = malloc(sizeof *f);
    if (f) {
        pthread_mutex_lock(&p->smu);
        *f = p->partial;
        pthread_mutex_unlock(&p->smu);
        if (f->n_words > 0 && f->text[0]) {
            double cu = policy_committed_until(p->pol); /* finals never overlap */
            if (f->t0 < cu) f->t0 = cu;
            if (f->t1 < f->t0) f->t1 = f->t0;
            emit_final(p, f);
            while (policy_flush(p->pol, f) > 0) /* the tail is in it already */
                ;
        }
        free(f);
    }
    flush_policy(p);
    pthread_mutex_lock(&p->mu);
    p->finished = 1;
    pthread_cond_broadcast(&p->cv_done);
    pthread_mutex_unlock(&p->mu);
}

void pipeline_pause(lc_pipeline *p, int paused)
{
    capture_pause(p->o.capture, paused);
    pthread_mutex_lock(&p->mu);
    p->paused = paused;
    pthread_mutex_unlock(&p->mu);
}

void pipeline_free(lc_pipeline *p)
{
    if (!p) return;
    pipeline_stop(p);
    decoder_free(p->dec);
    mel_free(p->mel);
    vad_free(p->vad);
    policy_free(p->pol);
    resampler_free(p->rs);
    free(p->in_buf);
    free(p->rs_out);
    free(p->audio);
    free(p->melbuf);
    free(p->win);
    free(p->words);
    free(p->finals);
    pthread_mutex_destroy(&p->mu);
    pthread_mutex_destroy(&p->smu);
    pthread_cond_destroy(&p->cv_work);
    pthread_cond_destroy(&p->cv_done);
    free(p);
}

static lc_stage_pct pct(const lc_hist *h)
{
    lc_stage_pct s = { stats_hist_quantile(h, 0.5), stats_hist_quantile(h, 0.95), h->n };
    return s;
}

/* CPU and NPU use since the last tick, re-measured at most once a second
 * (smu held). */
static void util_tick(lc_pipeline *p, int alive)
{
    int64_t now = ring_now_ns();
    if (p->have_util && now - p->tick_wall < 1000000000LL) return;
    if (now - p->tick_wall < 50000000LL) return; /* too short to mean anything */
    double wall = (double)(now - p->tick_wall);
    int64_t proc = stats_process_cpu_ns(), mel = -1, dec = -1;
    if (alive) { mel = stats_thread_cpu_ns(p->th_mel); dec = stats_thread_cpu_ns(p->th_dec); }
    int present;
    int64_t npu = npu_busy_ns(p, &present);
    if (proc >= 0) p->u_cores = (proc - p->tick_proc) / wall;
    if (mel >= 0) p->u_mel = (mel - p->tick_mel) / wall;
    if (dec >= 0) p->u_dec = (dec - p->tick_dec) / wall;
    p->u_npu = present ? fmin(1.0, (npu - p->tick_npu) / wall) : -1;
    p->tick_wall = now;
    p->tick_proc = proc;
    if (mel >= 0) p->tick_mel = mel;
    if (dec >= 0) p->tick_dec = dec;
    p->tick_npu = npu;
    p->have_util = 1;
}

void pipeline_snapshot(lc_pipeline *p, lc_pipeline_snapshot *s)
{
    memset(s, 0, sizeof *s);
    const double per_s = p->o.in_rate * p->o.in_channels;
    s->audio_s = ring_total_written(p->o.ring) / per_s;
    pthread_mutex_lock(&p->mu);
    s->decoded_s = (double)p->decoded_end / SR;
    s->dropped_ms = p->dropped_ms + capture_overruns(p->o.capture) * 1000.0 / p->o.in_rate;
    s->vad_level_db = p->vad_level;
    s->in_speech = p->in_speech;
    s->paused = p->paused;
    s->running = p->started && !p->joined && !p->finished;
    s->finished = p->finished;
    int alive = p->started && !p->joined;
    pthread_mutex_unlock(&p->mu);
    s->lag_ms = fmax(0, (s->audio_s - s->decoded_s) * 1000.0);
    long nc = sysconf(_SC_NPROCESSORS_ONLN);
    s->n_cores = nc > 0 ? (int)nc : 1;
    pthread_mutex_lock(&p->smu);
    for (int i = 0; i < LC_STAGE_COUNT; i++) s->stage[i] = pct(&p->hist[i]);
    s->final_latency = pct(&p->h_final);
    s->partial_latency = pct(&p->h_partial);
    s->rtf = stats_rtf(&p->rtf, s->audio_s);
    util_tick(p, alive);
    s->cpu_mel = p->u_mel;
    s->cpu_decode = p->u_dec;
    s->cpu_cores = p->u_cores;
    s->cpu = p->u_cores / s->n_cores;
    int present = 0;
    if (!p->have_util) npu_busy_ns(p, &present);
    s->npu = p->have_util ? p->u_npu : present ? 0 : -1; /* -1: no NPU, JSON null */
    s->n_finals = p->n_finals;
    s->partial = p->partial;
    pthread_mutex_unlock(&p->smu);
    capture_status(p->o.capture, s->status, sizeof s->status);
}

int pipeline_finals(lc_pipeline *p, long from, lc_final *out, int max, long *first)
{
    pthread_mutex_lock(&p->smu);
    long oldest = p->n_finals > PIPELINE_KEEP_FINALS ? p->n_finals - PIPELINE_KEEP_FINALS : 0;
    if (from < oldest) from = oldest;
    int n = 0;
    for (long i = from; i < p->n_finals && n < max; i++) out[n++] = p->finals[i % PIPELINE_KEEP_FINALS];
    if (first) *first = from;
    pthread_mutex_unlock(&p->smu);
    return n;
}
