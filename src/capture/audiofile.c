/* audiofile.c: audio file reader and streaming resampler (see audiofile.h). */
#include "capture/audiofile.h"

#include <math.h>
#include <samplerate.h>
#include <sndfile.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Frames mixed down per libsamplerate call: big enough to amortise the call,
 * small enough to live inside the resampler struct. */
#define RS_CHUNK 4096
#define RS_MAX_CHANNELS 1024 /* libsndfile's SF_MAX_CHANNELS */

/* ---- streaming resampler ---------------------------------------------- */

struct lc_resampler {
    SRC_STATE *src;          /* NULL when the input is already 16 kHz */
    double ratio;            /* output rate / input rate */
    int channels;
    float mono[RS_CHUNK];    /* one chunk, mixed down */
};

lc_resampler *resampler_new(double in_rate, int channels, lc_err *e)
{
    if (channels < 1 || channels > RS_MAX_CHANNELS) {
        lc_fail(e, "resampler: %d channels (1..%d supported)", channels, RS_MAX_CHANNELS);
        return NULL;
    }
    double ratio = AUDIO_RATE / in_rate;
    if (!isfinite(ratio) || !src_is_valid_ratio(ratio)) {
        lc_fail(e, "resampler: cannot convert %g Hz to %d Hz", in_rate, AUDIO_RATE);
        return NULL;
    }
    lc_resampler *r = calloc(1, sizeof *r);
    if (!r) { lc_fail(e, "resampler: out of memory"); return NULL; }
    r->ratio = ratio;
    r->channels = channels;
    if (in_rate != AUDIO_RATE) {
        int err = 0;
        /* Mixing down first means one filter instead of `channels`. */
        r->src = src_new(SRC_SINC_BEST_QUALITY, 1, &err);
        if (!r->src) {
            lc_fail(e, "resampler: %s", src_strerror(err));
            free(r);
            return NULL;
        }
    }
    return r;
}

void resampler_free(lc_resampler *r)
{
    if (!r) return;
    if (r->src) src_delete(r->src);
    free(r);
}

void resampler_reset(lc_resampler *r)
{
    if (r->src) src_reset(r->src);
}

size_t resampler_out_max(const lc_resampler *r, size_t in_frames)
{
    if (!r->src) return in_frames;
    /* The sinc filter holds back up to about half its length of input (a few
     * hundred frames at SINC_BEST) and releases it in a later call or in
     * the flush; one chunk of slack bounds that with a wide margin. */
    return (size_t)ceil((double)(in_frames + RS_CHUNK) * r->ratio) + 16;
}

/* Averages the channels of n frames into r->mono. */
static void mix_down(lc_resampler *r, const float *in, size_t n)
{
    int ch = r->channels;
    if (ch == 1) { memcpy(r->mono, in, n * sizeof *in); return; }
    const float scale = 1.0f / (float)ch;
    for (size_t i = 0; i < n; i++) {
        float s = 0.0f;
        for (int c = 0; c < ch; c++) s += in[i * (size_t)ch + (size_t)c];
        r->mono[i] = s * scale;
    }
}

/* Runs r->mono[0..n) (or the flush, when eof) through libsamplerate. */
static int convert(lc_resampler *r, size_t n, int eof, float *out, size_t cap, size_t *w)
{
    SRC_DATA d = {0};
    d.data_in = r->mono;
    d.input_frames = (long)n;
    d.src_ratio = r->ratio;
    d.end_of_input = eof;
    for (;;) {
        d.data_out = out + *w;
        d.output_frames = (long)(cap - *w);
        if (src_process(r->src, &d) != 0) return -1;
        *w += (size_t)d.output_frames_gen;
        d.data_in += d.input_frames_used;
        d.input_frames -= d.input_frames_used;
        if (d.output_frames_gen == 0 && *w == cap && (eof || d.input_frames > 0))
            return -1;                              /* out of room */
        if (!eof && d.input_frames == 0) return 0;  /* all consumed */
        if (eof && d.output_frames_gen == 0) return 0; /* all flushed */
        if (d.input_frames_used == 0 && d.output_frames_gen == 0) return -1; /* stuck */
    }
}

int resampler_process(lc_resampler *r, const float *in, size_t in_frames,
                      float *out, size_t out_cap, size_t *out_written)
{
    size_t w = 0;
    *out_written = 0;
    for (size_t done = 0; done < in_frames;) {
        size_t n = in_frames - done < RS_CHUNK ? in_frames - done : RS_CHUNK;
        mix_down(r, in + done * (size_t)r->channels, n);
        if (!r->src) {
            if (out_cap - w < n) { *out_written = w; return -1; }
            memcpy(out + w, r->mono, n * sizeof *out);
            w += n;
        } else if (convert(r, n, 0, out, out_cap, &w) != 0) {
            *out_written = w;
            return -1;
        }
        done += n;
    }
    *out_written = w;
    return 0;
}

int resampler_flush(lc_resampler *r, float *out, size_t out_cap, size_t *out_written)
{
    *out_written = 0;
    if (!r->src) return 0;
    return convert(r, 0, 1, out, out_cap, out_written);
}

