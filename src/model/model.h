/* model.h: a Whisper model in whisper.cpp's ggml file format, loaded once
 * and shared (read-only) by every stream.
 *
 *   hyper-parameters  lc_hparams      (immutable)
 *   weights           lc_model        (immutable after model_load)
 *   per-stream state  lc_state        (engine/whisper.h; caches, scratch)
 *
 * File layout (whisper.cpp models/convert-pt-to-ggml.py):
 *   u32 magic "ggml" | 11 × i32 hparams | i32 n_mel, i32 n_fft, f32 filters
 *   | i32 n_words, (u32 len, bytes)… | tensors until EOF:
 *   i32 n_dims, i32 name_len, i32 type, i32 ne[n_dims], name, data.
 * ne[0] is the contiguous dimension, so a PyTorch Linear weight [out, in]
 * has ne = (in, out) and is row-major [out][in] in memory.
 *
 * The loader treats every byte as hostile: sizes, counts and offsets are
 * checked before use, and every failure is one line naming the file.
 * Weights of every type (F32, F16, Q8_0, Q5_0, Q5_1, Q4_0, Q4_1) are
 * dequantised to f32 at load time; the decoder may keep compact copies.
 */
#ifndef LC_MODEL_H
#define LC_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include "engine/backend.h"
#include "util/err.h"

typedef struct lc_hparams {
    int n_vocab, n_audio_ctx, n_audio_state, n_audio_head, n_audio_layer;
    int n_text_ctx, n_text_state, n_text_head, n_text_layer, n_mels, ftype;
} lc_hparams;

/* Special token ids, derived as openai-whisper's tokenizer.py derives them
 * from the vocabulary size (see model_vocab_specials in model.c). */
typedef struct lc_specials {
    int eot, sot, lang0, n_langs, translate, transcribe, sot_lm, sot_prev,
        no_speech, no_timestamps, ts_begin;
} lc_specials;

/* One attention sub-block: pre-LN, projections (the key has no bias). */
typedef struct lc_attn_w {
    const float *ln_w, *ln_b;        /* [n_state] */
    lc_mat q, k, v, o;               /* [n_state, n_state] */
    const float *q_b, *v_b, *o_b;    /* [n_state] */
} lc_attn_w;

/* One MLP sub-block: pre-LN, fc1 [4 n_state, n_state], GELU, fc2 [n_state, 4 n_state]. */
typedef struct lc_mlp_w {
    const float *ln_w, *ln_b;
    lc_mat fc1, fc2;
    const float *fc1_b, *fc2_b;
} lc_mlp_w;

typedef struct lc_enc_layer { lc_attn_w attn; lc_mlp_w mlp; } lc_enc_layer;
typedef struct lc_dec_layer { lc_attn_w attn, cross; lc_mlp_w mlp; } lc_dec_layer;

/* A compact copy of a decoder matrix [rows, cols], row-major: IEEE half
 * (w), or int8 with one f32 scale per block of LC_Q8_BLOCK weights of a row
 * (q, scale: w[r][k] ≈ q[r][k] · scale[(r·cols + k) / LC_Q8_BLOCK]), as
 * ggml's Q8_0 groups them. */
#define LC_Q8_BLOCK 32
/* The int8 logits matrix also keeps the rounding residual, in units of
 * scale/LC_Q8_LO: w ≈ scale · (q + lo / LC_Q8_LO), |error| ≤ scale/(2·LC_Q8_LO).
 * Decoding reads only q per token and rescores with q + lo the few tokens
 * whose bound says they could be the best (whisper.h, whisper_logits_refine).
 * It also has a 4-bit proxy, read per token instead of q where the CPU runs
 * it fast (vecmath.h): w ≈ s4 · (n − 8), s4 = f16(max|w| / 7) per block of
 * 32, n packed two per byte (vm_gemv_q4's layout); and per row the error
 * norm e4[r] = ‖w[r] − s4·(n − 8)‖₂ and the proxy's own norm w4[r] =
 * ‖s4·(n − 8)‖₂, from which whisper.c sizes its margin. */
