/* tui_draw.c: one frame of the live screen (tui.h). Everything draws on
 * stdscr after erase(); tui_draw ends with wnoutrefresh + doupdate, so the
 * terminal only receives the cells that changed (no flicker). */
#include "ui/tui_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define LINE_MAX_W 1024 /* wide chars of one drawn UI string (not transcript text) */

static int d_utf8; /* glyphs: Unicode blocks, or ASCII when the locale is not UTF-8 */
static int d_color;

/* Glyphs with their ASCII fallbacks. */
#define G(u, a) (d_utf8 ? (u) : (a))
#define G_FULL G("█", "#")
#define G_EMPTY G("░", ".")
#define G_REC G("●", "*")
#define G_PAUSE G("‖", "||")
#define G_DONE G("■", "#")
#define G_UP G("↑", "^")
#define G_DOT G("·", "-")
#define G_ELL G("…", "...")

static attr_t pick(int pair, attr_t extra, attr_t mono)
{
    return d_color ? (attr_t)COLOR_PAIR(pair) | extra : mono;
}

int tui_widen(const char *s, wchar_t *out, int cap, int utf8)
{
    mbstate_t st;
    memset(&st, 0, sizeof st);
    int n = 0;
    size_t len = strlen(s);
    while (len && n < cap - 1) {
        wchar_t wc;
        size_t k = utf8 ? mbrtowc(&wc, s, len, &st) : (size_t)-1;
        if (!utf8 && (unsigned char)*s < 0x80) { wc = (unsigned char)*s; k = 1; }
        if (k == (size_t)-1 || k == (size_t)-2) { /* invalid or cut sequence: one byte, one mark */
            memset(&st, 0, sizeof st);
            wc = utf8 ? 0xFFFD : L'?';
            k = 1;
        }
        if (k == 0) break;
        if (wc == L'\n' || wc == L'\t' || wc == L'\r') wc = L' ';
        else if (wc < 0x20 || wc == 0x7f || wcwidth(wc) < 0) wc = utf8 ? 0xFFFD : L'?';
        out[n++] = wc;
        s += k;
        len -= k;
    }
    out[n] = L'\0';
    return n;
}

static int cw(wchar_t c)
{
    int w = wcwidth(c);
    return w < 0 ? 1 : w;
}

/* Draws the first columns of a wide string that fit in maxw; returns them. */
static int wput(int y, int x, int maxw, attr_t a, const wchar_t *w, int len)
{
    int cols = 0, n = 0;
    while (n < len && cols + cw(w[n]) <= maxw) cols += cw(w[n++]);
    if (n > 0) {
        attron(a);
        mvaddnwstr(y, x, w, n);
        attroff(a);
    }
    return cols;
}

