/* modelpath.h: where livecap looks for a model when -m is not given, and
 * the one-line message that tells the user exactly how to get one. */
#ifndef LC_MODELPATH_H
#define LC_MODELPATH_H
#include <stddef.h>
#include "util/err.h"

/* The models directory: $XDG_DATA_HOME/livecap/models (default
 * ~/.local/share/livecap/models), as scripts/download-model.sh uses. */
void modelpath_dir(char *out, size_t len);

/* given non-empty: must exist. Otherwise the first of ggml-tiny.en.bin,
 * ggml-base.en.bin, ggml-tiny.bin, ggml-base.bin, ggml-small.en.bin,
 * ggml-small.bin in the models directory. Fills e with the fix on failure. */
int modelpath_resolve(const char *given, char *out, size_t len, lc_err *e);

#endif
