#include "cli/modelpath.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void modelpath_dir(char *out, size_t len)
{
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    if (xdg && *xdg) snprintf(out, len, "%s/livecap/models", xdg);
    else snprintf(out, len, "%s/.local/share/livecap/models", home && *home ? home : ".");
}

int modelpath_resolve(const char *given, char *out, size_t len, lc_err *e)
{
    if (given && *given) {
        if (access(given, R_OK) != 0)
            return lc_fail(e, "%s: model file not found (get one with: make model, or "
                              "scripts/download-model.sh tiny.en)", given);
        snprintf(out, len, "%s", given);
        return 0;
    }
    static const char *const names[] = { "ggml-tiny.en.bin", "ggml-base.en.bin", "ggml-tiny.bin",
                                         "ggml-base.bin", "ggml-small.en.bin", "ggml-small.bin" };
    char dir[1024];
    modelpath_dir(dir, sizeof dir);
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        snprintf(out, len, "%s/%s", dir, names[i]);
        if (access(out, R_OK) == 0) return 0;
    }
    return lc_fail(e, "no model found in %s: run 'make model' or 'scripts/download-model.sh tiny.en' "
                      "(it downloads to %s/ggml-tiny.en.bin), or pass -m PATH", dir, dir);
}
