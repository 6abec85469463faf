/* tui.c: the live screen's loop, keys, transcript store and terminal
 * set-up/restore (tui.h). Drawing is in tui_draw.c. */
#include "ui/tui_int.h"

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <stdarg.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "out/writers.h"

#define STATS_EVENT_MS 500     /* SPEC §4: stats at least once a second; as cmd_live */
#define CAPTURE_CHECK_MS 2000  /* capture_status reports a 2-s stall; check as often */
#define STARTUP_CHECK_S 5.0    /* issue 5: "in the first seconds" */
#define STATUS_SHOW_MS 4000    /* how long a transient status message stays */
#define FIN_BATCH 32           /* finals copied per pipeline_finals call */
#define ERRBUF_KEEP 8192       /* stderr text kept for re-printing after the screen */

/* Terminal state for the fatal hook and the signal handler (main thread
 * sets them; the hook may run on any thread, once, on the way out). */
static volatile sig_atomic_t g_winch;
static volatile sig_atomic_t g_active;
static int g_saved_err = -1;      /* the real stderr while fd 2 is our pipe */
static int g_err_pipe = -1;       /* read end */
static SCREEN *g_screen;
static char g_errkeep[ERRBUF_KEEP];
static size_t g_errkeep_len;

static void on_winch(int sig) { (void)sig; g_winch = 1; }

int64_t tui_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int tui_available(void)
{
    const char *term = getenv("TERM");
    return isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) && term && *term && strcmp(term, "dumb") != 0;
}

/* ---- terminal and stderr ---------------------------------------------- */

static void stderr_capture(void)
{
    int fds[2];
    fflush(stderr);
    if (pipe(fds)) return;
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFL, O_NONBLOCK); /* a flood must not block a worker: excess is lost */
    g_saved_err = dup(STDERR_FILENO);
    if (g_saved_err < 0 || dup2(fds[1], STDERR_FILENO) < 0) {
        if (g_saved_err >= 0) close(g_saved_err);
        g_saved_err = -1;
        close(fds[0]);
        close(fds[1]);
        return;
    }
    close(fds[1]);
    g_err_pipe = fds[0];
    g_errkeep_len = 0;
}

/* Reads what was written to stderr; returns the last complete line in
 * last (or "" when none), keeps the text for stderr_restore. */
static void stderr_drain(char *last, size_t len)
{
    char buf[1024];
    ssize_t k;
    if (last) last[0] = '\0';
    if (g_err_pipe < 0) return;
    while ((k = read(g_err_pipe, buf, sizeof buf)) > 0) {
        size_t room = ERRBUF_KEEP - g_errkeep_len;
        size_t take = (size_t)k < room ? (size_t)k : room;
        memcpy(g_errkeep + g_errkeep_len, buf, take);
        g_errkeep_len += take;
        if (!last) continue;
        /* the last non-empty line of this read */
        ssize_t end = k;
        while (end > 0 && (buf[end - 1] == '\n' || buf[end - 1] == '\r')) end--;
        ssize_t start = end;
        while (start > 0 && buf[start - 1] != '\n') start--;
        if (end > start) {
            size_t n = (size_t)(end - start) < len - 1 ? (size_t)(end - start) : len - 1;
            memcpy(last, buf + start, n);
            last[n] = '\0';
        }
    }
}

static void stderr_restore(void)
{
    if (g_saved_err < 0) return;
    stderr_drain(NULL, 0);
    fflush(stderr);
    dup2(g_saved_err, STDERR_FILENO);
    close(g_saved_err);
    g_saved_err = -1;
    if (g_err_pipe >= 0) close(g_err_pipe);
    g_err_pipe = -1;
    if (g_errkeep_len) { /* what went to stderr under the screen, now readable */
        fwrite(g_errkeep, 1, g_errkeep_len, stderr);
        if (g_errkeep[g_errkeep_len - 1] != '\n') fputc('\n', stderr);
        g_errkeep_len = 0;
    }
}

