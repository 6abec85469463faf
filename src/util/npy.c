/* npy.c: NumPy .npy float32 reader and writer (see npy.h). */
#include "util/npy.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NPY_MAGIC     "\x93NUMPY"
#define NPY_MAGIC_LEN 6
#define NPY_ALIGN     64       /* numpy pads so the data is 64-byte aligned */
#define NPY_MAX_HDR   (1 << 20) /* far above any real header; bounds malloc */
#define NPY_MAX_EXTENT (1L << 40) /* per dimension, keeps products in range */

/* ---- byte order ------------------------------------------------------- */

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define NPY_HOST_BE 1
#else
#define NPY_HOST_BE 0
#endif

static void swap32(float *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        u = __builtin_bswap32(u);
        memcpy(&v[i], &u, 4);
    }
}

/* ---- writer ----------------------------------------------------------- */

/* Writes n floats as little-endian, without touching the caller's array. */
static int write_le(FILE *f, const float *data, size_t n)
{
    if (!NPY_HOST_BE) return fwrite(data, 4, n, f) == n ? 0 : -1;
    float chunk[1024];
    while (n) {
        size_t k = n < 1024 ? n : 1024;
        memcpy(chunk, data, k * 4);
        swap32(chunk, k);
        if (fwrite(chunk, 4, k, f) != k) return -1;
        data += k;
        n -= k;
    }
    return 0;
}

int npy_write_f32(const char *path, const float *data, int ndim, const long *shape, lc_err *e)
{
    if (ndim < 0 || ndim > NPY_MAX_DIM)
        return lc_fail(e, "%s: cannot write %d dimensions (at most %d)", path, ndim, NPY_MAX_DIM);
    char shp[128] = "(";
    size_t count = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || shape[i] > NPY_MAX_EXTENT)
            return lc_fail(e, "%s: bad shape[%d] = %ld", path, i, shape[i]);
        count *= (size_t)shape[i];
        size_t l = strlen(shp);
        snprintf(shp + l, sizeof shp - l, i ? ", %ld" : "%ld", shape[i]);
    }
    /* Python tuple syntax: (), (n,) or (a, b). */
    strcat(shp, ndim == 1 ? ",)" : ")");

    char hdr[256];
    int dl = snprintf(hdr, sizeof hdr,
                      "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }", shp);
    size_t pre = NPY_MAGIC_LEN + 2 + 2; /* magic, version, uint16 length */
    size_t total = pre + (size_t)dl + 1; /* +1 for the final '\n' */
    size_t pad = (NPY_ALIGN - total % NPY_ALIGN) % NPY_ALIGN;
    memset(hdr + dl, ' ', pad);
    hdr[dl + pad] = '\n';
    size_t hlen = (size_t)dl + pad + 1;

    FILE *f = fopen(path, "wb");
    if (!f) return lc_fail(e, "%s: cannot create (%s)", path, strerror(errno));
    unsigned char prefix[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                                (unsigned char)(hlen & 0xff), (unsigned char)(hlen >> 8)};
    int bad = fwrite(prefix, 1, sizeof prefix, f) != sizeof prefix ||
              fwrite(hdr, 1, hlen, f) != hlen ||
              (count && write_le(f, data, count) != 0);
    bad |= fclose(f) != 0;
    if (bad) return lc_fail(e, "%s: write failed (%s)", path, strerror(errno));
    return 0;
}

/* ---- header parser ---------------------------------------------------- */

/* A cursor over the header dict, e.g.
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (80, 3000), }
 * Only the three keys numpy writes are accepted, each exactly once. */
typedef struct hcur {
    const char *p, *end;
} hcur;

static void skip_ws(hcur *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int eat(hcur *c, char ch)
{
    skip_ws(c);
    if (c->p < c->end && *c->p == ch) { c->p++; return 1; }
    return 0;
}

/* A Python string literal in ' or " quotes, without escapes (numpy's keys
 * and dtype strings have none). Copies into out[cap]. */
static int parse_str(hcur *c, char *out, size_t cap)
{
    skip_ws(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) return -1;
    char q = *c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != q) {
        if (*c->p == '\\' || n + 1 >= cap) return -1;
        out[n++] = *c->p++;
    }
    if (c->p >= c->end) return -1;
    c->p++;
    out[n] = '\0';
    return 0;
}

static int parse_bool(hcur *c, int *v)
{
    skip_ws(c);
    size_t left = (size_t)(c->end - c->p);
    if (left >= 4 && !memcmp(c->p, "True", 4)) { *v = 1; c->p += 4; return 0; }
    if (left >= 5 && !memcmp(c->p, "False", 5)) { *v = 0; c->p += 5; return 0; }
    return -1;
}

/* (), (n,), (a, b), (a, b,): non-negative integers, at most NPY_MAX_DIM. */
static int parse_shape(hcur *c, int *ndim, long *shape)
{
    if (!eat(c, '(')) return -1;
    *ndim = 0;
    for (;;) {
        skip_ws(c);
        if (eat(c, ')')) return 0;
        if (*ndim == NPY_MAX_DIM) return -1;
        if (c->p >= c->end || *c->p < '0' || *c->p > '9') return -1;
        long v = 0;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
            v = v * 10 + (*c->p++ - '0');
            if (v > NPY_MAX_EXTENT) return -1;
        }
        if (c->p < c->end && *c->p == 'L') c->p++; /* Python 2 longs */
        shape[(*ndim)++] = v;
        if (!eat(c, ',')) return eat(c, ')') ? 0 : -1;
    }
}

