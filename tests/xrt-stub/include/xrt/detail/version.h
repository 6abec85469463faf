/* STUB, not XRT: tests/xrt-stub lets tests/t_npu.sh compile src/engine/npu_shim.cpp
 * for syntax (g++ -fsyntax-only) on machines without AMD's XRT. It declares
 * only what the shim uses, with the signatures of XRT 2.19's public headers as
 * documented; it has no implementation and nothing here can be linked or run.
 * Build against a real XRT >= 2.17 with make NPU=1 XRT_ROOT=/opt/xilinx/xrt. */
#define XRT_VERSION(major, minor) (((major) << 16) + (minor))
#define XRT_VERSION_CODE XRT_VERSION(2, 19)