/* lc_fatal's hook: the terminal first, then the message (htop CRT_fatalError). */
static void tui_restore(void)
{
    if (!g_active) return;
    g_active = 0;
    endwin();
    stderr_restore();
}

static int term_open(lc_err *e)
{
    setlocale(LC_ALL, ""); /* UTF-8 and wide characters (wcwidth, mbrtowc) */
    g_screen = newterm(NULL, stdout, stdin);
    if (!g_screen) {
        const char *term = getenv("TERM");
        return lc_fail(e, "TERM=%s: cannot set up the terminal (use --headless)", term ? term : "");
    }
    set_term(g_screen);
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    curs_set(0);
    g_active = 1;
    lc_set_fatal_hook(tui_restore);
    return 0;
}

static void term_close(void)
{
    tui_restore();
    lc_set_fatal_hook(NULL);
    if (g_screen) delscreen(g_screen);
    g_screen = NULL;
}

static int locale_utf8(void)
{
    const char *cs = nl_langinfo(CODESET);
    return cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

static void term_resize(void)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
        resizeterm(ws.ws_row, ws.ws_col);
}

/* ---- transcript store ---------------------------------------------------- */

static void set_status(tui *t, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_status(tui *t, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->status, sizeof t->status, fmt, ap);
    va_end(ap);
    t->status_level = level;
    t->status_until = tui_now_ns() + STATUS_SHOW_MS * 1000000LL;
}

