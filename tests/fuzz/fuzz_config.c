/* fuzz_config.c: libFuzzer target for config_load: the INI parser, the
 * value validators and the command-line scanner.
 *
 * Input layout: INI text, then optionally a 0xff byte followed by
 * command-line arguments separated by NUL bytes. The INI text goes in a
 * memfd passed as `-c /proc/self/fd/N` before the fuzzed arguments (a
 * fuzzed `-c` may override it, which is fine). LIVECAP_* variables are
 * cleared once so the environment does not vary between runs.
 * Checked: the return is 0 or 2; 2 comes with one line in e (line breaks
 * in arguments are turned into spaces first: messages quote them); strings in
 * the struct stay NUL-terminated within their arrays.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/config.h"
#include "fuzz_util.h"

#define MAX_ARGS 64

extern char **environ;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    /* a private HOME/XDG so no user file is read, and no LIVECAP_* */
    for (int again = 1; again;) {
        again = 0;
        for (char **e = environ; *e; e++)
            if (!strncmp(*e, "LIVECAP_", 8)) {
                char name[256];
                size_t n = strcspn(*e, "=");
                if (n >= sizeof name) continue;
                memcpy(name, *e, n);
                name[n] = 0;
                unsetenv(name);
                again = 1;
                break;
            }
    }
    setenv("HOME", "/nonexistent", 1);
    setenv("XDG_CONFIG_HOME", "/nonexistent", 1);
    return 0;
}

static void check_str(const char *s, size_t cap)
{
    if (!memchr(s, 0, cap)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *sep = memchr(data, 0xff, size);
    size_t ini_len = sep ? (size_t)(sep - data) : size;
    char path[64];
    int fd = fuzz_memfd(data, ini_len, path, sizeof path);
    if (fd < 0) return 0;

    /* argv strings: copies, NUL-terminated, kept alive across the call
     * (config keeps pointers into argv for files and bench models) */
    char *args = NULL;
    char *argv[MAX_ARGS + 4];
    int argc = 0;
    argv[argc++] = "livecap";
    if (sep) {
        size_t alen = size - ini_len - 1;
        args = malloc(alen + 1);
        if (!args) { close(fd); return 0; }
        memcpy(args, sep + 1, alen);
        args[alen] = 0;
        /* error messages quote arguments verbatim; a line break typed into
         * an argument would break the one-line check, not a promise */
        for (size_t i = 0; i < alen; i++)
            if (args[i] == '\n' || args[i] == '\r') args[i] = ' ';
        /* the command word first (if any) so `transcribe -c …` parses as a user types it */
        char *p = args, *end = args + alen;
        while (p < end && argc < MAX_ARGS) {
            argv[argc++] = p;
            p += strlen(p) + 1;
            if (argc == 2) { argv[argc++] = "-c"; argv[argc++] = path; }
        }
    }
    if (argc == 1) { argv[argc++] = "-c"; argv[argc++] = path; }
    argv[argc] = NULL;

    lc_config *cfg = calloc(1, sizeof *cfg);
    lc_err e = {{0}};
    if (cfg) {
        int rc = config_load(cfg, argc, argv, &e);
        if ((rc != 0 && rc != 2) || (rc == 2 && (!e.msg[0] || strchr(e.msg, '\n')))) {
            fprintf(stderr, "config_load returned %d with message [%s]\n", rc, e.msg);
            abort();
        }
        if (rc == 0) {
            check_str(cfg->command, sizeof cfg->command);
            check_str(cfg->model, sizeof cfg->model);
            check_str(cfg->backend, sizeof cfg->backend);
            check_str(cfg->language, sizeof cfg->language);
            check_str(cfg->initial_prompt, sizeof cfg->initial_prompt);
            check_str(cfg->device, sizeof cfg->device);
            check_str(cfg->output_format, sizeof cfg->output_format);
            check_str(cfg->save, sizeof cfg->save);
            check_str(cfg->jsonl, sizeof cfg->jsonl);
            if (cfg->n_files < 0 || cfg->n_files > argc) {
                fprintf(stderr, "n_files %d with argc %d\n", cfg->n_files, argc);
                abort();
            }
            if (cfg->n_bench_models < 0 || cfg->n_bench_models > 16) abort();
        }
        free(cfg);
    }
    free(args);
    close(fd);
    return 0;
}
