/* policy.h: the streaming commit policy: which words of the live decoder's
 * hypotheses become finals (committed, never revised) and which stay a
 * partial (tentative). LocalAgreement-2, as in whisper_streaming (Macháček,
 * Dabre, Bojar: "Turning Whisper into Real-Time Transcription System", 2023):
 * a word is committed once two consecutive hypotheses agree on it.
 *
 * The pipeline decodes a growing audio buffer (≤ 30 s) every step and feeds
 * each hypothesis to policy_update(). Word times are absolute: seconds of
 * audio since capture started (the caller adds the buffer's start offset).
 *
 * What policy_update() does with a hypothesis, in order:
 *  1. Drops the leading words that start before committed_until - 0.1 s:
 *     they lie in audio whose words are already committed (the buffer was
 *     not trimmed yet, or Whisper re-emitted them).
 *  2. Drops an n-gram overlap: when the (remaining) hypothesis starts within
 *     1 s of committed_until and its first k words (k = 5 down to 1, the
 *     longest match wins) equal the last k committed words, those k are
 *     dropped. This catches committed words that Whisper re-emits, shifted
 *     in time, after the buffer was trimmed.
 *  3. Commits the longest common prefix of this hypothesis and the previous
 *     one's tentative tail. Words compare by normalized text: ASCII letters
 *     case-folded, ASCII punctuation and spaces ignored, other bytes (UTF-8)
 *     compared as they are. The committed text and times are the newest
 *     hypothesis's (it had more right context).
 *  4. Keeps the rest as the tentative tail (the partial, and the reference
 *     the next hypothesis is compared with).
 * Steps 1-2 are whisper_streaming's HypothesisBuffer.insert. Known limit:
 * if the decoder gives a committed word an end time far too late, step 1 may
 * drop a genuinely new word that starts before that time; and a real
 * repetition ("go go") straddling a commit can be taken for a re-emission.
 *
 * Guarantees: finals never overlap (a final's t0 is clamped to ≥ the previous
 * final's t1), are never revised, and contain each word once; after
 * policy_flush() nothing tentative is left behind. Concatenating the finals'
 * text gives the transcript.
 *
 * Capacities (allocation happens only in policy_create): a hypothesis holds
 * at most POLICY_MAX_WORDS words (extra words at its end are ignored), a
 * word's text at most 63 bytes (longer text is cut at a UTF-8 boundary), a
 * final's text at most 2047 bytes. When the words to commit do not all fit
 * in one lc_final, the ones that do not fit stay tentative: policy_update
 * commits them on a later call, and policy_flush() commits them when called
 * again, so call policy_flush() until it returns 0.
 *
 * Use, in the pipeline thread:
 *   each step:      if (policy_update(p, words, n, &f) > 0) emit_final(&f);
 *                   policy_partial(p, &f) → emit_partial(&f) (text may be "");
 *                   trim the audio buffer to policy_committed_until(p) when
 *                   it grows long; prompt the decoder with policy_prompt(p).
 *   speech end/EOF: while (policy_flush(p, &f) > 0) emit_final(&f);
 *
 * Ownership and threads: an lc_policy belongs to the one pipeline thread that
 * calls it; no call is thread-safe. Results are copied into caller-owned
 * lc_final structs; policy_prompt()'s string is valid until the next call
 * that changes the policy.
 */
#ifndef LC_POLICY_H
#define LC_POLICY_H

#define POLICY_MAX_WORDS 1024   /* ~30 s of speech is ~100 words: ample */
#define POLICY_PROMPT_CHARS 200 /* recent committed text given as prompt */

/* One word of a hypothesis. text carries its leading space as Whisper emits
 * it, e.g. " hello". */
typedef struct lc_word {
    double t0, t1;
    char text[64];
} lc_word;

/* A final (or a partial): t0 of its first word, t1 of its last, the text of
 * its words concatenated, and how many words it holds. */
typedef struct lc_final {
    double t0, t1;
    char text[2048];
    int n_words;
} lc_final;

typedef struct lc_policy lc_policy;

/* Returns NULL when out of memory. */
lc_policy *policy_create(void);

/* Feeds the hypothesis for the current buffer (hyp[0..n), times absolute,
 * in order). Returns the number of newly committed words; when > 0,
 * *out_final holds them as one final segment that the caller emits. When 0,
 * out_final->n_words is 0 and its text is "". Never allocates. */
int policy_update(lc_policy *p, const lc_word *hyp, int n, lc_final *out_final);

/* The tentative tail (uncommitted words of the latest hypothesis) as a
 * partial. Returns its number of words (0: empty text). The text is cut at a
 * word boundary if it would not fit. */
int policy_partial(const lc_policy *p, lc_final *out_partial);

/* End of speech (VAD) or end of stream: commits the whole tentative tail.
 * Returns the number of words committed (0 when nothing was tentative).
 * Call it again until it returns 0 (see Capacities). The next hypothesis is
 * compared with nothing: new speech starts fresh. */
int policy_flush(lc_policy *p, lc_final *out_final);

/* End time of the last committed word (0 before any commit): the pipeline
 * trims its audio buffer here, so the window never exceeds 30 s. */
double policy_committed_until(const lc_policy *p);

/* The recent committed text (at most POLICY_PROMPT_CHARS bytes, starting at
 * a word boundary, so with its leading space), for the decoder prompt. ""
 * before any commit. */
const char *policy_prompt(const lc_policy *p);

/* Forgets everything: a new stream whose times start again at 0. */
void policy_reset(lc_policy *p);
void policy_free(lc_policy *p);

#endif
