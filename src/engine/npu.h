/* npu.h: the NPU device logic shared by the real device (npu.c, XRT shim
 * loaded with dlopen) and the emulated one (npu_emu.c): tiling, bf16
 * packing, buffer objects and the launch sequence live in npu.c only, so the
 * emulator exercises the very code that drives the silicon.
 *
 * Artifacts: one xclbin + instruction stream per GEMM shape, named
 *   <dir>/gemm_<Mp>x<Kp>x<Np>.xclbin and <dir>/gemm_<Mp>x<Kp>x<Np>.insts.bin
 * with Mp = NPU_CHUNK_M (NPU_MEL_M for the mel GEMMs), Kp = K padded to NPU_TILE_K and Np = N padded to
 * NPU_TILE_N * columns (kernels/Makefile builds that list of shapes).
 *
 * Why the decoder is not here: per-token GEMVs move every weight once per
 * token, each launch costs tens of µs of driver/command-processor overhead,
 * and the NPU reads DDR at the same bandwidth as the CPU, so a GEMV cannot be
 * faster on it (see docs/npu.md).
 */
#ifndef LC_NPU_H
#define LC_NPU_H

#include "engine/backend.h"
#include "engine/npu_shim.h"

typedef struct npu_dev_cfg {
    npu_shim_api api;
    npu_shim_dev *dev;      /* opened with api.open */
    void *dl;               /* dlopen handle to close, or NULL */
    const char *artifacts;  /* directory of the gemm_*.xclbin / *.insts.bin */
    int cols;               /* columns of the target (NPU_COLS_NPU1/2) */
    unsigned timeout_ms;    /* per launch */
    int split;              /* GEMM precision: 1 = bf16, else bf16x3 (bf16.h) */
    const char *name, *label;
} npu_dev_cfg;

/* Wraps an opened shim device as an lc_device. Takes ownership of cfg->dev
 * and cfg->dl (also on failure). Returns NULL and fills e on error. */
lc_device *npu_device_new(const npu_dev_cfg *cfg, lc_err *e);

/* Artifact paths for a padded GEMM shape (used by npu.c and the emulator). */
void npu_artifact_paths(const char *dir, int Mp, int Kp, int Np, char *xclbin, char *insts, size_t len);

#endif
