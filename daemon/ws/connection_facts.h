// connection_facts: what a session knows of its client and never changes after the upgrade:
// its id, route, params, identity, address, forwarded headers and when it opened. What the
// control API shows (GET /v1/connections/{id}) and backends receive (the connect event) is
// made from these facts and the heartbeat's last RTT.
//
// Owned by the session, read on its worker.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "auth/identity.h"
#include "config/gateway_config.h"
#include "core/connection.h"
#include "core/upgrade_request.h"
#include "protocol/connection_id.h"

namespace wsgated::ws {

class connection_facts {
public:
    using pairs = std::vector<std::pair<std::string, std::string>>;

    connection_facts(std::string_view i, const config::route_config* r, pairs p, auth::identity who, std::string from);

    protocol::stored_id id;
    const config::route_config* route = nullptr;
    std::string remote;
    std::chrono::system_clock::time_point connected_at;

    const pairs& params() const { return about_ ? about_->params : none().params; }
    const auth::identity& identity() const { return about_ ? about_->identity : none().identity; }
    const pairs& forwarded() const { return about_ ? about_->forwarded : none().forwarded; }  // forward_headers
    void set_forwarded(pairs headers);

    core::connection_info info(std::optional<std::chrono::steady_clock::duration> rtt) const;
    // The rooms it joins when it opens: the route's templates expanded with these facts (a
    // template naming a missing param or claim joins nothing), then the identity's own rooms.
    std::vector<std::string> initial_rooms() const;

private:
    // What an anonymous client on a route without params has none of: one block, or none at
    // all (~180 bytes of empty containers less in every such connection's idle cost).
    struct about {
        pairs params;
        auth::identity identity;
        pairs forwarded;
    };
    static const about& none();
    about& own();
    std::unique_ptr<about> about_;
};

// The request headers the route's http auth forwards (SPEC §4: the connect event carries them),
// lower-case names, in the route's order.
std::vector<std::pair<std::string, std::string>> forwarded_headers(const core::upgrade_request& req,
                                                                   const config::route_config& route);

}  // namespace wsgated::ws
