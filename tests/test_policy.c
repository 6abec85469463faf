/* test_policy.c: LocalAgreement-2 commit policy (src/stream/policy.h). */
#include "test.h"
#include "stream/policy.h"

#include <stdint.h>
#include <string.h>

static lc_word hyp[2048];
static lc_final fin, part;

/* Fills hyp[] from "w1 w2 ..." with word i at [t + i*0.5, t + i*0.5 + 0.4]. */
static int mk(const char *words, double t)
{
    int n = 0;
    const char *s = words;
    while (*s) {
        while (*s == ' ') s++;
        if (!*s) break;
        const char *e = strchr(s, ' ');
        size_t l = e ? (size_t)(e - s) : strlen(s);
        hyp[n].t0 = t + n * 0.5;
        hyp[n].t1 = hyp[n].t0 + 0.4;
        snprintf(hyp[n].text, sizeof hyp[n].text, " %.*s", (int)l, s);
        n++;
        s += l;
    }
    return n;
}

static void test_revision(void)
{
    lc_policy *p = policy_create();
    CHECK(p != NULL);
    CHECK(policy_update(p, hyp, mk("a b c", 0), &fin) == 0);
    CHECK(fin.n_words == 0 && fin.text[0] == '\0');
    CHECK(policy_partial(p, &part) == 3 && strcmp(part.text, " a b c") == 0);

    CHECK(policy_update(p, hyp, mk("a b d e", 0), &fin) == 2);
    CHECKF(strcmp(fin.text, " a b") == 0, "got '%s'", fin.text);
    CHECK(fin.t0 == 0.0 && fin.t1 == 0.9 && fin.n_words == 2);
    CHECK(policy_committed_until(p) == 0.9);
    CHECK(policy_partial(p, &part) == 2 && strcmp(part.text, " d e") == 0);
    CHECK(part.t0 == 1.0 && part.t1 == 1.9);

    CHECK(policy_update(p, hyp, mk("a b d e f", 0), &fin) == 2);
    CHECKF(strcmp(fin.text, " d e") == 0, "got '%s'", fin.text);
    CHECK(fin.t0 == 1.0 && fin.t1 == 1.9);
    CHECK(policy_partial(p, &part) == 1 && strcmp(part.text, " f") == 0);
    CHECK(strcmp(policy_prompt(p), " a b d e") == 0);

    /* End of stream: the tentative " f" is committed, nothing is left. */
    CHECK(policy_flush(p, &fin) == 1 && strcmp(fin.text, " f") == 0);
    CHECK(policy_flush(p, &fin) == 0 && fin.n_words == 0);
    CHECK(policy_partial(p, &part) == 0 && part.text[0] == '\0');
    policy_free(p);
}

/* A word cut by the window's end is not committed until it is whole and
 * two hypotheses agree on it. */
static void test_cut_word(void)
{
    lc_policy *p = policy_create();
    CHECK(policy_update(p, hyp, mk("hello wor", 0), &fin) == 0);
    CHECK(policy_update(p, hyp, mk("hello world", 0), &fin) == 1);
    CHECKF(strcmp(fin.text, " hello") == 0, "got '%s'", fin.text);
    CHECK(policy_update(p, hyp, mk("hello world peace", 0), &fin) == 1);
    CHECKF(strcmp(fin.text, " world") == 0, "got '%s'", fin.text);
    policy_free(p);
}

/* Case and punctuation do not prevent agreement; the newest text wins. */
static void test_normalize(void)
{
    lc_policy *p = policy_create();
    CHECK(policy_update(p, hyp, mk("hello world and", 0), &fin) == 0);
    CHECK(policy_update(p, hyp, mk("Hello, World! So", 0), &fin) == 2);
    CHECKF(strcmp(fin.text, " Hello, World!") == 0, "got '%s'", fin.text);
    /* "don't" vs "dont" agree, "i" vs "a" do not. */
    CHECK(policy_update(p, hyp, mk("Hello, World! don't i", 0), &fin) == 0);
    CHECK(policy_update(p, hyp, mk("Hello, World! dont a", 0), &fin) == 1);
    CHECKF(strcmp(fin.text, " dont") == 0, "got '%s'", fin.text);
    policy_free(p);
}

