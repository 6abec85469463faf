/* writers.h: transcript output formats (SPEC §1 `-o txt|srt|vtt|json`,
 * `--save`; SPEC §2 for json).
 *
 * txt, srt and vtt follow openai-whisper's utils.py writers:
 *   txt  each segment's text, whitespace-stripped (Python str.strip()), one
 *        per line.
 *   srt  cues numbered from 1: "N\nhh:mm:ss,mmm --> hh:mm:ss,mmm\ntext\n\n".
 *   vtt  "WEBVTT\n\n", then "hh:mm:ss.mmm --> hh:mm:ss.mmm\ntext\n\n".
 *        Unlike openai (which drops the hours when they are 0), hours are
 *        always written: simpler, and valid WebVTT either way.
 * Cue text is stripped like txt, and "-->" becomes "->" so a cue line can
 * never look like a timing line. Two deliberate differences from openai keep
 * every cue parseable: a longer dash run before '>' ("--->") also becomes
 * "->" (openai would leave "-->"), and runs of line breaks inside the text
 * collapse to one '\n' (a blank line would end the cue).
 * Times are rounded to the millisecond as openai does (round(s * 1000),
 * half to even); negative times print as 0.
 *
 * json is the SPEC §2 object: model, language, segments (start, end, text,
 * tokens, avg_logprob, no_speech_prob, temperature) and timing. start/end
 * are printed to the millisecond, rounded like the srt/vtt times (so all
 * formats agree); timing values with 3 decimals; the others with the fewest
 * digits that read back exactly. Strings go through util/json.h, so the
 * output is valid JSON even if a segment's text is not valid UTF-8.
 *
 * Ownership: the writers only read their arguments. Thread-safety: no shared
 * state; one FILE* must not be written by two threads at once.
 * Return values: 0, or -1 when the stream reports a write error (checked
 * with ferror) or the format is unknown (writers_write fills e).
 */
#ifndef LC_WRITERS_H
#define LC_WRITERS_H

#include <stdio.h>

#include "decode/segment.h"
#include "util/err.h"

/* What the json writer says about the model (SPEC §2 "model"). Strings may
 * be NULL (written as null). */
typedef struct lc_model_info {
    const char *path;   /* as given with -m */
    const char *type;   /* "tiny", "base", ..., "large-v3" */
    const char *ftype;  /* "f32", "f16", "q8_0", ... */
    int multilingual;   /* 0 or 1 */
    int n_mels, n_vocab;
} lc_model_info;

/* Writes the whole transcript t to f in `format` ("txt", "srt", "vtt" or
 * "json"). mi is used by json only and may be NULL (written as null). */
int writers_write(FILE *f, const char *format, const lc_transcript *t,
                  const lc_model_info *mi, lc_err *e);

/* The format a `--save PATH` means, from its extension (SPEC §1): "txt",
 * "srt", "vtt", "jsonl", or NULL when the extension is none of them. */
const char *writers_format_for_path(const char *path);

/* Per-segment pieces, for the live pipeline, which appends finals one at a
 * time. They produce exactly the bytes writers_write does. */
int writers_txt_line(FILE *f, const char *text);
int writers_srt_cue(FILE *f, int index /* 1-based */, double t0, double t1, const char *text);
int writers_vtt_header(FILE *f);
int writers_vtt_cue(FILE *f, double t0, double t1, const char *text);

/* "hh:mm:ss,mmm" (sep ',', srt) or "hh:mm:ss.mmm" (sep '.', vtt and the
 * headless prefix of SPEC §1). Hours grow past 2 digits when needed (and
 * stop at 99999, which fits out[16]). */
#define WRITERS_TS_LEN 16
void writers_format_ts(double seconds, char sep, char out[WRITERS_TS_LEN]);

#endif
