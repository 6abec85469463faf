/* test_events: the live event sink's locking and --save fallback around
 * fsync. fsync is wrapped at link time (-Wl,--wrap=fsync, see Makefile):
 *   1. a final whose fsync is slow must not hold up a stats event (the
 *      stats timer shares the sink's lock; SPEC §4 wants stats at least
 *      once a second, and a loaded host's fsync took over a second);
 *   2. an fsync that fails (EIO) sends the transcript to the fallback file,
 *      reported once, and later finals go on there. */
#include "test.h"
#include "stream/events.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int __real_fsync(int fd);

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static enum { F_REAL, F_BLOCK, F_FAIL } mode;
static int in_fsync, stats_done, waited_out;

/* Waits (mu held) until *flag is set or 3 s have passed; returns *flag. */
static int wait_flag(const int *flag)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 3;
    int rc = 0;
    while (!*flag && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&cv, &mu, &ts);
    return *flag;
}

/* F_BLOCK: stays inside fsync until the main thread has written a stats
 * event, or 3 s (then waited_out: the stats event was stuck behind us). */
int __wrap_fsync(int fd)
{
    pthread_mutex_lock(&mu);
    int m = mode;
    if (m == F_BLOCK) {
        in_fsync = 1;
        pthread_cond_broadcast(&cv);
        if (!wait_flag(&stats_done)) waited_out = 1;
        mode = F_REAL;
    } else if (m == F_FAIL) {
        mode = F_REAL; /* once */
    }
    pthread_mutex_unlock(&mu);
    if (m == F_FAIL) { errno = EIO; return -1; }
    return __real_fsync(fd);
}

static lc_events *ev;
static lc_final fin;

static void *final_thread(void *arg)
{
    (void)arg;
    events_final(ev, &fin, 120);
    return NULL;
}

static char reported[8192];
static int n_reported;
static void on_error(void *ctx, const char *msg)
{
    (void)ctx;
    n_reported++;
    snprintf(reported, sizeof reported, "%s", msg);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static int count(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

static void set_final(double t0, double t1, const char *text)
{
    memset(&fin, 0, sizeof fin);
    fin.t0 = t0;
    fin.t1 = t1;
    snprintf(fin.text, sizeof fin.text, "%s", text);
    fin.n_words = 2;
}

int main(void)
{
    char dir[] = "/tmp/test_events.XXXXXX";
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    char jsonl[256], save[256], cmd[300];
    snprintf(jsonl, sizeof jsonl, "%s/ev.jsonl", dir);
    snprintf(save, sizeof save, "%s/out.srt", dir);
    setenv("TMPDIR", dir, 1);
    lc_err e = {{0}};
    ev = events_open(0, jsonl, save, &e);
    CHECKF(ev != NULL, "%s", e.msg);
    if (!ev) TEST_DONE();
    events_on_error(ev, on_error, NULL);

    /* 1. stats while a final's fsync is in progress */
    mode = F_BLOCK;
    set_final(0.5, 1.25, " And so my fellow Americans");
    pthread_t th;
    CHECK(pthread_create(&th, NULL, final_thread, NULL) == 0);
    pthread_mutex_lock(&mu);
    int entered = wait_flag(&in_fsync);
    pthread_mutex_unlock(&mu);
    CHECKF(entered, "the final's fsync never ran");
    lc_pipeline_snapshot *snap = calloc(1, sizeof *snap);
    snap->npu = -1;
    events_stats(ev, snap);
    pthread_mutex_lock(&mu);
    stats_done = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    pthread_join(th, NULL);
    CHECKF(!waited_out, "the stats event waited for the final's fsync");
    char *j = slurp(jsonl);
    CHECK(j && count(j, "\"type\":\"final\"") == 1 && count(j, "\"type\":\"stats\"") == 1);
    char *s = slurp(save);
    CHECKF(s && count(s, " --> ") == 1 && strstr(s, "And so my fellow Americans"), "%s", s ? s : "(none)");
    CHECK(n_reported == 0 && events_rescue_path(ev) == NULL);

    /* 2. a failing fsync: the whole transcript goes to the fallback */
    mode = F_FAIL;
    set_final(1.5, 2.5, " ask not what your country");
    events_final(ev, &fin, 90);
    CHECKF(n_reported == 1, "%d reports", n_reported);
    CHECKF(strstr(reported, "--save ") && strstr(reported, "out.srt: cannot write (Input/output error)") &&
           strstr(reported, "/livecap-rescue-"), "%s", reported);
    const char *rp = events_rescue_path(ev);
    CHECK(rp != NULL);
    char rescue[512] = "";
    if (rp) snprintf(rescue, sizeof rescue, "%s", rp);
    set_final(2.75, 3.5, " can do for you");
    events_final(ev, &fin, 80);
    CHECK(n_reported == 1);
    s = rescue[0] ? slurp(rescue) : NULL;
    CHECKF(s && count(s, " --> ") == 3 && strstr(s, "\n1\n") == NULL && strncmp(s, "1\n", 2) == 0 &&
           strstr(s, "\n3\n00:00:02,750 --> 00:00:03,500\ncan do for you"), "%s", s ? s : "(none)");
    j = slurp(jsonl);
    CHECK(j && count(j, "\"type\":\"final\"") == 3);
    e.msg[0] = 0;
    CHECK(events_close(ev, &e) == -1 && e.msg[0] == 0); /* reported already: no second line */
    free(snap);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    TEST_DONE();
}
