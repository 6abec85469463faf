/* fuzz_util.h: helpers shared by the libFuzzer targets in tests/fuzz/.
 *
 * The readers under test take a path, not a buffer, so the input is put in
 * an anonymous memory file (memfd_create) and handed over as
 * /proc/self/fd/N: no disk I/O, no temporary names to clean up.
 */
#ifndef LC_FUZZ_UTIL_H
#define LC_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

/* A memfd holding data[0..size); path gets "/proc/self/fd/N". Returns the
 * fd (close it when done) or -1. */
static inline int fuzz_memfd(const uint8_t *data, size_t size, char *path, size_t cap)
{
    int fd = memfd_create("fuzz", MFD_CLOEXEC);
    if (fd < 0) return -1;
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0) { close(fd); return -1; }
        off += (size_t)w;
    }
    lseek(fd, 0, SEEK_SET);
    snprintf(path, cap, "/proc/self/fd/%d", fd);
    return fd;
}

#endif
