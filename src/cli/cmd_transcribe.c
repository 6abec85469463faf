/* cmd_transcribe.c: `livecap transcribe [options] FILE…` (SPEC §1, §2). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture/audiofile.h"
#include "cli/commands.h"
#include "cli/modelpath.h"
#include "decode/transcribe.h"
#include "out/writers.h"
#include "util/npy.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int cmd_threads(const lc_config *cfg)
{
    if (cfg->threads > 0) return cfg->threads;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* --dump: mel, encoder output and the SOT logits of the first window, in
 * the layout of ../shared/fixtures/README.md. */
typedef struct dump_ctx {
    const char *dir;
    lc_decoder *d;
    int lang, translate;
    lc_err err;
    int failed;
} dump_ctx;

static int dump_window(dump_ctx *c, const float *mel, const lc_state *st)
{
    const lc_model *m = st->m;
    const int n_mels = m->hp.n_mels, s = m->hp.n_audio_state;
    char path[4200];
    float *cm = malloc(sizeof(float) * MEL_N_FRAMES * (size_t)n_mels);
    if (!cm) return lc_fail(&c->err, "out of memory");
    mel_to_channel_major(mel, MEL_N_FRAMES, n_mels, cm);
    long shape[2] = { n_mels, MEL_N_FRAMES };
    snprintf(path, sizeof path, "%s/mel.npy", c->dir);
    int rc = npy_write_f32(path, cm, 2, shape, &c->err);
    free(cm);
    if (rc) return -1;
    long eshape[2] = { m->hp.n_audio_ctx, s };
    snprintf(path, sizeof path, "%s/enc.npy", c->dir);
    if (npy_write_f32(path, st->enc_out, 2, eshape, &c->err)) return -1;
    /* logits at the last position of the SOT sequence, no suppression */
    const lc_specials *sp = &m->sp;
    int tok[4], n = 0;
    tok[n++] = sp->sot;
    if (m->multilingual) {
        tok[n++] = sp->lang0 + c->lang;
        tok[n++] = c->translate ? sp->translate : sp->transcribe;
    }
    int seq[4] = {0}, pos[4] = { 0, 1, 2, 3 }, out = n - 1;
    if (whisper_decode(decoder_state(c->d), n, tok, seq, pos, 1, &out, &c->err)) return -1;
    /* int8 logits: the dump is for comparing, so every value exact */
    whisper_logits_refine(decoder_state(c->d), 0, decoder_state(c->d)->logits, 0, m->hp.n_vocab, m->hp.n_vocab);
    long lshape[1] = { m->hp.n_vocab };
    snprintf(path, sizeof path, "%s/logits0.npy", c->dir);
    return npy_write_f32(path, decoder_state(c->d)->logits, 1, lshape, &c->err);
}

int cmd_compact(const lc_config *cfg, lc_model *m, lc_err *e)
{
    const char *w = cfg->decoder_weights;
    if (cfg->precise || !strcmp(w, "f32")) return 0;
    if (!strcmp(w, "f16")) return model_compact(m, LC_COMPACT_F16, e);
    /* auto: int8 for f16 and quantised files (whisper.h: the logits that
     * decide are rescored exactly, so it keeps the reference's tokens at
     * least as well as f16 while reading half the bytes); f32 files stay
     * f32, the reference's own arithmetic */
    if (!strcmp(w, "int8")) return model_compact(m, LC_COMPACT_INT8, e);
    /* auto also keeps the logits' 4-bit proxy (model.h), which the decoder
     * reads instead of int8 where the CPU runs it fast (vecmath.h) */
    if (model_prefers_compact(m)) return model_compact(m, LC_COMPACT_INT8_Q4, e);
    return 0;
}

int cmd_cpu_gemm(const lc_config *cfg, const lc_model *m, lc_backend *b, lc_err *e)
{
    return backend_cpu_gemm(b, cfg->cpu_gemm, cfg->precise || !model_prefers_compact(m), e);
}

int cmd_resolve_language(const lc_config *cfg, const lc_model *m, int *lang)
{
    if (!m->multilingual) { *lang = 0; return 0; }
    if (!strcmp(cfg->language, "auto") || !cfg->language[0]) { *lang = -1; return 0; }
    *lang = model_lang_index(cfg->language);
    if (*lang < 0 || *lang >= m->sp.n_langs) {
        fprintf(stderr, "livecap: --language: unknown language code '%s' for %s\n", cfg->language, m->path);
        return -1;
    }
    return 0;
}