static int put(int y, int x, int maxw, attr_t a, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int put(int y, int x, int maxw, attr_t a, const char *fmt, ...)
{
    char buf[LINE_MAX_W];
    wchar_t w[LINE_MAX_W];
    va_list ap;
    if (maxw <= 0) return 0;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    int n = tui_widen(buf, w, LINE_MAX_W, d_utf8);
    return wput(y, x, maxw, a, w, n);
}

static int text_cols(const char *s)
{
    wchar_t w[LINE_MAX_W];
    int n = tui_widen(s, w, LINE_MAX_W, d_utf8), c = 0;
    for (int i = 0; i < n; i++) c += cw(w[i]);
    return c;
}

/* Rules and boxes: Unicode box drawing in a UTF-8 locale (no dependence on
 * the terminfo's alternate charset, which some terminals mangle), else ACS. */
static void vrule(int y, int x, int h)
{
    if (!d_utf8) { mvvline(y, x, ACS_VLINE, h); return; }
    for (int i = 0; i < h; i++) mvaddwstr(y + i, x, L"\u2502");
}

static void hrule(int y, int x, int w)
{
    if (!d_utf8) { mvhline(y, x, ACS_HLINE, w); return; }
    for (int i = 0; i < w; i++) mvaddwstr(y, x + i, L"\u2500");
}

static void corner(int y, int x, const wchar_t *u, chtype acs)
{
    if (d_utf8) mvaddwstr(y, x, u);
    else mvaddch(y, x, acs);
}

static void fill_row(int y, int x, int w, attr_t a)
{
    attron(a);
    mvhline(y, x, ' ', w);
    attroff(a);
}

/* A bar of `w` cells for frac in [0, 1]. */
static void bar(int y, int x, int w, double frac, attr_t on)
{
    if (!(frac >= 0)) frac = 0;
    if (frac > 1) frac = 1;
    int full = (int)lround(frac * w);
    for (int i = 0; i < w; i++)
        put(y, x + i, 1, i < full ? on : pick(CP_DIM, A_DIM, A_DIM), "%s", i < full ? G_FULL : G_EMPTY);
}

static void fmt_clock(double s, char *out, size_t len)
{
    if (!(s >= 0)) s = 0;
    long ds = (long)(s * 10); /* tenths */
    long h = ds / 36000, m = ds / 600 % 60, sec = ds / 10 % 60, t = ds % 10;
    if (h) snprintf(out, len, "%ld:%02ld:%02ld.%ld", h, m, sec, t);
    else snprintf(out, len, "%02ld:%02ld.%ld", m, sec, t);
}

static void fmt_ms(double ms, char *out, size_t len)
{
    if (ms <= 0) snprintf(out, len, "-");
    else if (ms < 10) snprintf(out, len, "%.2fms", ms);
    else if (ms < 100) snprintf(out, len, "%.1fms", ms);
    else if (ms < 1000) snprintf(out, len, "%.0fms", ms);
    else if (ms < 100000) snprintf(out, len, "%.2fs", ms / 1000);
    else snprintf(out, len, "%.0fs", ms / 1000);
}

static const char *base_name(const char *p)
{
    const char *s = p ? strrchr(p, '/') : NULL;
    return s ? s + 1 : (p ? p : "");
}

void tui_colors_init(tui *t)
{
    d_utf8 = t->utf8;
    d_color = t->color;
    if (!t->color) return;
    start_color();
    use_default_colors();
    /* grey for the dimmed partial where the palette has it (xterm-256 245) */
    short grey = COLORS >= 256 ? 245 : COLOR_WHITE;
    init_pair(CP_HEADER, COLOR_BLACK, COLOR_CYAN);
    init_pair(CP_OK, COLOR_GREEN, -1);
    init_pair(CP_WARN, COLOR_YELLOW, -1);
    init_pair(CP_BAD, COLOR_RED, -1);
    init_pair(CP_DIM, grey, -1);
    init_pair(CP_ACCENT, COLOR_CYAN, -1);
    init_pair(CP_FOOTER, COLOR_BLACK, COLOR_WHITE);
    init_pair(CP_REC, COLOR_WHITE, COLOR_RED);
}

/* ---- transcript ----------------------------------------------------------- */

/* "[mm:ss] " (or "[h:mm:ss] "): the columns the stamp takes. */
static int stamp(double t0, char *out, size_t len)
{
    long s = t0 > 0 ? (long)t0 : 0;
    if (s >= 3600) return snprintf(out, len, "[%ld:%02ld:%02ld] ", s / 3600, s / 60 % 60, s % 60);
    return snprintf(out, len, "[%02ld:%02ld] ", s / 60, s % 60);
}

/* From s[i], the end (exclusive) of a row that fits in `width` columns,
 * breaking after the last space rather than inside a word when it can;
 * *next is where the following row starts (spaces skipped). */
static int wrap_row(const wchar_t *s, int len, int i, int width, int *next)
{
    int col = 0, j = i, space = -1;
    while (j < len && col + cw(s[j]) <= width) {
        col += cw(s[j]);
        if (s[j] == L' ') space = j;
        j++;
    }
    int end = j;
    if (j < len && s[j] != L' ' && space > i) end = space;
    if (end == i) end = i + 1; /* one glyph wider than the row: take it anyway */
    int k = end;
    while (k < len && s[k] == L' ') k++;
    *next = k;
    return end;
}

static int text_width(const tui *t, double t0, int w, int *indent)
{
    char buf[32];
    int pw = t->show_ts ? stamp(t0, buf, sizeof buf) : 0;
    if (w - pw < 8) pw = 0; /* too narrow for the stamp column: no indent */
    *indent = pw;
    return w - pw;
}

int tui_item_rows(const tui *t, const wchar_t *s, int len, double t0, int w)
{
    int indent, tw = text_width(t, t0, w, &indent), rows = 0, i = 0, next;
    if (tw < 2) return 1;
    do {
        wrap_row(s, len, i, tw, &next);
        i = next;
        rows++;
    } while (i < len);
    return rows;
}

static int line_rows(tui *t, tui_line *L, int w)
{
    int key = w * 2 + t->show_ts;
    if (L->rows_key != key) {
        L->rows = tui_item_rows(t, L->w, L->len, L->t0, w);
        L->rows_key = key;
    }
    return L->rows;
}

int tui_total_rows(tui *t, int w)
{
    int total = 0;
    for (long i = t->clear_from; i < t->n; i++) total += line_rows(t, &t->lines[i], w);
    return total;
}

/* Draws rows [0, rows) of an item whose first row is at pane row `top`,
 * clipped to [y0, y0 + h). */
static void draw_item(tui *t, const wchar_t *s, int len, double t0, int top, int y0, int x0, int h, int w,
                      attr_t a)
{
    int indent, tw = text_width(t, t0, w, &indent), i = 0, next, r = 0;
    if (tw < 2) return;
    do {
        int end = wrap_row(s, len, i, tw, &next);
        int y = top + r;
        if (y >= 0 && y < h) {
            if (r == 0 && indent) {
                char buf[32];
                stamp(t0, buf, sizeof buf);
                put(y0 + y, x0, indent, pick(CP_ACCENT, 0, A_BOLD), "%s", buf);
            }
            wput(y0 + y, x0 + indent, tw, a, s + i, end - i);
        }
        i = next;
        r++;
    } while (i < len && top + r < h);
}

static void draw_transcript(tui *t, int y0, int x0, int h, int w)
{
    t->pane_h = h;
    t->pane_w = w;
    if (h <= 0 || w < 4) return;
    int partial = t->follow && t->partial_len > 0;
    int prows = partial ? tui_item_rows(t, t->partial, t->partial_len, t->partial_t0, w) : 0;
    if (t->n == t->clear_from && !partial) {
        if (t->ended) put(y0, x0, w, pick(CP_DIM, A_DIM, A_DIM), "%s",
                          t->n ? "end of input (c hid the lines above; q quits)" : "end of input: no speech");
        else if (t->paused) put(y0, x0, w, pick(CP_DIM, A_DIM, A_DIM), "paused: press p or space to resume");
        else put(y0, x0, w, pick(CP_DIM, A_DIM, A_DIM), "listening%s finals appear here, the live guess dimmed", G_ELL);
        return;
    }
    /* fewer rows than the pane: top-anchored; else the bottom, minus scroll */
    int sum = prows;
    for (long i = t->n - 1; i >= t->clear_from && sum < h; i--) sum += line_rows(t, &t->lines[i], w);
    int y = sum < h ? sum - 1 : h - 1 + t->scroll;
    if (partial) {
        int top = y - prows + 1;
        draw_item(t, t->partial, t->partial_len, t->partial_t0, top, y0, x0, h, w, pick(CP_DIM, A_DIM, A_DIM));
        y = top - 1;
    }
    for (long i = t->n - 1; i >= t->clear_from && y >= 0; i--) {
        tui_line *L = &t->lines[i];
        int top = y - line_rows(t, L, w) + 1;
        if (top < h) draw_item(t, L->w, L->len, L->t0, top, y0, x0, h, w, A_NORMAL);
        y = top - 1;
    }
}

/* ---- header, status, footer ------------------------------------------------ */

static void draw_header(tui *t, int w)
{
    const lc_pipeline_snapshot *s = t->snap;
    attr_t a = pick(CP_HEADER, A_BOLD, A_REVERSE | A_BOLD);
    char clock[32], right[64];
    fill_row(0, 0, w, a);
    fmt_clock(s->audio_s, clock, sizeof clock);
    attr_t ra = a;
    if (t->stopping) snprintf(right, sizeof right, " %s  stopping%s ", clock, G_ELL);
    else if (t->ended) snprintf(right, sizeof right, " %s  %s ENDED ", clock, G_DONE);
    else if (t->paused) { snprintf(right, sizeof right, " %s  %s PAUSED ", clock, G_PAUSE); ra = pick(CP_WARN, A_BOLD | A_REVERSE, A_BOLD); }
    else { snprintf(right, sizeof right, " %s  %s REC ", clock, G_REC); ra = pick(CP_REC, A_BOLD, A_BOLD); }
    int rw = text_cols(right);
    const char *where = t->bs.where[LC_OP_GEMM] ? t->bs.where[LC_OP_GEMM] : "CPU";
    put(0, 0, w - rw - 1, a, " livecap %s %s (%s %s) %s %s %s %s", G_DOT, base_name(t->info->model_path),
        t->info->model_type ? t->info->model_type : "?", t->info->model_ftype ? t->info->model_ftype : "",
        G_DOT, where, G_DOT, base_name(t->info->device));
    if (rw <= w) put(0, w - rw, rw, ra, "%s", right);
}

static void draw_status(tui *t, int y, int w)
{
    int64_t now = tui_now_ns();
    char right[64] = "";
    if (!t->follow && t->scroll > 0) snprintf(right, sizeof right, " %s %d rows %s f follows ", G_UP, t->scroll, G_DOT);
    int rw = text_cols(right), lw = w - rw;
    if (t->stopping) put(y, 0, lw, pick(CP_WARN, A_BOLD, A_BOLD), " stopping: finishing the step in flight%s", G_ELL);
    else if (t->status[0] && now < t->status_until) {
        attr_t a = t->status_level == 2 ? pick(CP_BAD, A_BOLD, A_BOLD | A_REVERSE)
                 : t->status_level == 1 ? pick(CP_WARN, A_BOLD, A_BOLD) : pick(CP_OK, 0, A_NORMAL);
        put(y, 0, lw, a, " %s", t->status);
    } else if (t->verdict[0])
        put(y, 0, lw, t->verdict_bad ? pick(CP_BAD, A_BOLD, A_BOLD | A_REVERSE) : pick(CP_OK, 0, A_NORMAL),
            " %s", t->verdict);
    else put(y, 0, lw, pick(CP_DIM, A_DIM, A_DIM), " startup check: measuring whether this model keeps up%s", G_ELL);
    if (rw) put(y, lw, rw, pick(CP_ACCENT, A_REVERSE, A_REVERSE), "%s", right);
}

static void draw_footer(tui *t, int y, int w)
{
    attr_t a = pick(CP_FOOTER, 0, A_REVERSE);
    fill_row(y, 0, w, a);
    put(y, 0, w, a, " q quit  space/p pause  c clear  s save  f follow  t timestamps  ? help");
}

/* ---- stats ------------------------------------------------------------------ */

static int keeping_up(const lc_pipeline_snapshot *s)
{
    return !(s->rtf > 1.0 || s->lag_ms > 5000); /* as tui.c's startup check */
}

/* The one-line summary for terminals too small for the panel. */
static void draw_compact(tui *t, int y, int w)
{
    const lc_pipeline_snapshot *s = t->snap;
    char npu[32];
    if (s->npu < 0) snprintf(npu, sizeof npu, "n/a");
    else snprintf(npu, sizeof npu, "%.0f%%%s", s->npu * 100, t->bs.accel_emulated ? " (emulated)" : "");
    int x = put(y, 1, w - 1, A_BOLD, "RTF %.2f ", s->rtf);
    x += put(y, 1 + x, w - 1 - x, keeping_up(s) ? pick(CP_OK, 0, A_NORMAL) : pick(CP_BAD, A_BOLD, A_BOLD),
             "%s", s->audio_s < 1 ? "measuring" : keeping_up(s) ? "keeping up" : "falling behind");
    put(y, 1 + x, w - 1 - x, A_NORMAL, " %s lag %.1fs %s CPU %.0f%% %s NPU %s", G_DOT, s->lag_ms / 1000, G_DOT,
        s->cpu * 100, G_DOT, npu);
}

static const char *short_where(const char *label)
{
    if (!label) return "CPU";
    if (strncmp(label, "NPU", 3) == 0) return strstr(label, "emulated") ? "NPU*" : "NPU";
    return label;
}

static void draw_panel(tui *t, int y0, int x0, int h)
{
    const lc_pipeline_snapshot *s = t->snap;
    int x = x0 + 2, w = COLS - x, y = y0, gaps = h >= 21; /* blank separators when there is room */
    attr_t head = pick(CP_ACCENT, A_BOLD, A_BOLD), dim = pick(CP_DIM, A_DIM, A_DIM);
    char a[32], b[32];
    vrule(y0, x0, h);

    put(y++, x, w, head, "INPUT");
    double lvl = s->vad_level_db < -60 ? 0 : (s->vad_level_db + 60) / 60; /* meter: -60..0 dBFS */
    put(y, x, 6, A_NORMAL, "level");
    bar(y, x + 6, 16, lvl, lvl > 0.9 ? pick(CP_BAD, 0, A_BOLD) : pick(CP_OK, 0, A_BOLD));
    put(y++, x + 22, w - 22, A_NORMAL, " %4.0f dB", s->vad_level_db < -99 ? -99.0 : s->vad_level_db);
    put(y, x, 6, A_NORMAL, "VAD");
    if (s->finished) put(y++, x + 6, w - 6, dim, "end of input");
    else if (s->paused) put(y++, x + 6, w - 6, pick(CP_WARN, 0, A_NORMAL), "paused");
    else if (s->in_speech) put(y++, x + 6, w - 6, pick(CP_OK, A_BOLD, A_BOLD), "speech");
    else put(y++, x + 6, w - 6, dim, "silence");
    if (gaps) y++;

    put(y++, x, w, head, "PIPELINE");
    put(y, x, 6, A_NORMAL, "RTF");
    int c = put(y, x + 6, w - 6, A_BOLD, "%.2f  ", s->rtf);
    if (s->audio_s < 1) put(y++, x + 6 + c, w - 6 - c, dim, "measuring%s", G_ELL);
    else if (keeping_up(s)) put(y++, x + 6 + c, w - 6 - c, pick(CP_OK, A_BOLD, A_NORMAL), "keeping up");
    else put(y++, x + 6 + c, w - 6 - c, pick(CP_BAD, A_BOLD, A_BOLD | A_REVERSE), "falling behind");
    put(y++, x, w, A_NORMAL, "lag   %-7s dropped %s", "", "");
    snprintf(a, sizeof a, "%.1f s", s->lag_ms / 1000);
    snprintf(b, sizeof b, "%.1f s", s->dropped_ms / 1000);
    put(y - 1, x + 6, 8, A_NORMAL, "%s", a);
    put(y - 1, x + 22, w - 22, s->dropped_ms > 0 ? pick(CP_BAD, A_BOLD, A_BOLD) : A_NORMAL, "%s", b);
    if (gaps) y++;

    put(y++, x, w, A_UNDERLINE, "%-9s %-4s %8s %8s", "stage", "on", "p50", "p95");
    static const int order[] = { LC_STAGE_CAPTURE, LC_STAGE_MEL, LC_STAGE_ENCODER, LC_STAGE_DECODER, LC_STAGE_POLICY };
    for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
        int st = order[i];
        const char *on = st == LC_STAGE_MEL ? short_where(t->mbs.where[LC_OP_MEL_POWER])
                       : st == LC_STAGE_ENCODER ? short_where(t->bs.where[LC_OP_GEMM]) : "CPU";
        fmt_ms(s->stage[st].p50_ms, a, sizeof a);
        fmt_ms(s->stage[st].p95_ms, b, sizeof b);
        put(y++, x, w, A_NORMAL, "%-9s %-4s %8s %8s", stats_stage_name(st), on, a, b);
    }
    if (gaps) y++;

    put(y++, x, w, head, "UTILIZATION");
    /* CPU: the whole machine; the workers: each as a fraction of one core */
    put(y, x, 8, A_NORMAL, "CPU");
    bar(y, x + 8, 11, s->cpu, pick(CP_ACCENT, 0, A_BOLD));
    put(y++, x + 19, w - 19, A_NORMAL, "%4.0f%% %d cores", s->cpu * 100, s->n_cores);
    put(y, x, 8, A_NORMAL, " mel");
    bar(y, x + 8, 11, s->cpu_mel, pick(CP_ACCENT, 0, A_BOLD));
    put(y++, x + 19, w - 19, A_NORMAL, "%4.0f%%", s->cpu_mel * 100);
    put(y, x, 8, A_NORMAL, " decode");
    bar(y, x + 8, 11, s->cpu_decode, pick(CP_ACCENT, 0, A_BOLD));
    put(y++, x + 19, w - 19, A_NORMAL, "%4.0f%%", s->cpu_decode * 100);
    if (s->npu < 0 || !t->bs.accel_label) {
        put(y, x, 8, A_NORMAL, "NPU");
        put(y++, x + 8, w - 8, dim, "n/a");
    } else if (t->bs.accel_off) {
        put(y++, x, w, pick(CP_BAD, A_BOLD, A_BOLD), "NPU    off after errors");
    } else {
        int lx = put(y, x, w, A_NORMAL, "%s ", t->bs.accel_emulated ? "NPU (emulated)" : "NPU    ");
        int bw = w - lx - 6 > 11 ? 11 : w - lx - 6;
        bar(y, x + lx, bw, s->npu, pick(CP_OK, 0, A_BOLD));
        put(y++, x + lx + bw, w - lx - bw, A_NORMAL, "%4.0f%%", s->npu * 100);
    }
    if (y < y0 + h - 1 && gaps) y++;
    if (y < y0 + h && s->final_latency.n) {
        fmt_ms(s->final_latency.p50_ms, a, sizeof a);
        fmt_ms(s->final_latency.p95_ms, b, sizeof b);
        put(y++, x, w, dim, "final lat. p50 %s p95 %s", a, b);
    }
}

