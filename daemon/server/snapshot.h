// snapshot: everything a new handshake needs from one configuration: the config, its compiled
// routes and its backends. Immutable; the server swaps the whole snapshot on reload, and each
// session keeps the one it was accepted with (SPEC §1: open connections keep their route).
#pragma once

#include <memory>

#include "auth/auth_set.h"
#include "backend/backend_set.h"
#include "config/gateway_config.h"
#include "hub/hub.h"
#include "route/router.h"

namespace wsgated::server {

struct snapshot {
    snapshot(config::config_ptr c, hub::hub& hub) : routes(c), backends(*c, hub), auth(*c, hub) {}
    const config::gateway_config& config() const { return routes.config(); }

    route::router routes;
    backend::backend_set backends;
    auth::auth_set auth;
};

using snapshot_ptr = std::shared_ptr<const snapshot>;

}  // namespace wsgated::server
