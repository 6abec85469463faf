/* policy.c: LocalAgreement-2 commit policy (see policy.h for the rules). */
#include "stream/policy.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A re-decoded word's start may move earlier than it was by up to this much
 * and still count as new; whisper_streaming's HypothesisBuffer uses 0.1 s. */
#define POLICY_TIME_TOL 0.1
/* The n-gram overlap check only applies near the commit point, and for at
 * most this many words (both values from whisper_streaming). */
#define POLICY_NGRAM_WINDOW_S 1.0
#define POLICY_NGRAM_MAX 5
/* Committed text kept for the prompt; larger than the prompt so that a word
 * boundary can always be found after trimming. */
#define POLICY_HIST_BYTES 1024

struct lc_policy {
    lc_word tail[POLICY_MAX_WORDS];  /* tentative words of the latest hypothesis */
    int n_tail;
    lc_word hyp[POLICY_MAX_WORDS];   /* scratch: the incoming hypothesis, filtered */
    int n_hyp;
    lc_word last[POLICY_NGRAM_MAX];  /* last committed words, oldest first */
    int n_last;
    int any_committed;
    double committed_until;
    char hist[POLICY_HIST_BYTES];    /* recent committed text */
    size_t hist_len;
    size_t prompt_off;               /* policy_prompt() = hist + prompt_off */
};

