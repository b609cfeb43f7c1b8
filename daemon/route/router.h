// router: the compiled routes of one config snapshot (path → route + params).
//
// Built once per snapshot and immutable after, so every worker reads it without a lock. A
// session keeps the shared_ptr it was matched with, so its route outlives a reload.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "config/gateway_config.h"
#include "route/path_pattern.h"

namespace wsgated::route {

struct compiled_route {
    const config::route_config* config = nullptr;  // points into router::config()
    path_pattern pattern;
};

class router {
public:
    // Patterns were validated by the loader; a pattern that fails here is a bug (asserted).
    explicit router(config::config_ptr cfg);

    // Literal routes win over parametrised ones; otherwise the first in file order.
    const compiled_route* match(std::string_view path, params& out) const;

    const config::gateway_config& config() const { return *config_; }
    const config::config_ptr& config_ptr() const { return config_; }

private:
    config::config_ptr config_;
    std::vector<compiled_route> routes_;
};

using router_ptr = std::shared_ptr<const router>;

}  // namespace wsgated::route
