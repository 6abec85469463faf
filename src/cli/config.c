/* config.c: every livecap setting comes from the one table below (redis
 * config.c style). The INI reader, the environment, the command line, the
 * validator, `livecap --help` and config/livecap.ini are all generated from
 * it, so a key added here is everywhere at once.
 *
 * Precedence (SPEC §1): command line > environment (LIVECAP_<KEY>) > INI file
 * > built-in defaults. Errors are one line: `file:line: section.key: …`,
 * `LIVECAP_X: …` or `--option: …`, and config_load returns 2.
 */
#include "cli/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <iniparser.h>

/* ---- the table ---------------------------------------------------------- */

typedef enum { CT_INT, CT_DOUBLE, CT_BOOL, CT_STRING, CT_ENUM } cfg_type;

/* Returns NULL when v is acceptable, else "must be …" (CT_STRING only). */
typedef const char *(*cfg_check)(const char *v);

typedef struct cfg_row {
    const char *section;  /* INI section */
    const char *key;      /* INI key; the environment variable is
                             LIVECAP_<KEY upper-cased> (see row_env) */
    cfg_type type;
    size_t off, size;     /* the field in lc_config; size bounds strings */
    double min, max;      /* CT_INT and CT_DOUBLE bounds, inclusive */
    const char *choices;  /* CT_ENUM: "a|b|c" */
    cfg_check check;      /* CT_STRING: extra validation, or NULL */
    const char *def;      /* default, spelled as it is written in the INI */
    const char *opt;      /* long option without "--"; NULL = none */
    char shortopt;        /* 0 = none */
    const char *arg;      /* metavariable for --help; NULL = a flag (bool) */
    int flag;             /* value a bare bool flag sets (0 for --no-X) */
    const char *help;
} cfg_row;

#define FIELD(f) offsetof(lc_config, f), sizeof(((lc_config *)0)->f)
#define INT(sec, key, f, lo, hi, def, opt, so, arg, help) \
    { sec, key, CT_INT, FIELD(f), lo, hi, NULL, NULL, def, opt, so, arg, 0, help }
#define DBL(sec, key, f, lo, hi, def, opt, so, arg, help) \
    { sec, key, CT_DOUBLE, FIELD(f), lo, hi, NULL, NULL, def, opt, so, arg, 0, help }
#define BOOL(sec, key, f, def, opt, flag, help) \
    { sec, key, CT_BOOL, FIELD(f), 0, 1, NULL, NULL, def, opt, 0, NULL, flag, help }
#define STR(sec, key, f, check, def, opt, so, arg, help) \
    { sec, key, CT_STRING, FIELD(f), 0, 0, NULL, check, def, opt, so, arg, 0, help }
#define ENUM(sec, key, f, choices, def, opt, so, help) \
    { sec, key, CT_ENUM, FIELD(f), 0, 0, choices, NULL, def, opt, so, choices, 0, help }

static const char *check_language(const char *v);

/* Section order here is the order of --help and config/livecap.ini. */
static const struct { const char *name, *title; } sections[] = {
    { "audio",   "Audio input (live)" },
    { "model",   "Model" },
    { "backend", "Backend" },
    { "decode",  "Decoding" },
    { "stream",  "Streaming policy (live)" },
    { "ui",      "Terminal UI (live)" },
    { "output",  "Output" },
    { "bench",   "Benchmark" },
};
#define N_SECTIONS (sizeof sections / sizeof sections[0])

