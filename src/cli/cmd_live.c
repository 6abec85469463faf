/* cmd_live.c: `livecap [live]` (SPEC §1 live options, §4 event stream).
 *
 * Owns the capture, the ring, the model/backend/tokenizer and the output
 * sinks; runs the pipeline (stream/pipeline.h) and, on this main thread,
 * the stats timer (pthread_cond_timedwait inside pipeline_wait) and the
 * signal flag. The screen (ui/tui.h) runs on this thread instead of the
 * stats loop unless --headless, --jsonl -, or stdin/stdout not a terminal.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"
#include "cli/commands.h"
#include "cli/modelpath.h"
#include "stream/events.h"
#include "stream/pipeline.h"
#include "ui/tui.h"


#define RING_SAMPLES (1u << 20) /* ≥ 5 s of 96 kHz stereo: the mel worker reads every 10 ms */
#define STATS_PERIOD_MS 500     /* SPEC §4: stats at least once a second; twice for margin */

static volatile sig_atomic_t got_signal;
static void on_signal(int sig) { got_signal = sig; }

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

static lc_capture *open_capture(const lc_config *cfg, lc_ring *ring, lc_capture_info *info)
{
    lc_err e = {{0}};
    lc_capture *c = cfg->input[0] ? capture_open_file(cfg->input, cfg->speed, ring, info, &e)
                                  : capture_open_device(cfg->device, ring, info, &e);
    if (c) return c;
    if (cfg->input[0]) fprintf(stderr, "livecap: --input: %s\n", e.msg);
    else if (strstr(e.msg, "no capture device matches"))
        fprintf(stderr, "livecap: --device %s: no capture device matches (see livecap devices)\n", cfg->device);
    else if (cfg->device[0]) fprintf(stderr, "livecap: --device %s: %s\n", cfg->device, e.msg);
    else fprintf(stderr, "livecap: %s\n", e.msg);
    return NULL;
}

/* The main loop: stats on a timer until the input ends or a signal. */
static void run_loop(lc_pipeline *p, lc_events *ev, lc_capture *cap)
{
    int64_t next = ring_now_ns() + STATS_PERIOD_MS * 1000000LL, next_check = 0;
    lc_pipeline_snapshot *s = malloc(sizeof *s);
    if (!s) return;
    int stopping = 0;
    for (;;) {
        if (got_signal && !stopping) { /* finish the step in flight, stats keep coming */
            pipeline_request_stop(p);
            stopping = 1;
        }
        int64_t now = ring_now_ns();
        int wait_ms = next > now ? (int)((next - now) / 1000000) + 1 : 0;
        int done = pipeline_wait(p, wait_ms);
        now = ring_now_ns();
        if (now >= next) {
            pipeline_snapshot(p, s);
            events_stats(ev, s);
            next += STATS_PERIOD_MS * 1000000LL;
            if (next < now) next = now + STATS_PERIOD_MS * 1000000LL;
        }
        if (done) break;
        if (!stopping && now >= next_check) { /* a device that stalls or vanishes: say so, try to reopen */
            char msg[256];
            lc_err e;
            if (capture_status(cap, msg, sizeof msg) && capture_reopen(cap, &e))
                fprintf(stderr, "livecap: %s\n", msg);
            next_check = now + 2000000000LL;
        }
    }
    free(s);
}

/* No model: the screen says what to run and where the file goes, then the
 * CLI line follows on stderr once the terminal is back. */
static void no_model_screen(const lc_config *cfg, const char *msg)
{
    char dir[1024], text[2048];
    modelpath_dir(dir, sizeof dir);
    snprintf(text, sizeof text,
             "%s\n\nTo get the default model (tiny.en, 75 MB), run one of:\n\n"
             "    make model\n    scripts/download-model.sh tiny.en\n\n"
             "It goes to %s/ggml-tiny.en.bin, where livecap finds it.\n"
             "Or pass a model file with -m PATH.", msg, dir);
    tui_message(cfg, "no Whisper model found", text, &got_signal);
}