/* ---- file reader ------------------------------------------------------ */

/* libsndfile's messages sometimes end with '.' or hold a newline; the user
 * gets ONE line. */
static void one_line(lc_err *e)
{
    if (!e) return;
    for (char *p = e->msg; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
}

/* A growable output buffer of mono samples. */
typedef struct obuf {
    float *p;
    size_t n, cap;
} obuf;

/* Makes room for `more` samples. Grows geometrically from what was really
 * decoded, never from a header's claim. */
static int obuf_reserve(obuf *b, size_t more)
{
    /* b->p is allocated on the first call even for 0 (a flush at 16 kHz),
     * so callers never form NULL + 0 */
    if (b->p && more <= b->cap - b->n) return 0;
    size_t cap = b->cap ? b->cap : (size_t)AUDIO_RATE * 30;
    while (cap - b->n < more) {
        if (cap > SIZE_MAX / 2 / sizeof(float)) return -1;
        cap *= 2;
    }
    float *p = realloc(b->p, cap * sizeof *p);
    if (!p) return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

/* Reads and converts the whole stream; returns NULL or a static reason. */
static const char *read_all(SNDFILE *sf, const SF_INFO *info, lc_resampler *rs, obuf *out)
{
    int sub = info->format & SF_FORMAT_SUBMASK;
    /* 8/16-bit integers read as shorts (8-bit ones arrive shifted left by
     * 8), divided by 32768 like openai's ffmpeg s16le path: bit-exact. */
    int as_short = sub == SF_FORMAT_PCM_16 || sub == SF_FORMAT_PCM_S8 || sub == SF_FORMAT_PCM_U8;
    size_t ch = (size_t)info->channels, chunk = RS_CHUNK;
    float *fbuf = malloc(chunk * ch * sizeof *fbuf);
    short *sbuf = as_short ? malloc(chunk * ch * sizeof *sbuf) : NULL;
    const char *why = NULL;
    if (!fbuf || (as_short && !sbuf)) { why = "out of memory"; goto done; }

    for (;;) {
        sf_count_t got = as_short ? sf_readf_short(sf, sbuf, (sf_count_t)chunk)
                                  : sf_readf_float(sf, fbuf, (sf_count_t)chunk);
        if (got <= 0) break;
        size_t n = (size_t)got;
        if (as_short)
            for (size_t i = 0; i < n * ch; i++) fbuf[i] = (float)sbuf[i] / 32768.0f;
        size_t w;
        if (obuf_reserve(out, resampler_out_max(rs, n)) != 0) { why = "out of memory"; goto done; }
        if (resampler_process(rs, fbuf, n, out->p + out->n, out->cap - out->n, &w) != 0) {
            why = "resampling failed";
            goto done;
        }
        out->n += w;
    }
    if (sf_error(sf) != SF_ERR_NO_ERROR) { why = sf_strerror(sf); goto done; }
    size_t w;
    if (obuf_reserve(out, resampler_out_max(rs, 0)) != 0) { why = "out of memory"; goto done; }
    if (resampler_flush(rs, out->p + out->n, out->cap - out->n, &w) != 0) { why = "resampling failed"; goto done; }
    out->n += w;
done:
    free(fbuf);
    free(sbuf);
    return why;
}

int audiofile_read(const char *path, float **pcm, size_t *n_samples, lc_err *e)
{
    *pcm = NULL;
    *n_samples = 0;
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    if (!sf) {
        lc_fail(e, "%s: not a readable audio file (%s)", path, sf_strerror(NULL));
        one_line(e);
        return -1;
    }
    int rc = -1;
    lc_resampler *rs = NULL;
    obuf out = {0};
    if (info.channels < 1 || info.channels > RS_MAX_CHANNELS) {
        lc_fail(e, "%s: unsupported channel count %d", path, info.channels);
    } else if (info.frames <= 0) {
        lc_fail(e, "%s: no audio samples", path);
    } else if (!(rs = resampler_new(info.samplerate, info.channels, e))) {
        lc_wrap(e, "%s: sample rate %d Hz", path, info.samplerate);
    } else {
        const char *why = read_all(sf, &info, rs, &out);
        if (why) {
            lc_fail(e, "%s: cannot decode: %s", path, why);
        } else if (out.n == 0) {
            lc_fail(e, "%s: no audio samples", path);
        } else {
            /* Float formats and the sinc filter can overshoot; ffmpeg's s16
             * conversion clips, so clip too. */
            for (size_t i = 0; i < out.n; i++) {
                float v = out.p[i];
                out.p[i] = v > 1.0f ? 1.0f : v < -1.0f ? -1.0f : v == v ? v : 0.0f;
            }
            float *shrunk = realloc(out.p, out.n * sizeof *out.p);
            *pcm = shrunk ? shrunk : out.p;
            *n_samples = out.n;
            out.p = NULL;
            rc = 0;
        }
    }
    if (rc != 0) one_line(e);
    free(out.p);
    resampler_free(rs);
    sf_close(sf);
    return rc;
}
