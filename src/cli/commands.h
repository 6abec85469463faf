/* commands.h: the subcommands of SPEC §1. Each returns the process exit
 * status (0 ok, 1 run failed, 2 usage) and has printed its one-line error. */
#ifndef LC_COMMANDS_H
#define LC_COMMANDS_H
#include "cli/config.h"

int cmd_live(lc_config *cfg);        /* cmd_live.c */
int cmd_transcribe(lc_config *cfg);  /* cmd_transcribe.c */
int cmd_devices(lc_config *cfg);     /* cmd_devices.c */
int cmd_bench(lc_config *cfg);       /* cmd_bench.c */
int cmd_genmodel(lc_config *cfg);    /* cmd_genmodel.c: random-weight models */

/* Shared by the commands (cmd_transcribe.c). */
int cmd_threads(const lc_config *cfg);       /* -t, or every online core */
struct lc_model;
/* Language index for cfg->language on model m: 0 for English-only models,
 * -1 for "auto"; prints one line and returns -1 for an unknown code. */
int cmd_resolve_language(const lc_config *cfg, const struct lc_model *m, int *lang);

/* Compacts the decoder weights as cfg asks (--precise, decoder_weights). */
int cmd_compact(const lc_config *cfg, struct lc_model *m, lc_err *e);
/* --cpu-gemm for this model on b (before whisper_prepare): auto keeps
 * sgemm for f32 files and --precise, as cmd_compact keeps their f32 */
struct lc_backend;
int cmd_cpu_gemm(const lc_config *cfg, const struct lc_model *m, struct lc_backend *b, lc_err *e);

#endif
