/* audiofile.h: audio files in, 16 kHz mono float32 out (SPEC §3), and the
 * streaming resampler the live pipeline uses for capture devices and
 * `--input` files that are not 16 kHz mono.
 *
 * Formats: whatever libsndfile reads (WAV 8/16/24/32-bit integer and float,
 * FLAC, Ogg/Vorbis, Opus, MP3, ...), any sample rate, any channel count.
 * Channels are mixed down to mono by averaging; other rates are resampled
 * with libsamplerate's SRC_SINC_BEST_QUALITY.
 *
 * Exactness: openai-whisper loads audio with ffmpeg as s16le and divides by
 * 32768.0. Files whose samples are 16-bit (or 8-bit) integers are read as
 * shorts and divided by 32768.0f here too, so a 16 kHz mono 16-bit file
 * gives bit-identical samples. Other formats are read as float; every
 * result is clamped to [-1, 1] (as ffmpeg's s16 conversion clips) and
 * NaN becomes 0.
 *
 * Hostile input: a missing, empty, truncated, non-audio, zero-channel or
 * zero-frame file fails with ONE line naming the file, e.g.
 *   "clip.wav: not a readable audio file (File contains data in an unknown format)"
 *   "x.wav: no audio samples"
 * Sizes claimed by headers are never trusted for allocation: the output
 * grows with what is actually decoded. A file cut inside its data yields
 * the samples that are there (as ffmpeg does); a decoding error reported by
 * libsndfile fails.
 *
 * Thread-safety: audiofile_read is reentrant. An lc_resampler belongs to
 * one thread at a time.
 */
#ifndef LC_AUDIOFILE_H
#define LC_AUDIOFILE_H

#include <stddef.h>

#include "util/err.h"

#define AUDIO_RATE 16000 /* Whisper's sample rate (openai-whisper audio.py SAMPLE_RATE) */

/* Reads path into *pcm: 16 kHz mono float32 in [-1, 1], *n_samples of them
 * (malloc'ed; the caller frees). Returns 0, or -1 with *pcm = NULL,
 * *n_samples = 0 and one line in e. */
int audiofile_read(const char *path, float **pcm, size_t *n_samples, lc_err *e);

/* ---- streaming resampler ---------------------------------------------- */

/* Interleaved frames of `channels` channels at in_rate in, 16 kHz mono out,
 * converted chunk by chunk with state carried between calls. At exactly
 * 16 kHz it only mixes down (mono input is copied bit-exactly). All memory
 * is allocated by resampler_new: process and flush never allocate. */
typedef struct lc_resampler lc_resampler;

/* in_rate must be within libsamplerate's ratio range (62.5 Hz .. 4.096 MHz
 * for a 16 kHz output); channels 1..1024. Returns NULL with e filled. */
lc_resampler *resampler_new(double in_rate, int channels, lc_err *e);

/* The most output frames a call with in_frames input frames (or a flush,
 * in_frames = 0) can produce: size out_cap with it. */
size_t resampler_out_max(const lc_resampler *r, size_t in_frames);

/* Converts in_frames interleaved frames; writes *out_written mono samples
 * to out. Returns 0, or -1 when out_cap was too small (use
 * resampler_out_max) or libsamplerate failed; the input of that call is
 * then partly lost. */
int resampler_process(lc_resampler *r, const float *in, size_t in_frames,
                      float *out, size_t out_cap, size_t *out_written);

/* Ends the stream: writes the samples still held in the filter. After it,
 * call resampler_reset before processing a new stream. */
int resampler_flush(lc_resampler *r, float *out, size_t out_cap, size_t *out_written);

/* Forgets all history (a new stream at the same rate and channel count). */
void resampler_reset(lc_resampler *r);

void resampler_free(lc_resampler *r);

#endif