/* Trims the spaces Whisper words carry; NULL when out of memory. */
static int line_add(tui *t, const lc_final *f)
{
    const char *s = f->text;
    while (*s == ' ' || *s == '\n' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\t')) n--;
    if (t->n == t->cap) {
        long cap = t->cap ? t->cap * 2 : 256;
        tui_line *nl = realloc(t->lines, (size_t)cap * sizeof *nl);
        if (!nl) return -1;
        t->lines = nl;
        t->cap = cap;
    }
    tui_line *L = &t->lines[t->n];
    memset(L, 0, sizeof *L);
    L->utf8 = malloc(n + 1);
    L->w = malloc((n + 1) * sizeof *L->w); /* ≤ one wide char per byte */
    if (!L->utf8 || !L->w) { free(L->utf8); free(L->w); return -1; }
    memcpy(L->utf8, s, n);
    L->utf8[n] = '\0';
    L->len = tui_widen(L->utf8, L->w, (int)n + 1, t->utf8);
    L->t0 = f->t0;
    L->t1 = f->t1;
    L->rows_key = -1;
    t->n++;
    /* scrolled back: keep the view where it is */
    if (!t->follow && t->pane_w > 0)
        t->scroll += tui_item_rows(t, L->w, L->len, L->t0, t->pane_w);
    return 0;
}

static void lines_free(tui *t)
{
    for (long i = 0; i < t->n; i++) { free(t->lines[i].w); free(t->lines[i].utf8); }
    free(t->lines);
    t->lines = NULL;
    t->n = t->cap = 0;
}

static void pull_finals(tui *t)
{
    for (;;) {
        long first = t->next_final;
        int k = pipeline_finals(t->p, t->next_final, t->fin, FIN_BATCH, &first);
        if (k <= 0) return;
        if (first > t->next_final)
            set_status(t, 1, "%ld finals scrolled out before the screen saw them (see the saved file)",
                       first - t->next_final);
        for (int i = 0; i < k; i++)
            if (line_add(t, &t->fin[i])) { set_status(t, 2, "out of memory: transcript pane stopped"); break; }
        t->next_final = first + k;
        if (k < FIN_BATCH) return;
    }
}

static void pull_partial(tui *t)
{
    const lc_final *pf = &t->snap->partial;
    int need = (int)strlen(pf->text) + 1;
    if (need > t->partial_cap) {
        wchar_t *w = realloc(t->partial, (size_t)need * sizeof *w);
        if (!w) { t->partial_len = 0; return; }
        t->partial = w;
        t->partial_cap = need;
    }
    t->partial_len = pf->n_words > 0 ? tui_widen(pf->text, t->partial, t->partial_cap, t->utf8) : 0;
    /* trim the leading/trailing spaces Whisper words carry */
    int a = 0, b = t->partial_len;
    while (a < b && t->partial[a] == L' ') a++;
    while (b > a && t->partial[b - 1] == L' ') b--;
    if (a) memmove(t->partial, t->partial + a, (size_t)(b - a) * sizeof *t->partial);
    t->partial_len = b - a;
    t->partial[t->partial_len] = L'\0';
    t->partial_t0 = pf->t0;
}

/* ---- startup check ---------------------------------------------------------- */

/* The next smaller Whisper model (openai's sizes), for the advice. */
static const char *smaller_model(const char *type)
{
    static const char *const order[][2] = {
        { "large", "medium" }, { "medium", "small" }, { "small", "base" }, { "base", "tiny" },
    };
    for (size_t i = 0; type && i < sizeof order / sizeof *order; i++)
        if (strncmp(type, order[i][0], strlen(order[i][0])) == 0) return order[i][1];
    return NULL;
}

static void startup_check(tui *t)
{
    const lc_pipeline_snapshot *s = t->snap;
    if (t->checked || s->paused || s->audio_s < STARTUP_CHECK_S) return;
    t->checked = 1;
    /* behind: more compute than audio, or a backlog the decode worker is not
     * working off (lag beyond two 30-s windows' worth is dropped anyway) */
    int behind = s->rtf > 1.0 || s->dropped_ms > 0 || s->lag_ms > 5000;
    if (!behind) {
        snprintf(t->verdict, sizeof t->verdict, "startup check: this model keeps up on this machine (RTF %.2f)",
                 s->rtf);
        t->verdict_bad = 0;
        return;
    }
    const char *type = t->info->model_type, *smaller = smaller_model(type);
    const char *en = t->info->model_path && strstr(t->info->model_path, ".en") ? ".en" : "";
    char model_tip[96], thread_tip[64], lag[32] = "";
    const char *ell = t->utf8 ? "…" : "...", *dash = t->utf8 ? "—" : "-";
    if (smaller) snprintf(model_tip, sizeof model_tip, "a smaller model (-m %sggml-%s%s.bin)", ell, smaller, en);
    else snprintf(model_tip, sizeof model_tip, "a quantized model (-m %sggml-tiny%s-q5_1.bin)", ell, en);
    if (t->info->threads < s->n_cores) snprintf(thread_tip, sizeof thread_tip, " or more threads (-t %d)", s->n_cores);
    else snprintf(thread_tip, sizeof thread_tip, " (all %d cores in use)", s->n_cores);
    if (s->lag_ms > 5000) snprintf(lag, sizeof lag, ", lag %.1f s", s->lag_ms / 1000);
    snprintf(t->verdict, sizeof t->verdict, "falling behind: RTF %.2f%s %s try %s%s", s->rtf, lag, dash,
             model_tip, thread_tip);
    t->verdict_bad = 1;
}

/* ---- keys ------------------------------------------------------------------- */

/* `s`: with --save the file already holds every final (events.h appends and
 * fsyncs each one), so saving now is one more fsync; without --save the
 * transcript so far goes to ./livecap-YYYYmmdd-HHMMSS.txt. */
static void save_now(tui *t)
{
    const char *path = t->info->save_path;
    const char *rescue = t->info->events ? events_rescue_path(t->info->events) : NULL;
    if (path && *path && rescue) path = rescue; /* --save failed: the fallback file holds it */
    if (path && *path) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fsync(fd)) {
            set_status(t, 2, "save: %s: %s", path, strerror(errno));
            if (fd >= 0) close(fd);
            return;
        }
        close(fd);
        long n = t->info->events ? events_finals(t->info->events) : t->n;
        set_status(t, 0, "saved: %ld final%s in %s", n, n == 1 ? "" : "s", path);
        return;
    }
    char name[64];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(name, sizeof name, "livecap-%Y%m%d-%H%M%S.txt", &tm);
    FILE *f = fopen(name, "w");
    int bad = !f;
    for (long i = 0; f && !bad && i < t->n; i++) bad = writers_txt_line(f, t->lines[i].utf8) != 0;
    if (f) {
        bad |= fflush(f) != 0 || fsync(fileno(f)) != 0;
        bad |= fclose(f) != 0;
    }
    if (bad) set_status(t, 2, "save: %s: %s", name, strerror(errno));
    else set_status(t, 0, "saved: %ld line%s in %s", t->n, t->n == 1 ? "" : "s", name);
}