static const cfg_row table[] = {
    STR("audio", "device", device, NULL, "", "device", 0, "NAME|INDEX",
        "capture device: a substring of its name, or its index in `livecap devices`; empty = the default device"),
    STR("audio", "input", input, NULL, "", "input", 0, "FILE",
        "play an audio file into the live pipeline instead of a microphone"),
    DBL("audio", "speed", speed, 0.1, 100, "1.0", "speed", 0, "X",
        "with --input: pace the file at X times real time"),

    STR("model", "model", model, NULL, "", "model", 'm', "PATH",
        "ggml Whisper model file (whisper.cpp format); empty = search the default locations; bench: repeatable"),
    BOOL("model", "precise", precise, "false", "precise", 1,
         "keep every weight in f32 (slower; for comparison with the reference)"),
    ENUM("model", "decoder_weights", decoder_weights, "auto|f32|f16|int8", "auto", "decoder-weights", 0,
         "how the decoder stores the weights it reads for every token: auto = f32 for f32 files, "
         "else int8 with a 4-bit proxy for the logits where the CPU has AVX-512 VNNI; int8 (a scale "
         "per 32 weights; the deciding logits rescored exactly) reads half the bytes of f16"),

    ENUM("backend", "backend", backend, "auto|cpu|npu|npu-emu", "auto", "backend", 0,
         "where the encoder and mel math run; npu-emu is the emulated NPU, for tests and demos"),
    INT("backend", "threads", threads, 0, 256, "0", "threads", 't', "N",
        "CPU threads for the math; 0 = all cores"),
    ENUM("backend", "npu_precision", npu_precision, "bf16x3|bf16", "bf16x3", "npu-precision", 0,
         "NPU GEMM arithmetic: bf16x3 (hi/lo split, 3x the NPU work, transcripts as on the CPU) "
         "or bf16 (fastest; a few tokens may differ from the CPU)"),
    ENUM("backend", "cpu_gemm", cpu_gemm, "auto|sgemm|amx-bf16x3", "auto", "cpu-gemm", 0,
         "the CPU's encoder GEMMs: sgemm (OpenBLAS, f32) or amx-bf16x3 (Intel AMX tiles, "
         "hi/lo bf16 split, ~2^-16 relative: about twice as fast); auto = AMX where the CPU has "
         "it, except for f32 model files and --precise"),

    STR("decode", "language", language, check_language, "auto", "language", 'l', "CODE|auto",
        "spoken language; auto detects it (multilingual models); English-only models always use en"),
    BOOL("decode", "translate", translate, "false", "translate", 1,
         "translate to English (multilingual models)"),
    /* 16: beyond it whisper's WER stops improving and the KV caches grow. */
    INT("decode", "beam", beam, 1, 16, "1", "beam", 0, "N",
        "beam size; 1 = greedy"),
    INT("decode", "best_of", best_of, 1, 16, "5", "best-of", 0, "N",
        "candidates sampled at temperature > 0 (openai-whisper's best_of)"),
    BOOL("decode", "no_fallback", no_fallback, "false", "no-fallback", 1,
         "no temperature fallback: decode once at temperature 0"),
    /* The next four are openai-whisper transcribe()'s defaults. */
    DBL("decode", "temperature_inc", temperature_inc, 0, 1, "0.2", "temperature-inc", 0, "X",
        "temperature step of the fallback"),
    DBL("decode", "compression_ratio_threshold", compression_ratio_threshold, 0, 100, "2.4",
        "compression-ratio-threshold", 0, "X",
        "retry hotter when the text's gzip compression ratio is above this (repetition)"),
    DBL("decode", "logprob_threshold", logprob_threshold, -100, 0, "-1.0",
        "logprob-threshold", 0, "X",
        "retry hotter when the average token log-probability is below this"),
    DBL("decode", "no_speech_threshold", no_speech_threshold, 0, 1, "0.6",
        "no-speech-threshold", 0, "X",
        "a window is silence when P(no speech) is above this and the log-probability is low"),
    BOOL("decode", "condition_on_previous", condition_on_previous, "true",
         "no-condition-on-previous", 0,
         "prompt each window with the text of the previous one (the option turns it off)"),
    STR("decode", "initial_prompt", initial_prompt, NULL, "", "initial-prompt", 0, "TEXT",
        "text to prompt the first window with (names, spelling, style)"),

    /* 750 ms: every step re-encodes the window, so 500 ms cost a tiny model
     * 1.6 of 2 cores here while 750 ms costs 1.3 at the same latency
     * (scripts/live-bench.sh); whisper_streaming steps by 1 s. */
    INT("stream", "step_ms", step_ms, 100, 10000, "750", "step-ms", 0, "MS",
        "how often a new partial hypothesis is decoded"),
    /* 30 s is Whisper's whole input; below 5 s it has too little context. */
    INT("stream", "max_window_s", max_window_s, 5, 30, "30", "max-window-s", 0, "S",
        "hard cap on the decode window"),
    /* 224 = half the 448-token text context, openai-whisper's sample_len. */
    INT("stream", "max_tokens", max_tokens, 1, 224, "128", "max-tokens", 0, "N",
        "tokens decoded per window at most (stops repetition loops)"),
    DBL("stream", "vad_threshold", vad_threshold, 0, 60, "6.0", "vad-threshold", 0, "DB",
        "speech is energy this many dB above the noise floor"),
    INT("stream", "vad_hangover_ms", vad_hangover_ms, 0, 10000, "800", "vad-hangover-ms", 0, "MS",
        "silence that ends an utterance"),

    BOOL("ui", "color", color, "true", "no-color", 0,
         "colors in the terminal UI (the option, or a non-empty NO_COLOR, turns them off)"),
    /* Below 10 Hz the level meter and partials visibly stutter. */
    INT("ui", "refresh_hz", refresh_hz, 10, 60, "15", "refresh-hz", 0, "N",
        "screen refreshes per second"),
    BOOL("ui", "timestamps", timestamps, "true", "no-timestamps", 0,
         "timestamps in the transcript pane (the option hides them)"),
    BOOL("ui", "headless", headless, "false", "headless", 1,
         "no TUI: committed lines go to standard output, one per line, after their [start --> end] times"),

    ENUM("output", "output_format", output_format, "txt|srt|vtt|json", "txt", "output-format", 'o',
         "transcribe: the format written to standard output (or --output-file)"),
    STR("output", "output_file", output_file, NULL, "", "output-file", 0, "PATH",
        "transcribe: write there instead of to standard output"),
    STR("output", "dump_dir", dump_dir, NULL, "", "dump", 0, "DIR",
        "transcribe: also write mel.npy, enc.npy and logits0.npy of the first 30-s window there"),
    STR("output", "save", save, NULL, "", "save", 0, "PATH",
        "live: keep the committed transcript there (.txt, .srt, .vtt or .jsonl)"),
    STR("output", "jsonl", jsonl, NULL, "", "jsonl", 0, "PATH|-",
        "live: write the event stream as JSON Lines there (- = standard output)"),

    BOOL("bench", "json", bench_json, "false", "json", 1,
         "bench: also print the results as JSON"),
};
#define N_ROWS (sizeof table / sizeof table[0])

