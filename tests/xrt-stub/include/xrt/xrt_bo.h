/* STUB, not XRT (see detail/version.h). Flag values as in XRT's xrt_mem.h. */
#pragma once
#include <cstddef>
#include <cstdint>
#include "xrt/xrt_device.h"
#define XCL_BO_FLAGS_CACHEABLE (1U << 24)
#define XRT_BO_FLAGS_HOST_ONLY (1U << 29)
typedef uint64_t xrtBufferFlags;
enum xclBOSyncDirection { XCL_BO_SYNC_BO_TO_DEVICE = 0, XCL_BO_SYNC_BO_FROM_DEVICE };
namespace xrt {
using memory_group = uint32_t;
class bo {
public:
    bo();
    bo(const device &device, size_t size, xrtBufferFlags flags, memory_group grp);
    template <typename MapType> MapType map() { return reinterpret_cast<MapType>(address_host()); }
    void sync(xclBOSyncDirection dir);
    size_t size() const;
private:
    void *address_host();
};
}