static void scroll_by(tui *t, int d)
{
    int max = t->pane_h > 0 ? tui_total_rows(t, t->pane_w) - t->pane_h : 0;
    if (max < 0) max = 0;
    t->scroll += d;
    if (t->scroll > max) t->scroll = max;
    if (t->scroll <= 0) { t->scroll = 0; t->follow = 1; }
    else t->follow = 0;
}

static void begin_stop(tui *t)
{
    if (t->stopping) return;
    t->stopping = 1;
    pipeline_request_stop(t->p);
}

static void on_key(tui *t, int ch)
{
    int page = t->pane_h > 1 ? t->pane_h - 1 : 1;
    switch (ch) {
    case 'q': case 'Q': begin_stop(t); break;
    case ' ': case 'p': case 'P':
        if (t->stopping || t->ended) break;
        t->paused = !t->paused;
        pipeline_pause(t->p, t->paused);
        set_status(t, 0, t->paused ? "paused: no audio is captured" : "recording");
        break;
    case 'c':
        t->clear_from = t->n;
        t->scroll = 0;
        t->follow = 1;
        set_status(t, 0, "screen cleared (the transcript and the saved file are untouched)");
        break;
    case 's': save_now(t); break;
    case 'f': t->scroll = 0; t->follow = 1; break;
    case 't': t->show_ts = !t->show_ts; break;
    case '?': case 'h': t->show_help = !t->show_help; break;
    case 27: t->show_help = 0; break; /* Esc */
    case KEY_UP: scroll_by(t, 1); break;
    case KEY_DOWN: scroll_by(t, -1); break;
    case KEY_PPAGE: scroll_by(t, page); break;
    case KEY_NPAGE: scroll_by(t, -page); break;
    case KEY_HOME: scroll_by(t, 1 << 28); break;
    case KEY_END: t->scroll = 0; t->follow = 1; break;
    case KEY_RESIZE: break; /* ncurses already resized; the next frame redraws */
    default: break;
    }
}

/* ---- the loop --------------------------------------------------------------- */

static void frame(tui *t)
{
    char line[512];
    pipeline_snapshot(t->p, t->snap);
    pull_finals(t);
    pull_partial(t);
    if (t->snap->finished && !t->ended) {
        t->ended = 1;
        set_status(t, 0, "end of input: the transcript is complete (q quits)");
        t->status_until = INT64_MAX;
    }
    stderr_drain(line, sizeof line);
    if (line[0]) set_status(t, 1, "%s", line);
    if (t->snap->status[0]) set_status(t, 1, "%s", t->snap->status); /* capture trouble */
    startup_check(t);
    tui_draw(t);
}

static void timers(tui *t, int64_t now, int64_t *next_stats, int64_t *next_cap)
{
    if (now >= *next_stats) {
        if (t->info->events) events_stats(t->info->events, t->snap);
        backend_stats(t->info->backend, &t->bs);
        backend_stats(t->info->mel_backend ? t->info->mel_backend : t->info->backend, &t->mbs);
        *next_stats += STATS_EVENT_MS * 1000000LL;
        if (*next_stats < now) *next_stats = now + STATS_EVENT_MS * 1000000LL;
    }
    if (t->info->capture && !t->stopping && !t->ended && now >= *next_cap) {
        char msg[256];
        lc_err e;
        /* a device that stalls or vanishes: say so, try to reopen (as cmd_live) */
        if (capture_status(t->info->capture, msg, sizeof msg)) {
            if (capture_reopen(t->info->capture, &e)) set_status(t, 2, "%s", msg);
            else set_status(t, 1, "%s: reopened", msg);
        }
        *next_cap = now + CAPTURE_CHECK_MS * 1000000LL;
    }
}

