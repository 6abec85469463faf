/* Placeholder until this command lands; replaced by its owner. */
#include <stdio.h>
#include "cli/commands.h"
int cmd_bench(lc_config *cfg) { (void)cfg; fprintf(stderr, "livecap: 'bench' is not built yet\n"); return 1; }
