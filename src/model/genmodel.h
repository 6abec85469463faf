/* genmodel.h: writes random-weight Whisper models in whisper.cpp's ggml file
 * format, so tests and benchmarks run on machines without real weights.
 *
 * The file has exactly the structure whisper.cpp's converter (and, for
 * q*_* ftypes, its quantize tool) writes; see ../shared/fixtures, which were
 * made by it:
 *   uint32 magic 0x67676d6c
 *   int32  n_vocab, n_audio_ctx (1500), n_audio_state, n_audio_head,
 *          n_audio_layer, n_text_ctx (448), n_text_state, n_text_head,
 *          n_text_layer, n_mels, ftype (enum ggml_ftype; +2000 when quantized)
 *   int32  n_mels, 201; float32 filters[n_mels][201]  (the real Slaney mel
 *          filterbank openai-whisper uses, see genmodel_mel_filters)
 *   int32  count; count × { uint32 len; len bytes }   (the text tokens;
 *          50256 for English-only n_vocab 51864, else 50257; the special
 *          tokens are implied by n_vocab, as whisper.cpp's loader expects)
 *   tensors until EOF: int32 n_dims, name_len, ggml_type; int32 ne[n_dims]
 *          (ne[0] contiguous); name; data
 * Tensor order: encoder.positional_embedding, conv1 w/b, conv2 w/b,
 * 15 per encoder block, ln_post w/b, decoder.positional_embedding,
 * token_embedding, 24 per decoder block, decoder.ln w/b:
 * 11 + 15 * n_audio_layer + 24 * n_text_layer tensors.
 * Types: f32 files keep everything F32. f16 files store matrices and conv
 * weights F16, and 1-D tensors, conv biases and positional embeddings F32.
 * Quantized files quantize every 2-D tensor except the conv biases and the
 * positional embeddings; conv weights stay F16 and 1-D tensors F32.
 *
 * Weights: Gaussian, deterministic from the seed (same seed and options →
 * the same bytes), with the magnitudes of the fixtures: matrices and conv
 * kernels N(0, 1/(3·fan_in)) (PyTorch's default init has that variance),
 * layer-norm weights 1 + N(0, 0.2²), token embedding N(0, 1), decoder
 * positional embedding N(0, 4²), biases small. The encoder positional
 * embedding is openai's sinusoids(1500, n_state), computed in float32.
 *
 * Vocabulary: the 256 byte tokens in GPT-2's order, then deterministic
 * synthetic tokens: pseudo-words (some with a leading space, some
 * capitalised), digits, punctuation, multi-byte UTF-8 words (Latin accents,
 * Cyrillic, Greek, CJK) and UTF-8 characters split across two tokens. The
 * text they spell is nonsense by design; all tokens are distinct. With
 * vocab_from, the tokens are copied from an existing ggml model instead.
 *
 * Thread-safety: reentrant; no global state.
 */
#ifndef LC_GENMODEL_H
#define LC_GENMODEL_H

#include <stdint.h>

#include "util/err.h"

#define GENMODEL_N_AUDIO_CTX 1500 /* 30 s of 10-ms mel frames, halved by conv2 */
#define GENMODEL_N_TEXT_CTX  448  /* openai ModelDimensions.n_text_ctx */
#define GENMODEL_N_FFT_BINS  201  /* 1 + N_FFT/2, N_FFT = 400 */

typedef struct lc_genmodel_opts {
    int n_vocab;                     /* ≥ 51864; ≥ 51865 means multilingual */
    int n_audio_state, n_audio_head, n_audio_layer;
    int n_text_state, n_text_head, n_text_layer;
    int n_mels;                      /* 80, or 128 for large-v3 */
    int ftype;                       /* QUANT_FTYPE_* base value (0,1,2,3,7,8,9) */
    uint64_t seed;
    const char *vocab_from;          /* NULL: synthetic vocab; else a ggml model path */
} lc_genmodel_opts;

/* Defaults: the tiny shape, f16, seed 1, synthetic vocabulary. */
void genmodel_opts_init(lc_genmodel_opts *o);

/* Sets the dims of a named shape: tiny, base, small, medium, large (= v2),
 * large-v1, large-v2, large-v3, large-v3-turbo (alias turbo), each of the
 * first five also as NAME.en. Returns 0, or -1 if the name is unknown (o is
 * then untouched). */
int genmodel_set_shape(lc_genmodel_opts *o, const char *name);

/* Comma-separated list of the shape names, for usage messages. */
const char *genmodel_shape_names(void);

/* Number of text tokens stored in the file for this n_vocab (50256 or 50257). */
int genmodel_vocab_count(int n_vocab);

/* Writes the model to `path` (through path.part, renamed at the end, so a
 * failed run leaves no half-written model). Returns 0, or -1 with e->msg
 * naming the file or the option at fault. */
int genmodel_write(const char *path, const lc_genmodel_opts *o, lc_err *e);

/* librosa.filters.mel(sr=16000, n_fft=400, n_mels, htk=False,
 * norm="slaney"), the filterbank openai-whisper ships in mel_filters.npz:
 * out[m * 201 + k], m < n_mels, k < 201. */
void genmodel_mel_filters(int n_mels, float *out);

/* `livecap genmodel [options] OUT.bin`: argv[0] is the word "genmodel".
 * Parses its own options (they are not in lc_config), prints one line on
 * error. Returns the exit status: 0, 1 (write failed) or 2 (usage). */
int genmodel_main(int argc, char **argv);

#endif
