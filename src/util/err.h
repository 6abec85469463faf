/* err.h: livecap's error tiers (see ../shared/STYLE.md "Errors").
 *
 *  1. Invariants     LC_ASSERT(cond): a bug in livecap, aborts with file:line.
 *  2. Library code   returns -1 (or NULL) and fills an lc_err; never exit().
 *  3. User-facing    main/UI prints e.msg as ONE line naming the file/key/device.
 *  4. Fatal          lc_fatal(): restores the terminal (hook), prints, exits 1.
 *
 * Thread-safety: an lc_err belongs to its caller; the functions are reentrant.
 */
#ifndef LC_ERR_H
#define LC_ERR_H

#include <stddef.h>

typedef struct lc_err {
    char msg[512];
} lc_err;

/* Formats into e->msg (if e is non-NULL) and returns -1, so library code can
 * write `return lc_fail(e, "%s: truncated", path);`. */
int lc_fail(lc_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prepends "prefix: " to an existing message (adds context on the way up). */
int lc_wrap(lc_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Fatal tier: runs the registered terminal-restore hook (if any), prints
 * "livecap: <msg>" on stderr and exits with `code`. */
void lc_fatal(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
void lc_set_fatal_hook(void (*restore)(void));

#define LC_ASSERT(c) \
    do { if (!(c)) lc_fatal(70, "internal error: %s:%d: assertion '%s' failed", __FILE__, __LINE__, #c); } while (0)

#endif
