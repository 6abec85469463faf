/* fuzz_audio.c: libFuzzer target for audiofile_read (libsndfile decoding,
 * mix-down, libsamplerate resampling, clamping) on arbitrary bytes.
 *
 * The input is the file itself, passed as /proc/self/fd/N of a memfd.
 * Checked: a success gives ≥ 1 sample, every sample finite and in
 * [-1, 1]; a failure gives *pcm NULL, 0 samples and one line in e.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/audiofile.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = fuzz_memfd(data, size, path, sizeof path);
    if (fd < 0) return 0;
    float *pcm = (float *)1;
    size_t n = 12345;
    lc_err e = {{0}};
    int rc = audiofile_read(path, &pcm, &n, &e);
    close(fd);
    if (rc == 0) {
        if (!pcm || n == 0) abort();
        for (size_t i = 0; i < n; i++)
            if (!isfinite(pcm[i]) || pcm[i] < -1.0f || pcm[i] > 1.0f) abort();
        free(pcm);
    } else {
        if (rc != -1 || pcm || n || !e.msg[0] || strchr(e.msg, '\n')) {
            fprintf(stderr, "audiofile_read returned %d with message [%s]\n", rc, e.msg);
            abort();
        }
    }
    return 0;
}
