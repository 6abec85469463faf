#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void (*fatal_hook)(void);

int lc_fail(lc_err *e, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int lc_wrap(lc_err *e, const char *fmt, ...)
{
    if (!e) return -1;
    char prefix[256], old[sizeof e->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    snprintf(e->msg, sizeof e->msg, "%.200s: %.300s", prefix, old);
    return -1;
}

void lc_set_fatal_hook(void (*restore)(void)) { fatal_hook = restore; }

void lc_fatal(int code, const char *fmt, ...)
{
    if (fatal_hook) fatal_hook(); /* terminal first (htop CRT_fatalError) */
    va_list ap;
    va_start(ap, fmt);
    fputs("livecap: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(code);
}
