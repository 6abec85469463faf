/* test.h: minimal assertions for livecap's C unit tests. Each test program
 * prints one line per failed check and exits non-zero if any failed. */
#ifndef LC_TEST_H
#define LC_TEST_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int t_failed, t_checks;

#define CHECK(c) do { t_checks++; if (!(c)) { t_failed++; \
    fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); } } while (0)
#define CHECKF(c, ...) do { t_checks++; if (!(c)) { t_failed++; \
    fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #c); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)
#define TEST_DONE() do { printf("%d checks, %d failed\n", t_checks, t_failed); \
    return t_failed ? 1 : 0; } while (0)

/* Path of the shared fixtures (set by tests/run.sh). */
static inline const char *fixtures_dir(void) {
    const char *f = getenv("FIXTURES");
    return f ? f : "../shared/fixtures";
}
#endif
