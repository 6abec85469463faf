/* STUB, not XRT (see detail/version.h). ert_cmd_state values as in XRT's ert.h. */
#pragma once
#include <chrono>
#include <string>
#include "xrt/xrt_bo.h"
#include "xrt/xrt_hw_context.h"
enum ert_cmd_state {
    ERT_CMD_STATE_NEW = 1, ERT_CMD_STATE_QUEUED = 2, ERT_CMD_STATE_RUNNING = 3,
    ERT_CMD_STATE_COMPLETED = 4, ERT_CMD_STATE_ERROR = 5, ERT_CMD_STATE_ABORT = 6,
    ERT_CMD_STATE_SUBMITTED = 7, ERT_CMD_STATE_TIMEOUT = 8, ERT_CMD_STATE_NORESPONSE = 9,
};
namespace xrt {
class run {
public:
    run();
    ert_cmd_state wait(const std::chrono::milliseconds &timeout = std::chrono::milliseconds{0}) const;
    ert_cmd_state state() const;
    ert_cmd_state abort();
};
class kernel {
public:
    kernel();
    kernel(const hw_context &ctx, const std::string &name);
    int group_id(int argno) const;
    template <typename... Args> run operator()(Args &&...args);
};
}