/* Fills ndim/shape from the header text, or returns a static reason. */
static const char *parse_header(const char *text, size_t len, int *ndim, long *shape)
{
    hcur c = {text, text + len};
    int seen_descr = 0, seen_order = 0, seen_shape = 0;
    if (!eat(&c, '{')) return "header is not a dict";
    while (!eat(&c, '}')) {
        char key[32], val[32];
        if (parse_str(&c, key, sizeof key) || !eat(&c, ':')) return "malformed header";
        if (!strcmp(key, "descr") && !seen_descr) {
            if (parse_str(&c, val, sizeof val)) return "malformed descr";
            /* '<f4' is what numpy writes on little-endian hosts. */
            if (strcmp(val, "<f4")) return "dtype is not little-endian float32 ('<f4')";
            seen_descr = 1;
        } else if (!strcmp(key, "fortran_order") && !seen_order) {
            int fo;
            if (parse_bool(&c, &fo)) return "malformed fortran_order";
            if (fo) return "Fortran order is not supported";
            seen_order = 1;
        } else if (!strcmp(key, "shape") && !seen_shape) {
            if (parse_shape(&c, ndim, shape)) return "malformed or too many dimensions in shape";
            seen_shape = 1;
        } else {
            return "unexpected or repeated key in header";
        }
        if (!eat(&c, ',')) {
            if (!eat(&c, '}')) return "malformed header";
            break;
        }
    }
    skip_ws(&c);
    if (c.p != c.end) return "junk after header dict";
    if (!seen_descr || !seen_order || !seen_shape) return "header lacks descr, fortran_order or shape";
    return NULL;
}

/* ---- reader ----------------------------------------------------------- */

static int read_fail(FILE *f, char *hdr, lc_err *e, const char *path, const char *why)
{
    free(hdr);
    if (f) fclose(f);
    return lc_fail(e, "%s: not a float32 .npy file (%s)", path, why);
}

int npy_read_f32(const char *path, float **data, int *ndim, long shape[NPY_MAX_DIM], lc_err *e)
{
    *data = NULL;
    *ndim = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return lc_fail(e, "%s: cannot open (%s)", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode))
        return read_fail(f, NULL, e, path, "not a regular file");
    uint64_t fsize = (uint64_t)st.st_size;

    unsigned char pre[12];
    if (fread(pre, 1, 8, f) != 8 || memcmp(pre, NPY_MAGIC, NPY_MAGIC_LEN))
        return read_fail(f, NULL, e, path, "bad magic");
    uint64_t hlen, off;
    if (pre[6] == 1) { /* v1.0: uint16 length */
        if (fread(pre + 8, 1, 2, f) != 2) return read_fail(f, NULL, e, path, "truncated");
        hlen = pre[8] | (uint64_t)pre[9] << 8;
        off = 10;
    } else if (pre[6] == 2 || pre[6] == 3) { /* v2/v3: uint32 length */
        if (fread(pre + 8, 1, 4, f) != 4) return read_fail(f, NULL, e, path, "truncated");
        hlen = pre[8] | (uint64_t)pre[9] << 8 | (uint64_t)pre[10] << 16 | (uint64_t)pre[11] << 24;
        off = 12;
    } else {
        return read_fail(f, NULL, e, path, "unknown format version");
    }
    if (hlen == 0 || hlen > NPY_MAX_HDR || off + hlen > fsize)
        return read_fail(f, NULL, e, path, "bad header length");

    char *hdr = malloc(hlen);
    if (!hdr) return read_fail(f, NULL, e, path, "out of memory");
    if (fread(hdr, 1, hlen, f) != hlen) return read_fail(f, hdr, e, path, "truncated header");
    const char *why = parse_header(hdr, hlen, ndim, shape);
    if (why) return read_fail(f, hdr, e, path, why);
    free(hdr);
    hdr = NULL;

    /* Each extent is <= 2^40 and there are at most 4, so check as we go. */
    uint64_t count = 1, left = fsize - off - hlen;
    for (int i = 0; i < *ndim; i++) {
        if (shape[i] && count > left / 4 / (uint64_t)shape[i]) {
            count = UINT64_MAX;
            break;
        }
        count *= (uint64_t)shape[i];
    }
    if (count == UINT64_MAX || count * 4 != left) {
        char why2[96];
        snprintf(why2, sizeof why2, "shape needs %s bytes of data, file has %llu",
                 count == UINT64_MAX ? "more" : "a different number of",
                 (unsigned long long)left);
        *ndim = 0;
        return read_fail(f, NULL, e, path, why2);
    }
    if (count == 0) { fclose(f); return 0; }

    float *d = malloc((size_t)count * 4);
    if (!d) { *ndim = 0; return read_fail(f, NULL, e, path, "out of memory"); }
    if (fread(d, 4, (size_t)count, f) != count) {
        free(d);
        *ndim = 0;
        return read_fail(f, NULL, e, path, "truncated data");
    }
    fclose(f);
    if (NPY_HOST_BE) swap32(d, (size_t)count);
    *data = d;
    return 0;
}
