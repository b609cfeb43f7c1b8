// backend_set: the backend instances of one config snapshot, looked up by name.
//
// Built when a snapshot is loaded (and on reload); immutable after, read by every worker.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "backend/backend.h"
#include "config/gateway_config.h"

namespace wsgated::backend {

class backend_set {
public:
    explicit backend_set(const config::gateway_config& cfg);

    // nullptr when the backend's type is not available in this build (a route to it is
    // answered 503 before the upgrade, and startup logs a warning).
    backend* find(const std::string& name) const;

private:
    std::map<std::string, std::shared_ptr<backend>> backends_;
};

}  // namespace wsgated::backend
