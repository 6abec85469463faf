/* vad.h: energy-based voice activity detection for the live pipeline, on
 * 16 kHz mono float samples (full scale ±1), in 10-ms frames.
 *
 * Per frame (160 samples; any chunk size may be fed, partial frames are
 * kept for the next call):
 *  - level: RMS in dBFS of the raw frame (0 dBFS = RMS of a ±1 square wave,
 *    so a full-scale sine reads -3 dB; digital silence reads -100 dB).
 *  - energy: the same after a one-pole high-pass (~50 Hz, below voice
 *    fundamentals), so a DC offset does not count and rumble counts less,
 *    averaged over the last 3 frames (30 ms), which steadies narrowband noise.
 *  - noise floor: the minimum energy over the last ~1.6 s (minimum
 *    statistics, as in R. Martin's noise PSD tracker: 8 sub-windows of
 *    200 ms). Speech has gaps between syllables and words, so the minimum
 *    stays near the background; stationary noise has none, so the floor
 *    rises to it within 1.6 s. The first frame initialises the floor, so a
 *    stream that starts in steady noise is silence from the start.
 *  - a frame is active when its energy is above BOTH the absolute minimum
 *    VAD_MIN_LEVEL_DB (-60 dBFS: quieter is always silence) AND floor +
 *    threshold_db.
 *  - speech starts after VAD_START_FRAMES (3, i.e. 30 ms: clicks are shorter)
 *    consecutive active frames whose zero-crossing rate is below 0.35 per
 *    sample, each frame also above the floor + threshold on its own.
 *    Voiced speech crosses zero far less often (its energy sits in
 *    F0/F1, below 1 kHz: rate ≈ 0.02-0.15); white noise crosses at ≈ 0.5,
 *    so hiss and wideband noise bursts never start speech.
 *  - speech ends after hangover_ms of consecutive inactive frames (any
 *    active frame, fricatives included, keeps it going).
 *
 * What various inputs do:
 *  - digital silence, or anything below -60 dBFS: never speech.
 *  - steady noise from the start: never speech. Steady noise that starts in
 *    the middle: wideband (white) noise is rejected by the zero-crossing
 *    test; coloured noise (fan-like, lowpass ~250 Hz) is taken for speech
 *    until the floor catches up (≤ 1.6 s) plus the hangover.
 *  - deep rumble (noise lowpassed at ~50 Hz) has so few degrees of freedom
 *    that its energy swings by more than 6 dB: in the tests, -40 dBFS of it
 *    was speech ~16-20% of the time. An energy VAD cannot do better; the
 *    decoder's no-speech probability is the next line of defence.
 *  - a loud white noise burst (e.g. -10 dBFS) in silence: no speech. The
 *    same burst during speech prolongs it by up to 1.6 s + hangover. A loud
 *    burst of coloured noise is speech for its length + the hangover.
 *  - speech onset (voiced) is reported 30 ms after it starts. Unvoiced
 *    onsets ("s", "sh") are reported at the following vowel, so the
 *    pipeline should keep ~300 ms of audio before vad_speech_start().
 *
 * Threshold: 6 dB (the config's vad_threshold) works because the floor is a
 * minimum: 10-ms frames of steady noise spread only ~±1.5 dB around their
 * mean, while speech peaks are 15-30 dB above the background at a normal
 * microphone distance. Raise it in fluctuating noise (cafés, fans with
 * beats) at the cost of missing quiet speakers.
 *
 * Memory: everything is allocated in vad_create(); vad_process() never
 * allocates. Threads: an lc_vad belongs to one thread (the pipeline); none
 * of the calls are thread-safe, so publish vad_level_db() to the UI through
 * the pipeline's stats snapshot.
 */
#ifndef LC_VAD_H
#define LC_VAD_H

#include <stddef.h>
#include <stdint.h>

#define VAD_RATE 16000        /* Whisper's sample rate */
#define VAD_FRAME 160         /* 10 ms at 16 kHz */
#define VAD_MIN_LEVEL_DB -60.0

/* Event flags returned by vad_process(). */
#define LC_VAD_SPEECH_START 1
#define LC_VAD_SPEECH_END   2

typedef struct lc_vad lc_vad;

/* threshold_db: dB above the noise floor (the config's vad_threshold,
 * default 6); values ≤ 0 mean 6. hangover_ms: silence that ends speech
 * (vad_hangover_ms, default 800); it is rounded up to whole frames and at
 * least one frame. Returns NULL when out of memory. */
lc_vad *vad_create(double threshold_db, int hangover_ms);

/* Feeds n samples. Returns the events that occurred in them (an OR of the
 * flags; 0 if none). When several occurred in one call, vad_is_speech() is
 * the state after the last one, and vad_speech_start()/vad_speech_end() tell
 * where the last ones were. Never allocates. */
int vad_process(lc_vad *v, const float *x, size_t n);

int vad_is_speech(const lc_vad *v);
/* dBFS RMS of the last whole frame (-100 for silence or before any). */
double vad_level_db(const lc_vad *v);
/* The current noise floor estimate, dB (for a UI meter or a debug line). */
double vad_floor_db(const lc_vad *v);
/* Sample index (since create/reset) of the first frame of the last speech
 * start, and of the first silent frame of the last speech end (before the
 * hangover); -1 if none yet. */
int64_t vad_speech_start(const lc_vad *v);
int64_t vad_speech_end(const lc_vad *v);
/* Sample index just past the frame in which the last speech end was
 * decided (the end of its hangover), -1 if none yet. A function of the
 * samples alone, however they were chunked: the live pipeline closes its
 * window there so that the same audio gives the same windows. */
int64_t vad_end_decided(const lc_vad *v);
/* Fraction of processed frames that were in speech (0 before any). */
double vad_speech_ratio(const lc_vad *v);

void vad_reset(lc_vad *v);
void vad_free(lc_vad *v);

#endif
