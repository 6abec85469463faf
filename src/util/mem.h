/* mem.h: lc_prefault(), so a long-lived buffer is backed by memory when it
 * is created, not page by page the first time the hot path reaches it.
 *
 * Why: RSS is then what a stream needs from its first window on (no creep
 * as prompts, beams and the rolling window reach deeper into their buffers,
 * which a soak test reads as a leak), and the audio/compute threads take no
 * first-touch page faults. Why not memset(p, 0, n) after malloc: GCC may
 * fuse malloc + memset(0) into calloc, which leaves fresh mmap'ed pages
 * untouched; these volatile stores cannot be elided.
 */
#ifndef LC_MEM_H
#define LC_MEM_H

#include <stddef.h>
#include <stdlib.h>
#include <sys/mman.h>

#define LC_PAGE_MIN 4096 /* the smallest page on the targets (x86-64, arm64 4K) */

/* Writes a zero byte into every page of p[0, n); the other bytes keep
 * whatever they held. */
static inline void lc_prefault(void *p, size_t n)
{
    volatile unsigned char *c = p;
    if (!c || !n) return;
    for (size_t i = 0; i < n; i += LC_PAGE_MIN) c[i] = 0;
    c[n - 1] = 0;
}

/* Transparent huge pages where the kernel gives them only on request
 * (Debian's default: /sys/kernel/mm/transparent_hugepage/enabled =
 * madvise). The decoder streams ~50 MB of weights and cross K/V per token
 * (base): in 4-KB pages that is ~12,000 TLB misses per token, and each page
 * walk stalls the stream (base's decoder step measured ~12% faster, tiny's
 * encoder window ~8%). 2 MB is x86-64's huge page. Only the whole huge
 * pages inside the buffer are advised, and the size is not rounded up, so
 * RSS grows by nothing: the tail keeps 4-KB pages. Release with free(). */
#define LC_HUGE_PAGE ((size_t)2 << 20)
static inline void *lc_alloc_huge(size_t n)
{
    if (n < LC_HUGE_PAGE) return malloc(n);
    void *p = NULL; /* posix_memalign: aligned_alloc wants n a multiple of 2 MB (ASan enforces it) */
    if (posix_memalign(&p, LC_HUGE_PAGE, n)) return NULL;
#ifdef MADV_HUGEPAGE
    if (p) (void)madvise(p, n / LC_HUGE_PAGE * LC_HUGE_PAGE, MADV_HUGEPAGE); /* a hint: else 4-KB pages */
#endif
    return p;
}

#endif
