/* test_config: defaults, precedence (CLI > env > INI > defaults), the
 * file:line: key: error messages, the argv grammar, and that the shipped
 * config/livecap.ini is exactly what config_write_ini() produces.
 *
 * `build/tests/test_config --write-ini` prints the INI instead (that is how
 * config/livecap.ini is regenerated). Run from the repository root. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/config.h"
#include "test.h"

static lc_config cfg; /* large: keep it off the stack */
static lc_err err;
static char tmp[64];
static char paths[16][256];
static int n_paths;

/* Runs config_load on the NULL-terminated arguments (after "livecap"). */
static int load(const char *first, ...)
{
    static char *argv[32];
    int argc = 0;
    va_list ap;
    argv[argc++] = "livecap";
    va_start(ap, first);
    for (const char *a = first; a && argc < 31; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a; /* config_load permutes argv, never the strings */
    va_end(ap);
    argv[argc] = NULL;
    memset(&err, 0, sizeof err);
    return config_load(&cfg, argc, argv, &err);
}

/* Writes text to tmp/name and returns the path. */
static const char *write_tmp(const char *name, const char *text)
{
    char *p = paths[n_paths++];
    snprintf(p, sizeof paths[0], "%s/%s", tmp, name);
    FILE *f = fopen(p, "w");
    if (!f) { perror(p); exit(1); }
    fputs(text, f);
    fclose(f);
    return p;
}

/* Unsets NO_COLOR and every LIVECAP_* the caller's environment may hold. */
static void clean_env(void)
{
    extern char **environ;
    char name[256];
    unsetenv("NO_COLOR");
    for (int i = 0; environ[i]; ) {
        size_t n = strcspn(environ[i], "=");
        if (strncmp(environ[i], "LIVECAP_", 8) || n >= sizeof name) { i++; continue; }
        memcpy(name, environ[i], n);
        name[n] = 0;
        char *was = environ[i];
        unsetenv(name); /* shifts environ down: look at index i again */
        if (environ[i] == was) i++;
    }
}

/* Checks that config_load fails with exit status 2 and exactly msg. */
#define CHECK_ERR(rc, want) do { int rc_ = (rc); CHECKF(rc_ == 2, "rc %d", rc_); \
    CHECKF(!strcmp(err.msg, want), "got '%s', want '%s'", err.msg, want); } while (0)

static void test_defaults(void)
{
    CHECK(load(NULL) == 0);
    CHECK(!strcmp(cfg.command, "live"));
    CHECK(!strcmp(cfg.backend, "auto"));
    CHECK(cfg.threads == 0);
    CHECK(!strcmp(cfg.language, "auto"));
    CHECK(cfg.beam == 1 && cfg.best_of == 5);
    CHECK(cfg.temperature_inc == 0.2 && cfg.compression_ratio_threshold == 2.4);
    CHECK(cfg.logprob_threshold == -1.0 && cfg.no_speech_threshold == 0.6);
    CHECK(cfg.condition_on_previous == 1 && cfg.no_fallback == 0 && cfg.translate == 0);
    CHECK(cfg.speed == 1.0 && cfg.step_ms == 750 && cfg.max_window_s == 30);
    CHECK(cfg.max_tokens == 128 && cfg.vad_threshold == 6.0 && cfg.vad_hangover_ms == 800);
    CHECK(cfg.color == 1 && cfg.refresh_hz == 15 && cfg.timestamps == 1 && cfg.headless == 0);
    CHECK(!strcmp(cfg.output_format, "txt") && cfg.model[0] == 0 && cfg.initial_prompt[0] == 0);
    CHECK(cfg.n_files == 0 && cfg.files == NULL && cfg.n_bench_models == 0);
    /* XDG_CONFIG_HOME is empty and build/config/livecap.ini does not exist. */
    CHECKF(cfg.config_path[0] == 0, "read %s", cfg.config_path);
}

static void test_search_order(void)
{
    char *dir = paths[n_paths++];
    snprintf(dir, sizeof paths[0], "%s/livecap", tmp);
    mkdir(dir, 0700);
    const char *xdg = write_tmp("livecap/livecap.ini", "[decode]\nbeam = 3\n");
    CHECK(load(NULL) == 0 && cfg.beam == 3);
    CHECK(!strcmp(cfg.config_path, xdg));

    const char *envf = write_tmp("env.ini", "[decode]\nbeam = 4\n");
    setenv("LIVECAP_CONFIG", envf, 1);
    CHECK(load(NULL) == 0 && cfg.beam == 4 && !strcmp(cfg.config_path, envf));

    const char *clif = write_tmp("cli.ini", "[decode]\nbeam = 5\n");
    CHECK(load("-c", clif, NULL) == 0 && cfg.beam == 5 && !strcmp(cfg.config_path, clif));
    CHECK(load("--config=" , NULL) == 2); /* empty path: cannot be read */
    unsetenv("LIVECAP_CONFIG");
    unlink(xdg);
}

