/* amx.c: split-bf16 GEMM on AMX tiles (contract in amx.h).
 *
 * Register blocking: a 32×32 block of C lives in four accumulator tiles
 * (tmm0–3). Per k-step of 32 the two 16-row A tiles (tmm4–5) and the two
 * 16-column W tiles (tmm6–7) are loaded A hi with W lo (Ah·Wl), then W hi
 * (Ah·Wh), then A lo over the W hi still in the tiles (Al·Wh): 8 tile loads
 * for 12 TDPBF16PS (loading W hi first would need it twice: 10).
 * Cache blocking: W is walked in chunks of columns small enough to stay in
 * L2 (W_CHUNK_BYTES) while every 32-row block of A passes over them, so
 * each W byte comes from memory once per call and each C block is written
 * once (the whole K is accumulated in the tiles).
 * Layouts: a W tile for columns n0..n0+15 and k0..k0+31 is 16 rows of 16
 * bf16 pairs (k0 + 2r, k0 + 2r + 1), one pair per column: the "VNNI"
 * layout TDPBF16PS reads for its second operand. A is split into row-major
 * hi and lo planes, K padded to 32 with zeros.
 * Rounding: hi = bf16(x) and lo = bf16(x − hi), round to nearest even, as
 * bf16_split (bf16.h) for finite values.
 */
#include "engine/amx.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "engine/bf16.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11 && defined(SYS_arch_prctl)
#define LC_HAVE_AMX 1
#include <immintrin.h>
#endif

#define TR 16                /* tile rows */
#define TK 32                /* bf16 per tile row (64 bytes) */
#define BM 32                /* C block: 2 × 2 tiles */
#define TILE_U16 (TR * TK)   /* 512 bf16 = 1 KiB per tile */
#define W_CHUNK_BYTES (512 * 1024) /* W columns walked per pass: a quarter of a 2 MiB L2 */
#define K_SPLIT_STEPS 64     /* K longer than 2048 (k-steps of 32) is split... */
#define K_CHUNK_STEPS 24     /* ...into passes over C of 768: small's fc2 (K = 3072) left a W
                                chunk one 32-column block wide and panels of 64 rows, W
                                re-read from L3 every 64 rows; in chunks, C's blocks are
                                stored and reloaded once per chunk. Measured (one thread,
                                median of 20): 1500×768×3072 68–82 → 60–63 ms; K = 1536
                                lost 5–8 % when split, so it is not */
