/* decode.h: decoding of one 30-s window, making the same decisions as
 * openai-whisper's decoding.py DecodingTask: SOT sequence and prompt,
 * SuppressBlank, the default suppression set, ApplyTimestampRules, greedy
 * or sampled decoding (GreedyDecoder), beam search (BeamSearchDecoder with
 * patience), MaximumLikelihoodRanker, avg_logprob, no_speech_prob and the
 * gzip compression ratio.
 *
 * An lc_decoder owns one stream's lc_state plus every buffer the search
 * needs; all allocation happens in decoder_create(). Not thread-safe.
 */
#ifndef LC_DECODE_H
#define LC_DECODE_H

#include <stdint.h>
#include "decode/tokenizer.h"
#include "engine/whisper.h"

#define DECODE_MAX_GROUP 16   /* beams or best_of samples */

typedef struct lc_decode_opts {
    int lang;                 /* language index (model_lang_code), -1 = none */
    int translate;            /* task: translate instead of transcribe */
    double temperature;
    int beam_size;            /* 0 or 1 = greedy / sampling */
    int best_of;              /* samples when temperature > 0 */
    double patience;          /* beam search; ≤ 0 means 1.0 */
    double length_penalty;    /* < 0: None (rank by logprob / length) */
    const int *prompt;        /* previous text tokens; the last n_ctx/2−1 are used */
    int n_prompt;
    int without_timestamps;
    int sample_len;           /* 0 = n_text_ctx / 2 */
    double max_initial_timestamp; /* seconds (openai default 1.0) */
    int max_tokens;           /* extra cap on sampled tokens (live); 0 = none */
    uint64_t *rng;            /* sampling state (temperature > 0) */
} lc_decode_opts;

typedef struct lc_decode_result {
    int *tokens;              /* sampled tokens, no SOT/EOT; points into the decoder */
    int n_tokens;
    double avg_logprob, no_speech_prob, temperature, compression_ratio;
    double sum_logprob;
} lc_decode_result;

typedef struct lc_decoder lc_decoder;

lc_decoder *decoder_create(const lc_model *m, const lc_tokenizer *tok, lc_backend *b,
                           int max_group, lc_err *e);
void decoder_free(lc_decoder *d);
lc_state *decoder_state(lc_decoder *d);

/* Decodes the window last encoded into decoder_state(d) (whisper_encode).
 * The result's tokens stay valid until the next call. */
int decode_window(lc_decoder *d, const lc_decode_opts *o, lc_decode_result *r, lc_err *e);

/* Language detection as whisper.detect_language: logits of <|sot|> over the
 * window last encoded, restricted to language tokens, softmaxed. Writes
 * n_langs probabilities; returns the most likely language index. */
int decode_detect_language(lc_decoder *d, double *probs, lc_err *e);

/* openai-whisper utils.compression_ratio: len(utf8) / len(zlib.compress). */
double decode_compression_ratio(const char *text);

#endif