/* Options that are not settings: handled by the parser itself. */
enum { META_CONFIG = 1, META_HELP, META_VERSION };
static const struct {
    int id; const char *opt; char shortopt; const char *arg, *help;
} meta[] = {
    { META_CONFIG,  "config",  'c', "PATH",
      "INI file; default: $LIVECAP_CONFIG, then $XDG_CONFIG_HOME/livecap/livecap.ini, "
      "then the repository's config/livecap.ini" },
    { META_HELP,    "help",    'h', NULL, "print this help and exit" },
    { META_VERSION, "version", 0,   NULL, "print the version and exit" },
};
#define N_META (sizeof meta / sizeof meta[0])

static const char *const commands[] = { "live", "transcribe", "devices", "bench", "genmodel" };
#define N_COMMANDS (sizeof commands / sizeof commands[0])

/* ---- values ------------------------------------------------------------- */

static const char *check_language(const char *v)
{
    /* Whisper's codes are 2 letters, plus "haw" and "yue". */
    size_t n = strlen(v);
    if (!strcmp(v, "auto")) return NULL;
    if (n < 2 || n > 3) return "must be a language code such as en, de or zh, or auto";
    for (size_t i = 0; i < n; i++)
        if (v[i] < 'a' || v[i] > 'z') return "must be a language code such as en, de or zh, or auto";
    return NULL;
}

/* LIVECAP_ + the key upper-cased: beam -> LIVECAP_BEAM. */
static void row_env(const cfg_row *r, char *buf, size_t n)
{
    size_t k = (size_t)snprintf(buf, n, "LIVECAP_");
    for (const char *s = r->key; *s && k + 1 < n; s++)
        buf[k++] = (char)toupper((unsigned char)*s);
    buf[k] = 0;
}

static int parse_bool(const char *v, int *out)
{
    static const char *const yes[] = { "1", "true", "yes", "on" };
    static const char *const no[]  = { "0", "false", "no", "off" };
    for (size_t i = 0; i < 4; i++) {
        if (!strcasecmp(v, yes[i])) { *out = 1; return 0; }
        if (!strcasecmp(v, no[i]))  { *out = 0; return 0; }
    }
    return -1;
}

static int enum_has(const char *choices, const char *v)
{
    size_t n = strlen(v);
    for (const char *p = choices; *p; ) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && !strncmp(p, v, n)) return 1;
        p += len + (bar != NULL);
    }
    return 0;
}

