#include "decode/segment.h"

#include <stdlib.h>
#include <string.h>

int transcript_add(lc_transcript *t, double start, double end, const char *text,
                   const int *tokens, int n_tokens, double avg_logprob,
                   double no_speech_prob, double temperature, double compression_ratio)
{
    if (t->n_seg == t->cap_seg) {
        int cap = t->cap_seg ? 2 * t->cap_seg : 16;
        lc_segment *s = realloc(t->seg, (size_t)cap * sizeof *s);
        if (!s) return -1;
        t->seg = s;
        t->cap_seg = cap;
    }
    lc_segment *s = &t->seg[t->n_seg];
    memset(s, 0, sizeof *s);
    s->text = strdup(text ? text : "");
    s->tokens = malloc((size_t)(n_tokens > 0 ? n_tokens : 1) * sizeof(int));
    if (!s->text || !s->tokens) { free(s->text); free(s->tokens); return -1; }
    if (n_tokens > 0) memcpy(s->tokens, tokens, (size_t)n_tokens * sizeof(int));
    s->n_tokens = n_tokens;
    s->start = start; s->end = end;
    s->avg_logprob = avg_logprob; s->no_speech_prob = no_speech_prob;
    s->temperature = temperature; s->compression_ratio = compression_ratio;
    t->n_seg++;
    return 0;
}

void transcript_free(lc_transcript *t)
{
    for (int i = 0; i < t->n_seg; i++) { free(t->seg[i].text); free(t->seg[i].tokens); }
    free(t->seg);
    memset(t, 0, sizeof *t);
}
