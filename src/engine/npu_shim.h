/* npu_shim.h: the C interface of libcapnpu.so, the only code that links XRT
 * (npu_shim.cpp, built by `make NPU=1 XRT_ROOT=…`, see mk/npu.mk). livecap
 * never links it: npu.c dlopen()s it at run time and fills an npu_shim_api
 * with dlsym; npu_emu.c fills the same table with an in-process emulation,
 * so both devices make exactly the same calls in the same order.
 *
 * Only C types cross this boundary. Every function catches all C++
 * exceptions and reports them as a one-line message in `err` (errlen bytes,
 * always NUL-terminated). Return codes: 0 ok, NPU_SHIM_ERR, NPU_SHIM_TIMEOUT.
 *
 * Objects: a dev (xrt::device), kernels (one per xclbin: xrt::xclbin,
 * hw_context, xrt::kernel, the instruction BO), and BOs (xrt::bo) allocated
 * for argument `arg` (0 = A, 1 = B, 2 = C) of a kernel. BOs are host-only
 * buffers; after writing through npu_shim_bo_map() call npu_shim_bo_sync(…,
 * 1) before a run, and npu_shim_bo_sync(…, 0) after it before reading.
 *
 * Thread-safety: one caller thread per dev (the stream's engine thread).
 */
#ifndef LC_NPU_SHIM_H
#define LC_NPU_SHIM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NPU_SHIM_ABI 1
#define NPU_SHIM_ERR (-1)
#define NPU_SHIM_TIMEOUT (-2)

typedef struct npu_shim_dev npu_shim_dev;
typedef struct npu_shim_kernel npu_shim_kernel;
typedef struct npu_shim_bo npu_shim_bo;

/* The functions libcapnpu.so exports (names are the dlsym keys). */
int npu_shim_abi(void);
npu_shim_dev *npu_shim_open(unsigned index, char *err, size_t errlen);
void npu_shim_close(npu_shim_dev *d);
/* Loads an xclbin + its instruction stream (insts.bin, uint32 words) and
 * finds the kernel whose name starts with "MLIR_AIE". */
npu_shim_kernel *npu_shim_load(npu_shim_dev *d, const char *xclbin, const char *insts,
                               char *err, size_t errlen);
void npu_shim_unload(npu_shim_kernel *k);
npu_shim_bo *npu_shim_bo_alloc(npu_shim_kernel *k, int arg, size_t bytes, char *err, size_t errlen);
void *npu_shim_bo_map(npu_shim_bo *bo);
int npu_shim_bo_sync(npu_shim_bo *bo, int to_device, char *err, size_t errlen);
void npu_shim_bo_free(npu_shim_bo *bo);
/* One launch: kernel(opcode 3, instr BO, n_instr, a, b, c), waits up to
 * timeout_ms and requires ERT_CMD_STATE_COMPLETED. */
int npu_shim_run(npu_shim_kernel *k, npu_shim_bo *a, npu_shim_bo *b, npu_shim_bo *c,
                 unsigned timeout_ms, char *err, size_t errlen);

/* The same functions as a table (filled by dlsym or by the emulator). */
typedef struct npu_shim_api {
    int (*abi)(void);
    npu_shim_dev *(*open)(unsigned index, char *err, size_t errlen);
    void (*close)(npu_shim_dev *d);
    npu_shim_kernel *(*load)(npu_shim_dev *d, const char *xclbin, const char *insts,
                             char *err, size_t errlen);
    void (*unload)(npu_shim_kernel *k);
    npu_shim_bo *(*bo_alloc)(npu_shim_kernel *k, int arg, size_t bytes, char *err, size_t errlen);
    void *(*bo_map)(npu_shim_bo *bo);
    int (*bo_sync)(npu_shim_bo *bo, int to_device, char *err, size_t errlen);
    void (*bo_free)(npu_shim_bo *bo);
    int (*run)(npu_shim_kernel *k, npu_shim_bo *a, npu_shim_bo *b, npu_shim_bo *c,
               unsigned timeout_ms, char *err, size_t errlen);
} npu_shim_api;

#ifdef __cplusplus
}
#endif
#endif