/* Parses v into r's field; on failure writes "must be …, got …" to why. */
static int row_set(lc_config *cfg, const cfg_row *r, const char *v, char *why, size_t nwhy)
{
    char *field = (char *)cfg + r->off, *end;
    switch (r->type) {
    case CT_INT: {
        errno = 0;
        long x = strtol(v, &end, 10);
        if (!*v || *end || errno || x < r->min || x > r->max) {
            snprintf(why, nwhy, "must be an integer from %g to %g, got \"%.64s\"", r->min, r->max, v);
            return -1;
        }
        *(int *)field = (int)x;
        return 0;
    }
    case CT_DOUBLE: {
        errno = 0;
        double x = strtod(v, &end);
        if (!*v || *end || errno || !isfinite(x) || x < r->min || x > r->max) {
            snprintf(why, nwhy, "must be a number from %g to %g, got \"%.64s\"", r->min, r->max, v);
            return -1;
        }
        *(double *)field = x;
        return 0;
    }
    case CT_BOOL:
        if (parse_bool(v, (int *)field) < 0) {
            snprintf(why, nwhy, "must be true or false (yes/no, on/off, 1/0), got \"%.64s\"", v);
            return -1;
        }
        return 0;
    case CT_ENUM:
        if (!enum_has(r->choices, v)) {
            snprintf(why, nwhy, "must be one of %s, got \"%.64s\"", r->choices, v);
            return -1;
        }
        break;
    case CT_STRING:
        if (r->check && r->check(v)) {
            snprintf(why, nwhy, "%s, got \"%.64s\"", r->check(v), v);
            return -1;
        }
        break;
    }
    if (strlen(v) >= r->size) {
        snprintf(why, nwhy, "must be at most %zu characters long, got %zu", r->size - 1, strlen(v));
        return -1;
    }
    memcpy(field, v, strlen(v) + 1);
    return 0;
}

static void config_defaults(lc_config *cfg)
{
    char why[256];
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->command, sizeof cfg->command, "live");
    for (size_t i = 0; i < N_ROWS; i++) {
        int rc = row_set(cfg, &table[i], table[i].def, why, sizeof why);
        LC_ASSERT(rc == 0); /* a bad default is a bug in the table */
    }
}

static const cfg_row *row_find(const char *section, const char *key)
{
    for (size_t i = 0; i < N_ROWS; i++)
        if ((!section || !strcmp(table[i].section, section)) && !strcmp(table[i].key, key))
            return &table[i];
    return NULL;
}

/* "a, b, c": the names in a table, for error messages. The i-th name is at
 * names + i * stride, so it works on a string array and on a struct field. */
static const char *join_names(const char *const *names, size_t stride, size_t n, char *buf, size_t cap)
{
    size_t k = 0;
    buf[0] = 0;
    for (size_t i = 0; i < n && k < cap; i++) {
        const char *name = *(const char *const *)((const char *)names + i * stride);
        k += (size_t)snprintf(buf + k, cap - k, "%s%s", i ? ", " : "", name);
    }
    return buf;
}

static int section_known(const char *name)
{
    for (size_t i = 0; i < N_SECTIONS; i++)
        if (!strcmp(sections[i].name, name)) return 1;
    return 0;
}

/* ---- the INI file ------------------------------------------------------- */

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1])) *--end = 0;
    return s;
}

static void lower(char *s)
{
    for (; *s; s++) *s = (char)tolower((unsigned char)*s);
}

/* iniparser keeps no line numbers and accepts any section or key, so we read
 * the file once ourselves: reject what is not ours and remember the line of
 * each key (lines[] is indexed like table[]; 0 = absent). Sections and keys
 * are case-insensitive, as in iniparser. */
static int ini_scan(const char *path, FILE *f, int *lines, lc_err *e)
{
    char *buf = NULL, section[64] = "";
    size_t cap = 0;
    int lineno = 0, cont = 0, rc = 0;
    while (rc == 0 && getline(&buf, &cap, f) >= 0) {
        lineno++;
        char *s = trim(buf);
        int was_cont = cont;
        cont = *s && s[strlen(s) - 1] == '\\'; /* iniparser joins such lines */
        if (was_cont || !*s || *s == ';' || *s == '#') continue;
        if (*s == '[') {
            char *close = strchr(s, ']');
            if (!close) { rc = lc_fail(e, "%s:%d: %s: missing ']'", path, lineno, s); break; }
            *close = 0;
            snprintf(section, sizeof section, "%s", trim(s + 1));
            lower(section);
            char names[256];
            if (!section_known(section))
                rc = lc_fail(e, "%s:%d: [%s]: unknown section (the sections are %s)", path, lineno,
                             section, join_names(&sections[0].name, sizeof sections[0], N_SECTIONS,
                                                 names, sizeof names));
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) { rc = lc_fail(e, "%s:%d: expected `key = value` or [section], got \"%.64s\"",
                                path, lineno, s); break; }
        *eq = 0;
        char *key = trim(s);
        lower(key);
        const cfg_row *r = row_find(section[0] ? section : NULL, key);
        if (!section[0] || !r) {
            const cfg_row *elsewhere = row_find(NULL, key);
            if (elsewhere)
                rc = lc_fail(e, "%s:%d: %s%s%s: unknown key (it belongs in [%s])", path, lineno,
                             section, section[0] ? "." : "", key, elsewhere->section);
            else
                rc = lc_fail(e, "%s:%d: %s%s%s: unknown key (see config/livecap.ini for the keys)",
                             path, lineno, section, section[0] ? "." : "", key);
            break;
        }
        lines[r - table] = lineno;
    }
    free(buf);
    return rc;
}

