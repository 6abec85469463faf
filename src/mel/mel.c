#include "mel/mel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/vecmath.h"

#define N_BINS (MEL_N_FFT / 2 + 1)
#define BATCH 512 /* frames per backend call: bounds the scratch size */

struct lc_mel {
    const float *filters;  /* [n_mels, 201] */
    int n_mels;
    lc_backend *b;
    float window[MEL_N_FFT];
    float *frames;         /* [BATCH, N_FFT] windowed */
};

lc_mel *mel_create(const float *filters, int n_mels, lc_backend *b, lc_err *e)
{
    lc_mel *m = calloc(1, sizeof *m);
    if (m) m->frames = malloc(sizeof(float) * BATCH * MEL_N_FFT);
    if (!m || !m->frames) { mel_free(m); lc_fail(e, "mel: out of memory"); return NULL; }
    m->filters = filters;
    m->n_mels = n_mels;
    m->b = b;
    /* torch.hann_window(400), periodic: 0.5 − 0.5 cos(2πi/N). */
    for (int i = 0; i < MEL_N_FFT; i++)
        m->window[i] = (float)(0.5 - 0.5 * cos(2.0 * M_PI * i / MEL_N_FFT));
    return m;
}

void mel_free(lc_mel *m)
{
    if (!m) return;
    free(m->frames);
    free(m);
}

/* torch.stft(center=True, pad_mode="reflect"): index −k maps to k and
 * n−1+k to n−1−k. A signal shorter than the pad reflects repeatedly. */
static inline float sample_reflect(const float *x, long n, long i)
{
    if (n == 1) return x[0];
    long period = 2 * (n - 1);
    i %= period;
    if (i < 0) i += period;
    return x[i < n ? i : period - i];
}

int mel_log10(lc_mel *m, const float *x, long n, long f0, long nf, float *out, lc_err *e)
{
    if (n <= 0) return lc_fail(e, "mel: empty signal");
    for (long b0 = 0; b0 < nf; b0 += BATCH) {
        long nb = nf - b0 < BATCH ? nf - b0 : BATCH;
        for (long j = 0; j < nb; j++) {
            long start = (f0 + b0 + j) * MEL_HOP - MEL_N_FFT / 2;
            float *fr = m->frames + j * MEL_N_FFT;
            if (start >= 0 && start + MEL_N_FFT <= n) {
                for (int k = 0; k < MEL_N_FFT; k++) fr[k] = x[start + k] * m->window[k];
            } else {
                for (int k = 0; k < MEL_N_FFT; k++) fr[k] = sample_reflect(x, n, start + k) * m->window[k];
            }
        }
        float *o = out + b0 * m->n_mels;
        if (backend_mel_power(m->b, (int)nb, m->frames, m->n_mels, m->filters, o, e)) return -1;
        vm_log10(o, (size_t)(nb * m->n_mels), 1e-10f); /* log10(clamp(mel_spec, min=1e-10)) */
    }
    return 0;
}

float mel_max(const float *v, size_t count)
{
    float mx = -INFINITY;
    for (size_t i = 0; i < count; i += 1 << 30) { /* vm_max takes an int count */
        const float b = vm_max(v + i, (int)(count - i < (1u << 30) ? count - i : 1u << 30));
        mx = b > mx ? b : mx;
    }
    return mx;
}

void mel_normalize(float *v, size_t count, float vmax)
{
    const float lo = vmax - 8.0f;
    for (size_t i = 0; i < count; i++) v[i] = ((v[i] > lo ? v[i] : lo) + 4.0f) / 4.0f;
}

float *mel_file(lc_mel *m, const float *x, long n, long *n_frames, lc_err *e)
{
    long np = n + MEL_N_SAMPLES;
    float *padded = calloc((size_t)np, sizeof(float));
    long nf = np / MEL_HOP; /* stft gives 1 + np/HOP frames; openai drops the last */
    float *out = malloc((size_t)nf * m->n_mels * sizeof(float));
    if (!padded || !out) { free(padded); free(out); lc_fail(e, "mel: out of memory"); return NULL; }
    if (n > 0) memcpy(padded, x, (size_t)n * sizeof(float));
    if (mel_log10(m, padded, np, 0, nf, out, e)) { free(padded); free(out); return NULL; }
    free(padded);
    size_t count = (size_t)nf * m->n_mels;
    mel_normalize(out, count, mel_max(out, count));
    *n_frames = nf;
    return out;
}

void mel_to_channel_major(const float *in, long nf, int n_mels, float *out)
{
    for (long t = 0; t < nf; t++)
        for (int c = 0; c < n_mels; c++) out[(size_t)c * nf + t] = in[(size_t)t * n_mels + c];
}
