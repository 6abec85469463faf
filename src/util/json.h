/* json.h: the small pieces livecap needs to *write* JSON: string escaping
 * and numbers, to a FILE* or to a caller's buffer. Used by the `transcribe
 * -o json` writer (src/out/writers.c) and the live JSON Lines stream
 * (SPEC §4), so that every JSON byte livecap emits is valid.
 *
 * Strings: the input is treated as UTF-8. Valid UTF-8 passes through as-is;
 * each invalid or truncated sequence becomes U+FFFD, so the output is always
 * valid JSON (RFC 8259) whatever bytes the decoder produced. '"' and '\\'
 * are backslash-escaped; control characters use \n \r \t \b \f or \u00XX.
 *
 * Thread-safety: no global state; the functions are reentrant. Writing to
 * one FILE* from several threads is the caller's business (stdio locks each
 * call, not a whole object).
 */
#ifndef LC_JSON_H
#define LC_JSON_H

#include <stddef.h>
#include <stdio.h>

/* Writes s as a quoted JSON string ("..."); NULL writes `null`. */
void json_write_string(FILE *f, const char *s);

/* Like json_write_string, into dst (snprintf-style): writes at most cap-1
 * bytes plus a NUL (when cap > 0) and returns the full length the quoted
 * string needs, not counting the NUL. No allocation: usable in hot paths. */
size_t json_escape(char *dst, size_t cap, const char *s);

/* Writes a float with the fewest digits that read back as the same double
 * (%.15g, or %.17g when needed), always with a '.' or an exponent like
 * Python's repr ("0.0", "-0.04", "1e+16"), or `null` for NaN/Inf, which
 * JSON lacks. Integers are best printed with %d by the caller. */
void json_write_number(FILE *f, double v);

/* The same into dst (snprintf-style; returns the length needed). */
size_t json_format_number(char *dst, size_t cap, double v);

/* Fixed-point with `decimals` digits after the point (e.g. 3 for times in
 * seconds to the millisecond); `null` for NaN/Inf. */
void   json_write_fixed(FILE *f, double v, int decimals);
size_t json_format_fixed(char *dst, size_t cap, double v, int decimals);

/* All number output uses '.' as the decimal point whatever LC_NUMERIC says. */

#endif