static int ini_quiet(const char *fmt, ...) { (void)fmt; return 0; }

/* Applies the keys of an INI file, validated, with file:line in errors. */
static int ini_apply(lc_config *cfg, const char *path, lc_err *e)
{
    int lines[N_ROWS] = {0};
    FILE *f = fopen(path, "r");
    if (!f) return lc_fail(e, "%s: cannot read the config file: %s", path, strerror(errno));
    int rc = ini_scan(path, f, lines, e);
    fclose(f);
    if (rc) return rc;

    iniparser_set_error_callback(ini_quiet); /* our scan reports errors */
    dictionary *d = iniparser_load(path);
    iniparser_set_error_callback(NULL);
    if (!d) return lc_fail(e, "%s: cannot parse the config file", path);
    for (size_t i = 0; i < N_ROWS && rc == 0; i++) {
        char name[128], why[256];
        if (!lines[i]) continue;
        snprintf(name, sizeof name, "%s:%s", table[i].section, table[i].key);
        const char *v = iniparser_getstring(d, name, NULL);
        if (v && row_set(cfg, &table[i], v, why, sizeof why) < 0)
            rc = lc_fail(e, "%s:%d: %s.%s: %s", path, lines[i], table[i].section, table[i].key, why);
    }
    iniparser_freedict(d);
    return rc;
}

static int file_exists(const char *path) { return access(path, R_OK) == 0; }

/* The repository's config/livecap.ini, found from the binary (build/livecap),
 * so it works from any working directory. */
static int repo_ini(char *out, size_t n)
{
    char exe[LC_PATH_MAX], guess[LC_PATH_MAX + 32];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0) return 0;
    exe[len] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash) return 0;
    *slash = 0;
    snprintf(guess, sizeof guess, "%s/../config/livecap.ini", exe);
    char real[PATH_MAX];
    if (!realpath(guess, real) || !file_exists(real) || strlen(real) >= n) return 0;
    memcpy(out, real, strlen(real) + 1);
    return 1;
}

/* SPEC §1's search order. A file named explicitly (-c, $LIVECAP_CONFIG) must
 * exist; the default locations are optional. Leaves "" when there is none. */
static int config_find(const char *cli_path, char *out, size_t n, lc_err *e)
{
    const char *env = getenv("LIVECAP_CONFIG");
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    out[0] = 0;
    if (cli_path || (env && *env)) {
        const char *p = cli_path ? cli_path : env;
        if (!file_exists(p))
            return lc_fail(e, "%s: cannot read the config file (given by %s): %s", p,
                           cli_path ? "--config" : "LIVECAP_CONFIG", strerror(errno));
        snprintf(out, n, "%s", p);
        return 0;
    }
    char user[LC_PATH_MAX + 32] = "";
    if (xdg && *xdg) snprintf(user, sizeof user, "%s/livecap/livecap.ini", xdg);
    else if (home && *home) snprintf(user, sizeof user, "%s/.config/livecap/livecap.ini", home);
    if (user[0] && strlen(user) < n && file_exists(user)) {
        memcpy(out, user, strlen(user) + 1);
        return 0;
    }
    repo_ini(out, n);
    return 0;
}

/* ---- the environment ---------------------------------------------------- */

