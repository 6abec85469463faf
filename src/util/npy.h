/* npy.h: NumPy .npy files of float32, for `transcribe --dump` (SPEC §1) and
 * for tests that compare with the reference fixtures
 * (../shared/fixtures/README.md).
 *
 * Format (numpy/lib/format.py, "NPY format version 1.0"): the magic
 * "\x93NUMPY", version bytes 1 0, a little-endian uint16 header length, then
 * an ASCII Python dict literal such as
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (80, 3000), }
 * padded with spaces and ended by '\n' so the data starts at a multiple of
 * 64 bytes, then the raw data in C order.
 *
 * Only little-endian float32 in C order is supported, with up to
 * NPY_MAX_DIM dimensions. The reader also accepts format versions 2.0/3.0
 * (uint32 header length) and treats every byte as hostile: magic, version,
 * header length, dtype, order and shape are checked, and shape x 4 must be
 * exactly the number of data bytes left in the file.
 *
 * Thread-safety: no shared state; reentrant.
 */
#ifndef LC_NPY_H
#define LC_NPY_H

#include "util/err.h"

#define NPY_MAX_DIM 4

/* Writes data [shape[0], ..., shape[ndim-1]] to path. ndim is 0..4 (0 is a
 * scalar, one value). Returns 0, or -1 with "path: problem" in e. */
int npy_write_f32(const char *path, const float *data, int ndim, const long *shape, lc_err *e);

/* Reads path. On success returns 0 with *data malloc'ed (caller frees; NULL
 * when the array has no elements), *ndim and shape[0..*ndim-1] set. On
 * failure returns -1, *data is NULL, and e holds "path: problem". */
int npy_read_f32(const char *path, float **data, int *ndim, long shape[NPY_MAX_DIM], lc_err *e);

#endif
