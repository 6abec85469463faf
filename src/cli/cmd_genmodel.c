/* Placeholder until this command lands; replaced by its owner. */
#include <stdio.h>
#include "cli/commands.h"
int cmd_genmodel(lc_config *cfg) { (void)cfg; fprintf(stderr, "livecap: 'genmodel' is not built yet\n"); return 1; }
