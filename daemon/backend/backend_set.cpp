// backend_set: see backend_set.h.
#include "backend/backend_set.h"

#include "backend/echo_backend.h"
#include "backend/http_backend.h"
#include "backend/stream_backend.h"

namespace wsgated::backend {

backend_set::backend_set(const config::gateway_config& cfg, core::process_state& state,
                         hub::delivery& delivery) {
    auto echo = std::make_shared<echo_backend>();
    backends_["echo"] = echo;
    for (const auto& [name, bc] : cfg.backends) {
        switch (bc.type) {
        case config::backend_type::echo: backends_[name] = echo; break;
        case config::backend_type::http: backends_[name] = std::make_shared<http_backend>(bc, cfg, state, delivery); break;
        case config::backend_type::stream:
            backends_[name] = std::make_shared<stream_backend>(bc, cfg, state, delivery);
            break;
        }
    }
}

backend* backend_set::find(const std::string& name) const {
    auto it = backends_.find(name);
    return it == backends_.end() ? nullptr : it->second.get();
}

}  // namespace wsgated::backend
