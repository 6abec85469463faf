/* Placeholder until this command lands; replaced by its owner. */
#include <stdio.h>
#include "cli/commands.h"
int cmd_devices(lc_config *cfg) { (void)cfg; fprintf(stderr, "livecap: 'devices' is not built yet\n"); return 1; }
