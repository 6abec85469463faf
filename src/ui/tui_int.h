/* tui_int.h: private to src/ui/: the UI state that tui.c (loop, keys,
 * transcript store) and tui_draw.c (rendering) share. Main thread only. */
#ifndef LC_TUI_INT_H
#define LC_TUI_INT_H

#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1 /* the wide-char API (mvaddnwstr) of ncursesw */
#endif
#include <curses.h>
#include <stdint.h>
#include <wchar.h>

#include "ui/tui.h"

#define TUI_PANEL_W 34   /* stats panel: a 1-column rule + 32 columns + margin */
#define TUI_FULL_W 80    /* at and above 80×24 the stats panel is shown (issue 5) */
#define TUI_FULL_H 24
#define TUI_MIN_W 40     /* under 40×10 only "terminal too small" */
#define TUI_MIN_H 10

/* One final of the transcript pane. */
typedef struct tui_line {
    double t0, t1;
    wchar_t *w;          /* printable text, trimmed */
    int len;
    char *utf8;          /* the text as committed (trimmed), for `s` without --save */
    int rows, rows_key;  /* cached wrapped row count for rows_key (width·2 + stamps) */
} tui_line;

enum { CP_HEADER = 1, CP_OK, CP_WARN, CP_BAD, CP_DIM, CP_ACCENT, CP_FOOTER, CP_REC };

typedef struct tui {
    lc_pipeline *p;
    const lc_config *cfg;
    const tui_info *info;
    lc_pipeline_snapshot *snap;
    lc_backend_stats bs, mbs;         /* encoder/decoder backend, mel backend */
    lc_final *fin;                    /* scratch for pipeline_finals */
    long next_final;

    tui_line *lines;                  /* every final seen, in order */
    long n, cap, clear_from;          /* `c` hides lines before clear_from */
    wchar_t *partial;                 /* current partial, converted per frame */
    int partial_len, partial_cap;
    double partial_t0;

    int scroll;                       /* rows above the bottom; 0 = following */
    int follow, show_ts, show_help, paused, stopping, ended;
    int color, utf8;
    int pane_h, pane_w;               /* transcript pane of the last frame */

    char status[512];                 /* transient message, until status_until */
    int64_t status_until;
    int status_level;                 /* 0 info, 1 warning, 2 error */
    char verdict[256];                /* the startup check's result (sticky) */
    int verdict_bad, checked;
} tui;

/* tui_draw.c */
void tui_colors_init(tui *t);
void tui_draw(tui *t);
/* Rows the item takes in a pane of width w (cached for finals). */
int tui_item_rows(const tui *t, const wchar_t *s, int len, double t0, int w);
int tui_total_rows(tui *t, int w);
void tui_draw_message(int color, int utf8, const char *title, const char *text);
/* UTF-8 → printable wide chars (invalid bytes and controls → U+FFFD or '?');
 * returns the length written (≤ cap − 1, NUL-terminated). */
int tui_widen(const char *s, wchar_t *out, int cap, int utf8);
int64_t tui_now_ns(void);

#endif