static void loop(tui *t)
{
    int hz = t->cfg->refresh_hz >= 10 ? t->cfg->refresh_hz : 10; /* issue 5: ≥ 10 frames/s */
    int64_t period = 1000000000LL / hz, now = tui_now_ns();
    int64_t next_frame = now, next_stats = now + STATS_EVENT_MS * 1000000LL, next_cap = now;
    for (;;) {
        if (t->info->stop_signal && *t->info->stop_signal) begin_stop(t);
        if (g_winch) { g_winch = 0; term_resize(); }
        now = tui_now_ns();
        timeout(next_frame > now ? (int)((next_frame - now) / 1000000) : 0);
        for (int ch = getch(), n = 0; ch != ERR && n < 64; ch = getch(), n++) {
            on_key(t, ch);
            timeout(0); /* drain what is queued, then draw */
        }
        if (t->stopping && pipeline_wait(t->p, 0)) break;
        now = tui_now_ns();
        if (now >= next_frame) {
            frame(t);
            next_frame += period;
            if (next_frame < now) next_frame = now + period;
        }
        timers(t, now, &next_stats, &next_cap);
    }
    frame(t); /* the last state, briefly, before the terminal is restored */
}

int tui_run(lc_pipeline *p, const lc_config *cfg, const tui_info *info, lc_err *e)
{
    tui *t = calloc(1, sizeof *t);
    if (!t) return lc_fail(e, "out of memory");
    t->snap = calloc(1, sizeof *t->snap);
    t->fin = calloc(FIN_BATCH, sizeof *t->fin);
    if (!t->snap || !t->fin) { free(t->snap); free(t->fin); free(t); return lc_fail(e, "out of memory"); }
    t->p = p;
    t->cfg = cfg;
    t->info = info;
    t->follow = 1;
    t->show_ts = cfg->timestamps;

    struct sigaction sa, old_winch;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_winch; /* only a flag: the loop calls resizeterm */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGWINCH, &sa, &old_winch);
    g_winch = 0;

    int rc = term_open(e);
    if (rc == 0) {
        t->utf8 = locale_utf8();
        t->color = cfg->color && has_colors();
        tui_colors_init(t);
        backend_stats(info->backend, &t->bs);
        backend_stats(info->mel_backend ? info->mel_backend : info->backend, &t->mbs);
        stderr_capture();
        loop(t);
        term_close();
    }
    sigaction(SIGWINCH, &old_winch, NULL);
    lines_free(t);
    free(t->partial);
    free(t->snap);
    free(t->fin);
    free(t);
    return rc;
}

int tui_message(const lc_config *cfg, const char *title, const char *text, volatile sig_atomic_t *stop_signal)
{
    lc_err e;
    struct sigaction sa, old_winch;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_winch;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGWINCH, &sa, &old_winch);
    if (term_open(&e)) { sigaction(SIGWINCH, &old_winch, NULL); return -1; }
    int utf8 = locale_utf8(), color = cfg->color && has_colors();
    if (color) { start_color(); use_default_colors(); }
    timeout(100);
    for (;;) {
        if (g_winch) { g_winch = 0; term_resize(); }
        tui_draw_message(color, utf8, title, text);
        int ch = getch();
        if ((ch != ERR && ch != KEY_RESIZE) || (stop_signal && *stop_signal)) break;
    }
    term_close();
    sigaction(SIGWINCH, &old_winch, NULL);
    return 0;
}