int cmd_live(lc_config *cfg)
{
    lc_err e = {{0}};
    char path[4096];
    int rc = 1, lang;
    lc_ring *ring = NULL;
    lc_capture *cap = NULL;
    lc_model *m = NULL;
    lc_backend *b = NULL, *mb = NULL;
    lc_tokenizer *tok = NULL;
    lc_events *ev = NULL;
    lc_pipeline *p = NULL;
    lc_capture_info info;
    memset(&info, 0, sizeof info);

    if (!(ring = ring_create(RING_SAMPLES))) { fprintf(stderr, "livecap: out of memory\n"); return 1; }
    if (!(cap = open_capture(cfg, ring, &info))) goto done;
    /* the screen runs unless asked not to or there is no terminal; --jsonl -
     * owns stdout */
    int use_tui = !cfg->headless && strcmp(cfg->jsonl, "-") != 0 && tui_available();
    if (modelpath_resolve(cfg->model, path, sizeof path, &e)) {
        if (use_tui) no_model_screen(cfg, e.msg);
        fprintf(stderr, "livecap: %s\n", e.msg);
        goto done;
    }
    if (!(m = model_load(path, &e))) { fprintf(stderr, "livecap: %s\n", e.msg); goto done; }
    if (cmd_compact(cfg, m, &e)) { fprintf(stderr, "livecap: %s\n", e.msg); goto done; }
    char why[256] = "";
    if (!(b = backend_create(cfg->backend, cmd_threads(cfg), cfg->npu_precision, why, sizeof why, &e))) {
        fprintf(stderr, "livecap: --backend %s: %s\n", cfg->backend, e.msg);
        goto done;
    }
    /* the mel worker's own backend (a backend is not reentrant); threads 0
     * leaves OpenBLAS's thread count as the first one set it */
    const char *accel = b->accel ? b->accel->name : "cpu";
    if (!(mb = backend_create(accel, 0, cfg->npu_precision, NULL, 0, &e)) && !(mb = backend_create("cpu", 0, NULL, NULL, 0, &e))) {
        fprintf(stderr, "livecap: %s\n", e.msg);
        goto done;
    }
    if (cmd_resolve_language(cfg, m, &lang)) goto done;
    if (cmd_cpu_gemm(cfg, m, b, &e) || whisper_prepare(m, b, &e) || !(tok = tokenizer_create(m, &e))) { fprintf(stderr, "livecap: %s\n", e.msg); goto done; }
    if (!(ev = events_open(!use_tui, cfg->jsonl, cfg->save, &e))) { fprintf(stderr, "livecap: %s\n", e.msg); goto done; }

    lc_pipeline_opts o = {
        .model = m, .backend = b, .mel_backend = mb, .tok = tok, .capture = cap, .ring = ring,
        .in_rate = info.sample_rate, .in_channels = info.channels, .lang = lang,
        .translate = cfg->translate, .beam = cfg->beam, .step_ms = cfg->step_ms,
        .max_window_s = cfg->max_window_s, .max_tokens = cfg->max_tokens,
        .vad_threshold = cfg->vad_threshold, .vad_hangover_ms = cfg->vad_hangover_ms,
        .no_speech_threshold = cfg->no_speech_threshold, .logprob_threshold = cfg->logprob_threshold,
        .sink = { events_sink_final, events_sink_partial, ev },
    };
    if (!(p = pipeline_create(&o, &e))) { fprintf(stderr, "livecap: %s\n", e.msg); goto done; }
    events_start(ev, m->path, accel, info.device_name, (int)(info.sample_rate + 0.5));
    got_signal = 0;
    install_signals();
    if (pipeline_start(p, &e)) { fprintf(stderr, "livecap: %s\n", e.msg); goto done; }
    tui_info ti = {
        .model_path = m->path, .model_type = m->type, .model_ftype = m->ftype_name,
        .device = info.device_name, .save_path = cfg->save, .backend = b, .mel_backend = mb,
        .capture = cap, .events = ev, .threads = cmd_threads(cfg), .stop_signal = &got_signal,
    };
    if (!use_tui) run_loop(p, ev, cap);
    else if (tui_run(p, cfg, &ti, &e)) { /* the terminal refused: keep going without a screen */
        fprintf(stderr, "livecap: %s\n", e.msg);
        run_loop(p, ev, cap);
    }
    pipeline_stop(p); /* stops capture, commits the pending text */
    lc_pipeline_snapshot *s = malloc(sizeof *s);
    if (s) {
        pipeline_snapshot(p, s);
        events_stats(ev, s);
        events_end(ev, s->audio_s, events_finals(ev));
        free(s);
    }
    rc = 0;
done:
    pipeline_free(p);
    if (ev && events_close(ev, &e) && rc == 0) { if (e.msg[0]) fprintf(stderr, "livecap: %s\n", e.msg); rc = 1; }
    capture_close(cap);
    tokenizer_free(tok);
    if (m && b) whisper_release(m, b);
    backend_destroy(mb);
    backend_destroy(b);
    model_free(m);
    ring_destroy(ring);
    return rc;
}
