/* test_vad.c: energy VAD (src/stream/vad.h) on generated signals and on
 * the jfk.wav fixture. */
#include "test.h"
#include "stream/vad.h"

#include <sndfile.h>
#include <stdint.h>
#include <string.h>

#define SR 16000
#define MAX_S 40
static float sig[SR * MAX_S];
static uint64_t rng = 88172645463325252ull;

static double urand(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return ((double)(rng >> 11) + 0.5) / 9007199254740992.0;
}

static double gauss(void)
{
    return sqrt(-2.0 * log(urand())) * cos(2.0 * M_PI * urand());
}

/* Scales x[a..b) to an RMS of db dBFS. */
static void set_rms(float *x, size_t a, size_t b, double db)
{
    double s = 0;
    for (size_t i = a; i < b; i++) s += (double)x[i] * x[i];
    double g = pow(10.0, db / 20.0) / sqrt(s / (double)(b - a) + 1e-30);
    for (size_t i = a; i < b; i++) x[i] = (float)(x[i] * g);
}

/* Adds white noise (pole 0) or coloured noise through a one-pole lowpass:
 * COLOURED (~250 Hz, fan-like: few zero crossings, so only the noise floor
 * can reject it) or RUMBLE (~50 Hz). */
#define COLOURED 0.9
#define RUMBLE 0.98
static void add_noise(float *x, double t0, double t1, double db, double pole)
{
    static float tmp[SR * MAX_S];
    size_t a = (size_t)(t0 * SR), b = (size_t)(t1 * SR);
    double y = 0;
    for (size_t i = a; i < b; i++) {
        y = pole * y + gauss();
        tmp[i] = (float)y;
    }
    set_rms(tmp, a, b, db);
    for (size_t i = a; i < b; i++) x[i] += tmp[i];
}

/* "Speech-like": 140 Hz harmonics (1/k) with a 4-Hz syllable envelope. */
static void add_speechlike(float *x, double t0, double t1, double db)
{
    static float tmp[SR * MAX_S];
    size_t a = (size_t)(t0 * SR), b = (size_t)(t1 * SR);
    for (size_t i = a; i < b; i++) {
        double t = (double)(i - a) / SR, s = 0;
        for (int k = 1; k <= 20; k++)
            s += sin(2 * M_PI * 140.0 * k * t) / k;
        tmp[i] = (float)(s * (0.6 + 0.4 * sin(2 * M_PI * 4.0 * t)));
    }
    set_rms(tmp, a, b, db);
    for (size_t i = a; i < b; i++) x[i] += tmp[i];
}

/* Runs the VAD over x[0..n) in chunks of `chunk` samples and records the
 * times (s, end of the chunk that reported them) of the events. */
typedef struct { double start[64], end[64]; int n_start, n_end; } events;

static events run(lc_vad *v, const float *x, size_t n, size_t chunk)
{
    events e;
    memset(&e, 0, sizeof e);
    for (size_t i = 0; i < n; i += chunk) {
        size_t k = n - i < chunk ? n - i : chunk;
        int ev = vad_process(v, x + i, k);
        double t = (double)(i + k) / SR;
        if ((ev & LC_VAD_SPEECH_START) && e.n_start < 64) e.start[e.n_start++] = t;
        if ((ev & LC_VAD_SPEECH_END) && e.n_end < 64) e.end[e.n_end++] = t;
    }
    return e;
}

