/* tokenizer.h: Whisper's byte-level BPE, as openai-whisper's tokenizer.py
 * (tiktoken) encodes and decodes it, over the vocabulary in the model file.
 *
 * Ranks are token ids (the ggml vocabulary is stored in rank order), so
 * encoding merges the adjacent pair whose concatenation has the lowest id,
 * as tiktoken's byte_pair_merge does, after GPT-2's pre-tokenizer regex.
 * Decoding concatenates token bytes and decodes UTF-8 the way Python's
 * bytes.decode("utf-8", errors="replace") does, so a character split across
 * tokens comes out whole and invalid bytes become U+FFFD.
 *
 * Read-only after tokenizer_create(); safe to share between threads.
 */
#ifndef LC_TOKENIZER_H
#define LC_TOKENIZER_H

#include <stddef.h>
#include "model/model.h"

typedef struct lc_tokenizer lc_tokenizer;

lc_tokenizer *tokenizer_create(const lc_model *m, lc_err *e);
void tokenizer_free(lc_tokenizer *t);

/* Encodes UTF-8 text (no special tokens). Returns the token count (which
 * may exceed max; only max are written), or -1 on bad input. */
int tokenizer_encode(const lc_tokenizer *t, const char *text, int *out, int max);

/* Decodes tokens with id < below (openai: text tokens are < eot for segment
 * text, < timestamp_begin for tokenizer.decode) into a malloc'ed UTF-8
 * string. Returns NULL on allocation failure. */
char *tokenizer_decode(const lc_tokenizer *t, const int *tok, int n, int below);

/* Python bytes.decode("utf-8", "replace") of n bytes into out (capacity ≥
 * 3n+1); returns the output length. */
size_t utf8_decode_replace(const unsigned char *in, size_t n, char *out);

/* Length in bytes of the whitespace character at s as Python's
 * str.isspace() sees it (ASCII \t\n\v\f\r, space, \x1c–\x1f, U+0085,
 * U+00A0, U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F, U+3000),
 * or 0. Used for Python's strip() and "text.strip() == ''". */
int utf8_space_len(const char *s);
/* Python str.strip(): *start points past the leading whitespace of s; the
 * return value is the length of what remains without the trailing one. */
size_t utf8_strip(const char *s, const char **start);

/* openai-whisper tokenizer.non_speech_tokens (+ the specials that
 * DecodingTask._get_suppress_tokens adds). Returns the count; ids sorted. */
int tokenizer_suppress_tokens(const lc_tokenizer *t, int *out, int max);

/* The ids of encode(" ") that SuppressBlank suppresses at the first step. */
int tokenizer_blank_tokens(const lc_tokenizer *t, int *out, int max);

#endif
