// backend_set: see backend_set.h.
#include "backend/backend_set.h"

#include "backend/echo_backend.h"
#include "backend/http_backend.h"
#include "backend/stream_backend.h"
#include "config/config_diff.h"

namespace wsgated::backend {

backend_set::backend_set(const config::gateway_config& cfg, core::process_state& state, hub::delivery& delivery,
                         const backend_set* previous) {
    auto echo = std::make_shared<echo_backend>();
    backends_["echo"] = {{}, echo};
    for (const auto& [name, bc] : cfg.backends) {
        std::shared_ptr<backend> b = previous ? previous->reuse(bc) : nullptr;
        if (!b) {
            switch (bc.type) {
            case config::backend_type::echo: b = echo; break;
            case config::backend_type::http: b = std::make_shared<http_backend>(bc, cfg, state, delivery); break;
            case config::backend_type::stream: b = std::make_shared<stream_backend>(bc, cfg, state, delivery); break;
            }
        }
        backends_[name] = {bc, std::move(b)};
    }
}

std::shared_ptr<backend> backend_set::reuse(const config::backend_config& bc) const {
    auto it = backends_.find(bc.name);
    if (it == backends_.end() || !config::same_backend(it->second.definition, bc))
        return nullptr;
    return it->second.instance;
}

backend* backend_set::find(const std::string& name) const {
    auto it = backends_.find(name);
    return it == backends_.end() ? nullptr : it->second.instance.get();
}

}  // namespace wsgated::backend