/* Copies src into a 64-byte word text, cutting at a UTF-8 boundary. */
static void word_copy_text(char dst[64], const char *src)
{
    size_t n = strnlen(src, 63);
    if (n == 63 && src[63] != '\0')
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;  /* don't keep half of a multibyte character */
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Bytes that take part in the comparison: ASCII alphanumerics (case-folded)
 * and every non-ASCII byte (UTF-8 letters, compared exactly). */
static int norm_keep(unsigned char c)
{
    return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z');
}

static unsigned char norm_fold(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/* Normalized equality without a normalized copy (no allocation). */
static int word_eq(const char *a, const char *b)
{
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    for (;;) {
        while (*x && !norm_keep(*x)) x++;
        while (*y && !norm_keep(*y)) y++;
        if (!*x || !*y)
            return !*x && !*y;
        if (norm_fold(*x) != norm_fold(*y))
            return 0;
        x++, y++;
    }
}

/* Appends words w[0..n) to out->text while they fit; returns how many did. */
static int final_append(lc_final *out, const lc_word *w, int n)
{
    size_t len = strlen(out->text);
    int i;
    for (i = 0; i < n; i++) {
        size_t l = strlen(w[i].text);
        if (len + l >= sizeof out->text)
            break;
        memcpy(out->text + len, w[i].text, l + 1);
        len += l;
    }
    return i;
}

static void final_clear(lc_final *out, double t)
{
    out->t0 = out->t1 = t;
    out->text[0] = '\0';
    out->n_words = 0;
}

/* Keeps the committed text for the prompt: the history is shifted left at a
 * word boundary when full; the prompt starts at the first space within the
 * last POLICY_PROMPT_CHARS bytes. */
static void hist_append(lc_policy *p, const char *text)
{
    size_t l = strlen(text);
    if (l >= POLICY_HIST_BYTES / 2) {  /* one huge final: keep its end only */
        text += l - POLICY_HIST_BYTES / 2;
        l = POLICY_HIST_BYTES / 2;
        p->hist_len = 0;
    }
    if (p->hist_len + l >= POLICY_HIST_BYTES) {
        size_t cut = p->hist_len - POLICY_HIST_BYTES / 4;
        memmove(p->hist, p->hist + cut, p->hist_len - cut);
        p->hist_len -= cut;
    }
    memcpy(p->hist + p->hist_len, text, l);
    p->hist_len += l;
    p->hist[p->hist_len] = '\0';

    size_t off = p->hist_len > POLICY_PROMPT_CHARS ? p->hist_len - POLICY_PROMPT_CHARS : 0;
    if (off > 0) {
        size_t s = off;
        while (s < p->hist_len && p->hist[s] != ' ')
            s++;
        if (s == p->hist_len)  /* no space: at least start on a UTF-8 lead byte */
            for (s = off; s < p->hist_len && ((unsigned char)p->hist[s] & 0xC0) == 0x80; s++)
                ;
        off = s;
    }
    p->prompt_off = off;
}

/* Commits w[0..n) (as many as fit) into out; returns how many. */
static int policy_commit(lc_policy *p, const lc_word *w, int n, lc_final *out)
{
    final_clear(out, p->committed_until);
    if (n <= 0)
        return 0;
    int k = final_append(out, w, n);
    if (k == 0)
        return 0;
    /* Finals never overlap: clamp to the end of the previous one. */
    double t0 = w[0].t0, t1 = w[k - 1].t1;
    if (p->any_committed && t0 < p->committed_until)
        t0 = p->committed_until;
    if (t1 < t0)
        t1 = t0;
    out->t0 = t0;
    out->t1 = t1;
    out->n_words = k;
    p->committed_until = t1;
    p->any_committed = 1;

    for (int i = 0; i < k; i++) {  /* remember the last committed words */
        if (p->n_last == POLICY_NGRAM_MAX) {
            memmove(p->last, p->last + 1, (POLICY_NGRAM_MAX - 1) * sizeof p->last[0]);
            p->n_last--;
        }
        p->last[p->n_last++] = w[i];
    }
    hist_append(p, out->text);
    return k;
}

/* Steps 1-2 of policy.h: copy hyp into p->hyp without the words that are
 * already committed. */
static void policy_filter(lc_policy *p, const lc_word *hyp, int n)
{
    int i = 0;
    if (n > POLICY_MAX_WORDS)
        n = POLICY_MAX_WORDS;
    if (p->any_committed)
        while (i < n && hyp[i].t0 <= p->committed_until - POLICY_TIME_TOL)
            i++;
    p->n_hyp = 0;
    for (; i < n; i++) {
        lc_word *w = &p->hyp[p->n_hyp++];
        w->t0 = hyp[i].t0;
        w->t1 = hyp[i].t1;
        word_copy_text(w->text, hyp[i].text);
    }
    if (!p->any_committed || p->n_hyp == 0 || p->n_last == 0 ||
        fabs(p->hyp[0].t0 - p->committed_until) >= POLICY_NGRAM_WINDOW_S)
        return;
    int kmax = p->n_last < p->n_hyp ? p->n_last : p->n_hyp;
    for (int k = kmax; k >= 1; k--) {
        int j = 0;
        while (j < k && word_eq(p->last[p->n_last - k + j].text, p->hyp[j].text))
            j++;
        if (j == k) {
            memmove(p->hyp, p->hyp + k, (size_t)(p->n_hyp - k) * sizeof p->hyp[0]);
            p->n_hyp -= k;
            return;
        }
    }
}

lc_policy *policy_create(void)
{
    lc_policy *p = calloc(1, sizeof *p);
    return p;
}

int policy_update(lc_policy *p, const lc_word *hyp, int n, lc_final *out)
{
    policy_filter(p, hyp, n);
    int agree = 0;
    while (agree < p->n_tail && agree < p->n_hyp &&
           word_eq(p->tail[agree].text, p->hyp[agree].text))
        agree++;
    int k = policy_commit(p, p->hyp, agree, out);
    p->n_tail = p->n_hyp - k;
    memcpy(p->tail, p->hyp + k, (size_t)p->n_tail * sizeof p->tail[0]);
    return k;
}

int policy_partial(const lc_policy *p, lc_final *out)
{
    final_clear(out, p->committed_until);
    if (p->n_tail == 0)
        return 0;
    int k = final_append(out, p->tail, p->n_tail);
    if (k == 0)
        return 0;
    out->t0 = p->tail[0].t0;
    if (p->any_committed && out->t0 < p->committed_until)
        out->t0 = p->committed_until;
    out->t1 = p->tail[k - 1].t1 > out->t0 ? p->tail[k - 1].t1 : out->t0;
    out->n_words = k;
    return k;
}

int policy_flush(lc_policy *p, lc_final *out)
{
    int k = policy_commit(p, p->tail, p->n_tail, out);
    p->n_tail -= k;
    memmove(p->tail, p->tail + k, (size_t)p->n_tail * sizeof p->tail[0]);
    return k;
}

double policy_committed_until(const lc_policy *p)
{
    return p->committed_until;
}

const char *policy_prompt(const lc_policy *p)
{
    return p->hist + p->prompt_off;
}

void policy_reset(lc_policy *p)
{
    memset(p, 0, sizeof *p);
}

void policy_free(lc_policy *p)
{
    free(p);
}
