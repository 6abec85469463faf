/* vad.c: energy VAD with a minimum-statistics noise floor (see vad.h). */
#include "stream/vad.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define VAD_DEFAULT_THRESHOLD_DB 6.0
#define VAD_SILENCE_DB -100.0  /* what a frame of zeros reads (1e-10 power) */
/* High-pass pole: cutoff (1 - R) * fs / 2π ≈ 50 Hz at 16 kHz, below the
 * lowest voice fundamentals (~80 Hz): removes DC, weakens rumble. */
#define VAD_HP_R 0.98
/* Energies are averaged over the last 3 frames (30 ms): a single 10-ms
 * frame of narrowband noise has so few degrees of freedom that its energy
 * jumps by many dB from frame to frame. */
#define VAD_AVG_FRAMES 3
/* Minimum statistics: 8 sub-windows of 20 frames = 1.6 s of memory. Longer
 * than the pauses inside speech, short enough to adapt to a new steady
 * noise within ~2 s. */
#define VAD_SUB_FRAMES 20
#define VAD_N_SUB 8
#define VAD_START_FRAMES 3      /* 30 ms of activity starts speech */
#define VAD_ZCR_MAX 0.35        /* voiced speech ≈ 0.02-0.15, white noise ≈ 0.5 */

struct lc_vad {
    double thr_db;
    int hangover_frames;
    float frame[VAD_FRAME];     /* a partial frame between calls */
    int fill;
    double hp_x1, hp_y1;        /* high-pass state */
    double pow_hist[VAD_AVG_FRAMES]; /* high-passed power of the last frames */
    double level_db, floor_db;
    double sub_min[VAD_N_SUB];  /* minima of the last whole sub-windows */
    int n_sub, sub_next;        /* how many are valid, next slot to write */
    double cur_min;             /* minimum of the sub-window being filled */
    int cur_frames;
    int speech, run_active, run_silent;
    int64_t n_frames, n_speech_frames, start_sample, end_sample, end_decided;
};

static double vad_db(double mean_square)
{
    return 10.0 * log10(mean_square + 1e-10);
}

/* Adds one frame's energy to the minimum statistics; returns the floor. */
static double vad_floor_update(lc_vad *v, double e)
{
    if (v->cur_frames == 0 || e < v->cur_min)
        v->cur_min = e;
    if (++v->cur_frames == VAD_SUB_FRAMES) {
        v->sub_min[v->sub_next] = v->cur_min;
        v->sub_next = (v->sub_next + 1) % VAD_N_SUB;
        if (v->n_sub < VAD_N_SUB)
            v->n_sub++;
        v->cur_frames = 0;
    }
    /* The current sub-window counts from its first frame, so the floor
     * follows a drop at once and the first frame initialises it. */
    double f = v->cur_frames ? v->cur_min : v->sub_min[(v->sub_next + VAD_N_SUB - 1) % VAD_N_SUB];
    for (int i = 0; i < v->n_sub; i++)
        if (v->sub_min[i] < f)
            f = v->sub_min[i];
    return f;
}

