/* cmd_devices.c: `livecap devices` (SPEC §1): the capture devices, as the
 * index/name that --device takes, then the accelerator line. */
#include <stdio.h>

#include "capture/capture.h"
#include "cli/commands.h"
#include "engine/npu_discover.h" /* devices_print_accelerator */

/* More inputs than any machine has; the count beyond it is still reported. */
#define MAX_LISTED 256

int cmd_devices(lc_config *cfg)
{
    (void)cfg;
    static lc_device_desc devs[MAX_LISTED];
    lc_err e = {{0}};
    int n = capture_list_devices(devs, MAX_LISTED, &e);
    if (n < 0) {
        fprintf(stderr, "livecap: %s\n", e.msg);
        return 1;
    }
    if (n == 0) {
        puts("no capture devices found");
    } else {
        printf("  %5s  %8s  %8s  %s\n", "index", "channels", "rate", "name");
        for (int i = 0; i < n && i < MAX_LISTED; i++) {
            const lc_device_desc *d = &devs[i];
            printf("%c %5d  %8d  %8.0f  %s (%s)\n", d->is_default ? '*' : ' ', d->index,
                   d->channels, d->default_rate, d->name, d->host_api);
        }
        if (n > MAX_LISTED)
            printf("  … and %d more\n", n - MAX_LISTED);
        puts("(* = default input; use --device INDEX or a part of the name)");
    }
    devices_print_accelerator(stdout);
    fflush(stdout);
    return 0;
}
