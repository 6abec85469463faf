/* segment.h: one transcribed segment, as openai-whisper's transcribe()
 * reports it, and the whole result of an offline transcription.
 * Owned by whoever built it; free with transcript_free(). */
#ifndef LC_SEGMENT_H
#define LC_SEGMENT_H

typedef struct lc_segment {
    double start, end;      /* seconds */
    char *text;             /* UTF-8, openai's decode of the text tokens */
    int *tokens;            /* text tokens + opening/closing timestamp tokens */
    int n_tokens;
    double avg_logprob, no_speech_prob, temperature, compression_ratio;
} lc_segment;

typedef struct lc_timing {
    double audio_s, load_ms, mel_ms, encode_ms, decode_ms, total_ms;
} lc_timing;

typedef struct lc_transcript {
    lc_segment *seg;
    int n_seg, cap_seg;
    char language[16];      /* detected or given, e.g. "en" */
    lc_timing timing;
} lc_transcript;

/* Appends a copy of text/tokens; returns 0, or -1 on allocation failure. */
int  transcript_add(lc_transcript *t, double start, double end, const char *text,
                    const int *tokens, int n_tokens, double avg_logprob,
                    double no_speech_prob, double temperature, double compression_ratio);
void transcript_free(lc_transcript *t);

#endif