int cmd_transcribe(lc_config *cfg)
{
    lc_err e = {{0}};
    char path[4096];
    if (cfg->n_files < 1) {
        fprintf(stderr, "livecap: transcribe: no input file (usage: livecap transcribe [options] FILE…)\n");
        return 2;
    }
    if (modelpath_resolve(cfg->model, path, sizeof path, &e)) { fprintf(stderr, "livecap: %s\n", e.msg); return 1; }
    if (cfg->dump_dir[0]) {
        mkdir(cfg->dump_dir, 0777);
        struct stat sb;
        if (stat(cfg->dump_dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
            fprintf(stderr, "livecap: --dump: %s is not a writable directory\n", cfg->dump_dir);
            return 1;
        }
    }
    const int threads = cmd_threads(cfg);
    double t_load = now_ms();
    lc_model *m = model_load(path, &e);
    if (!m) { fprintf(stderr, "livecap: %s\n", e.msg); return 1; }
    if (cmd_compact(cfg, m, &e)) {
        fprintf(stderr, "livecap: %s\n", e.msg);
        model_free(m);
        return 1;
    }
    char why[256] = "";
    lc_backend *b = backend_create(cfg->backend, threads, cfg->npu_precision, why, sizeof why, &e);
    if (!b) { fprintf(stderr, "livecap: --backend %s: %s\n", cfg->backend, e.msg); model_free(m); return 1; }
    int lang, rc = 1;
    lc_tokenizer *tok = NULL;
    lc_decoder *d = NULL;
    lc_mel *mel = NULL;
    FILE *out = stdout;
    int group = cfg->beam > cfg->best_of ? cfg->beam : cfg->best_of;
    if (cmd_resolve_language(cfg, m, &lang)) goto done;
    if (cmd_cpu_gemm(cfg, m, b, &e) || whisper_prepare(m, b, &e) || !(tok = tokenizer_create(m, &e)) ||
        !(d = decoder_create(m, tok, b, group, &e)) || !(mel = mel_create(m->mel_filters, m->hp.n_mels, b, &e))) {
        fprintf(stderr, "livecap: %s\n", e.msg);
        goto done;
    }
    t_load = now_ms() - t_load;
    if (cfg->output_file[0] && !(out = fopen(cfg->output_file, "w"))) {
        fprintf(stderr, "livecap: --output-file: cannot write %s\n", cfg->output_file);
        out = stdout;
        goto done;
    }

    double temps[16];
    int nt = 0;
    if (cfg->no_fallback || cfg->temperature_inc <= 0) temps[nt++] = 0.0;
    else
        for (double t = 0.0; t <= 1.0 + 1e-6 && nt < 16; t += cfg->temperature_inc) temps[nt++] = t;
    lc_transcribe_opts o = {
        .lang = lang, .translate = cfg->translate, .beam_size = cfg->beam > 1 ? cfg->beam : 0,
        .best_of = cfg->best_of, .patience = 1.0, .length_penalty = -1, .temperatures = temps,
        .n_temperatures = nt, .compression_ratio_threshold = cfg->compression_ratio_threshold,
        .logprob_threshold = cfg->logprob_threshold, .no_speech_threshold = cfg->no_speech_threshold,
        .condition_on_previous_text = cfg->condition_on_previous,
        .initial_prompt = cfg->initial_prompt[0] ? cfg->initial_prompt : NULL, .seed = 0x5eed,
    };
    lc_model_info mi = { m->path, m->type, m->ftype_name, m->multilingual, m->hp.n_mels, m->hp.n_vocab };
    for (int f = 0; f < cfg->n_files; f++) {
        double t0 = now_ms();
        float *pcm = NULL;
        size_t n = 0;
        if (audiofile_read(cfg->files[f], &pcm, &n, &e)) { fprintf(stderr, "livecap: %s\n", e.msg); goto done; }
        lc_transcript t = {0};
        t.timing.load_ms = t_load;
        if (cfg->dump_dir[0] && f == 0) {
            /* the first 30 s of the padded file's mel, as the fixtures store it */
            long nf;
            float *full = mel_file(mel, pcm, (long)n, &nf, &e), *win = NULL;
            int lg = lang < 0 ? 0 : lang;
            dump_ctx dc = { cfg->dump_dir, d, lg, cfg->translate, {{0}}, 0 };
            if (full && (win = malloc(sizeof(float) * MEL_N_FRAMES * (size_t)m->hp.n_mels)) &&
                !transcribe_encode_at(d, full, nf, 0, MEL_N_FRAMES, win, &e)) {
                if (lang < 0) {
                    double probs[128];
                    dc.lang = decode_detect_language(d, probs, &e);
                }
                if (dump_window(&dc, win, decoder_state(d))) { fprintf(stderr, "livecap: --dump: %s\n", dc.err.msg); free(full); free(win); free(pcm); goto done; }
            } else {
                fprintf(stderr, "livecap: %s\n", e.msg); free(full); free(win); free(pcm); goto done;
            }
            free(full);
            free(win);
        }
        int trc = transcribe_run(d, mel, tok, pcm, (long)n, &o, NULL, &t, NULL, &e);
        free(pcm);
        if (trc) { fprintf(stderr, "livecap: %s: %s\n", cfg->files[f], e.msg); transcript_free(&t); goto done; }
        t.timing.total_ms = now_ms() - t0 + t_load;
        int wrc = writers_write(out, cfg->output_format, &t, &mi, &e);
        transcript_free(&t);
        if (wrc || fflush(out) != 0) {
            fprintf(stderr, "livecap: %s: cannot write output: %s\n",
                    cfg->output_file[0] ? cfg->output_file : "stdout", wrc ? e.msg : "write error");
            goto done;
        }
    }
    rc = 0;
done:
    if (out != stdout && fclose(out) != 0 && rc == 0) {
        fprintf(stderr, "livecap: --output-file: cannot write %s\n", cfg->output_file);
        rc = 1;
    }
    /* Silent unless a device op failed: then one line, so a fallback to
     * the CPU (output unchanged, slower) is never invisible (docs/npu.md). */
    lc_backend_stats bs;
    backend_stats(b, &bs);
    if (bs.accel_fails > 0)
        fprintf(stderr, "livecap: %s: %llu device error%s, %llu op%s fell back to the CPU%s (last: %s)\n",
                bs.accel_label, (unsigned long long)bs.accel_fails, bs.accel_fails == 1 ? "" : "s",
                (unsigned long long)bs.fallbacks, bs.fallbacks == 1 ? "" : "s",
                bs.accel_off ? ", device off for this run" : "", bs.last_error);
    mel_free(mel);
    decoder_free(d);
    tokenizer_free(tok);
    whisper_release(m, b);
    backend_destroy(b);
    model_free(m);
    return rc;
}
