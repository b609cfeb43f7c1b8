// auth_set: the auth hooks of one config snapshot, one per route that has `auth`. Built with
// the snapshot (startup and reload, so JWT keys are re-read on SIGHUP); immutable after.
#pragma once

#include <map>
#include <memory>

#include "auth/auth_hook.h"
#include "config/gateway_config.h"

#include "core/process_state.h"

namespace wsgated::auth {

class auth_set {
public:
    auth_set(const config::gateway_config& cfg, core::process_state& state);
    // nullptr: the route has no auth (anyone may connect).
    auth_hook* find(const config::route_config& route) const;

private:
    std::map<const config::route_config*, std::unique_ptr<auth_hook>> hooks_;
};

}  // namespace wsgated::auth