/* Committed words that come back are not committed twice: with their old
 * times (buffer not trimmed), or shifted after a trim (n-gram overlap). */
static void test_no_recommit(void)
{
    lc_policy *p = policy_create();
    policy_update(p, hyp, mk("the cat sat on", 0), &fin);
    CHECK(policy_update(p, hyp, mk("the cat sat on the", 0), &fin) == 4);
    double c = policy_committed_until(p);
    CHECK(c == 1.9);

    /* Untrimmed buffer, times jittered by up to 0.08 s: dropped by time. */
    int n = mk("the cat sat on the mat", 0.08);
    CHECK(policy_update(p, hyp, n, &fin) == 1 && strcmp(fin.text, " the") == 0);
    CHECK(policy_partial(p, &part) == 1 && strcmp(part.text, " mat") == 0);
    /* Buffer trimmed at the commit point; Whisper re-emits " on the" at the
     * start of the window (0.3 s late, beyond the time tolerance). */
    n = mk("on the mat today", policy_committed_until(p));
    CHECK(policy_update(p, hyp, n, &fin) == 1 && strcmp(fin.text, " mat") == 0);
    CHECK(policy_partial(p, &part) == 1 && strcmp(part.text, " today") == 0);
    n = mk("the mat today and", policy_committed_until(p) + 0.2);
    CHECK(policy_update(p, hyp, n, &fin) == 1);
    CHECKF(strcmp(fin.text, " today") == 0, "got '%s'", fin.text);
    /* A genuinely new word equal to no committed tail is kept. */
    n = mk("and more", policy_committed_until(p) + 0.05);
    CHECK(policy_update(p, hyp, n, &fin) == 1 && strcmp(fin.text, " and") == 0);
    CHECK(policy_flush(p, &fin) == 1 && strcmp(fin.text, " more") == 0);
    CHECK(strcmp(policy_prompt(p), " the cat sat on the mat today and more") == 0);
    /* Near the commit point a re-emitted phrase is dropped; more than 1 s
     * after it, the same phrase is real speech and kept. */
    n = mk("and more", policy_committed_until(p) + 0.05);
    CHECK(policy_update(p, hyp, n, &fin) == 0 && policy_partial(p, &part) == 0);
    n = mk("and more", policy_committed_until(p) + 2.0);
    CHECK(policy_update(p, hyp, n, &fin) == 0);
    CHECK(policy_partial(p, &part) == 2 && strcmp(part.text, " and more") == 0);
    policy_free(p);
}

/* Finals never overlap, even when the decoder moves a word's start back
 * into the previous final (within the tolerance). */
static void test_no_overlap(void)
{
    lc_policy *p = policy_create();
    policy_update(p, hyp, mk("one two", 0), &fin);
    policy_update(p, hyp, mk("one two three", 0), &fin);
    CHECK(fin.n_words == 2 && fin.t1 == 0.9);
    int n = mk("three four", 0.85);  /* starts 0.05 before the commit point */
    CHECK(policy_update(p, hyp, n, &fin) == 1 && strcmp(fin.text, " three") == 0);
    CHECKF(fin.t0 >= 0.9 && fin.t1 >= fin.t0, "t0 %.3f t1 %.3f", fin.t0, fin.t1);
    /* A degenerate word ending before the commit point: t1 clamped too. */
    double c = policy_committed_until(p);
    hyp[0] = (lc_word){c - 0.05, c - 0.02, " four"};
    hyp[1] = (lc_word){c + 0.1, c + 0.4, " five"};
    CHECK(policy_update(p, hyp, 2, &fin) == 1 && strcmp(fin.text, " four") == 0);
    CHECK(fin.t0 == c && fin.t1 == c);
    policy_free(p);
}

/* Silence between utterances: empty hypotheses, a flush at end of speech,
 * and new speech compared with nothing old. */