#define A_PANEL_BYTES (1024 * 1024) /* A rows split per panel (hi + lo): bounds the scratch
                                       (tiny's peak RSS) while W is re-read once per panel */

static size_t round_up(size_t x, size_t m) { return (x + m - 1) / m * m; }

size_t amx_bytes(const amx_w *w) { return w ? (size_t)w->Np * w->Kp * 2 * sizeof(uint16_t) : 0; }
size_t amx_pack_bytes(int N, int K) { return round_up((size_t)N, BM) * round_up((size_t)K, TK) * 2 * sizeof(uint16_t); }

void amx_free(amx_w *w)
{
    if (!w) return;
    free(w->t);
    free(w);
}

#ifndef LC_HAVE_AMX

int amx_usable(void) { return 0; }
amx_w *amx_pack(const float *W, int N, int K) { (void)W; (void)N; (void)K; return NULL; }
int amx_gemm(const amx_w *w, int M, const float *A, int lda, const float *bias, float *C, int ldc)
{
    (void)w; (void)M; (void)A; (void)lda; (void)bias; (void)C; (void)ldc;
    return -1;
}
int amx_gemm_padded(const amx_w *w, int M, const float *A, int lda, float *C, int ldc)
{
    (void)w; (void)M; (void)A; (void)lda; (void)C; (void)ldc;
    return -1;
}

int amx_pack_view(amx_w *w, uint16_t *buf, const float *src, int N, int K, size_t ldn, size_t ldk)
{
    (void)w; (void)buf; (void)src; (void)N; (void)K; (void)ldn; (void)ldk;
    return -1;
}

#else

#define ARCH_REQ_XCOMP_PERM 0x1023 /* linux/arch/x86/include/uapi/asm/prctl.h */
#define XFEATURE_XTILEDATA 18

static int amx_probe(void)
{
    /* as on a CPU without AMX: for the tests of that path, and comparisons */
    const char *off = getenv("LIVECAP_NO_AMX");
    if (off && *off && strcmp(off, "0")) return 0;
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw")) return 0;
    /* CPUID.(EAX=7,ECX=0):EDX bit 22 = AMX-BF16, bit 24 = AMX-TILE */
    unsigned a = 7, b, c = 0, d;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    if (!(d & (1u << 22)) || !(d & (1u << 24))) return 0;
    /* Linux hands out the 8 KiB tile state only on request (since 5.16) */
    return syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
}

int amx_usable(void)
{
    static atomic_int state; /* 0 unknown, 1 yes, 2 no */
    int s = atomic_load(&state);
    if (!s) {
        s = amx_probe() ? 1 : 2;
        atomic_store(&state, s);
    }
    return s == 1;
}

static void pack_any(amx_w *w, const float *W, size_t ldn, size_t ldk);
static void pack_rows(amx_w *w, const float *W, size_t ldn);
static void pack_cols(amx_w *w, const float *W, size_t ldk);

int amx_pack_view(amx_w *w, uint16_t *buf, const float *src, int N, int K, size_t ldn, size_t ldk)
{
    if (!amx_usable() || !src || N < 1 || K < 1) return -1;
    w->N = N;
    w->K = K;
    w->Np = (int)round_up((size_t)N, BM);
    w->Kp = (int)round_up((size_t)K, TK);
    w->ks = w->Kp / TK;
    w->t = buf;
    if (ldk == 1) pack_rows(w, src, ldn);
    else if (ldn == 1) pack_cols(w, src, ldk);
    else pack_any(w, src, ldn, ldk);
    return 0;
}

amx_w *amx_pack(const float *W, int N, int K)
{
    if (!amx_usable() || !W || N < 1 || K < 1) return NULL;
    amx_w *w = calloc(1, sizeof *w);
    uint16_t *t = w ? aligned_alloc(64, amx_pack_bytes(N, K)) : NULL;
    if (!t) { free(w); return NULL; }
    amx_pack_view(w, t, W, N, K, (size_t)K, 1);
    return w;
}

/* element (r, c, e) of tile (nt, s): W[nt·16 + c][s·32 + 2r + e] */
static void pack_any(amx_w *w, const float *W, size_t ldn, size_t ldk)
{
    for (int nt = 0; nt < w->Np / TR; nt++)
        for (int s = 0; s < w->ks; s++) {
            uint16_t *hi = w->t + ((size_t)nt * w->ks + s) * 2 * TILE_U16, *lo = hi + TILE_U16;
            for (int r = 0; r < TR; r++)
                for (int c = 0; c < TR; c++)
                    for (int e = 0; e < 2; e++) {
                        const int n = nt * TR + c, k = s * TK + 2 * r + e;
                        uint16_t h = 0, l = 0;
                        if (n < w->N && k < w->K) bf16_split(W[(size_t)n * ldn + (size_t)k * ldk], &h, &l);
                        hi[r * TK + c * 2 + e] = h;
                        lo[r * TK + c * 2 + e] = l;
                    }
        }
}

/* Per-thread scratch, freed by the key's destructor at thread exit */
typedef struct amx_scratch {
    uint16_t *a;             /* A's hi plane then lo plane, [Mp, Kp] each */
    float *c;                /* C blocks that do not fit C: [BM or Mp, Np] */
    size_t a_cap, c_cap;     /* in elements */
} amx_scratch;

static pthread_key_t g_key;
static pthread_once_t g_key_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *p)
{
    amx_scratch *s = p;
    if (!s) return;
    free(s->a);
    free(s->c);
    free(s);
}

static void key_init(void) { pthread_key_create(&g_key, scratch_free); }

static amx_scratch *scratch_get(size_t need_a, size_t need_c)
{
    pthread_once(&g_key_once, key_init);
    amx_scratch *s = pthread_getspecific(g_key);
    if (!s) {
        if (!(s = calloc(1, sizeof *s))) return NULL;
        if (pthread_setspecific(g_key, s)) { free(s); return NULL; }
    }
    if (need_a > s->a_cap) { /* grows to the largest shape once, then reused */
        uint16_t *p = aligned_alloc(64, round_up(need_a * sizeof *p, 64));
        if (!p) return NULL;
        free(s->a);
        s->a = p;
        s->a_cap = need_a;
    }
    if (need_c > s->c_cap) {
        float *p = aligned_alloc(64, round_up(need_c * sizeof *p, 64));
        if (!p) return NULL;
        free(s->c);
        s->c = p;
        s->c_cap = need_c;
    }
    return s;
}

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,amx-tile,amx-bf16")

