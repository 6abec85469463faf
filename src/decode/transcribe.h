/* transcribe.h: offline transcription of a whole signal, making the same
 * decisions as openai-whisper's transcribe(): whole-file log-mel (one
 * global max clamp), language detection on the first window, seek and
 * segment logic, temperature fallback, the no-speech skip, and
 * condition_on_previous_text with prompt resets.
 */
#ifndef LC_TRANSCRIBE_H
#define LC_TRANSCRIBE_H

#include <stdint.h>
#include "decode/decode.h"
#include "decode/segment.h"
#include "mel/mel.h"

typedef struct lc_transcribe_opts {
    int lang;                       /* language index; -1 = detect (multilingual) */
    int translate;
    int beam_size, best_of;
    double patience, length_penalty;
    const double *temperatures;     /* fallback schedule, e.g. 0, 0.2, …, 1.0 */
    int n_temperatures;
    double compression_ratio_threshold; /* NAN = None */
    double logprob_threshold;           /* NAN = None */
    double no_speech_threshold;         /* NAN = None */
    int condition_on_previous_text;
    const char *initial_prompt;     /* NULL = none */
    uint64_t seed;                  /* sampling at temperature > 0 */
} lc_transcribe_opts;

/* Progress and dumps for the first window (--dump); any may be NULL. */
typedef struct lc_transcribe_hooks {
    void (*first_window)(void *ctx, const float *mel /* [3000, n_mels] */, const lc_state *st);
    void *ctx;
} lc_transcribe_hooks;

/* Fills out (segments, language, timing.mel/encode/decode). The language
 * probabilities of detection are written to lang_probs (n_langs) if non-NULL. */
int transcribe_run(lc_decoder *d, lc_mel *mel, const lc_tokenizer *tok, const float *pcm, long n,
                   const lc_transcribe_opts *o, const lc_transcribe_hooks *hooks,
                   lc_transcript *out, double *lang_probs, lc_err *e);

/* Runs the encoder on the 3000 frames starting at frame f0 of a
 * frame-major mel with nf frames, zero-padding past its end (pad_or_trim). */
int transcribe_encode_at(lc_decoder *d, const float *mel, long nf, long f0, long size, float *window,
                         lc_err *e);

#endif
