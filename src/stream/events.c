/* events.c: headless lines, the JSON Lines stream and --save files. */
#include "stream/events.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "out/writers.h"
#include "util/json.h"

struct lc_events {
    pthread_mutex_t mu;
    int headless;
    FILE *jsonl;           /* NULL = none; may be stdout */
    FILE *save;
    const char *save_fmt;  /* "txt", "srt", "vtt", "jsonl" */
    char jsonl_path[4096], save_path[4096];
    int jsonl_err, save_err, out_err;
    long n_finals;
    int64_t t0;
    /* --save rescue: every final is also kept here (text copied), so when
     * the save file fails the whole transcript can go to the fallback */
    struct kept { double t0, t1, latency_ms; char *text; } *kept;
    size_t n_kept, cap_kept;
    int rescued;           /* 1: writing to the fallback file now */
    int reported;          /* the save failure was reported (once) */
    char rescue_path[4200];
    void (*on_error)(void *ctx, const char *msg);
    void *on_error_ctx;
};

static double wall_ms(const lc_events *ev) { return (ring_now_ns() - ev->t0) / 1e6; }

lc_events *events_open(int headless, const char *jsonl, const char *save, lc_err *e)
{
    lc_events *ev = calloc(1, sizeof *ev);
    if (!ev) { lc_fail(e, "out of memory"); return NULL; }
    pthread_mutex_init(&ev->mu, NULL);
    ev->headless = headless;
    ev->t0 = ring_now_ns();
    if (jsonl && jsonl[0]) {
        snprintf(ev->jsonl_path, sizeof ev->jsonl_path, "%s", jsonl);
        ev->jsonl = strcmp(jsonl, "-") ? fopen(jsonl, "w") : stdout;
        if (!ev->jsonl) { lc_fail(e, "--jsonl: cannot write %s", jsonl); goto fail; }
    }
    if (save && save[0]) {
        snprintf(ev->save_path, sizeof ev->save_path, "%s", save);
        if (!(ev->save_fmt = writers_format_for_path(save))) {
            lc_fail(e, "--save %s: unknown extension (use .txt, .srt, .vtt or .jsonl)", save);
            goto fail;
        }
        if (!(ev->save = fopen(save, "w"))) { lc_fail(e, "--save: cannot write %s", save); goto fail; }
        if (!strcmp(ev->save_fmt, "vtt")) writers_vtt_header(ev->save);
        if (fflush(ev->save) != 0 || ferror(ev->save)) {
            lc_fail(e, "--save %s: cannot write (%s)", save, strerror(errno));
            goto fail;
        }
    }
    return ev;
fail:
    events_close(ev, NULL);
    return NULL;
}

static void jsonl_done(lc_events *ev)
{
    fprintf(ev->jsonl, ",\"wall_ms\":%.0f}\n", wall_ms(ev));
    if (fflush(ev->jsonl) != 0 || ferror(ev->jsonl)) ev->jsonl_err = 1;
}

void events_start(lc_events *ev, const char *model, const char *backend, const char *device, int sample_rate)
{
    pthread_mutex_lock(&ev->mu);
    if (ev->jsonl) {
        fputs("{\"type\":\"start\",\"model\":", ev->jsonl);
        json_write_string(ev->jsonl, model);
        fputs(",\"backend\":", ev->jsonl);
        json_write_string(ev->jsonl, backend);
        fputs(",\"device\":", ev->jsonl);
        json_write_string(ev->jsonl, device);
        fprintf(ev->jsonl, ",\"sample_rate\":%d", sample_rate);
        jsonl_done(ev);
    }
    pthread_mutex_unlock(&ev->mu);
}

/* {"type":…,"t0":…,"t1":…,"text":…[,"latency_ms":…] without the closing brace */
static void write_seg(FILE *f, const char *type, const lc_final *s, double latency_ms)
{
    fprintf(f, "{\"type\":\"%s\",\"t0\":", type);
    json_write_fixed(f, s->t0, 3);
    fputs(",\"t1\":", f);
    json_write_fixed(f, s->t1, 3);
    fputs(",\"text\":", f);
    json_write_string(f, s->text);
    if (latency_ms >= 0) fprintf(f, ",\"latency_ms\":%.0f", latency_ms);
    else fputs(",\"latency_ms\":null", f);
}

