// npu_shim.cpp: libcapnpu.so, the only livecap code that links XRT (see
// npu_shim.h for the C contract). Built by `make NPU=1 XRT_ROOT=…` against
// AMD's XRT >= 2.17 (xdna-driver build; older XRT has no hw_context for the
// NPU). The call sequence follows mlir-aie's host test utilities:
// device(0) -> xclbin(path) -> register_xclbin -> hw_context(device, uuid) ->
// kernel(context, "MLIR_AIE…") -> instruction BO (group 1, cacheable) ->
// data BOs (groups 3, 4, 5, host-only) -> kernel(3, instr, n, a, b, c) ->
// run.wait(timeout) == ERT_CMD_STATE_COMPLETED.
//
// Every entry point catches all exceptions: nothing C++ crosses into C.
// Not run on silicon by the project yet (docs/npu.md).
#include "npu_shim.h"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "xrt/xrt_bo.h"
#include "xrt/xrt_device.h"
#include "xrt/xrt_hw_context.h"
#include "xrt/xrt_kernel.h"
// xrt::xclbin: XRT >= 2.19 installs it as xrt/experimental/xrt_xclbin.h; 2.17
// and 2.18 only as experimental/xrt_xclbin.h (include/experimental/).
#if __has_include("xrt/experimental/xrt_xclbin.h")
#include "xrt/experimental/xrt_xclbin.h"
#else
#include "experimental/xrt_xclbin.h"
#endif

struct npu_shim_dev {
    xrt::device device;
};

struct npu_shim_kernel {
    npu_shim_dev *d;
    xrt::xclbin xclbin;
    xrt::hw_context context;
    xrt::kernel kernel;
    xrt::bo instr;
    uint32_t n_instr;
};

struct npu_shim_bo {
    xrt::bo bo;
    int arg;
};

namespace {

constexpr unsigned kOpcode = 3; // mlir-aie: run the instruction sequence in the instr BO

// mlir-aie passes XCL_BO_FLAGS_CACHEABLE / XRT_BO_FLAGS_HOST_ONLY (unsigned
// macros), which XRT only accepts through the legacy bo(xclDeviceHandle, …,
// xrtBufferFlags, …) constructor via xrt::device's undocumented conversion to
// xclDeviceHandle. The shim uses the documented bo(const xrt::device&, size_t,
// bo::flags, memory_group) with the same bits.
constexpr xrt::bo::flags kInstrFlags = xrt::bo::flags::cacheable;
constexpr xrt::bo::flags kDataFlags = xrt::bo::flags::host_only;
static_assert(static_cast<uint32_t>(kInstrFlags) == XCL_BO_FLAGS_CACHEABLE, "instr BO: XCL_BO_FLAGS_CACHEABLE");
static_assert(static_cast<uint32_t>(kDataFlags) == XRT_BO_FLAGS_HOST_ONLY, "data BOs: XRT_BO_FLAGS_HOST_ONLY");

void put(char *err, size_t len, const std::string &msg)
{
    if (err && len) std::snprintf(err, len, "%s", msg.c_str());
}

// insts.bin: little-endian uint32 words, as aiecc.py --npu-insts-name writes them
std::vector<uint32_t> read_insts(const char *path)
{
    std::ifstream f(path, std::ios::binary | std::ios::ate);
    if (!f) throw std::runtime_error(std::string(path) + ": cannot open");
    const std::streamsize n = f.tellg();
    if (n <= 0 || n % 4) throw std::runtime_error(std::string(path) + ": not a whole number of 32-bit words");
    std::vector<uint32_t> v(static_cast<size_t>(n) / 4);
    f.seekg(0);
    if (!f.read(reinterpret_cast<char *>(v.data()), n)) throw std::runtime_error(std::string(path) + ": read failed");
    return v;
}

} // namespace