static void test_silence_and_noise(void)
{
    lc_vad *v = vad_create(6.0, 800);
    CHECK(v != NULL);
    memset(sig, 0, sizeof sig);
    events e = run(v, sig, 5 * SR, 320);
    CHECK(e.n_start == 0 && !vad_is_speech(v));
    CHECK(vad_level_db(v) <= -99.0);

    /* Steady noise at -40 dBFS from the first sample: never speech. The
     * coloured noise passes the zero-crossing test: only the floor rejects
     * it. */
    const double poles[] = {0, COLOURED, RUMBLE};
    for (int k = 0; k < 3; k++) {
        vad_reset(v);
        memset(sig, 0, sizeof sig);
        add_noise(sig, 0, 10, -40, poles[k]);
        e = run(v, sig, 10 * SR, 320);
        printf("noise pole %.2f from 0 s: %d starts (first %.2f s), floor %.1f, ratio %.2f\n",
               poles[k], e.n_start, e.start[0], vad_floor_db(v), vad_speech_ratio(v));
        if (poles[k] != RUMBLE)  /* see vad.h: rumble fools an energy VAD */
            CHECKF(e.n_start == 0, "pole %.2f: %d starts, first at %.2f s", poles[k],
                   e.n_start, e.start[0]);
        CHECKF(fabs(vad_level_db(v) + 40) < 3, "level %.1f", vad_level_db(v));
    }

    /* Quiet noise below the absolute minimum (-65 dBFS) after silence. */
    vad_reset(v);
    memset(sig, 0, sizeof sig);
    add_noise(sig, 2, 8, -65, COLOURED);
    e = run(v, sig, 8 * SR, 320);
    CHECK(e.n_start == 0);

    /* Noise that starts after 2 s of digital silence. White: rejected at
     * once by its zero-crossing rate. Coloured: taken for speech until the
     * floor adapts (<= 1.8 s) and the hangover passes, then silence. */
    for (int k = 0; k < 3; k++) {
        vad_reset(v);
        memset(sig, 0, sizeof sig);
        add_noise(sig, 2, 12, -40, poles[k]);
        e = run(v, sig, 12 * SR, 320);
        printf("noise pole %.2f from 2 s: %d starts (first %.2f s), %d ends (first %.2f s), ratio %.2f\n",
               poles[k], e.n_start, e.start[0], e.n_end, e.end[0], vad_speech_ratio(v));
        if (k == 0)
            CHECKF(e.n_start == 0, "white onset: %d starts", e.n_start);
        if (poles[k] == RUMBLE)
            continue;
        CHECKF(e.n_start <= 1 && e.n_end == e.n_start && !vad_is_speech(v),
               "pole %.2f onset: %d starts, %d ends", poles[k], e.n_start, e.n_end);
        if (e.n_end)
            CHECKF(e.end[0] <= 2 + 1.8 + 0.8 + 0.1, "pole %.2f onset: end at %.2f s", poles[k],
                   e.end[0]);
    }
    vad_free(v);
}

/* Bursts of 2 s separated by 1.5 s: start within 100 ms of each burst,
 * end within hangover + 100 ms of its end; on silence or on a -45 dBFS
 * brown noise background. */
static void test_bursts(int hangover_ms, int background)
{
    lc_vad *v = vad_create(6.0, hangover_ms);
    memset(sig, 0, sizeof sig);
    double t_on[4];
    for (int b = 0; b < 4; b++) {
        t_on[b] = 1.0 + b * 3.5;
        add_speechlike(sig, t_on[b], t_on[b] + 2.0, -20);
    }
    double dur = 1.0 + 4 * 3.5;
    if (background)
        add_noise(sig, 0, dur, -45, COLOURED);
    events e = run(v, sig, (size_t)(dur * SR), 320);
    CHECKF(e.n_start == 4 && e.n_end == 4, "hangover %d bg %d: %d starts %d ends",
           hangover_ms, background, e.n_start, e.n_end);
    for (int b = 0; b < 4 && b < e.n_start && b < e.n_end; b++) {
        double ds = e.start[b] - t_on[b], de = e.end[b] - (t_on[b] + 2.0);
        CHECKF(ds >= 0 && ds <= 0.1, "burst %d: start %.3f s after onset", b, ds);
        CHECKF(de >= hangover_ms / 1000.0 - 0.05 && de <= hangover_ms / 1000.0 + 0.1,
               "burst %d: end %.3f s after offset (hangover %d ms)", b, de, hangover_ms);
    }
    /* vad_speech_end() points at the start of the silence, not its end. */
    double te = (double)vad_speech_end(v) / SR;
    CHECKF(fabs(te - (t_on[3] + 2.0)) < 0.1, "last end at %.3f", te);
    double ts = (double)vad_speech_start(v) / SR;
    CHECKF(fabs(ts - t_on[3]) < 0.05, "last start at %.3f", ts);
    vad_free(v);
}

/* A loud noise burst: white noise at -10 dBFS is not speech (zero-crossing
 * rate); the same energy as rumble is (an energy VAD cannot tell). */
static void test_loud_burst(void)
{
    lc_vad *v = vad_create(6.0, 800);
    memset(sig, 0, sizeof sig);
    add_noise(sig, 1, 2, -10, 0);
    events e = run(v, sig, 4 * SR, 320);
    CHECKF(e.n_start == 0, "white -10 dBFS burst: %d starts", e.n_start);
    CHECKF(vad_speech_ratio(v) == 0.0, "ratio %.2f", vad_speech_ratio(v));

    vad_reset(v);
    memset(sig, 0, sizeof sig);
    add_noise(sig, 1, 2, -10, COLOURED);
    e = run(v, sig, 4 * SR, 320);
    CHECK(e.n_start == 1 && e.n_end == 1);
    if (e.n_start == 1 && e.n_end == 1)
        CHECKF(e.start[0] - 1 <= 0.1 && e.end[0] - 2 <= 0.9, "%.2f %.2f", e.start[0], e.end[0]);
    vad_free(v);
}

/* The level meter reads dBFS RMS of the last frame, whatever the chunking. */
static void test_level(void)
{
    lc_vad *v = vad_create(0, 0);  /* defaults: 6 dB, one frame of hangover */
    for (int i = 0; i < SR; i++)
        sig[i] = (float)(0.1 * sin(2 * M_PI * 1000.0 * i / SR));
    run(v, sig, SR, 77);
    CHECKF(fabs(vad_level_db(v) - 20 * log10(0.1 / sqrt(2))) < 0.1, "level %.2f", vad_level_db(v));
    vad_free(v);
}