static void test_precedence(void)
{
    const char *ini = write_tmp("prec.ini",
        "; comment\n[backend]\nthreads = 2\nbackend = cpu\n\n[decode]\nbeam = 4\n"
        "language = de\ninitial_prompt = \"Hello; world\"\n[ui]\ncolor = no\n");
    CHECK(load("-c", ini, NULL) == 0);
    CHECK(cfg.threads == 2 && !strcmp(cfg.backend, "cpu") && cfg.beam == 4);
    CHECK(!strcmp(cfg.language, "de") && cfg.color == 0);
    CHECKF(!strcmp(cfg.initial_prompt, "Hello; world"), "'%s'", cfg.initial_prompt);

    setenv("LIVECAP_BEAM", "5", 1);
    setenv("LIVECAP_BACKEND", "npu-emu", 1);
    CHECK(load("-c", ini, NULL) == 0);
    CHECK(cfg.beam == 5 && !strcmp(cfg.backend, "npu-emu") && cfg.threads == 2);

    CHECK(load("-c", ini, "--beam", "6", NULL) == 0 && cfg.beam == 6);
    CHECK(load("-c", ini, "--beam=7", "--backend=cpu", NULL) == 0);
    CHECK(cfg.beam == 7 && !strcmp(cfg.backend, "cpu"));
    CHECK(load("-c", ini, "-t4", "-l", "en", NULL) == 0 && cfg.threads == 4);
    CHECK(!strcmp(cfg.language, "en"));
    /* The last of a repeated option wins. */
    CHECK(load("--beam", "2", "--beam", "3", NULL) == 0 && cfg.beam == 3);
    unsetenv("LIVECAP_BEAM");
    unsetenv("LIVECAP_BACKEND");

    setenv("NO_COLOR", "1", 1);
    CHECK(load(NULL) == 0 && cfg.color == 0);
    setenv("LIVECAP_COLOR", "yes", 1);
    CHECK(load(NULL) == 0 && cfg.color == 1);
    CHECK(load("--no-color", NULL) == 0 && cfg.color == 0);
    unsetenv("NO_COLOR");
    unsetenv("LIVECAP_COLOR");

    CHECK(load("--translate", "--precise", "--no-fallback", "--headless", NULL) == 0);
    CHECK(cfg.translate && cfg.precise && cfg.no_fallback && cfg.headless);
    CHECK(load("--translate=no", "--speed", "2.5", "--no-timestamps", NULL) == 0);
    CHECK(cfg.translate == 0 && cfg.speed == 2.5 && cfg.timestamps == 0);
}