/* Classifies one whole frame; returns the events it caused. */
static int vad_frame(lc_vad *v, const float *x)
{
    double raw = 0, hp = 0;
    int crossings = 0, prev_neg = 0;
    for (int i = 0; i < VAD_FRAME; i++) {
        double y = x[i] - v->hp_x1 + VAD_HP_R * v->hp_y1;
        v->hp_x1 = x[i];
        v->hp_y1 = y;
        raw += (double)x[i] * x[i];
        hp += y * y;
        int neg = y < 0;
        if (i > 0 && neg != prev_neg)
            crossings++;
        prev_neg = neg;
    }
    int64_t frame_start = v->n_frames * VAD_FRAME;
    v->level_db = vad_db(raw / VAD_FRAME);
    v->pow_hist[v->n_frames % VAD_AVG_FRAMES] = hp / VAD_FRAME;
    int n_avg = v->n_frames < VAD_AVG_FRAMES ? (int)v->n_frames + 1 : VAD_AVG_FRAMES;
    double p = 0;
    for (int i = 0; i < n_avg; i++)
        p += v->pow_hist[i];
    double e = vad_db(p / n_avg);
    v->floor_db = vad_floor_update(v, e);

    v->n_frames++;
    int active = e > VAD_MIN_LEVEL_DB && e > v->floor_db + v->thr_db;
    /* The onset test looks at this frame alone: the average would carry a
     * loud frame on into the next ones (whose crossings may be 0). */
    double e1 = vad_db(hp / VAD_FRAME);
    int voiced = active && e1 > VAD_MIN_LEVEL_DB && e1 > v->floor_db + v->thr_db &&
                 (double)crossings / (VAD_FRAME - 1) < VAD_ZCR_MAX;
    int ev = 0;
    if (!v->speech) {
        v->run_active = voiced ? v->run_active + 1 : 0;
        if (v->run_active >= VAD_START_FRAMES) {
            v->speech = 1;
            v->run_silent = 0;
            v->start_sample = frame_start - (int64_t)(VAD_START_FRAMES - 1) * VAD_FRAME;
            ev |= LC_VAD_SPEECH_START;
        }
    } else {
        v->run_silent = active ? 0 : v->run_silent + 1;
        if (v->run_silent >= v->hangover_frames) {
            v->speech = 0;
            v->run_active = 0;
            /* Where the silence began: the hangover, and the averaging lag
             * of an abrupt end, before this frame. */
            v->end_sample = frame_start -
                (int64_t)(v->hangover_frames - 1 + VAD_AVG_FRAMES - 1) * VAD_FRAME;
            if (v->end_sample < v->start_sample)
                v->end_sample = v->start_sample;
            v->end_decided = frame_start + VAD_FRAME;
            ev |= LC_VAD_SPEECH_END;
        }
    }
    if (v->speech)
        v->n_speech_frames++;
    return ev;
}

lc_vad *vad_create(double threshold_db, int hangover_ms)
{
    lc_vad *v = malloc(sizeof *v);
    if (!v)
        return NULL;
    v->thr_db = threshold_db > 0 ? threshold_db : VAD_DEFAULT_THRESHOLD_DB;
    int frame_ms = VAD_FRAME * 1000 / VAD_RATE;
    if (hangover_ms > 60000)  /* a minute of silence ends anything */
        hangover_ms = 60000;
    v->hangover_frames = hangover_ms > 0 ? (hangover_ms + frame_ms - 1) / frame_ms : 1;
    vad_reset(v);
    return v;
}

int vad_process(lc_vad *v, const float *x, size_t n)
{
    int ev = 0;
    while (n > 0) {
        if (v->fill == 0 && n >= VAD_FRAME) {  /* whole frames straight from x */
            ev |= vad_frame(v, x);
            x += VAD_FRAME, n -= VAD_FRAME;
            continue;
        }
        size_t k = (size_t)(VAD_FRAME - v->fill);
        if (k > n)
            k = n;
        memcpy(v->frame + v->fill, x, k * sizeof *x);
        v->fill += (int)k;
        x += k, n -= k;
        if (v->fill == VAD_FRAME) {
            ev |= vad_frame(v, v->frame);
            v->fill = 0;
        }
    }
    return ev;
}

int vad_is_speech(const lc_vad *v) { return v->speech; }
double vad_level_db(const lc_vad *v) { return v->level_db; }
double vad_floor_db(const lc_vad *v) { return v->floor_db; }
int64_t vad_speech_start(const lc_vad *v) { return v->start_sample; }
int64_t vad_speech_end(const lc_vad *v) { return v->end_sample; }
int64_t vad_end_decided(const lc_vad *v) { return v->end_decided; }

double vad_speech_ratio(const lc_vad *v)
{
    return v->n_frames ? (double)v->n_speech_frames / (double)v->n_frames : 0.0;
}

void vad_reset(lc_vad *v)
{
    double thr = v->thr_db;
    int hang = v->hangover_frames;
    memset(v, 0, sizeof *v);
    v->thr_db = thr;
    v->hangover_frames = hang;
    v->level_db = v->floor_db = VAD_SILENCE_DB;
    v->start_sample = v->end_sample = v->end_decided = -1;
}

void vad_free(lc_vad *v)
{
    free(v);
}
