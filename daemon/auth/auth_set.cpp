// auth_set: see auth_set.h.
#include "auth/auth_set.h"

#include "auth/http_hook.h"
#include "auth/jwt_hook.h"

namespace wsgated::auth {

auth_set::auth_set(const config::gateway_config& cfg, core::process_state& state) {
    for (const auto& route : cfg.routes) {
        switch (route.auth.type) {
        case config::auth_type::none: break;
        case config::auth_type::http: hooks_[&route] = std::make_unique<http_hook>(route.auth.http, state); break;
        case config::auth_type::jwt: hooks_[&route] = std::make_unique<jwt_hook>(route.auth.jwt); break;
        }
    }
}

auth_hook* auth_set::find(const config::route_config& route) const {
    auto it = hooks_.find(&route);
    return it == hooks_.end() ? nullptr : it->second.get();
}

}  // namespace wsgated::auth
