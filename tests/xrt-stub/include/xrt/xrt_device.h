/* STUB, not XRT (see detail/version.h): xrt::device, xrt::uuid, xrt::xclbin. */
#pragma once
#include <cstdint>
#include <string>
#include <vector>
#include "xrt/experimental/xrt_xclbin.h"
typedef void *xclDeviceHandle; /* XRT: xrt/deprecated/xrt.h */
namespace xrt {
class device {
public:
    device();
    explicit device(unsigned int index);
    uuid register_xclbin(const xclbin &xclbin);
    operator xclDeviceHandle() const; /* XRT: "undocumented temporary interface" */
};
}
