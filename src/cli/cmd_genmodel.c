/* cmd_genmodel.c: `livecap genmodel`. The real entry point is
 * genmodel_main() (model/genmodel.h), which parses its own options, since
 * lc_config has no genmodel keys; main.c hands it `livecap genmodel …`
 * before config_load. This wrapper covers `livecap [options] genmodel OUT`,
 * where the config parser gets there first: positional arguments only. */

#include <stdio.h>

#include "cli/commands.h"
#include "model/genmodel.h"

int cmd_genmodel(lc_config *cfg)
{
    char *argv[8] = { "genmodel" };
    int argc = 1;
    for (int i = 0; i < cfg->n_files && argc < 8; i++) argv[argc++] = cfg->files[i];
    if (argc == 1) {
        fprintf(stderr, "livecap: genmodel: no output file (usage: livecap genmodel [--shape NAME] "
                        "[--ftype T] [--seed N] OUT.bin)\n");
        return 2;
    }
    return genmodel_main(argc, argv);
}
