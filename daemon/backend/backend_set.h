// backend_set: the backend instances of one config snapshot, looked up by name.
//
// Built when a snapshot is loaded (and on reload); immutable after, read by every worker.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "backend/backend.h"
#include "config/gateway_config.h"

namespace wsgated::hub {
class hub;
}

namespace wsgated::backend {

class backend_set {
public:
    // On the control thread; `hub` gives each worker's event loop (the http backends' pools).
    backend_set(const config::gateway_config& cfg, hub::hub& hub);

    // nullptr when the backend's type is not available in this build (stream, for now: a route
    // to it is answered 503 before the upgrade, and startup logs a warning).
    backend* find(const std::string& name) const;

private:
    std::map<std::string, std::shared_ptr<backend>> backends_;
};

}  // namespace wsgated::backend
