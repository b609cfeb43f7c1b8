// connection_facts: what a session knows of its client and never changes after the upgrade:
// its id, route, params, identity, address, forwarded headers and when it opened. What the
// control API shows (GET /v1/connections/{id}) and backends receive (the connect event) is
// made from these facts and the heartbeat's last RTT.
//
// Plain data, owned by the session, read on its worker.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "auth/identity.h"
#include "config/gateway_config.h"
#include "core/connection.h"
#include "core/upgrade_request.h"

namespace wsgated::ws {

struct connection_facts {
    connection_facts(std::string i, const config::route_config* r, std::vector<std::pair<std::string, std::string>> p,
                     auth::identity who, std::string from)
        : id(std::move(i)), route(r), params(std::move(p)), identity(std::move(who)), remote(std::move(from)) {}

    std::string id;
    const config::route_config* route = nullptr;
    std::vector<std::pair<std::string, std::string>> params;
    auth::identity identity;
    std::string remote;
    std::vector<std::pair<std::string, std::string>> forwarded;  // the route's forward_headers
    std::chrono::system_clock::time_point connected_at;

    core::connection_info info(std::optional<std::chrono::steady_clock::duration> rtt) const;
    // The rooms it joins when it opens: the route's templates expanded with these facts (a
    // template naming a missing param or claim joins nothing), then the identity's own rooms.
    std::vector<std::string> initial_rooms() const;
};

// The request headers the route's http auth forwards (SPEC §4: the connect event carries them),
// lower-case names, in the route's order.
std::vector<std::pair<std::string, std::string>> forwarded_headers(const core::upgrade_request& req,
                                                                   const config::route_config& route);

}  // namespace wsgated::ws
