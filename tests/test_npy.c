/* test_npy: .npy round trip, the reference fixtures, and hostile files. */
#include "test.h"
#include "util/npy.h"

#include <stdint.h>
#include <string.h>
#include <unistd.h>

static char dir[64];

static const char *tmp_path(const char *name)
{
    static char p[128];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static void write_bytes(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    fwrite(b, 1, n, f);
    fclose(f);
}

/* A v1.0 file with the given header dict text and n_data bytes of data. */
static void write_raw_npy(const char *path, const char *dict, size_t n_data)
{
    unsigned char buf[512] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
    size_t dl = strlen(dict);
    buf[8] = (unsigned char)((dl + 1) & 0xff);
    buf[9] = (unsigned char)((dl + 1) >> 8);
    memcpy(buf + 10, dict, dl);
    buf[10 + dl] = '\n';
    memset(buf + 11 + dl, 0, n_data);
    write_bytes(path, buf, 11 + dl + n_data);
}

static void test_round_trip(void)
{
    long shape[3] = {3, 5, 7};
    float src[105];
    for (int i = 0; i < 105; i++) src[i] = (float)i * 0.25f - 10.0f;
    lc_err e = {{0}};
    const char *p = tmp_path("rt.npy");
    CHECKF(npy_write_f32(p, src, 3, shape, &e) == 0, "%s", e.msg);

    /* The layout numpy itself writes: magic, v1.0, data at 64-byte offset,
     * header ends with '\n'. */
    FILE *f = fopen(p, "rb");
    unsigned char h[128];
    size_t got = fread(h, 1, sizeof h, f);
    fclose(f);
    CHECK(got == 128);
    CHECK(!memcmp(h, "\x93NUMPY\x01\x00", 8));
    size_t hlen = h[8] | (size_t)h[9] << 8;
    CHECKF((10 + hlen) % 64 == 0, "data offset %zu", 10 + hlen);
    CHECK(h[10 + hlen - 1] == '\n');
    CHECK(!memcmp(h + 10, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 5, 7), }", 62));

    float *d = NULL;
    long sh[4];
    int nd = -1;
    CHECKF(npy_read_f32(p, &d, &nd, sh, &e) == 0, "%s", e.msg);
    CHECK(nd == 3 && sh[0] == 3 && sh[1] == 5 && sh[2] == 7);
    CHECK(d && !memcmp(d, src, sizeof src));
    free(d);

    /* 1-D uses Python's one-element tuple "(n,)"; 0-D is "()". */
    long n1 = 4;
    CHECK(npy_write_f32(tmp_path("v.npy"), src, 1, &n1, &e) == 0);
    CHECK(npy_read_f32(tmp_path("v.npy"), &d, &nd, sh, &e) == 0 && nd == 1 && sh[0] == 4);
    CHECK(d && d[3] == src[3]);
    free(d);
    CHECK(npy_write_f32(tmp_path("s.npy"), src + 7, 0, NULL, &e) == 0);
    CHECK(npy_read_f32(tmp_path("s.npy"), &d, &nd, sh, &e) == 0 && nd == 0);
    CHECK(d && d[0] == src[7]);
    free(d);
}

static void test_fixtures(void)
{
    char p[512];
    float *d = NULL;
    long sh[4];
    int nd;
    lc_err e = {{0}};
    snprintf(p, sizeof p, "%s/micro-en/mel.npy", fixtures_dir());
    CHECKF(npy_read_f32(p, &d, &nd, sh, &e) == 0, "%s", e.msg);
    CHECK(nd == 2 && sh[0] == 80 && sh[1] == 3000);
    /* README: log-mel values lie in about [-1.5, 1.5]. */
    int sane = d != NULL;
    for (long i = 0; d && i < 80 * 3000; i++) sane &= d[i] > -3.0f && d[i] < 3.0f;
    CHECK(sane);
    free(d);
    snprintf(p, sizeof p, "%s/micro-en/enc.npy", fixtures_dir());
    CHECKF(npy_read_f32(p, &d, &nd, sh, &e) == 0, "%s", e.msg);
    CHECK(nd == 2 && sh[0] == 1500 && sh[1] == 64);
    free(d);
}

static void expect_bad(const char *path, const char *what)
{
    float *d = (float *)1;
    long sh[4];
    int nd;
    lc_err e = {{0}};
    int rc = npy_read_f32(path, &d, &nd, sh, &e);
    CHECKF(rc == -1, "%s accepted", what);
    CHECKF(d == NULL, "%s: data not NULL", what);
    CHECKF(strstr(e.msg, path) != NULL && !strchr(e.msg, '\n'), "%s: msg '%s'", what, e.msg);
}

static void test_hostile(void)
{
    const char *p = tmp_path("bad.npy");
    expect_bad(tmp_path("missing.npy"), "missing file");
    write_bytes(p, "", 0);
    expect_bad(p, "empty file");
    write_bytes(p, "hello, world\n", 13);
    expect_bad(p, "text file");
    write_bytes(p, "\x93NUMPY\x01\x00\xff\xff", 10);
    expect_bad(p, "header length past EOF");
    write_raw_npy(p, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", 16);
    expect_bad(p, "float64");
    write_raw_npy(p, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8);
    expect_bad(p, "big-endian");
    write_raw_npy(p, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16);
    expect_bad(p, "fortran order");
    write_raw_npy(p, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 8);
    expect_bad(p, "shape larger than data");
    write_raw_npy(p, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", 8);
    expect_bad(p, "trailing data");
    write_raw_npy(p, "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 1099511627776, 16), }", 8);
    expect_bad(p, "overflowing shape");
    write_raw_npy(p, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1), }", 4);
    expect_bad(p, "5 dimensions");
    write_raw_npy(p, "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", 4);
    expect_bad(p, "negative extent");
    write_raw_npy(p, "{'descr': '<f4', 'fortran_order': False, }", 4);
    expect_bad(p, "no shape");
    write_raw_npy(p, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", 4);
    expect_bad(p, "unterminated dict");
    /* A well-formed hand-made file is accepted (checks the helper itself). */
    write_raw_npy(p, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 8);
    float *d = NULL;
    long sh[4];
    int nd;
    lc_err e;
    CHECKF(npy_read_f32(p, &d, &nd, sh, &e) == 0 && nd == 1 && sh[0] == 2, "%s", e.msg);
    free(d);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/lc_npy_XXXXXX");
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    test_round_trip();
    test_fixtures();
    test_hostile();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    TEST_DONE();
}