/* One line of text: line breaks inside a final become spaces. */
static void one_line(const char *in, char *out, size_t cap)
{
    size_t i = 0;
    for (; in[i] && i + 1 < cap; i++) out[i] = in[i] == '\n' || in[i] == '\r' ? ' ' : in[i];
    out[i] = 0;
}

/* One final in the save format; 0, or -1 when the stream reports an error.
 * index is 1-based (srt). */
static int save_write(FILE *s, const char *fmt, long index, double t0, double t1, const char *text,
                      double latency_ms)
{
    lc_final f;
    if (!strcmp(fmt, "srt")) writers_srt_cue(s, (int)index, t0, t1, text);
    else if (!strcmp(fmt, "vtt")) writers_vtt_cue(s, t0, t1, text);
    else if (!strcmp(fmt, "txt")) writers_txt_line(s, text);
    else {
        f.t0 = t0;
        f.t1 = t1;
        snprintf(f.text, sizeof f.text, "%s", text);
        write_seg(s, "final", &f, latency_ms);
        fputs("}\n", s);
    }
    if (fflush(s) != 0 || ferror(s)) return -1;
    return 0;
}

/* Each final reaches the disk as it is committed: a signal or crash leaves
 * a complete file. fsync is where a full disk or a dead NFS server shows up
 * when the page cache took the write. 0 or -1 (errno set). */
static int save_sync(int fd)
{
    if (fsync(fd) != 0 && errno != EINVAL && errno != EROFS) return -1; /* EINVAL: pipes, ttys */
    return 0;
}

static void report(lc_events *ev, const char *msg)
{
    ev->reported = 1;
    if (ev->on_error) ev->on_error(ev->on_error_ctx, msg);
    else { fprintf(stderr, "livecap: %s\n", msg); fflush(stderr); }
}

/* The save file failed: say so once, then write the whole transcript kept
 * in memory to the fallback file and go on appending there. */
static void save_rescue(lc_events *ev, int err)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !dir[0]) dir = "/tmp";
    snprintf(ev->rescue_path, sizeof ev->rescue_path, "%s/livecap-rescue-%ld.%s", dir, (long)getpid(),
             ev->save_fmt);
    fclose(ev->save);
    ev->save = NULL;
    ev->save_err = 1;
    FILE *r = fopen(ev->rescue_path, "w");
    int ok = r != NULL;
    if (ok && !strcmp(ev->save_fmt, "vtt")) writers_vtt_header(r);
    for (size_t i = 0; ok && i < ev->n_kept; i++)
        ok = save_write(r, ev->save_fmt, (long)i + 1, ev->kept[i].t0, ev->kept[i].t1, ev->kept[i].text,
                        ev->kept[i].latency_ms) == 0;
    if (ok && (fflush(r) != 0 || save_sync(fileno(r)) != 0)) ok = 0;
    char msg[9000];
    if (ok) {
        snprintf(msg, sizeof msg, "--save %s: cannot write (%s); the transcript is kept in memory and "
                 "written to %s", ev->save_path, strerror(err), ev->rescue_path);
        ev->save = r;
        ev->rescued = 1;
    } else {
        snprintf(msg, sizeof msg, "--save %s: cannot write (%s), nor the fallback %s; the transcript is "
                 "kept in memory only (and in --jsonl)", ev->save_path, strerror(err), ev->rescue_path);
        if (r) fclose(r);
        ev->rescue_path[0] = 0;
    }
    report(ev, msg);
}

/* The save stream failed with err: the fallback file, or memory only when
 * the fallback is what failed. */
