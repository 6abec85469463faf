# mk/npu.mk: libcapnpu.so, the XRT shim of the NPU backend (included by the
# top Makefile). `make npu-shim XRT_ROOT=…`, or `make NPU=1 XRT_ROOT=…` to
# build it along with `all`. livecap itself never links XRT: it dlopen()s
# build/libcapnpu.so at run time (src/engine/npu.c), so it starts anywhere.
#
# Needs AMD's XRT >= 2.17 (hw_context for the NPU), e.g. built from the
# amd/xdna-driver repository; Debian's libxrt 2.13 cannot drive the NPU, so
# the version header is checked first. Kernels: see kernels/Makefile.

XRT_ROOT ?= /opt/xilinx/xrt
NPU_SHIM := $(BUILD)/libcapnpu.so
NPU_XRT_VERSION_H = $(firstword $(wildcard $(XRT_ROOT)/include/xrt/detail/version.h $(XRT_ROOT)/include/version.h))

.PHONY: npu-shim npu-xrt-check
npu-shim: $(NPU_SHIM)

npu-xrt-check:
	$(Q)h="$(NPU_XRT_VERSION_H)"; \
	if [ -z "$$h" ]; then \
	  echo "npu-shim: no XRT version header in $(XRT_ROOT)/include (xrt/detail/version.h or version.h); set XRT_ROOT to AMD's XRT >= 2.17 (xdna-driver build)" >&2; exit 1; fi; \
	v=$$(sed -n 's/.*XRT_VERSION_CODE[^0-9]*XRT_VERSION( *\([0-9][0-9]*\) *, *\([0-9][0-9]*\) *).*/\1 \2/p' "$$h" | head -n 1); \
	[ -n "$$v" ] || v=$$(sed -n 's/.*xrt_build_version[^"]*"\([0-9][0-9]*\)\.\([0-9][0-9]*\).*/\1 \2/p' "$$h" | head -n 1); \
	set -- $$v; \
	if [ -z "$$1" ] || [ "$$1" -lt 2 ] || { [ "$$1" -eq 2 ] && [ "$$2" -lt 17 ]; }; then \
	  echo "npu-shim: $$h is XRT $${1:-?}.$${2:-?}; the NPU needs XRT >= 2.17 (hw_context). Debian's libxrt 2.13 cannot drive it: build AMD's XRT from the xdna-driver repo and set XRT_ROOT" >&2; exit 1; fi; \
	echo "  XRT   $$1.$$2 ($$h)"

$(NPU_SHIM): src/engine/npu_shim.cpp src/engine/npu_shim.h | npu-xrt-check
	@mkdir -p $(dir $@)
	@echo "  CXX   $@"
	$(Q)g++ -std=c++17 -O2 -g -Wall -Wextra -fPIC -shared -Isrc/engine -I$(XRT_ROOT)/include \
	    -o $@ src/engine/npu_shim.cpp -L$(XRT_ROOT)/lib -lxrt_coreutil -Wl,-rpath,$(XRT_ROOT)/lib

ifeq ($(NPU),1)
all: npu-shim
endif