typedef struct tilecfg {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tilecfg;

static void tiles_on(void)
{
    tilecfg t;
    memset(&t, 0, sizeof t);
    t.palette = 1;
    for (int i = 0; i < 8; i++) {
        t.rows[i] = TR;
        t.colsb[i] = TK * 2;
    }
    _tile_loadconfig(&t);
}

/* RNE bf16 of each lane, as f32 bit patterns with the low 16 bits clear */
static inline __m512i hi_bits(__m512 x)
{
    const __m512i u = _mm512_castps_si512(x);
    const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
    const __m512i r = _mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff)));
    return _mm512_and_si512(r, _mm512_set1_epi32((int)0xffff0000u));
}

/* lanes [0, n) of p (n ≤ 16; none if n ≤ 0) */
static inline __m512 load_n(const float *p, int n)
{
    return n >= 16 ? _mm512_loadu_ps(p) : n <= 0 ? _mm512_setzero_ps()
                                                : _mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1), p);
}

/* hi and lo of two vectors as 16 bf16 pairs (x0[i] low, x1[i] high) */
static inline void pairs(__m512 x0, __m512 x1, __m512i *hi, __m512i *lo)
{
    const __m512i h0 = hi_bits(x0), h1 = hi_bits(x1);
    const __m512i l0 = hi_bits(_mm512_sub_ps(x0, _mm512_castsi512_ps(h0)));
    const __m512i l1 = hi_bits(_mm512_sub_ps(x1, _mm512_castsi512_ps(h1)));
    const __m512i top = _mm512_set1_epi32((int)0xffff0000u);
    *hi = _mm512_or_si512(_mm512_srli_epi32(h0, 16), _mm512_and_si512(h1, top));
    *lo = _mm512_or_si512(_mm512_srli_epi32(l0, 16), _mm512_and_si512(l1, top));
}

/* ldk == 1 (weights, attention's K): row n's 32 k of a tile strip are
 * column c of its 16 tile rows, as 16 bf16 pairs: one scatter per plane */
static void pack_rows(amx_w *w, const float *W, size_t ldn)
{
    const __m512i rows = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                            _mm512_set1_epi32(TK / 2));
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    for (int n = 0; n < w->Np; n++) {
        const int nt = n / TR, c = n % TR;
        for (int s = 0; s < w->ks; s++) {
            uint16_t *hi = w->t + ((size_t)nt * w->ks + s) * 2 * TILE_U16, *lo = hi + TILE_U16;
            const int k0 = s * TK, left = n < w->N ? w->K - k0 : 0;
            const float *p = W + (size_t)(n < w->N ? n : 0) * ldn + k0;
            const __m512 a = load_n(p, left), b = load_n(p + 16, left - 16);
            /* pair r = (k0 + 2r, k0 + 2r + 1) */
            const __m512 x0 = _mm512_permutex2var_ps(a, even, b), x1 = _mm512_permutex2var_ps(a, odd, b);
            __m512i h, l;
            pairs(x0, x1, &h, &l);
            _mm512_i32scatter_epi32(hi + 2 * c, rows, h, 4);
            _mm512_i32scatter_epi32(lo + 2 * c, rows, l, 4);
        }
    }
}

/* ldn == 1 (attention's Vᵀ): tile row r is k = k0 + 2r and k0 + 2r + 1 of
 * 16 contiguous n, two loads and one store per plane */
static void pack_cols(amx_w *w, const float *W, size_t ldk)
{
    for (int nt = 0; nt < w->Np / TR; nt++) {
        const int n0 = nt * TR, cols = w->N - n0;
        for (int s = 0; s < w->ks; s++) {
            uint16_t *hi = w->t + ((size_t)nt * w->ks + s) * 2 * TILE_U16, *lo = hi + TILE_U16;
            for (int r = 0; r < TR; r++) {
                const int k = s * TK + 2 * r;
                const __m512 x0 = k < w->K ? load_n(W + (size_t)k * ldk + n0, cols) : _mm512_setzero_ps();
                const __m512 x1 = k + 1 < w->K ? load_n(W + (size_t)(k + 1) * ldk + n0, cols) : _mm512_setzero_ps();
                __m512i h, l;
                pairs(x0, x1, &h, &l);
                _mm512_storeu_si512(hi + r * TK, h);
                _mm512_storeu_si512(lo + r * TK, l);
            }
        }
    }
}

