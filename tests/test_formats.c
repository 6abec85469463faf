/* test_formats.c: the same speech as 44.1 kHz stereo WAV, FLAC and MP3
 * gives the transcript of the 16 kHz mono WAV (≥ 95% of tokens identical),
 * through the real `livecap transcribe` command. */
#include <samplerate.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/audiofile.h"
#include "test.h"

/* All integers inside "tokens": [...] arrays of a JSON document, in order. */
static int read_tokens(const char *cmd, int *out, int max)
{
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, p);
    buf[n] = 0;
    if (pclose(p) != 0) return -1;
    int k = 0;
    for (char *s = buf; (s = strstr(s, "\"tokens\": [")) != NULL;) {
        s += 11;
        while (*s && *s != ']') {
            char *end;
            long v = strtol(s, &end, 10);
            if (end == s) { s++; continue; }
            if (k < max) out[k++] = (int)v;
            s = end;
        }
    }
    return k;
}

static int write_stereo(const char *path, int format, const float *x, long n)
{
    SF_INFO info = { .samplerate = 44100, .channels = 2, .format = format };
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    if (!f) { fprintf(stderr, "%s: %s\n", path, sf_strerror(NULL)); return -1; }
    float *il = malloc(sizeof(float) * 2 * (size_t)n);
    for (long i = 0; i < n; i++) { il[2 * i] = x[i]; il[2 * i + 1] = x[i]; }
    sf_count_t w = sf_writef_float(f, il, n);
    free(il);
    sf_close(f);
    return w == n ? 0 : -1;
}

int main(void)
{
    const char *bin = getenv("LIVECAP") ? getenv("LIVECAP") : "build/livecap";
    char wav[1024], model[1024], dir[] = "/tmp/livecap-fmtXXXXXX", cmd[4096];
    snprintf(wav, sizeof wav, "%s/jfk.wav", fixtures_dir());
    snprintf(model, sizeof model, "%s/micro-en/model-f32.bin", fixtures_dir());
    CHECK(mkdtemp(dir) != NULL);

    float *pcm = NULL;
    size_t n = 0;
    lc_err e;
    CHECKF(audiofile_read(wav, &pcm, &n, &e) == 0, "%s", e.msg);
    long n44 = (long)((double)n * 44100 / 16000) + 16;
    float *up = malloc(sizeof(float) * (size_t)n44);
    SRC_DATA sd = { .data_in = pcm, .input_frames = (long)n, .data_out = up, .output_frames = n44,
                    .src_ratio = 44100.0 / 16000.0 };
    CHECK(src_simple(&sd, SRC_SINC_BEST_QUALITY, 1) == 0);

    static int ref[4096], got[4096];
    snprintf(cmd, sizeof cmd, "%s transcribe --no-fallback -o json -m %s %s", bin, model, wav);
    int nref = read_tokens(cmd, ref, 4096);
    CHECKF(nref > 50, "reference run gave %d tokens", nref);

    struct { const char *name; int format; } fmts[] = {
        { "stereo44k.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16 },
        { "stereo44k.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16 },
        { "stereo44k.mp3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III },
    };
    for (size_t i = 0; i < sizeof fmts / sizeof *fmts; i++) {
        char path[1100];
        snprintf(path, sizeof path, "%s/%s", dir, fmts[i].name);
        CHECKF(write_stereo(path, fmts[i].format, up, sd.output_frames_gen) == 0, "writing %s", path);
        snprintf(cmd, sizeof cmd, "%s transcribe --no-fallback -o json -m %s %s", bin, model, path);
        int ng = read_tokens(cmd, got, 4096);
        int same = 0;
        for (int k = 0; k < nref && k < ng; k++) same += ref[k] == got[k];
        int denom = nref > ng ? nref : ng;
        printf("%s: %d/%d tokens identical (%.1f%%)\n", fmts[i].name, same, denom, 100.0 * same / denom);
        CHECKF(same >= 0.95 * denom, "%s: %d of %d tokens identical", fmts[i].name, same, denom);
        unlink(path);
    }
    rmdir(dir);
    free(up);
    free(pcm);
    TEST_DONE();
}