extern "C" {

int npu_shim_abi(void) { return NPU_SHIM_ABI; }

npu_shim_dev *npu_shim_open(unsigned index, char *err, size_t errlen)
{
    try {
        auto d = std::make_unique<npu_shim_dev>();
        d->device = xrt::device(index);
        return d.release();
    } catch (const std::exception &ex) {
        put(err, errlen, std::string("xrt::device(") + std::to_string(index) + "): " + ex.what());
    } catch (...) {
        put(err, errlen, "xrt::device: unknown exception");
    }
    return nullptr;
}

void npu_shim_close(npu_shim_dev *d)
{
    try { delete d; } catch (...) {}
}

npu_shim_kernel *npu_shim_load(npu_shim_dev *d, const char *xclbin_path, const char *insts_path,
                               char *err, size_t errlen)
{
    try {
        auto k = std::make_unique<npu_shim_kernel>();
        k->d = d;
        k->xclbin = xrt::xclbin(std::string(xclbin_path));
        std::string name;
        for (auto &xk : k->xclbin.get_kernels())
            if (xk.get_name().rfind("MLIR_AIE", 0) == 0) { name = xk.get_name(); break; }
        if (name.empty()) throw std::runtime_error("no kernel named MLIR_AIE* in the xclbin");
        d->device.register_xclbin(k->xclbin);
        k->context = xrt::hw_context(d->device, k->xclbin.get_uuid());
        k->kernel = xrt::kernel(k->context, name);
        std::vector<uint32_t> insts = read_insts(insts_path);
        k->n_instr = static_cast<uint32_t>(insts.size());
        k->instr = xrt::bo(d->device, insts.size() * sizeof(uint32_t), kInstrFlags,
                           k->kernel.group_id(1));
        std::memcpy(k->instr.map<void *>(), insts.data(), insts.size() * sizeof(uint32_t));
        k->instr.sync(XCL_BO_SYNC_BO_TO_DEVICE);
        return k.release();
    } catch (const std::exception &ex) {
        put(err, errlen, std::string(xclbin_path) + ": " + ex.what());
    } catch (...) {
        put(err, errlen, std::string(xclbin_path) + ": unknown exception");
    }
    return nullptr;
}

void npu_shim_unload(npu_shim_kernel *k)
{
    try { delete k; } catch (...) {}
}

npu_shim_bo *npu_shim_bo_alloc(npu_shim_kernel *k, int arg, size_t bytes, char *err, size_t errlen)
{
    try {
        if (arg < 0 || arg > 2) throw std::runtime_error("bad argument index");
        auto b = std::make_unique<npu_shim_bo>();
        b->bo = xrt::bo(k->d->device, bytes, kDataFlags, k->kernel.group_id(3 + arg));
        b->arg = arg;
        return b.release();
    } catch (const std::exception &ex) {
        put(err, errlen, std::string("xrt::bo(") + std::to_string(bytes) + " bytes): " + ex.what());
    } catch (...) {
        put(err, errlen, "xrt::bo: unknown exception");
    }
    return nullptr;
}

void *npu_shim_bo_map(npu_shim_bo *b)
{
    try { return b->bo.map<void *>(); } catch (...) { return nullptr; }
}

int npu_shim_bo_sync(npu_shim_bo *b, int to_device, char *err, size_t errlen)
{
    try {
        b->bo.sync(to_device ? XCL_BO_SYNC_BO_TO_DEVICE : XCL_BO_SYNC_BO_FROM_DEVICE);
        return 0;
    } catch (const std::exception &ex) {
        put(err, errlen, std::string("xrt::bo::sync: ") + ex.what());
    } catch (...) {
        put(err, errlen, "xrt::bo::sync: unknown exception");
    }
    return NPU_SHIM_ERR;
}

void npu_shim_bo_free(npu_shim_bo *b)
{
    try { delete b; } catch (...) {}
}

int npu_shim_run(npu_shim_kernel *k, npu_shim_bo *a, npu_shim_bo *b, npu_shim_bo *c,
                 unsigned timeout_ms, char *err, size_t errlen)
{
    try {
        xrt::run run = k->kernel(kOpcode, k->instr, k->n_instr, a->bo, b->bo, c->bo);
        const ert_cmd_state st = run.wait(std::chrono::milliseconds(timeout_ms));
        if (st == ERT_CMD_STATE_COMPLETED) return 0;
        try { run.abort(); } catch (...) {}
        if (st == ERT_CMD_STATE_TIMEOUT || st == ERT_CMD_STATE_RUNNING || st == ERT_CMD_STATE_NEW ||
            st == ERT_CMD_STATE_QUEUED) {
            put(err, errlen, "NPU job timed out after " + std::to_string(timeout_ms) + " ms (state " +
                                 std::to_string(static_cast<int>(st)) + ")");
            return NPU_SHIM_TIMEOUT;
        }
        put(err, errlen, "NPU job ended in state " + std::to_string(static_cast<int>(st)) +
                             " (not ERT_CMD_STATE_COMPLETED)");
    } catch (const std::exception &ex) {
        put(err, errlen, std::string("NPU run: ") + ex.what());
    } catch (...) {
        put(err, errlen, "NPU run: unknown exception");
    }
    return NPU_SHIM_ERR;
}

} // extern "C"