/* rows [0, Mp) of A into hi/lo planes [Mp, Kp]; rows ≥ M and k ≥ K are 0 */
static void split_a(const float *A, int lda, int M, int K, int Mp, int Kp, uint16_t *ah, uint16_t *al)
{
    for (int i = 0; i < Mp; i++) {
        uint16_t *h = ah + (size_t)i * Kp, *l = al + (size_t)i * Kp;
        if (i >= M) {
            memset(h, 0, sizeof *h * (size_t)Kp);
            memset(l, 0, sizeof *l * (size_t)Kp);
            continue;
        }
        const float *a = A + (size_t)i * lda;
        for (int k = 0; k < Kp; k += 16) {
            const int n = K - k;
            const __m512 x = n >= 16 ? _mm512_loadu_ps(a + k)
                           : n <= 0 ? _mm512_setzero_ps()
                                    : _mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1), a + k);
            const __m512i hb = hi_bits(x);
            const __m512 rest = _mm512_sub_ps(x, _mm512_castsi512_ps(hb)); /* exact */
            _mm256_storeu_si256((__m256i *)(h + k), _mm512_cvtepi32_epi16(_mm512_srli_epi32(hb, 16)));
            _mm256_storeu_si256((__m256i *)(l + k), _mm512_cvtepi32_epi16(_mm512_srli_epi32(hi_bits(rest), 16)));
        }
    }
}

/* Rows [m0, m0 + P) of C (P a multiple of BM, rows ≥ M padding) from the
 * split panel ah/al [P, Kc], which holds k-steps [k0, k1) of A: the first
 * K chunk starts C's blocks from the bias (or 0), later ones from what the
 * previous chunk stored; whole blocks go to C, the rest to cbuf, copied to
 * C after the last chunk. */
static void panel(const amx_w *w, int M, int m0, int P, const uint16_t *ah, const uint16_t *al, int k0s,
                  int k1s, const float *bias, float *C, int ldc, float *cbuf, int pad_ok)
{
    const int Np = w->Np, ks = w->ks, N = w->N, Kc = (k1s - k0s) * TK;
    const int first = k0s == 0, last = k1s == ks;
    const int direct_cols = N % BM == 0 || pad_ok;
    const size_t sa = (size_t)Kc * 2;  /* A plane row stride, bytes */
    const size_t wblock = (size_t)ks * 2 * TILE_U16; /* one 16-column tile strip */
    int chunk = (int)(W_CHUNK_BYTES / ((size_t)BM * Kc * 2 * sizeof(uint16_t)));
    if (chunk < 1) chunk = 1;
    const int nblk = Np / BM;
    for (int b0 = 0; b0 < nblk; b0 += chunk) {
        const int b1 = b0 + chunk < nblk ? b0 + chunk : nblk;
        for (int r = 0; r < P; r += BM) {
            const int mr = m0 + r;
            const int direct = direct_cols && mr + BM <= M;
            float *cb = direct ? C + (size_t)mr * ldc : cbuf + (direct_cols ? 0 : (size_t)r * Np);
            const size_t cs = direct ? (size_t)ldc : (size_t)Np;
            const uint16_t *ah0 = ah + (size_t)r * Kc, *al0 = al + (size_t)r * Kc;
            const uint16_t *ah1 = ah0 + (size_t)TR * Kc, *al1 = al0 + (size_t)TR * Kc;
            for (int nb = b0; nb < b1; nb++) {
                const int n0 = nb * BM;
                const uint16_t *w0 = w->t + (size_t)(2 * nb) * wblock, *w1 = w0 + wblock;
                float *c = cb + n0;
                if (!first) { /* the previous K chunk's sums */
                    _tile_loadd(0, c, cs * 4); _tile_loadd(1, c + TR, cs * 4);
                    _tile_loadd(2, c + TR * cs, cs * 4); _tile_loadd(3, c + TR * cs + TR, cs * 4);
                } else if (bias && n0 + BM <= N) { /* stride 0: bias in every row */
                    _tile_loadd(0, bias + n0, 0); _tile_loadd(1, bias + n0 + TR, 0);
                    _tile_loadd(2, bias + n0, 0); _tile_loadd(3, bias + n0 + TR, 0);
                } else {
                    _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);
                }
                for (int k = k0s; k < k1s; k++) {
                    const int k0 = (k - k0s) * TK;
                    const uint16_t *wh0 = w0 + (size_t)k * 2 * TILE_U16, *wh1 = w1 + (size_t)k * 2 * TILE_U16;
                    _tile_loadd(4, ah0 + k0, sa);
                    _tile_loadd(5, ah1 + k0, sa);
                    _tile_loadd(6, wh0 + TILE_U16, 64); /* W lo */
                    _tile_loadd(7, wh1 + TILE_U16, 64);
                    _tile_dpbf16ps(0, 4, 6); _tile_dpbf16ps(1, 4, 7);
                    _tile_dpbf16ps(2, 5, 6); _tile_dpbf16ps(3, 5, 7);
                    _tile_loadd(6, wh0, 64);            /* W hi */
                    _tile_loadd(7, wh1, 64);
                    _tile_dpbf16ps(0, 4, 6); _tile_dpbf16ps(1, 4, 7);
                    _tile_dpbf16ps(2, 5, 6); _tile_dpbf16ps(3, 5, 7);
                    _tile_loadd(4, al0 + k0, sa);       /* A lo */
                    _tile_loadd(5, al1 + k0, sa);
                    _tile_dpbf16ps(0, 4, 6); _tile_dpbf16ps(1, 4, 7);
                    _tile_dpbf16ps(2, 5, 6); _tile_dpbf16ps(3, 5, 7);
                }
                _tile_stored(0, c, cs * 4);
                _tile_stored(1, c + TR, cs * 4);
                _tile_stored(2, c + TR * cs, cs * 4);
                _tile_stored(3, c + TR * cs + TR, cs * 4);
            }
        }
    }
    if (!last) return;
    /* the blocks that went through cbuf */
    const int r0 = direct_cols ? (M - m0 < P ? (M - m0) / BM * BM : P) : 0;
    const int r1 = M - m0 < P ? M - m0 : P;
    for (int i = r0; i < r1; i++) {
        const float *t = cbuf + (size_t)(direct_cols ? i - r0 : i) * Np;
        float *c = C + (size_t)(m0 + i) * ldc;
        for (int n = 0; n < N; n++) c[n] = t[n] + (bias && (n / BM + 1) * BM > N ? bias[n] : 0.0f);
    }
}