static void test_ini_errors(void)
{
    char want[512];
    const char *p = write_tmp("bad1.ini",
        "# header\n[decode]\n\nbeam = 2\n; more\n[ui]\nbeem = 3\n");
    snprintf(want, sizeof want, "%s:7: ui.beem: unknown key (see config/livecap.ini for the keys)", p);
    CHECK_ERR(load("-c", p, NULL), want);

    p = write_tmp("bad2.ini", "[decode]\nbeam = 2\n[video]\nfps = 3\n");
    snprintf(want, sizeof want, "%s:3: [video]: unknown section (the sections are audio, model, "
             "backend, decode, stream, ui, output, bench)", p);
    CHECK_ERR(load("-c", p, NULL), want);

    p = write_tmp("bad3.ini", "[model]\n\n[backend]\n\n\n\n[decode]\nbeam = abc\n");
    snprintf(want, sizeof want, "%s:8: decode.beam: must be an integer from 1 to 16, got \"abc\"", p);
    CHECK_ERR(load("-c", p, NULL), want);

    p = write_tmp("bad4.ini", "[stream]\nmax_window_s = 31\n");
    snprintf(want, sizeof want, "%s:2: stream.max_window_s: must be an integer from 5 to 30, got \"31\"", p);
    CHECK_ERR(load("-c", p, NULL), want);

    p = write_tmp("bad5.ini", "[output]\noutput_format = docx\n");
    snprintf(want, sizeof want, "%s:2: output.output_format: must be one of txt|srt|vtt|json, got \"docx\"", p);
    CHECK_ERR(load("-c", p, NULL), want);

    p = write_tmp("bad6.ini", "[decode]\ntemperature_inc = 0.2x\n");
    snprintf(want, sizeof want, "%s:2: decode.temperature_inc: must be a number from 0 to 1, got \"0.2x\"", p);
    CHECK_ERR(load("-c", p, NULL), want);

    p = write_tmp("bad7.ini", "[ui]\nbeam = 2\n");
    snprintf(want, sizeof want, "%s:2: ui.beam: unknown key (it belongs in [decode])", p);
    CHECK_ERR(load("-c", p, NULL), want);

    p = write_tmp("bad8.ini", "[ui]\ncolor\n");
    snprintf(want, sizeof want, "%s:2: expected `key = value` or [section], got \"color\"", p);
    CHECK_ERR(load("-c", p, NULL), want);

    p = write_tmp("bad9.ini", "[decode]\nlanguage = English\n");
    snprintf(want, sizeof want, "%s:2: decode.language: must be a language code such as en, de "
             "or zh, or auto, got \"English\"", p);
    CHECK_ERR(load("-c", p, NULL), want);

    snprintf(want, sizeof want, "%s/nope.ini", tmp);
    CHECK(load("-c", want, NULL) == 2);
    CHECKF(strstr(err.msg, want) && strstr(err.msg, "--config"), "%s", err.msg);

    /* --help works even with a broken config file. */
    CHECK(load("-c", p, "--help", NULL) == 0 && cfg.show_help);
}

static void test_env_cli_errors(void)
{
    setenv("LIVECAP_THREADS", "abc", 1);
    CHECK_ERR(load(NULL), "LIVECAP_THREADS: must be an integer from 0 to 256, got \"abc\"");
    unsetenv("LIVECAP_THREADS");
    setenv("LIVECAP_BACKEND", "gpu", 1);
    CHECK_ERR(load(NULL), "LIVECAP_BACKEND: must be one of auto|cpu|npu|npu-emu, got \"gpu\"");
    unsetenv("LIVECAP_BACKEND");

    CHECK_ERR(load("--beam", "99", NULL), "--beam: must be an integer from 1 to 16, got \"99\"");
    CHECK_ERR(load("--beam=x", NULL), "--beam: must be an integer from 1 to 16, got \"x\"");
    CHECK_ERR(load("-t", "-1", NULL), "-t: must be an integer from 0 to 256, got \"-1\"");
    CHECK_ERR(load("--foo", NULL), "unknown option '--foo' (see livecap --help)");
    CHECK_ERR(load("--foo=1", NULL), "unknown option '--foo' (see livecap --help)");
    CHECK_ERR(load("-x", NULL), "unknown option '-x' (see livecap --help)");
    CHECK_ERR(load("--beam", NULL), "--beam: missing value (see livecap --help)");
    CHECK_ERR(load("--help=1", NULL), "--help: takes no value");
    CHECK_ERR(load("-o", "docx", "transcribe", "a.wav", NULL),
              "-o: must be one of txt|srt|vtt|json, got \"docx\"");
    CHECK_ERR(load("transcribble", "a.wav", NULL), "unknown command 'transcribble' (the commands "
              "are live, transcribe, devices, bench, genmodel; see livecap --help)");
    CHECK_ERR(load("live", "a.wav", NULL),
              "unexpected argument 'a.wav': livecap live takes no files (see livecap --help)");
}

