// router: see router.h.
#include "route/router.h"

#include <boost/assert.hpp>

namespace wsgated::route {

router::router(config::config_ptr cfg) : config_(std::move(cfg)) {
    routes_.reserve(config_->routes.size());
    for (const auto& rc : config_->routes) {
        compiled_route r;
        r.config = &rc;
        std::string error;
        bool ok = path_pattern::parse(rc.path, r.pattern, error);
        BOOST_ASSERT_MSG(ok, "route path was validated by the loader");
        (void)ok;
        routes_.push_back(std::move(r));
    }
}

const compiled_route* router::match(std::string_view path, params& out) const {
    const compiled_route* best = nullptr;
    params best_params;
    for (const auto& r : routes_) {
        params p;
        if (!r.pattern.match(path, p)) continue;
        if (!r.pattern.has_params()) { out.clear(); return &r; }
        if (!best) { best = &r; best_params = std::move(p); }
    }
    if (best) out = std::move(best_params);
    return best;
}

}  // namespace wsgated::route