static int env_apply(lc_config *cfg, lc_err *e)
{
    const char *nc = getenv("NO_COLOR"); /* https://no-color.org */
    if (nc && *nc) cfg->color = 0;       /* LIVECAP_COLOR below still wins */
    for (size_t i = 0; i < N_ROWS; i++) {
        char name[64], why[256];
        row_env(&table[i], name, sizeof name);
        const char *v = getenv(name);
        if (v && row_set(cfg, &table[i], v, why, sizeof why) < 0)
            return lc_fail(e, "%s: %s", name, why);
    }
    return 0;
}

/* ---- the command line --------------------------------------------------- */

/* One option as found in argv: a table row or a meta option, its name as the
 * user typed it (for errors) and its value (NULL for a bare flag). */
typedef struct cli_tok {
    const cfg_row *row;
    int meta;
    char name[64];
    const char *val;
} cli_tok;

static int takes_value(const cli_tok *t)
{
    if (t->row) return t->row->arg != NULL;
    return t->meta == META_CONFIG;
}

/* Looks up a long (short == 0) or short option. */
static int opt_lookup(const char *lng, size_t len, char shrt, cli_tok *t)
{
    t->row = NULL; t->meta = 0;
    for (size_t i = 0; i < N_ROWS; i++) {
        const cfg_row *r = &table[i];
        if (shrt ? r->shortopt == shrt
                 : r->opt && strlen(r->opt) == len && !strncmp(r->opt, lng, len)) {
            t->row = r;
            return 1;
        }
    }
    for (size_t i = 0; i < N_META; i++)
        if (shrt ? meta[i].shortopt == shrt
                 : strlen(meta[i].opt) == len && !strncmp(meta[i].opt, lng, len)) {
            t->meta = meta[i].id;
            return 1;
        }
    return 0;
}

/* Reads the option at argv[*i] (options end at argv[end]) and advances *i.
 * Accepts --opt value, --opt=value, -x value and -xvalue. */
static int cli_next(char **argv, int end, int *i, cli_tok *t, lc_err *e)
{
    const char *a = argv[(*i)++], *inline_val = NULL;
    int found;
    if (a[1] == '-') {
        const char *eq = strchr(a, '=');
        size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        found = opt_lookup(a + 2, len, 0, t);
        snprintf(t->name, sizeof t->name, "--%.*s", (int)len, a + 2);
        if (eq) inline_val = eq + 1;
    } else {
        found = opt_lookup(NULL, 0, a[1], t);
        snprintf(t->name, sizeof t->name, "-%c", a[1]);
        if (a[2]) inline_val = a + 2;
        if (found && a[2] && !takes_value(t)) found = 0; /* no bundling: -hx */
    }
    if (!found) /* name it without its value: --foo=1 -> '--foo' */
        return lc_fail(e, "unknown option '%.*s' (see livecap --help)",
                       (int)(a[1] == '-' ? strcspn(a, "=") : strlen(a)), a);
    t->val = NULL;
    if (takes_value(t)) {
        if (inline_val) t->val = inline_val;
        else if (*i < end) t->val = argv[(*i)++];
        else return lc_fail(e, "%s: missing value (see livecap --help)", t->name);
    } else if (inline_val) {
        if (!t->row) return lc_fail(e, "%s: takes no value", t->name);
        t->val = inline_val; /* --translate=no: parsed as a bool */
    }
    return 0;
}

static int is_option(const char *a) { return a[0] == '-' && a[1] != 0; }

/* Moves argv[i] to the end of argv; positionals collected this way keep their
 * order (GNU getopt's permutation, without allocating). */
static void rotate_to_end(char **argv, int argc, int i)
{
    char *a = argv[i];
    memmove(&argv[i], &argv[i + 1], (size_t)(argc - i - 1) * sizeof *argv);
    argv[argc - 1] = a;
}

typedef struct cli_scan {
    int opt_end;            /* options are argv[1 .. opt_end) */
    const char *config;     /* -c PATH, or NULL */
} cli_scan;

/* First pass: syntax only. Checks every option exists and has its value,
 * moves positionals to the end of argv, and picks the command and files. */
