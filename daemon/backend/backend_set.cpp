// backend_set: see backend_set.h.
#include "backend/backend_set.h"

#include <spdlog/spdlog.h>

#include "backend/echo_backend.h"

namespace wsgated::backend {

backend_set::backend_set(const config::gateway_config& cfg) {
    auto echo = std::make_shared<echo_backend>();
    backends_["echo"] = echo;
    for (const auto& [name, bc] : cfg.backends) {
        if (bc.type == config::backend_type::echo) { backends_[name] = echo; continue; }
        // http and stream backends are validated by the loader but not served yet.
        spdlog::warn("backend '{}': type {} is not available in this build; routes to it "
                     "answer 503", name, bc.type == config::backend_type::http ? "http" : "stream");
    }
}

backend* backend_set::find(const std::string& name) const {
    auto it = backends_.find(name);
    return it == backends_.end() ? nullptr : it->second.get();
}

}  // namespace wsgated::backend