static void save_failed(lc_events *ev, int err)
{
    if (ev->rescued) { /* the fallback failed too: keep going in memory */
        char msg[4400];
        snprintf(msg, sizeof msg, "%s: cannot write (%s); the transcript is kept in memory only",
                 ev->rescue_path, strerror(err));
        fclose(ev->save);
        ev->save = NULL;
        report(ev, msg);
        return;
    }
    save_rescue(ev, err);
}

/* Writes one final to the save file; returns the descriptor the caller
 * fsyncs once ev->mu is released, or -1 (nothing to sync). */
static int save_final(lc_events *ev, const lc_final *f, double latency_ms)
{
    if (ev->n_kept == ev->cap_kept) { /* one realloc per doubling: finals are seconds apart */
        size_t cap = ev->cap_kept ? ev->cap_kept * 2 : 64;
        struct kept *k = realloc(ev->kept, cap * sizeof *k);
        if (k) { ev->kept = k; ev->cap_kept = cap; }
    }
    char *text = ev->n_kept < ev->cap_kept ? strdup(f->text) : NULL;
    if (text) ev->kept[ev->n_kept++] = (struct kept){ f->t0, f->t1, latency_ms, text };
    if (!ev->save) return -1; /* both files failed: memory only */
    errno = 0;
    if (save_write(ev->save, ev->save_fmt, ev->n_finals, f->t0, f->t1, f->text, latency_ms) == 0)
        return fileno(ev->save);
    save_failed(ev, errno ? errno : EIO);
    return -1;
}

void events_on_error(lc_events *ev, void (*fn)(void *ctx, const char *msg), void *ctx)
{
    pthread_mutex_lock(&ev->mu);
    ev->on_error = fn;
    ev->on_error_ctx = ctx;
    pthread_mutex_unlock(&ev->mu);
}

const char *events_rescue_path(lc_events *ev)
{
    pthread_mutex_lock(&ev->mu);
    const char *p = ev->rescued ? ev->rescue_path : NULL; /* set once, never changed after */
    pthread_mutex_unlock(&ev->mu);
    return p;
}

void events_final(lc_events *ev, const lc_final *f, double latency_ms)
{
    pthread_mutex_lock(&ev->mu);
    ev->n_finals++;
    if (ev->headless) {
        char a[WRITERS_TS_LEN], b[WRITERS_TS_LEN], line[sizeof f->text];
        writers_format_ts(f->t0, '.', a);
        writers_format_ts(f->t1, '.', b);
        one_line(f->text, line, sizeof line);
        printf("[%s --> %s] ", a, b);
        writers_txt_line(stdout, line);
        if (fflush(stdout) != 0) ev->out_err = 1;
    }
    if (ev->jsonl) { write_seg(ev->jsonl, "final", f, latency_ms); jsonl_done(ev); }
    int fd = ev->save_fmt ? save_final(ev, f, latency_ms) : -1;
    pthread_mutex_unlock(&ev->mu);
    /* fsync without the lock: the stats timer shares it, and a loaded host's
     * fsync took over a second (a CI run's stats gap of 1186 ms). Only the
     * pipeline's decode side calls events_final, one call at a time, and
     * events_close runs after it has stopped, so fd stays this stream's. */
    if (fd >= 0 && save_sync(fd) != 0) {
        int err = errno ? errno : EIO;
        pthread_mutex_lock(&ev->mu);
        if (ev->save && fileno(ev->save) == fd) save_failed(ev, err);
        pthread_mutex_unlock(&ev->mu);
    }
}

void events_partial(lc_events *ev, const lc_final *p, double latency_ms)
{
    pthread_mutex_lock(&ev->mu);
    if (ev->jsonl) { write_seg(ev->jsonl, "partial", p, latency_ms); jsonl_done(ev); }
    pthread_mutex_unlock(&ev->mu);
}

static void write_pct(FILE *f, const char *name, const lc_stage_pct *s, int comma)
{
    fprintf(f, "%s\"%s\":{\"p50_ms\":", comma ? "," : "", name);
    json_write_fixed(f, s->p50_ms, 2);
    fputs(",\"p95_ms\":", f);
    json_write_fixed(f, s->p95_ms, 2);
    fprintf(f, ",\"n\":%llu}", (unsigned long long)s->n);
}

