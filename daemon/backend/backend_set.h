// backend_set: the backend instances of one config snapshot, looked up by name.
//
// Built when a snapshot is loaded (and on reload); immutable after, read by every worker.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "backend/backend.h"
#include "config/gateway_config.h"

#include "core/process_state.h"

namespace wsgated::hub {
class delivery;
}

namespace wsgated::backend {

class backend_set {
public:
    // On the control thread; `state` gives each worker's event loop (the http backends' pools),
    // `delivery` what backends' actions reach connections and rooms through.
    backend_set(const config::gateway_config& cfg, core::process_state& state, hub::delivery& delivery);

    // nullptr for a name the config does not define (the loader rejects such routes).
    backend* find(const std::string& name) const;

private:
    std::map<std::string, std::shared_ptr<backend>> backends_;
};

}  // namespace wsgated::backend
