// snapshot: everything a new handshake needs from one configuration: the config, its compiled
// routes, its backends and its auth hooks. Immutable; the server builds a whole new snapshot on
// reload and swaps it, and each session keeps the one it was accepted with (SPEC §1: open
// connections keep their route).
//
// Declared at the bottom of the tree so that every layer can carry one; the parts are only
// declared here and built by server/ (the one place above all of them), so this header pulls in
// nothing of route/, backend/ or auth/.
#pragma once

#include <memory>

#include "config/gateway_config.h"

namespace wsgated::route {
class router;
}
namespace wsgated::backend {
class backend_set;
}
namespace wsgated::auth {
class auth_set;
}

namespace wsgated::core {

struct snapshot {
    config::config_ptr config_ptr;
    std::shared_ptr<const route::router> routes;
    std::shared_ptr<const backend::backend_set> backends;
    std::shared_ptr<const auth::auth_set> auth;

    const config::gateway_config& config() const { return *config_ptr; }
};

using snapshot_ptr = std::shared_ptr<const snapshot>;

}  // namespace wsgated::core