void events_stats(lc_events *ev, const lc_pipeline_snapshot *s)
{
    pthread_mutex_lock(&ev->mu);
    FILE *f = ev->jsonl;
    if (f) {
        fputs("{\"type\":\"stats\",\"audio_s\":", f);
        json_write_fixed(f, s->audio_s, 3);
        fputs(",\"rtf\":", f);
        json_write_fixed(f, s->rtf, 3);
        fprintf(f, ",\"lag_ms\":%.0f,\"dropped_ms\":%.0f,\"stages\":{", s->lag_ms, s->dropped_ms);
        for (int i = 0; i < LC_STAGE_COUNT; i++) write_pct(f, stats_stage_name(i), &s->stage[i], i > 0);
        fputs("},\"latency\":{", f);
        write_pct(f, "final", &s->final_latency, 0);
        write_pct(f, "partial", &s->partial_latency, 1);
        fputs("},\"util\":{\"cpu\":", f);
        json_write_fixed(f, s->cpu, 3);
        fputs(",\"npu\":", f);
        if (s->npu >= 0) json_write_fixed(f, s->npu, 3);
        else fputs("null", f);
        fputs(",\"cpu_cores\":", f);
        json_write_fixed(f, s->cpu_cores, 3);
        fputs(",\"cpu_mel\":", f);
        json_write_fixed(f, s->cpu_mel, 3);
        fputs(",\"cpu_decode\":", f);
        json_write_fixed(f, s->cpu_decode, 3);
        fprintf(f, "},\"vad_db\":%.1f,\"speech\":%s", s->vad_level_db, s->in_speech ? "true" : "false");
        if (s->status[0]) { /* capture trouble (device lost, retrying) */
            fputs(",\"status\":", f);
            json_write_string(f, s->status);
        }
        jsonl_done(ev);
    }
    pthread_mutex_unlock(&ev->mu);
}

void events_end(lc_events *ev, double audio_s, long finals)
{
    pthread_mutex_lock(&ev->mu);
    if (ev->jsonl) {
        fputs("{\"type\":\"end\",\"audio_s\":", ev->jsonl);
        json_write_fixed(ev->jsonl, audio_s, 3);
        fprintf(ev->jsonl, ",\"finals\":%ld", finals);
        jsonl_done(ev);
    }
    pthread_mutex_unlock(&ev->mu);
}

long events_finals(lc_events *ev)
{
    pthread_mutex_lock(&ev->mu);
    long n = ev->n_finals;
    pthread_mutex_unlock(&ev->mu);
    return n;
}

int events_close(lc_events *ev, lc_err *e)
{
    if (!ev) return 0;
    int rc = 0;
    if (ev->jsonl && ev->jsonl != stdout && fclose(ev->jsonl) != 0) ev->jsonl_err = 1;
    if (ev->save) {
        int bad = fclose(ev->save) != 0;
        ev->save = NULL;
        if (bad && !ev->rescued) ev->save_err = 1;
    }
    if (ev->jsonl_err) rc = lc_fail(e, "--jsonl: cannot write %s", ev->jsonl_path);
    else if (ev->save_err && ev->reported)
        rc = lc_fail(e, "%s", ""); /* already reported, once, when it happened */
    else if (ev->save_err) rc = lc_fail(e, "--save: cannot write %s", ev->save_path);
    else if (ev->out_err) rc = lc_fail(e, "cannot write standard output");
    for (size_t i = 0; i < ev->n_kept; i++) free(ev->kept[i].text);
    free(ev->kept);
    pthread_mutex_destroy(&ev->mu);
    free(ev);
    return rc;
}

void events_sink_final(void *ctx, const lc_final *f, double latency_ms) { events_final(ctx, f, latency_ms); }
void events_sink_partial(void *ctx, const lc_final *p, double latency_ms) { events_partial(ctx, p, latency_ms); }