static size_t read_wav(const char *path, float *x, size_t cap)
{
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (!f) return 0;
    size_t n = 0;
    if (info.channels == 1 && info.samplerate == SR)
        n = (size_t)sf_readf_float(f, x, (sf_count_t)cap);
    sf_close(f);
    return n;
}

/* jfk.wav into sig; 0 (and a "skip" line) when the fixtures are not there */
static size_t read_jfk(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/jfk.wav", fixtures_dir());
    size_t n = read_wav(path, sig, (size_t)SR * 20);
    if (n == 0) printf("skip: %s not readable\n", path);
    return n;
}

static void test_jfk(void)
{
    size_t n = read_jfk();
    if (n == 0) return;
    CHECK(n == 176000);
    lc_vad *v = vad_create(6.0, 800);
    events e = run(v, sig, n, 333);  /* odd chunks: frames straddle calls */
    double ratio = vad_speech_ratio(v);
    printf("jfk: speech ratio %.2f, %d starts, floor %.1f dB\n", ratio, e.n_start, vad_floor_db(v));
    CHECKF(ratio > 0.75, "speech ratio %.2f", ratio);
    /* The words start at 0.3 s; the hiss before them is 6 dB louder than
     * the first 100 ms of the file, so the start may come a little early. */
    CHECKF(e.n_start >= 1 && e.start[0] < 0.5, "first start %.2f s",
           e.n_start ? e.start[0] : -1.0);
    CHECKF(e.n_start <= 5, "%d starts", e.n_start);
    CHECK(vad_is_speech(v));  /* the file ends 0.1 s after the last word */
    memset(sig, 0, sizeof(float) * 3 * SR);
    int ev = vad_process(v, sig, 3 * SR);
    CHECK((ev & LC_VAD_SPEECH_END) && !vad_is_speech(v));
    CHECKF(vad_speech_end(v) > 10.5 * SR && vad_speech_end(v) <= (int64_t)n,
           "end at %.2f s", (double)vad_speech_end(v) / SR);
    vad_free(v);
}

/* The positions the VAD reports are functions of the samples, however
 * they are chunked: the live pipeline ends its windows at vad_end_decided(),
 * so the same audio gives the same windows from a file or a device. */
typedef struct { int64_t at[3 * 64]; int n; } positions;

static positions run_positions(const float *x, size_t n, size_t chunk)
{
    positions ps;
    memset(&ps, 0, sizeof ps);
    lc_vad *v = vad_create(6.0, 800);
    for (size_t i = 0; i < n; i += chunk) {
        size_t k = n - i < chunk ? n - i : chunk;
        int ev = vad_process(v, x + i, k);
        if ((ev & LC_VAD_SPEECH_START) && ps.n < 3 * 64 - 1) ps.at[ps.n++] = vad_speech_start(v);
        if ((ev & LC_VAD_SPEECH_END) && ps.n < 3 * 64 - 2) {
            ps.at[ps.n++] = vad_speech_end(v);
            ps.at[ps.n++] = -vad_end_decided(v); /* negative: tells it apart */
            /* decided after the silence began, by the hangover (800 ms)
             * plus the energy average (30 ms), within the chunk */
            CHECK(vad_end_decided(v) > vad_speech_end(v));
            CHECKF(vad_end_decided(v) <= vad_speech_end(v) + (int64_t)(0.85 * SR),
                   "decided %lld, end %lld", (long long)vad_end_decided(v), (long long)vad_speech_end(v));
            CHECK(vad_end_decided(v) <= (int64_t)(i + k));
        }
    }
    vad_free(v);
    return ps;
}

static void test_chunking(void)
{
    size_t n = read_jfk();
    if (n == 0) return;
    memset(sig + n, 0, sizeof(float) * 3 * SR); /* the last end, too */
    n += 3 * SR;
    /* chunks shorter than any speech or pause, so no call holds two events */
    static const size_t chunks[] = {1, 7, 333, 1600};
    positions ref = run_positions(sig, n, VAD_FRAME);
    CHECKF(ref.n >= 3, "%d positions", ref.n);
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        positions ps = run_positions(sig, n, chunks[c]);
        CHECKF(ps.n == ref.n && !memcmp(ps.at, ref.at, sizeof(int64_t) * (size_t)ref.n),
               "chunks of %zu: positions differ from frame by frame", chunks[c]);
    }
}

int main(void)
{
    test_silence_and_noise();
    test_bursts(800, 0);
    test_bursts(800, 1);
    test_bursts(300, 1);
    test_loud_burst();
    test_level();
    test_jfk();
    test_chunking();
    TEST_DONE();
}
