/* STUB, not XRT (see ../detail/version.h). */
#pragma once
#include <string>
#include <vector>
namespace xrt {
class uuid {
public:
    uuid();
};
class xclbin {
public:
    class kernel {
    public:
        std::string get_name() const;
    };
    xclbin();
    explicit xclbin(const std::string &filename);
    std::vector<kernel> get_kernels() const;
    uuid get_uuid() const;
};
}