static void test_silence(void)
{
    lc_policy *p = policy_create();
    policy_update(p, hyp, mk("good morning every", 0), &fin);
    CHECK(policy_update(p, hyp, mk("good morning everyone", 0), &fin) == 2);
    CHECK(policy_update(p, hyp, 0, &fin) == 0);  /* silence: no words */
    CHECK(policy_partial(p, &part) == 0);
    CHECK(policy_update(p, hyp, mk("good morning everyone", 0), &fin) == 0);
    CHECK(policy_flush(p, &fin) == 1 && strcmp(fin.text, " everyone") == 0);
    CHECK(policy_update(p, hyp, 0, &fin) == 0);
    CHECK(policy_update(p, hyp, 0, &fin) == 0);
    CHECK(policy_flush(p, &fin) == 0);
    /* New utterance at 10 s: nothing carried over from before. */
    CHECK(policy_update(p, hyp, mk("everyone here", 10), &fin) == 0);
    CHECK(policy_update(p, hyp, mk("everyone here is", 10), &fin) == 2);
    CHECKF(strcmp(fin.text, " everyone here") == 0, "got '%s'", fin.text);
    CHECK(fin.t0 == 10.0);
    policy_reset(p);
    CHECK(policy_committed_until(p) == 0 && policy_prompt(p)[0] == '\0');
    CHECK(policy_partial(p, &part) == 0);
    CHECK(policy_update(p, hyp, mk("a b", 0), &fin) == 0);
    policy_free(p);
}

/* Capacities: long words are cut at a UTF-8 boundary, oversized hypotheses
 * are clipped, and a flush bigger than one final comes out in pieces
 * without losing a word. */
static void test_capacity(void)
{
    lc_policy *p = policy_create();
    hyp[0] = (lc_word){0, 1, ""};
    memset(hyp[0].text, 'x', 62);  /* 64 bytes, no NUL, é in the last two */
    memcpy(hyp[0].text + 62, "\xc3\xa9", 2);
    policy_update(p, hyp, 1, &fin);
    CHECK(policy_partial(p, &part) == 1 && strlen(part.text) == 62);

    policy_reset(p);
    for (int i = 0; i < 1500; i++) {
        hyp[i] = (lc_word){i * 0.02, i * 0.02 + 0.01, ""};
        snprintf(hyp[i].text, sizeof hyp[i].text, " w%d", i);
    }
    CHECK(policy_update(p, hyp, 1500, &fin) == 0);
    CHECK(policy_partial(p, &part) > 0 && strlen(part.text) < sizeof part.text);
    static char all[16384];
    int total = 0, k;
    all[0] = '\0';
    while ((k = policy_flush(p, &fin)) > 0) {
        total += k;
        strcat(all, fin.text);
    }
    CHECKF(total == POLICY_MAX_WORDS, "flushed %d", total);
    static char want[16384];
    want[0] = '\0';
    for (int i = 0; i < POLICY_MAX_WORDS; i++)
        strcat(want, hyp[i].text);
    CHECK(strcmp(all, want) == 0);
    /* The prompt is the end of the committed text, at a word boundary. */
    const char *pr = policy_prompt(p);
    size_t lp = strlen(pr), la = strlen(all);
    CHECK(lp > 100 && lp <= POLICY_PROMPT_CHARS && pr[0] == ' ');
    CHECK(strcmp(all + la - lp, pr) == 0);
    policy_free(p);
}

/* ---- Scripted sliding buffer over a known sentence ---- */

static const char *SENTENCE =
    "it was a bright cold day in april and the clocks were striking thirteen "
    "winston smith his chin nuzzled into his breast in an effort to escape "
    "the vile wind slipped quickly through the glass doors of victory "
    "mansions though not quickly enough to prevent a swirl of gritty dust "
    "from entering along with him the hallway smelt of boiled cabbage";

