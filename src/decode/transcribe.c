/* transcribe.c: openai-whisper transcribe() over a whole signal. */
#include "decode/transcribe.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define INPUT_STRIDE 2        /* N_FRAMES / n_audio_ctx: mel frames per output position */
#define TIME_PRECISION 0.02   /* INPUT_STRIDE · HOP / SAMPLE_RATE */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int transcribe_encode_at(lc_decoder *d, const float *mel, long nf, long f0, long size, float *window,
                         lc_err *e)
{
    const int n_mels = decoder_state(d)->m->hp.n_mels;
    long avail = nf - f0 < size ? nf - f0 : size;
    if (avail < 0) avail = 0;
    memset(window, 0, sizeof(float) * MEL_N_FRAMES * (size_t)n_mels);
    if (avail > 0) memcpy(window, mel + (size_t)f0 * n_mels, sizeof(float) * (size_t)avail * n_mels);
    return whisper_encode(decoder_state(d), window, e);
}

/* Growable token list (all_tokens). */
typedef struct tokvec { int *v; int n, cap; } tokvec;

static int tv_push(tokvec *t, const int *x, int n)
{
    if (t->n + n > t->cap) {
        int cap = t->cap ? t->cap : 256;
        while (cap < t->n + n) cap *= 2;
        int *v = realloc(t->v, sizeof(int) * (size_t)cap);
        if (!v) return -1;
        t->v = v;
        t->cap = cap;
    }
    memcpy(t->v + t->n, x, sizeof(int) * (size_t)n);
    t->n += n;
    return 0;
}

/* decode_with_fallback(). */
static int decode_fallback(lc_decoder *d, const lc_transcribe_opts *o, const int *prompt, int n_prompt,
                           uint64_t *rng, lc_decode_result *r, lc_err *e)
{
    for (int i = 0; i < o->n_temperatures; i++) {
        double t = o->temperatures[i];
        lc_decode_opts dop = {
            .lang = o->lang, .translate = o->translate, .temperature = t,
            .beam_size = t > 0 ? 0 : o->beam_size, .best_of = t > 0 ? o->best_of : 0,
            .patience = o->patience, .length_penalty = o->length_penalty,
            .prompt = prompt, .n_prompt = n_prompt, .max_initial_timestamp = 1.0, .rng = rng,
        };
        if (decode_window(d, &dop, r, e)) return -1;
        int needs = 0;
        if (!isnan(o->compression_ratio_threshold) && r->compression_ratio > o->compression_ratio_threshold)
            needs = 1; /* too repetitive */
        if (!isnan(o->logprob_threshold) && r->avg_logprob < o->logprob_threshold)
            needs = 1; /* average log probability is too low */
        if (!isnan(o->no_speech_threshold) && r->no_speech_prob > o->no_speech_threshold &&
            !isnan(o->logprob_threshold) && r->avg_logprob < o->logprob_threshold)
            needs = 0; /* silence */
        if (!needs) break;
    }
    return 0;
}

static int add_segment(lc_transcript *out, const lc_tokenizer *tok, const lc_specials *sp, double start,
                       double end, const int *tokens, int n, const lc_decode_result *r)
{
    char *text = tokenizer_decode(tok, tokens, n, sp->eot);
    if (!text) return -1;
    /* "if a segment is instantaneous or does not contain text, clear it" */
    const char *p;
    const int blank = utf8_strip(text, &p) == 0; /* text.strip() == "" */
    int rc;
    if (start == end || blank)
        rc = transcript_add(out, start, end, "", NULL, 0, r->avg_logprob, r->no_speech_prob, r->temperature,
                            r->compression_ratio);
    else
        rc = transcript_add(out, start, end, text, tokens, n, r->avg_logprob, r->no_speech_prob, r->temperature,
                            r->compression_ratio);
    free(text);
    return rc;
}

