/* test_audiofile: audio files of every supported kind are generated here with
 * libsndfile, read back with audiofile_read and compared with the same
 * signal computed at 16 kHz; hostile files must fail with one line naming
 * the file; the streaming resampler must match the whole-file result. */
#include "test.h"
#include "capture/audiofile.h"

#include <sndfile.h>
#include <string.h>
#include <unistd.h>

#define DUR 2.0 /* seconds */

static char dir[64];

static const char *tmp_path(const char *name)
{
    static char p[4][128];
    static int k;
    k = (k + 1) & 3;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

/* The test signal: a 440 Hz tone plus a 200 -> 3000 Hz chirp, all well
 * below 8 kHz so that resampling to 16 kHz keeps it intact. */
static double sig(double t)
{
    double f0 = 200.0, k = (3000.0 - 200.0) / DUR;
    return 0.3 * sin(2 * M_PI * 440.0 * t) + 0.25 * sin(2 * M_PI * (f0 * t + 0.5 * k * t * t));
}

/* A second component that cancels when the two channels are averaged:
 * reading only one channel would fail the correlation test. */
static double side(double t) { return 0.3 * sin(2 * M_PI * 300.0 * t); }

/* Writes DUR seconds at `rate` with `ch` channels (1 or 2) in `format`.
 * Returns 0 if libsndfile could write it. */
static int make_file(const char *path, int format, int rate, int ch)
{
    SF_INFO info = {.samplerate = rate, .channels = ch, .format = format};
    if (!sf_format_check(&info)) return -1;
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    if (!sf) return -1;
    sf_count_t n = (sf_count_t)(DUR * rate);
    float *buf = malloc((size_t)n * (size_t)ch * sizeof *buf);
    for (sf_count_t i = 0; i < n; i++) {
        double t = (double)i / rate;
        if (ch == 1) buf[i] = (float)sig(t);
        else { buf[2 * i] = (float)(sig(t) + side(t)); buf[2 * i + 1] = (float)(sig(t) - side(t)); }
    }
    sf_count_t w = sf_writef_float(sf, buf, n);
    free(buf);
    sf_close(sf);
    return w == n ? 0 : -1;
}

/* Best normalised correlation of x against the 16 kHz reference over lags
 * in [-maxlag, maxlag]; *lag_out gets the lag. */
static double best_corr(const float *x, size_t nx, const float *ref, size_t nr, int maxlag, int *lag_out)
{
    double best = -2;
    for (int lag = -maxlag; lag <= maxlag; lag++) {
        double sxy = 0, sxx = 0, syy = 0;
        for (size_t i = 0; i < nr; i++) {
            long j = (long)i + lag;
            if (j < 0 || (size_t)j >= nx) continue;
            sxy += (double)x[j] * ref[i];
            sxx += (double)x[j] * x[j];
            syy += (double)ref[i] * ref[i];
        }
        double c = sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : -1;
        if (c > best) { best = c; *lag_out = lag; }
    }
    return best;
}

static float *ref16;
static size_t n_ref;

static void test_exact_16k(void)
{
    /* 16 kHz mono 16-bit: bit-exact with ffmpeg s16le / 32768.0. */
    const char *p = tmp_path("ref16.wav");
    size_t n = (size_t)(DUR * AUDIO_RATE);
    short *s = malloc(n * sizeof *s);
    for (size_t i = 0; i < n; i++) s[i] = (short)lrint(sig((double)i / AUDIO_RATE) * 32767.0);
    s[5] = -32768; s[6] = 32767; /* the extremes */
    SF_INFO info = {.samplerate = AUDIO_RATE, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
    SNDFILE *sf = sf_open(p, SFM_WRITE, &info);
    CHECK(sf && sf_writef_short(sf, s, (sf_count_t)n) == (sf_count_t)n);
    sf_close(sf);

    lc_err e = {{0}};
    CHECKF(audiofile_read(p, &ref16, &n_ref, &e) == 0, "%s", e.msg);
    CHECK(n_ref == n);
    size_t exact = 0;
    for (size_t i = 0; ref16 && i < n && i < n_ref; i++) exact += ref16[i] == (float)s[i] / 32768.0f;
    CHECKF(exact == n, "%zu of %zu samples bit-exact", exact, n);
    CHECK(ref16 && ref16[5] == -1.0f && ref16[6] == 32767.0f / 32768.0f);
    free(s);
    /* From here on, compare with the clean signal (no spikes). */
    for (size_t i = 0; ref16 && i < n_ref; i++) ref16[i] = (float)sig((double)i / AUDIO_RATE);
}

/* A file cut inside its data: the decodable part comes back, or the read
 * fails with one line naming the file. It must never crash or hang. */
static void test_cut(const char *name, double keep)
{
    const char *src = tmp_path(name);
    char cut[160];
    snprintf(cut, sizeof cut, "%s.cut", src);
    FILE *f = fopen(src, "rb");
    if (!f) { CHECKF(0, "%s missing", src); return; }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    rewind(f);
    char *b = malloc((size_t)len);
    size_t got = fread(b, 1, (size_t)len, f);
    fclose(f);
    FILE *g = fopen(cut, "wb");
    fwrite(b, 1, (size_t)(got * keep), g);
    fclose(g);
    free(b);
    float *x = NULL;
    size_t n = 0;
    lc_err e = {{0}};
    int rc = audiofile_read(cut, &x, &n, &e);
    long full = (long)(DUR * AUDIO_RATE);
    if (rc == 0) CHECKF(n > 0 && (long)n < full, "%s cut: %zu samples", name, n);
    else CHECKF(strstr(e.msg, cut) && !strchr(e.msg, '\n'), "%s cut: msg '%s'", name, e.msg);
    printf("%-16s cut to %.0f%%: rc %d, %zu samples %s\n", name, keep * 100, rc, n, rc ? e.msg : "");
    free(x);
}

static void test_format(const char *name, int format, int rate, int ch, double min_corr,
                        int maxlag, int len_tol)
{
    const char *p = tmp_path(name);
    if (make_file(p, format, rate, ch) != 0) {
        CHECKF(0, "%s: libsndfile cannot write this format here", name);
        return;
    }
    float *x = NULL;
    size_t n = 0;
    lc_err e = {{0}};
    int rc = audiofile_read(p, &x, &n, &e);
    CHECKF(rc == 0, "%s: %s", name, e.msg);
    if (rc) return;
    long expect = (long)(DUR * AUDIO_RATE);
    CHECKF(labs((long)n - expect) <= len_tol, "%s: %zu samples, expected about %ld", name, n, expect);
    int lag = 0;
    double c = best_corr(x, n, ref16, n_ref, maxlag, &lag);
    CHECKF(c > min_corr, "%s: correlation %.5f at lag %d", name, c, lag);
    float peak = 0;
    for (size_t i = 0; i < n; i++) peak = fmaxf(peak, fabsf(x[i]));
    CHECKF(peak <= 1.0f && peak > 0.3f, "%s: peak %f", name, peak);
    printf("%-16s %6zu samples, corr %.5f at lag %d\n", name, n, c, lag);
    free(x);
}

/* ---- hostile files ----------------------------------------------------- */

static void write_bytes(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (n) fwrite(b, 1, n, f);
    fclose(f);
}

/* A canonical 44-byte WAV header (RIFF/WAVE, "fmt " PCM, "data"). */
static void wav_header(unsigned char *h, int ch, int rate, uint32_t data_bytes)
{
    memcpy(h, "RIFF", 4);
    uint32_t v = 36 + data_bytes;
    memcpy(h + 4, &v, 4);
    memcpy(h + 8, "WAVEfmt ", 8);
    v = 16; memcpy(h + 16, &v, 4);
    uint16_t s = 1; memcpy(h + 20, &s, 2);           /* PCM */
    s = (uint16_t)ch; memcpy(h + 22, &s, 2);
    v = (uint32_t)rate; memcpy(h + 24, &v, 4);
    v = (uint32_t)(rate * ch * 2); memcpy(h + 28, &v, 4);
    s = (uint16_t)(ch * 2); memcpy(h + 32, &s, 2);
    s = 16; memcpy(h + 34, &s, 2);
    memcpy(h + 36, "data", 4);
    memcpy(h + 40, &data_bytes, 4);
}

static void expect_bad(const char *path, const char *what)
{
    float *x = (float *)1;
    size_t n = 99;
    lc_err e = {{0}};
    int rc = audiofile_read(path, &x, &n, &e);
    CHECKF(rc == -1, "%s accepted (%zu samples)", what, n);
    CHECKF(x == NULL && n == 0, "%s: outputs not cleared", what);
    CHECKF(strstr(e.msg, path) && !strchr(e.msg, '\n'), "%s: msg '%s'", what, e.msg);
    printf("%-26s -> %s\n", what, e.msg);
    if (rc == 0) free(x);
}

static void test_hostile(void)
{
    unsigned char buf[4096];
    const char *p = tmp_path("bad.wav");
    expect_bad(tmp_path("missing.wav"), "missing file");
    expect_bad(dir, "directory");
    write_bytes(p, "", 0);
    expect_bad(p, "empty file");
    const char *txt = "This is not audio, just some text.\n";
    write_bytes(tmp_path("notes.txt"), txt, strlen(txt));
    expect_bad(tmp_path("notes.txt"), "text file");
    wav_header(buf, 1, 16000, 1000);
    write_bytes(p, buf, 30);
    expect_bad(p, "header cut short");
    wav_header(buf, 0, 16000, 1000);
    memset(buf + 44, 0, 1000);
    write_bytes(p, buf, 1044);
    expect_bad(p, "zero channels");
    wav_header(buf, 1, 0, 1000);
    write_bytes(p, buf, 1044);
    expect_bad(p, "zero sample rate");
    wav_header(buf, 1, 16000, 0);
    write_bytes(p, buf, 44);
    expect_bad(p, "zero frames");
    wav_header(buf, 1, 16000, 0x7ffffff0u);
    write_bytes(p, buf, 44);
    expect_bad(p, "huge claim, no data");
    wav_header(buf, 1024, 16000, 0xfffffff0u);
    write_bytes(p, buf, 44);
    expect_bad(p, "huge claim, 1024 channels");
    /* Random bytes with a FLAC magic. */
    memcpy(buf, "fLaC", 4);
    for (int i = 4; i < 4096; i++) buf[i] = (unsigned char)(i * 7919 >> 3);
    write_bytes(tmp_path("junk.flac"), buf, 4096);
    expect_bad(tmp_path("junk.flac"), "junk FLAC");

    /* A header claiming 2 GB over 100 real samples: the real samples come
     * back, and nothing near 2 GB is allocated (run under ASan, which
     * would abort on such a malloc). */
    wav_header(buf, 1, 16000, 0x7ffffff0u);
    for (int i = 0; i < 100; i++) { short s = (short)(i * 300); memcpy(buf + 44 + 2 * i, &s, 2); }
    write_bytes(p, buf, 44 + 200);
    float *x = NULL;
    size_t n = 0;
    lc_err e = {{0}};
    CHECKF(audiofile_read(p, &x, &n, &e) == 0 && n == 100, "%zu samples: %s", n, e.msg);
    CHECK(x && x[99] == (float)(99 * 300) / 32768.0f);
    free(x);
}

/* ---- streaming resampler ---------------------------------------------- */

static void test_resampler(void)
{
    /* 48 kHz stereo in uneven chunks must match the 16 kHz reference. */
    const int rate = 48000;
    size_t nin = (size_t)(DUR * rate);
    float *in = malloc(nin * 2 * sizeof *in);
    for (size_t i = 0; i < nin; i++) {
        double t = (double)i / rate;
        in[2 * i] = (float)(sig(t) + side(t));
        in[2 * i + 1] = (float)(sig(t) - side(t));
    }
    lc_err e = {{0}};
    lc_resampler *r = resampler_new(rate, 2, &e);
    CHECKF(r != NULL, "%s", e.msg);
    if (!r) { free(in); return; }
    size_t cap = resampler_out_max(r, nin) + resampler_out_max(r, 0);
    float *out = malloc(cap * sizeof *out), scratch[8192];
    size_t nout = 0, max_excess = 0;
    int ok = 1;
    static const size_t sizes[] = {480, 1, 7, 4096, 10000, 333, 960};
    for (size_t done = 0, k = 0; done < nin; k++) {
        size_t m = sizes[k % 7];
        if (m > nin - done) m = nin - done;
        size_t w, bound = resampler_out_max(r, m);
        CHECK(bound <= sizeof scratch / sizeof scratch[0]);
        ok &= resampler_process(r, in + 2 * done, m, scratch, bound, &w) == 0;
        size_t ideal = (size_t)ceil(m / 3.0);
        if (w > ideal && w - ideal > max_excess) max_excess = w - ideal;
        memcpy(out + nout, scratch, w * sizeof *out);
        nout += w;
        done += m;
    }
    size_t w;
    ok &= resampler_flush(r, scratch, resampler_out_max(r, 0), &w) == 0;
    memcpy(out + nout, scratch, w * sizeof *out);
    nout += w;
    CHECK(ok);
    CHECKF(labs((long)nout - (long)n_ref) <= 2, "%zu samples out, expected %zu", nout, n_ref);
    int lag = 0;
    double c = best_corr(out, nout, ref16, n_ref, 50, &lag);
    CHECKF(c > 0.9999 && lag == 0, "stream: corr %.5f at lag %d", c, lag);
    printf("stream 48k/2ch:  %zu samples, corr %.5f at lag %d, max excess per call %zu\n", nout, c, lag, max_excess);

    /* Too small an output buffer is reported, not overrun. */
    resampler_reset(r);
    CHECK(resampler_process(r, in, 4800, scratch, 10, &w) == -1 && w <= 10);
    resampler_free(r);

    /* 16 kHz mono passes through bit-exactly; stereo is averaged. */
    r = resampler_new(16000, 1, &e);
    CHECK(r && resampler_process(r, ref16, 1000, scratch, 1000, &w) == 0 && w == 1000);
    CHECK(!memcmp(scratch, ref16, 1000 * sizeof *ref16));
    resampler_free(r);
    r = resampler_new(16000, 2, &e);
    float st[4] = {0.5f, 0.25f, -1.0f, 0.0f};
    CHECK(r && resampler_process(r, st, 2, scratch, 2, &w) == 0 && w == 2);
    CHECK(scratch[0] == 0.375f && scratch[1] == -0.5f);
    resampler_free(r);

    CHECK(resampler_new(0, 1, &e) == NULL && strlen(e.msg) > 0);
    CHECK(resampler_new(44100, 0, &e) == NULL);
    free(in);
    free(out);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/lc_audio_XXXXXX");
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    test_exact_16k();
    if (!ref16) TEST_DONE();

    /* Lossless and PCM: same signal, tight length and lag. 8-bit is only
     * 48 dB clean, still far above 0.99. */
    test_format("s16_44k.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 2, 0.9999, 20, 2);
    test_format("u8_22k.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_U8, 22050, 2, 0.999, 20, 2);
    test_format("s24_48k.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_24, 48000, 2, 0.9999, 20, 2);
    test_format("s32_8k.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_32, 8000, 1, 0.9999, 20, 2);
    test_format("f32_44k.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 44100, 2, 0.9999, 20, 2);
    test_format("f32_16k_st.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 16000, 2, 0.9999, 20, 0);
    test_format("s16_44k.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 44100, 2, 0.9999, 20, 2);
    /* Lossy codecs: encoder delay and padding shift and lengthen. */
    test_format("vorbis_44k.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 44100, 2, 0.99, 2000, 2000);
    test_format("opus_48k.opus", SF_FORMAT_OGG | SF_FORMAT_OPUS, 48000, 2, 0.99, 2000, 2000);
    test_format("mp3_44k.mp3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 44100, 2, 0.99, 2000, 2000);

    test_cut("s16_44k.wav", 0.5);
    test_cut("s16_44k.flac", 0.5);
    test_cut("vorbis_44k.ogg", 0.5);
    test_cut("mp3_44k.mp3", 0.5);
    test_cut("opus_48k.opus", 0.5);
    test_hostile();
    test_resampler();
    free(ref16);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    TEST_DONE();
}
