/* STUB, not XRT (see detail/version.h). */
#pragma once
#include "xrt/xrt_device.h"
namespace xrt {
class hw_context {
public:
    hw_context();
    hw_context(const device &device, const uuid &xclbin_id);
};
}
