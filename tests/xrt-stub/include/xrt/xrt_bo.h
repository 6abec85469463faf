/* STUB, not XRT (see detail/version.h). Flag values as in XRT's xrt_mem.h.
 * Constructors as in XRT's xrt_bo.h: the xrt::device overload takes the
 * xrt::bo::flags enum; the xrtBufferFlags (integer) overload exists only for
 * the legacy xclDeviceHandle, which xrt::device converts to implicitly. */
#pragma once
#include <cstddef>
#include <cstdint>
#include "xrt/xrt_device.h"
#define XCL_BO_FLAGS_CACHEABLE (1U << 24)
#define XCL_BO_FLAGS_HOST_ONLY (1U << 29)
#define XRT_BO_FLAGS_CACHEABLE XCL_BO_FLAGS_CACHEABLE
#define XRT_BO_FLAGS_HOST_ONLY XCL_BO_FLAGS_HOST_ONLY
typedef uint64_t xrtBufferFlags;
typedef uint32_t xrtMemoryGroup;
enum xclBOSyncDirection { XCL_BO_SYNC_BO_TO_DEVICE = 0, XCL_BO_SYNC_BO_FROM_DEVICE };
namespace xrt {
using memory_group = xrtMemoryGroup;
class bo {
public:
    enum class flags : uint32_t {
        normal = 0,
        cacheable = XRT_BO_FLAGS_CACHEABLE,
        host_only = XRT_BO_FLAGS_HOST_ONLY,
    };
    bo();
    bo(const device &device, size_t sz, flags flags, memory_group grp);
    bo(xclDeviceHandle dhdl, size_t size, xrtBufferFlags flags, memory_group grp); // legacy
    template <typename MapType> MapType map() { return reinterpret_cast<MapType>(map()); }
    void *map();
    void sync(xclBOSyncDirection dir);
    size_t size() const;
};
}