static int gemm(const amx_w *w, int M, const float *A, int lda, const float *bias, float *C, int ldc, int pad_ok);

int amx_gemm(const amx_w *w, int M, const float *A, int lda, const float *bias, float *C, int ldc)
{
    return gemm(w, M, A, lda, bias, C, ldc, 0);
}

int amx_gemm_padded(const amx_w *w, int M, const float *A, int lda, float *C, int ldc)
{
    return w && ldc >= w->Np ? gemm(w, M, A, lda, NULL, C, ldc, 1) : -1;
}

static int gemm(const amx_w *w, int M, const float *A, int lda, const float *bias, float *C, int ldc, int pad_ok)
{
    if (!w || M < 1) return M < 1 ? 0 : -1;
    const int Np = w->Np, ks = w->ks;
    /* K whole, or in chunks of K_CHUNK_STEPS k-steps when longer than K_SPLIT_STEPS */
    const int kcs = ks <= K_SPLIT_STEPS ? ks : K_CHUNK_STEPS, Kc = kcs * TK;
    /* rows per panel: a multiple of BM, at most what the scratch holds */
    int P = (int)(A_PANEL_BYTES / ((size_t)Kc * 2 * sizeof(uint16_t))) / BM * BM;
    if (P < BM) P = BM;
    const int Mp = (int)round_up((size_t)M, BM);
    if (P > Mp) P = Mp;
    /* C blocks go straight to C when whole; a partial last row block (and,
     * if N is not a multiple of BM, every block) goes through scratch */
    const size_t need_c = (size_t)(w->N % BM == 0 || pad_ok ? BM : P) * Np;
    amx_scratch *s = scratch_get(2 * (size_t)P * Kc, need_c);
    if (!s) return -1;
    uint16_t *ah = s->a, *al = s->a + (size_t)P * Kc;
    tiles_on();
    for (int m0 = 0; m0 < M; m0 += P) {
        const int rows = M - m0 < P ? M - m0 : P;
        const int Pr = (int)round_up((size_t)rows, BM);
        for (int k0s = 0; k0s < ks; k0s += kcs) {
            const int k1s = k0s + kcs < ks ? k0s + kcs : ks, kb = k0s * TK;
            const int kv = w->K - kb < (k1s - k0s) * TK ? w->K - kb : (k1s - k0s) * TK;
            split_a(A + (size_t)m0 * lda + kb, lda, rows, kv, Pr, (k1s - k0s) * TK, ah, al);
            panel(w, M, m0, Pr, ah, al, k0s, k1s, bias, C, ldc, s->c, pad_ok);
        }
    }
    _tile_release();
    return 0;
}

#pragma GCC pop_options

#endif
