/* tui.h: the ncurses screen of `livecap live` (issue 5).
 *
 *   ┌ header: livecap · model · backend · input · elapsed audio · ● REC/‖ PAUSED ┐
 *   │ transcript: finals in normal text, the partial tail dimmed │ stats panel │
 *   │ (scrollback ↑/↓ PgUp/PgDn, follow mode, [mm:ss] stamps)   │ level, VAD, │
 *   │                                                           │ RTF, stages,│
 *   │                                                           │ CPU vs NPU  │
 *   ├ status line: startup check verdict, saves, capture trouble ┤
 *   └ footer: the keys ┘
 *
 * Threads: everything here runs on the calling (main) thread, which must be
 * the pipeline's owner thread (it calls pipeline_pause/request_stop). Only
 * this thread calls curses. A frame copies pipeline_snapshot() and the new
 * pipeline_finals(), then redraws with erase + wnoutrefresh + doupdate
 * (never clear(), so there is no flicker), refresh_hz times a second.
 *
 * Signals: SIGWINCH only sets a flag (the loop resizes); SIGINT/SIGTERM/SIGHUP
 * are the caller's: it passes its volatile flag in tui_info.stop_signal, and
 * the loop treats it like `q`.
 *
 * While the screen is up, fd 2 is a pipe the UI drains onto the status line
 * (a stray fprintf(stderr) must not scribble over the screen); the lines are
 * re-printed on the real stderr when the terminal is restored. lc_fatal()
 * restores the terminal and stderr first (lc_set_fatal_hook).
 *
 * Layout: ≥ 80×24 header, transcript and a 34-column stats panel on the
 * right; smaller: header, a one-line stats summary, transcript, status,
 * footer; under 40×10: one line saying the terminal is too small.
 * Colors follow cfg->color (config.c already folds NO_COLOR into it); without
 * colors only bold/dim/reverse are used. Box and bar glyphs fall back to
 * ASCII when the locale is not UTF-8.
 */
#ifndef LC_TUI_H
#define LC_TUI_H

#include <signal.h>

#include "capture/capture.h"
#include "cli/config.h"
#include "engine/backend.h"
#include "stream/events.h"
#include "stream/pipeline.h"
#include "util/err.h"

typedef struct tui_info {
    const char *model_path;        /* shown by its base name */
    const char *model_type;        /* "tiny", "base", … (model->type) */
    const char *model_ftype;       /* "f16", "q5_0", … */
    const char *device;            /* capture device name or input file */
    const char *save_path;         /* --save, "" or NULL = none */
    const lc_backend *backend;     /* encoder/decoder backend: labels, NPU busy */
    const lc_backend *mel_backend; /* the mel worker's backend (NULL = backend) */
    lc_capture *capture;           /* for capture_status/capture_reopen; may be NULL */
    lc_events *events;             /* stats events every 500 ms (--jsonl); may be NULL */
    int threads;                   /* -t in effect, for the "more threads" advice */
    volatile sig_atomic_t *stop_signal; /* set by the caller's signal handlers */
} tui_info;

/* 1 when stdin and stdout are terminals and TERM names a usable terminal. */
int tui_available(void);

/* Runs the screen until `q` or *stop_signal. On return the pipeline has been
 * asked to stop, its decode worker has left (pipeline_wait returned 1), and
 * the terminal and stderr are restored; the caller then calls pipeline_stop
 * and writes the end event. When the input ends first (a file), the screen
 * stays up with the full transcript until `q`. Returns 0, or -1 with e set
 * when the terminal could not be set up (nothing was started or stopped). */
int tui_run(lc_pipeline *p, const lc_config *cfg, const tui_info *info, lc_err *e);

/* A full-screen message (e.g. "no model found" and what to run), lines
 * separated by '\n', until a key or *stop_signal (may be NULL). Returns 0,
 * -1 when the terminal could not be set up. */
int tui_message(const lc_config *cfg, const char *title, const char *text,
                volatile sig_atomic_t *stop_signal);

#endif
