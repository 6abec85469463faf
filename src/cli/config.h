/* config.h: every setting livecap has, in one struct, filled from one table.
 *
 * Precedence (SPEC §1): command line > environment (LIVECAP_*) > INI file >
 * built-in defaults. The table in config.c lists each key once with its
 * section, type, bounds, default, env name, CLI option and help text; the
 * INI parser, the validator, `livecap --help` and config/livecap.ini all come
 * from it (redis config.c style).
 *
 * Errors: bad values print `file:line: key: what is wrong` (or
 * `--option: …` / `LIVECAP_X: …`) and the CLI exits 2.
 */
#ifndef LC_CONFIG_H
#define LC_CONFIG_H

#include <stdio.h>
#include "util/err.h"

#define LC_PATH_MAX 4096

typedef struct lc_config {
    /* which command: "live" (default), "transcribe", "devices", "bench", … */
    char command[32];

    /* [model] */
    char model[LC_PATH_MAX];       /* -m; "" = search default locations */
    char backend[16];              /* auto|cpu|npu|npu-emu */
    char npu_precision[8];         /* bf16x3|bf16: the NPU GEMMs' arithmetic (bf16.h) */
    char cpu_gemm[16];             /* auto|sgemm|amx-bf16x3: the CPU's weight GEMMs (amx.h) */
    int  threads;                  /* -t; 0 = number of cores */
    int  precise;                  /* --precise: keep every weight f32 */
    char decoder_weights[8];       /* auto|f32|f16|int8: what the decoder reads per token */

    /* [decode] */
    char language[16];             /* -l; code or "auto" */
    int  translate;                /* --translate */
    int  beam;                     /* --beam N; 1 = greedy */
    int  best_of;                  /* samples at T>0 (openai default 5) */
    int  no_fallback;              /* --no-fallback */
    double temperature_inc;        /* 0.2, openai's default */
    double compression_ratio_threshold; /* 2.4 */
    double logprob_threshold;      /* -1.0 */
    double no_speech_threshold;    /* 0.6 */
    int  condition_on_previous;    /* 1 */
    char initial_prompt[2048];     /* --initial-prompt */

    /* [audio] (live) */
    char device[256];              /* --device NAME|INDEX; "" = default */
    char input[LC_PATH_MAX];       /* --input FILE */
    double speed;                  /* --speed X */

    /* [stream] (live policy) */
    int  step_ms;                  /* how often a new hypothesis is decoded */
    int  max_window_s;             /* hard cap on the decode window (≤ 30) */
    int  max_tokens;               /* per-window token cap (repetition loops) */
    double vad_threshold;          /* energy threshold above the noise floor, dB */
    int  vad_hangover_ms;          /* silence that ends an utterance */

    /* [ui] */
    int  color;                    /* 1 = on (NO_COLOR env turns it off) */
    int  refresh_hz;               /* ≥ 10 */
    int  timestamps;               /* show timestamps in the transcript pane */
    int  headless;                 /* --headless */

    /* [output] */
    char output_format[8];         /* -o txt|srt|vtt|json (transcribe) */
    char output_file[LC_PATH_MAX]; /* --output-file */
    char dump_dir[LC_PATH_MAX];    /* --dump DIR */
    char save[LC_PATH_MAX];        /* --save PATH (live) */
    char jsonl[LC_PATH_MAX];       /* --jsonl PATH|- (live) */

    /* [bench] */
    int  bench_json;               /* --json */
    char *bench_models[16];        /* -m repeated (bench); points into argv */
    int  n_bench_models;

    /* positional arguments (files for transcribe); point into argv */
    char **files;
    int  n_files;

    char config_path[LC_PATH_MAX]; /* the INI file actually read, "" if none */
    int  show_help, show_version;
} lc_config;

/* Fills cfg from defaults, the INI file, the environment and argv, in the
 * order of precedence. Returns 0 on success; on a usage/config error returns
 * 2 with e->msg set to one line naming the option/file:line/key at fault. */
int config_load(lc_config *cfg, int argc, char **argv, lc_err *e);

/* Prints `livecap --help`: every option with its default. */
void config_print_help(FILE *out);

/* Writes the commented INI (every key, its default and help) from the table. */
int config_write_ini(FILE *out);

#endif