#define LC_Q8_LO 254.0f
#define LC_Q4_MAX 7.0f
typedef struct lc_mat16 {
    const uint16_t *w;
    const int8_t *q;
    const float *scale;
    const int8_t *lo;      /* int8 logits only: the residual; NULL elsewhere */
    int rows, cols;
    const uint8_t *q4;     /* int8 logits only: the 4-bit proxy [rows, cols/2] */
    const uint16_t *s4;    /* its f16 scales [rows, cols/32] */
    const float *e4;       /* its error norms [rows] */
    const float *w4;       /* its norms [rows] */
} lc_mat16;

/* LC_COMPACT_INT8_Q4: int8, and the logits' 4-bit proxy (m->compact then
 * says LC_COMPACT_INT8; tok16.q4 is set) */
enum lc_compact { LC_COMPACT_F16 = 1, LC_COMPACT_INT8 = 2, LC_COMPACT_INT8_Q4 = 3 };

/* Compact copies of what the decoder reads for every token. */
typedef struct lc_dec16 { lc_mat16 q, k, v, o, cq, co, mlp0, mlp2; } lc_dec16;

typedef struct lc_vocab_entry { const char *bytes; int len; } lc_vocab_entry;

typedef struct lc_model {
    char path[1024];
    lc_hparams hp;
    lc_specials sp;
    int multilingual;
    const char *type;           /* "tiny", "base", … from n_audio_layer/state */
    const char *ftype_name;     /* "f32", "f16", "q8_0", … */

    const float *mel_filters;   /* [n_mels, 201] */

    /* vocabulary: n_vocab entries; specials get their "<|…|>" names */
    lc_vocab_entry *vocab;
    char *vocab_bytes;

    /* encoder */
    lc_mat conv1;               /* [n_state, n_mels*3] (PyTorch [out][in][k]) */
    lc_mat conv2;               /* [n_state, n_state*3] */
    const float *conv1_b, *conv2_b;
    const float *enc_pos;       /* [n_audio_ctx, n_state] */
    lc_enc_layer *enc;
    const float *ln_post_w, *ln_post_b;

    /* decoder */
    lc_mat tok_emb;             /* [n_vocab, n_text_state]; also the logits matrix.
                                   .w is NULL after model_compact (tok16 has it) */
    const float *dec_pos;       /* [n_text_ctx, n_text_state] */
    lc_dec_layer *dec;
    const float *dec_ln_w, *dec_ln_b;

    /* compact decoder weights (model_compact); NULL = f32 decoding */
    lc_dec16 *dec16;
    lc_mat16 tok16;
    void *arena16;
    int compact;                /* 0 (f32), LC_COMPACT_F16 or LC_COMPACT_INT8 */

    float *arena;               /* every tensor, dequantised to f32 */
    size_t arena_floats;
    size_t file_bytes;
} lc_model;

/* Loads path. Returns NULL and fills e with "PATH: what is wrong" on error. */
lc_model *model_load(const char *path, lc_err *e);
/* Same from memory (fuzzing); `name` is used in error messages. */
lc_model *model_load_mem(const unsigned char *buf, size_t len, const char *name, lc_err *e);
void model_free(lc_model *m);

/* Keeps compact copies of the weights the decoder reads for every token
 * (the blocks and the logits matrix): f16 halves the bytes per token and is
 * lossless for F16 files; int8 with per-row scales quarters them. Without
 * it (f32 files by default, --precise) the decoder reads f32. */
int model_compact(lc_model *m, int kind, lc_err *e);
/* 1 if the decoder weights should be compacted by default (non-f32 file). */
int model_prefers_compact(const lc_model *m);
/* Gives the f32 pages of w back to the system and clears w->w, once a
 * device holds the only copy anything reads (the logits matrix after
 * model_compact; an encoder weight after the CPU packed it for AMX). */
void model_release_f32(lc_mat *w);

/* Language code ("en") of language token index i (0-based), NULL if out of range. */
const char *model_lang_code(int i);
/* Index of a language code among openai-whisper's LANGUAGES, or -1. */
int model_lang_index(const char *code);
/* Number of weight floats (for bandwidth figures) in decoder-per-token reads. */
size_t model_decoder_weight_floats(const lc_model *m);
/* The same in bytes as the decoder reads them (f16 when compacted). */
size_t model_decoder_weight_bytes(const lc_model *m, int logits_q4);

#endif