static void test_argv(void)
{
    CHECK(load("-m", "x.bin", "transcribe", "a.wav", "--beam", "2", "b.wav", "-o", "srt", NULL) == 0);
    CHECK(!strcmp(cfg.command, "transcribe") && !strcmp(cfg.model, "x.bin") && cfg.beam == 2);
    CHECK(!strcmp(cfg.output_format, "srt"));
    CHECK(cfg.n_files == 2 && cfg.files && !strcmp(cfg.files[0], "a.wav") && !strcmp(cfg.files[1], "b.wav"));

    CHECK(load("transcribe", "--output-file=o.txt", "--", "-odd.wav", "c.wav", NULL) == 0);
    CHECK(!strcmp(cfg.output_file, "o.txt") && cfg.n_files == 2);
    CHECK(cfg.n_files == 2 && !strcmp(cfg.files[0], "-odd.wav") && !strcmp(cfg.files[1], "c.wav"));

    CHECK(load("-m", "a.bin", "bench", "--model", "b.bin", "--model=c.bin", "--json", NULL) == 0);
    CHECK(!strcmp(cfg.command, "bench") && cfg.n_bench_models == 3 && cfg.bench_json);
    CHECK(cfg.n_bench_models == 3 && !strcmp(cfg.bench_models[0], "a.bin")
          && !strcmp(cfg.bench_models[2], "c.bin"));
    CHECK(cfg.model[0] == 0); /* bench's -m does not touch model */

    CHECK(load("-m", "a.bin", "--model", "b.bin", NULL) == 0);
    CHECK(!strcmp(cfg.model, "b.bin") && cfg.n_bench_models == 0);

    CHECK(load("live", "--input", "talk.flac", "--jsonl", "-", "--save", "t.srt", "--device=2", NULL) == 0);
    CHECK(!strcmp(cfg.input, "talk.flac") && !strcmp(cfg.jsonl, "-"));
    CHECK(!strcmp(cfg.save, "t.srt") && !strcmp(cfg.device, "2"));
    CHECK(load("genmodel", "out.bin", "--dump", "d", "--initial-prompt", "Hi.", NULL) == 0);
    CHECK(cfg.n_files == 1 && !strcmp(cfg.files[0], "out.bin") && !strcmp(cfg.dump_dir, "d"));
    CHECK(!strcmp(cfg.initial_prompt, "Hi."));
    CHECK(load("devices", NULL) == 0 && !strcmp(cfg.command, "devices"));
    CHECK(load("--version", NULL) == 0 && cfg.show_version);
    CHECK(load("-h", NULL) == 0 && cfg.show_help);
}

/* The shipped file is the generated one, and it parses back to the defaults. */
static void test_shipped_ini(void)
{
    char *gen = NULL, *shipped = NULL;
    size_t ngen = 0, nshipped = 0;
    FILE *m = open_memstream(&gen, &ngen);
    CHECK(config_write_ini(m) == 0);
    fclose(m);
    FILE *f = fopen("config/livecap.ini", "rb");
    CHECKF(f != NULL, "config/livecap.ini not found (run from the repository root)");
    if (f) {
        shipped = malloc(ngen + 2);
        nshipped = fread(shipped, 1, ngen + 1, f);
        fclose(f);
    }
    CHECKF(shipped && nshipped == ngen && !memcmp(shipped, gen, ngen),
           "config/livecap.ini differs from config_write_ini(); regenerate it with "
           "build/tests/test_config --write-ini > config/livecap.ini");
    free(shipped);
    free(gen);

    static lc_config defaults;
    CHECK(load(NULL) == 0);
    memcpy(&defaults, &cfg, sizeof cfg);
    CHECKF(load("-c", "config/livecap.ini", NULL) == 0, "%s", err.msg);
    CHECK(!strcmp(cfg.config_path, "config/livecap.ini"));
    memset(cfg.config_path, 0, sizeof cfg.config_path);
    CHECK(!memcmp(&cfg, &defaults, sizeof cfg));
}

static void test_help(void)
{
    char *h = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&h, &n);
    config_print_help(m);
    fclose(m);
    static const char *want[] = { "livecap transcribe [options] FILE…", "-m, --model PATH",
        "-c, --config PATH", "--beam N", "--backend auto|cpu|npu|npu-emu", "--no-fallback",
        "-o, --output-format txt|srt|vtt|json", "--jsonl PATH|-", "--json", "--headless",
        "(default: 1; LIVECAP_BEAM)", "--temperature-inc X", "LIVECAP_TEMPERATURE_INC)" };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        CHECKF(strstr(h, want[i]) != NULL, "--help lacks '%s'", want[i]);
    free(h);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--write-ini")) return config_write_ini(stdout) ? 1 : 0;

    snprintf(tmp, sizeof tmp, "/tmp/test_config_XXXXXX");
    if (!mkdtemp(tmp)) { perror("mkdtemp"); return 1; }
    clean_env();
    setenv("XDG_CONFIG_HOME", tmp, 1); /* keep the user's own config out */

    test_defaults();
    test_search_order();
    test_precedence();
    test_ini_errors();
    test_env_cli_errors();
    test_argv();
    test_shipped_ini();
    test_help();

    for (int i = n_paths - 1; i >= 0; i--) remove(paths[i]);
    rmdir(tmp);
    TEST_DONE();
}