/* ---- help, too small, message -------------------------------------------- */

static void draw_box(int y0, int x0, int h, int w, const char *title)
{
    for (int y = y0; y < y0 + h; y++) mvhline(y, x0, ' ', w);
    corner(y0, x0, L"\u250c", ACS_ULCORNER);
    hrule(y0, x0 + 1, w - 2);
    corner(y0, x0 + w - 1, L"\u2510", ACS_URCORNER);
    vrule(y0 + 1, x0, h - 2);
    vrule(y0 + 1, x0 + w - 1, h - 2);
    corner(y0 + h - 1, x0, L"\u2514", ACS_LLCORNER);
    hrule(y0 + h - 1, x0 + 1, w - 2);
    corner(y0 + h - 1, x0 + w - 1, L"\u2518", ACS_LRCORNER);
    if (title) put(y0, x0 + 2, w - 4, A_BOLD, " %s ", title);
}

static void draw_help(int rows, int cols)
{
    static const char *const keys[][2] = {
        { "q", "quit (the saved file is complete)" },
        { "space, p", "pause / resume the capture" },
        { "c", "clear the screen (not the transcript)" },
        { "s", "save now" },
        { "f", "follow: jump back to the end" },
        { "t", "timestamps on/off" },
        { "Up Down", "scroll one line" },
        { "PgUp PgDn", "scroll one page" },
        { "?, Esc", "close this help" },
    };
    int n = (int)(sizeof keys / sizeof *keys), h = n + 4, w = 58;
    if (w > cols) w = cols;
    if (h > rows) h = rows;
    int y0 = (rows - h) / 2, x0 = (cols - w) / 2;
    draw_box(y0, x0, h, w, "keys");
    for (int i = 0; i < n && 2 + i < h - 1; i++) {
        put(y0 + 2 + i, x0 + 2, 11, A_BOLD, "%s", keys[i][0]);
        put(y0 + 2 + i, x0 + 14, w - 16, A_NORMAL, "%s", keys[i][1]);
    }
}

