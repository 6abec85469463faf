/* mel.h: openai-whisper's log_mel_spectrogram (audio.py), frame by frame.
 *
 * STFT: N_FFT 400 (25 ms), HOP 160 (10 ms), periodic Hann window, centred
 * frames with reflect padding at both ends of the signal; power spectrum;
 * the model file's mel filterbank [n_mels, 201]; log10 floored at 1e-10.
 * Then, per window or per file: max(x, max − 8), (x + 4) / 4.
 *
 * The power+filterbank step runs through the backend (CPU or NPU).
 * Layout of outputs: frame-major [n_frames, n_mels] (the encoder's input);
 * mel_to_channel_major() gives openai's [n_mels, n_frames].
 *
 * An lc_mel holds one stream's scratch; not thread-safe, no allocation
 * after mel_create().
 */
#ifndef LC_MEL_H
#define LC_MEL_H

#include <stddef.h>
#include "engine/backend.h"

#define MEL_N_FFT 400
#define MEL_HOP 160
#define MEL_SAMPLE_RATE 16000
#define MEL_N_SAMPLES 480000     /* 30 s chunk, openai-whisper audio.py */
#define MEL_N_FRAMES 3000        /* N_SAMPLES / HOP */

typedef struct lc_mel lc_mel;

lc_mel *mel_create(const float *filters, int n_mels, lc_backend *b, lc_err *e);
void mel_free(lc_mel *m);

/* Raw log10 mel of frames [f0, f0+nf) of the signal x[0..n): frame t is
 * centred on sample t·HOP; samples outside [0, n) are reflected. */
int mel_log10(lc_mel *m, const float *x, long n, long f0, long nf, float *out, lc_err *e);

/* Largest value of a log10 mel block. */
float mel_max(const float *v, size_t count);
/* In place: max(v, vmax − 8), then (v + 4) / 4. */
void mel_normalize(float *v, size_t count, float vmax);

/* openai's whole-file log_mel_spectrogram(audio, padding=N_SAMPLES):
 * pads with 30 s of zeros, returns malloc'ed [*n_frames, n_mels] with the
 * global max clamp applied. *n_frames = (n + N_SAMPLES) / HOP. */
float *mel_file(lc_mel *m, const float *x, long n, long *n_frames, lc_err *e);

/* [nf, n_mels] → [n_mels, nf]. */
void mel_to_channel_major(const float *in, long nf, int n_mels, float *out);

#endif