static int cli_scan_args(lc_config *cfg, int argc, char **argv, cli_scan *sc, lc_err *e)
{
    int i = 1, end = argc;
    cli_tok t;
    sc->config = NULL;
    while (i < end) {
        if (!strcmp(argv[i], "--")) { /* the rest are positionals */
            for (int k = end - i - 1; k > 0; k--) rotate_to_end(argv, argc, i + 1);
            end = i + 1;
            break;
        }
        if (!is_option(argv[i])) { rotate_to_end(argv, argc, i); end--; continue; }
        if (cli_next(argv, end, &i, &t, e) < 0) return -1;
        if (t.meta == META_CONFIG) sc->config = t.val;
        if (t.meta == META_HELP) cfg->show_help = 1;
        if (t.meta == META_VERSION) cfg->show_version = 1;
    }
    sc->opt_end = end;

    char **pos = argv + end;
    int npos = argc - end;
    if (npos > 0) {
        size_t c = 0;
        while (c < N_COMMANDS && strcmp(pos[0], commands[c])) c++;
        char names[128];
        if (c == N_COMMANDS)
            return lc_fail(e, "unknown command '%s' (the commands are %s; see livecap --help)",
                           pos[0], join_names(commands, sizeof commands[0], N_COMMANDS,
                                              names, sizeof names));
        snprintf(cfg->command, sizeof cfg->command, "%s", pos[0]);
        cfg->files = npos > 1 ? pos + 1 : NULL;
        cfg->n_files = npos - 1;
    }
    /* Only transcribe (FILE…) and genmodel (output path) take arguments. */
    if (cfg->n_files && !cfg->show_help && strcmp(cfg->command, "transcribe")
        && strcmp(cfg->command, "genmodel"))
        return lc_fail(e, "unexpected argument '%s': livecap %s takes no files (see livecap --help)",
                       cfg->files[0], cfg->command);
    return 0;
}

/* Second pass, after the INI and the environment: the options win. */
static int cli_apply(lc_config *cfg, char **argv, const cli_scan *sc, lc_err *e)
{
    int i = 1, bench = !strcmp(cfg->command, "bench");
    cli_tok t;
    char why[256];
    while (i < sc->opt_end && strcmp(argv[i], "--")) {
        if (cli_next(argv, sc->opt_end, &i, &t, e) < 0) return -1;
        if (!t.row) continue;
        if (bench && !strcmp(t.row->key, "model")) { /* -m is repeatable for bench */
            int cap = (int)(sizeof cfg->bench_models / sizeof cfg->bench_models[0]);
            if (cfg->n_bench_models == cap)
                return lc_fail(e, "%s: bench takes at most %d models", t.name, cap);
            cfg->bench_models[cfg->n_bench_models++] = (char *)t.val;
            continue;
        }
        if (!t.val) { *(int *)((char *)cfg + t.row->off) = t.row->flag; continue; }
        if (row_set(cfg, t.row, t.val, why, sizeof why) < 0)
            return lc_fail(e, "%s: %s", t.name, why);
    }
    return 0;
}

int config_load(lc_config *cfg, int argc, char **argv, lc_err *e)
{
    cli_scan sc;
    config_defaults(cfg);
    if (cli_scan_args(cfg, argc, argv, &sc, e) < 0) return 2;
    /* --help and --version work even when the config file is broken. */
    if (cfg->show_help || cfg->show_version) return 0;
    if (config_find(sc.config, cfg->config_path, sizeof cfg->config_path, e) < 0) return 2;
    if (cfg->config_path[0] && ini_apply(cfg, cfg->config_path, e) < 0) return 2;
    if (env_apply(cfg, e) < 0) return 2;
    if (cli_apply(cfg, argv, &sc, e) < 0) return 2;
    return 0;
}

/* ---- --help and config/livecap.ini -------------------------------------- */

static const char *row_default(const cfg_row *r)
{
    return r->def[0] ? r->def : "none";
}

/* Prints text word-wrapped to `width` columns; the cursor is at column
 * `col`, and continuation lines start with `lead`. Ends the line. */
static void wrap(FILE *out, const char *text, int col, int width, const char *lead)
{
    int start = col;
    while (*text) {
        while (*text == ' ') text++;
        int len = (int)strcspn(text, " ");
        if (!len) break;
        if (col > start && col + 1 + len > width) {
            fprintf(out, "\n%s", lead);
            col = start = (int)strlen(lead);
        } else if (col > start) {
            fputc(' ', out);
            col++;
        }
        fprintf(out, "%.*s", len, text);
        col += len;
        text += len;
    }
    fputc('\n', out);
}

#define HELP_COL 32   /* where the help text starts in --help */
#define HELP_WIDTH 100