void tui_draw(tui *t)
{
    int rows = LINES, cols = COLS;
    erase();
    if (rows < TUI_MIN_H || cols < TUI_MIN_W) {
        put(0, 0, cols, A_BOLD, "terminal too small (%dx%d, %dx%d needed), q quits", cols, rows, TUI_MIN_W,
            TUI_MIN_H);
    } else {
        int full = rows >= TUI_FULL_H && cols >= TUI_FULL_W;
        draw_header(t, cols);
        int y0 = 1;
        if (!full) draw_compact(t, y0++, cols);
        int h = rows - y0 - 2, pw = full ? TUI_PANEL_W : 0;
        draw_transcript(t, y0, 1, h, cols - pw - 2);
        if (full) draw_panel(t, 1, cols - TUI_PANEL_W, rows - 3);
        draw_status(t, rows - 2, cols);
        draw_footer(t, rows - 1, cols);
        if (t->show_help) draw_help(rows, cols);
    }
    wnoutrefresh(stdscr);
    doupdate();
}

void tui_draw_message(int color, int utf8, const char *title, const char *text)
{
    d_utf8 = utf8;
    d_color = color;
    int rows = LINES, cols = COLS;
    erase();
    int n = 1;
    for (const char *c = text; *c; c++) n += *c == '\n';
    int h = n + 5, w = cols - 4 > 90 ? 90 : cols - 4;
    if (h > rows) h = rows;
    if (w < 10 || h < 3) {
        put(0, 0, cols, A_BOLD, "%s", title);
    } else {
        int y0 = (rows - h) / 2, x0 = (cols - w) / 2, y = y0 + 2;
        draw_box(y0, x0, h, w, title);
        for (const char *c = text; *c && y < y0 + h - 2;) {
            const char *e = strchr(c, '\n');
            int len = e ? (int)(e - c) : (int)strlen(c);
            put(y++, x0 + 2, w - 4, A_NORMAL, "%.*s", len, c);
            c += len + (e ? 1 : 0);
        }
        put(y0 + h - 2, x0 + 2, w - 4, color ? (attr_t)COLOR_PAIR(0) | A_DIM : A_DIM, "press any key to exit");
    }
    wnoutrefresh(stdscr);
    doupdate();
}
