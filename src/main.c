/* livecap: live captions in the terminal. Entry point: parse the config
 * (CLI > env > INI > defaults) and dispatch to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/config.h"
#include "engine/vecmath.h"
#include "model/genmodel.h"

#ifndef LIVECAP_VERSION
#define LIVECAP_VERSION "0.1.0"
#endif

int main(int argc, char **argv)
{
    /* genmodel has its own options (shapes, ftype, seed): not config keys */
    if (argc >= 2 && !strcmp(argv[1], "genmodel")) return genmodel_main(argc - 1, argv + 1);

    static lc_config cfg; /* large (paths); static keeps it off the stack */
    lc_err e = {{0}};
    int rc = config_load(&cfg, argc, argv, &e);
    if (rc != 0) {
        fprintf(stderr, "livecap: %s\n", e.msg);
        return rc;
    }
    if (vm_isa_check(e.msg, sizeof e.msg)) { /* before any kernel picks its set */
        fprintf(stderr, "livecap: %s\n", e.msg);
        return 2;
    }
    if (cfg.show_help) { config_print_help(stdout); return 0; }
    if (cfg.show_version) { printf("livecap %s\n", LIVECAP_VERSION); return 0; }

    if (!strcmp(cfg.command, "live"))       return cmd_live(&cfg);
    if (!strcmp(cfg.command, "transcribe")) return cmd_transcribe(&cfg);
    if (!strcmp(cfg.command, "devices"))    return cmd_devices(&cfg);
    if (!strcmp(cfg.command, "bench"))      return cmd_bench(&cfg);
    if (!strcmp(cfg.command, "genmodel"))   return cmd_genmodel(&cfg);
    fprintf(stderr, "livecap: unknown command '%s' (try livecap --help)\n", cfg.command);
    return 2;
}