static void help_line(FILE *out, char shortopt, const char *opt, const char *arg,
                      const char *help, const char *def, const char *env)
{
    char left[96], text[512];
    if (shortopt)
        snprintf(left, sizeof left, "  -%c, --%s%s%s", shortopt, opt, arg ? " " : "", arg ? arg : "");
    else
        snprintf(left, sizeof left, "      --%s%s%s", opt, arg ? " " : "", arg ? arg : "");
    /* Long option names get the help on the next line to keep the column. */
    if (strlen(left) > HELP_COL - 2) fprintf(out, "%s\n%-*s", left, HELP_COL, "");
    else fprintf(out, "%-*s", HELP_COL, left);
    if (def) snprintf(text, sizeof text, "%s (default: %s; %s)", help, def, env);
    else snprintf(text, sizeof text, "%s", help);
    wrap(out, text, HELP_COL, HELP_WIDTH, "                                ");
}

void config_print_help(FILE *out)
{
    fputs("livecap: live captions in the terminal\n\n"
          "Usage:\n"
          "  livecap [live] [options]            live captioning in the terminal (the default command)\n"
          "  livecap transcribe [options] FILE…  offline transcription of audio files\n"
          "  livecap devices                     list capture devices (index, name, channels, default rate) and the accelerator found\n"
          "  livecap bench [options]             performance table (-m repeatable; --json)\n"
          "  livecap genmodel [options] PATH     write a random-weight model (for tests and bench)\n"
          "  livecap --help | --version\n\n"
          "General:\n", out);
    for (size_t i = 0; i < N_META; i++)
        help_line(out, meta[i].shortopt, meta[i].opt, meta[i].arg, meta[i].help, NULL, NULL);
    for (size_t s = 0; s < N_SECTIONS; s++) {
        fprintf(out, "\n%s ([%s] in the config file):\n", sections[s].title, sections[s].name);
        for (size_t i = 0; i < N_ROWS; i++) {
            const cfg_row *r = &table[i];
            char env[64];
            if (strcmp(r->section, sections[s].name) || !r->opt) continue;
            row_env(r, env, sizeof env);
            help_line(out, r->shortopt, r->opt, r->arg, r->help, row_default(r), env);
        }
    }
    fputs("\nEvery option is also a config-file key and an environment variable LIVECAP_<KEY>\n"
          "(e.g. --beam 5, [decode] beam = 5, LIVECAP_BEAM=5); see config/livecap.ini.\n"
          "Precedence: command line > environment (LIVECAP_*) > config file > built-in defaults.\n",
          out);
}

/* "1 to 16", "auto|cpu|…": what a key accepts, for the INI comments. */
static void row_domain(const cfg_row *r, char *buf, size_t n)
{
    switch (r->type) {
    case CT_INT: case CT_DOUBLE: snprintf(buf, n, "%g to %g", r->min, r->max); break;
    case CT_BOOL:   snprintf(buf, n, "true|false"); break;
    case CT_ENUM:   snprintf(buf, n, "%s", r->choices); break;
    case CT_STRING: snprintf(buf, n, r->check ? "a language code or auto" : "text"); break;
    }
}

int config_write_ini(FILE *out)
{
    fputs("# livecap configuration: every key, with its default.\n"
          "#\n"
          "# Generated by config_write_ini() from the table in src/cli/config.c;\n"
          "# tests/test_config.c checks that this file matches it byte for byte\n"
          "# (regenerate: build/tests/test_config --write-ini > config/livecap.ini).\n"
          "#\n"
          "# Read from: -c PATH, else $LIVECAP_CONFIG, else\n"
          "# $XDG_CONFIG_HOME/livecap/livecap.ini (~/.config/livecap/livecap.ini),\n"
          "# else this file. Precedence: command line > environment (LIVECAP_<KEY>)\n"
          "# > config file > built-in defaults.\n", out);
    for (size_t s = 0; s < N_SECTIONS; s++) {
        fprintf(out, "\n[%s]\n", sections[s].name);
        for (size_t i = 0; i < N_ROWS; i++) {
            const cfg_row *r = &table[i];
            char env[64], dom[96], text[512];
            if (strcmp(r->section, sections[s].name)) continue;
            row_env(r, env, sizeof env);
            row_domain(r, dom, sizeof dom);
            snprintf(text, sizeof text, "%s (default: %s)", r->help, row_default(r));
            fputs("\n# ", out);
            wrap(out, text, 2, 78, "# ");
            fprintf(out, "# %s; %s", dom, env);
            if (r->opt) fprintf(out, "; --%s", r->opt);
            fprintf(out, "\n%s =%s%s\n", r->key, r->def[0] ? " " : "", r->def);
        }
    }
    return ferror(out) ? -1 : 0;
}