int transcribe_run(lc_decoder *d, lc_mel *melc, const lc_tokenizer *tok, const float *pcm, long n,
                   const lc_transcribe_opts *o, const lc_transcribe_hooks *hooks, lc_transcript *out,
                   double *lang_probs, lc_err *e)
{
    lc_state *st = decoder_state(d);
    const lc_model *m = st->m;
    const lc_specials *sp = &m->sp;
    const int n_mels = m->hp.n_mels;
    int rc = -1;
    double t0 = now_ms();
    long nf;
    float *mel = mel_file(melc, pcm, n, &nf, e);
    float *window = malloc(sizeof(float) * MEL_N_FRAMES * (size_t)n_mels);
    tokvec all = {0};
    int *seg_tok = NULL;
    if (!mel || !window) { if (mel) lc_fail(e, "out of memory"); goto done; }
    out->timing.mel_ms += now_ms() - t0;
    out->timing.audio_s = (double)n / MEL_SAMPLE_RATE;
    const long content_frames = nf - MEL_N_FRAMES;
    const double enc0 = st->t.encode, dec0 = st->t.decode;

    lc_transcribe_opts opt = *o;
    if (!m->multilingual) {
        opt.lang = 0; /* English-only models always use "en" */
    } else if (opt.lang < 0) {
        /* detect on pad_or_trim(mel, N_FRAMES): the first 3000 frames of the padded mel */
        if (transcribe_encode_at(d, mel, nf, 0, MEL_N_FRAMES, window, e)) goto done;
        double probs[128];
        opt.lang = decode_detect_language(d, probs, e);
        if (opt.lang < 0) goto done;
        if (lang_probs) memcpy(lang_probs, probs, sizeof(double) * (size_t)sp->n_langs);
    }
    snprintf(out->language, sizeof out->language, "%s", model_lang_code(opt.lang) ? model_lang_code(opt.lang) : "en");

    int n_initial = 0;
    if (opt.initial_prompt && *opt.initial_prompt) {
        size_t L = strlen(opt.initial_prompt);
        char *buf = malloc(L + 2);
        int *ids = malloc(sizeof(int) * (L + 1));
        if (!buf || !ids) { free(buf); free(ids); lc_fail(e, "out of memory"); goto done; }
        /* tokenizer.encode(" " + initial_prompt.strip()) */
        const char *s;
        size_t l = utf8_strip(opt.initial_prompt, &s);
        buf[0] = ' ';
        memcpy(buf + 1, s, l);
        buf[l + 1] = 0;
        n_initial = tokenizer_encode(tok, buf, ids, (int)L + 1);
        if (n_initial < 0) n_initial = 0;
        if (n_initial > (int)L + 1) n_initial = (int)L + 1;
        int prc = tv_push(&all, ids, n_initial);
        free(buf);
        free(ids);
        if (prc) { lc_fail(e, "out of memory"); goto done; }
    }

    seg_tok = malloc(sizeof(int) * (size_t)m->hp.n_text_ctx);
    if (!seg_tok) { lc_fail(e, "out of memory"); goto done; }
    uint64_t rng = o->seed;
    long seek = 0;
    int prompt_reset_since = 0, first = 1;
    while (seek < content_frames) {
        const double time_offset = (double)seek * MEL_HOP / MEL_SAMPLE_RATE;
        long segment_size = content_frames - seek < MEL_N_FRAMES ? content_frames - seek : MEL_N_FRAMES;
        const double segment_duration = (double)segment_size * MEL_HOP / MEL_SAMPLE_RATE;
        if (transcribe_encode_at(d, mel, nf, seek, segment_size, window, e)) goto done;
        if (first && hooks && hooks->first_window) hooks->first_window(hooks->ctx, window, st);
        first = 0;

        lc_decode_result r;
        if (decode_fallback(d, &opt, all.v + prompt_reset_since, all.n - prompt_reset_since, &rng, &r, e))
            goto done;

        if (!isnan(opt.no_speech_threshold)) {
            int skip = r.no_speech_prob > opt.no_speech_threshold;
            if (!isnan(opt.logprob_threshold) && r.avg_logprob > opt.logprob_threshold) skip = 0;
            if (skip) { seek += segment_size; continue; }
        }

        const int *tk = r.tokens, nt = r.n_tokens, tb = sp->ts_begin;
        const int n_before = out->n_seg;
        int single_ending = nt >= 2 ? (tk[nt - 2] < tb && tk[nt - 1] >= tb) : (nt == 1 && tk[0] >= tb);
        /* openai: timestamp_tokens[-2:].tolist() == [False, True] needs two tokens */
        if (nt < 2) single_ending = 0;
        int n_consec = 0;
        for (int i = 0; i + 1 < nt; i++)
            if (tk[i] >= tb && tk[i + 1] >= tb) n_consec++;
        if (n_consec > 0) {
            int last_slice = 0;
            for (int i = 0; i + 1 <= nt; i++) {
                int cut;
                if (i + 1 < nt && tk[i] >= tb && tk[i + 1] >= tb) cut = i + 1;
                else if (i + 1 == nt && single_ending) cut = nt;
                else continue;
                int len = cut - last_slice;
                memcpy(seg_tok, tk + last_slice, sizeof(int) * (size_t)len);
                double start = time_offset + (seg_tok[0] - tb) * TIME_PRECISION;
                double end = time_offset + (seg_tok[len - 1] - tb) * TIME_PRECISION;
                if (add_segment(out, tok, sp, start, end, seg_tok, len, &r)) { lc_fail(e, "out of memory"); goto done; }
                last_slice = cut;
            }
            if (single_ending) seek += segment_size;
            else seek += (long)(tk[last_slice - 1] - tb) * INPUT_STRIDE;
        } else {
            double duration = segment_duration;
            int last_ts = -1;
            for (int i = 0; i < nt; i++)
                if (tk[i] >= tb) last_ts = tk[i];
            if (last_ts >= 0 && last_ts != tb) duration = (last_ts - tb) * TIME_PRECISION;
            if (add_segment(out, tok, sp, time_offset, time_offset + duration, tk, nt, &r)) {
                lc_fail(e, "out of memory");
                goto done;
            }
            seek += segment_size;
        }
        for (int i = n_before; i < out->n_seg; i++)
            if (tv_push(&all, out->seg[i].tokens, out->seg[i].n_tokens)) { lc_fail(e, "out of memory"); goto done; }
        if (!opt.condition_on_previous_text || r.temperature > 0.5) prompt_reset_since = all.n;
    }
    out->timing.encode_ms += st->t.encode - enc0;
    out->timing.decode_ms += st->t.decode - dec0;
    rc = 0;
done:
    free(mel);
    free(window);
    free(all.v);
    free(seg_tok);
    return rc;
}