static uint64_t rng;
static double urand(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static lc_word truth[128];

static int simulate(uint64_t seed, char *out, size_t cap)
{
    int nw = 0;
    const char *s = SENTENCE;
    while (*s) {
        const char *e = strchr(s, ' ');
        size_t l = e ? (size_t)(e - s) : strlen(s);
        truth[nw].t0 = 0.3 + nw * 0.4;
        truth[nw].t1 = truth[nw].t0 + 0.32;
        snprintf(truth[nw].text, sizeof truth[nw].text, " %.*s", (int)l, s);
        nw++;
        s += l + (e != NULL);
    }
    rng = seed * 2654435761u + 1;
    lc_policy *p = policy_create();
    double buf_t0 = 0, end = truth[nw - 1].t1 + 1.0, prev_t1 = -1;
    int fails = 0;
    out[0] = '\0';
    for (int step = 1; step * 0.5 <= end + 1.0; step++) {
        double T = step * 0.5, c = policy_committed_until(p);
        /* The pipeline trims at the commit point, sometimes. */
        if (c > buf_t0 && (T - buf_t0 > 6 || urand() < 0.3))
            buf_t0 = c;
        int n = 0;
        if (buf_t0 > 0 && buf_t0 == c && urand() < 0.3) {
            /* Whisper re-emits the last committed word(s) at the window start. */
            int k = 1 + (urand() < 0.5);
            for (int j = 0; j < nw && k > 0; j++)
                if (truth[j].t1 >= c - 0.1 && truth[j].t0 < c) {
                    int first = j - k + 1 < 0 ? 0 : j - k + 1;
                    for (int m = first; m <= j; m++) {
                        hyp[n] = truth[m];
                        hyp[n].t0 = buf_t0 + 0.15 * (m - first);
                        hyp[n].t1 = hyp[n].t0 + 0.14;
                        n++;
                    }
                    break;
                }
        }
        for (int j = 0; j < nw; j++) {
            if (truth[j].t0 < buf_t0 - 0.05 || truth[j].t0 >= T)
                continue;
            hyp[n] = truth[j];
            hyp[n].t0 += (urand() - 0.5) * 0.06;
            hyp[n].t1 += (urand() - 0.5) * 0.06;
            if (truth[j].t1 > T) {  /* cut by the window's end */
                size_t l = strlen(truth[j].text) - 1;
                size_t keep = 1 + (size_t)((l - 1) * (T - truth[j].t0) / 0.32);
                hyp[n].text[1 + (keep < l ? keep : l)] = '\0';
                hyp[n].t1 = T;
            }
            n++;
        }
        /* Noise in the tail: the last word misheard, a hallucinated word.
         * The window's end is then in speech; after the sentence it is not,
         * and the last hypotheses are clean. */
        int in_speech = T < truth[nw - 1].t1 + 0.5;
        if (in_speech && n > 0 && urand() < 0.5)
            snprintf(hyp[n - 1].text, sizeof hyp[n - 1].text, " zz%d", step);
        if (in_speech && urand() < 0.3) {
            hyp[n] = (lc_word){T - 0.2, T, ""};
            snprintf(hyp[n].text, sizeof hyp[n].text, " hh%d", step);
            n++;
        }
        if (policy_update(p, hyp, n, &fin) > 0) {
            if (fin.t0 < prev_t1 || fin.t1 < fin.t0) fails++;
            prev_t1 = fin.t1;
            strncat(out, fin.text, cap - strlen(out) - 1);
        }
    }
    int k;
    while ((k = policy_flush(p, &fin)) > 0) {
        if (fin.t0 < prev_t1 || fin.t1 < fin.t0) fails++;
        prev_t1 = fin.t1;
        strncat(out, fin.text, cap - strlen(out) - 1);
    }
    policy_free(p);
    return fails;
}

static void test_sliding_sentence(void)
{
    static char got[8192], want[8192];
    want[0] = ' ';
    strcpy(want + 1, SENTENCE);
    int bad = 0;
    for (uint64_t seed = 1; seed <= 300; seed++) {
        int overlaps = simulate(seed, got, sizeof got);
        if (overlaps || strcmp(got, want) != 0) {
            if (bad++ < 3)
                fprintf(stderr, "seed %d: %d overlaps\n got:  '%s'\n want: '%s'\n",
                        (int)seed, overlaps, got, want);
        }
    }
    CHECKF(bad == 0, "%d of 300 runs lost, duplicated or overlapped words", bad);
}

int main(void)
{
    test_revision();
    test_cut_word();
    test_normalize();
    test_no_recommit();
    test_no_overlap();
    test_silence();
    test_capacity();
    test_sliding_sentence();
    TEST_DONE();
}
