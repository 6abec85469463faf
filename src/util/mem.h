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

#endif
